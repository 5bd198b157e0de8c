/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/dist.h for ijepa-train without MPI: one process
 * trains alone. Started by mpirun (each rank has OMPI_COMM_WORLD_SIZE, or
 * PMI_SIZE under MPICH's launcher), it replaces itself by ijepa-train-mpi
 * from its own directory, the same program built with Open MPI, with the
 * same arguments; without one, it stops rather than train the same run
 * once per rank into the same files.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "dist.h"

#define MPI_PROGRAM "ijepa-train-mpi"

ex_dist *ex_dist_init(int *argc, char ***argv)
{
    (void)argc;
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (!size)
        size = getenv("PMI_SIZE");
    if (!size)
        return NULL;
    char path[4096];
    const ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof MPI_PROGRAM - 1);
    char *slash = n > 0 ? memchr(path, '/', (size_t)n) : NULL;
    if (slash) {
        path[n] = '\0';
        strcpy(strrchr(path, '/') + 1, MPI_PROGRAM);
        execv(path, *argv); /* returns only on failure */
        if (errno != ENOENT)
            fprintf(stderr, "%s: cannot run %s: %s\n", ex_prog, path, strerror(errno));
    }
    fprintf(stderr, "%s: started by mpirun (%s ranks), but this build has no MPI: %s is not "
                    "next to it (make builds examples/%s when Open MPI's mpicc is installed; "
                    "make install does not install it)\n", ex_prog, size, MPI_PROGRAM,
            MPI_PROGRAM);
    exit(EX_EXIT_USAGE);
}

void ex_dist_finish(ex_dist *d)
{
    (void)d;
}
