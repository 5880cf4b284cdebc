# SPDX-License-Identifier: ISC
"""Table-driven hostile input for the front end: every row of
tests/data/bad/cases.json (written by make_corpus.py there) runs the built
`postern -C CONF ...` once in a fresh temporary directory and checks the
exit status, a stderr substring, and the spool: nothing at all for a
refused input, exactly one committed and well-formed drop file for an
accepted one.

    python3 test_bad_input.py            # the test (unittest, one subTest per row)
    python3 test_bad_input.py --learn    # print what postern actually does per row
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("POSTERN_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))
POSTERN = os.path.join(BUILD, "postern")
DATA = os.path.join(SOURCE, "tests", "data", "bad")
DEFAULT_CONF = ("[queue]\ndir = @SPOOL@\n[local]\nmailbox = @TMP@/mail/%u\naliases = @TMP@/aliases\n"
                "[sender]\ndomain = example.org\n")


def generate(spec):
    """Big inputs are built at run time: gen:KIND:N."""
    _, kind, n = spec.split(":")
    n = int(n)
    if kind == "longheader":
        return b"Subject: " + b"x" * n + b"\n\nbody\n"
    if kind == "manyheaders":
        return b"".join(b"X-H%d: %s\n" % (i, b"v" * 40) for i in range(n)) + b"\nbody\n"
    if kind == "longbody":
        return b"Subject: x\n\n" + b"y" * n + b"\n"
    if kind == "deepcomment":
        return b"To: a@example.com " + b"(" * n + b")" * n + b"\n\nx\n"
    if kind == "groups":
        return b"To: g:" + b";" * n + b"\n\nx\n"
    if kind == "torcpts":
        return b"To: " + b",\n ".join(b"r%d@example.com" % i for i in range(n)) + b"\n\nx\n"
    if kind == "bigvalue":
        return DEFAULT_CONF.encode() + b"[relay]\nhost = " + b"h" * n + b"\n"
    if kind == "bigalias":
        return b"a: " + b"b" * n + b"\n"
    raise ValueError(spec)


def read_input(spec):
    if spec.startswith("gen:"):
        return generate(spec)
    with open(os.path.join(DATA, spec), "rb") as f:
        return f.read()


def expand_argv(argv):
    out = []
    for a in argv:
        m = re.fullmatch(r"@RCPTS:(\d+)@", a)
        if m:
            out += ["r%d@example.com" % i for i in range(int(m.group(1)))]
        else:
            out.append(a)
    return [os.fsencode(a) for a in out]


def run_case(row, tmp):
    spool = os.path.join(tmp, "spool")
    os.makedirs(os.path.join(tmp, "mail"))

    def subst(b):
        return b.replace(b"@SPOOL@", spool.encode()).replace(b"@TMP@", tmp.encode())

    conf = os.path.join(tmp, "postern.conf")
    with open(conf, "wb") as f:
        f.write(subst(read_input(row["config"]) if "config" in row else DEFAULT_CONF.encode()))
    with open(os.path.join(tmp, "aliases"), "wb") as f:
        f.write(subst(read_input(row["aliases"])) if "aliases" in row else b"")
    for name, src in row.get("files", {}).items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(subst(read_input(src)))
    stdin = read_input(row["stdin"]) if row.get("stdin") else b""
    r = subprocess.run([POSTERN.encode(), b"-C", conf.encode()] + expand_argv(row["argv"]),
                       input=stdin, capture_output=True, timeout=60)
    return r, spool


def spool_files(spool):
    """Every file under the spool except the directories themselves."""
    out = []
    for root, _dirs, files in os.walk(spool):
        out += [os.path.relpath(os.path.join(root, f), spool) for f in files]
    return sorted(out)


class BadInput(unittest.TestCase):
    def check_drop_file(self, spool, files, name):
        self.assertEqual(len(files), 1, "%s: expected one drop file, got %r" % (name, files))
        self.assertTrue(files[0].startswith("incoming/") and not
                        os.path.basename(files[0]).startswith("."), "%s: %r" % (name, files))
        with open(os.path.join(spool, files[0]), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"POSTERN-DROP 1\nsize: "), name)
        head, sep, msg = data.partition(b"\n\n")
        self.assertEqual(sep, b"\n\n", name)
        size = int(head.split(b"\n")[1].split(b": ")[1])
        self.assertEqual(size, len(msg), "%s: size field vs message length" % name)
        # Canonical form: CRLF everywhere, no bare CR or LF, ends with CRLF.
        self.assertNotRegex(msg, rb"(?<!\r)\n", "%s: bare LF in stored message" % name)
        self.assertNotRegex(msg, rb"\r(?!\n)", "%s: bare CR in stored message" % name)
        self.assertTrue(msg.endswith(b"\r\n"), name)
        # Header section: no NUL or other controls, whatever came in.
        hdr = msg.split(b"\r\n\r\n", 1)[0]
        self.assertNotRegex(hdr, rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", name)
        # ...and 7-bit (SPEC "Submission": 8-bit is RFC 2047-encoded).
        self.assertNotRegex(hdr, rb"[\x80-\xff]", "%s: 8-bit byte in the header section" % name)
        # Drop header: no control characters in any value.
        for line in head.split(b"\n"):
            self.assertNotRegex(line, rb"[\x00-\x1f\x7f]", "%s: %r" % (name, line[:80]))

    def test_table(self):
        with open(os.path.join(DATA, "cases.json")) as f:
            rows = json.load(f)
        self.assertGreaterEqual(len(rows), 50)
        for row in rows:
            if row.get("exit") is None:
                continue  # behaviour under review: see the report, not encoded
            with self.subTest(row["name"]):
                tmp = tempfile.mkdtemp(prefix="postern-bad-")
                try:
                    r, spool = run_case(row, tmp)
                    err = r.stderr.decode(errors="replace")
                    self.assertEqual(r.returncode, row["exit"], "%s: stderr: %s" % (row["name"], err[:500]))
                    self.assertIn(row["stderr"], err, row["name"])
                    if "stdout" in row:
                        self.assertIn(row["stdout"], r.stdout.decode(errors="replace"), row["name"])
                    files = spool_files(spool)
                    if row["spool"] == "empty":
                        self.assertEqual(files, [], "%s: refused input left files" % row["name"])
                    else:
                        self.check_drop_file(spool, files, row["name"])
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)


def learn():
    with open(os.path.join(DATA, "cases.json")) as f:
        rows = json.load(f)
    for row in rows:
        tmp = tempfile.mkdtemp(prefix="postern-bad-")
        try:
            r, spool = run_case(row, tmp)
            files = spool_files(spool)
            print("%-32s exit=%-3s want=%-4s spool=%s\n    err=%r\n    out=%r" % (
                row["name"], r.returncode, row.get("exit"), files[:3] if len(files) < 4 else len(files),
                r.stderr.decode(errors="replace")[:200], r.stdout.decode(errors="replace")[:200]))
        except subprocess.TimeoutExpired:
            print("%-32s TIMEOUT" % row["name"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--learn"]:
        learn()
    else:
        unittest.main()
