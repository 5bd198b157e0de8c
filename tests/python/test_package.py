# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Packaging of the Python binding: python/pyproject.toml installs ijepa.py
and ijepa_convert.py with pip into a fresh venv; the installed binding
imports without the C library and says what to install or set at its first
use, and finds an installed libijepa.so.0 by LD_LIBRARY_PATH (the SONAME
through the dynamic loader) or IJEPA_LIBRARY. Versions in pyproject.toml,
CITATION.cff and the library agree.

The venv test works offline: the venv sees the interpreter's own packages
(--system-site-packages: numpy, setuptools and wheel from Debian's
python3-numpy, python3-setuptools, python3-wheel) and pip runs with
--no-index --no-build-isolation. It skips, saying why, when the venv module
or those build packages are missing."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from common import ROOT, ijepa


def clean_env(**extra):
    """The environment without anything that would find the tree's binding
    or library."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "IJEPA_LIBRARY", "LD_LIBRARY_PATH")}
    env.update(extra)
    return env


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600, **kw)


def library_version():
    with open(os.path.join(ROOT, "include", "ijepa", "version.h")) as f:
        text = f.read()
    parts = [re.search(r"#\s*define\s+IJEPA_VERSION_%s\s+(\d+)" % p, text).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


class TestVersions(unittest.TestCase):
    def test_pyproject_and_citation_carry_the_library_version(self):
        v = library_version()
        self.assertEqual(ijepa.version(), v)
        with open(os.path.join(ROOT, "python", "pyproject.toml")) as f:
            m = re.search(r'^version\s*=\s*"([^"]*)"', f.read(), re.M)
        self.assertIsNotNone(m, "no version in python/pyproject.toml")
        self.assertEqual(m.group(1), v, "python/pyproject.toml")
        with open(os.path.join(ROOT, "CITATION.cff")) as f:
            m = re.search(r'^version:\s*"?([^"\s]*)"?\s*$', f.read(), re.M)
        self.assertIsNotNone(m, "no version in CITATION.cff")
        self.assertEqual(m.group(1), v, "CITATION.cff")


class TestFirstUse(unittest.TestCase):
    """The tree's binding, without the library."""

    def test_import_works_and_first_use_explains(self):
        code = "import ijepa\nprint('imported')\nijepa.version()\n"
        p = run([sys.executable, "-c", code],
                env=clean_env(PYTHONPATH=os.path.join(ROOT, "python")), cwd=tempfile.gettempdir())
        if p.returncode == 0:
            self.skipTest("a libijepa is installed system-wide")
        self.assertIn("imported", p.stdout)  # import itself does not need the library
        self.assertIn("OSError: cannot find libijepa", p.stderr)
        for hint in ("make install", "LD_LIBRARY_PATH", "IJEPA_LIBRARY", "libijepa.so.0"):
            self.assertIn(hint, p.stderr)
        # one line of message, no traceback from inside the loader's retry
        self.assertEqual(p.stderr.count("Traceback"), 1, p.stderr)

    def test_an_older_library_is_named(self):
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("cc")
        if not cc:
            self.skipTest("no C compiler to build a stand-in library")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "old.c")
            with open(src, "w") as f:
                f.write('const char *ijepa_version_string(void) { return "0.0.1"; }\n')
            so = os.path.join(d, "libijepa.so.0")
            c = run([cc, "-shared", "-fPIC", "-o", so, src])
            self.assertEqual(c.returncode, 0, c.stderr)
            code = "import ijepa\nijepa.version()\n"
            p = run([sys.executable, "-c", code],
                    env=clean_env(PYTHONPATH=os.path.join(ROOT, "python"), IJEPA_LIBRARY=so))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("OSError: the libijepa loaded from %r lacks ijepa_" % so, p.stderr)
        self.assertIn("older than this binding", p.stderr)


class TestPipInstall(unittest.TestCase):
    def test_pip_install_into_a_fresh_venv(self):
        real = os.path.realpath(ijepa.lib.path)
        with tempfile.TemporaryDirectory() as d:
            venv = os.path.join(d, "venv")
            p = run([sys.executable, "-m", "venv", "--system-site-packages", venv])
            if p.returncode != 0:
                self.skipTest("%s -m venv does not work (install python3-venv): %s"
                              % (sys.executable, p.stderr.strip().splitlines()[-1:]))
            py = os.path.join(venv, "bin", "python")
            p = run([py, "-c", "import importlib.util as u\n"
                     "print(' '.join(m for m in ('pip', 'setuptools', 'wheel', 'numpy')"
                     " if u.find_spec(m) is None))"], env=clean_env())
            self.assertEqual(p.returncode, 0, p.stderr)
            if p.stdout.strip():
                self.skipTest("the venv lacks %s for an offline install (Debian: python3-pip, "
                              "python3-setuptools, python3-wheel, python3-numpy)"
                              % p.stdout.strip())
            # a copy of python/, so that the build leaves nothing in the tree
            src = os.path.join(d, "src")
            shutil.copytree(os.path.join(ROOT, "python"), src,
                            ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
            p = run([py, "-m", "pip", "install", "--no-index", "--no-build-isolation",
                     "--disable-pip-version-check", src], env=clean_env())
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])

            # the library "installed" in a prefix of its own, as make install lays it out
            libdir = os.path.join(d, "prefix", "lib")
            os.makedirs(libdir)
            shutil.copy(real, libdir)
            os.symlink(os.path.basename(real), os.path.join(libdir, "libijepa.so.0"))

            probe = ("import importlib.metadata, os, sys, ijepa, ijepa_convert\n"
                     "print('module', os.path.realpath(ijepa.__file__))\n"
                     "print('dist', importlib.metadata.version('libijepa'))\n"
                     "print('lib', ijepa.version())\n")
            home = os.path.join(d, "elsewhere")
            os.mkdir(home)
            # without the library: the import works, the first use explains
            p = run([py, "-c", probe], env=clean_env(), cwd=home)
            self.assertIn("module " + os.path.realpath(venv), p.stdout)  # not the tree's copy
            self.assertIn("dist " + library_version(), p.stdout)
            if p.returncode == 0:
                self.skipTest("a libijepa is installed system-wide: the first-use error "
                              "cannot be shown")
            self.assertIn("cannot find libijepa", p.stderr)
            self.assertIn("IJEPA_LIBRARY", p.stderr)
            # found through the dynamic loader, and through IJEPA_LIBRARY
            for env in (clean_env(LD_LIBRARY_PATH=libdir),
                        clean_env(IJEPA_LIBRARY=os.path.join(libdir, "libijepa.so.0"))):
                p = run([py, "-c", probe], env=env, cwd=home)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("lib " + library_version(), p.stdout)
            # the converter's command
            p = run([os.path.join(venv, "bin", "ijepa-convert"), "--help"], env=clean_env(),
                    cwd=home)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("to-ijepa", p.stdout)
            # pip uninstall removes it again
            p = run([py, "-m", "pip", "uninstall", "-y", "libijepa"], env=clean_env())
            self.assertEqual(p.returncode, 0, p.stderr)
            p = run([py, "-c", "import ijepa"], env=clean_env(), cwd=home)
            self.assertNotEqual(p.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(venv, "bin", "ijepa-convert")))


if __name__ == "__main__":
    unittest.main()
