"""The clinical content of a summary, one builder per section, drawn in a fixed order from the document's stream.

The required sections (problems, medications, allergies) always get an entry, or an absent-or-unknown
statement; the recommended ones fill what remains of the document's entry budget.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from gateway.records import _population_data as data
from gateway.records.synthetic.builder import Builder
from gateway.records.synthetic.codes import LOINC, REFERENCE_DATE, SMOKING_EN, SMOKING_KEYS, SNOMED, UCUM
from gateway.records.synthetic.concepts import Item, icd
from gateway.records.synthetic.values import between, cc, human_date

#: most medicines listed, by summary size
_MEDICATION_CAP = {"small": 2, "typical": 8, "large": 24}


def add_problems(b: Builder, size_label: str, budget: int, pregnant: bool) -> list[Item]:
    """Active problems, filtered by age and sex, more with age (or an absent-or-unknown statement)."""
    rng, age, gender = b.rng, b.ident["age"], b.ident["gender"]
    pool = b.cat.pool("problem", gender, age, pregnant)
    n_problems = min(len(pool), max(0, int(age / 14 + rng.random() * 2 + budget / 14) - (1 if age < 30 else 0)))
    problems = rng.sample(pool, n_problems) if pool and n_problems else []
    if size_label == "small":
        problems = problems[:2]
    if problems:
        for item in problems:
            b.condition(item, "problems", resolved=False)
    else:
        b.absent("problems", "no-known-problems" if rng.random() < 0.85 else "no-problem-info")
    return problems


def add_medications(b: Builder, problems: list[Item], size_label: str, budget: int) -> None:
    """Medicines for the problems' indications, then common ones (or an absent-or-unknown statement)."""
    rng, cat, age = b.rng, b.cat, b.ident["age"]
    meds: list[Item] = []
    for item in problems:
        options = cat.meds_by_indication.get(icd(item)[:3])
        if options:
            choice = rng.choice(options)
            if choice not in meds:
                meds.append(choice)
    extra_meds = int(budget / 30 * rng.random() + (1 if age > 60 and rng.random() < 0.5 else 0))
    all_meds = cat.cats["medication"]
    for _ in range(extra_meds):
        choice = rng.choice(all_meds)
        ind = choice.props.get("indication_icd10")
        if choice not in meds and (ind is None or age >= 18):
            meds.append(choice)
    meds = meds[:_MEDICATION_CAP.get(size_label, 20)]
    if meds:
        for item in meds:
            b.medication(item)
    else:
        b.absent("medications", "no-known-medications" if rng.random() < 0.8 else "no-medication-info")


def add_allergies(b: Builder, size_label: str) -> None:
    """Allergies for about 30 % of people (or an absent-or-unknown statement)."""
    rng = b.rng
    agents = b.cat.cats["allergy_agent"]
    if agents and rng.random() < (0.3 if size_label != "large" else 0.6):
        for agent in rng.sample(agents, min(len(agents), 1 + int(rng.random() ** 3 * 3))):
            b.allergy(agent)
    else:
        b.absent("allergies", "no-known-allergies" if rng.random() < 0.85 else "no-allergy-info")


def add_pregnancy(b: Builder, pregnant: bool) -> None:
    """Pregnancy status (women of childbearing age) and, when pregnant, the expected delivery date."""
    rng, cat, t, age = b.rng, b.cat, b.t, b.ident["age"]
    if not (b.ident["gender"] == "female" and 15 <= age <= 49 and cat.preg_status and (pregnant or rng.random() < 0.25)
            and b.remaining() > 1):
        return
    value_code = "77386006" if pregnant else "60001007"
    value_item = cat.preg_values.get(value_code)
    when = between(rng, REFERENCE_DATE - timedelta(days=90), REFERENCE_DATE - timedelta(days=3))
    if value_item is not None:
        b.observation("pregnancy", "social-history", cat.preg_status, when, cc(value_item.coding, value_item.text),
                      escape(t["pregnant"] if pregnant else t["not_pregnant"]))
    if pregnant and cat.preg_edd:
        edd = REFERENCE_DATE + timedelta(days=rng.randint(20, 250))
        b.observation("pregnancy", "social-history", cat.preg_edd, when, edd.isoformat(),
                      human_date(edd.isoformat(), b.lang))


def add_social_history(b: Builder) -> None:
    """Smoking status and alcohol use (from 12 years of age)."""
    rng, t, age = b.rng, b.t, b.ident["age"]
    if not (age >= 12 and b.remaining() > 0 and rng.random() < 0.7):
        return
    for item in b.cat.cats["social_history"]:
        if b.remaining() <= 0:
            break
        when = between(rng, REFERENCE_DATE - timedelta(days=700), REFERENCE_DATE)
        codes = item.props.get("value_codes") or []
        if codes:
            weights = (0.5, 0.3, 0.2) if len(codes) == 3 else None
            value_code = rng.choices(codes, weights=weights)[0] if weights else rng.choice(codes)
            key = SMOKING_KEYS.get(value_code)
            coding = {"system": item.props.get("value_system") or SNOMED, "code": value_code}
            if value_code in SMOKING_EN:
                coding["display"] = SMOKING_EN[value_code]
            text = t[key] if key else value_code
            b.observation("social_history", "social-history", item, when, cc(coding, text), escape(text))
        elif item.props.get("unit") and age >= 18:
            drinks = rng.choice((0, 0, 0.5, 1, 1, 2, 3))
            q = {"value": drinks, "unit": item.props["unit"], "system": UCUM, "code": item.props["unit"]}
            b.observation("social_history", "social-history", item, when, q, f"{drinks} {escape(t['drinks'])}")


def add_immunizations(b: Builder) -> None:
    """Childhood series and adult boosters, as the budget allows."""
    rng = b.rng
    vaccines = b.cat.cats["vaccine"]
    if not (vaccines and b.remaining() > 0):
        return
    n_vacc = min(b.remaining() // 4 + 1, 40)
    for _ in range(n_vacc if rng.random() < 0.85 else 0):
        item = rng.choice(vaccines)
        doses = int(item.props.get("doses") or 1)
        dose = rng.randint(1, doses)
        when = between(rng, b.ident["born"] + timedelta(days=60), REFERENCE_DATE - timedelta(days=10))
        b.immunization(item, when, dose)
        if b.remaining() <= 0:
            break


def add_history(b: Builder) -> None:
    """Past illnesses, procedures and devices."""
    rng, cat, age, gender = b.rng, b.cat, b.ident["age"], b.ident["gender"]
    past_pool = cat.pool("past_illness", gender, age, False)
    if past_pool and b.remaining() > 0 and age >= 3:
        for item in rng.sample(past_pool, min(len(past_pool), max(1, b.remaining() // 8))):
            b.condition(item, "past_illness", resolved=True)
    procs = cat.procedures_for(gender, age)
    if procs and b.remaining() > 0 and age >= 1 and (age >= 30 or rng.random() < 0.3):
        for item in rng.sample(procs, min(len(procs), max(1, b.remaining() // 10))):
            b.procedure(item)
    devices = cat.devices_for(gender)
    if devices and b.remaining() > 1 and (age >= 55 or rng.random() < 0.1):
        for item in rng.sample(devices, min(len(devices), max(1, b.remaining() // 25))):
            b.device(item)


def add_plan_of_care(b: Builder, problems: list[Item], pregnant: bool) -> None:
    """A CarePlan whose national-language description follows the first problem with a known plan."""
    rng, t = b.rng, b.t
    if not (b.remaining() > 0 and (problems or pregnant) and rng.random() < 0.6):
        return
    key = "plan_pregnancy" if pregnant else "plan_generic"
    for item in problems:
        code = icd(item)
        hit = next((k for prefix, k in data.PLAN_BY_ICD10 if code.startswith(prefix)), None)
        if hit:
            key = hit
            break
    start = between(rng, REFERENCE_DATE - timedelta(days=200), REFERENCE_DATE)
    b.add({"resourceType": "CarePlan", "status": "active", "intent": "plan",
           "subject": {"reference": b.patient_ref}, "description": t[key],
           "period": {"start": start.isoformat()}},
          "plan_of_care", (escape(t[key]), human_date(start.isoformat(), b.lang)))


def add_measurements(b: Builder, problems: list[Item]) -> None:
    """Blood group, then vital signs and results as time series filling what remains of the budget."""
    rng, cat, t, ident = b.rng, b.cat, b.t, b.ident
    cats = cat.cats
    labs = cats["lab_result"]
    abnormal = 0.35 if problems else 0.1
    if cats["blood_group"] and b.remaining() > 0 and rng.random() < 0.5:
        bg = rng.choice(cats["blood_group"])
        bg_item = Item({"system": LOINC, "code": "882-1", "display": "ABO and Rh group [Type] in Blood"},
                       t["blood_group_panel"], "", {})
        bg_item.html = escape(bg_item.text)
        when = between(rng, ident["born"], REFERENCE_DATE)
        b.observation("results", "laboratory", bg_item, when, cc(bg.coding, bg.text), bg.html)
    visit = between(rng, max(ident["born"] + timedelta(days=2), REFERENCE_DATE - timedelta(days=120)),
                    REFERENCE_DATE - timedelta(days=1))
    rounds = 0
    while b.remaining() > 0 and rounds < 60:
        rounds += 1
        if cat.bp[0] is not None and cat.bp[1] is not None and ident["age"] >= 3:
            b.blood_pressure(visit)
        for item in rng.sample(cat.vitals, min(len(cat.vitals), 2 if b.remaining() < 8 else 3)):
            if b.remaining() <= 0:
                break
            b.vital(item, visit)
        if labs:
            for item in rng.sample(labs, min(len(labs), max(1, min(b.remaining(), 6)))):
                if b.remaining() <= 0:
                    break
                b.lab(item, visit, abnormal)
        # spread the remaining visits over the life so far: infants are seen every few weeks,
        # adults every few months
        needed = b.remaining() / 9 + 1
        days_left = (visit - ident["born"]).days
        step = int(min(400, max(7, days_left / (needed + 1))))
        visit -= timedelta(days=rng.randint(max(7, step // 2), step))
        if visit <= ident["born"]:
            break
