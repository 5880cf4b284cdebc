# SPDX-License-Identifier: ISC
"""postern demo: submit, queue, send over STARTTLS + AUTH, deliver locally.

Usage: /usr/bin/python3 scripts/demo.py BUILD_DIR SOURCE_DIR
"""

import os
import subprocess
import sys
import tempfile
import time

build, source = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(source, "tests", "integration"))
import pki as pkimod  # noqa: E402
from relay import Relay  # noqa: E402

POSTERN = os.path.join(build, "postern")
MAILX = os.path.join(source, "build-peers", "usr", "bin", "bsd-mailx")


def step(text):
    print(f"\n== {text}", flush=True)


def run(args, stdin=b"", check=True):
    print("$ " + " ".join(args[1:] if args[0] == POSTERN else args).replace(POSTERN, "postern"))
    p = subprocess.run(args, input=stdin, capture_output=True)
    out = (p.stdout + p.stderr).decode(errors="replace")
    if out:
        print(out.rstrip())
    if check and p.returncode != 0:
        sys.exit(f"demo: command failed with exit {p.returncode}")
    return p


def main():
    with tempfile.TemporaryDirectory(prefix="postern-demo-") as tmp:
        pki = pkimod.make_pki(os.path.join(tmp, "pki"))
        secret = os.path.join(tmp, "secret")
        with open(secret, "w") as f:
            f.write("demo-password\n")
        os.chmod(secret, 0o600)
        # /var/mail exists on every Debian system; here it is a temporary
        # directory, made the way the base system makes /var/mail.
        os.makedirs(os.path.join(tmp, "mail"), mode=0o2775)
        aliases = os.path.join(tmp, "aliases")
        with open(aliases, "w") as f:
            f.write("postmaster: root\nmailer-daemon: postmaster\n")
        with Relay(tls="starttls", cert=pki.server,
                   users={"demo@example.com": "demo-password"}) as relay:
            conf = os.path.join(tmp, "postern.conf")
            with open(conf, "w") as f:
                f.write(f"""[relay]
host = 127.0.0.1
port = {relay.port}
tls = starttls
ca_file = {pki.ca}
user = demo@example.com
password_file = {secret}

[sender]
from = demo@example.com
domain = box.example.com

[local]
aliases = {aliases}
mailbox = {tmp}/mail/%u

[queue]
dir = {tmp}/spool
""")
            print(f"postern demo in {tmp}; relay aiosmtpd on 127.0.0.1:{relay.port} "
                  "(STARTTLS required, AUTH required)")

            step("1. a daemon mails a remote address; postern queues it (-odq: no attempt yet)")
            run([POSTERN, "-C", conf, "-odq", "-t", "-i"],
                b"To: friend@example.net\nSubject: RAID alert\n\n/dev/md0 is degraded.\n")
            run([POSTERN, "-C", conf, "-bp"])

            step("2. cron mails root the way Debian's cron does")
            run([POSTERN, "-C", conf, "-odq", "-FCronDaemon", "-i", "-B8BITMIME", "-oem",
                 "root"],
                b"From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@box> ls -a\n"
                b"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                b"Content-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\n\n.\n..\nbin\n")

            step("3. a queue run (sendmail -q): the remote message goes over TLS + AUTH, "
                 "root's goes to its mailbox")
            run([POSTERN, "-C", conf, "-q"])
            run([POSTERN, "-C", conf, "-bp"])

            step("4. what the relay received")
            if len(relay.messages) != 1:
                sys.exit(f"demo: relay received {len(relay.messages)} messages, expected 1")
            m = relay.messages[0]
            print(f"envelope: from=<{m.mail_from}> to={m.rcpt_tos} tls={m.tls} auth={m.auth_user}")
            print(m.data.decode(errors="replace").rstrip())

            step("5. root's mailbox, listed by bsd-mailx")
            mbox = os.path.join(tmp, "mail", "root")
            if not os.path.exists(mbox):
                sys.exit("demo: root's mailbox was not written")
            # "x" quits without changing the mailbox; the header summary
            # is what a person sees on opening it.
            env = {"HOME": tmp, "MAILRC": "/dev/null", "PATH": "/usr/bin:/bin"}
            print(f"$ bsd-mailx -f {mbox}")
            p = subprocess.run([MAILX, "-f", mbox], input=b"x\n", capture_output=True, env=env)
            print(p.stdout.decode(errors="replace").rstrip())
            step("6. the mailbox file itself (mbox, From_ line, Return-Path, Delivered-To)")
            print(open(mbox, encoding="utf-8", errors="replace").read().rstrip())
        print("\ndemo: done")


if __name__ == "__main__":
    main()
