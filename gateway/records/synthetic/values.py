"""Small value helpers of the generator: dates, codeable concepts, narrative tables, measured values."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from gateway.records.synthetic.codes import UCUM
from gateway.records.synthetic.concepts import Item


def _fmt(d: date, precision: int) -> str:
    """``d`` to a precision: 0 year, 1 year-month, 2 full date."""
    if precision == 0:
        return f"{d.year:04d}"
    if precision == 1:
        return f"{d.year:04d}-{d.month:02d}"
    return d.isoformat()


def between(rng: random.Random, start: date, end: date) -> date:
    """A day drawn between ``start`` and ``end`` (``end`` when the span is empty)."""
    span = (end - start).days
    if span <= 0:
        return end
    return start + timedelta(days=rng.randrange(span + 1))


def partial_date(rng: random.Random, d: date) -> str:
    """``d`` as an ISO date, sometimes only its year or year-month."""
    r = rng.random()
    return _fmt(d, 0 if r < 0.15 else 1 if r < 0.35 else 2)


def human_date(value: str, lang: str) -> str:
    """Narrative rendering of a (partial) ISO date: 2019 / 05/2019 / 04/05/2019 (fr, it), 04.05.2019 (de)."""
    parts = value.split("-")
    if len(parts) == 1:
        return parts[0]
    sep = "." if lang == "de" else "/"
    return sep.join(reversed(parts))


def cc(coding: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding."""
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A section narrative: an XHTML table (cells are already escaped)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div xmlns="http://www.w3.org/1999/xhtml"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def quantity(value: float, item: Item) -> dict[str, Any]:
    """A UCUM Quantity in the item's unit."""
    return {"value": value, "unit": item.props.get("unit_display") or item.props.get("unit"),
            "system": UCUM, "code": item.props.get("unit")}


def draw_value(rng: random.Random, item: Item, abnormal_bias: float = 0.0) -> float | int:
    """A measured value, within the reference range unless drawn abnormal (probability ``abnormal_bias``)."""
    p = item.props
    lo, hi = p.get("min"), p.get("max")
    if lo is None or hi is None:
        lo, hi = 0, 100
    ref_lo, ref_hi = p.get("low"), p.get("high")
    if rng.random() >= abnormal_bias and ref_lo is not None and ref_hi is not None:
        lo, hi = max(lo, ref_lo), min(hi, ref_hi)
    value = lo + (hi - lo) * rng.random()
    decimals = int(p.get("decimals") or 0)
    return round(value, decimals) if decimals else int(round(value))


def interpretation(value: float, item: Item) -> str:
    """L, H or N against the item's reference range."""
    lo, hi = item.props.get("low"), item.props.get("high")
    if lo is not None and value < lo:
        return "L"
    if hi is not None and value > hi:
        return "H"
    return "N"


def child_weight(age: int) -> float:
    """Typical body weight (kg) of a child of ``age`` years."""
    return 3.4 + age * 2.9 if age < 10 else 32 + (age - 10) * 4.5


def child_height(age: int) -> float:
    """Typical body height (cm) of a child of ``age`` years."""
    return 50 + age * 13 if age < 2 else 76 + (age - 2) * 6.2

