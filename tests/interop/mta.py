# SPDX-License-Identifier: ISC
"""Real MTAs for the interoperability tests: Postfix and exim4, unpacked
from their Debian packages (never installed: either would replace
/usr/sbin/sendmail), each run in a private mount namespace where /etc and
/usr/lib are overlays on a tmpfs, so that their users, groups and
configuration exist only there. They listen on 127.0.0.1 at a port chosen
at run time and deliver everything to mbox files under the test's own
directory, which the test reads from outside the namespace.

    with Postfix(workdir, pki, users={"alerts@example.test": "pw"}) as pf:
        pf.port, pf.mailbox("sink"), pf.log(), pf.restart()

The unpacked packages live in build-interop/ in the source tree
(fetch() downloads them with apt-get download when missing; scripts/interop.sh
and the tests call it). No process outlives stop(): every process whose
mount namespace is the server's is killed.
"""

import mailbox
import os
import re
import pwd
import grp
import signal
import socket
import subprocess
import time

SOURCE = os.environ.get("POSTERN_SOURCE",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
ROOT = os.path.join(SOURCE, "build-interop")

PACKAGES = {
    "smtpd": ["opensmtpd"],
    "postfix": ["postfix"],
    "exim": ["exim4-daemon-light", "exim4-base", "exim4-config"],
}
# Libraries and tools the servers need that are not MTAs (installed).
LIBS = {
    "smtpd": ["libevent-2.1-7", "libssl3", "libpam0g", "libcrypt1", "libdb5.3", "zlib1g"],
    "postfix": ["sasl2-bin", "libsasl2-modules", "libsasl2-modules-db", "libicu72", "libnsl2",
                "libdb5.3"],
    "exim": ["libgnutls-dane0", "libgnutls30", "libidn12", "libpcre2-8-0", "libnsl2",
             "libdb5.3"],
}


class Unavailable(Exception):
    """The server's packages cannot be had on this machine (a skip)."""


def _installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return "install ok installed" in r.stdout


def fetch(name):
    """_fetch under a lock: meson runs two test files at once, and both may
    want the same package."""
    import fcntl
    if os.geteuid() != 0:
        raise Unavailable("the interop tests need root (mount namespaces)")
    os.makedirs(ROOT, exist_ok=True)
    with open(os.path.join(ROOT, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fetch(name)


def _fetch(name):
    """Unpacks the MTA's debs into build-interop/root-NAME (apt-get download +
    dpkg -x) and installs the non-MTA libraries it needs; returns the root.
    Raises Unavailable when that cannot be done (not root, no apt)."""
    root = os.path.join(ROOT, "root-" + name)
    stamp = os.path.join(root, ".unpacked")
    if os.geteuid() != 0:
        raise Unavailable("the interop tests need root (mount namespaces)")
    missing = [p for p in LIBS[name] if not _installed(p)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for attempt in range(30):  # apt is shared: wait out a dpkg lock
            r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                *missing], capture_output=True, text=True, env=env,
                               stdin=subprocess.DEVNULL)
            if r.returncode == 0:
                break
            if "lock" not in r.stderr:
                subprocess.run(["apt-get", "update", "-qq"], capture_output=True,
                               stdin=subprocess.DEVNULL)
            time.sleep(2)  # a retry interval, not synchronisation
        else:
            raise Unavailable(f"cannot install {missing}: {r.stderr.strip()[-300:]}")
    if os.path.exists(stamp):
        return root
    debs = os.path.join(ROOT, "debs")
    os.makedirs(debs, exist_ok=True)
    have = lambda p: any(f.startswith(p + "_") and f.endswith(".deb") for f in os.listdir(debs))
    want = [p for p in PACKAGES[name] if not have(p)]
    if want:
        r = subprocess.run(["apt-get", "download", *want], cwd=debs, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True,
                           stdin=subprocess.DEVNULL)
            r = subprocess.run(["apt-get", "download", *want], cwd=debs, capture_output=True,
                               text=True, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise Unavailable(f"apt-get download {want} failed: {r.stderr.strip()[-300:]}")
    os.makedirs(root, exist_ok=True)
    for p in PACKAGES[name]:
        for f in sorted(os.listdir(debs)):
            if f.startswith(p + "_") and f.endswith(".deb"):
                subprocess.run(["dpkg", "-x", os.path.join(debs, f), root], check=True)
    open(stamp, "w").close()
    return root


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ids(n):
    """n numbers free as both uid and gid on this machine."""
    used = {p.pw_uid for p in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    out, i = [], 61000
    while len(out) < n:
        if i not in used:
            out.append(i)
        i += 1
    return out


def wait_banner(port, deadline_s=30.0, proc=None):
    """Polls 127.0.0.1:port until it greets with 220 (bounded)."""
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                data = s.recv(512)
                if data.startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return data
                last = data
        except OSError as e:
            last = e
        time.sleep(0.05)  # poll interval
    raise RuntimeError(f"no 220 banner on port {port}: {last!r}")


def mbox_messages(path):
    if not os.path.exists(path):
        return []
    box = mailbox.mbox(path, create=False)
    try:
        box.lock = lambda: None
        return [box.get_bytes(k) for k in box.keys()]
    finally:
        box.close()


class Server:
    """One MTA in its own mount namespace. Subclasses write the config
    (self.setup_script(): shell run inside the namespace before exec)."""

    name = "server"
    overlays = ["etc", "usr/lib"]   # on the namespace's tmpfs
    persistent_overlays = []       # upper dirs under self.dir/persist

    def __init__(self, workdir, pki, users, extra=None):
        self.root = fetch(self.name)
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.dir, 0o755)
        self.mail = os.path.join(self.dir, "mail")
        os.makedirs(self.mail, exist_ok=True)
        os.chmod(self.mail, 0o1777)
        self.pki = pki
        self.users = users
        self.extra = extra or {}
        self.port = free_port()
        self.proc = None
        self.ns = None
        self.ids = free_ids(6)
        self.prepare()

    # --- namespace plumbing
    def start(self):
        script = os.path.join(self.dir, "ns.sh")
        with open(script, "w") as f:
            f.write(self.namespace_script())
        logf = open(os.path.join(self.dir, "server.out"), "ab")
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                      "bash", script], stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        # The namespace is the one bash runs in (unshare execs it).
        deadline = time.monotonic() + 10
        mine = os.readlink("/proc/self/ns/mnt")
        while time.monotonic() < deadline:
            try:
                ns = os.readlink(f"/proc/{self.proc.pid}/ns/mnt")
            except OSError:
                ns = None
            if ns and ns != mine:
                self.ns = ns
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        try:
            self.banner = wait_banner(self.port, 30, self.proc)
        except Exception:
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.output()}")
        return self

    def output(self):
        p = os.path.join(self.dir, "server.out")
        with open(p, errors="replace") as f:
            out = f.read()[-3000:]
        return out + "\n" + self.log()[-3000:]

    def pids(self):
        out = []
        if not self.ns:
            return out
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.readlink(f"/proc/{d}/ns/mnt") == self.ns:
                        out.append(int(d))
                except OSError:
                    pass
        return out

    def stop(self, sig=signal.SIGTERM, grace=15.0):
        """Stops the server (sig first, then SIGKILL) and every process in its namespace."""
        if self.proc is None:
            return
        # Like "postfix stop" / killing exim's daemon: the signal goes to the
        # server's main process, which stops its children; whatever is left
        # after the grace time is killed.
        try:
            os.kill(self.proc.pid, sig)
        except OSError:
            pass
        deadline = time.monotonic() + grace
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.ns = None

    def restart(self, sig=signal.SIGTERM, grace=2.0):
        """Stops the server as its init script would, kills what is still
        running after grace seconds (exim's per-connection processes outlive
        its daemon), starts it again on the same port."""
        self.stop(sig, grace)
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def namespace_script(self):
        """Overlays /etc and /usr/lib on a tmpfs, adds the server's users,
        then the subclass's setup and exec."""
        ov = os.path.join(self.dir, "ovl")
        keep = os.path.join(self.dir, "persist")  # upper dirs that outlive a restart
        os.makedirs(ov, exist_ok=True)
        os.makedirs(keep, exist_ok=True)
        return f"""set -e
mount -t tmpfs tmpfs {ov}
for d in {" ".join(self.overlays)}; do
    n=$(echo $d | tr / _)
    mkdir -p {ov}/$n.u {ov}/$n.w
    mount -t overlay overlay -o lowerdir=/$d,upperdir={ov}/$n.u,workdir={ov}/$n.w /$d
done
for d in {" ".join(self.persistent_overlays)}; do
    n=$(echo $d | tr / _)
    mkdir -p {keep}/$n.u {keep}/$n.w
    mount -t overlay overlay -o lowerdir=/$d,upperdir={keep}/$n.u,workdir={keep}/$n.w /$d
done
{self.setup_script()}
"""

    def log(self):
        p = self.log_path()
        if not os.path.exists(p):
            return ""
        with open(p, errors="replace") as f:
            return f.read()

    def mailbox(self, user):
        return mbox_messages(os.path.join(self.mail, user))


def _q(s):
    return "'" + s.replace("'", "'\\''") + "'"


class Postfix(Server):
    """Postfix 3.7: STARTTLS required (smtpd_tls_security_level = encrypt),
    Cyrus SASL from a sasldb (saslpasswd2) required for every recipient,
    a size limit, a refused-recipient table, sender login maps, header and
    body checks; local delivery of example.test to mbox files in
    self.mail (every known name is an alias of user sink)."""

    name = "postfix"
    SIZE_LIMIT = 200000

    def prepare(self):
        d = self.dir
        self.conf = os.path.join(d, "conf")
        self.queue = os.path.join(d, "queue")
        self.data = os.path.join(d, "data")
        for p in (self.conf, self.queue, self.data, os.path.join(self.conf, "sasl")):
            os.makedirs(p, exist_ok=True)
        self.sasldb = os.path.join(self.conf, "sasldb2")
        if os.path.exists(self.sasldb):
            os.unlink(self.sasldb)
        for u, pw in self.users.items():
            user, _, realm = u.partition("@")
            args = ["saslpasswd2", "-p", "-c", "-f", self.sasldb]
            if realm:
                args += ["-u", realm]
            subprocess.run(args + [user], input=pw.encode(), check=True)
        os.chmod(self.sasldb, 0o644)
        with open(os.path.join(self.conf, "sasl", "smtpd.conf"), "w") as f:
            f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "mech_list: PLAIN LOGIN CRAM-MD5\nsasldb_path: /etc/sasldb2\n")
        with open(os.path.join(self.conf, "header_checks"), "w") as f:
            f.write("/^Subject:.*REJECT-ME/ REJECT content rejected by header policy\n")
        with open(os.path.join(self.conf, "body_checks"), "w") as f:
            f.write("/BODY-REJECT-ME/ REJECT content rejected by body policy\n")
        self.write_main()

    def main_params(self):
        cert, key = self.pki.server
        r = self.root
        p = {
            "compatibility_level": "3.6",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "shlib_directory": "/usr/lib/postfix",
            "meta_directory": f"{r}/etc/postfix",
            "command_directory": f"{r}/usr/sbin",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "relay.example.test",
            "mydomain": "example.test",
            "myorigin": "example.test",
            "mydestination": "example.test, localhost",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": os.path.join(self.dir, "maillog"),
            "maillog_file_prefixes": self.dir,
            "mail_spool_directory": self.mail,
            "alias_maps": "inline:{ {someone=sink}, {a=sink}, {b=sink}, {denied=sink}, "
                          "{postmaster=sink} }",
            "alias_database": "",
            "local_recipient_maps": "$alias_maps unix:passwd.byname",
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "smtpd_tls_auth_only": "yes",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "cyrus",
            "smtpd_sasl_path": "smtpd",
            "cyrus_sasl_config_path": "/etc/postfix/sasl",
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_sender_login_maps": "inline:{ {alerts@example.test=alerts@example.test} }",
            "smtpd_sender_restrictions": "reject_sender_login_mismatch",
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject_unauth_destination",
            "smtpd_recipient_restrictions":
                "check_recipient_access inline:{ {denied@example.test=REJECT "
                "recipient refused by policy} }, permit_sasl_authenticated, reject",
            "smtpd_data_restrictions": "reject_unauth_pipelining",
            "smtpd_forbid_bare_newline": "yes",
            "message_size_limit": str(self.SIZE_LIMIT),
            "mailbox_size_limit": "0",
            # Not Debian's "fcntl, dotlock": the restart test stops Postfix in
            # the middle of local deliveries, and a dot lock left by a killed
            # local(8) holds the mailbox for stale_lock_time (500 s).
            "mailbox_delivery_lock": "fcntl",
            "header_checks": f"regexp:{self.conf}/header_checks",
            "body_checks": f"regexp:{self.conf}/body_checks",
            "biff": "no",
            "smtpd_banner": "$myhostname ESMTP Postfix (interop)",
            "maximal_queue_lifetime": "1d",
            "bounce_queue_lifetime": "1d",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C",
        }
        p.update(self.extra)
        return p

    def write_main(self):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in self.main_params().items():
                f.write(f"{k} = {v}\n")
        # master.cf: no chroot, smtpd on the run-time port, postlogd for maillog_file.
        svc = [
            f"127.0.0.1:{self.port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "tlsmgr unix - - n 1000? 1 tlsmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "local unix - n n - - local",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write("\n".join(svc) + "\n")

    def setup_script(self):
        pf, pd, sink, alice, bob, _ = self.ids
        return f"""
echo 'postfix:x:{pf}:{pf}::/nonexistent:/usr/sbin/nologin' >> /etc/passwd
echo 'sink:x:{sink}:{sink}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'alice:x:{alice}:{alice}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'bob:x:{bob}:{bob}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'postfix:x:{pf}:' >> /etc/group
echo 'postdrop:x:{pd}:' >> /etc/group
echo 'sink:x:{sink}:' >> /etc/group
echo 'alice:x:{alice}:' >> /etc/group
echo 'bob:x:{bob}:' >> /etc/group
mkdir -p /usr/lib/postfix /etc/postfix
mount --bind {self.root}/usr/lib/postfix /usr/lib/postfix
cp {self.conf}/main.cf {self.conf}/master.cf /etc/postfix/
mkdir -p /etc/postfix/sasl; cp {self.conf}/sasl/smtpd.conf /etc/postfix/sasl/
cp {self.sasldb} /etc/sasldb2; chown root:postfix /etc/sasldb2; chmod 640 /etc/sasldb2
cp -r {self.root}/etc/postfix/dynamicmaps.cf {self.root}/etc/postfix/postfix-files \
   {self.root}/etc/postfix/dynamicmaps.cf.d {self.root}/etc/postfix/postfix-files.d /etc/postfix/ 2>/dev/null || true
chown root:root {self.queue}; chmod 755 {self.queue}
for s in active bounce corrupt defer deferred flush hold incoming private saved trace; do
    mkdir -p {self.queue}/$s; chown postfix:root {self.queue}/$s; chmod 700 {self.queue}/$s
done
mkdir -p {self.queue}/maildrop {self.queue}/public {self.queue}/pid
chown postfix:postdrop {self.queue}/maildrop; chmod 730 {self.queue}/maildrop
chown postfix:postdrop {self.queue}/public; chmod 710 {self.queue}/public
chown root:root {self.queue}/pid; chmod 755 {self.queue}/pid
chown postfix:postfix {self.data}; chmod 700 {self.data}
rm -f {self.queue}/pid/master.pid {self.data}/master.lock
exec {self.root}/usr/lib/postfix/sbin/master -d
"""

    def log_path(self):
        return os.path.join(self.dir, "maillog")

    def accepted(self, message_id):
        """Relay queue ids of the copies of a message Postfix took (committed:
        qmgr saw it), from its log."""
        log = self.log()
        qids = set(re.findall(r"cleanup\[\d+\]: (\w+): message-id=" + re.escape(message_id), log))
        return sorted(q for q in qids if re.search(r"qmgr\[\d+\]: " + q + r": from=", log))

    def queue_ids(self):
        """Messages still in Postfix's queue (files under incoming/active/deferred).
        A file without the owner-execute bit is one cleanup(8) has not
        finished (Postfix's MAIL_QUEUE_STAT_READY is mode 0700): a cleanup
        killed by restart() leaves it behind, empty, never to be delivered
        and never acknowledged to the client, so it is no message."""
        out = []
        for s in ("incoming", "active", "deferred", "maildrop", "hold"):
            for dp, _, fs in os.walk(os.path.join(self.queue, s)):
                for f in fs:
                    try:
                        if os.lstat(os.path.join(dp, f)).st_mode & 0o100:
                            out.append(f)
                    except FileNotFoundError:  # delivered meanwhile
                        pass
        return out


class Exim(Server):
    """exim 4.96 (exim4-daemon-light, GnuTLS): STARTTLS required (ACL),
    plaintext PLAIN/LOGIN and CRAM-MD5 authenticators offered only over TLS,
    authentication required for every recipient, a size limit, a refused
    recipient, a sender the login must own (ACL at MAIL), a DATA ACL that
    denies on content; example.test is delivered to mbox files in
    self.mail (every known name goes to sink's)."""

    name = "exim"
    SIZE_LIMIT = 200000

    def prepare(self):
        self.spool = os.path.join(self.dir, "spool")
        self.logdir = os.path.join(self.dir, "log")
        for p in (self.spool, self.logdir):
            os.makedirs(p, exist_ok=True)
        # exim reads its key after giving up root: a copy it may read.
        tls = os.path.join(self.dir, "tls")
        os.makedirs(tls, exist_ok=True)
        cert, key = os.path.join(tls, "server.pem"), os.path.join(tls, "server.key")
        for src, dst in zip(self.pki.server, (cert, key)):
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
        self.tls = tls
        (user, pw), = self.users.items()
        extra = "\n".join(f"{k} = {v}" for k, v in self.extra.items())
        self.conf_text = f"""
primary_hostname = relay.example.test
exim_path = {self.root}/usr/sbin/exim4
qualify_domain = example.test
domainlist local_domains = example.test : localhost
daemon_smtp_ports = {self.port}
local_interfaces = 127.0.0.1
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
host_lookup =
rfc1413_hosts =
keep_environment =
tls_advertise_hosts = *
tls_certificate = {cert}
tls_privatekey = {key}
message_size_limit = {self.SIZE_LIMIT}
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
smtp_banner = $smtp_active_hostname ESMTP Exim $version_number (interop)
queue_run_max = 1
timeout_frozen_after = 1h
{extra}

begin acl

acl_check_mail:
  deny    message = STARTTLS required
          !encrypted = *
  deny    message = sender $sender_address not owned by $authenticated_id
          authenticated = *
          !condition = ${{if eqi{{$sender_address}}{{$authenticated_id}}}}
  accept

acl_check_rcpt:
  deny    message = recipient refused by policy
          domains = +local_domains
          local_parts = denied
  deny    domains = +local_domains
          !verify = recipient
  accept  authenticated = *
  require message = relay not permitted
          domains = +local_domains
  deny    message = authentication required

acl_check_data:
  deny    message = content rejected by data ACL
          condition = ${{if match{{$h_Subject:}}{{REJECT-ME}}}}
  accept

begin routers

sink:
  driver = accept
  domains = +local_domains
  local_parts = someone : a : b : sink : postmaster
  transport = sink_file

begin transports

sink_file:
  driver = appendfile
  file = {self.mail}/sink
  user = sink
  group = sink
  mode = 0644
  # fcntl only: a delivery killed by the restart test leaves no lock file.
  # Waited for, not polled every lock_interval (3 s): postern's parallel
  # connections make exim deliver several messages to this file at once.
  use_lockfile = false
  lock_fcntl_timeout = 30s
  envelope_to_add
  return_path_add
  headers_add = X-Original-To: $local_part@$domain

begin retry
*   *   F,1h,1m

begin authenticators

plain_server:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = @PLAIN_CONDITION@
  server_set_id = $auth2
  server_advertise_condition = ${{if def:tls_in_cipher}}

login_server:
  driver = plaintext
  public_name = LOGIN
  server_prompts = "Username:: : Password::"
  server_condition = @LOGIN_CONDITION@
  server_set_id = $auth1
  server_advertise_condition = ${{if def:tls_in_cipher}}

cram_server:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = @CRAM_SECRET@
  server_set_id = $auth1
  server_advertise_condition = ${{if def:tls_in_cipher}}
"""
        self.conf_text = (
            self.conf_text
            .replace("@PLAIN_CONDITION@", "${if and{{eq{$auth2}{%s}}{eq{$auth3}{%s}}}}" % (user, pw))
            .replace("@LOGIN_CONDITION@", "${if and{{eq{$auth1}{%s}}{eq{$auth2}{%s}}}}" % (user, pw))
            .replace("@CRAM_SECRET@", "${if eq{$auth1}{%s}{%s}fail}" % (user, pw)))

    def setup_script(self):
        ex, sink, alice, bob = self.ids[:4]
        return f"""
echo 'Debian-exim:x:{ex}:{ex}::/nonexistent:/usr/sbin/nologin' >> /etc/passwd
echo 'sink:x:{sink}:{sink}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'alice:x:{alice}:{alice}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'bob:x:{bob}:{bob}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'Debian-exim:x:{ex}:' >> /etc/group
echo 'sink:x:{sink}:' >> /etc/group
echo 'alice:x:{alice}:' >> /etc/group
echo 'bob:x:{bob}:' >> /etc/group
mkdir -p /etc/exim4
cat > /etc/exim4/exim4.conf <<'EOF'
{self.conf_text}
EOF
chmod 644 /etc/exim4/exim4.conf
chown -R Debian-exim:Debian-exim {self.spool} {self.logdir} {self.tls}
chmod 700 {self.tls}; chmod 600 {self.tls}/server.key
chmod 750 {self.spool}
exec {self.root}/usr/sbin/exim4 -bdf -q2s
"""

    def log_path(self):
        return os.path.join(self.logdir, "mainlog")

    def output(self):
        panic = os.path.join(self.logdir, "paniclog")
        if not os.path.exists(panic):
            return super().output()
        with open(panic, errors="replace") as f:
            return super().output() + "\npaniclog:\n" + f.read()[-3000:]

    def accepted(self, message_id):
        """exim message ids of the copies it took ("<=" lines)."""
        return sorted(set(re.findall(r"(\S+) <= .* id=" + re.escape(message_id.strip("<>")) + r"$",
                                     self.log(), re.M)))

    def queue_ids(self):
        d = os.path.join(self.spool, "input")
        out = []
        for dp, _, fs in os.walk(d):
            out += [f for f in fs if f.endswith("-H")]
        return out


class OpenSMTPD(Server):
    """OpenSMTPD 6.8 (Debian 12's opensmtpd): tls-require, AUTH from a
    credentials table (crypt(3) hashes), a senders table for the login,
    max-message-size; example.test delivered by its mbox action (its own
    mail.local) into self.mail, bound over /var/mail in the namespace. It
    has no data-phase content check (no built-in filter for it).
    Debian 12's 6.8.0p2 fails every TLS handshake under OpenSSL 3 (its
    privilege-separated key process: "SSL routines::EVP lib", OpenSMTPD
    issues #1171 and #1239, with EC and RSA keys alike); tls_works() tells,
    and the tests skip then."""

    name = "smtpd"
    SIZE_LIMIT = 200000
    overlays = ["etc", "usr", "var/lib", "run"]
    persistent_overlays = ["var/spool"]

    def prepare(self):
        import crypt
        cert, key = self.pki.server
        (user, pw), = self.users.items()
        t = os.path.join(self.dir, "tables")
        os.makedirs(t, exist_ok=True)
        with open(os.path.join(t, "creds"), "w") as f:
            f.write(f"{user} {crypt.crypt(pw, crypt.mksalt(crypt.METHOD_SHA512))}\n")
        with open(os.path.join(t, "senders"), "w") as f:
            f.write(f"{user} {user}\n")
        with open(os.path.join(t, "aliases"), "w") as f:
            for a in ("someone", "a", "b", "postmaster"):
                f.write(f"{a}: sink\n")
        self.tables = t
        self.conf_text = f"""
pki relay.example.test cert "{cert}"
pki relay.example.test key "{key}"
table creds file:{t}/creds
table owners file:{t}/senders
table aliasmap file:{t}/aliases
smtp max-message-size {self.SIZE_LIMIT}
listen on 127.0.0.1 port {self.port} tls-require pki relay.example.test auth-optional <creds> senders <owners> hostname relay.example.test
action "local" mbox alias <aliasmap>
match from any for rcpt-to "denied@example.test" reject
match auth from any for domain "example.test" action "local"
"""

    def setup_script(self):
        d, q, sink, alice, bob = self.ids[:5]
        return f"""
echo 'opensmtpd:x:{d}:{d}::/var/lib/opensmtpd/empty:/usr/sbin/nologin' >> /etc/passwd
echo 'opensmtpq:x:{q}:{q}::/var/lib/opensmtpd/empty:/usr/sbin/nologin' >> /etc/passwd
echo 'sink:x:{sink}:{sink}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'alice:x:{alice}:{alice}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'bob:x:{bob}:{bob}::{self.dir}:/bin/sh' >> /etc/passwd
echo 'opensmtpd:x:{d}:' >> /etc/group
echo 'opensmtpq:x:{q}:' >> /etc/group
echo 'sink:x:{sink}:' >> /etc/group
echo 'alice:x:{alice}:' >> /etc/group
echo 'bob:x:{bob}:' >> /etc/group
echo relay.example.test > /etc/mailname
mkdir -p /usr/libexec/opensmtpd /var/lib/opensmtpd/empty /var/spool/smtpd /var/mail
cp -a {self.root}/usr/libexec/opensmtpd/. /usr/libexec/opensmtpd/
cp {self.root}/usr/sbin/smtpctl /usr/sbin/smtpctl
mount --bind {self.mail} /var/mail
chmod 711 /var/spool/smtpd
cat > /etc/smtpd.conf <<'SMTPDCONF'
{self.conf_text}
SMTPDCONF
chmod 644 /etc/smtpd.conf
exec {self.root}/usr/sbin/smtpd -d -f /etc/smtpd.conf
"""

    def log_path(self):
        return os.path.join(self.dir, "server.out")

    def tls_works(self):
        import smtplib
        import ssl
        c = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        try:
            c.ehlo("probe.example")
            c.starttls(context=ssl.create_default_context(cafile=self.pki.ca))
            c.ehlo("probe.example")
            c.noop()
            return True
        except (ssl.SSLError, smtplib.SMTPException, OSError):
            return False
        finally:
            c.close()

    def queue_ids(self):
        out = []
        base = os.path.join(self.dir, "persist", "var_spool.u", "smtpd")
        for s in ("queue", "incoming"):
            for dp, _, fs in os.walk(os.path.join(base, s)):
                out += fs
        return out
