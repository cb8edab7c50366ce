"""`celerywatch explain` and `status` on real incidents: real Celery workers on a throwaway
redis-server, real kernel events from `celerywatch record`, one recorder per scenario group.

Each class sets up one group in setUpClass (recorder started, incidents caused, recorder
stopped with SIGTERM, `explain --json` run on its log); each test checks one kind against the
facts the test itself knows (pids, the cgroup, who sent what) and the log's own lines.

Queue and worker names carry a per-run tag: the recorder and `status` see every Celery
process on the host, and neither can tell which broker a worker uses, so another suite's
`worker_low` on `low_priority` would otherwise count as a consumer of ours.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from cwharness import (APP_DIR, BIN, HOST, MemCgroup, Recorder, Redis, Tags, Worker,
                       celery_env, need_root, of_type, queue_of, rfc3339_s, run_explain, wait_for)

TAGS = Tags("x")
Q, N, node, ts = TAGS.q, TAGS.n, TAGS.node, rfc3339_s
PARENT_AFTER_S = 10  # user/explain/causes.c: a pool child this long before its parent's end


def send_many(broker_url, tasks, gap=0.0):
    """Send tasks ({name, args, queue, priority}) from one real Celery producer, `gap` seconds
    apart: one process, so the rate is the rate asked."""
    code = ("import sys, json, time; sys.path.insert(0, %r)\n"
            "from cwtest_app import app\n"
            "a = json.loads(sys.argv[1])\n"
            "with app.producer_or_acquire() as p:\n"
            "    for i, t in enumerate(a['tasks']):\n"
            "        if i and a['gap']:\n"
            "            time.sleep(a['gap'])\n"
            "        app.send_task(t['name'], args=t.get('args', []), queue=t['queue'],\n"
            "                      priority=t.get('priority'), producer=p)\n" % APP_DIR)
    subprocess.run(["/usr/bin/python3", "-c", code, json.dumps({"tasks": tasks, "gap": gap})],
                   env=celery_env(broker_url), check=True, cwd=APP_DIR, timeout=120)


def explain(log, *args):
    return run_explain(log, *args)


def deaths_of(report, pid):
    return [d for d in report["deaths"] if d["pid"] == pid and d["host"] == HOST]


def lines(events, **kw):
    return of_type(events, kw.pop("type"), **kw)


def kill_script(dirpath):
    """What a cron job on the incident host did."""
    script = os.path.join(dirpath, "rotate_workers.sh")
    with open(script, "w") as f:
        f.write("#!/bin/bash\n# rotate the Celery workers\nkill -9 \"$1\"\n")
    os.chmod(script, 0o755)
    return script


class Group(unittest.TestCase):
    """A class-level Redis, and whatever setUpClass started, cleaned up in reverse order."""

    @classmethod
    def setUpClass(cls):
        cls.cleanups_ = []
        cls.redis = cls.keep(Redis().start())
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
    def worker(cls, broker, queues, name, **kw):
        return cls.keep(Worker(broker, queues, name, **kw))

    @classmethod
    def finish(cls, rec):
        """Stop the recorder (SIGTERM), keep its lines and explain's report of them."""
        if rec.stop(signal.SIGTERM) != 0:
            raise AssertionError("recorder exited %s: %s" % (rec.proc.returncode, rec.stderr()))
        cls.events = rec.events()
        if os.environ.get("CW_KEEP_LOGS"):
            kept = os.path.join(tempfile.gettempdir(), "cw-%s-%s.jsonl" % (cls.__name__, TAGS.tag))
            shutil.copy(rec.out, kept)
            print("kept", kept)
        if not lines(cls.events, type="tracer_stop"):
            raise AssertionError("the recorder wrote no tracer_stop")
        cls.report = explain(rec.out)

    def death(self, pid, kind=None):
        ds = deaths_of(self.report, pid)
        self.assertEqual(len(ds), 1, "deaths of pid %d: %s" % (pid, ds))
        if kind:
            self.assertEqual(ds[0]["kind"], kind, ds[0]["summary"])
        return ds[0]

    def exit_line(self, pid):
        ex = lines(self.events, type="exit", pid=pid)
        self.assertEqual(len(ex), 1, "exit lines of %d" % pid)
        return ex[0]


def wait_line(rec, what, timeout=30, **kw):
    t = kw.pop("type")
    return rec.wait_event(lambda e: e["type"] == t and all(e.get(k) == v for k, v in kw.items()),
                          timeout, what)


@need_root
class PoolAndStartDeaths(Group):
    """One recorder: a segfaulting task, a task calling os._exit(0), a hard time limit, pool
    recycling, an OOM kill in a memory cgroup, an app that fails to import, a warm shutdown."""

    @classmethod
    def scenario(cls):
        b = cls.broker = cls.redis.url(1)
        cls.cg = cls.keep(MemCgroup(256 * 1024 * 1024))
        rec = cls.rec = cls.keep(Recorder()).start()
        w = cls.w = {
            "seg": cls.worker(b, Q("qseg"), N("worker_seg")),
            "exit": cls.worker(b, Q("qexit"), N("worker_exit"), concurrency=2),
            "tl": cls.worker(b, Q("qtl"), N("worker_tl"), extra=["--time-limit", "1"]),
            "recycle": cls.worker(b, Q("qrecycle"), N("worker_recycle"),
                                  extra=["--max-tasks-per-child", "1"]),
            "low": cls.worker(b, Q("low_priority"), N("worker_low"), cgroup=cls.cg),
            "bad": cls.worker(b, Q("daemon"), N("worker_bad"), app="no_such_module_cw"),
        }
        for x in w.values():
            x.start()
        for k, x in w.items():
            if k != "bad":
                x.wait_ready()
        w["bad"].proc.wait(60)
        cls.kids = {k: x.children() for k, x in w.items() if k != "bad"}
        for k, kids in cls.kids.items():
            assert len(kids) == (2 if k == "exit" else 1), (k, kids)
        send_many(b, [
            {"name": "cw.segfault", "queue": Q("qseg")},
            {"name": "cw.exit", "args": [0], "queue": Q("qexit")},
            {"name": "cw.sleep", "args": [10], "queue": Q("qtl")},
            {"name": "cw.add", "args": [1, 2], "queue": Q("qrecycle")},
            {"name": "cw.add", "args": [3, 4], "queue": Q("qrecycle")},
            {"name": "cw.hog", "args": [600], "queue": Q("low_priority")},
        ])
        # os._exit(0) in the task; a second later the worker is stopped (warm shutdown):
        # the child's clean exit is still its own, not its parent's; its other child goes
        # with the shutdown
        cls.clean_pid = wait_line(rec, "exit 0 of the cw.exit child", type="exit",
                                  ppid=w["exit"].pid, exit_code=0)["pid"]
        time.sleep(1)
        cls.exit_others = [p for p in w["exit"].children() if p != cls.clean_pid]
        os.kill(w["exit"].pid, signal.SIGTERM)
        # the hard time limit: the MainProcess kills its child; a second later a kill -9 of
        # the MainProcess (a restart): the time limit is still the time limit
        wait_line(rec, "time-limited child's exit", type="exit", pid=cls.kids["tl"][0])
        time.sleep(1)
        cls.tl_respawned = [p for p in w["tl"].children() if p != cls.kids["tl"][0]]
        os.kill(w["tl"].pid, signal.SIGKILL)
        w["exit"].proc.wait(30)
        w["tl"].proc.wait(30)
        for pid in cls.exit_others + cls.tl_respawned:
            wait_line(rec, "the stopped workers' other children's exits", type="exit", pid=pid)
        wait_line(rec, "segfaulted child's exit", type="exit", pid=cls.kids["seg"][0])
        wait_for(lambda: len([e for e in lines(rec.events(), type="exit", exit_code=155)
                              if e["ppid"] == w["recycle"].pid]) >= 2, 30,
                 what="two recycled children")
        cls.oom = wait_line(rec, "oom line", 60, type="oom", worker=node("worker_low"))
        wait_line(rec, "OOM victim's exit", type="exit", pid=cls.oom["pid"])
        wait_line(rec, "failed worker's exit", type="exit", pid=w["bad"].pid)
        cls.finish(rec)

    def test_crash(self):
        pid = self.kids["seg"][0]
        d = self.death(pid, "crash")
        self.assertEqual(d["signal"], "SIGSEGV")
        self.assertEqual(d["role"], "pool")
        self.assertEqual(d["worker"], node("worker_seg"))
        self.assertEqual(d["queues"], [Q("qseg")])
        self.assertEqual(d["parent_pid"], self.w["seg"].pid)
        self.assertIsNone(d["exit_code"])
        self.assertTrue(d["incident"])
        self.assertIn("crashed with SIGSEGV", d["summary"])
        # the kernel's fault signal: no sender; the child itself was running
        sig = lines(self.events, type="signal", pid=pid, signal="SIGSEGV")
        self.assertEqual(len(sig), 1)
        self.assertEqual(sig[0]["sender"]["kind"], "kernel")
        self.assertEqual(sig[0]["sender"]["reason"], "fault")
        self.assertEqual(sig[0]["sender"]["running"]["pid"], pid)

    def test_exit_clean(self):
        pid = self.clean_pid
        self.assertIn(pid, self.kids["exit"])
        d = self.death(pid, "exit_clean")
        self.assertEqual(d["exit_code"], 0)
        self.assertIsNone(d["signal"])
        self.assertIsNone(d["sender"])
        self.assertEqual(d["worker"], node("worker_exit"))
        self.assertEqual(d["role"], "pool")
        self.assertIsNone(d["parent_kind"])
        self.assertTrue(d["incident"])
        self.assertIn("exited with status 0 and nobody sent it a signal", d["summary"])
        # its MainProcess was asked to stop only after it (within PARENT_AFTER_S)
        main_exit = self.exit_line(self.w["exit"].pid)
        self.assertLess(ts(main_exit["ts"]) - ts(d["ts"]), PARENT_AFTER_S)
        self.assertEqual(lines(self.events, type="signal", pid=pid), [])

    def test_signal_sigterm_warm_shutdown(self):
        main = self.w["exit"].pid
        self.assertEqual(self.w["exit"].proc.returncode, 0)
        d = self.death(main, "signal")
        self.assertEqual(d["exit_code"], 0)
        self.assertEqual(d["signal"], "SIGTERM")
        self.assertEqual(d["role"], "main")
        self.assertEqual(d["worker"], node("worker_exit"))
        self.assertEqual(d["sender"]["pid"], os.getpid())
        self.assertEqual(d["sender"]["uid"], 0)
        self.assertIn("python3", d["sender"]["cmdline"])
        self.assertIn("shut down (exit 0) after SIGTERM from pid %d" % os.getpid(), d["summary"])
        # its other child went with it (and the replacement, if billiard had forked it)
        self.assertIn([p for p in self.kids["exit"] if p != self.clean_pid][0], self.exit_others)
        for pid in self.exit_others:
            c = self.death(pid, "parent_died")
            self.assertEqual(c["parent_pid"], main)
            self.assertEqual(c["parent_kind"], "signal")
        went = [c for c in self.report["deaths"] if c["kind"] == "parent_died"
                and c["parent_pid"] == main and c["host"] == HOST]
        self.assertEqual(d["followers"], len(went))
        self.assertNotIn(self.clean_pid, [c["pid"] for c in went])

    def test_time_limit(self):
        pid, main = self.kids["tl"][0], self.w["tl"].pid
        d = self.death(pid, "time_limit")
        self.assertEqual(d["signal"], "SIGKILL")
        self.assertEqual(d["sender"]["pid"], main)
        self.assertEqual(d["parent_pid"], main)
        self.assertEqual(d["worker"], node("worker_tl"))
        self.assertIn("by its MainProcess (pid %d): a hard time limit" % main, d["summary"])
        # the MainProcess was killed within PARENT_AFTER_S, but after the child was gone
        self.assertLess(ts(self.exit_line(main)["ts"]) - ts(d["ts"]), PARENT_AFTER_S)
        self.assertEqual(self.death(main, "signal")["sender"]["pid"], os.getpid())
        for c in self.tl_respawned:
            self.assertEqual(self.death(c, "parent_died")["parent_kind"], "signal")

    def test_recycled(self):
        main = self.w["recycle"].pid
        ex = [e for e in lines(self.events, type="exit", exit_code=155) if e["ppid"] == main]
        self.assertGreaterEqual(len(ex), 2)
        self.assertIn(self.kids["recycle"][0], [e["pid"] for e in ex])
        for e in ex:
            d = self.death(e["pid"], "recycled")
            self.assertEqual(d["exit_code"], 155)
            self.assertEqual(d["role"], "pool")
            self.assertEqual(d["worker"], node("worker_recycle"))
            self.assertEqual(d["parent_pid"], main)
            self.assertFalse(d["incident"])

    def test_exit_error(self):
        bad = self.w["bad"]
        self.assertNotEqual(bad.proc.returncode, 0)
        d = self.death(bad.pid, "exit_error")
        self.assertEqual(d["exit_code"], bad.proc.returncode)
        self.assertEqual(d["role"], "main")
        self.assertEqual(d["worker"], node("worker_bad"))
        self.assertEqual(d["queues"], [Q("daemon")])
        self.assertIsNone(d["signal"])
        self.assertIn("no_such_module_cw", d["stderr_tail"])
        self.assertIn("no_such_module_cw", d["summary"])

    def test_oom_kill(self):
        oom = self.oom
        self.assertEqual(oom["pid"], self.kids["low"][0], "the hog's pool child is the victim")
        d = self.death(oom["pid"], "oom_kill")
        self.assertEqual(d["worker"], node("worker_low"))
        self.assertEqual(d["role"], "pool")
        self.assertEqual(d["queues"], [Q("low_priority")])
        self.assertEqual(d["parent_pid"], self.w["low"].pid)
        self.assertEqual(d["signal"], "SIGKILL")
        self.assertGreater(d["oom"]["anon_rss_kb"], 100 * 1024)
        self.assertEqual(d["oom"]["anon_rss_kb"], oom["anon_rss_kb"])
        self.assertEqual(d["oom"]["total_vm_kb"], oom["total_vm_kb"])
        self.assertEqual(d["oom"]["cgroup"], self.cg.rel)
        self.assertIn("OOM-killed in cgroup %s" % self.cg.rel, d["summary"])
        # its MainProcess lives on: no death of its own; until billiard forks a new child
        # (seconds later) it consumes without a pool
        self.assertEqual(deaths_of(self.report, self.w["low"].pid), [])
        q = queue_of(self.report, Q("low_priority"))
        self.assertEqual(q["consumers_now"], 1)
        respawned = [e for e in lines(self.events, type="fork", ppid=self.w["low"].pid)
                     if ts(e["ts"]) > ts(oom["ts"])]
        if respawned:
            self.assertEqual(q["verdict"], "ok")
        else:
            self.assertEqual(q["verdict"], "degraded")
            self.assertEqual(q["cause"]["pid"], oom["pid"])
            self.assertEqual(q["cause"]["kind"], "oom_kill")


@need_root
class KilledWorkerAndQueues(Group):
    """One recorder sampling Redis every 0.2 s: worker_low's MainProcess killed with kill -9
    by rotate_workers.sh, its queue then fed at a known rate; a failed exec; a queue that
    nobody ever consumed."""

    RATE_PER_S = 5
    FEED = 15

    @classmethod
    def scenario(cls):
        b = cls.broker = cls.redis.url(2)
        # tasks for a queue no worker will ever consume (the binding exists before the
        # recorder starts, so its first broker scan finds the queue)
        send_many(b, [{"name": "cw.add", "args": [1, 1], "queue": Q("orphan")}] * 3)
        rec = cls.keep(Recorder("--redis", b, "--interval", "0.2")).start()
        w = cls.low = cls.worker(b, Q("low_priority"), N("worker_low"), concurrency=2)
        w.start().wait_ready()
        cls.kids = w.children()
        assert len(cls.kids) == 2, cls.kids
        wait_for(lambda: [s for s in lines(rec.events(), type="sample", redis_ok=True)
                          if any(q["queue"] == Q("low_priority") for q in s["queues"])][2:],
                 15, what="samples of the live worker's queue")
        cls.tmp = tempfile.mkdtemp(prefix="cw-script-")
        cls.cleanups_.append(lambda: shutil.rmtree(cls.tmp, ignore_errors=True))
        subprocess.run([kill_script(cls.tmp), str(w.pid)], check=True)
        w.proc.wait(30)
        for pid in cls.kids:
            wait_line(rec, "pool child's exit", type="exit", pid=pid)
        # the queue keeps receiving tasks with nobody consuming
        send_many(b, [{"name": "cw.add", "args": [2, 2], "queue": Q("low_priority")}]
                  * cls.FEED, gap=1.0 / cls.RATE_PER_S)
        cls.exec_fail = subprocess.run(
            ["/bin/sh", "-c", "exec /nonexistent/celery -A x worker -Q %s" % Q("qexec")],
            capture_output=True)
        send_many(b, [{"name": "cw.add", "args": [1, 1], "queue": Q("orphan"),
                       "priority": 9}] * 2)
        wait_line(rec, "exec_fail line", type="exec_fail", queues=[Q("qexec")])
        time.sleep(0.6)  # a few samples of the final depths
        cls.finish(rec)

    def samples(self, queue):
        out = []
        for s in lines(self.events, type="sample", redis_ok=True):
            for q in s["queues"]:
                if q["queue"] == queue:
                    out.append((ts(s["ts"]), q["depth"]))
        return out

    def test_signal_kill9_from_script(self):
        main = self.low.pid
        d = self.death(main, "signal")
        self.assertEqual(d["signal"], "SIGKILL")
        self.assertEqual(d["signal_code"], "user")
        self.assertIsNone(d["exit_code"])
        self.assertEqual(d["worker"], node("worker_low"))
        self.assertEqual(d["role"], "main")
        self.assertEqual(d["sender"]["comm"], "rotate_workers.")
        self.assertIn("rotate_workers.sh", d["sender"]["cmdline"])
        self.assertIn(str(main), d["sender"]["cmdline"])
        self.assertEqual(d["sender"]["uid"], 0)
        self.assertNotEqual(d["sender"]["pid"], os.getpid())
        self.assertIn("was killed by SIGKILL from pid %d (rotate_workers." % d["sender"]["pid"],
                      d["summary"])
        self.assertEqual(d["followers"], 2)

    def test_parent_died(self):
        main = self.low.pid
        for pid in self.kids:
            d = self.death(pid, "parent_died")
            self.assertEqual(d["parent_pid"], main)
            self.assertEqual(d["parent_kind"], "signal")
            self.assertEqual(d["worker"], node("worker_low"))
            self.assertFalse(d["incident"])
            self.assertIn("ended because its MainProcess (pid %d) died (signal)" % main,
                          d["summary"])
            # after the parent's end, never before it
            self.assertGreaterEqual(ts(d["ts"]), ts(self.exit_line(main)["ts"]))

    def test_queue_verdict_and_growth(self):
        main = self.low.pid
        q = queue_of(self.report, Q("low_priority"))
        self.assertEqual(q["verdict"], "no_consumer")
        self.assertEqual(q["consumers_now"], 0)
        self.assertEqual(q["cause"]["pid"], main)
        self.assertEqual(q["cause"]["kind"], "signal")
        self.assertEqual(q["cause"]["sender"]["comm"], "rotate_workers.")
        kill = lines(self.events, type="signal", pid=main, signal="SIGKILL")[0]
        self.assertEqual(q["uncovered_since"], self.exit_line(main)["ts"])
        self.assertAlmostEqual(ts(q["uncovered_since"]), ts(kill["ts"]), delta=1.0)

        s = self.samples(Q("low_priority"))
        self.assertGreater(len(s), 10)
        self.assertEqual(q["depth_first"], s[0][1])
        self.assertEqual(q["depth_last"], s[-1][1])
        self.assertEqual(q["depth_last"], self.FEED)
        self.assertEqual(q["depth_max"], max(d for _, d in s))
        # the spec: the rate while nobody consumed, from the last sample at or before the
        # loss to the last sample of the window
        lost = ts(q["uncovered_since"])
        before = [x for x in s if x[0] <= lost]
        t0, d0 = before[-1] if before else s[0]
        t1, d1 = s[-1]
        want = (d1 - d0) * 60.0 / (t1 - t0)
        self.assertAlmostEqual(q["growth_per_min"], round(want, 2), delta=0.011)
        self.assertEqual(q["growth"]["depth_from"], d0)
        self.assertEqual(q["growth"]["depth_to"], d1)
        self.assertAlmostEqual(ts(q["growth"]["from"]), t0, delta=1e-6)
        # and it is about the rate it was fed at (the window also holds the quiet seconds
        # before the feeder started and after it ended, so it can only be lower)
        self.assertGreater(q["growth_per_min"], 0)
        self.assertLessEqual(q["growth_per_min"], self.RATE_PER_S * 60 * 1.2)

    def test_exec_failed(self):
        self.assertNotEqual(self.exec_fail.returncode, 0)
        ef = lines(self.events, type="exec_fail", queues=[Q("qexec")])
        self.assertEqual(len(ef), 1)
        self.assertEqual(ef[0]["argv"], ["/nonexistent/celery", "-A", "x", "worker", "-Q",
                                         Q("qexec")])
        d = self.death(ef[0]["pid"], "exec_failed")
        self.assertEqual(d["errno"], "ENOENT")
        self.assertEqual(d["queues"], [Q("qexec")])
        self.assertIn("/nonexistent/celery -A x worker -Q %s" % Q("qexec"), d["summary"])
        self.assertIn("ENOENT", d["summary"])
        q = queue_of(self.report, Q("qexec"))
        self.assertEqual(q["verdict"], "no_consumer")
        self.assertEqual(q["cause"]["kind"], "exec_failed")
        self.assertEqual(q["cause"]["pid"], ef[0]["pid"])

    def test_never_started(self):
        q = queue_of(self.report, Q("orphan"))
        s = self.samples(Q("orphan"))
        self.assertTrue(s, "the orphan queue was never sampled")
        self.assertEqual(q["verdict"], "no_consumer")
        self.assertIsNone(q["uncovered_since"])
        self.assertEqual(q["depth_first"], 3)
        self.assertEqual(q["depth_last"], 5)  # the two priority-9 tasks count too
        self.assertEqual(q["cause"]["kind"], "never_started")
        self.assertIsNone(q["cause"]["pid"])
        self.assertEqual(q["cause"]["queues"], [Q("orphan")])
        self.assertIn("queue %s had tasks (up to 5)" % Q("orphan"), q["cause"]["summary"])
        ns = [d for d in self.report["deaths"] if d["kind"] == "never_started"
              and d["queues"] == [Q("orphan")]]
        self.assertEqual(len(ns), 1)


@need_root
class Status(Group):
    """`celerywatch status` against live workers (high c=2, low c=1) and Redis, then after
    the low worker's MainProcess is killed, with the recorder's log."""

    @classmethod
    def scenario(cls):
        b = cls.broker = cls.redis.url(3)
        rec = cls.rec = cls.keep(Recorder()).start()
        cls.high = cls.worker(b, Q("high_priority"), N("worker_high"), concurrency=2).start()
        cls.low = cls.worker(b, Q("low_priority"), N("worker_low"), concurrency=1).start()
        cls.high.wait_ready()
        cls.low.wait_ready()
        wait_for(lambda: len(cls.high.children()) == 2 and len(cls.low.children()) == 1, 15,
                 what="pools")
        cls.before = cls.status()
        cls.high_kids = cls.high.children()
        cls.llen_before = {q: cls.llen(q) for q in (Q("high_priority"), Q("low_priority"))}
        cls.low_kids = cls.low.children()
        os.kill(cls.low.pid, signal.SIGKILL)
        cls.low.proc.wait(30)
        for pid in cls.low_kids:
            wait_line(rec, "low pool child's exit", type="exit", pid=pid)
            wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10, what="child gone")
        send_many(b, [{"name": "cw.add", "args": [1, 1], "queue": Q("low_priority")}] * 3 +
                  [{"name": "cw.add", "args": [1, 1], "queue": Q("low_priority"),
                    "priority": 9}] * 2)
        cls.after = cls.status("--log", rec.out)
        cls.after_text = cls.status("--log", rec.out, json_out=False)
        cls.llen_after = {q: cls.llen(q) for q in (Q("high_priority"), Q("low_priority"))}

    @classmethod
    def status(cls, *args, json_out=True):
        p = subprocess.run([BIN, "status", "--redis", cls.broker] + (["--json"] if json_out else [])
                           + list(args), capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, NO_COLOR="1"))
        if p.returncode not in (0, 1):
            raise AssertionError("status exited %d: %s" % (p.returncode, p.stderr))
        return (json.loads(p.stdout) if json_out else p.stdout), p.returncode

    @classmethod
    def llen(cls, q):
        """kombu's depth: the list and its priority lists."""
        n = 0
        for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169"):
            n += int(cls.redis.cli("LLEN", q + suffix, db=3))
        return n

    def proc(self, snap, pid):
        ps = [p for p in snap["processes"] if p["pid"] == pid]
        self.assertEqual(len(ps), 1, "pid %d in status" % pid)
        return ps[0]

    def squeue(self, snap, name):
        qs = [q for q in snap["queues"] if q["queue"] == name]
        self.assertEqual(len(qs), 1, "queue %s in %s" % (name, snap["queues"]))
        return qs[0]

    def test_status_live_workers(self):
        snap, rc = self.before
        self.assertTrue(snap["redis"]["ok"], snap["redis"])
        for w, conc, qname, base in ((self.high, 2, Q("high_priority"), "worker_high"),
                                     (self.low, 1, Q("low_priority"), "worker_low")):
            p = self.proc(snap, w.pid)
            self.assertEqual(p["role"], "main")
            self.assertEqual(p["worker"], node(base))
            self.assertEqual(p["queues"], [qname])
            self.assertEqual(p["concurrency"], conc)
            self.assertEqual(p["pool_size"], conc)
            self.assertEqual(p["pool"], "prefork")
            self.assertEqual(p["command"], "worker")
            self.assertGreaterEqual(p["uptime_s"], 0)
            for kid in (self.high_kids if w is self.high else self.low_kids):
                k = self.proc(snap, kid)
                self.assertEqual(k["role"], "pool")
                self.assertEqual(k["ppid"], w.pid)
                self.assertEqual(k["worker"], node(base))
            q = self.squeue(snap, qname)
            self.assertEqual(q["verdict"], "ok")
            self.assertEqual(q["consumers"], [node(base)])
            self.assertEqual(q["pool_now"], conc)
            self.assertEqual(q["depth"], self.llen_before[qname])
        # the exit status says whether every queue it shows is ok
        self.assertEqual(rc, 0 if all(q["verdict"] == "ok" for q in snap["queues"]) else 1)

    def test_status_after_kill_with_log(self):
        snap, rc = self.after
        self.assertEqual(rc, 1)
        self.assertEqual([p for p in snap["processes"]
                          if p["pid"] in [self.low.pid] + self.low_kids], [])
        low = self.squeue(snap, Q("low_priority"))
        self.assertEqual(low["verdict"], "no_consumer")
        self.assertEqual(low["consumers_now"], 0)
        self.assertEqual(low["depth"], self.llen_after[Q("low_priority")])
        self.assertEqual(low["depth"], 5)
        self.assertEqual(low["cause"]["pid"], self.low.pid)
        self.assertEqual(low["cause"]["kind"], "signal")
        self.assertEqual(low["cause"]["signal"], "SIGKILL")
        self.assertEqual(low["cause"]["sender"]["pid"], os.getpid())
        high = self.squeue(snap, Q("high_priority"))
        self.assertEqual(high["verdict"], "ok")
        self.assertEqual(high["depth"], self.llen_after[Q("high_priority")])
        self.assertIsNone(high["cause"])
        self.assertIsNone(self.proc(snap, self.high.pid)["last_death"])
        self.assertEqual(snap["log"], self.rec.out)
        # the text names the death of the worker that is gone
        text, _ = self.after_text
        self.assertIn("NO CONSUMER", text)
        self.assertIn("Last deaths in %s" % self.rec.out, text)
        self.assertIn("%s (pid %d) was killed by SIGKILL" % (node("worker_low"), self.low.pid),
                      text)


if __name__ == "__main__":
    unittest.main()
