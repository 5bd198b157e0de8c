#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""I-JEPA pretraining from Python: the Python twin of ijepa-train
(examples/train.c). Same options, presets, data order, seed handling and
log, so the same command line gives the same losses and weights:

    python3 python/examples/train.py --preset tiny --steps 20 --seed 1 --out run
    examples/ijepa-train --preset tiny --steps 20 --seed 1 --threads 1 --out run-c

(with the same number of OpenMP threads: --threads here sets OMP_NUM_THREADS
before the library is loaded; in a source tree where libijepa is not
installed, set IJEPA_LIBRARY=$PWD/lib/libijepa.so.0 first). The data is Fashion-MNIST (--fmnist DIR, the
default) or a folder of images (--data DIR, through ijepa.Dataset). Writes to
--out: log.csv (the C example's columns) and checkpoint.safetensors
(Trainer.save: both encoders, predictor, optimizer state, step and
configuration; the input of extract.py and ijepa-extract). --save-every K
also saves it every K steps; --resume PATH continues a saved run to
--steps N in total (default: the file's total_steps), replaying the feed of
the steps already trained, as ijepa-train does. No pictures: use the C
example for those.
"""
import argparse
import os
import sys
import time


def main(argv=None):
    a, cfg, feed, steps = setup(argv)
    import ijepa  # the path setup() gives
    try:
        losses = train_on(cfg, feed, steps, a.out, a.quiet, a.resume, a.save_every,
                          scheduled=True)
    except ijepa.IjepaError as e:  # one line, exit 1, as ijepa-train says a failure
        print("train.py: %s" % e, file=sys.stderr)
        return 1
    if a.data:
        feed.ds.close()
    n = len(losses)
    print("trained %d step%s: loss %.5f -> %.5f" % (n, "" if n == 1 else "s", losses[0],
                                                    losses[-1]))
    return 0


def parser(description=__doc__.split("\n\n")[0]):
    """The options (those of examples/train.c)."""
    ap = argparse.ArgumentParser(description=description)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--fmnist", metavar="DIR", help="Fashion-MNIST's IDX files (default)")
    src.add_argument("--data", metavar="DIR", help="a folder of .png/.jpg/.jpeg images")
    ap.add_argument("--preset", help="a library preset (default fmnist, or folder with --data)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--epochs", type=float, default=0)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--crop", type=float, help="RandomResizedCrop scale (S, 1); 0: none")
    ap.add_argument("--limit", type=int, default=0, metavar="N",
                    help="only the first N Fashion-MNIST training images (not with --data)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--resume", metavar="PATH")
    ap.add_argument("--save-every", type=int, default=0, metavar="K")
    ap.add_argument("--quiet", action="store_true")
    return ap


def setup(argv=None, ap=None):
    """Parse the options; returns (options, config, feed, steps)."""
    ap = ap or parser()
    a = ap.parse_args(argv)
    if a.steps and a.epochs:
        ap.error("give --steps or --epochs, not both")
    if a.save_every and not a.out:
        ap.error("--save-every saves DIR/checkpoint.safetensors: give --out DIR too")
    if a.threads > 0:  # before libgomp starts (it starts with the library)
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import fmnist
    import ijepa
    fmnist.require_library(os.path.basename(sys.argv[0]) or "train.py")

    # the configuration: the command line's (a preset, then the options in
    # order); resuming, the file's with the options, and the runtime keys of
    # the command line (as ijepa-train: a checkpoint does not choose this
    # process's batch_size, data_* limits, workers)
    def options(c):
        if a.batch > 0:
            c["batch_size"] = a.batch
        if a.seed is not None:
            c["seed"] = a.seed
        if a.crop is not None:
            if a.crop > 0:
                c["data_transform"] = ijepa.DATA_TRAIN
                c["data_crop_scale_min"] = a.crop
            else:
                c["data_transform"] = ijepa.DATA_EVAL
        for setting in a.set:
            c.update_from_text(setting)
    cfg = ijepa.Config(preset=a.preset or ("folder" if a.data else "fmnist"))
    options(cfg)
    ck = None
    if a.resume:
        # the file's model, training and data keys with the options, but a
        # model key may not change; the runtime keys of the command line
        cl = cfg
        ck = ijepa.Checkpoint(a.resume)
        cfg = ck.config
        with cfg.copy() as file_cfg:
            options(cfg)
            for k in cfg.keys():
                if ijepa.config_key_class(k) == "model" and cfg[k] != file_cfg[k]:
                    def shown(v):
                        return ijepa.config_value_name(k, v) or v
                    ap.error("--resume: %s is %s in %s, %s on this command line: a model key "
                             "cannot change on resume"
                             % (k, shown(file_cfg[k]), a.resume, shown(cfg[k])))
        before = {k: cfg[k] for k in ("batch_size", "precision")}
        for k in cfg.keys():
            if ijepa.config_key_class(k) == "runtime":
                cfg[k] = cl[k]
        cl.close()
        # runtime keys that change the numbers: said, as ijepa-train does
        if cfg["batch_size"] != before["batch_size"] and not a.quiet:
            print("train.py: note: batch_size %d (this command line's) is not the file's %d: "
                  "the batches differ from the uninterrupted run's (--batch %d continues it "
                  "exactly)" % (cfg["batch_size"], before["batch_size"], before["batch_size"]),
                  file=sys.stderr)
        if cfg["precision"] != before["precision"] and not a.quiet:
            was = ijepa.config_value_name("precision", before["precision"])
            print("train.py: note: precision %s (this command line's) is not the file's %s: "
                  "the numbers differ from the uninterrupted run's (--set precision=%s "
                  "continues it exactly)"
                  % (ijepa.config_value_name("precision", cfg["precision"]), was, was),
                  file=sys.stderr)

    # the schedule, as ijepa-train's set_schedule(): an explicit --set
    # total_steps is the schedule (the run stops at or before it), else
    # total_steps is the run's length; an explicit warmup_steps must fit,
    # a longer one of a preset becomes total_steps // 10
    set_total = any(_names(s, "total_steps") for s in a.set)
    set_warm = any(_names(s, "warmup_steps") for s in a.set)

    def schedule(stop, how):
        if set_total and stop > cfg["total_steps"]:
            ap.error("%s goes past total_steps %d (--set total_steps), where the schedule "
                     "ends" % (how, cfg["total_steps"]))
        if not set_total:
            cfg["total_steps"] = stop
        if cfg["warmup_steps"] > cfg["total_steps"]:
            if set_warm:
                ap.error("warmup_steps %d (--set warmup_steps) exceeds total_steps %d"
                         % (cfg["warmup_steps"], cfg["total_steps"]))
            cfg["warmup_steps"] = cfg["total_steps"] // 10

    steps = a.steps
    if steps <= 0 and a.epochs <= 0 and (a.resume or set_total):
        steps = cfg["total_steps"]
    if steps > 0:
        schedule(steps, "--steps %d" % steps)
    if ck:  # every tensor a trainer needs, before anything is allocated
        with cfg.copy() as c:
            c["total_steps"] = max(c["total_steps"], c["warmup_steps"])
            ck.check_trainer(c)
        ck.close()

    check_parts(cfg, ap)
    if a.data:
        if a.limit:
            ap.error("--limit takes the first N Fashion-MNIST images; a folder is used whole")
        feed = FolderFeed(ijepa.Dataset(a.data, cfg))
    else:
        pixels, _ = fmnist.load(a.fmnist or fmnist.DEFAULT_DIR, "train")
        if 0 < a.limit < len(pixels):
            pixels = pixels[:a.limit]
        feed = fmnist.Feed(pixels, cfg)
    if steps <= 0:  # --epochs E, or one epoch
        steps = max(1, int((a.epochs if a.epochs > 0 else 1.0) * (feed.n // cfg["batch_size"])))
        schedule(steps, ("--epochs %g" % a.epochs) if a.epochs > 0 else "one epoch")
    return a, cfg, feed, steps


def check_parts(cfg, ap):
    """What the trainer's parts check only when used, before the data is
    read, as ijepa-train's check_parts(): the model's keys (with the
    memory), the mask sampler's, the optimizer's and the image transform's.
    A configuration they refuse is a bad command line (exit 2)."""
    import numpy as np
    import ijepa
    try:
        with cfg.copy() as c:
            c["total_steps"] = max(c["total_steps"], c["warmup_steps"])
            ijepa.trainer_estimate_bytes(c)
        ijepa.MaskSampler(cfg).close()
        ijepa.Optimizer(cfg).close()
        shape = (1, 1, 3) if cfg["in_chans"] == 3 else (1, 1)
        with ijepa.Image.from_pixels(np.zeros(shape, dtype=np.uint8)) as img:
            if cfg["data_transform"] == ijepa.DATA_TRAIN:
                img.transform_train(cfg, 0)
            else:
                img.transform_eval(cfg)
    except ijepa.IjepaError as e:
        if e.status != ijepa.ERR_INVALID_ARG:
            raise
        ap.error("bad configuration: %s" % e.message)


def _names(setting, key):
    """Whether a --set setting ("key=value" lines) names key."""
    return any(line.split("=", 1)[0].strip() == key
               for line in setting.split("\n") if "=" in line)


class FolderFeed:
    """A folder of images through ijepa.Dataset (the library's shuffle,
    crops and threads), as ex_feed_folder() of examples/trainloop.c."""

    def __init__(self, ds):
        self.ds, self.n = ds, len(ds)
        self.count = None

    def slice(self, batch, step, offset, count):
        """Only the images [offset, offset + count) of each batch, from the
        batch of `step` on (ijepa_dataset_set_slice: no replay needed)."""
        if offset == 0 and count == batch:
            return  # the whole batch (one rank): as without ranks, replay included
        self.count = count
        if count:
            self.ds.set_slice(step * batch, batch, offset, count)

    def next_batch(self, skip=False):
        if self.count is None:
            return self.ds.next_batch()
        if self.count:
            return self.ds.next_batch(batch=self.count)
        import numpy as np
        return np.empty((0, self.ds.in_chans, self.ds.img_size, self.ds.img_size),
                        dtype=np.float32)

    def data_id(self):
        """What the ranks compare: the files' paths."""
        return "\n".join(self.ds.paths).encode()

    @property
    def epoch(self):
        return self.ds.epoch


LOG_HEADER = ("step,epoch,loss,target_std,lr,weight_decay,momentum,grad_norm,"
              "n_context,n_target,images_per_s,elapsed_s\n")


def open_log(path, s0):
    """log.csv for a run that starts after step s0, as ijepa-train opens it:
    a new file, or the rows of an existing one up to step s0, continued."""
    rows = []
    if s0 > 0 and os.path.exists(path):
        with open(path) as f:
            for i, line in enumerate(f):
                step = line.split(",", 1)[0]
                if i > 0 and step.isdigit() and 1 <= int(step) <= s0:
                    rows.append(line)
    f = open(path, "w")
    f.write(LOG_HEADER + "".join(rows))
    return f


def train(cfg, pixels, steps, out_dir=None, quiet=True, resume=None, save_every=0):
    """train_on() with the Fashion-MNIST feed of pixels uint8 [n, 28, 28]."""
    import fmnist
    return train_on(cfg, fmnist.Feed(pixels, cfg), steps, out_dir, quiet, resume, save_every)


def train_on(cfg, feed, steps, out_dir=None, quiet=True, resume=None, save_every=0, dist=None,
             scheduled=False):
    """Train with ijepa.Trainer on feed until step `steps`, as ex_train() of
    examples/trainloop.c; returns the losses of the steps trained (and
    writes out_dir/log.csv and out_dir/checkpoint.safetensors). cfg gets the
    run's total_steps (and warmup_steps if they exceed it), as in C, unless
    `scheduled` (ex_train_scheduled(): setup() chose the schedule).

    dist: None (this process alone), or the data-parallel ranks of
    train_mpi.py: each computes its slice of every batch (Trainer.compute),
    dist.reduce(tr) sums the gradients and partials in place, every rank
    applies the sums (Trainer.apply); rank 0 alone writes and prints."""
    import ijepa

    B = cfg["batch_size"]
    losses = []
    csv = None
    root = dist is None or dist.rank == 0
    quiet = quiet or not root
    t0 = time.monotonic()
    if not scheduled:
        cfg["total_steps"] = steps
        if cfg["warmup_steps"] > steps:
            cfg["warmup_steps"] = steps // 10
    ckpt = os.path.join(out_dir, "checkpoint.safetensors") if out_dir and root else None
    if dist:  # my slice [off, off + cnt) of each batch, as ex_dist_slice()
        off = dist.rank * B // dist.size
        cnt = (dist.rank + 1) * B // dist.size - off
        dist.same_run(cfg, feed.data_id(), steps)
    with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
        s0 = 0
        if resume:
            tr.load(resume)
            s0 = tr.step_count
            if s0 >= steps:
                raise SystemExit("train.py: %s is already at step %d of %d" % (resume, s0, steps))
        if dist:
            dist.agree(tr)
            feed.slice(B, s0, off, cnt)
        if out_dir and root:
            os.makedirs(out_dir, exist_ok=True)
            csv = open_log(os.path.join(out_dir, "log.csv"), s0)
        for s in range(steps):
            if s == s0:
                t0 = time.monotonic()
            if s < s0 and getattr(feed, "count", None) is not None:
                continue  # the dataset's slice starts at step s0
            x = feed.next_batch(skip=s < s0)
            if s < s0:
                continue  # resuming: this batch was trained before
            if dist:
                tr.compute(x, off, B)
                dist.reduce(tr)
                loss = tr.apply()
                if dist.check_every and (s + 1) % dist.check_every == 0 and s + 1 < steps:
                    dist.agree(tr)
            else:
                loss = tr.step(x)
            st = tr.stats()
            losses.append(loss)
            el = time.monotonic() - t0
            if csv:
                csv.write("%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.0f,%.0f,%.2f,%.2f\n" % (
                    s + 1, feed.epoch, loss, st["target_std"], st["lr"], st["weight_decay"],
                    st["momentum"], st["grad_norm"], st["n_context"], st["n_target"],
                    (s + 1 - s0) * B / el, el))
            if not quiet and ((s + 1) % max(1, steps // 20) == 0 or s + 1 == steps):
                print("step %d/%d loss %.5f target_std %.4f lr %.2e" % (
                    s + 1, steps, loss, st["target_std"], st["lr"]), file=sys.stderr)
            if ckpt and save_every > 0 and (s + 1) % save_every == 0 and s + 1 < steps:
                csv.flush()
                tr.save(ckpt)
        if dist:
            dist.agree(tr)
        if ckpt:
            csv.close()
            tr.save(ckpt)
    return losses


if __name__ == "__main__":
    sys.exit(main())
