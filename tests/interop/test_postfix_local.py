# SPDX-License-Identifier: ISC
"""postern-deliver as a real MTA's local delivery agent: Postfix's local(8)
with mailbox_command = postern-deliver -f "$SENDER" "$USER" (the
mail.local command line of postern-deliver(8)), read back with
python's mailbox, bsd-mailx and s-nail; deliveries from Postfix and from
postern-deliver run directly, at the same time, into one mailbox."""

import concurrent.futures
import os
import re
import smtplib
import ssl
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "deliver"))

import interop  # noqa: E402
import mta  # noqa: E402
from interop import DELIVER, PW, USER, parse, pki, wait_for  # noqa: E402
from deliverlib import BSD_MAILX, S_NAIL  # noqa: E402


class PostfixLocal(interop.RelayCase):
    server_class = mta.Postfix

    @classmethod
    def extra_config(cls):
        cls.boxes = os.path.join(cls.sdir, "boxes")
        os.makedirs(cls.boxes)
        os.chmod(cls.boxes, 0o1777)
        cls.dconf = os.path.join(cls.sdir, "deliver.conf")
        with open(cls.dconf, "w") as f:
            f.write(f"[local]\nmailbox = {cls.boxes}/%u\n")
        os.chmod(cls.dconf, 0o644)
        return {"mailbox_command": f'{DELIVER} -C {cls.dconf} -f "$SENDER" "$USER"'}

    def box(self, user):
        return os.path.join(self.boxes, user)

    def smtp_send(self, rcpt, msgs):
        c = smtplib.SMTP("127.0.0.1", self.server.port, timeout=60)
        c.ehlo("client.example")
        c.starttls(context=ssl.create_default_context(cafile=pki().ca))
        c.ehlo("client.example")
        c.login(USER, PW)
        for m in msgs:
            c.sendmail(USER, [rcpt], m)
        c.quit()

    def deliver_direct(self, user, msg, sender="direct@example.test"):
        """postern-deliver run by hand as the user, inside the server's
        namespace (where the user exists)."""
        r = subprocess.run(["nsenter", "-t", str(self.server.proc.pid), "-m", "--",
                            "setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                            DELIVER, "-C", self.dconf, "-f", sender, user],
                           input=msg, capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def readers(self, path):
        env = {"HOME": self.dir, "MAILRC": "/dev/null", "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        out = {}
        if os.access(BSD_MAILX, os.X_OK):
            r = subprocess.run([BSD_MAILX, "-f", path], input=b"x\n", capture_output=True,
                               env=env, timeout=60)
            m = re.search(r'^"[^"]*": (\d+) messages?', r.stdout.decode(errors="replace"), re.M)
            out["bsd-mailx"] = int(m.group(1)) if m else r.stdout
        r = subprocess.run([S_NAIL, "-:/", "-R", "-H", "-f", path], stdin=subprocess.DEVNULL,
                           capture_output=True, env=env, timeout=60)
        out["s-nail"] = len([l for l in r.stdout.decode(errors="replace").splitlines()
                             if l.strip()])
        return out

    def read(self, user):
        p = self.box(user)
        if not os.path.exists(p):
            return b""
        with open(p, "rb") as f:
            return f.read()

    def alice_message(self):
        body = f"Subject: {self.token}\r\n\r\nFrom the start\r\n>From quoted\r\nend\r\n"
        self.smtp_send("alice@example.test", [body.encode()])
        wait_for(lambda: self.token.encode() in self.read("alice"), 30, "alice's mailbox")
        raw = self.read("alice")
        return raw[raw.rindex(b"\nFrom ", 0, raw.index(self.token.encode())) + 1:] \
            if raw.count(b"\nFrom ") else raw

    def test_mailbox_command_delivers_to_mbox(self):
        raw = self.alice_message()
        self.assertTrue(raw.startswith(b"From alerts@example.test "), raw[:80])
        # mboxrd on disk: one more > on each From_-like body line.
        self.assertTrue(raw.endswith(b"\n\n>From the start\n>>From quoted\nend\n\n"), raw)
        self.assertEqual(os.stat(self.box("alice")).st_uid, int(self.server.ids[3]))
        n = len(mta.mbox_messages(self.box("alice")))
        self.assertEqual(self.readers(self.box("alice")), {"bsd-mailx": n, "s-nail": n})

    # Finding (fixed): Postfix's local(8) hands a mailbox_command the
    # message with its own "From sender date" envelope line first (as it
    # does for every command; procmail and mail.local expect it).
    # postern-deliver used to take that line for message text, ending the
    # header section at its third line; it now takes it off (its sender
    # serves when -f is absent) and adds no second Return-Path.
    def test_mailbox_command_keeps_the_header_section(self):
        raw = self.alice_message()
        m = parse(raw.split(b"\n", 1)[1])
        self.assertEqual(m["Subject"], self.token)
        self.assertEqual(m.get_all("Return-Path"), ["<alerts@example.test>"])
        self.assertNotIn(b"\n>From alerts@example.test ", raw)

    def test_postfix_and_direct_deliveries_concurrently(self):
        n = 50
        via_postfix = [f"Subject: pf {i} {self.token}\r\nX-Seq: pf-{i}\r\n\r\n"
                       f"postfix body {i}\r\n.\r\n".encode() for i in range(n)]
        direct = [f"Subject: direct {i} {self.token}\nX-Seq: d-{i}\n\ndirect body {i}\n"
                  f"From here\n".encode() for i in range(n)]
        with concurrent.futures.ThreadPoolExecutor(6) as ex:
            futs = [ex.submit(self.smtp_send, "bob@example.test", via_postfix[k:k + 10])
                    for k in range(0, n, 10)]
            futs += [ex.submit(self.deliver_direct, "bob", m) for m in direct]
            for f in futs:
                f.result()
        wait_for(lambda: len(mta.mbox_messages(self.box("bob"))) >= 2 * n
                 and not self.server.queue_ids(), 120, "100 messages in bob's mailbox")
        # Every message whole and once: its own marker, body and nothing of
        # another (the header section of Postfix's ones is broken by the
        # From_ line finding above, so the markers are searched in the bytes).
        msgs = mta.mbox_messages(self.box("bob"))
        self.assertEqual(len(msgs), 2 * n)
        seen = []
        for raw in msgs:
            seqs = re.findall(rb"X-Seq: ((?:pf|d)-\d+)\n", raw)
            self.assertEqual(len(seqs), 1, raw)
            kind, i = seqs[0].decode().split("-")
            want = (f"\n\npostfix body {i}\n.\n" if kind == "pf"
                    else f"\n\ndirect body {i}\n>From here\n").encode()
            self.assertTrue(raw.endswith(want), raw)
            seen.append(seqs[0].decode())
        self.assertEqual(sorted(seen),
                         sorted([f"pf-{i}" for i in range(n)] + [f"d-{i}" for i in range(n)]))
        self.assertEqual(self.readers(self.box("bob")), {"bsd-mailx": 2 * n, "s-nail": 2 * n})


if __name__ == "__main__":
    interop.main()
