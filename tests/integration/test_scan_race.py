"""The start-up /proc scan against a host that forks and exits while it reads.

A Celery process found by the scan must be tracked the moment it is read (what it forks
afterwards is then followed by the kernel), and a process that exited before the map had it
must not stay in the map for the next process that gets its pid.

Run as root: python3 -m unittest tests/integration/test_scan_race.py
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from cwharness import Recorder, need_root, wait_for  # noqa: E402

# Run as DIR/celery worker ...: a Celery command line to the scan, and so are its forks. It
# forks without pause: short children (1-20 ms) and long ones (20 s), until SIGUSR1.
CHURN = r"""
import os, random, signal, sys, time
stop = False
def on_usr1(*_):
    global stop
    stop = True
signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)    # children reap themselves
sys.stdout.write("ready\n"); sys.stdout.flush()
n = 0
while not stop:
    n += 1
    if os.fork() == 0:
        time.sleep(20 if n % 4 == 0 else random.uniform(0.001, 0.02))
        os._exit(0)
    time.sleep(0.0005)
sys.stdout.write("stopped\n"); sys.stdout.flush()
signal.pause()
"""


def map_ids(pid):
    """Ids of the BPF maps a process holds, from its fds' fdinfo."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("map_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    return ids


def tracked_pids(recorder_pid):
    """Keys of the recorder's `tracked` map, read with bpftool."""
    ids = [i for i in map_ids(recorder_pid) if json.loads(subprocess.check_output(
        ["bpftool", "-j", "map", "show", "id", str(i)])).get("name") == "tracked"]
    if len(ids) != 1:
        raise AssertionError(f"recorder {recorder_pid}: tracked maps {ids}")
    dump = json.loads(subprocess.check_output(["bpftool", "-j", "map", "dump", "id", str(ids[0])]))
    out = set()
    for e in dump:
        key = e["formatted"]["key"] if "formatted" in e else \
            int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
        out.add(int(key))
    return out


def children_of(ppid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and fields[0] != "Z":
            kids.append(int(d))
    return kids


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


@need_root
class TestScanRace(unittest.TestCase):

    def test_scan_under_fork_and_exit_churn(self):
        # ten starts: the window is short and each start is one draw
        stale_total, missed_total = [], []
        for _ in range(10):
            stale, missed = self.one_start()
            stale_total += stale
            missed_total += missed
        self.assertEqual((stale_total, missed_total), ([], []),
                         "(pids left in the tracked map after they exited, "
                         "children of a scanned process never tracked)")

    def one_start(self):
        d = tempfile.mkdtemp(prefix="cw-churn-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "celery"), "w") as f:
            f.write(CHURN)
        churn = subprocess.Popen(["/usr/bin/python3", os.path.join(d, "celery"), "-A", "churn",
                                  "worker", "-n", "churn@%h", "-Q", "churn"],
                                 stdout=subprocess.PIPE, start_new_session=True)
        self.addCleanup(self.kill_group, churn)
        self.assertEqual(churn.stdout.readline(), b"ready\n")
        time.sleep(0.3)     # a population of short and long children
        rec = Recorder().start()
        self.addCleanup(rec.cleanup)
        wait_for(lambda: any(e["type"] == "scan" and e["pid"] == churn.pid
                             for e in rec.events()), 10, 0.05, "the churner's scan line")
        churn.send_signal(signal.SIGUSR1)
        self.assertEqual(churn.stdout.readline(), b"stopped\n")
        time.sleep(0.3)     # the short children are gone; their exits are in the map's past
        keys = tracked_pids(rec.proc.pid)
        stale = sorted(p for p in keys if not alive(p))
        missed = sorted(p for p in children_of(churn.pid) if p not in keys)
        rec.cleanup()
        self.kill_group(churn)
        return stale, missed

    @staticmethod
    def kill_group(p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        if p.stdout:
            p.stdout.close()


if __name__ == "__main__":
    unittest.main()
