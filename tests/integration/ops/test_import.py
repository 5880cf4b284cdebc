# SPDX-License-Identifier: ISC
"""postern --import: each sample of tests/data/import (written from the
tools' documented syntax) converts to a postern.conf that loads, routes to
the expected relay host:port, has the expected keys and never contains a
password."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from opslib import POSTERN, SOURCE, OpsCase  # noqa: E402

DATA = os.path.join(SOURCE, "tests", "data", "import")

# sample, expected relay, expected "section.key" = value, expected in "not carried over"
CASES = {
    "ssmtp/ssmtp.conf": ("smtp.example.com:587", {
        "relay.tls": "starttls", "relay.user": "alerts@example.com",
        "relay.password_file": "/etc/postern.secret",
        "relay.ca_file": "/etc/ssl/certs/ca-certificates.crt",
        "sender.from": "alerts@example.com", "sender.domain": "example.com",
    }, ["root=postmaster@example.com", "revaliases www-data:web@example.com"]),
    "msmtp/msmtprc": ("mail.example.com:465", {
        "relay.tls": "implicit", "relay.user": "alerts@example.com",
        "relay.auth": "auto", "relay.timeout": "30",
        "sender.from": "alerts@example.com", "local.aliases": "/etc/aliases",
    }, ["account personal", "tls_fingerprint"]),
    "dma/dma.conf": ("mail.example.net:587", {
        "relay.tls": "starttls", "relay.user": "box@example.net",
        "relay.password_file": "/etc/postern.secret", "sender.from": "box@example.net",
        "local.aliases": "/etc/aliases",
    }, ["SPOOLDIR /var/spool/dma", "auth.conf entry for other@example.org"]),
    "nullmailer/remotes": ("relay.example.org:587", {
        "relay.host": "relay.example.org, backup.example.org", "relay.tls": "starttls",
        "relay.user": "pi@example.org", "relay.password_file": "/etc/postern.secret",
        "sender.domain": "pi.example.org",
    }, ["remote old.example.org qmqp", "adminaddr admin@example.org"]),
}
SECRETS = re.compile(r"s3cret")


def parse_conf(text):
    """postern.conf text -> ({"section.key": value}, [not-carried texts])."""
    keys, dropped, section = {}, [], ""
    for line in text.splitlines():
        if line.startswith("; not carried over: "):
            dropped.append(line[len("; not carried over: "):])
        elif line.startswith(";     ") and dropped:
            dropped[-1] += " " + line[6:]
        elif line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and not line.startswith(";"):
            k, _, v = line.partition("=")
            keys[section + "." + k.strip()] = v.strip()
    return keys, dropped


class Import(OpsCase):
    def import_file(self, sample, *extra):
        r = subprocess.run([POSTERN, "--import", os.path.join(DATA, sample), *extra],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def check_sample(self, sample, *extra):
        relay, want, want_dropped = CASES[sample]
        text = self.import_file(sample, *extra)
        self.assertIsNone(SECRETS.search(text), text)
        keys, dropped = parse_conf(text)
        for k, v in want.items():
            self.assertEqual(keys.get(k), v, f"{sample}: {k}\n{text}")
        for d in want_dropped:
            self.assertTrue(any(x.startswith(d) for x in dropped), f"{sample}: {d}\n{text}")
        for line in text.splitlines():
            self.assertLessEqual(len(line), 198, line)
        out = os.path.join(self.tmp, "imported.conf")
        with open(out, "w") as f:
            f.write(text)
        r = subprocess.run([POSTERN, "-C", out, "-bv", "someone@example.com"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), f"someone@example.com: relay ({relay})\n")

    def test_ssmtp(self):
        self.check_sample("ssmtp/ssmtp.conf")

    def test_msmtp(self):
        self.check_sample("msmtp/msmtprc")
        text = self.import_file("msmtp/msmtprc")
        self.assertRegex(text, r"(?m)^password_command = /\S*/cat /etc/msmtp-password$")

    def test_dma(self):
        self.check_sample("dma/dma.conf")

    def test_nullmailer(self):
        self.check_sample("nullmailer/remotes")

    def test_format_guessed_from_content(self):
        # Renamed copies: only the content can tell.
        for sample, fmt in (("ssmtp/ssmtp.conf", "ssmtp"), ("msmtp/msmtprc", "msmtp"),
                            ("dma/dma.conf", "dma"), ("nullmailer/remotes", "nullmailer")):
            p = os.path.join(self.tmp, "config")
            shutil.copy(os.path.join(DATA, sample), p)
            r = subprocess.run([POSTERN, "--import", p], capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"from {p} ({fmt})", r.stdout.decode().replace("\n;     ", " "))

    def test_explicit_format(self):
        self.check_sample("dma/dma.conf", "--format", "dma")
        r = subprocess.run([POSTERN, "--import", os.path.join(DATA, "dma/dma.conf"),
                            "--format", "exim"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 64)

    def test_errors(self):
        r = subprocess.run([POSTERN, "--import", os.path.join(self.tmp, "missing")],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 66, r.stderr)
        p = os.path.join(self.tmp, "unknown")
        with open(p, "w") as f:
            f.write("[relay]\nhost = x\n")
        r = subprocess.run([POSTERN, "--import", p], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 64, r.stderr)
        self.assertIn("--format", r.stderr.decode())

    @unittest.skipUnless(os.geteuid() == 0, "needs root to make a set-group-ID copy")
    def test_refused_when_setid_for_another_user(self):
        copy = os.path.join(self.tmp, "postern")
        shutil.copy(POSTERN, copy)
        os.chown(copy, 0, 8)  # group mail stands in for postdrop
        os.chmod(copy, 0o2755)
        os.chmod(self.tmp, 0o755)

        def nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        r = subprocess.run([copy, "--import", "/etc/passwd", "--format", "ssmtp"],
                           capture_output=True, timeout=60, preexec_fn=nobody)
        if b"set-group-ID" not in r.stderr and r.returncode == 0:
            self.skipTest("the file system ignores the set-group-ID bit (nosuid)")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn(b"--import is allowed only for root", r.stderr)
        self.assertEqual(r.stdout, b"")


if __name__ == "__main__":
    unittest.main()
