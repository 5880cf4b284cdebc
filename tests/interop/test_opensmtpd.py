# SPDX-License-Identifier: ISC
"""postern against a real OpenSMTPD 6.8 relay (Debian 12's opensmtpd,
unpacked, in its own mount namespace): see relaytests.py for the cases and
mta.OpenSMTPD for the relay's configuration."""

import unittest

import interop
import mta
from relaytests import RelayTests


class OpenSMTPD(RelayTests, interop.RelayCase):
    server_class = mta.OpenSMTPD

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.server.tls_works():
            cls.tearDownClass()
            raise unittest.SkipTest("this OpenSMTPD fails every TLS handshake (Debian 12's "
                                    "6.8.0p2 under OpenSSL 3: 'SSL routines::EVP lib', "
                                    "OpenSMTPD issues #1171, #1239)")

    def test_content_rejected_after_data_bounces(self):
        self.skipTest("OpenSMTPD has no built-in content check after DATA")


if __name__ == "__main__":
    interop.main()
