"""The portal PDF rendered in-process (no server): the compact fonts prepared once per process, the layout.

Several PDFs from one :class:`PdfFonts` (as a worker makes them, one after the other) must each carry their
own text: fpdf2 subsets a font object in place when it writes a PDF, so sharing one between documents
corrupted the later ones (a reverted attempt did).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import types
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_babel import Babel
from fpdf import FPDF

from gateway import i18n
from gateway.records.synthetic.document import generate_patient
from gateway.services.pdf_fonts import PdfFonts
from gateway.surfaces import portal_view
from gateway.surfaces.pdf_layout import FAMILY, Writer
from gateway.surfaces.portal_pdf import render_pdf
from tests.portal.conftest import message, squeeze
from tests.portal.pdftext import extract_text

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
CLINICIAN = types.SimpleNamespace(name="Dr. Zofia Wójcik-Łęcka", organisation="Klinikum Görlitz")
GREEK = ("Παπαδοπούλου", "Ελένη")
CYRILLIC = ("Иванова", "Мария")
ARMENIAN = ("Հակոբյան", "Անի")  # not in the compact fonts; in DejaVu Sans


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.compile_catalogs())
    Babel(app, locale_selector=lambda: "de")
    return app


@pytest.fixture
def german(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture(scope="module")
def fonts() -> PdfFonts:
    return PdfFonts()


def named(family: str, given: str, size: str = "small", index: int = 1) -> portal_view.SummaryView:
    """A synthetic French summary of ``size`` whose patient is called ``given family``."""
    _traits, doc = generate_patient("FR", 700_000 + index, 7, size=size)
    doc = copy.deepcopy(doc)
    patient = next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["name"] = [{"use": "official", "family": family, "given": [given]}]
    return portal_view.summary_view(doc, "de", country_code="FR", country_label="Frankreich", identifier_labels={})


def pdf_of(view: portal_view.SummaryView, fonts: PdfFonts) -> bytes:
    data = render_pdf(view, clinician=CLINICIAN, language="de", purpose="Behandlung", fonts=fonts, now=NOW)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return data


def embedded_fonts(data: bytes) -> list[bytes]:
    return re.findall(rb"/BaseFont /([A-Z]{6}\+[A-Za-z-]+)", data)


def test_pdfs_one_after_another_each_carry_their_own_text(german, fonts: PdfFonts):
    first = pdf_of(named(*GREEK), fonts)
    second = pdf_of(named(*CYRILLIC, index=2), fonts)
    again = pdf_of(named(*GREEK), fonts)
    assert again == first  # nothing of the first document's fonts leaked into, or was lost for, the next
    for data, (family, given) in ((first, GREEK), (second, CYRILLIC)):
        text = squeeze(extract_text(data))
        assert f"{given} {family}" in text and "\ufffd" not in text
        assert "Dr. Zofia Wójcik-Łęcka, Klinikum Görlitz" in text  # Polish
        assert message("de", "Page %(page)s of %(pages)s", page=1, pages=3) in text
        assert message("de", "not translated") in text
    assert "Иванова" not in squeeze(extract_text(first)) and "Παπαδοπούλου" not in squeeze(extract_text(second))


def test_the_fonts_are_embedded_as_subsets_of_the_compact_copies(german, fonts: PdfFonts):
    data = pdf_of(named(*GREEK), fonts)
    assert len(embedded_fonts(data)) == 4  # regular and bold: font and descendant font
    assert all(name.split(b"+")[1].startswith(b"DejaVuSans") for name in embedded_fonts(data))
    assert fonts.compact().paths != fonts.full().paths
    assert 10_000 < len(data) < 200_000


def test_a_character_only_the_whole_font_has_renders_with_the_whole_font(german, fonts: PdfFonts):
    text = squeeze(extract_text(pdf_of(named(*ARMENIAN), fonts)))
    assert f"{ARMENIAN[1]} {ARMENIAN[0]}" in text and "\ufffd" not in text
    assert "Dr. Zofia Wójcik-Łęcka" in text


def test_lines_break_at_spaces_within_the_width(german, fonts: PdfFonts):
    pdf = FPDF(format="A4")
    out = Writer(pdf, fonts.compact())
    text = "Diabète sucré de type 2 — Σακχαρώδης διαβήτης τύπου 2 — Сахарен диабет тип 2 " * 6
    for style, size, width in (("", 8, 30.0), ("B", 9, 55.0), ("", 13, 120.0)):
        lines = out.lines(text + "\nsecond paragraph", style, size, width)
        pdf.set_font(FAMILY, style, size)
        assert all(pdf.get_string_width(line) <= width + 1e-6 for line in lines)  # fpdf2's own measure
        assert " ".join(lines[:-1]).split() == text.split() and lines[-1] == "second paragraph"
        assert len(lines) > 2
    long = "x" * 300  # no space: broken between characters
    pieces = out.lines(long, "", 8, 20.0)
    pdf.set_font(FAMILY, "", 8)
    assert "".join(pieces) == long and len(pieces) > 1
    assert all(pdf.get_string_width(p) <= 20.0 for p in pieces)


class _Marked(FPDF):
    def header(self) -> None:  # a marker at the top of every page, to split the text by page
        self.set_font(FAMILY, "", 8)
        self.text(self.l_margin, 8, "PAGE-START")


def test_a_long_table_repeats_its_headings_and_keeps_rows_whole(german, fonts: PdfFonts):
    pdf = _Marked(format="A4")
    pdf.set_auto_page_break(True, margin=16)
    out = Writer(pdf, fonts.compact())
    pdf.add_page()
    rows = [[f"r{n}-1 r{n}-2 r{n}-3 r{n}-4", "Σακχαρώδης", "x"] for n in range(90)]
    out.grid((1, 6, 6), ["Eintrag", "Wert", "Datum"], rows)
    pages = extract_text(bytes(pdf.output())).split("PAGE-START")[1:]
    assert len(pages) > 2
    for page in pages:
        lines = page.split()
        assert lines[:3] == ["Eintrag", "Wert", "Datum"]  # the headings on top of every page
    for n in range(90):  # every line of a row on the same page
        assert sum(all(f"r{n}-{k}" in page.split() for k in range(1, 5)) for page in pages) == 1, n


def test_a_large_summary_numbers_its_pages(german, fonts: PdfFonts):
    text = squeeze(extract_text(pdf_of(named("Dubois", "Nicolas", size="large"), fonts)))
    total = text.count("Nicolas Dubois — ")  # the footer of every page
    assert total > 5
    for page in range(1, total + 1):
        assert message("de", "Page %(page)s of %(pages)s", page=page, pages=total) in text
