"""CDA entries -> FHIR resources, one mapper per kind of section (problems, allergies, medications...).

Each mapper takes the entry's clinical statement, the section narrative's ID index, the Patient's
reference and the section's LOINC code; it returns the resources made, or raises :class:`Unmapped`.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from gateway.records.cda.codes import concept, original_text, period, quantity, time_of
from gateway.records.cda.reader import attr, find, findall, local, text_of, xsi_type
from terminology import systems

PHARM = "urn:ihe:pharm:medication"


class Unmapped(Exception):
    """An entry that cannot be turned into a structured element (the reason is reported)."""


# --- helpers ------------------------------------------------------------------------------------


def _rel(statement: Element, type_code: str | None = None) -> list[Element]:
    """The clinical statements of the ``entryRelationship``s (of one typeCode)."""
    found = []
    for rel in findall(statement, "h:entryRelationship"):
        if type_code is None or rel.get("typeCode") == type_code:
            found.extend(child for child in rel if local(child.tag) not in ("templateId", "sequenceNumber"))
    return found


def _with_code(statements: list[Element], loinc: str) -> Element | None:
    return next((s for s in statements if attr(find(s, "h:code"), "code") == loinc), None)


def _value_concept(observation: Element, narrative: dict[str, str]) -> dict[str, Any] | None:
    value = find(observation, "h:value")
    return concept(value, narrative) if value is not None and xsi_type(value) in ("CD", "CE", "CV", "CO", None) else None


def _comment(statement: Element, narrative: dict[str, str]) -> list[dict[str, str]]:
    notes = []
    for rel in _rel(statement):
        if attr(find(rel, "h:code"), "code") == "48767-8":
            text = original_text(rel, narrative)
            if text:
                notes.append({"text": text})
    return notes


def _value_x(observation: Element, narrative: dict[str, str]) -> dict[str, Any]:
    """Observation.value[x] from a CDA ``value`` of any data type (empty when there is none)."""
    value = find(observation, "h:value")
    if value is None:
        return {}
    kind = xsi_type(value)
    if kind == "PQ":
        q = quantity(value)
        return {"valueQuantity": q} if q else {}
    if kind == "BL" and attr(value, "value") in ("true", "false"):
        return {"valueBoolean": attr(value, "value") == "true"}
    if kind in ("INT", "REAL") and attr(value, "value"):
        q = quantity(value)
        return {"valueQuantity": q} if q else {}
    if kind in ("ST", "ED"):
        text = text_of(value)
        return {"valueString": text} if text else {}
    if kind in ("TS",):
        when = time_of(value)
        return {"valueDateTime": when} if when else {}
    if kind == "IVL_PQ":
        low, high = quantity(find(value, "h:low")), quantity(find(value, "h:high"))
        if low or high:
            return {"valueRange": {k: v for k, v in (("low", low), ("high", high)) if v}}
        return {}
    c = concept(value, narrative)
    return {"valueCodeableConcept": c} if c else {}


def _code_or_fail(statement: Element, narrative: dict[str, str], what: str) -> dict[str, Any]:
    c = concept(find(statement, "h:code"), narrative)
    if not c:
        raise Unmapped(f"{what} without a code or text")
    return c


# --- mappers --------------------------------------------------------------------------------------

_CONDITION_STATUS = {"active": "active", "recurrence": "recurrence", "relapse": "relapse", "inactive": "inactive",
                     "remission": "remission", "resolved": "resolved"}


def _subjects(statement: Element, what: str) -> list[Element]:
    """The observations a concern act is about (a CDA concern may hold several), or the observation itself."""
    if local(statement.tag) == "observation":
        return [statement]
    found = [s for s in _rel(statement, "SUBJ") if local(s.tag) == "observation"]
    if not found:
        raise Unmapped(f"{what} concern without an observation")
    return found


def problem(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    return [_condition(statement, o, narrative, patient, section) for o in _subjects(statement, "problem")]


def _condition(statement: Element, observation: Element, narrative: dict[str, str], patient: str,
               section: str) -> dict[str, Any]:
    code = _value_concept(observation, narrative)  # the problem itself; the observation's code is its kind
    if not code or not (code.get("coding") or code.get("text")):
        text = original_text(observation, narrative)
        if not text:
            raise Unmapped("problem without a code or text")
        code = {"text": text}
    status = "resolved" if section == "11348-0" else "active"
    status_obs = _with_code(_rel(observation), "33999-4")
    given = attr(find(status_obs, "h:value"), "code") if status_obs is not None else None
    if given in _CONDITION_STATUS:
        status = _CONDITION_STATUS[given]
    elif attr(find(statement, "h:statusCode"), "code") in ("completed", "aborted") and section != "11450-4":
        status = "resolved"
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": systems.CONDITION_CLINICAL, "code": status}]},
        "category": [{"coding": [{"system": systems.CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": code, "subject": {"reference": patient}}
    certainty = _with_code(_rel(observation), "66455-7")
    verification = attr(find(certainty, "h:value"), "code") if certainty is not None else None
    if verification in ("confirmed", "unconfirmed", "provisional", "differential", "refuted"):
        condition["verificationStatus"] = {"coding": [{"system": systems.CONDITION_VER_STATUS, "code": verification}]}
    if observation.get("negationInd") == "true":
        condition["verificationStatus"] = {"coding": [{"system": systems.CONDITION_VER_STATUS, "code": "refuted"}]}
    elif attr(observation, "uncertaintyCode") == "UN" and "verificationStatus" not in condition:
        condition["verificationStatus"] = {"coding": [{"system": systems.CONDITION_VER_STATUS, "code": "unconfirmed"}]}
    severity = _with_code(_rel(observation), "SEV")
    if severity is not None and _value_concept(severity, narrative):
        condition["severity"] = _value_concept(severity, narrative)
    start, end = period(find(observation, "h:effectiveTime"))
    if start:
        condition["onsetDateTime"] = start
    if end and status in ("resolved", "inactive", "remission"):
        condition["abatementDateTime"] = end
    if _comment(observation, narrative):
        condition["note"] = _comment(observation, narrative)
    return condition


_ALLERGY_TYPE = {"416098002": ("allergy", "medication"), "419511003": ("intolerance", "medication"),
                 "414285001": ("allergy", "food"), "235719002": ("intolerance", "food"),
                 "419199007": ("allergy", None), "420134006": (None, None), "59037007": ("intolerance", "medication"),
                 "418471000": (None, "food"), "418038007": (None, None), "419474003": ("allergy", "environment"),
                 "232347008": ("allergy", "environment")}


def allergy(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    return [_allergy(statement, o, narrative, patient, section) for o in _subjects(statement, "allergy")]


def _allergy(statement: Element, observation: Element, narrative: dict[str, str], patient: str,
             section: str) -> dict[str, Any]:
    agent_el = find(observation, "h:participant/h:participantRole/h:playingEntity/h:code")
    if agent_el is None:
        agent_el = find(observation, "h:entryRelationship/h:substanceAdministration/h:consumable/h:manufacturedProduct"
                                     "/h:manufacturedMaterial/h:code")
    agent = concept(agent_el, narrative) or _value_concept(observation, narrative)
    if not agent or not (agent.get("coding") or agent.get("text")):
        raise Unmapped("allergy without an agent")
    kind = attr(find(observation, "h:code"), "code") or ""
    type_, category = _ALLERGY_TYPE.get(kind, (None, None))
    if section == "44939-7":
        type_, category = "intolerance", "medication"
    status = "active" if attr(find(statement, "h:statusCode"), "code") in ("active", None) else "resolved"
    status_obs = _with_code(_rel(observation), "33999-4")
    if status_obs is not None and attr(find(status_obs, "h:value"), "code") in ("active", "inactive", "resolved"):
        status = attr(find(status_obs, "h:value"), "code") or status
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": systems.ALLERGY_CLINICAL, "code": status}]},
        "code": agent, "patient": {"reference": patient}}
    if type_:
        resource["type"] = type_
    if category:
        resource["category"] = [category]
    start, _end = period(find(observation, "h:effectiveTime"))
    if start:
        resource["onsetDateTime"] = start
    criticality = _with_code(_rel(observation), "82606-5")
    level = attr(find(criticality, "h:value"), "code") if criticality is not None else None
    if level in ("low", "high", "unable-to-assess"):
        resource["criticality"] = level
    certainty = _with_code(_rel(observation), "66455-7")
    verified = attr(find(certainty, "h:value"), "code") if certainty is not None else None
    if verified in ("confirmed", "unconfirmed", "presumed", "refuted"):
        resource["verificationStatus"] = {"coding": [{"system": systems.ALLERGY_VERIFICATION, "code": verified}]}
    if observation.get("negationInd") == "true":  # "no allergy to X": never an allergy to X
        resource["verificationStatus"] = {"coding": [{"system": systems.ALLERGY_VERIFICATION, "code": "refuted"}]}
    reactions = [r for r in (_value_concept(m, narrative) for m in _rel(observation, "MFST")) if r]
    if reactions:
        resource["reaction"] = [{"manifestation": [r]} for r in reactions]
    if _comment(observation, narrative):
        resource["note"] = _comment(observation, narrative)
    return resource


def medication(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    """A substanceAdministration -> the Medication and the MedicationStatement (status, period, dosage, reasons)."""
    med, name = _medication(find(statement, "h:consumable/h:manufacturedProduct/h:manufacturedMaterial"), narrative)
    # statusCode 'completed' states that the CDA entry is complete; whether the treatment is still taken
    # is said by the end of its period (IHE PCC), a known end date making it completed
    status = {"aborted": "stopped", "suspended": "on-hold", "cancelled": "not-taken"}.get(
        attr(find(statement, "h:statusCode"), "code") or "", "active")
    if statement.get("negationInd") == "true":  # "does not take X"
        status = "not-taken"
    resource: dict[str, Any] = {"resourceType": "MedicationStatement", "status": status,
                                "subject": {"reference": patient}}
    dosage: dict[str, Any] = {}
    text = original_text(statement, narrative)
    if text and text not in (name, med["code"].get("text")):  # CI-SIS often points the entry's text at the product's cell
        dosage["text"] = text
    timing = _medication_times(statement, resource)
    if timing:
        dosage["timing"] = timing
    route = concept(find(statement, "h:routeCode"), narrative)
    if route:
        dosage["route"] = route
    dose = _dose(find(statement, "h:doseQuantity"))
    if dose:
        dosage["doseAndRate"] = [dose]
    if dosage:
        resource["dosage"] = [dosage]
    reasons = [c for c in (concept(find(r, "h:code"), narrative) for r in _rel(statement, "RSON")) if c]
    if reasons:
        resource["reasonCode"] = reasons
    if _comment(statement, narrative):
        resource["note"] = _comment(statement, narrative)
    return [med, resource]


def _medication(material: Element | None, narrative: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The Medication of a manufacturedMaterial (product code, ATC class, name, form, ingredients), and its name."""
    code = concept(find(material, "h:code"), narrative)
    atc = find(material, f"{{{PHARM}}}asSpecializedKind/{{{PHARM}}}generalizedMedicineClass/{{{PHARM}}}code")
    atc_code = concept(atc) if atc is not None else None
    name = text_of(find(material, "h:name"))
    if code is None and atc_code is None and not name:
        raise Unmapped("medication without a product code, class or name")
    code = code or {}
    if atc_code:
        code.setdefault("coding", []).extend(atc_code.get("coding", []))
    if name and not code.get("text"):
        code["text"] = name
    med: dict[str, Any] = {"resourceType": "Medication", "code": code}
    form = concept(find(material, f"{{{PHARM}}}formCode"), narrative)
    if form:
        med["form"] = form
    ingredients = []
    for part in findall(material, "pharm:ingredient") if material is not None else []:
        substance = concept(find(part, "pharm:ingredient/pharm:code"), narrative)
        if not substance:
            continue
        item: dict[str, Any] = {"itemCodeableConcept": substance, "isActive": part.get("classCode") == "ACTI"}
        numerator = quantity(find(part, "pharm:quantity/h:numerator"))
        denominator = quantity(find(part, "pharm:quantity/h:denominator"))
        if numerator and denominator:
            item["strength"] = {"numerator": numerator, "denominator": denominator}
        ingredients.append(item)
    if ingredients:
        med["ingredient"] = ingredients
    return med, name


def _medication_times(statement: Element, resource: dict[str, Any]) -> dict[str, Any]:
    """The statement's period (an end makes an active treatment completed) and the dosage's Timing."""
    timing: dict[str, Any] = {}
    for effective in findall(statement, "h:effectiveTime"):
        kind = xsi_type(effective)
        if kind in ("IVL_TS", None):
            start, end = period(effective)
            if start or end:
                resource["effectivePeriod"] = {k: v for k, v in (("start", start), ("end", end)) if v}
            if end and resource["status"] == "active":
                resource["status"] = "completed"
        elif kind == "PIVL_TS":
            p = quantity(find(effective, "h:period"))
            unit = {"h": "h", "d": "d", "wk": "wk", "mo": "mo", "a": "a", "min": "min", "s": "s"}.get(
                (p or {}).get("unit", ""))
            if p and unit:
                timing["repeat"] = {"frequency": 1, "period": p["value"], "periodUnit": unit}
        elif kind == "EIVL_TS":
            event = attr(find(effective, "h:event"), "code")
            if event:
                timing.setdefault("repeat", {})["when"] = [event]
    return timing


def _dose(dose_el: Element | None) -> dict[str, Any] | None:
    """The doseAndRate of a doseQuantity: a dose, a range, or the one bound given."""
    dose = quantity(dose_el)
    low, high = quantity(find(dose_el, "h:low")), quantity(find(dose_el, "h:high"))
    if dose:
        return {"doseQuantity": dose}
    if low and high and low != high:
        return {"doseRange": {"low": low, "high": high}}
    if low or high:
        return {"doseQuantity": low or high}
    return None


def procedure(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    if local(statement.tag) not in ("procedure", "act", "observation"):
        raise Unmapped(f"a {local(statement.tag)} is not a procedure")
    if statement.get("moodCode") not in (None, "EVN"):
        return care_plan(statement, narrative, patient, section)
    code = _code_or_fail(statement, narrative, "procedure")
    status = {"completed": "completed", "active": "in-progress", "aborted": "stopped"}.get(
        attr(find(statement, "h:statusCode"), "code") or "", "completed")
    resource: dict[str, Any] = {"resourceType": "Procedure", "status": status, "code": code,
                                "subject": {"reference": patient}}
    start, end = period(find(statement, "h:effectiveTime"))
    if start and end:
        resource["performedPeriod"] = {"start": start, "end": end}
    elif start:
        resource["performedDateTime"] = start
    sites = [c for c in (concept(t, narrative) for t in findall(statement, "h:targetSiteCode")) if c]
    if sites:
        resource["bodySite"] = sites
    reasons = [c for c in (concept(find(r, "h:code"), narrative) for r in _rel(statement, "RSON")) if c]
    if reasons:
        resource["reasonCode"] = reasons
    return [resource]


def immunization(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    material = find(statement, "h:consumable/h:manufacturedProduct/h:manufacturedMaterial")
    vaccine = concept(find(material, "h:code"), narrative)
    if not vaccine:
        name = text_of(find(material, "h:name")) or original_text(statement, narrative)
        if not name:
            raise Unmapped("immunisation without a vaccine code or name")
        vaccine = {"text": name}
    when = time_of(find(statement, "h:effectiveTime")) or period(find(statement, "h:effectiveTime"))[0]
    resource: dict[str, Any] = {"resourceType": "Immunization",
                                "status": "not-done" if statement.get("negationInd") == "true" else "completed",
                                "vaccineCode": vaccine, "patient": {"reference": patient}}
    if when:
        resource["occurrenceDateTime"] = when
    else:
        resource["occurrenceString"] = "date inconnue"
    lot = text_of(find(material, "h:lotNumberText"))
    if lot:
        resource["lotNumber"] = lot
    route = concept(find(statement, "h:routeCode"), narrative)
    if route:
        resource["route"] = route
    dose = quantity(find(statement, "h:doseQuantity"))
    if dose:
        resource["doseQuantity"] = dose
    return [resource]


def device(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    entity = find(statement, "h:participant/h:participantRole/h:playingDevice")
    code = concept(find(entity, "h:code"), narrative) if entity is not None else None
    if not code:
        text = original_text(statement, narrative)
        if not text:
            raise Unmapped("device without a code or text")
        code = {"text": text}
    dev: dict[str, Any] = {"resourceType": "Device", "type": code}
    serial = attr(find(statement, "h:participant/h:participantRole/h:id"), "extension")
    if serial:
        dev["udiCarrier"] = [{"carrierHRF": serial}]
    use: dict[str, Any] = {"resourceType": "DeviceUseStatement", "status": "active",
                           "subject": {"reference": patient}}
    start, end = period(find(statement, "h:effectiveTime"))
    if start or end:
        use["timingPeriod"] = {k: v for k, v in (("start", start), ("end", end)) if v}
    return [dev, use]


_CATEGORY = {"8716-3": "vital-signs", "29762-2": "social-history", "10162-6": "social-history",
             "30954-2": "laboratory", "47420-5": "survey", "42348-3": "survey", "10157-6": "social-history"}


def observations(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    """Simple observations, or the observations of an organizer (vital signs, results, scores)."""
    kind = local(statement.tag)
    if kind == "organizer":
        parts = [c for comp in findall(statement, "h:component") for c in comp if local(c.tag) == "observation"]
        if not parts:
            raise Unmapped("organizer without observations")
        group = concept(find(statement, "h:code"), narrative)  # the battery / kind of examination
        when = period(find(statement, "h:effectiveTime"))[0]  # for the observations that give no time
        made: list[dict[str, Any]] = []
        for part in parts:
            made.extend(_observation(part, narrative, patient, section, group, when))
        return made
    if kind != "observation":
        raise Unmapped(f"a {kind} in this section is not an observation")
    return _observation(statement, narrative, patient, section)


def _observation(observation: Element, narrative: dict[str, str], patient: str, section: str,
                 group: dict[str, Any] | None = None, when: str | None = None) -> list[dict[str, Any]]:
    code = _code_or_fail(observation, narrative, "observation")
    resource: dict[str, Any] = {"resourceType": "Observation", "status": "final", "code": code,
                                "subject": {"reference": patient}}
    category = _CATEGORY.get(section)
    categories = [{"coding": [{"system": systems.OBSERVATION_CATEGORY, "code": category}]}] if category else []
    if group:
        categories.append(group)
    if categories:
        resource["category"] = categories
    start, end = period(find(observation, "h:effectiveTime"))
    start = start or when
    if start and end:
        resource["effectivePeriod"] = {"start": start, "end": end}
    elif start:
        resource["effectiveDateTime"] = start
    resource.update(_value_x(observation, narrative))
    interpretation = concept(find(observation, "h:interpretationCode"))
    if interpretation:
        resource["interpretation"] = [interpretation]
    if not any(k.startswith("value") for k in resource):
        text = original_text(observation, narrative)
        if text:
            resource["valueString"] = text
    if _comment(observation, narrative):
        resource["note"] = _comment(observation, narrative)
    return [resource]


def family_history(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    if local(statement.tag) != "organizer":
        return observations(statement, narrative, patient, section)
    relation = concept(find(statement, "h:subject/h:relatedSubject/h:code"), narrative)
    conditions = []
    for comp in findall(statement, "h:component"):
        for obs in comp:
            value = _value_concept(obs, narrative) or concept(find(obs, "h:code"), narrative)
            if value:
                conditions.append({"code": value})
    if not conditions:
        raise Unmapped("family history without a condition")
    return [{"resourceType": "FamilyMemberHistory", "status": "completed", "patient": {"reference": patient},
             "relationship": relation or {"text": "membre de la famille"}, "condition": conditions}]


_PLANNED_KIND = {"substanceAdministration": "MedicationRequest", "encounter": "Appointment",
                 "procedure": "ServiceRequest", "observation": "ServiceRequest"}


def care_plan(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    code = concept(find(statement, "h:code"), narrative)
    if code and all(c["system"].startswith("http://terminology.hl7.org/CodeSystem/v3-") for c in code.get("coding", [])):
        code = None  # an HL7 ActCode (DRUG, IMMUNIZ...) only says what kind of act is planned
    product = concept(find(statement, "h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:code"), narrative)
    description = original_text(statement, narrative) or (code or {}).get("text") or (product or {}).get("text")
    if not code and not product and not description:
        raise Unmapped("planned activity without a code or text")
    detail: dict[str, Any] = {"status": "not-started" if statement.get("moodCode") in ("INT", "RQO", "PRP", "ARQ", "PRMS")
                              else "unknown"}
    if local(statement.tag) in _PLANNED_KIND:
        detail["kind"] = _PLANNED_KIND[local(statement.tag)]
    if product:
        detail["productCodeableConcept"] = product
    if code:
        detail["code"] = code
    if description:
        detail["description"] = description
    start, _end = period(find(statement, "h:effectiveTime"))
    if start:
        detail["scheduledString"] = start
    return [{"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": {"reference": patient},
             "activity": [{"detail": detail}]}]


def advance_directive(statement: Element, narrative: dict[str, str], patient: str, section: str) -> list[dict[str, Any]]:
    return observations(statement, narrative, patient, section)
