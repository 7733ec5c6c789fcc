"""Consent, error format and response time."""

from __future__ import annotations

import statistics

from gateway.conformance.catalogue import Fail, Skip, check
from gateway.conformance.client import expect_refusal
from gateway.conformance.kit import Kit

FHIR_ERRORS = "FHIR R4 RESTful API (OperationOutcome on errors)"


@check("CONSENT-REFUSED", "consent", "$summary of a patient who opposed cross-border access is refused (403) with an "
       "OperationOutcome", "eHDSI Patient Consent (opt-out honoured by the country of affiliation)")
def consent_refused(kit: Kit) -> str:
    patient_id = kit.identify("opposed")
    resp = kit.summary_call(patient_id)
    if resp.status == 200:
        raise Fail("the summary of a patient who opposed was released")
    return expect_refusal(resp, (403,), "the summary of a patient who opposed")


@check("ERR-UNKNOWN-ROUTE", "errors", "A request for an unknown resource type is answered 404 with an OperationOutcome",
       FHIR_ERRORS)
def unknown_route(kit: Kit) -> str:
    resp = kit.call("/ConformanceKitUnknownType", hcp=kit.hcp())
    return expect_refusal(resp, (400, 404), "an unknown resource type")


@check("ERR-WWW-AUTHENTICATE", "errors", "A 401 refusal names its scheme in WWW-Authenticate", "RFC 6750; RFC 9110",
       severity="warning")
def www_authenticate(kit: Kit) -> str:
    resp = kit.call("/Patient", kit.settings.patient or None)
    if resp.status != 401:
        raise Skip(f"the request without an assertion was answered {resp.status}, not 401")
    if not resp.headers.get("www-authenticate"):
        raise Fail("401 without WWW-Authenticate")
    return f"WWW-Authenticate: {resp.headers['www-authenticate'][:100]}"


@check("PERF-SUMMARY-P50", "performance", "Response time of $summary: the median (p50) of N calls, reported "
       "(no threshold)", "eHDSI operations (informational)", severity="warning")
def summary_p50(kit: Kit) -> str:
    patient_id = kit.identify()
    times = []
    for _ in range(max(1, kit.settings.calls)):
        resp = kit.summary_call(patient_id)
        if resp.status != 200:
            raise Fail(f"a $summary call answered {resp.describe()}")
        times.append(resp.elapsed * 1000)
    times.sort()
    return (f"p50 {statistics.median(times):.1f} ms over {len(times)} calls (min {times[0]:.1f}, max {times[-1]:.1f}; "
            "each on a new TLS connection)")
