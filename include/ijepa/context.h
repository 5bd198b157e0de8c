/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa runtime context: owns the compute engine (oneDNN CPU engine and
 * stream). Every compute handle is created from a context, which must outlive
 * it. One context may serve many handles; as with all handles, use it from one
 * thread at a time (create one context per thread for independent work).
 */
#ifndef IJEPA_CONTEXT_H
#define IJEPA_CONTEXT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_context ijepa_context;

/**
 * Create a context on the CPU. Fails with IJEPA_ERR_BACKEND if oneDNN
 * cannot create its engine, IJEPA_ERR_NOMEM on allocation failure.
 */
IJEPA_API int ijepa_context_create(ijepa_context **out);

/** Free a context. NULL is a no-op. Free every handle created from it first:
 *  a handle used or freed after its context is undefined behaviour (the
 *  library cannot detect it). In C++, declare the context before the
 *  handles that borrow it, so that it is destroyed after them. */
IJEPA_API void ijepa_context_free(ijepa_context *ctx);

/**
 * Name of the instruction set the compute backend dispatches to on this CPU,
 * e.g. "avx512_core_amx". Static storage, never NULL.
 */
IJEPA_API const char *ijepa_context_cpu_isa(const ijepa_context *ctx);

/**
 * Whether this machine runs the matmuls of a precision (a value of
 * IJEPA_CFG_PRECISION) in hardware. Returns 1 for native, 0 for emulated,
 * IJEPA_ERR_INVALID_ARG for an unknown precision (or a NULL ctx).
 *
 * IJEPA_PRECISION_F32 is always native. IJEPA_PRECISION_BF16 is native where
 * the backend has bf16 matrix instructions: Intel AMX ("avx512_core_amx" in
 * ijepa_context_cpu_isa(); bf16 matmuls measured at 5-6 times the float32
 * speed) and AVX512-BF16 ("avx512_core_bf16"; measured on AMD Zen 4 at about
 * twice). Elsewhere bf16 works but is emulated: the bf16 operands are
 * widened and multiplied in float32, which gives the same values as the
 * hardware path up to the order of the float32 sums and the hardware's
 * flushing of subnormals (bf16 products are exact in float32) at about
 * float32 speed plus the conversions
 * (docs/performance.md has what it costs). The answer follows the ISA the
 * backend dispatches to, so ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA) below
 * avx512_core_bf16 gives 0 (the variable is read once per process, before
 * the first context is made: set it in the environment of the process).
 * Thread-safe.
 */
IJEPA_API int ijepa_context_precision_native(const ijepa_context *ctx, int32_t precision);

/** Number of threads the backend will use (the OpenMP pool size). */
IJEPA_API int32_t ijepa_context_num_threads(const ijepa_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_CONTEXT_H */
