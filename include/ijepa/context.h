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

/** Free a context. NULL is a no-op. Free every handle created from it first. */
IJEPA_API void ijepa_context_free(ijepa_context *ctx);

/**
 * Name of the instruction set the compute backend dispatches to on this CPU,
 * e.g. "avx512_core_amx". Static storage, never NULL.
 */
IJEPA_API const char *ijepa_context_cpu_isa(const ijepa_context *ctx);

/** Number of threads the backend will use (the OpenMP pool size). */
IJEPA_API int32_t ijepa_context_num_threads(const ijepa_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_CONTEXT_H */
