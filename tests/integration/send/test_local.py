# SPDX-License-Identifier: ISC
"""Local recipients go through postern-deliver; a local sender's bounce
goes to its own mailbox (SPEC "Routing")."""

import os
import unittest

import relay
from sendtest import SendCase


class Local(SendCase):
    def test_local_recipient_is_delivered_by_postern_deliver(self):
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\n")
            self.submit([user], body=b"Subject: local\n\nfor the mailbox\n")
            _, log = self.run_send()
            self.assertIn("relay=local", log)
            self.assertIn(b"for the mailbox\n", self.mailbox(user))
            self.assertEqual(r.messages, [])
            self.assertEqual(self.queued(), {})

    def test_local_sender_bounce_goes_to_its_mailbox(self):
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\n")
            r.faults["rcpt"] = {"bad@example.com": "550 5.1.1 no such user"}
            self.submit(["bad@example.com"])      # no -f: a local sender
            self.run_send()
            self.assertEqual(r.messages, [])       # the report did not use the relay
            box = self.mailbox(user)
            self.assertIn(b"Undelivered Mail Returned to Sender", box)
            self.assertIn(b"Final-Recipient: rfc822; bad@example.com", box)
            self.assertEqual(self.queued(), {})


if __name__ == "__main__":
    unittest.main()
