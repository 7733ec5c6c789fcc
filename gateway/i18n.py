"""Interface languages of the portal (Flask-Babel): catalogues, compilation at start, locale choice.

The ``.po`` sources live in ``gateway/translations/<lang>/LC_MESSAGES/messages.po`` (extracted with
``pybabel extract -F babel.cfg``); the compiled ``.mo`` files are not versioned: :func:`compile_catalogs`
builds them at start when missing or older than their source, into the package when it is writable,
else into a cache folder.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel

log = logging.getLogger("ncpeh")

SOURCE_DIR = Path(__file__).parent / "translations"
#: Languages of the interface, with their own names (the language menu shows each in itself).
LANGUAGES: dict[str, str] = {
    "fr": "Français", "en": "English", "de": "Deutsch", "es": "Español", "it": "Italiano", "pt": "Português",
    "nl": "Nederlands", "pl": "Polski",
}
#: Languages whose catalogue must be complete (a test compares them with the extracted messages).
SOURCE_LANGUAGE = "en"


def catalogue_languages() -> list[str]:
    return sorted(p.parent.parent.name for p in SOURCE_DIR.glob("*/LC_MESSAGES/messages.po"))


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


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
    from gateway.runtime import runtime

    default = runtime().cfg.default_language
    return default if default in LANGUAGES else SOURCE_LANGUAGE


def init_app(app: Flask) -> None:
    cfg = app.config["NCPEH"]
    directory = compile_catalogs(cfg.data_dir / "cache" / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    app.config["BABEL_DEFAULT_LOCALE"] = SOURCE_LANGUAGE
    Babel(app, locale_selector=select_locale)
