"""What the portal's summary page and PDF cost at country B, against the partner API's ``$summary``.

    .venv/bin/python benchmarks/portal_bench.py [--patients 3] [--repeat 5] [--size typical]

France (A) and Germany (B) run as real gunicorn servers (``gateway.server.demo.Topology``, HTTPS on
127.0.0.1); France is seeded with synthetic patients of one summary size. For each patient, in turn:

* partner API: ``GET /fhir/Patient/<id>/$summary`` as German partner software (OAuth token and clinician
  assertion), once cold (first request of that document) and ``--repeat`` times warm;
* portal: a German physician (the demo account, password and TOTP) searches, confirms and declares, then
  opens the summary page once cold (A asked, translated, view model built) and ``--repeat`` times warm,
  then downloads the PDF once cold (built) and ``--repeat`` times warm.

Each patient is asked through one surface only (partner API for even patients, portal for odd ones) so that
every "cold" figure really is cold. Requests are sequential; the figure is the CPU time of Germany's public
listener processes (user + system, from /proc) per request, in milliseconds (France's work is not counted),
and the wall time seen by the client. Figures on a shared machine move with its load: compare within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
import requests  # noqa: E402

from benchmarks.crossborder_bench import SIZES, Clients, free_ports  # noqa: E402
from gateway import storage  # noqa: E402
from gateway.records.synthetic import generate_patient  # noqa: E402
from gateway.server.demo import Topology  # noqa: E402
from gateway.services.population import record_from_document  # noqa: E402

_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def seed(topo: Topology, count: int, size: str) -> list[dict[str, str]]:
    """``count`` French patients of ``size``: their search traits and local id at B."""
    cfg = topo.configs["FR"]
    store = storage.open_store(cfg.database_path)
    out = []
    try:
        records = []
        for index in range(count):
            _traits, doc = generate_patient("FR", 700_000 + index, 7, size=size)
            records.append(record_from_document(doc, cfg))
        store.records.save_records(records)
        for record in records:
            patient = store.records.find_by_identifier(record.identifier_system, record.identifier_value)
            out.append({"id": "fr-" + patient.id, "identifier": record.identifier_value, "family": record.family,
                        "given": record.given.split()[0], "birthdate": record.birthdate, "gender": record.gender})
    finally:
        store.close()
    return out


class CpuOf:
    """CPU seconds used so far by the processes of one listener (its gunicorn master and workers: the
    master leads their session)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids, self.tick = set(pids), os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float:
        total = 0.0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) in self.pids:
                total += (int(fields[11]) + int(fields[12])) / self.tick
        return total


def measured(cpu: CpuOf, call, times: int = 1) -> tuple[float, float]:  # noqa: ANN001 - a callable
    """(CPU ms at B per call, wall ms per call) of ``times`` calls of ``call`` (which checks its answer)."""
    before, started = cpu(), time.perf_counter()
    for _ in range(times):
        call()
    return (cpu() - before) * 1000 / times, (time.perf_counter() - started) * 1000 / times


class Portal:
    """A German physician's browser: the forms' hidden fields (CSRF token, one-time nonce) sent back."""

    def __init__(self, topo: Topology) -> None:
        cfg = topo.configs["DE"]
        self.base = cfg.public.url
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = str(cfg.certs.ca_cert)
        account = next(a for a in json.loads((cfg.data_dir / "demo-users.json").read_text())["accounts"]
                       if a["username"] == "physician")
        page = self.post(self.get("/signin"), "/signin", username="physician", password=account["password"])
        if "totp_secret" in account:
            page = self.post(page, "/signin/code", code=pyotp.TOTP(account["totp_secret"]).now())
        assert page.url.rstrip("/") == self.base, (page.status_code, page.url)

    def get(self, path: str) -> requests.Response:
        resp = self.http.get(self.base + path, timeout=60)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
        return resp

    @staticmethod
    def hidden(page: requests.Response, action: str) -> dict[str, str]:
        """The hidden fields of the form of ``page`` posting to ``action``."""
        form = page.text[page.text.index(f'action="{action}"'):]
        form = form[:form.index("</form>")]
        attrs = [dict(_ATTR.findall(tag)) for tag in _HIDDEN.findall(form)]
        return {a["name"]: a.get("value", "") for a in attrs if "name" in a}

    def post(self, page: requests.Response, action: str, **values: str) -> requests.Response:
        resp = self.http.post(self.base + action, data={**self.hidden(page, action), **values},
                              headers={"Referer": page.url}, timeout=60)
        assert resp.status_code == 200, (action, resp.status_code, resp.text[:300])
        return resp

    def choose(self, patient: dict[str, str]) -> None:
        """Search, confirm, declare: up to the summary, not asked yet."""
        traits = {k: patient[k] for k in ("identifier", "family", "given", "birthdate", "gender")}
        page = self.post(self.get("/search/FR"), "/search/FR", **traits)
        assert page.url.endswith("/patient"), page.text[:500]
        page = self.post(page, "/patient", identity="confirmed", notice="accepted")
        resp = self.http.post(self.base + "/declare", data={**self.hidden(page, "/declare"),
                                                            "relationship": "declared", "purpose": "TREATMENT"},
                              headers={"Referer": page.url}, timeout=60, allow_redirects=False)
        assert resp.status_code == 302, (resp.status_code, resp.text[:300])

    def summary(self) -> None:
        assert "<h1" in self.get("/summary").text

    def pdf(self) -> None:
        assert self.get("/summary.pdf").content.startswith(b"%PDF-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=3, help="patients per surface")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per patient and kind")
    parser.add_argument("--size", choices=SIZES, default="typical")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="ncpeh-portal-bench-"))
    ports = free_ports(4)
    topo = Topology(["FR", "DE"], home, {"FR": (ports[0], ports[1]), "DE": (ports[2], ports[3])},
                    env={"NCPEH_LOG_LEVEL": "warning"})
    topo.prepare(patients=0)
    patients = seed(topo, 2 * args.patients, args.size)
    rows: dict[str, list[tuple[float, float]]] = {}
    try:
        topo.start()
        cpu = CpuOf([proc.pid for name, proc in topo.processes if name == "DE public"])
        partner = Clients(topo, partner=True).get(1)[0]
        portal = Portal(topo)
        for number, patient in enumerate(patients):
            if number % 2 == 0:
                url = f"{topo.configs['DE'].public.url}/fhir/Patient/{patient['id']}/$summary"

                def api(url: str = url) -> None:
                    resp = partner.get(url, timeout=60)
                    assert resp.status_code == 200 and b'"document"' in resp.content, resp.text[:300]

                rows.setdefault("partner API $summary, cold", []).append(measured(cpu, api))
                rows.setdefault("partner API $summary, warm", []).append(measured(cpu, api, args.repeat))
            else:
                portal.choose(patient)
                rows.setdefault("portal summary page, cold", []).append(measured(cpu, portal.summary))
                rows.setdefault("portal summary page, warm", []).append(measured(cpu, portal.summary, args.repeat))
                rows.setdefault("portal PDF, cold", []).append(measured(cpu, portal.pdf))
                rows.setdefault("portal PDF, warm", []).append(measured(cpu, portal.pdf, args.repeat))
    finally:
        topo.stop()
    print(f"summary size {args.size}; {args.patients} patients per surface, {args.repeat} warm requests each; "
          f"CPU of Germany's public listener per request (median and mean over patients: the kernel counts CPU "
          f"time in clock ticks, {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms here, so one cold request reads as a "
          f"multiple of it and only the mean of several is finer), wall time at the client (median)")
    for label, values in rows.items():
        cpu_ms = statistics.median(v[0] for v in values)
        cpu_mean = statistics.fmean(v[0] for v in values)
        wall_ms = statistics.median(v[1] for v in values)
        print(f"  {label:<30} CPU {cpu_ms:8.1f} ms (mean {cpu_mean:6.1f})   wall {wall_ms:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
