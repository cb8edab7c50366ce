"""Issue 9's verdicts from their real scenarios: real Celery 5.2 workers on a throwaway
redis-server, the recorder sampling the broker every half second, `explain --json` on its log.

One class per scenario (its own Redis, recorder and workers, all stopped by PID in
tearDownClass); each test checks the report against what the scenario itself did. Queue and
node names carry a per-run tag: the recorder sees every Celery process on the host.

  stalled      both pool processes blocked in recv on a device that never answers
  saturated    a one-process worker fed 4 tasks/s of 0.5 s each
  flapping     a shell loop restarting a worker whose app fails to import
  gap          worker killed, 300 tasks pushed, restarted 5 s later, drained
  impostor     a script called `celery` with a worker's arguments beside a dead real worker
  late queue   a queue first published to after the recorder started, recorded 3 s more
  SIGQUIT      cold shutdown from a script; REMAP_SIGTERM=SIGQUIT's SIGTERM likewise
  duplicates   two workers with one node name
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from cwharness import (APP_DIR, BIN, HOST, Recorder, Redis, Tags, Worker, celery_env, need_root,
                       of_type, queue_of, rfc3339_s, run_explain, wait_for)

TAGS = Tags("v")
Q, N, node, ts = TAGS.q, TAGS.n, TAGS.node, rfc3339_s
INTERVAL = "0.5"


def explain_help():
    return subprocess.run([BIN, "explain", "--help"], capture_output=True, text=True).stdout


# The verdicts' clocks, short where explain lets us set them (--stall-after, --connect-grace
# come with the verdicts work); else their defaults, which the waits below follow.
_HELP = explain_help()
STALL_AFTER = 10 if "--stall-after" in _HELP else 30
CONNECT_GRACE = 5 if "--connect-grace" in _HELP else 20
EXPLAIN_OPTS = ((["--stall-after", str(STALL_AFTER)] if "--stall-after" in _HELP else []) +
                (["--connect-grace", str(CONNECT_GRACE)] if "--connect-grace" in _HELP else []))


def explain(log, json_out=True, queue=None):
    return run_explain(log, *(EXPLAIN_OPTS + (["--queue", queue] if queue else [])),
                       json_out=json_out)


def deaths_of(report, pid):
    return [d for d in report["deaths"] if d["pid"] == pid and d["host"] == HOST]


def producer(broker_url, name, args, queue, count, gap=0.0):
    """A real Celery producer sending `count` tasks `gap` seconds apart, in the background."""
    code = ("import sys, json, time; sys.path.insert(0, %r)\n"
            "from cwtest_app import app\n"
            "a = json.loads(sys.argv[1])\n"
            "with app.producer_or_acquire() as p:\n"
            "    for i in range(a['count']):\n"
            "        if i and a['gap']:\n"
            "            time.sleep(a['gap'])\n"
            "        app.send_task(a['name'], args=a['args'], queue=a['queue'], producer=p)\n"
            % APP_DIR)
    return subprocess.Popen(["/usr/bin/python3", "-c", code, json.dumps(
        {"name": name, "args": list(args), "queue": queue, "count": count, "gap": gap})],
        env=celery_env(broker_url), cwd=APP_DIR)


def send(broker_url, name, args, queue, count=1, gap=0.0):
    p = producer(broker_url, name, args, queue, count, gap)
    if p.wait(120) != 0:
        raise AssertionError("producer exited %d" % p.returncode)


def kill_group(p):
    """The loop started in its own session, and the worker it runs at the moment: the
    process group we made, by its leader's PID."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def stop_popen(p):
    if p and p.poll() is None:
        p.kill()
        p.wait()


class Blackhole:
    """A device that accepts TCP connections and never answers (a hung printer)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def cleanup(self):
        self.closed = True
        self.sock.close()
        for c in self.conns:
            c.close()


def script(dirpath, name, body):
    path = os.path.join(dirpath, name)
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, 0o755)
    return path


class Scenario(unittest.TestCase):
    """A class-level Redis (db 0) and recorder; what scenario() starts is cleaned up in
    reverse order, every process by its own PID."""

    QUEUES = ()  # the scenario's queues: the text report shown on failure is about them

    @classmethod
    def setUpClass(cls):
        cls.cleanups_ = []
        cls.redis = cls.keep(Redis().start())
        cls.broker = cls.redis.url(0)
        cls.tmp = tempfile.mkdtemp(prefix="cw-verdicts-")
        os.chmod(cls.tmp, 0o755)
        cls.cleanups_.append(lambda: shutil.rmtree(cls.tmp, ignore_errors=True))
        try:
            cls.scenario()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        while cls.cleanups_:
            c = cls.cleanups_.pop()
            try:
                c()
            except Exception as e:  # keep cleaning
                print("cleanup failed: %r" % e)

    @classmethod
    def keep(cls, obj):
        cls.cleanups_.append(obj.cleanup)
        return obj

    @classmethod
    def popen(cls, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        cls.cleanups_.append(lambda: stop_popen(p))
        return p

    @classmethod
    def worker(cls, queues, name, **kw):
        return cls.keep(Worker(cls.broker, queues, name, logdir=tempfile.mkdtemp(
            prefix="cw-worker-"), **kw))

    @classmethod
    def record(cls, *extra):
        cls.rec = cls.keep(Recorder("--redis", cls.broker, "--interval", INTERVAL,
                                    *extra)).start()
        return cls.rec

    @classmethod
    def wait_samples(cls, queue, n=2, timeout=20):
        """n broker samples that include queue, after now."""
        have = len(cls.samples(queue, cls.rec.events()))
        wait_for(lambda: len(cls.samples(queue, cls.rec.events())) >= have + n, timeout,
                 what="%d samples of %s" % (n, queue))

    @staticmethod
    def samples(queue, events):
        return [q["depth"] for s in of_type(events, "sample", redis_ok=True)
                for q in s["queues"] if q["queue"] == queue]

    @classmethod
    def finish(cls):
        """Stop the recorder (SIGTERM), keep its lines and explain's reports of them."""
        rec = cls.rec
        if rec.stop(signal.SIGTERM) != 0:
            raise AssertionError("recorder exited %s: %s" % (rec.proc.returncode, rec.stderr()))
        cls.events = rec.events()
        if os.environ.get("CW_KEEP_LOGS"):
            kept = os.path.join(tempfile.gettempdir(), "cw-%s-%s.jsonl" % (cls.__name__, TAGS.tag))
            shutil.copy(rec.out, kept)
            print("kept", kept)
        cls.report = explain(rec.out)
        # other suites' workers on this host are in the log too: the text of ours only
        cls.text = "".join(explain(rec.out, json_out=False, queue=Q(q)) for q in cls.QUEUES)
        if os.environ.get("CW_SHOW_TEXT"):
            print("\n--- %s ---\n%s" % (cls.__name__, cls.text))

    def death(self, pid, kind=None):
        ds = deaths_of(self.report, pid)
        self.assertEqual(len(ds), 1, "deaths of pid %d: %s" % (pid, ds))
        if kind:
            self.assertEqual(ds[0]["kind"], kind, ds[0]["summary"])
        return ds[0]


@need_root
class Stalled(Scenario):
    """Prefork, concurrency 2: two tasks hang in recv on a device that never answers, then 50
    more tasks arrive and wait."""

    QUEUES = ("printers",)

    @classmethod
    def scenario(cls):
        cls.hole = cls.keep(Blackhole())
        cls.record()
        w = cls.w = cls.worker(Q("printers"), N("worker_print"), concurrency=2).start()
        w.wait_ready()
        wait_for(lambda: len(w.children()) == 2, 15, what="two pool processes")
        cls.kids = sorted(w.children())
        send(cls.broker, "cw.hang", ["127.0.0.1", cls.hole.port], Q("printers"), count=2)
        wait_for(lambda: len(cls.hole.conns) == 2, 20, what="both pool processes connected")
        cls.hung_at = time.time()
        send(cls.broker, "cw.add", [1, 1], Q("printers"), count=50)
        # stalled for longer than --stall-after, seen by samples all along
        time.sleep(max(0, cls.hung_at + STALL_AFTER + 4 - time.time()))
        cls.still_kids = sorted(w.children())
        cls.finish()

    def test_stalled(self):
        self.assertEqual(self.still_kids, self.kids, "the pool did not change")
        q = queue_of(self.report, Q("printers"))
        self.assertEqual(q["verdict"], "stalled", self.text)
        self.assertEqual(q["consumers_now"], 1)
        self.assertGreaterEqual(q["depth_last"], 45)  # 50, less what the MainProcess prefetched
        st = q["stalled"]
        self.assertIsNotNone(st)
        self.assertEqual(sorted(st["pids"]), self.kids)
        self.assertRegex(st["blocked_in"] or "", r"recv")
        # it began once both hung, not before the first task arrived
        since = ts(st["since"])
        self.assertGreater(since, self.hung_at - 3)
        self.assertLess(since, self.hung_at + 5)
        self.assertEqual(q["gaps"], [])

    def test_recorded_blocked_in_recv(self):
        """The facts behind it: the pool processes' proc_sample entries name the syscall."""
        seen = {}
        for s in of_type(self.events, "proc_sample"):
            for p in s["procs"]:
                if p["pid"] in self.kids and p.get("syscall"):
                    seen.setdefault(p["pid"], set()).add(p["syscall"])
        self.assertEqual(sorted(seen), self.kids, seen)
        for pid, names in seen.items():
            self.assertTrue(any("recv" in n for n in names), (pid, names))


@need_root
class Saturated(Scenario):
    """One pool process, tasks of 0.5 s arriving at 4/s for longer than --stall-after: it
    drains 2/s and falls behind."""

    QUEUES = ("reports",)

    @classmethod
    def scenario(cls):
        cls.record()
        w = cls.w = cls.worker(Q("reports"), N("worker_reports"), concurrency=1).start()
        w.wait_ready()
        cls.wait_samples(Q("reports"), 1)
        n = int((STALL_AFTER + 8) * 4)
        p = producer(cls.broker, "cw.sleep", [0.5], Q("reports"), n, gap=0.25)
        cls.cleanups_.append(lambda: stop_popen(p))
        # stop recording while the producer still runs: the depth is growing at the end
        time.sleep(STALL_AFTER + 5)
        cls.still_feeding = p.poll() is None
        cls.finish()

    def test_saturated(self):
        self.assertTrue(self.still_feeding)
        q = queue_of(self.report, Q("reports"))
        self.assertEqual(q["verdict"], "saturated", self.text)
        self.assertEqual(q["consumers_now"], 1)
        self.assertIsNone(q["stalled"])
        arr, drain = q["arrival_per_min"], q["drain_per_min"]
        self.assertIsNotNone(arr)
        self.assertIsNotNone(drain)
        self.assertGreater(drain, 0)
        self.assertGreater(arr, drain)
        # fed 240/min, drained at most 120/min (one process, 0.5 s a task)
        self.assertLess(arr, 240 * 1.3)
        self.assertGreater(arr, 240 * 0.5)
        self.assertLess(drain, 120 * 1.3)
        self.assertGreater(q["depth_last"], q["depth_first"])


@need_root
class Flapping(Scenario):
    """A supervisor (a shell loop) restarting a worker whose app does not import, 5 times."""

    QUEUES = ("billing",)

    STARTS = 5

    @classmethod
    def scenario(cls):
        cls.record()
        loop = ("i=0; while [ $i -lt %d ]; do i=$((i+1)); "
                "/usr/bin/celery -A app_typo worker -Q %s -n %s --without-mingle "
                "--without-gossip --without-heartbeat; sleep 0.3; done"
                % (cls.STARTS, Q("billing"), N("worker_billing")))
        env = celery_env(cls.broker)
        sup = subprocess.Popen(["/bin/sh", "-c", loop], env=env, cwd=APP_DIR,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        cls.cleanups_.append(lambda: kill_group(sup))
        sup.wait(55)
        wait_for(lambda: len([e for e in of_type(cls.rec.events(), "exit", role="main")
                              if e.get("worker") == node("worker_billing")]) >= cls.STARTS,
                 10, what="every start's exit")
        cls.finish()

    def test_flapping(self):
        q = queue_of(self.report, Q("billing"))
        self.assertEqual(q["verdict"], "flapping", self.text)
        self.assertGreaterEqual(q["restarts"], 3)
        self.assertEqual(q["restarts"], self.STARTS - 1)
        self.assertEqual(q["consumers_now"], 0)
        c = q["cause"]
        self.assertEqual(c["kind"], "exit_error")
        self.assertEqual(c["worker"], node("worker_billing"))
        # Celery 5.2's words for a missing -A module (click's usage error, status 2); an
        # import failing inside the app would print ModuleNotFoundError instead
        self.assertEqual(c["exit_code"], 2)
        self.assertRegex(c["stderr_tail"],
                         r"The module app_typo was not found|ModuleNotFoundError.*app_typo")
        self.assertEqual(q["flapping"]["worker"], node("worker_billing"))
        self.assertEqual(q["flapping"]["deaths"], self.STARTS)
        self.assertIn("app_typo", q["flapping"]["summary"])


@need_root
class BusyNotStalled(Scenario):
    """One pool process busy for longer than --stall-after on a CPU-bound task while tasks
    wait: slow but progressing, not a stall (and the depth did not grow: not saturated)."""

    QUEUES = ("crunch",)

    @classmethod
    def scenario(cls):
        cls.record()
        w = cls.w = cls.worker(Q("crunch"), N("worker_crunch"), concurrency=1).start()
        w.wait_ready()
        cls.wait_samples(Q("crunch"), 1)
        send(cls.broker, "cw.spin", [STALL_AFTER + 15], Q("crunch"))
        send(cls.broker, "cw.add", [1, 1], Q("crunch"), count=10)
        cls.busy_at = time.time()
        time.sleep(STALL_AFTER + 4)
        cls.finish()

    def test_busy_is_not_stalled(self):
        q = queue_of(self.report, Q("crunch"))
        self.assertEqual(q["verdict"], "ok", self.text)
        self.assertIsNone(q["stalled"])
        self.assertEqual(q["consumers_now"], 1)
        self.assertGreaterEqual(q["depth_last"], 9)  # less what the MainProcess prefetched


@need_root
class RecoveredGap(Scenario):
    """The worker is killed; 300 tasks arrive while it is down; 5 s later it is restarted
    and drains them."""

    QUEUES = ("emails",)

    BACKLOG = 300

    @classmethod
    def scenario(cls):
        cls.record()
        w = cls.w1 = cls.worker(Q("emails"), N("worker_emails"), concurrency=2).start()
        w.wait_ready()
        cls.kids = w.children()
        cls.wait_samples(Q("emails"), 2)
        os.kill(w.pid, signal.SIGKILL)
        cls.killed_at = time.time()
        w.proc.wait(10)
        send(cls.broker, "cw.add", [2, 3], Q("emails"), count=cls.BACKLOG)
        cls.wait_samples(Q("emails"), 2)
        time.sleep(max(0, cls.killed_at + 5 - time.time()))
        w2 = cls.w2 = cls.worker(Q("emails"), N("worker_emails"), concurrency=2).start()
        w2.wait_ready()
        wait_for(lambda: cls.samples(Q("emails"), cls.rec.events())[-1:] == [0], 40,
                 what="the backlog drained")
        cls.wait_samples(Q("emails"), 2)
        cls.finish()

    def test_gap_and_recovery(self):
        q = queue_of(self.report, Q("emails"))
        self.assertEqual(q["verdict"], "ok", self.text)
        self.assertEqual(q["consumers_now"], 1)
        self.assertEqual(q["depth_last"], 0)
        self.assertEqual(len(q["gaps"]), 1, q["gaps"])
        g = q["gaps"][0]
        self.assertIsNotNone(g["to"])
        self.assertEqual(g["cause"]["kind"], "signal")
        self.assertEqual(g["cause"]["pid"], self.w1.pid)
        self.assertEqual(g["cause"]["signal"], "SIGKILL")
        self.assertEqual(g["cause"]["sender"]["pid"], os.getpid())
        self.assertGreaterEqual(g["backlog_peak"], self.BACKLOG)
        self.assertIsNotNone(q["drain_per_min"])
        self.assertGreater(q["drain_per_min"], 0)
        self.assertIsNone(q["eta_empty_s"])  # empty now


@need_root
class Impostor(Scenario):
    """A script called `celery`, run as nobody, with a worker's arguments for the queue and
    no broker connection, beside a real worker for it that is then killed."""

    QUEUES = ("invoices",)

    @classmethod
    def scenario(cls):
        fake = cls.fake_path = script(cls.tmp, "celery", "#!/usr/bin/python3\nimport time\ntime.sleep(600)\n")
        cls.record()
        w = cls.w = cls.worker(Q("invoices"), N("worker_inv"), concurrency=1).start()

        def nobody():
            os.setgid(65534)
            os.setuid(65534)
        cls.fake = cls.popen([fake, "-A", "x", "worker", "-Q", Q("invoices"), "-n",
                              N("fake")], preexec_fn=nobody, cwd="/")
        cls.fake_at = time.time()
        w.wait_ready()
        send(cls.broker, "cw.add", [1, 1], Q("invoices"), count=3)
        cls.wait_samples(Q("invoices"), 2)
        os.kill(w.pid, signal.SIGKILL)
        w.proc.wait(10)
        send(cls.broker, "cw.add", [1, 1], Q("invoices"), count=5)
        # the fake is past its connect grace, and sampled as such
        time.sleep(max(0, cls.fake_at + CONNECT_GRACE + 2 - time.time()))
        cls.wait_samples(Q("invoices"), 2)
        cls.fake_alive = cls.fake.poll() is None
        cls.finish()

    def test_impostor_is_not_a_consumer(self):
        self.assertTrue(self.fake_alive)
        q = queue_of(self.report, Q("invoices"))
        self.assertEqual(q["verdict"], "no_consumer", self.text)
        self.assertEqual(q["consumers_now"], 0)
        self.assertEqual(q["cause"]["pid"], self.w.pid)
        self.assertGreaterEqual(q["depth_last"], 5)
        nc = [x for x in q["not_connected"] if x["pid"] == self.fake.pid]
        self.assertEqual(len(nc), 1, q["not_connected"])
        self.assertEqual(nc[0]["uid"], 65534)
        # the interpreter (/proc/PID/exe), or the script as exec'd (the kernel's filename)
        exe = nc[0]["exe"]
        self.assertTrue(exe.startswith("/usr/bin/python3") or exe == self.fake_path, exe)
        self.assertIn("fake_%s@" % TAGS.tag, nc[0]["cmdline"])
        self.assertIn(os.path.join(self.tmp, "celery"), nc[0]["cmdline"])
        self.assertNotIn(self.fake.pid, [c["pid"] for c in q["consumers"] if c["connected"]])

    def test_real_worker_was_connected(self):
        q = queue_of(self.report, Q("invoices"))
        self.assertNotIn(self.w.pid, [x["pid"] for x in q["not_connected"]])
        ps = [p for s in of_type(self.events, "proc_sample") for p in s["procs"]
              if p["pid"] == self.w.pid]
        self.assertTrue(any((p.get("broker_conns") or 0) > 0 for p in ps), ps[-3:])
        fs = [p for s in of_type(self.events, "proc_sample") for p in s["procs"]
              if p["pid"] == self.fake.pid]
        self.assertTrue(fs)
        self.assertTrue(all(p.get("broker_conns") == 0 for p in fs), fs[-3:])


@need_root
class LateQueue(Scenario):
    """A producer publishes to a new queue 2 s after the recorder started; 3 s later the
    recording ends. Nobody ever consumed it."""

    QUEUES = ("new_route",)

    @classmethod
    def scenario(cls):
        cls.record()
        time.sleep(2)
        send(cls.broker, "cw.add", [1, 1], Q("new_route"), count=4)
        cls.sent_at = time.time()
        time.sleep(max(0, cls.sent_at + 3 - time.time()))
        cls.finish()

    def test_late_queue_sampled(self):
        self.assertTrue(self.samples(Q("new_route"), self.events), "never sampled")
        q = queue_of(self.report, Q("new_route"))
        self.assertEqual(q["verdict"], "no_consumer", self.text)
        self.assertEqual(q["depth_last"], 4)
        self.assertGreater(q["depth_max"], 0)
        self.assertEqual(q["cause"]["kind"], "never_started")
        self.assertEqual(q["cause"]["queues"], [Q("new_route")])


@need_root
class SigQuit(Scenario):
    """Requested shutdowns: SIGQUIT (cold shutdown) from a script to a busy prefork worker;
    SIGTERM to a worker started with REMAP_SIGTERM=SIGQUIT (cold shutdown too); SIGQUIT to a
    worker's whole process group (Ctrl-\\, systemd's KillSignal=SIGQUIT): its pool processes
    get the script's SIGQUIT too, and still went with their MainProcess."""

    QUEUES = ("exports", "imports", "uploads", "thumbs")

    @classmethod
    def scenario(cls):
        stop = script(cls.tmp, "stop_workers.sh",
                      "#!/bin/sh\n# stop the Celery workers now\nkill -$1 \"$2\"\n")
        cls.record()
        q = cls.wq = cls.worker(Q("exports"), N("worker_exports"), concurrency=2)
        t = cls.wt = cls.worker(Q("imports"), N("worker_imports"), concurrency=2)
        g = cls.wg = cls.worker(Q("uploads"), N("worker_uploads"), concurrency=2)
        k = cls.wk = cls.worker(Q("thumbs"), N("worker_thumbs"), concurrency=2)
        t.env["REMAP_SIGTERM"] = "SIGQUIT"
        for w in (q, t, g, k):
            w.start()
        for w in (q, t, g, k):
            w.wait_ready()
            wait_for(lambda: len(w.children()) == 2, 15, what="two pool processes")
        cls.kids = {w.pid: sorted(w.children()) for w in (q, t, g, k)}
        # both pool processes of each busy in a task: a cold shutdown does not wait for them
        for name in ("exports", "imports", "uploads", "thumbs"):
            send(cls.broker, "cw.sleep", [30], Q(name), count=2)
        time.sleep(1.5)
        # the worker leads its own process group (Worker starts a new session)
        # the last: what systemd does to the unit's cgroup when TimeoutStopSec runs out
        for w, sig, target in ((q, "QUIT", str(q.pid)), (t, "TERM", str(t.pid)),
                               (g, "QUIT", "-%d" % g.pid), (k, "KILL", "-%d" % k.pid)):
            subprocess.run([stop, sig, target], check=True)
            w.proc.wait(20)
        for pid in sum(cls.kids.values(), []):
            wait_for(lambda: of_type(cls.rec.events(), "exit", pid=pid), 15,
                     what="pool process %d's exit" % pid)
        cls.stop_script = stop
        cls.finish()

    def check_requested(self, w, signame, args):
        kids = self.kids[w.pid]
        d = self.death(w.pid, "signal")
        self.assertEqual(d["role"], "main")
        self.assertEqual(d["signal"], signame)
        self.assertTrue(d["incident"])
        self.assertEqual(d["sender"]["kind"], "process")
        self.assertEqual(d["sender"]["comm"], "stop_workers.sh")
        self.assertIn(self.stop_script, d["sender"]["cmdline"])
        self.assertIn(args, d["sender"]["cmdline"])
        self.assertNotIn(d["sender"]["pid"], (os.getpid(), w.pid))
        self.assertIn("after %s from pid %d (stop_workers.sh" % (signame, d["sender"]["pid"]),
                      d["summary"])
        # the pool went with it: no incidents of their own, least of all time limits
        for pid in kids:
            c = self.death(pid, "parent_died")
            self.assertEqual(c["parent_pid"], w.pid)
            self.assertEqual(c["parent_kind"], "signal")
            self.assertFalse(c["incident"])
        self.assertEqual(d["followers"], len(kids))
        self.assertNotIn("time_limit", [x["kind"] for x in self.report["deaths"]])
        # a cold shutdown: it did not wait for the 30 s tasks
        sig = of_type(self.events, "signal", pid=w.pid, signal=signame)[0]
        end = of_type(self.events, "exit", pid=w.pid)[0]
        self.assertLess(ts(end["ts"]) - ts(sig["ts"]), 10)

    def test_sigquit_cold_shutdown(self):
        self.assertEqual(of_type(self.events, "signal", pid=self.wq.pid, signal="SIGQUIT")[0]
                         ["sender"]["comm"], "stop_workers.sh")
        self.check_requested(self.wq, "SIGQUIT", "QUIT %d" % self.wq.pid)
        q = queue_of(self.report, Q("exports"))
        self.assertEqual(q["verdict"], "no_consumer")
        self.assertEqual(q["cause"]["pid"], self.wq.pid)
        self.assertEqual(q["cause"]["signal"], "SIGQUIT")

    def test_remapped_sigterm(self):
        self.check_requested(self.wt, "SIGTERM", "TERM %d" % self.wt.pid)
        self.assertEqual(queue_of(self.report, Q("imports"))["cause"]["signal"], "SIGTERM")

    def test_sigquit_to_the_process_group(self):
        g = self.wg
        for pid in self.kids[g.pid]:
            sig = of_type(self.events, "signal", pid=pid, signal="SIGQUIT")
            self.assertEqual(len(sig), 1, "the group's SIGQUIT reached pool process %d" % pid)
            self.assertEqual(sig[0]["sender"]["comm"], "stop_workers.sh")
        self.check_requested(g, "SIGQUIT", "QUIT -%d" % g.pid)
        self.assertEqual(queue_of(self.report, Q("uploads"))["cause"]["pid"], g.pid)

    def test_sigkill_to_the_process_group(self):
        """One kill -9 of the whole worker is one incident: its pool processes, killed by the
        same command at the same moment, went with their MainProcess."""
        k = self.wk
        d = self.death(k.pid, "signal")
        self.assertEqual(d["signal"], "SIGKILL")
        self.assertEqual(d["sender"]["comm"], "stop_workers.sh")
        self.assertIn("KILL -%d" % k.pid, d["sender"]["cmdline"])
        for pid in self.kids[k.pid]:
            sig = of_type(self.events, "signal", pid=pid, signal="SIGKILL")
            self.assertEqual([s["sender"]["pid"] for s in sig], [d["sender"]["pid"]])
            c = self.death(pid, "parent_died")
            self.assertEqual(c["parent_pid"], k.pid)
            self.assertFalse(c["incident"])
        self.assertEqual(d["followers"], 2)
        self.assertEqual(queue_of(self.report, Q("thumbs"))["cause"]["pid"], k.pid)


@need_root
class Duplicates(Scenario):
    """`start_workers.sh` ran twice: two workers named alike for one queue."""

    QUEUES = ("sync",)

    @classmethod
    def scenario(cls):
        cls.record()
        cls.ws = [cls.worker(Q("sync"), N("worker_sync"), concurrency=1).start()
                  for _ in range(2)]
        for w in cls.ws:
            w.wait_ready()
        cls.wait_samples(Q("sync"), 2)
        p = subprocess.run([BIN, "status", "--redis", cls.broker], capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, NO_COLOR="1"))
        cls.status_text = p.stdout
        if os.environ.get("CW_SHOW_TEXT"):
            print("\n--- status ---\n%s" % p.stdout)
        cls.finish()

    def duplicates(self):
        q = queue_of(self.report, Q("sync"))
        return q["duplicates"] if "duplicates" in q else self.report["duplicates"]

    def test_duplicates_in_explain(self):
        ds = [d for d in self.duplicates() if d["worker"] == node("worker_sync")]
        self.assertEqual(len(ds), 1, self.duplicates())
        self.assertEqual(sorted(ds[0]["pids"]), sorted(w.pid for w in self.ws))
        q = queue_of(self.report, Q("sync"))
        self.assertEqual(q["verdict"], "ok")
        self.assertEqual(q["consumers_now"], 2)

    def test_duplicates_in_status(self):
        t = self.status_text
        self.assertRegex(t.lower(), r"duplicate")
        line = [l for l in t.splitlines() if "duplicate" in l.lower()]
        self.assertTrue(any(node("worker_sync") in l for l in line), t)


if __name__ == "__main__":
    unittest.main()
