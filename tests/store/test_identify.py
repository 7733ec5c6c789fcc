"""Identification at the country of affiliation: every trait must match, none is revealed."""

from __future__ import annotations

import pytest

from gateway import errors, storage
from gateway.services.identify import identify
from gateway.storage.records import PatientRecord
from tests.postgres import country

SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
INS = "284057505612387"


@pytest.fixture()
def fr(tmp_path):
    cfg = country("FR", tmp_path)
    store = storage.open_store(cfg.database)
    store.records.save_records([PatientRecord(SYSTEM, INS, "DUPONT-LÉGER", "Anne-Sophie Marie", "1984-05-12",
                                              "female", "75056", b"{}")])
    yield cfg, store.records
    store.close()


def traits(**changes):
    base = {"identifier": f"{SYSTEM}|{INS}", "family": "Dupont-Léger", "given": "Anne-Sophie",
            "birthdate": "1984-05-12", "gender": "female"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("changes", [
    {}, {"family": "dupont leger"}, {"given": "ANNE SOPHIE"}, {"given": "Anne-Sophie Marie"},
    {"identifier": INS}, {"identifier": f"{SYSTEM}|2 84 05 75 056 123 87"},
])
def test_matches(fr, changes):
    cfg, records = fr
    assert [p.identifier_value for p in identify(records, cfg, traits(**changes))] == [INS]


@pytest.mark.parametrize("changes", [
    {"family": "Dupond"}, {"given": "Anne"}, {"given": "Marie"}, {"birthdate": "1984-05-13"}, {"gender": "male"},
    {"identifier": f"{SYSTEM}|184057505612439"},  # valid, someone else
])
def test_any_differing_trait_gives_no_match(fr, changes):
    cfg, records = fr
    assert identify(records, cfg, traits(**changes)) == []


@pytest.mark.parametrize("missing", ["family", "given", "birthdate", "gender"])
def test_missing_required_trait_is_named(fr, missing):
    cfg, records = fr
    with pytest.raises(errors.MissingTrait, match=missing):
        identify(records, cfg, traits(**{missing: None}))


def test_identifier_failing_its_key_is_refused(fr):
    cfg, records = fr
    with pytest.raises(errors.BadRequest) as info:
        identify(records, cfg, traits(identifier=f"{SYSTEM}|284057505612300"))
    assert info.value.code == "INVALID_IDENTIFIER"
    assert "key" in info.value.message.lower()


def test_identifier_of_another_system_is_refused(fr):
    cfg, records = fr
    with pytest.raises(errors.BadRequest) as info:
        identify(records, cfg, traits(identifier="http://fhir.de/sid/gkv/kvid-10|A123456780"))
    assert info.value.code == "UNKNOWN_IDENTIFIER_SYSTEM"
