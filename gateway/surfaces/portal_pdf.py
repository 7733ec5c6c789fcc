"""The translated patient summary as a PDF (fpdf2), with the original terms, for the local record.

It renders the same :class:`~gateway.surfaces.portal_view.SummaryView` as the HTML page, in the
clinician's language: header, sections in the eHDSI order (missing ones said to be missing), each
coded entry as "translated term [original term — code system code]" with untranslated or unmapped
entries flagged, and the original narratives as plain text marked with their language.

Text is embedded with DejaVu Sans (shipped in ``gateway/static/fonts`` with its licence), which
covers the scripts of every EU language (Latin, Greek, Cyrillic); fpdf2's core fonts are Latin-1 only.
The fonts are cut down to those scripts once per process (``gateway.services.pdf_fonts``; a document with
other characters gets the whole fonts) and the text is laid out by ``gateway.surfaces.pdf_layout``.
Nothing in the foreign document is interpreted as markup: cells are plain text (no markdown).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import nh3
from babel.dates import format_datetime
from flask_babel import gettext as _
from fpdf import FPDF

from gateway.services.pdf_fonts import FontSet, PdfFonts
from gateway.surfaces import portal_view
from gateway.surfaces.pdf_layout import FAMILY, NeedsFullFonts, Writer
from gateway.surfaces.portal_view import SummaryView, ValueView

MAX_NARRATIVE_CHARS = 20_000
#: A table row must fit on one page (rows are never split): longer cell texts are shortened, the portal shows them whole.
MAX_CELL_CHARS = 800


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


def _date_text(d: portal_view.DateView | None) -> str:
    if d is None:
        return _("not stated")
    return d.text + (f" ({_('partial date')})" if d.partial else "")


def _facts(out: Writer, rows: list[tuple[str, str]]) -> None:
    """Facts from the foreign document too (names, identifiers and their systems), each within a row."""
    out.facts([(clipped(label), clipped(text) if text else "—") for label, text in rows])


def _front(out: Writer, view: SummaryView, title: str, *, clinician: Any, language: str, purpose: str,
           retrieved: str) -> None:
    """The patient, the document, who retrieved it and why, and how to read the terms."""
    h = view.header
    out.heading(title, 16)
    rows = [(_("Family name"), h.family), (_("First names"), h.given)]
    rows += [(label, value) for label, value in h.identifiers]
    rows += [(_("Date of birth"), _date_text(h.birth_date)), (_("Sex"), h.gender),
             (_("Country of affiliation"), h.country)]
    _facts(out, rows)
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
    _facts(out, rows)
    out.paragraph(_("Each term is shown in your language, followed by the original term, code and code system as "
                    "%(country)s sent them. Terms are translated automatically from the codes: check the original "
                    "when in doubt.", country=h.country), size=8.5)


def _entries(out: Writer, table: portal_view.Table, language: str) -> None:
    widths = tuple(3 if i == 0 else 2 for i in range(len(table.columns)))  # the entry itself is widest
    out.grid(widths, [str(column.label) for column in table.columns],
             [[cell_text(entry[column.key], language) for column in table.columns] for entry in table.rows])


def _section(out: Writer, section: portal_view.SectionView, language: str, country: str) -> None:
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


def render_pdf(view: SummaryView, *, clinician: Any, language: str, purpose: str, fonts: PdfFonts,
               now: dt.datetime | None = None) -> bytes:
    """The summary as PDF bytes, in ``language`` (the clinician's), with the process's prepared ``fonts``:
    their compact copies, or the whole fonts when the text has characters only those have."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        return _render(view, fonts.compact(), fonts.needs_full, clinician=clinician, language=language,
                       purpose=purpose, now=now)
    except NeedsFullFonts:
        return _render(view, fonts.full(), None, clinician=clinician, language=language, purpose=purpose, now=now)


def _render(view: SummaryView, fonts: FontSet, needs_full: Callable[[set[str]], bool] | None, *,
            clinician: Any, language: str, purpose: str, now: dt.datetime) -> bytes:
    h = view.header
    pdf = _SummaryPdf(format="A4")
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(True, margin=16)
    out = Writer(pdf, fonts, needs_full)
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
    out.check(pdf.footer_text)
    pdf.add_page()
    _front(out, view, title, clinician=clinician, language=language, purpose=purpose, retrieved=retrieved)
    for section in view.sections:
        _section(out, section, language, h.country)
    return bytes(pdf.output())
