"""Alerts end to end, real parts: a real worker on a real redis-server is SIGKILLed while the
recorder runs with --alert-exec; the command gets, on stdin, the death (with the sender) and
the queue's no_consumer verdict in explain's CAUSE shape, within a second, with only the
environment it is promised."""
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

from cwharness import Recorder, Redis, Worker, need_root, wait_for

QUEUE = "cwa_q"


@need_root
class AlertExec(unittest.TestCase):
    def test_kill_reaches_the_alert_command(self):
        redis = Redis().start()
        self.addCleanup(redis.cleanup)
        w = Worker(redis.url(), QUEUE, "w_alert@%h").start()
        self.addCleanup(w.cleanup)
        w.wait_ready()
        d = tempfile.mkdtemp(prefix="cw-alert-")
        self.addCleanup(shutil.rmtree, d, True)
        # alert commands run up to 4 at a time: each writes a file of its own
        cmd = (f'{{ cat; echo "env=$CELERYWATCH_INCIDENT_KIND|$CELERYWATCH_QUEUE|'
               f'${{CELERY_BROKER_URL:-unset}}"; }} > "$(mktemp {d}/alert.XXXXXX)"')
        rec = Recorder("--redis", redis.url(), "--interval", "0.5", "--alert-exec", cmd)
        os.environ["CELERY_BROKER_URL"] = "redis://:s3cret@127.0.0.1:1/0"
        try:
            rec.start()
        finally:
            del os.environ["CELERY_BROKER_URL"]
        self.addCleanup(rec.cleanup)
        time.sleep(2)	# the start-up scan has the worker, the engine its first judgement

        def alerts():
            got = []
            for name in sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns):
                with open(os.path.join(d, name)) as f:
                    lines = f.read().splitlines()
                if len(lines) == 2 and lines[1].startswith("env="):	# a command that finished
                    got.append((json.loads(lines[0]), lines[1]))
            return got
        before = len(alerts())
        killed = time.monotonic()
        os.kill(w.pid, signal.SIGKILL)
        got = wait_for(lambda: [a for a in alerts()[before:] if a[0]["verdict"] == "no_consumer"],
                       10, 0.02, "the no_consumer alert")
        took = time.monotonic() - killed
        print(f"no_consumer alert written by the command {1000 * took:.0f} ms after SIGKILL")
        self.assertLess(took, 1.0)
        inc, env = got[0]
        self.assertEqual(inc["kind"], "verdict")
        self.assertEqual(inc["queue"], QUEUE)
        self.assertEqual(inc["prev_verdict"], "ok")
        self.assertEqual(inc["cause"]["kind"], "signal")
        self.assertEqual(inc["cause"]["signal"], "SIGKILL")
        self.assertEqual(inc["cause"]["sender"]["pid"], os.getpid())
        self.assertEqual(env, f"env=verdict|{QUEUE}|unset")	# not the recorder's broker URL
        # the death was handed over in the same judgement; its command may finish later
        deaths = wait_for(lambda: [a for a, _ in alerts()[before:] if a["kind"] == "death"], 10,
                          0.05, "the death alert")
        self.assertTrue(deaths[0]["worker"].startswith("w_alert@"), deaths)
        self.assertEqual(deaths[0]["cause"]["signal"], "SIGKILL")
        rec.stop()
        stop = next(e for e in rec.events() if e["type"] == "tracer_stop")
        self.assertGreaterEqual(stop["alerts_sent"], 2)
        self.assertEqual(stop["alerts_failed"], 0)

    def test_death_before_the_first_tick_is_alerted(self):
        """The engine's first judgement takes what it knows as history: in `record` that is
        the start-up scan, judged before the loop, never a death seen live (here a worker
        the scan found, killed before the recorder's first 1 s tick)."""
        redis = Redis().start()
        self.addCleanup(redis.cleanup)
        w = Worker(redis.url(), QUEUE + "_early", "w_early@%h").start()
        self.addCleanup(w.cleanup)
        w.wait_ready()
        d = tempfile.mkdtemp(prefix="cw-alert-")
        self.addCleanup(shutil.rmtree, d, True)
        rec = Recorder("--alert-exec", f'cat > "$(mktemp {d}/alert.XXXXXX)"')
        rec.start()
        self.addCleanup(rec.cleanup)
        rec.wait_event(lambda e: e["type"] == "scan" and e["pid"] == w.pid, 10, "the worker's scan line")
        os.kill(w.pid, signal.SIGKILL)

        def death_alerts():
            got = []
            for name in os.listdir(d):
                with open(os.path.join(d, name)) as f:
                    text = f.read()
                if text.endswith("\n"):
                    inc = json.loads(text)
                    if inc["kind"] == "death" and inc["cause"]["pid"] == w.pid:
                        got.append(inc)
            return got
        got = wait_for(death_alerts, 10, 0.05, "the death alert")
        self.assertEqual(got[0]["cause"]["signal"], "SIGKILL")


if __name__ == "__main__":
    unittest.main()
