# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""The example tools against hostile checkpoints (issue 10), and the resume
rules of ijepa-train:

  - the 1.7 KB file whose configuration describes a 400M-parameter model
    (valid checksums, no tensors) is refused by ijepa-probe --checkpoint,
    ijepa-train --resume, ijepa-extract and ijepa-features in under a second
    and 100 MB (before: 3.1 GB and a minute, or 16 GB);
  - a checkpoint that is valid but whose model needs more memory than
    --max-memory is refused with a message naming the option;
  - step 2^63 - 1 is a clean format error;
  - resuming takes the runtime keys (batch_size, data_* limits, workers)
    from the command line, not from the file;
  - a resumed run continues log.csv (rows past the saved step go);
  - a 1-step run says it wrote no loss.png, and writes none.
The files come from hostile.py (also a measuring program for
docs/robustness.md).
"""
import os
import subprocess
import tempfile
import unittest

from common import FMNIST_DIR, ROOT, ijepa, needs_fmnist

import hostile  # noqa: E402


def tool(name):
    return os.path.join(ROOT, "examples", "ijepa-" + name)


def run(cmd, ok=True):
    env = dict(os.environ, OMP_WAIT_POLICY="passive", OMP_NUM_THREADS="1")
    env.pop("LD_LIBRARY_PATH", None)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ok and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                        p.stderr))
    return p


def rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split(",") for line in f]


class TestHostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for name in ("train", "probe", "extract", "features"):
            if not os.access(tool(name), os.X_OK):
                raise unittest.SkipTest("examples/ijepa-%s not built (make examples)" % name)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.huge = os.path.join(cls.tmp.name, "huge-config.safetensors")
        with ijepa.Config(embed_dim=1024, depth=32, num_heads=16) as cfg:
            hostile.write_huge_config(cls.huge, cfg.to_text())

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def refused(self, cmd, what, seconds=1.0, mib=100.0):
        t, peak, status, last = hostile.measure(cmd, cap_mib=2048, timeout=60)
        self.assertEqual(status, 1, "%s: %s %s" % (cmd[0], status, last))
        self.assertIn(what, last)
        self.assertLess(peak, mib, "%s: peak %.0f MiB" % (cmd[0], peak))
        self.assertLess(t, seconds, "%s: %.2f s" % (cmd[0], t))
        return last

    def test_huge_config_refused_by_every_tool(self):
        self.assertLess(os.path.getsize(self.huge), 2048)
        png = self.path("x.png")
        hostile.write_sparse(png, 64, b"\x89PNG\r\n\x1a\n")
        missing = "'target_encoder.pos_embed' is missing"
        self.refused([tool("probe"), "--checkpoint", self.huge, "--fmnist", FMNIST_DIR], missing)
        self.refused([tool("extract"), "--checkpoint", self.huge, "--data", self.tmp.name,
                      "--out", self.path("f.npy")], missing)
        self.refused([tool("features"), png, self.huge], missing)
        self.refused([tool("train"), "--resume", self.huge, "--steps", "200"],
                     "'encoder.pos_embed' is missing")
        self.assertFalse(os.path.exists(self.path("f.npy")))

    def test_memory_limit(self):
        """A valid checkpoint whose model needs more than --max-memory."""
        cfg = ijepa.Config(preset="tiny", batch_size=2)
        ck = self.path("tiny.safetensors")
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
            tr.save(ck)
            need = tr.memory_bytes
        cfg.close()
        msg = self.refused([tool("train"), "--resume", ck, "--batch", "2", "--max-memory", "64K"],
                           "more than the limit of")
        self.assertIn("--max-memory", msg)
        self.refused([tool("extract"), "--checkpoint", ck, "--max-memory", "1K", "--data",
                      self.tmp.name, "--out", self.path("f.npy")], "the encoder would need")
        self.refused([tool("train"), "--preset", "tiny", "--batch", "65536", "--steps", "1"],
                     "the trainer would need", mib=200)
        p = run([tool("train"), "--preset", "tiny", "--max-memory", "lots"], ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("is not a size", p.stderr)
        self.assertGreater(need, 64 << 10)

    def test_step_limit(self):
        cfg = ijepa.Config(preset="tiny", batch_size=2)
        ck, bad = self.path("s0.safetensors"), self.path("smax.safetensors")
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
            tr.save(ck)
        cfg.close()
        hostile.with_step(ck, bad, 2 ** 63 - 1)
        self.refused([tool("train"), "--resume", bad, "--preset", "tiny"],
                     "ijepa.step 9223372036854775807 exceeds the limit")


@needs_fmnist
class TestResume(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_runtime_keys_from_the_command_line(self):
        """A file that asks for batch 65536, 64 decoding threads and no
        decoding limits: the resumed run uses the command line's values."""
        first = self.path("first")
        run([tool("train"), "--preset", "tiny", "--steps", "2", "--limit", "64", "--quiet",
             "--out", first])
        src = os.path.join(first, "checkpoint.safetensors")
        greedy = self.path("greedy.safetensors")
        with ijepa.Checkpoint(src) as ck:
            cfg = ck.config
            step = ck.step
            tensors = ck.read_all()
        cfg.update(batch_size=65536, data_workers=64, data_prefetch=64,
                   data_max_pixels=1 << 40, data_max_file_bytes=1 << 40,
                   data_max_scan_pixels=1 << 44, primitive_cache=65536)
        with ijepa.CheckpointWriter(cfg, step) as w:
            for k, v in tensors.items():
                w.add(k, v)
            w.save(greedy)
        cfg.close()
        out = self.path("resumed")
        p = run([tool("train"), "--resume", greedy, "--steps", "3", "--limit", "64",
                 "--preset", "tiny", "--out", out])
        with ijepa.Checkpoint(os.path.join(out, "checkpoint.safetensors")) as ck:
            got = ck.config
        with ijepa.Config(preset="tiny") as want:
            for k in ("batch_size", "data_workers", "data_prefetch", "data_max_pixels",
                      "data_max_file_bytes", "data_max_scan_pixels", "primitive_cache"):
                self.assertEqual(got[k], want[k], k)
        got.close()
        self.assertEqual(rows(os.path.join(out, "log.csv"))[-1][0], "3")
        # without --preset the runtime keys are the default preset's, and
        # the change of batch_size is said
        p = run([tool("train"), "--resume", greedy, "--steps", "3", "--limit", "64",
                 "--max-memory", "0", "--out", self.path("r2")])
        self.assertIn("batch_size 128 (this command line's) is not the file's 65536", p.stderr)

    def test_log_continues(self):
        part, fresh = self.path("part"), self.path("fresh")
        args = ["--preset", "tiny", "--limit", "96", "--seed", "2", "--quiet"]
        run([tool("train"), "--steps", "2", "--out", part] + args)
        ck = os.path.join(part, "checkpoint.safetensors")
        run([tool("train"), "--resume", ck, "--steps", "4", "--out", fresh] + args)
        log = os.path.join(part, "log.csv")
        before = rows(log)
        # a run killed after its last save logged a step more
        with open(log, "a") as f:
            f.write(",".join(["3"] + before[-1][1:]) + "\n")
        run([tool("train"), "--resume", ck, "--steps", "4", "--out", part] + args)
        after = rows(log)
        self.assertEqual(after[:3], before)  # header and steps 1-2 as they were
        self.assertEqual([r[0] for r in after], ["step", "1", "2", "3", "4"])
        # the continued rows are the resumed run's (timings aside)
        self.assertEqual([r[:10] for r in after[3:]],
                         [r[:10] for r in rows(os.path.join(fresh, "log.csv"))[1:]])

    def test_resume_precision(self):
        # precision is a runtime key: the command line's, with a note when
        # it is not the file's; given again, the resumed bf16 run is the
        # uninterrupted one bit for bit
        part, whole = self.path("b2"), self.path("b4")
        args = ["--preset", "tiny", "--limit", "64", "--set", "total_steps=4"]
        bf16 = ["--set", "precision=bf16"]
        run([tool("train"), "--steps", "2", "--quiet", "--out", part] + args + bf16)
        run([tool("train"), "--steps", "4", "--quiet", "--out", whole] + args + bf16)
        ck = os.path.join(part, "checkpoint.safetensors")
        p = run([tool("train"), "--resume", ck, "--steps", "3", "--out", self.path("f32")] + args)
        self.assertIn("precision f32 (this command line's) is not the file's bf16", p.stderr)
        self.assertIn("--set precision=bf16 continues it exactly", p.stderr)
        p = run([tool("train"), "--resume", ck, "--steps", "4", "--out", part] + args + bf16)
        self.assertNotIn("is not the file's", p.stderr)
        with open(os.path.join(part, "checkpoint.safetensors"), "rb") as a, \
                open(os.path.join(whole, "checkpoint.safetensors"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_one_step_run_says_what_it_wrote(self):
        out = self.path("one")
        p = run([tool("train"), "--preset", "tiny", "--steps", "1", "--limit", "32", "--quiet",
                 "--out", out])
        self.assertIn("wrote %s/{log.csv,masks.png,checkpoint.safetensors} (no loss.png: a "
                      "curve needs 2 steps)" % out, p.stdout)
        self.assertFalse(os.path.exists(os.path.join(out, "loss.png")))
        p = run([tool("train"), "--preset", "tiny", "--steps", "2", "--limit", "32", "--quiet",
                 "--out", out])
        self.assertIn("wrote %s/{log.csv,loss.png,masks.png,checkpoint.safetensors}\n" % out,
                      p.stdout)
        self.assertTrue(os.path.exists(os.path.join(out, "loss.png")))


if __name__ == "__main__":
    unittest.main()
