# SPDX-License-Identifier: ISC
"""Relay faults (notes/reliability.md 7.1): every message ends up sent
exactly once, bounced with a report, or still queued with the reason;
never lost. Each test asserts both the relay's view and the spool."""

import time
import unittest

import relay
from relay import free_port
from sendtest import SendCase

SENDER = "sender@example.net"


class Faults(SendCase):
    """Plain SMTP without AUTH: the faults are what is under test."""

    def conf_for(self, r, extra=""):
        self.write_conf(r.port, "tls = none\nauth = none\n" + extra)

    def test_relay_down_then_up_then_flush(self):
        port = free_port()
        self.write_conf(port, "tls = none\n")
        self.submit(["a@example.com"], sender=SENDER)
        _, log = self.run_send()
        (env,) = self.queued().values()
        self.assertEqual(env["rcpts"][0]["state"], "pending")
        self.assertEqual(env["attempts"], "1")
        self.assertIn("connect", env["error"].lower())
        self.assertGreater(int(env["next"]), time.time() + 30)
        with relay.Relay(port=port) as r:
            self.run_send()                      # not due yet: nothing happens
            self.assertEqual(r.connections, 0)
            self.run_send("--flush")
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(r.messages[0].mail_from, SENDER)
            self.run_send("--flush")
            self.assertEqual(len(r.messages), 1)
        self.assertEqual(self.queued(), {})

    def test_451_at_rcpt_is_retried(self):
        with relay.Relay() as r:
            self.conf_for(r)
            r.faults["rcpt"] = {"b@example.com": "451 4.7.1 greylisted, try later"}
            self.submit(["a@example.com", "b@example.com"], sender=SENDER)
            self.run_send()
            self.assertEqual([m.rcpt_tos for m in r.messages], [["a@example.com"]])
            (env,) = self.queued().values()
            states = {x["address"]: x["state"] for x in env["rcpts"]}
            self.assertEqual(states, {"a@example.com": "sent", "b@example.com": "pending"})
            self.assertIn("451 4.7.1 greylisted", env["rcpts"][1]["reply"])
            r.faults.clear()
            self.run_send("--flush")
            self.assertEqual([m.rcpt_tos for m in r.messages],
                             [["a@example.com"], ["b@example.com"]])
            self.assertEqual(self.queued(), {})

    def test_550_for_one_of_two_bounces_that_one(self):
        with relay.Relay() as r:
            self.conf_for(r)
            r.faults["rcpt"] = {"b@example.com": "550 5.1.1 <b@example.com>: no such user"}
            self.submit(["a@example.com", "b@example.com"], sender=SENDER)
            _, log = self.run_send()
            self.assertIn("status=bounced (550 5.1.1", log)
            # The good recipient got it, and the report went to the sender
            # with the null envelope sender, in the same run.
            self.assertEqual(len(r.messages), 2)
            self.assertEqual(r.messages[0].rcpt_tos, ["a@example.com"])
            report = r.messages[1]
            self.assertEqual(report.mail_from, "")
            self.assertEqual(report.rcpt_tos, [SENDER])
            text = report.data.decode()
            self.assertIn("multipart/report; report-type=delivery-status", text)
            self.assertIn("Final-Recipient: rfc822; b@example.com", text)
            self.assertIn("Status: 5.1.1", text)
            self.assertIn("Diagnostic-Code: smtp; 550 5.1.1", text)
            self.assertNotIn("Final-Recipient: rfc822; a@example.com", text)
            self.assertEqual(self.queued(), {})
            self.assertEqual(self.incoming(), [])

    def test_552_and_554_after_data_bounce(self):
        for reply, status in (("552 5.3.4 message too big", "5.3.4"),
                              ("554 5.6.0 content rejected", "5.6.0")):
            with self.subTest(reply=reply), relay.Relay() as r:
                self.conf_for(r)
                r.faults["data"] = lambda m, reply=reply: reply if m.mail_from else None
                self.submit(["a@example.com"], sender=SENDER)
                self.run_send()
                self.assertEqual(len(r.messages), 1)  # only the report
                self.assertEqual(r.messages[0].mail_from, "")
                self.assertIn(f"Status: {status}", r.messages[0].data.decode())
                self.assertEqual(self.queued(), {})

    def test_policy_reply_after_data_defers(self):
        with relay.Relay() as r:
            self.conf_for(r)
            r.faults["data"] = "554 5.7.1 sender not authorised"
            self.submit(["a@example.com"], sender=SENDER)
            _, log = self.run_send()
            self.assertEqual(r.messages, [])
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "pending")
            self.assertIn("configuration problem", log)

    def test_disconnect_in_the_middle_of_data(self):
        body = b"Subject: big\n\n" + b"x" * 70 + b"\n"
        body = body * 30000                                   # ~2 MB
        with relay.Relay() as r:
            self.conf_for(r)
            r.faults["drop_mid_data"] = 100000
            self.submit(["a@example.com"], body=body, sender=SENDER)
            spooled = self.incoming_message()
            self.run_send()
            self.assertEqual(r.messages, [])
            (env,) = self.queued().values()
            # Loopback socket buffers can hold the whole message and the
            # final dot before the relay hangs up: then the client cannot
            # tell this from a drop after the dot, and says "maybe".
            self.assertIn(env["rcpts"][0]["state"], ("pending", "maybe"))
            r.faults.clear()
            self.run_send("--flush")
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(r.messages[0].data, spooled)
            self.assertEqual(self.queued(), {})

    def test_disconnect_after_final_dot_is_maybe(self):
        with relay.Relay() as r:
            self.conf_for(r)
            r.faults["drop_after_dot"] = True
            self.submit(["a@example.com"], sender=SENDER)
            self.run_send()
            self.assertEqual(len(r.lost), 1)
            self.assertEqual(r.messages, [])
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "maybe")
            r.faults.clear()
            _, log = self.run_send("--flush")
            self.assertIn("possible duplicate", log)
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(self.queued(), {})

    def test_reply_slower_than_timeout_is_retried(self):
        with relay.Relay() as r:
            self.conf_for(r)  # timeout = 3s
            r.faults["delay_mail"] = 6
            self.submit(["a@example.com"], sender=SENDER)
            t0 = time.monotonic()
            self.run_send()
            self.assertLess(time.monotonic() - t0, 5.5)
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "pending")
            self.assertIn("timed out", env["rcpts"][0]["reply"])
            r.faults.clear()
            self.run_send("--flush")
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(self.queued(), {})

    def test_final_reply_waits_for_data_timeout(self):
        with relay.Relay() as r:
            # The reply after the dot may take longer than `timeout`...
            self.conf_for(r, "data_timeout = 6s\n")
            r.faults["delay_final"] = 4
            self.submit(["a@example.com"], sender=SENDER)
            self.run_send()
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(self.queued(), {})
            # ...but not longer than data_timeout: then it is "maybe".
            r.faults["delay_final"] = 5
            self.conf_for(r, "data_timeout = 2s\n")
            self.submit(["b@example.com"], sender=SENDER)
            self.run_send()
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "maybe")

    def test_dot_lines_round_trip(self):
        body = (b"Subject: dots\n\n.\n..\n.x\n...\nend\n. \n.\n")
        with relay.Relay() as r:
            self.conf_for(r)
            self.submit(["a@example.com"], body=body, sender=SENDER)
            spooled = self.incoming_message()
            self.run_send()
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(r.messages[0].data, spooled)
            self.assertIn(b"\r\n.\r\n..\r\n.x\r\n...\r\n", r.messages[0].data)

    def incoming_message(self):
        import os
        (name,) = self.incoming()
        with open(os.path.join(self.spool, "incoming", name), "rb") as f:
            data = f.read()
        return data[data.index(b"\n\n") + 2:]


if __name__ == "__main__":
    unittest.main()
