"""The Celery app of `make demo` (tools/demo.sh): the incident host in miniature.

Queues: low_priority (thumbnails, and one report that eats memory), high_priority (payments
and beat's heartbeat), daemon (housekeeping). The broker is CELERY_BROKER_URL.
Run it only with Debian's Celery (/usr/bin/python3).
"""
import os
import signal
import sys
import time

from celery import Celery

app = Celery("demo_app", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3"))
app.conf.update(
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=1,
    task_acks_late=False,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"priority_steps": [0, 3, 6, 9], "queue_order_strategy": "priority"},
    beat_schedule={
        "heartbeat": {"task": "demo.heartbeat", "schedule": 1.0,
                      "options": {"queue": "high_priority"}},
    },
)


@app.task(name="demo.thumbnail")
def thumbnail(n):
    time.sleep(0.01)
    return n


@app.task(name="demo.charge_card")
def charge_card(n):
    time.sleep(0.02)
    return n


@app.task(name="demo.heartbeat")
def heartbeat():
    return time.time()


@app.task(name="demo.cleanup")
def cleanup(n):
    return n


@app.task(name="demo.monthly_report")
def monthly_report(mib):
    """The bad task: builds its whole report in memory, mib MiB of it."""
    rows = []
    for _ in range(mib):
        rows.append(bytearray(1024 * 1024))
        time.sleep(0.002)
    time.sleep(5)
    return len(rows)


def produce(rate):
    """The web front end in miniature: `rate` thumbnails a second to low_priority, payments to
    high_priority, housekeeping to daemon. SIGUSR1 sends one monthly_report (600 MiB) to
    low_priority. Runs until SIGTERM."""
    want_report = []
    stop = []
    signal.signal(signal.SIGUSR1, lambda *_: want_report.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    period = 1.0 / rate
    n = 0
    nxt = time.monotonic()
    with app.producer_or_acquire() as p:
        while not stop:
            if want_report:
                want_report.clear()
                app.send_task("demo.monthly_report", args=[600], queue="low_priority", producer=p)
                print("producer: sent demo.monthly_report(600 MiB) to low_priority", flush=True)
            app.send_task("demo.thumbnail", args=[n], queue="low_priority", producer=p)
            if n % 3 == 0:
                app.send_task("demo.charge_card", args=[n], queue="high_priority", producer=p)
            if n % 10 == 0:
                app.send_task("demo.cleanup", args=[n], queue="daemon", producer=p)
            n += 1
            nxt += period
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.monotonic()


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "produce":
    produce(float(sys.argv[2]))
