"""Throughput with one and two replicas per country: SQLite, PostgreSQL, PostgreSQL x2 behind HAProxy, relay floor.

    .venv/bin/python benchmarks/replicas_bench.py [--duration 5] [--concurrency 8] [--patients 20] [--size typical]

Each configuration is a fresh topology (FR and DE on 127.0.0.1, gunicorn, mutual TLS between the NCPeHs):

1. ``sqlite x1``: the default, a SQLite file per country, one instance each; and, in the same topology,
   the pass-through relay of ``benchmarks/relay.py`` (the floor: TLS and HTTP only);
2. ``postgresql x1``: one instance per country on a throwaway PostgreSQL cluster (Debian's binaries);
3. ``postgresql x2``: two replicas per country on that cluster, HAProxy in front (TCP mode).

German partner software asks for French summaries (``--size``, warm caches) with ``--concurrency`` keep-alive
client threads for ``--duration`` seconds. Prints successful answers per second, p50/p95 latency, errors and
the CPU the rest of the machine used meanwhile (on a shared machine it says how disturbed the figures are).
On one machine every replica shares its cores: two replicas show what replication costs or gains here, not
what two machines would give.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from crossborder_bench import CPU, RATE_LIMIT, Clients, Relay, fetch, free_ports, run_case, seed  # noqa: E402

from gateway.server.demo import Topology  # noqa: E402

CONFIGURATIONS = (("sqlite x1", "sqlite", 1), ("postgresql x1", "postgresql", 1), ("postgresql x2", "postgresql", 2))


def measure(label: str, database: str, replicas: int, args: argparse.Namespace) -> list[dict]:
    home = Path(tempfile.mkdtemp(prefix="ncpeh-replicas-bench-"))
    ports = free_ports(6)
    env = {"NCPEH_LOG_LEVEL": "warning", "NCPEH_RATE_PER_MINUTE": str(RATE_LIMIT), "NCPEH_RATE_BURST": str(RATE_LIMIT)}
    topo = Topology(["FR", "DE"], home, {"FR": (ports[0], ports[1]), "DE": (ports[2], ports[3])}, env=env,
                    database=database, replicas=replicas)
    rows = []
    relay = Relay(topo, (ports[4], ports[5])) if database == "sqlite" else None
    try:
        topo.prepare(patients=0)
        ids = seed(topo, args.patients, 42)[args.size]["ids"]
        topo.start(timeout=120)
        targets = [(label, topo.configs["DE"].public.url, Clients(topo, partner=True))]
        if relay is not None:
            relay.start()
            targets.append(("relay (floor)", relay.url, Clients(topo, partner=False)))
        CPU.sessions = {proc.pid: name for name, proc in topo.processes}
        for name, base, clients in targets:
            sessions = clients.get(args.concurrency)
            for pid in ids:  # warm caches: each summary once
                fetch(sessions[0], f"{base}/fhir/Patient/{pid}/$summary")
            result = run_case(base, ids, sessions, args.duration, args.warmup)
            result.pop("_latencies")
            rows.append({"configuration": name, **result})
            print(f"{name:<16} {result['throughput_rps']:>8.1f} {result['p50_ms']:>8.1f} {result['p95_ms']:>8.1f}"
                  f" {result['errors']:>7} {result['other_cpu_cores']:>10.2f}", flush=True)
    finally:
        if relay is not None:
            relay.stop()
        topo.stop()
        shutil.rmtree(home, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--patients", type=int, default=20, help="French patients per summary size")
    parser.add_argument("--size", default="typical", choices=("small", "typical", "large"))
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "replicas.json")
    args = parser.parse_args(argv)
    print(f"cross-border $summary ({args.size}), {args.concurrency} client threads, {args.duration:.0f}s per case")
    print(f"{'configuration':<16} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'other CPU':>10}")
    rows: list[dict] = []
    started = time.time()
    for label, database, replicas in CONFIGURATIONS:
        rows += measure(label, database, replicas, args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"taken": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)),
                                     "settings": vars(args) | {"json": str(args.json)}, "results": rows}, indent=2))
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
