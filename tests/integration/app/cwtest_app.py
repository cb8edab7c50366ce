"""A small Celery app for celerywatch's integration tests: real tasks on a real broker."""
import ctypes
import os
import time

from celery import Celery

app = Celery("cwtest_app", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=1,
    task_acks_late=False,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"priority_steps": [0, 3, 6, 9], "queue_order_strategy": "priority"},
)


@app.task(name="cw.add")
def add(x, y):
    return x + y


@app.task(name="cw.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="cw.hang")
def hang(host, port):
    """Connect to a device that accepts and never answers, and wait for its reply with no
    timeout: the task blocks in recv(2) forever (the seed host's printer poll)."""
    import socket
    s = socket.create_connection((host, port))
    s.settimeout(None)
    return len(s.recv(1))


@app.task(name="cw.spin")
def spin(seconds):
    """Busy for `seconds` of wall time: a slow task that uses CPU all along."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


@app.task(name="cw.hog")
def hog(mib):
    """Touch mib MiB of anonymous memory: in a memory-limited cgroup, the OOM killer answers."""
    chunks = []
    for _ in range(mib):
        chunks.append(bytearray(1024 * 1024))
    time.sleep(5)
    return len(chunks)


@app.task(name="cw.segfault")
def segfault():
    ctypes.string_at(0)


@app.task(name="cw.exit")
def exit_now(code):
    os._exit(code)


@app.task(name="cw.recv")
def recv(port):
    """Connect to a local server that never answers and wait for its reply, with no timeout:
    the pool process blocks in recvfrom (a printer that accepts and never answers)."""
    import socket
    s = socket.create_connection(("127.0.0.1", port))
    return len(s.recv(1))
