"""The translated patient summary as a PDF (fpdf2), with the original terms, for the local record.

It renders the same :class:`~gateway.surfaces.portal_view.SummaryView` as the HTML page, in the
clinician's language: header, sections in the eHDSI order (missing ones said to be missing), each
coded entry as "translated term [original term — code system code]" with untranslated or unmapped
entries flagged, and the original narratives as plain text marked with their language.

Text is embedded with DejaVu Sans (shipped in ``gateway/static/fonts`` with its licence), which
covers the scripts of every EU language (Latin, Greek, Cyrillic); fpdf2's core fonts are Latin-1 only.
Nothing in the foreign document is interpreted as markup: cells are plain text (no markdown).
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import nh3
from babel.dates import format_datetime
from flask_babel import gettext as _
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from gateway.surfaces import portal_view
from gateway.surfaces.portal_view import SummaryView, ValueView

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVuSans"
MAX_NARRATIVE_CHARS = 20_000
#: A table row must fit on one page (fpdf2): longer cell texts are shortened, the portal shows them whole.
MAX_CELL_CHARS = 800


class PdfFontMissing(RuntimeError):
    """The Unicode font the PDF needs is not where the package puts it."""


def _font_paths() -> dict[str, Path]:
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise PdfFontMissing(f"PDF font missing: {', '.join(missing)} (the package ships DejaVu Sans in "
                             f"gateway/static/fonts; reinstall it)")
    return paths


class _SummaryPdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(70, 70, 70)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}"), align="R")


def flags(value: ValueView, language: str) -> list[str]:
    out = []
    if value.coded or value.translated:
        if value.untranslated:
            out.append(_("not translated: shown in %(language)s",
                         language=portal_view.language_name(value.fallback_lang, language))
                       if value.fallback_lang else _("not translated"))
        if value.unmapped:
            out.append(_("no European code"))
        if value.unknown_code:
            out.append(_("unknown code"))
    elif value.text and not value.date and value.plain is None:
        out.append(_("original text, not translated"))
    return out


def clipped(text: str) -> str:
    """``text`` short enough for a table row that must fit on one page (fpdf2)."""
    if len(text) > MAX_CELL_CHARS:
        return text[:MAX_CELL_CHARS] + "… " + _("(shortened: see the portal)")
    return text


def cell_text(value: ValueView, language: str) -> str:
    """One value as plain text: translated term [original term — system code], then its flags."""
    if value.empty:
        return "—"
    text = clipped(value.as_text())
    if value.date and value.date.partial:
        text += f" ({_('partial date')})"
    return text + "".join(f" ⚑ {mark}" for mark in flags(value, language))


def narrative_text(markup: Any) -> str:
    """A sanitised narrative as plain text (block elements become line breaks)."""
    source = str(markup or "")
    for tag in ("</p>", "</div>", "</li>", "</tr>", "<br>", "<br/>", "<br />", "</h4>", "</h5>", "</h6>"):
        source = source.replace(tag, tag + "\n")
    source = source.replace("</td>", " </td>").replace("</th>", " </th>")
    for tag in ("<table", "<ul", "<ol", "<dl", "<pre"):
        source = source.replace(tag, "\n" + tag)
    text = html.unescape(nh3.clean(source, tags=set(), attributes={}, strip_comments=True))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)[:MAX_NARRATIVE_CHARS]


class _Writer:
    """Headings, paragraphs and fact tables in the summary's style, across the page width."""

    def __init__(self, pdf: _SummaryPdf) -> None:
        self.pdf, self.width = pdf, pdf.epw

    def heading(self, text: str, size: float = 13) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "B", size)
        pdf.set_text_color(0, 63, 135)
        pdf.multi_cell(self.width, size * 0.55, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)

    def paragraph(self, text: str, size: float = 9, style: str = "") -> None:
        self.pdf.set_font(FAMILY, style, size)
        self.pdf.multi_cell(self.width, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def facts(self, rows: list[tuple[str, str]]) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", 9)
        with pdf.table(col_widths=(32, 68), first_row_as_headings=False, line_height=4.6, padding=1, text_align="LEFT",
                       borders_layout=TableBordersLayout.HORIZONTAL_LINES) as table:
            for label, text in rows:  # from the foreign document too (names, identifiers and their systems)
                row = table.row()
                row.cell(clipped(label), style=FontFace(emphasis="BOLD"))
                row.cell(clipped(text) if text else "—")
        pdf.ln(2)


def _date_text(d: portal_view.DateView | None) -> str:
    if d is None:
        return _("not stated")
    return d.text + (f" ({_('partial date')})" if d.partial else "")


def _front(out: _Writer, view: SummaryView, title: str, *, clinician: Any, language: str, purpose: str,
           retrieved: str) -> None:
    """The patient, the document, who retrieved it and why, and how to read the terms."""
    h = view.header
    out.heading(title, 16)
    rows = [(_("Family name"), h.family), (_("First names"), h.given)]
    rows += [(label, value) for label, value in h.identifiers]
    rows += [(_("Date of birth"), _date_text(h.birth_date)), (_("Sex"), h.gender),
             (_("Country of affiliation"), h.country)]
    out.facts(rows)
    out.heading(_("Document"), 11)
    rows = [(_("Created"), _date_text(h.created)), (_("Last updated"), _date_text(h.updated)),
            (_("Original language"), h.language)]
    if h.author:
        rows.append((_("Author"), h.author))
    if h.custodian:
        rows.append((_("Custodian"), h.custodian))
    rows += [(_("Translated into"), portal_view.language_name(language, language)),
             (_("Retrieved by"), f"{clinician.name}, {clinician.organisation}"), (_("Retrieved on"), retrieved),
             (_("Purpose of the access"), purpose)]
    out.facts(rows)
    out.paragraph(_("Each term is shown in your language, followed by the original term, code and code system as "
                    "%(country)s sent them. Terms are translated automatically from the codes: check the original "
                    "when in doubt.", country=h.country), size=8.5)


def _entries(out: _Writer, table: portal_view.Table, language: str) -> None:
    pdf = out.pdf
    pdf.set_font(FAMILY, "", 8)
    widths = tuple(3 if i == 0 else 2 for i in range(len(table.columns)))  # the entry itself is widest
    with pdf.table(col_widths=widths, line_height=4, padding=1, text_align="LEFT", repeat_headings=1,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 239, 245))) as grid:
        head = grid.row()
        for column in table.columns:
            head.cell(str(column.label))
        for entry in table.rows:
            row = grid.row()
            for column in table.columns:
                row.cell(cell_text(entry[column.key], language))
    pdf.ln(2)


def _section(out: _Writer, section: portal_view.SectionView, language: str, country: str) -> None:
    """One section: missing, absences, its entries' tables, its original narrative."""
    if out.pdf.will_page_break(30):
        out.pdf.add_page()
    out.heading(section.title, 12)
    if not section.present:
        out.paragraph(_("Missing: %(country)s sent no such section. This does not mean that there is nothing to "
                        "report.", country=country), style="")
        return
    if section.original_title and section.original_title != section.title:
        out.paragraph(f"{_('Original title:')} {section.original_title}", size=8)
    for value in section.known_absence:
        out.paragraph(f"{_('Known absence:')} {cell_text(value, language)}", style="B")
    for value in section.no_information:
        out.paragraph(f"{_('No information:')} {cell_text(value, language)}", style="B")
    if section.empty_reason:
        out.paragraph(f"{_('Section empty, reason:')} {cell_text(section.empty_reason, language)}")
    for table in section.tables:
        _entries(out, table, language)
    if not (section.tables or section.known_absence or section.no_information or section.empty_reason):
        out.paragraph(_("This section has no coded entries."))
    if section.narrative:
        text = narrative_text(section.narrative)
        if text:
            out.paragraph(_("Original narrative (%(language)s, not translated)",
                            language=portal_view.language_name(section.narrative_lang, language)), size=8, style="B")
            out.paragraph(text, size=8)


def render_pdf(view: SummaryView, *, clinician: Any, language: str, purpose: str,
               now: dt.datetime | None = None) -> bytes:
    """The summary as PDF bytes, in ``language`` (the clinician's)."""
    fonts = _font_paths()
    now = now or dt.datetime.now(dt.UTC)
    h = view.header
    pdf = _SummaryPdf(format="A4")
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(True, margin=16)
    for style, path in fonts.items():
        pdf.add_font(FAMILY, style, str(path))
    full_name = " ".join(p for p in (h.given, h.family) if p)
    title = _("Patient summary of %(given)s %(family)s", given=h.given, family=h.family)
    pdf.set_title(title)
    pdf.set_subject(_("Cross-border patient summary (%(country)s), translated into %(language)s",
                      country=h.country, language=portal_view.language_name(language, language)))
    pdf.set_author(f"{clinician.name} ({clinician.organisation})")
    pdf.set_creator("ncpeh-gateway")
    pdf.set_lang(language)
    pdf.set_creation_date(now)
    retrieved = format_datetime(now, "medium", locale=language)
    pdf.footer_text = _("%(name)s — retrieved %(when)s", name=full_name, when=retrieved)
    pdf.add_page()
    out = _Writer(pdf)
    _front(out, view, title, clinician=clinician, language=language, purpose=purpose, retrieved=retrieved)
    for section in view.sections:
        _section(out, section, language, h.country)
    return bytes(pdf.output())
