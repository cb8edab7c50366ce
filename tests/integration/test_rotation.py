"""Built-in rotation on a real recording: --rotate-size/--rotate-keep/--compress keep at most
N files, each gzip'd, 0640, made of whole lines, and explain reads the set (.gz included) as
one log."""
import glob
import gzip
import json
import os
import subprocess
import unittest

from cwharness import BIN, Recorder, need_root, wait_for


def churn(n):
    # n short-lived Celery-looking processes (an argument named `celery`): exec and exit lines
    subprocess.run(["sh", "-c", f'i=0; while [ $i -lt {n} ]; do sh -c true celery worker; '
                    'i=$((i+1)); done'], check=True)


@need_root
class TestRotation(unittest.TestCase):
    def test_rotate_keep_compress(self):
        rec = Recorder("--rotate-size", "16K", "--rotate-keep", "3", "--compress").start()
        self.addCleanup(rec.cleanup)
        churn(400)
        wait_for(lambda: os.path.exists(rec.out + ".3.gz"), 30, what="a third rotation")
        self.assertEqual(rec.stop(), 0)
        rotated = sorted(glob.glob(rec.out + ".*"))
        self.assertEqual(rotated, [rec.out + f".{i}.gz" for i in (1, 2, 3)], rotated)
        lines = 0
        for path in [rec.out] + rotated:
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o640, path)
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                for line in f.read().split(b"\n")[:-1]:
                    json.loads(line)	# whole lines only
                    lines += 1
        self.assertGreater(lines, 100)
        # explain takes the set in any order, .gz as it is, without a complaint
        res = subprocess.run([BIN, "explain", "--json"] + rotated[::-1] + [rec.out],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr, "")
        doc = json.loads(res.stdout)
        self.assertLess(doc["window"]["from"], doc["window"]["to"])

    def test_rotate_needs_a_file(self):
        res = subprocess.run([BIN, "record", "-o", "-", "--rotate-size", "1M"],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("--rotate-size needs -o FILE", res.stderr)
        res = subprocess.run([BIN, "record", "-o", "x", "--rotate-size", "10"],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("--rotate-size '10'", res.stderr)


if __name__ == "__main__":
    unittest.main()
