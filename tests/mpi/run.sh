#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Data-parallel tests of `make check` (target check-mpi): ijepa-train and
# python/examples/train_mpi.py under mpirun against one process
# (tests/mpi/test_mpi.py). Skips (exit 0) with a message when mpirun, the
# MPI build examples/ijepa-train-mpi or Python with numpy is missing.
#   PYTHON         interpreter (default /usr/bin/python3; mpi4py for the Python part)
#   IJEPA_LIBRARY  the library under test (default: this tree's lib/libijepa.so.0)
set -eu
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
IJEPA_LIBRARY=${IJEPA_LIBRARY:-$PWD/lib/libijepa.so.0}
export IJEPA_LIBRARY

if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIPPED: MPI tests (no mpirun; install openmpi-bin libopenmpi-dev)"
    exit 0
fi
if [ ! -x examples/ijepa-train-mpi ]; then
    echo "SKIPPED: MPI tests (examples/ijepa-train-mpi was not built: make found no mpicc)"
    exit 0
fi
if ! "$PYTHON" -c 'import numpy' >/dev/null 2>&1; then
    echo "SKIPPED: MPI tests (they use $PYTHON with numpy; install python3-numpy)"
    exit 0
fi
if ! "$PYTHON" -c 'import mpi4py' >/dev/null 2>&1; then
    echo "SKIPPED: the Python MPI example's tests (mpi4py is not importable by $PYTHON; install python3-mpi4py)"
fi
# mpirun refuses to start as root unless told; the vader transport's
# single-copy mechanism (CMA) needs ptrace rights sandboxes often lack
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_btl_vader_single_copy_mechanism=none
cd tests/mpi
exec "$PYTHON" -W error::ResourceWarning -m unittest -v test_mpi
