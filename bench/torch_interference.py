#!/usr/bin/env python3
"""How embflow's pinned workers fare right after a torch call in the same process.

Torch's OpenMP threads spin for a while after every parallel call (libgomp: GOMP_SPINCOUNT,
OMP_WAIT_POLICY; Intel's runtime: KMP_BLOCKTIME) on the same cores as embflow's workers, one
pinned to every core. This times criteo-kaggle dim 16 batch 2048 on all cores (symmetric plan):
embflow's batches back to back (steady), and the same number of batches right after one
nn.EmbeddingBag call (after torch), reporting the median of each position in the sequence.
Run it as it is and with OMP_WAIT_POLICY=PASSIVE set (torch's threads then sleep at once):
  PYTHONPATH=build/python /usr/bin/python3 bench/torch_interference.py [--profile FILE]
  OMP_WAIT_POLICY=PASSIVE PYTHONPATH=build/python /usr/bin/python3 bench/torch_interference.py
"""
import argparse
import os
import statistics
import time

import torch

import embflow


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="", help="machine profile for the plan (default: a quick calibration)")
    p.add_argument("--sequence", type=int, default=6, help="embflow batches timed after each torch call")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--settle", type=float, default=1.0, help="seconds of untimed batches first")
    args = p.parse_args()
    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(cores)
    ebc = embflow.EmbeddingBagCollection.from_preset("criteo-kaggle", dim=16)
    data = [ebc.generate(2048, "uniform", seed=1000 + k) for k in range(8)]
    ix, off = ebc.generate(2048, "uniform", seed=7)
    ebc.use_plan(ebc.plan(ix, off, profile=args.profile, cores=cores, mapper="symmetric"))
    out = ebc.empty_output(2048)
    bag = torch.nn.EmbeddingBag(100_000, 16, mode="sum")
    t_ix, t_off = torch.randint(0, 100_000, (20_000,)), torch.arange(0, 20_000, 10)

    # A fresh process runs its first tenth of a second or so slow (16-core machine: 345 us a batch
    # against 75-85 us later), torch or not: measured past it.
    t_end = time.perf_counter() + args.settle
    while time.perf_counter() < t_end:
        ebc.forward(data[0][0], data[0][1], out=out)

    def sequence(after_torch):
        times = []
        if after_torch:
            with torch.no_grad():
                bag(t_ix, t_off)
        for k in range(args.sequence):
            d = data[k % len(data)]
            t0 = time.perf_counter()
            ebc.forward(d[0], d[1], out=out)
            times.append(time.perf_counter() - t0)
        return times

    print(f"torch {torch.__version__}, {cores} threads; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}; "
          f"embflow symmetric plan on {cores} cores, criteo-kaggle dim 16 batch 2048; median us of each position "
          f"over {args.repeats} sequences")
    for after_torch in (False, True, False):
        runs = [sequence(after_torch) for _ in range(args.repeats)]
        medians = [statistics.median(r[k] for r in runs) * 1e6 for k in range(args.sequence)]
        print(f"{'after torch' if after_torch else 'steady':12s} " + " ".join(f"{m:7.0f}" for m in medians))


if __name__ == "__main__":
    main()
