/*
 * What the checkpoint layer (checkpoint_read.c, checkpoint_write.c) offers
 * the rest of lib/ beyond checkpoint.h, and the tests: one loader entry
 * (validate every group, then copy) and the writer's system-call hooks.
 * Not exported.
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
 * The system calls of the atomic save, as replaceable function pointers. The
 * library never changes them; the tests swap in failing versions to check
 * that a failed write, fsync or rename returns IJEPA_ERR_IO, leaves no
 * temporary file and keeps the previous checkpoint.
 */
typedef struct ijepa__ckpt_io {
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd); /* the file, then its directory */
    int (*rename)(const char *from, const char *to);
} ijepa__ckpt_io;

extern ijepa__ckpt_io ijepa__ckpt_io_hooks;

/* Reset the hooks to the real system calls. */
void ijepa__ckpt_io_reset(void);

#endif
