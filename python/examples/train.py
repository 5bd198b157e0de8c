#!/usr/bin/python3
"""I-JEPA pretraining on Fashion-MNIST from Python: the Python twin of
ijepa-train (examples/train.c). Same recipes, data order, seed handling and
log, so the same command line gives the same losses and weights:

    python3 python/examples/train.py --config tiny --steps 20 --seed 1 --out run
    examples/ijepa-train --config tiny --steps 20 --seed 1 --threads 1 --out run-c

(with the same number of OpenMP threads: --threads here sets OMP_NUM_THREADS
before the library is loaded). Writes to --out: log.csv (the C example's
columns) and checkpoint.safetensors (Trainer.save: both encoders, predictor,
optimizer state, step and configuration; the input of extract.py and
ijepa-extract). --save-every K also saves it every K steps; --resume PATH
continues a saved run to --steps N in total (default: the file's
total_steps), replaying the feed of the steps already trained, as
ijepa-train does. No --probe and no pictures: use the C example for those.
"""
import argparse
import os
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--config", default="fmnist")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--epochs", type=float, default=0)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--crop", type=float, default=-1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--resume", metavar="PATH")
    ap.add_argument("--save-every", type=int, default=0, metavar="K")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.threads > 0:  # before libgomp starts (it starts with the library)
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import fmnist
    import ijepa

    if a.config not in fmnist.RECIPES:
        ap.error("unknown config %r (known: %s)" % (a.config, ", ".join(fmnist.RECIPES)))
    settings, crop = fmnist.RECIPES[a.config]
    pixels, _ = fmnist.load(a.data, "train")
    if 0 < a.limit < len(pixels):
        pixels = pixels[:a.limit]

    steps = a.steps
    if a.resume:  # the configuration is the file's
        cfg = ijepa.read_checkpoint_config(a.resume)
        if steps <= 0 and a.epochs <= 0:
            steps = cfg["total_steps"]
    else:
        cfg = ijepa.Config()
        cfg.update(fmnist.parse_settings(settings))
        if a.batch > 0:
            cfg["batch_size"] = a.batch
        cfg["seed"] = a.seed
    cfg.update(fmnist.parse_settings(" ".join(a.set)))
    B = cfg["batch_size"]
    if steps <= 0:
        steps = int((a.epochs if a.epochs > 0 else 1.0) * (len(pixels) // B))
    steps = max(steps, 1)

    losses = train(cfg, pixels, steps, crop if a.crop < 0 else a.crop, a.out, a.quiet,
                   a.resume, a.save_every)
    print("trained %d steps: loss %.5f -> %.5f" % (len(losses), losses[0], losses[-1]))
    return 0


def train(cfg, pixels, steps, crop_scale_min=0.0, out_dir=None, quiet=True, resume=None,
          save_every=0):
    """Train with ijepa.Trainer on the feed of examples/trainloop.h until
    step `steps`; returns the losses of the steps trained (and writes
    out_dir/log.csv and out_dir/checkpoint.safetensors). cfg gets the
    run's total_steps (and warmup_steps if they exceed it), as in C."""
    import fmnist
    import ijepa

    B, img = cfg["batch_size"], cfg["img_size"]
    feed = fmnist.Feed(pixels, img, B, cfg["seed"], crop_scale_min)
    losses = []
    csv = None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        csv = open(os.path.join(out_dir, "log.csv"), "w")
        csv.write("step,epoch,loss,target_std,lr,weight_decay,momentum,grad_norm,"
                  "n_context,n_target,images_per_s,elapsed_s\n")
    t0 = time.monotonic()
    cfg["total_steps"] = steps
    if cfg["warmup_steps"] > steps:
        cfg["warmup_steps"] = steps // 10
    ckpt = os.path.join(out_dir, "checkpoint.safetensors") if out_dir else None
    with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
        s0 = 0
        if resume:
            tr.load(resume)
            s0 = tr.step_count
            if s0 >= steps:
                raise SystemExit("train.py: %s is already at step %d of %d" % (resume, s0, steps))
        for s in range(steps):
            if s == s0:
                t0 = time.monotonic()
            x = feed.next_batch()
            if s < s0:
                continue  # resuming: this batch was trained before
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
        if out_dir:
            csv.close()
            tr.save(ckpt)
    return losses


if __name__ == "__main__":
    sys.exit(main())
