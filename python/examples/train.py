#!/usr/bin/python3
"""I-JEPA pretraining on Fashion-MNIST from Python: the Python twin of
ijepa-train (examples/train.c). Same recipes, data order, seed handling and
log, so the same command line gives the same losses and weights:

    python3 python/examples/train.py --config tiny --steps 20 --seed 1 --out run
    examples/ijepa-train --config tiny --steps 20 --seed 1 --threads 1 --out run-c

(with the same number of OpenMP threads: --threads here sets OMP_NUM_THREADS
before the library is loaded). Writes to --out: log.csv (the C example's
columns), config.txt and target_encoder.f32 (raw float32 parameters of the
target encoder, the input of extract.py and ijepa-extract).
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

    cfg = ijepa.Config()
    cfg.update(fmnist.parse_settings(settings))
    if a.batch > 0:
        cfg["batch_size"] = a.batch
    cfg["seed"] = a.seed
    cfg.update(fmnist.parse_settings(" ".join(a.set)))
    B = cfg["batch_size"]
    steps = a.steps
    if steps <= 0:
        steps = int((a.epochs if a.epochs > 0 else 1.0) * (len(pixels) // B))
    steps = max(steps, 1)
    # as examples/trainloop.h: schedules span the run
    cfg["total_steps"] = steps
    if cfg["warmup_steps"] > steps:
        cfg["warmup_steps"] = steps // 10

    losses = train(cfg, pixels, steps, crop if a.crop < 0 else a.crop, a.out, a.quiet)
    print("trained %d steps: loss %.5f -> %.5f" % (steps, losses[0], losses[-1]))
    return 0


def train(cfg, pixels, steps, crop_scale_min=0.0, out_dir=None, quiet=True):
    """Train with ijepa.Trainer on the feed of examples/trainloop.h; returns
    the losses (and writes out_dir/{log.csv,config.txt,target_encoder.f32})."""
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
    with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
        for s in range(steps):
            x = feed.next_batch()
            loss = tr.step(x)
            st = tr.stats()
            losses.append(loss)
            el = time.monotonic() - t0
            if csv:
                csv.write("%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.0f,%.0f,%.2f,%.2f\n" % (
                    s + 1, feed.epoch, loss, st["target_std"], st["lr"], st["weight_decay"],
                    st["momentum"], st["grad_norm"], st["n_context"], st["n_target"],
                    (s + 1) * B / el, el))
            if not quiet and ((s + 1) % max(1, steps // 20) == 0 or s + 1 == steps):
                print("step %d/%d loss %.5f target_std %.4f lr %.2e" % (
                    s + 1, steps, loss, st["target_std"], st["lr"]), file=sys.stderr)
        if out_dir:
            csv.close()
            with open(os.path.join(out_dir, "config.txt"), "w") as f:
                f.write(cfg.to_text())
            tr.target_encoder.params.tofile(os.path.join(out_dir, "target_encoder.f32"))
    return losses


if __name__ == "__main__":
    sys.exit(main())
