"""The portal's message catalogs: every message of the current source translated, placeholders intact, compilable.

The messages are extracted afresh from the source (``babel.cfg``, the keywords of ``gateway.i18n``) into a
temporary template, so that a string added to a template or a view fails here, named, until every catalog
translates it (``make catalogs`` adds it to the catalogs; then translate the empty entries).
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from gateway import i18n

ROOT = Path(__file__).resolve().parents[2]
#: The issue's six languages; the language menu offers every one of gateway.i18n.LANGUAGES (nl, pl too).
REQUIRED = ("fr", "en", "de", "es", "it", "pt")
LANGS = sorted(i18n.LANGUAGES)
#: A %-format directive: %(name)s, %s, %d, %%...
DIRECTIVE = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def _source_dir(path: str) -> bool:
    """Walk gateway/ only (babel.cfg names nothing else), without hidden or private folders."""
    parts = Path(path).relative_to(ROOT).parts
    return parts[0] == "gateway" and not any(p.startswith((".", "_")) for p in parts)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of the current source, written to and read back from a temporary .pot (as pybabel does)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(ROOT / "babel.cfg"))
    catalog = Catalog(project="ncpeh-gateway", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords={**DEFAULT_KEYWORDS, **i18n.EXTRACT_KEYWORDS},
            comment_tags=("TRANSLATORS:",), directory_filter=_source_dir):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    pot = tmp_path_factory.mktemp("catalogs") / "messages.pot"
    with pot.open("wb") as handle:
        write_po(handle, catalog)
    with pot.open("rb") as handle:
        extracted = read_po(handle)
    files = {f for m in extracted if m.id for f, _ in m.locations}
    assert "gateway/surfaces/portal/pages.py" in files, f"extraction missed the portal's views (babel.cfg?): {sorted(files)}"
    return extracted


def _catalog(lang: str) -> Catalog:
    po = i18n.SOURCE_DIR / lang / "LC_MESSAGES" / "messages.po"
    assert po.is_file(), f"no catalog for {lang!r}: {po} (make catalogs CATALOG_LANGUAGES={lang})"
    with po.open("rb") as handle:
        return read_po(handle, locale=lang)


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return msgid, message.context


def _where(message: Message) -> str:
    return ", ".join(sorted({f"{f}:{n}" if n else f for f, n in message.locations})) or "?"


def _strings(value: str | tuple | list | None) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value or ""]


def test_every_language_of_the_menu_has_a_catalog() -> None:
    have = set(i18n.catalogue_languages())
    assert set(REQUIRED) <= set(LANGS), "gateway.i18n.LANGUAGES lacks one of the issue's languages"
    assert have == set(LANGS), f"catalogs {sorted(have)} differ from the language menu {LANGS}"
    for lang in LANGS:  # the translations are the developers': every catalog says so
        assert "NOT reviewed" in (_catalog(lang).header_comment or ""), f"{lang}: the review note is missing"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated(template: Catalog, lang: str) -> None:
    catalog = _catalog(lang)
    assert not catalog.fuzzy, f"{lang}: the catalog header is marked fuzzy (pybabel compile would skip the catalog)"
    translated = {_key(m): m for m in catalog if m.id}
    problems = []
    for message in template:
        if not message.id:
            continue
        found = translated.get(_key(message))
        label = f"{_key(message)[0]!r} ({_where(message)})"
        if found is None:
            problems.append(f"missing: {label}")
        elif found.fuzzy:
            problems.append(f"fuzzy: {label}")
        elif any(not s.strip() for s in _strings(found.string)):
            problems.append(f"empty: {label}")
        elif found.pluralizable != message.pluralizable:
            problems.append(f"plural forms differ from the source: {label}")
    assert not problems, (f"{lang} catalog lacks {len(problems)} message(s) of the current source "
                          f"(run make catalogs, then translate):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_match(lang: str) -> None:
    """%(name)s (and %s, %%) in every translation exactly as in the message: else a KeyError or a lost value."""
    problems = []
    for message in _catalog(lang):
        if not message.id or not message.string:
            continue
        expected = Counter(DIRECTIVE.findall(_strings(message.id)[-1]))
        for string in _strings(message.string):
            if string and Counter(DIRECTIVE.findall(string)) != expected:
                problems.append(f"{_key(message)[0]!r}: {sorted(expected.elements())} but "
                                f"{sorted(DIRECTIVE.findall(string))} in {string!r}")
    errors = [f"{_key(m)[0]!r}: {', '.join(map(str, errs))}" for m, errs in _catalog(lang).check()]
    assert not problems + errors, f"{lang}: placeholders differ:\n  " + "\n  ".join(problems + errors)


def test_catalogs_compile(tmp_path: Path) -> None:
    """As the image builds them (pybabel compile -d) and as the gateway does at start (gateway.i18n)."""
    copy = tmp_path / "translations"
    shutil.copytree(i18n.SOURCE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    assert CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(copy)]) in (0, None)
    for lang in LANGS:
        po = copy / lang / "LC_MESSAGES" / "messages.po"
        built = po.with_suffix(".mo")
        assert built.is_file(), f"{lang}: pybabel compile wrote no .mo (fuzzy catalog?)"
        at_start = tmp_path / "start" / lang / "messages.mo"
        i18n._write_mo(po, at_start)
        samples = [m for m in _catalog(lang) if m.id and m.string and not m.fuzzy and not m.pluralizable][:20]
        for mo in (built, at_start):
            with mo.open("rb") as handle:
                translations = gettext.GNUTranslations(handle)
            assert translations.info().get("language") == lang
            for sample in samples:
                found = (translations.pgettext(sample.context, sample.id) if sample.context
                         else translations.gettext(sample.id))
                assert found == sample.string, f"{lang}: {mo} lacks {sample.id!r} (context {sample.context!r})"


def test_a_start_compiles_stale_catalogs_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gateway.i18n compiles at start what is missing or older than its source, not what was merely unpacked
    a moment before its source (a wheel install writes messages.mo, then messages.po)."""
    source = tmp_path / "translations"
    shutil.copytree(i18n.SOURCE_DIR, source, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "SOURCE_DIR", source)
    assert i18n.compile_catalogs() == source
    mo = source / "fr" / "LC_MESSAGES" / "messages.mo"
    po = mo.with_suffix(".po")
    assert mo.is_file()
    stamp = po.stat().st_mtime
    os.utime(mo, (stamp - 1, stamp - 1))  # unpacked just before its source: kept
    i18n.compile_catalogs()
    assert mo.stat().st_mtime == stamp - 1
    os.utime(mo, (stamp - 3600, stamp - 3600))  # an hour older: compiled again
    i18n.compile_catalogs()
    assert mo.stat().st_mtime >= stamp
