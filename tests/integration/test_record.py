"""celerywatch record against the real kernel, real redis-server and real Celery workers."""
import os
import signal
import subprocess
import tempfile
import unittest

from cwharness import (BIN, HOST, MemCgroup, Recorder, Redis, Worker, need_root, of_type,
                       send_task, wait_for, SYS_PATH)


@need_root
class RecordCelery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis().start()
        cls.broker = cls.redis.url(3)

    @classmethod
    def tearDownClass(cls):
        cls.redis.cleanup()

    def setUp(self):
        self.cleanups_ = []

    def tearDown(self):
        for c in reversed(self.cleanups_):
            c()

    def keep(self, obj):
        self.cleanups_.append(obj.cleanup)
        return obj

    def recorder(self, *args):
        return self.keep(Recorder(*args)).start()

    def worker(self, queues, name, **kw):
        return self.keep(Worker(self.broker, queues, name, **kw))

    def test_kill9_from_script_names_sender(self):
        rec = self.recorder()
        w = self.worker("high_priority", "worker_high@%h", concurrency=2).start().wait_ready()
        main = w.pid
        ex = rec.wait_event(lambda e: e["type"] in ("exec", "scan") and e["pid"] == main
                            and e.get("role") == "main", what="worker exec")
        self.assertEqual(ex["worker"], f"worker_high@{HOST}")
        self.assertEqual(ex["queues"], ["high_priority"])
        self.assertEqual(ex["concurrency"], 2)
        self.assertIn("celery", " ".join(ex["argv"]))
        pool = w.children()
        self.assertGreaterEqual(len(pool), 2)

        d = tempfile.mkdtemp(prefix="cw-script-")
        script = os.path.join(d, "rotate_workers.sh")
        with open(script, "w") as f:
            f.write("#!/bin/bash\n# what a cron job on the incident host did\nkill -9 \"$1\"\n")
        os.chmod(script, 0o755)
        subprocess.run([script, str(main)], check=True)
        w.proc.wait()

        sig = rec.wait_event(lambda e: e["type"] == "signal" and e["pid"] == main
                             and e["signal"] == "SIGKILL", what="SIGKILL signal line")
        self.assertEqual(sig["code"], "user")
        self.assertIn("rotate_workers.sh", sig["sender"]["cmdline"])
        self.assertEqual(sig["sender"]["comm"], "rotate_workers.")
        self.assertEqual(sig["sender"]["uid"], 0)
        self.assertEqual(sig["worker"], f"worker_high@{HOST}")
        self.assertEqual(sig["role"], "main")
        ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == main, what="exit")
        self.assertEqual(ex["signal"], "SIGKILL")
        self.assertIsNone(ex["exit_code"])
        self.assertFalse(ex["core_dumped"])
        self.assertEqual(ex["queues"], ["high_priority"])
        self.assertGreater(ex["maxrss_kb"], 10000)
        # the pool children see their parent die (billiard's PR_SET_PDEATHSIG)
        for child in pool:
            rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == child, what=f"pool {child} exit")
        forks = [e for e in rec.events() if e["type"] == "fork" and e["ppid"] == main and e["pid"] in pool]
        self.assertEqual(sorted(e["pid"] for e in forks), sorted(pool))
        self.assertTrue(all(e["role"] == "pool" for e in forks))
        os.unlink(script)
        os.rmdir(d)

    def test_oom_kill_in_memory_cgroup(self):
        cg = self.keep(MemCgroup(256 * 1024 * 1024))
        rec = self.recorder()
        w = self.worker("low_priority", "worker_low@%h", concurrency=1, cgroup=cg).start().wait_ready()
        send_task(self.broker, "cw.hog", args=(600,), queue="low_priority")
        oom = rec.wait_event(lambda e: e["type"] == "oom", timeout=60, what="oom line")
        self.assertIn(oom["pid"], [w.pid] + w.children() + [
            e["pid"] for e in of_type(rec.events(), "fork")])
        self.assertGreater(oom["anon_rss_kb"], 100 * 1024)
        self.assertLessEqual(oom["anon_rss_kb"], 256 * 1024)
        self.assertGreater(oom["total_vm_kb"], oom["anon_rss_kb"])
        self.assertIsInstance(oom["file_rss_kb"], int)
        self.assertIsInstance(oom["pgtables_kb"], int)
        self.assertEqual(oom["cgroup"], cg.rel)
        # the kernel's own account of the kill, to the kB
        dmesg = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
        line = [l for l in dmesg.splitlines() if f"Killed process {oom['pid']} " in l][-1]
        self.assertIn(f"anon-rss:{oom['anon_rss_kb']}kB", line)
        self.assertIn(f"total-vm:{oom['total_vm_kb']}kB", line)
        self.assertTrue(oom["tracked"])
        self.assertEqual(oom["worker"], f"worker_low@{HOST}")
        self.assertEqual(oom["queues"], ["low_priority"])
        ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == oom["pid"], what="victim exit")
        self.assertEqual(ex["signal"], "SIGKILL")
        sig = rec.wait_event(lambda e: e["type"] == "signal" and e["pid"] == oom["pid"]
                             and e["signal"] == "SIGKILL", what="kernel SIGKILL")
        self.assertEqual(sig["code"], "kernel")
        execs = [e for e in rec.events() if e["type"] == "exec" and e.get("role") == "main"]
        self.assertTrue(any(e["cgroup"] == cg.rel for e in execs), execs)

    def test_import_failure_keeps_stderr_tail(self):
        rec = self.recorder()
        w = self.worker("daemon", "worker_daemon@%h", app="no_such_module_cw").start()
        w.proc.wait(60)
        self.assertNotEqual(w.proc.returncode, 0)
        ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == w.pid, what="exit")
        self.assertNotEqual(ex["exit_code"], 0)
        self.assertIsNone(ex["signal"])
        self.assertIn("no_such_module_cw", ex["stderr_tail"])
        self.assertEqual(ex["queues"], ["daemon"])

    def test_stderr_tail_even_to_dev_null(self):
        rec = self.recorder()
        env = dict(os.environ, PATH=SYS_PATH)
        p = subprocess.Popen(["/usr/bin/celery", "-A", "no_such_module_cw", "worker", "-Q", "daemon"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        p.wait(60)
        ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == p.pid, what="exit")
        self.assertIn("no_such_module_cw", ex["stderr_tail"])

    def test_stderr_tail_with_each_hook(self):
        # every --tail-hook form keeps the tail and still catches a failed exec, and a
        # writer that is not tracked leaves nothing (its marks say so)
        env = dict(os.environ, PATH=SYS_PATH)
        for hook in ("btf", "raw", "tracepoint"):
            with self.subTest(hook=hook):
                # the shell writes right after its exec, before a window's attach could
                # land: the hook attached all along (test_tail_window covers the windows)
                rec = self.recorder("--tail-hook=" + hook, "--tail-window=always")
                start = rec.wait_event(lambda e: e["type"] == "tracer_start", what="tracer_start")
                self.assertEqual(start["disabled"], [])
                self.assertTrue(start["options"]["exec_fail"])
                subprocess.run(["/bin/sh", "-c", "echo untracked-cw >&2"], stderr=subprocess.DEVNULL)
                p = subprocess.Popen(["/bin/bash", "-c", f"exec -a celery /bin/sh -c 'echo tail-{hook}-cw >&2; "
                                      "exec /nonexistent/celery worker'"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                p.wait(30)
                ef = rec.wait_event(lambda e: e["type"] == "exec_fail" and e["pid"] == p.pid, what="exec_fail")
                self.assertEqual(ef["errno"], "ENOENT")
                ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == p.pid, what="exit")
                self.assertIn(f"tail-{hook}-cw", ex["stderr_tail"])
                self.assertNotIn("untracked-cw", "".join(e.get("stderr_tail") or "" for e in rec.events()
                                                          if e["type"] == "exit"))
                rec.cleanup()

    def test_no_exec_fail_records_no_failed_exec(self):
        rec = self.recorder("--no-exec-fail", "--tail-window=always")  # an instant write, as above
        start = rec.wait_event(lambda e: e["type"] == "tracer_start", what="tracer_start")
        self.assertFalse(start["options"]["exec_fail"])
        p = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/sh -c 'echo still-kept-cw >&2; "
                              "exec /nonexistent/celery worker'"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.wait(30)
        ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == p.pid, what="exit")
        self.assertIn("still-kept-cw", ex["stderr_tail"])
        self.assertEqual([e for e in rec.events() if e["type"] == "exec_fail"], [])

    def test_worker_started_before_recorder_is_scanned(self):
        w = self.worker("daemon", "worker_daemon@%h", concurrency=1).start().wait_ready()
        rec = self.recorder()
        sc = rec.wait_event(lambda e: e["type"] == "scan" and e["pid"] == w.pid, what="scan line")
        self.assertEqual(sc["worker"], f"worker_daemon@{HOST}")
        self.assertEqual(sc["queues"], ["daemon"])
        self.assertEqual(sc["role"], "main")
        with open(f"/proc/{w.pid}/stat") as f:
            self.assertEqual(sc["pstart"], int(f.read().rsplit(")", 1)[1].split()[19]))
        pool = w.children()
        for c in pool:
            p = rec.wait_event(lambda e: e["type"] == "scan" and e["pid"] == c, what="pool scan")
            self.assertEqual(p["role"], "pool")
            self.assertEqual(p["worker"], f"worker_daemon@{HOST}")
        # tracked from the scan on: its death is recorded with its identity
        os.kill(w.pid, signal.SIGTERM)
        w.proc.wait(30)
        ex = rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == w.pid, what="exit")
        self.assertEqual(ex["exit_code"], 0)
        self.assertEqual(ex["worker"], f"worker_daemon@{HOST}")
        sig = rec.wait_event(lambda e: e["type"] == "signal" and e["pid"] == w.pid
                             and e["signal"] == "SIGTERM", what="SIGTERM line")
        self.assertEqual(sig["sender"]["pid"], os.getpid())

    def test_pool_recycled_with_max_tasks_per_child(self):
        rec = self.recorder()
        w = self.worker("recycle_q", "worker_recycle@%h", concurrency=1,
                        extra=["--max-tasks-per-child", "1"]).start().wait_ready()
        first = w.children()
        send_task(self.broker, "cw.add", args=(1, 2), queue="recycle_q", count=3)
        exits = wait_for(lambda: [e for e in rec.events() if e["type"] == "exit" and e["role"] == "pool"
                                  and e["exit_code"] == 155] if len(
            [e for e in rec.events() if e["type"] == "exit" and e["exit_code"] == 155]) >= 3 else None,
            60, what="3 recycled pool children")
        self.assertTrue(set(first) <= {e["pid"] for e in exits})
        forks = [e for e in rec.events() if e["type"] == "fork" and e["ppid"] == w.pid]
        self.assertGreaterEqual(len(forks), 3)
        for e in exits:
            self.assertEqual(e["worker"], f"worker_recycle@{HOST}")
            self.assertEqual(e["queues"], ["recycle_q"])


@need_root
class RecordBasics(unittest.TestCase):
    def test_hostile_argv_round_trips(self):
        d = tempfile.mkdtemp(prefix="cw-hostile-")
        celery = os.path.join(d, "celery")
        os.symlink("/bin/sleep", celery)
        rec = Recorder().start()
        try:
            args = [b"worker", b'-Q', b'"quoted",\\back', b"new\nline", b"\xff\xfe not utf8 \xc3",
                    b"}\n{\"type\":\"exit\"}", b"\x1b[31m", b"0.3"]
            p = subprocess.Popen([celery.encode()] + args)
            p.wait()
            ex = rec.wait_event(lambda e: e["type"] == "exec" and e["pid"] == p.pid, what="exec")
            got = [a.encode("utf-8", "surrogateescape") for a in ex["argv"]]
            self.assertEqual(got, [celery.encode()] + args)
            rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == p.pid, what="exit")
            forged = [e for e in rec.events() if e["type"] == "exit" and "comm" not in e]
            self.assertEqual(forged, [])
        finally:
            rec.cleanup()
            os.unlink(celery)
            os.rmdir(d)

    def test_long_argv_is_truncated_and_marked(self):
        d = tempfile.mkdtemp(prefix="cw-long-")
        celery = os.path.join(d, "celery")
        os.symlink("/bin/true", celery)
        rec = Recorder().start()
        try:
            args = ["worker", "-Q", ",".join(f"queue_{i:04d}" for i in range(400))]
            p = subprocess.Popen([celery] + args)
            p.wait()
            ex = rec.wait_event(lambda e: e["type"] == "exec" and e["pid"] == p.pid, what="exec")
            self.assertTrue(ex["argv_truncated"])
            self.assertEqual(ex["argv"][:2], [celery, "worker"])
            joined = "\0".join(ex["argv"]).encode()
            self.assertLessEqual(len(joined), 1024)
            self.assertTrue(("\0".join([celery] + args)).encode().startswith(joined))
        finally:
            rec.cleanup()
            os.unlink(celery)
            os.rmdir(d)

    def test_exec_failure_reported(self):
        rec = Recorder().start()
        try:
            p = subprocess.run(["/bin/sh", "-c", "exec /nonexistent/bin/celery -A proj worker -Q low_priority"],
                               capture_output=True)
            self.assertNotEqual(p.returncode, 0)
            ef = rec.wait_event(lambda e: e["type"] == "exec_fail", what="exec_fail")
            self.assertEqual(ef["errno"], "ENOENT")
            self.assertEqual(ef["argv"], ["/nonexistent/bin/celery", "-A", "proj", "worker", "-Q", "low_priority"])
            self.assertEqual(ef["queues"], ["low_priority"])
        finally:
            rec.cleanup()

    def test_untracked_processes_produce_nothing(self):
        rec = Recorder().start()
        try:
            p = subprocess.Popen(["/bin/sleep", "0.2"])
            p.wait()
            marker = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/true"])
            marker.wait()
            rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == marker.pid, what="marker exit")
            self.assertEqual([e for e in rec.events() if e.get("pid") == p.pid], [])
        finally:
            rec.cleanup()

    def test_sigterm_stops_with_tracer_stop_and_sighup_reopens(self):
        rec = Recorder().start()
        try:
            start = of_type(rec.events(), "tracer_start")[0]
            self.assertEqual(start["v"], 2)
            self.assertEqual(start["host"], HOST)
            self.assertEqual(oct(os.stat(rec.out).st_mode & 0o777), "0o640")
            rotated = rec.out + ".1"
            os.rename(rec.out, rotated)
            rec.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: os.path.exists(rec.out), 10, what="reopened log")
            marker = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/true"])
            marker.wait()
            rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == marker.pid, what="exit in new file")
            self.assertEqual(rec.stop(signal.SIGTERM), 0)
            stop = of_type(rec.events(), "tracer_stop")
            self.assertEqual(len(stop), 1)
            self.assertEqual(stop[0]["reason"], "SIGTERM")
            self.assertEqual(stop[0]["lost"], 0)
        finally:
            rec.cleanup()

    def test_symlink_output_refused(self):
        d = tempfile.mkdtemp(prefix="cw-link-")
        try:
            os.symlink("/etc/cw-should-not-exist", os.path.join(d, "ev.jsonl"))
            p = subprocess.run([BIN, "record", "-o", os.path.join(d, "ev.jsonl")], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertIn("symbolic link", p.stderr)
            self.assertFalse(os.path.exists("/etc/cw-should-not-exist"))
        finally:
            os.unlink(os.path.join(d, "ev.jsonl"))
            os.rmdir(d)

    def test_not_root_refused_in_one_sentence(self):
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BIN,
                            "record", "-o", "-"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("root", p.stderr)
        self.assertNotIn("libbpf", p.stderr)


if __name__ == "__main__":
    unittest.main()
