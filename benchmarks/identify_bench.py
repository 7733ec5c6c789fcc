"""Identification latency against the size of the national record store, and seed/import throughput.

Identification must stay flat as the store grows (indexed lookups): this script seeds stores of
increasing size with the synthetic population, then times the country-A identification service
(``gateway.services.identify.identify``, the function the NCPeH-to-NCPeH API calls) on patients
drawn at random, and an IPS import through ``ncpeh import``'s code path (validation included).

    .venv/bin/python benchmarks/identify_bench.py --sizes 10000,1000000
    .venv/bin/python benchmarks/identify_bench.py --sizes 10000 --json out.json

Summaries are generated "small" for the scaling runs (identity is what is measured; a million
typical summaries would only make the file larger). Prints a table; --json writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway import storage  # noqa: E402
from gateway.config import country_file, load_config  # noqa: E402
from gateway.records.synthetic import generate_patient  # noqa: E402
from gateway.services import identify  # noqa: E402
from gateway.services.population import import_paths, seed_population  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def small_seed(store, cfg, start: int, count: int, seed: int, processes: int) -> float:  # noqa: ANN001
    """Grow the store by ``count`` patients (indexes from ``start``) with small summaries; patients/s."""
    started = time.perf_counter()
    seed_population(store, cfg, count, seed, batch=2000, start=start, size="small", processes=processes)
    return count / (time.perf_counter() - started)


def time_identification(store, cfg, lookups: int, rng: random.Random) -> dict[str, float]:
    total = store.records.count_patients()
    placeholders = ",".join("?" * lookups)
    sql = f"SELECT identifier_value, family, given, birthdate, gender FROM patients WHERE rowid IN ({placeholders})"  # noqa: S608
    rows = store.db.execute(sql, [rng.randint(1, total) for _ in range(lookups)]).fetchall()
    samples = []
    for value, family, given, birthdate, gender in rows:
        params = {"identifier": f"{cfg.identifier.system}|{value}", "family": family,
                  "given": given.split()[0], "birthdate": birthdate, "gender": gender}
        started = time.perf_counter()
        found = identify.identify(store.records, cfg, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(found) == 1, params
    return {"lookups": len(samples), "p50_ms": percentile(samples, 50), "p95_ms": percentile(samples, 95),
            "p99_ms": percentile(samples, 99), "mean_ms": statistics.fmean(samples)}


def import_throughput(cfg, home: Path, count: int, seed: int) -> float:
    """``ncpeh import`` code path (parse + FHIR model + IPS rules + store) on typical documents."""
    import orjson

    ndjson = home / "import.ndjson"
    with ndjson.open("wb") as out:
        for index in range(count):
            _traits, doc = generate_patient(cfg.code, 10_000_000 + index, seed, size="typical")
            out.write(orjson.dumps(doc) + b"\n")
    store = storage.open_store(home / "import.sqlite3")
    started = time.perf_counter()
    report = import_paths(store, cfg, [ndjson])
    elapsed = time.perf_counter() - started
    store.close()
    assert not report.rejected, report.rejected[:1]
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--country", default="FR")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated store sizes")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--import-count", type=int, default=300)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = {"country": args.country, "machine": f"{os.cpu_count()} cores", "stores": []}
    with tempfile.TemporaryDirectory(prefix="identify-bench-") as tmp:
        home = Path(tmp)
        cfg = load_config(country_file(args.country), env={"NCPEH_HOME": str(home)})
        store = storage.open_store(cfg.database_path)
        seeded = 0
        for size in sorted(int(s) for s in args.sizes.split(",")):
            # the same population grows: new patients continue from index `seeded`
            rate = small_seed(store, cfg, seeded, size - seeded, args.seed, args.processes) if size > seeded else 0.0
            seeded = size
            timing = time_identification(store, cfg, min(args.lookups, size), rng)
            db_mb = cfg.database_path.stat().st_size / 1e6
            results["stores"].append({"patients": size, "seed_patients_per_s": rate, "db_mb": db_mb, **timing})
            print(f"{size:>9} patients  seed {rate:8.0f}/s  db {db_mb:8.1f} MB  identify p50 {timing['p50_ms']:.3f} ms"
                  f"  p95 {timing['p95_ms']:.3f} ms  p99 {timing['p99_ms']:.3f} ms", flush=True)
        store.close()
        results["import_documents_per_s"] = import_throughput(cfg, home, args.import_count, args.seed)
        print(f"import (validated, typical documents): {results['import_documents_per_s']:.0f} documents/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
