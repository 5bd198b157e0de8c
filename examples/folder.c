/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/folder.h, folders of the user's images.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "folder.h"

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The class directory of a relative path: its first component, copied; or
 * NULL if the file is directly in the root. */
static char *class_of(const char *rel)
{
    const char *slash = strchr(rel, '/');
    return slash ? strndup(rel, (size_t)(slash - rel)) : NULL;
}

void ex_folder_open(ex_folder *f, const char *dir, const ijepa_config *cfg, int labelled)
{
    memset(f, 0, sizeof *f);
    ijepa_config *dcfg;
    CHECK(ijepa_config_copy(&dcfg, cfg));
    CHECK(ijepa_config_set_int(dcfg, IJEPA_CFG_DATA_TRANSFORM, IJEPA_DATA_EVAL));
    CHECK(ijepa_config_set_int(dcfg, IJEPA_CFG_DATA_SHUFFLE, 0));
    CHECK(ijepa_config_get_int(dcfg, IJEPA_CFG_IN_CHANS, &f->chans));
    CHECK(ijepa_config_get_int(dcfg, IJEPA_CFG_IMG_SIZE, &f->img));
    CHECK(ijepa_config_get_int(dcfg, IJEPA_CFG_BATCH_SIZE, &f->batch));
    if (f->chans != 1 && f->chans != 3)
        ex_usage_error("%s: images decode to 1 or 3 channels, the encoder has %lld", dir,
                       (long long)f->chans);
    ex_check_data(ijepa_dataset_create(&f->ds, dir, dcfg));
    ijepa_config_free(dcfg);
    f->n = ijepa_dataset_size(f->ds);

    /* the dataset names image i DIR + "/" + relative path, DIR without
     * trailing slashes ("/" itself stays "/") */
    size_t rl = strlen(dir);
    while (rl > 1 && dir[rl - 1] == '/')
        rl--;
    f->root_len = rl == 1 && dir[0] == '/' ? 1 : rl + 1;
    if (!labelled)
        return;

    /* classes: the distinct first components, sorted */
    char **names = ex_malloc((size_t)f->n * sizeof *names);
    for (int64_t i = 0; i < f->n; i++) {
        names[i] = class_of(ex_folder_relpath(f, i));
        if (!names[i])
            ex_fail("%s is not in a class directory: a labelled folder holds one directory "
                    "per class (%s/CLASS/IMAGE)", ex_folder_path(f, i), dir);
    }
    char **sorted = ex_malloc((size_t)f->n * sizeof *sorted);
    memcpy(sorted, names, (size_t)f->n * sizeof *sorted);
    qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_name);
    f->classes = ex_malloc((size_t)f->n * sizeof *f->classes);
    for (int64_t i = 0; i < f->n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]))
            f->classes[f->nclasses++] = strdup(sorted[i]);
    for (int32_t c = 0; c < f->nclasses; c++)
        if (!f->classes[c])
            ex_fail("out of memory");
    f->labels = ex_malloc((size_t)f->n * sizeof *f->labels);
    for (int64_t i = 0; i < f->n; i++) {
        f->labels[i] = ex_folder_class(f, names[i]);
        free(names[i]);
    }
    free(names);
    free(sorted);
}

const char *ex_folder_path(const ex_folder *f, int64_t i) { return ijepa_dataset_path(f->ds, i); }

const char *ex_folder_relpath(const ex_folder *f, int64_t i)
{
    return ijepa_dataset_path(f->ds, i) + f->root_len;
}

int32_t ex_folder_class(const ex_folder *f, const char *name)
{
    char *const *hit = bsearch(&name, f->classes, (size_t)f->nclasses, sizeof *f->classes,
                               cmp_name);
    return hit ? (int32_t)(hit - f->classes) : -1;
}

void ex_folder_features(ex_folder *f, ijepa_encoder *enc, int64_t n, float *feats)
{
    const int64_t in = f->chans * f->img * f->img;
    const int64_t N = enc ? ijepa_encoder_num_patches(enc) : 0;
    const int64_t D = enc ? ijepa_encoder_embed_dim(enc) : in;
    float *x = enc ? ex_malloc((size_t)(f->batch * in) * sizeof(float)) : NULL;
    float *tok = enc ? ex_malloc((size_t)(f->batch * N * D) * sizeof(float)) : NULL;
    for (int64_t i = 0; i < n; i += f->batch) {
        const int64_t b = n - i < f->batch ? n - i : f->batch;
        CHECK(ijepa_dataset_next_batch(f->ds, b, enc ? x : feats + i * D, NULL));
        if (enc) {
            CHECK(ijepa_encoder_forward(enc, x, b, NULL, 0, tok, IJEPA_FORWARD_INFERENCE));
            ex_pool(tok, b, N, D, feats + i * D);
        }
    }
    free(x);
    free(tok);
}

void ex_folder_free(ex_folder *f)
{
    ijepa_dataset_free(f->ds);
    for (int32_t c = 0; c < f->nclasses; c++)
        free(f->classes[c]);
    free(f->classes);
    free(f->labels);
    memset(f, 0, sizeof *f);
}
