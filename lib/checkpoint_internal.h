/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * What the checkpoint layer (checkpoint_read.c, checkpoint_load.c,
 * checkpoint_write.c) offers the rest of lib/ beyond checkpoint.h, and the
 * tests: the group checker and loader (validate every group, then copy) and
 * the writer's system-call hooks. Not exported.
 *
 * Layering: checkpoint_format.c is below the reader and the writer; the
 * reader and the writer know nothing of each other; the trainer
 * (trainer.c) is above them and uses the public reader and writer plus
 * ijepa__checkpoint_load() below.
 */
#ifndef IJEPA_CHECKPOINT_INTERNAL_H
#define IJEPA_CHECKPOINT_INTERNAL_H

#include <sys/types.h>

#include "internal.h"

/* A group of tensors: "<prefix>.<name>" in the file for every tensor <name>
 * of table, in a buffer laid out as the table says. */
typedef struct ijepa__ckpt_group {
    const char *prefix;
    const ijepa_tensor_table *table;
    float *data;
} ijepa__ckpt_group;

/* The file name a reader uses in its messages. */
const char *ijepa__checkpoint_name(const ijepa_checkpoint *ck);

/*
 * Check n groups of ck by names and shapes only (the values are not looked
 * at, the buffers may be NULL): each tensor of a group's table present with
 * the table's shape, no other tensor of the file under "<prefix>."; with
 * whole_file, no tensor of the file outside the groups. The empty prefix
 * names a group without a prefix (a bare state dict). Errors as below.
 */
int ijepa__checkpoint_check(ijepa_checkpoint *ck, const char *func, const ijepa__ckpt_group *g,
                            int n, int whole_file);

/*
 * Load n groups from ck into their buffers, all or nothing: first every
 * group is checked (each tensor of its table present with the table's shape
 * and finite values, no other tensor of the file under "<prefix>."; with
 * whole_file, also no tensor of the file outside the groups), then all are
 * copied. On failure no buffer has been written. Failures are recorded as
 * "<func>(): <file>: <cause>" (IJEPA_ERR_FORMAT), or IJEPA_ERR_INVALID_ARG
 * for a bad prefix, table or buffer.
 */
int ijepa__checkpoint_load(ijepa_checkpoint *ck, const char *func, const ijepa__ckpt_group *g,
                           int n, int whole_file);

/*
 * The system calls of the atomic save, as replaceable function pointers, and
 * its staleness age. The library never changes them; the tests swap in
 * failing versions to check that a failed write, fsync or rename returns
 * IJEPA_ERR_IO, leaves no temporary file and keeps the previous checkpoint.
 */
typedef struct ijepa__ckpt_io {
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd); /* the file, then its directory */
    int (*rename)(const char *from, const char *to);
    /* age in seconds from which an unlocked temporary file of an earlier
     * save is removed (60; the tests lower it to exercise the locks alone) */
    int stale_seconds;
} ijepa__ckpt_io;

extern ijepa__ckpt_io ijepa__ckpt_io_hooks;

/* Reset the hooks to the real system calls and the 60-second age. */
void ijepa__ckpt_io_reset(void);

#endif
