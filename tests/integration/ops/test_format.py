# SPDX-License-Identifier: ISC
"""The C++ sources are formatted as .clang-format says (STYLE.md 8)."""

import glob
import os
import shutil
import subprocess
import unittest

SOURCE = os.environ["POSTERN_SOURCE"]


class Format(unittest.TestCase):
    def test_clang_format_clean(self):
        exe = shutil.which("clang-format") or shutil.which("clang-format-14")
        self.assertIsNotNone(exe, "clang-format missing: run bash scripts/deps.sh")
        files = []
        for pattern in ("src/*/*.cpp", "src/*/*.h", "tests/unit/*/*.cpp", "tests/unit/*/*.h",
                        "fuzz/*.cpp"):
            files += sorted(glob.glob(os.path.join(SOURCE, pattern)))
        self.assertGreater(len(files), 50)
        r = subprocess.run([exe, "--dry-run", "--Werror"] + files, capture_output=True,
                           cwd=SOURCE, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace")[:3000])


if __name__ == "__main__":
    unittest.main(verbosity=2)
