#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Hostile checkpoint files of issue 10, and what they cost a library and its
tools. The tests (test_hostile.py) use the generators; run as a program it
measures, for docs/robustness.md:

    python3 tests/python/hostile.py [--lib LIB.so] [--examples DIR] [--dir TMP]

LIB.so (default: this tree's lib/libijepa.so.0) is loaded with ctypes in a
child process, so that any libijepa version can be measured, before or after
a change; DIR (default: this tree's examples/) holds the tools. Each line
gives wall time and peak resident memory of the child (os.wait4, from a
small launcher process, whose ~10 MB at the fork are included); a child
past --cap-mib (default 4096) of resident memory is killed and reported as
such, so that a runaway "before" does not take the machine.

The files (written with plain Python, from docs/checkpoint.md, so that they
do not depend on the writer under test):
  huge-config.safetensors   libijepa metadata with valid checksums, no tensors,
                            the configuration of a 400M-parameter model
                            (embed_dim 1024, depth 32: 403M encoder parameters)
  sparse-2g.safetensors     2 GiB sparse file whose header length is garbage
  many-tensors.safetensors  a valid 100 MiB header of 1.75 M zero-size tensors
  step-max.safetensors      a valid trainer checkpoint whose step is 2^63 - 1
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

META_SUMMED = ["format", "ijepa.format_version", "ijepa.library_version", "ijepa.config",
               "ijepa.step", "ijepa.seed", "ijepa.checksum"]

# a ViT 1024 wide and 32 deep on 224 px images in 16 px patches: 403M parameters
HUGE_CONFIG = "embed_dim = 1024\ndepth = 32\nnum_heads = 16\n"


def metadata_checksum(meta):
    blob = b"".join(k.encode() + b"\0" + meta[k].encode() + b"\0" for k in META_SUMMED)
    return "crc32:%08x" % zlib.crc32(blob)


def file_bytes(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def libijepa_meta(config_text, step, seed=0, data=b""):
    meta = {"format": "libijepa", "ijepa.format_version": "1",
            "ijepa.library_version": "0.1.0", "ijepa.config": config_text,
            "ijepa.step": str(step), "ijepa.seed": str(seed),
            "ijepa.checksum": "crc32:%08x" % zlib.crc32(data)}
    meta["ijepa.metadata_checksum"] = metadata_checksum(meta)
    return meta


def write_huge_config(path, config_text=HUGE_CONFIG):
    """The 1.7 KB file: valid checksums, no tensors, a 400M-parameter config
    (config_text may be a whole ijepa_config_to_text(), as libijepa writes)."""
    with open(path, "wb") as f:
        f.write(file_bytes({"__metadata__": libijepa_meta(config_text, 100)}))


def write_sparse(path, size=2 << 30, head=b"AAAAAAAA"):
    """A sparse file of size bytes starting with head (a garbage length)."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)


def write_many_tensors(path, count=1750000):
    """A valid header of count zero-size tensors (1.75 M: 97.6 MiB, under the
    100 MiB limit of the header length)."""
    entry = '"%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}'
    text = ("{" + ",".join(entry % i for i in range(count)) + "}").encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)


def with_step(src, dst, step):
    """src (a libijepa checkpoint) with ijepa.step replaced and the metadata
    checksum recomputed: valid but for the step."""
    with open(src, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header["__metadata__"]
    meta["ijepa.step"] = str(step)
    meta["ijepa.metadata_checksum"] = metadata_checksum(meta)
    with open(dst, "wb") as f:
        f.write(file_bytes(header, raw[8 + n:]))


# --- measuring ----------------------------------------------------------------------------

OPEN_SCRIPT = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.ijepa_last_error.restype = ctypes.c_char_p
ck = ctypes.c_void_p()
rc = lib.ijepa_checkpoint_open(ctypes.byref(ck), sys.argv[2].encode())
if rc == 0 and len(sys.argv) > 3 and hasattr(lib, "ijepa_checkpoint_check_encoder"):
    nbytes = ctypes.c_int64()
    rc = lib.ijepa_checkpoint_check_encoder(ck, sys.argv[3].encode(), None, ctypes.byref(nbytes))
print(rc, lib.ijepa_last_error().decode())
"""


STEP_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import ijepa
cfg = ijepa.Config(preset="tiny", batch_size=2)
try:
    with ijepa.Context() as ctx, ijepa.Trainer(ctx, cfg) as tr:
        tr.load(sys.argv[2])
        loss = tr.step(np.zeros((2, 1, 28, 28), np.float32))
        print("loaded step", tr.step_count - 1, "then trained: loss", loss, "lr", tr.stat("lr"))
except ijepa.IjepaError as e:
    print(e)
"""


# Runs one command and reports on it, as a fresh small Python process: a
# child's peak resident memory (ru_maxrss) counts what it shared with the
# process that forked it, so the command is started from this launcher
# (about 10 MB), not from a test runner that may hold hundreds of MB.
LAUNCHER = r"""
import json, os, subprocess, sys, time
cap_mib, timeout = float(sys.argv[1]), float(sys.argv[2])
cmd = sys.argv[3:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
killed = None
while True:
    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    if pid:
        break
    try:
        with open("/proc/%d/status" % p.pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        rss = 0
    dt = time.monotonic() - t0
    if rss > cap_mib or dt > timeout:
        killed = ("killed at %.0f MiB" % rss) if rss > cap_mib else "killed at the timeout"
        p.kill()
    time.sleep(0.01)
dt = time.monotonic() - t0
out = p.stdout.read().decode(errors="replace").strip().splitlines()
p.stdout.close()
p.returncode = status
print(json.dumps([dt, ru.ru_maxrss / 1024, killed or os.waitstatus_to_exitcode(status),
                  out[-1] if out else ""]))
"""


def measure(cmd, cap_mib=4096, timeout=120, env=None):
    """(seconds, peak MiB, exit status or 'killed ...', last output line) of
    cmd; killed past cap_mib of resident memory or timeout seconds."""
    e = dict(os.environ, OMP_WAIT_POLICY="passive", **(env or {}))
    e.pop("LD_LIBRARY_PATH", None)
    p = subprocess.run(["/usr/bin/python3", "-S", "-c", LAUNCHER, str(cap_mib), str(timeout)]
                       + list(cmd), env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError("measuring %s failed: %s" % (cmd[0], p.stderr.strip()))
    return tuple(json.loads(p.stdout))


def generate(a):
    """Write the files into a.dir with the binding of a.binding on a.lib."""
    p = lambda name: os.path.join(a.dir, name)  # noqa: E731
    sys.path.insert(0, a.binding)
    os.environ["IJEPA_LIBRARY"] = a.lib
    import ijepa
    cfg = ijepa.Config(embed_dim=1024, depth=32, num_heads=16)
    write_huge_config(p("huge-config.safetensors"), cfg.to_text())
    cfg.close()
    write_sparse(p("sparse-2g.safetensors"))
    write_many_tensors(p("many-tensors.safetensors"))
    small = ijepa.Config(preset="tiny", batch_size=2)
    with ijepa.Context() as ctx, ijepa.Trainer(ctx, small) as tr:
        tr.save(p("step0.safetensors"))
    small.close()
    with_step(p("step0.safetensors"), p("step-max.safetensors"), 2 ** 63 - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", default=os.path.join(ROOT, "lib", "libijepa.so.0"))
    ap.add_argument("--examples", default=os.path.join(ROOT, "examples"))
    ap.add_argument("--dir", default="/tmp/ijepa-hostile")
    ap.add_argument("--binding", default=os.path.join(ROOT, "python"),
                    help="the directory of the ijepa.py that goes with --lib")
    ap.add_argument("--cap-mib", type=float, default=4096)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.generate:
        return generate(a)
    os.makedirs(a.dir, exist_ok=True)
    p = lambda name: os.path.join(a.dir, name)  # noqa: E731
    # the files are made by a child, so that this process stays small: a
    # child's peak resident memory counts what it shared with its parent
    subprocess.run([sys.executable, os.path.abspath(__file__), "--generate", "--dir", a.dir,
                    "--lib", a.lib, "--binding", a.binding], check=True)
    print("%-52s %8s %9s  %s" % ("case", "seconds", "peak MiB", "result"))

    def show(label, r):
        print("%-52s %8.3f %9.1f  %s: %s" % (label, r[0], r[1], r[2], r[3][:150]))

    size = os.path.getsize(p("huge-config.safetensors"))
    for name, extra in (("huge-config.safetensors", ["target_encoder"]),
                        ("sparse-2g.safetensors", []), ("many-tensors.safetensors", []),
                        ("step-max.safetensors", [])):
        label = "open%s %s" % (" + check_encoder" if extra else "", name)
        show(label, measure([a.python, "-c", OPEN_SCRIPT, a.lib, p(name)] + extra, a.cap_mib))
    fm = "/usr/share/datasets/fashion-mnist"
    ex = lambda n: os.path.join(a.examples, "ijepa-" + n)  # noqa: E731
    show("ijepa-probe --checkpoint huge-config (%d bytes)" % size,
         measure([ex("probe"), "--checkpoint", p("huge-config.safetensors"), "--fmnist", fm,
                  "--probe-train", "1000", "--threads", "1"], a.cap_mib))
    show("ijepa-train --resume huge-config",
         measure([ex("train"), "--resume", p("huge-config.safetensors"), "--steps", "101",
                  "--limit", "64", "--threads", "1", "--quiet"], a.cap_mib))
    show("ijepa-extract --checkpoint huge-config",
         measure([ex("extract"), "--checkpoint", p("huge-config.safetensors"), "--limit", "8",
                  "--threads", "1", "--out", p("x.npy")], a.cap_mib))
    png = p("x.png")
    with open(png, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
    show("ijepa-features x.png huge-config",
         measure([ex("features"), png, p("huge-config.safetensors")], a.cap_mib))
    os.unlink(png)
    show("Trainer.load(step-max) + step (Python binding)",
         measure(["/usr/bin/python3", "-c", STEP_SCRIPT, a.binding, p("step-max.safetensors")],
                 a.cap_mib, env={"IJEPA_LIBRARY": a.lib, "OMP_NUM_THREADS": "1"}))
    for name in ("huge-config", "sparse-2g", "many-tensors", "step0", "step-max"):
        os.unlink(p(name + ".safetensors"))


if __name__ == "__main__":
    main()
