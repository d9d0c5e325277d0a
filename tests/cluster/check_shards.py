#!/usr/bin/python3
"""The cluster test's checks on the shard journals (JSON lines, see core/batch/shard_journal.h),
read here independently of photosynth-cli's own reader.

  check_shards.py once ROOT N IMAGE_DIR BROKEN   every image done exactly once (or found done),
                                                 by exactly one shard; BROKEN only failed
  check_shards.py resumed JOURNAL                the shard's first run was cut off (no end line),
                                                 its second skipped exactly what the first did
                                                 and did the rest; prints the counts
  check_shards.py report REPORT.json N DONE BROKEN  merge's report: counts, the failure, throughput
"""
import collections
import json
import os
import sys


def lines(path):
    with open(path) as journal:
        for line in journal:
            try:
                yield json.loads(line)
            except ValueError:
                pass  # a line cut by a kill


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def once(root, shards, image_dir, broken):
    done = collections.Counter()
    owner = collections.defaultdict(set)
    failed = set()
    for index in range(shards):
        path = f"{root}/.photosynth/shards/{index}-of-{shards}.jsonl"
        if not os.path.exists(path):
            fail(f"{path}: missing")
        for entry in lines(path):
            name = entry.get("input")
            if name is None:
                continue
            owner[name].add(index)
            # "skipped": a kill fell between an annotation's atomic save and its journal line,
            # and the rerun found the annotation complete: done once, not twice.
            if entry["event"] in ("done", "skipped"):
                done[name] += 1
            if entry["event"] == "failed":
                failed.add(name)
    images = sorted(n for n in os.listdir(image_dir) if n.endswith(".png"))
    for name in images:
        if len(owner[name]) != 1:
            fail(f"{name}: in shards {sorted(owner[name])}, expected exactly one")
        if name == broken:
            if done[name] or name not in failed:
                fail(f"{name}: expected only failures, done {done[name]} time(s)")
        elif done[name] != 1:
            fail(f"{name}: done {done[name]} time(s), expected once")
    print(f"once: {len(images)} image(s), each in one shard; {sum(done.values())} done once each,"
          f" {broken} failed")


def resumed(journal):
    runs = collections.OrderedDict()
    done_by = collections.Counter()
    for entry in lines(journal):
        run = runs.setdefault(entry["run"], collections.Counter())
        run[entry["event"]] += 1
        if entry["event"] == "done":
            done_by[entry["input"]] += 1
    if len(runs) != 2:
        fail(f"{journal}: {len(runs)} run(s), expected the cancelled one and its resubmission")
    first, second = runs.values()
    inputs = next(e["inputs"] for e in lines(journal) if e["event"] == "start")
    if first["end"]:
        fail(f"{journal}: the first run ended normally; the cancel came too late")
    if first["done"] < 1 or first["done"] >= inputs:
        fail(f"{journal}: the cancelled run did {first['done']} of {inputs}: not mid-run")
    if not second["end"]:
        fail(f"{journal}: the resubmitted run did not finish")
    if second["resumed"] != first["done"]:
        fail(f"{journal}: resubmission skipped {second['resumed']}, the first run did "
             f"{first['done']}")
    twice = [name for name, count in done_by.items() if count > 1]
    if twice:
        fail(f"{journal}: done twice: {twice}")
    if first["done"] + second["done"] + second["failed"] + second["skipped"] != inputs:
        fail(f"{journal}: {first['done']} + {second['done']} done + {second['failed']} failed "
             f"!= {inputs} input(s)")
    print(f"resumed: {inputs} input(s); cancelled run did {first['done']}; resubmission skipped "
          f"{second['resumed']} (done earlier), did {second['done']}, failed {second['failed']}")


def report(path, shards, done, broken):
    with open(path) as file:
        merged = json.load(file)
    if merged["shards"] != shards or len(merged["per_shard"]) != shards:
        fail(f"{path}: {merged['shards']} shard(s)")
    if merged["done"] != done or merged["failed"] != 1 or merged["pending"] != 0:
        fail(f"{path}: done {merged['done']}, failed {merged['failed']}, pending "
             f"{merged['pending']}; expected {done}, 1, 0")
    files = [f["file"] for f in merged["failures"]]
    if files != [broken] or not merged["failures"][0]["reason"]:
        fail(f"{path}: failures {merged['failures']}")
    for shard in merged["per_shard"]:
        if not any(run["images_per_second"] > 0 for run in shard["runs"]) and shard["done"]:
            fail(f"{path}: shard {shard['shard']} has no throughput")
    print(f"report: {merged['command']}: {done} done, failure {files[0]}: "
          f"{merged['failures'][0]['reason']}")


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "once":
        once(args[0], int(args[1]), args[2], args[3])
    elif what == "resumed":
        resumed(args[0])
    elif what == "report":
        report(args[0], int(args[1]), int(args[2]), args[3])
    else:
        fail("unknown check " + what)
