"""Which flags the clinician sees beside a coded entry (the portal's view model, no server needed)."""

from __future__ import annotations

import pytest

from gateway.surfaces.portal_view import Builder
from terminology import systems as S

UNKNOWN = {"url": S.EXT_UNKNOWN_CODE, "valueBoolean": True}


def flags(coding: dict) -> tuple[bool, bool, bool]:
    view = Builder({"resourceType": "Bundle", "language": "fr-FR", "entry": []}, "de", "de").coded({"coding": [coding]})
    return view.untranslated, view.unmapped, view.unknown_code


@pytest.mark.parametrize("system", [S.SNOMED, S.LOINC, S.ATC, S.REFERENCE_RANGE_MEANING])
def test_a_standard_code_the_catalogue_lacks_is_only_not_translated(system):
    assert flags({"system": system, "code": "999999999", "display": "as sent", "extension": [UNKNOWN]}) == (True, False, False)


def test_a_code_of_an_unknown_system_is_flagged_unknown():
    coding = {"system": "urn:oid:1.2.3.4.5", "code": "LOC1", "display": "local", "extension": [UNKNOWN]}
    assert flags(coding) == (True, False, True)


def test_a_national_code_without_a_map_has_no_european_code():
    coding = {"system": S.CIM10_FR, "code": "Z99.9X", "display": "Code inconnu",
              "extension": [{"url": S.EXT_UNMAPPED, "valueCode": "no-map"}, UNKNOWN]}
    assert flags(coding)[1] is True
