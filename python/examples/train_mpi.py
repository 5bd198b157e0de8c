#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Data-parallel I-JEPA pretraining from Python with mpi4py: the twin of
ijepa-train under mpirun (examples/dist_mpi.c), on train.py's loop.

    mpirun -np 2 -x IJEPA_LIBRARY=$PWD/lib/libijepa.so.0 \
        /usr/bin/python3 python/examples/train_mpi.py --preset tiny --steps 20 --out run

(IJEPA_LIBRARY: the library of a built source tree; not needed once
libijepa is installed.)

Every rank holds the whole model; the global batch (--batch, batch_size) is
cut into one slice per rank. Each step every rank computes its slice
(Trainer.compute: masks of the whole batch, gradients scaled to the whole
batch), the context encoder's and predictor's gradients and the step's
partials are summed over the ranks in place (MPI.Comm.Allreduce with
MPI.IN_PLACE on the library's own buffers, seen from numpy without a
copy), and every rank applies the same sums (Trainer.apply), so the ranks
stay bit-identical and the run means what one process on the whole batch
would train. Rank 0 writes --out (log.csv, checkpoint.safetensors) and
prints. The ranks check at the start that they run the same library,
configuration and data, and compare a checksum of their training state
after --resume, every --check-every steps and at the end.

Options: those of train.py, plus --check-every K (default 1000; 0: start
and end only) and --mpi-timeout S (default 600; 0: wait forever: a rank
whose collective call has waited S seconds plus four times the longest step
for the others ends itself, and mpirun stops the rest). --threads is per
rank.
"""
import hashlib
import os
import sys
import threading
import time


class MpiRanks:
    """The data-parallel ranks for train.train_on() (its `dist`)."""

    def __init__(self, comm, check_every, timeout):
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.check_every = check_every
        self.buffers = None
        # the watchdog (examples/dist_mpi.c's): a rank that stopped or hangs
        # would keep the others in a collective call forever
        self.timeout, self.waiting_since, self.longest, self.last = timeout, None, 0.0, None
        if timeout > 0:
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while True:
            time.sleep(0.25)
            since = self.waiting_since
            if since is not None and time.monotonic() - since > self.timeout + 4 * self.longest:
                print("train_mpi.py (rank %d): the other ranks have not answered for %.0f s "
                      "(--mpi-timeout %g s plus 4 x the longest step): a rank has stopped or "
                      "hangs; giving up" % (self.rank, time.monotonic() - since, self.timeout),
                      file=sys.stderr, flush=True)
                os._exit(1)

    def _collective(self, call, *args, **kw):
        self.waiting_since = time.monotonic()
        try:
            return call(*args, **kw)
        finally:
            self.waiting_since = None

    def _stop(self, message):
        """Every rank has gathered the same checksums: all stop together."""
        if self.rank == 0:
            print("train_mpi.py: " + message, file=sys.stderr)
        self._collective(self.comm.Barrier)
        raise SystemExit(1)

    def _differing(self, values):
        return [r for r in range(1, self.size) if values[r] != values[0]]

    def same_run(self, cfg, data_id, steps):
        import ijepa
        mine = tuple(hashlib.blake2b(b).hexdigest() for b in (
            ijepa.version().encode(), cfg.to_text().encode(), data_id, str(steps).encode()))
        every = self._collective(self.comm.allgather, mine)
        what = ("the libijepa version", "the configuration (give every rank the same options)",
                "the data (the same files and --limit everywhere)",
                "the number of steps (the same --steps or --epochs everywhere)")
        bad = ["ranks %s differ from rank 0 in %s" % (self._differing([e[j] for e in every]),
                                                      what[j])
               for j in range(4) if self._differing([e[j] for e in every])]
        if bad:
            self._stop("; ".join(bad))

    def reduce(self, tr):
        from mpi4py import MPI
        if self.buffers is None:  # numpy views of the library's buffers: no copies
            self.buffers = (tr.context_encoder.grads, tr.predictor.grads, tr.partials)
        now = time.monotonic()
        if self.last is not None:
            self.longest = max(self.longest, now - self.last)
        for buf in self.buffers:
            self._collective(self.comm.Allreduce, MPI.IN_PLACE, buf, op=MPI.SUM)
        self.last = time.monotonic()

    def agree(self, tr):
        h = hashlib.blake2b(str(tr.step_count).encode())
        for model in (tr.context_encoder, tr.target_encoder, tr.predictor):
            h.update(model.params.tobytes())
        for group in (0, 1):
            for moment in tr.optimizer.moments(group):
                h.update(moment.tobytes())
        every = self._collective(self.comm.allgather, h.hexdigest())
        bad = self._differing(every)
        if bad:
            self._stop("at step %d the training state of ranks %s differs from rank 0's "
                       "(they diverged); stopping" % (tr.step_count, bad))


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import train
    ap = train.parser(__doc__.split("\n\n")[0])
    ap.add_argument("--check-every", type=int, default=1000, metavar="K")
    ap.add_argument("--mpi-timeout", type=float, default=600, metavar="S")
    a, cfg, feed, steps = train.setup(argv, ap)
    from mpi4py import MPI  # initialises MPI (after --threads set OMP_NUM_THREADS)
    import ijepa
    ranks = MpiRanks(MPI.COMM_WORLD, a.check_every, a.mpi_timeout)
    if a.data and ranks.size > 1 and cfg["data_on_error"] == ijepa.DATA_SKIP:
        ap.error("data_on_error=skip cannot train on %d ranks: a skipped file would shift the "
                 "images of the other ranks' slices" % ranks.size)
    if ranks.rank == 0 and not a.quiet:
        print("train_mpi.py: %d rank%s, global batch %d"
              % (ranks.size, "" if ranks.size == 1 else "s", cfg["batch_size"]), file=sys.stderr)
    try:
        losses = train.train_on(cfg, feed, steps, a.out, a.quiet, a.resume, a.save_every,
                                ranks, scheduled=True)
    except ijepa.IjepaError as e:  # one line, exit 1, as ijepa-train says a failure
        print("train_mpi.py (rank %d): %s" % (ranks.rank, e), file=sys.stderr)
        return 1
    if a.data:
        feed.ds.close()
    if ranks.rank == 0:
        n = len(losses)
        print("trained %d step%s: loss %.5f -> %.5f" % (n, "" if n == 1 else "s", losses[0],
                                                        losses[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
