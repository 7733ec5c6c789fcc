"""Benchmark of the terminology library: load time, and transcoding + translation of a 180-entry
IPS summary (country A -> pivot -> clinician's language).

Usage::

    python benchmarks/terminology_bench.py [--entries 180] [--repeat 200] [--language de] [--country FR]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import terminology  # noqa: E402
from terminology.samples import sample_bundle  # noqa: E402


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--language", default="de")
    parser.add_argument("--country", default="FR")
    args = parser.parse_args(argv)

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
