# SPDX-License-Identifier: ISC
"""The install: meson install --destdir with etc/install.sh (SPEC
"Privileges and trust": DESTDIR-friendly, links, modes)."""

import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ.get("POSTERN_BUILD", "")
SOURCE = os.environ.get("POSTERN_SOURCE", "")


def build_option(name):
    r = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        return None
    for o in json.loads(r.stdout):
        if o["name"] == name:
            return o["value"]
    return None


def pkgconfig_var(name):
    r = subprocess.run(["pkg-config", "--variable=" + name, "systemd"], capture_output=True,
                       text=True, timeout=60)
    return r.stdout.strip() if r.returncode == 0 else ""


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


class Install(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="postern-install-")
        self.addCleanup(shutil.rmtree, self.dest, True)
        self.prefix = build_option("prefix") or "/usr/local"
        self.spool = build_option("spool_dir") or "/var/spool/postern"

    def test_destdir_install_makes_links_and_spool(self):
        if build_option("install_ownership") is not False:
            self.skipTest("build configured with install_ownership=true")
        r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir",
                            self.dest], capture_output=True, text=True, timeout=170)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        root = self.dest + self.prefix
        sbin = os.path.join(root, "sbin")
        self.assertTrue(os.path.isfile(os.path.join(sbin, "postern")))
        if build_option("sendmail_links") is not False:
            for name in ("sendmail", "mailq", "newaliases"):
                path = os.path.join(sbin, name)
                self.assertTrue(os.path.islink(path), path)
                self.assertEqual(os.readlink(path), "postern")
                self.assertTrue(os.path.samefile(path, os.path.join(sbin, "postern")))
            lib = os.path.join(root, "lib", "sendmail")
            self.assertEqual(os.readlink(lib), "../sbin/postern")
            self.assertTrue(os.path.samefile(lib, os.path.join(sbin, "postern")))
        for d in ("incoming", "queue", "failed"):
            self.assertTrue(os.path.isdir(self.dest + self.spool + "/" + d), d)
        # Nothing escaped DESTDIR: the real spool was not created by us.
        deliver = [os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
                   if f == "postern-deliver"]
        self.assertEqual(len(deliver), 1)
        # No set-id bits without install_ownership.
        for path in (os.path.join(sbin, "postern"), deliver[0]):
            self.assertEqual(os.stat(path).st_mode & (stat.S_ISUID | stat.S_ISGID), 0, path)
        self.check_service_files()

    def check_service_files(self):
        # The units, sysusers.d and tmpfiles.d files land where systemd's
        # pkg-config file (or the option) says, 0644, naming the configured
        # paths; the cron line only when asked.
        installed = self.installed()
        expect = {"postern-send.path", "postern-send.service", "postern-queue.timer",
                  "postern-smtp.socket", "postern-smtp@.service"}
        unitdir = build_option("systemdsystemunitdir") or pkgconfig_var("systemdsystemunitdir")
        files = {}
        for var, names in (("systemdsystemunitdir", expect), ("sysusersdir", {"postern.conf"}),
                           ("tmpfilesdir", {"postern.conf"})):
            d = build_option(var) or pkgconfig_var(var)
            if d in ("", "no"):
                continue
            for n in names:
                path = os.path.join(d, n)
                self.assertIn(path, installed, var)
                files[path] = self.dest + path
        if unitdir in ("", "no"):
            self.skipTest("no systemd unit directory on this system")
        libexec = self.prefix + "/libexec/postern/"
        for path, real in files.items():
            st = os.lstat(real)
            self.assertTrue(stat.S_ISREG(st.st_mode), path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644, path)
        with open(files[os.path.join(unitdir, "postern-send.service")]) as f:
            text = f.read()
        self.assertIn("ExecStart=" + libexec + "postern-send", text)
        self.assertIn(self.spool, text)
        with open(files[os.path.join(unitdir, "postern-send.path")]) as f:
            self.assertIn("DirectoryNotEmpty=" + self.spool + "/incoming", f.read())
        cron = [p for p in installed if p.endswith("/cron.d/postern")]
        if build_option("install_cron"):
            self.assertEqual(len(cron), 1)
            st = os.stat(self.dest + cron[0])
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)
            with open(self.dest + cron[0]) as f:
                self.assertIn(libexec + "postern-send", f.read())
        else:
            self.assertEqual(cron, [])

    def installed(self):
        r = subprocess.run(["meson", "introspect", "--installed", BUILD], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return set(json.loads(r.stdout).values())

    def run_script(self, ownership):
        prefix = os.path.join(self.dest, "usr")
        os.makedirs(os.path.join(prefix, "sbin"))
        os.makedirs(os.path.join(prefix, "libexec", "postern"))
        for p in ("sbin/postern", "libexec/postern/postern-deliver"):
            with open(os.path.join(prefix, p), "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(os.path.join(prefix, p), 0o755)
        env = dict(os.environ, DESTDIR=self.dest, MESON_INSTALL_DESTDIR_PREFIX=prefix,
                   MESON_INSTALL_PREFIX="/usr")
        return subprocess.run(["/bin/sh", os.path.join(SOURCE, "etc", "install.sh"),
                               ownership, "/var/spool/postern", "1"], env=env,
                              capture_output=True, text=True, timeout=60), prefix

    @unittest.skipUnless(os.getuid() == 0, "ownership needs root")
    def test_ownership_modes(self):
        r, prefix = self.run_script("1")
        postern = os.path.join(prefix, "sbin", "postern")
        deliver = os.path.join(prefix, "libexec", "postern", "postern-deliver")
        if not (user_exists("postern") and group_exists("postdrop")):
            # In a DESTDIR the users are not created: refuse, set no bits.
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("missing", r.stderr)
            for p in (postern, deliver):
                self.assertEqual(os.stat(p).st_mode & (stat.S_ISUID | stat.S_ISGID), 0)
            return
        self.assertEqual(r.returncode, 0, r.stderr)
        postern_uid = pwd.getpwnam("postern").pw_uid
        postdrop = grp.getgrnam("postdrop").gr_gid
        spool = self.dest + "/var/spool/postern"

        def check(path, mode, uid, gid):
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), mode, path)
            self.assertEqual((st.st_uid, st.st_gid), (uid, gid), path)

        pgid = pwd.getpwnam("postern").pw_gid
        check(postern, 0o2755, 0, postdrop)
        check(deliver, 0o4750, 0, pgid)
        check(spool, 0o755, 0, 0)
        check(spool + "/incoming", 0o1730, postern_uid, postdrop)
        check(spool + "/queue", 0o700, postern_uid, pgid)
        check(spool + "/failed", 0o700, postern_uid, pgid)

    def test_script_without_ownership(self):
        r, prefix = self.run_script("0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.readlink(os.path.join(prefix, "sbin", "mailq")), "postern")
        self.assertTrue(os.path.isdir(self.dest + "/var/spool/postern/incoming"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
