"""record --metrics against the real kernel and a real redis-server: the exposition passes
promtool, a queue's depth and a Celery process's exit show within their bounds, and Debian's
real Prometheus scrapes the endpoint."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from cwharness import BIN, Recorder, Redis, free_port, need_root, wait_for

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
QUEUE = "cwm_q"


def scrape(port, path="/metrics", method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def value(text, series):
    """The value of the series spelled exactly as given, or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line[len(series) + 1:])
    return None


@need_root
@unittest.skipUnless(os.access(PROMTOOL, os.X_OK), "needs promtool (Debian package prometheus)")
class Metrics(unittest.TestCase):
    def setUp(self):
        self.redis = Redis().start()
        self.port = free_port()
        self.rec = Recorder("--redis", self.redis.url(0), "--queues", QUEUE, "--interval", "0.5",
                            "--metrics", f"127.0.0.1:{self.port}").start()
        self.tmp = []

    def tearDown(self):
        self.rec.cleanup()
        self.redis.cleanup()
        for d in self.tmp:
            shutil.rmtree(d, ignore_errors=True)

    def test_promtool_depth_exit_and_prometheus(self):
        # the first text is published right after tracer_start is queued: a moment after
        # it may be in the log
        wait_for(lambda: "celerywatch_build_info{" in scrape(self.port)[2], 5, 0.05, "first publish")
        status, ctype, text = scrape(self.port)
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
        self.check_promtool(text)
        for m in ("celerywatch_events_total{type=\"tracer_start\"}", "celerywatch_build_info{",
                  "process_resident_memory_bytes ", "process_cpu_seconds_total ",
                  "process_open_fds ", "process_max_fds ", "process_start_time_seconds ",
                  "process_virtual_memory_bytes ", "celerywatch_events_lost_total{type=\"exit\"} 0"):
            self.assertIn(m, text)
        # the engine's metrics are not wired yet: absent, not 0
        for m in ("celerywatch_queue_consumers", "celerywatch_queue_verdict", "celerywatch_worker_up",
                  "celerywatch_deaths_total"):
            self.assertNotIn(m, text)
        self.check_other_paths()

        self.redis.cli("LPUSH", QUEUE, *[f"task{i}" for i in range(5)])
        t0 = time.monotonic()
        series = f'celerywatch_queue_depth{{queue="{QUEUE}"}}'
        wait_for(lambda: value(scrape(self.port)[2], series) == 5, 5, 0.05, "depth 5 on /metrics")
        print(f"\ndepth 5 on /metrics {time.monotonic() - t0:.2f}s after LPUSH")
        text = scrape(self.port)[2]
        self.assertEqual(value(text, "celerywatch_broker_up"), 1)
        self.assertGreater(value(text, "celerywatch_broker_sample_duration_seconds"), 0)
        self.assertIsNotNone(value(text, 'celerywatch_events_total{type="sample"}'))
        self.check_promtool(text)

        self.check_exit_within_1s()
        self.check_prometheus()

    def check_promtool(self, text):
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, b""), text)

    def check_other_paths(self):
        with self.assertRaises(urllib.error.HTTPError) as cm:
            scrape(self.port, "/")
        self.assertEqual(cm.exception.code, 404)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            scrape(self.port, "/metrics", "POST")
        self.assertEqual(cm.exception.code, 405)

    def check_exit_within_1s(self):
        series = 'celerywatch_events_total{type="exit"}'
        before = value(scrape(self.port)[2], series)
        p = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/sleep 0.3"])
        p.wait()
        t0 = time.monotonic()
        wait_for(lambda: value(scrape(self.port)[2], series) > before, 1.0, 0.01,
                 "exit counted on /metrics within 1 s")
        print(f"exit on /metrics {1000 * (time.monotonic() - t0):.0f} ms after the process was reaped")

    def check_prometheus(self):
        if not os.access(PROMETHEUS, os.X_OK):
            self.skipTest("no /usr/bin/prometheus")
        d = tempfile.mkdtemp(prefix="cw-prom-")
        self.tmp.append(d)
        conf = os.path.join(d, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: celerywatch\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.port}']\n")
        web = free_port()
        log = open(os.path.join(d, "log"), "wb")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={conf}", f"--storage.tsdb.path={d}/data",
                                 f"--web.listen-address=127.0.0.1:{web}"], stdout=log, stderr=log)
        try:
            def series():
                q = urllib.parse.quote("celerywatch_queue_depth")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/query?query={q}",
                                                timeout=2) as r:
                        res = json.load(r)["data"]["result"]
                except (OSError, ValueError, KeyError):
                    return None
                return [s for s in res if s["metric"].get("queue") == QUEUE] or None
            got = wait_for(series, 25, 0.2, "Prometheus to have scraped celerywatch_queue_depth")
            self.assertEqual(got[0]["metric"]["job"], "celerywatch")
            self.assertEqual(got[0]["value"][1], "5")
        finally:
            prom.send_signal(signal.SIGTERM)
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()


@need_root
class MetricsOptions(unittest.TestCase):
    def run_rec(self, *args):
        d = tempfile.mkdtemp(prefix="cw-rec-")
        try:
            return subprocess.run([BIN, "record", "-o", os.path.join(d, "ev.jsonl")] + list(args),
                                  capture_output=True, text=True, timeout=30)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_bad_address_exit_2(self):
        for bad in ("127.0.0.1", "localhost:9808", "[::1]:0", "1.2.3.4.5:80"):
            p = self.run_rec("--metrics", bad)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn(f"--metrics '{bad}': expected IPV4:PORT or [IPV6]:PORT", p.stderr)

    def test_port_in_use_exit_1(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            p = self.run_rec("--metrics", f"127.0.0.1:{port}")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(),
                         f"celerywatch: --metrics 127.0.0.1:{port}: cannot listen there: Address already in use")

    def test_http_thread_holds_no_capability(self):
        rec = Recorder("--metrics", f"127.0.0.1:{free_port()}").start()
        try:
            tasks = os.listdir(f"/proc/{rec.proc.pid}/task")
            comms = {}
            for tid in tasks:
                with open(f"/proc/{rec.proc.pid}/task/{tid}/comm") as f:
                    comms[tid] = f.read().strip()
            http = [t for t, c in comms.items() if c.startswith("MHD")]
            self.assertEqual(len(http), 1, comms)
            with open(f"/proc/{rec.proc.pid}/task/{http[0]}/status") as f:
                caps = dict(l.split(":\t", 1) for l in f.read().splitlines() if l.startswith("Cap"))
            self.assertEqual(int(caps["CapEff"], 16), 0, caps)
            self.assertEqual(int(caps["CapPrm"], 16), 0, caps)
        finally:
            rec.cleanup()

    def test_ipv6_loopback(self):
        port = free_port()
        rec = Recorder("--metrics", f"[::1]:{port}").start()
        try:
            with urllib.request.urlopen(f"http://[::1]:{port}/metrics", timeout=5) as r:
                self.assertIn("celerywatch_build_info{", r.read().decode())
        finally:
            rec.cleanup()

    def test_http_library_only_with_metrics(self):
        """libmicrohttpd (and GnuTLS under it, ~2.3 MiB of RSS) is loaded for --metrics only."""
        def libs(pid):
            with open(f"/proc/{pid}/maps") as f:
                return {l.split()[-1].rsplit("/", 1)[-1].split(".so")[0] for l in f if ".so" in l}
        for args, loaded in (((), False), (("--metrics", f"127.0.0.1:{free_port()}"), True)):
            rec = Recorder(*args).start()
            try:
                got = libs(rec.proc.pid)
                self.assertEqual("libmicrohttpd" in got, loaded, (args, sorted(got)))
                self.assertEqual("libgnutls" in got, loaded, (args, sorted(got)))
            finally:
                rec.cleanup()


if __name__ == "__main__":
    unittest.main()
