#!/usr/bin/env python3
"""The steady end of a Kineto trace (`photosynth-cli bench --track --trace`): over the last FRAC
of the GPU timeline, how busy the GPU was, per stream and with streams overlapping, where it sat
idle and which host call ran then, and the host's CUDA runtime calls (syncs are host waits).
usage: scripts/trace_window.py TRACE.json[.gz] [FRAC=0.4] [TOP=12]"""
import json, sys, collections, bisect, gzip
path = sys.argv[1]; frac = float(sys.argv[2]) if len(sys.argv) > 2 else 0.4
top = int(sys.argv[3]) if len(sys.argv) > 3 else 12
ev = [e for e in json.load((gzip.open if path.endswith(".gz") else open)(path, "rt"))["traceEvents"] if e.get("ph") == "X" and "dur" in e]
gpu = [e for e in ev if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
rt = [e for e in ev if e.get("cat") in ("cuda_runtime", "cuda_driver")]
t0 = min(float(e["ts"]) for e in gpu); t1 = max(float(e["ts"]) + float(e["dur"]) for e in gpu)
w0 = t1 - (t1 - t0) * frac
def spans(es):
    out = sorted((max(float(e["ts"]), w0), float(e["ts"]) + float(e["dur"])) for e in es if float(e["ts"]) + float(e["dur"]) > w0)
    merged = []
    for a, b in out:
        if merged and a <= merged[-1][1]: merged[-1][1] = max(merged[-1][1], b)
        else: merged.append([a, b])
    return merged
wall = (t1 - w0) / 1000
allspans = spans(gpu); busy = sum(b - a for a, b in allspans) / 1000
print("window %.1f ms (last %.0f%%): GPU busy %.1f ms (%.0f%%)" % (wall, frac * 100, busy, 100 * busy / wall))
by_stream = collections.defaultdict(list)
for e in gpu: by_stream[e.get("args", {}).get("stream", "?")].append(e)
total = 0
for s, es in sorted(by_stream.items(), key=lambda kv: -len(kv[1])):
    b = sum(y - x for x, y in spans(es)) / 1000; total += b
    if b > 0: print("  stream %s busy %.1f ms" % (s, b))
print("  streams overlapping %.1f ms" % (total - busy))
idle = [(allspans[i + 1][0] - allspans[i][1], allspans[i][1], allspans[i + 1][0]) for i in range(len(allspans) - 1)]
print("GPU idle %.1f ms in %d gaps > 20 us" % (sum(g[0] for g in idle if g[0] > 20) / 1000, sum(1 for g in idle if g[0] > 20)))
rts = sorted((float(e["ts"]), float(e["ts"]) + float(e["dur"]), e["name"]) for e in rt)
starts = [r[0] for r in rts]
by_name = collections.defaultdict(lambda: [0.0, 0])
for a, b, n in rts:
    if a >= w0: by_name[n][0] += b - a; by_name[n][1] += 1
def host_at(t):  # the runtime call running at t, or the last one before it
    i = bisect.bisect_right(starts, t) - 1
    return ("in " if i >= 0 and rts[i][1] >= t else "after ") + (rts[i][2] if i >= 0 else "-")
idle_by_host = collections.defaultdict(lambda: [0.0, 0])
for g, a, b in idle:
    if g > 20: k = host_at((a + b) / 2); idle_by_host[k][0] += g; idle_by_host[k][1] += 1
print("GPU idle by what the host was doing mid-gap:")
for n, (d, c) in sorted(idle_by_host.items(), key=lambda x: -x[1][0])[:top]:
    print("  %8.2f ms %5d x  %s" % (d / 1000, c, n))
print("host runtime calls in the window:")
for n, (d, c) in sorted(by_name.items(), key=lambda x: -x[1][0])[:top]:
    print("  %8.2f ms %6d x  %s" % (d / 1000, c, n))
kern = collections.defaultdict(lambda: [0.0, 0])
for e in gpu:
    if float(e["ts"]) >= w0:
        n = e["name"] if e.get("cat") == "kernel" else e.get("cat") + ":" + e["name"]
        kern[n[:120]][0] += float(e["dur"]); kern[n[:120]][1] += 1
print("GPU work in the window by kernel:")
for n, (d, c) in sorted(kern.items(), key=lambda x: -x[1][0])[:int(sys.argv[4]) if len(sys.argv) > 4 else 40]:
    print("  %8.2f ms %6d x  %s" % (d / 1000, c, n))
# The operators behind that work, with their input shapes (the trace records them): a kernel's
# "correlation" names the runtime call that launched it, and the innermost operator running on
# that call's thread at the time is the one behind it (a kernel's "External id" alone matched no
# operator in LibTorch 2.11's traces). Kernels replayed from a CUDA graph have none: trace with
# PHOTOSYNTH_CUDA_GRAPHS=0 to see them here.
ops_by_thread = collections.defaultdict(list)
for e in ev:
    if e.get("cat") == "cpu_op":
        a = e.get("args", {})
        label = e["name"] + " " + json.dumps(a.get("Input Dims", []), separators=(",", ":"))[:90]
        ops_by_thread[(e.get("pid"), e.get("tid"))].append((float(e["ts"]), float(e["ts"]) + float(e["dur"]), label))
for spans_of in ops_by_thread.values():
    spans_of.sort()
op_starts = {k: [o[0] for o in v] for k, v in ops_by_thread.items()}
def op_at(thread, t):  # the innermost (latest started, still running) operator at t
    spans_of = ops_by_thread.get(thread, [])
    last = bisect.bisect_right(op_starts.get(thread, []), t) - 1
    for i in range(last, max(last - 200, -1), -1):  # nesting is shallow: look back a little
        if spans_of[i][1] >= t: return spans_of[i][2]
    return None
launch_op = {}
for e in rt:
    c = e.get("args", {}).get("correlation")
    if c is not None:
        launch_op[c] = op_at((e.get("pid"), e.get("tid")), float(e["ts"]))
by_op = collections.defaultdict(lambda: [0.0, 0])
for e in gpu:
    if float(e["ts"]) >= w0 and e.get("cat") == "kernel":
        k = launch_op.get(e.get("args", {}).get("correlation")) or "(no operator: graph replay or other)"
        by_op[k][0] += float(e["dur"]); by_op[k][1] += 1
print("GPU work in the window by operator and input shapes:")
for n, (d, c) in sorted(by_op.items(), key=lambda x: -x[1][0])[:int(sys.argv[4]) if len(sys.argv) > 4 else 40]:
    print("  %8.2f ms %6d x  %s" % (d / 1000, c, n))
