#!/usr/bin/python3
"""A/B of the write hook's own cost: `handle_write`'s BPF time per run (bpf_stats), for an
untracked and a tracked writer, under two or more celerywatch builds run in turn
(interleaved, --tail-window=always so every write meets the hook). Medians of the runs:
the per-run figure includes bpf_stats' two clock reads, so compare builds, not absolutes.

  tools/bench/write_hook_ab.py --reps 10 new=build/celerywatch old=/tmp/celerywatch-before

Needs root and build/bench/loop (tools/bench.sh builds it). Restores kernel.bpf_stats_enabled.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOOP = os.path.join(ROOT, "build", "bench", "loop")
STATS = "/proc/sys/kernel/bpf_stats_enabled"


def write_hook_stats(pid):
    """(run_time_ns, run_cnt) of handle_write among the programs pid holds"""
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids.update(int(l.split()[1]) for l in f if l.startswith("prog_id:"))
        except OSError:
            pass
    out = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout)
    p = next(p for p in out if p["id"] in ids and p.get("name") == "handle_write")
    return p.get("run_time_ns", 0), p.get("run_cnt", 0)


def one_build(binary, log, writes):
    """{workload: ns per run} for one start of the recorder"""
    r = subprocess.Popen([binary, "record", "-o", log, "--tail-window=always"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while not (os.path.exists(log) and "tracer_start" in open(log).read()):
            if time.time() > deadline or r.poll() is not None:
                raise SystemExit("write_hook_ab: %s did not start" % binary)
            time.sleep(0.05)
        time.sleep(0.3)
        out = {}
        for w, extra in (("untracked", []), ("tracked", ["celery"])):
            t0, n0 = write_hook_stats(r.pid)
            with open(os.devnull, "w") as null:
                subprocess.run([LOOP, "write", str(writes)] + extra, stdout=null, stderr=null,
                               pass_fds=(), preexec_fn=lambda: os.dup2(os.open(os.devnull, os.O_WRONLY), 3))
            t1, n1 = write_hook_stats(r.pid)
            out[w] = (t1 - t0) / max(1, n1 - n0)
        return out
    finally:
        r.terminate()
        r.wait()
        os.unlink(log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--writes", type=int, default=200000)
    ap.add_argument("builds", nargs="+", metavar="LABEL=BINARY")
    args = ap.parse_args()
    builds = [b.split("=", 1) for b in args.builds]
    tmp = tempfile.mkdtemp(prefix="cw-hookab-")
    res = {(l, w): [] for l, _ in builds for w in ("untracked", "tracked")}
    with open(STATS) as f:
        saved = f.read().strip()
    try:
        with open(STATS, "w") as f:
            f.write("1")
        for _ in range(args.reps):
            for label, binary in builds:
                for w, ns in one_build(binary, os.path.join(tmp, "ev.jsonl"), args.writes).items():
                    res[(label, w)].append(ns)
    finally:
        with open(STATS, "w") as f:
            f.write(saved)
        os.rmdir(tmp)
    print("| build | writer | median ns/run | min | runs |")
    print("|---|---|---|---|---|")
    for (label, w), v in res.items():
        print("| %s | %s | %.0f | %.0f | %s |" % (label, w, statistics.median(v), min(v), " ".join("%.0f" % x for x in v)))


if __name__ == "__main__":
    main()
