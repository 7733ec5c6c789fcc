"""The PDF fonts prepared once per process (``gateway.services.pdf_fonts``): what the compact copies cover."""

from __future__ import annotations

import tempfile

import pytest
from babel.messages.pofile import read_po
from fontTools import ttLib

from gateway import i18n
from gateway.services.pdf_fonts import PdfFonts, Widths


@pytest.fixture(scope="module")
def fonts() -> PdfFonts:
    return PdfFonts()


def test_the_compact_copies_cover_the_eu_scripts_and_keep_the_widths(fonts: PdfFonts):
    compact, full = fonts.compact(), fonts.full()
    sample = set("Grüße Ελληνικά Кириллица Łódź Țară Příliš Ő Ű Ā Ė Ħ ẞ ⚑ — … € ≤ ≥ ± µ ° «»„“")
    assert compact.covered is not None and sample <= compact.covered
    for style, path in compact.paths.items():
        assert path.is_file() and path.stat().st_size < full.paths[style].stat().st_size / 4
        assert len(ttLib.TTFont(path).getGlyphOrder()) < 1500
        assert all(compact.widths[style][c] == full.widths[style][c] for c in sample)  # same metrics
    assert fonts.compact() is compact  # built once


def test_only_characters_the_whole_font_has_call_for_it(fonts: PdfFonts):
    assert not fonts.needs_full(set("Ελληνικά Кириллица Łódź Țară ⚑ — …"))
    assert fonts.needs_full({"Հ"})  # Armenian: DejaVu Sans has it, the compact copies do not
    assert not fonts.needs_full({"漢"})  # in no DejaVu font: missing either way


def test_a_missing_character_is_as_wide_as_the_notdef_glyph():
    widths = Widths({"a": 600}, 500)
    assert widths["a"] == 600 and widths["漢"] == 500


def test_every_catalogue_is_in_the_compact_fonts(fonts: PdfFonts):
    covered = fonts.compact().covered
    for po in sorted(i18n.SOURCE_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        for entry in catalog:
            if not entry.id:
                continue  # the header
            strings = entry.string if isinstance(entry.string, (list, tuple)) else [entry.string]
            missing = set("".join(s for s in strings if s)) - covered
            assert not missing, (po.parent.parent.name, entry.id, missing)


def test_without_a_writable_temporary_folder_the_whole_fonts_are_used(monkeypatch: pytest.MonkeyPatch):
    def refused(**_kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", "/tmp")

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    fonts = PdfFonts()
    assert fonts.compact() is fonts.full() and fonts.compact().covered is None
    assert not fonts.needs_full({"Հ"})  # already the whole fonts
