"""Render `celerywatch explain --html` in headless Chromium and check what a person sees.

The page is built from hand-written logs (tests/unit/data/) holding an OOM kill, a kill -9
from a script and pool events; Chromium dumps the DOM after rendering and takes a screenshot.
Needs no root. Skipped when Debian's `chromium` is not installed.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "unit", "data")
BIN = os.environ.get("CELERYWATCH", os.path.join(ROOT, "build", "celerywatch"))
# one day: the OOM kill of worker_low, a kill -9 from a script, pool events, a failed exec
LOGS = ["html_story.jsonl"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class ExplainHtmlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chromium = chromium()
        if not cls.chromium:
            raise unittest.SkipTest("chromium is not installed (apt-get install chromium)")
        if not os.access(BIN, os.X_OK):
            raise unittest.SkipTest("%s is not built (run make)" % BIN)
        cls.tmp = tempfile.mkdtemp(prefix="cw_html_")
        cls.html = os.path.join(cls.tmp, "report.html")
        run = subprocess.run([BIN, "explain", "--html", cls.html] +
                             [os.path.join(DATA, f) for f in LOGS],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise AssertionError("explain failed: %s" % run.stderr)
        cls.text = run.stdout

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("KEEP_HTML"):
            print("kept", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def browser(self, *args):
        profile = tempfile.mkdtemp(prefix="cw_chromium_", dir=self.tmp)
        cmd = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               "--user-data-dir=" + profile, "--window-size=1280,1400"] + list(args) + \
              ["file://" + self.html]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def test_page_is_self_contained(self):
        with open(self.html, encoding="utf-8") as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        for bad in ("<script", "<link", "@import", "url(", 'src="', 'href="'):
            self.assertNotIn(bad, page)

    def test_dom_has_the_labels(self):
        run = self.browser("--dump-dom")
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        dom = run.stdout
        self.assertIn("<svg", dom)
        # the answer in words on top
        self.assertIn("low_priority: NO CONSUMER since 12:03:11", dom)
        self.assertIn("OOM-killed in cgroup /celery/low", dom)
        # queue names (answer list and depth legend)
        for q in ("low_priority", "high_priority", "daemon", "qa", "qp", "qx", "qn"):
            self.assertIn(">%s" % q, dom)
        # kinds and the sender's comm on the death marks
        for label in ("oom_kill in /celery/low", "signal SIGKILL from bash (pid 6000)",
                      "time_limit SIGKILL from celery", "crash SIGSEGV", "exec_failed",
                      "never_started"):
            self.assertIn(label, dom)
        # worker rows
        self.assertIn("worker_low@web1 (pid 4766)", dom)

    def test_screenshot(self):
        shot = os.path.join(self.tmp, "shot.png")
        run = self.browser("--screenshot=" + shot)
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        # an empty white page compresses to a few kB; ours has text, lines and bars
        self.assertGreater(len(png), 30000)


if __name__ == "__main__":
    unittest.main()
