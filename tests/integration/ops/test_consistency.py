# SPDX-License-Identifier: ISC
"""The documentation and the units agree with the code:
- mandoc -Tlint finds nothing in the three man pages;
- every config key the loader takes (known_config_keys() in
  src/common/config.cpp, itself checked against set_key() here and by the
  unit test) is documented in postern.conf(5) and shown in etc/postern.conf,
  in its section, and neither documents a key the loader refuses;
- every flag the parser knows (src/submit/options.cpp) is in postern(8);
- systemd-analyze verify accepts the units in etc/ (ExecStart pointed at
  the build's binaries, which exist, unlike /usr/libexec/postern)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from opslib import BUILD, SOURCE  # noqa: E402


def read(*parts):
    with open(os.path.join(SOURCE, *parts)) as f:
        return f.read()


def function_body(text, signature):
    """The text of the function whose definition starts with signature."""
    start = text.index(signature)
    brace = text.index("{", start)
    depth, i = 0, brace
    while True:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace:i + 1]
        i += 1


def known_keys():
    body = function_body(read("src", "common", "config.cpp"),
                         "const std::vector<std::string>& known_config_keys()")
    return re.findall(r'"(\w+\.\w+)"', body)


def set_key_keys():
    body = function_body(read("src", "common", "config.cpp"), "std::string set_key(")
    keys, section = [], None
    for m in re.finditer(r'sec == "(\w+)"|key == "(\w+)"', body):
        if m.group(1):
            section = m.group(1)
        else:
            keys.append(f"{section}.{m.group(2)}")
    return keys


def man_keys():
    """section.key for every tag (.TP) under the [section] headings."""
    keys, section, tag_next = set(), None, False
    for line in read("man", "postern.conf.5").splitlines():
        m = re.match(r'\.SH "\[(\w+)\]"', line)
        if m:
            section = m.group(1)
        elif line.startswith(".SH"):
            section = None
        elif line == ".TP":
            tag_next = True
            continue
        elif tag_next and section and line.startswith(".B"):
            for word in re.findall(r"[a-z_]+", line.split(None, 1)[1]):
                keys.add(f"{section}.{word}")
        tag_next = False
    return keys


def example_keys():
    keys, section = set(), None
    for line in read("etc", "postern.conf").splitlines():
        m = re.match(r"\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r";?(\w+)\s*=", line)
        if m and section:
            keys.add(f"{section}.{m.group(1)}")
    return keys


class ManPages(unittest.TestCase):
    @unittest.skipUnless(shutil.which("mandoc"), "mandoc is not installed")
    def test_mandoc_lint_is_clean(self):
        for page in ("postern.8", "postern.conf.5", "postern-deliver.8"):
            r = subprocess.run(["mandoc", "-Tlint", os.path.join(SOURCE, "man", page)],
                               capture_output=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, b""), page)


class ConfigKeys(unittest.TestCase):
    def test_list_matches_the_loader(self):
        known = known_keys()
        self.assertGreater(len(known), 25)
        self.assertEqual(len(known), len(set(known)), "duplicates in known_config_keys()")
        self.assertEqual(sorted(known), sorted(set_key_keys()))

    def test_every_key_is_in_the_man_page(self):
        documented = man_keys()
        self.assertEqual(sorted(set(known_keys()) - documented), [], "missing in postern.conf(5)")
        self.assertEqual(sorted(documented - set(known_keys())), [], "unknown keys documented")

    def test_every_key_is_in_the_example_config(self):
        shown = example_keys()
        self.assertEqual(sorted(set(known_keys()) - shown), [], "missing in etc/postern.conf")
        self.assertEqual(sorted(shown - set(known_keys())), [], "unknown keys in etc/postern.conf")


class Flags(unittest.TestCase):
    def setUp(self):
        self.src = read("src", "submit", "options.cpp")
        self.man = read("man", "postern.8")

    def letters(self, function):
        body = function_body(self.src, f"bool {function}(char c)")
        return re.search(r'std::string_view\("(\w+)"\)', body).group(1)

    def test_option_set_in_the_man_page_is_the_parsers(self):
        with_arg, without = self.letters("takes_argument"), self.letters("no_argument")
        m = re.search(r"^\.B ([A-Za-z]:[A-Za-z:]+)$", self.man, re.M)
        self.assertIsNotNone(m, "postern(8) lists the option set")
        in_man = m.group(1)
        man_with = set(re.findall(r"(\w):", in_man))
        man_all = set(in_man.replace(":", ""))
        self.assertEqual(man_with, set(with_arg) | {"q"})  # q: attached argument only
        self.assertEqual(man_all, set(with_arg) | set(without) | {"q"})

    def test_meaningful_flags_are_described(self):
        apply = function_body(self.src, "Status apply(SubmitOptions& o, char c")
        cases = re.findall(r"case '(\w)':", apply) + ["q"]
        self.assertGreater(len(cases), 10)
        for c in cases:
            self.assertTrue("\\-" + c in self.man, f"-{c} is not in postern(8)")
        b = function_body(self.src, "Status apply_b(")
        for v in re.findall(r'v == "(\w+)"', b):
            self.assertTrue(r"\-b" + v in self.man, f"-b{v} is not in postern(8)")
        o = function_body(self.src, "void apply_o(")
        for v in re.findall(r'v == "(\w+)"', o):
            if v != "d":  # -od alone is -odb
                self.assertTrue(r"\-o" + v in self.man, f"-o{v} is not in postern(8)")

    def test_long_options_are_described(self):
        longs = re.findall(r'a == "--([\w-]+)"', self.src)
        for name in ("check", "send", "version", "status", "json", "warn", "crit", "import",
                     "format"):
            self.assertIn(name, longs)
        for name in longs:
            self.assertTrue(r"\-\-" + name in self.man, f"--{name} is not in postern(8)")


@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
class Units(unittest.TestCase):
    def test_systemd_analyze_verify(self):
        tmp = tempfile.mkdtemp(prefix="postern-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        units = [n for n in sorted(os.listdir(os.path.join(SOURCE, "etc")))
                 if n.endswith((".service", ".socket", ".path", ".timer"))]
        self.assertIn("postern-smtp.socket", units)
        self.assertIn("postern-smtp@.service", units)
        binaries = {"/usr/libexec/postern/postern-send": os.path.join(BUILD, "postern-send"),
                    "/usr/sbin/postern": os.path.join(BUILD, "postern")}
        for n in units:
            text = read("etc", n)
            for installed, built in binaries.items():
                text = text.replace("ExecStart=" + installed, "ExecStart=" + os.path.abspath(built))
            self.assertNotIn("ExecStart=/usr", text, n)
            with open(os.path.join(tmp, n), "w") as f:
                f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no"] +
                           [os.path.join(tmp, n) for n in units],
                           capture_output=True, timeout=120, cwd=tmp)
        out = (r.stdout + r.stderr).decode()
        # The SMTP door runs as nobody on purpose (see its unit file).
        problems = [line for line in out.splitlines()
                    if "Special user nobody configured" not in line]
        self.assertEqual(r.returncode, 0, out)
        self.assertEqual(problems, [])

    def test_services_are_hardened(self):
        # systemd-analyze's exposure score (0 best, 10 worst) of every
        # service, read from the files alone; 4.0 is the top of its "OK".
        tmp = tempfile.mkdtemp(prefix="postern-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        services = [n for n in sorted(os.listdir(os.path.join(SOURCE, "etc")))
                    if n.endswith(".service")]
        self.assertEqual(services, ["postern-send.service", "postern-smtp@.service"])
        for n in services:
            # An instance name for the template, which cannot be analysed.
            path = os.path.join(tmp, n.replace("@.", "@test."))
            with open(path, "w") as f:
                f.write(read("etc", n))
            r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                                path], capture_output=True, timeout=120, cwd=tmp)
            out = (r.stdout + r.stderr).decode()
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
            self.assertIsNotNone(m, out)
            with self.subTest(unit=n, exposure=m.group(1)):
                self.assertLessEqual(float(m.group(1)), 4.0, out)


if __name__ == "__main__":
    unittest.main()
