# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Fashion-MNIST for the Python examples: the gzipped IDX files as Debian's
dataset-fashion-mnist ships them, read with gzip + numpy, and the training
feed of the C examples (examples/fmnist.c, examples/trainloop.c): the same
shuffle, and every image through the library's own transforms
(Image.from_pixels, then the configuration's training or evaluation
transform), so that python/examples/train.py and ijepa-train give the same
losses and weights for the same preset, seed and data. Also
require_library(), what the examples do when libijepa cannot be loaded.
"""
import gzip
import os

import numpy as np

import ijepa

# the default of the C programs too: $IJEPA_FMNIST_DIR, else Debian's dataset-fashion-mnist
DEFAULT_DIR = os.environ.get("IJEPA_FMNIST_DIR") or "/usr/share/datasets/fashion-mnist"
_M64 = (1 << 64) - 1


def require_library(prog):
    """Load libijepa now; if it cannot be, exit with status 1 and one line
    (the binding's reason, and where a built source tree has the library)
    instead of a traceback at the first call."""
    try:
        ijepa.version()
    except OSError as e:
        tree = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "lib", "libijepa.so.0")
        hint = ""
        if not os.environ.get("IJEPA_LIBRARY") and os.path.exists(tree):
            hint = " (this source tree's build: IJEPA_LIBRARY=%s)" % tree
        raise SystemExit("%s: %s%s" % (prog, " ".join(str(e).split()), hint))


def read_idx(path, ndim):
    """One gzipped IDX file of unsigned bytes with ndim dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08 or magic & 0xFF != ndim:
        raise ValueError("%s: not an IDX file of %d-D unsigned bytes" % (path, ndim))
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for shape %s" % (path, body.size, dims))
    return body.reshape(dims)


def load(directory=DEFAULT_DIR, split="train"):
    """(pixels uint8 [n, 28, 28], labels uint8 [n]) of split 'train' or 't10k'."""
    px = read_idx(os.path.join(directory, "%s-images-idx3-ubyte.gz" % split), 3)
    lb = read_idx(os.path.join(directory, "%s-labels-idx1-ubyte.gz" % split), 1)
    if len(px) != len(lb):
        raise ValueError("%s: %d labels for %d images" % (directory, len(lb), len(px)))
    return px, lb


def transform(pixels, cfg, train=False, seed=0, out=None):
    """One image uint8 [28, 28] through cfg's training transform (crop drawn
    with seed) or evaluation transform: float32 [1, img_size, img_size]
    (fmnist_transform of examples/fmnist.c)."""
    if cfg["in_chans"] != 1:
        raise ValueError("Fashion-MNIST images have 1 channel, the config's in_chans is %d"
                         % cfg["in_chans"])
    with ijepa.Image.from_pixels(np.ascontiguousarray(pixels)) as img:
        if train:
            return img.transform_train(cfg, seed, out=out)
        return img.transform_eval(cfg, out=out)


def images(pixels, cfg):
    """float32 [n, 1, img_size, img_size]: the evaluation transform of each
    image of pixels uint8 [n, 28, 28] (what features are computed on)."""
    s = cfg["img_size"]
    out = np.empty((len(pixels), 1, s, s), dtype=np.float32)
    for i in range(len(pixels)):
        transform(pixels[i], cfg, out=out[i])
    return out


def crop_seed(seed, position):
    """fmnist_crop_seed(): the crop seed of the feed's position-th image."""
    return (seed * 0x9E3779B97F4A7C15 + position) & _M64


def xorshift(state):
    """ex_xorshift of examples/common.c: returns the new 64-bit state."""
    state ^= (state << 13) & _M64
    state ^= state >> 7
    state ^= (state << 17) & _M64
    return state


class Feed:
    """The Fashion-MNIST feed of examples/trainloop.c: a new permutation
    (Fisher-Yates with xorshift64 seeded 0x2545f4914f6cdd1d ^ seed) at every
    epoch, each image through cfg's transform (data_transform; the training
    one crops with crop_seed(seed, position))."""

    def __init__(self, pixels, cfg):
        self.pixels, self.cfg = pixels, cfg
        self.batch, self.size = cfg["batch_size"], cfg["img_size"]
        self.seed = cfg["seed"]
        self.train = cfg["data_transform"] == ijepa.DATA_TRAIN
        self.state = (0x2545F4914F6CDD1D ^ self.seed) & _M64
        self.n = len(pixels)
        self.pos = self.n
        self.position = 0
        self.epoch = -1
        self.perm = None
        self.lo, self.hi = 0, self.batch

    def slice(self, batch, step, offset, count):
        """From now on next_batch() gives only the images [offset, offset +
        count) of each batch (a data-parallel rank's rows); the stream
        still advances by whole batches (ex_feed_slice of examples/trainloop.c)."""
        self.lo, self.hi = offset, offset + count

    def data_id(self):
        """What the ranks compare: the pixels."""
        return self.pixels.tobytes()

    def _shuffle(self):
        perm = list(range(self.n))
        s = self.state
        for i in range(self.n - 1, 0, -1):
            s = xorshift(s)
            j = s % (i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        self.state = s
        self.perm = perm
        self.pos = 0
        self.epoch += 1

    def next_batch(self, skip=False):
        """float32 [batch, 1, size, size]; with skip, only advance the
        stream (a resumed run replaying the steps trained before)."""
        x = None if skip else np.empty((self.hi - self.lo, 1, self.size, self.size),
                                       dtype=np.float32)
        for b in range(self.batch):
            if self.pos == self.n:
                self._shuffle()
            i = self.perm[self.pos]
            self.pos += 1
            if not skip and self.lo <= b < self.hi:
                transform(self.pixels[i], self.cfg, self.train,
                          crop_seed(self.seed, self.position), out=x[b - self.lo])
            self.position += 1
        return x
