"""The verdict, check by check: console lines, JUnit XML and a self-contained HTML page."""

from __future__ import annotations

import datetime as dt
import html
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from gateway.conformance.catalogue import Outcome

LABEL = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def totals(outcomes: list[Outcome]) -> str:
    count = Counter(o.status for o in outcomes)
    errors = sum(1 for o in outcomes if o.status == "fail" and o.check.severity == "error")
    warnings = sum(1 for o in outcomes if o.status == "fail" and o.check.severity == "warning")
    return (f"{len(outcomes)} checks: {count['pass']} passed, {count['fail']} failed ({errors} error, "
            f"{warnings} warning), {count['skip']} skipped")


def console_lines(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        level = "" if o.status != "fail" else f" [{o.check.severity}]"
        lines.append(f"{LABEL[o.status]}  {o.check.id:<26} {o.detail}{level}")
    lines.append(totals(outcomes))
    return lines


def junit_xml(outcomes: list[Outcome], target: str) -> bytes:
    count = Counter(o.status for o in outcomes)
    suite = ET.Element("testsuite", name="ncpeh-conformance", tests=str(len(outcomes)), failures=str(count["fail"]),
                       errors="0", skipped=str(count["skip"]), timestamp=dt.datetime.now(dt.UTC).isoformat())
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="target", value=target)
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname=f"conformance.{o.check.group}", name=o.check.id)
        ET.SubElement(case, "properties").append(ET.Element("property", name="severity", value=o.check.severity))
        if o.status == "fail":
            failure = ET.SubElement(case, "failure", message=o.detail, type=o.check.severity)
            failure.text = f"{o.check.description}\nSpecification: {o.check.spec}\n{o.detail}"
        elif o.status == "skip":
            ET.SubElement(case, "skipped", message=o.detail)
        else:
            ET.SubElement(case, "system-out").text = o.detail
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#eee}.pass{background:#e6f4ea}.fail{background:#fce8e6}.skip{background:#f1f3f4}
code{font-size:.95em}.verdict{font-size:1.2em;font-weight:bold}"""


def html_report(outcomes: list[Outcome], target: str, verdict: str) -> str:
    """One page, no external asset; every value escaped."""
    esc = html.escape
    rows = "\n".join(
        f'<tr class="{o.status}"><td><code>{esc(o.check.id)}</code></td><td>{LABEL[o.status]}</td>'
        f"<td>{esc(o.check.severity)}</td><td>{esc(o.check.description)}<br><small>{esc(o.check.spec)}</small></td>"
        f"<td>{esc(o.detail)}</td></tr>"
        for o in outcomes)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>NCPeH conformance: {esc(target)}'
            f"</title><style>{_CSS}</style></head><body>\n<h1>NCPeH conformance report</h1>\n"
            f"<p>Target <code>{esc(target)}</code>, {esc(when)}</p>\n<p class=\"verdict\">{esc(verdict)}</p>\n"
            f"<p>{esc(totals(outcomes))}</p>\n<table><thead><tr><th>check</th><th>outcome</th><th>severity</th>"
            f"<th>what and specification</th><th>observed</th></tr></thead><tbody>\n{rows}\n</tbody></table>\n"
            "</body></html>\n")


def write(path: Path, data: bytes | str) -> None:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
