# SPDX-License-Identifier: ISC
"""What real callers pass (SPEC "Submission": known callers) ends up in the
spool as a canonical drop file with the header fix-ups applied."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from submit_helper import SubmitTest  # noqa: E402

CRON_MAIL = (b"From: root (Cron Daemon)\n"
             b"To: root\n"
             b"Subject: Cron <root@box> ls -a /\n"
             b"MIME-Version: 1.0\n"
             b"Content-Type: text/plain; charset=UTF-8\n"
             b"Content-Transfer-Encoding: 8bit\n"
             b"X-Cron-Env: <SHELL=/bin/sh>\n"
             b"X-Cron-Env: <HOME=/root>\n"
             b"\n"
             b".\n..\nbin\ncaf\xc3\xa9\n")


class Callers(SubmitTest):
    def test_debian_cron(self):
        r = self.run_postern(["-odq", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"],
                             CRON_MAIL)
        self.assertEqual(r.returncode, 0, r.stderr)
        env, rcpts, msg = self.only_message()
        self.assertEqual(rcpts, ["root"])
        self.assertEqual(env["body"], "8bitmime")
        self.assertEqual(env["local-sender"], env["user"])
        self.assertTrue(env["sender"].endswith("@example.org"))
        self.assertEqual(self.header_values(msg, "From"), [b"root@example.org (Cron Daemon)"])
        self.assertEqual(self.header_values(msg, "To"), [b"root@example.org"])
        (date,) = self.header_values(msg, "Date")
        self.assertRegex(date.decode(), r"^\w{3}, \d{2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
        (mid,) = self.header_values(msg, "Message-ID")
        name = self.incoming()[0]
        self.assertEqual(mid, b"<" + name.encode() + b"@example.org>")
        self.assertTrue(msg.startswith(b"Received: from uid %d " % os.getuid()))
        # Declared 8bit: sent as it is; X-Cron-Env kept byte for byte; the
        # lone "." line (ls -a) is data.
        self.assertEqual(self.header_values(msg, "Content-Transfer-Encoding"), [b"8bit"])
        self.assertEqual(self.header_values(msg, "X-Cron-Env"),
                         [b"<SHELL=/bin/sh>", b"<HOME=/root>"])
        _, body = self.split_message(msg)
        self.assertEqual(body, b".\r\n..\r\nbin\r\ncaf\xc3\xa9\r\n")

    def test_t_with_to_cc_bcc(self):
        mail = (b"To: Alice <alice@x.org>, root\nCc: \"Bob, B\" <bob@y.org>,\n  carol@z.org\n"
                b"Bcc: secret@hidden.org\nSubject: report\n\nbody\n")
        r = self.run_postern(["-odq", "-t", "-i"], mail)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, rcpts, msg = self.only_message()
        self.assertEqual(rcpts, ["alice@x.org", "root", "bob@y.org", "carol@z.org",
                                 "secret@hidden.org"])
        self.assertNotIn(b"Bcc", msg)
        self.assertNotIn(b"secret@hidden.org", msg)
        self.assertEqual(self.header_values(msg, "Cc"),
                         [b"\"Bob, B\" <bob@y.org>,\r\n  carol@z.org"])

    def test_busybox_ti_combined_and_argv_added(self):
        r = self.run_postern(["-odq", "-ti", "extra@w.org"], b"To: a@x.org\n\nhi\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, rcpts, _ = self.only_message()
        self.assertEqual(rcpts, ["extra@w.org", "a@x.org"])

    def test_mailx_i_dashdash_root(self):
        r = self.run_postern(["-odq", "-i", "--", "root"], b"Subject: s\nTo: root\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, rcpts, _ = self.only_message()
        self.assertEqual(rcpts, ["root"])

    def test_git_send_email(self):
        r = self.run_postern(["-odq", "-i", "-f", "dev@x.org", "a@y.org", "b@z.org"],
                             b"From: Dev <dev@x.org>\nSubject: [PATCH] x\n\ndiff\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        env, rcpts, msg = self.only_message()
        self.assertEqual(env["sender"], "dev@x.org")
        self.assertNotIn("local-sender", env)
        self.assertEqual(rcpts, ["a@y.org", "b@z.org"])
        self.assertEqual(self.header_values(msg, "From"), [b"Dev <dev@x.org>"])

    def test_null_sender(self):
        r = self.run_postern(["-odq", "-f", "<>", "root"], b"Subject: bounce\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        env, _, _ = self.only_message()
        self.assertEqual(env["sender"], "")

    def test_lone_dot_without_i_from_a_pipe_is_data(self):
        r = self.run_postern(["-odq", "root"], b"Subject: dots\n\na\n.\nb\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        self.assertTrue(msg.endswith(b"\r\n\r\na\r\n.\r\nb\r\n"))

    def test_no_header_section(self):
        r = self.run_postern(["-odq", "root"], b"just a body line\nsecond: line\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        fields, body = self.split_message(msg)
        self.assertEqual(body, b"just a body line\r\nsecond: line\r\n")
        names = [n for n, _ in fields]
        for n in ("Received", "From", "Date", "Message-ID"):
            self.assertIn(n, names)

    def test_empty_stdin(self):
        r = self.run_postern(["-odq", "root"], b"")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        fields, body = self.split_message(msg)
        self.assertEqual(body, b"")
        self.assertTrue(msg.endswith(b"\r\n\r\n"))

    def test_8bit_without_mime_becomes_quoted_printable(self):
        r = self.run_postern(["-odq", "root"], b"Subject: x\n\ncaf\xc3\xa9 = ok \n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        self.assertEqual(self.header_values(msg, "MIME-Version"), [b"1.0"])
        self.assertEqual(self.header_values(msg, "Content-Type"), [b"text/plain; charset=utf-8"])
        self.assertEqual(self.header_values(msg, "Content-Transfer-Encoding"),
                         [b"quoted-printable"])
        _, body = self.split_message(msg)
        self.assertEqual(body, b"caf=C3=A9 =3D ok=20\r\n")
        # The second pass wrote a new drop file: its id is the Message-ID's.
        (mid,) = self.header_values(msg, "Message-ID")
        self.assertEqual(mid, b"<" + self.incoming()[0].encode() + b"@example.org>")

    def test_binary_stdin(self):
        data = bytes(range(256)) * 40 + b"\r\r\n\n\x00"
        r = self.run_postern(["-odq", "root"], data)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        _, body = self.split_message(msg)
        self.assertEqual(self.header_values(msg, "Content-Transfer-Encoding"),
                         [b"quoted-printable"])
        self.assertTrue(all(b < 128 for b in body))
        self.assertTrue(all(len(line) <= 76 for line in body.split(b"\r\n")))

    def test_long_lines_in_multipart_are_broken(self):
        mail = (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n" +
                b"x" * 3000 + b"\n--b--\n")
        r = self.run_postern(["-odq", "root"], mail)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        self.assertTrue(all(len(line) <= 998 for line in msg.split(b"\r\n")))
        self.assertIn(b"x" * 998 + b"\r\n " + b"x" * 997, msg)

    def test_rewrite_from_local(self):
        self.conf = self.write_config("from = alerts@example.com\nrewrite_from = local\n",
                                      "rewrite.conf")
        r = self.run_postern(["-odq", "-i", "root"], CRON_MAIL)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        self.assertEqual(self.header_values(msg, "From"), [b"Cron Daemon <alerts@example.com>"])

    def test_invoked_as_sendmail(self):
        r = self.run_postern(["-odq", "root"], b"Subject: s\n\nx\n", argv0="sendmail")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.only_message()


if __name__ == "__main__":
    unittest.main()
