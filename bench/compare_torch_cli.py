#!/usr/bin/env python3
"""embflow vs torch.nn.EmbeddingBag on the same saved indices, side by side in one run.

For every configuration, in R rounds (interleaved so that drift hits both sides alike):
  1. `embflow run --strategy best` (one pinned thread) generates the batches, saves them, and times
     itself (median over its iterations, distinct batches in turn);
  2. this process times, on the *same saved indices*, with one torch thread pinned to the same core:
     (a) a loop of one nn.EmbeddingBag per table (what DLRM code does),
     (b) one nn.EmbeddingBag over the concatenated tables (TorchRec-style one call).
Torch is not charged for any layout change: (a) stops at its T outputs of [B, E] (kept until the
call returns, as DLRM keeps them: bench/torch_peer.py), (b) at its [T*B, E] output; embflow writes the final [B, T, E].

Prints a Markdown table of medians, spreads (p90-p10 over rounds, relative) and ratios, which goes
into docs/BENCHMARKS.md. Usage:
  /usr/bin/python3 bench/compare_torch_cli.py --embflow build/embflow [--quick] [--rounds 3]
Use Debian's /usr/bin/python3 (python3-torch); another python3 on PATH may lack torch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

import torch_peer


def load_batches(directory):
    """The saved workload: a list of batches, each a list of (offsets, indices) per table."""
    dirs = [directory] if os.path.exists(os.path.join(directory, "workload.json")) else sorted(
        os.path.join(directory, d) for d in os.listdir(directory) if d.startswith("batch"))
    batches = []
    for d in dirs:
        with open(os.path.join(d, "workload.json")) as f:
            manifest = json.load(f)
        tables = []
        for t in manifest["tables"]:
            offsets = torch.from_numpy(np.load(os.path.join(d, t["offsets"])).astype(np.int64))
            indices = torch.from_numpy(np.load(os.path.join(d, t["indices"])).astype(np.int64))
            tables.append((offsets, indices))
        batches.append(tables)
    return batches


def model_rows(preset, max_rows):
    here = os.path.dirname(os.path.abspath(__file__))
    name = {"criteo-kaggle": "criteo_kaggle", "criteo-terabyte": "criteo_terabyte", "dlrm-v2": "dlrm_v2"}[preset]
    with open(os.path.join(here, "..", "models", name + ".json")) as f:
        rows = json.load(f)["rows"]
    return [min(r, max_rows) if max_rows else r for r in rows]


class TorchPeer:
    """(a) one EmbeddingBag per table and (b) one EmbeddingBag over all tables, same shapes."""

    def __init__(self, rows, dim):
        self.rows = rows
        self.base = np.cumsum([0] + rows[:-1]).tolist()
        total = sum(rows)
        weight = torch.empty(total, dim).fill_(0.01)  # touched: no page faults while timing
        self.concat = torch.nn.EmbeddingBag(total, dim, mode="sum", _weight=weight)
        # The per-table modules share the concatenated storage (views, no copy): one copy in memory.
        self.bags = [torch.nn.EmbeddingBag(r, dim, mode="sum", _weight=weight[b:b + r])
                     for r, b in zip(rows, self.base)]

    def concat_inputs(self, batch):
        """One flat input for (b): indices shifted by each table's first row, offsets of T*B bags."""
        indices, offsets, start = [], [], 0
        for (off, idx), base in zip(batch, self.base):
            indices.append(idx + base)
            offsets.append(off[:-1] + start)
            start += int(idx.numel())
        return torch.cat(indices), torch.cat(offsets)

    @torch.no_grad()
    def time_loop(self, batches, iters):
        samples = []
        for i in range(iters):
            batch = batches[i % len(batches)]
            t0 = time.perf_counter()
            kept = torch_peer.loop_forward(self.bags, ((idx, off[:-1]) for off, idx in batch))
            samples.append(time.perf_counter() - t0)
            del kept  # freed after the clock stops
        return statistics.median(samples)

    @torch.no_grad()
    def time_concat(self, flat, iters):
        samples = []
        for i in range(iters):
            idx, off = flat[i % len(flat)]
            t0 = time.perf_counter()
            self.concat(idx, off)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)


def spread(values):
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=10, method="inclusive")
    return (q[-1] - q[0]) / statistics.median(values)


def run_config(args, cfg, workdir):
    name = "{model} dim {dim} batch {batch} bag {bag} {dist}".format(**cfg)
    wl = os.path.join(workdir, name.replace(" ", "_").replace(":", ""))
    common = [args.embflow, "run", "--model", cfg["model"], "--dim", str(cfg["dim"]), "--batch", str(cfg["batch"]),
              "--bag-size", str(cfg["bag"]), "--dist", cfg["dist"], "--core", str(args.core)]
    if cfg["max_rows"]:
        common += ["--max-rows", str(cfg["max_rows"])]
    rows = model_rows(cfg["model"], cfg["max_rows"])
    peer = TorchPeer(rows, cfg["dim"])
    res = {"embflow": [], "loop": [], "concat": [], "floor": None}
    batches = flat = flows = None
    iters = args.iters if cfg["batch"] <= 8192 else max(3, args.iters // 3)
    for r in range(args.rounds):
        out_json = os.path.join(workdir, "result.json")
        cmd = common + ["--iters", str(iters), "--json", out_json]
        if r == 0:  # measure every flow on every table, keep the best per table, save the indices
            cmd += ["--strategy", "best", "--save-workload", wl]
        else:       # the same per-table flows on the same saved indices
            cmd += ["--strategy", "table-flows", "--table-flows", ",".join(flows), "--load-workload", wl]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out_json) as f:
            doc = json.load(f)
        res["embflow"].append(doc["results"][0]["median_s"])
        flows = doc["results"][0]["flows"]
        res["floor"] = doc["floor_s"]
        if batches is None:
            batches = load_batches(wl)
            flat = [peer.concat_inputs(b) for b in batches]
            peer.time_loop(batches, 2)  # warm-up: first calls fault in torch's buffers
            peer.time_concat(flat, 2)
        res["loop"].append(peer.time_loop(batches, iters))
        res["concat"].append(peer.time_concat(flat, iters))
        print(f"  {name} round {r}: embflow {res['embflow'][-1]*1e6:.0f} us, torch loop {res['loop'][-1]*1e6:.0f} us, "
              f"torch concat {res['concat'][-1]*1e6:.0f} us", file=sys.stderr)
    del peer
    return name, res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embflow", default="build/embflow")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--core", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="row-capped tables, batch 2048 only")
    args = p.parse_args()
    torch.set_num_threads(1)
    os.sched_setaffinity(0, {args.core})  # the same core embflow pins itself to

    configs = []
    for dim in (16, 64):
        for batch in ((2048,) if args.quick else (2048, 65536)):
            for bag in (1, 20):
                for dist in ("uniform", "zipf:1.05"):
                    configs.append(dict(model="criteo-kaggle", dim=dim, batch=batch, bag=bag, dist=dist,
                                        max_rows=100000 if args.quick else 0))
    heap = torch_peer.keep_freed_memory()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; embflow one pinned thread; core {args.core}; {heap}")
    print()
    print("| configuration | embflow us | spread | torch loop us | spread | torch concat us | spread | "
          "loop / embflow | concat / embflow | embflow / floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as workdir:
        for cfg in configs:
            name, r = run_config(args, cfg, workdir)
            e, lo, co = (statistics.median(r[k]) for k in ("embflow", "loop", "concat"))
            print(f"| {name} | {e*1e6:.0f} | {spread(r['embflow'])*100:.0f}% | {lo*1e6:.0f} | {spread(r['loop'])*100:.0f}% | "
                  f"{co*1e6:.0f} | {spread(r['concat'])*100:.0f}% | {lo/e:.2f} | {co/e:.2f} | {e/r['floor']:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
