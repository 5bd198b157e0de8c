# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""docs/python.md: every ```python and ```sh block runs, in order, in one
interpreter (Python blocks share their variables), from a temporary
directory where python/, examples/ and lib/ link to this tree. Blocks whose
first line is '# needs torch' are skipped when PyTorch is missing, those whose
first line is '# needs Fashion-MNIST' when the data set is (IJEPA_FMNIST_DIR,
or Debian's dataset-fashion-mnist): a block that uses what such a block
made must carry its mark too, which a run without the data set checks."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from common import FMNIST_DIR, ROOT, have_fmnist, have_torch

DOC = os.path.join(ROOT, "docs", "python.md")

DRIVER = r'''
import json, subprocess, sys, time
t0 = time.time()
with open(sys.argv[1]) as f:
    blocks = json.load(f)
ns = {"__name__": "__docs__"}
for i, (lang, code, line) in enumerate(blocks):
    print("--- block %d (%s, docs/python.md line %d) at %.1f s" % (i, lang, line,
          time.time() - t0), flush=True)
    if lang == "python":
        exec(compile(code, "docs/python.md:%d" % line, "exec"), ns)
    else:
        sys.stdout.flush()
        subprocess.run(["bash", "-euo", "pipefail", "-c", code], check=True)
print("--- all %d blocks ran" % len(blocks))
'''


def doc_blocks(text):
    """[(lang, code, line)] of the ```python and ```sh blocks."""
    out = []
    for m in re.finditer(r"^```(python|sh)\n(.*?)^```", text, flags=re.S | re.M):
        out.append((m.group(1), m.group(2), text.count("\n", 0, m.start()) + 2))
    return out


class TestDocs(unittest.TestCase):
    def test_python_md_blocks_run(self):
        with open(DOC, encoding="utf-8") as f:
            blocks = doc_blocks(f.read())
        self.assertGreaterEqual(len(blocks), 12)
        torch_ok, fmnist_ok = have_torch(), have_fmnist()
        run = [b for b in blocks
               if (torch_ok or not b[1].startswith("# needs torch"))
               and (fmnist_ok or not b[1].startswith("# needs Fashion-MNIST"))]
        self.assertGreater(sum(b[1].startswith("# needs Fashion-MNIST") for b in blocks), 0)
        if not torch_ok:
            print("SKIPPED: the docs/python.md blocks that need torch (not importable)")
        if not fmnist_ok:
            print("SKIPPED: the docs/python.md blocks that need Fashion-MNIST (none in %s)"
                  % FMNIST_DIR)
        with tempfile.TemporaryDirectory() as d:
            for name in ("python", "examples", "lib"):
                os.symlink(os.path.join(ROOT, name), os.path.join(d, name))
            with open(os.path.join(d, "blocks.json"), "w") as f:
                json.dump(run, f)
            with open(os.path.join(d, "driver.py"), "w") as f:
                f.write(DRIVER)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.path.join(ROOT, "python")
            env.setdefault("OMP_NUM_THREADS", "1")
            p = subprocess.run([sys.executable, "-W", "error::ResourceWarning", "driver.py",
                                "blocks.json"], cwd=d, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        if os.environ.get("IJEPA_DOCS_VERBOSE"):
            print(p.stdout)
        self.assertEqual(p.returncode, 0, p.stdout[-4000:])
        self.assertIn("--- all %d blocks ran" % len(run), p.stdout)
        self.assertIn("TypeError: images must have dtype float32", p.stdout)
        if fmnist_ok:
            self.assertIn("identical", p.stdout)  # C and Python features
            self.assertIn("same checkpoint", p.stdout)  # C and Python training
        self.assertIn("batch item = image transform: True", p.stdout)
        self.assertIn("True ijepa_image_decode(): <memory>: ", p.stdout)  # the corrupt PNG's FORMAT error
        if torch_ok:
            self.assertRegex(p.stdout, r"\n32 1 4 16\n")  # the converted architecture
            self.assertIn("\nTrue\n", p.stdout)            # bit-identical round trip


if __name__ == "__main__":
    unittest.main()
