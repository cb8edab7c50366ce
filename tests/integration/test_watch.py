"""`celerywatch watch`: the engine live. A real worker killed while `watch --follow` reads the
recorder's log (no root for watch): the death and the queue's no_consumer verdict are printed
within a second, and keep coming after the log is rotated; `watch` as root records itself and
cleans up after itself."""
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest

from cwharness import BIN, Recorder, Redis, Worker, children_of, need_root, wait_for


class Lines:
    """A process's stdout read line by line in a thread, with the time each line came."""

    def __init__(self, proc):
        self.proc, self.lines = proc, []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip("\n")))

    def find(self, *words):
        return next(((t, l) for t, l in self.lines if all(w in l for w in words)), None)


@need_root
class TestWatch(unittest.TestCase):
    def setUp(self):
        self.redis = Redis().start()
        self.addCleanup(self.redis.cleanup)

    def worker(self, name="w_watch@%h"):
        w = Worker(self.redis.url(), "wq", name).start()
        self.addCleanup(w.cleanup)
        return w.wait_ready()

    def watch(self, *args, user=None):
        kw = {"user": user} if user else {}
        p = subprocess.Popen([BIN, "watch"] + list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, **kw)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(), p.stdout.close(),
                                 p.stderr.close()))
        return p, Lines(p)

    def test_follow_death_within_a_second_and_across_rotation(self):
        rec = Recorder("--redis", self.redis.url(), "--interval", "0.5").start()
        self.addCleanup(rec.cleanup)
        os.chmod(rec.dir, 0o755)
        os.chmod(rec.out, 0o644)
        w1 = self.worker("w_one@%h")
        # watch runs as nobody: following needs no privilege
        proc, out = self.watch("--follow", rec.out, user="nobody")
        time.sleep(1.5)
        killed = time.monotonic()
        os.kill(w1.pid, signal.SIGKILL)
        t, line = wait_for(lambda: out.find("death", "SIGKILL"), 10, what="the death line")
        self.assertLess(t - killed, 1.0, line)
        t, line = wait_for(lambda: out.find("verdict", "wq has no consumer"), 10, what="no_consumer")
        self.assertLess(t - killed, 1.0, line)
        w1.stop()
        # rotation: the recorder reopens on SIGHUP, watch finds the new file
        os.rename(rec.out, rec.out + ".1")
        rec.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(rec.out), 10, what="the reopened log")
        os.chmod(rec.out, 0o644)
        w2 = self.worker("w_two@%h")
        wait_for(lambda: out.find("wq is consumed again"), 20, what="the recovery after rotation")
        os.kill(w2.pid, signal.SIGTERM)
        wait_for(lambda: out.find("death", "w_two", "SIGTERM"), 20, what="a death after rotation")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0, proc.stderr.read())

    def test_records_itself_as_root(self):
        w = self.worker("w_self@%h")
        proc, out = self.watch("--redis", self.redis.url(), "--interval", "0.5")
        # the recorder it started is its child, recording into /tmp/cw-watch-*/events.jsonl
        child = wait_for(lambda: children_of(proc.pid), 10, what="the recorder child")[0]
        with open(f"/proc/{child}/cmdline", "rb") as f:
            argv = f.read().decode().split("\0")
        log = argv[argv.index("-o") + 1]
        logdir = os.path.dirname(log)
        self.assertTrue(logdir.startswith("/tmp/cw-watch-"), argv)
        time.sleep(3)	# the recorder's start-up scan finds the worker
        os.kill(w.pid, signal.SIGKILL)
        wait_for(lambda: out.find("verdict", "wq has no consumer"), 15, what="no_consumer")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(15), 0)
        self.assertFalse(os.path.exists(f"/proc/{child}"), "the recorder is still running")
        self.assertFalse(os.path.exists(logdir), "the temporary log was left behind")

    @unittest.skipUnless(shutil.which("tmux"), "needs tmux (Debian package tmux) for a terminal")
    def test_terminal_view_in_tmux(self):
        rec = Recorder("--redis", self.redis.url(), "--interval", "0.5").start()
        self.addCleanup(rec.cleanup)
        w = self.worker("w_term@%h")
        sock = f"cw-test-{os.getpid()}"	# a tmux server of our own, killed by its socket
        tmux = ["tmux", "-L", sock]
        subprocess.run(tmux + ["new-session", "-d", "-x", "120", "-y", "30", "-s", "cw",
                               f"{BIN} watch --follow {rec.out}"], check=True)
        self.addCleanup(subprocess.run, tmux + ["kill-server"], stderr=subprocess.DEVNULL)

        def screen():
            return subprocess.run(tmux + ["capture-pane", "-p", "-t", "cw"], capture_output=True,
                                  text=True).stdout
        wait_for(lambda: re.search(r"^wq\s+\S+.*\s1\s+ok\s*$", screen(), re.M), 20, 0.2,
                 "the queue row with its consumer")
        os.kill(w.pid, signal.SIGKILL)
        wait_for(lambda: "wq has no consumer" in screen(), 10, 0.1, "the incident line")
        text = screen()
        lines = text.splitlines()
        # the header stays on top: title, column names, the queue row (now no_consumer)
        self.assertTrue(lines[0].startswith("celerywatch watch"), text)
        self.assertEqual(lines[1].split(), ["QUEUE", "DEPTH", "TREND", "CONSUMERS", "VERDICT"], text)
        wait_for(lambda: re.search(r"^wq\s.*\s0\s+no_consumer\s*$", screen(), re.M), 5, 0.1,
                 "the queue row redrawn in place")
        self.assertEqual(sum(1 for l in screen().splitlines() if l.startswith("QUEUE ")), 1)

    def test_refusals(self):
        r = subprocess.run([BIN, "watch"], capture_output=True, text=True, user="nobody")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--follow LOG", r.stderr)
        r = subprocess.run([BIN, "watch", "-f", "x", "--redis"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
