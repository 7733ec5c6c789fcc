"""Who a synthetic patient is: sex, age, names, birthplace, address and a national identifier unique per index."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from gateway.records import _population_data as data
from gateway.records.identifiers import (
    CODICE_FISCALE_SYSTEM,
    INS_NIR_SYSTEM,
    KVNR_SYSTEM,
    _cf_name_part,
    kvnr_check_digit,
    make_codice_fiscale,
    make_nir,
)
from gateway.records.synthetic.codes import COUNTRIES, REFERENCE_DATE

# Age pyramid: (min age, max age, weight)
_AGE_BRACKETS = ((0, 4, 5), (5, 14, 11), (15, 24, 11), (25, 34, 12), (35, 44, 12), (45, 54, 13),
                 (55, 64, 13), (65, 74, 11), (75, 84, 8), (85, 99, 4))
_AGE_CUM: list[int] = []
_acc = 0
for _lo, _hi, _w in _AGE_BRACKETS:
    _acc += _w
    _AGE_CUM.append(_acc)



@dataclass(frozen=True, slots=True)
class PatientTraits:
    """Reference identity traits of a synthetic patient (what identification matches on)."""

    country: str
    identifier_system: str
    identifier_value: str
    family: str  # birth name (official)
    given: str  # first names, space separated
    given_names: tuple[str, ...]
    birthdate: str
    gender: str  # FHIR administrative gender
    birthplace: str  # FR: INSEE code (commune or 99+country); DE/IT: city / Belfiore code
    birthplace_name: str
    language: str
    usual_family: str | None
    size: str
    entries: int  # bundle entries

    def as_dict(self) -> dict[str, Any]:
        """The traits by field name."""
        return {name: getattr(self, name) for name in self.__slots__}


def patient_seed(country: str, index: int, seed: int) -> int:
    """The seed of one person's random streams."""
    digest = hashlib.blake2b(f"{country}:{seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def permute(index: int, space: int, seed: int, salt: str) -> int:
    """A bijection of ``range(space)`` (affine map with a seed-dependent multiplier and offset)."""
    a, c = _affine(space, seed, salt)
    return (a * (index % space) + c) % space


@lru_cache(maxsize=64)
def _affine(space: int, seed: int, salt: str) -> tuple[int, int]:
    h = int.from_bytes(hashlib.blake2b(f"{salt}:{seed}".encode(), digest_size=8).digest(), "big")
    a = (h | 1) % space or 1
    while math.gcd(a, space) != 1:
        a += 1
    return a, h >> 20


def _draw_age(rng: random.Random) -> int:
    x = rng.randrange(_AGE_CUM[-1])
    for (lo, hi, _w), cum in zip(_AGE_BRACKETS, _AGE_CUM, strict=True):
        if x < cum:
            return rng.randint(lo, hi)
    return 50  # pragma: no cover


def _birthdate(rng: random.Random, age: int, month: int | None = None) -> date:
    year = REFERENCE_DATE.year - age
    if month is None:
        month = rng.randint(1, 12)
    day = rng.randint(1, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    born = date(year, month, day)
    if born > REFERENCE_DATE:  # birthday not reached yet this year -> one year younger is fine
        born = date(year - 1, month, day)
    return born


def identity(country: str, index: int, seed: int, rng: random.Random) -> dict[str, Any]:
    """The identity of person ``index`` of the population ``(country, seed)``, drawn from ``rng``."""
    gender = "female" if rng.random() < 0.51 else "male"
    age = _draw_age(rng)
    if country == "FR":
        return _french_identity(index, seed, rng, gender, age)
    if country == "DE":
        return _german_identity(index, seed, rng, gender, age)
    if country == "IT":
        return _italian_identity(index, seed, rng, gender, age)
    raise ValueError(f"no synthetic population for country {country!r} (known: {', '.join(COUNTRIES)})")


def _french_identity(index: int, seed: int, rng: random.Random, gender: str, age: int) -> dict[str, Any]:
    """A French identity; the INS-NIR's birth month, birthplace and order number are unique per index."""
    places = data.FR_BIRTHPLACES
    n_places = len(places)
    slot = permute(index, 12 * n_places * 999, seed, "fr-nir")
    month = slot % 12 + 1
    code, place_name = places[(slot // 12) % n_places]
    order = slot // (12 * n_places) + 1
    born = _birthdate(rng, age, month)
    if code[:2] in ("2A", "2B") and born.year < 1976:
        code = "20" + code[2:]  # Corsica was department 20 before 1976
    family = rng.choice(data.FR_FAMILY)
    firsts = data.FR_FEMALE if gender == "female" else data.FR_MALE
    given = [rng.choice(firsts)]
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2))):
        name = rng.choice(firsts)
        if name not in given:
            given.append(name)
    value = make_nir(gender, born.isoformat(), code, order)
    usual = rng.choice(data.FR_FAMILY) if gender == "female" and age >= 25 and rng.random() < 0.4 else None
    street = f"{rng.randint(1, 120)} {rng.choice(data.FR_STREETS)}"
    postal, city = rng.choice(data.FR_CITIES)
    return dict(system=INS_NIR_SYSTEM, value=value, family=family, given=given, gender=gender, born=born,
                age=age, birthplace=code, birthplace_name=place_name, usual=usual,
                address=(street, postal, city, "FR"),
                phone=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}")


def _german_identity(index: int, seed: int, rng: random.Random, gender: str, age: int) -> dict[str, Any]:
    """A German identity; the KVNR is a permutation of the index."""
    n = permute(index, 26 * 100_000_000, seed, "de-kvnr")
    first9 = chr(ord("A") + n // 100_000_000) + f"{n % 100_000_000:08d}"
    value = first9 + kvnr_check_digit(first9)
    born = _birthdate(rng, age)
    family = rng.choice(data.DE_FAMILY)
    firsts = data.DE_FEMALE if gender == "female" else data.DE_MALE
    given = [rng.choice(firsts)]
    if rng.random() < 0.3:
        second = rng.choice(firsts)
        if second != given[0]:
            given.append(second)
    place = rng.choice(data.DE_BIRTHPLACES)
    usual = rng.choice(data.DE_FAMILY) if gender == "female" and age >= 25 and rng.random() < 0.3 else None
    street = f"{rng.choice(data.DE_STREETS)} {rng.randint(1, 140)}"
    postal, city = rng.choice(data.DE_CITIES)
    return dict(system=KVNR_SYSTEM, value=value, family=family, given=given, gender=gender, born=born,
                age=age, birthplace=place, birthplace_name=place, usual=usual,
                address=(street, postal, city, "DE"),
                phone=f"+49 1{rng.randint(50, 79)} {rng.randint(1000000, 9999999)}")


def _first_per_code(family_names: tuple[str, ...]) -> tuple[str, ...]:
    """The first surname of each codice fiscale surname code (3 letters), in the given order."""
    seen: dict[str, str] = {}
    for name in family_names:
        seen.setdefault(_cf_name_part(name, given=False), name)
    return tuple(seen.values())


#: surnames with pairwise different codice fiscale surname codes
IT_FAMILY_CODES = _first_per_code(data.IT_FAMILY)
#: month and day of each day of a 365-day year (29 February is never drawn)
_DAYS_OF_YEAR = tuple((d.month, d.day) for d in (date(2001, 1, 1) + timedelta(days=n) for n in range(365)))


def _italian_identity(index: int, seed: int, rng: random.Random, gender: str, age: int) -> dict[str, Any]:
    """An Italian identity whose codice fiscale is computed from its traits, unique per index.

    The index is permuted onto (surname code, birthplace, day of the year): two indexes of the same
    seed differ in at least one of them, hence in their codice fiscale (which encodes all three),
    for the first ``len(IT_FAMILY_CODES) * len(IT_BIRTHPLACES) * 365`` (≈ 2 million) indexes.
    """
    places, families = data.IT_BIRTHPLACES, IT_FAMILY_CODES
    slot = permute(index, 365 * len(places) * len(families), seed, "it-cf")
    month, day = _DAYS_OF_YEAR[slot % 365]
    belfiore, place_name = places[(slot // 365) % len(places)]
    family = families[slot // (365 * len(places))]
    # exactly ``age`` years old on the reference date (the age drives the clinical profile)
    year = REFERENCE_DATE.year - age - (1 if (month, day) > (REFERENCE_DATE.month, REFERENCE_DATE.day) else 0)
    born = date(year, month, day)
    firsts = data.IT_FEMALE if gender == "female" else data.IT_MALE
    given = [rng.choice(firsts)]
    if rng.random() < 0.12:  # a second given name, as written on the civil-status record
        second = rng.choice(firsts)
        if second != given[0]:
            given.append(second)
    value = make_codice_fiscale(family, " ".join(given), gender, born.isoformat(), belfiore)
    street = f"{rng.choice(data.IT_STREETS)} {rng.randint(1, 180)}"
    postal, city = rng.choice(data.IT_CITIES)
    return dict(system=CODICE_FISCALE_SYSTEM, value=value, family=family, given=given, gender=gender, born=born,
                age=age, birthplace=belfiore, birthplace_name=place_name, usual=None,
                address=(street, postal, city, "IT"),
                phone=f"+39 3{rng.randint(20, 93)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}")
