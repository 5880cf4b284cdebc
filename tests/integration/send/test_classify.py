# SPDX-License-Identifier: ISC
"""The reply classification table of postern(8) ("Replies"), row by row,
against the real relay fixture: two queued messages, the relay answers
the first one with the row's reply. A bounce sends a report to the local
sender's mailbox and the second message is delivered in the same run; a
temporary reply defers only the first; a configuration problem (account,
relaying) keeps the first queued and the run stops using the relay, so
the second waits too. Nothing is lost in any row."""

import os
import unittest

import relay
from sendtest import SendCase

BOUNCE, DEFER, CONFIG = "bounce", "defer", "config"

# (label, stage, reply, expected)
ROWS = [
    ("MAIL 5.7.1 sender not owned (Postfix)", "mail",
     "553 5.7.1 <root@example.org>: Sender address rejected: not owned by user u", CONFIG),
    ("MAIL 530 authentication required", "mail", "530 5.7.0 Authentication required", CONFIG),
    ("MAIL 550 5.1.8 bad sender domain", "mail", "550 5.1.8 Sender address rejected", BOUNCE),
    ("MAIL 552 size", "mail", "552 5.3.4 Message size exceeds fixed limit", BOUNCE),
    ("MAIL 451 temporary", "mail", "451 4.3.0 try later", DEFER),
    ("RCPT 550 5.1.1 unknown user", "rcpt", "550 5.1.1 <first@example.com>: no such user", BOUNCE),
    ("RCPT 5.7.1 recipient access denied", "rcpt",
     "550 5.7.1 <first@example.com>: Recipient address rejected: Access denied", BOUNCE),
    ("RCPT relay access denied", "rcpt", "554 5.7.1 <first@example.com>: Relay access denied",
     CONFIG),
    ("RCPT 450 greylisted", "rcpt", "450 4.7.1 greylisted", DEFER),
    ("DATA 554 5.7.1 spam", "data", "554 5.7.1 Message rejected as spam by content filter",
     BOUNCE),
    ("DATA 552 size", "data", "552 5.3.4 Message size exceeds fixed limit", BOUNCE),
    ("DATA 554 5.6.0 content", "data", "554 5.6.0 content rejected", BOUNCE),
    ("DATA 550 5.7.60 send as (Microsoft 365)", "data",
     "550 5.7.60 SMTP; Client does not have permissions to send as this sender", CONFIG),
    ("DATA 554 SendAsDenied (Microsoft 365)", "data",
     "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
     CONFIG),
    ("DATA 530 authentication required", "data", "530 5.7.0 Authentication required", CONFIG),
    ("DATA 451 temporary", "data", "451 4.3.0 try later", DEFER),
]


class Classify(SendCase):
    def run_row(self, stage, reply, want):
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n")
            if stage == "mail":
                calls = []

                def on_mail(address):
                    calls.append(address)
                    return reply if len(calls) == 1 else None
                r.faults["mail"] = on_mail
            elif stage == "rcpt":
                r.faults["rcpt"] = {"first@example.com": reply}
            else:
                r.faults["data"] = lambda m: reply if "first@example.com" in m.rcpt_tos else None
            # No -f: local senders, whose reports go to their mailbox.
            self.submit(["first@example.com"], body=b"Subject: first\n\none\n")
            self.submit(["second@example.com"], body=b"Subject: second\n\ntwo\n")
            _, log = self.run_send()
            got = [m.rcpt_tos for m in r.messages]
            queued = self.queued()
            firsts = [e for e in queued.values()
                      if e["rcpts"][0]["address"] == "first@example.com"]
            box = self.mailbox(user)
            if want == BOUNCE:
                self.assertEqual(got, [["second@example.com"]], log)
                self.assertEqual(queued, {}, log)
                self.assertIn(b"Undelivered Mail Returned to Sender", box)
                self.assertIn(b"Final-Recipient: rfc822; first@example.com", box)
                self.assertIn(reply.encode(), box)
                self.assertNotIn("configuration problem", log)
            elif want == DEFER:
                self.assertEqual(got, [["second@example.com"]], log)
                self.assertEqual(len(firsts), 1, log)
                self.assertEqual(firsts[0]["rcpts"][0]["state"], "pending")
                self.assertIn(reply, firsts[0]["rcpts"][0]["reply"])
                self.assertEqual(box, b"")
            else:
                self.assertEqual(got, [], log)
                self.assertEqual(len(queued), 2, log)
                self.assertEqual(firsts[0]["rcpts"][0]["state"], "pending")
                self.assertIn("configuration problem", log)
                self.assertEqual(box, b"")
            self.assertEqual(self.failed(), [])

    def test_table(self):
        for label, stage, reply, want in ROWS:
            with self.subTest(label):
                self.tearDown()
                self.setUp()
                self.run_row(stage, reply, want)

    def test_refused_after_data_bounces_and_the_next_is_sent(self):
        """Issue 10 part 2, as the issue states it."""
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n")
            spam = "554 5.7.1 Message rejected as spam by content filter"
            r.faults["data"] = lambda m: spam if b"Subject: first" in m.data else None
            self.submit(["a@example.com"], body=b"Subject: first\n\none\n")
            self.submit(["a@example.com"], body=b"Subject: second\n\ntwo\n")
            _, log = self.run_send()
            self.assertEqual(len(r.messages), 1, log)
            self.assertIn(b"Subject: second", r.messages[0].data)
            self.assertEqual(self.queued(), {})
            self.assertEqual(self.incoming(), [])
            box = self.mailbox(user)
            self.assertIn(b"Diagnostic-Code: smtp; " + spam.encode(), box)
            self.assertIn(b"Subject: first", box)   # the returned message


if __name__ == "__main__":
    unittest.main()
