/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/fmnist.h, Fashion-MNIST's files and images.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common.h"
#include "fmnist.h"

// --- IDX files ----------------------------------------------------------------------

static int idx_read_u32(gzFile f, uint32_t *v)
{
    unsigned char b[4];
    if (gzread(f, b, 4) != 4)
        return -1;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

/* Read one IDX file of unsigned bytes with 1 or 3 dimensions. Returns the
 * data (malloc'd) and fills dims; NULL with a message in err on failure. */
static uint8_t *idx_read(const char *path, int want_ndim, uint32_t dims[3], char *err,
                         size_t errlen)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    uint32_t magic;
    uint8_t *data = NULL;
    if (idx_read_u32(f, &magic) != 0 || (magic >> 8) != 0x08 || (int)(magic & 0xff) != want_ndim) {
        snprintf(err, errlen, "%s: not an IDX file of %d-D unsigned bytes", path, want_ndim);
        goto done;
    }
    /* each dimension, and their product after each step, within 2^31: three
     * dimensions of up to 10^7 would overflow 64 bits otherwise */
    uint64_t total = 1;
    for (int i = 0; i < want_ndim; i++) {
        if (idx_read_u32(f, &dims[i]) != 0 || dims[i] == 0 || dims[i] > 10000000) {
            snprintf(err, errlen, "%s: bad dimension %d", path, i);
            goto done;
        }
        total *= dims[i];
        if (total > ((uint64_t)1 << 31)) {
            snprintf(err, errlen, "%s: too large", path);
            goto done;
        }
    }
    data = malloc((size_t)total);
    if (!data) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    if ((uint64_t)gzread(f, data, (unsigned)total) != total) {
        snprintf(err, errlen, "%s: truncated", path);
        free(data);
        data = NULL;
    }
done:
    gzclose(f);
    return data;
}

const char *fmnist_default_dir(void)
{
    const char *dir = getenv("IJEPA_FMNIST_DIR");
    return dir && *dir ? dir : FMNIST_DEFAULT_DIR;
}

int fmnist_load(fmnist *ds, const char *dir, const char *split, char *err, size_t errlen)
{
    char path[4096];
    uint32_t di[3], dl[3];
    memset(ds, 0, sizeof *ds);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    ds->pixels = idx_read(path, 3, di, err, errlen);
    if (!ds->pixels)
        return -1;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    ds->labels = idx_read(path, 1, dl, err, errlen);
    if (!ds->labels) {
        free(ds->pixels);
        return -1;
    }
    if (dl[0] != di[0]) {
        snprintf(err, errlen, "%s: %u labels for %u images", dir, dl[0], di[0]);
        free(ds->pixels);
        free(ds->labels);
        return -1;
    }
    for (uint32_t i = 0; i < dl[0]; i++)
        if (ds->labels[i] > 9) { /* the probe indexes its 10 classes with them */
            snprintf(err, errlen, "%s: label %u of image %u is not a class 0-9", dir,
                     ds->labels[i], i);
            free(ds->pixels);
            free(ds->labels);
            return -1;
        }
    ds->n = di[0];
    ds->rows = di[1];
    ds->cols = di[2];
    return 0;
}

void fmnist_load_or_exit(fmnist *ds, const char *dir, const char *split)
{
    char err[512];
    if (fmnist_load(ds, dir, split, err, sizeof err) == 0)
        return;
    const char *env = getenv("IJEPA_FMNIST_DIR");
    if (env && *env && !strcmp(env, dir))
        ex_fail("%s (the directory is IJEPA_FMNIST_DIR=%s: point it at Fashion-MNIST, or "
                "unset it for %s, where dataset-fashion-mnist installs it; or give "
                "--fmnist DIR or --data DIR)", err, env, FMNIST_DEFAULT_DIR);
    if (!strcmp(dir, FMNIST_DEFAULT_DIR))
        ex_fail("%s (install dataset-fashion-mnist, or give --fmnist DIR or --data DIR)", err);
    ex_fail("%s (--fmnist DIR needs the gzipped IDX files of Fashion-MNIST, as "
            "dataset-fashion-mnist installs them in %s; or give --data DIR)", err,
            FMNIST_DEFAULT_DIR);
}

void fmnist_free(fmnist *ds)
{
    free(ds->pixels);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

// --- images through the library's transforms --------------------------------------------

void fmnist_transform(const fmnist *ds, int64_t i, const ijepa_config *cfg, int train,
                      uint64_t seed, float *out)
{
    int64_t chans;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &chans));
    if (chans != 1) {
        ex_usage_error("Fashion-MNIST images have 1 channel, the encoder's in_chans is %lld",
                       (long long)chans);
    }
    ijepa_image *img;
    CHECK(ijepa_image_from_pixels(&img, ds->pixels + i * ds->rows * ds->cols, ds->cols,
                                  ds->rows, 1));
    if (train)
        CHECK(ijepa_image_transform_train(img, cfg, seed, out));
    else
        CHECK(ijepa_image_transform_eval(img, cfg, out));
    ijepa_image_free(img);
}

uint64_t fmnist_crop_seed(uint64_t seed, int64_t position)
{
    return seed * 0x9e3779b97f4a7c15ULL + (uint64_t)position;
}

void fmnist_features(ijepa_encoder *enc, const fmnist *ds, int64_t n, float *feats)
{
    const ijepa_config *cfg = ijepa_encoder_config(enc);
    int64_t batch, img;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &batch));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    const int64_t N = ijepa_encoder_num_patches(enc), D = ijepa_encoder_embed_dim(enc);
    float *x = ex_malloc((size_t)(batch * img * img) * sizeof(float));
    float *tok = ex_malloc((size_t)(batch * N * D) * sizeof(float));
    for (int64_t i = 0; i < n; i += batch) {
        const int64_t b = n - i < batch ? n - i : batch;
        for (int64_t j = 0; j < b; j++)
            fmnist_transform(ds, i + j, cfg, 0, 0, x + j * img * img);
        CHECK(ijepa_encoder_forward(enc, x, b, NULL, 0, tok, IJEPA_FORWARD_INFERENCE));
        ex_pool(tok, b, N, D, feats + i * D);
    }
    free(x);
    free(tok);
}

linprobe_result fmnist_probe(ijepa_encoder *enc, const fmnist *train_all, const fmnist *test,
                             int epochs, int64_t ntrain)
{
    fmnist sub = *train_all;
    if (ntrain > 0 && ntrain < sub.n)
        sub.n = ntrain;
    const fmnist *train = &sub;
    const int64_t d = enc ? ijepa_encoder_embed_dim(enc) : train->rows * train->cols;
    float *xtr = ex_malloc((size_t)(train->n * d) * sizeof(float));
    float *xte = ex_malloc((size_t)(test->n * d) * sizeof(float));
    if (enc) {
        fmnist_features(enc, train, train->n, xtr);
        fmnist_features(enc, test, test->n, xte);
    } else {
        for (int64_t i = 0; i < train->n * d; i++)
            xtr[i] = (float)train->pixels[i] / 255.0f;
        for (int64_t i = 0; i < test->n * d; i++)
            xte[i] = (float)test->pixels[i] / 255.0f;
    }
    int32_t *ytr = ex_malloc((size_t)train->n * sizeof *ytr);
    int32_t *yte = ex_malloc((size_t)test->n * sizeof *yte);
    for (int64_t i = 0; i < train->n; i++)
        ytr[i] = train->labels[i];
    for (int64_t i = 0; i < test->n; i++)
        yte[i] = test->labels[i];
    linprobe_result r;
    const int64_t nval = train->n / 6 < 10000 ? train->n / 6 : 10000;
    if (linprobe_run(xtr, ytr, train->n, xte, yte, test->n, d, 10, nval, epochs, &r) != 0)
        ex_fail("out of memory in the linear probe");
    free(ytr);
    free(yte);
    free(xtr);
    free(xte);
    return r;
}
