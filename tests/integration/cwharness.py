"""Shared plumbing for celerywatch integration tests: a throwaway redis-server on a loopback
port, real Celery workers from Debian's python3-celery, the recorder, memory cgroups.
Everything started here is stopped by its own PID; nothing is killed by name."""
import calendar
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# CW_BIN: run the tests against another build (e.g. the one before a fix)
BIN = os.environ.get("CW_BIN") or os.path.join(ROOT, "build", "celerywatch")
APP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "app")
# Debian's Celery lives in /usr/bin/python3; the first python3 on PATH here may be another build.
SYS_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
HOST = socket.gethostname()


def need_root(test):
    return unittest.skipUnless(os.geteuid() == 0, "needs root (BPF)")(test)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=30.0, step=0.1, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def children_of(pid):
    """The children of pid's main thread (pids), [] when it is gone."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Redis:
    def __init__(self, port=None, extra=()):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="cw-redis-")
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"] + self.extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 10, what="redis-server to answer")
        return self

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                # a server started with --requirepass answers PING with -NOAUTH: it is up
                reply = s.recv(16)
                return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
        except OSError:
            return False

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def cli(self, *args, db=0):
        return subprocess.run(["redis-cli", "-p", str(self.port), "-n", str(db)] + list(args),
                              capture_output=True, text=True, check=True).stdout.strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def celery_env(broker_url):
    env = dict(os.environ)
    env["PATH"] = SYS_PATH
    env["PYTHONPATH"] = APP_DIR
    env["CELERY_BROKER_URL"] = broker_url
    env.pop("PYTHONHOME", None)
    return env


class Worker:
    """A real `celery worker` process. cgroup: a MemCgroup to start it in."""

    def __init__(self, broker_url, queues, name, concurrency=1, extra=(), cgroup=None,
                 app="cwtest_app", argv=None, logdir=None):
        self.logdir = logdir or tempfile.mkdtemp(prefix="cw-worker-")
        self.log = os.path.join(self.logdir, f"{name.split('@')[0]}.log")
        base = argv or (["/usr/bin/celery", "-A", app, "worker", "-Q", queues, "-n", name,
                         "-c", str(concurrency), "--loglevel", "INFO", "--without-heartbeat",
                         "--without-mingle", "--without-gossip"] + list(extra))
        if cgroup:
            # join the cgroup first, then become the worker: the whole tree is inside it
            base = ["/bin/sh", "-c", f'echo $$ > {cgroup.procs}; exec "$@"', "sh"] + base
        self.argv = base
        self.env = celery_env(broker_url)
        self.proc = None

    def start(self):
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=APP_DIR, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        with open(self.log, "rb") as f:
            return f.read()

    def wait_ready(self, timeout=60):
        wait_for(lambda: b"ready." in self.output() or self.proc.poll() is not None,
                 timeout, 0.2, f"worker {self.argv} to be ready")
        if self.proc.poll() is not None:
            raise AssertionError(f"worker exited {self.proc.returncode}: {self.output()[-2000:]!r}")
        return self

    def children(self):
        return children_of(self.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kids = self.children()
            self.proc.kill()
            self.proc.wait()
            for k in kids:  # our own worker's pool children, by PID
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.logdir, ignore_errors=True)


def send_task(broker_url, name, args=(), queue="celery", priority=None, count=1):
    code = ("import sys, json; sys.path.insert(0, %r)\n"
            "from cwtest_app import app\n"
            "a = json.loads(sys.argv[1])\n"
            "with app.producer_or_acquire() as p:\n"
            "    for _ in range(a['count']):\n"
            "        app.send_task(a['name'], args=a['args'], queue=a['queue'], priority=a['priority'], producer=p)\n"
            % APP_DIR)
    subprocess.run(["/usr/bin/python3", "-c", code, json.dumps(
        {"name": name, "args": list(args), "queue": queue, "priority": priority, "count": count})],
        env=celery_env(broker_url), check=True, cwd=APP_DIR, timeout=60)


class MemCgroup:
    """A memory-limited cgroup (v1 memory controller, or v2 memory.max)."""

    def __init__(self, limit_bytes):
        name = f"cwtest-{os.getpid()}-{int(time.time() * 1000) % 100000}"
        v1 = "/sys/fs/cgroup/memory"
        if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")):
            self.path = os.path.join(v1, name)
            os.mkdir(self.path)
            with open(os.path.join(self.path, "memory.limit_in_bytes"), "w") as f:
                f.write(str(limit_bytes))
            memsw = os.path.join(self.path, "memory.memsw.limit_in_bytes")
            if os.path.exists(memsw):  # no escape into swap: the limit is the limit
                with open(memsw, "w") as f:
                    f.write(str(limit_bytes))
            self.rel = "/" + name
        else:
            base = "/sys/fs/cgroup"
            self.path = os.path.join(base, name)
            os.mkdir(self.path)
            with open(os.path.join(self.path, "memory.max"), "w") as f:
                f.write(str(limit_bytes))
            try:
                with open(os.path.join(self.path, "memory.swap.max"), "w") as f:
                    f.write("0")
            except OSError:
                pass
            self.rel = "/" + name
        self.procs = os.path.join(self.path, "cgroup.procs")

    def pids(self):
        try:
            with open(self.procs) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def cleanup(self):
        for pid in self.pids():  # only processes we put in our own cgroup
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not self.pids(), 10, what="cgroup to empty")
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)


class Recorder:
    def __init__(self, *args, out=None):
        self.dir = tempfile.mkdtemp(prefix="cw-rec-")
        self.out = out or os.path.join(self.dir, "ev.jsonl")
        self.args = list(args)
        self.proc = None

    def start(self):
        try:
            self.errf = open(os.path.join(self.dir, "stderr"), "wb")
            self.proc = subprocess.Popen([BIN, "record", "-o", self.out] + self.args,
                                         stdout=subprocess.DEVNULL, stderr=self.errf)
            wait_for(lambda: self.proc.poll() is not None or any(
                e["type"] == "tracer_start" for e in self.events(quiet=True)), 30, 0.05,
                "tracer_start")
            if self.proc.poll() is not None:
                raise AssertionError(f"recorder exited {self.proc.returncode}: {self.stderr()}")
        except BaseException:
            # callers register cleanup after start: a failed start leaves no recorder running
            # and no /tmp/cw-rec-* behind
            self.cleanup()
            raise
        return self

    def stderr(self):
        with open(os.path.join(self.dir, "stderr"), "rb") as f:
            return f.read().decode(errors="replace")

    def events(self, quiet=False):
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for i, line in enumerate(data.split(b"\n")[:-1]):
            # every line is one JSON object: a parse error is a test failure, not a skip
            out.append(json.loads(line))
        return out

    def wait_event(self, pred, timeout=30, what="event"):
        return wait_for(lambda: next((e for e in self.events() if pred(e)), None), timeout, 0.1, what)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "errf", None):
            self.errf.close()
            self.errf = None
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def of_type(events, t, **kw):
    return [e for e in events if e["type"] == t and all(e.get(k) == v for k, v in kw.items())]


class Tags:
    """Per-run names for queues and nodes: the recorder and `status` see every Celery process
    on the host, so another suite's `worker_low` on `low_priority` must not count as ours."""

    def __init__(self, prefix):
        self.tag = "%s%d" % (prefix, os.getpid() % 100000)

    def q(self, base):
        return "%s_%s" % (base, self.tag)

    def n(self, base):
        """A -n argument: the node's host part left to Celery (%h)."""
        return "%s_%s@%%h" % (base, self.tag)

    def node(self, base):
        return "%s_%s@%s" % (base, self.tag, HOST)


def rfc3339_s(s):
    """The log's RFC 3339 UTC time with microseconds -> seconds since the epoch (float)."""
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1])


def run_explain(log, *args, json_out=True, env=None):
    """`celerywatch explain` on a log: the parsed --json report, or the text."""
    p = subprocess.run([BIN, "explain"] + (["--json"] if json_out else []) + list(args) + [log],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, NO_COLOR="1", **(env or {})))
    if p.returncode != 0:
        raise AssertionError("explain exited %d: %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout) if json_out else p.stdout


def queue_of(report, name):
    """The one entry of an explain --json report for queue `name`."""
    qs = [q for q in report["queues"] if q["queue"] == name]
    if len(qs) != 1:
        raise AssertionError("queue %s: %d entries in %s" % (name, len(qs),
                                                             [q["queue"] for q in report["queues"]]))
    return qs[0]
