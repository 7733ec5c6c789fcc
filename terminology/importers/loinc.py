"""LOINC linguistic variants (``deAT24LinguisticVariant.csv``, ``frFR18LinguisticVariant.csv``...): the names
a LOINC licensee gets in German, French, Italian, Dutch, Spanish, Portuguese, Polish...

Required columns ``LOINC_NUM`` and ``LONG_COMMON_NAME``; when a row's long common name is empty, its
parts (COMPONENT:PROPERTY:TIME_ASPCT:SYSTEM:SCALE_TYP:METHOD_TYP) are joined instead, as in a LOINC
fully specified name. The language comes from the file name, or from ``language``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..systems import LOINC
from .store import Content, ImportRefused, Source, decode_lines, slug

REQUIRED = ("LOINC_NUM", "LONG_COMMON_NAME")
PARTS = ("COMPONENT", "PROPERTY", "TIME_ASPCT", "SYSTEM", "SCALE_TYP", "METHOD_TYP")
FILE_NAME = re.compile(r"^([a-z]{2})([A-Z]{2})(\d+)LinguisticVariant\.csv$")


def is_linguistic_variant(path: Path) -> bool:
    if FILE_NAME.match(path.name):
        return True
    if path.suffix.lower() != ".csv":
        return False
    with path.open("rb") as handle:
        return b"LOINC_NUM" in handle.readline()


def convert(path: Path, language: str | None = None, licence: str | None = None) -> Source:
    match = FILE_NAME.match(path.name)
    lang = (language or (match.group(1) if match else "")).split("-")[0].lower()
    if not lang:
        raise ImportRefused(path, "cannot tell the language from the file name: give --language")
    text = decode_lines(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused(path, "empty file", 1) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRefused(path, f"missing column(s) {', '.join(missing)}", 1)
    index = {name: i for i, name in enumerate(header)}
    parts = [index[p] for p in PARTS if p in index]
    content = Content()
    cs = content.system(LOINC, "LOINC")
    try:
        for row in reader:
            number = reader.line_num
            if not any(row):
                continue
            if len(row) != len(header):
                raise ImportRefused(path, f"{len(row)} fields, expected {len(header)}", number)
            code = row[index["LOINC_NUM"]].strip()
            name = row[index["LONG_COMMON_NAME"]].strip() or ":".join(row[i].strip() for i in parts).strip(":")
            if not code:
                raise ImportRefused(path, "empty LOINC_NUM", number)
            if name:
                cs["designations"].setdefault(code, {})[lang] = name
    except csv.Error as exc:
        raise ImportRefused(path, f"not a valid CSV row ({exc})", reader.line_num) from None
    country = match.group(2) if match else ""
    variant = match.group(3) if match else ""
    ident = f"loinc-{lang}-{country}-{variant}" if match else f"loinc-{lang}-{path.stem}"
    return Source(id=slug(ident), kind="loinc", name=f"LOINC linguistic variant {lang}{'-' + country if country else ''}",
                  version=variant or "unknown",
                  licence=licence or "LOINC licence (Regenstrief Institute); linguistic variant, do not redistribute",
                  inputs=[path], content=content)
