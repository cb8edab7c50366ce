"""record under output faults, on the real kernel with the real recorder: an output pipe nobody
reads, a full disk, logrotate's rename + SIGHUP during a burst, SIGKILL mid-burst, SIGTERM during
a flood. The loop must never wait on the output, lines are never split, and stops take < 1 s.

Run as root: /usr/bin/python3 -m unittest -v tests/integration/test_faults_output.py
"""
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from cwharness import BIN, Recorder, need_root, of_type, wait_for  # noqa: E402

STOP_LIMIT_S = 1.0
# A tracked shell (argv[0] 'celery') forking /bin/true forever: fork + exec lines, as fast as
# the host can fork. Killed by its PID in cleanups.
FLOOD = 'exec -a celery /bin/bash -c "while :; do /bin/true; done"'
# A tracked process (a `celery` argument) sending itself an ignored signal in a loop: a
# `signal` record per kill(2), far more than the reader can format and write.
SIGNALS = ("import os, signal\n"
           "signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
           "me = os.getpid()\n"
           "while True:\n"
           "    os.kill(me, signal.SIGUSR1)\n")


def start_flood(n=1):
    return [subprocess.Popen(["/bin/bash", "-c", FLOOD], start_new_session=True)
            for _ in range(n)]


def start_signal_flood(n=1):
    return [subprocess.Popen(["/usr/bin/python3", "-c", SIGNALS, "celery"], start_new_session=True)
            for _ in range(n)]


def stop_flood(procs):
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)   # its own session: only the flood's processes
            p.wait()


def marker():
    """A tracked process with a known pid: an exec line, then an exit line."""
    p = subprocess.Popen(["/bin/bash", "-c", "exec -a celery /bin/true"])
    p.wait()
    return p.pid


def whole_lines(path):
    """Every line of path as JSON: a split or glued line fails the test here."""
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise AssertionError(f"{path} ends inside a line: {data[-200:]!r}")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def timed_stop(proc, sig, limit=5.0):
    """Send sig and measure how long the process takes to exit (killed after limit)."""
    t0 = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None, time.monotonic() - t0
    return proc.returncode, time.monotonic() - t0


def pipe_fill(fd):
    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), "little")


def pipe_stuck(fd):
    """Over half full and not one byte more for a second."""
    before = pipe_fill(fd)
    time.sleep(1.0)
    return before >= 32768 and pipe_fill(fd) == before


@need_root
class UnreadPipe(unittest.TestCase):
    def test_sigint_stops_within_1s_into_a_pipe_never_read(self):
        """`record -o -` into a pipe nobody reads, during a burst: SIGINT still stops it."""
        rd, wr = os.pipe()
        self.addCleanup(os.close, rd)
        errf = tempfile.TemporaryFile()
        self.addCleanup(errf.close)
        # no log cap: another suite's flood on this host must not stop ours from filling the pipe
        proc = subprocess.Popen([BIN, "record", "-o", "-", "--max-lines-per-minute", "0"],
                                stdout=wr, stderr=errf)
        os.close(wr)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        wait_for(lambda: pipe_fill(rd) > 0 or proc.poll() is not None, 30, 0.05, "tracer_start")
        self.assertIsNone(proc.poll())
        flood = start_flood()
        self.addCleanup(stop_flood, flood)
        # the pipe is full and the flood goes on: the output is stuck for good. "Full" is not
        # 64 KiB: a write larger than a page leaves its last page part-filled, and the writer
        # writes batches, so the pipe is full when its fill stops growing under the flood.
        wait_for(lambda: pipe_stuck(rd), 60, 0.05, "the pipe to fill")
        status, took = timed_stop(proc, signal.SIGINT)
        print(f"\n  SIGINT into an unread pipe: stopped in {took:.3f} s, status {status}")
        self.assertIsNotNone(status, f"still running {took:.1f} s after SIGINT")
        self.assertLess(took, STOP_LIMIT_S)
        self.assertEqual(status, 0)
        errf.seek(0)
        self.assertIn(b"not written", errf.read())   # it says the log lost its last lines


@need_root
class Flood(unittest.TestCase):
    def test_sigterm_during_a_flood_stops_within_1s(self):
        # no flood budget: the kernel lets the whole flood through to the loop
        rec = Recorder("--max-lines-per-minute", "0", "--flood-budget", "0").start()
        self.addCleanup(rec.cleanup)
        flood = start_signal_flood()
        self.addCleanup(stop_flood, flood)
        wait_for(lambda: os.path.getsize(rec.out) > 1 << 20, 30, 0.1, "1 MiB of the flood's lines")
        time.sleep(1.0)
        status, took = timed_stop(rec.proc, signal.SIGTERM)
        print(f"\n  SIGTERM during a flood: stopped in {took:.3f} s, status {status}")
        self.assertIsNotNone(status, f"still running {took:.1f} s after SIGTERM")
        self.assertLess(took, STOP_LIMIT_S)
        self.assertEqual(status, 0)
        stop_flood(flood)
        evs = whole_lines(rec.out)
        self.assertEqual(len(of_type(evs, "tracer_stop")), 1)

    def test_timer_is_served_during_a_flood(self):
        """The 1 s timer (lost lines, the clock) runs while records keep coming: under a flood
        that never lets the reader catch up, the ring buffer overflows and a `lost` line
        says so within seconds (the timer writes it). No flood budget: with one, the kernel
        keeps this flood out of the ring (test_kernel_budget.py)."""
        rec = Recorder("--flood-budget", "0").start()
        self.addCleanup(rec.cleanup)
        flood = start_signal_flood()
        self.addCleanup(stop_flood, flood)
        rec.wait_event(lambda e: e["type"] == "lost", 20, "a lost line during the flood")


    def test_death_is_read_while_a_flood_holds_the_loop(self):
        """Every wake-up of the loop is cut short by its budget while a flood lasts: the
        deaths ring must still be read in each, or a worker's exit waits for the flood to
        end. (libbpf skips the rings after a callback's < 0; `deaths` goes first.)"""
        rec = Recorder("--flood-budget", "0", "--max-lines-per-minute", "0").start()
        self.addCleanup(rec.cleanup)
        marker = subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(600)",
                                   "celery"], start_new_session=True)
        self.addCleanup(stop_flood, [marker])
        log = Grep(rec.out)
        log.wait([b'"type":"exec"', b'"pid":%d,' % marker.pid], 20, "the marker's exec")
        flood = start_signal_flood()
        self.addCleanup(stop_flood, flood)
        log.wait([b'"type":"lost"'], 20, "the ring overflowing")
        marker.kill()
        marker.wait()
        t0 = time.monotonic()
        line = log.wait([b'"type":"exit"', b'"pid":%d,' % marker.pid], 10,
                        "the marker's exit while the flood goes on")
        print(f"\n  exit line during a flood after {time.monotonic() - t0:.2f} s")
        self.assertIsNone(flood[0].poll(), "the flood ended: the test proved nothing")
        self.assertEqual(json.loads(line)["signal"], "SIGKILL")
        stop_flood(flood)


class Grep:
    """Lines of a log that grows at flood speed (up to 100 MB/s): read from where the last
    read stopped, matched as bytes, never all parsed or kept."""

    def __init__(self, path):
        self.path, self.pos = path, 0

    def find(self, needles):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read(64 << 20)
        end = data.rfind(b"\n") + 1
        self.pos += end
        for line in data[:end].split(b"\n"):
            if all(n in line for n in needles):
                return line
        return None

    def wait(self, needles, timeout, what):
        return wait_for(lambda: self.find(needles), timeout, 0.05, what)


class Tmpfs:
    """A tiny tmpfs under a temp dir of ours; unmounted and removed by cleanup."""

    def __init__(self, size="64k"):
        self.dir = tempfile.mkdtemp(prefix="cw-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", self.dir],
                       check=True)

    def fill(self):
        """Take every free byte with a filler file."""
        path = os.path.join(self.dir, "filler")
        with open(path, "wb", buffering=0) as f:
            while True:
                try:
                    f.write(b"x" * 512)
                except OSError:
                    break
        return path

    def cleanup(self):
        subprocess.run(["umount", self.dir], check=False)
        os.rmdir(self.dir)


@need_root
class DiskFull(unittest.TestCase):
    def test_disk_full_tracing_goes_on_and_lines_resume_whole(self):
        fs = Tmpfs("1m")   # the start-up scan of a busy host takes some already
        self.addCleanup(fs.cleanup)
        rec = Recorder(out=os.path.join(fs.dir, "ev.jsonl")).start()
        self.addCleanup(rec.cleanup)   # stops it, and removes its own temp dir
        filler = fs.fill()
        full = [marker() for _ in range(30)]   # exec + exit lines, ~1 KiB each: none fit
        time.sleep(1.5)
        self.assertIsNone(rec.proc.poll(), "the recorder died on a full disk")
        os.unlink(filler)
        after = marker()
        wait_for(lambda: any(e["type"] == "exit" and e["pid"] == after
                             for e in whole_lines(rec.out)), 20, 0.1, "a line after space returned")
        self.assertEqual(rec.stop(), 0)
        evs = whole_lines(rec.out)   # every line whole JSON: none split by the full disk
        stop = of_type(evs, "tracer_stop")[0]
        written = {e["pid"] for e in evs if e["type"] == "exit"}
        print(f"\n  disk full: {len(set(full) - written)} of 30 markers' exits not written, "
              f"tracer_stop write_errors={stop['write_errors']}")
        self.assertGreater(stop["write_errors"], 0)
        self.assertIn(after, written)
        self.assertTrue(set(full) - written, "nothing was lost: the disk was never full")


@need_root
class Rotation(unittest.TestCase):
    def test_rename_and_sighup_during_a_burst_lose_and_split_nothing(self):
        rec = Recorder().start()
        self.addCleanup(rec.cleanup)
        n = 400
        burst = subprocess.Popen(["/bin/bash", "-c",
                                  f'exec -a celery /bin/bash -c "for i in \\$(seq {n}); do /bin/true; done"'])
        rotated = []
        while burst.poll() is None and len(rotated) < 20:
            path = f"{rec.out}.{len(rotated) + 1}"
            os.rename(rec.out, path)
            rotated.append(path)
            rec.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: os.path.exists(rec.out), 10, 0.01, "the reopened log")
            time.sleep(0.05)
        burst.wait()
        m = marker()
        rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == m, 20, "the marker's exit")
        self.assertEqual(rec.stop(), 0)
        self.assertGreater(len(rotated), 2, "the burst ended before two rotations")
        lines = []
        for path in rotated + [rec.out]:
            lines += whole_lines(path)
        # n /bin/true children, plus the subshell of $(seq n)
        forks = [e for e in lines if e["type"] == "fork" and e["ppid"] == burst.pid]
        self.assertEqual(len(forks), n + 1, f"{len(forks)} fork lines for {n + 1} forks")
        self.assertEqual(len({e["pid"] for e in forks}), n + 1)
        kids = {f["pid"] for f in forks}
        execs = [e for e in lines if e["type"] == "exec" and e["pid"] in kids
                 and e["argv"] == ["/bin/true"]]
        self.assertEqual(len(execs), n)
        self.assertEqual(len({e["pid"] for e in execs}), n)
        self.assertEqual(len(of_type(lines, "tracer_start")), 1)
        self.assertEqual(len(of_type(lines, "tracer_stop")), 1)


@need_root
class LogCap(unittest.TestCase):
    def test_lines_over_the_cap_are_counted_and_deaths_kept(self):
        rec = Recorder("--max-lines-per-minute", "50").start()
        self.addCleanup(rec.cleanup)
        subprocess.run(["/bin/bash", "-c",
                        'exec -a celery /bin/bash -c "for i in \\$(seq 100); do /bin/true; done"'],
                       check=True)
        deaths = [marker() for _ in range(5)]
        for pid in deaths:   # exits are never suppressed
            rec.wait_event(lambda e: e["type"] == "exit" and e["pid"] == pid, 20, "a marker's exit")
        self.assertEqual(rec.stop(), 0)
        evs = whole_lines(rec.out)
        start = of_type(evs, "tracer_start")[0]
        self.assertEqual(start["options"]["max_lines_per_minute"], 50)
        sup = of_type(evs, "suppressed", reason="log_cap")
        self.assertEqual(len(sup), 1, sup)   # the minute was cut short by the stop: one line
        self.assertEqual(sum(sup[0]["by_type"].values()), sup[0]["count"])
        self.assertGreater(sup[0]["by_type"].get("fork", 0), 0)
        self.assertNotIn("exit", sup[0]["by_type"])
        stop = of_type(evs, "tracer_stop")[0]
        self.assertEqual(stop["log_cap_suppressed"], sup[0]["total"])
        capped = [e for e in evs if e["type"] not in (
            "exit", "oom", "tracer_start", "tracer_stop", "lost", "suppressed", "dropped", "sample")]
        # every line of the minute counts towards the cap (tracer_start, the markers' exits...)
        self.assertLessEqual(len(capped), 50)
        self.assertGreater(len(capped), 40)
        # 100 forks + 100 execs + the markers' lines: all there, written or counted
        self.assertGreaterEqual(len(capped) + sup[0]["count"], 200)


@need_root
class KilledMidBurst(unittest.TestCase):
    def test_explain_reads_up_to_the_last_whole_line(self):
        rec = Recorder().start()
        self.addCleanup(rec.cleanup)
        flood = start_flood(2)
        self.addCleanup(stop_flood, flood)
        rec.wait_event(lambda e: e["type"] == "fork", 20, "the flood's forks")
        time.sleep(0.5)
        rec.proc.kill()
        rec.proc.wait()
        stop_flood(flood)
        with open(rec.out, "rb") as f:
            data = f.read()
        # whatever the kill left, and for sure a last line cut in the middle
        cut = os.path.join(rec.dir, "cut.jsonl")
        body = data[:data.rfind(b"\n") + 1]
        nlines = body.count(b"\n")
        last = body[:-1].rfind(b"\n") + 1
        with open(cut, "wb") as f:
            f.write(body[:last] + body[last:last + (len(body) - last) // 2])
        for path, whole in ((rec.out, data.endswith(b"\n")), (cut, False)):
            p = subprocess.run([BIN, "explain", "--json", path], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            json.loads(p.stdout)
            errs = p.stderr.strip().splitlines()
            if whole:
                self.assertEqual(errs, [])
            else:
                self.assertEqual(len(errs), 1, errs)
                where = nlines if path == cut else data.count(b"\n") + 1
                self.assertIn(f"{path}:{where}: truncated last line", errs[0])


if __name__ == "__main__":
    unittest.main()
