"""python/examples/ against the C examples: train.py gives the losses, log
and checkpoint (byte for byte) of ijepa-train for the same recipe, seed and
data, also when resuming; extract.py writes the same .npy as
ijepa-extract."""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from common import FMNIST_DIR, ROOT, ijepa

PY = sys.executable
EX = os.path.join(ROOT, "python", "examples")


def c_example(name):
    return os.path.join(ROOT, "examples", "ijepa-" + name)


def run(cmd):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.path.join(ROOT, "lib") + (
        ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["OMP_WAIT_POLICY"] = "passive"
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                        p.stderr))
    return p.stdout


def log_rows(path):
    """log.csv rows without the timing columns (images_per_s, elapsed_s)."""
    with open(path) as f:
        return [line.rstrip("\n").split(",")[:10] for line in f]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


@unittest.skipUnless(os.path.isdir(FMNIST_DIR), "dataset-fashion-mnist not installed")
class TestExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for name in ("train", "extract"):
            if not os.access(c_example(name), os.X_OK):
                raise unittest.SkipTest("examples/ijepa-%s not built (make examples)" % name)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def train_both(self, tag, args):
        cdir = os.path.join(self.tmp.name, tag + "-c")
        pdir = os.path.join(self.tmp.name, tag + "-py")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", cdir] + args)
        run([PY, os.path.join(EX, "train.py"), "--threads", "1", "--quiet", "--out", pdir] + args)
        return cdir, pdir

    def assert_same_run(self, cdir, pdir, steps):
        crow, prow = log_rows(os.path.join(cdir, "log.csv")), log_rows(os.path.join(pdir, "log.csv"))
        self.assertEqual(len(crow), steps + 1)
        self.assertEqual(prow, crow)  # step, epoch, loss, ... as printed by both
        # weights, moments, step and configuration: the same bytes
        cck = read_bytes(os.path.join(cdir, "checkpoint.safetensors"))
        self.assertGreater(len(cck), 0)
        self.assertEqual(read_bytes(os.path.join(pdir, "checkpoint.safetensors")), cck)
        with ijepa.Checkpoint(os.path.join(pdir, "checkpoint.safetensors")) as ck:
            self.assertEqual(ck.step, int(crow[-1][0]))
        losses = [float(r[2]) for r in crow[1:]]
        self.assertGreater(len(set(losses)), 1)  # the steps did something

    def test_train_tiny_matches_c(self):
        # 100 images at batch 32: the feed wraps into a second epoch
        args = ["--config", "tiny", "--steps", "5", "--seed", "3", "--limit", "100"]
        cdir, pdir = self.train_both("tiny", args)
        self.assert_same_run(cdir, pdir, 5)
        rows = log_rows(os.path.join(cdir, "log.csv"))
        self.assertEqual(rows[-1][1], "1")  # epoch column

    def test_train_crop_and_settings_match_c(self):
        args = ["--config", "tiny", "--steps", "3", "--seed", "9", "--limit", "40", "--batch",
                "8", "--crop", "0.3", "--set", "lr=0.01", "--set", "num_targets=3"]
        cdir, pdir = self.train_both("crop", args)
        self.assert_same_run(cdir, pdir, 3)

    def test_resume_matches_c(self):
        """Both resume the same step-2 checkpoint to step 5 (--save-every
        saving on the way): same log rows and final checkpoint."""
        first = os.path.join(self.tmp.name, "resume-first")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", first, "--config",
             "tiny", "--steps", "2", "--seed", "4", "--limit", "80"])
        ck = os.path.join(first, "checkpoint.safetensors")
        args = ["--resume", ck, "--steps", "5", "--limit", "80", "--save-every", "2"]
        cdir, pdir = self.train_both("resume", args)
        crow = log_rows(os.path.join(cdir, "log.csv"))
        self.assertEqual([r[0] for r in crow[1:]], ["3", "4", "5"])
        self.assertEqual(log_rows(os.path.join(pdir, "log.csv")), crow)
        self.assertEqual(read_bytes(os.path.join(pdir, "checkpoint.safetensors")),
                         read_bytes(os.path.join(cdir, "checkpoint.safetensors")))

    def test_in_process_losses_equal_c_log(self):
        """train.train() from Python: losses equal to the C log's digits and,
        exactly, to a second run (determinism)."""
        sys.path.insert(0, EX)
        import fmnist
        import train
        args = ["--config", "tiny", "--steps", "4", "--seed", "5", "--limit", "64"]
        cdir = os.path.join(self.tmp.name, "inproc-c")
        with ijepa.Context() as ctx:  # the thread count of this process
            threads = str(ctx.num_threads)
        run([c_example("train"), "--threads", threads, "--quiet", "--out", cdir] + args)
        pixels, _ = fmnist.load(FMNIST_DIR, "train")
        cfg = ijepa.Config()
        cfg.update(fmnist.parse_settings(fmnist.RECIPES["tiny"][0]))
        cfg["seed"] = 5
        losses = train.train(cfg, pixels[:64], 4)
        self.assertEqual(["%.6g" % v for v in losses],
                         [r[2] for r in log_rows(os.path.join(cdir, "log.csv"))[1:]])
        self.assertEqual(train.train(cfg, pixels[:64], 4), losses)

    def test_extract_matches_c(self):
        rundir = os.path.join(self.tmp.name, "ex-run")
        run([PY, os.path.join(EX, "train.py"), "--threads", "1", "--quiet", "--out", rundir,
             "--config", "tiny", "--steps", "2", "--limit", "64"])
        cnpy = os.path.join(self.tmp.name, "c.npy")
        pnpy = os.path.join(self.tmp.name, "py.npy")
        # 75 images at batch 32: a partial last batch
        run([c_example("extract"), "--run", rundir, "--limit", "75", "--threads", "1",
             "--out", cnpy])
        run([PY, os.path.join(EX, "extract.py"), "--run", rundir, "--limit", "75",
             "--threads", "1", "--out", pnpy])
        raw = read_bytes(cnpy)
        self.assertEqual(raw[:8], b"\x93NUMPY\x01\x00")
        hlen = int.from_bytes(raw[8:10], "little")
        self.assertEqual((10 + hlen) % 64, 0)
        self.assertEqual(raw[10 + hlen - 1:10 + hlen], b"\n")
        a, b = np.load(cnpy), np.load(pnpy)
        self.assertEqual(a.dtype, np.float32)
        self.assertEqual(a.shape, (75, 32))
        np.testing.assert_array_equal(a, b)
        self.assertEqual(len(raw), 10 + hlen + a.nbytes)
        self.assertGreater(float(a.std(axis=0).mean()), 0)  # images differ
        # and the features are the pooled tokens of the checkpoint's target encoder
        import extract
        import ijepa_convert
        tensors, meta = ijepa_convert.read_safetensors(os.path.join(rundir,
                                                                    "checkpoint.safetensors"))
        cfg = ijepa.Config.from_text(meta["ijepa.config"])
        with ijepa.Context() as ctx, ijepa.Encoder(ctx, cfg) as enc:
            enc.load_state_dict({k[len("target_encoder."):]: v for k, v in tensors.items()
                                 if k.startswith("target_encoder.")})
            import fmnist
            px, _ = fmnist.load(FMNIST_DIR, "t10k")
            tok = enc(fmnist.images(px[:3], 28))
            np.testing.assert_allclose(a[:3], tok.mean(axis=1), rtol=0, atol=1e-6)
            np.testing.assert_array_equal(extract.extract(enc, px[:75]), a)


if __name__ == "__main__":
    unittest.main()
