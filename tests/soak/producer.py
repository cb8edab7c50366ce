"""The soak's producer: a steady stream of short tasks (cw.add) to each queue, RATE a second
per queue, through Redis restarts (a failed publish is counted and the stream goes on).
Run with /usr/bin/python3 (Debian's Celery), PYTHONPATH holding tests/integration/app.
Prints one JSON line of counts on SIGTERM/SIGINT."""
import json
import signal
import sys
import time

from cwtest_app import app

rate = float(sys.argv[1])
queues = sys.argv[2:]
sent = failed = 0
stop = False


def on_stop(signo, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_stop)
signal.signal(signal.SIGINT, on_stop)

period = 1.0 / rate
next_t = time.monotonic()
while not stop:
    for q in queues:
        try:
            app.send_task("cw.add", args=[1, 2], queue=q, retry=True,
                          retry_policy={"max_retries": 2, "interval_start": 0.2,
                                        "interval_step": 0.2, "interval_max": 0.5})
            sent += 1
        except Exception:  # the broker is restarting: count it, keep the stream going
            failed += 1
            time.sleep(0.2)
        if stop:
            break
    next_t += period
    delay = next_t - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    else:
        next_t = time.monotonic()
print(json.dumps({"sent": sent, "failed": failed}), flush=True)
