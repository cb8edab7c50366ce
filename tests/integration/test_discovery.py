"""Queue discovery and the sample's arrived/drained counts against a real redis-server:
a queue bound after start is sampled within 10 s among 10,000 keys and within 60 s among
1,000,000 (at under 1% of a Redis core, from INFO commandstats); a short recording ends with
a sample of a queue a producer created after start (the final discovery at stop); arrived and
drained are exact when the list's head is known, null when it is not.

The 1M-key case measures for 60 s with CW_DISCOVERY_LONG=1 (`make bench-discovery`), else
for 15 s."""
import os
import signal
import sys
import time
import unittest
import uuid

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as a file, or by discover
from cwharness import Recorder, Redis, need_root, of_type, send_task, wait_for
from fakeredis import FakeRedis, Fault

SEP = "\x06\x16"
LONG = os.environ.get("CW_DISCOVERY_LONG") == "1"
# commands discovery sends (the sample's own LLEN/LPOS/LINDEX/HLEN/ZCARD are not discovery)
DISCOVERY_CMDS = ("scan", "smembers", "dbsize", "client|tracking", "client|id", "subscribe",
                  "client")


def binding(queue, rk=None):
    """A member of a _kombu.binding.<exchange> set as kombu's _queue_bind writes it."""
    return f"{rk or queue}{SEP}{SEP}{queue}"


def message():
    """A kombu-like message body with a unique id (kombu's delivery_tag)."""
    tag = str(uuid.uuid4())
    return ('{"body": "W10=", "headers": {"id": "%s"}, "properties": {"delivery_tag": "%s"}}'
            % (tag, tag))


def discovery_usec(r):
    """Broker time spent on discovery commands so far (INFO commandstats)."""
    stats = r.info("commandstats")
    return sum(v["usec"] for k, v in stats.items()
               if k.replace("cmdstat_", "") in DISCOVERY_CMDS)


class DiscoveryCase(unittest.TestCase):
    populate = 0
    extra = ()

    def setUp(self):
        self.redis = Redis(extra=["--enable-debug-command", "yes", *self.extra]).start()
        self.addCleanup(self.redis.cleanup)
        self.r = redis.Redis(port=self.redis.port, db=0, decode_responses=False)
        self.addCleanup(self.r.close)
        if self.populate:
            self.r.execute_command("DEBUG", "POPULATE", self.populate, "result")
        self.r.sadd("_kombu.binding.celery", binding("celery"))

    def record(self, *extra):
        rec = Recorder("--redis", self.redis.url(0), *extra)
        self.addCleanup(rec.cleanup)
        rec.start()
        return rec

    def samples(self, rec):
        return [e for e in of_type(rec.events(), "sample") if e["redis_ok"]]

    def wait_queue(self, rec, name, timeout, after=0):
        """The first good sample (from index after) that holds queue name."""
        def found():
            for s in self.samples(rec)[after:]:
                q = next((q for q in s["queues"] if q["queue"] == name), None)
                if q:
                    return s, q
            return None
        return wait_for(found, timeout, 0.05, f"a sample with queue {name!r}")


@need_root
class TenThousandKeys(DiscoveryCase):
    populate = 10000

    def test_new_route_and_new_exchange_within_10s(self):
        rec = self.record()         # the default interval (5 s)
        wait_for(lambda: self.samples(rec), 15, 0.1, "a first sample")
        time.sleep(3)
        n0 = len(self.samples(rec))
        self.r.config_resetstat()
        t0 = time.monotonic()
        self.r.sadd("_kombu.binding.celery", binding("newq"))         # a route, known exchange
        self.r.sadd("_kombu.binding.reports", binding("reportq"))     # a new exchange
        self.wait_queue(rec, "newq", 10, n0)
        t1 = time.monotonic() - t0
        self.wait_queue(rec, "reportq", 10, n0)
        t2 = time.monotonic() - t0
        time.sleep(max(0.0, (60 if LONG else 5) - (time.monotonic() - t0)))
        wall = time.monotonic() - t0
        usec = discovery_usec(self.r)
        print(f"\n  10k keys{self.mode()}: new route sampled after {t1:.1f} s, new exchange "
              f"after {t2:.1f} s; discovery used {usec / wall * 60 / 1e3:.1f} ms/min of Redis "
              f"= {usec / wall / 1e4:.3f}% of a core", end="")
        self.assertLess(t2, 10)
        self.assertLess(usec / (wall * 1e6), 0.01)
        self.check_mode()

    def mode(self):
        return ""

    def check_mode(self):
        """The recorder's connection is in tracking mode (flag t; BCAST adds no table)."""
        self.assertTrue(any("t" in c["flags"] for c in self.r.client_list()),
                        self.r.client_list())


class WithoutTracking(TenThousandKeys):
    """A broker that refuses CLIENT (an ACL, or Redis < 6): the incremental SCAN alone."""
    extra = ("--rename-command", "CLIENT", "")

    def mode(self):
        return " without tracking"

    def check_mode(self):
        stats = self.r.info("commandstats")
        self.assertNotIn("cmdstat_client|tracking", stats)
        self.assertGreaterEqual(stats["cmdstat_scan"]["calls"], 1)  # ticks after the start pass


@need_root
class MillionKeys(DiscoveryCase):
    populate = 1000000

    limit_s = 60

    def test_new_exchange_within_60s_under_1pct(self):
        rec = self.record()
        wait_for(lambda: self.samples(rec), 30, 0.1, "a first sample")
        time.sleep(2)       # past the start's full pass
        self.r.config_resetstat()
        t0 = time.monotonic()
        self.r.sadd("_kombu.binding.lateex", binding("lateq"))
        n0 = 0
        self.wait_queue(rec, "lateq", self.limit_s, n0)
        found = time.monotonic() - t0
        window = max(60 if LONG else 15, found)
        time.sleep(max(0.0, window - (time.monotonic() - t0)))
        wall = time.monotonic() - t0
        usec = discovery_usec(self.r)
        share = usec / (wall * 1e6)
        print(f"\n  1M keys{self.mode}: new exchange sampled after {found:.1f} s; discovery used "
              f"{usec / 1e3:.1f} ms of Redis in {wall:.0f} s = {share * 100:.3f}% of a core "
              f"({usec / wall * 60 / 1e3:.1f} ms/min)", end="")
        self.assertLess(found, self.limit_s)
        self.assertLess(share, 0.01)

    mode = ""


@unittest.skipUnless(LONG, "minutes long: CW_DISCOVERY_LONG=1 (make bench-discovery)")
class MillionKeysWithoutTracking(MillionKeys):
    """No CLIENT TRACKING: the SCAN alone, held to 1% of a core; a pass over 1M keys then
    takes minutes (measured, not promised within 60 s)."""
    extra = ("--rename-command", "CLIENT", "")
    limit_s = 600
    mode = " without tracking"


@unittest.skipUnless(LONG, "the bench's reference figure: CW_DISCOVERY_LONG=1")
class ScanCost(DiscoveryCase):
    """What one full SCAN pass over 1M keys costs the broker: why the SCAN is budgeted."""
    populate = 1000000

    def test_full_pass_cost(self):
        self.r.config_resetstat()
        cursor, calls, t0 = 0, 0, time.monotonic()
        while True:
            cursor, _ = self.r.scan(cursor, match="_kombu.binding.*", count=20000)
            calls += 1
            if cursor == 0:
                break
        wall = time.monotonic() - t0
        usec = self.r.info("commandstats")["cmdstat_scan"]["usec"]
        print(f"\n  a full SCAN pass over 1M keys: {calls} calls, {usec / 1e3:.0f} ms of Redis "
              f"({usec / 1e6:.2f} us/key), {wall:.1f} s wall; one pass a minute would be "
              f"{usec / 60e6 * 100:.1f}% of a core", end="")


@need_root
class FinalSample(DiscoveryCase):
    def test_short_recording_ends_with_a_queue_created_after_start(self):
        rec = self.record("--interval", "5")
        wait_for(lambda: self.samples(rec), 15, 0.1, "a first sample")
        t0 = time.monotonic()
        send_task(self.redis.url(0), "cwtest.noop", queue="lateq")    # real kombu declares it
        time.sleep(max(0.0, 3 - (time.monotonic() - t0)))
        stop_t = time.monotonic()
        rec.proc.send_signal(signal.SIGINT)
        self.assertEqual(rec.proc.wait(15), 0, rec.stderr())
        took = time.monotonic() - stop_t
        evs = rec.events()
        self.assertEqual(evs[-1]["type"], "tracer_stop")
        last = of_type(evs, "sample")[-1]
        q = {q["queue"]: q for q in last["queues"]}
        self.assertIn("lateq", q, "the final sample misses the queue created after start")
        self.assertEqual(q["lateq"]["depth"], 1)
        self.assertEqual(evs[-1]["samples"], len(of_type(evs, "sample")))
        print(f"\n  stop with a final sample: {took * 1e3:.0f} ms", end="")
        self.assertLess(took, 3.0)


@need_root
class FinalSampleHungBroker(unittest.TestCase):
    def test_stop_stays_prompt_when_the_last_sample_hangs(self):
        """The broker stops answering mid-run: the stop's last sample gives up after 500 ms,
        is neither written nor counted, and the stop stays well under a second."""
        fake = FakeRedis(queues={b"celery": 3})
        self.addCleanup(fake.close)
        rec = Recorder("--redis", fake.url(), "--interval", "5")   # round trips wait 5 s
        self.addCleanup(rec.cleanup)
        rec.start()
        wait_for(lambda: [e for e in of_type(rec.events(), "sample") if e["redis_ok"]], 15, 0.1,
                 "a first good sample")
        fake.arm(Fault("silent", on=b"LLEN", times=100))
        time.sleep(5.5)         # the next tick is waiting for its LLEN replies
        t0 = time.monotonic()
        rec.proc.send_signal(signal.SIGINT)
        self.assertEqual(rec.proc.wait(15), 0, rec.stderr())
        took = time.monotonic() - t0
        evs = rec.events()
        self.assertEqual(evs[-1]["type"], "tracer_stop")
        self.assertEqual(evs[-1]["samples"], len(of_type(evs, "sample")))
        print(f"\n  stop while the last sample hangs: {took * 1e3:.0f} ms", end="")
        self.assertLess(took, 1.2)


@need_root
class ArrivedDrained(DiscoveryCase):
    def first_with_depth(self, rec, depth, after, timeout=15):
        return self.wait_queue_pred(rec, "flowq", lambda q: q["depth"] == depth, after, timeout)

    def wait_queue_pred(self, rec, name, pred, after, timeout):
        def found():
            ss = self.samples(rec)
            for i, s in enumerate(ss[after:], after):
                q = next((q for q in s["queues"] if q["queue"] == name), None)
                if q and pred(q):
                    return i, q
            return None
        return wait_for(found, timeout, 0.05, f"a sample of {name!r}")

    def atomically(self, fn):
        p = self.r.pipeline(transaction=True)      # MULTI/EXEC: no sample falls in between
        fn(p)
        p.execute()

    def test_exact_counts_then_unknown_past_the_head(self):
        self.r.sadd("_kombu.binding.flowq", binding("flowq"))
        self.r.lpush("flowq", message())               # a head to remember
        rec = self.record("--interval", "1")
        i, q = self.first_with_depth(rec, 1, 0)
        self.assertIsNone(q["arrived"])                # the first sample knows no previous head

        self.atomically(lambda p: [p.lpush("flowq", message()) for _ in range(50)])
        i, q = self.first_with_depth(rec, 51, i + 1)
        self.assertEqual((q["arrived"], q["drained"]), (50, 0))

        self.atomically(lambda p: [p.rpop("flowq") for _ in range(20)])   # a worker's BRPOP end
        i, q = self.first_with_depth(rec, 31, i + 1)
        self.assertEqual((q["arrived"], q["drained"]), (0, 20))

        self.atomically(lambda p: [p.lpush("flowq", message()) for _ in range(7)] +
                        [p.rpop("flowq") for _ in range(3)])
        i, q = self.first_with_depth(rec, 35, i + 1)
        self.assertEqual((q["arrived"], q["drained"]), (7, 3))

        # drained past the remembered head, then 5 new: how many came and went is unknown
        self.atomically(lambda p: [p.rpop("flowq") for _ in range(35)] +
                        [p.lpush("flowq", message()) for _ in range(5)])
        i, q = self.first_with_depth(rec, 5, i + 1)
        self.assertIsNone(q["arrived"])
        self.assertIsNone(q["drained"])
        # an idle empty queue proves nothing either
        self.assertIsNone(next(q for q in self.samples(rec)[i]["queues"]
                               if q["queue"] == "celery")["arrived"])

        # a head over 64 KiB is not kept: the next sample cannot count that list
        self.r.lpush("flowq", "x" * (65 << 10))
        i, q = self.first_with_depth(rec, 6, i + 1)
        i, q = self.wait_queue_pred(rec, "flowq", lambda q: True, i + 1, 10)
        self.r.lpush("flowq", message())
        i, q = self.first_with_depth(rec, 7, i + 1)
        self.assertIsNone(q["arrived"])


if __name__ == "__main__":
    unittest.main()
