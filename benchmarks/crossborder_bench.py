"""Cross-border ``$summary`` benchmark: the real chain against a pass-through relay, in the same run.

    make bench                                   # or:
    .venv/bin/python benchmarks/crossborder_bench.py [--duration 5] [--rounds 4] [--concurrency 1,4,16]

What it does:

1. Creates a throw-away home (demo PKI, signed trust list, databases) and seeds France with synthetic
   patients whose summaries are small, typical and large (about 10, 50 and 180 entries).
2. Starts France and Germany as gunicorn processes (public and NCPeH listeners, mutual TLS between
   the NCPeHs, on 127.0.0.1) with ``gateway.server.demo.Topology``, and the pass-through relay of
   ``benchmarks/relay.py`` (B forwards, A returns the stored bytes) with the same certificates and
   worker settings.
3. Per-stage breakdown: sequential ``$summary`` calls on patients never requested before (cold:
   country A's release cache and country B's translation cache miss, so transcoding, parsing,
   translation and serialisation are really done), then the same calls again (warm), timed by the
   product itself (``Server-Timing`` header, country A's figures passed on by B as ``peer-*``),
   plus one identification call.
4. Load: German partner software (OAuth token + ``X-Clinician-Assertion``, one keep-alive session
   per client thread) asks for French summaries at each concurrency, for each size; the relay is
   driven the same way right before or after each case (the order alternates between rounds; each
   round's ratio is taken on its own pair, and the median over the rounds is reported). Every
   patient is requested once before (warm caches: the cold cost is in the breakdown). The partner
   client's rate limit is raised for the run (the limiter's bucket update stays on the path; its
   429s would otherwise be what is measured).
5. Prints p50/p95/p99 latency, throughput (successful answers per second), errors and the ratio to
   the relay; writes ``benchmarks/results/latest.json`` and ``benchmarks/results/latency.png``.

The load generator runs in this process, on the same machine as the four servers: on a small
machine its CPU use is part of what is measured (for product and relay alike). The CPU used by
other processes of the machine during each case is recorded (``other_cpu_cores``) and printed: on
a shared machine it says how much the figures were disturbed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from gateway import storage  # noqa: E402
from gateway.records.synthetic import generate_patient  # noqa: E402
from gateway.security import assertions  # noqa: E402
from gateway.security.assertions import Clinician  # noqa: E402
from gateway.security.pki import load_private_key  # noqa: E402
from gateway.server.demo import Topology  # noqa: E402
from gateway.services.population import record_from_document  # noqa: E402
from gateway.timing import HEADER as TIMING_HEADER  # noqa: E402
from gateway.timing import parse as parse_timing  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SIZES = ("small", "typical", "large")
CLINICIAN = Clinician(id="de-lanr-123456789", name="Dr. Anna Schmidt", role="221", organisation="Klinikum Demo",
                      organisation_id="urn:oid:1.2.276.0.76.4.8.999", language="de")
#: Sessions are renewed between cases when older than this (access tokens live 300 s).
SESSION_MAX_AGE = 200.0
TARGET_P50_RATIO = 2.0
#: Partner rate limit during the run (requests per minute and burst): far above what the machine serves.
RATE_LIMIT = 1_000_000
TARGET_THROUGHPUT_RATIO = 0.5


def free_ports(count: int) -> list[int]:
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
    ports = [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()
    return ports


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = pct / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- set-up ----------------------------------------------------------------------------------------


def seed(topo: Topology, per_size: int, seed_value: int) -> dict[str, dict]:
    """Store ``per_size`` French patients per summary size; returns {size: {"ids": [...], "entries": n}}."""
    cfg = topo.configs["FR"]
    store = storage.open_store(cfg.database)
    out: dict[str, dict] = {}
    try:
        for number, size in enumerate(SIZES):
            records, entries = [], []
            for index in range(per_size):
                _traits, doc = generate_patient("FR", 100_000 * (number + 1) + index, seed_value, size=size)
                record = record_from_document(doc, cfg)
                records.append(record)
                entries.append(record.entries)
            store.records.save_records(records)
            ids = []
            for record in records:
                patient = store.records.find_by_identifier(record.identifier_system, record.identifier_value)
                ids.append("fr-" + patient.id)
            sizes = [len(r.document) for r in records]
            out[size] = {"ids": ids, "entries": round(statistics.fmean(entries), 1),
                         "stored_bytes": round(statistics.fmean(sizes))}
        one = records[0]  # a patient to identify (the last size's first)
        out["_identify"] = {"identifier": one.identifier_value, "family": one.family,
                            "given": one.given.split()[0], "birthdate": one.birthdate, "gender": one.gender}
    finally:
        store.close()
    return out


@dataclass
class Relay:
    topo: Topology
    ports: tuple[int, int]  # (b, a)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports[0]}"

    def start(self) -> None:
        fr, de = self.topo.configs["FR"], self.topo.configs["DE"]
        script = str(Path(__file__).with_name("relay.py"))
        assert self.topo.log_dir is not None
        for role, cfg, port, extra in (("a", fr, self.ports[1], []),
                                       ("b", de, self.ports[0], ["--upstream", f"https://127.0.0.1:{self.ports[1]}"])):
            log = open(self.topo.log_dir / f"relay-{role}.log", "ab")  # noqa: SIM115 - closed below
            self.processes.append(subprocess.Popen(
                [sys.executable, script, role, "--country", cfg.code, "--port", str(port), *extra],
                env=self.topo.process_env(cfg), stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
        deadline = time.monotonic() + 30
        for port, cert in ((self.ports[1], (str(de.certs.client_cert), str(de.certs.client_key))), (self.ports[0], None)):
            while True:
                try:
                    if requests.get(f"https://127.0.0.1:{port}/_status", verify=str(fr.certs.ca_cert), cert=cert,
                                    timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                    raise SystemExit(f"relay did not start (logs in {self.topo.log_dir})")
                time.sleep(0.2)

    def stop(self) -> None:
        import signal

        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Clients:
    """One keep-alive session per client thread, as partner software of Germany (or plain, for the relay)."""

    def __init__(self, topo: Topology, partner: bool) -> None:
        self.topo, self.partner = topo, partner
        self.sessions: list[tuple[float, requests.Session]] = []
        self.creds = json.loads((topo.configs["DE"].data_dir / "partner-client.json").read_text())
        self.key = load_private_key(Path(self.creds["clinician_signing_key"])) if partner else None

    def _new(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.topo.configs["DE"].certs.ca_cert)
        if self.partner:
            resp = session.post(self.creds["token_url"], data={"grant_type": "client_credentials"},
                                auth=(self.creds["client_id"], self.creds["client_secret"]), timeout=30)
            resp.raise_for_status()
            session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
            session.headers["X-Clinician-Assertion"] = assertions.clinician_assertion(
                self.key, self.creds["client_id"], self.creds["fhir_base"], CLINICIAN, "TREATMENT", lifetime=900)
        return session

    def get(self, count: int) -> list[requests.Session]:
        now = time.monotonic()
        for i, (born, session) in enumerate(self.sessions):
            if now - born > SESSION_MAX_AGE:
                session.close()
                self.sessions[i] = (time.monotonic(), self._new())
        while len(self.sessions) < count:
            self.sessions.append((time.monotonic(), self._new()))
        return [s for _, s in self.sessions[:count]]


# --- measuring -------------------------------------------------------------------------------------


class CpuMeter:
    """CPU time used by the whole machine and by this benchmark: this process (the client) and every
    process of the sessions it started (the gunicorn masters and workers of both countries and of the
    relay), per session label (``DE public``, ``FR ncp``, ``relay b``...)."""

    def __init__(self) -> None:
        self.sessions: dict[int, str] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> tuple[float, float, dict[str, float]]:
        """(monotonic time, busy CPU seconds of the machine, {label: CPU seconds}) with label
        ``client`` for this process."""
        try:
            values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except OSError:
            return time.monotonic(), float("nan"), {}
        busy = (sum(values) - values[3] - values[4]) / self.tick  # all but idle and iowait
        ours: dict[str, float] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            label = "client" if int(entry.name) == os.getpid() else self.sessions.get(int(fields[3]))
            if label:
                ours[label] = ours.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return time.monotonic(), busy, ours

    @staticmethod
    def usage(before: tuple[float, float, dict[str, float]], after: tuple[float, float, dict[str, float]],
              requests: int) -> dict[str, float]:
        """``other_cpu_cores``: cores' worth of CPU used by the rest of the machine between the two
        samples; ``cpu_ms_per_request``: {label: CPU milliseconds per answered request}."""
        wall = after[0] - before[0]
        spent = {k: v - before[2].get(k, 0.0) for k, v in after[2].items()}
        other = max(0.0, ((after[1] - before[1]) - sum(spent.values())) / wall) if wall > 0 else float("nan")
        per_request = {k: round(v * 1000 / requests, 2) for k, v in sorted(spent.items()) if v > 0} if requests else {}
        return {"other_cpu_cores": other, "cpu_ms_per_request": per_request}


CPU = CpuMeter()


def fetch(session: requests.Session, url: str) -> tuple[bool, str]:
    try:
        resp = session.get(url, timeout=30)
    except requests.RequestException as exc:
        return False, type(exc).__name__
    if resp.status_code != 200:
        return False, f"HTTP {resp.status_code}"
    if b'"document"' not in resp.content[:4096] and b'"document"' not in resp.content:
        return False, "not a document Bundle"
    return True, ""


def run_case(base: str, ids: list[str], sessions: list[requests.Session], duration: float,
             warmup: float) -> dict:
    """``len(sessions)`` client threads asking in turn for the summaries of ``ids`` during ``warmup +
    duration`` seconds; only requests started after the warm-up count."""
    lock = threading.Lock()
    turn = [0]
    samples: list[tuple[float, float, bool, str]] = []
    start = time.perf_counter()
    measure_from, end = start + warmup, start + warmup + duration

    def client(session: requests.Session) -> None:
        local = []
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                break
            with lock:
                pid = ids[turn[0] % len(ids)]
                turn[0] += 1
            ok, why = fetch(session, f"{base}/fhir/Patient/{pid}/$summary")
            local.append((t0, time.perf_counter(), ok, why))
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_before = CPU.sample()
    for thread in threads:
        thread.join()
    cpu_after = CPU.sample()
    measured = [s for s in samples if s[0] >= measure_from]
    window = max(s[1] for s in measured) - measure_from if measured else duration
    latencies = [(s[1] - s[0]) * 1000 for s in measured]
    errors: dict[str, int] = {}
    for s in measured:
        if not s[2]:
            errors[s[3]] = errors.get(s[3], 0) + 1
    succeeded = len(measured) - sum(errors.values())
    return {
        "requests": len(measured),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "throughput_rps": succeeded / window if window > 0 else 0.0,  # successful answers only
        **CpuMeter.usage(cpu_before, cpu_after, len(measured)),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
        "_latencies": latencies,
    }


#: Stages in the order of the breakdown table: (Server-Timing name, side, what it is).
STAGES = [
    ("auth", "B", "authentication: partner access token (ES256), client lookup, rate limit"),
    ("rate-limit", "B", "  of which: the client's rate-limit bucket (SQLite)"),
    ("clinician", "B", "clinician assertion verification (ES256)"),
    ("db-open", "B", "database connection"),
    ("sign", "B", "TRC assertion signing (ES256); the HCP once per clinician session"),
    ("peer-db-open", "A", "database connection"),
    ("peer-verify", "A", "TRC verification (ES256), replay cache, policy; the HCP once per session"),
    ("peer-hcp-signature", "A", "  of which: HCP signature (only when not verified before)"),
    ("peer-replay", "A", "  of which: replay-cache writes"),
    ("peer-identify", "A", "identification (identification call)"),
    ("peer-store", "A", "store read (patient, summary; the document itself only when not released yet)"),
    ("peer-transcode", "A", "transcoding on release (warm: the cached release, by content digest)"),
    ("peer-serialise", "A", "serialisation"),
    ("peer-audit", "A", "audit record (committed before the answer)"),
    ("peer-other", "A", "Flask, request id, headers (rest of A's application time)"),
    ("network-ab", "B-A", "network B<->A: mutual TLS, gunicorn at A, WSGI (peer - peer-app)"),
    ("parse", "B", "parsing A's answer"),
    ("translate", "B", "translation into the clinician's language (warm: digest + cached translation)"),
    ("serialise", "B", "serialisation"),
    ("audit", "B", "audit record (committed before the answer)"),
    ("other", "B", "Flask, request id, headers (rest of B's application time)"),
    ("network-client", "client-B", "network client<->B: TLS, gunicorn at B, WSGI, client (latency - app)"),
]


def breakdown(base: str, session: requests.Session, ids: list[str], identify_params: dict | None = None) -> dict:
    """Median per stage over sequential calls (each a patient not requested before)."""
    rows: list[dict[str, float]] = []
    for pid in ids:
        url = f"{base}/fhir/Patient/{pid}/$summary" if identify_params is None else f"{base}/fhir/Patient"
        started = time.perf_counter()
        resp = session.get(url, params=identify_params, timeout=30)
        latency = (time.perf_counter() - started) * 1000
        resp.raise_for_status()
        st = parse_timing(resp.headers.get(TIMING_HEADER))
        st["latency"] = latency
        st["network-ab"] = st.get("peer", 0.0) - st.get("peer-app", 0.0)
        st["network-client"] = latency - st.get("app", 0.0)
        a_known = sum(st.get(f"peer-{n}", 0.0) for n in ("db-open", "verify", "identify", "store", "transcode",
                                                         "serialise", "audit"))
        st["peer-other"] = st.get("peer-app", 0.0) - a_known
        b_known = sum(st.get(n, 0.0) for n in ("auth", "clinician", "db-open", "sign", "peer", "parse", "translate",
                                               "serialise", "audit"))
        st["other"] = st.get("app", 0.0) - b_known
        rows.append(st)
    names = sorted({k for r in rows for k in r})
    return {name: statistics.median(r.get(name, 0.0) for r in rows) for name in names} | {"samples": len(rows)}


# --- output ----------------------------------------------------------------------------------------


def print_breakdown(cold: dict[str, dict], warm: dict[str, dict]) -> None:
    sizes = [s for s in SIZES if s in cold]
    print("\nWhere the time goes: one $summary request, median of sequential calls, milliseconds")
    print("(timed by the product: Server-Timing; country A's figures passed on by B as peer-*;")
    print(" cold: first request of each document, warm: the same requests again)")
    head = f"{'stage':<16} {'side':<9}" + "".join(f"{s + ' ' + t:>15}" for s in sizes for t in ("cold", "warm")) + "  what"
    print(head)
    print("-" * len(head))
    for name, side, what in STAGES:
        values = [f.get(name) for s in sizes for f in (cold[s], warm[s])]
        if name == "peer-identify":
            values = [cold.get("_identify", {}).get(name)] + [None] * (2 * len(sizes) - 1)
        if all(v is None for v in values):
            continue
        cells = "".join(f"{v:>15.2f}" if v is not None else f"{'':>15}" for v in values)
        print(f"{name:<16} {side:<9}{cells}  {what}")
    print(f"{'total latency':<26}" + "".join(f"{f['latency']:>15.2f}" for s in sizes for f in (cold[s], warm[s])))


def paired_ratios(product: list[dict], relay: list[dict]) -> dict:
    """Product-to-relay ratios of p50 latency and throughput: the median over the rounds of each
    round's ratio (product and relay measured back to back, in alternating order), so that a drift of
    the machine's speed between rounds (a shared VM) weighs on both sides of each ratio alike."""
    rounds = [{"p50_ratio": round(p["p50_ms"] / r["p50_ms"], 3),
               "throughput_ratio": round(p["throughput_rps"] / r["throughput_rps"], 3)}
              for p, r in zip(product, relay, strict=True) if r["p50_ms"] > 0 and r["throughput_rps"] > 0]
    if not rounds:
        return {"p50_ratio": float("nan"), "throughput_ratio": float("nan"), "rounds": []}
    return {"p50_ratio": round(statistics.median(x["p50_ratio"] for x in rounds), 2),
            "throughput_ratio": round(statistics.median(x["throughput_ratio"] for x in rounds), 2),
            "rounds": rounds}


def print_table(cases: list[dict]) -> None:
    print("\nLoad: cross-border $summary through DE's partner API (product) and through the relay (floor)")
    print("(req/s: successful answers per second; other CPU: cores used by the rest of the machine meanwhile;")
    print(" x relay: median over the rounds of each round's ratio, product and relay measured back to back)")
    head = (f"{'size':<8} {'conc':>4} {'target':<8} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'req/s':>8} {'other CPU':>9} {'p50 x relay':>11} {'req/s x relay':>13}")
    print(head)
    print("-" * len(head))
    for case in cases:
        for target in ("product", "relay"):
            f = case[target]
            ratios = ""
            if target == "product":
                ratios = f"{case['p50_ratio']:>11.2f} {case['throughput_ratio']:>13.2f}"
            print(f"{case['size']:<8} {case['concurrency']:>4} {target:<8} {f['requests']:>8} {f['errors']:>6} "
                  f"{f['p50_ms']:>8.1f} {f['p95_ms']:>8.1f} {f['p99_ms']:>8.1f} {f['throughput_rps']:>8.1f} "
                  f"{f['other_cpu_cores']:>9.2f} {ratios}")


def targets(cases: list[dict], low: int, high: int) -> list[dict]:
    out = []
    for case in cases:
        if case["concurrency"] == low:
            out.append({"size": case["size"], "target": f"p50 <= {TARGET_P50_RATIO}x relay at concurrency {low}",
                        "value": round(case["p50_ratio"], 2), "met": case["p50_ratio"] <= TARGET_P50_RATIO})
        if case["concurrency"] == high:
            out.append({"size": case["size"],
                        "target": f"throughput >= {TARGET_THROUGHPUT_RATIO}x relay at concurrency {high}",
                        "value": round(case["throughput_ratio"], 2),
                        "met": case["throughput_ratio"] >= TARGET_THROUGHPUT_RATIO})
    errors = sum(c["product"]["errors"] for c in cases)
    out.append({"size": "all", "target": "zero errors", "value": errors, "met": errors == 0})
    return out


def chart(cases: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [s for s in SIZES if any(c["size"] == s for c in cases)]
    fig, axes = plt.subplots(2, len(sizes), figsize=(4.2 * len(sizes), 7), squeeze=False)
    for col, size in enumerate(sizes):
        rows = sorted((c for c in cases if c["size"] == size), key=lambda c: c["concurrency"])
        conc = [c["concurrency"] for c in rows]
        ax = axes[0][col]
        for target, colour in (("product", "tab:blue"), ("relay", "tab:gray")):
            ax.plot(conc, [c[target]["p50_ms"] for c in rows], "o-", color=colour, label=f"{target} p50")
            ax.plot(conc, [c[target]["p95_ms"] for c in rows], "s--", color=colour, alpha=0.7, label=f"{target} p95")
        ax.set_title(f"{size} summary ({rows[0]['entries']:.0f} entries)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(conc, [str(c) for c in conc])
        ax.set_ylabel("latency (ms)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax = axes[1][col]
        for target, colour in (("product", "tab:blue"), ("relay", "tab:gray")):
            ax.plot(conc, [c[target]["throughput_rps"] for c in rows], "o-", color=colour, label=target)
        ax.set_xscale("log", base=2)
        ax.set_xticks(conc, [str(c) for c in conc])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("throughput (requests/s)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version()}


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


# --- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per case, target and round")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each case")
    parser.add_argument("--rounds", type=int, default=4,
                        help="repeat the whole matrix (interleaved); latencies are pooled, ratios paired per round")
    parser.add_argument("--patients", type=int, default=60, help="patients per summary size")
    parser.add_argument("--breakdown-samples", type=int, default=15)
    parser.add_argument("--workers", type=int, help="gunicorn processes per listener (default: the product's)")
    parser.add_argument("--threads", type=int, help="threads per gunicorn process (default: the product's)")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--chart", type=Path, default=RESULTS / "latency.png")
    parser.add_argument("--home", type=Path, help="keep the topology here (default: a temporary folder, removed)")
    parser.add_argument("--label", default="", help="free text stored with the figures (e.g. 'before')")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.concurrency.split(",")]
    sizes = [s for s in args.sizes.split(",") if s]
    assert set(sizes) <= set(SIZES), f"sizes: {SIZES}"
    assert args.patients > args.breakdown_samples, "--patients must exceed --breakdown-samples"

    home = args.home or Path(tempfile.mkdtemp(prefix="ncpeh-bench-"))
    ports = free_ports(6)
    env = {"NCPEH_LOG_LEVEL": "warning", "NCPEH_RATE_PER_MINUTE": str(RATE_LIMIT), "NCPEH_RATE_BURST": str(RATE_LIMIT),
           "NCPEH_SERVER_TIMING": "1"}  # the stage breakdown reads the Server-Timing header (off by default)
    if args.workers:
        env["NCPEH_WORKERS"] = str(args.workers)
    if args.threads:
        env["NCPEH_THREADS"] = str(args.threads)
    topo = Topology(["FR", "DE"], home, {"FR": (ports[0], ports[1]), "DE": (ports[2], ports[3])}, env=env)
    load_before = loadavg()
    print(f"home {home}; load average {load_before}")
    topo.prepare(patients=0)
    started = time.perf_counter()
    population = seed(topo, args.patients, 42)
    print(f"seeded {args.patients} French patients per size in {time.perf_counter() - started:.1f}s: " + ", ".join(
        f"{s} {population[s]['entries']} entries / {population[s]['stored_bytes'] // 1024} KiB" for s in SIZES))
    relay = Relay(topo, (ports[4], ports[5]))
    fr_cfg = topo.configs["FR"]
    settings = {"workers": fr_cfg.workers, "threads": fr_cfg.threads, "duration_s": args.duration,
                "warmup_s": args.warmup, "rounds": args.rounds, "patients_per_size": args.patients,
                "concurrency": levels, "sizes": sizes, "log_level": "warning",
                "partner_rate_limit_per_minute": RATE_LIMIT, "caches": "warm in the load cases, cold and warm in the breakdown"}
    try:
        topo.start()
        relay.start()
        CPU.sessions = {proc.pid: name for name, proc in topo.processes}
        CPU.sessions.update({proc.pid: f"relay {role}" for role, proc in zip("ab", relay.processes, strict=True)})
        product_clients, relay_clients = Clients(topo, partner=True), Clients(topo, partner=False)
        product_base, relay_base = topo.configs["DE"].public.url, relay.url

        # 3. breakdown: patients never requested before (cold release cache at A)
        figures: dict[str, dict] = {}
        warm_figures: dict[str, dict] = {}
        session = product_clients.get(1)[0]
        for size in sizes:
            figures[size] = breakdown(product_base, session, population[size]["ids"][-args.breakdown_samples:])
        for size in sizes:
            warm_figures[size] = breakdown(product_base, session, population[size]["ids"][-args.breakdown_samples:])
        traits = population["_identify"]
        identify_params = {"country": "FR", "identifier": f"{fr_cfg.identifier.system}|{traits['identifier']}",
                           "family": traits["family"], "given": traits["given"], "birthdate": traits["birthdate"],
                           "gender": traits["gender"]}
        figures["_identify"] = breakdown(product_base, session, ["-"] * 5, identify_params)
        print_breakdown(figures, warm_figures)

        # 4. warm pass, then the load cases (relay right after the product, for each case)
        for size in sizes:
            for pid in population[size]["ids"]:
                for base, clients in ((product_base, product_clients), (relay_base, relay_clients)):
                    ok, why = fetch(clients.get(1)[0], f"{base}/fhir/Patient/{pid}/$summary")
                    if not ok:
                        raise SystemExit(f"warm-up request failed ({why}); logs in {topo.log_dir}")
        pooled: dict[tuple[str, int, str], list[dict]] = {}
        for round_no in range(args.rounds):
            for size in sizes:
                ids = population[size]["ids"]
                for level in levels:
                    pair = [("product", product_base, product_clients), ("relay", relay_base, relay_clients)]
                    for target, base, clients in pair if round_no % 2 == 0 else pair[::-1]:  # alternate who goes first
                        result = run_case(base, ids, clients.get(level), args.duration, args.warmup)
                        pooled.setdefault((size, level, target), []).append(result)
                        print(f"  round {round_no + 1} {size:<8} c={level:<3} {target:<8} p50 {result['p50_ms']:7.1f} ms"
                              f"  {result['throughput_rps']:7.1f} req/s  errors {result['errors']}"
                              f"  other CPU {result['other_cpu_cores']:.2f} cores  CPU ms/request "
                              + ", ".join(f"{k} {v}" for k, v in result["cpu_ms_per_request"].items()), flush=True)
    finally:
        relay.stop()
        topo.stop()

    cases = []
    for size in sizes:
        for level in levels:
            case = {"size": size, "entries": population[size]["entries"], "concurrency": level}
            for target in ("product", "relay"):
                runs = pooled[(size, level, target)]
                latencies = [v for r in runs for v in r["_latencies"]]
                kinds: dict[str, int] = {}
                for r in runs:
                    for k, v in r["error_kinds"].items():
                        kinds[k] = kinds.get(k, 0) + v
                case[target] = {
                    "requests": sum(r["requests"] for r in runs),
                    "errors": sum(r["errors"] for r in runs),
                    "error_kinds": kinds,
                    "p50_ms": round(percentile(latencies, 50), 2),
                    "p95_ms": round(percentile(latencies, 95), 2),
                    "p99_ms": round(percentile(latencies, 99), 2),
                    "throughput_rps": round(statistics.median(r["throughput_rps"] for r in runs), 1),
                    "other_cpu_cores": round(statistics.median(r["other_cpu_cores"] for r in runs), 2),
                    "cpu_ms_per_request": {k: round(statistics.median(r["cpu_ms_per_request"].get(k, 0.0) for r in runs), 2)
                                           for k in sorted({k for r in runs for k in r["cpu_ms_per_request"]})},
                }
            case.update(paired_ratios(pooled[(size, level, "product")], pooled[(size, level, "relay")]))
            cases.append(case)
    print_table(cases)
    goals = targets(cases, min(levels), max(levels))
    print("\nTargets")
    for goal in goals:
        print(f"  {'met ' if goal['met'] else 'MISSED'}  {goal['size']:<8} {goal['target']}: {goal['value']}")
    load_after = loadavg()
    print(f"\nload average before {load_before}, after {load_after}")
    result = {
        "taken": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "machine": machine() | {"loadavg_before": load_before, "loadavg_after": load_after},
        "settings": settings,
        "population": {s: {k: v for k, v in population[s].items() if k != "ids"} for s in sizes},
        "breakdown_ms": {k: {n: round(v, 3) for n, v in f.items()} for k, f in figures.items()},
        "breakdown_warm_ms": {k: {n: round(v, 3) for n, v in f.items()} for k, f in warm_figures.items()},
        "cases": cases,
        "targets": goals,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    load = result["machine"]["loadavg_before"]
    title = (f"ncpeh-gateway cross-border $summary vs pass-through relay (warm caches), {result['taken']}\n"
             f"{machine()['cores']} cores, {settings['workers']} worker x {settings['threads']} threads per listener, "
             f"load average before the run {load[0] if load else '?'}")
    chart(cases, args.chart, title)
    print(f"figures: {args.json}\nchart:   {args.chart}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if all(g["met"] for g in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
