# SPDX-License-Identifier: ISC
"""The socket-activated local SMTP door (etc/postern-smtp.socket and
postern-smtp@.service): every connection runs "postern -bs" with the
connection as standard input and output.

systemd's own systemd-socket-activate (Debian's systemd package ships it)
plays the socket unit: "--inetd -a -l 127.0.0.1:PORT" accepts each
connection and runs the command with the socket as stdin/stdout, which is
what Accept=yes with StandardInput=socket does. The command line is the
unit's ExecStart (which has -odq) with -C (a test config), so that the queue run
below is the only delivery attempt. Python's smtplib sends a message; a
queue run (postern -q) must then hand it to a real relay (tests/integration/relay.py)."""
import configparser
import os
import shutil
import smtplib
import subprocess
import sys
import unittest
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(__file__))
from opslib import POSTERN, SOURCE, OpsCase, free_port  # noqa: E402
from relay import Relay  # noqa: E402

ACTIVATE = shutil.which("systemd-socket-activate")


def unit(name):
    p = configparser.ConfigParser(strict=False, interpolation=None)
    p.optionxform = str
    p.read(os.path.join(SOURCE, "etc", name))
    return p


class SocketUnits(unittest.TestCase):
    def test_units_say_what_the_test_runs(self):
        sock = unit("postern-smtp.socket")
        self.assertEqual(sock["Socket"]["Accept"], "yes")
        with open(os.path.join(SOURCE, "etc", "postern-smtp.socket")) as f:
            listens = [line.split("=", 1)[1].strip() for line in f
                       if line.startswith("ListenStream=")]
        self.assertEqual(listens, ["127.0.0.1:25", "[::1]:25"])
        svc = unit("postern-smtp@.service")["Service"]
        self.assertEqual(svc["ExecStart"].split()[1:], ["-odq", "-bs"])
        self.assertEqual(svc["StandardInput"], "socket")
        self.assertEqual(svc["StandardOutput"], "socket")


@unittest.skipUnless(ACTIVATE, "systemd-socket-activate is not installed")
class SocketActivation(OpsCase):
    def start_door(self):
        port = free_port()
        p = subprocess.Popen([ACTIVATE, "--inetd", "-a", "-l", f"127.0.0.1:{port}",
                              POSTERN, "-C", self.conf, "-odq", "-bs"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)

        def stop():
            p.terminate()
            p.wait(timeout=30)
            p.stderr.close()
        self.addCleanup(stop)
        # Ready once it says "Listening on 127.0.0.1:PORT as 3."
        line = p.stderr.readline().decode()
        self.assertIn(f"Listening on 127.0.0.1:{port}", line)
        return port

    def test_smtp_to_the_door_reaches_the_relay(self):
        with Relay(tls=None) as relay:
            self.write_conf(f"[relay]\nhost = 127.0.0.1\nport = {relay.port}\ntls = none\n"
                            "auth = none\n")
            port = self.start_door()
            msg = EmailMessage()
            msg["From"] = "app@example.org"
            msg["To"] = "ops@example.com"
            msg["Subject"] = "through the socket door"
            msg.set_content("hello from smtplib\n.\nafter a lone dot\n")
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                code, banner = s.ehlo("client.example")
                self.assertEqual(code, 250, banner)
                refused = s.send_message(msg)
                self.assertEqual(refused, {})
            self.assertEqual(relay.messages, [])   # -odq: queued, not sent yet
            r = subprocess.run([POSTERN, "-C", self.conf, "-q"], capture_output=True,
                               timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(relay.messages), 1)
            m = relay.messages[0]
            self.assertEqual(m.mail_from, "app@example.org")
            self.assertEqual(m.rcpt_tos, ["ops@example.com"])
            self.assertIn(b"Subject: through the socket door", m.data)
            self.assertIn(b"\r\n.\r\nafter a lone dot", m.data)
        st = subprocess.run([POSTERN, "-C", self.conf, "--status"], capture_output=True)
        self.assertEqual(st.returncode, 0, st.stdout)
        self.assertIn(b" 0 messages", st.stdout)

    def test_each_connection_gets_its_own_session(self):
        port = self.start_door()
        for n in range(2):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                s.sendmail(f"a{n}@example.org", ["root"], b"Subject: n\r\n\r\nx\r\n")
        inc = os.listdir(os.path.join(self.spool, "incoming"))
        self.assertEqual(len([n for n in inc if not n.startswith(".")]), 2, inc)


if __name__ == "__main__":
    unittest.main()
