"""`make bench`, the recorder's side (issue 11 item 3): how late a death reaches the log, an
alert command and /metrics (p50/p99), what is lost at the highest exec rate of
Celery-looking commands, the recorder's CPU per 1,000 lines, its RSS and where it goes, and
the BPF maps' memory against --max-tracked. Real parts only: build/celerywatch record, the
real kernel, Celery-looking processes (build/bench/stub, exec'd with a `celery -A bench
worker -Q ...` command line: tracked, and read as a worker MainProcess by the engine).

"In the log" is seen through inotify (IN_MODIFY on the file, then the new bytes read and
matched): its resolution is this process's wake-up, tens of µs. A metric is seen by
scraping /metrics in a tight loop over one keep-alive connection: its resolution is one
scrape (printed). Called by run.py (`main(args)`); prints Markdown.
"""
import ctypes
import datetime
import http.client
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CW = os.path.join(BUILD, "celerywatch")
STUB = os.path.join(BUILD, "bench", "stub")
LOOP = os.path.join(BUILD, "bench", "loop")
IN_MODIFY = 0x2
MAX_TRACKED = (1024, 32768, 262144, 4194304)


class Watch:
    """New lines of files, woken by inotify: wait(pred) returns (line, monotonic ns seen)."""

    def __init__(self, *paths):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.files = {}
        for p in paths:
            open(p, "a").close()
            if self.libc.inotify_add_watch(self.fd, p.encode(), IN_MODIFY) < 0:
                raise OSError(ctypes.get_errno(), "inotify_add_watch " + p)
            self.files[p] = [open(p, "rb"), b""]
        self.poll = select.poll()
        self.poll.register(self.fd, select.POLLIN)

    def lines(self, path):
        f, part = self.files[path]
        data = part + f.read()
        *whole, self.files[path][1] = data.split(b"\n")
        return whole

    def wait(self, path, match, timeout=10.0):
        """The first new line of path holding every bytes string of match, and when it was seen
        (monotonic and wall-clock ns)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines(path):
                if all(m in line for m in match):
                    return json.loads(line), time.monotonic_ns(), time.time_ns()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line with %s in %s" % (match, path))
            if self.poll.poll(left * 1000):
                try:
                    os.read(self.fd, 65536)
                except BlockingIOError:
                    pass

    def close(self):
        os.close(self.fd)
        for f, _ in self.files.values():
            f.close()


class Recorder:
    """build/celerywatch record with some options, until stop()."""

    def __init__(self, tmp, *opts):
        self.log = os.path.join(tmp, "lat.jsonl")
        if os.path.exists(self.log):
            os.unlink(self.log)
        self.p = subprocess.Popen([CW, "record", "-o", self.log] + list(opts), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        deadline = time.time() + 60
        while not self.started():
            if self.p.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("celerywatch record %s did not start" % " ".join(opts))
            time.sleep(0.1)

    def started(self):
        try:
            with open(self.log) as f:
                return "tracer_start" in f.read(4096)
        except OSError:
            return False

    def cpu_s(self):
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wakeups(self):
        """Voluntary context switches of all its threads: how often they slept and woke."""
        n = 0
        for t in os.listdir("/proc/%d/task" % self.p.pid):
            try:
                with open("/proc/%d/task/%s/status" % (self.p.pid, t)) as f:
                    n += next(int(l.split()[1]) for l in f if l.startswith("voluntary_ctxt_switches"))
            except (OSError, StopIteration):
                pass
        return n

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def events(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]


def worker_stub(name, queue):
    """A Celery-looking worker MainProcess that waits to be killed."""
    return subprocess.Popen(["celery", "-A", "bench", "worker", "-Q", queue, "-n", name],
                            executable=STUB, env={"CW_STUB_PAUSE": "1"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pct(v, q):
    """The q-th percentile (nearest rank) of v."""
    s = sorted(v)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


def iso_ns(ts):
    """A line's "ts" (2026-12-02T07:08:19.130136Z) as wall-clock ns."""
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + d.microsecond * 1000


def scrape_until(conn, needle, timeout=10.0):
    """Scrape /metrics until needle shows; (monotonic ns seen, scrapes' durations in ns)."""
    took, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = time.monotonic_ns()
        conn.request("GET", "/metrics")
        body = conn.getresponse().read()
        now = time.monotonic_ns()
        took.append(now - t)
        if needle in body:
            return now, took
    raise TimeoutError("%s never on /metrics" % needle)


def deaths(rec, n, tag, alerts=None, port=None):
    """n worker stubs, each started, seen in the log (its exec line), then SIGKILLed: ms
    from just before kill(2) to the exit line in the log (and to the `death` alert, or its
    worker on /metrics every other death), and from the kernel's time of death (the exit
    line's ts) to the line in the log."""
    w = Watch(rec.log, *([alerts] if alerts else []))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5) if port else None
    out = {"log": [], "log_kernel": [], "alert": [], "metric": [], "scrape": []}
    try:
        for i in range(n):
            name = "%s%d@bench" % (tag, i)
            p = worker_stub(name, "cwlat_" + tag)
            pid = b'"pid":%d,' % p.pid
            w.wait(rec.log, [b'"type":"exec"', pid])
            time.sleep(0.02)	# the exec's own incidents (a verdict alert) out of the way
            t0 = time.monotonic_ns()
            os.kill(p.pid, signal.SIGKILL)
            if conn and i % 2:
                seen, took = scrape_until(conn, b'deaths_total{worker="%s"' % name.encode())
                out["metric"].append((seen - t0) / 1e6)
                out["scrape"] += took
            else:
                line, seen, wall = w.wait(rec.log, [b'"type":"exit"', pid])
                out["log"].append((seen - t0) / 1e6)
                out["log_kernel"].append((wall - iso_ns(line["ts"])) / 1e6)
                if alerts:
                    _, seen, _ = w.wait(alerts, [b'"kind":"death"', pid])
                    out["alert"].append((seen - t0) / 1e6)
            p.wait()
    finally:
        w.close()
        if conn:
            conn.close()
    return out


def flood_loops(k, n, queue):
    """k loops (tools/bench/loop.c), each n posix_spawns of the stub as a Celery command."""
    return [subprocess.Popen([LOOP, "spawn", str(n), STUB, "@celery", "-A", "bench", "worker", "-Q", queue,
                              "-n", "flood@bench"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(k)]


def stop_all(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def latency_runs(tmp, n):
    """{row label: death series} over three recorders: default, default under an exec
    flood, and with an alert command and /metrics (the live engine on)."""
    rows = {}
    rec = Recorder(tmp)
    try:
        rows["default"] = deaths(rec, n, "d")
        flood = flood_loops(os.cpu_count(), 10**7, "cwflood")
        try:
            rows["default, during an exec flood"] = deaths(rec, n, "f")
        finally:
            stop_all(flood)
    finally:
        rec.stop()
    alerts = os.path.join(tmp, "alerts.jsonl")
    port = 19800 + os.getpid() % 100
    rec = Recorder(tmp, "--alert-exec", "cat >> " + alerts, "--metrics", "127.0.0.1:%d" % port)
    try:
        time.sleep(1.2)	# past the first 1 s tick: builds before c3069a5 judged it as history
        rows["--alert-exec and --metrics"] = deaths(rec, n, "a", alerts, port)
    finally:
        rec.stop()
    return rows


def report_latency(rows, n):
    print("\nDeath → log line, alert, metric, ms (%d deaths of a worker stub per recorder, SIGKILL; "
          "from just before kill(2); p50 / p99 / max):\n" % n)
    print("| recorder | → log line | → log line, from the kernel's ts | → alert command's output | → on /metrics |")
    print("|---|---|---|---|---|")
    f = lambda v: "%.2f / %.2f / %.2f" % (pct(v, 50), pct(v, 99), max(v)) if v else "–"
    for label, r in rows.items():
        print("| %s | %s | %s | %s | %s |" % (label, f(r["log"]), f(r["log_kernel"]), f(r["alert"]), f(r["metric"])))
    scrapes = [x / 1e6 for r in rows.values() for x in r["scrape"]]
    if scrapes:
        print("\nOne /metrics scrape (the metric column's resolution): median %.2f ms." % statistics.median(scrapes))


def log_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def settle(path, quiet=1.5, timeout=60):
    """Wait until the log has not grown for `quiet` seconds: the recorder has caught up."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = os.path.getsize(path)
        if size != last:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def smaps(pid):
    """RSS KiB of the process by kind of mapping: the ring buffers' mmaps (kernel memory the
    kernel maps whole at mmap; the data pages twice, for wrap-around), files (the binary and
    shared libraries), and private anonymous memory (heap, thread stacks, other)."""
    kinds, kind = {"ring buffers": 0, "files": 0, "heap": 0, "stacks": 0, "other anon": 0}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                name = head[5] if len(head) > 5 else ""
                kind = ("ring buffers" if name == "anon_inode:bpf-map" else "files" if name.startswith("/")
                        else "heap" if name == "[heap]" else "stacks" if name.startswith("[stack")
                        else "other anon")
            elif head[0] == "Rss:":
                kinds[kind] += int(head[1])
    kinds["total"] = sum(kinds.values())
    return kinds


def exec_flood(tmp, k, n, opts=()):
    """k loops of n Celery-looking execs each, on a recorder with opts: what reached the log,
    what was lost where, the recorder's CPU per 1,000 lines and its RSS after."""
    rec = Recorder(tmp, *opts)
    try:
        time.sleep(0.5)
        idle = smaps(rec.p.pid)
        cpu0, wake0, lines0, t0 = rec.cpu_s(), rec.wakeups(), log_lines(rec.log), time.monotonic()
        stop_all_ok(flood_loops(k, n, "cwloss"))
        took = time.monotonic() - t0
        settle(rec.log)
        cpu1, wake1, lines1, after = rec.cpu_s(), rec.wakeups(), log_lines(rec.log), smaps(rec.p.pid)
    finally:
        rec.stop()
    ev = rec.events()
    execs = {(e["pid"], e["pstart"]) for e in ev if e["type"] == "exec" and e.get("exe") == STUB}
    exits = {(e["pid"], e["pstart"]) for e in ev if e["type"] == "exit" and (e["pid"], e["pstart"]) in execs}
    stop = next((e for e in ev if e["type"] == "tracer_stop"), {})
    return {"execs": k * n, "rate": k * n / took, "exec_lines": len(execs), "exit_lines": len(exits),
            "lost": stop.get("lost"), "dropped": stop.get("dropped_lines"),
            "capped": stop.get("log_cap_suppressed"), "suppressed": stop.get("suppressed"),
            "ms_per_1000": 1e6 * (cpu1 - cpu0) / max(1, lines1 - lines0), "lines": lines1 - lines0,
            "wakeups_per_1000": 1000 * (wake1 - wake0) / max(1, lines1 - lines0),
            "rss_idle": idle, "rss_after": after}


def stop_all_ok(procs):
    for p in procs:
        if p.wait() != 0:
            sys.exit("bench: the exec flood's loop failed")


def report_flood(runs):
    print("\nExec flood: `loop spawn N build/bench/stub celery -A bench worker ...` (posix_spawn of a "
          "static stub, the fastest exec here) in parallel loops; each exec is tracked and recorded "
          "(an exec and an exit line); what reached the log, what was lost:\n")
    print("| recorder | execs | execs/s | exec lines | exit lines | lost (kernel) | dropped (writer) "
          "| log cap | recorder CPU, ms per 1,000 lines | its threads' wake-ups per 1,000 lines |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, r in runs.items():
        print("| %s | %d | %.0f | %d | %d | %s | %s | %s | %.1f (%d lines) | %.0f |" % (
            label, r["execs"], r["rate"], r["exec_lines"], r["exit_lines"], r["lost"], r["dropped"],
            r["capped"], r["ms_per_1000"], r["lines"], r["wakeups_per_1000"]))
    r = next(iter(runs.values()))
    print("\nRecorder RSS, KiB (default options; at idle after start, and after the flood):\n")
    print("| | " + " | ".join(r["rss_idle"]) + " |")
    print("|---|" + "---|" * len(r["rss_idle"]))
    for when in ("rss_idle", "rss_after"):
        print("| %s | %s |" % (when[4:], " | ".join(str(v) for v in r[when].values())))


def map_memory(tmp, sizes):
    """{--max-tracked: {map name: bytes_memlock}} read from a recorder started with it."""
    out = {}
    for s in sizes:
        rec = Recorder(tmp, "--max-tracked", str(s))
        try:
            ids = set()
            for fd in os.listdir("/proc/%d/fdinfo" % rec.p.pid):
                try:
                    with open("/proc/%d/fdinfo/%s" % (rec.p.pid, fd)) as f:
                        ids |= {int(l.split()[1]) for l in f if l.startswith("map_id:")}
                except OSError:
                    pass
            maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True,
                                             text=True).stdout or "[]")
            out[s] = {m.get("name", "?"): m.get("bytes_memlock", 0) for m in maps if m.get("id") in ids}
            out[s]["(RSS of the recorder)"] = smaps(rec.p.pid)["total"] * 1024
        finally:
            rec.stop()
    return out


def report_maps(mem):
    sizes = list(mem)
    names = sorted({n for m in mem.values() for n in m if not n.startswith("(")}, key=lambda n: -mem[sizes[0]].get(n, 0))
    print("\nBPF map memory, KiB (bpftool map show: bytes_memlock) by --max-tracked:\n")
    print("| map | " + " | ".join("%d" % s for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for n in names + ["total", "(RSS of the recorder)"]:
        get = (lambda s: sum(v for k, v in mem[s].items() if not k.startswith("("))) if n == "total" else \
            (lambda s: mem[s].get(n, 0))
        print("| %s | %s |" % (n, " | ".join("%d" % (get(s) // 1024) for s in sizes)))


def main(args, tmp):
    """The whole of it, sized by args.quick."""
    for need in (STUB, LOOP, CW):
        if not os.access(need, os.X_OK):
            sys.exit("bench: %s missing (tools/bench.sh builds it)" % need)
    n = 40 if args.quick else 200
    report_latency(latency_runs(tmp, n), n)
    k, per = os.cpu_count(), (500 if args.quick else 4000)
    runs = {"default, %d loops" % k: exec_flood(tmp, k, per)}
    if not args.quick:	# more loops than CPUs: burstier, not faster
        runs["default, %d loops" % (2 * k)] = exec_flood(tmp, 2 * k, per // 2)
    report_flood(runs)
    report_maps(map_memory(tmp, MAX_TRACKED[1:2] if args.quick else MAX_TRACKED))


def compare_floods(tmp, binaries, reps, k, n):
    """The exec flood on each build in turn, reps times (interleaved: these VMs drift)."""
    global CW
    print("\nExec flood, %d loops × %d, builds interleaved (CPU ms per 1,000 lines; wake-ups per "
          "1,000 lines; execs/s):\n" % (k, n))
    print("| build | " + " | ".join("run %d" % (i + 1) for i in range(reps)) + " |")
    print("|---|" + "---|" * reps)
    cells = {b: [] for b in binaries}
    for _ in range(reps):
        for b in binaries:
            CW = b
            r = exec_flood(tmp, k, n)
            cells[b].append("%.0f ms; %.0f; %.0f/s%s" % (r["ms_per_1000"], r["wakeups_per_1000"], r["rate"],
                                                       "" if r["lost"] == 0 else "; lost %s" % r["lost"]))
    for b in binaries:
        print("| %s | %s |" % (b, " | ".join(cells[b])))


if __name__ == "__main__":
    # Alone (root): `tools/bench/latency.py [--quick] [--cw BINARY] [--compare OTHER]`, e.g. a
    # build before a change against this one; make bench runs it through run.py.
    import argparse
    import shutil
    import tempfile
    ap = argparse.ArgumentParser(description="celerywatch record: latency, loss, CPU, RSS, map memory")
    ap.add_argument("--quick", action="store_true", help="the short form (make bench-quick)")
    ap.add_argument("--cw", default=CW, help="the celerywatch binary to measure (default: build/celerywatch)")
    ap.add_argument("--compare", metavar="BINARY", help="only the exec flood, this build and --cw's interleaved")
    ap.add_argument("--reps", type=int, default=3, help="--compare's repetitions (default 3)")
    a = ap.parse_args()
    CW = os.path.abspath(a.cw)
    d = tempfile.mkdtemp(prefix="cw-latency-")
    try:
        if a.compare:
            compare_floods(d, [os.path.abspath(a.compare), CW], a.reps, 2 * os.cpu_count(), 1000)
        else:
            print("Recorder: %s" % CW)
            main(a, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
