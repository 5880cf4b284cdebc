# SPDX-License-Identifier: ISC
"""postern against a real exim 4.96 relay (Debian 12's exim4-daemon-light,
unpacked, in its own mount namespace): see relaytests.py for the cases and
mta.Exim for the relay's configuration."""

import unittest

import interop
import mta
from relaytests import RelayTests


class Exim(RelayTests, interop.RelayCase):
    server_class = mta.Exim



if __name__ == "__main__":
    interop.main()
