"""Interface languages of the portal (Flask-Babel): catalogues, compilation at start, locale choice.

The ``.po`` sources live in ``gateway/translations/<lang>/LC_MESSAGES/messages.po``, the template in
``gateway/translations/messages.pot`` (``make catalogs``: ``pybabel extract -F babel.cfg`` with
:data:`EXTRACT_KEYWORDS`, ``pybabel update``, then :func:`tidy_catalogs`); the compiled ``.mo`` files
are not versioned: :func:`compile_catalogs` builds them at start when missing or older than their
source, into the package when it is writable, else into a cache folder (the image compiles them at
build time with ``pybabel compile``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel

from gateway.runtime import runtime
from terminology.model import SUPPORTED_LANGUAGES

log = logging.getLogger("ncpeh")

SOURCE_DIR = Path(__file__).parent / "translations"
#: Languages of the interface (those of the terminology), each named in itself (the language menu shows
#: each in itself; names from CLDR).
LANGUAGES: dict[str, str] = {code: Locale.parse(code).get_display_name(code).capitalize() for code in SUPPORTED_LANGUAGES}
#: The language the messages are written in (its catalogue repeats them, so that wording can change there).
SOURCE_LANGUAGE = "en"
#: Translation functions besides Babel's defaults (``_``, ``gettext``, ``ngettext``...): the Makefile's
#: ``catalogs`` target and tests/portal/test_catalogs.py extract with these.
EXTRACT_KEYWORDS: dict[str, tuple | None] = {
    "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2),
}
#: The first lines of every catalogue (kept by ``make catalogs``); each under the .po line width.
REVIEW_NOTE = ("# Written for the ncpeh-gateway prototype by its developers: NOT reviewed\n"
               "# by native-speaking clinicians. Have a clinician whose language this is\n"
               "# review every string before any real use.")
TRANSLATOR = "ncpeh-gateway developers (not native-speaking clinicians)"
#: Compiled files may be a little older than their source when both were unpacked together (wheel
#: installs write files in name order, ``messages.mo`` before ``messages.po``): not stale for that.
MTIME_SLACK = 2.0


def catalogue_languages() -> list[str]:
    return sorted(p.parent.parent.name for p in SOURCE_DIR.glob("*/LC_MESSAGES/messages.po"))


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime + MTIME_SLACK < po.stat().st_mtime


def _write_mo(po: Path, mo: Path) -> None:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        os.replace(tmp, mo)  # atomic: workers starting together never read half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_catalogs(cache_dir: Path | None = None) -> Path:
    """Compile every stale ``.po``; returns the folder holding the ``.mo`` files (package or cache)."""
    sources = sorted(SOURCE_DIR.glob("*/LC_MESSAGES/messages.po"))
    target = SOURCE_DIR
    try:
        for po in sources:
            mo = po.with_suffix(".mo")
            if _stale(po, mo):
                _write_mo(po, mo)
        return target
    except OSError:
        if cache_dir is None:
            raise
    target = cache_dir
    for po in sources:
        mo = target / po.relative_to(SOURCE_DIR).with_suffix(".mo")
        if _stale(po, mo):
            _write_mo(po, mo)
    log.info("message catalogues compiled into %s (package folder not writable)", target)
    return target


def tidy_catalogs(source_dir: Path = SOURCE_DIR) -> list[str]:
    """After ``pybabel update``: the review note in every header, and the English catalogue filled with
    the messages themselves (empty or fuzzy entries); returns the catalogues rewritten."""
    changed = []
    for po in sorted(source_dir.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        dirty = False
        if "NOT reviewed" not in (catalog.header_comment or ""):
            name = Locale.parse(lang).english_name
            catalog.header_comment = (f"# {name} ({lang}) interface of the ncpeh-gateway clinician portal.\n"
                                      f"# Copyright (C) ncpeh-gateway contributors; Apache-2.0.\n{REVIEW_NOTE}\n#")
            dirty = True
        if catalog.last_translator != TRANSLATOR or catalog.language_team != TRANSLATOR:
            catalog.last_translator = catalog.language_team = TRANSLATOR
            dirty = True
        if lang == SOURCE_LANGUAGE:
            for message in catalog:
                strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
                if not message.id or (all(strings) and not message.fuzzy):
                    continue
                message.string = message.id if not message.pluralizable else tuple(message.id)
                message.flags.discard("fuzzy")
                message.previous_id = []
                dirty = True
        if dirty:
            with po.open("wb") as handle:
                write_po(handle, catalog, width=76)
            changed.append(str(po))
    return changed


def select_locale() -> str:
    """The language chosen in this session, else the clinician's preferred one, else the browser's."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    chosen = g.get("ui_language") or session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    user = g.get("portal_user")
    if user is not None and user.language in LANGUAGES:
        return user.language
    best = request.accept_languages.best_match(list(LANGUAGES)) if request.headers.get("Accept-Language") else None
    if best:
        return best
    default = runtime().cfg.default_language
    return default if default in LANGUAGES else SOURCE_LANGUAGE


def init_app(app: Flask) -> None:
    cfg = app.config["NCPEH"]
    directory = compile_catalogs(cfg.data_dir / "cache" / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    app.config["BABEL_DEFAULT_LOCALE"] = SOURCE_LANGUAGE
    Babel(app, locale_selector=select_locale)
