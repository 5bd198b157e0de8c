#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Average-pooled target-encoder features of Fashion-MNIST images as a .npy
file (float32 [n, embed_dim]): the Python twin of ijepa-extract
(examples/extract.c), which writes the same array from the same weights.

    python3 python/examples/extract.py --run RUN_DIR --split t10k --out feats.npy
    python3 python/examples/extract.py --checkpoint ckpt.safetensors --out feats.npy

The weights are the target_encoder.* tensors and the configuration of a
libijepa checkpoint: --run DIR reads DIR/checkpoint.safetensors (as
train.py --out DIR and ijepa-train --out DIR write it); ijepa_convert.py
makes one from an official I-JEPA checkpoint. Each image goes through the
evaluation transform of that configuration (its data_* keys).
"""
import argparse
import os
import sys


def load_encoder(ijepa, ctx, checkpoint, batch=32, max_memory=8 << 30):
    """An inference Encoder (trainable = 0, batch_size batch) with the
    target_encoder.* weights and the configuration of a libijepa checkpoint,
    read and validated by the library (ijepa_checkpoint_open / _load_encoder).
    As ijepa-extract: the runtime keys are this process's defaults, not the
    file's, and the file is checked (every tensor, its shape, the memory the
    encoder needs, at most max_memory bytes; 0: no limit) before the encoder
    is created."""
    with ijepa.Checkpoint(checkpoint) as ck:
        cfg = ck.config
        with ijepa.Config() as defaults:
            for k in cfg.keys():
                if ijepa.config_key_class(k) == "runtime":
                    cfg[k] = defaults[k]
        cfg["trainable"], cfg["batch_size"] = 0, batch
        need = ck.check_encoder("target_encoder", cfg)
        if max_memory and need > max_memory:
            cfg.close()
            raise SystemExit("extract.py: the encoder would need %.2f GiB of memory, more than "
                             "the limit of %.2f GiB" % (need / 2 ** 30, max_memory / 2 ** 30))
        enc = ijepa.Encoder(ctx, cfg)
        ck.load_into(enc, "target_encoder")
    cfg.close()
    return enc


def extract(enc, pixels):
    """float32 [n, D] features, batch by batch of the encoder's batch_size
    (ijepa-extract's batches, so that the results are identical)."""
    import numpy as np
    import fmnist
    feats = np.empty((len(pixels), enc.embed_dim), dtype=np.float32)
    with enc.config as cfg:
        for i in range(0, len(pixels), enc.batch_size):
            x = fmnist.images(pixels[i:i + enc.batch_size], cfg)
            enc.features(x, out=feats[i:i + len(x)])
    return feats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="directory with checkpoint.safetensors")
    src.add_argument("--checkpoint", help="libijepa checkpoint (.safetensors)")
    ap.add_argument("--fmnist", metavar="DIR",
                    help="Fashion-MNIST's IDX files (default $IJEPA_FMNIST_DIR, or "
                         "/usr/share/datasets/fashion-mnist)")
    ap.add_argument("--split", default="t10k", choices=["train", "t10k"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32, help="images per forward (default 32)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.threads > 0:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.path.insert(0, os.path.dirname(here))
    import numpy as np
    import fmnist
    import ijepa
    fmnist.require_library("extract.py")

    pixels, _ = fmnist.load(a.fmnist or fmnist.DEFAULT_DIR, a.split)
    if 0 < a.limit < len(pixels):
        pixels = pixels[:a.limit]
    with ijepa.Context() as ctx:
        ckpt = a.checkpoint or os.path.join(a.run, "checkpoint.safetensors")
        with load_encoder(ijepa, ctx, ckpt, a.batch) as enc:
            feats = extract(enc, pixels)
    np.save(a.out, feats)
    print("wrote %s: %d x %d features of the %s split" % (a.out, feats.shape[0],
                                                          feats.shape[1], a.split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
