"""The whole monitoring path, real parts only: a real Celery worker on a real redis-server,
the recorder with --metrics, Debian's Prometheus scraping it with the shipped rules
(tools/prometheus/celerywatch.rules.yml). Killing the worker turns the queue's verdict to
no_consumer on /metrics within a second and puts CeleryQueueNoConsumer in pending."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from cwharness import ROOT, Recorder, Redis, Worker, free_port, need_root, wait_for
from test_metrics import PROMETHEUS, scrape, value

RULES = os.path.join(ROOT, "tools", "prometheus", "celerywatch.rules.yml")
QUEUE = "cwp_alert_q"


def api(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return json.load(r)["data"]
    except (OSError, ValueError, KeyError):
        return None


@need_root
@unittest.skipUnless(os.access(PROMETHEUS, os.X_OK), "needs /usr/bin/prometheus (Debian package prometheus)")
class PrometheusAlert(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cw-prom-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.redis = Redis().start()
        self.addCleanup(self.redis.cleanup)
        self.port = free_port()
        self.rec = Recorder("--redis", self.redis.url(), "--interval", "0.5",
                            "--metrics", f"127.0.0.1:{self.port}").start()
        self.addCleanup(self.rec.cleanup)

    def prometheus(self):
        shutil.copy(RULES, self.dir)
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [celerywatch.rules.yml]\n"
                    "scrape_configs:\n  - job_name: celerywatch\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.port}']\n")
        web = free_port()
        log = open(os.path.join(self.dir, "log"), "wb")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={conf}",
                                 f"--storage.tsdb.path={self.dir}/data",
                                 f"--web.listen-address=127.0.0.1:{web}"], stdout=log, stderr=log)

        def stop():
            prom.send_signal(signal.SIGTERM)
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()
        self.addCleanup(stop)
        return web

    def test_kill_puts_no_consumer_alert_in_pending(self):
        w = Worker(self.redis.url(), QUEUE, "w_prom@%h").start()
        self.addCleanup(w.cleanup)
        w.wait_ready()
        ok = f'celerywatch_queue_verdict{{queue="{QUEUE}",verdict="ok"}}'
        wait_for(lambda: value(scrape(self.port)[2], ok) == 1, 20, 0.2, "the queue ok with its consumer")
        text = scrape(self.port)[2]
        self.assertEqual(value(text, f'celerywatch_queue_consumers{{queue="{QUEUE}"}}'), 1, text)
        self.assertIn('celerywatch_worker_up{worker="w_prom@', text)
        web = self.prometheus()
        wait_for(lambda: (api(web, "/api/v1/targets") or {}).get("activeTargets") and
                 api(web, "/api/v1/targets")["activeTargets"][0]["health"] == "up", 30, 0.5,
                 "Prometheus to scrape the recorder")
        killed = time.monotonic()
        os.kill(w.pid, signal.SIGKILL)
        nc = f'celerywatch_queue_verdict{{queue="{QUEUE}",verdict="no_consumer"}}'
        wait_for(lambda: value(scrape(self.port)[2], nc) == 1, 5, 0.02, "no_consumer on /metrics")
        took = time.monotonic() - killed
        print(f"no_consumer on /metrics {1000 * took:.0f} ms after SIGKILL")
        self.assertLess(took, 1.0)
        text = scrape(self.port)[2]
        self.assertEqual(value(text, f'celerywatch_queue_consumers{{queue="{QUEUE}"}}'), 0, text)
        self.assertRegex(text, r'celerywatch_deaths_total\{worker="w_prom@[^"]*",kind="signal"\} 1')

        def pending():
            alerts = (api(web, "/api/v1/alerts") or {}).get("alerts", [])
            return [a for a in alerts if a["labels"].get("alertname") == "CeleryQueueNoConsumer"
                    and a["labels"].get("queue") == QUEUE and a["state"] == "pending"]
        got = wait_for(pending, 30, 0.5, "CeleryQueueNoConsumer pending in Prometheus")
        self.assertEqual(got[0]["labels"]["severity"], "critical")


if __name__ == "__main__":
    unittest.main()
