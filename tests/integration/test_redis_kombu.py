"""Integration: `celerywatch record --redis` sample lines against queues filled by real Celery.

The depths celerywatch writes must be the numbers kombu itself counts (Channel._size and the
LLEN of each priority list), with and without kombu's global_keyprefix, and a queue created
while recording must show up.

Run with Debian's Python, which has python3-celery, kombu and redis (the first python3 on PATH
may not):  sudo /usr/bin/python3 -m unittest -v tests/integration/test_redis_kombu.py
Needs root (record loads BPF programs), redis-server, and build/celerywatch with --redis
(another binary can be named with $CELERYWATCH). Only processes started here are killed.
"""
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CW = os.environ.get('CELERYWATCH', os.path.join(ROOT, 'build', 'celerywatch'))
REDIS_SERVER = shutil.which('redis-server') or '/usr/bin/redis-server'
STEPS = [0, 3, 6, 9]		# kombu's default priority_steps
PRIORITIES = [0, 3, 5, 9]	# 5 goes to the 3 list: kombu rounds down to a step

try:
    from celery import Celery
    import redis
    IMPORT_ERROR = None
except ImportError as e:	# pragma: no cover - depends on the interpreter
    IMPORT_ERROR = e


def skip_reason():
    if IMPORT_ERROR is not None:
        return (f'Celery/kombu/redis are not importable in {sys.executable} ({IMPORT_ERROR}); '
                'run with /usr/bin/python3 (Debian python3-celery)')
    if not os.access(REDIS_SERVER, os.X_OK):
        return 'redis-server is not installed (apt-get install redis-server)'
    if os.geteuid() != 0:
        return 'needs root: celerywatch record loads BPF programs'
    if not os.access(CW, os.X_OK):
        return f'{CW} is not built (run make)'
    return None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server on a free loopback port, in its own temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='cw-it-redis-')
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, '--port', str(self.port), '--bind', '127.0.0.1', '--save', '',
             '--appendonly', 'no', '--daemonize', 'no', '--dir', self.dir,
             '--logfile', os.path.join(self.dir, 'redis.log')],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            except redis.exceptions.ConnectionError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f'redis-server did not start on port {self.port}')
            time.sleep(0.05)

    def url(self, db):
        return f'redis://127.0.0.1:{self.port}/{db}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()	# only the PID started here
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Recorder:
    """celerywatch record running in the background, writing to a temp file."""

    def __init__(self, args):
        fd, self.out = tempfile.mkstemp(prefix='cw-it-', suffix='.jsonl')
        os.close(fd)
        os.unlink(self.out)	# record creates it (O_NOFOLLOW, 0640)
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([CW, 'record', '-o', self.out] + args,
                                     stdout=subprocess.DEVNULL, stderr=self.err)

    def lines(self, type_='sample'):
        try:
            with open(self.out, encoding='utf-8', errors='surrogateescape') as f:
                text = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in text.split('\n')[:-1]:	# the last piece may be a line being written
            j = json.loads(line)
            if type_ is None or j['type'] == type_:
                out.append(j)
        return out

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'record exited ({self.proc.returncode}): {self.stderr()}')
            for j in reversed(self.lines()):
                if pred(j):
                    return j
            time.sleep(0.1)
        raise AssertionError(f'no sample line with {what} within {timeout:.0f} s; '
                             f'last: {self.lines()[-1:]}; stderr: {self.stderr()}')

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors='replace')[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def cleanup(self):
        self.stop()
        self.err.close()
        if os.path.exists(self.out):
            os.unlink(self.out)


def make_app(url, prefix=None):
    app = Celery('cwtest', broker=url)
    opts = {'queue_order_strategy': 'priority', 'priority_steps': STEPS}
    if prefix:
        opts['global_keyprefix'] = prefix
    app.conf.broker_transport_options = opts
    return app


def fill(app, queue, counts):
    """counts[i] tasks at PRIORITIES[i], published the way Celery does."""
    for pri, n in zip(PRIORITIES, counts):
        for _ in range(n):
            app.send_task('cwtest.t', queue=queue, priority=pri)


def kombu_counts(app, queue):
    """(depth, {step: n}) as kombu itself counts them."""
    with app.connection_for_write() as conn:
        ch = conn.default_channel
        by = {str(s): ch.client.llen(ch._q_for_pri(queue, s)) for s in ch.priority_steps}
        return ch._size(queue), by


def queue_of(sample, name):
    for q in sample['queues']:
        if q['queue'] == name:
            return q
    return None


@unittest.skipIf(skip_reason() is not None, skip_reason())
class TestRecordRedisSamples(unittest.TestCase):
    def setUp(self):
        self.redis = RedisServer()
        self.addCleanup(self.redis.stop)
        self.recorders = []

    def tearDown(self):
        for r in self.recorders:
            r.cleanup()

    def record(self, db, *extra):
        args = ['--redis', self.redis.url(db), '--interval', '0.2'] + list(extra)
        r = Recorder(args)
        self.recorders.append(r)
        return r

    def check_matches_kombu(self, sample, app, queues):
        self.assertTrue(sample['redis_ok'], sample.get('error'))
        names = [q['queue'] for q in sample['queues']]
        self.assertEqual(names, sorted(names))
        for name in queues:
            q = queue_of(sample, name)
            self.assertIsNotNone(q, f'{name} not sampled: {names}')
            depth, by = kombu_counts(app, name)
            self.assertEqual(q['depth'], depth, name)
            self.assertEqual(q['by_priority'], by, name)
            self.assertEqual(sum(q['by_priority'].values()), q['depth'])
        self.assertIsInstance(sample['unacked'], int)
        self.assertIsInstance(sample['unacked_index'], int)
        self.assertIsInstance(sample['latency_ms'], (int, float))

    def test_depths_equal_kombu(self):
        app = make_app(self.redis.url(3))
        self.addCleanup(app.close)
        fill(app, 'qa', [2, 3, 1, 4])
        fill(app, 'qb', [0, 0, 5, 0])
        self.assertEqual(kombu_counts(app, 'qa'), (10, {'0': 2, '3': 4, '6': 0, '9': 4}))

        rec = self.record(3)
        time.sleep(2)
        samples = rec.lines()
        ok = [s for s in samples if s['redis_ok']]
        self.assertGreaterEqual(len(ok), 5, f'samples: {samples[-3:]} stderr: {rec.stderr()}')
        for s in ok:
            self.assertEqual(s['v'], 2)	# schema 2: proc_sample, exe, arrived/drained
            self.assertEqual(s['pid'], rec.proc.pid)
        # queues come from the _kombu.binding.* sets Celery wrote
        self.check_matches_kombu(ok[-1], app, ['qa', 'qb'])
        rec.stop()
        starts = rec.lines('tracer_start')
        self.assertEqual(len(starts), 1)
        self.assertIn(f'127.0.0.1:{self.redis.port}/3', starts[0]['options']['redis'])

    def test_key_prefix(self):
        app = make_app(self.redis.url(4), prefix='pfx:')
        self.addCleanup(app.close)
        fill(app, 'qp', [1, 1, 1, 1])
        keys = redis.Redis(port=self.redis.port, db=4).keys('*')
        self.assertTrue(keys and all(k.startswith(b'pfx:') for k in keys), keys)

        rec = self.record(4, '--key-prefix', 'pfx:')
        good = rec.wait_for(lambda s: s['redis_ok'] and queue_of(s, 'qp'), 10, 'queue qp')
        self.check_matches_kombu(good, app, ['qp'])
        self.assertEqual(queue_of(good, 'qp')['by_priority'], {'0': 1, '3': 2, '6': 0, '9': 1})

        # without the prefix nothing is bound: qp is not there (or empty when asked for)
        plain = self.record(4)
        s = plain.wait_for(lambda s: s['redis_ok'], 10, 'redis_ok')
        q = queue_of(s, 'qp')
        self.assertTrue(q is None or q['depth'] == 0, s)

    def test_queue_created_mid_run(self):
        app = make_app(self.redis.url(3))
        self.addCleanup(app.close)
        fill(app, 'early', [1, 0, 0, 0])
        rec = self.record(3)    # discovery runs at every sample (0.2 s here)
        rec.wait_for(lambda s: s['redis_ok'] and queue_of(s, 'early'), 10, 'queue early')

        fill(app, 'late_q', [0, 2, 0, 1])
        t0 = time.monotonic()
        s = rec.wait_for(lambda s: s['redis_ok'] and queue_of(s, 'late_q'), 5, 'queue late_q')
        print(f'\nlate_q seen {time.monotonic() - t0:.1f} s after its first task',
              file=sys.stderr)
        self.check_matches_kombu(s, app, ['early', 'late_q'])


if __name__ == '__main__':
    unittest.main()
