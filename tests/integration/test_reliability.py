"""Recorder reliability on the real kernel: races and floods that must not change the answer.

Run as root: python3 -m unittest tests/integration/test_reliability.py
"""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from cwharness import Recorder, need_root, of_type  # noqa: E402

# 64 threads parked on an event, then "ready": a process whose threads all die together
THREADED = r"""
import sys, threading
ev = threading.Event()
for _ in range(64):
    threading.Thread(target=ev.wait, daemon=True).start()
sys.stdout.write("ready\n"); sys.stdout.flush()
ev.wait()
"""


@need_root
class TestOneExitPerProcess(unittest.TestCase):
    """Every thread of a SIGKILLed process exits at once; only the last one may report the
    death, and two threads seeing signal->live == 0 together must not make two exit lines."""

    def test_64_threads_killed_100_times(self):
        self.kill_threaded(100)

    def test_64_threads_killed_100_times_all(self):
        # --all follows every process: the claim must hold without the tracked map too
        self.kill_threaded(100, "--all")

    def kill_threaded(self, times, *args):
        rec = Recorder(*args).start()
        self.addCleanup(rec.cleanup)
        pids = []
        for _ in range(times):
            # "celery" as an argument: the kernel filter tracks it from its exec
            p = subprocess.Popen(["/usr/bin/python3", "-c", THREADED, "celery"],
                                 stdout=subprocess.PIPE)
            self.assertEqual(p.stdout.readline(), b"ready\n")
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
            pids.append(p.pid)
        last = pids[-1]
        rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == last, 20,
                       "the last process's exit")
        rec.stop()
        events = rec.events()
        for pid in pids:
            exits = of_type(events, "exit", pid=pid)
            self.assertEqual(len(exits), 1, f"pid {pid}: {len(exits)} exit lines: {exits}")
            self.assertEqual(exits[0]["signal"], "SIGKILL")
            self.assertEqual(exits[0]["role"], "other")


if __name__ == "__main__":
    unittest.main()
