"""The shipped catalogue translates what patient summaries use (issue #19, item 2).

Coverage goal on the HL7 IPS 2.0.0 example Bundles (fixtures/ips-examples/, CC0): of the codings of standard
code systems, >= 90 % reach a German or French clinician translated and >= 80 % in each of the 8 languages.
The held-out set of third-party summaries and laboratory reports (fixtures/real-world/, CC0) keeps the share
the catalogue reached on it (REAL_WORLD_FLOOR).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

import terminology
from terminology.coverage_report import valueset_rows, valueset_table
from terminology.systems import is_standard_system
from terminology.tools import build_data

from .conftest import FIXTURES

IPS_EXAMPLES = sorted((FIXTURES / "ips-examples").glob("*.json"))
REAL_WORLD = sorted((FIXTURES / "real-world").glob("*.json"))
#: share of the standard-system codings of the real-world set translated per language, as reached when the set
#: was added (fr 98.9 %, de 99.1 %, pl 98.6 % ... of 656 codings; 64.9 % before) and after round 2's general content
#: (fr 99.1 %, de 99.2 %, pl 98.8 %): it must not go down
REAL_WORLD_FLOOR = dict.fromkeys(terminology.SUPPORTED_LANGUAGES, 0.987)
DATA = Path(terminology.__file__).parent / "data"
DESIGNATIONS = Path(terminology.__file__).parent / "sources" / "designations"
#: US national code systems under an HL7 ``sid`` URI (like the Dutch G-Standaard: not the European pivot)
US_NATIONAL = {"http://hl7.org/fhir/sid/cvx", "http://hl7.org/fhir/sid/ndc"}


@pytest.fixture(scope="module")
def ips_coverage() -> dict:
    bundles = [json.loads(p.read_text(encoding="utf-8")) for p in IPS_EXAMPLES]
    report = terminology.coverage(bundles)
    return {s: v for s, v in report.items() if is_standard_system(s) and s not in US_NATIONAL}


def _shares(paths: list[Path]) -> tuple[int, dict[str, float]]:
    report = terminology.coverage([json.loads(p.read_text(encoding="utf-8")) for p in paths])
    standard = {s: v for s, v in report.items() if is_standard_system(s) and s not in US_NATIONAL}
    seen = sum(v["seen"] for v in standard.values())
    return seen, {lang: sum(v["translated"].get(lang, 0) for v in standard.values()) / seen
                  for lang in terminology.SUPPORTED_LANGUAGES}


def test_real_world_set_is_there_with_its_provenance():
    readme = (FIXTURES / "real-world" / "README.md").read_text(encoding="utf-8")
    assert len(REAL_WORLD) == 17
    for path in REAL_WORLD:
        assert json.loads(path.read_text(encoding="utf-8"))["resourceType"] == "Bundle", path.name
        source, _, original = path.name.partition("--")
        assert original and f"`{source}--" in readme, f"{path.name}: source not recorded in the README"
    assert readme.count("CC0") >= 3


def test_real_world_summaries_keep_their_coverage():
    """Real computation over the 17 third-party documents: the share translated per language stays at or above
    the figure reached (a drop means a designation or concept was lost)."""
    seen, share = _shares(REAL_WORLD)
    assert seen >= 600, seen
    below = {lang: f"{100 * share[lang]:.1f} % < {100 * floor:.1f} %"
             for lang, floor in REAL_WORLD_FLOOR.items() if share[lang] < floor}
    assert not below, f"real-world coverage went down ({seen} codings): {below}; " \
                      "see python benchmarks/terminology_coverage.py --real-world --gaps 40"
    assert share["de"] >= 0.90 and share["fr"] >= 0.90 and min(share.values()) >= 0.80, share


def test_the_five_ips_example_bundles_are_there():
    assert len(IPS_EXAMPLES) == 5
    assert all(json.loads(p.read_text(encoding="utf-8"))["resourceType"] == "Bundle" for p in IPS_EXAMPLES)


def test_ips_examples_reach_the_coverage_goal(ips_coverage):
    seen = sum(v["seen"] for v in ips_coverage.values())
    assert seen > 200  # SNOMED CT, LOINC, ATC, EDQM, ICD-10, HL7 codings of the five Bundles
    share = {lang: sum(v["translated"].get(lang, 0) for v in ips_coverage.values()) / seen
             for lang in terminology.SUPPORTED_LANGUAGES}
    assert share["de"] >= 0.90 and share["fr"] >= 0.90, share
    assert all(x >= 0.80 for x in share.values()), share


@pytest.mark.parametrize("system", ["http://snomed.info/sct", "http://loinc.org", "http://www.whocc.no/atc"])
def test_ips_examples_per_main_system(ips_coverage, system):
    v = ips_coverage[system]
    assert v["translated"]["de"] / v["seen"] >= 0.9 and v["translated"]["fr"] / v["seen"] >= 0.9, v


def test_hl7_code_systems_of_the_issue_are_complete_and_translated(term):
    """Systems the issue found missing: every code (MVC + THO import) with a German and French designation."""
    expected = {
        "referencerange-meaning": 13, "v3-MaritalStatus": 11, "organization-type": 13, "flag-category": 10,
        "reaction-event-certainty": 4, "v2-0131": 12, "list-empty-reason": 6, "data-absent-reason": 15,
        # every identifier type (placer and filler order numbers, specimen and accession IDs of laboratory
        # reports, passports, licences...) and every provider role
        "v2-0203": 147, "v2-0443": 23,
        # diagnostic service sections (DiagnosticReport.category), medication request category and course of
        # therapy, immunization recommendation, origin and subpotent reason, diagnosis role, language ability
        "v2-0074": 45, "v2-0532": 9, "medicationrequest-category": 4, "medicationrequest-course-of-therapy": 3,
        "immunization-recommendation-status": 7, "immunization-origin": 5, "immunization-subpotent-reason": 5,
        "immunization-funding-source": 2, "diagnosis-role": 7, "v3-LanguageAbilityMode": 6,
        "v3-LanguageAbilityProficiency": 4,
    }
    for name, count in expected.items():
        url = f"http://terminology.hl7.org/CodeSystem/{name}"
        codes = term._display.get(url, {})
        assert len(codes) == count, (name, len(codes))
        missing = [c for c in codes if not {"de", "fr"} <= set(term._designations.get(url, {}).get(c, {}))]
        assert missing == [], (name, missing)
    v2 = "http://terminology.hl7.org/CodeSystem/"
    assert term.display(v2 + "v2-0203", "PPN", "de")[0] == "Reisepassnummer"
    assert term.display(v2 + "v2-0203", "FILL", "de")[0].startswith("Auftragsnummer des Auftragnehmers")
    assert term.display(v2 + "v2-0203", "PLAC", "fr")[0].startswith("Identifiant du demandeur")
    assert term.display(v2 + "v2-0443", "OP", "de")[0] == "Anfordernder Arzt"
    assert term.display(v2 + "v2-0443", "PP", "fr")[0] == "Médecin traitant"
    assert term.display(v2 + "v2-0074", "MB", "de")[0] == "Mikrobiologie"
    assert term.display(v2 + "v3-ActReason", "PATOBJ", "fr")[0] == "Refus du patient"
    assert term.display("http://hl7.org/fhir/flag-priority-code", "PH", "it")[0] == "Priorità alta"


def test_tho_import_records_its_source_and_leaves_mvc_codes_alone():
    mvc: dict[str, set[str]] = {}
    for path in (DATA / "mvc").glob("CodeSystem-*.json"):
        cs = json.loads(path.read_bytes())
        mvc.setdefault(cs["url"], set()).update(c["code"] for c in cs["concept"])
    files = sorted((DATA / "tho").glob("CodeSystem-*.json"))
    assert len(files) >= 20
    for path in files:
        cs = json.loads(path.read_bytes())
        assert cs["meta"]["source"] == "hl7.terminology.r4@7.0.1", path
        assert all(c["display"] for c in cs["concept"]), path
        assert not {c["code"] for c in cs["concept"]} & mvc.get(cs["url"], set()), path


@pytest.mark.parametrize("title", [
    "eHDSI PersonalRelationship", "eHDSI Reference Range Meaning", "eHDSI Reference Range Applies To",
    "eHDSI Timing Event", "eHDSI Telecom Address", "eHDSI Performer Function", "eHDSI Animal Species",
])
def test_small_mvc_value_sets_are_translated_in_every_language(term, title):
    (row,) = [r for r in valueset_rows(term) if r[0] == title]
    _, concepts, translated = row
    assert concepts > 0 and all(n == concepts for n in translated.values()), row


def test_valueset_report_lists_mvc_value_sets_per_language(term):
    table = valueset_table(term, languages=["de", "fr"])
    lines = table.splitlines()
    assert lines[0].split()[-3:] == ["concepts", "de", "fr"]
    assert any(line.startswith("eHDSI Reference Range Meaning") and line.split()[-3:] == ["11", "11", "11"]
               for line in lines)
    assert lines[-1].startswith("all") and "ncpeh catalogue" not in table
    with pytest.raises(terminology.UnsupportedLanguageError):
        valueset_table(term, languages=["xx"])


def test_cli_valuesets_command():
    from click.testing import CliRunner

    from gateway.cli_terminology import terminology_group

    result = CliRunner().invoke(terminology_group, ["valuesets", "--language", "pl"])
    assert result.exit_code == 0, result.output
    assert "eHDSI Timing Event" in result.output and result.output.splitlines()[0].split()[-1] == "pl"
    assert CliRunner().invoke(terminology_group, ["valuesets", "--language", "xx"]).exit_code == 2


PLACEHOLDER = re.compile(r"^(?:-+|\?+|n/?a|nan|none|null|todo|tbd|xxx+|\.+)$|\b(?:TODO|FIXME|TBD)\b|\?\?", re.I)


def test_no_empty_or_placeholder_designations():
    """Curated designations (en is the code system's display, e.g. v3 substanceAdminSubstitution N 'none')."""
    bad = []
    for path in sorted((DATA / "supplements").glob("*.json")):
        for concept in json.loads(path.read_bytes())["concept"]:
            for d in concept["designation"]:
                value = d["value"]
                if d["language"] == "en":
                    continue
                if not value.strip() or value != value.strip() or PLACEHOLDER.search(value):
                    bad.append((path.name, concept["code"], d["language"], value))
    assert not bad, bad


def test_each_code_has_one_designation_row_across_the_csv_files():
    rows = Counter()
    for path in DESIGNATIONS.glob("*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            system, code = line.split(",", 2)[:2]
            rows[(system, code)] += 1
    assert [key for key, n in rows.items() if n > 1] == []


def test_build_refuses_a_second_row_for_the_same_code(tmp_path, monkeypatch):
    folder = tmp_path / "designations"
    folder.mkdir()
    monkeypatch.setattr(build_data, "SOURCES_DIR", tmp_path)
    header = ",".join(build_data.DESIGNATION_HEADER)
    row = "http://snomed.info/sct,764146007,Penicillin,Pénicilline,Penicillin,,,,,"
    (folder / "a.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    (folder / "b.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    with pytest.raises(build_data.SourceError, match="already has a row"):
        build_data.build_supplements({"http://snomed.info/sct": {"764146007": "Penicillin"}})


def test_laboratory_results_read_as_on_a_lab_report(term):
    assert term.display("http://loinc.org", "2160-0", "de")[0] == "Kreatinin (Serum oder Plasma)"
    assert term.display("http://loinc.org", "2160-0", "fr")[0] == "Créatinine (sérum ou plasma)"
    assert term.display("http://loinc.org", "3024-7", "it")[0] == "Tiroxina libera, FT4 (siero o plasma)"


def test_codes_of_real_world_summaries_read_as_clinicians_write(term):
    sct, loinc = "http://snomed.info/sct", "http://loinc.org"
    assert term.display(sct, "42343007", "de")[0] == "Kongestive Herzinsuffizienz"
    assert term.display(sct, "91302008", "pl")[0] == "Posocznica (sepsa)"
    assert term.display(loinc, "18864-9", "fr")[0] == "Ampicilline (sensibilité)"
    assert term.display(loinc, "14933-6", "it")[0] == "Acido urico (siero o plasma)"
    # FHIR's URI of ISO 3166 reads like the MVC's, encounter classes and participant types from THO
    assert term.display("urn:iso:std:iso:3166", "NO", "de")[0] == "Norwegen"
    assert term.display("urn:iso:std:iso:3166", "NO", "fr")[0] == term.display(
        "http://terminology.hl7.org/5.3.0/CodeSystem-ISO3166Part1.html", "NO", "fr")[0] == "Norvège"
    assert term.display("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "nl")[0] == "Poliklinisch"
    assert term.display("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "REF", "es")[0] == "Médico remitente"
    # left out where unsure: no Polish term for medication reconciliation, so it falls back to English, flagged
    text, used, fell_back = term.display(sct, "430193006", "pl")
    assert (text, used, fell_back) == ("Medication reconciliation", "en", True)


def test_fhir_core_intent_and_status_codes_of_summaries_are_translated(term):
    """MedicationRequest.intent, Medication.status and Device.status (FHIR R4 core, not in THO)."""
    f = "http://hl7.org/fhir/"
    for system, n in ((f + "CodeSystem/medicationrequest-intent", 8), (f + "CodeSystem/medication-status", 3),
                      (f + "device-status", 4)):
        codes = term._display.get(system, {})
        assert len(codes) == n, system
        assert all(term.display(system, c, lang)[1] == lang for c in codes for lang in terminology.SUPPORTED_LANGUAGES)
    assert term.display(f + "CodeSystem/medicationrequest-intent", "order", "de")[0] == "Verordnung"
    assert term.display(f + "device-status", "inactive", "fr")[0] == "Inactif"


def test_general_content_of_summaries_is_translated_in_every_language(term):
    """Round 2 of #19 item 2 (``_catalogue_general.py``): concepts chosen from clinical knowledge, each with a
    designation in every language, read as clinicians write them."""
    from terminology import _catalogue_general

    assert len(_catalogue_general.EXTRA) >= 200
    untranslated = [(s, c) for s, c, _ in _catalogue_general.EXTRA
                    if any(term.display(s, c, lang)[1] != lang for lang in terminology.SUPPORTED_LANGUAGES)]
    assert untranslated == []
    sct, loinc = "http://snomed.info/sct", "http://loinc.org"
    assert term.display(loinc, "59260-0", "de")[0] == "Hämoglobin (Blut, mmol/l)"
    assert term.display(loinc, "2703-7", "fr")[0] == "Pression partielle en oxygène, PaO2 (sang artériel)"
    assert term.display(loinc, "890-4", "fr")[0] == "Recherche d'agglutinines irrégulières (RAI)"
    assert term.display(sct, "239872002", "fr")[0] == "Coxarthrose"
    assert term.display(sct, "300916003", "de")[0] == "Latexallergie"
    assert term.display(sct, "431857002", "it")[0] == "Malattia renale cronica stadio 4"
    # MVC concepts that had no designation: the MVC display stays the English one
    assert term.display(sct, "10847001", "en")[0] == "Bronchoscopy"
    assert term.display(sct, "10847001", "pl")[0] == "Bronchoskopia"
    # a bare language subtag (Patient.communication.language) and a clinical specialty (PractitionerRole.specialty)
    assert term.display("urn:ietf:bcp:47", "cs", "de")[0] == "Tschechisch"
    assert term.display(sct, "394814009", "fr")[0] == "Médecine générale"
