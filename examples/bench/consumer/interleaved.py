"""Quick interleaved timing of the consumer loops (C, PyView<f64>, PyBuffer<f64>), for iteration.

    .venv/bin/python examples/bench/consumer/interleaved.py [N] [ROUNDS]

Each round runs every loop N times (default 20000), in a rotating order; printed per loop: the
median, 10th percentile and minimum ns per view, the median of the per-round ratios to the C
loop and the ratio of medians. Short rounds keep a shared machine's load swings out of the
ratios; the numbers are still noisy there, so compare runs made back to back. Needs the bench
build (examples/bench/build.py).
"""
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))
import build  # noqa: E402

sys.path.insert(0, str(build.PYDIR))
import bench  # noqa: E402
import bench_helper  # noqa: E402
import numpy as np  # noqa: E402

loops = bench.consumer_loops(bench_helper, np)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 300
keys = list(loops)
for k in keys:
    loops[k](n)  # warm-up
data = {k: [] for k in keys}
ratios = {k: [] for k in keys}
for r in range(rounds):
    t = {}
    for k in keys[r % len(keys):] + keys[:r % len(keys)]:
        t[k] = loops[k](n) / n
        data[k].append(t[k])
    for k in keys:
        ratios[k].append(t[k] / t["c_consumer"])
c_median = statistics.median(data["c_consumer"])
for k in keys:
    v = sorted(data[k])
    med = statistics.median(v)
    print(f"{k:12} median {med:6.2f} ns  p10 {v[len(v) // 10]:6.2f}  min {v[0]:6.2f}  | "
          f"median per-round ratio {statistics.median(ratios[k]):.2f}x  "
          f"ratio of medians {med / c_median:.2f}x")
