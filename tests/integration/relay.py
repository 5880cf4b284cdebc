# SPDX-License-Identifier: ISC
"""A real SMTP relay for the integration tests (aiosmtpd, 127.0.0.1, port
chosen at run time), with TLS, AUTH and fault injection.

In a test (the server runs in a thread of the test process):

    with Relay(tls="starttls", cert=pki.server, users={"u": "p"}) as r:
        ... r.port ...
        r.faults["rcpt"] = {"bad@example.com": "550 5.1.1 no such user"}
        ... r.messages (list of Message), r.connections, r.commands ...

As a program (prints "READY <port>" once listening, stores each message as
N.eml + N.json in --spool):

    python3 relay.py --tls starttls --cert c.pem --key k.pem --user u:p --spool DIR

Options (constructor keywords):
    tls              None (plain), "starttls" or "implicit"
    cert             (certfile, keyfile) for TLS
    require_starttls refuse MAIL/AUTH before STARTTLS (default True with starttls)
    users            {user: password} for PLAIN, LOGIN, CRAM-MD5
    tokens           {user: token} for XOAUTH2
    advertise_auth   False: no AUTH line in EHLO (and AUTH is refused)
    auth_required    refuse MAIL before AUTH with 530 (default: True if users/tokens)
    port             0: any free port (r.port tells which)
    max_sessions     more sessions at once than this get "421 4.7.0 Error: too many
                     connections" as their greeting and are closed (Postfix's
                     smtpd_client_connection_count_limit); r.refused counts them,
                     r.peak_sessions is the most served at once
Counters: r.txns is the number of sessions between MAIL FROM and the end of
their DATA, r.peak_txns the most at once (transactions that overlapped).
Faults (r.faults, a dict that may be changed while the relay runs):
    "mail": "451 4.3.0 try later"            reply to MAIL FROM; may be a function
                                              address -> reply or None
    "rcpt": {addr: "550 5.1.1 ..."}           reply to RCPT TO for addr
    "data": "554 5.6.0 rejected"              reply after the final dot (not stored); may be
                                              a function Message -> reply or None
    "drop_mid_data": n                        close after n octets of DATA
    "drop_after_dot": True                    close after the final dot, no reply (stored in r.lost)
    "delay_mail": seconds, "delay_final": seconds   sleep before replying
    "greeting": "554 5.7.1 go away"           reply instead of the greeting
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import ssl
import sys
import threading
import time
import warnings
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd logs every refused TLS handshake with a traceback: the tests
# provoke those on purpose.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
warnings.filterwarnings("ignore", message="Session.login_data")


def free_port():
    """A port nobody listens on right now (bound, then released): for a
    relay that is down, or one started later on a known port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Message:
    mail_from: str
    rcpt_tos: list
    data: bytes
    tls: bool
    auth_user: str
    connection: int


@dataclass
class Command:
    connection: int
    verb: str
    tls: bool


class _Handler:
    def __init__(self, relay):
        self.relay = relay

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        f = self.relay.faults
        if f.get("delay_mail"):
            await asyncio.sleep(f["delay_mail"])
        reply = f.get("mail")
        if callable(reply):
            reply = reply(address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.relay.faults.get("rcpt", {}).get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        f = self.relay.faults
        r = self.relay
        # aiosmtpd hands the null sender over as "<>"; tests compare with "".
        sender = "" if envelope.mail_from == "<>" else envelope.mail_from
        msg = Message(sender, list(envelope.rcpt_tos), bytes(envelope.original_content),
                      server.tls_active, server.login_user, server.conn_no)
        if f.get("delay_final"):
            await asyncio.sleep(f["delay_final"])
        if f.get("drop_after_dot"):
            with r.lock:
                r.lost.append(msg)
            server.transport.close()
            await asyncio.sleep(3600)  # cancelled when the connection goes
        reply = f.get("data")
        if callable(reply):
            reply = reply(msg)
        if reply:
            return reply
        r._store(msg)
        return f"250 2.0.0 Ok: queued as {len(r.messages)}"

    # XOAUTH2 (Google/Microsoft): base64("user=U\x01auth=Bearer T\x01\x01").
    async def auth_XOAUTH2(self, server, args):
        if len(args) > 1:
            blob = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=True)
        parts = dict(p.split(b"=", 1) for p in blob.split(b"\x01") if b"=" in p)
        user = parts.get(b"user", b"").decode()
        token = parts.get(b"auth", b"").decode()
        ok = token == "Bearer " + self.relay.tokens.get(user, "\0")
        self.relay._auth(server, "XOAUTH2", user, ok)
        if ok:
            server.login_user = user
            return AuthResult(success=True, auth_data=user)
        err = base64.b64encode(json.dumps({"status": "401", "schemes": "Bearer"}).encode())
        await server.push(b"334 " + err)
        await server._reader.readline()
        return AuthResult(success=False, handled=False)

    async def auth_CRAM__MD5(self, server, args):
        challenge = f"<{os.getpid()}.{time.time()}@relay.test>".encode()
        resp = await server.challenge_auth(challenge)
        if not isinstance(resp, bytes) or b" " not in resp:
            return AuthResult(success=False, handled=False)
        user, digest = resp.decode().rsplit(" ", 1)
        pw = self.relay.users.get(user)
        ok = pw is not None and hmac.compare_digest(
            hmac.new(pw.encode(), challenge, hashlib.md5).hexdigest(), digest)
        self.relay._auth(server, "CRAM-MD5", user, ok)
        if ok:
            server.login_user = user
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


class _Server(SMTP):
    """aiosmtpd's SMTP with connection counting, a command log, the
    no-AUTH and greeting faults and the mid-DATA drop."""

    def __init__(self, relay, *args, **kw):
        self.relay = relay
        self.conn_no = 0
        self.login_user = ""
        super().__init__(*args, **kw)

    @property
    def tls_active(self):
        return self._tls_protocol is not None or self.relay.tls == "implicit"

    def connection_made(self, transport):
        if self.transport is None:
            with self.relay.lock:
                r = self.relay
                r.connections += 1
                self.conn_no = r.connections
                self.over_limit = r.max_sessions is not None and r.open_sessions >= r.max_sessions
                if self.over_limit:
                    r.refused += 1
                else:
                    r.open_sessions += 1
                    r.peak_sessions = max(r.peak_sessions, r.open_sessions)
        super().connection_made(transport)

    def connection_lost(self, exc):
        with self.relay.lock:
            if not getattr(self, "over_limit", True):
                self.relay.open_sessions -= 1
                self.over_limit = True
        self._txn(False)
        super().connection_lost(exc)

    def _txn(self, begin):
        with self.relay.lock:
            r = self.relay
            if begin and not getattr(self, "in_txn", False):
                r.txns += 1
                r.peak_txns = max(r.peak_txns, r.txns)
            elif not begin and getattr(self, "in_txn", False):
                r.txns -= 1
            self.in_txn = begin

    async def push(self, status):
        text = status if isinstance(status, str) else status.decode("latin-1")
        if not self.relay.advertise_auth and text.startswith("250-AUTH"):
            return
        if text.startswith("220 ") and getattr(self, "over_limit", False) \
                and not self.relay._greeted(self):
            await super().push("421 4.7.0 Error: too many connections from 127.0.0.1")
            self.transport.close()
            return
        if text.startswith("220 ") and self.relay.faults.get("greeting") \
                and not self.relay._greeted(self):
            return await super().push(self.relay.faults["greeting"])
        return await super().push(status)

    def _log(self, verb):
        with self.relay.lock:
            self.relay.commands.append(Command(self.conn_no, verb, self.tls_active))

    async def smtp_AUTH(self, arg):
        self._log("AUTH")
        if not self.relay.advertise_auth:
            return await self.push("502 5.5.1 AUTH not available")
        return await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg):
        self._log("MAIL")
        self._txn(True)
        if self.relay.auth_required and not self.session.authenticated:
            return await self.push("530 5.7.0 Authentication required")
        return await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self._log("RCPT")
        return await super().smtp_RCPT(arg)

    async def smtp_STARTTLS(self, arg):
        self._log("STARTTLS")
        return await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg):
        self._log("DATA")
        n = self.relay.faults.get("drop_mid_data")
        if n and self.envelope.rcpt_tos:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            got = 0
            while got < n:
                chunk = await self._reader.read(n - got)
                if not chunk:
                    break
                got += len(chunk)
            # abort(), not close(): close() would wait for the unread data.
            self.transport.abort()
            await asyncio.sleep(3600)
            return
        await super().smtp_DATA(arg)
        self._txn(False)


class Relay:
    def __init__(self, tls=None, cert=None, require_starttls=None, users=None, tokens=None,
                 advertise_auth=True, auth_required=None, data_size_limit=64 << 20,
                 spool=None, port=0, max_sessions=None):
        self.tls = tls
        self.cert = cert
        self.require_starttls = (tls == "starttls") if require_starttls is None \
            else require_starttls
        self.users = users or {}
        self.tokens = tokens or {}
        self.advertise_auth = advertise_auth
        self.auth_required = bool(self.users or self.tokens) if auth_required is None \
            else auth_required
        self.data_size_limit = data_size_limit
        self.spool = spool
        self.faults = {}
        self.messages = []
        self.lost = []
        self.commands = []
        self.auths = []          # (mechanism, user, ok, tls)
        self.connections = 0
        self.max_sessions = max_sessions
        self.open_sessions = 0
        self.peak_sessions = 0
        self.refused = 0
        self.txns = 0
        self.peak_txns = 0
        self.lock = threading.Lock()
        self.port = port
        self._greeted_ids = set()
        self._loop = None
        self._thread = None
        self._server = None

    # --- bookkeeping used by the server objects
    def _greeted(self, server):
        first = id(server) in self._greeted_ids
        self._greeted_ids.add(id(server))
        return first

    def _auth(self, server, mech, user, ok):
        with self.lock:
            self.auths.append((mech, user, ok, server.tls_active))

    def _store(self, msg):
        with self.lock:
            self.messages.append(msg)
            n = len(self.messages)
        if self.spool:
            base = os.path.join(self.spool, str(n))
            with open(base + ".eml", "wb") as f:
                f.write(msg.data)
            with open(base + ".json", "w") as f:
                json.dump({"from": msg.mail_from, "rcpt": msg.rcpt_tos, "tls": msg.tls,
                           "auth": msg.auth_user, "connection": msg.connection}, f)

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else ""
        pw = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else ""
        ok = self.users.get(user) == pw and user in self.users
        self._auth(server, mechanism, user, ok)
        if ok:
            server.login_user = user
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Authentication credentials invalid")

    def _ssl_context(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*self.cert)
        return ctx

    def _factory(self):
        ctx = self._ssl_context() if self.tls == "starttls" else None
        return _Server(self, _Handler(self), hostname="relay.test", loop=self._loop,
                       tls_context=ctx, require_starttls=self.require_starttls,
                       auth_require_tls=self.tls == "starttls",
                       authenticator=self._authenticator,
                       data_size_limit=self.data_size_limit, timeout=60)

    # --- lifecycle
    def start(self):
        ready = threading.Event()
        err = []

        def main():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                ssl_ctx = self._ssl_context() if self.tls == "implicit" else None
                self._server = self._loop.run_until_complete(self._loop.create_server(
                    self._factory, "127.0.0.1", self.port, ssl=ssl_ctx, reuse_address=True))
                self.port = self._server.sockets[0].getsockname()[1]
            except Exception as e:  # reported to start()'s caller
                err.append(e)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            for t in asyncio.all_tasks(self._loop):
                t.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        ready.wait()
        if err:
            raise err[0]
        return self

    def stop(self):
        if self._loop and self._thread and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def saw(self, verb):
        """True if any connection sent this command (AUTH, MAIL, ...)."""
        with self.lock:
            return any(c.verb == verb for c in self.commands)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tls", choices=["starttls", "implicit"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user", action="append", default=[], help="user:password")
    ap.add_argument("--token", action="append", default=[], help="user:token (XOAUTH2)")
    ap.add_argument("--no-auth", action="store_true", help="do not advertise AUTH")
    ap.add_argument("--spool", help="directory for N.eml and N.json")
    a = ap.parse_args(argv)
    r = Relay(tls=a.tls, cert=(a.cert, a.key) if a.cert else None,
              users=dict(u.split(":", 1) for u in a.user),
              tokens=dict(t.split(":", 1) for t in a.token),
              advertise_auth=not a.no_auth, spool=a.spool)
    r.start()
    print(f"READY {r.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        r.stop()


if __name__ == "__main__":
    main()
