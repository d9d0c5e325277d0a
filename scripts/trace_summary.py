#!/usr/bin/env python3
"""Summarise a Kineto chrome trace written by `photosynth-cli bench --trace` (or `bench --track
--trace`): GPU kernels and copies by name, in ms per unit (per image or tracked frame: pass how
many units the trace holds, warm-up included), and CUDA runtime calls by count (synchronisations,
mallocs, copies). usage: scripts/trace_summary.py TRACE.json UNITS [TOP]"""
import json, sys, collections
path, per = sys.argv[1], float(sys.argv[2]); top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
ev = json.load(open(path))["traceEvents"]
k = collections.defaultdict(lambda: [0.0, 0]); rt = collections.defaultdict(lambda: [0.0, 0])
busy = 0.0
for e in ev:
    c = e.get("cat", ""); d = e.get("dur", 0) or 0
    if c in ("kernel", "gpu_memcpy", "gpu_memset"):
        n = e["name"]
        if c != "kernel": n = c + ":" + n
        k[n[:110]][0] += d; k[n[:110]][1] += 1; busy += d
    elif c == "cuda_runtime" or c == "cuda_driver":
        rt[e["name"]][0] += d; rt[e["name"]][1] += 1
print("GPU busy per unit: %.3f ms" % (busy / 1000 / per))
for n, (d, cnt) in sorted(k.items(), key=lambda x: -x[1][0])[:top]:
    print("%8.3f ms %6.1f x  %s" % (d / 1000 / per, cnt / per, n))
print("-- runtime calls per unit")
for n, (d, cnt) in sorted(rt.items(), key=lambda x: -x[1][1])[:15]:
    print("%8.3f ms %7.1f x  %s" % (d / 1000 / per, cnt / per, n))
print("-- runtime calls by time per unit")
for n, (d, cnt) in sorted(rt.items(), key=lambda x: -x[1][0])[:10]:
    print("%8.3f ms %7.1f x  %s" % (d / 1000 / per, cnt / per, n))
