/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: status strings, the per-thread error message (the library's
 * one error channel), runtime version.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char tls_msg[IJEPA__ERRLEN];

/* Format into a local buffer first: the arguments may point into tls_msg
 * (a caller that adds context to the cause it just got). */
static void record(const char *func, const char *fmt, va_list ap)
{
    char msg[IJEPA__ERRLEN];
    int n = 0;
    if (func) {
        n = snprintf(msg, sizeof msg, "%s(): ", func);
        if (n < 0 || n >= (int)sizeof msg)
            n = 0;
    }
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    memcpy(tls_msg, msg, sizeof tls_msg);
}

int ijepa__fail(ijepa__err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(e ? e->func : NULL, fmt, ap);
    va_end(ap);
    return code;
}

int ijepa__fail_func(const char *func, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(func, fmt, ap);
    va_end(ap);
    return code;
}

const char *ijepa_last_error(void) { return tls_msg; }

const char *ijepa_status_string(int status)
{
    switch (status) {
    case IJEPA_OK: return "success";
    case IJEPA_ERR_INVALID_ARG: return "invalid argument";
    case IJEPA_ERR_NOMEM: return "out of memory";
    case IJEPA_ERR_IO: return "input/output error";
    case IJEPA_ERR_FORMAT: return "invalid or unsupported file format";
    case IJEPA_ERR_UNSUPPORTED: return "unsupported operation";
    case IJEPA_ERR_BACKEND: return "compute backend failure";
    case IJEPA_ERR_STATE: return "call out of order";
    case IJEPA_ERR_NUMERIC: return "non-finite numeric result";
    default: return "unknown status";
    }
}

uint32_t ijepa_version_number(void) { return IJEPA_VERSION_NUMBER; }

const char *ijepa_version_string(void) { return IJEPA_VERSION_STRING; }
