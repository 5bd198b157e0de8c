# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""libijepa from Python: a ctypes binding (pure Python, numpy only).

Loading: at first use (not at import), the library named by the environment
variable IJEPA_LIBRARY (a path), else what ctypes.util.find_library('ijepa')
finds, else the SONAME libijepa.so.0 through the dynamic loader. If none
loads, that first use raises OSError saying what to install or set.

Every public C function is declared in ``lib`` with its argtypes and restype
(``ijepa.lib.ijepa_encoder_forward`` etc.); a negative status raises
IjepaError carrying the status and the library's one-line message. The
classes below wrap the handles:

    Config, Context, Encoder, Predictor, MaskSampler, Optimizer, Trainer,
    Checkpoint, Image, Dataset

each with close(), a context manager and a finalizer as a safety net.
Handles that borrow another (an encoder borrows its context, an optimizer
the buffers of the models it updates, a view the buffer of its handle) keep
it alive, so the C objects are freed in a safe order whatever the order of
close() calls: close() releases the wrapper's own reference and the C object
is freed once nothing depends on it any more.

Arrays: parameters, gradients and optimizer moments are numpy views of the
library's own buffers (no copy; writing them writes the model). Inputs must
be C-contiguous numpy arrays of float32 (int32 for patch indices) of the
documented shape: anything else raises TypeError (not an ndarray, wrong
dtype) or ValueError (wrong shape, not C-contiguous, read-only output), and
nothing is ever copied or converted silently.
"""

import ctypes
import ctypes.util
import operator
import os
import threading
import weakref
from collections import OrderedDict, namedtuple

import numpy as np

__all__ = [
    "IjepaError", "lib", "load_library", "version", "Config", "Context", "Encoder",
    "Predictor", "MaskSampler", "Optimizer", "Trainer", "Checkpoint", "CheckpointWriter",
    "TensorInfo", "encoder_estimate_bytes", "predictor_estimate_bytes", "trainer_estimate_bytes",
    "read_checkpoint_config", "loss_compute", "Image", "Dataset", "crop_box", "presets",
    "config_key_class",
    "loss_target_std", "loss_partial", "loss_target_moments", "ema_update", "schedule_lr", "schedule_weight_decay",
    "schedule_momentum", "config_keys", "status_string",
]

# --- status codes and constants (values from include/ijepa/*.h) -------------
OK = 0
ERR_INVALID_ARG = -1
ERR_NOMEM = -2
ERR_IO = -3
ERR_FORMAT = -4
ERR_UNSUPPORTED = -5
ERR_BACKEND = -6
ERR_STATE = -7
ERR_NUMERIC = -8

FORWARD_INFERENCE = 0
FORWARD_TRAIN = 1
MASK_UNIFORM = 0
MASK_OFFICIAL = 1
LOSS_SMOOTH_L1 = 0
LOSS_L2 = 1
LOSS_L1 = 2
PRECISION_F32 = 0
PRECISION_BF16 = 1
CFG_TYPE_INT = 1
CFG_TYPE_FLOAT = 2
CFG_CLASS_MODEL = 1
CFG_CLASS_TRAINING = 2
CFG_CLASS_DATA = 3
CFG_CLASS_RUNTIME = 4
CFG_CLASSES = {CFG_CLASS_MODEL: "model", CFG_CLASS_TRAINING: "training",
               CFG_CLASS_DATA: "data", CFG_CLASS_RUNTIME: "runtime"}
TENSOR_NO_DECAY = 1
TENSOR_FROZEN = 2
TENSOR_MAX_DIMS = 4
OPTIMIZER_MAX_GROUPS = 16

STATS = {
    "loss": 1, "target_std": 2, "lr": 3, "weight_decay": 4, "momentum": 5,
    "n_context": 6, "n_target": 7, "grad_norm": 8,
}
LOSS_KINDS = {"smooth_l1": LOSS_SMOOTH_L1, "l2": LOSS_L2, "l1": LOSS_L1}


class IjepaError(Exception):
    """A libijepa call failed: .status is the negative ijepa_status, .message
    the library's one-line message, .function the C function called."""

    def __init__(self, status, message, function=""):
        self.status = status
        self.message = message
        self.function = function
        super().__init__("%s (%s, status %d)" % (message or function, _status_text(status), status))


# --- loading --------------------------------------------------------------------

SONAME = "libijepa.so.0"


def load_library(path=None):
    """Load libijepa and return the ctypes.CDLL (without binding). Order:
    path, $IJEPA_LIBRARY, ctypes.util.find_library('ijepa'), SONAME."""
    tried = []
    for cand in (path, os.environ.get("IJEPA_LIBRARY") or None,
                 ctypes.util.find_library("ijepa"), SONAME):
        if not cand or cand in tried:
            continue
        tried.append(cand)
        try:
            return ctypes.CDLL(cand)
        except OSError as e:
            last = e
            if cand in (path, os.environ.get("IJEPA_LIBRARY")):
                # an explicit choice that fails is an error, not a fallback
                raise OSError("cannot load libijepa from %r: %s" % (cand, e)) from e
    raise OSError(
        "cannot find libijepa, the C library this Python binding needs (tried %s: %s). "
        "Install it (in the libijepa source tree: make && sudo make install, then "
        "sudo ldconfig), or add the directory that holds libijepa.so.0 to "
        "LD_LIBRARY_PATH, or set IJEPA_LIBRARY to the path of libijepa.so.0"
        % (", ".join(tried), last))


# --- C signatures -----------------------------------------------------------------
# Every IJEPA_API function of include/ijepa/*.h, by hand (tests/python/
# test_binding.py parses the headers and checks each one is here with the
# argument and return types the header declares). Handles are c_void_p.

_H = ctypes.c_void_p
_HH = ctypes.POINTER(ctypes.c_void_p)
_i32 = ctypes.c_int32
_i64 = ctypes.c_int64
_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64
_int = ctypes.c_int
_dbl = ctypes.c_double
_str = ctypes.c_char_p
_pf = ctypes.POINTER(ctypes.c_float)
_ppf = ctypes.POINTER(_pf)
_pi32 = ctypes.POINTER(ctypes.c_int32)
_ppi32 = ctypes.POINTER(_pi32)
_pi64 = ctypes.POINTER(ctypes.c_int64)
_pdbl = ctypes.POINTER(ctypes.c_double)

# name: (restype, [argtypes], how failures are reported)
#   "status"  int status, negative = failure
#   "index"   int, >= 0 a result, negative = failure
#   None      no status (void, getters)
_SIGNATURES = {
    # common.h
    "ijepa_status_string": (_str, [_int], None),
    "ijepa_last_error": (_str, [], None),
    "ijepa_version_number": (_u32, [], None),
    "ijepa_version_string": (_str, [], None),
    # config.h
    "ijepa_config_create": (_int, [_HH], "status"),
    "ijepa_config_copy": (_int, [_HH, _H], "status"),
    "ijepa_config_free": (None, [_H], None),
    "ijepa_config_set_int": (_int, [_H, _i32, _i64], "status"),
    "ijepa_config_get_int": (_int, [_H, _i32, _pi64], "status"),
    "ijepa_config_set_float": (_int, [_H, _i32, _dbl], "status"),
    "ijepa_config_get_float": (_int, [_H, _i32, _pdbl], "status"),
    "ijepa_config_apply_preset": (_int, [_H, _str], "status"),
    "ijepa_config_preset_count": (_i32, [], None),
    "ijepa_config_preset_name": (_str, [_i32], None),
    "ijepa_config_preset_about": (_str, [_i32], None),
    "ijepa_config_to_text": (_int, [_H, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.POINTER(ctypes.c_size_t)], "status"),
    "ijepa_config_from_text": (_int, [_H, _str], "status"),
    "ijepa_config_key_class": (_int, [_i32], "index"),
    "ijepa_config_key_from_name": (_int, [_str, _pi32], "status"),
    "ijepa_config_key_name": (_str, [_i32], None),
    "ijepa_config_key_type": (_int, [_i32], "index"),
    "ijepa_config_bounds": (_int, [_i32, _pdbl, _pdbl], "status"),
    "ijepa_config_key_count": (_i32, [], None),
    "ijepa_config_key_at": (_i32, [_i32], None),
    "ijepa_config_value_name": (_str, [_i32, _i64], None),
    "ijepa_config_value_from_name": (_int, [_i32, _str, _pi64], "status"),
    # context.h
    "ijepa_context_create": (_int, [_HH], "status"),
    "ijepa_context_free": (None, [_H], None),
    "ijepa_context_cpu_isa": (_str, [_H], None),
    "ijepa_context_num_threads": (_i32, [_H], None),
    "ijepa_context_precision_native": (_int, [_H, _i32], "index"),
    # tensors.h
    "ijepa_tensor_table_count": (_i64, [_H], None),
    "ijepa_tensor_table_buffer_size": (_i64, [_H], None),
    "ijepa_tensor_table_name": (_str, [_H, _i64], None),
    "ijepa_tensor_table_info": (_int, [_H, _i64, _pi64, _pi64, _pi32, _pi64, _pi32], "status"),
    "ijepa_tensor_table_find": (_int, [_H, _str, _pi64], "status"),
    # encoder.h
    "ijepa_encoder_create": (_int, [_HH, _H, _H], "status"),
    "ijepa_encoder_free": (None, [_H], None),
    "ijepa_encoder_config": (_H, [_H], None),
    "ijepa_encoder_num_patches": (_i64, [_H], None),
    "ijepa_encoder_embed_dim": (_i64, [_H], None),
    "ijepa_encoder_memory_bytes": (_i64, [_H], None),
    "ijepa_encoder_init_params": (_int, [_H, _u64], "status"),
    "ijepa_encoder_forward": (_int, [_H, _pf, _i64, _pi32, _i64, _pf, _i32], "status"),
    "ijepa_encoder_backward": (_int, [_H, _pf], "status"),
    "ijepa_encoder_zero_grad": (_int, [_H], "status"),
    "ijepa_encoder_params": (_int, [_H, _ppf, _pi64], "status"),
    "ijepa_encoder_grads": (_int, [_H, _ppf, _pi64], "status"),
    "ijepa_encoder_tensors": (_H, [_H], None),
    # predictor.h
    "ijepa_predictor_create": (_int, [_HH, _H, _H], "status"),
    "ijepa_predictor_free": (None, [_H], None),
    "ijepa_predictor_config": (_H, [_H], None),
    "ijepa_predictor_init_params": (_int, [_H, _u64], "status"),
    "ijepa_predictor_forward": (_int, [_H, _pf, _i64, _pi32, _i64, _pi32, _i64, _pf, _i32],
                                "status"),
    "ijepa_predictor_backward": (_int, [_H, _pf, _pf], "status"),
    "ijepa_predictor_zero_grad": (_int, [_H], "status"),
    "ijepa_predictor_params": (_int, [_H, _ppf, _pi64], "status"),
    "ijepa_predictor_grads": (_int, [_H, _ppf, _pi64], "status"),
    "ijepa_predictor_tensors": (_H, [_H], None),
    "ijepa_predictor_memory_bytes": (_i64, [_H], None),
    # mask.h
    "ijepa_mask_sampler_create": (_int, [_HH, _H], "status"),
    "ijepa_mask_sampler_free": (None, [_H], None),
    "ijepa_mask_sampler_grid_size": (_i64, [_H], None),
    "ijepa_mask_sampler_sample": (_int, [_H, _i64, _u64, _pi32, _pi64, _pi32, _pi64], "status"),
    # loss.h
    "ijepa_loss_compute": (_int, [_pf, _i64, _i64, _i64, _pi32, _i64, _i64, _pf, _i32, _dbl,
                                  _pf, _pdbl], "status"),
    "ijepa_loss_target_std": (_int, [_pf, _i64, _i64, _i64, _dbl, _pdbl], "status"),
    "ijepa_loss_partial": (_int, [_pf, _i64, _i64, _i64, _pi32, _i64, _i64, _pf, _i32, _dbl,
                                  _i64, _pf, _pdbl], "status"),
    "ijepa_loss_target_moments": (_int, [_pf, _i64, _i64, _i64, _dbl, _pdbl, _pdbl], "status"),
    # optim.h
    "ijepa_optimizer_create": (_int, [_HH, _H], "status"),
    "ijepa_optimizer_free": (None, [_H], None),
    "ijepa_optimizer_add": (_int, [_H, _pf, _pf, _H], "index"),
    "ijepa_optimizer_step": (_int, [_H, _dbl, _dbl], "status"),
    "ijepa_optimizer_step_count": (_i64, [_H], None),
    "ijepa_optimizer_set_step_count": (_int, [_H, _i64], "status"),
    "ijepa_optimizer_grad_norm": (_int, [_H, _pdbl], "status"),
    "ijepa_optimizer_moments": (_int, [_H, _i32, _ppf, _ppf, _pi64], "status"),
    "ijepa_encoder_ema_update": (_int, [_H, _H, _dbl], "status"),
    "ijepa_schedule_lr": (_dbl, [_i64, _i64, _i64, _dbl, _dbl, _dbl], None),
    "ijepa_schedule_weight_decay": (_dbl, [_i64, _i64, _dbl, _dbl], None),
    "ijepa_schedule_momentum": (_dbl, [_i64, _i64, _dbl, _dbl], None),
    # trainer.h
    "ijepa_trainer_create": (_int, [_HH, _H, _H], "status"),
    "ijepa_trainer_free": (None, [_H], None),
    "ijepa_trainer_step": (_int, [_H, _pf, _i64, _pdbl], "status"),
    "ijepa_trainer_compute": (_int, [_H, _pf, _i64, _i64, _i64], "status"),
    "ijepa_trainer_partials": (_int, [_H, ctypes.POINTER(_pdbl), _pi64], "status"),
    "ijepa_trainer_apply": (_int, [_H, _pdbl], "status"),
    "ijepa_trainer_step_count": (_i64, [_H], None),
    "ijepa_trainer_stat": (_int, [_H, _i32, _pdbl], "status"),
    "ijepa_trainer_masks": (_int, [_H, _ppi32, _pi64, _ppi32, _pi64, _pi64], "status"),
    "ijepa_trainer_context_encoder": (_H, [_H], None),
    "ijepa_trainer_target_encoder": (_H, [_H], None),
    "ijepa_trainer_predictor": (_H, [_H], None),
    "ijepa_trainer_optimizer": (_H, [_H], None),
    "ijepa_trainer_save": (_int, [_H, _str], "status"),
    "ijepa_trainer_load": (_int, [_H, _str], "status"),
}

_pvoid = ctypes.c_void_p
_pstr = ctypes.POINTER(ctypes.c_char_p)
_SIGNATURES.update({
    # checkpoint.h
    "ijepa_checkpoint_read_config": (_int, [_str, _HH], "status"),
    "ijepa_checkpoint_open": (_int, [_HH, _str], "status"),
    "ijepa_checkpoint_open_memory": (_int, [_HH, _pvoid, ctypes.c_size_t, _str], "status"),
    "ijepa_checkpoint_free": (None, [_H], None),
    "ijepa_checkpoint_config": (_int, [_H, _HH], "status"),
    "ijepa_checkpoint_step": (_int, [_H, _pi64], "status"),
    "ijepa_checkpoint_metadata": (_int, [_H, _str, _pstr], "status"),
    "ijepa_checkpoint_tensor_count": (_i64, [_H], None),
    "ijepa_checkpoint_tensor_info": (_int, [_H, _i64, _pstr, _pi32, _pi64], "status"),
    "ijepa_checkpoint_read": (_int, [_H, _str, _H, _pf], "status"),
    "ijepa_checkpoint_load_encoder": (_int, [_H, _str, _H], "status"),
    "ijepa_checkpoint_load_predictor": (_int, [_H, _str, _H], "status"),
    "ijepa_checkpoint_writer_create": (_int, [_HH, _H, _i64], "status"),
    "ijepa_checkpoint_writer_free": (None, [_H], None),
    "ijepa_checkpoint_writer_add": (_int, [_H, _str, _H, _pf], "status"),
    "ijepa_checkpoint_writer_save": (_int, [_H, _str], "status"),
    "ijepa_checkpoint_writer_add_tensor": (_int, [_H, _str, _i32, _pi64, _pf], "status"),
    "ijepa_checkpoint_writer_set_metadata": (_int, [_H, _str, _str], "status"),
    "ijepa_checkpoint_metadata_count": (_i64, [_H], None),
    "ijepa_checkpoint_metadata_at": (_int, [_H, _i64, _pstr, _pstr], "status"),
    "ijepa_checkpoint_tensor_dtype": (_str, [_H, _i64], None),
    "ijepa_checkpoint_read_tensor": (_int, [_H, _i64, _pf, _i64], "status"),
    "ijepa_checkpoint_check_encoder": (_int, [_H, _str, _H, _pi64], "status"),
    "ijepa_checkpoint_check_predictor": (_int, [_H, _str, _H, _pi64], "status"),
    "ijepa_encoder_estimate_bytes": (_int, [_H, _pi64], "status"),
    "ijepa_predictor_estimate_bytes": (_int, [_H, _pi64], "status"),
    "ijepa_trainer_estimate_bytes": (_int, [_H, _pi64], "status"),
    "ijepa_trainer_memory_bytes": (_i64, [_H], None),
    "ijepa_trainer_check": (_int, [_H, _H, _pi64], "status"),
})
CHECKPOINT_MAX_DIMS = 8
CHECKPOINT_MAX_TENSORS = 65536
CHECKPOINT_MAX_STEP = 1 << 53
_SIGNATURES.update({
    # image.h
    "ijepa_image_decode": (_int, [_HH, _pvoid, _i64, _i64, _H], "status"),
    "ijepa_image_load": (_int, [_HH, _str, _i64, _H], "status"),
    "ijepa_image_from_pixels": (_int, [_HH, ctypes.POINTER(ctypes.c_uint8), _i64, _i64, _i64],
                                "status"),
    "ijepa_image_free": (None, [_H], None),
    "ijepa_image_width": (_i64, [_H], None),
    "ijepa_image_height": (_i64, [_H], None),
    "ijepa_image_channels": (_i64, [_H], None),
    "ijepa_image_format": (_int, [_H], None),
    "ijepa_image_pixels": (_int, [_H, _pf], "status"),
    "ijepa_image_crop_box": (_int, [_i64, _i64, _H, _u64, _pi64], "status"),
    "ijepa_image_transform_train": (_int, [_H, _H, _u64, _pf], "status"),
    "ijepa_image_transform_eval": (_int, [_H, _H, _pf], "status"),
    # dataset.h
    "ijepa_dataset_create": (_int, [_HH, _str, _H], "status"),
    "ijepa_dataset_free": (None, [_H], None),
    "ijepa_dataset_size": (_i64, [_H], None),
    "ijepa_dataset_path": (_str, [_H, _i64], None),
    "ijepa_dataset_next_batch": (_int, [_H, _i64, _pf, _pi64], "status"),
    "ijepa_dataset_set_epoch": (_int, [_H, _i64], "status"),
    "ijepa_dataset_set_slice": (_int, [_H, _i64, _i64, _i64, _i64], "status"),
    "ijepa_dataset_position": (_i64, [_H], None),
    "ijepa_dataset_crop_seed": (_u64, [_H, _i64], None),
    "ijepa_dataset_epoch": (_i64, [_H], None),
    "ijepa_dataset_skipped": (_i64, [_H], None),
    "ijepa_dataset_last_skip_error": (_str, [_H], None),
})
IMAGE_PNG = 1
IMAGE_JPEG = 2
IMAGE_RAW = 3
IMAGE_FORMATS = {IMAGE_PNG: "png", IMAGE_JPEG: "jpeg", IMAGE_RAW: "raw"}
DATA_TRAIN = 0
DATA_EVAL = 1
DATA_STOP = 0
DATA_SKIP = 1

def _decode(b):
    return b.decode("utf-8", "replace") if b is not None else None


def _status_text(status):
    try:
        return _decode(lib.ijepa_status_string(status))
    except Exception:  # library not loaded (e.g. an error raised while loading)
        return "status"


# ctypes passes a Python int to an integer parameter modulo 2^bits, without
# a word (2**64 + 5 would arrive as 5), and a string with a NUL byte as what
# precedes it ("a.png\0b" as "a.png"). Every integer argument is checked
# against its C type's range first, every string for NUL bytes.
_INT_RANGES = {}
for _t in (ctypes.c_int32, ctypes.c_int64, ctypes.c_int, ctypes.c_uint32, ctypes.c_uint64,
           ctypes.c_size_t):
    _bits = 8 * ctypes.sizeof(_t)
    _signed = _t(-1).value < 0
    _INT_RANGES[_t] = (-(1 << (_bits - 1)) if _signed else 0,
                       (1 << (_bits - 1)) - 1 if _signed else (1 << _bits) - 1)


def _range_checked(name, f):
    """f, or a wrapper raising ValueError for an integer argument outside
    its C type or a string argument with a NUL byte (keeping f's restype and
    argtypes for inspection)."""
    spots = [(i, _INT_RANGES[t]) for i, t in enumerate(f.argtypes) if t in _INT_RANGES]
    strs = [i for i, t in enumerate(f.argtypes) if t is ctypes.c_char_p]
    if not spots and not strs:
        return f

    def call(*args):
        for i, (lo, hi) in spots:
            v = args[i] if i < len(args) else None
            if isinstance(v, (int, np.integer)) and not lo <= v <= hi:
                raise ValueError("%s(): argument %d is %d, outside its C type's range "
                                 "[%d, %d]" % (name, i + 1, v, lo, hi))
        for i in strs:
            v = args[i] if i < len(args) else None
            if isinstance(v, bytes) and b"\0" in v:
                raise ValueError("%s(): argument %d, %r, holds a NUL byte, where C would "
                                 "cut it" % (name, i + 1, v))
        return f(*args)
    call.__name__ = name
    call.restype, call.argtypes = f.restype, f.argtypes
    return call


def _make_errcheck(cdll, name):
    """Raise IjepaError for a negative result, with the message the call left
    in ijepa_last_error() (the library's one error channel, per thread: ctypes
    calls run on the calling Python thread, so it is this call's message)."""
    thread_error = cdll.ijepa_last_error

    def errcheck(result, func, args):
        if result < 0:
            raise IjepaError(int(result), _decode(thread_error()), name)
        return result
    return errcheck


class _Lib:
    """The bound C functions as attributes (lib.ijepa_encoder_forward ...).
    The library is loaded and bound at the first attribute access, so that
    `import ijepa` works (and e.g. --help of a tool) without it; a failure to
    load is raised there, and the next access tries again."""

    def __init__(self):
        self._cdll = None
        self._lock = threading.Lock()

    def __getattr__(self, name):
        # only reached for names not bound yet, i.e. before the first load
        if name.startswith("_") or self.__dict__.get("_cdll") is not None:
            raise AttributeError(name)
        self._ensure()
        return getattr(self, name)

    def _ensure(self):
        with self._lock:
            if self._cdll is None:
                self._bind(load_library())
        return self._cdll

    def _bind(self, cdll):
        sigs = dict(_SIGNATURES)
        for name in sigs:
            if not hasattr(cdll, name):
                raise OSError("the libijepa loaded from %r lacks %s(): it is older than "
                              "this binding; install the matching libijepa or set "
                              "IJEPA_LIBRARY" % (cdll._name, name))
        self.signatures = sigs  # every function bound here
        for name, (restype, argtypes, _) in sigs.items():
            f = getattr(cdll, name)
            f.restype = restype
            f.argtypes = argtypes
        for name, (_, _, kind) in sigs.items():
            f = getattr(cdll, name)
            if kind is not None:
                f.errcheck = _make_errcheck(cdll, name)
            setattr(self, name, _range_checked(name, f))
        self._cdll = cdll

    @property
    def path(self):
        return self._ensure()._name


lib = _Lib()


def version():
    """The loaded library's version string ("0.2.0")."""
    return _decode(lib.ijepa_version_string())


def status_string(status):
    return _decode(lib.ijepa_status_string(status))


# --- array checks (no silent copies) -----------------------------------------------

def _check_array(a, name, dtype, shape=None, writable=False):
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy.ndarray of %s, not %s"
                        % (name, np.dtype(dtype).name, type(a).__name__))
    if a.dtype != dtype:
        raise TypeError("%s must have dtype %s, not %s (convert it explicitly, e.g. "
                        "np.ascontiguousarray(x, dtype=np.%s))"
                        % (name, np.dtype(dtype).name, a.dtype, np.dtype(dtype).name))
    if not a.flags.c_contiguous:
        raise ValueError("%s must be C-contiguous (use np.ascontiguousarray)" % name)
    if not a.flags.aligned:
        raise ValueError("%s is not aligned to its element size (copy it)" % name)
    if writable and not a.flags.writeable:
        raise ValueError("%s must be writable" % name)
    if shape is not None:
        want = tuple(shape)
        if a.shape != want:
            raise ValueError("%s must have shape %s, not %s" % (name, want, a.shape))
    return a


def _fptr(a):
    return a.ctypes.data_as(_pf)


def _iptr(a):
    return a.ctypes.data_as(_pi32)


def _view(addr, count, owner, dtype=ctypes.c_float):
    """A numpy array over count elements of library memory at addr, keeping
    owner (the resource that owns the memory) alive through the array's base."""
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    buf = (dtype * int(count)).from_address(addr)
    buf._ijepa_owner = owner
    a = np.ctypeslib.as_array(buf)
    # ctypes' buffer says "<f" (explicit byte order); a native-order view
    # exports "f" like any numpy array, which the buffer protocol's
    # consumers (mpi4py's Allreduce, memoryview casts) understand
    return a.view(a.dtype.newbyteorder("="))


# --- resources: a C pointer, its free function and what it depends on --------------

class _Resource:
    """Owns one C object. Freed when the last reference goes (the wrapper's,
    views', dependants'), or at interpreter exit; never twice."""

    def __init__(self, ptr, free_fn, deps=()):
        self.ptr = ptr
        self.deps = list(deps)  # resources that must outlive this one
        self._finalizer = weakref.finalize(self, _free_resource, free_fn, ptr, self.deps)
        if free_fn is None:
            self._finalizer.detach()


def _free_resource(free_fn, ptr, deps):
    if free_fn is not None and ptr:
        free_fn(ptr)
    deps.clear()  # only now may the dependencies go


class _Sealed(type):
    """Handles take no new public attribute once constructed: `cfg.precision
    = "bf16"` or `trainer.lr = 0.1` would otherwise be accepted and do
    nothing."""

    def __call__(cls, *args, **kwargs):
        obj = super().__call__(*args, **kwargs)
        object.__setattr__(obj, "_sealed", True)
        return obj


class _Handle(metaclass=_Sealed):
    """Base of the handle wrappers: close(), context manager, liveness check."""

    _kind = "handle"
    _sealed = False

    def __init__(self, resource):
        self._res = resource

    def __setattr__(self, name, value):
        if self._sealed and not name.startswith("_") and not hasattr(self, name):
            hint = ""
            if name in config_keys():
                hint = (" (config keys are items: cfg[%r] = ...)" % name
                        if isinstance(self, Config) else
                        " (%s is a config key: set it on the Config before creating the "
                        "handle, cfg[%r] = ...)" % (name, name))
            raise AttributeError("ijepa.%s has no attribute %r to set%s"
                                 % (type(self).__name__, name, hint))
        object.__setattr__(self, name, value)

    @property
    def _ptr(self):
        if self._res is None:
            raise ValueError("%s is closed" % self._kind)
        return self._res.ptr

    @property
    def closed(self):
        return self._res is None

    def close(self):
        """Release this wrapper's reference: the C object is freed now unless
        a view or a dependent handle still uses it (then when they go)."""
        self._res = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<ijepa.%s%s>" % (type(self).__name__, " closed" if self.closed else "")


def _create(fn, *args):
    out = ctypes.c_void_p()
    fn(ctypes.byref(out), *args)
    return out.value


# --- config ---------------------------------------------------------------------------

def _key(name_or_key):
    if isinstance(name_or_key, str):
        k = _i32()
        lib.ijepa_config_key_from_name(name_or_key.encode(), ctypes.byref(k))
        return k.value
    return int(name_or_key)


def config_keys():
    """Names of every known config key, in the library's order."""
    return [_decode(lib.ijepa_config_key_name(lib.ijepa_config_key_at(i)))
            for i in range(lib.ijepa_config_key_count())]


def config_key_class(name):
    """"model", "training", "data" or "runtime": what a key is about
    (ijepa_config_key_class())."""
    return CFG_CLASSES[lib.ijepa_config_key_class(_key(name))]


def config_value_name(name, value):
    """The name of value `value` of a key whose values are named
    ("precision", 1 -> "bf16"), or None (ijepa_config_value_name())."""
    v = lib.ijepa_config_value_name(_key(name), int(value))
    return _decode(v) if v else None


def presets():
    """{name: one-line description} of the library's presets
    (ijepa_config_apply_preset()), in the library's order."""
    return {_decode(lib.ijepa_config_preset_name(i)): _decode(lib.ijepa_config_preset_about(i))
            for i in range(lib.ijepa_config_preset_count())}


class Config(_Handle):
    """ijepa_config: the key/value options of every handle, set as items
    (an attribute such as cfg.lr is refused).

        cfg = Config(preset="vit_tiny", img_size=32, patch_size=4)
        cfg["batch_size"] = 8
        cfg["precision"] = "bf16"   # named values by name (or 1); reads give 1
        cfg["lr"]            # -> float
        cfg.to_dict()

    precision ("f32" default, "bf16": mixed precision, see
    Context.precision_native) is a runtime key: Checkpoint.config gives
    the file's, which a program loading a checkpoint may replace."""

    _kind = "config"

    def __init__(self, preset=None, _ptr=None, **settings):
        if _ptr is None:
            _ptr = _create(lib.ijepa_config_create)
        super().__init__(_Resource(_ptr, lib.ijepa_config_free))
        if preset is not None:
            lib.ijepa_config_apply_preset(self._ptr, preset.encode())
        self.update(settings)

    def update(self, settings=(), **more):
        items = dict(settings)
        items.update(more)
        for k, v in items.items():
            self[k] = v
        return self

    def copy(self):
        out = ctypes.c_void_p()
        lib.ijepa_config_copy(ctypes.byref(out), self._ptr)
        return Config(_ptr=out.value)

    def apply_preset(self, name):
        lib.ijepa_config_apply_preset(self._ptr, name.encode())

    def __setitem__(self, name, value):
        key = _key(name)
        if isinstance(value, bool) or value is None:  # True is 1 to int(), None is nothing
            raise TypeError("config key %r takes a number%s, not %r"
                            % (name, " or a name" if config_value_name(key, 0) else "", value))
        if lib.ijepa_config_key_type(key) == CFG_TYPE_INT:
            if isinstance(value, str):  # a named value: precision="bf16", loss="l2"
                v = _i64()
                lib.ijepa_config_value_from_name(key, value.encode(), ctypes.byref(v))
                value = v.value
            try:  # an integer (numpy's too), or a float with an integer value
                iv = operator.index(value)
            except TypeError:
                if not isinstance(value, (float, np.floating)) or not float(value).is_integer():
                    raise TypeError("config key %r is an integer, not %r" % (name, value)) from None
                iv = int(value)
            if not -(1 << 63) <= iv < (1 << 63):  # ctypes would wrap it: the library's error
                lo, hi = self.bounds(key)
                raise IjepaError(ERR_INVALID_ARG, "ijepa_config_set_int(): %s = %d is outside "
                                 "[%.17g, %.17g]" % (_decode(lib.ijepa_config_key_name(key)),
                                                     iv, lo, hi), "ijepa_config_set_int")
            lib.ijepa_config_set_int(self._ptr, key, iv)
        else:
            try:
                fv = float(value)
            except (TypeError, ValueError):
                raise TypeError("config key %r is a number, not %r" % (name, value)) from None
            lib.ijepa_config_set_float(self._ptr, key, fv)

    def __getitem__(self, name):
        key = _key(name)
        if lib.ijepa_config_key_type(key) == CFG_TYPE_INT:
            v = _i64()
            lib.ijepa_config_get_int(self._ptr, key, ctypes.byref(v))
            return v.value
        v = _dbl()
        lib.ijepa_config_get_float(self._ptr, key, ctypes.byref(v))
        return v.value

    @staticmethod
    def bounds(name):
        lo, hi = _dbl(), _dbl()
        lib.ijepa_config_bounds(_key(name), ctypes.byref(lo), ctypes.byref(hi))
        return lo.value, hi.value

    def keys(self):
        return config_keys()

    def to_dict(self):
        return {k: self[k] for k in config_keys()}

    def to_text(self):
        """ijepa_config_to_text(): 'name = value' lines of every key (the form
        of a checkpoint's ijepa.config metadata), independent of the locale."""
        n = ctypes.c_size_t()
        lib.ijepa_config_to_text(self._ptr, None, 0, ctypes.byref(n))
        buf = ctypes.create_string_buffer(n.value + 1)
        lib.ijepa_config_to_text(self._ptr, buf, len(buf), ctypes.byref(n))
        return _decode(buf.value)

    def update_from_text(self, text):
        """ijepa_config_from_text(): apply 'name = value' lines (blank lines and
        # comments skipped; all or nothing). Returns self."""
        lib.ijepa_config_from_text(self._ptr, text.encode())
        return self

    @classmethod
    def from_text(cls, text):
        """A new Config: the defaults with text applied (update_from_text)."""
        return cls().update_from_text(text)


def _config_ptr(cfg):
    if isinstance(cfg, Config):
        return cfg._ptr
    raise TypeError("expected an ijepa.Config, not %s" % type(cfg).__name__)


# --- context -------------------------------------------------------------------------------

class Context(_Handle):
    """ijepa_context: the compute engine; every model handle borrows one."""

    _kind = "context"

    def __init__(self):
        super().__init__(_Resource(_create(lib.ijepa_context_create), lib.ijepa_context_free))

    @property
    def cpu_isa(self):
        return _decode(lib.ijepa_context_cpu_isa(self._ptr))

    @property
    def num_threads(self):
        return lib.ijepa_context_num_threads(self._ptr)

    def precision_native(self, precision):
        """True if this machine runs the matmuls of precision ("f32", "bf16"
        or a PRECISION_* value) in hardware, False if emulated."""
        if isinstance(precision, str):
            v = _i64()
            lib.ijepa_config_value_from_name(_key("precision"), precision.encode(),
                                             ctypes.byref(v))
            precision = v.value
        else:
            try:  # an integer (numpy's too), not a bool or a float
                if isinstance(precision, bool):
                    raise TypeError
                precision = operator.index(precision)
            except TypeError:
                raise TypeError("precision must be a name (\"f32\", \"bf16\") or a "
                                "PRECISION_* value, not %r" % (precision,)) from None
        return lib.ijepa_context_precision_native(self._ptr, precision) == 1


# --- tensor tables ----------------------------------------------------------------------------

TensorInfo = namedtuple("TensorInfo", "name offset numel shape flags")


def _table_infos(table):
    infos = []
    off, numel, nd, fl = _i64(), _i64(), _i32(), _i32()
    dims = (_i64 * TENSOR_MAX_DIMS)()
    for i in range(lib.ijepa_tensor_table_count(table)):
        lib.ijepa_tensor_table_info(table, i, ctypes.byref(off), ctypes.byref(numel),
                                    ctypes.byref(nd), dims, ctypes.byref(fl))
        infos.append(TensorInfo(_decode(lib.ijepa_tensor_table_name(table, i)), off.value,
                                numel.value, tuple(dims[:nd.value]), fl.value))
    return infos


class _Model(_Handle):
    """Shared parts of Encoder and Predictor: buffers, tensor views."""

    _prefix = None

    def _fn(self, what):
        return getattr(lib, "ijepa_%s_%s" % (self._prefix, what))

    def _table(self):
        return self._fn("tensors")(self._ptr)

    @property
    def tensors(self):
        """TensorInfo(name, offset, numel, shape, flags) of every tensor."""
        if self._infos is None:
            self._infos = _table_infos(self._table())
        return self._infos

    def _buffer(self, what):
        p, n = _pf(), _i64()
        self._fn(what)(self._ptr, ctypes.byref(p), ctypes.byref(n))
        return _view(ctypes.addressof(p.contents), n.value, self._res)

    @property
    def params(self):
        """The whole parameter buffer, float32 [count] (a view, no copy)."""
        return self._buffer("params")

    @property
    def grads(self):
        """The whole gradient buffer, float32 [count] (a view, no copy);
        IjepaError (ERR_STATE) for a handle created with trainable = 0,
        which has none."""
        return self._buffer("grads")

    def _named(self, flat):
        return {t.name: flat[t.offset:t.offset + t.numel].reshape(t.shape) for t in self.tensors}

    def state_dict(self):
        """{official name: view of that tensor with its PyTorch shape} (no copy)."""
        return self._named(self.params)

    def grad_dict(self):
        """{official name: view of that tensor's gradient} (no copy)."""
        return self._named(self.grads)

    def load_state_dict(self, tensors, strict=True):
        """Copy tensors (name -> array of the same shape and a float dtype,
        finite values) into the parameters, all or nothing: every tensor is
        checked and converted to float32 (a value past float32's range is
        refused) before any is copied. strict: every tensor must be given,
        no unknown name."""
        own = self.state_dict()
        unknown = sorted(set(tensors) - set(own))
        missing = sorted(set(own) - set(tensors))
        if strict and (unknown or missing):
            raise KeyError("load_state_dict: unknown %s, missing %s" % (unknown, missing))
        ready = {}
        for name, src in tensors.items():
            if name not in own:
                continue
            src = np.asarray(src)
            if src.shape != own[name].shape:
                raise ValueError("load_state_dict: %s has shape %s, the model wants %s"
                                 % (name, src.shape, own[name].shape))
            if src.dtype.kind != "f":
                raise TypeError("load_state_dict: %s has dtype %s, not a float dtype"
                                % (name, src.dtype))
            with np.errstate(over="ignore"):
                src = src.astype(np.float32)
            bad = np.flatnonzero(~np.isfinite(src))
            if bad.size:
                raise ValueError("load_state_dict: %s holds a non-finite value in float32 at "
                                 "flat index %d; nothing was loaded" % (name, bad[0]))
            ready[name] = src
        for name, src in ready.items():
            own[name][...] = src

    @property
    def config(self):
        """A copy of the configuration the handle was created with."""
        out = ctypes.c_void_p()
        lib.ijepa_config_copy(ctypes.byref(out), self._fn("config")(self._ptr))
        return Config(_ptr=out.value)

    @property
    def precision(self):
        """"f32" or "bf16": the precision the handle was created with."""
        v = _i64()
        lib.ijepa_config_get_int(self._fn("config")(self._ptr), _key("precision"),
                                 ctypes.byref(v))
        return config_value_name("precision", v.value)

    def init_params(self, seed):
        self._fn("init_params")(self._ptr, seed)

    def zero_grad(self):
        self._fn("zero_grad")(self._ptr)

    @property
    def memory_bytes(self):
        return self._fn("memory_bytes")(self._ptr)


class Encoder(_Model):
    """ijepa_encoder: the ViT (context or target encoder)."""

    _kind = "encoder"
    _prefix = "encoder"

    def __init__(self, ctx, cfg, _borrowed=None):
        if _borrowed is not None:
            ptr, owner = _borrowed
            res = _Resource(ptr, None, [owner])
        else:
            if not isinstance(ctx, Context):
                raise TypeError("ctx must be an ijepa.Context")
            ptr = _create(lib.ijepa_encoder_create, ctx._ptr, _config_ptr(cfg))
            res = _Resource(ptr, lib.ijepa_encoder_free, [ctx._res])
        super().__init__(res)
        self._infos = None
        c = lib.ijepa_encoder_config(ptr)
        get = lambda k: self._cfg_int(c, k)
        self.num_patches = lib.ijepa_encoder_num_patches(ptr)
        self.embed_dim = lib.ijepa_encoder_embed_dim(ptr)
        self.img_size = get("img_size")
        self.in_chans = get("in_chans")
        self.batch_size = get("batch_size")

    @staticmethod
    def _cfg_int(c, name):
        v = _i64()
        lib.ijepa_config_get_int(c, _key(name), ctypes.byref(v))
        return v.value

    def forward(self, images, keep=None, train=False, out=None):
        """images float32 [B, in_chans, img, img]; keep None or int32 [B, K]
        patch indices. Returns float32 [B, K or N, D] (written by the library
        into out when given, else into a new array)."""
        ptr = self._ptr
        if not isinstance(images, np.ndarray) or images.ndim != 4:
            _check_array(images, "images", np.float32)
            raise ValueError("images must have 4 dimensions [batch, in_chans, img, img], not %d"
                             % images.ndim)
        b = images.shape[0]
        _check_array(images, "images", np.float32, (b, self.in_chans, self.img_size, self.img_size))
        if keep is None:
            k, kp = self.num_patches, None
        else:
            _check_array(keep, "keep", np.int32)
            if keep.ndim != 2 or keep.shape[0] != b:
                raise ValueError("keep must have shape (%d, n_keep), not %s" % (b, keep.shape))
            k, kp = keep.shape[1], _iptr(keep)
        if out is None:
            out = np.empty((b, k, self.embed_dim), dtype=np.float32)
        else:
            _check_array(out, "out", np.float32, (b, k, self.embed_dim), writable=True)
        lib.ijepa_encoder_forward(ptr, _fptr(images), b, kp, k if keep is not None else 0,
                                  _fptr(out), FORWARD_TRAIN if train else FORWARD_INFERENCE)
        self._last_shape = (b, k, self.embed_dim)
        return out

    __call__ = forward

    def backward(self, d_out):
        """Accumulate dLoss/dparams from d_out float32 [B, K, D] of the last
        train forward."""
        _check_array(d_out, "d_out", np.float32, getattr(self, "_last_shape", None))
        lib.ijepa_encoder_backward(self._ptr, _fptr(d_out))

    def features(self, images, out=None):
        """Average-pooled features float32 [B, D] of an inference forward
        (tokens summed in double in order, then divided: as ex_pool() of examples/common.c)."""
        tok = self.forward(images)
        s = np.zeros((tok.shape[0], tok.shape[2]), dtype=np.float64)
        for t in range(tok.shape[1]):
            s += tok[:, t, :]
        res = (s / tok.shape[1]).astype(np.float32)
        if out is not None:
            _check_array(out, "out", np.float32, res.shape, writable=True)
            out[...] = res
            return out
        return res


class Predictor(_Model):
    """ijepa_predictor: predicts the target blocks from the context tokens."""

    _kind = "predictor"
    _prefix = "predictor"

    def __init__(self, ctx, cfg, _borrowed=None):
        if _borrowed is not None:
            ptr, owner = _borrowed
            res = _Resource(ptr, None, [owner])
            self.embed_dim = None
        else:
            if not isinstance(ctx, Context):
                raise TypeError("ctx must be an ijepa.Context")
            ptr = _create(lib.ijepa_predictor_create, ctx._ptr, _config_ptr(cfg))
            res = _Resource(ptr, lib.ijepa_predictor_free, [ctx._res])
        super().__init__(res)
        self._infos = None
        self.embed_dim = self.state_dict()["predictor_proj.weight"].shape[0]

    def forward(self, ctx_out, context, targets, train=False, out=None):
        """ctx_out float32 [B, Nc, D]; context int32 [B, Nc]; targets int32
        [M, B, Nt]. Returns float32 [M*B, Nt, D] (row m*B + b)."""
        _check_array(ctx_out, "ctx_out", np.float32)
        _check_array(context, "context", np.int32)
        _check_array(targets, "targets", np.int32)
        if context.ndim != 2:
            raise ValueError("context must have shape (batch, n_context), not %s" % (context.shape,))
        b, nc = context.shape
        _check_array(ctx_out, "ctx_out", np.float32, (b, nc, self.embed_dim))
        if targets.ndim != 3 or targets.shape[1] != b:
            raise ValueError("targets must have shape (num_targets, %d, n_target), not %s"
                             % (b, targets.shape))
        m, _, nt = targets.shape
        shape = (m * b, nt, self.embed_dim)
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        else:
            _check_array(out, "out", np.float32, shape, writable=True)
        lib.ijepa_predictor_forward(self._ptr, _fptr(ctx_out), b, _iptr(context), nc,
                                    _iptr(targets), nt, _fptr(out),
                                    FORWARD_TRAIN if train else FORWARD_INFERENCE)
        self._last = (shape, (b, nc, self.embed_dim))
        return out

    __call__ = forward

    def backward(self, d_out, d_ctx=None):
        """Accumulate parameter gradients; return dLoss/dctx_out float32 [B, Nc, D]."""
        shape, ctx_shape = getattr(self, "_last", (None, None))
        _check_array(d_out, "d_out", np.float32, shape)
        if d_ctx is None:
            if ctx_shape is None:
                raise ValueError("backward before a train forward")
            d_ctx = np.empty(ctx_shape, dtype=np.float32)
        else:
            _check_array(d_ctx, "d_ctx", np.float32, ctx_shape, writable=True)
        lib.ijepa_predictor_backward(self._ptr, _fptr(d_out), _fptr(d_ctx))
        return d_ctx


# --- masks -----------------------------------------------------------------------------------------

class MaskSampler(_Handle):
    """ijepa_mask_sampler: the multi-block masks of a batch."""

    _kind = "mask sampler"

    def __init__(self, cfg):
        ptr = _create(lib.ijepa_mask_sampler_create, _config_ptr(cfg))
        super().__init__(_Resource(ptr, lib.ijepa_mask_sampler_free))
        self.num_targets = cfg["num_targets"]
        self.batch_size = cfg["batch_size"]
        self.grid_size = lib.ijepa_mask_sampler_grid_size(ptr)

    def sample(self, batch, step):
        """Returns (context int32 [B, Nc], targets int32 [M, B, Nt])."""
        n = self.grid_size ** 2
        ctxb = np.empty(batch * n, dtype=np.int32)
        tgtb = np.empty(self.num_targets * batch * n, dtype=np.int32)
        nc, nt = _i64(), _i64()
        lib.ijepa_mask_sampler_sample(self._ptr, batch, step, _iptr(ctxb), ctypes.byref(nc),
                                      _iptr(tgtb), ctypes.byref(nt))
        return (ctxb[:batch * nc.value].reshape(batch, nc.value),
                tgtb[:self.num_targets * batch * nt.value].reshape(self.num_targets, batch, nt.value))


# --- loss --------------------------------------------------------------------------------------------

def _loss_kind(kind):
    return LOSS_KINDS[kind] if isinstance(kind, str) else int(kind)


def loss_compute(target_out, targets, pred, kind=LOSS_SMOOTH_L1, ln_eps=1e-5, grad=True):
    """I-JEPA loss. target_out float32 [B, N, D]; targets int32 [M, B, Nt];
    pred float32 [M*B, Nt, D]. Returns (loss, d_pred or None)."""
    _check_array(target_out, "target_out", np.float32)
    _check_array(targets, "targets", np.int32)
    if target_out.ndim != 3 or targets.ndim != 3:
        raise ValueError("target_out must be [batch, num_patches, dim] and targets "
                         "[num_targets, batch, n_target]")
    b, n, d = target_out.shape
    m, tb, nt = targets.shape
    if tb != b:
        raise ValueError("targets has batch %d, target_out %d" % (tb, b))
    _check_array(pred, "pred", np.float32, (m * b, nt, d))
    d_pred = np.empty_like(pred) if grad else None
    loss = _dbl()
    lib.ijepa_loss_compute(_fptr(target_out), b, n, d, _iptr(targets), m, nt, _fptr(pred),
                           _loss_kind(kind), ln_eps, _fptr(d_pred) if grad else None,
                           ctypes.byref(loss))
    return loss.value, d_pred


def loss_partial(target_out, targets, pred, total_batch, kind=LOSS_SMOOTH_L1, ln_eps=1e-5,
                 grad=True):
    """The loss of a slice of a batch of total_batch images (loss.h,
    ijepa_loss_partial): arrays as loss_compute() for the slice's images.
    Returns (sum of the element losses, d_pred or None), d_pred divided by
    the element count of the whole batch; a non-finite sum is returned,
    not raised."""
    _check_array(target_out, "target_out", np.float32)
    _check_array(targets, "targets", np.int32)
    if target_out.ndim != 3 or targets.ndim != 3:
        raise ValueError("target_out must be [batch, num_patches, dim] and targets "
                         "[num_targets, batch, n_target]")
    b, n, d = target_out.shape
    m, tb, nt = targets.shape
    if tb != b:
        raise ValueError("targets has batch %d, target_out %d" % (tb, b))
    _check_array(pred, "pred", np.float32, (m * b, nt, d))
    d_pred = np.empty_like(pred) if grad else None
    total = _dbl()
    lib.ijepa_loss_partial(_fptr(target_out), b, n, d, _iptr(targets), m, nt, _fptr(pred),
                           _loss_kind(kind), ln_eps, total_batch,
                           _fptr(d_pred) if grad else None, ctypes.byref(total))
    return total.value, d_pred


def loss_target_moments(target_out, ln_eps=1e-5):
    """The collapse monitor's sums over the images of target_out float32
    [B, N, D] (loss.h, ijepa_loss_target_moments): (sum, sumsq), float64 [D]
    each, which add up over the slices of a batch."""
    _check_array(target_out, "target_out", np.float32)
    if target_out.ndim != 3:
        raise ValueError("target_out must be [batch, num_patches, dim]")
    d = target_out.shape[2]
    s1, s2 = np.empty(d, dtype=np.float64), np.empty(d, dtype=np.float64)
    lib.ijepa_loss_target_moments(_fptr(target_out), *target_out.shape, ln_eps,
                                  s1.ctypes.data_as(_pdbl), s2.ctypes.data_as(_pdbl))
    return s1, s2


def loss_target_std(target_out, ln_eps=1e-5):
    """Collapse monitor of target_out float32 [B, N, D] (see loss.h)."""
    _check_array(target_out, "target_out", np.float32)
    if target_out.ndim != 3:
        raise ValueError("target_out must be [batch, num_patches, dim]")
    v = _dbl()
    lib.ijepa_loss_target_std(_fptr(target_out), *target_out.shape, ln_eps, ctypes.byref(v))
    return v.value


# --- optimizer, EMA, schedules ---------------------------------------------------------------

class Optimizer(_Handle):
    """ijepa_optimizer: AdamW over the parameter buffers of models."""

    _kind = "optimizer"

    def __init__(self, cfg, _borrowed=None):
        if _borrowed is not None:  # a trainer's (Trainer.optimizer)
            ptr, owner = _borrowed
            super().__init__(_Resource(ptr, None, [owner]))
        else:
            ptr = _create(lib.ijepa_optimizer_create, _config_ptr(cfg))
            super().__init__(_Resource(ptr, lib.ijepa_optimizer_free))
        self._groups = []

    def add(self, model):
        """Register an Encoder or Predictor (its parameters, gradients and
        tensor table; the optimizer keeps the model alive). Returns the group index."""
        if not isinstance(model, _Model):
            raise TypeError("Optimizer.add() takes an Encoder or Predictor")
        p, g = model.params, model.grads
        idx = lib.ijepa_optimizer_add(self._ptr, _fptr(p), _fptr(g), model._table())
        self._res.deps.append(model._res)
        self._groups.append(model)
        return idx

    def step(self, lr, weight_decay):
        lib.ijepa_optimizer_step(self._ptr, lr, weight_decay)

    @property
    def step_count(self):
        return lib.ijepa_optimizer_step_count(self._ptr)

    @step_count.setter
    def step_count(self, t):
        lib.ijepa_optimizer_set_step_count(self._ptr, t)

    def grad_norm(self):
        v = _dbl()
        lib.ijepa_optimizer_grad_norm(self._ptr, ctypes.byref(v))
        return v.value

    def moments(self, group):
        """(m, v) float32 views of group's AdamW moments (no copy)."""
        m, v, n = _pf(), _pf(), _i64()
        lib.ijepa_optimizer_moments(self._ptr, group, ctypes.byref(m), ctypes.byref(v),
                                    ctypes.byref(n))
        return (_view(ctypes.addressof(m.contents), n.value, self._res),
                _view(ctypes.addressof(v.contents), n.value, self._res))


def ema_update(target, online, momentum):
    """target = momentum * target + (1 - momentum) * online (two Encoders)."""
    if not isinstance(target, Encoder) or not isinstance(online, Encoder):
        raise TypeError("ema_update() takes two Encoders")
    lib.ijepa_encoder_ema_update(target._ptr, online._ptr, momentum)


def _nan_check(v, name):
    if v != v:
        raise IjepaError(ERR_INVALID_ARG, _decode(lib.ijepa_last_error()), name)
    return v


def schedule_lr(step, warmup_steps, total_steps, start_lr, ref_lr, final_lr):
    return _nan_check(lib.ijepa_schedule_lr(step, warmup_steps, total_steps, start_lr, ref_lr,
                                            final_lr), "ijepa_schedule_lr")


def schedule_weight_decay(step, total_steps, ref_wd, final_wd):
    return _nan_check(lib.ijepa_schedule_weight_decay(step, total_steps, ref_wd, final_wd),
                      "ijepa_schedule_weight_decay")


def schedule_momentum(step, total_steps, start, end):
    return _nan_check(lib.ijepa_schedule_momentum(step, total_steps, start, end),
                      "ijepa_schedule_momentum")


# --- trainer -------------------------------------------------------------------------------------

class Trainer(_Handle):
    """ijepa_trainer: one call per I-JEPA training step.

        tr = Trainer(Context(), Config(preset="fmnist", precision="bf16"))
        loss = tr.step(images)       # float32 [B, in_chans, img, img]
        tr.precision                 # "bf16"

    Its configuration (precision included) is fixed at creation."""

    _kind = "trainer"

    def __init__(self, ctx, cfg):
        if not isinstance(ctx, Context):
            raise TypeError("ctx must be an ijepa.Context")
        ptr = _create(lib.ijepa_trainer_create, ctx._ptr, _config_ptr(cfg))
        super().__init__(_Resource(ptr, lib.ijepa_trainer_free, [ctx._res]))
        self.img_size = cfg["img_size"]
        self.in_chans = cfg["in_chans"]
        self.context_encoder = Encoder(None, None, _borrowed=(
            lib.ijepa_trainer_context_encoder(ptr), self._res))
        self.target_encoder = Encoder(None, None, _borrowed=(
            lib.ijepa_trainer_target_encoder(ptr), self._res))
        self.predictor = Predictor(None, None, _borrowed=(lib.ijepa_trainer_predictor(ptr), self._res))
        # group 0: the context encoder, group 1: the predictor
        self.optimizer = Optimizer(None, _borrowed=(lib.ijepa_trainer_optimizer(ptr), self._res))

    @property
    def precision(self):
        """"f32" or "bf16": the precision the trainer was created with."""
        return self.context_encoder.precision

    def close(self):
        super().close()
        for h in (self.context_encoder, self.target_encoder, self.predictor, self.optimizer):
            h.close()

    def step(self, images):
        """One training step on float32 [B, in_chans, img, img]; returns the loss."""
        if not isinstance(images, np.ndarray) or images.ndim != 4:
            _check_array(images, "images", np.float32)
            raise ValueError("images must have 4 dimensions [batch, in_chans, img, img]")
        b = images.shape[0]
        _check_array(images, "images", np.float32, (b, self.in_chans, self.img_size, self.img_size))
        loss = _dbl()
        lib.ijepa_trainer_step(self._ptr, _fptr(images), b, ctypes.byref(loss))
        return loss.value

    def compute(self, images, offset, batch):
        """The first half of a data-parallel step (trainer.h): masks of the
        whole batch of `batch` images, loss partials and gradients of
        images float32 [count, in_chans, img, img], items [offset, offset +
        count) of it (count may be 0). Then sum context_encoder.grads,
        predictor.grads and partials over the workers, and apply()."""
        if not isinstance(images, np.ndarray) or images.ndim != 4:
            _check_array(images, "images", np.float32)
            raise ValueError("images must have 4 dimensions [count, in_chans, img, img]")
        b = images.shape[0]
        _check_array(images, "images", np.float32, (b, self.in_chans, self.img_size, self.img_size))
        lib.ijepa_trainer_compute(self._ptr, _fptr(images) if b else None, offset, b, batch)

    @property
    def partials(self):
        """The step's partials: a float64 numpy view of the library's buffer
        (no copy; sum it over the workers in place, like the gradients)."""
        p, n = _pdbl(), _i64()
        lib.ijepa_trainer_partials(self._ptr, ctypes.byref(p), ctypes.byref(n))
        return _view(ctypes.addressof(p.contents), n.value, self._res, ctypes.c_double)

    def apply(self):
        """The second half: clip, AdamW, EMA and statistics from the summed
        gradients and partials; returns the loss of the whole batch."""
        loss = _dbl()
        lib.ijepa_trainer_apply(self._ptr, ctypes.byref(loss))
        return loss.value

    @property
    def step_count(self):
        return lib.ijepa_trainer_step_count(self._ptr)

    def stat(self, name):
        """A statistic of the last step by name ("loss", "target_std", "lr",
        "weight_decay", "momentum", "n_context", "n_target", "grad_norm")."""
        if isinstance(name, str):
            if name not in STATS:
                raise KeyError("unknown trainer statistic %r (known: %s)"
                               % (name, ", ".join(STATS)))
            name = STATS[name]
        v = _dbl()
        lib.ijepa_trainer_stat(self._ptr, name, ctypes.byref(v))
        return v.value

    def stats(self):
        return {k: self.stat(k) for k in STATS}

    @property
    def memory_bytes(self):
        """ijepa_trainer_memory_bytes(): bytes in buffers sized by the
        configuration (handles, moments, step buffers)."""
        return lib.ijepa_trainer_memory_bytes(self._ptr)

    def save(self, path):
        """ijepa_trainer_save(): the whole training state (both encoders,
        predictor, AdamW moments, step, configuration), atomically."""
        lib.ijepa_trainer_save(self._ptr, os.fsencode(path))

    def load(self, path):
        """ijepa_trainer_load(): continue a run saved by save()."""
        lib.ijepa_trainer_load(self._ptr, os.fsencode(path))

    def masks(self):
        """Copies of the last step's masks: (context [B, Nc], targets [M, B, Nt])."""
        c, t = _pi32(), _pi32()
        nc, nt, b = _i64(), _i64(), _i64()
        lib.ijepa_trainer_masks(self._ptr, ctypes.byref(c), ctypes.byref(nc), ctypes.byref(t),
                                ctypes.byref(nt), ctypes.byref(b))
        ctxm = np.ctypeslib.as_array(c, shape=(b.value * nc.value,)).copy()
        nall = 0
        if nt.value:
            # targets [M, B, Nt]: M is the config's num_targets
            nall = self.target_encoder.config["num_targets"]
        tgt = np.ctypeslib.as_array(t, shape=(nall * b.value * nt.value,)).copy()
        return ctxm.reshape(b.value, nc.value), tgt.reshape(nall, b.value, nt.value)


# --- checkpoints ----------------------------------------------------------------------

def _estimate(fn, cfg):
    v = _i64()
    fn(_config_ptr(cfg), ctypes.byref(v))
    return v.value


def encoder_estimate_bytes(cfg):
    """ijepa_encoder_estimate_bytes(): what Encoder(ctx, cfg) would allocate,
    computed without allocating it."""
    return _estimate(lib.ijepa_encoder_estimate_bytes, cfg)


def predictor_estimate_bytes(cfg):
    """ijepa_predictor_estimate_bytes(): what Predictor(ctx, cfg) would allocate."""
    return _estimate(lib.ijepa_predictor_estimate_bytes, cfg)


def trainer_estimate_bytes(cfg):
    """ijepa_trainer_estimate_bytes(): what Trainer(ctx, cfg) would allocate."""
    return _estimate(lib.ijepa_trainer_estimate_bytes, cfg)


class Checkpoint(_Handle):
    """ijepa_checkpoint: a validated safetensors checkpoint file (libijepa's,
    or any other: a foreign file has tensors but no configuration or step).
    Tensors of dtype F16, BF16 and F64 read as float32."""

    _kind = "checkpoint"

    def __init__(self, path, _ptr=None):
        if _ptr is None:
            _ptr = _create(lib.ijepa_checkpoint_open, os.fsencode(path))
        super().__init__(_Resource(_ptr, lib.ijepa_checkpoint_free))
        self._index = None

    @classmethod
    def from_bytes(cls, data, name=None):
        """ijepa_checkpoint_open_memory(): a checkpoint from the bytes of a
        file (bytes, bytearray, memoryview or a uint8 array; copied)."""
        ptr, size, _keep = _bytes_arg(data)
        return cls(None, _ptr=_create(lib.ijepa_checkpoint_open_memory, ptr, size,
                                      name.encode() if name else None))

    @property
    def config(self):
        out = ctypes.c_void_p()
        lib.ijepa_checkpoint_config(self._ptr, ctypes.byref(out))
        return Config(_ptr=out.value)

    @property
    def step(self):
        v = _i64()
        lib.ijepa_checkpoint_step(self._ptr, ctypes.byref(v))
        return v.value

    def metadata(self, key=None):
        """The value of one "__metadata__" key; without a key, all of them as
        a dict in the file's order."""
        if key is not None:
            v = ctypes.c_char_p()
            lib.ijepa_checkpoint_metadata(self._ptr, key.encode(), ctypes.byref(v))
            return _decode(v.value)
        k, v = ctypes.c_char_p(), ctypes.c_char_p()
        out = OrderedDict()
        for i in range(lib.ijepa_checkpoint_metadata_count(self._ptr)):
            lib.ijepa_checkpoint_metadata_at(self._ptr, i, ctypes.byref(k), ctypes.byref(v))
            out[_decode(k.value)] = _decode(v.value)
        return out

    def tensors(self):
        """[(name, shape)] in the order of their data."""
        out = []
        name, nd = ctypes.c_char_p(), _i32()
        dims = (_i64 * CHECKPOINT_MAX_DIMS)()
        for i in range(lib.ijepa_checkpoint_tensor_count(self._ptr)):
            lib.ijepa_checkpoint_tensor_info(self._ptr, i, ctypes.byref(name), ctypes.byref(nd),
                                             dims)
            out.append((_decode(name.value), tuple(dims[:nd.value])))
        return out

    def dtypes(self):
        """{name: "F32" | "F16" | "BF16" | "F64"}: each tensor's stored dtype."""
        return {n: _decode(lib.ijepa_checkpoint_tensor_dtype(self._ptr, i))
                for i, (n, _) in enumerate(self.tensors())}

    def read(self, name):
        """A tensor as a new float32 array of its shape (converted from F16,
        BF16 or F64; every value checked finite)."""
        if self._index is None:
            self._index = {n: (i, shape) for i, (n, shape) in enumerate(self.tensors())}
        if name not in self._index:
            raise KeyError("%s: no tensor %r" % (self._kind, name))
        i, shape = self._index[name]
        out = np.empty(shape, dtype=np.float32)
        lib.ijepa_checkpoint_read_tensor(self._ptr, i, _fptr(out), out.size)
        return out

    def read_all(self):
        """OrderedDict name -> float32 array of every tensor, in data order."""
        return OrderedDict((n, self.read(n)) for n, _ in self.tensors())

    def load_into(self, model, prefix):
        """Load group prefix ("encoder", "target_encoder", "predictor"; "" for
        a bare state dict) into an Encoder or Predictor."""
        if isinstance(model, Encoder):
            lib.ijepa_checkpoint_load_encoder(self._ptr, prefix.encode(), model._ptr)
        elif isinstance(model, Predictor):
            lib.ijepa_checkpoint_load_predictor(self._ptr, prefix.encode(), model._ptr)
        else:
            raise TypeError("load_into() takes an Encoder or Predictor")

    def _check(self, fn, prefix, cfg):
        v = _i64()
        fn(self._ptr, prefix.encode(), _opt_config_ptr(cfg), ctypes.byref(v))
        return v.value

    def check_encoder(self, prefix, cfg=None):
        """ijepa_checkpoint_check_encoder(): raise IjepaError unless group
        prefix holds every tensor an Encoder of cfg (default: the file's own
        configuration) loads, with its shape; return the bytes that encoder
        would allocate. Nothing model-sized is allocated."""
        return self._check(lib.ijepa_checkpoint_check_encoder, prefix, cfg)

    def check_predictor(self, prefix, cfg=None):
        """ijepa_checkpoint_check_predictor(): as check_encoder() for a Predictor."""
        return self._check(lib.ijepa_checkpoint_check_predictor, prefix, cfg)

    def check_trainer(self, cfg=None):
        """ijepa_trainer_check(): raise IjepaError unless Trainer.load() of
        this file into a Trainer of cfg would find what it needs; return the
        bytes that trainer would allocate."""
        v = _i64()
        lib.ijepa_trainer_check(self._ptr, _opt_config_ptr(cfg), ctypes.byref(v))
        return v.value


class CheckpointWriter(_Handle):
    """ijepa_checkpoint_writer: writes a checkpoint atomically.

        with CheckpointWriter(cfg, step) as w:       # a libijepa file
            w.add_model("target_encoder", encoder)
            w.add("extra.scale", np.ones(3, np.float32))
            w.set_metadata("note", "anything")
            w.save("out.safetensors")

    Without a configuration (cfg None, step 0) it writes a plain safetensors
    file: the tensors, the metadata set here and "ijepa.checksum", as
    safetensors.torch.save_file() would (set_metadata("format", "pt") for
    tools that ask for it). The arrays and models added are kept alive by the
    writer and read at each save()."""

    _kind = "checkpoint writer"

    def __init__(self, cfg=None, step=0):
        ptr = _create(lib.ijepa_checkpoint_writer_create, _opt_config_ptr(cfg), step)
        super().__init__(_Resource(ptr, lib.ijepa_checkpoint_writer_free))

    def add(self, name, array):
        """Add one tensor: a C-contiguous float32 numpy array (0 to 8 dims),
        written under name."""
        _check_array(array, "array", np.float32)
        if array.ndim > CHECKPOINT_MAX_DIMS:
            raise ValueError("array has %d dimensions, more than %d"
                             % (array.ndim, CHECKPOINT_MAX_DIMS))
        dims = (_i64 * max(array.ndim, 1))(*array.shape)
        lib.ijepa_checkpoint_writer_add_tensor(self._ptr, name.encode("utf-8"), array.ndim, dims,
                                               _fptr(array))
        self._res.deps.append(array)
        return self

    def add_model(self, prefix, model):
        """Add every tensor of an Encoder or Predictor (its parameters, read at
        each save) as "<prefix>.<name>" ("" : the bare names)."""
        if not isinstance(model, _Model):
            raise TypeError("add_model() takes an Encoder or Predictor")
        params = model.params
        lib.ijepa_checkpoint_writer_add(self._ptr, prefix.encode("utf-8"), model._table(),
                                        _fptr(params))
        self._res.deps.append(params)
        return self

    def set_metadata(self, key, value):
        """Set a "__metadata__" key (UTF-8 strings; the library's own keys are
        refused)."""
        lib.ijepa_checkpoint_writer_set_metadata(self._ptr, key.encode("utf-8"),
                                                 value.encode("utf-8"))
        return self

    def save(self, path):
        """Write the file atomically (ijepa_checkpoint_writer_save())."""
        lib.ijepa_checkpoint_writer_save(self._ptr, os.fsencode(path))


def read_checkpoint_config(path):
    """The configuration stored in a libijepa checkpoint (a new Config)."""
    out = ctypes.c_void_p()
    lib.ijepa_checkpoint_read_config(os.fsencode(path), ctypes.byref(out))
    return Config(_ptr=out.value)


# --- images and datasets ----------------------------------------------------------------

def _bytes_arg(data):
    """(pointer, size, keep-alive) for the bytes of an encoded image: bytes are
    passed as they are; bytearray, memoryview and numpy arrays must be
    C-contiguous bytes (uint8/int8 for arrays), nothing is copied."""
    if isinstance(data, bytes):
        return ctypes.cast(ctypes.c_char_p(data), _pvoid), len(data), data
    if isinstance(data, np.ndarray):
        if data.dtype not in (np.uint8, np.int8):
            raise TypeError("data must have dtype uint8, not %s" % data.dtype)
        if not data.flags.c_contiguous:
            raise ValueError("data must be C-contiguous (use np.ascontiguousarray)")
        return _pvoid(data.ctypes.data), data.nbytes, data
    if isinstance(data, (bytearray, memoryview)):
        m = memoryview(data)
        if not m.c_contiguous:
            raise ValueError("data must be C-contiguous")
        arr = np.frombuffer(m.cast("B"), dtype=np.uint8)  # a view, no copy
        return _pvoid(arr.ctypes.data), arr.size, arr
    raise TypeError("data must be bytes, bytearray, memoryview or a uint8 numpy.ndarray, "
                    "not %s" % type(data).__name__)


def _opt_config_ptr(cfg):
    return None if cfg is None else _config_ptr(cfg)


def crop_box(height, width, cfg, seed):
    """ijepa_image_crop_box(): the RandomResizedCrop box (top, left, h, w)
    drawn for a height x width image with cfg's data_crop_* keys and seed."""
    box = (_i64 * 4)()
    lib.ijepa_image_crop_box(height, width, _config_ptr(cfg), seed, box)
    return tuple(box)


class Image(_Handle):
    """ijepa_image: a decoded PNG or JPEG (8-bit samples, immutable).

        img = Image.load("cat.png")              # or Image.decode(raw_bytes)
        img.width, img.height, img.channels, img.format
        x = img.transform_eval(cfg)             # float32 [channels, img_size, img_size]

    The library keeps the samples in its own 8-bit buffer and offers no view
    of it: pixels() copies them out as float32 in [0, 1]."""

    _kind = "image"

    def __init__(self, _ptr):
        super().__init__(_Resource(_ptr, lib.ijepa_image_free))

    @classmethod
    def decode(cls, data, channels=3, cfg=None):
        """Decode PNG or JPEG bytes (bytes, bytearray, memoryview or a uint8
        array; not referenced after the call). channels 1 (luma) or 3 (RGB);
        cfg: the data_max_* limits (None: the defaults)."""
        ptr, size, keep = _bytes_arg(data)
        out = ctypes.c_void_p()
        lib.ijepa_image_decode(ctypes.byref(out), ptr, size, channels, _opt_config_ptr(cfg))
        del keep
        return cls(out.value)

    @classmethod
    def from_pixels(cls, pixels):
        """Wrap 8-bit samples (a uint8 array [height, width] or [height,
        width, 1] for 1 channel, [height, width, 3] for RGB, C-contiguous;
        copied) as an image, for
        the transforms (ijepa_image_from_pixels)."""
        _check_array(pixels, "pixels", np.uint8)
        if pixels.ndim == 2:
            h, w, c = pixels.shape[0], pixels.shape[1], 1
        elif pixels.ndim == 3 and pixels.shape[2] in (1, 3):
            h, w, c = pixels.shape
        else:
            raise ValueError("pixels must have shape (height, width) or (height, width, 3), "
                             "not %s" % (pixels.shape,))
        out = ctypes.c_void_p()
        lib.ijepa_image_from_pixels(ctypes.byref(out),
                                    pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), w, h, c)
        return cls(out.value)

    @classmethod
    def load(cls, path, channels=3, cfg=None):
        """Read and decode the file at path (str, bytes or os.PathLike)."""
        out = ctypes.c_void_p()
        lib.ijepa_image_load(ctypes.byref(out), os.fsencode(path), channels,
                             _opt_config_ptr(cfg))
        return cls(out.value)

    @property
    def width(self):
        return lib.ijepa_image_width(self._ptr)

    @property
    def height(self):
        return lib.ijepa_image_height(self._ptr)

    @property
    def channels(self):
        return lib.ijepa_image_channels(self._ptr)

    @property
    def shape(self):
        """(channels, height, width): the shape of pixels()."""
        return (self.channels, self.height, self.width)

    @property
    def format(self):
        """"png" or "jpeg" (the format of the decoded bytes), or "raw"
        (from_pixels)."""
        return IMAGE_FORMATS[lib.ijepa_image_format(self._ptr)]

    def _out(self, out, shape):
        if out is None:
            return np.empty(shape, dtype=np.float32)
        return _check_array(out, "out", np.float32, shape, writable=True)

    def pixels(self, out=None):
        """float32 [channels, height, width], value / 255 (a copy: written into
        out when given, else into a new array)."""
        ptr = self._ptr
        out = self._out(out, self.shape)
        lib.ijepa_image_pixels(ptr, _fptr(out))
        return out

    def transform_train(self, cfg, seed, out=None):
        """The official training transform (RandomResizedCrop with
        crop_box(height, width, cfg, seed), bilinear resize, normalisation):
        float32 [channels, img_size, img_size], into out when given."""
        ptr, cp = self._ptr, _config_ptr(cfg)
        s = cfg["img_size"]
        out = self._out(out, (self.channels, s, s))
        lib.ijepa_image_transform_train(ptr, cp, seed, _fptr(out))
        return out

    def transform_eval(self, cfg, out=None):
        """The evaluation transform (shorter side to data_eval_resize, centre
        crop, normalisation): float32 [channels, img_size, img_size]."""
        ptr, cp = self._ptr, _config_ptr(cfg)
        s = cfg["img_size"]
        out = self._out(out, (self.channels, s, s))
        lib.ijepa_image_transform_eval(ptr, cp, _fptr(out))
        return out


class Dataset(_Handle):
    """ijepa_dataset: batches of transformed images from a directory tree,
    decoded ahead by the library's worker threads.

        with Dataset("images/", cfg) as ds:
            x = ds.next_batch()            # float32 [batch_size, in_chans, img, img]

    The configuration (img_size, in_chans, batch_size, seed, data_*) is read
    at creation; later changes to cfg do not affect the dataset. close() (or
    the finalizer) stops and joins the workers, also mid-epoch."""

    _kind = "dataset"

    def __init__(self, root, cfg):
        cp = _config_ptr(cfg)
        ptr = _create(lib.ijepa_dataset_create, os.fsencode(root), cp)
        super().__init__(_Resource(ptr, lib.ijepa_dataset_free))
        self.root = root
        self.img_size = cfg["img_size"]
        self.in_chans = cfg["in_chans"]
        self.batch_size = cfg["batch_size"]

    def __len__(self):
        return lib.ijepa_dataset_size(self._ptr)

    def path(self, index):
        """Path of image index (root + "/" + its relative path), a str."""
        p = lib.ijepa_dataset_path(self._ptr, index)
        if p is None:
            raise IndexError("image index %d out of range [0, %d)" % (index, len(self)))
        return os.fsdecode(p)

    @property
    def paths(self):
        return [self.path(i) for i in range(len(self))]

    def next_batch(self, out=None, batch=None, indices=None):
        """The next images, transformed: float32 [B, in_chans, img_size,
        img_size], written into out when given (B = out.shape[0]), else into a
        new array of B = batch (default batch_size) images. indices: None, or
        an int64 array [B] that receives the image index of each item.
        A bad file raises IjepaError (in stop mode nothing is consumed)."""
        ptr = self._ptr
        c, s = self.in_chans, self.img_size
        if out is None:
            b = self.batch_size if batch is None else int(batch)
            out = np.empty((max(b, 0), c, s, s), dtype=np.float32)
        else:
            if not isinstance(out, np.ndarray) or out.ndim != 4:
                _check_array(out, "out", np.float32)
                raise ValueError("out must have 4 dimensions [batch, in_chans, img, img], "
                                 "not %d" % out.ndim)
            b = out.shape[0] if batch is None else int(batch)
            _check_array(out, "out", np.float32, (b, c, s, s), writable=True)
        ip = None
        if indices is not None:
            _check_array(indices, "indices", np.int64, (b,), writable=True)
            ip = indices.ctypes.data_as(_pi64)
        lib.ijepa_dataset_next_batch(ptr, b, _fptr(out), ip)
        return out

    def set_epoch(self, epoch):
        """Restart the stream at the first position of epoch."""
        lib.ijepa_dataset_set_epoch(self._ptr, epoch)

    def set_slice(self, position, group, offset, count):
        """From position on, give only the images [offset, offset + count)
        of each group of `group` positions: a data-parallel worker's slice of
        every global batch (next_batch(batch=count) once per batch)."""
        lib.ijepa_dataset_set_slice(self._ptr, position, group, offset, count)

    @property
    def epoch(self):
        return lib.ijepa_dataset_epoch(self._ptr)

    @property
    def position(self):
        return lib.ijepa_dataset_position(self._ptr)

    @property
    def skipped(self):
        return lib.ijepa_dataset_skipped(self._ptr)

    @property
    def last_skip_error(self):
        return _decode(lib.ijepa_dataset_last_skip_error(self._ptr))

    def crop_seed(self, position):
        """The seed of position's training crop: a batch item equals
        Image.load(path).transform_train(cfg, crop_seed(its position))."""
        return lib.ijepa_dataset_crop_seed(self._ptr, position)
