"""Fashion-MNIST for the Python examples: the gzipped IDX files as Debian's
dataset-fashion-mnist ships them, read with gzip + numpy, and the training
feed of the C examples (examples/fmnist.h, examples/trainloop.h) reproduced
value for value, so that python/examples/train.py and ijepa-train give the
same losses and weights for the same recipe, seed and data.
"""
import gzip
import math
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = np.float32(0.2860)
STD = np.float32(0.3530)
_M64 = (1 << 64) - 1

# The named recipes of examples/trainloop.h (name: (settings, crop_scale_min)).
RECIPES = {
    "fmnist": (
        "img_size=28 patch_size=4 in_chans=1 embed_dim=128 depth=4 num_heads=4 patch_init_std=0.25 "
        "pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
        "mask_mode=0 min_keep=2 lr_start=2e-4 lr=1e-3 lr_final=1e-6 "
        "weight_decay=0.04 weight_decay_final=0.4 ema_start=0.996 ema_end=1.0 loss=0", 0.0),
    "fmnist-p2": (
        "img_size=28 patch_size=2 in_chans=1 embed_dim=128 depth=4 num_heads=4 patch_init_std=0.5 "
        "pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
        "mask_mode=0 min_keep=4 lr_start=2e-4 lr=1e-3 lr_final=1e-6 "
        "weight_decay=0.04 weight_decay_final=0.4 ema_start=0.996 ema_end=1.0 loss=0", 0.0),
    "fmnist-official": (
        "img_size=32 patch_size=4 in_chans=1 embed_dim=192 depth=6 num_heads=3 "
        "pred_embed_dim=96 pred_depth=4 pred_num_heads=3 batch_size=128 "
        "mask_mode=1 min_keep=4 lr_start=2e-4 lr=1e-3 lr_final=1e-6 "
        "weight_decay=0.04 weight_decay_final=0.4 ema_start=0.996 ema_end=1.0 loss=0", 0.3),
    "tiny": (
        "img_size=28 patch_size=4 in_chans=1 embed_dim=32 depth=2 num_heads=2 "
        "pred_embed_dim=16 pred_depth=1 pred_num_heads=2 batch_size=32 min_keep=2", 0.0),
}


def parse_settings(text):
    """'k=v k=v' -> [(k, int or float)] (ints stay ints)."""
    out = []
    for tok in text.split():
        k, eq, v = tok.partition("=")
        if not eq:
            raise ValueError("setting %r is not key=value" % tok)
        try:
            out.append((k, int(v)))
        except ValueError:
            out.append((k, float(v)))
    return out


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


def images(pixels, size):
    """float32 [n, 1, size, size]: pixels / 255 normalised with (MEAN, STD),
    centred on a canvas of the normalised black (examples/fmnist.h, in
    float32 arithmetic as the C code)."""
    n, rows, cols = pixels.shape
    pad = (size - rows) // 2
    out = np.full((n, 1, size, size), (np.float32(0) - MEAN) / STD, dtype=np.float32)
    out[:, 0, pad:pad + rows, pad:pad + cols] = (pixels.astype(np.float32) / np.float32(255)
                                                  - MEAN) / STD
    return out


def xorshift(state):
    """lp_rng of examples/linprobe.h: returns the new 64-bit state."""
    state ^= (state << 13) & _M64
    state ^= state >> 7
    state ^= (state << 17) & _M64
    return state


def _c_round(v):
    return math.copysign(math.floor(abs(v) + 0.5), v)


def random_resized_crop(img, smin, state):
    """ex_random_resized_crop of examples/trainloop.h on one float32 [size,
    size] image, in place; returns the new rng state."""
    size = img.shape[0]
    area = float(size * size)
    w = h = float(size)
    x0 = y0 = 0.0
    for _ in range(10):
        state = xorshift(state)
        u1 = (state >> 11) * 2.0 ** -53
        state = xorshift(state)
        u2 = (state >> 11) * 2.0 ** -53
        target = area * (smin + u1 * (1.0 - smin))
        ar = math.exp(math.log(3.0 / 4.0) + u2 * (math.log(4.0 / 3.0) - math.log(3.0 / 4.0)))
        cw, ch = _c_round(math.sqrt(target * ar)), _c_round(math.sqrt(target / ar))
        if 1 <= cw <= size and 1 <= ch <= size:
            w, h = cw, ch
            state = xorshift(state)
            x0 = float(state % (size - int(cw) + 1))
            state = xorshift(state)
            y0 = float(state % (size - int(ch) + 1))
            break
    tmp = img.astype(np.float64)  # the float32 values, exactly
    o = np.arange(size, dtype=np.float64)
    sy = np.maximum(y0 + (o + 0.5) * h / size - 0.5, 0.0)
    sx = np.maximum(x0 + (o + 0.5) * w / size - 0.5, 0.0)
    iy = np.minimum(sy.astype(np.int64), size - 1)
    ix = np.minimum(sx.astype(np.int64), size - 1)
    iy1 = np.where(iy + 1 < size, iy + 1, iy)
    ix1 = np.where(ix + 1 < size, ix + 1, ix)
    fy = (sy - iy)[:, None]
    fx = (sx - ix)[None, :]
    v = (1 - fy) * ((1 - fx) * tmp[iy][:, ix] + fx * tmp[iy][:, ix1]) + \
        fy * ((1 - fx) * tmp[iy1][:, ix] + fx * tmp[iy1][:, ix1])
    img[...] = v.astype(np.float32)
    return state


class Feed:
    """The shuffled training feed of examples/trainloop.h: a new permutation
    (Fisher-Yates with xorshift64 seeded 0x2545f4914f6cdd1d ^ seed) at every
    epoch, optional RandomResizedCrop from the same generator."""

    def __init__(self, pixels, size, batch, seed, crop_scale_min=0.0):
        self.pixels, self.size, self.batch = pixels, size, batch
        self.crop = crop_scale_min
        self.state = (0x2545F4914F6CDD1D ^ seed) & _M64
        self.n = len(pixels)
        self.pos = self.n
        self.epoch = -1
        self.perm = None

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

    def next_batch(self):
        """float32 [batch, 1, size, size]."""
        idx = []
        x = np.empty((self.batch, 1, self.size, self.size), dtype=np.float32)
        for b in range(self.batch):
            if self.pos == self.n:
                self._shuffle()
            i = self.perm[self.pos]
            self.pos += 1
            idx.append(i)
            x[b] = images(self.pixels[i:i + 1], self.size)[0]
            if self.crop > 0:
                self.state = random_resized_crop(x[b, 0], self.crop, self.state)
        return x
