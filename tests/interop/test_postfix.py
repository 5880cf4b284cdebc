# SPDX-License-Identifier: ISC
"""postern against a real Postfix 3.7 relay (Debian 12's package, unpacked,
in its own mount namespace): see relaytests.py for the cases and
mta.Postfix for the relay's configuration."""

import os
import smtplib
import ssl
import subprocess
import sys
import unittest

import interop
import mta
from relaytests import RelayTests


class Postfix(RelayTests, interop.RelayCase):
    server_class = mta.Postfix



class PostfixFqdnHelo(interop.RelayCase):
    """A relay that wants a fully qualified EHLO name
    (reject_non_fqdn_helo_hostname, common on company relays), and a
    sending machine that has none (a Raspberry Pi called "pi", no domain in
    /etc/hosts): postern-send runs in a UTS + mount namespace that says so."""

    server_class = mta.Postfix
    server_extra = {"smtpd_helo_required": "yes",
                    "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname"}

    def send_as_pi(self, *args):
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n127.0.1.1 pi\n")
        r = subprocess.run(["unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c",
                            f"hostname pi && mount --bind {hosts} /etc/hosts && "
                            f"exec {interop.SEND} -C {self.conf} {' '.join(args)}"],
                           capture_output=True, timeout=120)
        return r.stderr.decode(errors="replace")

    def test_helo_reply_text(self):
        c = smtplib.SMTP("127.0.0.1", self.server.port, local_hostname="pi", timeout=30)
        c.starttls(context=ssl.create_default_context(cafile=interop.pki().ca))
        c.ehlo("pi")
        c.login(interop.USER, interop.PW)
        c.mail(interop.USER)
        code, text = c.rcpt("someone@example.test")
        c.quit()
        got = f"{code} {text.decode()}"
        print(f"\npostfix helo_not_fqdn: {got}", file=sys.stderr)
        self.assertEqual(got, interop.replies()[("postfix", "helo_not_fqdn")])

    # Found here and fixed in src/send/relay.cpp: with no FQDN known,
    # postern said "EHLO pi"; Postfix answered every RCPT "504 5.5.2 <pi>:
    # Helo command rejected: need fully-qualified hostname" and postern
    # bounced every message (a 5xx at RCPT: see replies.md for the
    # classification note). RFC 5321 4.1.4: a client without a meaningful
    # name sends an address literal, which this restriction accepts.
    def test_machine_without_fqdn_says_an_address_literal(self):
        self.relay_conf()
        self.postern(["-i", "someone@example.test"], f"Subject: {self.token}\n\nx\n".encode())
        log = self.send_as_pi("-v")
        self.assertIn("> EHLO [127.0.0.1]", log)
        (raw,) = self.relayed()
        self.assertIn(b"from [127.0.0.1] (localhost [127.0.0.1])", raw)
        self.assertEqual(self.queued(), {})
        self.assertEqual(self.local_box(), b"")


if __name__ == "__main__":
    interop.main()
