"""The recorder as a systemd service, without systemd: the notify protocol spoken to a socket
of ours (READY=1 once attached and the log is open, WATCHDOG=1 while the loop runs,
STOPPING=1), and the capabilities it keeps after attaching, thread by thread."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from cwharness import BIN, need_root, wait_for

CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE = 2, 19


class NotifySocket:
    def __init__(self, d):
        self.path = os.path.join(d, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.msgs = []

    def poll(self):
        try:
            while True:
                data, _ = self.sock.recvfrom(4096)
                self.msgs.append((time.monotonic(), data.decode()))
        except (socket.timeout, BlockingIOError):
            pass
        return self.msgs

    def has(self, what):
        return [t for t, m in self.poll() if what in m.split("\n")]


def caps_of(path):
    with open(path) as f:
        fields = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
    return {k: int(fields[k], 16) for k in ("CapEff", "CapPrm", "CapBnd")}


@need_root
class TestService(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cw-svc-")
        self.ns = NotifySocket(self.dir)
        self.log = os.path.join(self.dir, "ev.jsonl")
        env = dict(os.environ, NOTIFY_SOCKET=self.ns.path, WATCHDOG_USEC="2000000")
        self.err = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen([BIN, "record", "-o", self.log], env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.err)

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        self.ns.sock.close()
        subprocess.run(["rm", "-rf", self.dir])

    def test_ready_watchdog_stopping(self):
        ready = wait_for(lambda: self.ns.has("READY=1"), 30, what="READY=1")[0]
        # READY comes after the log is open and tracer_start is written
        with open(self.log) as f:
            self.assertIn('"type":"tracer_start"', f.readline())
        # WatchdogSec=2 s: pings at least every second (a quarter, rounded up to the 1 s tick)
        time.sleep(3.5)
        pings = self.ns.has("WATCHDOG=1")
        self.assertGreaterEqual(len(pings), 2, self.ns.msgs)
        self.assertTrue(all(t >= ready for t in pings))
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(15), 0)
        self.assertTrue(self.ns.has("STOPPING=1"), self.ns.msgs)

    def test_capabilities_dropped_in_every_thread(self):
        wait_for(lambda: self.ns.has("READY=1"), 30, what="READY=1")
        kept = (1 << CAP_DAC_READ_SEARCH) | (1 << CAP_SYS_PTRACE)
        tasks = os.listdir(f"/proc/{self.proc.pid}/task")
        self.assertGreaterEqual(len(tasks), 2)	# the loop and the writer thread
        for tid in tasks:
            caps = caps_of(f"/proc/{self.proc.pid}/task/{tid}/status")
            if int(tid) == self.proc.pid:
                self.assertEqual(caps["CapEff"], kept, caps)
                self.assertEqual(caps["CapPrm"], kept, caps)
                self.assertEqual(caps["CapBnd"], kept, caps)
            else:
                self.assertEqual(caps["CapEff"], 0, (tid, caps))
                self.assertEqual(caps["CapPrm"], 0, (tid, caps))
        with open(self.log) as f:
            self.assertIn('"caps":["cap_sys_ptrace","cap_dac_read_search"]', f.readline())


UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "systemd",
                    "celerywatch.service")


def text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def unit_bounding_set():
    with open(UNIT) as f:
        line = next(l for l in f if l.startswith("CapabilityBoundingSet="))
    return [c.lower().replace("cap_", "+", 1) for c in line.split("=", 1)[1].split()]


@need_root
class TestUnitCapabilities(unittest.TestCase):
    """The unit's CapabilityBoundingSet= is enough: every hook loads and a Celery exec is
    recorded under exactly that set (setpriv plays systemd's part)."""

    def test_bounding_set_suffices(self):
        d = tempfile.mkdtemp(prefix="cw-svc-")
        log = os.path.join(d, "ev.jsonl")
        caps = ",".join(["-all"] + unit_bounding_set())
        rec = subprocess.Popen(["setpriv", "--inh-caps=-all", "--bounding-set", caps,
                                BIN, "record", "-o", log],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: "tracer_start" in text(log), 30,
                     what="tracer_start")
            # an argument named `celery`: tracked
            subprocess.run(["sh", "-c", "sleep 0.2", "celery", "worker"], check=True)
            wait_for(lambda: '"type":"exit"' in text(log), 10, what="the exit line")
        finally:
            rec.send_signal(signal.SIGTERM)
            _, err = rec.communicate(timeout=15)
        with open(log) as f:
            start = f.readline()
        self.assertIn('"disabled":[]', start, err.decode())
        self.assertEqual(rec.returncode, 0, err.decode())
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    unittest.main()
