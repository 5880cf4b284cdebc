# SPDX-License-Identifier: ISC
"""Bad input: each case asserts the exit code, the stderr text and that
nothing was committed to the spool (notes/reliability.md section 6)."""
import os
import resource
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from submit_helper import SubmitTest  # noqa: E402


class BadInput(SubmitTest):
    def test_unknown_flag_is_64(self):
        self.assertFails(self.run_postern(["-odq", "-z", "root"], b"x\n"), 64,
                         "unknown option -z")

    def test_no_recipients_is_64(self):
        self.assertFails(self.run_postern(["-odq"], b"Subject: x\n\nx\n"), 64,
                         "no recipients")
        self.assertFails(self.run_postern(["-odq", "-t"], b"Subject: x\n\nx\n"), 64,
                         "no recipients")
        self.assertFails(self.run_postern(["-odq", "-t"], b"To: undisclosed-recipients:;\n\nx\n"),
                         64, "no recipients")

    def test_sender_with_crlf_is_65(self):
        self.assertFails(self.run_postern(["-odq", "-f", "a@x.org\r\nRCPT TO:<b@y.org>", "root"],
                                          b"x\n"), 65, "control character")

    def test_fullname_header_injection_is_65(self):
        self.assertFails(self.run_postern(["-odq", "-F", "Name\nBcc: victim@x.org", "root"],
                                          b"x\n"), 65, "full name (-F)")

    def test_recipient_with_newline_is_65(self):
        self.assertFails(self.run_postern(["-odq", "root\nRCPT TO:<evil@x.org>"], b"x\n"), 65,
                         "recipient")

    def test_recipient_with_nul_in_header_is_65(self):
        # Under -t the To address is an envelope recipient: refused like
        # one on the command line (a header byte alone refuses nothing).
        self.assertFails(self.run_postern(["-odq", "-t"], b"To: a\x00b@x.org\n\nx\n"), 65,
                         "control character")

    def test_recipient_starting_with_dash_is_67(self):
        self.assertFails(self.run_postern(["-odq", "--", "-oQ/tmp/x"], b"x\n"), 67,
                         "starts with '-'")

    def test_invalid_utf8_header_is_accepted_and_encoded(self):
        # Header bytes never refuse a message (it was 65): the Latin-1
        # byte is RFC 2047-encoded, the spooled header section is 7-bit.
        r = self.run_postern(["-odq", "root"], b"Subject: caf\xe9\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, msg = self.only_message()
        self.assertEqual(self.header_values(msg, "Subject"), [b"=?UTF-8?B?Y2Fmw6k=?="])
        head = msg.split(b"\r\n\r\n", 1)[0]
        self.assertTrue(all(b < 0x80 for b in head), head)

    def test_two_from_fields_is_65(self):
        self.assertFails(self.run_postern(["-odq", "root"], b"From: a@x.org\nFrom: b@x.org\n\nx\n"),
                         65, "From:")

    def test_nul_in_multipart_body_is_65(self):
        mail = b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\x00\n--b--\n"
        self.assertFails(self.run_postern(["-odq", "root"], mail), 65, "NUL byte in the body")
        self.assertEqual(self.incoming(), [])

    def test_unknown_config_key_is_78_with_file_line(self):
        conf = self.write_config("frobnicate = yes\n", "bad.conf")
        self.assertFails(self.run_postern(["-odq", "root"], b"x\n", conf=conf), 78,
                         conf + ":8")

    def test_unreadable_config_is_78(self):
        if os.getuid() == 0:
            # chmod 000 does not stop root: a directory cannot be read as a file.
            path = os.path.join(self.tmp, "conf.d")
            os.mkdir(path)
            text = path
        else:
            path = self.write_config("", "secret.conf")
            os.chmod(path, 0)
            text = "Permission denied"
        self.assertFails(self.run_postern(["-odq", "root"], b"x\n", conf=path), 78, text)

    def test_missing_spool_is_75(self):
        blocker = os.path.join(self.tmp, "blocker")
        open(blocker, "w").close()
        conf = os.path.join(self.tmp, "nospool.conf")
        with open(conf, "w") as f:
            f.write("[queue]\ndir = %s/spool\n" % blocker)
        r = self.run_postern(["-odq", "root"], b"x\n", conf=conf)
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn(blocker + "/spool/incoming", r.stderr.decode())

    def test_full_spool_is_75_and_leaves_nothing(self):
        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        body = b"Subject: big\n\n" + (b"y" * 99 + b"\n") * 1000
        r = self.run_postern(["-odq", "root"], body, preexec_fn=limit)
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn("File too large", r.stderr.decode())
        self.assertEqual(self.incoming(), [])  # no committed file, no .ID left

    def test_max_size_is_69(self):
        conf = os.path.join(self.tmp, "small.conf")
        with open(conf, "w") as f:
            f.write("[queue]\ndir = %s\nmax_size = 2000\n" % self.spool)
        r = self.run_postern(["-odq", "root"], b"Subject: s\n\n" + b"z" * 5000 + b"\n", conf=conf)
        self.assertFails(r, 69, "message exceeds max_size (2000 bytes) [%s:3]" % conf)
        self.assertEqual(self.incoming(), [])

    def test_header_injection_through_t_headers_stays_a_header(self):
        # A folded To cannot smuggle a new field or recipient line.
        r = self.run_postern(["-odq", "-t"], b"To: a@x.org\r\n\r\nBcc: hidden@x.org\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, rcpts, msg = self.only_message()
        self.assertEqual(rcpts, ["a@x.org"])
        self.assertTrue(msg.endswith(b"\r\n\r\nBcc: hidden@x.org\r\n"))


if __name__ == "__main__":
    unittest.main()
