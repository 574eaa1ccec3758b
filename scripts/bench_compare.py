#!/usr/bin/env python3
"""Joins dlkit's and a peer's benchmark JSON lines and prints their ratio per case.

    python3 scripts/bench_compare.py dlkit.jsonl numpy.jsonl

Each file holds one JSON object per line. Measurements carry `workload`, `case`, `threads`,
`median_s` and `gflops` (dlkit's also a `variant`, such as "kernel" or "tensor"); "info"
lines (`"kind": "info"`) are printed as they are. Then prints a Markdown table with one row
per case and thread count: the peer's GFLOP/s (and microseconds), then each dlkit variant's,
each followed by its ratio dlkit / peer in throughput (above 1 means dlkit is faster).
A file may hold several rounds of the same cases (bench_sgemm.sh's ROUNDS): each side then
keeps its fastest median, the round least disturbed by other work on the machine.
"""

import json
import sys


def load(path):
    """Measurements of a JSON-lines file, in file order; prints the info lines once."""
    rows, seen = [], set()
    with open(path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("kind") == "info" and line not in seen:
                seen.add(line)
                fields = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("source", "kind"))
                print(f"{r.get('source')}: {fields}")
            elif "case" in r:
                rows.append(r)
    return rows


def keep(d, key, r):
    """Stores r under key unless a faster measurement of the same case is there."""
    if key not in d or r["median_s"] < d[key]["median_s"]:
        d[key] = r


def cell(r):
    return f"{r['gflops']:.1f} ({r['median_s'] * 1e6:.0f} us)"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours, peer_rows = load(sys.argv[1]), load(sys.argv[2])
    peer = {}
    for r in peer_rows:
        keep(peer, (r["workload"], r["case"], r["threads"]), r)
    name = peer_rows[0]["source"] if peer_rows else "peer"
    variants = list(dict.fromkeys(r.get("variant") for r in ours))
    table = {}
    for r in ours:
        keep(table.setdefault((r["workload"], r["case"], r["threads"]), {}), r.get("variant"), r)

    head = f"| case (m x k x n) | threads | {name} GFLOP/s |"
    for v in variants:
        head += f" dlkit {v} GFLOP/s | {v} / {name} |"
    print()
    print(head)
    print("|---|---|---|" + "---|---|" * len(variants))
    for key in sorted(table, key=lambda k: (k[0], k[2])):
        p = peer.get(key)
        line = f"| {key[1]} | {key[2]} | {cell(p) if p else '-'} |"
        for v in variants:
            o = table[key].get(v)
            ratio = f"{p['median_s'] / o['median_s']:.2f}" if o and p else "-"
            line += f" {cell(o) if o else '-'} | {ratio} |"
        print(line)


if __name__ == "__main__":
    main()
