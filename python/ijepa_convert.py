#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Convert between official I-JEPA, Hugging Face and libijepa checkpoints.

    ijepa_convert.py to-ijepa IN.pth.tar OUT.safetensors [--num-heads H]
                     [--pred-num-heads H] [--set key=value]... [--trust-pickle]
    ijepa_convert.py to-official IN.safetensors OUT.pth.tar
    ijepa_convert.py to-hf IN.safetensors DIR [--group G]
    ijepa_convert.py from-hf DIR OUT.safetensors [--group G] [--set key=value]...
    ijepa_convert.py info FILE.safetensors [--tensors]

Every safetensors file is read and written by libijepa itself, through the
binding (python/ijepa.py: ijepa.Checkpoint, ijepa.CheckpointWriter), so one
parser decides what is valid: a file the library refuses (duplicate keys, a
checksum mismatch, a bad configuration line, non-finite values, 9-D shapes,
...) is refused here too. Errors are one line on stderr and exit status 1.

Official checkpoints (facebookresearch/ijepa src/train.py save_checkpoint) are
torch.save dicts with the state dicts 'encoder', 'predictor' and
'target_encoder' (keys prefixed 'module.' by DDP), the AdamW state 'opt' and
'scaler', 'epoch', 'loss', 'batch_size', 'world_size', 'lr'. libijepa
checkpoints are safetensors files (docs/checkpoint.md): float32 tensors named
encoder.<official name>, predictor.<name>, target_encoder.<name>,
optimizer.exp_avg[_sq].{encoder,predictor}.<name>, and string metadata
(format, ijepa.format_version, ijepa.library_version, ijepa.config,
ijepa.step, ijepa.seed, ijepa.checksum, ijepa.metadata_checksum).

The architecture is read from the tensor shapes (embed_dim, depth, patch
size, in_chans, img_size from pos_embed, mlp_ratio, qkv_bias, pred_embed_dim,
pred_depth). Head counts are not in the weights: --num-heads (default: the
official model of that width: vit_tiny 192/3, vit_small 384/6, vit_base
768/12, vit_large 1024/16, vit_huge 1280/16, vit_giant 1408/16) and
--pred-num-heads (default: num_heads, as the official predictor).

Everything of the official file that is not a tensor libijepa has (epoch,
loss, batch size, world size, lr, scaler, the AdamW param_groups and step
values) travels in the metadata key "ijepa.official" (a Python literal), so
official -> libijepa -> official gives back the same structure with
bit-identical tensors. Tensors must be float32 (released checkpoints are).

to-hf writes one encoder (the target encoder by default) as a Hugging Face
transformers IJepaModel directory: config.json (layer_norm_eps is the
model's, 1e-6 for official weights, not transformers' default 1e-12),
model.safetensors (float32, the state-dict names transformers' checkpoints
use, which transformers 4.x loads as they are and 5.x renames on load) and
preprocessor_config.json (the normalisation of the checkpoint's data_*
keys). from-hf reads such a directory (either naming; F32, F16, BF16 or F64
tensors, converted to float32 by the library) into a libijepa checkpoint
whose group (default target_encoder) ijepa-extract and ijepa-features use.

Needs numpy and libijepa; torch only to read or write .pth.tar files.
"""
import argparse
import ast
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np

FORMAT_VERSION = "1"
OFFICIAL_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16, 1408: 16}
MODEL_KEYS = ("encoder", "predictor", "target_encoder")
FROZEN = ("pos_embed", "predictor_pos_embed")


class ConvertError(ValueError):
    pass


def _torch():
    """PyTorch, which reading and writing official .pth.tar files needs; a
    ConvertError saying how to install it when it is missing."""
    try:
        import torch
    except ImportError as e:
        raise ConvertError(
            "official .pth.tar checkpoints (to-ijepa, to-official) need PyTorch, which this "
            "Python cannot import (%s): pip install 'libijepa[convert]' (the binding's "
            "convert extra) or pip install torch; on Debian, apt-get install python3-torch"
            % e) from None
    return torch


# --- safetensors, through libijepa ---------------------------------------------------

def _ijepa():
    import ijepa
    return ijepa


def _library_error(e):
    """A ConvertError with the one-line message of an ijepa.IjepaError."""
    return ConvertError(str(e))


def write_safetensors(path, tensors, metadata=None):
    """Write float32 tensors (name -> array, in order) and string metadata
    with the library's writer. Metadata with "format": "libijepa" makes a
    libijepa checkpoint: its configuration and step come from the metadata's
    ijepa.config and ijepa.step (the library writes those keys and the
    checksums itself; other keys, e.g. ijepa.official, are kept). Otherwise
    the file is a plain safetensors file with the given metadata and the
    library's ijepa.checksum."""
    ijepa = _ijepa()
    meta = OrderedDict(metadata or {})
    for k, v in meta.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ConvertError("metadata must map strings to strings (%r)" % (k,))
    arrays = []
    for name, a in tensors.items():
        a = np.asarray(a)
        if a.dtype != np.float32:
            raise ConvertError("tensor %s is %s, only float32 is written" % (name, a.dtype))
        arrays.append((name, np.ascontiguousarray(a)))
    libijepa = meta.get("format") == "libijepa"
    cfg = None
    try:
        if libijepa:
            cfg = ijepa.Config.from_text(meta.get("ijepa.config", ""))
            step = meta.get("ijepa.step", "0")
            if not step.isdigit():
                raise ConvertError("ijepa.step %r is not a decimal integer" % step)
            w = ijepa.CheckpointWriter(cfg, int(step))
        else:
            w = ijepa.CheckpointWriter()
        with w:
            for k, v in meta.items():
                if libijepa and (k == "format" or k.startswith("ijepa.") and k != "ijepa.official"):
                    continue  # the library writes its own keys
                if k == "ijepa.checksum":
                    continue
                w.set_metadata(k, v)
            for name, a in arrays:
                w.add(name, a)
            w.save(path)
    except ijepa.IjepaError as e:
        raise _library_error(e)
    finally:
        if cfg is not None:
            cfg.close()


def read_safetensors(path):
    """(OrderedDict name -> float32 array, metadata dict) of a safetensors
    file, read and validated by libijepa (layout, dtypes, checksums,
    configuration; F16, BF16 and F64 tensors converted to float32, every
    value finite)."""
    ijepa = _ijepa()
    try:
        with ijepa.Checkpoint(path) as ck:
            return ck.read_all(), dict(ck.metadata())
    except ijepa.IjepaError as e:
        raise _library_error(e)


# --- architecture from the shapes ---------------------------------------------------

def _count_blocks(sd, prefix):
    n = 0
    while "%s%d.norm1.weight" % (prefix, n) in sd:
        n += 1
    return n


def infer_architecture(encoder, predictor=None, num_heads=None, pred_num_heads=None):
    """Config settings (name -> value) of an official encoder (and predictor)
    state dict without 'module.' prefixes."""
    try:
        pos = encoder["pos_embed"].shape
        pw = encoder["patch_embed.proj.weight"].shape
    except KeyError as e:
        raise ConvertError("encoder state dict lacks %s" % e)
    _, N, D = pos
    G = int(round(math.sqrt(N)))
    if G * G != N:
        raise ConvertError("pos_embed has %d tokens, not a square grid" % N)
    D_out, C, p, p2 = pw
    if D_out != D or p != p2:
        raise ConvertError("patch_embed.proj.weight %s does not match pos_embed %s"
                           % (tuple(pw), tuple(pos)))
    depth = _count_blocks(encoder, "blocks.")
    if depth == 0:
        raise ConvertError("encoder has no blocks.0.*")
    hidden = encoder["blocks.0.mlp.fc1.weight"].shape[0]
    ratio = hidden / D
    while int(D * ratio) < hidden:  # as the library computes it: (int)(D * ratio)
        ratio = math.nextafter(ratio, math.inf)
    if num_heads is None:
        if D not in OFFICIAL_HEADS:
            raise ConvertError("embed_dim %d is not an official model width: pass --num-heads" % D)
        num_heads = OFFICIAL_HEADS[D]
    s = OrderedDict([
        ("img_size", G * p), ("patch_size", p), ("in_chans", C), ("embed_dim", D),
        ("depth", depth), ("num_heads", num_heads), ("mlp_ratio", ratio),
        ("qkv_bias", int("blocks.0.attn.qkv.bias" in encoder)),
    ])
    if predictor is not None:
        pe = predictor["predictor_embed.weight"].shape
        Dp = pe[0]
        if pe[1] != D:
            raise ConvertError("predictor_embed.weight %s does not take embed_dim %d"
                               % (tuple(pe), D))
        pdepth = _count_blocks(predictor, "predictor_blocks.")
        ph = predictor["predictor_blocks.0.mlp.fc1.weight"].shape[0]
        if ph != 4 * Dp:
            raise ConvertError("predictor MLP width %d is not 4 x %d (the official "
                               "vit_predictor; libijepa supports only that)" % (ph, Dp))
        s["pred_embed_dim"] = Dp
        s["pred_depth"] = pdepth
        s["pred_num_heads"] = pred_num_heads if pred_num_heads is not None else num_heads
    return s


# --- official -> libijepa ----------------------------------------------------------------

def _strip(sd):
    out = OrderedDict()
    for k, v in sd.items():
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def _to_f32(name, t):
    torch = _torch()
    if not isinstance(t, torch.Tensor):
        raise ConvertError("%s is not a tensor" % name)
    if t.dtype != torch.float32:
        raise ConvertError("%s is %s: only float32 checkpoints are converted" % (name, t.dtype))
    return t.detach().cpu().contiguous().numpy()


def _official_param_order(enc, pred):
    """Names in the order of the official AdamW param_groups (helper.init_opt):
    decayed encoder, decayed predictor, then no-decay encoder, predictor."""
    def decayed(n, v):
        return "bias" not in n and len(v.shape) != 1
    groups = [[("encoder", n) for n, v in enc.items() if decayed(n, v)],
              [("predictor", n) for n, v in pred.items() if decayed(n, v)],
              [("encoder", n) for n, v in enc.items() if not decayed(n, v)],
              [("predictor", n) for n, v in pred.items() if not decayed(n, v)]]
    return groups


def _literal(v, what):
    """repr(v) that ast.literal_eval gives back equal, else ConvertError."""
    text = repr(v)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        back = _Unequal
    if back != v or type(back) is not type(v):
        raise ConvertError("cannot carry %s (%s) through the metadata" % (what, type(v).__name__))
    return v


class _Unequal:
    pass


def official_to_ijepa(ckpt, num_heads=None, pred_num_heads=None, settings=None):
    """(tensors OrderedDict, metadata dict) of a libijepa checkpoint from an
    official checkpoint dict (as torch.load returns it)."""
    torch = _torch()
    import ijepa
    if "encoder" not in ckpt:
        raise ConvertError("not an I-JEPA checkpoint: no 'encoder' state dict")
    models = OrderedDict((k, _strip(ckpt[k])) for k in MODEL_KEYS if ckpt.get(k) is not None)
    arch = infer_architecture(models["encoder"], models.get("predictor"), num_heads,
                              pred_num_heads)
    if "target_encoder" in models:
        a = [(k, tuple(v.shape)) for k, v in models["target_encoder"].items()]
        b = [(k, tuple(v.shape)) for k, v in models["encoder"].items()]
        if a != b:
            raise ConvertError("target_encoder and encoder have different tensors")
    cfg = ijepa.Config()
    cfg.update(arch)
    cfg["mask_mode"] = ijepa.MASK_OFFICIAL
    if isinstance(ckpt.get("batch_size"), int):
        cfg["batch_size"] = ckpt["batch_size"]
    if isinstance(ckpt.get("lr"), float):
        cfg["lr"] = ckpt["lr"]
    cfg.update(settings or {})

    tensors = OrderedDict()
    for k, sd in models.items():
        for n, t in sd.items():
            tensors["%s.%s" % (k, n)] = _to_f32("%s.%s" % (k, n), t)

    extras = {}
    extras["keys"] = list(ckpt.keys())
    extras["values"] = {k: _literal(v, k) for k, v in ckpt.items()
                        if k not in MODEL_KEYS and k != "opt"}
    for k in MODEL_KEYS:
        if k in ckpt and ckpt[k] is not None:
            extras.setdefault("module_prefix", {})[k] = all(
                n.startswith("module.") for n in ckpt[k])
    step = 0
    opt = ckpt.get("opt")
    if opt is not None:
        if "predictor" not in models:
            raise ConvertError("'opt' without a 'predictor' state dict")
        groups = _official_param_order(models["encoder"], models["predictor"])
        pg = opt["param_groups"]
        if len(pg) != 4 or [len(g["params"]) for g in pg] != [len(g) for g in groups]:
            raise ConvertError("opt has param groups of sizes %s, the official layout "
                               "gives %s" % ([len(g["params"]) for g in pg],
                                             [len(g) for g in groups]))
        index = {}
        for g, names in zip(pg, groups):
            for i, name in zip(g["params"], names):
                index[i] = name
        moments = {"exp_avg": {}, "exp_avg_sq": {}}
        steps = {}
        step_kind = None
        for i, st in opt["state"].items():
            if i not in index:
                raise ConvertError("opt state for unknown parameter index %r" % (i,))
            extra = set(st) - {"step", "exp_avg", "exp_avg_sq"}
            if extra:
                raise ConvertError("opt state has %s: only AdamW without amsgrad converts"
                                   % sorted(extra))
            s = st["step"]
            if isinstance(s, torch.Tensor):
                step_kind = "tensor:" + str(s.dtype).replace("torch.", "")
                s = s.item()
            else:
                step_kind = type(s).__name__
            steps[i] = s
            for m in moments:
                moments[m][index[i]] = _to_f32("opt state %r %s" % (i, m), st[m])
        extras["opt"] = {
            "param_groups": [_literal(dict(g), "opt param_groups") for g in pg],
            "steps": _literal(steps, "opt steps"),
            "step_kind": step_kind,
            "state_order": list(opt["state"].keys()),
        }
        if steps:
            step = int(max(steps.values()))
        for m in ("exp_avg", "exp_avg_sq"):
            for k in ("encoder", "predictor"):
                for n, v in models[k].items():
                    a = moments[m].get((k, n))
                    if a is None:  # frozen (pos_embed) or never updated: zero
                        a = np.zeros(tuple(v.shape), np.float32)
                    tensors["optimizer.%s.%s.%s" % (m, k, n)] = a
    meta = OrderedDict([
        ("format", "libijepa"),
        ("ijepa.format_version", FORMAT_VERSION),
        ("ijepa.library_version", ijepa.version()),
        ("ijepa.config", cfg.to_text()),
        ("ijepa.step", str(step)),
        ("ijepa.seed", str(cfg["seed"])),
        ("ijepa.official", repr(extras)),
    ])
    cfg.close()
    return tensors, meta


# --- libijepa -> official -------------------------------------------------------------------

def ijepa_to_official(tensors, meta):
    """An official checkpoint dict (torch tensors) from a libijepa checkpoint."""
    torch = _torch()
    extras = {}
    if "ijepa.official" in meta:
        try:
            extras = ast.literal_eval(meta["ijepa.official"])
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ConvertError("ijepa.official is not a Python literal")
        if not isinstance(extras, dict):
            raise ConvertError("ijepa.official is not a dict")
    cfg = {}
    if "ijepa.config" in meta:  # the library has parsed and checked it
        with _ijepa().Config.from_text(meta["ijepa.config"]) as c:
            cfg = c.to_dict()
    models = OrderedDict()
    for k in MODEL_KEYS:
        pre = k + "."
        sd = OrderedDict()
        prefix = "module." if extras.get("module_prefix", {}).get(k, True) else ""
        for n, a in tensors.items():
            if n.startswith(pre):
                sd[prefix + n[len(pre):]] = torch.from_numpy(np.array(a, dtype=np.float32))
        if sd:
            models[k] = sd
    if "encoder" not in models:
        raise ConvertError("the checkpoint has no encoder.* tensors")
    out = OrderedDict()
    opt = None
    if any(n.startswith("optimizer.") for n in tensors) and "predictor" in models:
        opt = _build_opt(tensors, models, extras.get("opt"), meta, cfg)
    keys = extras.get("keys") or ["encoder", "predictor", "target_encoder", "opt", "scaler",
                                  "epoch", "loss", "batch_size", "world_size", "lr"]
    values = extras.get("values") or {
        "scaler": None, "epoch": 0, "loss": 0.0,
        "batch_size": int(cfg.get("batch_size", 16)), "world_size": 1,
        "lr": float(cfg.get("lr", 1e-3))}
    for k in keys:
        if k in models:
            out[k] = models[k]
        elif k == "opt":
            if opt is not None:
                out[k] = opt
        elif k in values:
            out[k] = values[k]
    for k in MODEL_KEYS:  # model groups the extras did not list
        if k in models and k not in out:
            out[k] = models[k]
    return out


def _build_opt(tensors, models, extra, meta, cfg):
    torch = _torch()
    strip = lambda n: n[len("module."):] if n.startswith("module.") else n  # noqa: E731
    enc = OrderedDict((strip(n), v) for n, v in models["encoder"].items())
    pred = OrderedDict((strip(n), v) for n, v in models["predictor"].items())
    groups = _official_param_order(enc, pred)
    if extra:
        pg = [dict(g) for g in extra["param_groups"]]
        steps = extra["steps"]
        kind = extra["step_kind"]
        order = extra["state_order"]
    else:
        step = float(meta.get("ijepa.step", "0"))
        lr = float(cfg.get("lr", 1e-3))
        base = dict(lr=lr, betas=(float(cfg.get("adam_beta1", 0.9)),
                                  float(cfg.get("adam_beta2", 0.999))),
                    eps=float(cfg.get("adam_eps", 1e-8)), amsgrad=False, foreach=None,
                    maximize=False, capturable=False)
        wd = float(cfg.get("weight_decay", 0.04))
        pg, idx = [], 0
        for gi, names in enumerate(groups):
            g = dict(base, params=list(range(idx, idx + len(names))))
            g["weight_decay"] = wd if gi < 2 else 0
            if gi >= 2:
                g["WD_exclude"] = True
            pg.append(g)
            idx += len(names)
        steps, order, kind = {}, [], "tensor:float32"
        for g, names in zip(pg, groups):
            for i, (k, n) in zip(g["params"], names):
                if n not in FROZEN:
                    steps[i] = step
                    order.append(i)
    index = {}
    for g, names in zip(pg, groups):
        for i, name in zip(g["params"], names):
            index[i] = name
    state = OrderedDict()
    for i in order:
        k, n = index[i]
        s = steps[i]
        if kind.startswith("tensor:"):
            s = torch.tensor(s, dtype=getattr(torch, kind[len("tensor:"):]))
        elif kind == "int":
            s = int(s)
        st = OrderedDict()
        st["step"] = s
        for m in ("exp_avg", "exp_avg_sq"):
            st[m] = torch.from_numpy(np.array(tensors["optimizer.%s.%s.%s" % (m, k, n)],
                                              dtype=np.float32))
        state[i] = st
    return {"state": state, "param_groups": pg}


# --- files ----------------------------------------------------------------------------------

def load_official(path, trust_pickle=False):
    """torch.load a .pth.tar. First with weights_only=True (no code runs);
    PyTorch 1.13's restricted unpickler rejects the plain floats of official
    checkpoints ('loss', 'lr'), so then only with trust_pickle, which runs
    the file's pickle: use it only for files you trust."""
    import pickle
    torch = _torch()
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, TypeError) as e:
        if not trust_pickle:
            raise ConvertError("%s: torch.load(weights_only=True) refuses it (%s); if you "
                               "trust the file, allow a full unpickling with --trust-pickle"
                               % (path, _refusal(e)))
    return torch.load(path, map_location="cpu")


def _refusal(e):
    """Why torch's weights_only loader refused a file, in one short phrase:
    the object it would not unpickle, or the message's first words (torch's
    own message is several paragraphs of advice)."""
    import re
    text = " ".join(str(e).split())
    m = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if m:
        return "it holds a %s, which a weights-only load does not allow" % m.group(1)
    m = re.search(r"WeightsUnpickler error: (.*)", text)  # PyTorch 1.13
    if m:
        text = m.group(1)
    return text if len(text) <= 160 else text[:157].rsplit(" ", 1)[0] + " ..."


def convert_to_ijepa(src, dst, num_heads=None, pred_num_heads=None, settings=None,
                     trust_pickle=False):
    """Official .pth.tar -> libijepa .safetensors; returns the metadata."""
    tensors, meta = official_to_ijepa(load_official(src, trust_pickle), num_heads,
                                      pred_num_heads, settings)
    write_safetensors(dst, tensors, meta)
    return meta


def convert_to_official(src, dst):
    tensors, meta = read_safetensors(src)  # validated before anything else
    torch = _torch()
    try:
        ck = ijepa_to_official(tensors, meta)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise ConvertError("%s: its ijepa.official metadata does not describe an official "
                           "checkpoint (%s: %s)" % (src, type(e).__name__, e))
    torch.save(ck, dst)
    return ck


# --- Hugging Face transformers ---------------------------------------------------------

# libijepa block tensor -> transformers' name (as in the published
# checkpoints, e.g. facebook/ijepa_vith14_1k; transformers 5 renames these
# on load to layers.<i>.attention.q_proj..., which from_hf also reads)
HF_BLOCK = [("norm1", "layernorm_before"), ("attn.proj", "attention.output.dense"),
            ("norm2", "layernorm_after"), ("mlp.fc1", "intermediate.dense"),
            ("mlp.fc2", "output.dense")]
HF_NEW_NAMES = [(".attention.attention.query.", ".attention.q_proj."),
                (".attention.attention.key.", ".attention.k_proj."),
                (".attention.attention.value.", ".attention.v_proj."),
                (".attention.output.dense.", ".attention.o_proj."),
                (".intermediate.dense.", ".mlp.fc1."), (".output.dense.", ".mlp.fc2.")]


def encoder_to_hf(sd, depth):
    """transformers' IJepaModel state dict from an official encoder state
    dict (no prefix): qkv split into query, key, value."""
    out = OrderedDict()
    out["embeddings.position_embeddings"] = sd["pos_embed"]
    out["embeddings.patch_embeddings.projection.weight"] = sd["patch_embed.proj.weight"]
    out["embeddings.patch_embeddings.projection.bias"] = sd["patch_embed.proj.bias"]
    for i in range(depth):
        b, h = "blocks.%d." % i, "encoder.layer.%d." % i
        D = sd[b + "attn.qkv.weight"].shape[1]
        for j, part in enumerate(("query", "key", "value")):
            rows = slice(j * D, (j + 1) * D)
            out[h + "attention.attention.%s.weight" % part] = sd[b + "attn.qkv.weight"][rows]
            if b + "attn.qkv.bias" in sd:
                out[h + "attention.attention.%s.bias" % part] = sd[b + "attn.qkv.bias"][rows]
        for ours, theirs in HF_BLOCK:
            for kind in ("weight", "bias"):
                out[h + theirs + "." + kind] = sd[b + ours + "." + kind]
    out["layernorm.weight"] = sd["norm.weight"]
    out["layernorm.bias"] = sd["norm.bias"]
    return OrderedDict((k, np.ascontiguousarray(v)) for k, v in out.items())


def hf_to_encoder(hf, depth):
    """The official encoder state dict from transformers' names (either
    form, with or without the "ijepa." prefix of IJepaForImageClassification;
    a pooler or classifier head is left out, any other tensor is an error)."""
    sd = OrderedDict()
    for k, v in hf.items():
        k = k[len("ijepa."):] if k.startswith("ijepa.") else k
        if k.startswith("layers."):
            k = "encoder.layer." + k[len("layers."):]
            for old, new in HF_NEW_NAMES:
                k = k.replace(new, old)
        sd[k] = v
    used = set()

    def need(k):
        if k not in sd:
            raise ConvertError("the Hugging Face checkpoint has no tensor %s" % k)
        used.add(k)
        return sd[k]
    out = OrderedDict()
    out["pos_embed"] = need("embeddings.position_embeddings")
    out["patch_embed.proj.weight"] = need("embeddings.patch_embeddings.projection.weight")
    out["patch_embed.proj.bias"] = need("embeddings.patch_embeddings.projection.bias")
    for i in range(depth):
        b, h = "blocks.%d." % i, "encoder.layer.%d." % i
        out[b + "norm1.weight"] = need(h + "layernorm_before.weight")
        out[b + "norm1.bias"] = need(h + "layernorm_before.bias")
        out[b + "attn.qkv.weight"] = np.concatenate(
            [need(h + "attention.attention.%s.weight" % p) for p in ("query", "key", "value")])
        if h + "attention.attention.query.bias" in sd:
            out[b + "attn.qkv.bias"] = np.concatenate(
                [need(h + "attention.attention.%s.bias" % p) for p in ("query", "key", "value")])
        for ours, theirs in HF_BLOCK[1:]:
            for kind in ("weight", "bias"):
                out[b + ours + "." + kind] = need(h + theirs + "." + kind)
    out["norm.weight"] = need("layernorm.weight")
    out["norm.bias"] = need("layernorm.bias")
    extra = [k for k in sd if k not in used and not k.startswith(("pooler.", "classifier.",
                                                                     "embeddings.mask_token"))]
    if extra:
        raise ConvertError("the Hugging Face checkpoint has tensors an IJepaModel of %d layers "
                           "does not: %s" % (depth, ", ".join(extra[:5])))
    return out


def to_hf(src, out_dir, group=None):
    """A transformers IJepaModel directory from group (default
    target_encoder, else encoder) of the libijepa checkpoint src."""
    ijepa = _ijepa()
    try:
        with ijepa.Checkpoint(src) as ck:
            names = [n for n, _ in ck.tensors()]
            if group is None:
                group = "target_encoder" if any(n.startswith("target_encoder.") for n in names) \
                    else "encoder"
            cfg = ck.config
            try:
                ck.check_encoder(group, cfg)
                sd = OrderedDict((n[len(group) + 1:], ck.read(n)) for n in names
                                 if n.startswith(group + "."))
                c = cfg.to_dict()
            finally:
                cfg.close()
    except ijepa.IjepaError as e:
        raise _library_error(e)
    D, depth = c["embed_dim"], c["depth"]
    hidden = int(D * c["mlp_ratio"])
    config = OrderedDict([
        ("architectures", ["IJepaModel"]), ("model_type", "ijepa"),
        ("hidden_size", D), ("num_hidden_layers", depth),
        ("num_attention_heads", c["num_heads"]), ("intermediate_size", hidden),
        ("hidden_act", "gelu"),  # exact (erf) GELU, as libijepa and the official code
        ("hidden_dropout_prob", 0.0), ("attention_probs_dropout_prob", 0.0),
        ("initializer_range", c["init_std"]), ("layer_norm_eps", c["ln_eps"]),
        ("image_size", c["img_size"]), ("patch_size", c["patch_size"]),
        ("num_channels", c["in_chans"]), ("qkv_bias", bool(c["qkv_bias"])),
    ])
    C = c["in_chans"]
    mean = [c["data_mean_r"], c["data_mean_g"], c["data_mean_b"]][:C] if C == 3 \
        else [c["data_mean_r"]] * C
    std = [c["data_std_r"], c["data_std_g"], c["data_std_b"]][:C] if C == 3 \
        else [c["data_std_r"]] * C
    processor = OrderedDict([
        ("image_processor_type", "ViTImageProcessor"), ("do_resize", True),
        ("size", {"height": c["img_size"], "width": c["img_size"]}), ("resample", 2),
        ("do_rescale", True), ("rescale_factor", 1 / 255), ("do_normalize", True),
        ("image_mean", mean), ("image_std", std),
    ])
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), encoder_to_hf(sd, depth),
                      {"format": "pt"})
    for name, obj in (("config.json", config), ("preprocessor_config.json", processor)):
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, os.path.join(out_dir, name))
    return config


def from_hf(in_dir, dst, group="target_encoder", settings=None):
    """A libijepa checkpoint holding group from a transformers IJepaModel
    directory (config.json, model.safetensors)."""
    ijepa = _ijepa()
    path = os.path.join(in_dir, "config.json")
    try:
        with open(path) as f:
            hc = json.load(f)
    except ValueError as e:
        raise ConvertError("%s: not JSON: %s" % (path, e))
    if not isinstance(hc, dict) or hc.get("model_type") != "ijepa":
        raise ConvertError("%s: model_type is %r, not 'ijepa'" % (path, hc.get("model_type")
                                                                   if isinstance(hc, dict) else hc))
    if hc.get("hidden_act", "gelu") != "gelu":
        raise ConvertError("%s: hidden_act %r: libijepa computes the exact GELU ('gelu') only"
                           % (path, hc.get("hidden_act")))
    try:
        D, depth = int(hc["hidden_size"]), int(hc["num_hidden_layers"])
        hidden = int(hc["intermediate_size"])
        img, patch = hc.get("image_size", 224), hc.get("patch_size", 16)
        if isinstance(img, (list, tuple)) or isinstance(patch, (list, tuple)):
            if len(set(img)) != 1 or len(set(patch)) != 1:
                raise ConvertError("%s: non-square images or patches" % path)
            img, patch = img[0], patch[0]
        ratio = hidden / D
        while int(D * ratio) < hidden:
            ratio = math.nextafter(ratio, math.inf)
        settings = OrderedDict([
            ("img_size", int(img)), ("patch_size", int(patch)),
            ("in_chans", int(hc.get("num_channels", 3))), ("embed_dim", D), ("depth", depth),
            ("num_heads", int(hc["num_attention_heads"])), ("mlp_ratio", ratio),
            ("qkv_bias", int(bool(hc.get("qkv_bias", True)))),
            ("ln_eps", float(hc.get("layer_norm_eps", 1e-12))),
            ("init_std", float(hc.get("initializer_range", 0.02))),
        ] + list((settings or {}).items()))
    except (KeyError, TypeError, ValueError) as e:
        raise ConvertError("%s: %s is missing or not a number" % (path, e))
    model = os.path.join(in_dir, "model.safetensors")
    if not os.path.exists(model) and os.path.exists(model + ".index.json"):
        raise ConvertError("%s: sharded checkpoints are not supported" % in_dir)
    hf, _ = read_safetensors(model)
    sd = hf_to_encoder(hf, depth)
    try:
        with ijepa.Config(**settings) as cfg:
            cfg["trainable"] = 0
            with ijepa.Context() as ctx, ijepa.Encoder(ctx, cfg) as enc:
                enc.load_state_dict(sd)
                cfg["trainable"] = 1
                with ijepa.CheckpointWriter(cfg, 0) as w:
                    w.add_model(group, enc)
                    w.set_metadata("ijepa.source", "transformers IJepaModel")
                    w.save(dst)
    except ijepa.IjepaError as e:
        raise _library_error(e)
    except (KeyError, ValueError) as e:
        raise ConvertError("%s: %s" % (model, e))
    return settings


def _settings(items):
    out = OrderedDict()
    for s in items:
        k, eq, v = s.partition("=")
        if not eq:
            raise ConvertError("--set %r is not key=value" % s)
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = float(v)
    return out


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-ijepa", help="official .pth.tar -> libijepa .safetensors")
    a.add_argument("src")
    a.add_argument("dst")
    a.add_argument("--num-heads", type=int)
    a.add_argument("--pred-num-heads", type=int)
    a.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a.add_argument("--trust-pickle", action="store_true",
                   help="allow torch.load to unpickle what weights_only=True refuses "
                        "(runs code from the file: only for trusted files)")
    b = sub.add_parser("to-official", help="libijepa .safetensors -> official .pth.tar")
    b.add_argument("src")
    b.add_argument("dst")
    h = sub.add_parser("to-hf", help="libijepa .safetensors -> transformers IJepaModel directory")
    h.add_argument("src")
    h.add_argument("dst", metavar="DIR")
    h.add_argument("--group", help="the encoder group (default target_encoder, else encoder)")
    f = sub.add_parser("from-hf", help="transformers IJepaModel directory -> libijepa .safetensors")
    f.add_argument("src", metavar="DIR")
    f.add_argument("dst")
    f.add_argument("--group", default="target_encoder")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    c = sub.add_parser("info", help="metadata and tensor groups of a safetensors file "
                                    "(every value is read and checked)")
    c.add_argument("src")
    c.add_argument("--tensors", action="store_true", help="list every tensor: name, dtype, "
                                                          "shape")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "to-ijepa":
            meta = convert_to_ijepa(args.src, args.dst, args.num_heads, args.pred_num_heads,
                                    _settings(args.set), args.trust_pickle)
            print("wrote %s: step %s" % (args.dst, meta["ijepa.step"]))
        elif args.cmd == "to-official":
            ck = convert_to_official(args.src, args.dst)
            print("wrote %s: %s" % (args.dst, ", ".join(ck.keys())))
        elif args.cmd == "to-hf":
            hc = to_hf(args.src, args.dst, args.group)
            print("wrote %s: IJepaModel, %d layers of width %d" % (
                args.dst, hc["num_hidden_layers"], hc["hidden_size"]))
        elif args.cmd == "from-hf":
            from_hf(args.src, args.dst, args.group, _settings(args.set))
            print("wrote %s: group %s" % (args.dst, args.group))
        else:
            info(args.src, args.tensors)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        msg = " ".join(str(e).split()) or type(e).__name__
        if not isinstance(e, (ConvertError, OSError)) and type(e).__name__ != "IjepaError":
            msg = "%s: %s" % (type(e).__name__, msg)
        print("ijepa_convert: %s" % msg[:2000], file=sys.stderr)
        return 1
    return 0


def info(src, list_tensors=False):
    """The file's metadata (long values by their size), its tensors by group
    (the name before the first '.') or one by one, after reading every value
    (each converts to float32 and is finite, or the file is refused)."""
    ijepa = _ijepa()
    try:
        with ijepa.Checkpoint(src) as ck:
            meta = ck.metadata()
            tensors = ck.tensors()
            dtypes = ck.dtypes()
            for name, _ in tensors:
                ck.read(name)
    except ijepa.IjepaError as e:
        raise _library_error(e)
    for k in sorted(meta):
        v = meta[k]
        if "\n" in v or len(v) > 72:
            v = "(%d lines, %d bytes)" % (v.count("\n") + 1, len(v.encode()))
        print("%s: %s" % (k, v))
    groups = OrderedDict()
    for name, shape in tensors:
        g = groups.setdefault(name.split(".", 1)[0], [0, 0])
        g[0] += 1
        g[1] += int(np.prod(shape, dtype=np.int64))
        if list_tensors:
            print("%s %s %s" % (name, dtypes[name], list(shape)))
    if not list_tensors:
        for g, (count, values) in groups.items():
            print("%s: %d tensors, %d values" % (g, count, values))
    n = sum(values for _, values in groups.values())
    kinds = sorted(set(dtypes.values()))
    print("%d tensors, %d values (%s)" % (len(tensors), n, ", ".join(kinds) or "no dtype"))


if __name__ == "__main__":
    sys.exit(main())
