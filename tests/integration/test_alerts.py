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
        out = os.path.join(d, "alerts")
        cmd = (f'{{ cat; echo "env=$CELERYWATCH_INCIDENT_KIND|$CELERYWATCH_QUEUE|'
               f'${{CELERY_BROKER_URL:-unset}}"; }} >> {out}')
        rec = Recorder("--redis", redis.url(), "--interval", "0.5", "--alert-exec", cmd)
        os.environ["CELERY_BROKER_URL"] = "redis://:s3cret@127.0.0.1:1/0"
        try:
            rec.start()
        finally:
            del os.environ["CELERY_BROKER_URL"]
        self.addCleanup(rec.cleanup)
        time.sleep(2)	# the start-up scan has the worker, the engine its first judgement

        def alerts():
            try:
                with open(out) as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                return []
            return [(json.loads(l), e) for l, e in zip(lines[::2], lines[1::2])]
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
        deaths = [a for a, _ in alerts()[before:] if a["kind"] == "death"]
        self.assertTrue(deaths and deaths[0]["worker"].startswith("w_alert@"), alerts())
        rec.stop()
        stop = next(e for e in rec.events() if e["type"] == "tracer_stop")
        self.assertGreaterEqual(stop["alerts_sent"], 2)
        self.assertEqual(stop["alerts_failed"], 0)


if __name__ == "__main__":
    unittest.main()
