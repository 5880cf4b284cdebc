# SPDX-License-Identifier: ISC
"""postern --status: counts, Nagios exit codes (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN) and the JSON form, on a real spool."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from opslib import BUILD, POSTERN, OpsCase, free_port  # noqa: E402

SEND = os.path.join(BUILD, "postern-send")


class Status(OpsCase):
    def status(self, *args, **kw):
        r = self.postern("--status", *args, **kw)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def test_empty_queue_is_ok(self):
        code, out, _ = self.status()
        self.assertEqual(code, 0, out)
        self.assertTrue(out.startswith("postern queue OK: 0 messages, 0 failed, 0 deferred | "),
                        out)
        self.assertEqual(out.count("\n"), 1)

    def test_counts_and_json(self):
        self.submit()
        self.submit("root")
        code, out, _ = self.status("--json")
        self.assertEqual(code, 0, out)
        j = json.loads(out)
        self.assertEqual(j["status"], "OK")
        self.assertEqual(j["messages"], 2)
        self.assertEqual(j["incoming"], 2)
        self.assertEqual(j["failed"], 0)
        self.assertGreaterEqual(j["oldest_seconds"], 0)
        self.assertLess(j["oldest_seconds"], 600)
        self.assertIsNone(j["warn_seconds"])

    def test_age_thresholds(self):
        self.submit()
        code, out, _ = self.status("--warn", "1d", "--crit", "2d")
        self.assertEqual(code, 0, out)
        code, out, _ = self.status("--warn", "0", "--crit", "2d")
        self.assertEqual(code, 1, out)
        self.assertIn("postern queue WARNING: 1 message, oldest ", out)
        code, out, _ = self.status("--warn", "0", "--crit", "0s")
        self.assertEqual(code, 2, out)
        self.assertIn("CRITICAL", out)

    def test_failed_message_is_critical(self):
        self.submit()
        inc = os.path.join(self.spool, "incoming")
        (qid,) = os.listdir(inc)
        os.makedirs(os.path.join(self.spool, "failed"), exist_ok=True)
        os.rename(os.path.join(inc, qid), os.path.join(self.spool, "failed", qid + ".msg"))
        code, out, _ = self.status("--json")
        self.assertEqual(code, 2, out)
        j = json.loads(out)
        self.assertEqual((j["failed"], j["messages"]), (1, 0))
        self.assertIn("1 failed", j["reasons"])

    def test_failed_entries_say_why(self):
        # A drop file cut short is what a person must judge: the runner
        # moves it to failed/ and says why, in mailq and --status.
        self.submit()
        inc = os.path.join(self.spool, "incoming")
        (qid,) = os.listdir(inc)
        p = os.path.join(inc, qid)
        size = os.path.getsize(p)
        os.chmod(p, 0o644)
        os.truncate(p, size - 3)
        r = subprocess.run([SEND, "-C", self.conf], capture_output=True, timeout=60)
        self.assertEqual(os.listdir(inc), [], r.stderr)
        out = self.postern("-bp").stdout.decode()
        self.assertIn("Failed (kept, neither delivered nor bounced):", out)
        self.assertIn("    reason: file is ", out)
        self.assertIn("(cut short?)", out)
        code, out, _ = self.status("--json")
        self.assertEqual(code, 2, out)
        j = json.loads(out)
        self.assertIn("1 failed", j["reasons"])
        self.assertTrue(any(x.startswith("first failed " + qid + ": file is ")
                            for x in j["reasons"]), j["reasons"])

    def test_deferred_after_a_refused_connection(self):
        port = free_port()
        self.write_conf(f"[relay]\nhost = 127.0.0.1\nport = {port}\ntls = none\ntimeout = 5s\n")
        self.submit()
        r = self.postern("-q")
        self.assertEqual(r.returncode, 0, r.stderr)
        code, out, _ = self.status("--json")
        j = json.loads(out)
        self.assertEqual((j["messages"], j["queued"], j["deferred"]), (1, 1, 1), out)
        code, out, _ = self.status()
        self.assertIn(", 0 failed, 1 deferred", out)

    def test_unknown_when_the_config_is_broken(self):
        with open(self.conf, "a") as f:
            f.write("[relay]\nhots = x\n")
        code, out, _ = self.status()
        self.assertEqual(code, 3, out)
        self.assertRegex(out, r"^postern queue UNKNOWN: .*postern.conf:\d+: unknown key 'hots'")

    def test_unknown_when_the_spool_is_missing(self):
        os.rmdir(self.spool)
        code, out, _ = self.status("--json")
        self.assertEqual(code, 3, out)
        j = json.loads(out)
        self.assertEqual(j["status"], "UNKNOWN")
        self.assertIn(self.spool, j["error"])

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run as another user")
    def test_unknown_when_the_queue_may_not_be_read(self):
        # The installed modes: incoming/ is 1730 postern:postdrop, queue/ 0700.
        os.chmod(self.tmp, 0o755)
        os.chmod(self.conf, 0o644)
        for d in ("incoming", "queue"):
            os.makedirs(os.path.join(self.spool, d), mode=0o700)
        os.chmod(os.path.join(self.spool, "incoming"), 0o1730)

        def nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        code, out, err = self.status(preexec_fn=nobody)
        self.assertEqual(code, 3, out + err)
        self.assertIn("postern queue UNKNOWN: cannot read the mail queue", out)
        self.assertIn("permission denied", out)

    def test_usage_errors(self):
        r = self.postern("--status", "--warn", "soon")
        self.assertEqual(r.returncode, 64)
        self.assertIn("invalid --warn value 'soon'", r.stderr.decode())
        r = self.postern("--json")
        self.assertEqual(r.returncode, 64)


if __name__ == "__main__":
    unittest.main()
