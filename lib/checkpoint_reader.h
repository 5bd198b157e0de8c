/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The checkpoint reader's state, shared by its two files: checkpoint_read.c
 * (reading and validating a file: header first, data last) and
 * checkpoint_load.c (checking tensor groups against tensor tables and
 * copying them into buffers). Nothing else includes this header.
 */
#ifndef IJEPA_CHECKPOINT_READER_H
#define IJEPA_CHECKPOINT_READER_H

#include "checkpoint_format.h"
#include "checkpoint_internal.h"

typedef struct ijepa__ckpt_entry {
    char *name;
    int32_t ndim;
    int32_t dtype;                   /* IJEPA__DT_* */
    int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end;             /* byte range in the data section */
} ijepa__ckpt_entry;

struct ijepa_checkpoint {
    ijepa__err err;
    char *file;                      /* name used in messages */
    unsigned char *data;             /* the data section [data_size] */
    uint64_t data_size;
    ijepa__ckpt_entry *e;            /* [n], sorted by data offset */
    int64_t *by_name;                /* [n] entry indices sorted by name */
    int64_t n;
    char **mkey, **mval;             /* [nmeta] __metadata__, in file order */
    int64_t nmeta;
    int libijepa;                    /* "format": "libijepa" */
    ijepa_config *cfg;               /* libijepa files: their configuration */
    int64_t step;
};

/* Record a format error "<file>: <cause>" under the running function. */
int ijepa__ckpt_ferr(ijepa_checkpoint *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
