"""``ncpeh terminology``: what the national catalogue covers, per code system and language."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import orjson

import terminology


@click.group("terminology")
def terminology_group() -> None:
    """Terminology: coverage of codes seen in summaries."""


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
        from gateway import storage
        from gateway.cli import load_country

        store = storage.open_store(load_country(store_country).database_path)
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
        report = terminology.coverage(_documents(files, store_country), languages=langs,
                                      source_country=source_country or store_country)
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


@terminology_group.command("valuesets")
@click.option("--language", "languages", multiple=True, help="Language(s) to report (default: all supported).")
def valuesets(languages: tuple[str, ...]) -> None:
    """Per eHDSI MVC value set: concepts, and how many have a designation in each language."""
    from terminology.coverage_report import valueset_table

    try:
        langs = [terminology.check_language(lang) for lang in languages] or None
    except terminology.UnsupportedLanguageError as exc:
        click.echo(f"ncpeh: error: {exc}", err=True)
        sys.exit(2)
    click.echo(valueset_table(languages=langs))
