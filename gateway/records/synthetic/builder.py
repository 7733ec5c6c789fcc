"""The document under construction: its entries, its sections' references and narrative rows, one method per resource."""

from __future__ import annotations

import random
from datetime import date, timedelta
from html import escape
from typing import Any

from gateway.records import _population_data as data
from gateway.records.dosage_patterns import structured_dosage
from gateway.records.synthetic.codes import (
    ABSENT_DISPLAYS,
    ABSENT_UNKNOWN,
    ALLERGY_CLINICAL,
    ALLERGY_VERIFICATION,
    CONDITION_CLINICAL,
    CONDITION_VER_STATUS,
    EDQM,
    HEADERS_LEN,
    INTERP_DISPLAY,
    LOINC,
    OBSERVATION_CATEGORY,
    OBSERVATION_INTERPRETATION,
    REFERENCE_DATE,
    SNOMED,
)
from gateway.records.synthetic.concepts import Catalogue, Item
from gateway.records.synthetic.values import (
    between,
    cc,
    child_height,
    child_weight,
    draw_value,
    human_date,
    interpretation,
    partial_date,
    quantity,
)


class Builder:
    """Accumulates the entries and sections of one document."""

    def __init__(self, rng: random.Random, cat: Catalogue, ident: dict[str, Any], budget: int) -> None:
        self.rng = rng
        self.cat = cat
        self.lang = cat.lang
        self.t = data.TEXTS[self.lang]
        self.ident = ident
        self.budget = budget
        bits = rng.getrandbits(80)
        h = f"{bits:020x}"
        # UUID v4 layout: 8-4-4(4xxx)-4(8xxx..bxxx)-12; the last 12 hex digits number the entries
        self._uuid_prefix = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{'89ab'[bits & 3]}{h[15:18]}-{h[18:20]}"
        self._n = 0
        self.entries: list[dict[str, Any]] = []
        self.sections: dict[str, tuple[list[dict[str, str]], list[tuple[str, ...]]]] = {}
        self.patient_ref = ""
        self.org_ref = ""

    # -- plumbing -----------------------------------------------------------------------------
    def new_id(self) -> str:
        """The next resource id (a UUID v4 layout, numbered within the document)."""
        self._n += 1
        return f"{self._uuid_prefix}{self._n:010x}"

    def add(self, resource: dict[str, Any], section: str | None = None, row: tuple[str, ...] | None = None) -> str:
        """Add ``resource`` as an entry (and to ``section`` with its narrative ``row``); returns its fullUrl."""
        rid = resource["id"] = self.new_id()
        url = f"urn:uuid:{rid}"
        self.entries.append({"fullUrl": url, "resource": resource})
        if section is not None:
            refs, rows = self.sections.setdefault(section, ([], []))
            refs.append({"reference": url})
            if row is not None:
                rows.append(row)
        return url

    def section_size(self, name: str) -> int:
        """How many entries the section ``name`` holds so far."""
        return len(self.sections.get(name, ((), ()))[0])

    def remaining(self) -> int:
        """How many entries the document may still take (its Composition counted)."""
        return self.budget - len(self.entries) - 1

    # -- clinical content ---------------------------------------------------------------------
    def onset(self, earliest: date | None = None) -> tuple[date, str]:
        """A day from a month after birth (and ``earliest``) to a week before the reference date, and its partial ISO date."""
        born = self.ident["born"]
        start = max(born + timedelta(days=30), earliest or born)
        d = between(self.rng, start, REFERENCE_DATE - timedelta(days=7))
        return d, partial_date(self.rng, d)

    def condition(self, item: Item, section: str, resolved: bool) -> None:
        """A Condition: an active problem, or a resolved past illness."""
        t, rng = self.t, self.rng
        d, onset = self.onset()
        res: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": cc({"system": CONDITION_CLINICAL, "code": "resolved" if resolved else "active"}),
            "verificationStatus": cc({"system": CONDITION_VER_STATUS, "code": "confirmed"}),
            "category": [cc({"system": LOINC, "code": "75326-9", "display": "Problem"})],
            "code": cc(item.coding, item.text),
            "subject": {"reference": self.patient_ref},
            "onsetDateTime": onset,
        }
        end = ""
        if resolved:
            stop = between(rng, d, min(d + timedelta(days=rng.randint(10, 900)), REFERENCE_DATE))
            res["abatementDateTime"] = stop.isoformat()
            end = human_date(res["abatementDateTime"], self.lang)
            status = t["resolved"]
        else:
            status = t["active"]
        row = (item.html, status, human_date(onset, self.lang)) + ((end,) if resolved else ())
        self.add(res, section, row)

    def allergy(self, agent: Item) -> None:
        """An AllergyIntolerance to ``agent``, with a reaction when the catalogue has some."""
        rng = self.rng
        reaction = rng.choice(self.cat.cats["allergy_reaction"]) if self.cat.cats["allergy_reaction"] else None
        severity = (reaction.props.get("severity") if reaction else None) or "mild"
        criticality = "high" if severity == "severe" else rng.choice(("low", "low", "high"))
        _d, onset = self.onset()
        res: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": cc({"system": ALLERGY_CLINICAL, "code": "active"}),
            "verificationStatus": cc({"system": ALLERGY_VERIFICATION, "code": "confirmed"}),
            "type": agent.props.get("type") or "allergy",
            "category": [agent.props.get("category") or "medication"],
            "criticality": criticality,
            "code": cc(agent.coding, agent.text),
            "patient": {"reference": self.patient_ref},
            "onsetDateTime": onset,
        }
        if reaction is not None:
            res["reaction"] = [{"manifestation": [cc(reaction.coding, reaction.text)], "severity": severity}]
        self.add(res, "allergies", (agent.html, reaction.html if reaction else "", self.t[criticality],
                                    human_date(onset, self.lang)))

    def absent(self, kind: str, code: str) -> None:
        """The absent-or-unknown statement of a required section (allergies, medications, problems)."""
        coding = {"system": ABSENT_UNKNOWN, "code": code, "display": ABSENT_DISPLAYS[code]}
        text = self.t[code]
        if kind == "allergies":
            res: dict[str, Any] = {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": cc({"system": ALLERGY_CLINICAL, "code": "active"}),
                "code": cc(coding, text),
                "patient": {"reference": self.patient_ref},
            }
        elif kind == "medications":
            res = {
                "resourceType": "MedicationStatement",
                "status": "active" if code == "no-known-medications" else "unknown",
                "medicationCodeableConcept": cc(coding, text),
                "subject": {"reference": self.patient_ref},
                "effectiveDateTime": REFERENCE_DATE.isoformat(),
            }
        else:
            res = {
                "resourceType": "Condition",
                "clinicalStatus": cc({"system": CONDITION_CLINICAL, "code": "active"}),
                "category": [cc({"system": LOINC, "code": "75326-9", "display": "Problem"})],
                "code": cc(coding, text),
                "subject": {"reference": self.patient_ref},
            }
        self.add(res, kind, (escape(text),) + ("",) * (HEADERS_LEN[kind] - 1))

    def medication(self, item: Item) -> None:
        """A Medication and the MedicationStatement of it, with its dosage (text and structured)."""
        p = item.props
        med: dict[str, Any] = {"resourceType": "Medication", "code": cc(item.coding, item.text)}
        if p.get("dose_form"):
            med["form"] = cc({"system": EDQM, "code": p["dose_form"], "display": p.get("dose_form_display")})
        med_url = self.add(med)
        start, start_s = self.onset(REFERENCE_DATE - timedelta(days=365 * 12))
        dosage_text = p.get("dosage") or ""
        dosage: dict[str, Any] = {"text": dosage_text} if dosage_text else {}
        dosage.update(structured_dosage(p.get("dosage_en")))
        if p.get("route"):
            dosage["route"] = cc({"system": EDQM, "code": p["route"], "display": p.get("route_display")})
        res: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationReference": {"reference": med_url},
            "subject": {"reference": self.patient_ref},
            "effectivePeriod": {"start": start_s},
        }
        if dosage:
            res["dosage"] = [dosage]
        self.add(res, "medications", (item.html, escape(dosage_text), human_date(start_s, self.lang)))

    def immunization(self, item: Item, when: date, dose: int) -> None:
        """An Immunization: the vaccine, its date and dose number."""
        res = {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": cc(item.coding, item.text),
            "patient": {"reference": self.patient_ref},
            "occurrenceDateTime": when.isoformat(),
            "protocolApplied": [{"doseNumberPositiveInt": dose}],
        }
        target = item.props.get("target_disease")
        if target:
            res["protocolApplied"][0]["targetDisease"] = [cc({"system": SNOMED, "code": target})]
        self.add(res, "immunizations", (item.html, str(dose), human_date(when.isoformat(), self.lang)))

    def procedure(self, item: Item) -> None:
        """A Procedure, with its body site when the catalogue gives one."""
        _d, when = self.onset()
        res: dict[str, Any] = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": cc(item.coding, item.text),
            "subject": {"reference": self.patient_ref},
            "performedDateTime": when,
        }
        if item.props.get("body_site"):
            res["bodySite"] = [cc({"system": SNOMED, "code": item.props["body_site"]})]
        self.add(res, "procedures", (item.html, human_date(when, self.lang)))

    def device(self, item: Item) -> None:
        """A Device and the DeviceUseStatement of it."""
        dev_url = self.add({"resourceType": "Device", "type": cc(item.coding, item.text),
                            "patient": {"reference": self.patient_ref}})
        _d, when = self.onset()
        self.add({"resourceType": "DeviceUseStatement", "status": "active", "subject": {"reference": self.patient_ref},
                  "device": {"reference": dev_url}, "timingDateTime": when},
                 "devices", (item.html, human_date(when, self.lang)))

    def observation(self, section: str, category: str, item: Item, when: date, value: Any,
                    value_text: str, range_text: str = "", interp: str | None = None) -> None:
        """An Observation of ``section`` (value coded, quantity, date or components) and its narrative row."""
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [cc({"system": OBSERVATION_CATEGORY, "code": category})],
            "code": cc(item.coding, item.text),
            "subject": {"reference": self.patient_ref},
            "effectiveDateTime": when.isoformat(),
        }
        if category == "laboratory":
            res["performer"] = [{"reference": self.org_ref}]
        if isinstance(value, dict) and "coding" in value:
            res["valueCodeableConcept"] = value
        elif isinstance(value, dict) and "value" in value:
            res["valueQuantity"] = value
        elif isinstance(value, str):
            res["valueDateTime"] = value
        elif isinstance(value, list):
            res["component"] = value
        if interp:
            res["interpretation"] = [cc({"system": OBSERVATION_INTERPRETATION, "code": interp,
                                          "display": INTERP_DISPLAY[interp]})]
            if item.ref_range:
                res["referenceRange"] = item.ref_range
        self.add(res, section, (item.html, value_text, range_text, human_date(when.isoformat(), self.lang)))

    def lab(self, item: Item, when: date, bias: float) -> None:
        """A laboratory result, abnormal with probability ``bias``."""
        v = draw_value(self.rng, item, bias)
        interp = interpretation(v, item)
        self.observation("results", "laboratory", item, when, quantity(v, item), f"{v} {item.unit_html}",
                         item.range_html, interp)

    def vital(self, item: Item, when: date) -> None:
        """A vital sign, plausible for the person's age and sex on that day."""
        ident = self.ident
        code = item.coding["code"]
        age = max(0, ident["age"] - (REFERENCE_DATE.year - when.year))
        v: float | int
        if code == "29463-7":  # body weight: child growth, adult sex-dependent
            v = round(child_weight(age) if age < 18 else self.rng.gauss(80 if ident["gender"] == "male" else 66, 12), 1)
            v = max(2.5, v)
        elif code == "8302-2":
            v = int(round(child_height(age) if age < 18 else self.rng.gauss(176 if ident["gender"] == "male" else 164, 7)))
        elif code in ("8867-4", "9279-1") and age < 12:
            base = 110 if code == "8867-4" else 24
            v = int(base - age * (3 if code == "8867-4" else 0.8) + self.rng.randint(-8, 8))
        else:
            v = draw_value(self.rng, item, 0.15)
        self.observation("vital_signs", "vital-signs", item, when, quantity(v, item), f"{v} {item.unit_html}")

    def blood_pressure(self, when: date) -> None:
        """A blood pressure panel (systolic and diastolic components)."""
        sys_item, dia_item = self.cat.bp
        assert sys_item is not None and dia_item is not None
        s = draw_value(self.rng, sys_item, 0.25)
        d = min(draw_value(self.rng, dia_item, 0.2), int(s) - 25)
        panel = Item({"system": LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional"},
                      "", "", {})
        panel.text = self.t["blood_pressure"]
        panel.html = panel.text
        components = [
            {"code": cc(sys_item.coding), "valueQuantity": quantity(s, sys_item)},
            {"code": cc(dia_item.coding), "valueQuantity": quantity(d, dia_item)},
        ]
        self.observation("vital_signs", "vital-signs", panel, when, components, f"{s}/{d} mmHg")
