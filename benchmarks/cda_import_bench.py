"""CDA import throughput (documents per second): synthetic IPS-FR CDA documents through ``ncpeh import``'s path.

Writes N synthetic French summaries as CI-SIS IPS-FR CDA files (``ips_to_cda``, the writer behind
``ncpeh seed --format cda``), then times ``services.population.import_paths`` on them: safe parse,
conversion to IPS, IPS validation with the ``fhir.resources`` models, storage of the IPS and the CDA beside
it, in a fresh SQLite database. Writing the files is not timed.

    .venv/bin/python benchmarks/cda_import_bench.py                     # 300 typical documents, 1 and 2 processes
    .venv/bin/python benchmarks/cda_import_bench.py --count 1000 --size large --processes 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway import storage  # noqa: E402
from gateway.config import country_file, load_config  # noqa: E402
from gateway.records.cda.writer import ips_to_cda  # noqa: E402
from gateway.records.synthetic import generate_patient  # noqa: E402
from gateway.services.population import import_paths  # noqa: E402


def write_documents(folder: Path, count: int, size: str | None, seed: int) -> int:
    total = 0
    for index in range(count):
        raw = ips_to_cda(generate_patient("FR", index, seed, size)[1])
        (folder / f"ips-fr-{index:05d}.xml").write_bytes(raw)
        total += len(raw)
    return total


def run(folder: Path, home: Path, processes: int) -> tuple[float, int, int]:
    cfg = load_config(country_file("FR", None), overrides={"home": str(home), "data_dir": str(home / "fr")})
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    store = storage.open_store(cfg.database_path)
    try:
        started = time.perf_counter()
        report = import_paths(store, cfg, [folder], processes=processes)
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    return elapsed, report.imported + report.updated, len(report.rejected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--size", choices=("small", "typical", "large"), default="typical")
    parser.add_argument("--processes", type=int, action="append", help="import processes (repeatable; default 1 and 2)")
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cda-bench-") as tmp:
        folder = Path(tmp) / "documents"
        folder.mkdir()
        nbytes = write_documents(folder, args.count, args.size, args.seed)
        print(f"{args.count} synthetic IPS-FR CDA documents ({args.size}), {nbytes / args.count / 1024:.0f} KB each on average")
        for processes in args.processes or [1, 2]:
            elapsed, stored, rejected = run(folder, Path(tmp) / f"home-{processes}", processes)
            print(f"  {processes} process(es): {stored} stored, {rejected} refused in {elapsed:.1f} s "
                  f"= {stored / elapsed:.0f} documents/s")
            if rejected or stored != args.count:
                print("  error: every synthetic document should be stored", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
