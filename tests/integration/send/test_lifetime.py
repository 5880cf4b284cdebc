# SPDX-License-Identifier: ISC
"""[queue] lifetime: a message the relay keeps deferring bounces with a
report once it is older than the lifetime, but never before a first
attempt (a box without a real-time clock may submit with a wrong time).
The message's age is set by editing the spool's time field, not by
waiting."""

import glob
import mailbox
import os
import re
import time
import unittest

import relay
from sendtest import SendCase


class Lifetime(SendCase):
    def age_file(self, path, seconds):
        """Moves the 'time:' field of a spool file `seconds` into the past,
        keeping its length (the drop header's size field stays valid)."""
        with open(path, "rb") as f:
            data = f.read()
        m = re.search(rb"^time: (\d+)$", data, re.M)
        self.assertIsNotNone(m)
        old = m.group(1)
        new = str(int(old) - seconds).encode()
        self.assertEqual(len(new), len(old))
        data = data[:m.start(1)] + new + data[m.end(1):]
        os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(data)

    def test_deferred_message_bounces_after_lifetime(self):
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n", "lifetime = 1d\n")
            r.faults["rcpt"] = {"slow@example.com": "451 4.7.1 try again later"}
            # A local user submitting without -f: the report goes to that
            # user's mailbox (SPEC, Routing).
            self.submit(["slow@example.com"])
            self.run_send()
            (env_path,) = glob.glob(os.path.join(self.spool, "queue", "*.env"))
            (env,) = self.queued().values()
            self.assertEqual(env["attempts"], "1")
            self.assertEqual(env["rcpts"][0]["state"], "pending")

            self.age_file(env_path, 2 * 86400)
            _, log = self.run_send("--flush")
            self.assertIn("status=bounced", log)
            self.assertEqual(self.queued(), {})
            self.assertEqual(r.messages, [])
        user = __import__("pwd").getpwuid(os.getuid()).pw_name
        box = list(mailbox.mbox(os.path.join(self.dir, "mail", user)))
        self.assertEqual(len(box), 1)
        report = box[0]
        self.assertEqual(report.get_content_type(), "multipart/report")
        self.assertEqual(report.get_param("report-type"), "delivery-status")
        text = report.as_string()
        self.assertIn("Final-Recipient: rfc822; slow@example.com", text)
        self.assertIn("Action: failed", text)
        self.assertIn("delivery time expired", text)
        self.assertIn("451 4.7.1 try again later", text)

    def test_no_expiry_before_a_first_attempt(self):
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n", "lifetime = 1d\n")
            self.submit(["friend@example.com"])
            (drop,) = [os.path.join(self.spool, "incoming", n) for n in self.incoming()]
            self.age_file(drop, 30 * 86400)  # a clock that was a month off
            _, log = self.run_send()
            self.assertNotIn("bounced", log)
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(r.messages[0].rcpt_tos, ["friend@example.com"])
        self.assertEqual(self.queued(), {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
