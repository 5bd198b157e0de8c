# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Data-parallel training under mpirun (tests/mpi/run.sh; make check-mpi).

Every run goes through Open MPI's TCP transport (--mca btl tcp,self, on the
loopback interface), the path between machines. Against one process on the
same global batch, N ranks give the same losses (1e-5 relative, at every
step) and final parameters (1e-5 absolute): Fashion-MNIST with 2 ranks and
with 3 ranks on unequal slices, the official mask mode, a folder of images
(--data), and the Python twin (python/examples/train_mpi.py with mpi4py),
whose checkpoint is byte for byte the C program's. An interrupted MPI run
resumed under MPI ends with the checkpoint of an uninterrupted one. A rank
that is killed, or stopped, ends the run with an error within 30 s and the
last checkpoint stays loadable; ranks started with different options or
from checkpoints that differ refuse to train; ijepa-train without its MPI
build refuses to run under mpirun.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
from common import ROOT, ijepa, needs_fmnist  # noqa: E402
import ijepa_convert  # noqa: E402
from test_examples import png_bytes  # noqa: E402

TRAIN = os.path.join(ROOT, "examples", "ijepa-train")
TRAIN_MPI = os.path.join(ROOT, "examples", "ijepa-train-mpi")
TRAIN_PY = os.path.join(ROOT, "python", "examples", "train_mpi.py")
PY = sys.executable
CORES = os.cpu_count() or 1
try:
    import mpi4py  # noqa: F401
    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False
need_mpi4py = unittest.skipUnless(HAVE_MPI4PY, "mpi4py is not importable (python3-mpi4py)")
TINY = ["--preset", "tiny", "--steps", "5", "--seed", "3", "--limit", "200", "--threads", "1",
        "--quiet"]


def mpirun(np_):
    """mpirun with np_ ranks over TCP on the loopback interface."""
    cmd = ["mpirun", "-np", str(np_), "--mca", "btl", "tcp,self", "--mca",
           "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]
    if np_ > CORES:
        cmd.append("--oversubscribe")
    return cmd


def env():
    e = dict(os.environ)
    e.pop("LD_LIBRARY_PATH", None)  # the C programs run in place (RUNPATH)
    e["OMP_WAIT_POLICY"] = "passive"
    return e


def run(cmd, timeout=120):
    p = subprocess.run(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                        p.stderr))
    return p.stdout


def losses(d):
    with open(os.path.join(d, "log.csv")) as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    return [(int(r[0]), float(r[2])) for r in rows]


def tensors(d):
    return ijepa_convert.read_safetensors(os.path.join(d, "checkpoint.safetensors"))[0]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def ckpt_step(path):
    with ijepa.Checkpoint(path) as ck:
        return ck.step


def wait_for(pred, timeout, what):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def ranks_of(mpirun_pid):
    """The pids of the processes mpirun started (its children)."""
    kids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == mpirun_pid:
                kids.append(int(p))
    return sorted(kids)


class TestMpi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.folder = os.path.join(cls.tmp.name, "pngs")
        os.makedirs(os.path.join(cls.folder, "sub"))
        rng = np.random.default_rng(7)
        for i in range(40):
            h, w = int(rng.integers(20, 70)), int(rng.integers(20, 70))
            px = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            with open(os.path.join(cls.folder, "sub" if i % 3 == 0 else "", "%d.png" % i),
                      "wb") as f:
                f.write(png_bytes(px))
        cls.runs = {}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, tag):
        return os.path.join(self.tmp.name, tag)

    def single(self, tag, args):
        """One process on the whole batch (cached across tests)."""
        if tag not in self.runs:
            d = self.out(tag + "-1")
            run([TRAIN, "--out", d] + args)
            self.runs[tag] = d
        return self.runs[tag]

    def assert_equivalent(self, d, ref, what):
        got, want = losses(d), losses(ref)
        self.assertEqual([s for s, _ in got], [s for s, _ in want], what)
        for (s, a), (_, b) in zip(got, want):
            self.assertLessEqual(abs(a - b), 1e-5 * abs(b), "%s: step %d loss %r vs %r"
                                 % (what, s, a, b))
        ta, tb = tensors(d), tensors(ref)
        self.assertEqual(sorted(ta), sorted(tb))
        worst = max(float(np.max(np.abs(ta[k].astype(np.float64) - tb[k])))
                    for k in ta if ta[k].size)
        self.assertLessEqual(worst, 1e-5, "%s: parameters differ by %g" % (what, worst))
        # the same training did happen: more than one distinct loss
        self.assertGreater(len(set(v for _, v in got)), 1)

    # --- equivalence with one process ------------------------------------------------------

    @needs_fmnist
    def test_fmnist_2_ranks(self):
        ref = self.single("tiny", TINY)
        d = self.out("tiny-2")
        run(mpirun(2) + [TRAIN, "--out", d] + TINY)  # ijepa-train hands over to ijepa-train-mpi
        self.assert_equivalent(d, ref, "2 ranks")
        self.runs["tiny-2"] = d

    @needs_fmnist
    def test_fmnist_3_ranks_unequal_slices(self):
        ref = self.single("tiny", TINY)  # batch 32: slices of 10, 11 and 11
        d = self.out("tiny-3")
        run(mpirun(3) + [TRAIN_MPI, "--out", d] + TINY)
        self.assert_equivalent(d, ref, "3 ranks")

    @needs_fmnist
    def test_official_masks(self):
        args = TINY + ["--set", "mask_mode=1"]
        ref = self.single("official", args)
        d = self.out("official-2")
        run(mpirun(2) + [TRAIN_MPI, "--out", d] + args)
        self.assert_equivalent(d, ref, "official masks, 2 ranks")

    def folder_args(self):
        return ["--data", self.folder, "--preset", "tiny", "--set", "in_chans=3", "--set",
                "img_size=32", "--set", "data_eval_resize=36", "--set", "patch_size=4",
                "--set", "min_keep=2", "--crop", "0.5", "--steps", "5", "--seed", "2",
                "--threads", "1", "--quiet"]

    def test_folder(self):
        """--data DIR: 40 files, batch 32, 5 steps: four epochs, each rank
        decoding only its slice."""
        args = self.folder_args()
        ref = self.single("folder", args)
        d = self.out("folder-2")
        run(mpirun(2) + [TRAIN_MPI, "--out", d] + args)
        self.assert_equivalent(d, ref, "--data, 2 ranks")
        self.assertEqual(losses(d)[-1][0], 5)
        # the Python twin: the same bytes as the C program's MPI run
        if not HAVE_MPI4PY:
            return
        p = self.out("folder-py-2")
        run(mpirun(2) + [PY, TRAIN_PY, "--out", p] + args)
        self.assertEqual(read_bytes(os.path.join(p, "checkpoint.safetensors")),
                         read_bytes(os.path.join(d, "checkpoint.safetensors")))

    @need_mpi4py
    @needs_fmnist
    def test_python_mpi4py(self):
        ref = self.single("tiny", TINY)
        p = self.out("tiny-py-2")
        run(mpirun(2) + [PY, TRAIN_PY, "--out", p] + TINY)
        self.assert_equivalent(p, ref, "train_mpi.py, 2 ranks")
        c = self.out("tiny-c-2")
        run(mpirun(2) + [TRAIN_MPI, "--out", c] + TINY)
        self.assertEqual(read_bytes(os.path.join(p, "checkpoint.safetensors")),
                         read_bytes(os.path.join(c, "checkpoint.safetensors")))

    # --- interruption, failures ------------------------------------------------------------

    @needs_fmnist
    def test_interrupt_and_resume(self):
        """200 steps, saving every 5: interrupted (SIGINT to mpirun) after a
        checkpoint, then --resume under MPI: the uninterrupted run's bytes.
        mpirun takes a second or more to end the ranks after SIGINT, in which
        200 tiny steps (1 s) can all run on an idle machine, and it wakes
        the ranks with SIGCONT before its SIGTERM; so the ranks are frozen
        (SIGSTOP) the moment a checkpoint exists and killed (SIGKILL, a
        harder stop than the SIGINT mpirun gets too): the interruption lands
        mid-run whatever the machine's speed."""
        steps = 200
        args = ["--preset", "tiny", "--steps", str(steps), "--seed", "6", "--limit", "400",
                "--threads", "1", "--quiet", "--save-every", "5"]
        whole = self.out("resume-whole")
        run(mpirun(2) + [TRAIN_MPI, "--out", whole] + args)
        part = self.out("resume-part")
        ck = os.path.join(part, "checkpoint.safetensors")
        p = subprocess.Popen(mpirun(2) + [TRAIN_MPI, "--out", part] + args, env=env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(ck) or p.poll() is not None, 60, "a checkpoint")
            self.assertIsNone(p.poll(), "the run ended before it could be interrupted")
            wait_for(lambda: len(ranks_of(p.pid)) == 2, 10, "two ranks")
            ranks = ranks_of(p.pid)
            for r in ranks:
                os.kill(r, signal.SIGSTOP)
            p.send_signal(signal.SIGINT)
            for r in ranks:  # mpirun would SIGCONT them before its SIGTERM
                os.kill(r, signal.SIGKILL)
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        step = ckpt_step(ck)
        self.assertTrue(5 <= step < steps and step % 5 == 0, "interrupted at step %d" % step)
        resumed = self.out("resume-resumed")
        run(mpirun(2) + [TRAIN_MPI, "--out", resumed, "--resume", ck] + args)
        self.assertEqual(losses(resumed)[0][0], step + 1)
        self.assertEqual(read_bytes(os.path.join(resumed, "checkpoint.safetensors")),
                         read_bytes(os.path.join(whole, "checkpoint.safetensors")))

    def failing_run(self, tag, sig, extra=(), prog=(TRAIN_MPI,)):
        """A long run saving every 3 steps; once a checkpoint exists, send sig
        to rank 1. Returns (seconds until mpirun ended, its status, stderr,
        checkpoint path)."""
        d = self.out(tag)
        ck = os.path.join(d, "checkpoint.safetensors")
        errf = open(os.path.join(self.tmp.name, tag + ".err"), "w+")
        p = subprocess.Popen(mpirun(2) + list(prog) + ["--out", d, "--preset", "tiny", "--steps",
                                          "100000", "--limit", "200", "--threads", "1",
                                          "--quiet", "--save-every", "3"] + list(extra),
                             env=env(), stdout=subprocess.DEVNULL, stderr=errf)
        try:
            wait_for(lambda: os.path.exists(ck) or p.poll() is not None, 60, "a checkpoint")
            self.assertIsNone(p.poll(), "the run ended early")
            wait_for(lambda: len(ranks_of(p.pid)) == 2, 10, "two ranks")
            victim = ranks_of(p.pid)[1]
            t0 = time.monotonic()
            os.kill(victim, sig)
            try:
                status = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                status = None
            seconds = time.monotonic() - t0
        finally:
            if p.poll() is None:
                for r in ranks_of(p.pid):
                    os.kill(r, signal.SIGKILL)
                p.kill()
                p.wait()
        errf.seek(0)
        err = errf.read()
        errf.close()
        self.assertIsNotNone(status, "%s: the job still ran 30 s later:\n%s" % (tag, err))
        self.assertNotEqual(status, 0)
        self.assertLess(seconds, 30)
        # the last checkpoint is whole: it loads into a trainer
        with ijepa.Checkpoint(ck) as c:
            cfg = c.config
            step = c.step
        self.assertGreaterEqual(step, 3)
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
            tr.load(ck)
            self.assertEqual(tr.step_count, step)
        return seconds, err

    @needs_fmnist
    def test_rank_killed(self):
        seconds, err = self.failing_run("killed", signal.SIGKILL)
        self.assertIn("rank 1", err)  # mpirun names the rank that died

    @needs_fmnist
    def test_rank_hangs(self):
        """A stopped rank (SIGSTOP: alive, silent): the others' watchdog
        gives up after --mpi-timeout (2 s) plus 4 x the longest step."""
        seconds, err = self.failing_run("stopped", signal.SIGSTOP, ["--mpi-timeout", "2"])
        self.assertIn("have not answered", err)

    @need_mpi4py
    @needs_fmnist
    def test_python_rank_hangs(self):
        """The same in train_mpi.py: its watchdog thread gives up."""
        seconds, err = self.failing_run("py-stopped", signal.SIGSTOP, ["--mpi-timeout", "2"],
                                        prog=(PY, TRAIN_PY))
        self.assertIn("have not answered", err)

    @needs_fmnist
    def test_ranks_disagree(self):
        """Different options on two ranks (MPMD): refused at the start."""
        d = self.out("mismatch")
        base = mpirun(1)
        cmd = base + [TRAIN_MPI, "--out", d] + TINY + [":", "-np", "1", TRAIN_MPI, "--out", d] \
            + TINY + ["--set", "lr=0.01"]
        p = subprocess.run(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ranks 1 differ from rank 0 in the configuration", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "checkpoint.safetensors")))

    @needs_fmnist
    def test_ranks_disagree_on_steps(self):
        """Ranks of one schedule that would stop at different steps: refused at
        the start, not left waiting for each other."""
        d = self.out("mismatch-steps")
        args = [a for a in TINY if a not in ("--steps", "5")] + ["--set", "total_steps=10"]
        cmd = mpirun(1) + [TRAIN_MPI, "--out", d, "--steps", "3"] + args + \
            [":", "-np", "1", TRAIN_MPI, "--out", d, "--steps", "5"] + args
        p = subprocess.run(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ranks 1 differ from rank 0 in the number of steps", p.stderr)

    def test_skip_refused_on_ranks(self):
        """data_on_error=skip would shift the other ranks' images: a bad
        command line (exit 2) before any data is read, one whole line a rank."""
        args = self.folder_args() + ["--set", "data_on_error=skip"]
        p = subprocess.run(mpirun(2) + [TRAIN_MPI] + args, env=env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        want = ("data_on_error=skip cannot train on 2 ranks: a skipped file would shift the "
                "images of the other ranks' slices (see ijepa-train --help)")
        self.assertIn("ijepa-train: " + want + "\n", p.stderr)
        self.assertIn("ijepa-train (rank 1): " + want + "\n", p.stderr)
        if not HAVE_MPI4PY:
            return
        p = subprocess.run(mpirun(2) + [PY, TRAIN_PY] + args, env=env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("data_on_error=skip cannot train on 2 ranks", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    @needs_fmnist
    def test_states_disagree(self):
        """Two ranks resuming from checkpoints that differ in one weight:
        refused at the start, naming the rank."""
        first = self.out("diverge-first")
        run([TRAIN, "--out", first] + TINY[:2] + ["--steps", "2", "--limit", "200",
                                                   "--threads", "1", "--quiet"])
        a = os.path.join(first, "checkpoint.safetensors")
        b = os.path.join(self.tmp.name, "perturbed.safetensors")
        with ijepa.Checkpoint(a) as c:
            cfg = c.config
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
            tr.load(a)
            tr.predictor.params[100] += np.float32(1e-3)
            tr.save(b)
        d = self.out("diverge")
        opts = ["--steps", "4", "--limit", "200", "--threads", "1", "--quiet", "--out", d]
        cmd = mpirun(1) + [TRAIN_MPI, "--resume", a] + opts + [":", "-np", "1", TRAIN_MPI,
                                                               "--resume", b] + opts
        p = subprocess.run(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("at step 2 the training state of ranks 1 differs from rank 0's", p.stderr)

    def test_without_mpi_build(self):
        """ijepa-train without ijepa-train-mpi next to it, under mpirun:
        refuses rather than train the same run once per rank."""
        top = os.path.join(self.tmp.name, "nompi")
        os.makedirs(os.path.join(top, "examples"))
        os.symlink(os.path.join(ROOT, "lib"), os.path.join(top, "lib"))
        shutil.copy(TRAIN, os.path.join(top, "examples"))
        d = self.out("nompi-run")
        p = subprocess.run(mpirun(2) + [os.path.join(top, "examples", "ijepa-train"), "--out",
                                        d] + TINY, env=env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("started by mpirun (2 ranks), but this build has no MPI", p.stderr)
        self.assertFalse(os.path.exists(d))


if __name__ == "__main__":
    unittest.main()
