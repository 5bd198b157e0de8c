/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa common definitions: export macro, status codes, error messages,
 * runtime version.
 *
 * Error convention (every header follows it; libgit2's model):
 *   - Functions that can fail return int: IJEPA_OK (0) on success, one of the
 *     negative ijepa_status values on failure. Nothing is changed on failure
 *     unless the function's documentation says otherwise.
 *   - Each failure records a one-line message that names the public function
 *     and the cause, e.g. "ijepa_encoder_forward(): batch 40 exceeds
 *     batch_size 32", as the calling thread's last error: read it with
 *     ijepa_last_error() right after the failing call. It is the one place
 *     for every message, of any function on any handle. A function that
 *     fails because a function it called failed keeps that function's
 *     message (the innermost cause), e.g. ijepa_trainer_step() reports the
 *     encoder's "ijepa_encoder_forward(): ...".
 *   - Strings returned by the library are owned by it: never free them. A
 *     message stays valid until the next failing call on the same thread.
 *
 * Threading: a handle is used by one thread at a time; distinct handles may be
 * used concurrently from distinct threads when they were created from
 * distinct contexts (handles of one context share its compute stream, so
 * use them from one thread at a time), or need none (mask sampler, image,
 * checkpoint, optimizer), unless one works on another's memory: an
 * optimizer steps the buffers of the models added to it, which are busy
 * meanwhile. Each host thread that computes brings its own OpenMP team: two
 * trainers in two threads at OMP_NUM_THREADS=2 run four compute threads.
 * A config is the exception: functions
 * that only read it (the getters, copying it, creating handles from it) may
 * run on one config from many threads at once, since a failure is recorded
 * in the calling thread only. The library has no locks and no mutable global
 * state apart from the per-thread error message and the CPU's features,
 * probed once (pthread_once) (a dataset handle,
 * dataset.h, has worker threads and a mutex of its own, private to it).
 * Compute runs on the host's OpenMP thread pool (OMP_NUM_THREADS); the
 * library never changes process-wide OpenMP settings.
 */
#ifndef IJEPA_COMMON_H
#define IJEPA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(IJEPA_BUILDING) && defined(__GNUC__)
#define IJEPA_API __attribute__((visibility("default")))
#else
#define IJEPA_API
#endif

#if defined(__GNUC__)
#define IJEPA_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define IJEPA_DEPRECATED(msg)
#endif

/** Status codes. Append-only: values never change. */
typedef enum ijepa_status {
    IJEPA_OK = 0,
    IJEPA_ERR_INVALID_ARG = -1, /**< NULL handle, bad value, wrong shape  */
    IJEPA_ERR_NOMEM = -2,       /**< an allocation failed                  */
    IJEPA_ERR_IO = -3,          /**< a file could not be read or written   */
    IJEPA_ERR_FORMAT = -4,      /**< corrupt or unsupported image/checkpoint */
    IJEPA_ERR_UNSUPPORTED = -5, /**< valid request this build cannot serve */
    IJEPA_ERR_BACKEND = -6,     /**< oneDNN reported a failure             */
    IJEPA_ERR_STATE = -7,       /**< call out of order (e.g. backward without a training forward) */
    IJEPA_ERR_NUMERIC = -8      /**< non-finite value (NaN/Inf loss)       */
} ijepa_status;

/**
 * Short static description of a status code ("invalid argument", ...).
 * Never returns NULL; unknown codes give "unknown status".
 */
IJEPA_API const char *ijepa_status_string(int status);

/**
 * Message of the last failure on the calling thread, "" if none yet: the
 * library's one error channel (see above). Never NULL. Reading it does not
 * clear it, and a successful call does not change it. Owned by the library;
 * valid until the next failing call on this thread.
 */
IJEPA_API const char *ijepa_last_error(void);

/** Runtime version as IJEPA_VERSION_NUMBER of the library actually loaded. */
IJEPA_API uint32_t ijepa_version_number(void);

/** Runtime version as "MAJOR.MINOR.PATCH". Never NULL. */
IJEPA_API const char *ijepa_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_COMMON_H */
