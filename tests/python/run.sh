#!/bin/sh
# Python tests of `make check` (target check-python): the ctypes binding,
# images and datasets, the pip package (pyproject.toml, in a fresh venv),
# the Python examples against the C examples, the docs' snippets, and, when
# PyTorch is importable, the PyTorch parity and converter tests.
#   PYTHON   interpreter (default /usr/bin/python3: Debian's, with python3-numpy)
#   IJEPA_LIBRARY  the library under test (default: this tree's lib/libijepa.so.0)
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
modules="test_binding test_images test_examples test_docs test_package"
if ! "$PYTHON" -c 'import PIL.Image' >/dev/null 2>&1; then
    echo "SKIPPED: JPEG decoding from Python (no JPEG writer: PIL is not importable by $PYTHON; install python3-pil); PNG and corrupt JPEG bytes are tested"
fi
if "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    modules="$modules test_torch_parity test_convert"
else
    echo "SKIPPED: PyTorch parity and converter tests (torch is not importable by $PYTHON; install python3-torch)"
fi
cd tests/python
# -W error::ResourceWarning: a handle or file left open is a failure
exec "$PYTHON" -W error::ResourceWarning -m unittest $modules
