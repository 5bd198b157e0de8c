/*
 * Internal parts of the checkpoint code shared by lib/checkpoint.c (reader,
 * trainer save/load) and lib/checkpoint_write.c (writer, atomic save), and
 * reachable by the tests that link the static library. Not exported.
 */
#ifndef IJEPA_CHECKPOINT_INTERNAL_H
#define IJEPA_CHECKPOINT_INTERNAL_H

#include <sys/types.h>

#include "internal.h"

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

/* zlib crc32 continued over n bytes (any n). */
uint32_t ijepa__crc32(uint32_t crc, const unsigned char *p, uint64_t n);

/* The metadata keys "ijepa.metadata_checksum" covers, in its order. */
#define IJEPA__NMETA_SUMMED 7
extern const char *const ijepa__meta_summed[IJEPA__NMETA_SUMMED];

/* CRC-32 of key, NUL, value, NUL for each key of ijepa__meta_summed (values
 * in the same order). */
uint32_t ijepa__metadata_crc(const char *const values[IJEPA__NMETA_SUMMED]);

/* The writer with failures recorded in e (whose func names the public
 * function being run), so that ijepa_trainer_save() reports as itself. */
int ijepa__writer_new(ijepa_checkpoint_writer **out, const ijepa_config *cfg, int64_t step,
                      ijepa__err *e);
int ijepa__writer_add(ijepa_checkpoint_writer *w, const char *prefix,
                      const ijepa_tensor_table *table, const float *data, ijepa__err *e);
int ijepa__writer_save(ijepa_checkpoint_writer *w, const char *path, ijepa__err *e);

#endif
