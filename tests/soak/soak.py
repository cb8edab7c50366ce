#!/usr/bin/python3
"""`make soak`: N minutes of churn with real Celery on real Redis, the recorder running all along.

    SOAK_MINUTES=3 /usr/bin/python3 tests/soak/soak.py      (as root; default 30 minutes)

What runs (everything started here is stopped by its own PID, also on failure and Ctrl-C):
  - a private redis-server on a free loopback port, restarted (SIGTERM, same port) every
    2 minutes; a run shorter than 6 minutes restarts it every third of the run;
  - `celerywatch record -o build/soak/ev.jsonl --redis ... --interval 1`;
  - one prefork worker per queue, like the incident host (worker_high: high_priority,
    worker_low: low_priority, worker_daemon: daemon), `-c 2 --max-tasks-per-child 1`, and a
    producer sending one short task per queue per second: every worker recycles a pool child
    about every second;
  - every 10 s one worker's MainProcess is killed (in turn; SIGKILL, every 4th kill SIGTERM)
    and restarted;
  - every 5 minutes (a sixth of a shorter run) the log is renamed to ev.jsonl.N and the
    recorder gets SIGHUP, as logrotate does;
  - every 10 s the recorder's VmRSS and open fds are sampled (fds: the least of 3 reads
    20 ms apart, since a /proc round holds two or three for a moment; the most is kept too).

Pass when, after the warm-up (the first 20% of the run), RSS grew < 1 MiB and the fd count
stayed flat (every sample within 1 of the warm-up figure, the last one equal to it), no event
was lost (`lost` lines and tracer_stop.lost), every line of every file is JSON, and
`celerywatch explain --json` over all the files names each kill: the killed MainProcess' pid
as a `signal` death with the signal sent, and this driver as the sender.
The summary is printed and written to build/soak/summary.json; a failed criterion exits 1
with the reason, an error of the harness itself exits 2.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cwharness import (APP_DIR, BIN, HOST, ROOT, Recorder, Redis, Worker,  # noqa: E402
                       celery_env, wait_for)

WORKERS = [("worker_high", "high_priority"), ("worker_low", "low_priority"),
           ("worker_daemon", "daemon")]
KILL_EVERY = 10.0
SAMPLE_EVERY = 10.0
SIGTERM_EVERY = 4          # every 4th kill is a SIGTERM (warm shutdown), the others SIGKILL
TERM_GRACE = 30.0          # a SIGTERMed worker not gone by then gets SIGKILL (counted)
RSS_LIMIT_KB = 1024
TASKS_PER_S = 1.0          # per queue
REOPEN_LIMIT_S = 60.0      # SIGHUP to the new log file existing
LEFTOVER_S = 5.0           # a killed worker's pool child still there after this gets SIGKILL



def fd_count(pid, reads=3, gap=0.02):
    """The recorder's open fds: the least of `reads` reads `gap` s apart, and the most. A
    proc_sample round holds two or three for a moment (/proc/PID, its stat or fd directory, a
    link read); CI once caught one at 59 of 57. A leaked fd is there in every read."""
    counts = []
    for i in range(reads):
        if i:
            time.sleep(gap)
        counts.append(len(os.listdir(f"/proc/{pid}/fd")))
    return min(counts), max(counts)

class Interrupted(Exception):
    pass


def on_signal(signo, frame):
    raise Interrupted(signal.Signals(signo).name)


def log(t0, msg):
    print("soak [%7.1fs] %s" % (time.monotonic() - t0, msg), flush=True)


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def later(due, period, now):
    """The next time of a periodic action: on its cadence, but never in a burst after a stall."""
    due += period
    return due if due > now else now + period


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Slot:
    """One queue's worker across its restarts."""

    def __init__(self, short, queue, broker, tmp, pids):
        self.short, self.queue, self.broker, self.tmp = short, queue, broker, tmp
        self.pids = pids
        self.gen = 0
        self.w = None
        self.state = "down"          # running | dying
        self.kids = []
        self.kill = None             # the kill record while dying
        self.leftovers = []          # (pid, cmdline, since) of pool children to make sure of

    @property
    def node(self):
        return f"{self.short}@{HOST}"

    def start(self):
        self.gen += 1
        d = os.path.join(self.tmp, f"{self.short}-{self.gen}")
        os.mkdir(d)
        self.w = Worker(self.broker, self.queue, f"{self.short}@%h", concurrency=2,
                        extra=["--max-tasks-per-child", "1"], logdir=d).start()
        self.state = "running"
        self.started = time.monotonic()
        self.pids.add(self.w.pid)

    def ready(self):
        try:
            return b"ready." in self.w.output()
        except OSError:
            return False

    def send(self, sig, kill):
        self.kids = [(k, cmdline(k), None) for k in self.w.children()]
        os.kill(self.w.pid, sig)
        self.kill = kill
        self.state = "dying"
        self.dying_since = time.monotonic()

    def poll(self):
        """A dying worker: escalate a slow warm shutdown, reap it, then restart it."""
        if self.state != "dying":
            return None
        if self.w.proc.poll() is None:
            if (self.kill["signal"] == "SIGTERM" and not self.kill["escalated"]
                    and time.monotonic() - self.dying_since > TERM_GRACE):
                os.kill(self.w.pid, signal.SIGKILL)
                self.kill["escalated"] = True
            return None
        self.kill["returncode"] = self.w.proc.returncode
        self.w.stop()   # closes its log; the process is reaped already
        now = time.monotonic()
        self.leftovers += [(k, cl, now) for k, cl, _ in self.kids]
        self.reap_leftovers()
        self.start()
        return self.kill

    def reap_leftovers(self, force=False):
        """Pool children of a worker we killed die with it (PDEATHSIG); any still there a
        few seconds later is ours, by PID (and the same command line: no reused pid)."""
        keep = []
        now = time.monotonic()
        for pid, cl, since in self.leftovers:
            if alive(pid) and cmdline(pid) == cl:
                if force or now - since > LEFTOVER_S:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                else:
                    keep.append((pid, cl, since))
        self.leftovers = keep

    def stop(self):
        if self.w:
            self.leftovers += [(k, cmdline(k), 0) for k in self.w.children()]
            self.w.stop()
        self.reap_leftovers(force=True)
        self.state = "down"


class Soak:
    def __init__(self, minutes, outdir):
        self.duration = minutes * 60.0
        self.warmup = 0.2 * self.duration
        # the full-length cadence (2 min, 5 min) for a 30-minute run; a short run is scaled
        # so that it still restarts Redis and rotates the log more than once
        self.redis_every = min(120.0, self.duration / 3)
        self.rotate_every = min(300.0, self.duration / 6)
        self.outdir = outdir
        self.log_path = os.path.join(outdir, "ev.jsonl")
        self.tmp = None
        self.redis = self.rec = self.producer = None
        self.slots = []
        self.kills = []
        self.redis_restarts = []
        self.rotations = []
        self.samples = []
        self.failures = []
        self.rotated = []
        self.reopen = None
        self.worker_pids = set()

    # ---- set-up
    def setup(self):
        os.makedirs(self.outdir, exist_ok=True)
        for f in os.listdir(self.outdir):
            if f.startswith("ev.jsonl") or f in ("summary.json", "recorder.stderr",
                                                   "explain.json", "producer.out"):
                os.unlink(os.path.join(self.outdir, f))
        self.tmp = tempfile.mkdtemp(prefix="cw-soak-")
        self.redis = Redis().start()
        self.broker = self.redis.url(0)
        self.rec = Recorder("--redis", self.broker, "--interval", "1", out=self.log_path).start()
        self.t0 = time.monotonic()
        log(self.t0, f"redis-server on 127.0.0.1:{self.redis.port} (pid {self.redis.proc.pid}), "
            f"recorder pid {self.rec.proc.pid}, log {self.log_path}")
        for short, q in WORKERS:
            s = Slot(short, q, self.broker, self.tmp, self.worker_pids)
            s.start()
            self.slots.append(s)
        for s in self.slots:
            wait_for(s.ready, 90, 0.2, f"{s.node} to be ready")
        self.prod_out = open(os.path.join(self.outdir, "producer.out"), "wb")
        self.producer = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "producer.py"), str(TASKS_PER_S)]
            + [q for _, q in WORKERS], env=celery_env(self.broker), cwd=APP_DIR,
            stdout=self.prod_out, stderr=subprocess.STDOUT, start_new_session=True)
        log(self.t0, "workers ready: " + ", ".join(f"{s.node} pid {s.w.pid}" for s in self.slots)
            + f"; producer pid {self.producer.pid}")

    # ---- the churn
    def sample(self, t, note=""):
        pid = self.rec.proc.pid
        rss = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds, fds_peak = fd_count(pid)
        self.samples.append({"t": round(t, 1), "rss_kb": rss, "fds": fds, "fds_peak": fds_peak,
                             "note": note})

    def kill_one(self, t):
        n = len(self.kills)
        sig = signal.SIGTERM if n % SIGTERM_EVERY == SIGTERM_EVERY - 1 else signal.SIGKILL
        # in turn; a worker still dying from the previous kill is skipped for the next
        for i in range(len(self.slots)):
            s = self.slots[(n + i) % len(self.slots)]
            if s.state == "running":
                break
        else:
            log(self.t0, "no running worker to kill")
            return
        k = {"t": round(t, 1), "worker": s.node, "pid": s.w.pid, "signal": sig.name,
             "ready": s.ready(), "escalated": False, "kill_ts": time.time()}
        s.send(sig, k)
        self.kills.append(k)
        log(self.t0, f"kill #{n + 1}: {sig.name} -> {s.node} pid {k['pid']}"
            + ("" if k["ready"] else " (not ready yet)"))

    def restart_redis(self, t):
        a = time.monotonic()
        p = self.redis.proc
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        self.redis.proc = None
        self.redis.start()
        down = time.monotonic() - a
        self.redis_restarts.append({"t": round(t, 1), "down_s": round(down, 2),
                                    "pid": self.redis.proc.pid, "up_ts": time.time()})
        log(self.t0, f"redis restarted (down {down:.2f}s, pid {self.redis.proc.pid})")

    def rotate(self, t):
        n = len(self.rotated) + 1
        dst = f"{self.log_path}.{n}"
        os.rename(self.log_path, dst)
        self.rotated.append(dst)
        self.rec.proc.send_signal(signal.SIGHUP)
        self.rotations.append({"t": round(t, 1), "file": os.path.basename(dst), "reopen_s": None})
        self.reopen = {"since": time.monotonic(), "rot": self.rotations[-1]}
        log(self.t0, f"renamed the log to {os.path.basename(dst)}, SIGHUP")
        self.check_reopen()

    def check_reopen(self):
        """The churn goes on while the recorder reopens its log; a slow reopen is timed and
        the recorder's threads are looked at (what keeps it from reading its signalfd)."""
        if not self.reopen:
            return
        waited = time.monotonic() - self.reopen["since"]
        rot = self.reopen["rot"]
        if os.path.exists(self.log_path):
            rot["reopen_s"] = round(waited, 2)
            self.reopen = None
            if waited > 1:
                log(self.t0, f"the recorder reopened its log {waited:.2f}s after SIGHUP")
            return
        if waited > 2 and "state_2s" not in rot:
            rot["state_2s"] = self.recorder_state()
        if waited > 10 and "state_10s" not in rot:
            rot["state_10s"] = self.recorder_state()
            log(self.t0, "the recorder has not reopened its log 10 s after SIGHUP; "
                f"main thread 2 s / 10 s after: {rot['state_2s'].get('main')} / {rot['state_10s'].get('main')}")
        if waited > REOPEN_LIMIT_S:
            self.failures.append(f"the recorder did not reopen its log {REOPEN_LIMIT_S:.0f} s "
                                 f"after SIGHUP (main thread 2 s / 10 s after: "
                                 f"{rot['state_2s'].get('main')} / {rot['state_10s'].get('main')})")
            rot["reopen_s"] = f">{REOPEN_LIMIT_S:.0f}"
            self.reopen = None

    def recorder_state(self):
        pid = self.rec.proc.pid
        out = {}
        try:
            with open(f"/proc/{pid}/task/{pid}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
                out["main"] = f"state {f[0]} utime {f[11]} stime {f[12]} ticks"
            for tid in os.listdir(f"/proc/{pid}/task"):
                st = {}
                for f in ("wchan", "stat", "stack", "syscall"):
                    try:
                        with open(f"/proc/{pid}/task/{tid}/{f}") as fh:
                            st[f] = fh.read().strip()[:400]
                    except OSError as e:
                        st[f] = repr(e)
                out[tid] = st
            with open(f"/proc/{pid}/status") as fh:
                out["sigpnd"] = [l.strip() for l in fh if l.startswith(("ShdPnd", "SigBlk", "SigPnd"))]
        except OSError as e:
            out["error"] = repr(e)
        return out

    def run(self):
        self.sample(0.0, "start")
        nxt = {"kill": KILL_EVERY, "redis": self.redis_every + 5, "rotate": self.rotate_every + 3,
               "sample": SAMPLE_EVERY}
        warm_sampled = False
        while True:
            t = time.monotonic() - self.t0
            if t >= self.duration:
                break
            for s in self.slots:
                k = s.poll()
                if k:
                    log(self.t0, f"{s.node} pid {k['pid']} gone (rc {k['returncode']}"
                        + (", escalated to SIGKILL" if k["escalated"] else "")
                        + f"); restarted as pid {s.w.pid}")
                s.reap_leftovers()
            if self.producer.poll() is not None:
                raise RuntimeError(f"the producer exited {self.producer.returncode}")
            if self.rec.proc.poll() is not None:
                self.failures.append(f"the recorder exited {self.rec.proc.returncode} at "
                                     f"{t:.0f}s: {self.rec.stderr()[-500:]}")
                return
            self.check_reopen()
            if not warm_sampled and t >= self.warmup:
                self.sample(t, "after warm-up")
                warm_sampled = True
            if t >= nxt["sample"]:
                self.sample(t)
                nxt["sample"] = later(nxt["sample"], SAMPLE_EVERY, t)
            if t >= nxt["kill"] and t < self.duration - 5:
                self.kill_one(t)
                nxt["kill"] = later(nxt["kill"], KILL_EVERY, t)
            if t >= nxt["redis"] and t < self.duration - 10:
                self.restart_redis(t)
                nxt["redis"] = later(nxt["redis"], self.redis_every, t)
            if t >= nxt["rotate"] and t < self.duration - 5 and not self.reopen:
                self.rotate(t)
                nxt["rotate"] = later(nxt["rotate"], self.rotate_every, t)
            time.sleep(0.2)
        # the end: every kill's worker gone and restarted, the broker back in the recorder's
        # samples, then the last sample, with everything still running
        deadline = time.monotonic() + TERM_GRACE + 15
        while any(s.state == "dying" for s in self.slots) and time.monotonic() < deadline:
            for s in self.slots:
                s.poll()
            time.sleep(0.2)
        for s in self.slots:
            if s.state == "dying":
                raise RuntimeError(f"{s.node} pid {s.w.pid} did not die after {s.kill}")
        while self.reopen:
            self.check_reopen()
            time.sleep(0.1)
        since = self.redis_restarts[-1]["up_ts"] if self.redis_restarts else 0
        try:
            wait_for(lambda: self.broker_sampled_since(since), 30, 0.5,
                     "a redis_ok sample after the last Redis restart")
        except AssertionError as e:
            self.failures.append(f"the recorder wrote no redis_ok sample within 30 s of the end: {e}")
        time.sleep(2)
        self.sample(time.monotonic() - self.t0, "end")

    def broker_sampled_since(self, since):
        with open(self.log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 65536))
            tail = f.read().split(b"\n")[1:-1]
        for line in reversed(tail):
            e = json.loads(line)
            if e["type"] == "sample" and e["redis_ok"] and parse_ts(e["ts"]) > since:
                return True
        return False

    # ---- the end
    def stop_recorder(self):
        rc = self.rec.stop(signal.SIGTERM)
        shutil.copy(os.path.join(self.rec.dir, "stderr"),
                    os.path.join(self.outdir, "recorder.stderr"))
        if rc != 0:
            self.failures.append(f"the recorder exited {rc} on SIGTERM: {self.rec.stderr()[-500:]}")

    def cleanup(self):
        errors = []

        def attempt(f):
            try:
                f()
            except Exception as e:  # keep cleaning
                errors.append(repr(e))
        if self.producer and self.producer.poll() is None:
            self.producer.send_signal(signal.SIGTERM)
            try:
                self.producer.wait(10)
            except subprocess.TimeoutExpired:
                self.producer.kill()
                self.producer.wait()
        if getattr(self, "prod_out", None):
            self.prod_out.close()
        if self.rec:
            attempt(self.rec.cleanup)
        for s in self.slots:
            attempt(s.stop)
        if self.redis:
            attempt(self.redis.cleanup)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        for e in errors:
            print("soak: cleanup: " + e, file=sys.stderr)

    def analyse(self):
        files = self.rotated + [self.log_path]
        types, lines, lost_sum, bad, stops = {}, 0, 0, [], []
        per_file = []
        # the recorder sees every Celery process on the host: lines about processes this soak
        # did not start (its workers and their forks) are counted apart
        own = set(self.worker_pids)
        foreign, foreign_who = 0, {}
        for path in files:
            n = 0
            with open(path, "rb") as f:
                for i, line in enumerate(f, 1):
                    n += 1
                    try:
                        e = json.loads(line)
                    except ValueError:
                        bad.append(f"{os.path.basename(path)}:{i}")
                        continue
                    types[e["type"]] = types.get(e["type"], 0) + 1
                    if e["type"] == "lost":
                        lost_sum += e["count"]
                    elif e["type"] == "tracer_stop":
                        stops.append(e)
                    if e["type"] == "fork" and e.get("ppid") in own:
                        own.add(e["pid"])
                    if e["type"] not in ("tracer_start", "tracer_stop", "sample", "lost", "oom") \
                            and e["pid"] not in own:
                        foreign += 1
                        who = (e["type"], e.get("comm"))
                        foreign_who[who] = foreign_who.get(who, 0) + 1
            lines += n
            per_file.append({"file": os.path.basename(path), "lines": n})
        p = subprocess.run([BIN, "explain", "--json"] + files, capture_output=True, timeout=600)
        with open(os.path.join(self.outdir, "explain.json"), "wb") as f:
            f.write(p.stdout)
        if p.returncode != 0:
            self.failures.append(f"explain exited {p.returncode}: {p.stderr.decode()[-500:]}")
            report = {"deaths": []}
        else:
            report = json.loads(p.stdout)
        if p.stderr.strip():
            self.failures.append("explain reported unreadable lines: "
                                 + p.stderr.decode(errors="replace")[:500])
        deaths = {}
        for d in report["deaths"]:
            if d.get("host") == HOST:
                deaths.setdefault(d["pid"], []).append(d)
        kinds = {}
        for d in report["deaths"]:
            kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
        matched, misses = 0, []
        me = os.getpid()
        for k in self.kills:
            want = {k["signal"], "SIGKILL"} if k["escalated"] else {k["signal"]}
            ds = [d for d in deaths.get(k["pid"], []) if d["role"] == "main"]
            ok = [d for d in ds if d["kind"] == "signal" and d["signal"] in want
                  and d["worker"] == k["worker"] and (d.get("sender") or {}).get("pid") == me]
            if ok:
                matched += 1
            else:
                misses.append({"kill": k, "deaths": [
                    {x: d.get(x) for x in ("kind", "signal", "role", "worker", "sender",
                                           "exit_code", "summary")} for d in ds]})
        stop = stops[-1] if stops else None
        top = sorted(foreign_who.items(), key=lambda kv: -kv[1])[:3]
        self.result = {
            "foreign_lines": foreign,
            "foreign_top": [{"type": a, "comm": b, "lines": n} for (a, b), n in top],
            "files": per_file, "lines": lines, "events_by_type": dict(sorted(types.items())),
            "lost_lines_sum": lost_sum, "tracer_stop": stop, "unparsable": bad,
            "explain_deaths_by_kind": dict(sorted(kinds.items())),
            "explain_matched": matched, "explain_misses": misses,
        }
        if bad:
            self.failures.append(f"{len(bad)} lines are not JSON: {bad[:5]}")
        if lost_sum:
            self.failures.append(f"lost lines count {lost_sum} lost events" + (
                f" ({foreign} lines are about processes the soak did not start, most "
                + ", ".join(f"{n} {a} of {b}" for (a, b), n in top)
                + ": another workload on this host flooded the recorder)" if foreign else ""))
        if not stop:
            self.failures.append("no tracer_stop line")
        elif stop.get("lost"):
            self.failures.append(f"tracer_stop.lost = {stop['lost']}")
        if len(stops) > 1:
            self.failures.append(f"{len(stops)} tracer_stop lines")
        if misses:
            self.failures.append(f"explain named {matched} of {len(self.kills)} kills; missed: "
                                 + json.dumps(misses[:3]))
        self.check_resources()

    def check_resources(self):
        after = [s for s in self.samples if s["t"] >= self.warmup]
        if not after:
            self.failures.append("no sample after the warm-up")
            return
        base, end = after[0], self.samples[-1]
        growth = end["rss_kb"] - base["rss_kb"]
        peak = max(s["rss_kb"] for s in after)
        fd_range = (min(s["fds"] for s in after), max(s["fds"] for s in after))
        self.result["resources"] = {
            "rss_kb_start": self.samples[0]["rss_kb"], "rss_kb_after_warmup": base["rss_kb"],
            "rss_kb_end": end["rss_kb"], "rss_kb_peak_after_warmup": peak,
            "rss_growth_kb": growth, "fds_start": self.samples[0]["fds"],
            "fds_after_warmup": base["fds"], "fds_end": end["fds"],
            "fds_min_after_warmup": fd_range[0], "fds_max_after_warmup": fd_range[1],
            "fds_transient_peak": max(s["fds_peak"] for s in after)}
        if growth >= RSS_LIMIT_KB:
            self.failures.append(f"RSS grew {growth} KiB after the warm-up "
                                 f"({base['rss_kb']} -> {end['rss_kb']} KiB; limit {RSS_LIMIT_KB})")
        if end["fds"] != base["fds"]:
            self.failures.append(f"fd count {base['fds']} after the warm-up, {end['fds']} at the end")
        off = [s for s in after if abs(s["fds"] - base["fds"]) > 1]
        if off:
            self.failures.append(f"fd count left {base['fds']}±1: {off[:5]}")

    def summary(self, wall):
        r = self.result
        res = r.get("resources", {})
        stop = r["tracer_stop"] or {}
        s = {
            "ok": not self.failures, "failures": self.failures,
            "minutes": self.duration / 60, "duration_s": round(wall, 1),
            "warmup_s": self.warmup, "redis_every_s": self.redis_every,
            "rotate_every_s": self.rotate_every, "kill_every_s": KILL_EVERY,
            "lines": r["lines"], "files": r["files"], "events_by_type": r["events_by_type"],
            "kills": len(self.kills),
            "kills_by_signal": {x: sum(1 for k in self.kills if k["signal"] == x)
                                for x in ("SIGKILL", "SIGTERM")},
            "kills_escalated": sum(1 for k in self.kills if k["escalated"]),
            "kills_before_ready": sum(1 for k in self.kills if not k["ready"]),
            "redis_restarts": len(self.redis_restarts), "rotations": len(self.rotations),
            "resources": res, "lost_lines_sum": r["lost_lines_sum"],
            "foreign_lines": r["foreign_lines"], "foreign_top": r["foreign_top"],
            "reopen_s_max": max((x["reopen_s"] if isinstance(x["reopen_s"], float) else
                                 REOPEN_LIMIT_S for x in self.rotations if x["reopen_s"] is not None),
                                default=None),
            "tracer_stop": {k: stop.get(k) for k in ("events", "lost", "write_errors",
                                                     "malformed", "samples", "samples_dropped",
                                                     "samples_failed")},
            "explain_matched": r["explain_matched"], "explain_misses": r["explain_misses"],
            "explain_deaths_by_kind": r["explain_deaths_by_kind"],
            "samples": self.samples, "kill_log": self.kills,
            "redis_restart_log": self.redis_restarts, "rotation_log": self.rotations,
        }
        with open(os.path.join(self.outdir, "summary.json"), "w") as f:
            json.dump(s, f, indent=1)
            f.write("\n")
        rows = [
            ("duration", f"{wall:.0f} s ({s['minutes']:g} min run, warm-up {self.warmup:.0f} s)"),
            ("lines", f"{r['lines']} in {len(r['files'])} files"),
            ("events by type", ", ".join(f"{k} {v}" for k, v in r["events_by_type"].items())),
            ("kills", f"{len(self.kills)} (SIGKILL {s['kills_by_signal']['SIGKILL']}, SIGTERM "
                      f"{s['kills_by_signal']['SIGTERM']}, escalated {s['kills_escalated']}, "
                      f"before ready {s['kills_before_ready']})"),
            ("redis restarts", f"{len(self.redis_restarts)} (every {self.redis_every:.0f} s)"),
            ("rotations", f"{len(self.rotations)} (every {self.rotate_every:.0f} s; slowest reopen "
                          f"{s['reopen_s_max']} s)"),
            ("RSS KiB start/warm/end", f"{res.get('rss_kb_start')} / {res.get('rss_kb_after_warmup')}"
                                       f" / {res.get('rss_kb_end')} (growth {res.get('rss_growth_kb')},"
                                       f" peak {res.get('rss_kb_peak_after_warmup')})"),
            ("fds start/warm/end", f"{res.get('fds_start')} / {res.get('fds_after_warmup')} / "
                                   f"{res.get('fds_end')} (after warm-up {res.get('fds_min_after_warmup')}"
                                   f"..{res.get('fds_max_after_warmup')}; for a moment "
                                   f"{res.get('fds_transient_peak')})"),
            ("lost", f"lost lines {r['lost_lines_sum']}, tracer_stop.lost {stop.get('lost')}"),
            ("foreign lines", f"{r['foreign_lines']} (about processes the soak did not start)"),
            ("explain matches", f"{r['explain_matched']}/{len(self.kills)} kills named "
                                f"(deaths: " + ", ".join(f"{k} {v}" for k, v in
                                                        r["explain_deaths_by_kind"].items()) + ")"),
            ("result", "PASS" if not self.failures else "FAIL"),
        ]
        w = max(len(a) for a, _ in rows)
        where = os.path.join(self.outdir, "summary.json")
        if not os.path.relpath(where, ROOT).startswith(".."):
            where = os.path.relpath(where, ROOT)
        print("\n== soak summary (" + where + ")")
        for a, b in rows:
            print(f"  {a:<{w}}  {b}")
        for f in self.failures:
            print("  FAIL: " + f)
        return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float,
                    default=float(os.environ.get("SOAK_MINUTES", "30")))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "soak"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: needs root (the recorder loads BPF programs)", file=sys.stderr)
        return 2
    for f in (BIN, "/usr/bin/celery", "/usr/bin/python3"):
        if not os.path.exists(f):
            print(f"soak: {f} is missing", file=sys.stderr)
            return 2
    if shutil.which("redis-server") is None:
        print("soak: redis-server is missing", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    soak = Soak(a.minutes, os.path.abspath(a.out))
    start = time.monotonic()
    rc = 0
    try:
        soak.setup()
        soak.run()
        soak.stop_recorder()
    except Interrupted as e:
        print(f"soak: interrupted ({e}); stopping everything it started", file=sys.stderr)
        rc = 130
    except Exception as e:
        print(f"soak: harness error: {e!r}; stopping everything it started", file=sys.stderr)
        rc = 2
    finally:
        # no second Ctrl-C in the middle of the clean-up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        soak.cleanup()
    if rc:
        return rc
    wall = time.monotonic() - start
    soak.analyse()
    soak.summary(wall)
    if soak.failures:
        print(f"soak: FAILED: {soak.failures[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
