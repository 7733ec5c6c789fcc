"""Benchmark of the terminology library: load time, and transcoding + translation of a 180-entry
IPS summary (country A -> pivot -> clinician's language).

Usage::

    python benchmarks/terminology_bench.py [--entries 180] [--repeat 200] [--language de] [--country FR]
    python benchmarks/terminology_bench.py --import PACKAGE.tgz [--import ...]   # + import and load cost

With ``--import`` (e.g. ``npm pack hl7.terminology.r4@7.0.1``), the sources are imported into a
temporary folder first (timed), and the load time and Python heap of the terminology with them are
reported next to those of the shipped data alone.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import terminology  # noqa: E402
from terminology.importers.run import import_paths  # noqa: E402
from terminology.samples import sample_bundle  # noqa: E402


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--language", default="de")
    parser.add_argument("--country", default="FR")
    parser.add_argument("--import", dest="imports", type=Path, action="append", default=[],
                        help="a distribution to import first (repeatable)")
    args = parser.parse_args(argv)
    if args.imports:
        with tempfile.TemporaryDirectory() as tmp:
            return _import_bench(Path(tmp), args.imports)

    start = time.perf_counter()
    term = terminology.Terminology()
    load_time = time.perf_counter() - start
    n_concepts = sum(len(codes) for codes in term._display.values())
    print(f"load (uncached, {len(term.files)} files, {n_concepts} concepts): {_ms(load_time)}")
    terminology.load()  # warm the cached instance used by transcode/translate

    bundle = sample_bundle(args.country, args.entries)
    n_codings = sum(1 for _ in _codings(bundle))
    print(f"bundle: {args.entries} entries, {len(bundle['entry'])} resources, {n_codings} codings "
          f"({args.country} -> {args.language})")
    t_tc, t_tr, t_all = [], [], []
    for _ in range(args.repeat):
        work = copy.deepcopy(bundle)
        t0 = time.perf_counter()
        work, _ = terminology.transcode(work, args.country, term)
        t1 = time.perf_counter()
        terminology.translate(work, args.language, term)
        t2 = time.perf_counter()
        t_tc.append(t1 - t0)
        t_tr.append(t2 - t1)
        t_all.append(t2 - t0)
    for name, values in (("transcode", t_tc), ("translate", t_tr), ("transcode+translate", t_all)):
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1]
        print(f"{name:20} median {_ms(statistics.median(values))}  p95 {_ms(p95)}  min {_ms(values[0])}")
    start = time.perf_counter()
    terminology.coverage([bundle], source_country=args.country, terminology=term)
    print(f"coverage (8 languages): {_ms(time.perf_counter() - start)}")
    return 0


def _heap(extra_dirs: list[Path]) -> tuple[float, int, terminology.Terminology]:
    tracemalloc.start()
    start = time.perf_counter()
    term = terminology.Terminology(extra_dirs=extra_dirs)
    elapsed = time.perf_counter() - start
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return elapsed, size, term


def _import_bench(root: Path, inputs: list[Path]) -> int:
    start = time.perf_counter()
    results = import_paths(root, inputs)
    print(f"import of {len(inputs)} source(s): {_ms(time.perf_counter() - start)}")
    for r in results:
        counts = r.manifest["counts"]
        size = sum(p.stat().st_size for p in (root / r.id).iterdir())
        print(f"  {r.id}: {len(counts['systems'])} code systems, {counts['valuesets']} value sets, "
              f"{counts['conceptmaps']} concept maps, {counts['aliases']} aliases; {size / 1e6:.1f} MB on disk")
    for label, extra in (("shipped data", []), ("shipped + imported", [root])):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            terminology.Terminology(extra_dirs=extra)
            times.append(time.perf_counter() - start)
        _t, size, term = _heap(extra)
        print(f"load {label:20} {_ms(min(times))} (best of 5)  heap {size / 1e6:.0f} MB  "
              f"{len(term.systems)} code systems, {len(term.valueset_urls)} value sets")
    return 0


def _codings(node):
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str) and "value" not in node:
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _codings(item)


if __name__ == "__main__":
    sys.exit(main())
