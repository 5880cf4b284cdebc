# SPDX-License-Identifier: ISC
"""Throwaway PKI for the integration tests, made with the openssl CLI.

    pki = make_pki(tmpdir)
    pki.ca        CA certificate (PEM) to give postern as ca_file
    pki.server    (cert, key) for 127.0.0.1 / localhost, signed by the CA
    pki.other     (cert, key) for other.example only, signed by the CA
    pki.selfsigned (cert, key) for 127.0.0.1, signed by nobody
    pki.pin(cert) "sha256//<base64>" public-key pin for tls_pin

Run as a script to print the paths: python3 pki.py DIR
"""

import base64
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass


def _run(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _leaf(d, name, cn, san, ca=None):
    key, csr, crt = f"{name}.key", f"{name}.csr", f"{name}.pem"
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", f"/CN={cn}", cwd=d)
    if ca:
        _run("x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-out", crt, "-extfile", ext, cwd=d)
    else:
        _run("x509", "-req", "-in", csr, "-signkey", key, "-days", "2", "-out", crt,
             "-extfile", ext, cwd=d)
    return os.path.join(d, crt), os.path.join(d, key)


@dataclass
class Pki:
    dir: str
    ca: str
    server: tuple
    other: tuple
    selfsigned: tuple

    @staticmethod
    def pin(cert):
        """The sha256//base64 pin of the certificate's public key (curl format)."""
        der = subprocess.run(
            ["sh", "-c", f"openssl x509 -in '{cert}' -pubkey -noout | "
                         "openssl pkey -pubin -outform der"],
            check=True, capture_output=True).stdout
        return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def make_pki(d):
    """Creates the CA and the three leaf certificates under d."""
    os.makedirs(d, exist_ok=True)
    _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=postern test CA",
         cwd=d)
    server = _leaf(d, "server", "127.0.0.1", "IP:127.0.0.1,DNS:localhost", ca=True)
    other = _leaf(d, "other", "other.example", "DNS:other.example", ca=True)
    selfsigned = _leaf(d, "self", "127.0.0.1", "IP:127.0.0.1,DNS:localhost", ca=None)
    return Pki(d, os.path.join(d, "ca.pem"), server, other, selfsigned)


if __name__ == "__main__":
    p = make_pki(sys.argv[1])
    print(f"ca {p.ca}\nserver {p.server[0]} {p.server[1]}\nother {p.other[0]} {p.other[1]}\n"
          f"selfsigned {p.selfsigned[0]} {p.selfsigned[1]}")
