/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "ckpt_limits" — what a checkpoint may cost before it is
 * trusted (include/ijepa/checkpoint.h, trainer.h): the checks before
 * creating handles, the size estimates, the reader's order of work and
 * caps, the range of the step counter, and the removal of the temporary
 * files an interrupted save leaves.
 *
 * TCases:
 *   estimate  ijepa_*_estimate_bytes() equal the memory_bytes() of the
 *             handles created from the same configuration; errors as create
 *   check     ijepa_checkpoint_check_encoder/_predictor() and
 *             ijepa_trainer_check() agree with what a load would say, on a
 *             trainer checkpoint, wrong configurations, missing and extra
 *             tensors; the 1.7 KB file whose configuration describes a
 *             400M-parameter model is refused in well under a second and
 *             100 MB
 *   reader    a 2 GiB sparse file with a garbage or lying header length,
 *             or with a valid header followed by 2 GiB it does not
 *             describe, is refused without reading the 2 GiB; headers with
 *             more tensors or JSON values than the caps are refused before
 *             the JSON parser runs; exactly the cap is accepted
 *   step      ijepa.step up to IJEPA_CHECKPOINT_MAX_STEP loads and trains
 *             on; 2^53 + 1 and 2^63 - 1 are format errors; the writer
 *             refuses them too
 *   temps     stale temporary files of the same path are removed by the
 *             next save; locked, fresh, foreign-named and non-regular ones
 *             are kept; a save killed with SIGKILL leaves one that the
 *             next save removes; two processes saving the same path at
 *             once never lose a save
 *
 * The time and memory bounds here are not benchmarks: they are three and
 * more orders of magnitude above what the code needs (docs/robustness.md
 * has the figures) and catch a return to reading whole files or
 * allocating models before checking them.
 */
#define _DEFAULT_SOURCE /* flock, utimes */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_ijepa.h"
#include "checkpoint_format.h"
#include "checkpoint_internal.h"
#include "helpers.h"
#include "ijepa/ijepa.h"

// --- helpers ---------------------------------------------------------------------------------

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Peak resident set of this process so far, in MiB. */
static double peak_mib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0;
}

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* The tiny model of the checkpoint suite (16 tokens, D 32). */
static ijepa_config *tiny_config(int64_t depth)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, 16},       {IJEPA_CFG_PATCH_SIZE, 4},
        {IJEPA_CFG_IN_CHANS, 3},        {IJEPA_CFG_EMBED_DIM, 32},
        {IJEPA_CFG_DEPTH, depth},       {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 16}, {IJEPA_CFG_PRED_DEPTH, 1},
        {IJEPA_CFG_BATCH_SIZE, 4},      {IJEPA_CFG_MIN_KEEP, 2},
        {IJEPA_CFG_NUM_TARGETS, 2},     {IJEPA_CFG_TOTAL_STEPS, 20},
        {IJEPA_CFG_WARMUP_STEPS, 2},
    };
    const cfg_float fv[] = {{IJEPA_CFG_TARGET_SCALE_MIN, 0.25},
                            {IJEPA_CFG_TARGET_SCALE_MAX, 0.35}};
    return config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
}

/* The configuration of a 400M-parameter model: ViT 1024 wide, 32 deep,
 * 224 px, patch 16 (403M encoder parameters), the default predictor. */
static ijepa_config *huge_config(void)
{
    const cfg_int iv[] = {{IJEPA_CFG_EMBED_DIM, 1024}, {IJEPA_CFG_DEPTH, 32},
                          {IJEPA_CFG_NUM_HEADS, 16}};
    return config_with(iv, COUNT_OF(iv), NULL, 0);
}

/* A trainer checkpoint of the tiny model after one step at path. */
static void save_trainer(const ijepa_config *cfg, const char *path)
{
    ijepa_context *ctx;
    ijepa_trainer *tr;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    float *x = rand_floats(4 * 3 * 16 * 16, 7, -1, 1);
    ck_assert_int_eq(ijepa_trainer_step(tr, x, 4, NULL), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_save(tr, path), IJEPA_OK);
    free(x);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
}

// --- estimate --------------------------------------------------------------------------------

START_TEST(test_estimates_match_handles)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    for (int v = 0; v < 4; v++) {
        ijepa_config *cfg = tiny_config(1 + v % 2);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, v < 2), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, 1 + 3 * v), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_ALLOW_OVERLAP, v == 3), IJEPA_OK);
        int64_t eb = -1, pb = -1, tb = -1;
        ck_assert_int_eq(ijepa_encoder_estimate_bytes(cfg, &eb), IJEPA_OK);
        ck_assert_int_eq(ijepa_predictor_estimate_bytes(cfg, &pb), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_estimate_bytes(cfg, &tb), IJEPA_OK);
        ijepa_encoder *enc;
        ijepa_predictor *pred;
        ijepa_trainer *tr;
        ck_assert_int_eq(ijepa_encoder_create(&enc, ctx, cfg), IJEPA_OK);
        ck_assert_int_eq(ijepa_predictor_create(&pred, ctx, cfg), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
        ck_assert_int_eq(eb, ijepa_encoder_memory_bytes(enc));
        ck_assert_int_eq(pb, ijepa_predictor_memory_bytes(pred));
        ck_assert_int_eq(tb, ijepa_trainer_memory_bytes(tr));
        /* the trainer: its handles, two moments per trained parameter, and
         * more for the step buffers */
        const ijepa_encoder *ce = ijepa_trainer_context_encoder(tr);
        const ijepa_predictor *cp = ijepa_trainer_predictor(tr);
        const int64_t parts = ijepa_encoder_memory_bytes(ce) +
                              ijepa_encoder_memory_bytes(ijepa_trainer_target_encoder(tr)) +
                              ijepa_predictor_memory_bytes(cp) +
                              8 * (ijepa_tensor_table_buffer_size(ijepa_encoder_tensors(ce)) +
                                   ijepa_tensor_table_buffer_size(ijepa_predictor_tensors(cp)));
        ck_assert_int_gt(tb, parts);
        ijepa_trainer_free(tr);
        ijepa_predictor_free(pred);
        ijepa_encoder_free(enc);
        ijepa_config_free(cfg);
    }
    ck_assert_int_eq(ijepa_trainer_memory_bytes(NULL), 0);
    ijepa_context_free(ctx);
}
END_TEST

START_TEST(test_estimate_errors)
{
    int64_t b = 5;
    expect_err(ijepa_encoder_estimate_bytes(NULL, &b), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_encoder_estimate_bytes", "NULL config");
    ijepa_config *cfg = tiny_config(1);
    expect_err(ijepa_predictor_estimate_bytes(cfg, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_predictor_estimate_bytes", "NULL bytes");
    /* the same relations as create, with the same words */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PATCH_SIZE, 5), IJEPA_OK);
    expect_err(ijepa_encoder_estimate_bytes(cfg, &b), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_encoder_estimate_bytes", "img_size 16 is not a multiple of patch_size 5");
    expect_err(ijepa_trainer_estimate_bytes(cfg, &b), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_trainer_estimate_bytes", "patch_size");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PATCH_SIZE, 4), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, 21), IJEPA_OK);
    expect_err(ijepa_trainer_estimate_bytes(cfg, &b), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_trainer_estimate_bytes", "warmup_steps 21 exceeds total_steps 20");
    ck_assert_int_eq(b, 5);
    /* activations no machine holds: NOMEM, computed, not attempted */
    ijepa_config *big = tiny_config(1);
    ck_assert_int_eq(ijepa_config_set_int(big, IJEPA_CFG_IMG_SIZE, 8192), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(big, IJEPA_CFG_PATCH_SIZE, 1), IJEPA_OK);
    const double t0 = now_s();
    expect_err(ijepa_encoder_estimate_bytes(big, &b), IJEPA_ERR_NOMEM, ijepa_last_error(),
               "ijepa_encoder_estimate_bytes", "GiB of activations");
    ck_assert_double_lt(now_s() - t0, 1.0);
    ijepa_config_free(big);
    ijepa_config_free(cfg);
}
END_TEST

// --- check -----------------------------------------------------------------------------------

START_TEST(test_check_agrees_with_load)
{
    tmp_init("limits");
    ijepa_config *cfg = tiny_config(2);
    const char *path = tmp_path("tr.safetensors");
    save_trainer(cfg, path);
    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    int64_t bytes = -1, want;
    /* the file's own configuration, and the caller's inference one */
    ck_assert_int_eq(ijepa_checkpoint_check_encoder(ck, "target_encoder", NULL, &bytes),
                     IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_estimate_bytes(cfg, &want), IJEPA_OK);
    ck_assert_int_eq(bytes, want);
    ijepa_config *inf;
    ck_assert_int_eq(ijepa_config_copy(&inf, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(inf, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(inf, IJEPA_CFG_BATCH_SIZE, 1), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_check_encoder(ck, "encoder", inf, &bytes), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_estimate_bytes(inf, &want), IJEPA_OK);
    ck_assert_int_eq(bytes, want);
    ck_assert_int_eq(ijepa_checkpoint_check_predictor(ck, "predictor", NULL, &bytes), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_estimate_bytes(cfg, &want), IJEPA_OK);
    ck_assert_int_eq(bytes, want);
    ck_assert_int_eq(ijepa_trainer_check(ck, NULL, &bytes), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_estimate_bytes(cfg, &want), IJEPA_OK);
    ck_assert_int_eq(bytes, want);
    /* runtime and training keys may differ; bytes follow the caller's */
    ck_assert_int_eq(ijepa_config_set_int(inf, IJEPA_CFG_BATCH_SIZE, 3), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_float(inf, IJEPA_CFG_LR, 0.5), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_check(ck, inf, &bytes), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_estimate_bytes(inf, &want), IJEPA_OK);
    ck_assert_int_eq(bytes, want);
    ck_assert_int_eq(ijepa_checkpoint_check_encoder(ck, "target_encoder", NULL, NULL), IJEPA_OK);

    /* another depth: the same message a load gives */
    ijepa_config *deep = tiny_config(3);
    expect_err(ijepa_checkpoint_check_encoder(ck, "target_encoder", deep, &bytes),
               IJEPA_ERR_FORMAT, ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "'target_encoder.blocks.2.norm1.weight' is missing");
    ck_assert_int_eq(ijepa_encoder_estimate_bytes(deep, &want), IJEPA_OK);
    ck_assert_int_eq(bytes, want); /* known though the tensors are not there */
    expect_err(ijepa_trainer_check(ck, deep, &bytes), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_trainer_check", "'depth' is 2 in the file, 3 in the configuration");
    ck_assert_int_eq(ijepa_config_set_int(deep, IJEPA_CFG_DEPTH, 1), IJEPA_OK);
    expect_err(ijepa_checkpoint_check_encoder(ck, "encoder", deep, NULL), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "unexpected tensor 'encoder.blocks.1");
    ck_assert_int_eq(ijepa_config_set_int(deep, IJEPA_CFG_DEPTH, 2), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(deep, IJEPA_CFG_EMBED_DIM, 64), IJEPA_OK);
    expect_err(ijepa_checkpoint_check_encoder(ck, "encoder", deep, NULL), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "has shape [1, 16, 32], the model needs [1, 16, 64]");
    ijepa_config_free(deep);
    /* a group the file does not have, an invalid configuration, NULLs */
    expect_err(ijepa_checkpoint_check_encoder(ck, "teacher", NULL, NULL), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_check_encoder", "'teacher.pos_embed'");
    ck_assert_int_eq(ijepa_config_set_int(inf, IJEPA_CFG_NUM_HEADS, 3), IJEPA_OK);
    expect_err(ijepa_checkpoint_check_encoder(ck, "encoder", inf, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "embed_dim 32 is not a multiple of num_heads 3");
    expect_err(ijepa_checkpoint_check_encoder(NULL, "encoder", NULL, NULL),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "NULL");
    expect_err(ijepa_checkpoint_check_predictor(ck, NULL, NULL, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_check_predictor", "NULL prefix");
    expect_err(ijepa_trainer_check(NULL, NULL, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_trainer_check", "NULL");
    ijepa_checkpoint_free(ck);

    /* a file with only the target encoder: fine for an encoder, not for a
     * trainer (which names what is missing) */
    ijepa_context *ctx;
    ijepa_encoder *enc;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_create(&enc, ctx, cfg), IJEPA_OK);
    float *p;
    int64_t n;
    ck_assert_int_eq(ijepa_encoder_params(enc, &p, &n), IJEPA_OK);
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 3), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "target_encoder", ijepa_encoder_tensors(enc),
                                                 p), IJEPA_OK);
    const char *tgt = tmp_path("tgt.safetensors");
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, tgt), IJEPA_OK);
    ijepa_checkpoint_writer_free(w);
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, tgt), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_check_encoder(ck, "target_encoder", inf, NULL),
                     IJEPA_ERR_INVALID_ARG); /* num_heads 3 */
    ck_assert_int_eq(ijepa_checkpoint_check_encoder(ck, "target_encoder", NULL, NULL), IJEPA_OK);
    expect_err(ijepa_trainer_check(ck, NULL, &bytes), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_trainer_check", "'encoder.pos_embed' is missing");
    ijepa_checkpoint_free(ck);
    ijepa_encoder_free(enc);
    ijepa_context_free(ctx);
    ijepa_config_free(inf);
    ijepa_config_free(cfg);
    tmp_cleanup();
}
END_TEST

/* The 1.7 KB file of issue 10: valid checksums, no tensors, the
 * configuration of a 400M-parameter model. */
START_TEST(test_huge_config_refused_cheaply)
{
    tmp_init("limits");
    ijepa_config *cfg = huge_config();
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 100), IJEPA_OK);
    const char *path = tmp_path("huge.safetensors");
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, path), IJEPA_OK);
    ijepa_checkpoint_writer_free(w);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_lt(st.st_size, 2048);

    const double m0 = peak_mib(), t0 = now_s();
    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    int64_t eb = 0, tb = 0;
    expect_err(ijepa_checkpoint_check_encoder(ck, "target_encoder", NULL, &eb), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_check_encoder",
               "'target_encoder.pos_embed' is missing");
    expect_err(ijepa_trainer_check(ck, NULL, &tb), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_trainer_check", "is missing");
    const double dt = now_s() - t0, dm = peak_mib() - m0;
    ijepa_checkpoint_free(ck);
    /* what creating them would have cost: 403M parameters and their
     * gradients at least; the trainer many times that */
    ck_assert_msg(eb > (int64_t)2 * 4 * 400000000, "encoder estimate %lld", (long long)eb);
    ck_assert_msg(tb > 2 * eb, "trainer estimate %lld", (long long)tb);
    ck_assert_msg(dt < 1.0 && dm < 100.0, "refusing took %.3f s and %.1f MiB", dt, dm);
    ijepa_config_free(cfg);
    tmp_cleanup();
}
END_TEST

// --- reader ----------------------------------------------------------------------------------

/* A sparse file of size bytes that starts with head[0, n). */
static void sparse_file(const char *path, const void *head, size_t n, off_t size)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, head, n), (ssize_t)n);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    ck_assert_int_eq(close(fd), 0);
}

/* Open path: must fail with FORMAT saying what, within 1 s and 50 MiB. */
static void refused_cheaply(const char *path, const char *what)
{
    const double m0 = peak_mib(), t0 = now_s();
    ijepa_checkpoint *ck = (ijepa_checkpoint *)1;
    const int rc = ijepa_checkpoint_open(&ck, path);
    const double dt = now_s() - t0, dm = peak_mib() - m0;
    expect_err(rc, IJEPA_ERR_FORMAT, ijepa_last_error(), "ijepa_checkpoint_open", what);
    ck_assert_ptr_null(ck);
    ck_assert_msg(dt < 1.0 && dm < 50.0, "%s: refusing took %.3f s and %.1f MiB", what, dt, dm);
}

START_TEST(test_sparse_2gib)
{
    tmp_init("limits");
    const off_t size = (off_t)2 << 30;
    const char *path = tmp_path("sparse.safetensors");
    /* a garbage length */
    sparse_file(path, "AAAAAAAA", 8, size);
    refused_cheaply(path, "exceeds the limit");
    /* a plausible length over garbage */
    sparse_file(path, "\x10\0\0\0\0\0\0\0garbage!garbage!", 24, size);
    refused_cheaply(path, "does not start with '{'");
    /* the largest length the limit allows, over zeros */
    unsigned char len8[8];
    ijepa__le_put_u64(len8, IJEPA_CHECKPOINT_MAX_HEADER);
    sparse_file(path, len8, 8, size);
    refused_cheaply(path, "'{'");
    /* ... and starting with '{': the zeros are refused as they are read */
    unsigned char brace[9];
    memcpy(brace, len8, 8);
    brace[8] = '{';
    sparse_file(path, brace, 9, size);
    refused_cheaply(path, "control byte 0x00 at offset 1");
    /* a valid header of one 16-byte tensor followed by 2 GiB it does not
     * describe: refused by the tiling before the data are read */
    const char *h = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    unsigned char head[128];
    ijepa__le_put_u64(head, strlen(h));
    memcpy(head + 8, h, strlen(h));
    sparse_file(path, head, 8 + strlen(h), size);
    refused_cheaply(path, "after the last tensor");
    tmp_cleanup();
}
END_TEST

/* "{" + n entries of zero-size tensors + "}" */
static char *many_tensors_header(int64_t n, size_t *len)
{
    const size_t cap = (size_t)n * 64 + 16;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t k = 0;
    s[k++] = '{';
    for (int64_t i = 0; i < n; i++)
        k += (size_t)snprintf(s + k, cap - k,
                              "%s\"t%07lld\":{\"dtype\":\"F32\",\"shape\":[0],"
                              "\"data_offsets\":[0,0]}",
                              i ? "," : "", (long long)i);
    s[k++] = '}';
    *len = k;
    return s;
}

static unsigned char *with_length(const char *hdr, size_t hlen, size_t *n)
{
    unsigned char *b = malloc(8 + hlen);
    ck_assert_ptr_nonnull(b);
    ijepa__le_put_u64(b, hlen);
    memcpy(b + 8, hdr, hlen);
    *n = 8 + hlen;
    return b;
}

START_TEST(test_tensor_caps)
{
    tmp_init("limits");
    /* one tensor over the cap: parsed, then refused; 4x the cap: refused by
     * the scan before parsing, after the first few MB */
    const int64_t counts[] = {IJEPA_CHECKPOINT_MAX_TENSORS + 1, 4 * IJEPA_CHECKPOINT_MAX_TENSORS};
    for (size_t i = 0; i < COUNT_OF(counts); i++) {
        size_t hlen, n;
        char *hdr = many_tensors_header(counts[i], &hlen);
        unsigned char *b = with_length(hdr, hlen, &n);
        const char *path = tmp_path("many.safetensors");
        spit(path, b, n);
        const double t0 = now_s();
        ijepa_checkpoint *ck;
        expect_err(ijepa_checkpoint_open(&ck, path), IJEPA_ERR_FORMAT, ijepa_last_error(),
                   "ijepa_checkpoint_open",
                   i == 0 ? "more than the limit of 65536" : "JSON values");
        if (i == 1)
            ck_assert_double_lt(now_s() - t0, 1.0);
        free(b);
        free(hdr);
    }
    /* exactly the cap: a valid (if odd) file */
    size_t hlen, n;
    char *hdr = many_tensors_header(IJEPA_CHECKPOINT_MAX_TENSORS, &hlen);
    unsigned char *b = with_length(hdr, hlen, &n);
    ijepa_checkpoint *ck;
    ck_assert_msg(ijepa_checkpoint_open_memory(&ck, b, n, "cap") == IJEPA_OK, "%s",
                  ijepa_last_error());
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck), IJEPA_CHECKPOINT_MAX_TENSORS);
    ijepa_checkpoint_free(ck);
    free(b);
    free(hdr);
    /* a header of few tensors but a million JSON values (one long array in
     * the metadata) */
    const size_t nv = 1200000;
    char *big = malloc(2 * nv + 64);
    size_t k = (size_t)sprintf(big, "{\"__metadata__\":{\"k\":[");
    for (size_t i = 0; i < nv; i++) {
        big[k++] = '0';
        big[k++] = i + 1 < nv ? ',' : ']';
    }
    k += (size_t)sprintf(big + k, "}}");
    b = with_length(big, k, &n);
    expect_err(ijepa_checkpoint_open_memory(&ck, b, n, "values"), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_open_memory", "JSON values");
    /* commas and brackets inside strings do not count */
    k = (size_t)sprintf(big, "{\"__metadata__\":{\"k\":\"");
    for (size_t i = 0; i < nv; i++)
        big[k++] = i % 2 ? '[' : ',';
    k += (size_t)sprintf(big + k, "\\\",{\"}}");
    free(b);
    b = with_length(big, k, &n);
    ck_assert_msg(ijepa_checkpoint_open_memory(&ck, b, n, "strings") == IJEPA_OK, "%s",
                  ijepa_last_error());
    ijepa_checkpoint_free(ck);
    free(b);
    free(big);
    /* the writer refuses to make a file the reader would refuse */
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, NULL, 0), IJEPA_OK);
    char name[32];
    const int64_t zero = 0;
    for (int64_t i = 0; i < IJEPA_CHECKPOINT_MAX_TENSORS; i++) {
        snprintf(name, sizeof name, "t%lld", (long long)i);
        ck_assert_int_eq(ijepa_checkpoint_writer_add_tensor(w, name, 1, &zero, NULL), IJEPA_OK);
    }
    expect_err(ijepa_checkpoint_writer_add_tensor(w, "one-more", 1, &zero, NULL),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), "ijepa_checkpoint_writer_add_tensor",
               "limit of 65536");
    ijepa_checkpoint_writer_free(w);
    tmp_cleanup();
}
END_TEST

// --- step -----------------------------------------------------------------------------------

/* path's file with ijepa.step replaced by step (decimal text) and the
 * metadata checksum recomputed: a file that is valid but for the step. */
static void rewrite_step(const char *path, const char *step, const char *out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    const size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n);
    ck_assert_int_eq(fread(b, 1, n, f), n);
    fclose(f);
    const size_t h = (size_t)ijepa__le_u64(b);
    /* the metadata values, in ijepa__meta_summed order */
    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, n, "x"), IJEPA_OK);
    const char *v[IJEPA__NMETA_SUMMED];
    for (int i = 0; i < IJEPA__NMETA_SUMMED; i++)
        ck_assert_int_eq(ijepa_checkpoint_metadata(ck, ijepa__meta_summed[i], &v[i]), IJEPA_OK);
    const char *old_step = v[4], *old_sum;
    ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "ijepa.metadata_checksum", &old_sum),
                     IJEPA_OK);
    v[4] = step;
    char sum[32];
    snprintf(sum, sizeof sum, "crc32:%08x", (unsigned)ijepa__metadata_crc(v));
    /* patch the header text: "ijepa.step":"<old>" and the checksum */
    char *hdr = malloc(h + 64);
    memcpy(hdr, b + 8, h);
    hdr[h] = '\0';
    char from[64], to[64];
    snprintf(from, sizeof from, "\"ijepa.step\":\"%s\"", old_step);
    snprintf(to, sizeof to, "\"ijepa.step\":\"%s\"", step);
    char *at = strstr(hdr, from);
    ck_assert_ptr_nonnull(at);
    char *nh = malloc(h + 128);
    snprintf(nh, h + 128, "%.*s%s%s", (int)(at - hdr), hdr, to, at + strlen(from));
    at = strstr(nh, old_sum);
    ck_assert_ptr_nonnull(at);
    memcpy(at, sum, strlen(sum));
    ijepa_checkpoint_free(ck);
    /* pad to a multiple of 8 again */
    size_t nl = strlen(nh);
    while (nl % 8)
        nh[nl++] = ' ';
    f = fopen(out, "wb");
    unsigned char len8[8];
    ijepa__le_put_u64(len8, nl);
    ck_assert_int_eq(fwrite(len8, 1, 8, f), 8);
    ck_assert_int_eq(fwrite(nh, 1, nl, f), nl);
    ck_assert_int_eq(fwrite(b + 8 + h, 1, n - 8 - h, f), n - 8 - h);
    ck_assert_int_eq(fclose(f), 0);
    free(nh);
    free(hdr);
    free(b);
}

START_TEST(test_step_range)
{
    tmp_init("limits");
    ijepa_config *cfg = tiny_config(1);
    const char *path = tmp_path("tr.safetensors"), *out = tmp_path("step.safetensors");
    save_trainer(cfg, path);
    ijepa_checkpoint *ck;
    /* 2^63 - 1 and 2^53 + 1: a format error at load, not an overflow later */
    const char *bad[] = {"9223372036854775807", "9007199254740993", "18446744073709551615"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        rewrite_step(path, bad[i], out);
        expect_err(ijepa_checkpoint_open(&ck, out), IJEPA_ERR_FORMAT, ijepa_last_error(),
                   "ijepa_checkpoint_open", "exceeds the limit of 9007199254740992 steps");
    }
    rewrite_step(path, "18446744073709551616", out);
    expect_err(ijepa_checkpoint_open(&ck, out), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_checkpoint_open", "is not a decimal integer");
    /* 2^53 itself loads, and the trainer steps on from it */
    rewrite_step(path, "9007199254740992", out);
    ijepa_context *ctx;
    ijepa_trainer *tr;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    ck_assert_msg(ijepa_trainer_load(tr, out) == IJEPA_OK, "%s", ijepa_last_error());
    ck_assert_int_eq(ijepa_trainer_step_count(tr), IJEPA_CHECKPOINT_MAX_STEP);
    float *x = rand_floats(4 * 3 * 16 * 16, 9, -1, 1);
    ck_assert_msg(ijepa_trainer_step(tr, x, 4, NULL) == IJEPA_OK, "%s", ijepa_last_error());
    ck_assert_int_eq(ijepa_trainer_step_count(tr), IJEPA_CHECKPOINT_MAX_STEP + 1);
    ck_assert_int_eq(ijepa_optimizer_step_count(ijepa_trainer_optimizer(tr)),
                     IJEPA_CHECKPOINT_MAX_STEP + 1);
    /* ... and cannot save a step the reader would refuse */
    expect_err(ijepa_trainer_save(tr, path), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_checkpoint_writer_create", "outside [0, 9007199254740992]");
    ijepa_checkpoint_writer *w = (ijepa_checkpoint_writer *)1;
    expect_err(ijepa_checkpoint_writer_create(&w, cfg, INT64_MAX), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_create", "outside");
    ck_assert_ptr_null(w);
    free(x);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    tmp_cleanup();
}
END_TEST

// --- temporary files --------------------------------------------------------------------------

/* A small plain checkpoint saved to path. */
static int save_small(const char *path, float v)
{
    static float data[4];
    for (int i = 0; i < 4; i++)
        data[i] = v;
    ijepa_checkpoint_writer *w;
    const int64_t d = 4;
    int rc = ijepa_checkpoint_writer_create(&w, NULL, 0);
    if (rc == IJEPA_OK)
        rc = ijepa_checkpoint_writer_add_tensor(w, "x", 1, &d, data);
    if (rc == IJEPA_OK)
        rc = ijepa_checkpoint_writer_save(w, path);
    ijepa_checkpoint_writer_free(w);
    return rc;
}

static void make_file(const char *path, int age_seconds)
{
    spit(path, "partial", 7);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_seconds;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

START_TEST(test_stale_temps_removed)
{
    tmp_init("limits");
    const char *ck = tmp_path("ck.safetensors");
    ck_assert_int_eq(save_small(ck, 1), IJEPA_OK);
    /* orphans of ck, two minutes old, unlocked */
    const char *o1 = tmp_path("ck.safetensors.tmp-4242-55d0c0ffee10-0-1a2b3c");
    const char *o2 = tmp_path("ck.safetensors.tmp-1-a-17-0");
    make_file(o1, 120);
    make_file(o2, 120);
    /* kept: fresh; another checkpoint's; not the pattern; not regular */
    const char *fresh = tmp_path("ck.safetensors.tmp-4242-55d0c0ffee10-1-1a2b3d");
    const char *other = tmp_path("other.safetensors.tmp-4242-55d0c0ffee10-0-1a2b3c");
    const char *odd[] = {tmp_path("ck.safetensors.tmp-x"), tmp_path("ck.safetensors.tmp-1-2-3"),
                         tmp_path("ck.safetensors.tmp-1-A-3-4"),
                         tmp_path("ck.safetensors.tmp-1-a-3-4-5"),
                         tmp_path("ck.safetensors.tmp--a-3-4"), tmp_path("ck.safetensors.tmp")};
    make_file(fresh, 0);
    make_file(other, 120);
    for (size_t i = 0; i < COUNT_OF(odd); i++)
        make_file(odd[i], 120);
    const char *dir = tmp_path("ck.safetensors.tmp-7-b-0-c");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    const char *target = tmp_path("target");
    make_file(target, 120);
    const char *link = tmp_path("ck.safetensors.tmp-8-b-0-c");
    ck_assert_int_eq(symlink(target, link), 0);
    /* locked by a live process (a save in progress elsewhere) */
    const char *locked = tmp_path("ck.safetensors.tmp-9-b-0-c");
    make_file(locked, 120);
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    const pid_t holder = fork();
    ck_assert_int_ge(holder, 0);
    if (holder == 0) {
        const int fd = open(locked, O_RDONLY);
        if (fd < 0 || flock(fd, LOCK_EX) != 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);

    ck_assert_int_eq(save_small(ck, 2), IJEPA_OK);
    ck_assert(!exists(o1) && !exists(o2));
    ck_assert(exists(fresh) && exists(other) && exists(dir) && exists(link) && exists(target));
    ck_assert(exists(locked));
    for (size_t i = 0; i < COUNT_OF(odd); i++)
        ck_assert_msg(exists(odd[i]), "%s was removed", odd[i]);
    /* the holder dies: its file is an orphan now */
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    ck_assert_int_eq(save_small(ck, 3), IJEPA_OK);
    ck_assert(!exists(locked));
    ck_assert(exists(fresh)); /* two minutes to go */
    close(ready[0]);
    close(ready[1]);
    rmdir(dir);
    tmp_cleanup();
}
END_TEST

static int block_fd = -1;

/* A write that never returns after the header: the save is in progress
 * until the process is killed. */
static ssize_t write_then_hang(int fd, const void *b, size_t n)
{
    const ssize_t r = write(fd, b, n);
    if (n > 8) {
        if (write(block_fd, "x", 1) != 1)
            _exit(1);
        pause();
    }
    return r;
}

START_TEST(test_killed_save)
{
    tmp_init("limits");
    const char *ck = tmp_path("ck.safetensors");
    ck_assert_int_eq(save_small(ck, 1), IJEPA_OK);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    const pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        block_fd = p[1];
        ijepa__ckpt_io_hooks.write = write_then_hang;
        save_small(ck, 2);
        _exit(1);
    }
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 1); /* the child is inside its save */
    ck_assert_int_eq(tmp_count("ck.safetensors.tmp-"), 1);
    /* a save now leaves the live save's file alone, even at age 0 */
    ijepa__ckpt_io_hooks.stale_seconds = 0;
    ck_assert_int_eq(save_small(ck, 3), IJEPA_OK);
    ck_assert_int_eq(tmp_count("ck.safetensors.tmp-"), 1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* the interrupted save's file: removed by the next save (60 s later by
     * default; the age is lowered here) */
    ijepa__ckpt_io_hooks.stale_seconds = 60;
    ck_assert_int_eq(save_small(ck, 4), IJEPA_OK);
    ck_assert_int_eq(tmp_count("ck.safetensors.tmp-"), 1);
    ijepa__ckpt_io_hooks.stale_seconds = 0;
    ck_assert_int_eq(save_small(ck, 5), IJEPA_OK);
    ck_assert_int_eq(tmp_count("ck.safetensors.tmp-"), 0);
    ijepa__ckpt_io_reset();
    ijepa_checkpoint *r;
    ck_assert_int_eq(ijepa_checkpoint_open(&r, ck), IJEPA_OK);
    float v[4];
    ck_assert_int_eq(ijepa_checkpoint_read_tensor(r, 0, v, 4), IJEPA_OK);
    ck_assert(v[0] == 5.0f);
    ijepa_checkpoint_free(r);
    close(p[0]);
    close(p[1]);
    tmp_cleanup();
}
END_TEST

/* Two processes saving one path at once, each removing stale files at age 0
 * (so only the locks protect the other's file): every save succeeds and
 * nothing is left behind. */
START_TEST(test_concurrent_saves)
{
    tmp_init("limits");
    const char *ck = tmp_path("ck.safetensors");
    ijepa__ckpt_io_hooks.stale_seconds = 0;
    const pid_t child = fork();
    ck_assert_int_ge(child, 0);
    const int rounds = 300;
    int failed = 0;
    for (int i = 0; i < rounds; i++)
        if (save_small(ck, (float)i) != IJEPA_OK)
            failed++;
    if (child == 0)
        _exit(failed ? 1 : 0);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(failed == 0, "%d saves failed in the parent: %s", failed, ijepa_last_error());
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "saves failed in the child");
    ck_assert_int_eq(tmp_count("ck.safetensors.tmp-"), 0);
    ijepa_checkpoint *r;
    ck_assert_int_eq(ijepa_checkpoint_open(&r, ck), IJEPA_OK);
    ijepa_checkpoint_free(r);
    ijepa__ckpt_io_reset();
    tmp_cleanup();
}
END_TEST

Suite *ijepa_ckpt_limits_suite(void)
{
    Suite *s = suite_create("ckpt_limits");
    TCase *tc = add_tcase(s, "estimate", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_estimates_match_handles);
    tcase_add_test(tc, test_estimate_errors);
    tc = add_tcase(s, "check", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_check_agrees_with_load);
    tcase_add_test(tc, test_huge_config_refused_cheaply);
    tc = add_tcase(s, "reader", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_sparse_2gib);
    tcase_add_test(tc, test_tensor_caps);
    tc = add_tcase(s, "step", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_step_range);
    tc = add_tcase(s, "temps", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_stale_temps_removed);
    tcase_add_test(tc, test_killed_save);
    tcase_add_test(tc, test_concurrent_saves);
    return s;
}
