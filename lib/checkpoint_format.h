/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The libijepa checkpoint format, shared by the reader (checkpoint_read.c)
 * and the writer (checkpoint_write.c), which both sit on this file and on
 * nothing of each other: little-endian byte order, CRC-32, and the metadata
 * keys with their checksum. docs/checkpoint.md is the specification.
 */
#ifndef IJEPA_CHECKPOINT_FORMAT_H
#define IJEPA_CHECKPOINT_FORMAT_H

#include "internal.h"

/* "format" and "ijepa.format_version" of the files this library writes and
 * reads. */
#define IJEPA__CKPT_FORMAT "libijepa"
#define IJEPA__CKPT_FORMAT_VERSION "1"

/* --- little-endian -------------------------------------------------------- */

uint64_t ijepa__le_u64(const unsigned char p[8]);
void ijepa__le_put_u64(unsigned char p[8], uint64_t v);
/* n float32 values from / to little-endian bytes (a copy on little-endian
 * hosts). */
void ijepa__le_get_f32(float *dst, const unsigned char *src, int64_t n);
void ijepa__le_put_f32(unsigned char *dst, const float *src, int64_t n);
float ijepa__le_f32(const unsigned char p[4]);

/* --- element types -------------------------------------------------------- */

/* The safetensors dtypes a checkpoint's tensors may have. Files written by
 * libijepa hold F32 only; the reader converts the others to float32 (the
 * rule is in docs/checkpoint.md). */
enum { IJEPA__DT_F32 = 0, IJEPA__DT_F16 = 1, IJEPA__DT_BF16 = 2, IJEPA__DT_F64 = 3 };
#define IJEPA__NDTYPES 4

/* The dtype called name ("F32", ...), or -1. */
int ijepa__dtype_of(const char *name);
/* Its name, and its element size in bytes. */
const char *ijepa__dtype_name(int dtype);
int ijepa__dtype_size(int dtype);

/* Convert n little-endian elements of dtype at src to float32: F32, F16 and
 * BF16 exactly, F64 to the nearest float32 (ties to even; past float32's
 * range: +-inf). */
void ijepa__dtype_get_f32(int dtype, float *dst, const unsigned char *src, int64_t n);

/* --- checksums ------------------------------------------------------------ */

/* zlib's crc32 continued over n bytes (any n). */
uint32_t ijepa__crc32(uint32_t crc, const unsigned char *p, uint64_t n);

/* The metadata keys "ijepa.metadata_checksum" covers, in its order. */
#define IJEPA__NMETA_SUMMED 7
extern const char *const ijepa__meta_summed[IJEPA__NMETA_SUMMED];

/* CRC-32 of key, NUL, value, NUL for each key of ijepa__meta_summed (values
 * in the same order). */
uint32_t ijepa__metadata_crc(const char *const values[IJEPA__NMETA_SUMMED]);

#endif
