/*
 * Shared helpers of the example programs: error checks, timing, config
 * files, weight files, feature extraction. Examples may exit on failure;
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

/* Set a config key from "name=value" text, by the key's type. */
static inline int ex_config_set(ijepa_config *cfg, const char *name, const char *value)
{
    int32_t key;
    if (ijepa_config_key_from_name(name, &key) < 0)
        return -1;
    char *end;
    if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
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

/* Write every key as "name = value" lines. */
static inline void ex_config_save(const ijepa_config *cfg, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", ex_prog, path, strerror(errno));
        exit(1);
    }
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        int32_t key = ijepa_config_key_at(i);
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            int64_t v;
            CHECK(ijepa_config_get_int(cfg, key, &v));
            fprintf(f, "%s = %lld\n", ijepa_config_key_name(key), (long long)v);
        } else {
            double v;
            CHECK(ijepa_config_get_float(cfg, key, &v));
            fprintf(f, "%s = %.17g\n", ijepa_config_key_name(key), v);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
        exit(1);
    }
}

/* Read "name = value" lines into cfg. */
static inline void ex_config_load(ijepa_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", ex_prog, path, strerror(errno));
        exit(1);
    }
    char line[512], name[128], value[128];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, " %127[a-z0-9_] = %127s", name, value) != 2 ||
            ex_config_set(cfg, name, value) != 0) {
            fprintf(stderr, "%s: %s:%d: bad setting: %s\n", ex_prog, path, n, ijepa_last_error());
            exit(1);
        }
    }
    fclose(f);
}

/* Raw little-endian float32 parameter dump of an encoder. */
static inline void ex_weights_save(ijepa_encoder *enc, const char *path)
{
    float *p;
    int64_t n;
    CHECK(ijepa_encoder_params(enc, &p, &n));
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, sizeof(float), (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
        exit(1);
    }
}

static inline void ex_weights_load(ijepa_encoder *enc, const char *path)
{
    float *p;
    int64_t n;
    CHECK(ijepa_encoder_params(enc, &p, &n));
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", ex_prog, path, strerror(errno));
        exit(1);
    }
    size_t got = fread(p, sizeof(float), (size_t)n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != (size_t)n || extra) {
        fprintf(stderr, "%s: %s does not hold %lld floats for this configuration\n", ex_prog,
                path, (long long)n);
        exit(1);
    }
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
