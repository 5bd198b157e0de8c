/*
 * Shared helpers of the example programs: error checks, timing, config
 * settings, feature extraction. Examples may exit on failure;
 * the library never does.
 */
#ifndef IJEPA_EXAMPLES_UTIL_H
#define IJEPA_EXAMPLES_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <ijepa/ijepa.h>

#include "fmnist.h"

static const char *ex_prog = "ijepa";

#define CHECK(call)                                                                 \
    do {                                                                            \
        int rc_ = (call);                                                           \
        if (rc_ < 0) {                                                              \
            fprintf(stderr, "%s: %s: %s\n", ex_prog, ijepa_status_string(rc_),      \
                    ijepa_last_error());                                            \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static inline double ex_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline void *ex_malloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", ex_prog, n);
        exit(1);
    }
    return p;
}

static inline void ex_mkdir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", ex_prog, dir, strerror(errno));
        exit(1);
    }
}

/* Set a config key from "name=value" text, by the key's type; integer
 * keys with named values take the name too (precision=bf16, loss=l2). */
static inline int ex_config_set(ijepa_config *cfg, const char *name, const char *value)
{
    int32_t key;
    if (ijepa_config_key_from_name(name, &key) < 0)
        return -1;
    char *end;
    if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
        int64_t named;
        if (ijepa_config_value_name(key, 0) &&
            ijepa_config_value_from_name(key, value, &named) == IJEPA_OK)
            return ijepa_config_set_int(cfg, key, named) < 0 ? -1 : 0;
        long long v = strtoll(value, &end, 10);
        if (*end || end == value)
            return -1;
        return ijepa_config_set_int(cfg, key, v) < 0 ? -1 : 0;
    }
    double v = strtod(value, &end);
    if (*end || end == value)
        return -1;
    return ijepa_config_set_float(cfg, key, v) < 0 ? -1 : 0;
}

/* Average-pooled features [n, D] of dataset images [0, n) at img x img. */
static inline void ex_extract(ijepa_encoder *enc, const fmnist *ds, int64_t n, int64_t img,
                       int64_t batch, float mean, float std, float *feats)
{
    const int64_t N = ijepa_encoder_num_patches(enc), D = ijepa_encoder_embed_dim(enc);
    float *x = ex_malloc((size_t)(batch * img * img) * sizeof(float));
    float *out = ex_malloc((size_t)(batch * N * D) * sizeof(float));
    for (int64_t i = 0; i < n; i += batch) {
        const int64_t b = n - i < batch ? n - i : batch;
        fmnist_batch(ds, i, b, img, mean, std, x);
        CHECK(ijepa_encoder_forward(enc, x, b, NULL, 0, out, IJEPA_FORWARD_INFERENCE));
        for (int64_t j = 0; j < b; j++)
            for (int64_t d = 0; d < D; d++) {
                double s = 0;
                for (int64_t t = 0; t < N; t++)
                    s += out[(j * N + t) * D + d];
                feats[(i + j) * D + d] = (float)(s / (double)N);
            }
    }
    free(x);
    free(out);
}

#endif
