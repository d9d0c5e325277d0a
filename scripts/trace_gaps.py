#!/usr/bin/env python3
"""Where a host thread's time goes in a Kineto chrome trace (`photosynth-cli bench --trace`): per
busy thread, the top-level host events by total time and the longest stretches covered by no
traced event at all (host work outside ATen and the CUDA runtime: decoding, waits, sleeps), each
with the events either side. usage: scripts/trace_gaps.py TRACE.json UNITS [TOP]"""
import json, sys, collections
path, per = sys.argv[1], float(sys.argv[2]); top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
GPU = ("kernel", "gpu_memcpy", "gpu_memset", "ac2g", "flow")
threads = collections.defaultdict(list)
for e in json.load(open(path))["traceEvents"]:
    if e.get("ph") != "X" or e.get("cat", "") in GPU or "dur" not in e: continue
    threads[(e.get("pid"), e.get("tid"))].append((float(e["ts"]), float(e["ts"]) + float(e["dur"]), e.get("name", "?")[:80], e.get("cat", "")))
for key, evs in sorted(threads.items(), key=lambda kv: -len(kv[1])):
    if len(evs) < 50: continue
    evs.sort()
    span = (evs[-1][1] - evs[0][0]) / 1000
    tops, gaps, end, last = collections.defaultdict(lambda: [0.0, 0]), [], evs[0][0], evs[0]
    for ev in evs:
        if ev[0] >= end:  # top level: starts after everything before it ended
            tops[ev[2]][0] += ev[1] - ev[0]; tops[ev[2]][1] += 1
            if ev[0] - end > 0: gaps.append((ev[0] - end, last[2], ev[2], (end - evs[0][0]) / 1000))
        if ev[1] > end: end, last = ev[1], ev
    idle = sum(g[0] for g in gaps) / 1000
    print("thread %s: %d events over %.1f ms, %.2f ms per unit untraced" % (key, len(evs), span, idle / per))
    for n, (d, c) in sorted(tops.items(), key=lambda x: -x[1][0])[:top]:
        print("  %9.3f ms %7.1f x  %s" % (d / 1000 / per, c / per, n))
    for g in sorted(gaps, reverse=True)[:top]:
        print("  gap %8.3f ms at %9.1f ms: after %s | before %s" % (g[0] / 1000, g[3], g[1], g[2]))
