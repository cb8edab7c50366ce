"""record --redis against a scripted fake Redis (fakeredis.py) that dies mid-pipeline, dies
mid-discovery, answers garbage, drips, hangs: the recorder keeps running and tracing, says what
went wrong in its sample lines and tracer_stop, recovers once the broker behaves, and stops
promptly on SIGINT."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as a file, or by discover
from cwharness import BIN, Recorder, need_root, of_type, wait_for
from fakeredis import FakeRedis, Fault

STOP_BOUND = 3.0    # seconds from SIGINT to exit, whatever the broker is doing


def marker():
    """A tracked process (argv[0] 'celery') that exits at once; its pid."""
    p = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/true"])
    p.wait()
    return p.pid


class Lines:
    """The recorder's sample, tracer_stop and marker exit lines, read as the file grows. Other
    tests on the host may flood the log with their processes' events: parse only ours."""

    def __init__(self, rec):
        self.rec, self.off, self.rest, self.seen, self.pids = rec, 0, b"", [], set()

    def __call__(self):
        try:
            with open(self.rec.out, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self.seen
        self.off += len(data)
        *whole, self.rest = (self.rest + data).split(b"\n")
        for line in whole:
            if (b'"type":"sample"' in line or b'"type":"tracer_stop"' in line or
                    (b'"type":"exit"' in line and any(b'"pid":%d,' % p in line for p in self.pids))):
                self.seen.append(json.loads(line))
        return self.seen


class FaultCase(unittest.TestCase):
    def setUp(self):
        self.fake = FakeRedis(queues={b"celery": 3, b"low": 2, b"high": 1})
        self.addCleanup(self.fake.close)

    def record(self, *extra, url=None):
        rec = Recorder("--redis", url or self.fake.url(), "--interval", "0.2", *extra)
        self.addCleanup(rec.cleanup)
        rec.start()
        self.lines = Lines(rec)
        return rec

    def wait_line(self, rec, n0, pred, what, timeout=20):
        def find():
            if rec.proc.poll() is not None:
                raise AssertionError(f"recorder died ({rec.proc.returncode}): {rec.stderr()[-1500:]}")
            return next((e for e in self.lines()[n0:] if pred(e)), None)
        return wait_for(find, timeout, 0.05, what)

    def sample_after(self, rec, n0, pred, what, timeout=20):
        return self.wait_line(rec, n0, lambda e: e["type"] == "sample" and pred(e), what, timeout)

    def assert_traces(self, rec):
        self.lines.pids.add(marker())
        pid = max(self.lines.pids)
        self.wait_line(rec, 0, lambda e: e["type"] == "exit" and e["pid"] == pid,
                       "a tracked exit while the broker misbehaves", 10)

    def fail_then_recover(self, rec, fault, text, timeout=20):
        """Arm fault; a failing sample whose error holds text, then a good one with the depths."""
        n0 = len(self.lines())
        self.fake.arm(fault)
        texts = (text,) if isinstance(text, str) else text
        bad = self.sample_after(rec, n0, lambda e: not e["redis_ok"] and
                                any(t in e["error"] for t in texts),
                                f"a failed sample saying {text!r}; last: {self.lines()[-1:]}", timeout)
        self.assertEqual(bad["queues"], [])
        self.assertIsNone(bad["unacked"])
        n1 = len(self.lines())
        self.assert_traces(rec)
        good = self.sample_after(rec, n1, lambda e: e["redis_ok"], "a good sample after the fault",
                                 timeout)
        self.assert_depths(good)
        return bad

    def assert_depths(self, sample):
        # other workers on the host add their queues (empty here): look at the fake's own
        depths = {q["queue"]: q["depth"] for q in sample["queues"]}
        self.assertEqual({q: depths.get(q) for q in ("celery", "low", "high")},
                         {"celery": 3, "low": 2, "high": 1})

    def stop(self, rec):
        t0 = time.monotonic()
        rec.proc.send_signal(signal.SIGINT)
        rc = rec.proc.wait(15)
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, rec.stderr())
        self.assertLess(took, STOP_BOUND, f"SIGINT took {took:.1f} s")
        evs = self.lines()
        stop = of_type(evs, "tracer_stop")
        self.assertEqual(len(stop), 1)
        failed = [s for s in of_type(evs, "sample") if not s["redis_ok"]]
        self.assertEqual(stop[0]["samples_failed"], len(failed))
        self.assertEqual(stop[0]["samples"], len(of_type(evs, "sample")))
        return took, stop[0]


@need_root
class BrokerDies(FaultCase):
    def test_dies_mid_discovery(self):
        """The broker goes away after 1 of the 3 SMEMBERS replies. roundtrip() used to free the
        reply it had read and leave it in the caller's array, which freed it again: glibc
        aborted the recorder with 'free(): double free detected'."""
        self.fake.arm(Fault("die", on=b"SMEMBERS", after=1))
        rec = self.record("--redis-rescan", "1")
        bad = self.sample_after(rec, 0, lambda e: not e["redis_ok"], "the failed discovery")
        self.assertIn("lost the connection", bad["error"])
        self.assertEqual(self.fake.armed(), [])
        self.assert_traces(rec)
        good = self.sample_after(rec, 0, lambda e: e["redis_ok"], "recovery")
        self.assert_depths(good)
        # once more, at a rescan of a running sampler
        self.fail_then_recover(rec, Fault("die", on=b"SMEMBERS", after=2), "lost the connection")
        _, stop = self.stop(rec)
        self.assertGreaterEqual(stop["samples_failed"], 2)

    def test_dies_mid_pipeline(self):
        rec = self.record()
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        for after in (1, 5, 11):    # of the 14 replies: 4 LLEN x 3 queues, HLEN, ZCARD
            self.fail_then_recover(rec, Fault("die", on=b"LLEN", after=after), "lost the connection")
        self.fail_then_recover(rec, Fault("die", on=b"ZCARD"), "lost the connection")
        self.stop(rec)

    def test_connection_reset_during_auth_on_reconnect(self):
        rec = self.record(url=self.fake.url(password="pw"))
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        n0 = len(self.lines())
        # drop the connection, then reset the reconnect's AUTH twice
        self.fake.arm(Fault("reset", on=b"AUTH", times=2))
        self.fail_then_recover(rec, Fault("die", on=b"LLEN", after=2), "lost the connection")
        errs = [e["error"] for e in of_type(self.lines()[n0:], "sample") if not e["redis_ok"]]
        self.assertTrue(any("reset" in e or "closed" in e for e in errs), errs)
        self.assertEqual(self.fake.armed(), [])
        self.stop(rec)


@need_root
class BrokerGarbage(FaultCase):
    CASES = [
        # (what, fault, the error the sample line must carry)
        ("not RESP", Fault("raw", on=b"LLEN", data=b"?what\r\n"), "Protocol error"),
        ("a string for LLEN", Fault("raw", on=b"LLEN", data=b"$3\r\nabc\r\n"), "unexpected reply"),
        ("an array for LLEN", Fault("raw", on=b"LLEN", data=b"*1\r\n:1\r\n"), "unexpected reply"),
        ("nil for LLEN", Fault("raw", on=b"LLEN", data=b"$-1\r\n"), "unexpected reply"),
        ("a negative bulk length", Fault("raw", on=b"LLEN", data=b"$-5\r\n"),
         ("unexpected reply", "Bad bulk string length", "out of range")),
        ("a negative array length", Fault("raw", on=b"HLEN", data=b"*-7\r\n"),
         ("unexpected reply", "Bad multi-bulk length", "out of range")),
        ("nesting deeper than hiredis reads", Fault("raw", on=b"LLEN", data=b"*1\r\n" * 12 + b":1\r\n"),
         "lost the connection"),
        ("a bulk length with no bulk", Fault("raw", on=b"LLEN", data=b"$99999999999\r\n"), "no reply"),
        ("a non-number for a length", Fault("raw", on=b"LLEN", data=b"$abc\r\n"), "Bad bulk string length"),
        ("-LOADING", Fault("raw", on=b"LLEN", data=b"-LOADING Redis is loading the dataset in memory\r\n"),
         "LOADING"),
        ("-READONLY", Fault("raw", on=b"ZCARD", data=b"-READONLY You can't write against a read only replica.\r\n"),
         "READONLY"),
        ("-NOAUTH", Fault("raw", on=b"LLEN", data=b"-NOAUTH Authentication required.\r\n"), "NOAUTH"),
        ("a wrong reply to SELECT on reconnect", None, "unexpected reply to SELECT"),
    ]

    def test_garbage_replies(self):
        rec = self.record()
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        for what, fault, text in self.CASES:
            with self.subTest(what):
                if fault is None:   # drop the connection, answer the reconnect's SELECT with :1
                    self.fake.arm(Fault("raw", on=b"SELECT", data=b":1\r\n"))
                    fault = Fault("die", on=b"LLEN", after=0)
                bad = self.fail_then_recover(rec, fault, text)
                print(f"\n  {what}: {bad['error']}", end="")
        self.stop(rec)


@need_root
class BrokerSlow(FaultCase):
    def test_drip_one_byte_per_second(self):
        """Slowloris: every round trip has one deadline, so a drip costs one timeout a sample."""
        rec = self.record()
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        self.fail_then_recover(rec, Fault("drip", on=b"LLEN", pace=1.0), "no reply")
        # drip again and stop while it drips
        n0 = len(self.lines())
        self.fake.arm(Fault("drip", on=b"LLEN", pace=1.0))
        self.sample_after(rec, n0, lambda e: not e["redis_ok"], "a failed sample")
        self.assert_traces(rec)
        self.stop(rec)

    def test_endless_slow_scan(self):
        """Every SCAN answered in 0.3 s (under the 1 s timeout) with a cursor that never comes
        back to 0: the binding scan gives up after 4 timeouts and the samples go on."""
        self.fake.arm(Fault("slow", on=b"SCAN", pace=0.3, times=10000,
                            data=b"*2\r\n$1\r\n1\r\n*0\r\n"))
        rec = self.record()
        good = self.sample_after(rec, 0, lambda e: e["redis_ok"], "a sample during the scan", 15)
        names = {q["queue"] for q in good["queues"]}   # other workers on the host add theirs
        self.assertFalse({"low", "high"} & names, names)  # no binding was found: none invented
        self.assert_traces(rec)
        self.stop(rec)

    def test_silent_broker_then_well_behaved(self):
        rec = self.record()
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        # hangs for this connection, and the reconnect's SELECT hangs once too
        self.fake.arm(Fault("silent", on=b"SELECT"))
        self.fail_then_recover(rec, Fault("silent", on=b"LLEN"), "no reply")
        self.fake.arm(Fault("silent", on=b"LLEN"))
        n0 = len(self.lines())
        self.sample_after(rec, n0, lambda e: not e["redis_ok"], "a failed sample")
        took, _ = self.stop(rec)
        print(f"\n  stop while the broker hangs: {took * 1e3:.0f} ms", end="")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@need_root
class BrokerFlood(FaultCase):
    def test_endless_reply_is_cut_short(self):
        """A bulk length of 1 GB, then bytes as fast as loopback carries them: hiredis 0.14
        would buffer them all until the deadline (10 s at --interval 10). A round trip reads
        at most 64 MiB."""
        rec = self.record("--interval", "10")
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        before = peak_rss_mib(rec.proc.pid)
        bad = self.fail_then_recover(rec, Fault("stream", on=b"LLEN", data=b"$1000000000\r\n"),
                                     "more than 64 MiB", timeout=40)
        peak = peak_rss_mib(rec.proc.pid)
        print(f"\n  peak RSS {before:.0f} MiB before, {peak:.0f} MiB after: {bad['error']}", end="")
        self.assertLess(peak - before, 100)
        self.stop(rec)

    def test_huge_array_is_refused_before_it_is_built(self):
        """A header promising 300 million elements, then ':1\r\n' as fast as loopback carries
        it: hiredis 0.14 callocs the 2.4 GB element table on the header, and 64 MiB of those
        4-byte integers are 16 million reply objects, over 1 GB. A round trip builds at most
        CW_REPLY_BUDGET objects, and this header alone is over it."""
        rec = self.record("--interval", "10")
        self.sample_after(rec, 0, lambda e: e["redis_ok"], "a first good sample")
        before = peak_rss_mib(rec.proc.pid)
        bad = self.fail_then_recover(rec, Fault("stream", on=b"LLEN", data=b"*300000000\r\n",
                                                filler=b":1\r\n"),
                                     "reply elements in one round trip", timeout=40)
        peak = peak_rss_mib(rec.proc.pid)
        print(f"\n  peak RSS {before:.0f} MiB before, {peak:.0f} MiB after: {bad['error']}", end="")
        self.assertLess(peak - before, 100)
        self.stop(rec)


class SilentDNS:
    """A name server that takes queries and never answers, on 127.77.0.1:53 (UDP and TCP), and
    a resolv.conf naming it with glibc's longest waits: getaddrinfo would block for minutes."""

    def __init__(self):
        self.addr = "127.77.0.%d" % (os.getpid() % 200 + 20)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((self.addr, 53))
        self.tcp = socket.socket()
        self.tcp.bind((self.addr, 53))
        self.tcp.listen(8)
        self.dir = tempfile.mkdtemp(prefix="cw-dns-")
        self.resolv = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {self.addr}\noptions timeout:30 attempts:5\n")

    def queries(self):
        self.udp.setblocking(False)
        n = 0
        try:
            while self.udp.recv(512):
                n += 1
        except BlockingIOError:
            pass
        return n

    def close(self):
        self.udp.close()
        self.tcp.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@need_root
class BrokerDNS(unittest.TestCase):
    def test_dns_that_never_answers(self):
        """--redis by name, DNS hangs: start, tracing and stop do not wait for it."""
        dns = SilentDNS()
        self.addCleanup(dns.close)
        rec = Recorder()
        self.addCleanup(rec.cleanup)
        url = "redis://some.name.invalid.example:6379/0"
        # a private mount namespace: only the recorder sees the silent resolv.conf
        script = (f"mount --bind {dns.resolv} /etc/resolv.conf && "
                  f"exec {BIN} record -o {rec.out} --redis {url} --interval 0.2")
        rec.errf = open(os.path.join(rec.dir, "stderr"), "wb")
        t0 = time.monotonic()
        rec.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                                    stderr=rec.errf)
        self.lines = Lines(rec)
        wait_for(lambda: rec.proc.poll() is not None or
                 any(b'"type":"tracer_start"' in ln for ln in open_lines(rec.out)), 60, 0.02,
                 "tracer_start")
        started = time.monotonic() - t0
        self.assertIsNone(rec.proc.poll(), rec.stderr())
        self.lines.pids.add(marker())
        pid = max(self.lines.pids)
        wait_for(lambda: any(e["type"] == "exit" and e["pid"] == pid for e in self.lines()), 10,
                 0.05, "a tracked exit while DNS hangs")
        bad = wait_for(lambda: next((e for e in self.lines() if e["type"] == "sample"
                                     and "DNS" in e.get("error", "")), None), 10, 0.05,
                       "a sample saying DNS does not answer")
        self.assertIn("some.name.invalid.example", bad["error"])
        self.assertGreater(dns.queries(), 0, "the resolver never asked our silent server")
        t1 = time.monotonic()
        rec.proc.send_signal(signal.SIGINT)
        rc = rec.proc.wait(60)
        stopped = time.monotonic() - t1
        print(f"\n  hanging DNS: tracer_start after {started:.2f} s, SIGINT to exit "
              f"{stopped * 1e3:.0f} ms; {bad['error']}", end="")
        self.assertEqual(rc, 0, rec.stderr())
        self.assertLess(stopped, 2.0)
        # BPF loading is most of start-up on a loaded 2-core VM; the broker's share is 1 s
        self.assertLess(started, 3.0)


def open_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().split(b"\n")
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    unittest.main()
