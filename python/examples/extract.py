#!/usr/bin/python3
"""Average-pooled target-encoder features of Fashion-MNIST images as a .npy
file (float32 [n, embed_dim]): the Python twin of ijepa-extract
(examples/extract.c), which writes the same array from the same weights.

    python3 python/examples/extract.py --run RUN_DIR --split t10k --out feats.npy
    python3 python/examples/extract.py --checkpoint ckpt.safetensors --out feats.npy

Weights come from a training run's output directory (config.txt and
target_encoder.f32, written by train.py or ijepa-train --out), or from a
libijepa checkpoint (safetensors with target_encoder.* tensors and the
ijepa.config metadata, e.g. written by ijepa_convert.py from an official
I-JEPA checkpoint).
"""
import argparse
import os
import sys


def load_encoder(ijepa, ctx, run=None, config_file=None, weights=None, checkpoint=None):
    """An inference Encoder holding the target-encoder weights of a run
    directory, a (config.txt, .f32) pair, or a libijepa checkpoint."""
    import numpy as np
    if checkpoint:
        import ijepa_convert
        tensors, meta = ijepa_convert.read_safetensors(checkpoint)
        if "ijepa.config" not in meta:
            raise ValueError("%s has no ijepa.config metadata" % checkpoint)
        cfg = ijepa.Config.from_text(meta["ijepa.config"])
        cfg["trainable"] = 0
        enc = ijepa.Encoder(ctx, cfg)
        pre = "target_encoder."
        enc.load_state_dict({k[len(pre):]: v for k, v in tensors.items() if k.startswith(pre)})
        return enc
    if run:
        config_file = config_file or os.path.join(run, "config.txt")
        weights = weights or os.path.join(run, "target_encoder.f32")
    with open(config_file) as f:
        cfg = ijepa.Config.from_text(f.read())
    cfg["trainable"] = 0
    enc = ijepa.Encoder(ctx, cfg)
    w = np.fromfile(weights, dtype="<f4")
    if w.size != enc.params.size:
        raise ValueError("%s holds %d floats, the configuration needs %d"
                         % (weights, w.size, enc.params.size))
    enc.params[...] = w
    return enc


def extract(enc, pixels):
    """float32 [n, D] features, batch by batch of the encoder's batch_size
    (the batch size of ijepa-extract, so that the results are identical)."""
    import numpy as np
    import fmnist
    feats = np.empty((len(pixels), enc.embed_dim), dtype=np.float32)
    for i in range(0, len(pixels), enc.batch_size):
        x = fmnist.images(pixels[i:i + enc.batch_size], enc.img_size)
        enc.features(x, out=feats[i:i + len(x)])
    return feats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="directory with config.txt and target_encoder.f32")
    src.add_argument("--config-file")
    src.add_argument("--checkpoint", help="libijepa checkpoint (.safetensors)")
    ap.add_argument("--weights")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--split", default="t10k", choices=["train", "t10k"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.config_file and not a.weights:
        ap.error("--config-file needs --weights")
    if a.threads > 0:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.path.insert(0, os.path.dirname(here))
    import numpy as np
    import fmnist
    import ijepa

    pixels, _ = fmnist.load(a.data, a.split)
    if 0 < a.limit < len(pixels):
        pixels = pixels[:a.limit]
    with ijepa.Context() as ctx:
        with load_encoder(ijepa, ctx, a.run, a.config_file, a.weights, a.checkpoint) as enc:
            feats = extract(enc, pixels)
    np.save(a.out, feats)
    print("wrote %s: %d x %d features of the %s split" % (a.out, feats.shape[0],
                                                          feats.shape[1], a.split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
