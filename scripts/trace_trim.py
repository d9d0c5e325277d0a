#!/usr/bin/env python3
"""The last FRAC of a Kineto trace's GPU timeline, small enough to bring back from the GPU machine
(its $OUT takes files of up to 16 MiB) and study offline: every kernel, copy and memset with its
stream, every CUDA runtime and driver call and every operator (with its input shapes and External
id) in that window, as a gzipped Chrome trace that scripts/trace_window.py and chrome://tracing
read.
usage: scripts/trace_trim.py TRACE.json OUT.json.gz [FRAC=0.4]"""
import gzip, json, sys

src, dst = sys.argv[1], sys.argv[2]
frac = float(sys.argv[3]) if len(sys.argv) > 3 else 0.4
events = json.load(open(src))["traceEvents"]
timed = [e for e in events if e.get("ph") == "X" and "dur" in e]
gpu = [e for e in timed if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
t0 = min(float(e["ts"]) for e in gpu)
t1 = max(float(e["ts"]) + float(e["dur"]) for e in gpu)
start = t1 - (t1 - t0) * frac
keep_args = ("stream", "External id", "correlation", "Input Dims", "grid", "block")
kept = []
for e in timed:
    if float(e["ts"]) + float(e["dur"]) < start:
        continue
    if e.get("cat") not in ("kernel", "gpu_memcpy", "gpu_memset", "cuda_runtime", "cuda_driver",
                            "cpu_op", "user_annotation"):
        continue
    args = {k: v for k, v in e.get("args", {}).items() if k in keep_args}
    kept.append({"ph": "X", "cat": e["cat"], "name": e["name"][:160], "ts": e["ts"],
                 "dur": e["dur"], "pid": e.get("pid", 0), "tid": e.get("tid", 0), "args": args})
with gzip.open(dst, "wt") as f:
    json.dump({"traceEvents": kept}, f, separators=(",", ":"))
print("%s: %d of %d events, the last %.1f ms" % (dst, len(kept), len(events), (t1 - start) / 1000))
