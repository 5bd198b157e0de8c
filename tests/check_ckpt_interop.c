/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "ckpt_interop" — checkpoints from and for other tools
 * (include/ijepa/checkpoint.h): F16, BF16 and F64 tensors read as float32
 * by the documented rule, bare state dicts (official names, no prefix, no
 * libijepa metadata) loaded as encoders and predictors, and the writer's
 * plain files, single tensors and metadata.
 *
 * TCases:
 *   dtypes  exact F16 (normals, subnormals, signed zero) and BF16 values;
 *           F64 rounded to nearest, ties to even, FLT_MAX and the edge of
 *           the overflow; infinities, NaNs and F64 values past float32's
 *           range refused with the destination unchanged; integer dtypes
 *           refused; mixed dtypes tile the data section
 *   bare    a state dict written as safetensors.torch.save_file() writes it
 *           loads into an encoder / predictor with prefix "", also in F16
 *           and BF16; extra tensors and foreign files without a
 *           configuration are refused
 *   writer  add_tensor() shapes and names, metadata rules and order, the
 *           reader's view of them, read_tensor() errors
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_ijepa.h"
#include "helpers.h"
#include "ijepa/ijepa.h"
#include "internal.h" /* ijepa__table_add: tensor tables without a handle */

// --- crafting files ---------------------------------------------------------------------------

typedef struct craft_t {
    const char *name, *dtype;
    int32_t ndim;
    int64_t dims[4];
    const void *bytes;
    size_t nbytes;
} craft_t;

/* A safetensors image of the entries (in this order in the data section)
 * and the metadata object text meta (NULL: none). */
static unsigned char *craft_file(const craft_t *e, size_t n, const char *meta, size_t *size)
{
    char *h = malloc(65536);
    ck_assert_ptr_nonnull(h);
    size_t k = (size_t)sprintf(h, "{");
    if (meta)
        k += (size_t)sprintf(h + k, "\"__metadata__\":%s", meta);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        k += (size_t)sprintf(h + k, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", k > 1 ? "," : "",
                             e[i].name, e[i].dtype);
        for (int32_t d = 0; d < e[i].ndim; d++)
            k += (size_t)sprintf(h + k, "%s%lld", d ? "," : "", (long long)e[i].dims[d]);
        k += (size_t)sprintf(h + k, "],\"data_offsets\":[%zu,%zu]}", off, off + e[i].nbytes);
        off += e[i].nbytes;
    }
    k += (size_t)sprintf(h + k, "}");
    unsigned char *b = malloc(8 + k + off);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)k >> (8 * i));
    memcpy(b + 8, h, k);
    size_t at = 8 + k;
    for (size_t i = 0; i < n; i++) {
        if (e[i].nbytes) /* the test hosts are little-endian */
            memcpy(b + at, e[i].bytes, e[i].nbytes);
        at += e[i].nbytes;
    }
    free(h);
    *size = at;
    return b;
}

static ijepa_checkpoint *open_crafted(const craft_t *e, size_t n, const char *meta)
{
    size_t size;
    unsigned char *b = craft_file(e, n, meta, &size);
    ijepa_checkpoint *ck;
    const int rc = ijepa_checkpoint_open_memory(&ck, b, size, "crafted");
    free(b);
    ck_assert_msg(rc == IJEPA_OK, "%s", ijepa_last_error());
    return ck;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Read tensor i: its values must have exactly the bits of want. */
static void expect_tensor(ijepa_checkpoint *ck, int64_t i, const float *want, int64_t n,
                          const char *dtype)
{
    float got[16];
    ck_assert_str_eq(ijepa_checkpoint_tensor_dtype(ck, i), dtype);
    ck_assert_msg(ijepa_checkpoint_read_tensor(ck, i, got, n) == IJEPA_OK, "%s",
                  ijepa_last_error());
    for (int64_t k = 0; k < n; k++)
        ck_assert_msg(f32_bits(got[k]) == f32_bits(want[k]), "%s[%lld]: %a (0x%08x), want %a",
                      dtype, (long long)k, (double)got[k], f32_bits(got[k]), (double)want[k]);
}

// --- dtypes ------------------------------------------------------------------------------------

START_TEST(test_dtypes_convert)
{
    const uint16_t h[] = {0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400};
    const float hw[] = {0.0f, -0.0f, 1.0f, -2.0f, 65504.0f, 0x1p-24f, 0x3ffp-24f, 0x1p-14f};
    const uint16_t b[] = {0x3f80, 0xc040, 0x7f7f, 0x0001};
    const float bw[] = {1.0f, -3.0f, bits_f32(0x7f7f0000u), bits_f32(0x00010000u)};
    /* nearest, ties to even; FLT_MAX and just under its rounding edge */
    const double d[] = {1.0, 0.1, 1.0 + 0x1p-24, 1.0 + 0x3p-24, (double)FLT_MAX,
                        (double)FLT_MAX + 0x1p102, 1e-50, -0x1p-149};
    const float dw[] = {1.0f, 0.1f, 1.0f, 1.0f + 0x1p-22f, FLT_MAX, FLT_MAX, 0.0f, -0x1p-149f};
    const float f[] = {1.5f, -0.25f};
    const craft_t e[] = {
        {"h", "F16", 2, {2, 4}, h, sizeof h},
        {"b", "BF16", 1, {4}, b, sizeof b},
        {"d", "F64", 1, {8}, d, sizeof d},
        {"f", "F32", 0, {0}, f, 4}, /* a scalar: one element */
        {"z", "F64", 2, {0, 3}, NULL, 0},
    };
    ijepa_checkpoint *ck = open_crafted(e, COUNT_OF(e), NULL);
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck), 5);
    /* entries are in data order: h, b, d, f, z */
    expect_tensor(ck, 0, hw, 8, "F16");
    expect_tensor(ck, 1, bw, 4, "BF16");
    expect_tensor(ck, 2, dw, 8, "F64");
    expect_tensor(ck, 3, f, 1, "F32");
    ck_assert_str_eq(ijepa_checkpoint_tensor_dtype(ck, 4), "F64");
    ck_assert_int_eq(ijepa_checkpoint_read_tensor(ck, 4, NULL, 0), IJEPA_OK);
    ck_assert_ptr_null(ijepa_checkpoint_tensor_dtype(ck, 5));
    ck_assert_ptr_null(ijepa_checkpoint_tensor_dtype(NULL, 0));
    ijepa_checkpoint_free(ck);
    /* through a group into a tensor-table buffer */
    const craft_t g[] = {{"g.a", "BF16", 2, {2, 3}, (const uint16_t[]){0x3f80, 0x4000, 0x4040,
                                                                        0x4080, 0x40a0, 0x40c0},
                          12},
                         {"g.b", "F64", 1, {4}, (const double[]){7, 8, 9, 10}, 32}};
    ck = open_crafted(g, COUNT_OF(g), "{\"format\":\"pt\"}");
    struct ijepa_tensor_table t = {0};
    const int64_t da[] = {2, 3}, db[] = {4};
    ck_assert_int_ge(ijepa__table_add(&t, "a", 0, 2, da), 0);
    ck_assert_int_ge(ijepa__table_add(&t, "b", 0, 1, db), 0);
    float buf[32];
    ck_assert_int_eq(ijepa_checkpoint_read(ck, "g", &t, buf), IJEPA_OK);
    for (int k = 0; k < 6; k++)
        ck_assert(buf[k] == (float)(k + 1));
    for (int k = 0; k < 4; k++)
        ck_assert(buf[16 + k] == (float)(7 + k));
    ijepa__table_clear(&t);
    ijepa_checkpoint_free(ck);
}
END_TEST

/* A one-tensor file whose reading must fail with FORMAT saying what, and
 * leave the destination unchanged. */
static void refused_value(const char *dtype, const void *bytes, size_t nbytes, int64_t n,
                          const char *what)
{
    const craft_t e[] = {{"x", dtype, 1, {n}, bytes, nbytes}};
    ijepa_checkpoint *ck = open_crafted(e, 1, NULL);
    float dst[8];
    for (int k = 0; k < 8; k++)
        dst[k] = -7.0f;
    expect_err(ijepa_checkpoint_read_tensor(ck, 0, dst, n), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_checkpoint_read_tensor", what);
    ck_assert_int_eq(first_not(dst, 8, -7.0f), -1);
    struct ijepa_tensor_table t = {0};
    ck_assert_int_ge(ijepa__table_add(&t, "x", 0, 1, &n), 0);
    expect_err(ijepa_checkpoint_read(ck, "", &t, dst), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_checkpoint_read", what);
    ck_assert_int_eq(first_not(dst, 8, -7.0f), -1);
    ijepa__table_clear(&t);
    ijepa_checkpoint_free(ck);
}

START_TEST(test_dtypes_refused)
{
    refused_value("F16", (const uint16_t[]){0x3c00, 0x7c00}, 4, 2, "non-finite value at element 1");
    refused_value("F16", (const uint16_t[]){0xfe00}, 2, 1, "non-finite value at element 0");
    refused_value("BF16", (const uint16_t[]){0x0000, 0x0000, 0x7fc0}, 6, 3, "element 2");
    refused_value("BF16", (const uint16_t[]){0xff80}, 2, 1, "non-finite");
    refused_value("F64", (const double[]){1e39}, 8, 1, "outside float32's range");
    refused_value("F64", (const double[]){0, -((double)FLT_MAX + 0x1p103)}, 16, 2,
                  "outside float32's range");
    refused_value("F64", (const double[]){NAN}, 8, 1, "non-finite");
    refused_value("F64", (const double[]){-INFINITY}, 8, 1, "non-finite");
    /* sizes follow the dtype; integers stay unsupported */
    const uint16_t two[2] = {0, 0};
    const craft_t bad[] = {{"x", "F16", 1, {2}, two, 2}};
    size_t size;
    unsigned char *b = craft_file(bad, 1, NULL, &size);
    ijepa_checkpoint *ck;
    expect_err(ijepa_checkpoint_open_memory(&ck, b, size, "m"), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_open_memory",
               "hold 2 bytes, the shape needs 4");
    free(b);
    const craft_t i64[] = {{"x", "I64", 1, {1}, (const int64_t[]){3}, 8}};
    b = craft_file(i64, 1, NULL, &size);
    expect_err(ijepa_checkpoint_open_memory(&ck, b, size, "m"), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_open_memory",
               "dtype I64; only F32, F16, BF16 and F64");
    free(b);
}
END_TEST

// --- bare state dicts --------------------------------------------------------------------------

static ijepa_config *small_config(void)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, 16},       {IJEPA_CFG_PATCH_SIZE, 4}, {IJEPA_CFG_IN_CHANS, 3},
        {IJEPA_CFG_EMBED_DIM, 32},      {IJEPA_CFG_DEPTH, 2},      {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 16}, {IJEPA_CFG_PRED_DEPTH, 1}, {IJEPA_CFG_BATCH_SIZE, 2},
        {IJEPA_CFG_TRAINABLE, 0},
    };
    return config_with(iv, COUNT_OF(iv), NULL, 0);
}

/* Set every parameter to a multiple of 1/64 in (-2, 2): exact in F16 and
 * BF16 (at most 7 significant bits). */
static void exact_params(const ijepa_tensor_table *tab, float *p, uint64_t seed)
{
    randomize_table(tab, p, seed);
    for (int64_t i = 0; i < ijepa_tensor_table_count(tab); i++) {
        const tinfo ti = tensor_at(tab, i);
        for (int64_t k = 0; k < ti.numel; k++)
            p[ti.off + k] = roundf(p[ti.off + k] * 64.0f) / 64.0f;
    }
}

static uint16_t f32_to_bf16(float f) { return (uint16_t)(f32_bits(f) >> 16); }

/* float -> half for the exact values above: normal halfs only. */
static uint16_t f32_to_f16(float f)
{
    const uint32_t u = f32_bits(f), sign = (u >> 16) & 0x8000u;
    if ((u & 0x7fffffffu) == 0)
        return (uint16_t)sign;
    const int32_t exp = (int32_t)((u >> 23) & 0xff) - 127 + 15;
    ck_assert(exp > 0 && exp < 31 && (u & 0x1fffu) == 0);
    return (uint16_t)(sign | (uint32_t)exp << 10 | ((u >> 13) & 0x3ffu));
}

/* The tensors of tab (values in p) as a bare state dict in dtype: what
 * safetensors.torch.save_file(state_dict) writes, {"format": "pt"}. */
static unsigned char *bare_file(const ijepa_tensor_table *tab, const float *p, const char *dtype,
                                size_t *size)
{
    const int64_t n = ijepa_tensor_table_count(tab);
    craft_t *e = calloc((size_t)n, sizeof *e);
    void **data = calloc((size_t)n, sizeof *data);
    for (int64_t i = 0; i < n; i++) {
        const tinfo ti = tensor_at(tab, i);
        e[i].name = ti.name;
        e[i].dtype = dtype;
        e[i].ndim = ti.ndim;
        memcpy(e[i].dims, ti.dims, sizeof e[i].dims);
        if (!strcmp(dtype, "F32")) {
            e[i].bytes = p + ti.off;
            e[i].nbytes = (size_t)ti.numel * 4;
            continue;
        }
        uint16_t *h = malloc((size_t)ti.numel * 2 + 2);
        for (int64_t k = 0; k < ti.numel; k++)
            h[k] = !strcmp(dtype, "F16") ? f32_to_f16(p[ti.off + k]) : f32_to_bf16(p[ti.off + k]);
        data[i] = h;
        e[i].bytes = h;
        e[i].nbytes = (size_t)ti.numel * 2;
    }
    unsigned char *b = craft_file(e, (size_t)n, "{\"format\":\"pt\"}", size);
    for (int64_t i = 0; i < n; i++)
        free(data[i]);
    free(data);
    free(e);
    return b;
}

START_TEST(test_bare_state_dicts)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = small_config();
    ijepa_encoder *src, *dst;
    ijepa_predictor *psrc, *pdst;
    ck_assert_int_eq(ijepa_encoder_create(&src, ctx, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_create(&dst, ctx, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_create(&psrc, ctx, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_create(&pdst, ctx, cfg), IJEPA_OK);
    float *ps, *pd, *qs, *qd;
    int64_t n, m;
    ck_assert_int_eq(ijepa_encoder_params(src, &ps, &n), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_params(dst, &pd, &n), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_params(psrc, &qs, &m), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_params(pdst, &qd, &m), IJEPA_OK);
    const ijepa_tensor_table *te = ijepa_encoder_tensors(src), *tp = ijepa_predictor_tensors(psrc);
    exact_params(te, ps, 3);
    exact_params(tp, qs, 4);
    const char *dtypes[] = {"F32", "F16", "BF16"};
    for (size_t v = 0; v < COUNT_OF(dtypes); v++) {
        size_t size;
        unsigned char *b = bare_file(te, ps, dtypes[v], &size);
        ijepa_checkpoint *ck;
        ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, size, "bare"), IJEPA_OK);
        free(b);
        int64_t bytes = 0, want;
        ck_assert_msg(ijepa_checkpoint_check_encoder(ck, "", cfg, &bytes) == IJEPA_OK, "%s",
                      ijepa_last_error());
        ck_assert_int_eq(ijepa_encoder_estimate_bytes(cfg, &want), IJEPA_OK);
        ck_assert_int_eq(bytes, want);
        /* no configuration of its own */
        expect_err(ijepa_checkpoint_check_encoder(ck, "", NULL, NULL), IJEPA_ERR_FORMAT,
                   ijepa_last_error(), "ijepa_checkpoint_check_encoder", "no libijepa metadata");
        ck_assert_msg(ijepa_checkpoint_load_encoder(ck, "", dst) == IJEPA_OK, "%s: %s",
                      dtypes[v], ijepa_last_error());
        for (int64_t i = 0; i < ijepa_tensor_table_count(te); i++) {
            const tinfo ti = tensor_at(te, i);
            ck_assert_msg(!memcmp(ps + ti.off, pd + ti.off, (size_t)ti.numel * 4), "%s: %s",
                          dtypes[v], ti.name);
        }
        /* an encoder file is not a predictor */
        expect_err(ijepa_checkpoint_check_predictor(ck, "", cfg, NULL), IJEPA_ERR_FORMAT,
                   ijepa_last_error(), "ijepa_checkpoint_check_predictor",
                   "'mask_token' is missing");
        ijepa_checkpoint_free(ck);
        memset(pd, 0, (size_t)n * 4);

        b = bare_file(tp, qs, dtypes[v], &size);
        ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, size, "bare"), IJEPA_OK);
        free(b);
        ck_assert_int_eq(ijepa_checkpoint_check_predictor(ck, "", cfg, NULL), IJEPA_OK);
        ck_assert_int_eq(ijepa_checkpoint_load_predictor(ck, "", pdst), IJEPA_OK);
        for (int64_t i = 0; i < ijepa_tensor_table_count(tp); i++) {
            const tinfo ti = tensor_at(tp, i);
            ck_assert_msg(!memcmp(qs + ti.off, qd + ti.off, (size_t)ti.numel * 4), "%s", ti.name);
        }
        ijepa_checkpoint_free(ck);
    }
    /* the library's own plain writer makes the same kind of file */
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, NULL, 0), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_set_metadata(w, "format", "pt"), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "", te, ps), IJEPA_OK);
    char path[] = "/tmp/ijepa-bare-XXXXXX";
    const int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, path), IJEPA_OK);
    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_metadata_count(ck), 2);
    const char *k, *val;
    ck_assert_int_eq(ijepa_checkpoint_metadata_at(ck, 0, &k, &val), IJEPA_OK);
    ck_assert_str_eq(k, "format");
    ck_assert_str_eq(val, "pt");
    ck_assert_int_eq(ijepa_checkpoint_metadata_at(ck, 1, &k, NULL), IJEPA_OK);
    ck_assert_str_eq(k, "ijepa.checksum");
    int64_t step;
    ck_assert_int_eq(ijepa_checkpoint_step(ck, &step), IJEPA_ERR_FORMAT);
    ck_assert_int_eq(ijepa_checkpoint_load_encoder(ck, "", dst), IJEPA_OK);
    ck_assert(!memcmp(ps, pd, (size_t)n * 4));
    ijepa_checkpoint_free(ck);
    /* a bare file holding one more tensor is not this encoder */
    const int64_t one = 1;
    const float x = 1.0f;
    ck_assert_int_eq(ijepa_checkpoint_writer_add_tensor(w, "head.weight", 1, &one, &x), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, path), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    expect_err(ijepa_checkpoint_check_encoder(ck, "", cfg, NULL), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "unexpected tensor 'head.weight'");
    expect_err(ijepa_checkpoint_load_encoder(ck, "", dst), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_checkpoint_load_encoder", "unexpected tensor 'head.weight'");
    ijepa_checkpoint_free(ck);
    ijepa_checkpoint_writer_free(w);
    unlink(path);
    ijepa_predictor_free(psrc);
    ijepa_predictor_free(pdst);
    ijepa_encoder_free(src);
    ijepa_encoder_free(dst);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

// --- the writer --------------------------------------------------------------------------------

START_TEST(test_writer_tensors_and_metadata)
{
    char path[] = "/tmp/ijepa-writer-XXXXXX";
    const int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 7), IJEPA_OK);
    const float scalar = 2.5f, vals[6] = {1, 2, 3, 4, 5, 6};
    const int64_t d8[8] = {1, 1, 1, 2, 1, 3, 1, 1}, d0[2] = {3, 0}, d6 = 6;
    ck_assert_int_eq(ijepa_checkpoint_writer_add_tensor(w, "s", 0, NULL, &scalar), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add_tensor(w, "eight", 8, d8, vals), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add_tensor(w, "empty", 2, d0, NULL), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add_tensor(w, "caf\xc3\xa9", 1, &d6, vals), IJEPA_OK);
    /* refused: nothing added */
    const char *fn = "ijepa_checkpoint_writer_add_tensor";
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "s", 1, &d6, vals), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), fn, "'s' is already added");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "", 1, &d6, vals), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), fn, "is empty");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "__metadata__", 1, &d6, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "reserved");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "bad\xff", 1, &d6, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "UTF-8");
    /* the message stays printable text: the bad byte escaped */
    ck_assert_str_eq(ijepa_last_error(), "ijepa_checkpoint_writer_add_tensor(): tensor name "
                                         "'bad\\xff' is not valid UTF-8");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "ov\xc0\xaf", 1, &d6, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "UTF-8"); /* overlong '/' */
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "sur\xed\xa0\x80", 1, &d6, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "UTF-8"); /* a surrogate */
    const int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, neg = -1, huge[2] = {INT64_MAX, 2};
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "nine", 9, d9, vals), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), fn, "ndim 9");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "neg", 1, &neg, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "dims[0]");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "huge", 2, huge, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "overflows");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "nodata", 1, &d6, NULL),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "data is NULL");
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "nodims", 1, NULL, vals),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), fn, "NULL");
    /* metadata: the library's keys are its own */
    const char *sm = "ijepa_checkpoint_writer_set_metadata";
    const char *reserved[] = {"format", "ijepa.format_version", "ijepa.library_version",
                              "ijepa.config", "ijepa.step", "ijepa.seed", "ijepa.checksum",
                              "ijepa.metadata_checksum"};
    for (size_t i = 0; i < COUNT_OF(reserved); i++)
        expect_err(ijepa_checkpoint_writer_set_metadata(w, reserved[i], "x"),
                   IJEPA_ERR_INVALID_ARG, ijepa_last_error(), sm, "the library's own");
    expect_err(ijepa_checkpoint_writer_set_metadata(w, "", "x"), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), sm, "empty");
    expect_err(ijepa_checkpoint_writer_set_metadata(w, "k", "\xff"), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), sm, "UTF-8");
    expect_err(ijepa_checkpoint_writer_set_metadata(w, "k", NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), sm, "NULL");
    ck_assert_int_eq(ijepa_checkpoint_writer_set_metadata(w, "zeta", "1"), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_set_metadata(w, "alpha", "2"), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_set_metadata(w, "zeta", "3 \xe2\x82\xac"), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, path), IJEPA_OK);
    ijepa_checkpoint_writer_free(w);

    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    int64_t step;
    ck_assert_int_eq(ijepa_checkpoint_step(ck, &step), IJEPA_OK);
    ck_assert_int_eq(step, 7);
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck), 4);
    /* the caller's keys first, in the order first set; then the library's */
    ck_assert_int_eq(ijepa_checkpoint_metadata_count(ck), 10);
    const char *k, *v;
    ck_assert_int_eq(ijepa_checkpoint_metadata_at(ck, 0, &k, &v), IJEPA_OK);
    ck_assert_str_eq(k, "zeta");
    ck_assert_str_eq(v, "3 \xe2\x82\xac");
    ck_assert_int_eq(ijepa_checkpoint_metadata_at(ck, 1, &k, &v), IJEPA_OK);
    ck_assert_str_eq(k, "alpha");
    ck_assert_int_eq(ijepa_checkpoint_metadata_at(ck, 2, &k, NULL), IJEPA_OK);
    ck_assert_str_eq(k, "format");
    expect_err(ijepa_checkpoint_metadata_at(ck, 10, &k, &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_metadata_at", "out of");
    expect_err(ijepa_checkpoint_metadata_at(NULL, 0, &k, &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_metadata_at", "NULL");
    ck_assert_int_eq(ijepa_checkpoint_metadata_count(NULL), 0);
    /* the tensors, in the order added */
    const char *name;
    int32_t nd;
    int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS];
    ck_assert_int_eq(ijepa_checkpoint_tensor_info(ck, 0, &name, &nd, dims), IJEPA_OK);
    ck_assert_str_eq(name, "s");
    ck_assert_int_eq(nd, 0);
    float got[8];
    ck_assert_int_eq(ijepa_checkpoint_read_tensor(ck, 0, got, 1), IJEPA_OK);
    ck_assert(got[0] == 2.5f);
    ck_assert_int_eq(ijepa_checkpoint_tensor_info(ck, 1, &name, &nd, dims), IJEPA_OK);
    ck_assert_str_eq(name, "eight");
    ck_assert_int_eq(nd, 8);
    ck_assert_int_eq(dims[5], 3);
    ck_assert_int_eq(ijepa_checkpoint_read_tensor(ck, 1, got, 6), IJEPA_OK);
    ck_assert(!memcmp(got, vals, 24));
    ck_assert_int_eq(ijepa_checkpoint_tensor_info(ck, 3, &name, NULL, NULL), IJEPA_OK);
    ck_assert_str_eq(name, "caf\xc3\xa9");
    /* read_tensor's arguments */
    const char *rt = "ijepa_checkpoint_read_tensor";
    expect_err(ijepa_checkpoint_read_tensor(ck, 1, got, 5), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), rt, "has 6 elements");
    expect_err(ijepa_checkpoint_read_tensor(ck, 1, NULL, 6), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), rt, "NULL");
    expect_err(ijepa_checkpoint_read_tensor(ck, 4, got, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), rt, "out of");
    expect_err(ijepa_checkpoint_read_tensor(NULL, 0, got, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), rt, "NULL");
    ijepa_checkpoint_free(ck);

    /* a plain file may name its format, but not claim to be libijepa's */
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, NULL, 0), IJEPA_OK);
    expect_err(ijepa_checkpoint_writer_set_metadata(w, "format", "libijepa"),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), sm, "the library's own");
    expect_err(ijepa_checkpoint_writer_set_metadata(w, "ijepa.step", "3"),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), sm, "the library's own");
    ck_assert_int_eq(ijepa_checkpoint_writer_set_metadata(w, "format", "pt"), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, path), IJEPA_OK);
    ijepa_checkpoint_writer_free(w);
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck), 0);
    ijepa_config *none = (ijepa_config *)1;
    expect_err(ijepa_checkpoint_config(ck, &none), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_checkpoint_config", "no libijepa metadata");
    ijepa_checkpoint_free(ck);
    ijepa_config_free(cfg);
    unlink(path);
}
END_TEST

Suite *ijepa_ckpt_interop_suite(void)
{
    Suite *s = suite_create("ckpt_interop");
    TCase *tc = add_tcase(s, "dtypes", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_dtypes_convert);
    tcase_add_test(tc, test_dtypes_refused);
    tc = add_tcase(s, "bare", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_bare_state_dicts);
    tc = add_tcase(s, "writer", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_writer_tensors_and_metadata);
    return s;
}
