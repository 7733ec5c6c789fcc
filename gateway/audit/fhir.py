"""Audit records as FHIR R4 ``AuditEvent`` resources, following IHE Basic Audit Log Patterns (BALP).

=====================  ==========================================  ===========================
Event                  AuditEvent type / subtype                   BALP profile
=====================  ==========================================  ===========================
patient.summary, A ok  DCM 110106 Export / iso-21089 disclose       PrivacyDisclosure.Source
patient.summary, B ok  DCM 110107 Import / iso-21089 disclose       PrivacyDisclosure.Recipient
patient.summary fail   audit-event-type rest / operation            (FHIR core "access denied")
patient.identify       audit-event-type rest / search-type          PatientQuery (Query w/o patient)
auth.login/logout      DCM 110114 User Authentication / 110122-3    -
auth.token             DCM 110114 User Authentication / 110122      -
patient.consent        DCM 110110 Patient Record                    -
audit.*                DCM 110101 Audit Log Used                    -
admin.*                DCM 110100 Application Activity              -
api.request            audit-event-type rest                        -
=====================  ==========================================  ===========================

Every event also carries the ncpeh event code as a subtype, the X-Request-ID as a BALP
``XrequestId`` entity (the join key between both sides) and the chain position and hashes.

Privacy deviation from BALP Query: ``entity[query].query`` holds the search with its *values
withheld* (``identifier=*&family=*``), never the raw query, which would carry names and birth dates.
"""

from __future__ import annotations

import base64
from typing import Any

from gateway.audit import events
from gateway.audit.chain import AuditEntry
from gateway.audit.events import Outcome

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
BALP = "https://profiles.ihe.net/ITI/BALP"
BALP_ENTITY_TYPE = f"{BALP}/CodeSystem/BasicAuditEntityType"
NCPEH_EVENT = "http://ncpeh.example.eu/fhir/CodeSystem/ncpeh-audit-event"
NCPEH_COUNTRY = "http://ncpeh.example.eu/fhir/NamingSystem/ncpeh-country"
NCPEH_CLIENT = "http://ncpeh.example.eu/fhir/NamingSystem/partner-client"
NCPEH_ACTOR = "http://ncpeh.example.eu/fhir/NamingSystem/ncpeh-actor"
NCPEH_CHAIN = "http://ncpeh.example.eu/fhir/CodeSystem/ncpeh-audit-chain"
ISCO_08 = "urn:oid:2.16.840.1.113883.2.9.6.2.7"
#: eHDSI purposes of use -> HL7 v3 ActReason.
PURPOSES = {"TREATMENT": ("TREAT", "treatment"), "EMERGENCY": ("ETREAT", "Emergency Treatment")}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _ncpeh(code: str | None) -> dict[str, Any]:
    return {"identifier": {"system": NCPEH_COUNTRY, "value": code or "unknown"}, "display": f"NCPeH {code or '?'}"}


def _purpose(entry: AuditEntry) -> list[dict[str, Any]]:
    if not entry.purpose:
        return []
    code, display = PURPOSES.get(entry.purpose, (entry.purpose, None))
    concept: dict[str, Any] = {"coding": [_coding(ACT_REASON, code, display)]}
    if code != entry.purpose:
        concept["text"] = entry.purpose
    return [concept]


def _network(address: str | None, kind: str) -> dict[str, Any] | None:
    return {"address": address, "type": kind} if address else None


def _type_and_profile(entry: AuditEntry) -> tuple[dict, list[dict], str | None, str]:
    """(type, subtypes, BALP profile or None, action)."""
    ok = entry.outcome == Outcome.SUCCESS
    event = entry.event
    if event == events.SUMMARY:
        if ok and entry.side == events.RESPONDING:
            return (_coding(DCM, "110106", "Export"),
                    [_coding(LIFECYCLE, "disclose", "Disclose Record Lifecycle Event"),
                     _coding(RESTFUL, "operation", "operation")],
                    f"{BALP}/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source", "R")
        if ok and entry.side == events.REQUESTING:
            return (_coding(DCM, "110107", "Import"),
                    [_coding(LIFECYCLE, "disclose", "Disclose Record Lifecycle Event")],
                    f"{BALP}/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Recipient", "C")
        return _coding(EVENT_TYPE, "rest", "Restful Operation"), [_coding(RESTFUL, "operation")], None, "E"
    if event == events.IDENTIFY:
        profile = "PatientQuery" if entry.patient_id else "Query"
        return (_coding(EVENT_TYPE, "rest", "Restful Operation"), [_coding(RESTFUL, "search-type", "search type")],
                f"{BALP}/StructureDefinition/IHE.BasicAudit.{profile}" if ok else None, "E")
    if event in (events.LOGIN, events.TOKEN):
        return _coding(DCM, "110114", "User Authentication"), [_coding(DCM, "110122", "Login")], None, "E"
    if event == events.LOGOUT:
        return _coding(DCM, "110114", "User Authentication"), [_coding(DCM, "110123", "Logout")], None, "E"
    if event == events.CONSENT:
        return _coding(DCM, "110110", "Patient Record"), [], None, entry.action
    if event in (events.ACCESS_HISTORY, events.EXPORT):
        return _coding(DCM, "110101", "Audit Log Used"), [], None, "R"
    if event.startswith(events.ADMIN_PREFIX):
        return _coding(DCM, "110100", "Application Activity"), [], None, entry.action
    return _coding(EVENT_TYPE, "rest", "Restful Operation"), [], None, entry.action


def _actor(entry: AuditEntry) -> dict[str, Any]:
    """The person or software that asked (requestor)."""
    system = {events.ACTOR_CLIENT: NCPEH_CLIENT, events.ACTOR_PATIENT_PORTAL: NCPEH_CLIENT,
              events.ACTOR_NCPEH: NCPEH_COUNTRY}.get(entry.actor_type, f"{NCPEH_ACTOR}/{entry.actor_type}")
    value = entry.actor_id or "unknown"
    if entry.actor_type == events.ACTOR_NCPEH and value.startswith("NCPeH-"):
        value = value[len("NCPeH-"):]
    agent: dict[str, Any] = {
        "type": {"coding": [_coding(PARTICIPATION, "IRCP", "information recipient")], "text": entry.actor_type},
        "who": {"identifier": {"system": system, "value": value}},
        "requestor": True,
    }
    if entry.actor_role:
        agent["role"] = [{"coding": [_coding(ISCO_08, entry.actor_role)]}]
    if entry.purpose:
        agent["purposeOfUse"] = _purpose(entry)
    return agent


def _agents(entry: AuditEntry, own_url: str | None) -> list[dict[str, Any]]:
    us = {**_ncpeh(entry.recorder)}
    peer = _ncpeh(entry.peer_country)
    caller_network = _network(entry.network, "2")  # IP address
    own_network = _network(own_url, "5")  # URI
    agents: list[dict[str, Any]] = []

    def add(code: str, display: str, who: dict, network: dict | None) -> None:
        agent: dict[str, Any] = {"type": {"coding": [_coding(DCM, code, display)]}, "who": who, "requestor": False}
        if network:
            agent["network"] = network
        agents.append(agent)

    if entry.side == events.RESPONDING:
        if entry.event == events.SUMMARY and entry.outcome == Outcome.SUCCESS:
            add("110153", "Source Role ID", us, own_network)  # disclosure: we release...
            add("110152", "Destination Role ID", peer, caller_network)  # ...to the requesting NCPeH
        else:
            add("110153", "Source Role ID", peer, caller_network)  # query pattern: client...
            add("110152", "Destination Role ID", us, own_network)  # ...and server
    elif entry.side == events.REQUESTING:
        if entry.event == events.SUMMARY and entry.outcome == Outcome.SUCCESS:
            add("110153", "Source Role ID", peer, None)  # disclosure: the patient's NCPeH released...
            add("110152", "Destination Role ID", us, own_network)  # ...to us
        else:
            add("110153", "Source Role ID", us, own_network)
            add("110152", "Destination Role ID", peer, None)
    else:
        add("110152", "Destination Role ID", us, own_network)
    actor = _actor(entry)
    if caller_network and entry.side is None and entry.actor_type in (events.ACTOR_CLIENT,
                                                                      events.ACTOR_PATIENT_PORTAL):
        actor["network"] = caller_network  # software is a network device; people are not (BALP)
    agents.append(actor)
    if entry.organisation:
        agents.append({
            "type": {"coding": [_coding(ROLE_CLASS, "PROV", "healthcare provider")]},
            "who": {"identifier": {"value": entry.organisation}},
            "requestor": False,
        })
    return agents


def _entities(entry: AuditEntry) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    detail = entry.detail
    if entry.patient_id:
        entities.append({
            "what": {"reference": f"Patient/{entry.patient_id}"},
            "type": _coding(ENTITY_TYPE, "1", "Person"),
            "role": _coding(OBJECT_ROLE, "1", "Patient"),
        })
    if entry.request_id:
        entities.append({
            "what": {"identifier": {"value": entry.request_id}},
            "type": _coding(BALP_ENTITY_TYPE, "XrequestId"),
        })
    if entry.event == events.IDENTIFY:
        params = detail.get("parameters") or []
        withheld = "&".join(f"{name}=*" for name in params)
        query: dict[str, Any] = {
            "type": _coding(ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "24", "Query"),
            "query": base64.b64encode(f"Patient?{withheld}".encode()).decode(),
            "description": "search parameters given (values withheld)",
        }
        if "matches" in detail:
            query["detail"] = [{"type": "matches", "valueString": str(detail["matches"])}]
        entities.append(query)
    if entry.event == events.SUMMARY and (detail.get("document_id") or detail.get("document_sha256")):
        doc: dict[str, Any] = {
            "what": {"identifier": {"value": str(detail.get("document_id") or detail.get("document_sha256"))}},
            "type": _coding(ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "3", "Report"),
        }
        doc_detail = [{"type": key, "valueString": str(detail[key])}
                      for key in ("document_sha256", "summary_version") if detail.get(key) is not None]
        if doc_detail:
            doc["detail"] = doc_detail
        entities.append(doc)
    if entry.event == events.CONSENT:
        entities.append({
            "type": {"system": "http://hl7.org/fhir/resource-types", "code": "Consent"},
            "detail": [{"type": "consent", "valueString": str(detail.get("consent"))}],
        })
    others = {k: v for k, v in detail.items()
              if k not in ("parameters", "matches", "document_id", "document_sha256", "summary_version", "consent")}
    chain = [{"type": "seq", "valueString": str(entry.seq)},
             {"type": "prev_hash", "valueString": entry.prev_hash},
             {"type": "hash", "valueString": entry.hash}]
    chain += [{"type": key, "valueString": str(value)} for key, value in sorted(others.items())]
    entities.append({"type": _coding(NCPEH_CHAIN, "record", "ncpeh audit record"),
                     "what": {"identifier": {"value": entry.uuid}}, "detail": chain})
    return entities


def to_fhir(entry: AuditEntry, own_url: str | None = None) -> dict[str, Any]:
    """The record as a FHIR R4 AuditEvent (plain dict). ``own_url``: this NCPeH's base URL."""
    type_, subtypes, profile, action = _type_and_profile(entry)
    resource: dict[str, Any] = {"resourceType": "AuditEvent", "id": entry.uuid}
    if profile:
        resource["meta"] = {"profile": [profile]}
    resource.update({
        "type": type_,
        "subtype": [*subtypes, _coding(NCPEH_EVENT, entry.event)],
        "action": action,
        "recorded": entry.recorded,
        "outcome": entry.outcome,
    })
    if entry.outcome != Outcome.SUCCESS:
        resource["outcomeDesc"] = entry.outcome_code or Outcome.label(entry.outcome)
    purpose = _purpose(entry)
    if purpose:
        resource["purposeOfEvent"] = purpose
    resource["agent"] = _agents(entry, own_url)
    resource["source"] = {
        "site": f"NCPeH-{entry.recorder}",
        "observer": {**_ncpeh(entry.recorder), "display": f"ncpeh-gateway {entry.recorder} ({entry.listener})"},
        "type": [_coding(SOURCE_TYPE, "4", "Application Server")],
    }
    resource["entity"] = _entities(entry)
    return resource
