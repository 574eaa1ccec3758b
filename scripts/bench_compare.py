#!/usr/bin/env python3
"""Joins dlkit's and a peer's benchmark JSON lines and prints their ratio per case.

    python3 scripts/bench_compare.py dlkit.jsonl numpy.jsonl

Each file holds one JSON object per line. Measurements carry `workload`, `case`, `threads`,
`median_s` (seconds per unit of the workload's figure: per call, per whole schedule, per
epoch) and the figure itself under the workload's key (`s`, `examples_per_s`, `gflops`,
`ms`, `us`); dlkit's also a `variant`, such as "kernel" or "tensor". "info" lines
(`"kind": "info"`) are printed as they are.

Then, per workload, a Markdown table with one row per case and thread count: the peer's
figure, then each dlkit variant's, each followed by the ratio peer time / dlkit time (above
1 means dlkit is faster). Notes of fractions timed and scaled (W1 to W5) follow the table.

A file may hold several rounds of the same cases (bench.sh's ROUNDS): each side then keeps
its best median, the round least disturbed by other work on the machine, and the cells add
the range over the rounds in brackets (figure range; for ratios, the range of the per-round
ratios).
"""

import json
import sys

# The figure shown per workload: (JSON key, column label, format, higher is better).
FIGURES = {
    "W1": ("s", "s / 2000 it", "{:.3f}", False),
    "W2": ("s", "s / 2500 it", "{:.2f}", False),
    "W3": ("examples_per_s", "examples/s", "{:,.0f}", True),
    "W4": ("s", "s / 10 epochs", "{:.2f}", False),
    "W5": ("images_per_s", "images/s", "{:,.0f}", True),
    "W6": ("gflops", "GFLOP/s", "{:.1f}", True),
    "W7": ("ms", "ms", "{:.1f}", False),
    "W8": ("us", "us", "{:,.1f}", False),
}


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


def figure_of(r):
    key = FIGURES.get(r["workload"], ("us", "us", "{:.1f}", False))[0]
    if key in r:
        return r[key]
    return r["median_s"] * 1e6


def fmt(workload, v):
    return FIGURES.get(workload, ("", "", "{:.3g}", False))[2].format(v)


def cell(rounds):
    """Best round's figure, with the range over rounds when there are several."""
    w = rounds[0]["workload"]
    best = min(rounds, key=lambda r: r["median_s"])
    text = fmt(w, figure_of(best))
    if w == "W6":
        text += f" ({best['median_s'] * 1e6:.0f} us)"
    if len(rounds) > 1:
        figs = sorted(figure_of(r) for r in rounds)
        text += f" [{fmt(w, figs[0])}-{fmt(w, figs[-1])}]"
    return text


def ratio(ours, peer):
    """Best peer time / best dlkit time, with the range of per-round ratios."""
    best = min(p["median_s"] for p in peer) / min(o["median_s"] for o in ours)
    text = f"{best:.2f}"
    if len(ours) > 1 and len(ours) == len(peer):
        per = sorted(p["median_s"] / o["median_s"] for o, p in zip(ours, peer))
        text += f" [{per[0]:.2f}-{per[-1]:.2f}]"
    return text


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours, peer_rows = load(sys.argv[1]), load(sys.argv[2])
    name = peer_rows[0]["source"] if peer_rows else "peer"
    peer, table, notes = {}, {}, {}
    for source, rows in (("dlkit", ours), (name, peer_rows)):
        for r in rows:
            if r.get("note"):
                notes.setdefault(r["workload"], {}).setdefault(r["note"], []).append(source)
    for r in peer_rows:
        key = (r["workload"], r["case"], r["threads"])
        peer.setdefault(key, {}).setdefault(r.get("variant"), []).append(r)
    for r in ours:
        key = (r["workload"], r["case"], r["threads"])
        table.setdefault(key, {}).setdefault(r.get("variant"), []).append(r)

    for w in sorted({k[0] for k in table}):
        keys = [k for k in table if k[0] == w]
        variants = list(dict.fromkeys(v for k in keys for v in table[k]))
        label = FIGURES.get(w, ("", "us", "", False))[1]
        peer_variants = list(dict.fromkeys(v for k, p in peer.items() if k[0] == w for v in p))
        shown = [v for v in peer_variants if v in variants] or peer_variants[:1]
        print()
        print(f"{w}: {label}; ratio = {name} time / dlkit time (above 1: dlkit faster)")
        print()
        head = "| case | threads |"
        for v in shown:
            head += f" {name} {v} |" if v and v != name else f" {name} |"
        for v in variants:
            head += f" dlkit {v} | {v} / {name} |"
        print(head)
        print("|---|---|" + "---|" * len(shown) + "---|---|" * len(variants))
        for key in sorted(keys, key=lambda k: (k[2], keys.index(k))):
            p = peer.get(key, {})
            line = f"| {key[1]} | {key[2]} |"
            for v in shown:
                line += f" {cell(p[v]) if v in p else '-'} |"
            for v in variants:
                o = table[key].get(v)
                # The peer's same variant (dlkit against dlkit), else its only one.
                q = p.get(v) or (next(iter(p.values())) if len(p) == 1 else None)
                line += f" {cell(o) if o else '-'} | {ratio(o, q) if o and q else '-'} |"
            print(line)
        if notes.get(w):
            print()
        for note, sources in notes.get(w, {}).items():
            print(f"- {note} ({' and '.join(dict.fromkeys(sources))})")


if __name__ == "__main__":
    main()
