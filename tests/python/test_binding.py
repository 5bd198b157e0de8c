# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""The ctypes binding: every public function bound with the header's types,
errors as exceptions, array checks, zero-copy views, handle lifetimes, and
the wrappers composing a training step exactly as ijepa_trainer_step()."""
import ctypes
import gc
import glob
import math
import os
import re
import unittest
import weakref

import numpy as np

from common import ROOT, ijepa, small_config

# --- header parsing (independent of python/ijepa.py's table) -------------------

_SCALARS = {
    "int": ctypes.c_int, "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64,
    "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64, "double": ctypes.c_double,
    "float": ctypes.c_float, "size_t": ctypes.c_size_t, "uint8_t": ctypes.c_uint8,
}


def c_type_to_ctypes(text):
    """ctypes type for a C parameter or return type (name already removed)."""
    t = re.sub(r"\bconst\b", " ", text)
    stars = t.count("*")
    base = t.replace("*", " ").split()
    assert len(base) == 1, "cannot parse C type %r" % text
    base = base[0]
    if base == "void" and stars == 0:
        return None
    if base == "char" and stars >= 1:
        ct = ctypes.c_char_p  # a string
        stars -= 1
    elif (base.startswith("ijepa_") and base not in _SCALARS) or base == "void":
        ct = ctypes.c_void_p  # opaque handle, void *
        stars -= 1
    else:
        ct = _SCALARS[base]
    for _ in range(stars):
        ct = ctypes.POINTER(ct)
    return ct


def param_type(p):
    """The type of one C parameter declaration, its name removed. An array
    parameter `T name[N]` (or `T name[]`) is a `T *`, as C adjusts it."""
    p = p.strip()
    m = re.match(r"(.*?)\b\w+\s*\[[^\]]*\]$", p)
    if m:
        return m.group(1).strip() + " *"
    assert "[" not in p, "cannot parse C parameter %r" % p
    return re.sub(r"\w+$", "", p) if not p.endswith("*") else p


def header_functions(include_dir=os.path.join(ROOT, "include", "ijepa")):
    """{name: (restype, [argtypes])} of every IJEPA_API declaration in the
    headers present in this tree."""
    out = {}
    for path in sorted(glob.glob(os.path.join(include_dir, "*.h"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        for decl in re.findall(r"\bIJEPA_API\b([^;{]*);", text):
            decl = " ".join(decl.split())
            decl = re.sub(r"\bIJEPA_DEPRECATED\([^)]*\)", "", decl).strip()
            m = re.match(r"(.*?)\b(ijepa_\w+)\s*\((.*)\)$", decl)
            assert m, "cannot parse declaration %r in %s" % (decl, path)
            ret, name, params = m.groups()
            args = []
            if params.strip() not in ("", "void"):
                for p in params.split(","):
                    args.append(c_type_to_ctypes(param_type(p)))
            out[name] = (c_type_to_ctypes(ret), args)
    return out


def same_ctype(a, b):
    if a is None or b is None:
        return a is b
    if a is b:
        return True
    pa, pb = hasattr(a, "_type_") and issubclass(a, ctypes._Pointer), \
        hasattr(b, "_type_") and issubclass(b, ctypes._Pointer)
    if pa and pb:
        return same_ctype(a._type_, b._type_)
    if pa or pb:
        return False
    return ctypes.sizeof(a) == ctypes.sizeof(b) and a._type_ == b._type_


class TestHeadersBound(unittest.TestCase):
    def test_every_public_function_is_bound_with_its_types(self):
        decls = header_functions()
        self.assertGreater(len(decls), 80)
        missing = sorted(set(decls) - set(ijepa.lib.signatures))
        self.assertEqual(missing, [], "functions of include/ijepa/*.h without a binding in "
                                      "python/ijepa.py (_SIGNATURES)")
        for name, (ret, args) in decls.items():
            f = getattr(ijepa.lib, name)
            self.assertTrue(same_ctype(f.restype, ret), "%s: restype %r, header %r"
                            % (name, f.restype, ret))
            self.assertEqual(len(f.argtypes), len(args), "%s: argument count" % name)
            for i, (have, want) in enumerate(zip(f.argtypes, args)):
                self.assertTrue(same_ctype(have, want), "%s argument %d: bound %r, header %r"
                                % (name, i, have, want))

    def test_no_binding_of_a_function_the_headers_lack(self):
        self.assertEqual(sorted(set(ijepa.lib.signatures) - set(header_functions())), [])

    def test_parser_sees_a_new_declaration(self):
        # the check above must fail for a function added later by another branch
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "x.h"), "w") as f:
                f.write("/* doc */\nIJEPA_API int ijepa_x_new(ijepa_x *x,\n  const float *data,"
                        " int64_t n);\nIJEPA_API void ijepa_x_free(ijepa_x *x);\n")
            got = header_functions(d)
        self.assertEqual(sorted(got), ["ijepa_x_free", "ijepa_x_new"])
        self.assertTrue(same_ctype(got["ijepa_x_new"][1][1], ctypes.POINTER(ctypes.c_float)))
        self.assertNotIn("ijepa_x_new", ijepa.lib.signatures)

    def test_parser_array_parameters(self):
        """`T name[N]` is a pointer to T (C adjusts array parameters)."""
        P = ctypes.POINTER
        for decl, want in [("int64_t box[4]", P(ctypes.c_int64)),
                           ("const float v[ ]", P(ctypes.c_float)),
                           ("double m[IJEPA_N]", P(ctypes.c_double)),
                           ("int64_t *rows[2]", P(P(ctypes.c_int64))),
                           ("uint64_t seed", ctypes.c_uint64),
                           ("const void *data", ctypes.c_void_p),
                           ("const ijepa_image *img", ctypes.c_void_p)]:
            self.assertTrue(same_ctype(c_type_to_ctypes(param_type(decl)), want),
                            "%s -> %r" % (decl, c_type_to_ctypes(param_type(decl))))
        self.assertFalse(same_ctype(c_type_to_ctypes(param_type("int64_t box[4]")),
                                    ctypes.c_int64))
        with self.assertRaises(AssertionError):
            param_type("int64_t box[4][4]")


class TestLoading(unittest.TestCase):
    def test_loaded_from_ijepa_library(self):
        self.assertEqual(os.path.realpath(ijepa.lib.path),
                         os.path.realpath(os.environ["IJEPA_LIBRARY"]))
        v = ijepa.version()
        self.assertRegex(v, r"^\d+\.\d+\.\d+$")
        major, minor, patch = map(int, v.split("."))
        self.assertEqual(ijepa.lib.ijepa_version_number(), major * 10000 + minor * 100 + patch)

    def test_fallback_to_the_loader(self):
        """Without IJEPA_LIBRARY: find_library / the SONAME through
        LD_LIBRARY_PATH; with nothing to find, a clear OSError at first use."""
        import subprocess
        import sys
        code = "import ijepa; print(ijepa.lib.path, ijepa.version())"
        env = {k: v for k, v in os.environ.items() if k != "IJEPA_LIBRARY"}
        env["PYTHONPATH"] = os.path.join(ROOT, "python")
        env["LD_LIBRARY_PATH"] = os.path.join(ROOT, "lib")
        p = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("libijepa.so.0 " + ijepa.version(), p.stdout)
        env.pop("LD_LIBRARY_PATH")
        p = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode == 0:
            self.skipTest("a libijepa is installed system-wide: " + p.stdout.strip())
        self.assertIn("cannot find libijepa", p.stderr)
        self.assertIn("IJEPA_LIBRARY", p.stderr)

    def test_bad_explicit_path_is_an_error(self):
        with self.assertRaises(OSError) as cm:
            ijepa.load_library("/nonexistent/libijepa.so.0")
        self.assertIn("/nonexistent/libijepa.so.0", str(cm.exception))


class TestErrors(unittest.TestCase):
    def test_config_error_carries_status_and_message(self):
        with ijepa.Config() as cfg:
            with self.assertRaises(ijepa.IjepaError) as cm:
                cfg["embed_dim"] = 3
            e = cm.exception
            self.assertEqual(e.status, ijepa.ERR_INVALID_ARG)
            self.assertEqual(e.function, "ijepa_config_set_int")
            self.assertIn("ijepa_config_set_int()", e.message)
            self.assertIn("embed_dim", e.message)
            self.assertEqual(cfg["embed_dim"], 384)  # unchanged
            with self.assertRaises(ijepa.IjepaError) as cm:
                cfg["no_such_key"] = 1
            self.assertIn("no_such_key", cm.exception.message)

    def test_create_failure_message(self):
        cfg = ijepa.Config(img_size=30, patch_size=4)
        with ijepa.Context() as ctx:
            with self.assertRaises(ijepa.IjepaError) as cm:
                ijepa.Encoder(ctx, cfg)
        self.assertEqual(cm.exception.status, ijepa.ERR_INVALID_ARG)
        self.assertIn("ijepa_encoder_create()", cm.exception.message)

    def test_handle_message_and_state_error(self):
        cfg = small_config(trainable=0)
        with ijepa.Context() as ctx, ijepa.Encoder(ctx, cfg) as enc:
            x = np.zeros((1, 1, 16, 16), np.float32)
            with self.assertRaises(ijepa.IjepaError) as cm:
                enc.forward(x, train=True)
            self.assertEqual(cm.exception.status, ijepa.ERR_STATE)
            self.assertEqual(cm.exception.message, ijepa._decode(ijepa.lib.ijepa_last_error()))
            self.assertIn("ijepa_encoder_forward()", cm.exception.message)
            bad = np.array([[0, 99]], np.int32)
            with self.assertRaises(ijepa.IjepaError) as cm:
                enc.forward(x, keep=bad)
            self.assertIn("99", cm.exception.message)

    def test_precision_native_and_stat_arguments(self):
        with ijepa.Context() as ctx:
            self.assertTrue(ctx.precision_native("f32"))
            self.assertEqual(ctx.precision_native("bf16"),
                             ctx.precision_native(ijepa.PRECISION_BF16))
            self.assertEqual(ctx.precision_native(np.int64(ijepa.PRECISION_BF16)),
                             ctx.precision_native("bf16"))
            with self.assertRaises(ijepa.IjepaError) as cm:
                ctx.precision_native("fp16")
            self.assertIn("fp16", cm.exception.message)
            for bad in (None, True, 1.0):
                with self.assertRaises(TypeError) as cm:
                    ctx.precision_native(bad)
                self.assertIn("precision must be a name", str(cm.exception))
            with ijepa.Trainer(ctx, small_config()) as tr:
                with self.assertRaises(KeyError) as cm:
                    tr.stat("nope")
                self.assertIn("unknown trainer statistic 'nope'", str(cm.exception))
                self.assertIn("grad_norm", str(cm.exception))

    def test_schedule_nan_raises(self):
        self.assertAlmostEqual(ijepa.schedule_momentum(0, 10, 0.996, 1.0), 0.996)
        with self.assertRaises(ijepa.IjepaError):
            ijepa.schedule_lr(-1, 0, 10, 0, 1, 0)


class TestArrays(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctx = ijepa.Context()
        cls.enc = ijepa.Encoder(cls.ctx, small_config())

    @classmethod
    def tearDownClass(cls):
        cls.enc.close()
        cls.ctx.close()

    def test_inputs_are_checked_never_copied(self):
        x = np.zeros((2, 1, 16, 16), np.float32)
        with self.assertRaisesRegex(TypeError, "float32"):
            self.enc(x.astype(np.float64))
        with self.assertRaisesRegex(TypeError, "ndarray"):
            self.enc(x.tolist())
        with self.assertRaisesRegex(ValueError, "C-contiguous"):
            self.enc(np.zeros((2, 1, 16, 32), np.float32)[..., ::2])
        with self.assertRaisesRegex(ValueError, "shape"):
            self.enc(np.zeros((2, 2, 16, 16), np.float32))
        raw = np.zeros(2 * 256 * 4 + 1, np.uint8)[1:].view(np.float32).reshape(2, 1, 16, 16)
        with self.assertRaisesRegex(ValueError, "aligned"):
            self.enc(raw)
        with self.assertRaisesRegex(TypeError, "float32"):
            self.enc(x.astype(">f4"))
        with self.assertRaisesRegex(TypeError, "int32"):
            self.enc(x, keep=np.zeros((2, 3), np.int64))
        out = np.zeros((2, 16, 16), np.float32)
        out.flags.writeable = False
        with self.assertRaisesRegex(ValueError, "writable"):
            self.enc(x, out=out)

    def test_out_is_written_in_place(self):
        x = np.random.default_rng(0).standard_normal((2, 1, 16, 16)).astype(np.float32)
        out = np.full((2, 3, 16), np.nan, np.float32)
        keep = np.array([[0, 5, 7], [1, 1, 15]], np.int32)
        r = self.enc(x, keep=keep, out=out)
        self.assertIs(r, out)
        full = self.enc(x)
        np.testing.assert_array_equal(out[1, 0], out[1, 1])
        self.assertTrue(np.all(np.isfinite(out)))
        self.assertEqual(full.shape, (2, 16, 16))

    def test_parameter_views_share_library_memory(self):
        p1, p2 = self.enc.params, self.enc.params
        self.assertTrue(np.shares_memory(p1, p2))
        self.assertFalse(p1.flags.owndata)
        sd = self.enc.state_dict()
        w = sd["patch_embed.proj.weight"]
        self.assertEqual(w.shape, (16, 1, 4, 4))
        self.assertTrue(np.shares_memory(w, p1))
        x = np.ones((1, 1, 16, 16), np.float32)
        before = self.enc(x).copy()
        saved = w.copy()
        w[...] = 0  # writing the view changes the model
        try:
            after = self.enc(x)
            self.assertFalse(np.array_equal(before, after))
        finally:
            w[...] = saved
        np.testing.assert_array_equal(self.enc(x), before)
        g = self.enc.grad_dict()["norm.weight"]
        self.assertTrue(np.shares_memory(g, self.enc.grads))
        self.assertEqual(self.enc.params.size,
                         ijepa.lib.ijepa_tensor_table_buffer_size(self.enc._table()))

    def test_tensor_table(self):
        names = [t.name for t in self.enc.tensors]
        self.assertEqual(names[:3], ["pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"])
        self.assertEqual(names[-2:], ["norm.weight", "norm.bias"])
        t = self.enc.tensors[0]
        self.assertEqual(t.shape, (1, 16, 16))
        self.assertTrue(t.flags & ijepa.TENSOR_FROZEN)
        for t in self.enc.tensors:
            self.assertEqual(t.offset % 16, 0)

    def test_load_state_dict_checks(self):
        sd = {k: v.copy() for k, v in self.enc.state_dict().items()}
        with self.assertRaises(KeyError):
            self.enc.load_state_dict({"nope": np.zeros(1)})
        bad = dict(sd)
        bad["norm.weight"] = np.zeros(3)
        with self.assertRaises(ValueError):
            self.enc.load_state_dict(bad)
        # all or nothing: a bad tensor anywhere loads none, the good ones included
        before = self.enc.params.copy()
        last = list(sd)[-1]
        for value, error in ((np.full(sd[last].shape, np.nan, np.float32), ValueError),
                             (np.full(sd[last].shape, 1e39), ValueError),  # inf in float32
                             (np.ones(sd[last].shape, np.int64), TypeError),
                             (np.ones(sd[last].shape, np.complex64), TypeError),
                             (np.full(sd[last].shape, "x", dtype=object), TypeError)):
            bad = {k: v + 1 for k, v in sd.items()}
            bad[last] = value
            with self.assertRaises(error):
                self.enc.load_state_dict(bad)
            np.testing.assert_array_equal(self.enc.params, before)
        self.enc.load_state_dict({k: v.astype(np.float64) for k, v in sd.items()})
        np.testing.assert_array_equal(self.enc.params, before)


class TestLifetimes(unittest.TestCase):
    def test_view_keeps_the_handle_alive(self):
        ctx = ijepa.Context()
        enc = ijepa.Encoder(ctx, small_config())
        p = enc.params
        ref = p.copy()
        res = weakref.ref(enc._res)
        ctx_res = weakref.ref(ctx._res)
        ctx.close()
        enc.close()
        gc.collect()
        self.assertIsNotNone(res())       # the view still uses it
        self.assertIsNotNone(ctx_res())   # and the encoder its context
        np.testing.assert_array_equal(p, ref)
        with self.assertRaisesRegex(ValueError, "closed"):
            enc.forward(np.zeros((1, 1, 16, 16), np.float32))
        del p
        gc.collect()
        self.assertIsNone(res())
        self.assertIsNone(ctx_res())

    def test_close_twice_and_finalizer(self):
        ctx = ijepa.Context()
        ctx.close()
        ctx.close()
        self.assertTrue(ctx.closed)
        ctx2 = ijepa.Context()
        res = weakref.ref(ctx2._res)
        fin = ctx2._res._finalizer
        del ctx2
        gc.collect()
        self.assertIsNone(res())
        self.assertFalse(fin.alive)  # the finalizer freed it

    def test_trainer_views_outlive_the_trainer(self):
        ctx = ijepa.Context()
        tr = ijepa.Trainer(ctx, small_config())
        tgt = tr.target_encoder.params
        tr.step(np.zeros((4, 1, 16, 16), np.float32))
        snap = tgt.copy()
        tr.close()
        ctx.close()
        gc.collect()
        np.testing.assert_array_equal(tgt, snap)


class TestConfig(unittest.TestCase):
    def test_get_set_by_name(self):
        cfg = ijepa.Config(preset="vit_tiny", img_size=32)
        self.assertEqual(cfg["embed_dim"], 192)
        self.assertEqual(cfg["num_heads"], 3)
        self.assertIsInstance(cfg["lr"], float)
        cfg["lr"] = 0.5
        self.assertEqual(cfg["lr"], 0.5)
        cfg["mlp_ratio"] = 3  # an int for a float key is fine
        self.assertEqual(cfg["mlp_ratio"], 3.0)
        with self.assertRaises(TypeError):
            cfg["depth"] = 2.5
        self.assertEqual(cfg.bounds("embed_dim"), (4.0, 16384.0))
        self.assertIn("pred_num_heads", cfg.keys())
        copy = cfg.copy()
        copy["img_size"] = 64
        self.assertEqual(cfg["img_size"], 32)
        again = ijepa.Config.from_text(cfg.to_text())
        self.assertEqual(again.to_dict(), cfg.to_dict())
        with self.assertRaises(ijepa.IjepaError):
            cfg.apply_preset("vit_nope")

    def test_set_refuses_what_would_do_nothing_or_something_else(self):
        cfg = ijepa.Config(preset="tiny")
        before = cfg.to_text()
        # an attribute is not a key: refused, with the way to set the key
        with self.assertRaises(AttributeError) as cm:
            cfg.precision = "bf16"
        self.assertIn("config keys are items: cfg['precision']", str(cm.exception))
        with self.assertRaises(AttributeError):
            cfg.no_such_thing = 1
        # True is not bf16, None is not a default
        for key, bad in (("precision", True), ("precision", None), ("depth", False),
                         ("lr", None), ("lr", True)):
            with self.assertRaises(TypeError) as cm:
                cfg[key] = bad
            self.assertIn("config key %r takes a number" % key, str(cm.exception))
        with self.assertRaises(TypeError) as cm:
            cfg["lr"] = [0.1]
        self.assertIn("config key 'lr' is a number", str(cm.exception))
        with self.assertRaises(TypeError):
            ijepa.Config(precision=True)
        with self.assertRaises(ijepa.IjepaError) as cm:
            cfg["precision"] = "fp16"
        self.assertIn("no value named 'fp16' (its names: f32, bf16)", cm.exception.message)
        self.assertEqual(cfg.to_text(), before)
        # an integer past int64 is not taken modulo 2^64 (ctypes would): refused as
        # the library refuses any out-of-range value, naming the value given
        for key, big in (("img_size", 2**64 + 32), ("seed", 2**64 + 5), ("depth", -(2**64) + 3)):
            with self.assertRaises(ijepa.IjepaError) as cm:
                cfg[key] = big
            self.assertIn("%s = %d is outside [" % (key, big), cm.exception.message)
        self.assertEqual(cfg.to_text(), before)
        # what is accepted: names, integers (numpy's too), integral floats
        cfg["precision"] = "bf16"
        self.assertEqual(cfg["precision"], ijepa.PRECISION_BF16)
        cfg["precision"] = np.int64(0)
        cfg["depth"] = np.float32(3.0)
        self.assertEqual((cfg["precision"], cfg["depth"]), (0, 3))

    def test_integer_arguments_are_range_checked(self):
        with ijepa.Context() as ctx, ijepa.Encoder(ctx, small_config()) as enc:
            before = enc.params.copy()
            for bad in (2**64 + 5, -1):  # seed is uint64_t: neither wraps
                with self.assertRaises(ValueError) as cm:
                    enc.init_params(bad)
                self.assertIn("ijepa_encoder_init_params(): argument 2 is %d, outside" % bad,
                              str(cm.exception))
            np.testing.assert_array_equal(enc.params, before)
            enc.init_params(2**64 - 1)  # the largest seed is one
            with self.assertRaises(ValueError):
                ctx.precision_native(2**32 + 1)  # int32_t
        # a string with a NUL byte would reach C cut at it: refused
        for call in (lambda: ijepa.Image.load("a.png\0b.png"),
                     lambda: ijepa.Config(preset="tiny\0x"),
                     lambda: ijepa.CheckpointWriter().add("x\0hidden", np.zeros(3, np.float32))):
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertIn("holds a NUL byte", str(cm.exception))

    def test_handles_take_no_new_attribute(self):
        cfg = small_config()
        cfg["precision"] = "bf16"
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
            self.assertEqual(tr.precision, "bf16")
            self.assertEqual(tr.context_encoder.precision, "bf16")
            self.assertEqual(tr.predictor.precision, "bf16")
            with tr.predictor.config as pc:  # ijepa_predictor_config(): the sizes a host needs
                self.assertEqual((pc["embed_dim"], pc["num_targets"]),
                                 (tr.predictor.embed_dim, cfg["num_targets"]))
            with self.assertRaises(AttributeError) as cm:
                tr.lr = 0.1
            self.assertIn("ijepa.Trainer has no attribute 'lr' to set (lr is a config key",
                          str(cm.exception))
            with self.assertRaises(AttributeError):
                tr.closed = True  # a read-only property
            with self.assertRaises(AttributeError):
                ctx.threads = 4
            with self.assertRaises(AttributeError):
                tr.precision = "f32"  # fixed at creation

    def test_config_text_classes_presets(self):
        cfg = ijepa.Config(preset="tiny", lr=0.001)
        text = cfg.to_text()
        self.assertIn("\nlr = 0.001\n", text)
        self.assertEqual(len(text.splitlines()), len(ijepa.config_keys()))
        with self.assertRaises(ijepa.IjepaError) as cm:
            cfg.update_from_text("depth = 2\nlr = 0,5\n")
        self.assertIn("ijepa_config_from_text(): line 2: invalid value '0,5'", cm.exception.message)
        self.assertEqual(cfg.to_text(), text)  # all or nothing
        self.assertIs(cfg.update_from_text("# comment\ndepth = 3"), cfg)
        self.assertEqual(cfg["depth"], 3)
        classes = {k: ijepa.config_key_class(k) for k in ijepa.config_keys()}
        self.assertEqual(set(classes.values()), {"model", "training", "data", "runtime"})
        self.assertEqual((classes["seed"], classes["lr"], classes["data_mean_r"],
                          classes["batch_size"]), ("model", "training", "data", "runtime"))
        self.assertEqual(ijepa.config_value_name("precision", ijepa.PRECISION_BF16), "bf16")
        self.assertEqual(ijepa.config_value_name("mask_mode", 1), "official")
        self.assertIsNone(ijepa.config_value_name("precision", 7))
        self.assertIsNone(ijepa.config_value_name("depth", 2))
        presets = ijepa.presets()
        for name in ("vit_tiny", "vit_giant", "fmnist", "fmnist-p2", "fmnist-official", "tiny",
                     "folder"):
            self.assertIn(name, presets)
            self.assertTrue(presets[name])
        fm = ijepa.Config(preset="fmnist")
        self.assertEqual((fm["in_chans"], fm["data_mean_r"], fm["data_std_r"]), (1, 0.286, 0.353))

    def test_trainer_optimizer(self):
        cfg = small_config()
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
            m0, v0 = tr.optimizer.moments(0)
            m1, _ = tr.optimizer.moments(1)
            self.assertEqual(m0.shape, tr.context_encoder.params.shape)
            self.assertEqual(m1.shape, tr.predictor.params.shape)
            self.assertEqual(tr.optimizer.step_count, 0)
            x = np.random.default_rng(0).standard_normal(
                (cfg["batch_size"], tr.in_chans, tr.img_size, tr.img_size)).astype(np.float32)
            tr.step(x)
            self.assertEqual(tr.optimizer.step_count, 1)
            self.assertGreater(float(np.abs(v0).sum()), 0)


class TestComposition(unittest.TestCase):
    def test_mask_sampler(self):
        cfg = small_config(num_targets=3)
        ms = ijepa.MaskSampler(cfg)
        c1, t1 = ms.sample(4, 7)
        c2, t2 = ms.sample(4, 7)
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_array_equal(t1, t2)
        self.assertEqual(t1.shape[:2], (3, 4))
        self.assertEqual(c1.shape[0], 4)
        self.assertTrue(np.all(np.diff(c1, axis=1) > 0))
        with self.assertRaises(ijepa.IjepaError):
            ms.sample(5, 0)

    def test_wrappers_reproduce_trainer_step_exactly(self):
        """Drive encoders, predictor, sampler, loss and optimizer from Python
        as ijepa_trainer_step() does: bit-identical losses and weights."""
        cfg = small_config(depth=2, seed=5, num_targets=2)
        rng = np.random.default_rng(1)
        batches = [rng.standard_normal((4, 1, 16, 16)).astype(np.float32) for _ in range(3)]
        with ijepa.Context() as ctx:
            tr = ijepa.Trainer(ctx, cfg)
            ref_losses = [tr.step(x) for x in batches]
            ref_stats = tr.stats()
            enc = ijepa.Encoder(ctx, cfg)
            pred = ijepa.Predictor(ctx, cfg)
            tcfg = cfg.copy()
            tcfg["trainable"] = 0
            tgt = ijepa.Encoder(ctx, tcfg)
            tgt.params[...] = enc.params
            ms = ijepa.MaskSampler(cfg)
            opt = ijepa.Optimizer(cfg)
            self.assertEqual(opt.add(enc), 0)
            self.assertEqual(opt.add(pred), 1)
            losses = []
            for step, x in enumerate(batches):
                context, targets = ms.sample(4, step)
                h = tgt(x)
                z = enc(x, keep=context, train=True)
                p = pred(z, context, targets, train=True)
                loss, dp = ijepa.loss_compute(h, targets, p, kind=cfg["loss"],
                                              ln_eps=cfg["target_ln_eps"])
                # the trainer's collapse monitor: from the sums that add up over workers
                s1, s2 = ijepa.loss_target_moments(h, cfg["target_ln_eps"])
                tstd = 0.0
                for a, b in zip(s1.tolist(), s2.tolist()):
                    var = b / 4 - (a / 4) * (a / 4)
                    tstd += math.sqrt(var) if var > 0 else 0.0
                tstd /= len(s1)
                self.assertAlmostEqual(tstd, ijepa.loss_target_std(h, cfg["target_ln_eps"]),
                                       delta=1e-12 * tstd)
                enc.zero_grad()
                pred.zero_grad()
                enc.backward(pred.backward(dp))
                lr = ijepa.schedule_lr(step + 1, cfg["warmup_steps"], cfg["total_steps"],
                                       cfg["lr_start"], cfg["lr"], cfg["lr_final"])
                wd = ijepa.schedule_weight_decay(step + 1, cfg["total_steps"],
                                                 cfg["weight_decay"], cfg["weight_decay_final"])
                mom = ijepa.schedule_momentum(step, cfg["total_steps"], cfg["ema_start"],
                                              cfg["ema_end"])
                gn = opt.grad_norm()
                opt.step(lr, wd)
                ijepa.ema_update(tgt, enc, min(mom, 1.0))
                losses.append(loss)
            self.assertEqual(losses, ref_losses)
            self.assertEqual(opt.step_count, tr.step_count)
            self.assertEqual(tstd, ref_stats["target_std"])
            self.assertEqual(gn, ref_stats["grad_norm"])
            np.testing.assert_array_equal(enc.params, tr.context_encoder.params)
            np.testing.assert_array_equal(tgt.params, tr.target_encoder.params)
            np.testing.assert_array_equal(pred.params, tr.predictor.params)
            c, t = tr.masks()
            np.testing.assert_array_equal(c, context)
            np.testing.assert_array_equal(t, targets)
            m, v = opt.moments(0)
            self.assertEqual(m.shape, enc.params.shape)
            self.assertGreater(float(np.abs(v).max()), 0)
            for h_ in (opt, ms, tgt, pred, enc, tr):
                h_.close()

    def test_compute_apply_on_halves(self):
        """Two trainers each compute part of every batch (3 and 5 of 8), the
        gradients and partials are summed in place through the numpy views,
        both apply: they stay bit-identical to each other and match one
        trainer stepping on the whole batch (losses 1e-9 relative, weights
        1e-6 absolute); compute + apply on the whole batch is step()."""
        cfg = small_config(depth=2, seed=8, num_targets=2, batch_size=8)
        rng = np.random.default_rng(2)
        batches = [rng.standard_normal((8, 1, 16, 16)).astype(np.float32) for _ in range(3)]
        with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as one, \
                ijepa.Trainer(ctx, cfg) as w0, ijepa.Trainer(ctx, cfg) as w1, \
                ijepa.Trainer(ctx, cfg) as whole:
            workers = ((w0, 0, 3), (w1, 3, 5))
            views = [(w.context_encoder.grads, w.predictor.grads, w.partials) for w, _, _ in
                     workers]
            self.assertEqual(views[0][2].dtype, np.float64)
            self.assertEqual(memoryview(views[0][0]).format, "f")  # what mpi4py accepts
            for x in batches:
                want = one.step(x)
                for w, off, n in workers:
                    w.compute(x[off:off + n], off, 8)
                for a, b in zip(*views):
                    total = a + b
                    a[...] = total
                    b[...] = total
                got = [w.apply() for w, _, _ in workers]
                self.assertEqual(got[0], got[1])
                self.assertLessEqual(abs(got[0] - want), 1e-9 * want)
                whole.compute(x, 0, 8)
                self.assertEqual(whole.apply(), want)
            for name in ("context_encoder", "target_encoder", "predictor"):
                np.testing.assert_array_equal(getattr(w0, name).params, getattr(w1, name).params)
                np.testing.assert_array_equal(getattr(whole, name).params,
                                              getattr(one, name).params)
                np.testing.assert_allclose(getattr(w0, name).params, getattr(one, name).params,
                                           rtol=0, atol=1e-6)
            np.testing.assert_array_equal(w1.masks()[0], one.masks()[0])
            with self.assertRaises(ijepa.IjepaError) as e:
                w0.apply()  # nothing computed since the last apply
            self.assertEqual(e.exception.status, ijepa.ERR_STATE)


if __name__ == "__main__":
    unittest.main()
