#!/usr/bin/python3
"""`make bench`: the host's cost of each tracer, side by side, as ratios to no tracer.

Workloads are tools/bench/loop (timed from inside: the fastest of 20 chunks); tracers are celerywatch in its default
and each option, the libbpf-tools trio (execsnoop + exitsnoop + sigsnoop) and a bpftrace
script on the same tracepoints (tools/bench/peers.bt). Each repetition runs every tracer
right after a run with no tracer (interleaved: these VMs drift), ratios are of the best
times and the spread is the range of the paired ratios. Then one more pass with
kernel.bpf_stats_enabled=1 gives each tracer's BPF time per operation (run_time_ns), and the
sysctl is restored. Then the recorder's own figures (tools/bench/latency.py): death → log,
alert and metric latency, loss at the highest exec rate, CPU per 1,000 lines, RSS, BPF map
memory by --max-tracked. Needs root. Prints Markdown (docs/benchmarks.md keeps a copy).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import latency

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
LOOP = os.path.join(BUILD, "bench", "loop")
FOOTPRINT = {}	# tracer: (RSS KiB, BPF map KiB) after its first workload set


def workloads(scale):
    """(key, description, loop arguments). The order matters with --tail-window: the rows
    before exec_celery run with no window open (steady state), a tracked exec opens one, and
    the rows after it run inside it. "serve" rows go to the long-lived tracked writer (Server);
    "window" rows exec a tracked process first, so they are inside a window on their own."""
    n = lambda x: max(1, int(x * scale))
    return [
        ("exec", "fork+exec `/bin/true` (untracked)", ["exec", n(1000), "/bin/true"]),
        ("getppid", "getppid(2) (any syscall)", ["getppid", n(2000000)]),
        ("write", "100-byte write to fd 1, untracked", ["write", n(500000)]),
        ("write_tracked", "100-byte write to fd 1, tracked, steady state (no window)",
         ["serve", "write", n(500000)]),
        ("exec_celery", "fork+exec `/bin/true celery worker` (tracked, recorded; opens a window)",
         ["exec", n(500), "/bin/true", "@celery", "worker"]),
        ("write_window", "100-byte write to fd 1, untracked, inside a window",
         ["window", "write", n(500000)]),
        ("write_tracked_window", "100-byte write to fd 1, tracked, inside a window (right after its exec)",
         ["write", n(500000), "celery"]),
        ("lines", "chatty worker: 1M lines to stderr (tracked, inside a window)", ["lines", n(1000000), "celery"]),
    ]


class Server:
    """`loop serve` as "celery": a tracked writer that lives across the tracers' starts, so each
    recorder finds it in its start-up scan (tracked) and no exec of it opens a window."""

    def __init__(self):
        r, w = os.pipe()
        # argv[0] "celery": the scan's identity (user/identity/celery.c) takes it for Celery
        self.p = subprocess.Popen(["celery", "serve"], executable=LOOP, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, close_fds=False,
                                  preexec_fn=lambda: os.dup2(w, 3), text=True)
        os.close(w)
        self.out = os.fdopen(r)

    def run(self, what, n):
        self.p.stdin.write("%s %d\n" % (what, n))
        self.p.stdin.flush()
        line = self.out.readline()
        if not line:
            sys.exit("bench: the serve workload died")
        return float(line)

    def stop(self):
        self.p.stdin.close()
        self.p.wait()
        self.out.close()


SERVER = None


def op_count(args):
    return int(args[2] if args[0] in ("serve", "window") else args[1])


def run_loop(args):
    """One workload; returns ns per operation (the loop's own clock)."""
    if args[0] == "serve":
        return SERVER.run(args[1], int(args[2]))
    if args[0] == "window":	# a tracked exec first: a --tail-window window is open
        run_loop(["exec", 1, "/bin/true", "@celery", "worker"])
        args = args[1:]
    r, w = os.pipe()
    p = subprocess.Popen([LOOP] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         close_fds=False, preexec_fn=lambda: os.dup2(w, 3))
    os.close(w)
    out = os.read(r, 64)
    os.close(r)
    if p.wait() != 0 or not out:
        sys.exit("bench: workload %s failed" % " ".join(map(str, args)))
    return float(out)


def bpf_progs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    try:
        return json.loads(out or "[]")
    except ValueError:
        return []


def fd_ids(pid, key):
    """BPF object ids (key "prog_id" or "map_id") a process holds fds of (Debian's bpftool
    does not list owners, /proc/PID/fdinfo does)."""
    ids = set()
    d = "/proc/%d/fdinfo" % pid
    try:
        fds = os.listdir(d)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        ids.add(int(line.split()[1]))
        except (OSError, ValueError):
            pass
    return ids


def progs_of(pids):
    ids = set().union(*(fd_ids(p, "prog_id") for p in pids)) if pids else set()
    return [p for p in bpf_progs() if p.get("id") in ids]


def foreign_tracers():
    """Tracing programs attached by other processes before we start: measured too."""
    kinds = {"tracepoint", "raw_tracepoint", "kprobe", "tracing", "perf_event"}
    names = {p["id"]: p.get("name", "?") for p in bpf_progs() if p.get("type") in kinds}
    found = set()
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            for i in fd_ids(int(d), "prog_id") & set(names):
                try:
                    with open("/proc/%s/comm" % d) as f:
                        comm = f.read().strip()
                except OSError:
                    comm = "?"
                found.add("%s(%s %s)" % (names[i], comm, d))
    return sorted(found)


class Tracer:
    """A tracer's processes: started, waited for until its programs are attached, stopped."""

    def __init__(self, name, cmds, min_progs, logfile=None):
        self.name, self.cmds, self.min_progs, self.logfile = name, cmds, min_progs, logfile
        self.procs = []

    def start(self):
        if self.logfile and os.path.exists(self.logfile):
            os.unlink(self.logfile)
        for c in self.cmds:
            self.procs.append(subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.time() + 60
        while time.time() < deadline:
            if any(p.poll() is not None for p in self.procs):
                self.stop()
                raise RuntimeError("tracer %s exited at start" % self.name)
            if len(progs_of(self.pids())) >= self.min_progs and self.ready():
                time.sleep(0.3)	# links after programs: let the last attach settle
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("tracer %s did not attach within 60 s" % self.name)

    def ready(self):
        if not self.logfile:
            return True
        try:
            with open(self.logfile) as f:
                return "tracer_start" in f.read(4096)
        except OSError:
            return False

    def pids(self):
        return {p.pid for p in self.procs}

    def footprint(self):
        """(RSS KiB of its processes, BPF map memory KiB), read while it runs"""
        rss = 0
        for p in self.procs:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    rss += next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
            except (OSError, StopIteration):
                pass
        out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True).stdout
        try:
            maps = json.loads(out or "[]")
        except ValueError:
            maps = []
        ids = set().union(*(fd_ids(p, "map_id") for p in self.pids()))
        mem = sum(m.get("bytes_memlock", 0) for m in maps if m.get("id") in ids)
        return rss, mem // 1024

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


def tracers(args, tmp):
    cw = os.path.join(BUILD, "celerywatch")
    log = os.path.join(tmp, "ev.jsonl")
    rec = lambda binary, opts: [binary, "record", "-o", log] + opts
    t = [Tracer("celerywatch (default)", [rec(cw, [])], 1, log)]
    if not args.quick:
        for opts in (["--tail-window=always"], ["--tail-hook=btf"], ["--tail-hook=raw"], ["--no-exec-fail"],
                     ["--no-stderr-tail"], ["--no-stderr-tail", "--no-exec-fail"]):
            t.append(Tracer("celerywatch " + " ".join(opts), [rec(cw, opts)], 1, log))
    for label, binary, opts in args.variant:
        t.append(Tracer(label, [rec(binary, opts.split())], 1, log))
    if not args.quick:
        trio = ["/usr/sbin/execsnoop", "/usr/sbin/exitsnoop", "/usr/sbin/sigsnoop"]
        if all(os.access(x, os.X_OK) for x in trio):
            t.append(Tracer("libbpf-tools trio", [[x] for x in trio], 3))
        else:
            print("bench: libbpf-tools missing (make deps): trio skipped", file=sys.stderr)
        if shutil.which("bpftrace"):
            t.append(Tracer("bpftrace peers.bt", [["bpftrace", os.path.join(ROOT, "tools/bench/peers.bt")]], 4))
        else:
            print("bench: bpftrace missing (make deps): skipped", file=sys.stderr)
    return t


def run_set(wl):
    return {k: run_loop(a) for k, _, a in wl}


def measure(wl, trs, reps):
    """{tracer: [(off, on) per rep]} with off/on = {workload: ns/op}"""
    res = {t.name: [] for t in trs}
    run_set(wl)	# warm caches
    for rep in range(reps):
        for t in list(trs):
            off = run_set(wl)
            try:
                t.start()
            except RuntimeError as e:
                print("bench: %s: left out" % e, file=sys.stderr)
                trs.remove(t)
                del res[t.name]
                continue
            try:
                on = run_set(wl)
                if rep == 0:
                    FOOTPRINT[t.name] = t.footprint()
                print("bench: rep %d %-45s %s" % (rep + 1, t.name, " ".join(
                    "%s=%.2f" % (k, on[k] / off[k]) for k in on)), file=sys.stderr)
            finally:
                t.stop()
            res[t.name].append((off, on))
    return res


def bpf_cost(wl, trs):
    """{tracer: {workload: BPF ns per operation}, tracer+'/progs': {prog: (runs, ns/run)}}"""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        saved = f.read().strip()
    out = {}
    try:
        with open(path, "w") as f:
            f.write("1")
        for t in trs:
            t.start()
            try:
                per_wl, progs = {}, {}
                for k, _, a in wl:
                    before = {p["id"]: p for p in progs_of(t.pids())}
                    run_loop(a)
                    after = {p["id"]: p for p in progs_of(t.pids())}
                    ns = 0
                    for i, p in after.items():
                        b = before.get(i, {})
                        dn = p.get("run_time_ns", 0) - b.get("run_time_ns", 0)
                        dc = p.get("run_cnt", 0) - b.get("run_cnt", 0)
                        ns += dn
                        name = p.get("name", "?")
                        c0, n0 = progs.get(name, (0, 0))
                        progs[name] = (c0 + dc, n0 + dn)
                    ops = op_count(a)
                    per_wl[k] = ns / ops
                out[t.name] = per_wl
                out[t.name + "/progs"] = progs
            finally:
                t.stop()
    finally:
        with open(path, "w") as f:
            f.write(saved)
    return out


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return "%s, %d CPUs (%s), kernel %s" % (platform.node(), os.cpu_count(), cpu, platform.release())


def report(wl, res, cost, reps):
    names = list(res)
    base = {k: min(off[k] for rows in res.values() for off, _ in rows) for k, _, _ in wl}
    print("Run: %s; %s; best of %d interleaved runs.\n" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine(), reps))
    print("Ratio to no tracer (best of the runs; the range of the paired ratios in brackets):\n")
    print("| workload | none, ns/op | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for k, desc, a in wl:
        cells = []
        for n in names:
            best_on = min(on[k] for _, on in res[n])
            pr = [on[k] / off[k] for off, on in res[n]]
            cells.append("×%.2f [%.2f–%.2f]" % (best_on / base[k], min(pr), max(pr)))
        print("| %s (%s) | %.0f | %s |" % (desc, op_count(a), base[k], " | ".join(cells)))
    print("\nFootprint after one workload set (RSS of the tracer's processes; BPF maps' memlock): " +
          "; ".join("%s %d MiB + %d MiB" % (n, r // 1024, m // 1024) for n, (r, m) in FOOTPRINT.items()) + ".")
    if not cost:
        return
    print("\nBPF time per operation, ns (kernel.bpf_stats_enabled; the tracer's programs only):\n")
    cn = [n for n in names if n in cost]
    print("| workload | " + " | ".join(cn) + " |")
    print("|---|" + "---|" * len(cn))
    for k, desc, _ in wl:
        print("| %s | %s |" % (desc, " | ".join("%.0f" % cost[n][k] for n in cn)))
    print("\nPer program over the pass (runs, mean ns per run):\n")
    for n in cn:
        progs = cost[n + "/progs"]
        print("- %s: %s" % (n, ", ".join("`%s` %d × %.0f" % (p, c, t / c if c else 0)
                                          for p, (c, t) in sorted(progs.items()) if c)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions (default 3)")
    ap.add_argument("--scale", type=float, default=1.0, help="scale the workloads' iteration counts")
    ap.add_argument("--quick", action="store_true", help="celerywatch default only, no peers (for CI)")
    ap.add_argument("--no-stats", action="store_true", help="skip the bpf_stats pass")
    ap.add_argument("--only", metavar="KEYS", help="these workloads only, comma-separated (e.g. "
                    "write,write_tracked,write_window,write_tracked_window), in the table's order")
    ap.add_argument("--no-latency", action="store_true", help="skip the recorder's latency, loss and memory figures")
    ap.add_argument("--variant", nargs=3, action="append", default=[], metavar=("LABEL", "BINARY", "OPTS"),
                    help="one more celerywatch build to compare (OPTS: its record options, may be '')")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root")
    wl = workloads(args.scale)
    if args.only:
        keep = args.only.split(",")
        unknown = set(keep) - {k for k, _, _ in wl}
        if unknown:
            sys.exit("bench: --only: no workload %s" % ", ".join(sorted(unknown)))
        wl = [w for w in wl if w[0] in keep]
    global SERVER
    SERVER = Server()
    tmp = tempfile.mkdtemp(prefix="cw-bench-")
    try:
        trs = tracers(args, tmp)
        other = foreign_tracers()
        if other:
            print("bench: WARNING: other tracers are attached and are measured too: %s" % ", ".join(other),
                  file=sys.stderr)
        res = measure(wl, trs, args.reps)
        cost = {} if args.no_stats else bpf_cost(wl, trs)
        report(wl, res, cost, args.reps)
        if not args.no_latency:
            latency.main(args, tmp)
        if other:
            print("\nWARNING: other tracers were attached during the run: %s" % ", ".join(other))
    finally:
        SERVER.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
