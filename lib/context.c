/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the runtime context (the oneDNN CPU engine and stream that every
 * compute handle borrows).
 */
#include <stdlib.h>

#include <omp.h>

#include "context_internal.h"

int ijepa_context_create(ijepa_context **out)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    ijepa_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate a context");
    ijepa__err e = {__func__};
    int rc = ijepa__engine_create(&ctx->eng, &e);
    if (rc < 0) {
        free(ctx);
        return rc;
    }
    *out = ctx;
    return IJEPA_OK;
}

void ijepa_context_free(ijepa_context *ctx)
{
    if (!ctx)
        return;
    ijepa__engine_free(ctx->eng);
    free(ctx);
}

const char *ijepa_context_cpu_isa(const ijepa_context *ctx)
{
    (void)ctx;
    return ijepa__engine_isa();
}

int ijepa_context_precision_native(const ijepa_context *ctx, int32_t precision)
{
    if (!ctx)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "ctx is NULL");
    switch (precision) {
    case IJEPA_PRECISION_F32: return 1;
    case IJEPA_PRECISION_BF16: return ijepa__engine_bf16_native();
    default:
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown precision %d",
                                (int)precision);
    }
}

int32_t ijepa_context_num_threads(const ijepa_context *ctx)
{
    (void)ctx;
    return (int32_t)omp_get_max_threads();
}
