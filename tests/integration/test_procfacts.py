"""proc_sample lines on real parts: a real Celery worker on a real redis-server, the
recorder on the real kernel. The worker's MainProcess holds the broker connection (and
CLIENT LIST shows it polling with brpop), a script named celery with a worker's arguments
holds none, a pool process stuck in a socket read shows where it waits; an ACL user without
CLIENT still gets the /proc view. exec lines carry exe."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from cwharness import (Recorder, Redis, Worker, celery_env, need_root, of_type, send_task,
                       wait_for, APP_DIR)

FAKE = """#!/usr/bin/python3
# a script called celery with a worker's arguments: no broker connection, ever
import time
time.sleep(600)
"""


class SilentServer:
    """Accepts connections and never answers (the device that hangs a task)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def proc_samples(rec):
    return of_type(rec.events(), "proc_sample")


def entry(ps, pid):
    return next((p for p in ps["procs"] if p["pid"] == pid), None)


@need_root
class TestProcFacts(unittest.TestCase):
    def setUp(self):
        self.redis = self.rec = self.worker = self.fake = self.server = None
        self.tmp = tempfile.mkdtemp(prefix="cw-pf-")

    def tearDown(self):
        for x in (self.rec, self.worker):
            if x:
                x.cleanup()
        if self.fake and self.fake.poll() is None:
            self.fake.kill()
            self.fake.wait()
        if self.server:
            self.server.close()
        if self.redis:
            self.redis.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_fake(self, url):
        path = os.path.join(self.tmp, "celery")
        with open(path, "w") as f:
            f.write(FAKE)
        os.chmod(path, 0o755)
        self.fake = subprocess.Popen([path, "-A", "cwtest_app", "worker", "-Q", "pfq", "-n",
                                      "fake@h"], env=celery_env(url), cwd=APP_DIR,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def test_consumer_impostor_and_blocked_pool(self):
        self.redis = Redis()
        self.redis.start()
        url = self.redis.url()
        self.server = SilentServer()
        self.rec = Recorder("--redis", url, "--interval", "1").start()
        self.worker = Worker(url, "pfq", "pf@h", concurrency=1).start()
        self.start_fake(url)
        self.worker.wait_ready()
        main = self.worker.pid

        # the MainProcess: connected, and CLIENT LIST shows it polling with brpop
        def main_polls():
            for ps in proc_samples(self.rec):
                e = entry(ps, main)
                if e and ps["broker"]["client_list"] and \
                        any(c["cmd"] == "brpop" for c in e.get("conns", [])):
                    return ps
        ps = wait_for(main_polls, 30, 0.2, "the MainProcess polling with brpop")
        self.assertTrue(ps["broker"]["conn_known"])
        self.assertEqual(ps["broker"]["addr"], f"127.0.0.1:{self.redis.port}")
        self.assertGreaterEqual(entry(ps, main)["broker_conns"], 1)
        for c in entry(ps, main)["conns"]:
            self.assertRegex(c["laddr"], r"^127\.0\.0\.1:\d+$")
            self.assertIsInstance(c["idle_s"], int)

        # the impostor: tracked, read, no broker connection
        fake = wait_for(lambda: next((entry(p, self.fake.pid) for p in proc_samples(self.rec)
                                      if entry(p, self.fake.pid)), None), 15, 0.2,
                        "the fake celery in a proc_sample")
        self.assertEqual(fake["broker_conns"], 0)
        self.assertNotIn("conns", fake)

        # a pool process stuck in recv: after two samples without progress, where it waits
        send_task(url, "cw.recv", args=[self.server.port], queue="pfq")
        pool = self.worker.children()
        self.assertTrue(pool)

        def blocked():
            for p in proc_samples(self.rec):
                for pid in pool:
                    e = entry(p, pid)
                    if e and e.get("syscall") == "recvfrom":
                        return e
        e = wait_for(blocked, 30, 0.2, "a pool process blocked in recvfrom")
        self.assertEqual(e["state"], "S")
        self.assertTrue(e["wchan"])
        self.assertEqual(e["broker_conns"], 0)

        events = self.rec.events()
        # every proc_sample comes right after its sample line, in the recorder's own name
        for i, ev in enumerate(events):
            if ev["type"] == "proc_sample":
                self.assertEqual(events[i - 1]["type"], "sample")
                self.assertEqual(ev["v"], 2)
                self.assertEqual(ev["pid"], self.rec.proc.pid)
                for p in ev["procs"]:
                    # wchan and syscall only for a process asleep without progress
                    if "wchan" in p or "syscall" in p:
                        self.assertIn(p["state"], ("S", "D"))
        # exec lines name the executable
        execs = [x for x in of_type(events, "exec") if x["pid"] in (main, self.fake.pid)]
        self.assertTrue(execs)
        for x in execs:
            self.assertIn("exe", x)
            self.assertTrue(x["exe"].startswith("/"), x["exe"])
        self.assertTrue(any(x["exe"] == os.path.join(self.tmp, "celery") for x in execs))

    def test_acl_user_without_client_list(self):
        # the recorder's user may read queues but not run CLIENT: /proc still answers
        self.redis = Redis(extra=["--user", "cw", "on", ">s3cret", "~*", "&*", "+@all", "-client"])
        self.redis.start()
        self.rec = Recorder("--redis", f"redis://cw:s3cret@127.0.0.1:{self.redis.port}/0",
                            "--interval", "1").start()
        self.worker = Worker(self.redis.url(), "pfq", "pf@h", concurrency=1).start()
        self.worker.wait_ready()
        main = self.worker.pid

        def connected():
            for ps in proc_samples(self.rec):
                e = entry(ps, main)
                if e and (e["broker_conns"] or 0) >= 1:
                    return ps
        ps = wait_for(connected, 30, 0.2, "the MainProcess connected in a proc_sample")
        self.assertFalse(ps["broker"]["client_list"])
        self.assertTrue(ps["broker"]["conn_known"])
        self.assertNotIn("conns", entry(ps, main))
        samples = of_type(self.rec.events(), "sample")
        self.assertTrue(samples and all(s["redis_ok"] for s in samples), samples[-1:])

    def test_unix_socket_broker(self):
        # a broker on a unix socket: its clients are the peers of its connected sockets
        sock = os.path.join(self.tmp, "redis.sock")
        self.redis = Redis(extra=["--unixsocket", sock, "--unixsocketperm", "700"])
        self.redis.start()
        self.rec = Recorder("--redis", f"unix://{sock}", "--interval", "1").start()
        self.worker = Worker(f"redis+socket://{sock}", "pfq", "pf@h", concurrency=1).start()
        self.start_fake(f"redis+socket://{sock}")
        self.worker.wait_ready()
        main = self.worker.pid

        def connected():
            for ps in proc_samples(self.rec):
                e = entry(ps, main)
                if e and (e["broker_conns"] or 0) >= 1:
                    return ps
        ps = wait_for(connected, 30, 0.2, "the MainProcess connected over the unix socket")
        self.assertEqual(ps["broker"]["addr"], sock)
        self.assertTrue(ps["broker"]["conn_known"])
        self.assertNotIn("conns", entry(ps, main))
        fake = entry(ps, self.fake.pid)
        self.assertIsNotNone(fake)
        self.assertEqual(fake["broker_conns"], 0)
        for pid in self.worker.children():
            self.assertEqual(entry(ps, pid)["broker_conns"], 0)


if __name__ == "__main__":
    unittest.main()
