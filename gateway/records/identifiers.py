"""National patient identifiers with their real check rules.

Three schemes are registered in :data:`IDENTIFIER_SCHEMES`:

``ins-nir`` (France)
    INS built on the NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale"),
    exchanged under OID 1.2.250.1.213.1.4.8. 13 characters + a 2-digit key
    ``97 - (NIR mod 97)``; for Corsica the department ``2A``/``2B`` counts as ``19``/``18`` in the
    key computation. Structure: sex (1), year (2), month (2), birthplace = department (2, or 3 for
    overseas 97x/98x) + commune (3, or 2 overseas) -- the 5-character INSEE code of the
    birthplace, ``99`` + country code when born abroad --, order number (3), key (2).

    Decisions on the edge cases (sources: INSEE, service-public.fr, fr.wikipedia "Numéro de
    sécurité sociale en France"):

    * sex digit 1 (men) and 2 (women) are the NIR proper; 3 and 4 (foreign-born persons while
      their registration is being completed) are accepted. 7 and 8 are NIA (numéro
      d'identification d'attente), which the INS carries under a different OID
      (1.2.250.1.213.1.4.9): refused with a message that says so.
    * month 01-12; 20-42 and 50-99 exist for persons registered from an incomplete civil status
      record and are accepted; 00, 13-19 and 43-49 are refused.
    * department 01-95 (including 20 for Corsica before 1976), 2A/2B, 96 (Tunisia before
      1956), 971-978 and 984-989 overseas, 99 abroad; 00 and 97x/98x outside those lists are
      refused. Commune and order number may not be all zeros.

``kvnr`` (Germany)
    Krankenversichertennummer, unveränderbarer Teil (``http://fhir.de/sid/gkv/kvid-10``): one
    capital letter, 8 digits and a check digit. The letter becomes two digits (A=01 .. Z=26);
    the 10 resulting digits are weighted 1-2-1-2...; the cross sums of the products are added and
    the check digit is the sum mod 10 (gematik / § 290 SGB V).

``codice-fiscale`` (Italy)
    The 16-character codice fiscale (``http://hl7.it/sid/codiceFiscale``): surname (3), name (3),
    year (2), month letter, day (+40 for women), Belfiore code of the birthplace (4), check
    letter from the odd/even position tables mod 26 (DM 23/12/1976). Omocodia substitutions of
    digits by L M N P Q R S T U V are accepted.

Every scheme's ``validate`` returns the normalised value (spaces removed, upper case) or raises
:class:`IdentifierError` whose message says what is wrong.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class IdentifierError(ValueError):
    """An identifier that fails its scheme's structure or check rule."""


# --------------------------------------------------------------------------------------------
# France: INS-NIR
# --------------------------------------------------------------------------------------------

INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_NIR_SYSTEM = f"urn:oid:{INS_NIR_OID}"
INS_NIA_SYSTEM = "urn:oid:1.2.250.1.213.1.4.9"

_NIR_SEX = {"1": "male", "2": "female", "3": "male", "4": "female"}
_OVERSEAS_DEPARTMENTS = frozenset(
    {"971", "972", "973", "974", "975", "976", "977", "978", "984", "985", "986", "987", "988", "989"}
)
_SEPARATORS = re.compile(r"[\s.\-]+")


@dataclass(frozen=True)
class NirParts:
    """The fields of a valid NIR."""

    value: str  # normalised, 15 characters
    sex: str  # "male" / "female" (FHIR administrative gender)
    year: str  # 2 digits
    month: str  # 2 digits (may be a "pseudo month" 20-42 / 50-99)
    department: str  # 2 or 3 characters
    commune: str  # 3 or 2 digits
    order: str  # 3 digits
    key: str  # 2 digits

    @property
    def birthplace(self) -> str:
        """The 5-character INSEE code of the birthplace (commune, or 99xxx for a country)."""
        return self.department + self.commune

    @property
    def born_abroad(self) -> bool:
        return self.department == "99"


def _clean(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(f"{what} must be a string, got {type(value).__name__}")
    cleaned = _SEPARATORS.sub("", value).upper()
    if not cleaned:
        raise IdentifierError(f"{what} is empty")
    return cleaned


def _digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts superscripts and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def nir_key(nir13: str) -> str:
    """The 2-digit control key of the first 13 characters of a NIR (Corsica: 2A -> 19, 2B -> 18)."""
    dept = nir13[5:7]
    if dept == "2A":
        nir13 = nir13[:5] + "19" + nir13[7:]
    elif dept == "2B":
        nir13 = nir13[:5] + "18" + nir13[7:]
    return f"{97 - int(nir13) % 97:02d}"


def parse_nir(value: Any) -> NirParts:
    """Check a NIR (structure and key) and return its fields; raises :class:`IdentifierError`."""
    nir = _clean(value, "INS (NIR)")
    if len(nir) != 15:
        raise IdentifierError(
            f"INS (NIR) must have 15 characters (13 + 2-digit key), got {len(nir)}: {nir!r}"
        )
    dept2 = nir[5:7]
    digits_outside_dept = nir[:5] + nir[7:]
    if not _digits(digits_outside_dept) or not (_digits(dept2) or dept2 in ("2A", "2B")):
        raise IdentifierError(
            f"INS (NIR) may contain only digits (and 2A/2B as Corsican department), got {nir!r}"
        )
    sex = nir[0]
    if sex in ("7", "8"):
        raise IdentifierError(
            f"INS (NIR) sex digit {sex} denotes a temporary NIA, which is exchanged under "
            f"{INS_NIA_SYSTEM}, not as an INS-NIR"
        )
    if sex not in _NIR_SEX:
        raise IdentifierError(f"INS (NIR) sex digit must be 1 or 2 (3/4 for foreign-born persons), got {sex}")
    month = int(nir[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or month >= 50):
        raise IdentifierError(f"INS (NIR) birth month {nir[3:5]} is not a month (01-12, or 20-42/50-99)")
    if dept2 in ("97", "98"):
        department, commune = nir[5:8], nir[8:10]
        if department not in _OVERSEAS_DEPARTMENTS:
            raise IdentifierError(f"INS (NIR) overseas department {department} does not exist")
    else:
        department, commune = dept2, nir[7:10]
        if department == "00":
            raise IdentifierError("INS (NIR) department 00 does not exist")
    if int(commune) == 0:
        raise IdentifierError(f"INS (NIR) commune/country code {commune} is not valid")
    order = nir[10:13]
    if order == "000":
        raise IdentifierError("INS (NIR) order number 000 is not valid")
    expected = nir_key(nir[:13])
    if nir[13:] != expected:
        raise IdentifierError(f"INS key {nir[13:]} does not match: expected {expected}")
    return NirParts(nir, _NIR_SEX[sex], nir[1:3], nir[3:5], department, commune, order, nir[13:])


def validate_ins_nir(value: Any) -> str:
    return parse_nir(value).value


def format_nir(value: str) -> str:
    """``2 55 08 14 168 025 38`` presentation (overseas: department on 3 digits)."""
    nir = _clean(value, "INS (NIR)")
    if nir[5:7] in ("97", "98"):
        parts = (nir[0], nir[1:3], nir[3:5], nir[5:8], nir[8:10], nir[10:13], nir[13:])
    else:
        parts = (nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:])
    return " ".join(parts)


def make_nir(sex: str, birthdate: str, birthplace: str, order: int) -> str:
    """Build a NIR from reference traits: sex ``male``/``female``, birth date ``YYYY-MM-DD`` (or
    ``YYYY-MM``), 5-character INSEE birthplace code, order number 1-999."""
    if not 1 <= order <= 999:
        raise IdentifierError(f"NIR order number must be 1-999, got {order}")
    if len(birthplace) != 5:
        raise IdentifierError(f"INSEE birthplace code must have 5 characters, got {birthplace!r}")
    sex_digit = "1" if sex == "male" else "2"
    nir13 = f"{sex_digit}{birthdate[2:4]}{birthdate[5:7]}{birthplace.upper()}{order:03d}"
    return nir13 + nir_key(nir13)


def _generate_ins_nir(rng: random.Random, traits: Mapping[str, Any]) -> str:
    sex = traits.get("gender") or rng.choice(("male", "female"))
    birthdate = traits.get("birthdate") or f"{rng.randint(1930, 2023)}-{rng.randint(1, 12):02d}-01"
    birthplace = traits.get("birthplace") or f"{rng.randint(1, 95):02d}{rng.randint(1, 400):03d}"
    return make_nir(sex, birthdate, birthplace, rng.randint(1, 999))


# --------------------------------------------------------------------------------------------
# Germany: KVNR (unveränderbarer Teil)
# --------------------------------------------------------------------------------------------

KVNR_SYSTEM = "http://fhir.de/sid/gkv/kvid-10"
_KVNR_RE = re.compile(r"[A-Z][0-9]{9}")


def kvnr_check_digit(first9: str) -> str:
    """Check digit of a KVNR from its letter and 8 digits (modified Luhn, weights 1-2-1-2...)."""
    letter = ord(first9[0]) - ord("A") + 1
    digits = f"{letter:02d}" + first9[1:9]
    total = 0
    for i, ch in enumerate(digits):
        product = int(ch) * (1 if i % 2 == 0 else 2)
        total += product // 10 + product % 10
    return str(total % 10)


def validate_kvnr(value: Any) -> str:
    kvnr = _clean(value, "KVNR")
    if len(kvnr) != 10:
        raise IdentifierError(f"KVNR must have 10 characters (a letter, 8 digits, a check digit), got {len(kvnr)}")
    if not _KVNR_RE.fullmatch(kvnr):
        if not ("A" <= kvnr[0] <= "Z"):
            raise IdentifierError(f"KVNR must start with a letter A-Z, got {kvnr[0]!r}")
        raise IdentifierError("KVNR must have 9 digits after its letter")
    expected = kvnr_check_digit(kvnr[:9])
    if kvnr[9] != expected:
        raise IdentifierError(f"KVNR check digit {kvnr[9]} does not match: expected {expected}")
    return kvnr


def _generate_kvnr(rng: random.Random, traits: Mapping[str, Any]) -> str:
    first9 = chr(ord("A") + rng.randrange(26)) + f"{rng.randrange(100_000_000):08d}"
    return first9 + kvnr_check_digit(first9)


# --------------------------------------------------------------------------------------------
# Italy: codice fiscale
# --------------------------------------------------------------------------------------------

CODICE_FISCALE_SYSTEM = "http://hl7.it/sid/codiceFiscale"
_CF_MONTHS = "ABCDEHLMPRST"
_CF_OMOCODIA = "LMNPQRSTUV"  # replacements for 0-9 when two people would share a code
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] + [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6,
                                                8, 12, 14, 16, 10, 22, 25, 24, 23],
        strict=True,
    )
)
_CF_EVEN = {c: (int(c) if c.isdigit() else ord(c) - ord("A")) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_CF_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_CF_RE = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")


def codice_fiscale_check(first15: str) -> str:
    total = 0
    for i, ch in enumerate(first15):
        total += _CF_ODD[ch] if i % 2 == 0 else _CF_EVEN[ch]
    return chr(ord("A") + total % 26)


def _cf_plain(cf: str) -> str:
    """Undo omocodia substitutions (for reading the date/place fields)."""
    chars = list(cf)
    for pos in _CF_DIGIT_POSITIONS:
        if chars[pos] in _CF_OMOCODIA:
            chars[pos] = str(_CF_OMOCODIA.index(chars[pos]))
    return "".join(chars)


def validate_codice_fiscale(value: Any) -> str:
    cf = _clean(value, "Codice fiscale")
    if len(cf) != 16:
        raise IdentifierError(f"Codice fiscale must have 16 characters, got {len(cf)}")
    if not _CF_RE.fullmatch(cf):
        raise IdentifierError(
            "Codice fiscale must be 6 letters, 2 digits, a month letter (ABCDEHLMPRST), 2 digits, "
            "a letter and 3 digits, then a check letter"
        )
    plain = _cf_plain(cf)
    day = int(plain[9:11])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise IdentifierError(f"Codice fiscale birth day {plain[9:11]} is not 01-31 (men) or 41-71 (women)")
    expected = codice_fiscale_check(cf[:15])
    if cf[15] != expected:
        raise IdentifierError(f"Codice fiscale check letter {cf[15]} does not match: expected {expected}")
    return cf


def _ascii_letters(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed.upper() if "A" <= c <= "Z")


def _cf_name_part(text: str, *, given: bool) -> str:
    letters = _ascii_letters(text)
    consonants = [c for c in letters if c not in "AEIOU"]
    vowels = [c for c in letters if c in "AEIOU"]
    if given and len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    return ("".join(consonants + vowels) + "XXX")[:3]


def make_codice_fiscale(family: str, given: str, sex: str, birthdate: str, belfiore: str) -> str:
    """Codice fiscale from the civil-status traits (birth date ``YYYY-MM-DD``, Belfiore code)."""
    day = int(birthdate[8:10]) + (40 if sex == "female" else 0)
    first15 = (
        _cf_name_part(family, given=False)
        + _cf_name_part(given, given=True)
        + birthdate[2:4]
        + _CF_MONTHS[int(birthdate[5:7]) - 1]
        + f"{day:02d}"
        + belfiore.upper()
    )
    return first15 + codice_fiscale_check(first15)


def _generate_codice_fiscale(rng: random.Random, traits: Mapping[str, Any]) -> str:
    sex = traits.get("gender") or rng.choice(("male", "female"))
    birthdate = traits.get("birthdate") or f"{rng.randint(1930, 2023)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    belfiore = traits.get("birthplace") or "H501"
    family = traits.get("family") or "Rossi"
    given = traits.get("given") or ("Mario" if sex == "male" else "Maria")
    return make_codice_fiscale(family, given, sex, birthdate, belfiore)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """A national patient-identifier scheme."""

    name: str
    country: str  # ISO 3166-1 alpha-2
    label: str
    system: str
    example: str  # a valid identifier, for documentation and forms
    _validate: Callable[[Any], str]
    _generate: Callable[[random.Random, Mapping[str, Any]], str]

    def validate(self, value: Any) -> str:
        """The normalised identifier, or :class:`IdentifierError` saying what is wrong."""
        return self._validate(value)

    def is_valid(self, value: Any) -> bool:
        try:
            self._validate(value)
        except IdentifierError:
            return False
        return True

    def generate(self, rng: random.Random, traits: Mapping[str, Any] | None = None) -> str:
        """A valid identifier drawn from ``rng`` (deterministic), consistent with the given traits
        (``gender``, ``birthdate``, ``birthplace``, ``family``, ``given``) where the scheme encodes them."""
        return self._generate(rng, traits or {})


IDENTIFIER_SCHEMES: dict[str, Scheme] = {
    "ins-nir": Scheme(
        name="ins-nir",
        country="FR",
        label="INS (NIR)",
        system=INS_NIR_SYSTEM,
        example="255081416802538",
        _validate=validate_ins_nir,
        _generate=_generate_ins_nir,
    ),
    "kvnr": Scheme(
        name="kvnr",
        country="DE",
        label="Krankenversichertennummer (KVNR)",
        system=KVNR_SYSTEM,
        example="A123456780",
        _validate=validate_kvnr,
        _generate=_generate_kvnr,
    ),
    "codice-fiscale": Scheme(
        name="codice-fiscale",
        country="IT",
        label="Codice fiscale",
        system=CODICE_FISCALE_SYSTEM,
        example="RSSMRA85T10A562S",
        _validate=validate_codice_fiscale,
        _generate=_generate_codice_fiscale,
    ),
}

_BY_SYSTEM = {scheme.system: scheme for scheme in IDENTIFIER_SCHEMES.values()}


def scheme_for_system(system: str) -> Scheme | None:
    """The scheme whose FHIR identifier system is ``system`` (``None`` if unknown)."""
    return _BY_SYSTEM.get(system)


def get_scheme(name: str) -> Scheme:
    try:
        return IDENTIFIER_SCHEMES[name]
    except KeyError:
        known = ", ".join(sorted(IDENTIFIER_SCHEMES))
        raise IdentifierError(f"unknown identifier scheme {name!r} (known: {known})") from None


def validate_identifier(system: str, value: Any) -> str:
    """Validate ``value`` with the scheme of ``system``; unknown systems only get whitespace trimmed."""
    scheme = scheme_for_system(system)
    if scheme is None:
        if not isinstance(value, str) or not value.strip():
            raise IdentifierError("identifier value is empty")
        return value.strip()
    return scheme.validate(value)
