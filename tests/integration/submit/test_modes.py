# SPDX-License-Identifier: ISC
"""mailq / -bp, -bs over pipes, -bv, -bi / newaliases, --version, -q."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from submit_helper import POSTERN, SubmitTest  # noqa: E402


class Modes(SubmitTest):
    def test_mailq_empty(self):
        r = self.run_postern([], argv0="mailq")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"Mail queue is empty\n")

    def test_mailq_lists_waiting_messages(self):
        for rcpt in ("root", "a@x.org"):
            r = self.run_postern(["-odq", "-f", "me@x.org", rcpt], b"Subject: q\n\nx\n")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_postern(["-bp"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        lines = out.splitlines()
        ids = self.incoming()
        self.assertEqual(len(ids), 2)
        sizes = [os.path.getsize(os.path.join(self.spool, "incoming", i)) for i in ids]
        for i in ids:
            self.assertRegex(out, r"(?m)^%s  \d+ bytes  \d+s  from <me@x.org>  "
                                  r"\(waiting for pickup\)$" % i)
        self.assertIn("    waiting  root", lines)
        self.assertIn("    waiting  a@x.org", lines)
        self.assertTrue(lines[-1].startswith("-- 2 messages, "), lines[-1])
        self.assertLess(int(lines[-1].split()[3]), sum(sizes))

    def test_bs_dialogue_through_pipes(self):
        p = subprocess.Popen([POSTERN, "-C", self.conf, "-odq", "-bs"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)

        def expect(code):
            line = p.stdout.readline()
            while line[3:4] == b"-":
                line = p.stdout.readline()
            self.assertEqual(line[:3], code, line)
            return line

        def send(cmd, code):
            p.stdin.write(cmd + b"\r\n")
            p.stdin.flush()
            return expect(code)

        expect(b"220")
        send(b"EHLO client", b"250")
        send(b"MAIL FROM:<sender@x.org> SIZE=100", b"250")
        send(b"RCPT TO:<root>", b"250")
        send(b"RCPT TO:<bad\x01@x.org>", b"501")
        send(b"DATA", b"354")
        p.stdin.write(b"Subject: via -bs\r\n\r\n..leading dot\r\n")
        line = send(b".", b"250")
        self.assertIn(b"queued as", line)
        send(b"VRFY root", b"252")
        send(b"QUIT", b"221")
        p.stdin.close()
        self.assertEqual(p.wait(timeout=60), 0)
        p.stdout.close()
        p.stderr.close()
        env, rcpts, msg = self.only_message()
        self.assertEqual(env["sender"], "sender@x.org")
        self.assertEqual(rcpts, ["root"])
        self.assertTrue(msg.endswith(b"\r\n\r\n.leading dot\r\n"))
        self.assertIn(self.incoming()[0].encode(), line)

    def test_bv_routing(self):
        with open(os.path.join(self.tmp, "postern.conf"), "a") as f:
            f.write("[relay]\nhost = smtp.example.com\n")
        r = self.run_postern(["-bv", "root", "x@example.com"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("root: local (mailbox %s/mail/root)" % self.tmp, out)
        self.assertIn("x@example.com: relay (smtp.example.com:587)", out)
        r = self.run_postern(["-bv", "x@example.com"], conf=self.write_config("", "norelay.conf"))
        self.assertIn(b"x@example.com: relay (no relay configured)", r.stdout)
        self.assertFails(self.run_postern(["-bv", "a\rb"]), 65, "control character")

    def test_newaliases(self):
        with open(os.path.join(self.tmp, "aliases"), "w") as f:
            f.write("postmaster: root\nroot: admin@example.com\n")
        r = self.run_postern([], argv0="newaliases")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), "%s/aliases: 2 aliases\n" % self.tmp)
        r = self.run_postern(["-bi"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_version(self):
        r = subprocess.run([POSTERN, "--version"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"postern "))

    def test_postern_links_neither_curl_nor_openssl(self):
        r = subprocess.run(["readelf", "-d", POSTERN], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"NEEDED", r.stdout)
        for lib in (b"libcurl", b"libssl", b"libcrypto"):
            self.assertNotIn(lib, r.stdout)

    def test_non_root_refusals(self):
        """-C/-v/-q are refused (77) only when set-id; a plain build allows them."""
        r = self.run_postern(["-q"], argv0="sendmail")
        self.assertNotEqual(r.returncode, 77, r.stderr)


if __name__ == "__main__":
    unittest.main()
