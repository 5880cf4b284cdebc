# SPDX-License-Identifier: ISC
"""postern-deliver into mbox files: format, readers, concurrency, rollback
(SPEC "Local delivery"; notes/reliability.md tests 49, 50)."""

import mailbox
import os
import pwd
import stat
import resource
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deliverlib import ME, DeliverTest, read_mbox, sha256  # noqa: E402


class MboxFormat(DeliverTest):
    def test_from_line_trace_headers_and_readers(self):
        r = self.deliver(ME, data=b"Subject: one\r\n\r\nfirst\r\n")
        self.assertExit(r, 0)
        r = self.deliver(ME, data=b"Subject: two\r\n\r\nsecond", sender="")
        self.assertExit(r, 0)
        with open(self.mbox(), "rb") as f:
            raw = f.read()
        self.assertNotIn(b"\r", raw)
        msgs = raw.split(b"\n\nFrom ")
        self.assertEqual(len(msgs), 2)
        self.assertRegex(raw.decode(), r"^From sender@example\.com "
                         r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n"
                         r"Return-Path: <sender@example\.com>\nDelivered-To: " + ME)
        self.assertIn(b"\nFrom MAILER-DAEMON ", raw)
        self.assertIn(b"Return-Path: <>\n", raw)
        # Ends with exactly one newline and one blank line.
        self.assertTrue(raw.endswith(b"second\n\n"))
        self.assertFalse(raw.endswith(b"\n\n\n"))
        self.assertEqual(self.mailx_count(self.mbox()), 2)
        self.assertEqual(self.snail_count(self.mbox()), 2)
        self.assertEqual(len(read_mbox(self.mbox())), 2)

    def test_envelope_from_line_of_another_mta(self):
        # Postfix local(8) and exim's pipe transport put "From sender date"
        # before the message, as mail.local expects: it is the envelope
        # (the sender when -f is absent), not text, and a Return-Path the
        # MTA wrote is not doubled (interop finding).
        data = (b"From alerts@example.test  Wed Dec  2 10:00:00 2026\n"
                b"Return-Path: <alerts@example.test>\nDelivered-To: bob@example.test\n"
                b"Subject: via mta\n\nbody\n")
        self.assertExit(self.deliver(ME, data=data, sender=None), 0)
        with open(self.mbox(), "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"From alerts@example.test "), raw)
        self.assertEqual(raw.count(b"From alerts@example.test "), 1, raw)
        self.assertNotIn(b">From", raw)
        (m,) = read_mbox(self.mbox())
        self.assertEqual(m.get_all("Return-Path"), ["<alerts@example.test>"])
        self.assertEqual(m["Subject"], "via mta")
        self.assertEqual(self.snail_count(self.mbox()), 1)

    def test_from_lines_in_body_round_trip(self):
        body = ("From the start\r\n\r\nFrom here\r\n>From there\r\n>>From afar\r\n"
                "From: not quoted? yes it is not\r\nfrom lower\r\n")
        data = ("Subject: quoting\r\n\r\n" + body).encode()
        for _ in range(2):
            self.assertExit(self.deliver(ME, data=data), 0)
        # No phantom messages for any reader.
        self.assertEqual(self.mailx_count(self.mbox()), 2)
        self.assertEqual(self.snail_count(self.mbox()), 2)
        self.assertEqual(len(read_mbox(self.mbox())), 2)
        from deliverlib import unquote_mboxrd
        for n in (1, 2):
            got = self.snail_body(self.mbox(), n)
            self.assertIn(">From here\n>>From there\n>>>From afar\n", got)
            self.assertEqual(unquote_mboxrd(got).rstrip("\n"),
                             body.replace("\r\n", "\n").rstrip("\n"))

    def test_unknown_and_invalid_users(self):
        for user, code, text in [("no-such-user-postern", 67, b"no such user"),
                                 ("../etc", 67, b"invalid user name"),
                                 ("a/b", 67, b"invalid user name"),
                                 ("..", 67, b"invalid user name"),
                                 ("x" * 33, 67, b"longer than 32")]:
            with self.subTest(user=user):
                r = self.deliver(user)
                self.assertExit(r, code)
                self.assertIn(text, r.stderr)
        self.assertEqual(os.listdir(self.maildir), [])
        self.assertEqual(sorted(os.listdir(self.tmp)), ["mail", "postern.conf"])

    def test_usage(self):
        r = subprocess.run(self.args(), input=b"", capture_output=True)
        self.assertExit(r, 64)


class MboxConcurrency(DeliverTest):
    def test_200_deliveries_from_10_processes(self):
        # Each worker delivers 20 messages in a row through its own shell.
        script = os.path.join(self.tmp, "worker.sh")
        with open(script, "w") as f:
            f.write('i=0\nwhile [ $i -lt 20 ]; do\n'
                    '  printf "Subject: w%s-%s\\r\\n\\r\\nFrom body %s\\r\\n" "$1" $i $i |'
                    ' "$2" -C "$3" -f s@example.com -- "$4" || exit $?\n'
                    '  i=$((i+1))\ndone\n')
        procs = [subprocess.Popen(["/bin/sh", script, str(w), self.args()[0], self.conf, ME],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for w in range(10)]
        self.procs += procs
        for p in procs:
            out, err = p.communicate(timeout=170)
            self.assertEqual(p.returncode, 0, err)
        box = read_mbox(self.mbox())
        subjects = sorted(m["Subject"] for m in box)
        self.assertEqual(len(subjects), 200)
        self.assertEqual(subjects, sorted("w%d-%d" % (w, i) for w in range(10)
                                          for i in range(20)))
        for m in box:
            self.assertEqual(m.get_payload().strip(), ">From body " + m["Subject"].split("-")[1])
        self.assertEqual(self.mailx_count(self.mbox()), 200)
        self.assertEqual(self.snail_count(self.mbox()), 200)
        self.assertFalse(os.path.exists(self.mbox() + ".lock"))


class MboxRollback(DeliverTest):
    def test_write_failure_leaves_mailbox_identical(self):
        self.assertExit(self.deliver(ME), 0)
        before = sha256(self.mbox())
        size = os.path.getsize(self.mbox())

        def small_fsize():
            resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, size + 100))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        big = message_with_body("x" * 200000)
        r = self.deliver(ME, data=big, preexec=small_fsize)
        self.assertExit(r, 75)
        self.assertIn(b"File too large", r.stderr)
        self.assertEqual(sha256(self.mbox()), before)
        self.assertFalse(os.path.exists(self.mbox() + ".lock"))
        # And the mailbox still takes mail afterwards.
        self.assertExit(self.deliver(ME), 0)
        self.assertEqual(len(read_mbox(self.mbox())), 2)


class MboxMissingDirectory(DeliverTest):
    """mailbox = %h/mail/inbox before ~/mail exists (issue 10): the
    recipient makes the directory (0700), root never does."""

    def test_home_mail_directory_is_made_by_the_user(self):
        user = "nobody"
        pw = pwd.getpwnam(user)
        os.chmod(self.tmp, 0o755)
        home = os.path.join(self.tmp, "home")
        os.mkdir(home, 0o755)
        if os.getuid() == 0:
            os.chown(home, pw.pw_uid, pw.pw_gid)
        self.give_home(user, home)
        self.write_config(mailbox="%h/mail/inbox")
        self.assertExit(self.deliver(user), 0)
        self.assertExit(self.deliver(user), 0)
        d = os.path.join(home, "mail")
        st = os.lstat(d)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (pw.pw_uid, 0o700))
        box = os.path.join(d, "inbox")
        self.assertEqual(os.stat(box).st_uid, pw.pw_uid)
        self.assertEqual(self.mailx_count(box), 2)
        self.assertEqual(self.snail_count(box), 2)

    def test_missing_parents_without_home(self):
        box_dir = os.path.join(self.tmp, "deep", "mail")
        self.write_config(mailbox=os.path.join(box_dir, "%u"))
        self.assertExit(self.deliver(ME), 0)
        self.assertEqual(stat.S_IMODE(os.lstat(box_dir).st_mode), 0o700)
        self.assertEqual(self.mailx_count(os.path.join(box_dir, ME)), 1)


def message_with_body(body):
    return ("Subject: big\r\n\r\n" + body + "\r\n").encode()


if __name__ == "__main__":
    unittest.main(verbosity=2)
