#!/usr/bin/env python3
"""Aggregates scripts/train-results' runs into a mean ± std table (markdown and CSV), and writes
every run's own figures (one row per network, seed and policy) so the table can be recomputed.

Per network and seed the target accuracy is that seed's fp32 final test accuracy minus 1 point
(the default of `fastbfp train --compare`); a policy's cycles and energy to target are those of
its first evaluation at or above the target. Speed-ups are ratios of the per-seed cycles to
target, averaged over the seeds where both policies reached it. Standard library only.
"""
import csv
import json
import os
import statistics
import sys

POLICIES = ["fp32", "bf16", "msfp12", "fixed-2", "fixed-4", "fast", "fast-e4"]


def load(path):
    with open(path) as f:
        return json.load(f)


def reach(report, target):
    for e in report["evaluations"]:
        if e["test_accuracy"] >= target - 1e-12:
            return e
    return None


def fmt(values, scale=1.0, digits=1):
    if not values:
        return "-"
    m = statistics.fmean(values) * scale
    s = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def main():
    out = sys.argv[1]
    nets = sys.argv[2:]
    rows = []
    per_seed = []
    md = ["| network | policy | final test acc. (%) | cycles to target (M) | energy to target (mJ) "
          "| reached | its cycles to target / `fast`'s |",
          "|---|---|---|---|---|---|---|"]
    for net in nets:
        seeds = sorted(d for d in os.listdir(os.path.join(out, net)) if d.startswith("seed"))
        per = {p: {"acc": [], "cyc": {}, "en": [], "reached": 0, "runs": 0} for p in POLICIES}
        for sd in seeds:
            base = os.path.join(out, net, sd)
            fp32 = load(os.path.join(base, "fp32", "train.json"))
            target = max((fp32["final_test_accuracy"] or 0.0) - 0.01, 0.0)
            for p in POLICIES:
                path = os.path.join(base, p, "train.json")
                if not os.path.exists(path):
                    continue
                r = load(path)
                d = per[p]
                d["runs"] += 1
                if r["final_test_accuracy"] is not None:
                    d["acc"].append(r["final_test_accuracy"])
                e = reach(r, target)
                per_seed.append({
                    "network": net, "seed": sd[len("seed"):], "policy": p, "target_accuracy": target,
                    "final_accuracy": r["final_test_accuracy"] if r["final_test_accuracy"] is not None else "",
                    "reached": int(e is not None),
                    "cycles_to_target": e["cycles"] if e is not None else "",
                    "energy_to_target_j": e["energy_j"] if e is not None else "",
                    "total_cycles": r["total"]["cycles"],
                    "total_energy_j": r["total_energy_j"],
                })
                if e is not None:
                    d["reached"] += 1
                    d["cyc"][sd] = e["cycles"]
                    d["en"].append(e["energy_j"])
        fast = per["fast"]["cyc"]
        for p in POLICIES:
            d = per[p]
            if d["runs"] == 0:
                continue
            ratios = [d["cyc"][s] / fast[s] for s in d["cyc"] if s in fast and fast[s] > 0]
            speed = fmt(ratios, 1.0, 2) + "x" if ratios and p not in ("fast",) else "-"
            cyc = list(d["cyc"].values())
            row = {
                "network": net, "policy": p, "seeds": d["runs"],
                "final_acc_mean": statistics.fmean(d["acc"]) if d["acc"] else "",
                "final_acc_std": statistics.stdev(d["acc"]) if len(d["acc"]) > 1 else "",
                "reached": d["reached"],
                "cycles_to_target_mean": statistics.fmean(cyc) if cyc else "",
                "energy_to_target_j_mean": statistics.fmean(d["en"]) if d["en"] else "",
                "fast_speedup_mean": statistics.fmean(ratios) if ratios and p != "fast" else "",
            }
            rows.append(row)
            md.append(f"| {net} | {p} | {fmt(d['acc'], 100.0, 1)} | {fmt(cyc, 1e-6, 2)} | "
                      f"{fmt(d['en'], 1e3, 3)} | {d['reached']}/{d['runs']} | {speed} |")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, "results-per-seed.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(per_seed[0].keys()))
        w.writeheader()
        w.writerows(per_seed)
    print("\n".join(md))


if __name__ == "__main__":
    main()
