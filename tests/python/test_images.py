# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Images and datasets from Python: Image.decode/load against pixels the
test wrote itself (a PNG encoder in numpy + zlib), errors of corrupt bytes,
transforms, and Dataset batches against the image transforms of the same
files (what the C dataset promises: item == transform_train(file,
crop_seed(position)))."""
import gc
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import weakref
import zlib

import numpy as np

from common import ijepa


def png_bytes(pixels):
    """A minimal 8-bit PNG of pixels uint8 [H, W] (gray) or [H, W, 3] (RGB):
    signature, IHDR, one IDAT (filter 0 on every row), IEND."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    color = 0 if pixels.ndim == 2 else 2

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = pixels.reshape(h, -1)
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def rgb_image(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def have_pil():
    try:
        import PIL.Image  # noqa: F401
        return True
    except Exception:
        return False


class TestDecode(unittest.TestCase):
    def test_png_rgb_and_gray(self):
        px = rgb_image(5, 7, 0)
        with ijepa.Image.decode(png_bytes(px)) as img:
            self.assertEqual((img.width, img.height, img.channels), (7, 5, 3))
            self.assertEqual(img.format, "png")
            got = img.pixels()
            self.assertEqual(got.shape, (3, 5, 7))
            self.assertEqual(got.dtype, np.float32)
            want = px.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
            np.testing.assert_array_equal(got, want)
        # luma as PIL's convert("L")
        r, g, b = (px[..., i].astype(np.int64) for i in range(3))
        luma = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16
        with ijepa.Image.decode(png_bytes(px), channels=1) as img:
            self.assertEqual(img.shape, (1, 5, 7))
            np.testing.assert_array_equal(np.rint(img.pixels()[0] * 255), luma)
        gray = rgb_image(4, 3, 1)[..., 0]
        with ijepa.Image.decode(png_bytes(gray), channels=1) as img:
            np.testing.assert_array_equal(np.rint(img.pixels()[0] * 255), gray)

    def test_byte_containers_without_copies(self):
        data = png_bytes(rgb_image(3, 4, 2))
        ref = ijepa.Image.decode(data).pixels()
        for d in (bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
            with ijepa.Image.decode(d) as img:
                np.testing.assert_array_equal(img.pixels(), ref)
        with self.assertRaisesRegex(TypeError, "uint8"):
            ijepa.Image.decode(np.frombuffer(data[:len(data) // 4 * 4], np.float32))
        with self.assertRaisesRegex(ValueError, "C-contiguous"):
            ijepa.Image.decode(np.frombuffer(data, np.uint8)[::2])
        with self.assertRaisesRegex(TypeError, "bytes"):
            ijepa.Image.decode("not bytes")

    def test_pixels_out_is_checked(self):
        with ijepa.Image.decode(png_bytes(rgb_image(3, 4, 3))) as img:
            out = np.full((3, 3, 4), np.nan, np.float32)
            self.assertIs(img.pixels(out), out)
            self.assertTrue(np.all(np.isfinite(out)))
            with self.assertRaisesRegex(ValueError, "shape"):
                img.pixels(np.zeros((3, 4, 3), np.float32))
            with self.assertRaisesRegex(TypeError, "float32"):
                img.pixels(np.zeros((3, 3, 4), np.float64))

    def test_corrupt_bytes_raise_format_error(self):
        good = png_bytes(rgb_image(6, 6, 4))
        bad_crc = bytearray(good)
        bad_crc[good.index(b"IDAT") + 6] ^= 0x40  # image data changed, CRC not
        cases = {
            "bad CRC": bytes(bad_crc),
            "truncated": good[:len(good) - 20],
            "not an image": b"GIF89a" + bytes(40),
            "empty": b"",
            "JPEG header only": b"\xff\xd8\xff\xe0" + bytes(30),
        }
        for what, data in cases.items():
            with self.subTest(what):
                with self.assertRaises(ijepa.IjepaError) as cm:
                    ijepa.Image.decode(data)
                e = cm.exception
                self.assertEqual(e.status, ijepa.ERR_FORMAT)
                self.assertEqual(e.function, "ijepa_image_decode")
                self.assertIn("<memory>", e.message)
                self.assertGreater(len(e.message), len("<memory>: "))

    def test_load_errors_name_the_path(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "broken.png")
            with open(p, "wb") as f:
                f.write(png_bytes(rgb_image(4, 4, 5))[:30])
            with self.assertRaises(ijepa.IjepaError) as cm:
                ijepa.Image.load(p)
            self.assertEqual(cm.exception.status, ijepa.ERR_FORMAT)
            self.assertIn(p, cm.exception.message)
            with self.assertRaises(ijepa.IjepaError) as cm:
                ijepa.Image.load(os.path.join(d, "missing.png"))
            self.assertEqual(cm.exception.status, ijepa.ERR_IO)
            self.assertIn("missing.png", cm.exception.message)
        with self.assertRaises(ijepa.IjepaError) as cm:
            ijepa.Image.decode(png_bytes(rgb_image(4, 4, 5)), channels=2)
        self.assertEqual(cm.exception.status, ijepa.ERR_INVALID_ARG)

    def test_fifo_fails_at_once(self):
        """A FIFO named like an image is refused with ERR_IO at once (it used
        to block open() forever). In a child process, so that a regression
        fails this test instead of hanging the suite."""
        child = ("import json, sys, time, ijepa\n"
                 "t = time.monotonic()\n"
                 "try:\n"
                 "    ijepa.Image.load(sys.argv[1]).close()\n"
                 "    r = {'status': 0}\n"
                 "except ijepa.IjepaError as e:\n"
                 "    r = {'status': e.status, 'message': e.message}\n"
                 "r['seconds'] = time.monotonic() - t\n"
                 "print(json.dumps(r))\n")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.dirname(ijepa.__file__)] + [p for p in [env.get("PYTHONPATH")] if p])
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "f.png")
            os.mkfifo(fifo)
            try:
                run = subprocess.run([sys.executable, "-c", child, fifo], env=env,
                                     capture_output=True, text=True, timeout=30)
            except subprocess.TimeoutExpired:
                self.fail("Image.load of a FIFO still blocks after 30 s")
        self.assertEqual(run.returncode, 0, run.stderr)
        r = json.loads(run.stdout)
        self.assertEqual(r["status"], ijepa.ERR_IO, r)
        self.assertIn("FIFO", r["message"])
        self.assertIn(fifo, r["message"])
        self.assertLess(r["seconds"], 1.0)  # a liveness bound: it takes microseconds

    def test_pixel_limit(self):
        cfg = ijepa.Config(data_max_pixels=15)
        data = png_bytes(rgb_image(4, 4, 6))
        with self.assertRaises(ijepa.IjepaError) as cm:
            ijepa.Image.decode(data, cfg=cfg)
        self.assertEqual(cm.exception.status, ijepa.ERR_FORMAT)
        cfg["data_max_pixels"] = 16
        ijepa.Image.decode(data, cfg=cfg).close()

    def test_jpeg(self):
        if not have_pil():
            self.skipTest("no JPEG writer: PIL is not importable (python3-pil); "
                          "corrupt JPEG bytes are tested in test_corrupt_bytes_raise_format_error")
        import io
        import PIL.Image
        px = rgb_image(16, 24, 7)
        buf = io.BytesIO()
        PIL.Image.fromarray(px).save(buf, format="JPEG", quality=95)
        with ijepa.Image.decode(buf.getvalue()) as img:
            self.assertEqual(img.format, "jpeg")
            self.assertEqual(img.shape, (3, 16, 24))
            buf.seek(0)
            want = np.asarray(PIL.Image.open(buf).convert("RGB")).transpose(2, 0, 1)
            # libjpeg-turbo decodes as PIL's libjpeg does (same IDCT) up to rounding
            self.assertLessEqual(np.abs(np.rint(img.pixels() * 255) - want).max(), 1)


class TestTransforms(unittest.TestCase):
    def setUp(self):
        self.cfg = ijepa.Config(img_size=8)
        self.img = ijepa.Image.decode(png_bytes(rgb_image(20, 30, 8)))

    def tearDown(self):
        self.img.close()

    def test_eval_of_a_same_size_image_is_normalisation(self):
        cfg = ijepa.Config(img_size=8, data_eval_resize=8)
        with ijepa.Image.decode(png_bytes(rgb_image(8, 8, 9))) as img:
            got = img.transform_eval(cfg)
            mean = np.array([cfg["data_mean_r"], cfg["data_mean_g"], cfg["data_mean_b"]])
            std = np.array([cfg["data_std_r"], cfg["data_std_g"], cfg["data_std_b"]])
            want = (img.pixels() - mean[:, None, None]) / std[:, None, None]
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)

    def test_train_is_deterministic_in_the_seed(self):
        a = self.img.transform_train(self.cfg, 3)
        b = self.img.transform_train(self.cfg, 3)
        c = self.img.transform_train(self.cfg, 4)
        self.assertEqual(a.shape, (3, 8, 8))
        np.testing.assert_array_equal(a, b)
        self.assertFalse(np.array_equal(a, c))
        out = np.empty((3, 8, 8), np.float32)
        self.assertIs(self.img.transform_train(self.cfg, 3, out=out), out)
        np.testing.assert_array_equal(out, a)
        with self.assertRaisesRegex(ValueError, "shape"):
            self.img.transform_train(self.cfg, 3, out=np.empty((1, 8, 8), np.float32))

    def test_crop_box(self):
        top, left, h, w = ijepa.crop_box(20, 30, self.cfg, 3)
        self.assertTrue(0 <= top and top + h <= 20 and 0 <= left and left + w <= 30)
        self.assertGreaterEqual(h * w, 0.3 * 600 * 0.8)  # scale >= 0.3, rounding aside
        self.assertEqual(ijepa.crop_box(20, 30, self.cfg, 3), (top, left, h, w))
        full = ijepa.Config(data_crop_scale_min=1, data_crop_ratio_min=1.5, data_crop_ratio_max=1.5)
        self.assertEqual(ijepa.crop_box(20, 30, full, 0), (0, 0, 20, 30))
        with self.assertRaises(ijepa.IjepaError) as cm:
            ijepa.crop_box(0, 30, self.cfg, 3)
        self.assertEqual(cm.exception.status, ijepa.ERR_INVALID_ARG)
        self.assertIn("ijepa_image_crop_box", cm.exception.message)

    def test_from_pixels_equals_decoding(self):
        px = rgb_image(20, 30, 8)
        with ijepa.Image.from_pixels(px) as raw:
            self.assertEqual((raw.width, raw.height, raw.channels, raw.format),
                             (30, 20, 3, "raw"))
            np.testing.assert_array_equal(raw.pixels(), self.img.pixels())
            np.testing.assert_array_equal(raw.transform_train(self.cfg, 5),
                                          self.img.transform_train(self.cfg, 5))
            np.testing.assert_array_equal(raw.transform_eval(self.cfg),
                                          self.img.transform_eval(self.cfg))
        gray = px[..., 1].copy()
        with ijepa.Image.from_pixels(gray) as g, \
                ijepa.Image.decode(png_bytes(gray), channels=1) as d:
            self.assertEqual(g.shape, (1, 20, 30))
            np.testing.assert_array_equal(g.transform_eval(self.cfg), d.transform_eval(self.cfg))
        with self.assertRaisesRegex(TypeError, "uint8"):
            ijepa.Image.from_pixels(px.astype(np.float32))
        with self.assertRaisesRegex(ValueError, "shape"):
            ijepa.Image.from_pixels(np.zeros((2, 2, 2), np.uint8))
        with self.assertRaises(ijepa.IjepaError) as cm:
            ijepa.Image.from_pixels(np.zeros((0, 4), np.uint8))
        self.assertIn("ijepa_image_from_pixels()", cm.exception.message)

    def test_closed_image(self):
        img = ijepa.Image.decode(png_bytes(rgb_image(2, 2, 0)))
        img.close()
        img.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            img.pixels()


class TestDataset(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        os.mkdir(os.path.join(self.dir, "sub"))
        self.files = []
        for i in range(7):
            h, w = 12 + 3 * i, 30 - 2 * i
            rel = ("sub/%d.png" if i % 2 else "%d.PNG") % i
            with open(os.path.join(self.dir, rel), "wb") as f:
                f.write(png_bytes(rgb_image(h, w, 100 + i)))
            self.files.append(rel)
        with open(os.path.join(self.dir, ".hidden.png"), "wb") as f:
            f.write(b"not read")
        with open(os.path.join(self.dir, "notes.txt"), "w") as f:
            f.write("not an image\n")

    def tearDown(self):
        self._tmp.cleanup()

    def cfg(self, **over):
        s = dict(img_size=8, in_chans=3, batch_size=3, seed=11, data_workers=2)
        s.update(over)
        return ijepa.Config(**s)

    def test_listing(self):
        with ijepa.Dataset(self.dir, self.cfg()) as ds:
            self.assertEqual(len(ds), 7)
            rel = sorted(f.encode() for f in self.files)
            self.assertEqual(ds.paths, [os.path.join(self.dir, r.decode()) for r in rel])
            with self.assertRaises(IndexError):
                ds.path(7)
            self.assertEqual((ds.epoch, ds.position, ds.skipped), (0, 0, 0))
            self.assertEqual(ds.last_skip_error, "")

    def check_batches(self, cfg, transform):
        seen = []
        with ijepa.Dataset(self.dir, cfg) as ds:
            for _ in range(4):  # 12 positions: crosses into epoch 1
                pos = ds.position
                idx = np.full(3, -1, np.int64)
                x = ds.next_batch(indices=idx)
                self.assertEqual(x.shape, (3, 3, 8, 8))
                self.assertEqual(ds.position, pos + 3)
                for k in range(3):
                    with ijepa.Image.load(ds.path(idx[k]), cfg=cfg) as img:
                        want = transform(img, ds.crop_seed(pos + k))
                    np.testing.assert_array_equal(x[k], want)
                seen.extend(idx.tolist())
            self.assertEqual(ds.epoch, 1)
        self.assertEqual(sorted(seen[:7]), list(range(7)))  # epoch 0 is a permutation
        return seen

    def test_train_batches_equal_the_image_transform(self):
        cfg = self.cfg()
        seen = self.check_batches(cfg, lambda img, seed: img.transform_train(cfg, seed))
        self.assertNotEqual(seen[:7], list(range(7)))  # shuffled (seed 11)
        workers0 = self.cfg(data_workers=0)
        again = self.check_batches(workers0, lambda img, seed: img.transform_train(cfg, seed))
        self.assertEqual(again, seen)

    def test_eval_batches_in_path_order(self):
        cfg = self.cfg(data_transform=ijepa.DATA_EVAL, data_shuffle=0)
        seen = self.check_batches(cfg, lambda img, seed: img.transform_eval(cfg))
        self.assertEqual(seen, [i % 7 for i in range(12)])

    def test_out_and_set_epoch(self):
        cfg = self.cfg()
        with ijepa.Dataset(self.dir, cfg) as ds:
            ds.next_batch()
            ds.set_epoch(1)
            self.assertEqual((ds.epoch, ds.position), (1, 7))
            out = np.full((2, 3, 8, 8), np.nan, np.float32)
            self.assertIs(ds.next_batch(out), out)
            self.assertTrue(np.all(np.isfinite(out)))
            self.assertEqual(ds.position, 9)
            with self.assertRaisesRegex(ValueError, "shape"):
                ds.next_batch(np.zeros((2, 1, 8, 8), np.float32))
            with self.assertRaisesRegex(TypeError, "int64"):
                ds.next_batch(out, indices=np.zeros(2, np.int32))
            with self.assertRaises(ijepa.IjepaError) as cm:
                ds.next_batch(batch=4)  # more than batch_size
            self.assertEqual(cm.exception.status, ijepa.ERR_INVALID_ARG)
            self.assertIn("ijepa_dataset_next_batch()", cm.exception.message)
            with self.assertRaises(ijepa.IjepaError):
                ds.set_epoch(-1)
            self.assertEqual(ds.position, 9)

    def write_bad(self):
        bad = os.path.join(self.dir, "0a.png")  # sorts right after 0.PNG
        with open(bad, "wb") as f:
            f.write(png_bytes(rgb_image(9, 9, 0))[:40])
        return bad

    def test_bad_file_stop_and_skip(self):
        bad = self.write_bad()
        with ijepa.Dataset(self.dir, self.cfg(data_shuffle=0)) as ds:
            self.assertEqual(ds.path(1), bad)
            with self.assertRaises(ijepa.IjepaError) as cm:
                ds.next_batch()
            self.assertEqual(cm.exception.status, ijepa.ERR_FORMAT)
            self.assertIn(bad, cm.exception.message)
            self.assertEqual(ds.position, 0)  # nothing consumed
            with self.assertRaises(ijepa.IjepaError):
                ds.next_batch()
        cfg = self.cfg(data_shuffle=0, data_on_error=ijepa.DATA_SKIP)
        with ijepa.Dataset(self.dir, cfg) as ds:
            idx = np.zeros(3, np.int64)
            ds.next_batch(indices=idx)
            self.assertEqual(idx.tolist(), [0, 2, 3])
            self.assertEqual((ds.skipped, ds.position), (1, 4))
            self.assertTrue(ds.last_skip_error.startswith(bad + ": "), ds.last_skip_error)

    def test_create_errors(self):
        with tempfile.TemporaryDirectory() as empty:
            with self.assertRaises(ijepa.IjepaError) as cm:
                ijepa.Dataset(empty, self.cfg())
            self.assertEqual(cm.exception.status, ijepa.ERR_INVALID_ARG)
            self.assertIn(empty, cm.exception.message)
        with self.assertRaises(ijepa.IjepaError) as cm:
            ijepa.Dataset(os.path.join(self.dir, "nope"), self.cfg())
        self.assertEqual(cm.exception.status, ijepa.ERR_IO)
        with self.assertRaises(ijepa.IjepaError) as cm:
            ijepa.Dataset(self.dir, self.cfg(in_chans=2))
        self.assertEqual(cm.exception.status, ijepa.ERR_UNSUPPORTED)
        with self.assertRaises(TypeError):
            ijepa.Dataset(self.dir, {"img_size": 8})

    def test_close_mid_epoch(self):
        """Workers decoding ahead are stopped and joined by close(), by the
        finalizer, and while a view of an earlier batch is still in use."""
        cfg = self.cfg(data_workers=3, data_prefetch=4)
        ds = ijepa.Dataset(self.dir, cfg)
        x = ds.next_batch()
        res = weakref.ref(ds._res)
        fin = ds._res._finalizer
        ds.close()
        gc.collect()
        self.assertIsNone(res())
        self.assertFalse(fin.alive)
        self.assertTrue(np.all(np.isfinite(x)))  # our array, not the dataset's
        with self.assertRaisesRegex(ValueError, "closed"):
            ds.next_batch()
        ds.close()
        for workers in (0, 2):
            ds = ijepa.Dataset(self.dir, self.cfg(data_workers=workers))
            ds.next_batch(batch=1)
            fin = ds._res._finalizer
            del ds
            gc.collect()
            self.assertFalse(fin.alive)


if __name__ == "__main__":
    unittest.main()
