"""National identifier check rules, with real known-valid numbers from independent sources."""

from __future__ import annotations

import random

import pytest

from gateway.records.identifiers import (
    IDENTIFIER_SCHEMES,
    INS_NIR_SYSTEM,
    KVNR_SYSTEM,
    IdentifierError,
    format_nir,
    get_scheme,
    make_codice_fiscale,
    make_nir,
    nir_key,
    parse_nir,
    scheme_for_system,
    validate_codice_fiscale,
    validate_identifier,
    validate_ins_nir,
    validate_kvnr,
)

# --- France: INS-NIR -------------------------------------------------------------------------

# Published examples: service-public / Wikipedia example and python-stdnum's doctests (incl. Corsica).
VALID_NIR = ["255081416802538", "295109912611193", "253072B07300470", "253072A07300443"]


@pytest.mark.parametrize("value", VALID_NIR)
def test_valid_nir(value):
    assert validate_ins_nir(value) == value


def test_nir_accepts_spaces_and_lower_case():
    assert validate_ins_nir("2 55 08 14 168 025 38") == "255081416802538"
    assert validate_ins_nir(" 2 53 07 2b 073 004 70 ") == "253072B07300470"


def test_nir_wrong_key_message():
    with pytest.raises(IdentifierError, match=r"INS key 39 does not match: expected 38"):
        validate_ins_nir("255081416802539")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("253072A07300470", "43"),  # 2B's key on a 2A number
        ("253072B07300443", "70"),  # 2A's key on a 2B number
        ("253072007300470", None),  # department 20 (Corsica before 1976) has yet another key
    ],
)
def test_corsica_keys_are_department_specific(value, expected):
    with pytest.raises(IdentifierError, match="does not match"):
        validate_ins_nir(value)
    if expected:
        assert nir_key(value[:13]) == expected


def test_corsica_key_uses_19_and_18():
    # 2A counts as 19, 2B as 18 in the key computation
    assert nir_key("253072A073004") == f"{97 - int('2530719073004') % 97:02d}"
    assert nir_key("253072B073004") == f"{97 - int('2530718073004') % 97:02d}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("25508141680253", "15 characters"),
        ("2550814168025381", "15 characters"),
        ("25508141680X538", "only digits"),
        ("2550814168025\u00b38", "only digits"),  # a superscript three: str.isdigit() says it is a digit
        ("\u0662\u0665\u0665081416802538", "only digits"),  # Arabic-Indic digits
        ("253072C07300443", "only digits"),
        ("955081416802538", "sex digit"),
        ("755081416802538", "NIA"),
        ("255131416802538", "birth month 13"),
        ("255001416802538", "birth month 00"),
        ("255080016802538", "department 00"),
        ("255089791680253", "overseas department 979 does not exist"),
        ("255081400002538", "commune"),
        ("255081416800038", "order number"),
        ("", "empty"),
    ],
)
def test_nir_structure_errors(value, message):
    with pytest.raises(IdentifierError, match=message):
        validate_ins_nir(value)


def test_nir_pseudo_months_are_accepted():
    for month in ("20", "31", "42", "50", "99"):
        nir13 = f"255{month}14168025"
        assert validate_ins_nir(nir13 + nir_key(nir13))


def test_nir_overseas_and_abroad():
    nir13 = "1800597411123"  # born in Saint-Denis (La Réunion) 97411
    parts = parse_nir(nir13 + nir_key(nir13))
    assert parts.department == "974" and parts.commune == "11" and parts.birthplace == "97411"
    parts = parse_nir("295109912611193")
    assert parts.born_abroad and parts.birthplace == "99126"


def test_parse_nir_traits():
    parts = parse_nir("255081416802538")
    assert (parts.sex, parts.year, parts.month, parts.birthplace, parts.order) == ("female", "55", "08", "14168", "025")


def test_make_nir_round_trip_and_format():
    nir = make_nir("male", "1981-04-12", "2A004", 17)
    assert validate_ins_nir(nir) == nir and nir.startswith("181042A004017")
    assert format_nir("255081416802538") == "2 55 08 14 168 025 38"


def test_non_string_identifier():
    with pytest.raises(IdentifierError, match="must be a string"):
        validate_ins_nir(255081416802538)


# --- Germany: KVNR -----------------------------------------------------------------------------

# gematik E-Rezept test data (KvnrTest.checksum) + the textbook example A123456780.
VALID_KVNR = ["A000500015", "C000500021", "B123457897", "C123457899", "B043496447", "U029243874",
              "Z111122223", "A123457895", "X234567891", "X123456788", "X500000017", "X100000013", "A123456780"]


@pytest.mark.parametrize("value", VALID_KVNR)
def test_valid_kvnr(value):
    assert validate_kvnr(value) == value


def test_kvnr_normalised():
    assert validate_kvnr(" x 110 407 071 ") == "X110407071"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("X234567890", "KVNR check digit 0 does not match: expected 1"),
        ("A12345678", "10 characters"),
        ("1123456789", "start with a letter"),
        ("AB23456789", "9 digits"),
        ("Ä123456789", "start with a letter"),
    ],
)
def test_kvnr_errors(value, message):
    with pytest.raises(IdentifierError, match=message):
        validate_kvnr(value)


# --- Italy: codice fiscale ---------------------------------------------------------------------

@pytest.mark.parametrize("value", ["RSSMRA85T10A562S", "RCCMNL83S18D969H", "MRTNTN23M02D969P"])
def test_valid_codice_fiscale(value):
    assert validate_codice_fiscale(value) == value


def test_codice_fiscale_errors():
    with pytest.raises(IdentifierError, match="check letter T does not match: expected S"):
        validate_codice_fiscale("RSSMRA85T10A562T")
    with pytest.raises(IdentifierError, match="16 characters"):
        validate_codice_fiscale("RSSMRA85T10A562")
    with pytest.raises(IdentifierError, match="month letter"):
        validate_codice_fiscale("RSSMRA85Z10A562S")


def test_codice_fiscale_from_traits():
    assert make_codice_fiscale("Rossi", "Mario", "male", "1985-12-10", "A562") == "RSSMRA85T10A562S"
    female = make_codice_fiscale("Bianchi", "Giulia", "female", "1990-03-07", "H501")
    assert female[9:11] == "47" and validate_codice_fiscale(female)


# --- registry ---------------------------------------------------------------------------------

def test_registry():
    assert set(IDENTIFIER_SCHEMES) >= {"ins-nir", "kvnr", "codice-fiscale"}
    assert IDENTIFIER_SCHEMES["ins-nir"].system == INS_NIR_SYSTEM == "urn:oid:1.2.250.1.213.1.4.8"
    assert IDENTIFIER_SCHEMES["kvnr"].system == KVNR_SYSTEM == "http://fhir.de/sid/gkv/kvid-10"
    assert scheme_for_system(KVNR_SYSTEM).name == "kvnr"
    assert scheme_for_system("urn:unknown") is None
    with pytest.raises(IdentifierError, match="unknown identifier scheme"):
        get_scheme("nope")
    assert validate_identifier(INS_NIR_SYSTEM, "2 55 08 14 168 025 38") == "255081416802538"
    assert validate_identifier("urn:other", " abc ") == "abc"


@pytest.mark.parametrize("name", sorted(IDENTIFIER_SCHEMES))
def test_scheme_examples_and_generation(name):
    scheme = IDENTIFIER_SCHEMES[name]
    assert scheme.is_valid(scheme.example)
    values = [scheme.generate(random.Random(i)) for i in range(200)]
    assert all(scheme.is_valid(v) for v in values)
    assert values == [scheme.generate(random.Random(i)) for i in range(200)]  # deterministic
    assert len(set(values)) > 150


def test_generation_respects_traits():
    nir = IDENTIFIER_SCHEMES["ins-nir"].generate(
        random.Random(1), {"gender": "female", "birthdate": "1976-02-29", "birthplace": "2B033"})
    parts = parse_nir(nir)
    assert (parts.sex, parts.year, parts.month, parts.birthplace) == ("female", "76", "02", "2B033")
