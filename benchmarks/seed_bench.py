"""Synthetic-population generation throughput (patients per second), per summary size.

Measures ``gateway.records.synthetic.generate_patient`` + orjson serialisation, i.e. what
``ncpeh seed`` spends before touching the database, and optionally the cost of validating the
generated documents with ``validate_ips`` (the ``fhir.resources`` model), which an import pays.

    .venv/bin/python benchmarks/seed_bench.py                 # FR and DE, every size, 1 process
    .venv/bin/python benchmarks/seed_bench.py --processes 2   # also the 2-core aggregate
    .venv/bin/python benchmarks/seed_bench.py --validate      # also validation throughput
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from gateway.records.synthetic import generate_patient  # noqa: E402

SIZES = ("small", "typical", "large", None)
DEFAULT_COUNTS = {"small": 5000, "typical": 2000, "large": 500, None: 2000}


def _run(country: str, size: str | None, start: int, count: int, seed: int) -> tuple[int, int, int]:
    entries = nbytes = 0
    for index in range(start, start + count):
        traits, doc = generate_patient(country, index, seed, size)
        nbytes += len(orjson.dumps(doc))
        entries += traits.entries
    return count, entries, nbytes


def bench_one(country: str, size: str | None, count: int, seed: int, processes: int) -> dict[str, float]:
    generate_patient(country, 0, seed, size)  # warm the catalogue cache
    started = time.perf_counter()
    if processes <= 1:
        done, entries, nbytes = _run(country, size, 0, count, seed)
    else:
        chunk = -(-count // processes)
        with ProcessPoolExecutor(processes) as pool:
            futures = [pool.submit(_run, country, size, i * chunk, min(chunk, count - i * chunk), seed)
                       for i in range(processes) if i * chunk < count]
            results = [f.result() for f in futures]
        done = sum(r[0] for r in results)
        entries = sum(r[1] for r in results)
        nbytes = sum(r[2] for r in results)
    elapsed = time.perf_counter() - started
    return {"rate": done / elapsed, "entries": entries / done, "kib": nbytes / done / 1024}


def bench_validate(country: str, size: str | None, count: int, seed: int) -> float:
    from gateway.records.ips_validation import validate_ips

    docs = [generate_patient(country, i, seed, size)[1] for i in range(count)]
    validate_ips(docs[0])  # load the models
    started = time.perf_counter()
    for doc in docs:
        validate_ips(doc)
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", action="append", choices=("FR", "DE"), help="default: FR and DE")
    parser.add_argument("--count", type=int, help="patients per measurement (default depends on size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1, help="also measure N worker processes")
    parser.add_argument("--validate", action="store_true", help="also measure validate_ips throughput")
    args = parser.parse_args(argv)

    countries = args.country or ["FR", "DE"]
    print("synthetic IPS generation + orjson serialisation (patients/s)")
    header = f"{'country':8}{'size':9}{'entries':>8}{'KiB':>8}{'1 proc':>10}"
    if args.processes > 1:
        header += f"{f'{args.processes} procs':>10}"
    if args.validate:
        header += f"{'validate':>10}"
    print(header)
    for country in countries:
        for size in SIZES:
            count = args.count or DEFAULT_COUNTS[size]
            one = bench_one(country, size, count, args.seed, 1)
            line = f"{country:8}{size or 'mixed':9}{one['entries']:8.1f}{one['kib']:8.1f}{one['rate']:10.0f}"
            if args.processes > 1:
                many = bench_one(country, size, count * args.processes, args.seed, args.processes)
                line += f"{many['rate']:10.0f}"
            if args.validate:
                line += f"{bench_validate(country, size, max(20, count // 20), args.seed):10.0f}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
