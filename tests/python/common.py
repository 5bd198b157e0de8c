# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Shared set-up of the Python tests: import python/ijepa.py against the
build tree's library (IJEPA_LIBRARY, default lib/libijepa.so.0 here); what
the optional data and packages are (Fashion-MNIST: IJEPA_FMNIST_DIR, else
Debian's dataset-fashion-mnist; PyTorch) and the skips for tests that need
them."""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))
os.environ.setdefault("IJEPA_LIBRARY", os.path.join(ROOT, "lib", "libijepa.so.0"))
# the examples' default, honoured by the C and Python programs alike
FMNIST_DIR = os.environ.get("IJEPA_FMNIST_DIR") or "/usr/share/datasets/fashion-mnist"

import ijepa  # noqa: E402  (after the path set-up)


def have_fmnist():
    return all(os.path.isfile(os.path.join(FMNIST_DIR, "%s-%s-idx%d-ubyte.gz" % (split, kind, n)))
               for split in ("train", "t10k") for kind, n in (("images", 3), ("labels", 1)))


# decorator of the tests that read Fashion-MNIST
needs_fmnist = unittest.skipUnless(
    have_fmnist(), "no Fashion-MNIST in %s (install dataset-fashion-mnist)" % FMNIST_DIR)


def have_torch():
    try:
        import torch  # noqa: F401
        return True
    except Exception:
        return False


def small_config(**over):
    """A few-thousand-parameter model: fast on one thread."""
    settings = dict(img_size=16, patch_size=4, in_chans=1, embed_dim=16, depth=1, num_heads=2,
                    pred_embed_dim=8, pred_depth=1, pred_num_heads=2, batch_size=4, min_keep=0,
                    total_steps=10, warmup_steps=2)
    settings.update(over)
    return ijepa.Config(**settings)
