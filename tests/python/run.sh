#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Python tests of `make check` (target check-python): the ctypes binding,
# images and datasets, the pip package (pyproject.toml, in a fresh venv),
# the Python examples against the C examples, the docs' snippets, and, when
# PyTorch is importable, the PyTorch parity and converter tests.
#   PYTHON   interpreter (default /usr/bin/python3: Debian's, with python3-numpy)
#   IJEPA_LIBRARY  the library under test (default: this tree's lib/libijepa.so.0)
#   IJEPA_FMNIST_DIR  Fashion-MNIST (default /usr/share/datasets/fashion-mnist);
#            the tests that need it skip when it is not there
#   IJEPA_TEST_HF_PYTHON  a Python with transformers, torch and safetensors for the
#                  optional Hugging Face interop test (test_interop.py); unset: skipped
# Skips (exit 0) with a visible message when the interpreter or numpy is missing.
set -eu
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
IJEPA_LIBRARY=${IJEPA_LIBRARY:-$PWD/lib/libijepa.so.0}
export IJEPA_LIBRARY

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "SKIPPED: Python tests ($PYTHON not found; install python3-numpy)"
    exit 0
fi
if ! "$PYTHON" -c 'import numpy' >/dev/null 2>&1; then
    echo "SKIPPED: Python tests (numpy is not importable by $PYTHON; install python3-numpy)"
    exit 0
fi
modules="test_binding test_images test_examples test_hostile test_interop test_docs test_package"
if ! "$PYTHON" -c 'import PIL.Image' >/dev/null 2>&1; then
    echo "SKIPPED: JPEG decoding from Python (no JPEG writer: PIL is not importable by $PYTHON; install python3-pil); PNG and corrupt JPEG bytes are tested"
fi
fm=${IJEPA_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ ! -f "$fm/train-images-idx3-ubyte.gz" ]; then
    echo "SKIPPED: the Fashion-MNIST tests and docs/python.md blocks (no Fashion-MNIST in $fm; install dataset-fashion-mnist or set IJEPA_FMNIST_DIR)"
fi
if "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    modules="$modules test_torch_parity test_convert"
else
    echo "SKIPPED: PyTorch parity and converter tests (torch is not importable by $PYTHON; install python3-torch)"
fi
if [ -z "${IJEPA_TEST_HF_PYTHON:-}" ]; then
    echo "SKIPPED: transformers IJepaModel interop (set IJEPA_TEST_HF_PYTHON to a Python that imports transformers, torch and safetensors, e.g. a venv's)"
fi
cd tests/python
# -W error::ResourceWarning: a handle or file left open is a failure
exec "$PYTHON" -W error::ResourceWarning -m unittest $modules
