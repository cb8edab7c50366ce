"""record --tail-window against the real kernel: the stderr tail's write hook is attached
only in windows (a tracked process's exec, a signal to one) and detached otherwise; a death
outside a window says so in its exit line, and explain says so too."""
import datetime
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from cwharness import BIN, Recorder, need_root, wait_for, SYS_PATH

# A Celery-looking process (argv[0]'s basename is "celery", argv a worker's): it sleeps
# CW_SLEEP seconds (or until SIGUSR1, whose handler waits CW_AFTER_SIG and writes), then
# writes a traceback to stderr and exits 1.
FAKE_CELERY = r'''#!/usr/bin/python3
import os, signal, sys, time
def on_usr1(signum, frame):
    time.sleep(float(os.environ.get("CW_AFTER_SIG", "0")))
    sys.stderr.write("Thread 0x1 (most recent call first): dump-after-signal-cw\n")
    sys.stderr.flush()
    os._exit(1)
signal.signal(signal.SIGUSR1, on_usr1)
if os.environ.get("CW_WAIT_SIGNAL"):
    open(os.environ["CW_WAIT_SIGNAL"], "w").close()
    while True:
        time.sleep(1)
time.sleep(float(os.environ.get("CW_SLEEP", "0")))
sys.stderr.write("Traceback (most recent call last):\n  File \"proj/celery.py\", line 3\n"
                 "ModuleNotFoundError: No module named 'tailwin_cw_%s'\n" % os.environ.get("CW_TAG", ""))
sys.exit(1)
'''


def link_progs(pid):
    """Names of the BPF programs the process holds links to (its own fds, so a recorder
    another job runs on this host does not count)."""
    ids = set()
    fddir = f"/proc/{pid}/fd"
    for fd in os.listdir(fddir):
        try:
            if os.readlink(os.path.join(fddir, fd)) != "anon_inode:bpf_link":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    names = set()
    for i in ids:
        out = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(i)], capture_output=True, text=True)
        if out.returncode == 0:
            names.add(json.loads(out.stdout).get("name", ""))
    return names


WRITE_HOOKS = {"handle_write", "handle_sys_enter", "handle_sys_ent"}  # names cut at 15 bytes


def write_hooked(rec):
    return bool(link_progs(rec.proc.pid) & WRITE_HOOKS)


def epoch(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def last_opening(rec):
    """Wall time of the last record that opens a window (a tracked exec, a signal but
    SIGCHLD), or of tracer_start: other jobs on this host run Celery-looking commands too."""
    return max(epoch(e["ts"]) for e in rec.events()
               if e["type"] in ("exec", "tracer_start") or (e["type"] == "signal" and e["signal"] != "SIGCHLD"))


def hooked_when_quiet(rec, window, timeout=120):
    """Whether the write hook is attached at a moment the log shows no window open (nothing
    opened one for window + 1.5 s, the tick included): it must not be."""
    end = time.time() + timeout
    while time.time() < end:
        last = last_opening(rec)
        if time.time() - last > window + 1.5:
            hooked = write_hooked(rec)
            if last_opening(rec) == last:
                return hooked
        time.sleep(0.2)
    raise AssertionError(f"no quiet moment of {window + 1.5}s on this host in {timeout}s")


@need_root
class TailWindow(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cw-window-")
        self.celery = os.path.join(self.dir, "celery")
        with open(self.celery, "w") as f:
            f.write(FAKE_CELERY)
        os.chmod(self.celery, 0o755)
        self.logfile = os.path.join(self.dir, "worker.log")
        self.recs = []

    def tearDown(self):
        for r in self.recs:
            r.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def recorder(self, *args):
        r = Recorder(*args)
        self.recs.append(r)
        return r.start()

    def fake_worker(self, tag, **env):
        e = dict(os.environ, PATH=SYS_PATH, CW_TAG=tag, **{k: str(v) for k, v in env.items()})
        return subprocess.Popen([self.celery, "-A", "proj", "worker", "-Q", "winq", "-n", f"{tag}@%h",
                                 f"--logfile={self.logfile}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=e)

    def exit_of(self, rec, p):
        return rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == p.pid, what=f"exit of {p.pid}")

    def stop_line(self, rec):
        rec.stop()
        return next(e for e in rec.events() if e["type"] == "tracer_stop")

    def test_hook_detached_without_a_window(self):
        rec = self.recorder("--tail-window=2")
        start = next(e for e in rec.events() if e["type"] == "tracer_start")
        self.assertEqual(start["options"]["tail_window"], 2)
        self.assertEqual(start["disabled"], [])
        self.assertFalse(hooked_when_quiet(rec, 2), link_progs(rec.proc.pid))
        self.assertIn("handle_exec", link_progs(rec.proc.pid))  # the rest stays attached
        # a Celery-looking exec opens a window: attached during it, detached after
        p = self.fake_worker("open", CW_SLEEP=1)
        wait_for(lambda: write_hooked(rec), 5, 0.05, "write hook attached")
        p.wait(10)
        self.assertFalse(hooked_when_quiet(rec, 2))
        stop = self.stop_line(rec)
        self.assertGreaterEqual(stop["tail_windows"], 1)
        self.assertGreaterEqual(stop["tail_attached_s"], 2)
        self.assertEqual(stop["tail_attach_failures"], 0)

    def test_traceback_right_after_exec_has_its_tail(self):
        # with each hook form: the write hook attached in the window catches it
        for hook in ("tracepoint", "btf", "raw"):
            with self.subTest(hook=hook):
                rec = self.recorder("--tail-window=5", "--tail-hook=" + hook)
                p = self.fake_worker("early" + hook)
                p.wait(10)
                ex = self.exit_of(rec, p)
                self.assertEqual(ex["exit_code"], 1)
                self.assertIn(f"tailwin_cw_early{hook}", ex["stderr_tail"] or "")
                self.assertIs(ex["stderr_watched"], True)
                self.assertNotIn("stderr_unwatched_s", ex)
                # a failed exec is still seen with the sys_enter forms detached
                q = subprocess.Popen(["/bin/bash", "-c", "exec /nonexistent/celery worker"],
                                     stderr=subprocess.DEVNULL)
                q.wait(10)
                rec.wait_event(lambda e: e["type"] == "exec_fail" and e["pid"] == q.pid, what="exec_fail")
                rec.cleanup()
                self.recs.remove(rec)

    def late_death(self, rec, tries=5):
        """The exit of a fake worker that writes 4 s after its exec, with a 1 s window; tried
        again while another job's Celery-looking exec or signal reopened the window."""
        for i in range(tries):
            p = self.fake_worker(f"late{i}", CW_SLEEP=4)
            p.wait(15)
            ex = self.exit_of(rec, p)
            born = next(e for e in rec.events() if e["type"] == "exec" and e["pid"] == p.pid)
            foreign = [e for e in rec.events() if e.get("pid") != p.pid and epoch(born["ts"]) < epoch(e["ts"])
                       <= epoch(ex["ts"]) and (e["type"] == "exec" or e["type"] == "signal")]
            if not foreign:
                return p, ex
        self.skipTest("other jobs on this host kept a window open")

    def test_write_after_the_window_is_not_watched(self):
        rec = self.recorder("--tail-window=1")
        p, ex = self.late_death(rec)
        self.assertEqual(ex["exit_code"], 1)
        self.assertIsNone(ex["stderr_tail"])
        self.assertIs(ex["stderr_watched"], False)
        self.assertGreater(ex["stderr_unwatched_s"], 0.5)
        self.assertLess(ex["stderr_unwatched_s"], 4)
        rec.stop()
        out = subprocess.run([BIN, "explain", rec.out], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("stderr was not watched at the time (--tail-window)", out.stdout)
        self.assertIn(self.logfile, out.stdout)
        js = subprocess.run([BIN, "explain", "--json", rec.out], capture_output=True, text=True)
        deaths = [d for d in json.loads(js.stdout)["deaths"] if d.get("pid") == p.pid]
        self.assertEqual(len(deaths), 1, js.stdout)
        self.assertEqual(deaths[0]["stderr_note"], "stderr was not watched at the time (--tail-window)")
        self.assertEqual(deaths[0]["logfile"], self.logfile)

    def test_watched_death_has_no_note(self):
        rec = self.recorder("--tail-window=5")
        p = self.fake_worker("noted")
        p.wait(10)
        self.assertIs(self.exit_of(rec, p)["stderr_watched"], True)
        rec.stop()
        js = subprocess.run([BIN, "explain", "--json", rec.out], capture_output=True, text=True)
        deaths = [d for d in json.loads(js.stdout)["deaths"] if d.get("pid") == p.pid]
        self.assertEqual(len(deaths), 1, js.stdout)
        self.assertIsNone(deaths[0]["stderr_note"])
        self.assertIn("tailwin_cw_noted", deaths[0]["stderr_tail"])

    def test_signal_reopens_the_window(self):
        rec = self.recorder("--tail-window=1")
        ready = os.path.join(self.dir, "ready")
        p = self.fake_worker("sig", CW_WAIT_SIGNAL=ready, CW_AFTER_SIG=0.3)
        wait_for(lambda: os.path.exists(ready), 10, 0.05, "fake worker ready")
        self.assertFalse(hooked_when_quiet(rec, 1))
        p.send_signal(signal.SIGUSR1)
        wait_for(lambda: write_hooked(rec), 5, 0.02, "write hook attached by the signal")
        p.wait(10)
        ex = self.exit_of(rec, p)
        self.assertIn("dump-after-signal-cw", ex["stderr_tail"] or "")
        self.assertIs(ex["stderr_watched"], True)
        stop = self.stop_line(rec)
        self.assertGreaterEqual(stop["tail_windows"], 2)

    def test_scanned_process_has_its_tail(self):
        # started before the recorder: tracked by the start-up scan, which makes its tail
        ready = os.path.join(self.dir, "ready")
        p = self.fake_worker("scanned", CW_WAIT_SIGNAL=ready, CW_AFTER_SIG=0.3)
        wait_for(lambda: os.path.exists(ready), 10, 0.05, "fake worker ready")
        rec = self.recorder("--tail-window=5")
        rec.wait_event(lambda e: e["type"] == "scan" and e["pid"] == p.pid, what="scan line")
        p.send_signal(signal.SIGUSR1)
        p.wait(10)
        ex = self.exit_of(rec, p)
        self.assertIn("dump-after-signal-cw", ex["stderr_tail"] or "")

    def test_always_is_the_hook_all_along(self):
        rec = self.recorder("--tail-window=always")
        start = next(e for e in rec.events() if e["type"] == "tracer_start")
        self.assertEqual(start["options"]["tail_window"], "always")
        self.assertTrue(write_hooked(rec))
        # even a write right after exec, before any recorder could react
        p = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/sh -c 'echo instant-cw >&2; exit 1'"],
                             stderr=subprocess.DEVNULL)
        p.wait(10)
        ex = self.exit_of(rec, p)
        self.assertIn("instant-cw", ex["stderr_tail"])
        self.assertNotIn("stderr_watched", ex)
        stop = self.stop_line(rec)
        self.assertNotIn("tail_windows", stop)

    def test_no_stderr_tail_has_no_window(self):
        rec = self.recorder("--no-stderr-tail")
        start = next(e for e in rec.events() if e["type"] == "tracer_start")
        self.assertIsNone(start["options"]["tail_window"])
        p = self.fake_worker("notail")
        p.wait(10)
        ex = self.exit_of(rec, p)
        self.assertIsNone(ex["stderr_tail"])
        self.assertNotIn("stderr_watched", ex)
        self.assertFalse(write_hooked(rec))


if __name__ == "__main__":
    unittest.main()
