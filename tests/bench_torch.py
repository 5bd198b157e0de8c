#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""The PyTorch side of tests/bench.c's "whole I-JEPA training steps" table
(a benchmark, not a test): one I-JEPA training step as the official
facebookresearch/ijepa src/train.py does it, on the CPU in float32 and in
its bf16 autocast mixed precision, for the same two configurations, so that
libijepa's speed and memory can be stated side by side with PyTorch's on
the same machine.

    tests/bench_torch.py [--only SUBSTR] [--iters N] [--warm N] [--tries N]
                         [--precision f32|bf16|both] [--bf16]

  --only SUBSTR  run only the configurations whose label contains SUBSTR
                 ("ijepa vit_small/16", "ijepa fmnist/128")
  --iters N      timed steps per window (default 5)
  --warm N       untimed warm-up steps (default 3, as tests/bench.c)
  --tries N      timed windows at most; a window in which other processes
                 used > 10 % of the CPUs is run again and the cleanest one is
                 reported (default 2)
  --precision P  f32, bf16 or both (default: both, each configuration once
                 per precision). bf16 is mixed precision as the official
                 train.py with use_bfloat16: true (the default of every
                 official config): torch.autocast("cpu", dtype=torch.bfloat16)
                 around the target forward, the context forward, the
                 predictor and the loss; backward, AdamW and the EMA outside
                 it, on the float32 master weights
  --bf16         the same as --precision bf16

Threads: torch.set_num_threads(OMP_NUM_THREADS), default 2.
Exit status: 0; 0 with a message when PyTorch is not importable; 1 when a
run fails.

What a step is (src/train.py, per iteration): the schedulers set lr and
weight decay; target encoder forward on the whole image under no_grad,
F.layer_norm without affine (eps 1e-5), apply_masks with the target masks,
repeat_interleave_batch; context encoder forward on the context tokens;
predictor forward (one sequence per target block); F.smooth_l1_loss;
backward; torch.optim.AdamW step (the official four parameter groups);
grad_logger's per-weight gradient norms; zero_grad; EMA of the target
encoder (torch._foreach_mul_/_foreach_add_). The model code follows the
official vision_transformer.py (explicit softmax attention, Dropout(0),
LayerNorm eps 1e-6). Data loading is not part of the step on either side:
both time a fixed batch of random images.

Like for like. The architecture numbers (width, depth, heads, MLP ratio,
predictor size, targets, eps) are read from libijepa's own configuration
(python/ijepa.py, the ctypes binding) with the same settings as
tests/bench.c, and the masks are drawn with libijepa's mask sampler for the
same step indices ijepa_trainer_step uses, so both sides see the very same
context / target sizes (the table shows the mean Kc and Kt of the timed
steps). The masks are drawn in this parent process; each configuration is
then run in a fresh child process (sys.executable) that imports only torch,
so its peak RSS (ru_maxrss) is that configuration's own and holds no
libijepa. "import MiB" is the child's resident size after `import torch`,
before any model exists.

FLOPs: the analytic count of tests/bench.c's step_flops (same conventions),
so the GFLOP/s columns of the two tables compare directly.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The settings of tests/bench.c run_steps (full run).
CASES = [
    ("ijepa vit_small/16", "vit_small",
     "img_size=224 patch_size=16 pred_embed_dim=384 pred_depth=12 batch_size=16"),
    ("ijepa fmnist/128", "vit_tiny",
     "img_size=28 patch_size=2 in_chans=1 embed_dim=128 depth=4 num_heads=4 "
     "patch_init_std=0.5 pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
     "min_keep=4"),
]
NOISE_MAX = 10.0
ARCH_KEYS = ["img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
             "mlp_ratio", "qkv_bias", "ln_eps", "pred_embed_dim", "pred_depth",
             "pred_num_heads", "num_targets", "batch_size", "target_ln_eps", "lr",
             "weight_decay", "ema_start", "ema_end"]


# --- parent: configuration and masks from libijepa --------------------------------

def parse_settings(s):
    out = {}
    for tok in s.split():
        k, v = tok.split("=", 1)
        out[k] = float(v) if "." in v or "e-" in v else int(v)
    return out


def draw_masks(preset, settings, steps):
    """Architecture numbers and the masks of steps 0..steps-1 from libijepa."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    os.environ.setdefault("IJEPA_LIBRARY", os.path.join(ROOT, "lib", "libijepa.so.0"))
    import ijepa
    cfg = ijepa.Config(preset, **parse_settings(settings))
    arch = {}
    for k in ARCH_KEYS:
        try:
            arch[k] = cfg[k]
        except Exception:  # a key this library version does not have
            pass
    if not arch.get("pred_num_heads"):
        arch["pred_num_heads"] = arch["num_heads"]
    sampler = ijepa.MaskSampler(cfg)
    B = arch["batch_size"]
    masks = []
    for step in range(steps):
        ctx, tgt = sampler.sample(B, step)
        masks.append({"ctx": ctx.tolist(), "tgt": tgt.tolist()})
    sampler.close()
    cfg.close()
    return arch, masks


# --- load (the same measure as tests/bench.c) -------------------------------------

def load_mark():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return {"self": ru.ru_utime + ru.ru_stime, "busy": v[0] + v[1] + v[2] + v[5] + v[6],
            "steal": v[7], "total": sum(v)}


def foreign_pct(a, b):
    """% of the machine's CPU used by other processes (and steal) between a and b."""
    if not a or not b or b["total"] <= a["total"]:
        return -1.0
    tck = os.sysconf("SC_CLK_TCK")
    other = (b["busy"] - a["busy"]) - (b["self"] - a["self"]) * tck
    other = max(other, 0) + (b["steal"] - a["steal"])
    return 100.0 * other / (b["total"] - a["total"])


def rss_mib():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2.0 ** 20
    except (OSError, ValueError):
        return -1.0


# --- FLOPs (tests/bench.c model_flops / step_flops) ---------------------------------

def model_flops(T, D, Hd, L, C, p):
    patch = 2.0 * D * C * p * p
    linear = 2.0 * (3.0 * D * D + D * D + 2.0 * D * Hd)
    attn = 2.0 * 2.0 * T * D
    return T * (patch + L * (linear + attn)), T * (patch + 2.0 * L * (linear + attn))


def step_flops(a, B, Kc, Kt):
    N = (a["img_size"] // a["patch_size"]) ** 2
    D, Dp, M = a["embed_dim"], a["pred_embed_dim"], a["num_targets"]
    Hd, Hdp = int(D * a["mlp_ratio"]), int(Dp * a["mlp_ratio"])
    C, p, L, Lp = a["in_chans"], a["patch_size"], a["depth"], a["pred_depth"]
    total = B * model_flops(N, D, Hd, L, C, p)[0]
    f, b = model_flops(Kc, D, Hd, L, C, p)
    total += B * (f + b)
    f, b = model_flops(Kc + Kt, Dp, Hdp, Lp, 1, 1)
    total += M * B * (f + b)
    total += 3.0 * B * Kc * 2.0 * D * Dp
    total += 3.0 * M * B * Kt * 2.0 * Dp * D
    return total


# --- child: the PyTorch step ------------------------------------------------------------

def child(spec_path):
    t_import = time.time()
    import math
    import copy
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import_mib = rss_mib()
    t_import = time.time() - t_import
    with open(spec_path) as f:
        spec = json.load(f)
    a, masks, warm, iters, tries = (spec["arch"], spec["masks"], spec["warm"], spec["iters"],
                                    spec["tries"])
    bf16 = bool(spec.get("bf16"))
    threads = int(os.environ.get("OMP_NUM_THREADS", "2") or 2)
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    # src/models/vision_transformer.py, float32
    def sincos_2d(dim, grid):
        gh = torch.arange(grid, dtype=torch.float64)
        gw, gh = torch.meshgrid(gh, gh, indexing="xy")  # w goes first

        def one(d, pos):
            omega = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2.0))
            out = pos.reshape(-1, 1) * omega.reshape(1, -1)
            return torch.cat([torch.sin(out), torch.cos(out)], dim=1)
        return torch.cat([one(dim // 2, gw), one(dim // 2, gh)], dim=1).float().unsqueeze(0)

    def apply_masks(x, ms):
        out = []
        for m in ms:
            keep = m.unsqueeze(-1).repeat(1, 1, x.size(-1))
            out.append(torch.gather(x, dim=1, index=keep))
        return torch.cat(out, dim=0)

    def repeat_interleave_batch(x, B, repeat):
        N = len(x) // B
        return torch.cat([torch.cat([x[i * B:(i + 1) * B] for _ in range(repeat)], dim=0)
                          for i in range(N)], dim=0)

    class MLP(nn.Module):
        def __init__(self, d, hidden):
            super().__init__()
            self.fc1 = nn.Linear(d, hidden)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(hidden, d)
            self.drop = nn.Dropout(0.0)

        def forward(self, x):
            return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))

    class Attention(nn.Module):
        def __init__(self, d, heads, qkv_bias):
            super().__init__()
            self.num_heads = heads
            self.scale = (d // heads) ** -0.5
            self.qkv = nn.Linear(d, 3 * d, bias=qkv_bias)
            self.attn_drop = nn.Dropout(0.0)
            self.proj = nn.Linear(d, d)
            self.proj_drop = nn.Dropout(0.0)

        def forward(self, x):
            B, N, C = x.shape
            qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
            qkv = qkv.permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            attn = (q @ k.transpose(-2, -1)) * self.scale
            attn = self.attn_drop(attn.softmax(dim=-1))
            x = (attn @ v).transpose(1, 2).reshape(B, N, C)
            return self.proj_drop(self.proj(x)), attn

    class Block(nn.Module):
        def __init__(self, d, heads, ratio, qkv_bias, eps):
            super().__init__()
            self.norm1 = nn.LayerNorm(d, eps=eps)
            self.attn = Attention(d, heads, qkv_bias)
            self.norm2 = nn.LayerNorm(d, eps=eps)
            self.mlp = MLP(d, int(d * ratio))

        def forward(self, x):
            y, _ = self.attn(self.norm1(x))
            x = x + y
            return x + self.mlp(self.norm2(x))

    class PatchEmbed(nn.Module):
        def __init__(self, p, c, d):
            super().__init__()
            self.proj = nn.Conv2d(c, d, kernel_size=p, stride=p)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)

    G = a["img_size"] // a["patch_size"]
    D, Dp, eps = a["embed_dim"], a["pred_embed_dim"], a["ln_eps"]

    class VisionTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = PatchEmbed(a["patch_size"], a["in_chans"], D)
            self.pos_embed = nn.Parameter(sincos_2d(D, G), requires_grad=False)
            self.blocks = nn.ModuleList([Block(D, a["num_heads"], a["mlp_ratio"],
                                               bool(a["qkv_bias"]), eps)
                                         for _ in range(a["depth"])])
            self.norm = nn.LayerNorm(D, eps=eps)

        def forward(self, x, masks=None):
            x = self.patch_embed(x)
            x = x + self.pos_embed
            if masks is not None:
                x = apply_masks(x, masks)
            for blk in self.blocks:
                x = blk(x)
            return self.norm(x)

    class VisionTransformerPredictor(nn.Module):
        def __init__(self):
            super().__init__()
            self.predictor_embed = nn.Linear(D, Dp)
            self.mask_token = nn.Parameter(torch.zeros(1, 1, Dp))
            self.predictor_pos_embed = nn.Parameter(sincos_2d(Dp, G), requires_grad=False)
            self.predictor_blocks = nn.ModuleList([Block(Dp, a["pred_num_heads"], a["mlp_ratio"],
                                                         bool(a["qkv_bias"]), eps)
                                                   for _ in range(a["pred_depth"])])
            self.predictor_norm = nn.LayerNorm(Dp, eps=eps)
            self.predictor_proj = nn.Linear(Dp, D)

        def forward(self, x, masks_x, masks):
            B = len(x) // len(masks_x)
            x = self.predictor_embed(x)
            x_pos_embed = self.predictor_pos_embed.repeat(B, 1, 1)
            x += apply_masks(x_pos_embed, masks_x)
            _, N_ctxt, _ = x.shape
            pos_embs = self.predictor_pos_embed.repeat(B, 1, 1)
            pos_embs = apply_masks(pos_embs, masks)
            pos_embs = repeat_interleave_batch(pos_embs, B, repeat=len(masks_x))
            pred_tokens = self.mask_token.repeat(pos_embs.size(0), pos_embs.size(1), 1)
            pred_tokens += pos_embs
            x = x.repeat(len(masks), 1, 1)
            x = torch.cat([x, pred_tokens], dim=1)
            for blk in self.predictor_blocks:
                x = blk(x)
            x = self.predictor_norm(x)
            x = x[:, N_ctxt:]
            return self.predictor_proj(x)

    def init_weights(m):  # src/helper.py init_model
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    t_create = time.time()
    encoder = VisionTransformer()
    predictor = VisionTransformerPredictor()
    nn.init.trunc_normal_(predictor.mask_token, std=0.02)
    encoder.apply(init_weights)
    predictor.apply(init_weights)
    target_encoder = copy.deepcopy(encoder)
    for p in target_encoder.parameters():
        p.requires_grad = False

    # src/helper.py init_opt: four groups, no weight decay on biases and 1-D tensors
    def groups(model, decay):
        return [p for n, p in model.named_parameters()
                if (("bias" not in n) and (len(p.shape) != 1)) == decay]
    optimizer = torch.optim.AdamW([
        {"params": groups(encoder, True)},
        {"params": groups(predictor, True)},
        {"params": groups(encoder, False), "WD_exclude": True, "weight_decay": 0},
        {"params": groups(predictor, False), "WD_exclude": True, "weight_decay": 0}])
    total_steps = 1000000
    ref_lr, wd0 = a.get("lr", 1e-3), a.get("weight_decay", 0.04)
    ema0, ema1 = a.get("ema_start", 0.996), a.get("ema_end", 1.0)
    enc_params = list(encoder.parameters())
    tgt_params = list(target_encoder.parameters())
    create_ms = (time.time() - t_create) * 1e3

    B, C, S = a["batch_size"], a["in_chans"], a["img_size"]
    imgs = torch.randn(B, C, S, S)
    tmasks = [([torch.tensor(m["ctx"], dtype=torch.int64)],
               [torch.tensor(t, dtype=torch.int64) for t in m["tgt"]]) for m in masks]
    gnorms = []

    def train_step(step):
        masks_enc, masks_pred = tmasks[step]
        # schedulers (WarmupCosineSchedule / CosineWDSchedule shapes; values do not
        # change the work): lr and wd of every group, before the update
        lr = ref_lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))
        wd = wd0 + (0.4 - wd0) * 0.5 * (1.0 - math.cos(math.pi * step / total_steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
            if not group.get("WD_exclude"):
                group["weight_decay"] = wd
        # train.py: torch.cuda.amp.autocast(dtype=torch.bfloat16, enabled=use_bfloat16)
        # around forward_target, forward_context and loss_fn; here the CPU autocast
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            with torch.no_grad():  # forward_target
                h = target_encoder(imgs)
                h = F.layer_norm(h, (h.size(-1),))
                h = apply_masks(h, masks_pred)
                h = repeat_interleave_batch(h, B, repeat=len(masks_enc))
            z = encoder(imgs, masks_enc)  # forward_context
            z = predictor(z, masks_enc, masks_pred)
            loss = F.smooth_l1_loss(z, h)
        loss.backward()
        optimizer.step()
        # src/utils/logging.py grad_logger: norm of every weight gradient
        g = [float(torch.norm(p.grad.data)) for n, p in encoder.named_parameters()
             if p.grad is not None and not (n.endswith(".bias") or len(p.shape) == 1)]
        gnorms.append(sum(g) / max(len(g), 1))
        optimizer.zero_grad()
        with torch.no_grad():  # momentum update of the target encoder
            m = ema0 + step * (ema1 - ema0) / total_steps
            try:
                torch._foreach_mul_(tgt_params, m)
                torch._foreach_add_(tgt_params, enc_params, alpha=1.0 - m)
            except (AttributeError, RuntimeError, TypeError):
                for pq, pk in zip(enc_params, tgt_params):
                    pk.data.mul_(m).add_((1.0 - m) * pq.detach().data)
        return float(loss)

    step = 0
    for _ in range(warm):
        train_step(step)
        step += 1
    best = None
    attempts = 0
    for attempt in range(tries):
        m0 = load_mark()
        ts, kc, kt, flops = [], 0.0, 0.0, 0.0
        first = step
        for _ in range(iters):
            t0 = time.perf_counter()
            loss = train_step(step)
            ts.append(time.perf_counter() - t0)
            nc = len(masks[step]["ctx"][0])
            nt = len(masks[step]["tgt"][0][0])
            kc += nc
            kt += nt
            flops += step_flops(a, B, nc, nt)
            step += 1
        m1 = load_mark()
        noise = foreign_pct(m0, m1)
        attempts += 1
        secs = sum(ts)
        row = {"step_ms": statistics.median(ts) * 1e3, "img_s": B * iters / secs,
               "gflop_s": flops / secs * 1e-9, "kc": kc / iters, "kt": kt / iters,
               "noise": noise, "first_step": first, "loss": loss,
               "loadavg": os.getloadavg()[0], "steps_ms": [t * 1e3 for t in ts]}
        if best is None or (noise >= 0 and noise < best["noise"]):
            best = row
        if noise < 0 or noise <= NOISE_MAX:
            break
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB -> MiB
    peak = max(peak, rss_mib())
    best.update({"attempts": attempts, "peak_mib": peak, "import_mib": import_mib,
                 "import_s": t_import, "create_ms": create_ms, "batch": B,
                 "threads": torch.get_num_threads(),
                 "grad_norm_mean": statistics.mean(gnorms)})
    print("BENCH_TORCH_ROW " + json.dumps(best))
    return 0


# --- parent --------------------------------------------------------------------------------

def torch_info(py):
    code = ("import torch, json; c = torch.__config__.show(); "
            "b = [s.strip() for s in c.replace(',', '\\n').splitlines() "
            "if 'BLAS_INFO' in s or 'MKL' in s or 'CPU capability' in s]; "
            "print(json.dumps({'version': torch.__version__, 'blas': b}))")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=None)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--tries", type=int, default=2)
    ap.add_argument("--precision", choices=("f32", "bf16", "both"), default="both")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    o = ap.parse_args()
    if o.child:
        return child(o.child)
    if o.iters < 1 or o.warm < 0 or o.tries < 1:
        ap.error("--iters >= 1, --warm >= 0, --tries >= 1")
    precisions = ["bf16"] if o.bf16 else (["f32", "bf16"] if o.precision == "both"
                                          else [o.precision])

    info = torch_info(sys.executable)
    if info is None:
        print("bench_torch: PyTorch is not importable by %s; nothing to compare "
              "(install python3-torch, or pip install torch, and set PYTHON_BENCH)"
              % sys.executable)
        return 0
    try:
        import numpy  # noqa: F401  (python/ijepa.py, which draws the masks, needs it)
    except ImportError:
        print("bench_torch: numpy is not importable by %s; python/ijepa.py needs it to draw "
              "libijepa's masks; nothing to compare" % sys.executable)
        return 0
    threads = os.environ.get("OMP_NUM_THREADS", "2") or "2"
    print("\nPyTorch %s (%s), Python %s, %s thread%s (OMP_NUM_THREADS=%s)"
          % (info["version"], sys.executable, sys.version.split()[0], threads,
             "" if threads == "1" else "s", os.environ.get("OMP_NUM_THREADS", "unset")))
    print("torch build: " + "; ".join(info["blas"]))
    print("precision: %s" % " and ".join("bf16 autocast" if p == "bf16" else "float32"
                                         for p in precisions))
    for var in ("LD_LIBRARY_PATH", "LD_PRELOAD", "OPENBLAS_CORETYPE"):
        if os.environ.get(var):
            print("%s=%s" % (var, os.environ[var]))

    header = False
    for label, preset, settings in CASES:
        if o.only and o.only not in label:
            continue
        arch, masks = draw_masks(preset, settings, o.warm + o.tries * o.iters)
        for prec in precisions:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump({"arch": arch, "masks": masks, "warm": o.warm, "iters": o.iters,
                           "tries": o.tries, "bf16": prec == "bf16"}, f)
                spec = f.name
            env = dict(os.environ)
            env["OMP_NUM_THREADS"] = threads
            if not header:
                print("\nwhole I-JEPA training steps in PyTorch (src/train.py step: target "
                      "forward under no_grad +\nlayer_norm, context forward+backward, predictor "
                      "forward+backward, smooth-L1, AdamW,\ngrad norms, EMA; f32: float32; bf16: "
                      "torch.autocast(cpu, bfloat16) as train.py's\nuse_bfloat16; masks = "
                      "libijepa's sampler for the same step indices, so Kc and Kt are\nthose of "
                      "tests/bench.c's first timed window; GFLOP/s = tests/bench.c's analytic\n"
                      "FLOPs / time; peak MiB = ru_maxrss of a fresh process per configuration "
                      "and\nprecision; import MiB = RSS after `import torch`)\n")
                print("%-20s %4s %5s %6s %6s %9s %8s %8s %6s %5s %6s %9s %10s" % (
                    "config", "prec", "batch", "Kc", "Kt", "step ms", "img/s", "GFLOP/s",
                    "noise%", "tries", "load1", "peak MiB", "import MiB"))
                header = True
            try:
                r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", spec],
                                   env=env, capture_output=True, text=True)
            finally:
                os.unlink(spec)
            rows = [ln for ln in r.stdout.splitlines() if ln.startswith("BENCH_TORCH_ROW ")]
            if r.returncode != 0 or not rows:
                sys.stderr.write(r.stdout + r.stderr)
                print("bench_torch: %s (%s) failed (exit %d)" % (label, prec, r.returncode))
                return 1
            x = json.loads(rows[-1][len("BENCH_TORCH_ROW "):])
            noise = "%.1f" % x["noise"] if x["noise"] >= 0 else "?"
            print("%-20s %4s %5d %6.1f %6.1f %9.1f %8.2f %8.1f %6s %5d %6.2f %9.1f %10.1f" % (
                label, prec, x["batch"], x["kc"], x["kt"], x["step_ms"], x["img_s"],
                x["gflop_s"], noise, x["attempts"], x["loadavg"], x["peak_mib"],
                x["import_mib"]))
            print("  (steps %d..%d ms: %s; loss %.4f; create %.0f ms)" % (
                x["first_step"], x["first_step"] + len(x["steps_ms"]) - 1,
                " ".join("%.1f" % t for t in x["steps_ms"]), x["loss"], x["create_ms"]))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
