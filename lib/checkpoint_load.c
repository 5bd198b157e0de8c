/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the reader's way into buffers (checkpoint.h: reading groups
 * and single tensors, loading handles, checking a file against the handles a
 * configuration implies) and ijepa__checkpoint_load() /
 * ijepa__checkpoint_check() (checkpoint_internal.h).
 *
 * A group is "<prefix>.<name>" for every tensor <name> of a tensor table
 * (just "<name>" with the empty prefix: a bare state dict). Checking a group
 * looks at names and shapes only; loading it also checks every value
 * (finite after the conversion to float32) and copies only when every group
 * passed, so a failed load changes nothing. The configuration-only checks
 * size handles without allocating them (ijepa__encoder_plan()).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_reader.h"
#include "model_internal.h"

#define ferr ijepa__ckpt_ferr

/* Longest "<prefix>.<name>": prefixes are at most 1000 bytes, names 63. */
#define NAME_MAX_LEN 1100

/* Index of the entry called name, or -1. */
static int64_t find(const ijepa_checkpoint *ck, const char *name)
{
    int64_t lo = 0, hi = ck->n - 1;
    while (lo <= hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(ck->e[ck->by_name[mid]].name, name);
        if (c == 0)
            return ck->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void full_name(char *out, const char *prefix, const char *name)
{
    if (*prefix)
        snprintf(out, NAME_MAX_LEN, "%s.%s", prefix, name);
    else
        snprintf(out, NAME_MAX_LEN, "%s", name);
}

/* Is the file's tensor nm under prefix ("" holds everything)? Then *rest is
 * its name in the group. */
static int under(const char *nm, const char *prefix, size_t plen, const char **rest)
{
    if (plen == 0) {
        *rest = nm;
        return 1;
    }
    if (strncmp(nm, prefix, plen) || nm[plen] != '.')
        return 0;
    *rest = nm + plen + 1;
    return 1;
}

/* Index of the first element of x that is not finite as float32, or -1. */
static int64_t first_nonfinite(const ijepa_checkpoint *ck, const ijepa__ckpt_entry *x)
{
    float buf[1024];
    const int64_t esize = ijepa__dtype_size(x->dtype);
    for (int64_t k = 0; k < x->numel; k += 1024) {
        const int64_t m = x->numel - k < 1024 ? x->numel - k : 1024;
        ijepa__dtype_get_f32(x->dtype, buf, ck->data + x->begin + k * esize, m);
        for (int64_t j = 0; j < m; j++)
            if (!isfinite(buf[j]))
                return k + j;
    }
    return -1;
}

static int nonfinite_error(ijepa_checkpoint *ck, const ijepa__ckpt_entry *x, int64_t k)
{
    if (x->dtype == IJEPA__DT_F64) {
        const uint64_t u = ijepa__le_u64(ck->data + x->begin + 8 * k);
        double d;
        memcpy(&d, &u, sizeof d);
        if (isfinite(d))
            return ferr(ck, "tensor '%.100s' holds %g at element %lld, outside float32's range",
                        x->name, d, (long long)k);
    }
    return ferr(ck, "tensor '%.100s' holds a non-finite value at element %lld", x->name,
                (long long)k);
}

/* Check a group against the file without writing anything: every tensor of
 * the table present with its shape (and, with values, finite values), no
 * other tensor under the prefix. Marks the entries used in used[] (may be
 * NULL). */
static int check_group(ijepa_checkpoint *ck, const ijepa__ckpt_group *g, unsigned char *used,
                       int values)
{
    if (!g->prefix || strlen(g->prefix) > 1000)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG,
                           "prefix must be a string of at most 1000 bytes (\"\": none)");
    if (!g->table)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "the tensor table is NULL");
    const size_t plen = strlen(g->prefix);
    char name[NAME_MAX_LEN];
    for (int64_t t = 0; t < g->table->count; t++) {
        const ijepa__tensor *tt = &g->table->t[t];
        full_name(name, g->prefix, tt->name);
        const int64_t i = find(ck, name);
        if (i < 0)
            return ferr(ck, "tensor '%.120s' is missing", name);
        const ijepa__ckpt_entry *x = &ck->e[i];
        int same = x->ndim == tt->ndim;
        for (int32_t d = 0; same && d < tt->ndim; d++)
            same = x->dims[d] == tt->dims[d];
        if (!same) {
            char a[96] = "", b[96] = "";
            for (int32_t d = 0; d < x->ndim; d++)
                snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? ", " : "",
                         (long long)x->dims[d]);
            for (int32_t d = 0; d < tt->ndim; d++)
                snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? ", " : "",
                         (long long)tt->dims[d]);
            return ferr(ck, "tensor '%.100s' has shape [%s], the model needs [%s]", name, a, b);
        }
        if (values) {
            const int64_t k = first_nonfinite(ck, x);
            if (k >= 0)
                return nonfinite_error(ck, x, k);
        }
        if (used)
            used[i] = 1;
    }
    /* extra tensors under the prefix */
    for (int64_t i = 0; i < ck->n; i++) {
        const char *rest;
        if (!under(ck->e[i].name, g->prefix, plen, &rest))
            continue;
        int64_t t = 0;
        while (t < g->table->count && strcmp(g->table->t[t].name, rest))
            t++;
        if (t == g->table->count)
            return ferr(ck, "unexpected tensor '%.120s' (not in the model)", ck->e[i].name);
    }
    return IJEPA_OK;
}

/* Copy a checked group into its buffer (padding is not written). */
static void copy_group(const ijepa_checkpoint *ck, const ijepa__ckpt_group *g)
{
    char name[NAME_MAX_LEN];
    for (int64_t t = 0; t < g->table->count; t++) {
        const ijepa__tensor *tt = &g->table->t[t];
        full_name(name, g->prefix, tt->name);
        const ijepa__ckpt_entry *x = &ck->e[find(ck, name)];
        ijepa__dtype_get_f32(x->dtype, g->data + tt->offset, ck->data + x->begin, x->numel);
    }
}

/* Check n groups (and, with whole_file, that no tensor is outside them). */
static int check_groups(ijepa_checkpoint *ck, const ijepa__ckpt_group *g, int n, int whole_file,
                        int values)
{
    unsigned char *used = calloc((size_t)(ck->n ? ck->n : 1), 1);
    if (!used)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate %lld flags",
                           (long long)ck->n);
    int rc = IJEPA_OK;
    for (int i = 0; rc == IJEPA_OK && i < n; i++)
        rc = check_group(ck, &g[i], used, values);
    for (int64_t i = 0; rc == IJEPA_OK && whole_file && i < ck->n; i++)
        if (!used[i])
            rc = ferr(ck, "unexpected tensor '%.120s' (not in any group loaded)", ck->e[i].name);
    free(used);
    return rc;
}

int ijepa__checkpoint_check(ijepa_checkpoint *ck, const char *func, const ijepa__ckpt_group *g,
                            int n, int whole_file)
{
    ijepa__enter(&ck->err, func);
    return check_groups(ck, g, n, whole_file, 0);
}

int ijepa__checkpoint_load(ijepa_checkpoint *ck, const char *func, const ijepa__ckpt_group *g,
                           int n, int whole_file)
{
    ijepa__enter(&ck->err, func);
    for (int i = 0; i < n; i++)
        if (!g[i].data)
            return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "the buffer is NULL");
    const int rc = check_groups(ck, g, n, whole_file, 1);
    if (rc < 0)
        return rc;
    /* everything checked: nothing below can fail */
    for (int i = 0; i < n; i++)
        copy_group(ck, &g[i]);
    return IJEPA_OK;
}

// --- reading groups, tensors and handles --------------------------------------------------

int ijepa_checkpoint_read(ijepa_checkpoint *ck, const char *prefix,
                          const ijepa_tensor_table *table, float *dst)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    const ijepa__ckpt_group g = {prefix, table, dst};
    return ijepa__checkpoint_load(ck, __func__, &g, 1, 0);
}

int ijepa_checkpoint_load_encoder(ijepa_checkpoint *ck, const char *prefix, ijepa_encoder *enc)
{
    if (!ck || !enc)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "checkpoint and encoder must not be NULL");
    float *p;
    int64_t n;
    ijepa_encoder_params(enc, &p, &n);
    const ijepa__ckpt_group g = {prefix, ijepa_encoder_tensors(enc), p};
    return ijepa__checkpoint_load(ck, __func__, &g, 1, 0);
}

int ijepa_checkpoint_load_predictor(ijepa_checkpoint *ck, const char *prefix,
                                    ijepa_predictor *pred)
{
    if (!ck || !pred)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "checkpoint and predictor must not be NULL");
    float *p;
    int64_t n;
    ijepa_predictor_params(pred, &p, &n);
    const ijepa__ckpt_group g = {prefix, ijepa_predictor_tensors(pred), p};
    return ijepa__checkpoint_load(ck, __func__, &g, 1, 0);
}

int ijepa_checkpoint_read_tensor(ijepa_checkpoint *ck, int64_t i, float *dst, int64_t count)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    if (i < 0 || i >= ck->n)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "tensor %lld is out of [0, %lld)",
                           (long long)i, (long long)ck->n);
    const ijepa__ckpt_entry *x = &ck->e[i];
    if (count != x->numel || (!dst && count > 0))
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG,
                           "tensor '%.100s' has %lld elements; dst has room for %lld%s", x->name,
                           (long long)x->numel, (long long)count, dst ? "" : " (NULL)");
    const int64_t k = first_nonfinite(ck, x);
    if (k >= 0)
        return nonfinite_error(ck, x, k);
    ijepa__dtype_get_f32(x->dtype, dst, ck->data + x->begin, x->numel);
    return IJEPA_OK;
}

// --- checking before creating -------------------------------------------------------------

/* The configuration a check sizes handles with: cfg, or the file's. */
static const ijepa_config *check_config(ijepa_checkpoint *ck, const ijepa_config *cfg)
{
    if (cfg)
        return cfg;
    if (!ck->libijepa) {
        ferr(ck, "no libijepa metadata (\"format\": \"libijepa\"): give the configuration");
        return NULL;
    }
    return ck->cfg;
}

/* A plan's failure on the file's own configuration is the file's fault. */
static int plan_failed(ijepa_checkpoint *ck, const ijepa_config *cfg, int rc)
{
    if (cfg || rc != IJEPA_ERR_INVALID_ARG)
        return rc;
    /* "<func>(): <cause>" -> "<func>(): <file>: its configuration: <cause>" */
    const char *msg = ijepa_last_error(), *cause = strstr(msg, "(): ");
    return ferr(ck, "its configuration is not a valid model: %s", cause ? cause + 4 : msg);
}

int ijepa_checkpoint_check_encoder(ijepa_checkpoint *ck, const char *prefix,
                                   const ijepa_config *cfg, int64_t *bytes)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    const ijepa_config *c = check_config(ck, cfg);
    if (!c)
        return IJEPA_ERR_FORMAT;
    ijepa_encoder *plan;
    int rc = ijepa__encoder_plan(&plan, c, __func__);
    if (rc < 0)
        return plan_failed(ck, cfg, rc);
    if (bytes)
        *bytes = ijepa_encoder_memory_bytes(plan);
    const ijepa__ckpt_group g = {prefix, ijepa_encoder_tensors(plan), NULL};
    rc = ijepa__checkpoint_check(ck, __func__, &g, 1, 0);
    ijepa_encoder_free(plan);
    return rc;
}

int ijepa_checkpoint_check_predictor(ijepa_checkpoint *ck, const char *prefix,
                                     const ijepa_config *cfg, int64_t *bytes)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    const ijepa_config *c = check_config(ck, cfg);
    if (!c)
        return IJEPA_ERR_FORMAT;
    ijepa_predictor *plan;
    int rc = ijepa__predictor_plan(&plan, c, __func__);
    if (rc < 0)
        return plan_failed(ck, cfg, rc);
    if (bytes)
        *bytes = ijepa_predictor_memory_bytes(plan);
    const ijepa__ckpt_group g = {prefix, ijepa_predictor_tensors(plan), NULL};
    rc = ijepa__checkpoint_check(ck, __func__, &g, 1, 0);
    ijepa_predictor_free(plan);
    return rc;
}
