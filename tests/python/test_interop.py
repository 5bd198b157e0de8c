# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Checkpoints from and for other tools, through python/ijepa_convert.py and
the binding:

  - malformed safetensors files through ijepa_convert.py (info, to-official):
    each is refused by the library's own parser, with one line on stderr
    ("ijepa_convert: ..."), exit status 1, no traceback and no output file;
  - the binding's writer (ijepa.CheckpointWriter): plain files that
    safetensors readers take, libijepa files that the reader gives back;
  - bare state dicts (official names, no prefix, no libijepa metadata) and
    F16 / BF16 / F64 tensors loading into an Encoder;
  - to-hf / from-hf: a transformers IJepaModel directory (config.json with
    the model's layer_norm_eps, model.safetensors) and back, bit for bit,
    from either of transformers' naming schemes;
  - when a Python with transformers is named by IJEPA_TEST_HF_PYTHON (e.g.
    /work/venv/bin/python: Debian's python3 has no transformers), that
    Python loads the to-hf directory with IJepaModel.from_pretrained() and
    its features agree with libijepa's to 1e-5; a model it saves with
    save_pretrained() comes back through from-hf with the same features;
    safetensors.torch.save_file() of an official state dict (F32 and BF16)
    loads with the empty prefix. Skipped with a message otherwise.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib
from collections import OrderedDict

import numpy as np

from common import ROOT, have_torch, ijepa

import ijepa_convert  # noqa: E402

CONVERT = os.path.join(ROOT, "python", "ijepa_convert.py")
HF_PYTHON = os.environ.get("IJEPA_TEST_HF_PYTHON", "")


def raw_file(header, data=b"", header_bytes=None):
    """safetensors bytes of a header (dict, or raw header_bytes) and data."""
    text = header_bytes if header_bytes is not None else \
        json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def libijepa_meta(data, config="", step="0", seed="0", **over):
    meta = OrderedDict([("format", "libijepa"), ("ijepa.format_version", "1"),
                        ("ijepa.library_version", "0.1.0"), ("ijepa.config", config),
                        ("ijepa.step", step), ("ijepa.seed", seed),
                        ("ijepa.checksum", "crc32:%08x" % zlib.crc32(data))])
    meta.update(over)
    return meta


def entry(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


F6 = np.arange(6, dtype="<f4").tobytes()


def malformed():
    """(name, bytes) of files the library refuses; the first ones made the
    old converter raise tracebacks (KeyError, RecursionError, ...), the
    others it accepted."""
    good = {"a": entry("F32", [2, 3], 0, 24)}
    deep = b"{\"k\":" + b"[" * 5000 + b"]" * 5000 + b"}"
    nan = np.array([1, np.nan, 3, 4, 5, 6], "<f4").tobytes()
    out = [
        ("no-dtype", raw_file({"a": {"shape": [2, 3], "data_offsets": [0, 24]}}, F6)),
        ("no-offsets", raw_file({"a": {"dtype": "F32", "shape": [2, 3]}}, F6)),
        ("deep-nesting", raw_file(None, b"", deep)),
        ("header-is-list", raw_file([1, 2, 3])),
        ("shape-not-list", raw_file({"a": entry("F32", 6, 0, 24)}, F6)),
        ("offsets-not-list", raw_file({"a": {"dtype": "F32", "shape": [6], "data_offsets": 24}},
                                      F6)),
        ("metadata-not-dict", raw_file({"__metadata__": [1], **good}, F6)),
        ("entry-not-dict", raw_file({"a": 3})),
        ("not-utf8", raw_file(None, F6, b'{"a\xff":{"dtype":"F32","shape":[2,3],'
                                        b'"data_offsets":[0,24]}}')),
        ("length-past-end", struct.pack("<Q", 1 << 20) + b"{}"),
        ("empty", b""),
        ("duplicate-keys", raw_file(None, F6, b'{"a":{"dtype":"F32","shape":[2,3],"data_offsets'
                                              b'":[0,24]},"a":{"dtype":"F32","shape":[2,3],'
                                              b'"data_offsets":[0,24]}}')),
        ("checksum-mismatch", raw_file({"__metadata__": {"ijepa.checksum": "crc32:00000000"},
                                        **good}, F6)),
        ("bad-config-line", raw_file({"__metadata__": libijepa_meta(F6, "embed_dim = many\n"),
                                      **good}, F6)),
        ("unknown-config-key", raw_file({"__metadata__": libijepa_meta(F6, "colour = 3\n"),
                                         **good}, F6)),
        ("nine-dims", raw_file({"a": entry("F32", [1] * 8 + [6], 0, 24)}, F6)),
        ("nan-data", raw_file(good, nan)),
        ("gap", raw_file({"a": entry("F32", [5], 4, 24)}, F6)),
        ("trailing-bytes", raw_file(good, F6 + b"\0\0\0\0")),
        ("integer-dtype", raw_file({"a": entry("I32", [2, 3], 0, 24)}, F6)),
        ("step-too-large", raw_file({"__metadata__": libijepa_meta(
            F6, step="9223372036854775807"), **good}, F6)),
        ("seed-mismatch", raw_file({"__metadata__": libijepa_meta(F6, "seed = 3\n"), **good},
                                   F6)),
        ("bad-metadata-checksum", raw_file({"__metadata__": libijepa_meta(
            F6, **{"ijepa.metadata_checksum": "crc32:12345678"}), **good}, F6)),
    ]
    return out


class TestConverterRefuses(unittest.TestCase):
    """Malformed files: one line, exit 1, nothing written."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_convert(self, *args):
        env = dict(os.environ, OMP_WAIT_POLICY="passive")
        return subprocess.run([sys.executable, CONVERT] + list(args), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_malformed_files(self):
        commands = [["info"]]
        if have_torch():
            commands.append(["to-official"])
        for name, data in malformed():
            path = os.path.join(self.tmp.name, name + ".safetensors")
            with open(path, "wb") as f:
                f.write(data)
            # the binding's reader refuses it (the values when they are read)
            with self.assertRaises(ijepa.IjepaError, msg=name):
                with ijepa.Checkpoint(path) as ck:
                    ck.read_all()
            for cmd in commands:
                out = os.path.join(self.tmp.name, name + ".pth.tar")
                args = cmd + [path] + ([out] if cmd[0] == "to-official" else [])
                p = self.run_convert(*args)
                label = "%s %s" % (cmd[0], name)
                self.assertEqual(p.returncode, 1, "%s: exit %d\n%s" % (label, p.returncode,
                                                                      p.stderr))
                lines = p.stderr.splitlines()
                self.assertEqual(len(lines), 1, "%s: stderr %r" % (label, p.stderr))
                self.assertTrue(lines[0].startswith("ijepa_convert: "), label)
                self.assertNotIn("Traceback", p.stderr)
                self.assertFalse(os.path.exists(out), "%s wrote %s" % (label, out))

    def test_missing_and_odd_arguments(self):
        p = self.run_convert("info", os.path.join(self.tmp.name, "none.safetensors"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.splitlines()), 1)
        self.assertIn("cannot open", p.stderr)
        p = self.run_convert("from-hf", self.tmp.name, os.path.join(self.tmp.name, "x"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)


class TestWriterAndDtypes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_plain_file_as_safetensors_writes_it(self):
        path = os.path.join(self.tmp.name, "plain.safetensors")
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        s = np.array(2.5, dtype=np.float32)  # 0-D: one element, shape []
        with ijepa.CheckpointWriter() as w:
            w.set_metadata("format", "pt")
            w.add("a", a).add("scalar", s)
            with self.assertRaises(TypeError):
                w.add("f64", np.zeros(2))  # float32 only: no silent conversion
            with self.assertRaises(ijepa.IjepaError):
                w.set_metadata("ijepa.step", "1")
            w.save(path)
        # an independent reading of the bytes
        with open(path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + n])
        self.assertEqual(n % 8, 0)
        self.assertEqual(header["__metadata__"]["format"], "pt")
        self.assertEqual(header["a"], entry("F32", [2, 3], 0, 24))
        self.assertEqual(header["scalar"], entry("F32", [], 24, 28))
        self.assertEqual(raw[8 + n:], a.tobytes() + s.tobytes())
        self.assertEqual(header["__metadata__"]["ijepa.checksum"],
                         "crc32:%08x" % zlib.crc32(raw[8 + n:]))
        with ijepa.Checkpoint(path) as ck:
            self.assertEqual(ck.tensors(), [("a", (2, 3)), ("scalar", ())])
            np.testing.assert_array_equal(ck.read("a"), a)
            self.assertEqual(ck.metadata()["format"], "pt")
            with self.assertRaises(ijepa.IjepaError):
                ck.config

    def test_dtypes_read_as_float32(self):
        vals = np.array([0.5, -1.25, 3.0, 1e-3], np.float64)
        h = vals.astype("<f2").tobytes()
        b = (vals.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
        d = vals.astype("<f8").tobytes()
        data = h + b + d
        hdr = {"h": entry("F16", [4], 0, 8), "b": entry("BF16", [4], 8, 16),
               "d": entry("F64", [4], 16, 48)}
        path = os.path.join(self.tmp.name, "mixed.safetensors")
        with open(path, "wb") as f:
            f.write(raw_file(hdr, data))
        with ijepa.Checkpoint(path) as ck:
            self.assertEqual(ck.dtypes(), {"h": "F16", "b": "BF16", "d": "F64"})
            np.testing.assert_array_equal(ck.read("h"), vals.astype(np.float16).astype(np.float32))
            np.testing.assert_array_equal(ck.read("d"), vals.astype(np.float32))
            # BF16: the top 16 bits of the float32
            want = (vals.astype(np.float32).view(np.uint32) & 0xffff0000).view(np.float32)
            np.testing.assert_array_equal(ck.read("b"), want)
        t, _ = ijepa_convert.read_safetensors(path)
        self.assertEqual({k: v.dtype for k, v in t.items()}, {k: np.float32 for k in hdr})

    def test_bare_state_dict_loads(self):
        cfg = ijepa.Config(preset="tiny", batch_size=2, trainable=0)
        with ijepa.Context() as ctx, ijepa.Encoder(ctx, cfg) as src, \
                ijepa.Encoder(ctx, cfg) as dst:
            rng = np.random.default_rng(1)
            src.params[:] = rng.standard_normal(src.params.size).astype(np.float32) * 0.1
            sd = src.state_dict()
            # what safetensors.torch.save_file(state_dict) writes, in BF16
            data, hdr, off = b"", {"__metadata__": {"format": "pt"}}, 0
            for k, v in sd.items():
                raw = (v.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
                hdr[k] = entry("BF16", list(v.shape), off, off + len(raw))
                data += raw
                off += len(raw)
            path = os.path.join(self.tmp.name, "bare.safetensors")
            with open(path, "wb") as f:
                f.write(raw_file(hdr, data))
            with ijepa.Checkpoint(path) as ck:
                self.assertGreater(ck.check_encoder("", cfg), 0)
                ck.load_into(dst, "")
            for k, v in dst.state_dict().items():
                want = (sd[k].view(np.uint32) & 0xffff0000).view(np.float32)
                np.testing.assert_array_equal(v, want, err_msg=k)
        cfg.close()


def random_run(tmp, name="run.safetensors", preset="tiny", seed=3):
    """A libijepa trainer checkpoint whose target encoder has random weights
    of a realistic scale (not the near-identity of a fresh init)."""
    cfg = ijepa.Config(preset=preset, batch_size=2, seed=seed)
    path = os.path.join(tmp, name)
    with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
        p = tr.target_encoder.params
        rng = np.random.default_rng(seed)
        for t in tr.target_encoder.tensors:
            if t.name != "pos_embed":
                v = rng.standard_normal(t.numel).astype(np.float32) * 0.2
                if t.name.endswith("norm1.weight") or t.name.endswith("norm2.weight") \
                        or t.name == "norm.weight":
                    v += 1
                p[t.offset:t.offset + t.numel] = v
        tr.save(path)
    cfg.close()
    return path


def libijepa_tokens(path, x, group="target_encoder"):
    with ijepa.Checkpoint(path) as ck, ijepa.Context() as ctx:
        cfg = ck.config
        cfg["trainable"], cfg["batch_size"] = 0, len(x)
        with ijepa.Encoder(ctx, cfg) as enc:
            ck.load_into(enc, group)
            out = enc(x)
        cfg.close()
    return out


class TestHuggingFace(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_to_hf_and_back(self):
        src = random_run(self.tmp.name)
        hf = os.path.join(self.tmp.name, "hf")
        back = os.path.join(self.tmp.name, "back.safetensors")
        self.assertEqual(ijepa_convert.main(["to-hf", src, hf]), 0)
        with open(os.path.join(hf, "config.json")) as f:
            hc = json.load(f)
        self.assertEqual(hc["model_type"], "ijepa")
        self.assertEqual(hc["layer_norm_eps"], 1e-6)  # not transformers' 1e-12
        self.assertEqual(hc["hidden_act"], "gelu")
        self.assertEqual((hc["hidden_size"], hc["num_hidden_layers"], hc["num_attention_heads"],
                          hc["intermediate_size"], hc["image_size"], hc["patch_size"],
                          hc["num_channels"]), (32, 2, 2, 128, 28, 4, 1))
        with open(os.path.join(hf, "preprocessor_config.json")) as f:
            pc = json.load(f)
        self.assertEqual((pc["image_mean"], pc["image_std"]), ([0.286], [0.353]))
        with ijepa.Checkpoint(os.path.join(hf, "model.safetensors")) as ck:
            self.assertEqual(ck.metadata("format"), "pt")
            names = [n for n, _ in ck.tensors()]
        self.assertIn("encoder.layer.1.attention.attention.value.weight", names)
        self.assertEqual(ijepa_convert.main(["from-hf", hf, back]), 0)
        a, _ = ijepa_convert.read_safetensors(src)
        b, meta = ijepa_convert.read_safetensors(back)
        self.assertEqual(sorted(b), sorted(k for k in a if k.startswith("target_encoder.")))
        for k in b:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        with ijepa.Config.from_text(meta["ijepa.config"]) as c:
            self.assertEqual((c["embed_dim"], c["depth"], c["num_heads"], c["ln_eps"],
                              c["mlp_ratio"]), (32, 2, 2, 1e-6, 4.0))

    def test_from_hf_new_names_and_half(self):
        """transformers 5's names (layers.N.attention.q_proj...) in F16."""
        src = random_run(self.tmp.name)
        hf = os.path.join(self.tmp.name, "hf")
        self.assertEqual(ijepa_convert.main(["to-hf", src, hf]), 0)
        t, _ = ijepa_convert.read_safetensors(os.path.join(hf, "model.safetensors"))
        data, hdr, off = b"", {"__metadata__": {"format": "pt"}}, 0
        for k, v in t.items():
            k = "ijepa." + k.replace("encoder.layer.", "layers.")
            for old, new in ijepa_convert.HF_NEW_NAMES:
                k = k.replace(old, new)
            raw = v.astype("<f2").tobytes()
            hdr[k] = entry("F16", list(v.shape), off, off + len(raw))
            data, off = data + raw, off + len(raw)
        hdr["ijepa.pooler.dense.weight"] = entry("F16", [0], off, off)
        with open(os.path.join(hf, "model.safetensors"), "wb") as f:
            f.write(raw_file(hdr, data))
        back = os.path.join(self.tmp.name, "back.safetensors")
        self.assertEqual(ijepa_convert.main(["from-hf", hf, back]), 0)
        b, _ = ijepa_convert.read_safetensors(back)
        a, _ = ijepa_convert.read_safetensors(src)
        for k in b:
            np.testing.assert_array_equal(b[k], a[k].astype(np.float16).astype(np.float32),
                                          err_msg=k)
        # refused: another model type, a missing tensor, another activation
        with open(os.path.join(hf, "config.json")) as f:
            hc = json.load(f)
        for change, what in (({"model_type": "vit"}, "model_type"),
                             ({"num_hidden_layers": 3}, "no tensor"),
                             ({"hidden_act": "gelu_new"}, "hidden_act")):
            with open(os.path.join(hf, "config.json"), "w") as f:
                json.dump(dict(hc, **change), f)
            with self.assertRaisesRegex(ijepa_convert.ConvertError, what):
                ijepa_convert.from_hf(hf, back)

    @unittest.skipUnless(HF_PYTHON, "transformers interop: set IJEPA_TEST_HF_PYTHON to a Python "
                                    "that imports transformers and torch (e.g. a venv's)")
    def test_transformers_agrees(self):
        probe = subprocess.run([HF_PYTHON, "-c", "import transformers, torch, safetensors"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if probe.returncode != 0:
            self.skipTest("IJEPA_TEST_HF_PYTHON=%s cannot import transformers, torch and "
                          "safetensors: %s" % (HF_PYTHON, probe.stderr.strip().splitlines()[-1:]))
        tmp = self.tmp.name
        src = random_run(tmp)
        hf = os.path.join(tmp, "hf")
        self.assertEqual(ijepa_convert.main(["to-hf", src, hf]), 0)
        x = np.random.default_rng(5).standard_normal((3, 1, 28, 28)).astype(np.float32)
        np.save(os.path.join(tmp, "x.npy"), x)
        ours = libijepa_tokens(src, x)
        script = r'''
import os, sys, numpy as np, torch
from transformers import IJepaModel
from safetensors.torch import save_file
tmp = sys.argv[1]
torch.set_num_threads(1)
m = IJepaModel.from_pretrained(os.path.join(tmp, "hf")).eval()
assert abs(m.config.layer_norm_eps - 1e-6) < 1e-12, m.config.layer_norm_eps
x = torch.from_numpy(np.load(os.path.join(tmp, "x.npy")))
with torch.no_grad():
    np.save(os.path.join(tmp, "hf_tokens.npy"), m(x).last_hidden_state.numpy())
# a model transformers itself saves: random weights, its own names
torch.manual_seed(0)
m2 = IJepaModel(m.config).eval()
with torch.no_grad():
    for p in m2.parameters():
        p.normal_(0, 0.2)
    np.save(os.path.join(tmp, "hf2_tokens.npy"), m2(x).last_hidden_state.numpy())
m2.save_pretrained(os.path.join(tmp, "hf2"))
# an official-name state dict, as safetensors.torch.save_file writes it
sd = dict(np.load(os.path.join(tmp, "official.npz")))
save_file({k: torch.from_numpy(v) for k, v in sd.items()}, os.path.join(tmp, "bare32.safetensors"))
save_file({k: torch.from_numpy(v).bfloat16() for k, v in sd.items()},
          os.path.join(tmp, "bare16.safetensors"))
'''
        with ijepa.Checkpoint(src) as ck:
            np.savez(os.path.join(tmp, "official.npz"),
                     **{n[len("target_encoder."):]: ck.read(n) for n, _ in ck.tensors()
                        if n.startswith("target_encoder.")})
        env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="passive",
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TRANSFORMERS_VERBOSITY="error")
        env.pop("PYTHONPATH", None)
        p = subprocess.run([HF_PYTHON, "-c", script, tmp], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        theirs = np.load(os.path.join(tmp, "hf_tokens.npy"))
        self.assertEqual(theirs.shape, ours.shape)
        diff = float(np.abs(theirs - ours).max())
        self.assertLess(diff, 1e-5)
        self.assertGreater(float(np.abs(ours).max()), 0.5)  # a real signal, not zeros
        # transformers' own save -> from-hf -> libijepa: the same features
        back = os.path.join(tmp, "back.safetensors")
        self.assertEqual(ijepa_convert.main(["from-hf", os.path.join(tmp, "hf2"), back]), 0)
        diff2 = float(np.abs(libijepa_tokens(back, x) - np.load(os.path.join(tmp,
                                                                          "hf2_tokens.npy"))).max())
        self.assertLess(diff2, 1e-5)
        # bare state dicts of safetensors.torch.save_file load with no prefix
        with ijepa.Checkpoint(os.path.join(tmp, "bare32.safetensors")) as ck, \
                ijepa.Checkpoint(src) as full:
            cfg = full.config
            cfg["trainable"], cfg["batch_size"] = 0, len(x)
            with ijepa.Context() as ctx, ijepa.Encoder(ctx, cfg) as enc:
                ck.load_into(enc, "")
                np.testing.assert_array_equal(enc(x), ours)
                with ijepa.Checkpoint(os.path.join(tmp, "bare16.safetensors")) as b16:
                    self.assertEqual(set(b16.dtypes().values()), {"BF16"})
                    b16.load_into(enc, "")
                    self.assertLess(float(np.abs(enc(x) - ours).max()), 0.1)
            cfg.close()
        print("\ntransformers IJepaModel vs libijepa: max |diff| %.2g (to-hf), %.2g "
              "(save_pretrained -> from-hf)" % (diff, diff2), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
