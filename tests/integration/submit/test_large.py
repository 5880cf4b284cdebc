# SPDX-License-Identifier: ISC
"""A 50 MB message streams through postern without growing its memory."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from submit_helper import POSTERN, SubmitTest  # noqa: E402


TIME = "/usr/bin/time"


@unittest.skipUnless(os.access(TIME, os.X_OK), "needs /usr/bin/time to measure peak RSS")
class Large(SubmitTest):
    def run_measured(self, chunk, count):
        """Pipes count copies of chunk into postern; returns (rc, stderr, peak RSS KiB).

        /usr/bin/time measures the peak RSS of postern alone: measuring a
        child of this Python process would count the forked Python image.
        """
        out = os.path.join(self.tmp, "rss")
        err = open(os.path.join(self.tmp, "stderr"), "w+b")
        self.addCleanup(err.close)
        p = subprocess.Popen([TIME, "-f", "%M", "-o", out, POSTERN, "-C", self.conf, "-odq",
                              "root"], stdin=subprocess.PIPE, stderr=err)
        self.addCleanup(p.kill)
        p.stdin.write(b"Subject: big\n\n")
        for _ in range(count):
            p.stdin.write(chunk)
        p.stdin.close()
        rc = p.wait(timeout=300)
        err.seek(0)
        with open(out) as f:
            rss = int(f.read().split()[-1])
        return rc, err.read(), rss

    def test_50mb_message_is_streamed(self):
        with open(self.conf, "w") as f:
            f.write("[queue]\ndir = %s\nmax_size = 200M\n" % self.spool)
        line = b"0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\n"
        count = (50 << 20) // len(line)
        rc, err, rss_kib = self.run_measured(line * 64, count // 64)
        self.assertEqual(rc, 0, err)
        self.assertLess(rss_kib, 8 * 1024, "peak RSS %d KiB" % rss_kib)
        _, _, msg = self.only_message()
        self.assertGreater(len(msg), 50 << 20)

    def test_50mb_8bit_message_is_reencoded_in_constant_memory(self):
        with open(self.conf, "w") as f:
            f.write("[queue]\ndir = %s\nmax_size = 500M\n" % self.spool)
        line = "caf\u00e9 \u20ac ".encode() * 8 + b"\n"
        count = (50 << 20) // len(line)
        rc, err, rss_kib = self.run_measured(line * 64, count // 64)
        self.assertEqual(rc, 0, err)
        self.assertLess(rss_kib, 8 * 1024, "peak RSS %d KiB" % rss_kib)
        names = self.incoming()
        self.assertEqual(len(names), 1)
        with open(os.path.join(self.spool, "incoming", names[0]), "rb") as f:
            head = f.read(4096)
        self.assertIn(b"Content-Transfer-Encoding: quoted-printable", head)


if __name__ == "__main__":
    unittest.main()
