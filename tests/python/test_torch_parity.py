# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Agreement with PyTorch: an independent float64 PyTorch implementation of
the official I-JEPA forward pass (facebookresearch/ijepa
src/models/vision_transformer.py, src/masks/utils.py apply_masks,
src/utils/tensors.py repeat_interleave_batch, src/train.py loss), written
here from the official code's structure, loaded with libijepa's parameters
through the numpy views; encoder outputs, predictor output, loss and every
gradient must agree.

Tolerance. libijepa computes in float32 (unit roundoff u = 2^-24), PyTorch
here in float64 (errors ~1e-16, negligible), so the difference is libijepa's
own rounding error. A float32 reduction of length K has a rounding error of
about sqrt(K) * u times the magnitude of its terms when the errors are
independent (K * u in the worst case), and every layer adds its errors to the
residual stream: after S sequential reductions the relative error of a
tensor, measured against its largest element, is about S * sqrt(K) * u with
K the longest reduction. We take S = 4 per transformer block (qkv, q.k,
attn.v, proj, fc1, fc2 counted as 4 stages of length <= K, the mlp's two
reductions dominating), plus 2 for patch embedding and projections, and
allow a safety factor of 4 for the conditioning of LayerNorm and softmax
(which divide by data-dependent quantities). Backward passes the chain
rule through the same stages twice (the gradient of each matmul is itself a
reduction, over tokens for weights), so gradients get twice the forward
bound, with K including the token reductions (batch * sequence length).
The bound is a few 1e-5 for these shapes; observed errors are 30-100x
smaller, and a reference with tanh-GELU instead of exact GELU (GELU values
off by up to 2e-4, outputs by about 1e-4 relative) fails it, so the bound
does discriminate.

A third test runs precision = bf16 against PyTorch's own mixed precision
(torch.autocast("cpu", dtype=torch.bfloat16), as the official train.py with
use_bfloat16): both are compared with the float64 reference, and libijepa's
error may not exceed 1.5x autocast's plus 2^-7 (test_bf16_vs_autocast states
why).
"""
import math
import unittest
import zlib

import numpy as np

from common import have_torch, ijepa

if have_torch():
    import torch
    import torch.nn.functional as F

U = 2.0 ** -24


def tol(stages, k):
    return 4.0 * stages * math.sqrt(k) * U


# --- the reference (official structure, float64) --------------------------------

def apply_masks(x, masks):
    """src/masks/utils.py: gather each mask's tokens, concatenate on batch."""
    out = []
    for m in masks:
        keep = m.unsqueeze(-1).repeat(1, 1, x.size(-1))
        out.append(torch.gather(x, dim=1, index=keep))
    return torch.cat(out, dim=0)


def repeat_interleave_batch(x, B, repeat):
    """src/utils/tensors.py."""
    N = len(x) // B
    return torch.cat([torch.cat([x[i * B:(i + 1) * B] for _ in range(repeat)], dim=0)
                      for i in range(N)], dim=0)


def block(x, p, pre, heads, eps, gelu_tanh=False):
    """Block: pre-norm attention + MLP (Attention with explicit softmax)."""
    B, N, C = x.shape
    h = F.layer_norm(x, (C,), p[pre + "norm1.weight"], p[pre + "norm1.bias"], eps)
    qkv = F.linear(h, p[pre + "attn.qkv.weight"], p.get(pre + "attn.qkv.bias"))
    qkv = qkv.reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    attn = (q @ k.transpose(-2, -1)) * (C // heads) ** -0.5
    attn = attn.softmax(dim=-1)
    o = (attn @ v).transpose(1, 2).reshape(B, N, C)
    x = x + F.linear(o, p[pre + "attn.proj.weight"], p[pre + "attn.proj.bias"])
    h = F.layer_norm(x, (C,), p[pre + "norm2.weight"], p[pre + "norm2.bias"], eps)
    h = F.linear(h, p[pre + "mlp.fc1.weight"], p[pre + "mlp.fc1.bias"])
    h = F.gelu(h, approximate="tanh" if gelu_tanh else "none")
    return x + F.linear(h, p[pre + "mlp.fc2.weight"], p[pre + "mlp.fc2.bias"])


def encoder_forward(p, imgs, patch, depth, heads, eps, masks=None, gelu_tanh=False):
    """VisionTransformer.forward."""
    x = F.conv2d(imgs, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=patch)
    x = x.flatten(2).transpose(1, 2)
    x = x + p["pos_embed"]
    if masks is not None:
        x = apply_masks(x, masks)
    for i in range(depth):
        x = block(x, p, "blocks.%d." % i, heads, eps, gelu_tanh)
    D = x.shape[-1]
    return F.layer_norm(x, (D,), p["norm.weight"], p["norm.bias"], eps)


def predictor_forward(p, x, masks_x, masks, depth, heads, eps):
    """VisionTransformerPredictor.forward."""
    B = len(x) // len(masks_x)
    x = F.linear(x, p["predictor_embed.weight"], p["predictor_embed.bias"])
    x_pos = p["predictor_pos_embed"].repeat(B, 1, 1)
    x = x + apply_masks(x_pos, masks_x)
    _, n_ctxt, _ = x.shape
    pos = p["predictor_pos_embed"].repeat(B, 1, 1)
    pos = apply_masks(pos, masks)
    pos = repeat_interleave_batch(pos, B, repeat=len(masks_x))
    pred_tokens = p["mask_token"].repeat(pos.size(0), pos.size(1), 1) + pos
    x = x.repeat(len(masks), 1, 1)
    x = torch.cat([x, pred_tokens], dim=1)
    for i in range(depth):
        x = block(x, p, "predictor_blocks.%d." % i, heads, eps)
    Dp = x.shape[-1]
    x = F.layer_norm(x, (Dp,), p["predictor_norm.weight"], p["predictor_norm.bias"], eps)
    x = x[:, n_ctxt:]
    return F.linear(x, p["predictor_proj.weight"], p["predictor_proj.bias"])


def sincos_2d(dim, grid):
    """get_2d_sincos_pos_embed (numpy float64, 'w goes first')."""
    gh = np.arange(grid, dtype=float)
    gw = np.arange(grid, dtype=float)
    g = np.stack(np.meshgrid(gw, gh), axis=0).reshape(2, 1, grid, grid)

    def one(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=float) / (d / 2.0))
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)
    return np.concatenate([one(dim // 2, g[0]), one(dim // 2, g[1])], axis=1)


def torch_params(model, trainable=True):
    """float64 leaf tensors of the model's parameters (views -> copies)."""
    out = {}
    for t in model.tensors:
        a = torch.tensor(model.state_dict()[t.name].astype(np.float64))
        a.requires_grad_(trainable and not (t.flags & ijepa.TENSOR_FROZEN))
        out[t.name] = a
    return out


def randomize(model, rng):
    """Give every non-frozen tensor generic values (weights ~ 1/sqrt(fan_in),
    LayerNorm weights around 1, biases and mask token non-zero)."""
    for t in model.tensors:
        if t.flags & ijepa.TENSOR_FROZEN:
            continue
        v = model.state_dict()[t.name]
        if len(t.shape) == 1:
            base = 1.0 if "norm" in t.name and t.name.endswith("weight") else 0.0
            v[...] = base + 0.2 * rng.standard_normal(v.shape)
        elif t.name.endswith("mask_token"):
            v[...] = 0.5 * rng.standard_normal(v.shape)
        else:
            fan_in = int(np.prod(t.shape[1:]))
            v[...] = rng.standard_normal(v.shape) / math.sqrt(fan_in)


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(a)))


@unittest.skipUnless(have_torch(), "PyTorch not installed")
class TestTorchParity(unittest.TestCase):
    report = []

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.ctx = ijepa.Context()

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()
        for line in cls.report:
            print(line)

    def check(self, what, have, want, bound):
        e = rel_err(have, want)
        self.assertLessEqual(e, bound, "%s: relative error %.3g above %.3g" % (what, e, bound))
        return e

    def run_case(self, name, settings, batch, masks_fn, loss_kind):
        cfg = ijepa.Config(**settings)
        tcfg = cfg.copy()
        tcfg["trainable"] = 0
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        enc = ijepa.Encoder(self.ctx, cfg)
        tgt = ijepa.Encoder(self.ctx, tcfg)
        pred = ijepa.Predictor(self.ctx, cfg)
        for m in (enc, tgt, pred):
            randomize(m, rng)
        img, patch, C = cfg["img_size"], cfg["patch_size"], cfg["in_chans"]
        D, depth, heads = cfg["embed_dim"], cfg["depth"], cfg["num_heads"]
        Dp, pdepth = cfg["pred_embed_dim"], cfg["pred_depth"]
        pheads = cfg["pred_num_heads"] or heads
        eps, teps = cfg["ln_eps"], cfg["target_ln_eps"]
        G = img // patch
        N = G * G
        hidden, phidden = int(D * cfg["mlp_ratio"]), 4 * Dp
        x = rng.standard_normal((batch, C, img, img)).astype(np.float32)
        context, targets = masks_fn(cfg, batch, rng)
        M, _, nt = targets.shape
        nc = context.shape[1]
        self.assertNotEqual(nc, nt)

        # libijepa: the training step's calls
        h = tgt(x)
        z = enc(x, keep=context, train=True)
        p = pred(z, context, targets, train=True)
        loss, dp = ijepa.loss_compute(h, targets, p, kind=loss_kind, ln_eps=teps)
        enc.zero_grad()
        pred.zero_grad()
        enc.backward(pred.backward(dp))

        # PyTorch float64 reference with the same parameters
        pe, pt, pp = torch_params(enc), torch_params(tgt, False), torch_params(pred)
        xt = torch.tensor(x.astype(np.float64))
        masks_enc = [torch.tensor(context.astype(np.int64))]
        masks_pred = [torch.tensor(targets[m].astype(np.int64)) for m in range(M)]
        with torch.no_grad():
            ht = encoder_forward(pt, xt, patch, depth, heads, eps)
            h_norm = F.layer_norm(ht, (D,), eps=teps)
            h_tgt = repeat_interleave_batch(apply_masks(h_norm, masks_pred), batch,
                                            repeat=len(masks_enc))
        zt = encoder_forward(pe, xt, patch, depth, heads, eps, masks=masks_enc)
        zt.retain_grad()
        predt = predictor_forward(pp, zt, masks_enc, masks_pred, pdepth, pheads, eps)
        predt.retain_grad()
        if loss_kind == ijepa.LOSS_SMOOTH_L1:
            losst = F.smooth_l1_loss(predt, h_tgt)
        else:
            losst = F.mse_loss(predt, h_tgt)
        losst.backward()

        # bounds (module docstring): stages and longest reductions
        k_fwd = max(hidden, phidden, C * patch * patch, N + nt, D)
        s_enc = 4 * depth + 2
        s_all = s_enc + 4 * pdepth + 2
        k_bwd = max(k_fwd, M * batch * (nc + nt), batch * N)
        b_enc, b_pred, b_grad = tol(s_enc, k_fwd), tol(s_all, k_fwd), 2 * tol(s_all, k_bwd)

        errs = {}
        errs["pos_embed"] = self.check("pos_embed", enc.state_dict()["pos_embed"][0],
                                       sincos_2d(D, G), 2 * U)
        errs["predictor_pos_embed"] = self.check(
            "predictor_pos_embed", pred.state_dict()["predictor_pos_embed"][0],
            sincos_2d(Dp, G), 2 * U)
        errs["target encoder"] = self.check("target encoder output", h, ht.numpy(), b_enc)
        errs["context encoder"] = self.check("context encoder output", z, zt.detach().numpy(),
                                             b_enc)
        errs["predictor"] = self.check("predictor output", p, predt.detach().numpy(), b_pred)
        errs["loss"] = self.check("loss", loss, losst.item(), b_pred)
        errs["d_pred"] = self.check("dloss/dpred", dp, predt.grad.numpy(), b_pred)
        worst = 0.0
        for model, tp in ((enc, pe), (pred, pp)):
            grads = model.grad_dict()
            for t in model.tensors:
                g = grads[t.name]
                if t.flags & ijepa.TENSOR_FROZEN:
                    self.assertFalse(np.any(g), "%s: frozen tensor got a gradient" % t.name)
                    continue
                want = tp[t.name].grad
                self.assertIsNotNone(want, t.name)
                worst = max(worst, self.check("gradient of " + t.name, g, want.numpy(), b_grad))
        errs["worst gradient"] = worst

        # the bound discriminates: an encoder with tanh-GELU is rejected
        with torch.no_grad():
            wrong = encoder_forward(pt, xt, patch, depth, heads, eps, gelu_tanh=True)
        self.assertGreater(rel_err(h, wrong.numpy()), b_enc,
                           "the tolerance does not even tell tanh-GELU from erf-GELU")

        self.report.append("torch parity %s: bounds enc %.2g pred %.2g grad %.2g; observed %s"
                           % (name, b_enc, b_pred, b_grad,
                              ", ".join("%s %.2g" % kv for kv in errs.items())))
        for m in (pred, tgt, enc):
            m.close()

    def test_sampler_masks_three_targets(self):
        """Batch 3, 3 target blocks from the mask sampler, 4 encoder heads
        vs 3 predictor heads, 3 input channels, smooth-L1."""
        settings = dict(img_size=16, patch_size=4, in_chans=3, embed_dim=32, depth=2,
                        num_heads=4, pred_embed_dim=24, pred_depth=2, pred_num_heads=3,
                        batch_size=3, num_targets=3, min_keep=0, target_scale_min=0.15,
                        target_scale_max=0.3, context_scale_min=0.6, context_scale_max=0.8,
                        seed=11)

        def masks(cfg, batch, rng):
            return ijepa.MaskSampler(cfg).sample(batch, 3)
        self.run_case("A (G=4, B=3, M=3, heads 4/3)", settings, 3, masks, ijepa.LOSS_SMOOTH_L1)

    def run_bf16_case(self, name, settings, batch, masks_fn, loss_kind):
        """precision = bf16 against PyTorch's own mixed precision: the same
        float64 reference as run_case, and the reference in float32 under
        torch.autocast("cpu", dtype=torch.bfloat16) around the forwards and
        the loss (as the official train.py with use_bfloat16). Returns the
        relative errors (rel_err) of libijepa bf16 and of autocast against
        float64, per quantity."""
        cfg = ijepa.Config(precision="bf16", **settings)
        tcfg = cfg.copy()
        tcfg["trainable"] = 0
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        enc = ijepa.Encoder(self.ctx, cfg)
        tgt = ijepa.Encoder(self.ctx, tcfg)
        pred = ijepa.Predictor(self.ctx, cfg)
        for m in (enc, tgt, pred):
            randomize(m, rng)
        img, patch, C = cfg["img_size"], cfg["patch_size"], cfg["in_chans"]
        D, depth, heads = cfg["embed_dim"], cfg["depth"], cfg["num_heads"]
        pdepth, pheads = cfg["pred_depth"], cfg["pred_num_heads"] or heads
        eps, teps = cfg["ln_eps"], cfg["target_ln_eps"]
        x = rng.standard_normal((batch, C, img, img)).astype(np.float32)
        context, targets = masks_fn(cfg, batch, rng)
        M = targets.shape[0]

        h = tgt(x)
        z = enc(x, keep=context, train=True)
        p = pred(z, context, targets, train=True)
        loss, dp = ijepa.loss_compute(h, targets, p, kind=loss_kind, ln_eps=teps)
        enc.zero_grad()
        pred.zero_grad()
        enc.backward(pred.backward(dp))
        lib = {"target encoder": h, "context encoder": z, "predictor": p, "loss": loss}
        for model in (enc, pred):
            for t, g in model.grad_dict().items():
                lib["grad " + t] = g

        def reference(dtype, autocast):
            pe, pt, pp = (torch_params(m, m is not tgt) for m in (enc, tgt, pred))
            for d in (pe, pt, pp):
                for k in d:
                    d[k] = d[k].detach().to(dtype).requires_grad_(d[k].requires_grad)
            xt = torch.tensor(x).to(dtype)
            masks_enc = [torch.tensor(context.astype(np.int64))]
            masks_pred = [torch.tensor(targets[m].astype(np.int64)) for m in range(M)]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                with torch.no_grad():
                    ht = encoder_forward(pt, xt, patch, depth, heads, eps)
                    h_norm = F.layer_norm(ht, (D,), eps=teps)
                    h_tgt = repeat_interleave_batch(apply_masks(h_norm, masks_pred), batch,
                                                    repeat=len(masks_enc))
                zt = encoder_forward(pe, xt, patch, depth, heads, eps, masks=masks_enc)
                predt = predictor_forward(pp, zt, masks_enc, masks_pred, pdepth, pheads, eps)
                if loss_kind == ijepa.LOSS_SMOOTH_L1:
                    losst = F.smooth_l1_loss(predt, h_tgt)
                else:
                    losst = F.mse_loss(predt, h_tgt)
            losst.backward()
            out = {"target encoder": ht, "context encoder": zt, "predictor": predt,
                   "loss": losst}
            out = {k: v.detach().double().numpy() for k, v in out.items()}
            for d in (pe, pp):
                for k, v in d.items():
                    if v.grad is not None:
                        out["grad " + k] = v.grad.double().numpy()
            return out

        exact = reference(torch.float64, False)
        auto = reference(torch.float32, True)
        errs = {}
        for k in exact:
            errs[k] = (rel_err(lib[k], exact[k]), rel_err(auto[k], exact[k]))
        for m in (pred, tgt, enc):
            m.close()
        return errs

    def test_bf16_vs_autocast(self):
        """precision = bf16 on case A's model and masks, against float64 and
        against PyTorch's bf16 autocast (module docstring of run_bf16_case).

        Tolerance. Both mixed-precision computations round matmul operands to
        bf16 (u16 = 2^-8), so both are off from float64 by about the same
        amount, ~1e-2 relative (rel_err: max abs difference over the largest
        element) on outputs and up to ~1e-1 on gradients whose sums cancel.
        libijepa's bf16 error against float64 must not exceed 1.5x autocast's
        own error on that quantity plus 2 u16 (the rounding of one operand
        step): as accurate as PyTorch's mixed precision, not merely close to
        it. A wrong path or scale is off by O(1), far beyond that."""
        settings = dict(img_size=16, patch_size=4, in_chans=3, embed_dim=32, depth=2,
                        num_heads=4, pred_embed_dim=24, pred_depth=2, pred_num_heads=3,
                        batch_size=3, num_targets=3, min_keep=0, target_scale_min=0.15,
                        target_scale_max=0.3, context_scale_min=0.6, context_scale_max=0.8,
                        seed=11)

        def masks(cfg, batch, rng):
            return ijepa.MaskSampler(cfg).sample(batch, 3)
        errs = self.run_bf16_case("A bf16", settings, 3, masks, ijepa.LOSS_SMOOTH_L1)
        u16 = 2.0 ** -8
        worst_ratio, worst = 0.0, ""
        for k, (e_lib, e_auto) in errs.items():
            bound = 1.5 * e_auto + 2 * u16
            self.assertLessEqual(e_lib, bound, "%s: libijepa bf16 error %.3g, autocast %.3g, "
                                 "bound %.3g" % (k, e_lib, e_auto, bound))
            if e_lib / bound > worst_ratio:
                worst_ratio, worst = e_lib / bound, k
        outs = ["%s %.2g/%.2g" % (k, *errs[k]) for k in
                ("target encoder", "context encoder", "predictor", "loss")]
        g_lib = max(v[0] for k, v in errs.items() if k.startswith("grad "))
        g_auto = max(v[1] for k, v in errs.items() if k.startswith("grad "))
        self.report.append("torch parity bf16 (libijepa/autocast error vs float64): %s; "
                           "worst gradient %.2g/%.2g; closest to its bound: %s (%.2f)"
                           % (", ".join(outs), g_lib, g_auto, worst, worst_ratio))

    def test_handmade_masks_odd_shapes(self):
        """Batch 2, 2 targets of scattered patches (overlapping the context),
        mlp_ratio 2.5, no qkv bias, 2 encoder heads vs 4 predictor heads,
        patch 2 on a 6x6 grid, L2 loss, ln_eps 1e-5."""
        settings = dict(img_size=12, patch_size=2, in_chans=2, embed_dim=24, depth=3,
                        num_heads=2, mlp_ratio=2.5, qkv_bias=0, pred_embed_dim=16,
                        pred_depth=1, pred_num_heads=4, batch_size=2, num_targets=2,
                        ln_eps=1e-5, loss=1, seed=3)

        def masks(cfg, batch, rng):
            N = 36
            context = np.stack([np.sort(rng.choice(N, 11, replace=False))
                                for _ in range(batch)]).astype(np.int32)
            targets = rng.integers(0, N, size=(2, batch, 5)).astype(np.int32)
            return context, targets
        self.run_case("B (G=6, B=2, M=2, heads 2/4, no qkv bias)", settings, 2, masks,
                      ijepa.LOSS_L2)


if __name__ == "__main__":
    unittest.main()
