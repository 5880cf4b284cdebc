# SPDX-License-Identifier: ISC
"""Runs integration test files again as an ordinary user (nobody), when
the suite runs as root (as CI does): submission, local delivery and the
end-to-end path must work the same without privileges, with the spool
and mailboxes in the test's own temporary directories.

Usage: as_nobody.py TEST.py...  (exit 77, meson's "skipped", when not root)"""

import os
import subprocess
import sys

if os.geteuid() != 0:
    print("skipped: the suite already runs unprivileged")
    sys.exit(77)

failed = 0
for test in sys.argv[1:]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LC_ALL": "C",
        "PYTHONDONTWRITEBYTECODE": "1",
        "POSTERN_BUILD": os.environ["POSTERN_BUILD"],
        "POSTERN_SOURCE": os.environ["POSTERN_SOURCE"],
        "PYTHONPATH": os.environ["PYTHONPATH"],
    }
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "/usr/bin/python3", test], env=env, capture_output=True, timeout=600)
    out = (r.stdout + r.stderr).decode(errors="replace")
    print("== %s as nobody: exit %d" % (os.path.basename(test), r.returncode))
    if r.returncode != 0:
        print(out)
        failed += 1
    else:
        print(out.strip().splitlines()[-1] if out.strip() else "")
sys.exit(1 if failed else 0)
