# SPDX-License-Identifier: ISC
"""postern-send against a real relay: STARTTLS / implicit TLS, AUTH
PLAIN / LOGIN / CRAM-MD5 / XOAUTH2, and every way the relay or the
configuration can be wrong (SPEC "On the wire", "Privileges and trust")."""

import base64
import os
import unittest

import relay
from sendtest import SendCase, pki

USER, PW = "alerts@example.org", "s3cret-pw"


class TlsAuth(SendCase):
    def auth_conf(self, r, auth="auto", extra=""):
        self.write_conf(r.port, f"user = {USER}\npassword_file = {self.secret_file(PW)}\n"
                                f"ca_file = {pki().ca}\nauth = {auth}\n{extra}")

    def assert_delivered(self, r, rcpts, mech):
        self.assertEqual(len(r.messages), 1)
        m = r.messages[0]
        self.assertEqual(sorted(m.rcpt_tos), sorted(rcpts))
        self.assertTrue(m.tls)
        self.assertEqual(m.auth_user, USER)
        self.assertEqual([a[:3] for a in r.auths], [(mech, USER, True)])
        self.assertEqual(self.queued(), {})
        self.assertEqual(self.incoming(), [])

    def test_starttls_auth_plain(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "plain")
            self.submit(["a@example.com", "b@example.com"])
            _, log = self.run_send()
            self.assert_delivered(r, ["a@example.com", "b@example.com"], "PLAIN")
            self.assertIn("status=sent (250 2.0.0 Ok", log)

    def test_starttls_auth_login(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "login")
            self.submit(["a@example.com"])
            self.run_send()
            self.assert_delivered(r, ["a@example.com"], "LOGIN")

    def test_starttls_auth_cram_md5(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "cram-md5")
            self.submit(["a@example.com"])
            self.run_send()
            self.assert_delivered(r, ["a@example.com"], "CRAM-MD5")

    def test_implicit_tls(self):
        with relay.Relay(tls="implicit", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "plain", "tls = implicit\n")
            self.submit(["a@example.com"])
            self.run_send()
            self.assert_delivered(r, ["a@example.com"], "PLAIN")

    def test_xoauth2_token_from_command(self):
        script = os.path.join(self.dir, "token.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho ya29.token-123\necho 'note on stderr' >&2\n")
        os.chmod(script, 0o700)
        with relay.Relay(tls="starttls", cert=pki().server, tokens={USER: "ya29.token-123"}) as r:
            self.write_conf(r.port, f"user = {USER}\npassword_command = {script}\n"
                                    f"ca_file = {pki().ca}\nauth = xoauth2\n")
            self.submit(["a@example.com"])
            _, log = self.run_send("-v")
            self.assert_delivered(r, ["a@example.com"], "XOAUTH2")
            self.assertNotIn("ya29.token-123", log)
            self.assertIn("AUTH XOAUTH2 <redacted>", log)

    def test_verbose_transcript_masks_secrets(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "plain")
            self.submit(["a@example.com"])
            _, log = self.run_send("-v")
            self.assertEqual(len(r.messages), 1)
            plain = base64.b64encode(f"\0{USER}\0{PW}".encode()).decode()
            self.assertIn("> AUTH PLAIN <redacted>", log)
            self.assertIn("> MAIL FROM:", log)
            self.assertNotIn(plain, log)
            self.assertNotIn(PW, log)
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "login")
            self.submit(["a@example.com"])
            _, log = self.run_send("-v")
            self.assertEqual(len(r.messages), 1)
            self.assertNotIn(base64.b64encode(PW.encode()).decode(), log)
            self.assertIn("<redacted>", log)

    def test_wrong_password_keeps_message_queued(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: "other"}) as r:
            self.auth_conf(r, "plain")
            self.submit(["a@example.com"])
            self.submit(["b@example.com"])
            _, log = self.run_send()
            self.assertEqual(r.messages, [])
            self.assertFalse(r.saw("MAIL"))
            q = self.queued()
            self.assertEqual(len(q), 2)
            for env in q.values():
                self.assertEqual(env["rcpts"][0]["state"], "pending")
                self.assertIn("authentication failed", env["error"])
                self.assertIn("535", env["error"])
            self.assertEqual(self.incoming(), [])  # nothing bounced
            self.assertIn("configuration problem", log)
            # One failure per run is enough: the second message did not
            # make the relay see another login.
            self.assertEqual(len(r.auths), 1)

    def refused_tls(self, cert, ca_file, expect):
        with relay.Relay(tls="starttls", cert=cert, users={USER: PW}) as r:
            self.write_conf(r.port, f"user = {USER}\npassword_file = {self.secret_file(PW)}\n"
                                    + (f"ca_file = {ca_file}\n" if ca_file else ""))
            self.submit(["a@example.com"])
            self.run_send()
            self.assertEqual(r.messages, [])
            self.assertFalse(r.saw("AUTH"))
            self.assertFalse(r.saw("MAIL"))
            self.assertEqual(r.auths, [])
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "pending")
            self.assertIn(expect, env["error"])
            self.assertEqual(self.incoming(), [])

    def test_certificate_for_another_host_refused(self):
        self.refused_tls(pki().other, pki().ca, "TLS failure")

    def test_unknown_ca_refused(self):
        self.refused_tls(pki().selfsigned, None, "TLS failure")

    def test_tls_pin_accepts_self_signed(self):
        with relay.Relay(tls="starttls", cert=pki().selfsigned, users={USER: PW}) as r:
            pin = pki().pin(pki().selfsigned[0])
            self.write_conf(r.port, f"user = {USER}\npassword_file = {self.secret_file(PW)}\n"
                                    f"tls_verify = no\ntls_pin = {pin}\n")
            self.submit(["a@example.com"])
            self.run_send()
            self.assertEqual(len(r.messages), 1)

    def test_relay_without_starttls_refused(self):
        with relay.Relay(tls=None, users={USER: PW}, auth_required=False) as r:
            self.auth_conf(r, "plain")
            self.submit(["a@example.com"])
            self.run_send()
            self.assertEqual(r.messages, [])
            self.assertFalse(r.saw("AUTH"))
            self.assertFalse(r.saw("MAIL"))
            (env,) = self.queued().values()
            self.assertIn("STARTTLS", env["error"])

    def test_credentials_but_no_auth_offered_refused(self):
        with relay.Relay(tls="starttls", cert=pki().server, advertise_auth=False,
                         auth_required=False) as r:
            self.auth_conf(r, "auto")
            self.submit(["a@example.com"])
            self.run_send()
            self.assertEqual(r.messages, [])
            self.assertFalse(r.saw("MAIL"))
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "pending")
            self.assertIn("did not offer AUTH", env["error"])

    def test_password_file_readable_by_others_refused(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            path = self.secret_file(PW, 0o644)
            self.write_conf(r.port, f"user = {USER}\npassword_file = {path}\nca_file = {pki().ca}\n")
            self.submit(["a@example.com"])
            code, log = self.run_send(check=False)
            self.assertEqual(code, 78)
            self.assertIn(path, log)
            self.assertIn("mode 0644", log)
            self.assertIn("chmod 600", log)
            self.assertEqual(r.connections, 0)
            (env,) = self.queued().values()
            self.assertEqual(env["rcpts"][0]["state"], "pending")

    def test_caller_environment_has_no_effect(self):
        keylog = os.path.join(self.dir, "keys.log")
        env = dict(os.environ, SSLKEYLOGFILE=keylog, all_proxy="http://127.0.0.1:9",
                   ALL_PROXY="http://127.0.0.1:9", smtp_proxy="http://127.0.0.1:9",
                   https_proxy="http://127.0.0.1:9")
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "plain")
            self.submit(["a@example.com"])
            self.run_send(env=env)
            self.assert_delivered(r, ["a@example.com"], "PLAIN")
        self.assertFalse(os.path.exists(keylog))

    def test_check_reports_tls_and_login(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: PW}) as r:
            self.auth_conf(r, "plain")
            code, out = self.check()
            self.assertEqual(code, 0, out)
            self.assertIn("TLS: TLSv1.3", out)
            self.assertIn("certificate subject: /CN=127.0.0.1", out)
            self.assertIn("AUTH offered:", out)
            self.assertIn("PLAIN", out)
            self.assertIn(f"login as {USER}: ok", out)
            self.assertEqual(r.messages, [])
            code, out = self.check("--send", "test@example.com")
            self.assertEqual(code, 0, out)
            self.assertEqual(len(r.messages), 1)
            self.assertEqual(r.messages[0].rcpt_tos, ["test@example.com"])

    def test_check_reports_what_to_fix(self):
        with relay.Relay(tls="starttls", cert=pki().server, users={USER: "other"}) as r:
            self.auth_conf(r, "plain")
            code, out = self.check()
            self.assertEqual(code, 77, out)
            self.assertIn("authentication failed", out)
            self.assertIn("fix:", out)
        with relay.Relay(tls="starttls", cert=pki().other, users={USER: PW}) as r:
            self.auth_conf(r, "plain")
            code, out = self.check()
            self.assertEqual(code, 69, out)
            self.assertIn("other.example", out)  # what the relay presented
            self.assertIn("fix:", out)
            self.assertFalse(r.saw("AUTH"))

    def check(self, *args):
        import subprocess
        from sendtest import SEND
        p = subprocess.run([SEND, "-C", self.conf, "--check", *args], capture_output=True,
                           timeout=60)
        return p.returncode, p.stdout.decode() + p.stderr.decode()


if __name__ == "__main__":
    unittest.main()
