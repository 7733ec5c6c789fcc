"""FHIR NPM packages (``.tgz``): CodeSystems (with designations), supplements, ValueSets, ConceptMaps,
NamingSystems, such as HL7 Terminology (``hl7.terminology.r4``) or the IPS guide (``hl7.fhir.uv.ips``).

Only the resources directly under ``package/`` are read (not ``package/example/``). Value sets keep
the concepts they enumerate; an include of a whole code system the package defines is enumerated from
it; filter-based includes and includes of other value sets are not expanded (counted as ``partial``).
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from ..aliases import SHIPPED_DATA, read_alias_table
from .store import Content, ImportRefused, Source, slug

KINDS = frozenset({"CodeSystem", "ValueSet", "ConceptMap", "NamingSystem"})
#: OID branch of the code systems that FHIR core defined before they moved to THO (old URI http://hl7.org/fhir/<id>)
FHIR_CORE_OID = "urn:oid:2.16.840.1.113883.4.642."


def _lang(code: Any) -> str | None:
    return code.split("-")[0].split("_")[0].lower() if isinstance(code, str) and code else None


def read_package(path: Path) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    """(package.json, resources of the kinds read) of an NPM ``.tgz``; refuses a corrupt/truncated one."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name.lstrip("./")
                if member.isfile() and name.count("/") == 1 and name.startswith("package/") and name.endswith(".json"):
                    handle = tar.extractfile(member)
                    files[name] = handle.read() if handle else b""
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ImportRefused(path, f"corrupt or truncated package ({exc or type(exc).__name__})") from None
    if "package/package.json" not in files:
        raise ImportRefused(path, "not an NPM package: no package/package.json")
    package = _json(path, "package/package.json", files.pop("package/package.json"))
    if not isinstance(package.get("name"), str) or not isinstance(package.get("version"), str):
        raise ImportRefused(f"{path}!package/package.json", "needs 'name' and 'version'", 1)

    def resources() -> Iterator[tuple[str, dict[str, Any]]]:
        for name, data in sorted(files.items()):
            if name.endswith(".index.json"):
                continue
            res = _json(path, name, data)
            if res.get("resourceType") in KINDS:
                yield name, res

    return package, resources()


def _json(path: Path, name: str, data: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImportRefused(f"{path}!{name}", f"not valid JSON ({exc.msg})", exc.lineno) from None
    if not isinstance(value, dict):
        raise ImportRefused(f"{path}!{name}", "not a JSON object", 1)
    return value


def _concepts(concepts: Any) -> Iterator[dict[str, Any]]:
    for c in concepts or ():
        if isinstance(c, dict):
            yield c
            yield from _concepts(c.get("concept"))


def aliases_of(res: dict[str, Any]) -> dict[str, str]:
    """Alias URI -> canonical URI declared by a NamingSystem (kind codesystem) or a CodeSystem."""
    out: dict[str, str] = {}
    if res.get("resourceType") == "NamingSystem":
        if res.get("kind") != "codesystem":
            return out
        ids = [u for u in res.get("uniqueId", ()) if isinstance(u, dict) and isinstance(u.get("value"), str)]
        uris = [u["value"] for u in ids if u.get("type") == "uri"]
        preferred = [u["value"] for u in ids if u.get("type") == "uri" and u.get("preferred")]
        canonical = (preferred or uris or [None])[0]
        if not canonical:
            return out
        for u in ids:
            value = u["value"]
            alias = f"urn:oid:{value}" if u.get("type") == "oid" else value if u.get("type") == "uri" else None
            if alias and alias != canonical:
                out[alias] = canonical
    elif res.get("resourceType") == "CodeSystem" and isinstance(res.get("url"), str):
        url = res["url"]
        for ident in res.get("identifier", ()):
            value = ident.get("value") if isinstance(ident, dict) else None
            if isinstance(value, str) and value.startswith("urn:oid:") and value != url:
                out[value] = url
                if value.startswith(FHIR_CORE_OID) and url.startswith("http://terminology.hl7.org/CodeSystem/"):
                    out[f"http://hl7.org/fhir/{url.rsplit('/', 1)[1]}"] = url
    return out


@contextmanager
def _malformed(where: str, rtype: Any) -> Iterator[None]:
    """A resource whose elements have the wrong JSON types (null where an array is due...) is refused
    naming it, like any other bad input: never a trace."""
    try:
        yield
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise ImportRefused(where, f"malformed {rtype}: an element has the wrong type ({type(exc).__name__}: {exc})") \
            from None


def convert(path: Path, licence: str | None = None) -> Source:
    """The content of an NPM package (see the module docstring)."""
    package, resources = read_package(path)
    content = Content()
    valuesets: list[dict[str, Any]] = []
    for name, res in resources:
        where = f"{path}!{name}"
        rtype = res["resourceType"]
        with _malformed(where, rtype):
            for alias, canonical in aliases_of(res).items():
                content.aliases.setdefault(alias, canonical)
            if rtype == "CodeSystem":
                _codesystem(where, res, content)
            elif rtype == "ValueSet":
                valuesets.append((where, res))
            elif rtype == "ConceptMap":
                _conceptmap(where, res, content)
    aliases = _canonical_systems(content)
    partial = 0
    for where, res in valuesets:
        with _malformed(where, "ValueSet"):
            vs, was_partial = _valueset(res, content, aliases)
        partial += was_partial
        if vs:
            content.valuesets.append(vs)
    content.partial_valuesets = partial
    name, version = package["name"], package["version"]
    return Source(id=slug(f"npm-{name}-{version}"), kind="npm", name=package.get("title") or name,
                  version=version, licence=licence or str(package.get("license") or "see package"),
                  inputs=[path], content=content)


def _canonical_systems(content: Content) -> dict[str, str]:
    """Code systems named by an alias (a supplement of ``urn:oid:2.16.840.1.113883.6.96``) stored under the
    canonical URI, from the shipped table and the package's own aliases (returned, merged)."""
    aliases = {**read_alias_table(SHIPPED_DATA), **content.aliases}
    for url in list(content.codesystems):
        canonical = aliases.get(url)
        if not canonical or canonical == url:
            continue
        cs = content.codesystems.pop(url)
        into = content.system(canonical, cs["title"], cs["language"])
        for code, text in cs["display"].items():
            into["display"].setdefault(code, text)
        for code, by_lang in cs["designations"].items():
            target = into["designations"].setdefault(code, {})
            for lang, text in by_lang.items():
                target.setdefault(lang, text)
    return aliases


def _codesystem(where: str, res: dict[str, Any], content: Content) -> None:
    supplement = res.get("content") == "supplement"
    url = res.get("supplements") if supplement else res.get("url")
    if not isinstance(url, str) or not url:
        raise ImportRefused(where, "CodeSystem without 'url' (or 'supplements')")
    url = url.split("|", 1)[0]
    cs = content.system(url, res.get("title") or res.get("name"), _lang(res.get("language")) or "en")
    lang = _lang(res.get("language")) or "en"
    for c in _concepts(res.get("concept")):
        code = c.get("code")
        if not isinstance(code, str) or not code:
            raise ImportRefused(where, "a concept without 'code'")
        display = c.get("display")
        if isinstance(display, str) and display:
            if supplement or lang != cs["language"]:
                cs["designations"].setdefault(code, {}).setdefault(lang, display)
            else:
                cs["display"].setdefault(code, display)
        for d in c.get("designation", ()):
            dlang = _lang(d.get("language")) if isinstance(d, dict) else None
            value = d.get("value") if isinstance(d, dict) else None
            if dlang and isinstance(value, str) and value:
                cs["designations"].setdefault(code, {}).setdefault(dlang, value)


def _valueset(res: dict[str, Any], content: Content, aliases: dict[str, str]) -> tuple[dict[str, Any] | None, int]:
    url = res.get("url")
    compose = res.get("compose")
    if not isinstance(url, str) or not isinstance(compose, dict):
        return None, 1
    includes, partial = [], 0
    for inc in compose.get("include", ()):
        system = inc.get("system") if isinstance(inc, dict) else None
        if not isinstance(system, str) or inc.get("filter") or inc.get("valueSet"):
            partial = 1
            continue
        system = aliases.get(system, system)
        concepts = [{"code": c["code"], **({"display": c["display"]} if c.get("display") else {})}
                    for c in inc.get("concept", ()) if isinstance(c, dict) and isinstance(c.get("code"), str)]
        if not inc.get("concept"):
            known = content.codesystems.get(system)
            if known is None:
                partial = 1
                continue
            concepts = [{"code": code, "display": text} for code, text in known["display"].items()]
        includes.append({"system": system, "concept": concepts})
    if compose.get("exclude"):
        partial = 1
    if not includes:
        return None, 1
    vs = {"resourceType": "ValueSet", "url": url, "version": res.get("version"), "name": res.get("name"),
          "title": res.get("title"), "status": res.get("status"), "compose": {"include": includes}}
    return {k: v for k, v in vs.items() if v is not None}, partial


#: R5 ``relationship`` (also seen in R4 packages through extensions) -> R4 equivalence
_RELATIONSHIP = {"related-to": "relatedto", "equivalent": "equivalent", "source-is-narrower-than-target": "wider",
                 "source-is-broader-than-target": "narrower"}
_R4 = frozenset({"relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact"})


def _equivalence(target: dict[str, Any]) -> str | None:
    """The R4 equivalence of a map target; None for unmatched/disjoint/not-related-to (no map)."""
    value = target.get("equivalence") or _RELATIONSHIP.get(target.get("relationship", ""), "relatedto")
    return value if value in _R4 else None


def _conceptmap(where: str, res: dict[str, Any], content: Content) -> None:
    url = res.get("url")
    if not isinstance(url, str):
        raise ImportRefused(where, "ConceptMap without 'url'")
    groups = []
    for group in res.get("group", ()):
        source, target = group.get("source"), group.get("target")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        elements = []
        for elem in group.get("element", ()):
            targets = [[t["code"], t.get("display"), _equivalence(t)] for t in elem.get("target", ())
                       if isinstance(t, dict) and isinstance(t.get("code"), str) and _equivalence(t)]
            if isinstance(elem.get("code"), str) and targets:
                elements.append([elem["code"], targets])
        if elements:
            groups.append({"source": source.split("|", 1)[0], "target": target.split("|", 1)[0], "elements": elements})
    if groups:
        content.conceptmaps.append({"url": url, "title": res.get("title"), "groups": groups})
