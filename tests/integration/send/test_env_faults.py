# SPDX-License-Identifier: ISC
"""Faults around the relay rather than in it (issue: faults): a
password_command that hangs or prints nothing, a relay host name that does
not resolve, a "relay" that answers garbage. Each ends with the message
still queued and the reason in its envelope (what mailq shows) and in the
log; none crashes the runner or loses the message."""

import os
import socket
import threading
import time
import unittest

from sendtest import SendCase

SENDER = "sender@example.net"


class GarbageServer:
    """A TCP server on 127.0.0.1 that answers every connection with bytes
    that are not SMTP, then closes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            try:
                c.sendall(b"\x00\xffHTTP/1.1 400 Bad Request\r\n\r\n<html>nope</html>\r\n")
            finally:
                c.close()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


class EnvFaults(SendCase):
    def queued_one(self):
        envs = self.queued()
        self.assertEqual(len(envs), 1, envs)
        (env,) = envs.values()
        self.assertEqual(env["rcpts"][0]["state"], "pending")
        return env

    def script(self, body):
        p = os.path.join(self.dir, "token")
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(p, 0o755)
        return p

    def test_password_command_that_hangs_times_out(self):
        cmd = self.script("exec sleep 60\n")
        self.write_conf(1, f"tls = none\nuser = u\npassword_command = {cmd}\n")
        self.submit(["a@example.com"], sender=SENDER)
        started = time.monotonic()
        _, log = self.run_send()
        self.assertLess(time.monotonic() - started, 30, "the hanging command was not cut off")
        env = self.queued_one()
        self.assertIn("password_command", env["error"])
        self.assertIn("timed out", env["error"] + log)

    def test_password_command_that_prints_nothing(self):
        cmd = self.script("exit 0\n")
        self.write_conf(1, f"tls = none\nuser = u\npassword_command = {cmd}\n")
        self.submit(["a@example.com"], sender=SENDER)
        _, log = self.run_send()
        env = self.queued_one()
        self.assertIn("password_command", env["error"])
        self.assertIn("password_command", log)

    def test_relay_name_that_does_not_resolve(self):
        self.write_conf(25, "tls = none\nauth = none\n")
        with open(self.conf) as f:
            text = f.read().replace("host = 127.0.0.1", "host = no-such-host.invalid")
        with open(self.conf, "w") as f:
            f.write(text)
        self.submit(["a@example.com"], sender=SENDER)
        _, log = self.run_send()
        env = self.queued_one()
        self.assertIn("no-such-host.invalid", env["error"] + log)
        self.assertRegex((env["error"] + log).lower(), "resolve")

    def test_relay_that_answers_garbage(self):
        g = GarbageServer()
        try:
            self.write_conf(g.port, "tls = none\nauth = none\n")
            self.submit(["a@example.com"], sender=SENDER)
            _, log = self.run_send()
            self.assertGreaterEqual(g.connections, 1)
        finally:
            g.close()
        env = self.queued_one()
        self.assertTrue(env["error"], "no reason recorded")
        self.assertEqual(self.failed(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
