#!/usr/bin/env python3
"""embflow's Python module vs torch.nn.EmbeddingBag, in one process, on the same tensors.

Per configuration (model, dim, batch, distribution) and thread count (1 and all cores), in
interleaved rounds, on the same table memory (one float32 tensor; embflow reads torch's per-table
views in place) and the same index arrays:
  (a) loop:       one nn.EmbeddingBag per table (what DLRM code does)
  (b) concat:     one nn.EmbeddingBag over the concatenated tables (TorchRec-style one call)
  (c) symmetric:  embflow, every table's batch split evenly over the cores (the paper's baseline)
  (d) plan:       embflow, the asymmetric planner's plan (--profile, default $EMBFLOW_PROFILE or a
                  quick calibration); with --tune N, the fastest of the planner's candidates run N
                  times each on batches of their own (EmbeddingBagCollection.plan(tune=N, tune_batches))
Torch is not charged for any layout change: (a) stops at its T outputs of [B, E] (kept until the
call returns, as DLRM keeps them: bench/torch_peer.py), (b) at its [T*B, E]; embflow writes the final [B, T, E], into one output array allocated once (`out=`), as a
serving loop would; torch allocates its outputs per call, as nn.EmbeddingBag does (its loop's
[B, E] blocks come back from malloc's heap; the concat's one large block does not). The floor is
the engine issue's roofline floor (per table: the lower of its look-ups at the measured random-
gather rate and one pass over it; summed), with the rates measured on as many cores as threads,
all at once (with 16 cores the shared memory gives less than 16 times one core's rate). Prints a Markdown table of medians, spreads
(p90-p10 over all timed batches, relative) and ratios. Usage:
  PYTHONPATH=build/python /usr/bin/python3 bench/compare_torch.py [--quick] [--profile FILE] [--threads 1,16] [--huge-pages]
                                                                  [--tune N] [--only TEXT]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

import embflow
import torch_peer


def spread(values):
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=10, method="inclusive")
    return (q[-1] - q[0]) / statistics.median(values)


class Setup:
    """One model's tables in one torch tensor; torch modules and an embflow collection over it."""

    def __init__(self, model, dim, max_rows, huge_pages=False):
        self.spec = embflow.preset(model, dim=dim, max_rows=max_rows)
        rows = [t["rows"] for t in self.spec]
        self.base = np.cumsum([0] + rows[:-1]).tolist()
        weight = torch.empty(sum(rows), dim).uniform_(-0.01, 0.01)  # in place (no temporaries); written: no faults while timing
        self.concat = torch.nn.EmbeddingBag(sum(rows), dim, mode="sum", _weight=weight)
        views = [weight[b:b + r] for r, b in zip(rows, self.base)]
        self.bags = [torch.nn.EmbeddingBag(r, dim, mode="sum", _weight=v) for r, v in zip(rows, views)]
        self.ebc = embflow.EmbeddingBagCollection(views, names=[t["name"] for t in self.spec],
                                                  bag_sizes=[t["bag_size"] for t in self.spec])
        if huge_pages:  # the one tensor both sides read: torch gains from it as much as embflow
            self.ebc.collapse_huge_pages()

    def batches(self, batch, dist, count):
        out = []
        for k in range(count):
            ix, off = self.ebc.generate(batch, dist, seed=1000 + k)
            t_ix = [torch.from_numpy(i) for i in ix]
            t_off = [torch.from_numpy(o[:-1]) for o in off]
            flat_ix = torch.cat([i + b for i, b in zip(t_ix, self.base)])
            starts = np.cumsum([0] + [len(i) for i in ix[:-1]])
            flat_off = torch.cat([o + s for o, s in zip(t_off, starts.tolist())])
            out.append(dict(ix=ix, off=off, t_ix=t_ix, t_off=t_off, flat=(flat_ix, flat_off)))
        return out


def run(setup, batch, dist, cores, profile, rounds, iters, warmup_s, count, tune=0):
    torch.set_num_threads(cores)
    data = setup.batches(batch, dist, count)
    sample = setup.ebc.generate(batch, dist, seed=7)
    plans = {
        "symmetric": setup.ebc.plan(sample[0], sample[1], profile=profile, cores=cores, mapper="symmetric"),
        # Tuned on batches of their own (rows cold as in the timed ones, and not the timed ones).
        "plan": setup.ebc.plan(sample[0], sample[1], profile=profile, cores=cores, mapper="asymmetric", tune=tune,
                               tune_batches=[setup.ebc.generate(batch, dist, seed=5000 + k) for k in range(count)]
                               if tune else None),
    }

    @torch.no_grad()
    def loop(d):
        return torch_peer.loop_forward(setup.bags, zip(d["t_ix"], d["t_off"]))

    @torch.no_grad()
    def concat(d):
        setup.concat(*d["flat"])

    out = setup.ebc.empty_output(batch)  # faulted in once, reused; rows on 64-byte boundaries

    def embflow_with(name):
        def f(d):
            setup.ebc.forward(d["ix"], d["off"], out=out)
        return name, f

    methods = [("loop", loop), ("concat", concat), embflow_with("symmetric"), embflow_with("plan")]
    times = {name: [] for name, _ in methods}
    k = 0
    for r in range(rounds):
        order = methods if r % 2 == 0 else methods[::-1]  # no method always follows the same one
        for name, fn in order:
            if name in plans:
                setup.ebc.use_plan(plans[name])
            # Untimed, for warmup_s at least: a method's first batches after another's run slow.
            # Torch's OpenMP threads spin for milliseconds after each call, on the cores embflow's
            # workers are pinned to (docs/BENCHMARKS.md, "Sharing the cores with torch's threads").
            t_end = time.perf_counter() + warmup_s
            while True:
                fn(data[k % count])
                k += 1
                if time.perf_counter() >= t_end:
                    break
            for _ in range(iters):
                d = data[k % count]
                k += 1
                t0 = time.perf_counter()
                kept = fn(d)  # (a)'s outputs are freed after the clock stops
                times[name].append(time.perf_counter() - t0)
                del kept
    setup.ebc.use_plan(None)
    floor = statistics.median(setup.ebc.roofline_floor(d["ix"], d["off"], cores) for d in data)
    return times, plans["plan"], floor


def config_name(model, dim, cap, batch, dist):
    return f"{model} dim {dim}{' rows<=%d' % cap if cap else ''} batch {batch} {dist}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="", help="machine profile for embflow's planner")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--tune", type=int, default=0, metavar="N",
                   help="(d): keep the fastest of the planner's candidates, each run N times")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup-ms", type=float, default=20,
                   help="untimed batches for this long (at least one) each time a method takes over")
    p.add_argument("--batches", default="2048,65536", help="comma-separated batch sizes (full run)")
    p.add_argument("--quick", action="store_true", help="row-capped criteo-kaggle, batch 2048, one distribution")
    p.add_argument("--only", default="", metavar="TEXT",
                   help="only the configurations whose name (as printed, e.g. 'dlrm-v2', 'dim 64', 'batch 2048 zipf') contains TEXT")
    p.add_argument("--threads", default="", help="comma-separated thread counts (default: 1 and all cores)")
    p.add_argument("--huge-pages", action="store_true",
                   help="back the shared table tensor with 2 MiB pages first (collapse_huge_pages)")
    args = p.parse_args()
    heap = torch_peer.keep_freed_memory()
    all_cores = len(os.sched_getaffinity(0))
    threads = sorted({int(t) for t in args.threads.split(",")} if args.threads else {1, all_cores})
    if args.quick:
        configs = [("criteo-kaggle", 16, 100000, 2048, "uniform")]
    else:
        configs = [(m, d, cap, b, dist)
                   for m, d, cap in (("criteo-kaggle", 16, None), ("criteo-kaggle", 64, None), ("dlrm-v2", 128, 2000000))
                   for b in (int(x) for x in args.batches.split(",")) for dist in ("uniform", "zipf:1.05")]
    configs = [c for c in configs if args.only in config_name(*c)]
    print(f"torch {torch.__version__}; embflow module; threads {threads}; "
          f"{'tables collapsed into 2 MiB pages; ' if args.huge_pages else ''}"
          f"{args.rounds} rounds x {args.iters} batches per method after {args.warmup_ms:g} ms of untimed ones, "
          f"interleaved; {heap}")
    print()
    print("| configuration | threads | (a) loop us | (b) concat us | (c) embflow symmetric us | (d) embflow plan us | "
          "(a)/(d) | (b)/(d) | (c)/(d) | (d)/floor | spreads a/b/c/d |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    setup, key = None, None
    for model, dim, cap, batch, dist in configs:
        if key != (model, dim, cap):
            setup, key = None, (model, dim, cap)
            setup = Setup(model, dim, cap, args.huge_pages)
        count = 8 if batch <= 8192 else 2
        iters = args.iters if batch <= 8192 else max(2, args.iters // 2)
        for cores in threads:
            t, plan, floor = run(setup, batch, dist, cores, args.profile, args.rounds, iters, args.warmup_ms / 1000, count, args.tune)
            m = {k: statistics.median(v) for k, v in t.items()}
            name = config_name(model, dim, cap, batch, dist)
            print(f"| {name} | {cores} | {m['loop']*1e6:.0f} | {m['concat']*1e6:.0f} | {m['symmetric']*1e6:.0f} | "
                  f"{m['plan']*1e6:.0f} | {m['loop']/m['plan']:.2f} | {m['concat']/m['plan']:.2f} | "
                  f"{m['symmetric']/m['plan']:.2f} | {m['plan']/floor:.2f} | "
                  + "/".join(f"{spread(t[k])*100:.0f}%" for k in ("loop", "concat", "symmetric", "plan")) + " |",
                  flush=True)
            print(f"  plan: {plan}; {' '.join(plan.notes)}", file=sys.stderr)


if __name__ == "__main__":
    main()
