#!/usr/bin/python3
"""Convert between official I-JEPA checkpoints and libijepa checkpoints.

    ijepa_convert.py to-ijepa IN.pth.tar OUT.safetensors [--num-heads H]
                     [--pred-num-heads H] [--set key=value]... [--trust-pickle]
    ijepa_convert.py to-official IN.safetensors OUT.pth.tar
    ijepa_convert.py info FILE.safetensors

Official checkpoints (facebookresearch/ijepa src/train.py save_checkpoint) are
torch.save dicts with the state dicts 'encoder', 'predictor' and
'target_encoder' (keys prefixed 'module.' by DDP), the AdamW state 'opt' and
'scaler', 'epoch', 'loss', 'batch_size', 'world_size', 'lr'. libijepa
checkpoints are safetensors files (format: docs/checkpoint.md, contract in
the checkpoint notes): float32 tensors named encoder.<official name>,
predictor.<name>, target_encoder.<name>, optimizer.exp_avg[_sq].{encoder,
predictor}.<name>, and string metadata (format, ijepa.format_version,
ijepa.library_version, ijepa.config, ijepa.step, ijepa.seed,
ijepa.checksum = crc32 of the data section).

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

Needs numpy; torch only to read or write .pth.tar files. The config text
uses python/ijepa.py (the library) for the key names.
"""
import argparse
import ast
import json
import math
import os
import struct
import sys
import zlib
from collections import OrderedDict

import numpy as np

FORMAT_VERSION = "1"
OFFICIAL_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16, 1408: 16}
MODEL_KEYS = ("encoder", "predictor", "target_encoder")
FROZEN = ("pos_embed", "predictor_pos_embed")


class ConvertError(ValueError):
    pass


# --- safetensors ------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None, checksum=True):
    """Write float32 tensors (name -> array, in order) and string metadata.
    Adds "ijepa.checksum" (crc32 of the data section) when checksum is set."""
    header = OrderedDict()
    offset = 0
    arrays = []
    for name, a in tensors.items():
        a = np.asarray(a)
        if a.dtype != np.float32:
            raise ConvertError("tensor %s is %s, only float32 is written" % (name, a.dtype))
        a = np.ascontiguousarray(a).astype("<f4", copy=False)
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    meta = OrderedDict(metadata or {})
    if checksum:
        crc = 0
        for a in arrays:
            crc = zlib.crc32(memoryview(a).cast("B"), crc)
        meta["ijepa.checksum"] = "crc32:%08x" % crc
    for k, v in meta.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ConvertError("metadata must map strings to strings (%r)" % (k,))
    full = OrderedDict()
    if meta:
        full["__metadata__"] = meta
    full.update(header)
    text = json.dumps(full, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # data section 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for a in arrays:
            f.write(memoryview(a).cast("B"))
    os.replace(tmp, path)


def read_safetensors(path, verify=True):
    """(OrderedDict name -> float32 array (read-only views of a memory map),
    metadata dict). Checks the layout rules and the crc32 when present."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ConvertError("%s: shorter than the 8-byte header length" % path)
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            raise ConvertError("%s: header length %d exceeds the file" % (path, n))
        try:
            header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=OrderedDict)
        except ValueError as e:
            raise ConvertError("%s: header is not JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise ConvertError("%s: header is not a JSON object" % path)
    meta = header.pop("__metadata__", {}) or {}
    start = 8 + n
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(size - start,)) \
        if size > start else np.zeros(0, np.uint8)
    spans = []
    out = OrderedDict()
    for name, e in header.items():
        if e.get("dtype") != "F32":
            raise ConvertError("%s: tensor %s has dtype %s, not F32" % (path, name, e.get("dtype")))
        b, end = e["data_offsets"]
        shape = tuple(e["shape"])
        if end - b != 4 * int(np.prod(shape, dtype=np.int64)) or b < 0 or end > data.size:
            raise ConvertError("%s: tensor %s: offsets %s do not fit shape %s"
                               % (path, name, e["data_offsets"], shape))
        spans.append((b, end, name))
        out[name] = data[b:end].view("<f4").reshape(shape)
    spans.sort()
    pos = 0
    for b, end, name in spans:
        if b != pos:
            raise ConvertError("%s: tensor %s starts at %d, not %d (gap or overlap)"
                               % (path, name, b, pos))
        pos = end
    if pos != data.size:
        raise ConvertError("%s: %d bytes after the last tensor" % (path, data.size - pos))
    if verify and "ijepa.checksum" in meta:
        crc = zlib.crc32(memoryview(data)) if data.size else 0
        if meta["ijepa.checksum"] != "crc32:%08x" % crc:
            raise ConvertError("%s: checksum %s does not match the data (crc32:%08x)"
                               % (path, meta["ijepa.checksum"], crc))
    return out, dict(meta)


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
    import torch
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
    import torch
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
    import torch
    extras = ast.literal_eval(meta["ijepa.official"]) if "ijepa.official" in meta else {}
    cfg_text = meta.get("ijepa.config", "")
    cfg = {}
    for line in cfg_text.splitlines():
        name, _, value = line.partition("=")
        if name.strip():
            cfg[name.strip()] = value.strip()
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
    import torch
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
    import torch
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, TypeError) as e:
        if not trust_pickle:
            raise ConvertError("%s: torch.load(weights_only=True) refuses it (%s); if you "
                               "trust the file, allow a full unpickling with --trust-pickle"
                               % (path, str(e).splitlines()[-1][-120:]))
    return torch.load(path, map_location="cpu")


def convert_to_ijepa(src, dst, num_heads=None, pred_num_heads=None, settings=None,
                     trust_pickle=False):
    """Official .pth.tar -> libijepa .safetensors; returns the metadata."""
    tensors, meta = official_to_ijepa(load_official(src, trust_pickle), num_heads,
                                      pred_num_heads, settings)
    write_safetensors(dst, tensors, meta)
    return meta


def convert_to_official(src, dst):
    import torch
    tensors, meta = read_safetensors(src)
    ck = ijepa_to_official(tensors, meta)
    torch.save(ck, dst)
    return ck


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
    c = sub.add_parser("info", help="architecture and tensors of a libijepa checkpoint")
    c.add_argument("src")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "to-ijepa":
            meta = convert_to_ijepa(args.src, args.dst, args.num_heads, args.pred_num_heads,
                                    _settings(args.set), args.trust_pickle)
            print("wrote %s: step %s" % (args.dst, meta["ijepa.step"]))
        elif args.cmd == "to-official":
            ck = convert_to_official(args.src, args.dst)
            print("wrote %s: %s" % (args.dst, ", ".join(ck.keys())))
        else:
            tensors, meta = read_safetensors(args.src)
            for k in ("format", "ijepa.format_version", "ijepa.library_version", "ijepa.step",
                      "ijepa.seed", "ijepa.checksum"):
                if k in meta:
                    print("%s: %s" % (k, meta[k]))
            n = sum(a.size for a in tensors.values())
            print("%d tensors, %d floats" % (len(tensors), n))
    except ConvertError as e:
        print("ijepa_convert: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
