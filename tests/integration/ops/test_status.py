# SPDX-License-Identifier: ISC
"""postern --status: counts, Nagios exit codes (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN) and the JSON form, on a real spool."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from opslib import BUILD, POSTERN, SOURCE, OpsCase, free_port  # noqa: E402

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

    # --- the runner warning (SPEC: postern-send must not be needed by hand)
    def age_drop_file(self, seconds):
        """Backdates the submission time in the one drop file's header."""
        inc = os.path.join(self.spool, "incoming")
        (qid,) = [n for n in os.listdir(inc) if not n.startswith(".")]
        path = os.path.join(inc, qid)
        with open(path, "rb") as f:
            data = f.read()
        head, sep, rest = data.partition(b"\n\n")
        lines = head.split(b"\n")
        for i, line in enumerate(lines):
            if line.startswith(b"time: "):
                old = int(line[6:])
                lines[i] = b"time: %d" % (old - seconds)
                self.assertEqual(len(lines[i]), len(line))  # the size field stays right
                submitted = old - seconds
        with open(path, "wb") as f:
            f.write(b"\n".join(lines) + sep + rest)
        return submitted

    def test_no_runner_since_the_submission_is_a_warning(self):
        self.submit()
        submitted = self.age_drop_file(600)
        queue = os.path.join(self.spool, "queue")
        os.makedirs(queue, exist_ok=True)
        os.utime(queue, (submitted - 3600, submitted - 3600))  # the last run, long before
        code, out, _ = self.status()
        self.assertEqual(code, 1, out)
        self.assertIn("postern queue WARNING: 1 message, oldest 10m", out)
        self.assertIn("(1 waiting for pickup: no queue runner has run since ", out)
        self.assertIn(": enable postern-send.path, or the cron line in etc/postern.cron)", out)
        j = json.loads(self.status("--json")[1])
        self.assertEqual((j["status"], j["waiting_for_runner"]), ("WARNING", 1))
        self.assertGreaterEqual(j["last_run_age_seconds"], 4200)
        # mailq says it next to the message.
        r = self.postern("-bp")
        lines = r.stdout.decode().splitlines()
        self.assertIn("(waiting for pickup)", lines[0])
        self.assertTrue(lines[1].startswith("    warning: no queue runner has run since "), lines)
        self.assertTrue(lines[1].endswith(
            ": enable postern-send.path, or the cron line in etc/postern.cron"), lines)

        # A queue run (here the cron line's command) picks it up: OK again.
        r = subprocess.run([os.path.join(BUILD, "postern-send"), "-C", self.conf],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        code, out, _ = self.status()
        self.assertEqual(code, 0, out)
        self.assertNotIn("no queue runner", out + self.postern("-bp").stdout.decode())
        self.assertGreaterEqual(os.stat(queue).st_mtime, submitted + 600 - 5)

    def test_never_a_run_and_a_run_since(self):
        self.submit()
        submitted = self.age_drop_file(600)
        queue = os.path.join(self.spool, "queue")
        if os.path.isdir(queue):
            os.rmdir(queue)
        code, out, _ = self.status()
        self.assertEqual(code, 1, out)
        self.assertIn("no queue runner has ever run: enable postern-send.path", out)
        # A run after the submission that did not take it (held, say) is not
        # "no runner": the age thresholds are for that.
        os.makedirs(queue)
        os.utime(queue, (submitted + 60, submitted + 60))
        code, out, _ = self.status()
        self.assertEqual(code, 0, out)
        self.assertNotIn("warning:", self.postern("-bp").stdout.decode())

    def test_young_mail_does_not_warn(self):
        self.submit()
        code, out, _ = self.status()
        self.assertEqual(code, 0, out)
        self.assertNotIn("warning:", self.postern("-bp").stdout.decode())

    # --- Prometheus text format, read with the reference parser
    def prometheus(self):
        from prometheus_client.parser import text_string_to_metric_families
        code, out, _ = self.status("--prometheus")
        families = {f.name: f for f in text_string_to_metric_families(out)}
        return code, out, families

    def test_prometheus_parses_and_says_the_same(self):
        self.submit()
        self.submit("root")
        code, out, fam = self.prometheus()
        self.assertEqual(code, 0, out)
        j = json.loads(self.status("--json")[1])
        want = {"postern_status": 0, "postern_queue_messages": j["messages"],
                "postern_queue_incoming_messages": j["incoming"],
                "postern_queue_deferred_messages": j["deferred"],
                "postern_queue_failed_messages": j["failed"],
                "postern_queue_waiting_for_runner_messages": 0}
        for name, value in want.items():
            self.assertIn(name, fam, out)
            self.assertEqual(fam[name].type, "gauge")
            self.assertTrue(fam[name].documentation)
            (sample,) = fam[name].samples
            self.assertEqual(sample.value, value, name)
        age = fam["postern_queue_oldest_message_age_seconds"].samples[0].value
        self.assertGreaterEqual(age, 0)
        self.assertLess(age, 600)

        # After a run: the run's age and time are there.
        subprocess.run([os.path.join(BUILD, "postern-send"), "-C", self.conf],
                       capture_output=True, timeout=120)
        code, out, fam = self.prometheus()
        self.assertLess(fam["postern_runner_last_run_age_seconds"].samples[0].value, 600)
        ts = fam["postern_runner_last_run_timestamp_seconds"].samples[0].value
        self.assertLess(abs(ts - os.stat(os.path.join(self.spool, "queue")).st_mtime), 2)

    def test_prometheus_warning_and_unknown(self):
        self.submit()
        submitted = self.age_drop_file(600)
        queue = os.path.join(self.spool, "queue")
        os.makedirs(queue, exist_ok=True)
        os.utime(queue, (submitted - 60, submitted - 60))
        code, out, fam = self.prometheus()
        self.assertEqual(code, 1, out)
        self.assertEqual(fam["postern_status"].samples[0].value, 1)
        self.assertEqual(fam["postern_queue_waiting_for_runner_messages"].samples[0].value, 1)
        self.assertGreaterEqual(fam["postern_runner_last_run_age_seconds"].samples[0].value, 660)
        with open(self.conf, "a") as f:
            f.write("[relay]\nhots = x\n")
        code, out, fam = self.prometheus()
        self.assertEqual(code, 3, out)
        self.assertEqual(list(fam), ["postern_status"])
        self.assertEqual(fam["postern_status"].samples[0].value, 3)
        self.assertIn("unknown key 'hots'", out)

    def test_the_cron_line_writes_the_file_atomically(self):
        # The documented line in etc/postern.cron, pointed at a temporary
        # directory: tmp file, then rename.
        with open(os.path.join(SOURCE, "etc", "postern.cron")) as f:
            lines = [ln for ln in f if "--prometheus" in ln]
        self.assertEqual(len(lines), 1, "etc/postern.cron documents the Prometheus line")
        fields = lines[0].lstrip("#").split(None, 6)
        cmd = fields[6].strip()
        prom = os.path.join(self.tmp, "textfile")
        os.makedirs(prom)
        cmd = cmd.replace("/var/lib/prometheus/node-exporter", prom)
        cmd = cmd.replace("/usr/sbin/postern", POSTERN + " -C " + self.conf)
        self.submit()
        r = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(prom), ["postern.prom"])
        from prometheus_client.parser import text_string_to_metric_families
        with open(os.path.join(prom, "postern.prom")) as f:
            fam = {x.name: x for x in text_string_to_metric_families(f.read())}
        self.assertEqual(fam["postern_queue_messages"].samples[0].value, 1)

    def test_usage_errors(self):
        r = self.postern("--status", "--warn", "soon")
        self.assertEqual(r.returncode, 64)
        self.assertIn("invalid --warn value 'soon'", r.stderr.decode())
        r = self.postern("--json")
        self.assertEqual(r.returncode, 64)
        r = self.postern("--status", "--json", "--prometheus")
        self.assertEqual(r.returncode, 64)


if __name__ == "__main__":
    unittest.main()
