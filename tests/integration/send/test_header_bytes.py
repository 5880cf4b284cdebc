# SPDX-License-Identifier: ISC
"""Header bytes never refuse a message (SPEC "Submission"): a cron mail
whose Subject holds a Latin-1 file name, and a Subject with a control
byte, are accepted (exit 0), RFC 2047-encoded into a 7-bit header
section, and reach both the relay (aiosmtpd, STARTTLS + AUTH) and a local
mbox, where Python's email package and the real s-nail show the text."""

import email
import email.policy
import os
import re
import subprocess
import unittest

import relay
from sendtest import POSTERN, SendCase, pki

USER, PW = "alerts@example.org", "s3cret-pw"
S_NAIL = "/usr/bin/s-nail"
ME = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")

# What Debian cron pipes to "sendmail -FCronDaemon -i -B8BITMIME -oem root"
# for a job named with a Latin-1 byte (cron copies the bytes as they are).
CRON_MAIL = (b"From: root (Cron Daemon)\n"
             b"To: root\n"
             b"Subject: Cron <root@pi> /usr/bin/caf\xe9.sh\n"
             b"MIME-Version: 1.0\n"
             b"Content-Type: text/plain; charset=UTF-8\n"
             b"Content-Transfer-Encoding: 8bit\n"
             b"X-Cron-Env: <SHELL=/bin/sh>\n"
             b"X-Cron-Env: <HOME=/root>\n"
             b"\n"
             b"job output\n")


class HeaderBytes(SendCase):
    def setUp(self):
        super().setUp()
        self.relay = relay.Relay(tls="starttls", cert=pki().server, users={USER: PW})
        self.relay.start()
        self.write_conf(self.relay.port,
                        f"user = {USER}\npassword_file = {self.secret_file(PW)}\n"
                        f"ca_file = {pki().ca}\n")

    def tearDown(self):
        self.relay.stop()
        super().tearDown()

    def submit_and_send(self, args, mail):
        """Submits with the caller's own flags (plus -odq), then runs the queue."""
        r = subprocess.run([POSTERN, "-C", self.conf, "-odq"] + args + [ME, "admin@example.com"],
                           input=mail, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.run_send()
        self.assertEqual(self.queued(), {})
        self.assertEqual(len(self.relay.messages), 1)
        sent = self.relay.messages[0]
        self.assertEqual(sent.rcpt_tos, ["admin@example.com"])
        self.assertTrue(sent.tls)
        with open(os.path.join(self.dir, "mail", ME), "rb") as f:
            box = f.read()
        return sent.data, box

    def assert_7bit_header(self, data):
        head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        bad = [b for b in head if b >= 0x80 or (b < 0x20 and b not in (9, 10))]
        self.assertEqual(bad, [], head)
        for line in head.split(b"\n"):
            self.assertLessEqual(len(line), 998)
            self.assertRegex(line, rb"^([\x21-\x39\x3b-\x7e]+:|[ \t])")

    def subject(self, data):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        return str(msg["Subject"])

    def snail(self, box, *commands):
        path = os.path.join(self.dir, "box")
        with open(path, "wb") as f:
            f.write(box)
        env = {"HOME": self.dir, "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
        args = [S_NAIL, "-:/", "-N", "-R", "-Sttycharset=utf-8"]
        for c in commands:
            args += ["-Y", c]
        r = subprocess.run(args + ["-Y", "x", "-f", path], stdin=subprocess.DEVNULL,
                           capture_output=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode("utf-8")

    def test_latin1_cron_subject_is_delivered_readable(self):
        data, box = self.submit_and_send(["-FCronDaemon", "-i", "-B8BITMIME", "-oem"], CRON_MAIL)
        want = "Cron <root@pi> /usr/bin/caf\u00e9.sh"
        for what in (data, box[box.index(b"\n") + 1:]):
            self.assert_7bit_header(what)
            self.assertEqual(self.subject(what), want)
            self.assertIn(b"job output", what)
        self.assertIn(b"=?UTF-8?B?", data)
        out = self.snail(box, 'set headline="%>%a%m %s"', "headers", "print 1")
        self.assertRegex(out, r"N +1 +" + re.escape(want) + "\n")  # the header summary
        self.assertIn("\nSubject: " + want + "\n", out)         # the message as printed

    def test_control_byte_in_subject_is_delivered_harmless(self):
        mail = b"Subject: disk \x1b[31mfull\x07 on /srv\n\nwarning\n"
        data, box = self.submit_and_send(["-i"], mail)
        # ESC and BEL travel as their Unicode control pictures.
        want = "disk \u241b[31mfull\u2407 on /srv"
        for what in (data, box[box.index(b"\n") + 1:]):
            self.assert_7bit_header(what)
            self.assertEqual(self.subject(what), want)
        out = self.snail(box, "print 1")
        self.assertIn("\nSubject: " + want + "\n", out)
        self.assertNotIn("\x1b", out)

    def test_nul_and_8bit_display_name(self):
        mail = (b"From: \"J\xf6rg M\xc3\xbcller\" <jm@example.com>\n"
                b"Subject: a\x00b\n\nx\n")
        data, _ = self.submit_and_send(["-i"], mail)
        self.assert_7bit_header(data)
        msg = email.message_from_bytes(data, policy=email.policy.default)
        self.assertEqual(str(msg["Subject"]), "a\u2400b")
        self.assertEqual(msg["From"].addresses[0].display_name, "J\u00f6rg M\u00fcller")
        self.assertEqual(msg["From"].addresses[0].addr_spec, "jm@example.com")


if __name__ == "__main__":
    unittest.main()
