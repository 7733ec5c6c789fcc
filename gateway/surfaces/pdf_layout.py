"""Text layout of the portal PDF on fpdf2's drawing primitives: each text broken into lines once, by word,
with the fonts' advance widths, and drawn line by line with ``FPDF.text``; tables drawn row by row, each
row's height computed once.

fpdf2's ``multi_cell`` and ``table()`` give the same page, but break lines character by character, measuring
the line again at every space, and ``table()`` lays every cell out twice (once to know the row's height): on
a large summary that was about 85 % of the PDF's cost. The page is the same: lines break at spaces (a word
wider than its cell at a character), tables have padded cells, their contents centred vertically, a filled
bold heading row repeated on every page, rows never split across pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fpdf import FPDF

from gateway.services.pdf_fonts import FontSet

FAMILY = "DejaVuSans"
PT = 25.4 / 72  # millimetres per point (the document's unit is the millimetre)
HEADING_FILL = (235, 239, 245)
HEADING_COLOUR = (0, 63, 135)


class NeedsFullFonts(Exception):  # noqa: N818 - a signal, not an error
    """The text has characters the compact fonts lack and the whole fonts have: render with those."""


class Writer:
    """Headings, paragraphs, fact tables and entry tables across the page width of ``pdf``, with the font
    files of ``fonts`` (added here); ``needs_full`` says whether characters the fonts lack call for the
    whole fonts (:class:`NeedsFullFonts` is raised then)."""

    def __init__(self, pdf: FPDF, fonts: FontSet, needs_full: Callable[[set[str]], bool] | None = None) -> None:
        self.pdf, self.fonts, self.needs_full = pdf, fonts, needs_full
        for style, path in fonts.paths.items():
            pdf.add_font(FAMILY, style, str(path))
        self._measured: dict[str, dict[str, int]] = {style: {} for style in fonts.widths}

    @property
    def width(self) -> float:
        return self.pdf.epw

    def check(self, text: str) -> None:
        """Raise :class:`NeedsFullFonts` when ``text`` shows more with the whole fonts."""
        covered = self.fonts.covered
        if covered is None or self.needs_full is None or covered.issuperset(text):
            return
        missing = set(text) - covered
        missing.discard("\n")  # a line break, not drawn
        if missing and self.needs_full(missing):
            raise NeedsFullFonts

    def _word(self, word: str, style: str) -> int:
        measured = self._measured[style]
        width = measured.get(word)
        if width is None:
            width = measured[word] = sum(map(self.fonts.widths[style].__getitem__, word))
        return width

    def lines(self, text: str, style: str, size: float, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` mm in ``style`` at ``size`` pt: at spaces, a
        word wider than a line between characters; each newline starts a line."""
        self.check(text)
        limit = width / (size * PT) * 1000  # in 1/1000 em
        widths = self.fonts.widths[style]
        space = widths[" "]
        out: list[str] = []
        for paragraph in text.split("\n"):
            line: list[str] = []
            used = 0
            for word in paragraph.split(" "):
                w = self._word(word, style)
                if line and used + space + w <= limit:
                    line.append(word)
                    used += space + w
                    continue
                if line:
                    out.append(" ".join(line))
                if w <= limit:
                    line, used = [word], w
                    continue
                piece, used = "", 0
                for char in word:  # wider than a line: broken between characters
                    cw = widths[char]
                    if piece and used + cw > limit:
                        out.append(piece)
                        piece, used = "", 0
                    piece += char
                    used += cw
                line = [piece]
            out.append(" ".join(line))
        return out

    def _draw(self, x: float, y: float, lines: Sequence[str], line_height: float, size: float) -> None:
        """Lines from the top-left corner (``x``, ``y``), each ``line_height`` high (text placed as fpdf2's
        cells place it: baseline at half the line plus 0.3 of the font size)."""
        baseline = y + 0.5 * line_height + 0.3 * size * PT
        for index, line in enumerate(lines):
            if line:
                self.pdf.text(x, baseline + index * line_height, line)

    def block(self, text: str, size: float, line_height: float, style: str = "") -> None:
        """A paragraph across the page, continued on the next page when it does not fit (as ``multi_cell``:
        cell margins left and right)."""
        pdf = self.pdf
        pdf.set_font(FAMILY, style, size)
        margin = pdf.c_margin
        lines = self.lines(text, style, size, self.width - 2 * margin)
        start = 0
        while start < len(lines):
            if pdf.will_page_break(line_height):
                pdf.add_page()
                pdf.set_font(FAMILY, style, size)
            room = max(1, int((pdf.page_break_trigger - pdf.y) // line_height))
            chunk = lines[start:start + room]
            self._draw(pdf.l_margin + margin, pdf.y, chunk, line_height, size)
            pdf.set_xy(pdf.l_margin, pdf.y + len(chunk) * line_height)
            start += len(chunk)

    def heading(self, text: str, size: float = 13) -> None:
        self.pdf.set_text_color(*HEADING_COLOUR)
        self.block(text, size, size * 0.55, "B")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.ln(1)

    def paragraph(self, text: str, size: float = 9, style: str = "") -> None:
        self.block(text, size, size * 0.5, style)
        self.pdf.ln(1)

    def _row(self, texts: Sequence[str], styles: Sequence[str], widths: Sequence[float], size: float,
             line_height: float, padding: float) -> tuple[float, list[list[str]]]:
        """A table row laid out: its height and each cell's lines (cell ``i`` in ``styles[i]``, ``widths[i]``)."""
        cells = [self.lines(t, style, size, w - 2 * padding) for t, style, w in zip(texts, styles, widths, strict=True)]
        return max(len(c) for c in cells) * line_height + 2 * padding, cells

    def _draw_row(self, row: tuple[float, list[list[str]]], styles: Sequence[str], widths: Sequence[float],
                  size: float, line_height: float, padding: float, box: str | None = None) -> None:
        """A laid-out row at the current position (each cell framed with ``rect(style=box)`` when given, its
        lines centred vertically); the position moves below it."""
        pdf = self.pdf
        height, cells = row
        x, y = pdf.l_margin, pdf.y
        for lines, style, width in zip(cells, styles, widths, strict=True):
            pdf.set_font(FAMILY, style, size)
            if box is not None:
                pdf.rect(x, y, width, height, style=box)
            self._draw(x + padding, y + (height - len(lines) * line_height) / 2, lines, line_height, size)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)

    def facts(self, rows: Sequence[tuple[str, str]], size: float = 9, line_height: float = 4.6,
              padding: float = 1) -> None:
        """Label (bold) and value, 32:68 of the width, lines between rows."""
        pdf = self.pdf
        widths = (self.width * 32 / 100, self.width * 68 / 100)
        styles = ("B", "")
        for index, texts in enumerate(rows):
            row = self._row(texts, styles, widths, size, line_height, padding)
            if pdf.will_page_break(row[0]):
                pdf.add_page()
            if index:
                pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + self.width, pdf.y)
            self._draw_row(row, styles, widths, size, line_height, padding)
        pdf.ln(2)

    def grid(self, weights: Sequence[float], headings: Sequence[str], rows: Sequence[Sequence[str]],
             size: float = 8, line_height: float = 4, padding: float = 1) -> None:
        """A table with borders, columns ``weights`` of the width, ``headings`` (bold, filled) on top of it
        on every page; a row never split across pages."""
        pdf = self.pdf
        total = sum(weights)
        widths = [self.width * w / total for w in weights]
        bold, plain = ["B"] * len(widths), [""] * len(widths)
        head = self._row(headings, bold, widths, size, line_height, padding)
        body = [self._row(row, plain, widths, size, line_height, padding) for row in rows]

        def draw_head() -> None:
            pdf.set_fill_color(*HEADING_FILL)
            self._draw_row(head, bold, widths, size, line_height, padding, box="DF")
            pdf.set_fill_color(0)

        if pdf.will_page_break(head[0] + (body[0][0] if body else 0)):  # never a heading alone at a page's end
            pdf.add_page()
        draw_head()
        for row in body:
            if pdf.will_page_break(row[0]):
                pdf.add_page()
                draw_head()
            self._draw_row(row, plain, widths, size, line_height, padding, box="D")
        pdf.ln(2)
