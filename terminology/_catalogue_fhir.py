"""FHIR R4 core code systems (``http://hl7.org/fhir/...``, not in THO) that patient summaries use for statuses,
gender and the ``when`` of a dosage timing, with the English displays of the FHIR R4 specification (CC0).
Appended to ``_catalogue_data.EXTRA``.
"""

from __future__ import annotations

_F = "http://hl7.org/fhir/"

_ERR = ("entered-in-error", "Entered in Error")
_SYSTEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "administrative-gender": (("male", "Male"), ("female", "Female"), ("other", "Other"), ("unknown", "Unknown")),
    "composition-status": (("preliminary", "Preliminary"), ("final", "Final"), ("amended", "Amended"), _ERR),
    "observation-status": (
        ("registered", "Registered"), ("preliminary", "Preliminary"), ("final", "Final"), ("amended", "Amended"),
        ("corrected", "Corrected"), ("cancelled", "Cancelled"), _ERR, ("unknown", "Unknown"),
    ),
    "diagnostic-report-status": (
        ("registered", "Registered"), ("partial", "Partial"), ("preliminary", "Preliminary"), ("final", "Final"),
        ("amended", "Amended"), ("corrected", "Corrected"), ("appended", "Appended"), ("cancelled", "Cancelled"),
        _ERR, ("unknown", "Unknown"),
    ),
    "CodeSystem/medication-statement-status": (
        ("active", "Active"), ("completed", "Completed"), _ERR, ("intended", "Intended"), ("stopped", "Stopped"),
        ("on-hold", "On Hold"), ("unknown", "Unknown"), ("not-taken", "Not Taken"),
    ),
    "CodeSystem/medicationrequest-status": (
        ("active", "Active"), ("on-hold", "On Hold"), ("cancelled", "Cancelled"), ("completed", "Completed"), _ERR,
        ("stopped", "Stopped"), ("draft", "Draft"), ("unknown", "Unknown"),
    ),
    "CodeSystem/medicationrequest-intent": (
        ("proposal", "Proposal"), ("plan", "Plan"), ("order", "Order"), ("original-order", "Original Order"),
        ("reflex-order", "Reflex Order"), ("filler-order", "Filler Order"), ("instance-order", "Instance Order"),
        ("option", "Option"),
    ),
    # Medication.status and Device.status (R4)
    "CodeSystem/medication-status": (("active", "Active"), ("inactive", "Inactive"), _ERR),
    "device-status": (("active", "Active"), ("inactive", "Inactive"), _ERR, ("unknown", "Unknown")),
    # Flag.extension flag-priority (IPS alerts)
    "flag-priority-code": (("PN", "No alarm"), ("PL", "Low priority"), ("PM", "Medium priority"), ("PH", "High priority")),
    # Immunization.status and Procedure.status (R4)
    "event-status": (
        ("preparation", "Preparation"), ("in-progress", "In Progress"), ("not-done", "Not Done"),
        ("on-hold", "On Hold"), ("stopped", "Stopped"), ("completed", "Completed"), _ERR, ("unknown", "Unknown"),
    ),
    "device-statement-status": (
        ("active", "Active"), ("completed", "Completed"), _ERR, ("intended", "Intended"), ("stopped", "Stopped"),
        ("on-hold", "On Hold"),
    ),
    # Timing.repeat.when (the v3-TimingEvent codes are in the MVC)
    "event-timing": (
        ("MORN", "Morning"), ("MORN.early", "Early Morning"), ("MORN.late", "Late Morning"), ("NOON", "Noon"),
        ("AFT", "Afternoon"), ("AFT.early", "Early Afternoon"), ("AFT.late", "Late Afternoon"), ("EVE", "Evening"),
        ("EVE.early", "Early Evening"), ("EVE.late", "Late Evening"), ("NIGHT", "Night"), ("PHS", "After Sleep"),
    ),
}

EXTRA: list[tuple[str, str, str]] = [
    (_F + system, code, display) for system, codes in _SYSTEMS.items() for code, display in codes
]
