# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""python/examples/ against the C examples: train.py gives the losses, log
and checkpoint (byte for byte) of ijepa-train for the same preset, seed and
data (Fashion-MNIST and a folder of images), also when resuming; extract.py
writes the same .npy as ijepa-extract; ijepa-features prints the features
the binding computes for the same image and checkpoint. The Fashion-MNIST
tests skip without the data set (common.needs_fmnist)."""
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

import numpy as np

from common import FMNIST_DIR, ROOT, ijepa, needs_fmnist, small_config

PY = sys.executable
EX = os.path.join(ROOT, "python", "examples")


def c_example(name):
    return os.path.join(ROOT, "examples", "ijepa-" + name)


def run(cmd):
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)  # the C programs run in place (RUNPATH)
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


class TestExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for name in ("train", "extract", "features"):
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

    @needs_fmnist
    def test_train_tiny_matches_c(self):
        # 100 images at batch 32: the feed wraps into a second epoch
        args = ["--preset", "tiny", "--steps", "5", "--seed", "3", "--limit", "100"]
        cdir, pdir = self.train_both("tiny", args)
        self.assert_same_run(cdir, pdir, 5)
        rows = log_rows(os.path.join(cdir, "log.csv"))
        self.assertEqual(rows[-1][1], "1")  # epoch column

    @needs_fmnist
    def test_train_crop_and_settings_match_c(self):
        # an explicit total_steps is the schedule: both stop at --steps within it
        args = ["--preset", "tiny", "--steps", "3", "--seed", "9", "--limit", "40", "--batch",
                "8", "--crop", "0.3", "--set", "lr=0.01", "--set", "num_targets=3",
                "--set", "total_steps=40"]
        cdir, pdir = self.train_both("crop", args)
        self.assert_same_run(cdir, pdir, 3)
        with ijepa.Checkpoint(os.path.join(pdir, "checkpoint.safetensors")) as ck:
            cfg = ck.config
            self.assertEqual((cfg["total_steps"], cfg["warmup_steps"]), (40, 4))
            cfg.close()

    @needs_fmnist
    def test_resume_matches_c(self):
        """Both resume the same step-2 checkpoint to step 5 (--save-every
        saving on the way): same log rows and final checkpoint."""
        first = os.path.join(self.tmp.name, "resume-first")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", first, "--preset",
             "tiny", "--steps", "2", "--seed", "4", "--limit", "80"])
        ck = os.path.join(first, "checkpoint.safetensors")
        # the runtime keys (batch_size) are the command line's: --preset tiny
        args = ["--resume", ck, "--steps", "5", "--limit", "80", "--save-every", "2",
                "--preset", "tiny"]
        cdir, pdir = self.train_both("resume", args)
        crow = log_rows(os.path.join(cdir, "log.csv"))
        self.assertEqual([r[0] for r in crow[1:]], ["3", "4", "5"])
        self.assertEqual(log_rows(os.path.join(pdir, "log.csv")), crow)
        self.assertEqual(read_bytes(os.path.join(pdir, "checkpoint.safetensors")),
                         read_bytes(os.path.join(cdir, "checkpoint.safetensors")))
        # a model key may not change on resume: both refuse, exit 2, naming it
        for cmd in ([c_example("train")], [PY, os.path.join(EX, "train.py")]):
            p = subprocess.run(cmd + ["--resume", ck, "--set", "depth=3", "--steps", "5"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("depth is 2 in %s, 3 on this command line" % ck, p.stderr)
        # a runtime key that changes the numbers (precision) is the command
        # line's: both say so when it is not the file's, and go on
        first16 = os.path.join(self.tmp.name, "resume-bf16")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", first16, "--preset",
             "tiny", "--steps", "2", "--limit", "80", "--set", "precision=bf16"])
        ck16 = os.path.join(first16, "checkpoint.safetensors")
        for cmd, name in (([c_example("train")], "ijepa-train"),
                          ([PY, os.path.join(EX, "train.py")], "train.py")):
            p = subprocess.run(cmd + ["--resume", ck16, "--steps", "3", "--limit", "80",
                                      "--preset", "tiny", "--threads", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("%s: note: precision f32 (this command line's) is not the file's "
                          "bf16" % name, p.stderr)

    def test_configuration_refused_before_the_data(self):
        """What the mask sampler, the optimizer and the transform refuse is a bad
        command line for both trainers: exit 2, one line naming the cause, before
        any data is read (there is none here)."""
        env = dict(os.environ, IJEPA_FMNIST_DIR=os.path.join(self.tmp.name, "nothing"))
        for sets, want in ((["min_keep=40"], "ijepa_mask_sampler_create(): min_keep 40 can "
                                             "never be met"),
                           (["img_size=32"], "ijepa_image_transform_eval(): data_eval_resize "
                                             "28 is smaller than img_size 32"),
                           (["adam_beta1=1"], "ijepa_optimizer_create(): adam_beta1 1 and")):
            args = ["--preset", "tiny", "--steps", "1"]
            for s in sets:
                args += ["--set", s]
            for cmd in ([c_example("train")], [PY, os.path.join(EX, "train.py")]):
                p = subprocess.run(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env)
                self.assertEqual(p.returncode, 2, "%s %s: %s" % (cmd, sets, p.stderr))
                self.assertIn("bad configuration: " + want, p.stderr)
                self.assertNotIn("Traceback", p.stderr)

    @needs_fmnist
    def test_in_process_losses_equal_c_log(self):
        """train.train() from Python: losses equal to the C log's digits and,
        exactly, to a second run (determinism)."""
        sys.path.insert(0, EX)
        import fmnist
        import train
        args = ["--preset", "tiny", "--steps", "4", "--seed", "5", "--limit", "64"]
        cdir = os.path.join(self.tmp.name, "inproc-c")
        with ijepa.Context() as ctx:  # the thread count of this process
            threads = str(ctx.num_threads)
        run([c_example("train"), "--threads", threads, "--quiet", "--out", cdir] + args)
        pixels, _ = fmnist.load(FMNIST_DIR, "train")
        cfg = ijepa.Config(preset="tiny", seed=5)
        losses = train.train(cfg, pixels[:64], 4)
        self.assertEqual(["%.6g" % v for v in losses],
                         [r[2] for r in log_rows(os.path.join(cdir, "log.csv"))[1:]])
        self.assertEqual(train.train(cfg, pixels[:64], 4), losses)

    @needs_fmnist
    def test_extract_matches_c(self):
        rundir = os.path.join(self.tmp.name, "ex-run")
        run([PY, os.path.join(EX, "train.py"), "--threads", "1", "--quiet", "--out", rundir,
             "--preset", "tiny", "--steps", "2", "--limit", "64"])
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
            tok = enc(fmnist.images(px[:3], cfg))
            np.testing.assert_allclose(a[:3], tok.mean(axis=1), rtol=0, atol=1e-6)
            np.testing.assert_array_equal(extract.extract(enc, px[:75]), a)

    def test_train_folder_matches_c(self):
        """--data DIR: both read the folder through the library's dataset
        (its shuffle, crops, threads): same log and checkpoint."""
        folder = os.path.join(self.tmp.name, "pngs")
        os.makedirs(os.path.join(folder, "sub"))
        rng = np.random.default_rng(3)
        for i in range(6):
            h, w = int(rng.integers(20, 60)), int(rng.integers(20, 60))
            px = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            with open(os.path.join(folder, "sub" if i % 2 else "", "%d.png" % i), "wb") as f:
                f.write(png_bytes(px))
        args = ["--data", folder, "--preset", "folder", "--steps", "3", "--set", "batch_size=4",
                "--set", "img_size=32", "--set", "embed_dim=48", "--set", "depth=2",
                "--set", "pred_embed_dim=24", "--set", "pred_depth=1", "--set", "patch_size=4",
                "--set", "min_keep=2", "--crop", "0.5"]
        cdir, pdir = self.train_both("folder", args)
        self.assert_same_run(cdir, pdir, 3)
        self.assertEqual(log_rows(os.path.join(cdir, "log.csv"))[-1][1], "2")  # 12 of 6 images

    @needs_fmnist
    def test_features_matches_binding(self):
        """examples/features.c, the README's first program: the pooled
        features of an image under a checkpoint's target encoder, equal to
        what the binding computes (evaluation transform, forward, mean)."""
        rundir = os.path.join(self.tmp.name, "feat-run")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", rundir, "--preset",
             "tiny", "--steps", "2", "--limit", "64"])
        ckpt = os.path.join(rundir, "checkpoint.safetensors")
        image = os.path.join(rundir, "masks.png")  # an RGB picture the run wrote
        out = run([c_example("features"), image, ckpt]).splitlines()
        self.assertEqual(out[0], "49 tokens x 32 features; average over the tokens:")
        got = np.array([float(v) for v in out[1].split()], dtype=np.float32)
        with ijepa.Checkpoint(ckpt) as ck, ijepa.Context() as ctx:
            cfg = ck.config
            cfg["trainable"], cfg["batch_size"] = 0, 1
            with ijepa.Encoder(ctx, cfg) as enc, ijepa.Image.load(image, channels=1) as img:
                ck.load_into(enc, "target_encoder")
                want = enc.features(img.transform_eval(cfg)[None])[0]
            cfg.close()
        np.testing.assert_array_equal(got, want)
        self.assertGreater(float(np.abs(got).sum()), 0)


    @needs_fmnist
    def test_checkpoints_record_the_normalisation(self):
        """What a run's checkpoint says about its inputs is what the run
        used: Fashion-MNIST's own mean and std and the resize-only
        evaluation transform; for a folder, ImageNet's and the official
        crop (issue 13: before, the library's ImageNet defaults were stored
        for Fashion-MNIST runs too)."""
        fm = os.path.join(self.tmp.name, "norm-fm")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", fm, "--preset", "tiny",
             "--steps", "1", "--limit", "32"])
        folder = os.path.join(self.tmp.name, "norm-pngs")
        os.makedirs(folder)
        rng = np.random.default_rng(4)
        for i in range(4):
            with open(os.path.join(folder, "%d.png" % i), "wb") as f:
                f.write(png_bytes(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)))
        fo = os.path.join(self.tmp.name, "norm-folder")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", fo, "--data", folder,
             "--steps", "1", "--set", "batch_size=4", "--set", "data_workers=0"])
        want = {
            fm: dict(in_chans=1, data_mean_r=0.286, data_std_r=0.353,
                     data_transform=ijepa.DATA_EVAL, data_eval_resize=28),
            fo: dict(in_chans=3, data_mean_r=0.485, data_mean_g=0.456, data_mean_b=0.406,
                     data_std_r=0.229, data_std_g=0.224, data_std_b=0.225,
                     data_transform=ijepa.DATA_TRAIN, data_crop_scale_min=0.3),
        }
        for d, keys in want.items():
            with ijepa.Checkpoint(os.path.join(d, "checkpoint.safetensors")) as ck:
                cfg = ck.config
                self.assertEqual({k: cfg[k] for k in keys}, keys, d)
                cfg.close()

    @needs_fmnist
    def test_eval_path_reproduces_extract(self):
        """Features from the checkpoint alone, the way the headers say
        (ijepa_image_load + ijepa_image_transform_eval with the checkpoint's
        own configuration, then the target encoder), equal ijepa-extract's
        for the same Fashion-MNIST images saved as PNG files: by
        ijepa-features (C) and by the binding."""
        import fmnist
        rundir = os.path.join(self.tmp.name, "eval-run")
        run([c_example("train"), "--threads", "1", "--quiet", "--out", rundir, "--preset",
             "tiny", "--steps", "3", "--limit", "96"])
        ckpt = os.path.join(rundir, "checkpoint.safetensors")
        n = 5
        cnpy = os.path.join(self.tmp.name, "eval.npy")
        run([c_example("extract"), "--run", rundir, "--limit", str(n), "--threads", "1",
             "--out", cnpy])
        ref = np.load(cnpy)
        px, _ = fmnist.load(FMNIST_DIR, "t10k")
        with ijepa.Checkpoint(ckpt) as ck, ijepa.Context() as ctx:
            cfg = ck.config
            cfg["trainable"], cfg["batch_size"] = 0, 1
            with ijepa.Encoder(ctx, cfg) as enc:
                ck.load_into(enc, "target_encoder")
                for i in range(n):
                    png = os.path.join(self.tmp.name, "t10k-%d.png" % i)
                    with open(png, "wb") as f:
                        f.write(png_gray(px[i]))
                    out = run([c_example("features"), png, ckpt]).splitlines()
                    c_feat = np.array([float(v) for v in out[1].split()], dtype=np.float32)
                    with ijepa.Image.load(png, channels=1, cfg=cfg) as img:
                        py_feat = enc.features(img.transform_eval(cfg)[None])[0]
                    np.testing.assert_allclose(c_feat, ref[i], rtol=0, atol=1e-5)
                    np.testing.assert_allclose(py_feat, ref[i], rtol=0, atol=1e-5)
            cfg.close()
        self.assertGreater(float(ref.std(axis=0).mean()), 0)


class TestOneLineErrors(unittest.TestCase):
    """What the scripts say when something they need is missing: one line
    on stderr and exit status 1, never a traceback."""

    def run_script(self, args, **env_over):
        env = dict(os.environ)
        env.update(env_over)
        return subprocess.run([PY] + args, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)

    def test_examples_without_the_library(self):
        for script in ("train.py", "extract.py", "train_mpi.py"):
            args = [os.path.join(EX, script), "--steps", "1"]
            if script == "extract.py":
                args = [os.path.join(EX, script), "--run", "nowhere", "--out", "x.npy"]
            p = self.run_script(args, IJEPA_LIBRARY="/nonexistent/libijepa.so.0")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith(
                "%s: cannot load libijepa from '/nonexistent/libijepa.so.0'" % script), p.stderr)

    def test_convert_without_torch(self):
        """ijepa-convert to-official where torch does not import: one line
        naming the convert extra, nothing written."""
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "run.safetensors"), os.path.join(d, "run.pth.tar")
            with small_config() as cfg, ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
                tr.save(src)
            code = ("import sys; sys.modules['torch'] = None; sys.path.insert(0, %r); "
                    "import ijepa_convert; sys.exit(ijepa_convert.main(['to-official', %r, %r]))"
                    % (os.path.join(ROOT, "python"), src, dst))
            p = self.run_script(["-c", code])
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            self.assertIn("need PyTorch", p.stderr)
            self.assertIn("pip install 'libijepa[convert]'", p.stderr)
            self.assertFalse(os.path.exists(dst))


def png_gray(pixels):
    """An 8-bit grayscale PNG of pixels uint8 [H, W]."""
    h, w = pixels.shape

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_bytes(pixels):
    """An 8-bit RGB PNG of pixels uint8 [H, W, 3]."""
    h, w = pixels.shape[:2]

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    unittest.main()
