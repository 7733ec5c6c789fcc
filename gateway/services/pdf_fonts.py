"""The portal PDF's fonts, prepared once per process and kept on the runtime object (``Runtime.pdf_fonts``).

The PDF embeds DejaVu Sans (``gateway/static/fonts``, with its licence). The whole font has about 6,000
glyphs: fpdf2 parses it for every document and subsets it again at output, which cost tens of milliseconds
per PDF. :class:`PdfFonts` cuts it once per process, with fontTools' subsetter, down to the characters of the
EU languages' scripts (Latin with its European accents, Greek, Cyrillic) and the punctuation and symbols the
summary uses (:data:`COMPACT_RANGES`); each PDF then loads that small copy (fpdf2 still subsets it to the
glyphs the document uses and embeds them). A document with a character the compact copy lacks but the whole
font has is rendered with the whole font (:meth:`PdfFonts.needs_full`), as before.

Each document gets its own fpdf2 font objects (fpdf2 subsets a font object in place when it writes a PDF, so
one object must never serve two documents); what is shared is read-only: the compact files, the characters
they cover and their advance widths.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset, ttLib

log = logging.getLogger("ncpeh.pdf")

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
#: style ("" regular, "B" bold) -> DejaVu Sans file in FONT_DIR
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
#: What the compact copies keep (inclusive code point ranges): Latin-1, Latin Extended-A and -B (the letters of
#: every EU language, Romanian ș ț included) and the capital ẞ, spacing and combining accents (decomposed
#: text), Greek, Cyrillic (Bulgarian, Ukrainian), punctuation (dashes, quotes, bullets, ‰), super- and subscript digits, currency
#: signs, ℃ № ™ Ω, arrows, the mathematical signs of clinical values (− ∞ ≈ ≠ ≤ ≥), squares and circles, the
#: flag ⚑ of flagged entries, check marks and the replacement character. Other characters the whole font has
#: (Vietnamese, Armenian, Georgian, Hebrew, Arabic...) make the document use the whole font.
COMPACT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x02C6, 0x02DD), (0x0300, 0x0338), (0x0370, 0x03FF),
    (0x0400, 0x045F), (0x0490, 0x0491), (0x1E9E, 0x1E9E), (0x2010, 0x2044), (0x2070, 0x209F), (0x20A0, 0x20C0),
    (0x2103, 0x2103), (0x2116, 0x2116), (0x2122, 0x2122), (0x2126, 0x2126), (0x2190, 0x2195),
    (0x2212, 0x2212), (0x221E, 0x221E), (0x2248, 0x2248), (0x2260, 0x2260), (0x2264, 0x2265),
    (0x25A0, 0x25A1), (0x25CB, 0x25CF), (0x2691, 0x2691), (0x2713, 0x2718), (0xFFFD, 0xFFFD),
)
#: Tables fpdf2 drops from what it embeds anyway (no text shaping, no kerning), and FontForge's timestamp.
_DROPPED = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "kern", "meta"]


class PdfFontMissing(RuntimeError):
    """The Unicode font the PDF needs is not where the package puts it."""


class Widths(dict[str, int]):
    """Advance widths of a font's characters in 1/1000 em (as fpdf2 rounds them); a character the font
    lacks has the width of its .notdef glyph, as in fpdf2."""

    def __init__(self, widths: dict[str, int], missing: int) -> None:
        super().__init__(widths)
        self.missing = missing

    def __missing__(self, char: str) -> int:
        return self.missing


@dataclass(frozen=True)
class FontSet:
    """The font files of one PDF (style -> path), the characters they cover (``None``: the whole font's,
    not checked) and their advance widths (style -> character -> 1/1000 em, as fpdf2 rounds them)."""

    paths: dict[str, Path]
    covered: frozenset[str] | None
    widths: dict[str, Widths]


def font_paths(font_dir: Path = FONT_DIR) -> dict[str, Path]:
    """The whole DejaVu Sans files, style -> path; :class:`PdfFontMissing` when one is not installed."""
    paths = {style: font_dir / name for style, name in FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise PdfFontMissing(f"PDF font missing: {', '.join(missing)} (the package ships DejaVu Sans in "
                             f"gateway/static/fonts; reinstall it)")
    return paths


def _widths(font: ttLib.TTFont) -> Widths:
    """Advance width of each character of ``font`` in 1/1000 em, rounded as fpdf2 does."""
    scale = 1000 / font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    return Widths({chr(code): round(scale * metrics[glyph][0] + 0.001) for code, glyph in font.getBestCmap().items()},
                  round(scale * metrics[".notdef"][0]))


def _compact(source: Path, target: Path) -> tuple[frozenset[str], Widths]:
    """Write ``source`` cut down to :data:`COMPACT_RANGES` at ``target``; (characters kept, their widths)."""
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
    options.drop_tables += _DROPPED
    font = ttLib.TTFont(source, recalcTimestamp=False, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[code for low, high in COMPACT_RANGES for code in range(low, high + 1)])
    subsetter.subset(font)
    font.save(target)
    widths = _widths(font)
    return frozenset(widths), widths


def _remove(folder: str, owner: int) -> None:
    if os.getpid() == owner:  # a forked child never removes its parent's files
        shutil.rmtree(folder, ignore_errors=True)


class PdfFonts:
    """The process's prepared PDF fonts: :meth:`compact` (built on first use, in a private temporary folder
    removed when the process ends) and :meth:`full`, with the whole fonts' coverage for :meth:`needs_full`."""

    def __init__(self, font_dir: Path = FONT_DIR) -> None:
        self.font_dir = font_dir
        self._lock = threading.Lock()
        self._compact: FontSet | None = None
        self._full: FontSet | None = None
        self._owner = 0  # the process that built the compact files

    def compact(self) -> FontSet:
        """The compact copies (built once per process: about 0.2 s of CPU); the whole fonts when they cannot
        be written (no writable temporary folder)."""
        with self._lock:
            if self._compact is None or self._owner != os.getpid():
                self._owner = os.getpid()
                try:
                    self._compact = self._build_compact()
                except OSError as exc:
                    log.warning("PDF fonts: compact copies not written (%s); the whole fonts are used", exc)
                    self._compact = self._whole()
            return self._compact

    def _build_compact(self) -> FontSet:
        sources = font_paths(self.font_dir)
        folder = tempfile.mkdtemp(prefix="ncpeh-pdf-fonts-")
        weakref.finalize(self, _remove, folder, self._owner)
        paths: dict[str, Path] = {}
        covered: frozenset[str] | None = None
        widths: dict[str, Widths] = {}
        for style, source in sources.items():
            paths[style] = Path(folder, source.name)
            kept, widths[style] = _compact(source, paths[style])
            covered = kept if covered is None else covered & kept
        return FontSet(paths, covered or frozenset(), widths)

    def _whole(self) -> FontSet:
        if self._full is None:
            paths = font_paths(self.font_dir)
            widths = {style: _widths(ttLib.TTFont(path, lazy=True)) for style, path in paths.items()}
            self._full = FontSet(paths, None, widths)
        return self._full

    def full(self) -> FontSet:
        """The whole fonts (their widths read once per process)."""
        with self._lock:
            return self._whole()

    def needs_full(self, characters: set[str]) -> bool:
        """Whether text with these characters, some not in the compact copies, shows more with the whole
        fonts (a character no DejaVu style has is missing either way: no reason to load the whole fonts)."""
        covered = self.compact().covered
        missing = characters - covered if covered is not None else set()
        if not missing:
            return False
        whole = self.full().widths
        return any(char in widths for widths in whole.values() for char in missing)
