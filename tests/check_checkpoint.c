/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "checkpoint" — include/ijepa/checkpoint.h: safetensors
 * checkpoints of handles and of the whole trainer.
 *
 * TCases:
 *   roundtrip  a trainer saved after a few steps: the file's tensors, shapes,
 *              metadata and configuration are the trainer's; target_encoder.*
 *              loads alone into an encoder created from the file's config;
 *              the writer's data reads back bit-identically
 *   resume     N steps, save, load into a fresh trainer (in a separate
 *              process unless CK_FORK=no), N more steps: parameters, moments,
 *              step counts and losses bit-identical to 2N uninterrupted steps
 *   format     hand-made and corrupted files: truncation at every length up
 *              to a few hundred bytes and inside the data, every bit of the
 *              data flipped, every bit of the header flipped, zero length,
 *              huge header length, not JSON, duplicate keys, gaps and
 *              overlaps, wrong dtype, bad shapes and offsets, missing and
 *              extra tensors, bad metadata, non-finite values: each
 *              IJEPA_ERR_FORMAT with a message naming the file and the
 *              cause, and the destination unchanged
 *   trainer    ijepa_trainer_load() failures leave the trainer unchanged
 *   save       atomic save: a failing write / fsync / rename (injected
 *              through the internal I/O hooks) returns IJEPA_ERR_IO, leaves
 *              no temporary file and the previous checkpoint loads as before;
 *              argument errors of the writer and reader
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_ijepa.h"
#include "checkpoint_internal.h"
#include "ijepa/ijepa.h"
#include "ref.h"
#include "helpers.h"

// --- helpers ---------------------------------------------------------------------------------

#define IMG 16
#define CHANS 3
#define BATCH 4

/* The trainer suite's tiny model (16 tokens, D 32, 2 blocks; predictor D 16,
 * 1 block), batch 4. */
static ijepa_config *tiny_config(uint64_t seed, int64_t depth)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, IMG},     {IJEPA_CFG_PATCH_SIZE, 4},
        {IJEPA_CFG_IN_CHANS, CHANS},   {IJEPA_CFG_EMBED_DIM, 32},
        {IJEPA_CFG_DEPTH, depth},      {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 16}, {IJEPA_CFG_PRED_DEPTH, 1},
        {IJEPA_CFG_BATCH_SIZE, BATCH}, {IJEPA_CFG_MIN_KEEP, 2},
        {IJEPA_CFG_NUM_TARGETS, 2},    {IJEPA_CFG_TOTAL_STEPS, 20},
        {IJEPA_CFG_WARMUP_STEPS, 2},   {IJEPA_CFG_SEED, (int64_t)seed},
    };
    const cfg_float fv[] = {
        {IJEPA_CFG_TARGET_SCALE_MIN, 0.25}, {IJEPA_CFG_TARGET_SCALE_MAX, 0.35},
        {IJEPA_CFG_LR, 3e-3}, {IJEPA_CFG_CLIP_GRAD, 10.0},
    };
    return config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* An IJEPA_ERR_FORMAT whose message names the function, the file and `what`. */
static void expect_format(int rc, const char *msg, const char *func, const char *file,
                          const char *what, const char *label)
{
    expect_err(rc, IJEPA_ERR_FORMAT, msg, func, label);
    ck_assert_msg(strstr(msg, file) != NULL, "%s: message '%s' does not name the file %s", label,
                  msg, file);
    ck_assert_msg(!what || strstr(msg, what) != NULL, "%s: message '%s' does not say '%s'", label,
                  msg, what);
}

/* A table of two tensors: "a" [2, 3] at 0 and "b" [4] at 16 (buffer 20
 * floats... padded as the library pads). */
static struct ijepa_tensor_table tiny_table(void)
{
    struct ijepa_tensor_table t = {0};
    const int64_t da[] = {2, 3}, db[] = {4};
    ck_assert_int_ge(ijepa__table_add(&t, "a", 0, 2, da), 0);
    ck_assert_int_ge(ijepa__table_add(&t, "b", IJEPA_TENSOR_NO_DECAY, 1, db), 0);
    return t;
}

/* safetensors bytes from a header text and n little-endian floats. */
static unsigned char *craft(const char *header, const float *data, size_t n, size_t *size)
{
    const size_t h = strlen(header);
    unsigned char *b = malloc(8 + h + 4 * n + 1);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    memcpy(b + 8 + h, data, 4 * n); /* the test hosts are little-endian */
    *size = 8 + h + 4 * n;
    return b;
}

static const float TEN[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
#define A_ENTRY "\"g.a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"
#define B_ENTRY "\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}"

/* Open a crafted file from memory; must fail with FORMAT saying `what`. */
static void crafted_bad(const char *header, size_t nfloats, const char *what)
{
    size_t n;
    unsigned char *b = craft(header, TEN, nfloats, &n);
    ijepa_checkpoint *ck = (ijepa_checkpoint *)1;
    const int rc = ijepa_checkpoint_open_memory(&ck, b, n, "crafted.safetensors");
    expect_format(rc, ijepa_last_error(), "ijepa_checkpoint_open_memory", "crafted.safetensors",
                  what, header);
    ck_assert_ptr_null(ck);
    free(b);
}

/* Read group "g" of a crafted file into a buffer: must fail with FORMAT
 * saying `what`, the buffer unchanged. */
static void crafted_read_bad(const char *header, size_t nfloats, const char *what)
{
    size_t n;
    unsigned char *b = craft(header, TEN, nfloats, &n);
    ijepa_checkpoint *ck;
    int rc = ijepa_checkpoint_open_memory(&ck, b, n, "crafted.safetensors");
    ck_assert_msg(rc == IJEPA_OK, "%s: %s", header, ijepa_last_error());
    struct ijepa_tensor_table t = tiny_table();
    float dst[32];
    for (int i = 0; i < 32; i++)
        dst[i] = -7.0f;
    rc = ijepa_checkpoint_read(ck, "g", &t, dst);
    expect_format(rc, ijepa_last_error(), "ijepa_checkpoint_read",
                  "crafted.safetensors", what, header);
    ck_assert_int_eq(first_not(dst, 32, -7.0f), -1);
    ijepa__table_clear(&t);
    ijepa_checkpoint_free(ck);
    free(b);
}

/* A libijepa file of the tiny table written by the writer; data a, b = 1..10. */
static unsigned char *tiny_written(size_t *size, float *src)
{
    struct ijepa_tensor_table t = tiny_table();
    for (int i = 0; i < 32; i++)
        src[i] = 0;
    for (int i = 0; i < 6; i++)
        src[i] = (float)(i + 1);
    for (int i = 0; i < 4; i++)
        src[16 + i] = (float)(i + 7);
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, 1234), IJEPA_OK);
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 42), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "g", &t, src), IJEPA_OK);
    const char *p = tmp_path("tiny.safetensors");
    int rc = ijepa_checkpoint_writer_save(w, p);
    ck_assert_msg(rc == IJEPA_OK, "save: %s", ijepa_last_error());
    ijepa_checkpoint_writer_free(w);
    ijepa_config_free(cfg);
    ijepa__table_clear(&t);
    return slurp(p, size);
}

/* Header length of a file image. */
static size_t hlen_of(const unsigned char *b)
{
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | b[i];
    return (size_t)h;
}

// --- trainer fixture ---------------------------------------------------------------------------

typedef struct snap {
    float *p[7];
    int64_t n[7];
    int64_t step, opt_step;
} snap;

/* Copy every buffer a trainer checkpoint holds. */
static snap snap_take(ijepa_trainer *tr, ijepa_optimizer *opt)
{
    snap s;
    float *src[7];
    int64_t n;
    ck_assert_int_eq(ijepa_encoder_params(ijepa_trainer_context_encoder(tr), &src[0], &s.n[0]), 0);
    ck_assert_int_eq(ijepa_encoder_params(ijepa_trainer_target_encoder(tr), &src[1], &s.n[1]), 0);
    ck_assert_int_eq(ijepa_predictor_params(ijepa_trainer_predictor(tr), &src[2], &s.n[2]), 0);
    ck_assert_int_eq(ijepa_optimizer_moments(opt, 0, &src[3], &src[4], &n), 0);
    s.n[3] = s.n[4] = n;
    ck_assert_int_eq(ijepa_optimizer_moments(opt, 1, &src[5], &src[6], &n), 0);
    s.n[5] = s.n[6] = n;
    for (int i = 0; i < 7; i++) {
        s.p[i] = malloc((size_t)s.n[i] * sizeof(float));
        ck_assert_ptr_nonnull(s.p[i]);
        memcpy(s.p[i], src[i], (size_t)s.n[i] * sizeof(float));
    }
    s.step = ijepa_trainer_step_count(tr);
    s.opt_step = ijepa_optimizer_step_count(opt);
    return s;
}

static void snap_expect_equal(const snap *a, const snap *b, const char *label)
{
    static const char *const what[7] = {"encoder", "target_encoder", "predictor",
                                        "exp_avg.encoder", "exp_avg_sq.encoder",
                                        "exp_avg.predictor", "exp_avg_sq.predictor"};
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(a->n[i], b->n[i]);
        ck_assert_msg(memcmp(a->p[i], b->p[i], (size_t)a->n[i] * sizeof(float)) == 0,
                      "%s: %s differs", label, what[i]);
    }
    ck_assert_msg(a->step == b->step && a->opt_step == b->opt_step,
                  "%s: steps %lld/%lld vs %lld/%lld", label, (long long)a->step,
                  (long long)a->opt_step, (long long)b->step, (long long)b->opt_step);
}

static void snap_free(snap *s)
{
    for (int i = 0; i < 7; i++)
        free(s->p[i]);
}

static float *batch_images(uint64_t step)
{
    return rand_floats(BATCH * CHANS * IMG * IMG, 1000 + step, -1, 1);
}

/* Run steps [from, to) on the seeded batches; losses into loss[from..]. */
static void run_steps(ijepa_trainer *tr, int64_t from, int64_t to, double *loss)
{
    for (int64_t s = from; s < to; s++) {
        float *x = batch_images((uint64_t)s);
        const int rc = ijepa_trainer_step(tr, x, BATCH, loss ? &loss[s] : NULL);
        ck_assert_msg(rc == IJEPA_OK, "step %lld: %s", (long long)s, ijepa_last_error());
        free(x);
    }
}

// --- roundtrip -----------------------------------------------------------------------------------

START_TEST(test_trainer_roundtrip)
{
    tmp_init("ckpt");
    ijepa_config *cfg = tiny_config(77, 2);
    ijepa_context *ctx;
    ijepa_trainer *tr;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    run_steps(tr, 0, 2, NULL);
    const char *path = tmp_path("ck.safetensors");
    ck_assert_msg(ijepa_trainer_save(tr, path) == IJEPA_OK, "%s", ijepa_last_error());
    ck_assert_int_eq(tmp_count(""), 1); /* no temporary file left */

    ijepa_checkpoint *ck;
    ck_assert_msg(ijepa_checkpoint_open(&ck, path) == IJEPA_OK, "%s", ijepa_last_error());
    /* tensor count: 4 encoder-shaped groups (encoder, target, 2 moments), 3
     * predictor-shaped ones (predictor, 2 moments) */
    const ijepa_tensor_table *te = ijepa_encoder_tensors(ijepa_trainer_context_encoder(tr));
    const ijepa_tensor_table *tp = ijepa_predictor_tensors(ijepa_trainer_predictor(tr));
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck),
                     4 * ijepa_tensor_table_count(te) + 3 * ijepa_tensor_table_count(tp));
    /* official names and shapes */
    int found = 0;
    for (int64_t i = 0; i < ijepa_checkpoint_tensor_count(ck); i++) {
        const char *name;
        int32_t nd;
        int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS];
        ck_assert_int_eq(ijepa_checkpoint_tensor_info(ck, i, &name, &nd, dims), IJEPA_OK);
        if (!strcmp(name, "target_encoder.blocks.1.attn.qkv.weight")) {
            ck_assert_int_eq(nd, 2);
            ck_assert_int_eq(dims[0], 96);
            ck_assert_int_eq(dims[1], 32);
            found++;
        }
        if (!strcmp(name, "optimizer.exp_avg_sq.predictor.mask_token") ||
            !strcmp(name, "encoder.pos_embed") || !strcmp(name, "predictor.predictor_norm.bias"))
            found++;
    }
    ck_assert_int_eq(found, 4);
    /* metadata */
    const char *v;
    int64_t step;
    ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "format", &v), IJEPA_OK);
    ck_assert_str_eq(v, "libijepa");
    ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "ijepa.library_version", &v), IJEPA_OK);
    ck_assert_str_eq(v, ijepa_version_string());
    ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "ijepa.seed", &v), IJEPA_OK);
    ck_assert_str_eq(v, "77");
    ck_assert_int_eq(ijepa_checkpoint_step(ck, &step), IJEPA_OK);
    ck_assert_int_eq(step, 2);
    expect_err(ijepa_checkpoint_metadata(ck, "nope", &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_metadata", "unknown key");
    /* the configuration, every key */
    ijepa_config *back;
    ck_assert_int_eq(ijepa_checkpoint_config(ck, &back), IJEPA_OK);
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (key == IJEPA_CFG_TRAINABLE)
            continue;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            int64_t a, b;
            ijepa_config_get_int(cfg, key, &a);
            ijepa_config_get_int(back, key, &b);
            ck_assert_msg(a == b, "key %s", ijepa_config_key_name(key));
        } else {
            double a, b;
            ijepa_config_get_float(cfg, key, &a);
            ijepa_config_get_float(back, key, &b);
            ck_assert_msg(a == b, "key %s: %.17g vs %.17g", ijepa_config_key_name(key), a, b);
        }
    }
    /* target_encoder.* alone into an inference encoder made from the file */
    ck_assert_int_eq(ijepa_config_set_int(back, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    ijepa_encoder *enc;
    ck_assert_int_eq(ijepa_encoder_create(&enc, ctx, back), IJEPA_OK);
    ck_assert_msg(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc) == IJEPA_OK, "%s",
                  ijepa_last_error());
    float *a, *b;
    int64_t na, nb;
    ijepa_encoder_params(enc, &a, &na);
    ijepa_encoder_params(ijepa_trainer_target_encoder(tr), &b, &nb);
    ck_assert_int_eq(na, nb);
    ck_assert(memcmp(a, b, (size_t)na * sizeof(float)) == 0);
    /* the context encoder differs from the target after 2 steps, and loads too */
    ck_assert(ijepa_checkpoint_load_encoder(ck, "encoder", enc) == IJEPA_OK);
    ijepa_encoder_params(ijepa_trainer_context_encoder(tr), &b, &nb);
    ck_assert(memcmp(a, b, (size_t)na * sizeof(float)) == 0);
    /* predictor and a moment group through the generic reader */
    ijepa_predictor *pred;
    ck_assert_int_eq(ijepa_predictor_create(&pred, ctx, cfg), IJEPA_OK);
    ck_assert(ijepa_checkpoint_load_predictor(ck, "predictor", pred) == IJEPA_OK);
    ijepa_predictor_params(pred, &a, &na);
    ijepa_predictor_params(ijepa_trainer_predictor(tr), &b, &nb);
    ck_assert(memcmp(a, b, (size_t)na * sizeof(float)) == 0);
    float *m, *vv;
    int64_t nm;
    ck_assert_int_eq(ijepa_optimizer_moments(ijepa_trainer_optimizer(tr), 1, &m, &vv,
                                             &nm), IJEPA_OK);
    float *buf = calloc((size_t)nm, sizeof(float));
    ck_assert(ijepa_checkpoint_read(ck, "optimizer.exp_avg_sq.predictor", tp, buf) == IJEPA_OK);
    ck_assert(memcmp(buf, vv, (size_t)nm * sizeof(float)) == 0);
    ck_assert_int_gt(nm - first_not(vv, nm, 0.0f), 0); /* not all zero */
    free(buf);
    ijepa_predictor_free(pred);
    ijepa_encoder_free(enc);
    ijepa_config_free(back);
    ijepa_checkpoint_free(ck);

    /* read_config gives the same configuration */
    ck_assert_int_eq(ijepa_checkpoint_read_config(path, &back), IJEPA_OK);
    int64_t seed;
    ijepa_config_get_int(back, IJEPA_CFG_SEED, &seed);
    ck_assert_int_eq(seed, 77);
    ijepa_config_free(back);

    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    tmp_cleanup();
}
END_TEST

/* The writer's bytes: the header, data section and values as written. */
START_TEST(test_writer_bytes)
{
    tmp_init("ckpt");
    float src[32];
    size_t n;
    unsigned char *b = tiny_written(&n, src);
    const size_t h = hlen_of(b);
    ck_assert_int_eq(h % 8, 0);
    ck_assert_int_eq(n, 8 + h + 40);
    ck_assert_int_eq(b[8], '{');
    const float *data = (const float *)(b + 8 + h);
    for (int i = 0; i < 10; i++)
        ck_assert(data[i] == (float)(i + 1));
    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, n, NULL), IJEPA_OK);
    struct ijepa_tensor_table t = tiny_table();
    float dst[32] = {0};
    ck_assert_int_eq(ijepa_checkpoint_read(ck, "g", &t, dst), IJEPA_OK);
    ck_assert(memcmp(dst, src, sizeof dst) == 0); /* padding stays as it was (0) */
    int64_t step;
    ck_assert_int_eq(ijepa_checkpoint_step(ck, &step), IJEPA_OK);
    ck_assert_int_eq(step, 42);
    const char *v;
    ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "ijepa.config", &v), IJEPA_OK);
    ck_assert_ptr_nonnull(strstr(v, "seed = 1234\n"));
    ck_assert_ptr_nonnull(strstr(v, "lr = 0.001\n"));
    ijepa_checkpoint_free(ck);
    ijepa__table_clear(&t);
    free(b);
    tmp_cleanup();
}
END_TEST

// --- resume ----------------------------------------------------------------------------------------

#define RESUME_N 3

START_TEST(test_exact_resume)
{
    tmp_init("ckpt");
    const char *path = tmp_path("half.safetensors");
    const char *fork_env = getenv("CK_FORK");
    const int separate = !(fork_env && !strcmp(fork_env, "no"));
    double loss_a[2 * RESUME_N], loss_b[2 * RESUME_N];
    if (separate) {
        /* The first half runs in a child forked before this process has used
         * the library (or OpenMP): the resumed trainer below is created in a
         * process that never saw the first one. */
        const pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            ijepa_config *cfg = tiny_config(5, 2);
            ijepa_context *ctx;
            ijepa_trainer *tr;
            int ok = ijepa_context_create(&ctx) == IJEPA_OK &&
                     ijepa_trainer_create(&tr, ctx, cfg) == IJEPA_OK;
            for (int64_t s = 0; ok && s < RESUME_N; s++) {
                float *x = batch_images((uint64_t)s);
                ok = ijepa_trainer_step(tr, x, BATCH, NULL) == IJEPA_OK;
                free(x);
            }
            ok = ok && ijepa_trainer_save(tr, path) == IJEPA_OK;
            _exit(ok ? 0 : 1);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "first half failed");
    } else {
        ijepa_config *cfg = tiny_config(5, 2);
        ijepa_context *ctx;
        ijepa_trainer *tr;
        ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
        run_steps(tr, 0, RESUME_N, loss_b);
        ck_assert_int_eq(ijepa_trainer_save(tr, path), IJEPA_OK);
        ijepa_trainer_free(tr);
        ijepa_context_free(ctx);
        ijepa_config_free(cfg);
    }
    /* second half: a fresh trainer from the file's own configuration */
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_checkpoint_read_config(path, &cfg), IJEPA_OK);
    ijepa_trainer *tb;
    ck_assert_int_eq(ijepa_trainer_create(&tb, ctx, cfg), IJEPA_OK);
    ck_assert_msg(ijepa_trainer_load(tb, path) == IJEPA_OK, "%s", ijepa_last_error());
    ck_assert_int_eq(ijepa_trainer_step_count(tb), RESUME_N);
    double st;
    ck_assert_int_eq(ijepa_trainer_stat(tb, IJEPA_STAT_LOSS, &st), IJEPA_ERR_STATE);
    run_steps(tb, RESUME_N, 2 * RESUME_N, loss_b);

    /* the uninterrupted run */
    ijepa_config *cfg_a = tiny_config(5, 2);
    ijepa_trainer *ta;
    ck_assert_int_eq(ijepa_trainer_create(&ta, ctx, cfg_a), IJEPA_OK);
    run_steps(ta, 0, 2 * RESUME_N, loss_a);

    snap a = snap_take(ta, ijepa_trainer_optimizer(ta));
    snap b = snap_take(tb, ijepa_trainer_optimizer(tb));
    ck_assert_int_eq(a.step, 2 * RESUME_N);
    ck_assert_int_eq(a.opt_step, 2 * RESUME_N);
    snap_expect_equal(&a, &b, "resumed vs uninterrupted");
    for (int s = RESUME_N; s < 2 * RESUME_N; s++)
        ck_assert_msg(loss_a[s] == loss_b[s], "loss of step %d: %.17g vs %.17g", s, loss_a[s],
                      loss_b[s]);
    /* and the check is not vacuous: the steps after the save changed things */
    ijepa_checkpoint *ck;
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, path), IJEPA_OK);
    float *p;
    int64_t n;
    ijepa_encoder_params(ijepa_trainer_target_encoder(ta), &p, &n);
    float *half = malloc((size_t)n * sizeof(float));
    memcpy(half, p, (size_t)n * sizeof(float));
    ck_assert_int_eq(ijepa_checkpoint_read(ck, "target_encoder",
                                           ijepa_encoder_tensors(ijepa_trainer_target_encoder(ta)),
                                           half),
                     IJEPA_OK);
    ck_assert(memcmp(half, p, (size_t)n * sizeof(float)) != 0);
    free(half);
    ijepa_checkpoint_free(ck);
    snap_free(&a);
    snap_free(&b);
    ijepa_trainer_free(ta);
    ijepa_trainer_free(tb);
    ijepa_config_free(cfg_a);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
    tmp_cleanup();
}
END_TEST

// --- format ----------------------------------------------------------------------------------------

START_TEST(test_crafted_valid)
{
    /* the crafting helper itself makes valid files */
    size_t n;
    unsigned char *b = craft("{" A_ENTRY "," B_ENTRY "}", TEN, 10, &n);
    ijepa_checkpoint *ck;
    ck_assert_msg(ijepa_checkpoint_open_memory(&ck, b, n, "x") == IJEPA_OK, "%s",
                  ijepa_last_error());
    struct ijepa_tensor_table t = tiny_table();
    float dst[32] = {0};
    ck_assert_int_eq(ijepa_checkpoint_read(ck, "g", &t, dst), IJEPA_OK);
    ck_assert(dst[0] == 1 && dst[5] == 6 && dst[16] == 7 && dst[19] == 10 && dst[6] == 0);
    /* a foreign file (no libijepa metadata) has no config or step */
    ijepa_config *cfg = (ijepa_config *)1;
    int64_t step;
    expect_format(ijepa_checkpoint_config(ck, &cfg), ijepa_last_error(),
                  "ijepa_checkpoint_config", "x", "libijepa", "foreign config");
    ck_assert_ptr_null(cfg);
    expect_format(ijepa_checkpoint_step(ck, &step), ijepa_last_error(),
                  "ijepa_checkpoint_step", "x", "libijepa", "foreign step");
    ijepa_checkpoint_free(ck);
    free(b);
    /* also with safetensors.torch-style metadata, padding and a zero-size tensor */
    b = craft("{\"__metadata__\":{\"format\":\"pt\"}," A_ENTRY "," B_ENTRY
              ",\"g.z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[40,40]}}    ",
              TEN, 10, &n);
    ck_assert_msg(ijepa_checkpoint_open_memory(&ck, b, n, "x") == IJEPA_OK, "%s",
                  ijepa_last_error());
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck), 3);
    /* g.z is an extra tensor of group g */
    expect_format(ijepa_checkpoint_read(ck, "g", &t, dst), ijepa_last_error(),
                  "ijepa_checkpoint_read", "x", "g.z", "extra zero-size tensor");
    ijepa_checkpoint_free(ck);
    ijepa__table_clear(&t);
    free(b);
}
END_TEST

START_TEST(test_truncated)
{
    tmp_init("ckpt");
    float src[32];
    size_t n;
    unsigned char *b = tiny_written(&n, src);
    ck_assert_int_gt(n, 300);
    /* every length up to 400 bytes, and every cut inside the data section */
    int tried = 0;
    for (size_t len = 0; len < n; len++) {
        if (len > 400 && len < n - 48)
            continue;
        ijepa_checkpoint *ck = (ijepa_checkpoint *)1;
        const int rc = ijepa_checkpoint_open_memory(&ck, b, len, "cut.safetensors");
        char label[64];
        snprintf(label, sizeof label, "cut at %zu of %zu", len, n);
        expect_format(rc, ijepa_last_error(), "ijepa_checkpoint_open_memory", "cut.safetensors",
                      NULL, label);
        ck_assert_ptr_null(ck);
        tried++;
    }
    ck_assert_int_gt(tried, 400);
    /* the same through files, including an empty one */
    const size_t cuts[] = {0, 7, 8, 9, n / 2, n - 4, n - 1};
    const char *p = tmp_path("cut.safetensors");
    for (size_t i = 0; i < COUNT_OF(cuts); i++) {
        spit(p, b, cuts[i]);
        ijepa_checkpoint *ck = (ijepa_checkpoint *)1;
        expect_format(ijepa_checkpoint_open(&ck, p), ijepa_last_error(), "ijepa_checkpoint_open",
                      p, NULL, "file cut");
        ck_assert_ptr_null(ck);
    }
    /* a longer file than the header says */
    unsigned char *longer = malloc(n + 4);
    memcpy(longer, b, n);
    memset(longer + n, 0, 4);
    ijepa_checkpoint *ck;
    expect_format(ijepa_checkpoint_open_memory(&ck, longer, n + 4, "long"), ijepa_last_error(),
                  "ijepa_checkpoint_open_memory", "long", "after the last tensor", "longer");
    free(longer);
    free(b);
    tmp_cleanup();
}
END_TEST

START_TEST(test_bitflips)
{
    tmp_init("ckpt");
    float src[32];
    size_t n;
    unsigned char *b = tiny_written(&n, src);
    const size_t h = hlen_of(b), d0 = 8 + h;
    /* every bit of the data section: the checksum catches it */
    for (size_t i = d0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            ijepa_checkpoint *ck;
            const int rc = ijepa_checkpoint_open_memory(&ck, b, n, "flip");
            b[i] ^= (unsigned char)(1u << bit);
            char label[64];
            snprintf(label, sizeof label, "data byte %zu bit %d", i, bit);
            expect_format(rc, ijepa_last_error(), "ijepa_checkpoint_open_memory", "flip",
                          "checksum", label);
        }
    /* every bit of the length field and the header: rejected, or the file
     * still opens (a flip in a tensor name, in the name of an unchecked
     * metadata key, or in "format", which makes it a foreign file) and then
     * its step and configuration are the saved ones or absent, and the
     * tensors read back exactly or fail with FORMAT leaving the destination
     * unchanged */
    struct ijepa_tensor_table t = tiny_table();
    char config0[4096];
    {
        ijepa_checkpoint *ck;
        const char *v;
        ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, n, "orig"), IJEPA_OK);
        ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "ijepa.config", &v), IJEPA_OK);
        snprintf(config0, sizeof config0, "%s", v);
        ijepa_checkpoint_free(ck);
    }
    int rejected = 0, loaded = 0;
    for (size_t i = 0; i < d0; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            ijepa_checkpoint *ck;
            int rc = ijepa_checkpoint_open_memory(&ck, b, n, "flip");
            b[i] ^= (unsigned char)(1u << bit);
            char label[64];
            snprintf(label, sizeof label, "header byte %zu bit %d", i, bit);
            if (rc != IJEPA_OK) {
                expect_format(rc, ijepa_last_error(), "ijepa_checkpoint_open_memory", "flip",
                              NULL, label);
                rejected++;
                continue;
            }
            int64_t step;
            if (ijepa_checkpoint_step(ck, &step) == IJEPA_OK) {
                const char *v;
                ck_assert_msg(step == 42, "%s: step %lld", label, (long long)step);
                ck_assert_int_eq(ijepa_checkpoint_metadata(ck, "ijepa.config", &v), IJEPA_OK);
                ck_assert_msg(!strcmp(v, config0), "%s: the configuration changed", label);
            }
            float dst[32];
            for (int k = 0; k < 32; k++)
                dst[k] = -3.0f;
            rc = ijepa_checkpoint_read(ck, "g", &t, dst);
            if (rc != IJEPA_OK) {
                expect_format(rc, ijepa_last_error(), "ijepa_checkpoint_read",
                              "flip", NULL, label);
                ck_assert_int_eq(first_not(dst, 32, -3.0f), -1);
            } else {
                for (int k = 0; k < 6; k++)
                    ck_assert_msg(dst[k] == src[k], "%s: a[%d]", label, k);
                for (int k = 0; k < 4; k++)
                    ck_assert_msg(dst[16 + k] == src[16 + k], "%s: b[%d]", label, k);
                loaded++;
            }
            ijepa_checkpoint_free(ck);
        }
    /* most flips break the structure */
    ck_assert_msg(rejected > 8 * (int)d0 / 2, "only %d of %d header flips rejected", rejected,
                  8 * (int)d0);
    ijepa__table_clear(&t);
    free(b);
    tmp_cleanup();
}
END_TEST

START_TEST(test_header_length)
{
    size_t n;
    unsigned char *b = craft("{" A_ENTRY "," B_ENTRY "}", TEN, 10, &n);
    const uint64_t bad[] = {0, 1, (uint64_t)IJEPA_CHECKPOINT_MAX_HEADER + 1, UINT64_MAX,
                            (uint64_t)1 << 63, n - 7, n};
    const char *what[] = {"below 2", "below 2", "limit", "limit", "limit", "exceeds",
                          "exceeds"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        unsigned char c[8];
        memcpy(c, b, 8);
        for (int k = 0; k < 8; k++)
            b[k] = (unsigned char)(bad[i] >> (8 * k));
        ijepa_checkpoint *ck;
        expect_format(ijepa_checkpoint_open_memory(&ck, b, n, "hl"), ijepa_last_error(),
                      "ijepa_checkpoint_open_memory", "hl", what[i], "header length");
        memcpy(b, c, 8);
    }
    free(b);
}
END_TEST

START_TEST(test_not_json)
{
    crafted_bad("[1, 2, 3]", 0, "'{'");
    crafted_bad("\x89PNG\r\n\x1a\n", 0, "'{'");
    crafted_bad("{\"g.a\": ", 0, "JSON");
    crafted_bad("{\"g.a\": {}} trailing", 0, "JSON");
    crafted_bad("{\"g.a\": {\"dtype\": \"F32\",}}", 0, "JSON");
    crafted_bad("{\"g\xff\": 1}", 0, "JSON"); /* not UTF-8 */
    crafted_bad("{\"g.a\": 3}", 0, "not a JSON object");
    /* duplicate keys, at the top and inside an entry */
    crafted_bad("{" A_ENTRY "," A_ENTRY "," B_ENTRY "}", 10, "JSON");
    crafted_bad("{\"g.a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2,3],"
                "\"data_offsets\":[0,24]}," B_ENTRY "}",
                10, "JSON");
    /* the same through a file with the wrong magic */
    char dir[] = "/tmp/ijepa-ckpt-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[64];
    snprintf(p, sizeof p, "%s/x.png", dir);
    spit(p, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    ijepa_checkpoint *ck;
    expect_format(ijepa_checkpoint_open(&ck, p), ijepa_last_error(), "ijepa_checkpoint_open", p,
                  NULL, "png");
    unlink(p);
    rmdir(dir);
}
END_TEST

START_TEST(test_offsets)
{
    /* gap, overlap, beyond the end, wrong length, reversed */
    crafted_bad("{\"g.a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[4,28]},"
                "\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[28,44]}}",
                11, "gap");
    crafted_bad("{\"g.a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                "\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[20,36]}}",
                10, "overlaps");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[28,44]}}",
                10, "truncated");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,36]}}",
                10, "the shape needs");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[40,24]}}",
                10, "end before");
    crafted_bad("{" A_ENTRY "," B_ENTRY "}", 11, "after the last tensor");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24]}}",
                10, "2 integers");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40,40]}}",
                10, "2 integers");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[-16,40]}}",
                10, "non-negative");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40.0]}}",
                10, "non-negative");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":\"24,40\"}}",
                10, "2 integers");
}
END_TEST

START_TEST(test_entries)
{
    /* integer tensors are refused (F16, BF16 and F64 convert: suite ckpt_interop) */
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}}",
                10, "dtype I64");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"Q9\",\"shape\":[4],\"data_offsets\":[24,40]}}",
                10, "unknown dtype 'Q9'");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":32,\"shape\":[4],\"data_offsets\":[24,40]}}",
                10, "not a string");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"shape\":[4],\"data_offsets\":[24,40]}}", 10,
                "lacks dtype");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"data_offsets\":[24,40]}}", 10,
                "lacks shape");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4]}}", 10,
                "lacks data_offsets");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40],"
                "\"x\":1}}",
                10, "unknown field");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[24,40]}}",
                10, "shape[0]");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4.5],\"data_offsets\":[24,40]}}",
                10, "shape[0]");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[24,40]}}",
                10, "not an array");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,4],"
                "\"data_offsets\":[24,40]}}",
                10, "dimensions");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                "\"data_offsets\":[24,40]}}",
                10, "overflows");
    crafted_bad("{" A_ENTRY ",\"g.b\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807],"
                "\"data_offsets\":[24,40]}}",
                10, "overflows");
    crafted_bad("{\"__metadata__\":[1]," A_ENTRY "," B_ENTRY "}", 10, "__metadata__");
    crafted_bad("{\"__metadata__\":{\"k\":1}," A_ENTRY "," B_ENTRY "}", 10, "not a string");
    /* wrong shapes, missing and extra tensors: caught when reading the group */
    crafted_read_bad("{\"g.a\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},"
                     B_ENTRY "}",
                     10, "[3, 2], the model needs [2, 3]");
    crafted_read_bad("{\"g.a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}," B_ENTRY
                     "}",
                     10, "shape [6]");
    crafted_read_bad("{\"g.a\":{\"dtype\":\"F32\",\"shape\":[2,3,1],\"data_offsets\":[0,24]},"
                     B_ENTRY "}",
                     10, "shape");
    crafted_read_bad("{" A_ENTRY "}", 6, "'g.b' is missing");
    crafted_read_bad("{" A_ENTRY ",\"h.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}}",
                     10, "'g.b' is missing");
    crafted_read_bad("{" A_ENTRY "," B_ENTRY
                     ",\"g.c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[40,44]}}",
                     11, "unexpected tensor 'g.c'");
    crafted_read_bad("{" A_ENTRY "," B_ENTRY
                     ",\"g.b.x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[40,44]}}",
                     11, "unexpected tensor 'g.b.x'");
}
END_TEST

/* Rewrite one metadata value of a writer-made file (the data stay valid).
 * Unless keep_sum, the optional ijepa.metadata_checksum is dropped first, so
 * that the other checks are reached. */
static unsigned char *with_meta_sum(const unsigned char *b, size_t n, const char *key,
                                    const char *value, int keep_sum, size_t *out)
{
    const size_t h = hlen_of(b);
    char *hdr = malloc(h + 1);
    memcpy(hdr, b + 8, h);
    hdr[h] = '\0';
    if (!keep_sum) {
        char *ms = strstr(hdr, ",\"ijepa.metadata_checksum\":\"crc32:");
        ck_assert_ptr_nonnull(ms);
        memmove(ms, ms + 43, strlen(ms + 43) + 1);
    }
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    char *at = strstr(hdr, pat);
    ck_assert_msg(at != NULL, "no %s in the header", key);
    char *vs = at + strlen(pat), *ve = vs;
    while (*ve != '"')
        ve += *ve == '\\' ? 2 : 1;
    char *nh = malloc(h + strlen(value) + 64);
    snprintf(nh, h + strlen(value) + 64, "%.*s%s%s", (int)(vs - hdr), hdr, value, ve);
    const size_t dn = n - 8 - h;
    float *data = malloc(dn);
    memcpy(data, b + 8 + h, dn);
    unsigned char *r = craft(nh, data, dn / 4, out);
    free(hdr);
    free(nh);
    free(data);
    return r;
}

static unsigned char *with_meta(const unsigned char *b, size_t n, const char *key,
                                const char *value, size_t *out)
{
    return with_meta_sum(b, n, key, value, 0, out);
}

static void meta_bad(const unsigned char *b, size_t n, const char *key, const char *value,
                     const char *what)
{
    size_t m;
    unsigned char *c = with_meta(b, n, key, value, &m);
    ijepa_checkpoint *ck;
    char label[128];
    snprintf(label, sizeof label, "%s = '%s'", key, value);
    expect_format(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), ijepa_last_error(),
                  "ijepa_checkpoint_open_memory", "meta", what, label);
    free(c);
}

START_TEST(test_metadata)
{
    tmp_init("ckpt");
    float src[32];
    size_t n;
    unsigned char *b = tiny_written(&n, src);
    /* the rewrite itself keeps a valid file */
    size_t m;
    unsigned char *c = with_meta(b, n, "ijepa.step", "7", &m);
    ijepa_checkpoint *ck;
    ck_assert_msg(ijepa_checkpoint_open_memory(&ck, c, m, "meta") == IJEPA_OK, "%s",
                  ijepa_last_error());
    int64_t step;
    ck_assert_int_eq(ijepa_checkpoint_step(ck, &step), IJEPA_OK);
    ck_assert_int_eq(step, 7);
    ijepa_checkpoint_free(ck);
    free(c);

    /* the metadata checksum: a changed value with the checksum kept is caught,
     * and so are a malformed checksum and a missing covered key */
    c = with_meta_sum(b, n, "ijepa.step", "43", 1, &m);
    expect_format(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), ijepa_last_error(),
                  "ijepa_checkpoint_open_memory", "meta", "metadata checksum mismatch", "step");
    free(c);
    c = with_meta_sum(b, n, "ijepa.config", "seed = 1234\\nlr = 0.002\\n", 1, &m);
    expect_format(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), ijepa_last_error(),
                  "ijepa_checkpoint_open_memory", "meta", "metadata checksum mismatch", "lr");
    free(c);
    c = with_meta_sum(b, n, "ijepa.metadata_checksum", "crc32:1234567", 1, &m);
    expect_format(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), ijepa_last_error(),
                  "ijepa_checkpoint_open_memory", "meta", "ijepa.metadata_checksum", "format");
    free(c);
    c = with_meta_sum(b, n, "format", "pt", 1, &m);
    expect_format(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), ijepa_last_error(),
                  "ijepa_checkpoint_open_memory", "meta", "metadata checksum mismatch", "pt");
    free(c);
    meta_bad(b, n, "ijepa.format_version", "2", "format_version");
    meta_bad(b, n, "ijepa.library_version", "", "library_version");
    meta_bad(b, n, "ijepa.step", "-1", "ijepa.step");
    meta_bad(b, n, "ijepa.step", "12x", "ijepa.step");
    meta_bad(b, n, "ijepa.step", "", "ijepa.step");
    meta_bad(b, n, "ijepa.step", "9223372036854775808", "ijepa.step");
    meta_bad(b, n, "ijepa.seed", "99", "differs");
    meta_bad(b, n, "ijepa.seed", "0x10", "ijepa.seed");
    meta_bad(b, n, "ijepa.checksum", "crc32:0000000", "ijepa.checksum");
    meta_bad(b, n, "ijepa.checksum", "md5:00000000", "ijepa.checksum");
    meta_bad(b, n, "ijepa.checksum", "crc32:0000000g", "ijepa.checksum");
    meta_bad(b, n, "ijepa.checksum", "crc32:00000000", "checksum mismatch");
    meta_bad(b, n, "ijepa.config", "seed = 1234\\nwidth = 3\\n", "unknown key 'width'");
    meta_bad(b, n, "ijepa.config", "seed = 1234\\ndepth = 3x\\n", "invalid value");
    meta_bad(b, n, "ijepa.config", "seed = 1234\\ndepth = 0\\n", "invalid value");
    meta_bad(b, n, "ijepa.config", "seed = 1234\\nlr = nan\\n", "invalid value");
    meta_bad(b, n, "ijepa.config", "seed = 1234\\nlr = 1e-3\\nlr = 1e-3\\n", "twice");
    meta_bad(b, n, "ijepa.config", "seed = 1234\\ndepth 3\\n", "no '='");
    /* the config text applies over the defaults; comments and blanks are fine */
    c = with_meta(b, n, "ijepa.config", "# a comment\\n\\n  seed =  1234 \\ndepth=3", &m);
    ck_assert_msg(ijepa_checkpoint_open_memory(&ck, c, m, "meta") == IJEPA_OK, "%s",
                  ijepa_last_error());
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_checkpoint_config(ck, &cfg), IJEPA_OK);
    int64_t depth, heads;
    ijepa_config_get_int(cfg, IJEPA_CFG_DEPTH, &depth);
    ijepa_config_get_int(cfg, IJEPA_CFG_NUM_HEADS, &heads);
    ck_assert_int_eq(depth, 3);
    ck_assert_int_eq(heads, 6);
    ijepa_config_free(cfg);
    ijepa_checkpoint_free(ck);
    free(c);
    /* a libijepa file without one of its keys */
    c = with_meta(b, n, "format", "libijepa\",\"x\":\"", &m); /* still valid: adds a key */
    ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), IJEPA_OK);
    ijepa_checkpoint_free(ck);
    free(c);
    c = with_meta(b, n, "ijepa.step", "1\",\"ijepa.stepx\":\"", &m);
    ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, c, m, "meta"), IJEPA_OK);
    ijepa_checkpoint_free(ck);
    free(c);
    {
        /* rename ijepa.seed away */
        const size_t h = hlen_of(b);
        char *hdr = malloc(h + 1);
        memcpy(hdr, b + 8, h);
        hdr[h] = '\0';
        char *at = strstr(hdr, "\"ijepa.seed\"");
        ck_assert_ptr_nonnull(at);
        at[7] = 'X';
        unsigned char *d = craft(hdr, (const float *)(b + 8 + h), (n - 8 - h) / 4, &m);
        expect_format(ijepa_checkpoint_open_memory(&ck, d, m, "meta"), ijepa_last_error(),
                      "ijepa_checkpoint_open_memory", "meta", "lacks 'ijepa.seed'", "no seed");
        free(d);
        free(hdr);
    }
    free(b);
    tmp_cleanup();
}
END_TEST

START_TEST(test_nonfinite)
{
    tmp_init("ckpt");
    struct ijepa_tensor_table t = tiny_table();
    float src[32] = {0};
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 0), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "g", &t, src), IJEPA_OK);
    /* the writer refuses what no reader accepts, before writing anything */
    const char *p = tmp_path("nan.safetensors");
    src[17] = NAN; /* g.b[1] */
    expect_err(ijepa_checkpoint_writer_save(w, p), IJEPA_ERR_NUMERIC, ijepa_last_error(),
               "ijepa_checkpoint_writer_save", "NaN save");
    ck_assert_msg(strstr(ijepa_last_error(), "tensor 'g.b' holds a non-finite value (NaN) at "
                                             "element 1"), "%s", ijepa_last_error());
    ck_assert_int_ne(access(p, F_OK), 0);
    /* a previous file stays as it was */
    src[17] = 0.5f;
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, p), IJEPA_OK);
    src[17] = -INFINITY;
    expect_err(ijepa_checkpoint_writer_save(w, p), IJEPA_ERR_NUMERIC, ijepa_last_error(),
               "ijepa_checkpoint_writer_save", "infinite save");
    ck_assert(strstr(ijepa_last_error(), "(infinite) at element 1"));
    ijepa_checkpoint *ck;
    float dst[32];
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, p), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_read(ck, "g", &t, dst), IJEPA_OK);
    ck_assert(dst[17] == 0.5f);
    ijepa_checkpoint_free(ck);
    /* the reader refuses a NaN in another program's file, loading nothing */
    float data[10];
    memcpy(data, TEN, sizeof data);
    data[7] = NAN; /* g.b[1] */
    size_t n;
    unsigned char *b = craft("{" A_ENTRY "," B_ENTRY "}", data, 10, &n);
    ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, n, "foreign"), IJEPA_OK);
    for (int i = 0; i < 32; i++)
        dst[i] = 5.0f;
    expect_format(ijepa_checkpoint_read(ck, "g", &t, dst), ijepa_last_error(),
                  "ijepa_checkpoint_read", "foreign", "non-finite value at element 1", "NaN");
    ck_assert_int_eq(first_not(dst, 32, 5.0f), -1);
    ijepa_checkpoint_free(ck);
    free(b);
    ijepa_checkpoint_writer_free(w);
    ijepa_config_free(cfg);
    ijepa__table_clear(&t);
    tmp_cleanup();
}
END_TEST

// --- trainer load failures -----------------------------------------------------------------------

START_TEST(test_trainer_load_errors)
{
    tmp_init("ckpt");
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = tiny_config(9, 2);
    ijepa_trainer *src, *tr;
    ck_assert_int_eq(ijepa_trainer_create(&src, ctx, cfg), IJEPA_OK);
    run_steps(src, 0, 2, NULL);
    const char *good = tmp_path("good.safetensors");
    ck_assert_int_eq(ijepa_trainer_save(src, good), IJEPA_OK);
    size_t n;
    unsigned char *b = slurp(good, &n);

    /* the trainer to load into has run one step of another batch: its state
     * must survive every failed load */
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    run_steps(tr, 5, 6, NULL);
    ijepa_optimizer *opt = ijepa_trainer_optimizer(tr);
    snap before = snap_take(tr, opt);
    double loss0;
    ck_assert_int_eq(ijepa_trainer_stat(tr, IJEPA_STAT_LOSS, &loss0), IJEPA_OK);
    const char *bad = tmp_path("bad.safetensors");

/* func: the public function whose message it is (the reader's for what
 * ijepa_checkpoint_open() finds, the trainer's own otherwise) */
#define EXPECT_LOAD_FAILS(code, func, what, label)                                               \
    do {                                                                                         \
        const int rc_ = ijepa_trainer_load(tr, bad);                                             \
        expect_err(rc_, code, ijepa_last_error(), func, label);                                  \
        ck_assert_msg(!(what) || strstr(ijepa_last_error(), what ? what : ""),         \
                      "%s: message '%s'", label, ijepa_last_error());                  \
        snap after_ = snap_take(tr, opt);                                                        \
        snap_expect_equal(&before, &after_, label);                                              \
        snap_free(&after_);                                                                      \
        double l_;                                                                               \
        ck_assert_int_eq(ijepa_trainer_stat(tr, IJEPA_STAT_LOSS, &l_), IJEPA_OK);                \
        ck_assert(l_ == loss0);                                                                  \
    } while (0)

    /* truncated and bit-flipped */
    const size_t cuts[] = {0, 8, 100, n / 3, n - 1};
    for (size_t i = 0; i < COUNT_OF(cuts); i++) {
        spit(bad, b, cuts[i]);
        EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_checkpoint_open", bad, "truncated");
    }
    b[n - 5] ^= 0x10;
    spit(bad, b, n);
    b[n - 5] ^= 0x10;
    EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_checkpoint_open", "checksum", "flipped");
    /* missing file */
    unlink(bad);
    EXPECT_LOAD_FAILS(IJEPA_ERR_IO, "ijepa_checkpoint_open", "cannot open", "missing");
    /* another architecture */
    ijepa_config *cfg3 = tiny_config(9, 3);
    ijepa_trainer *deep;
    ck_assert_int_eq(ijepa_trainer_create(&deep, ctx, cfg3), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_save(deep, bad), IJEPA_OK);
    EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_trainer_load", "'depth' is 3 in the file, 2 in the trainer",
                      "depth");
    ijepa_trainer_free(deep);
    ijepa_config_free(cfg3);
    /* another seed (the mask stream) */
    ijepa_config *cfg_s = tiny_config(10, 2);
    ck_assert_int_eq(ijepa_trainer_create(&deep, ctx, cfg_s), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_save(deep, bad), IJEPA_OK);
    EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_trainer_load", "'seed'", "seed");
    ijepa_trainer_free(deep);
    ijepa_config_free(cfg_s);
    /* only the target encoder (a feature-extraction file) */
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 2), IJEPA_OK);
    float *p;
    int64_t np;
    ijepa_encoder *te = ijepa_trainer_target_encoder(src);
    ijepa_encoder_params(te, &p, &np);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "target_encoder", ijepa_encoder_tensors(te),
                                                 p), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, bad), IJEPA_OK);
    EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_trainer_load", "'encoder.", "missing groups");
    /* everything plus one extra tensor */
    ijepa_checkpoint_writer_free(w);
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 2), IJEPA_OK);
    ijepa_encoder *ce = ijepa_trainer_context_encoder(src);
    ijepa_predictor *pr = ijepa_trainer_predictor(src);
    ijepa_optimizer *so = ijepa_trainer_optimizer(src);
    float *q, *m0, *v0, *m1, *v1;
    int64_t nq;
    ijepa_encoder_params(ce, &q, &nq);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "encoder", ijepa_encoder_tensors(ce), q), 0);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "target_encoder", ijepa_encoder_tensors(te),
                                                 p), 0);
    ijepa_predictor_params(pr, &q, &nq);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "predictor", ijepa_predictor_tensors(pr), q),
                     0);
    ijepa_optimizer_moments(so, 0, &m0, &v0, &nq);
    ijepa_optimizer_moments(so, 1, &m1, &v1, &nq);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "optimizer.exp_avg.encoder",
                                                 ijepa_encoder_tensors(ce), m0), 0);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "optimizer.exp_avg_sq.encoder",
                                                 ijepa_encoder_tensors(ce), v0), 0);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "optimizer.exp_avg.predictor",
                                                 ijepa_predictor_tensors(pr), m1), 0);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "optimizer.exp_avg_sq.predictor",
                                                 ijepa_predictor_tensors(pr), v1), 0);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, bad), IJEPA_OK);
    /* (this file is complete: it loads) */
    ijepa_trainer *tr2;
    ck_assert_int_eq(ijepa_trainer_create(&tr2, ctx, cfg), IJEPA_OK);
    ck_assert_msg(ijepa_trainer_load(tr2, bad) == IJEPA_OK, "%s", ijepa_last_error());
    ijepa_trainer_free(tr2);
    struct ijepa_tensor_table t = tiny_table();
    float extra[32] = {0};
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "ema", &t, extra), 0);
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, bad), IJEPA_OK);
    EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_trainer_load", "unexpected tensor 'ema.", "extra");
    ijepa_checkpoint_writer_free(w);
    ijepa__table_clear(&t);
    /* a foreign file */
    size_t fn;
    unsigned char *f = craft("{" A_ENTRY "," B_ENTRY "}", TEN, 10, &fn);
    spit(bad, f, fn);
    free(f);
    EXPECT_LOAD_FAILS(IJEPA_ERR_FORMAT, "ijepa_trainer_load", "libijepa", "foreign");
    /* and the good file still loads */
    ck_assert_int_eq(ijepa_trainer_load(tr, good), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_step_count(tr), 2);
    ck_assert_int_eq(ijepa_optimizer_step_count(opt), 2);
#undef EXPECT_LOAD_FAILS
    snap_free(&before);
    free(b);
    ijepa_trainer_free(tr);
    ijepa_trainer_free(src);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
    tmp_cleanup();
}
END_TEST

// --- atomic save -----------------------------------------------------------------------------------

static int fail_at;   /* fail the fail_at-th call (1-based) of the hooked function */
static int calls;

static ssize_t write_fails(int fd, const void *b, size_t n)
{
    if (++calls == fail_at) {
        errno = ENOSPC;
        return -1;
    }
    return write(fd, b, n);
}

static ssize_t write_short(int fd, const void *b, size_t n)
{
    /* one byte at a time: partial writes must be continued */
    (void)n;
    return write(fd, b, 1);
}

static int fsync_fails(int fd)
{
    if (++calls == fail_at) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

static int rename_fails(const char *a, const char *b)
{
    (void)a;
    (void)b;
    errno = EXDEV;
    return -1;
}

/* Save the tiny table with data value v at path; returns the status. */
static int save_tiny(const char *path, float v, char *msg, size_t msglen)
{
    struct ijepa_tensor_table t = tiny_table();
    float src[32];
    for (int i = 0; i < 32; i++)
        src[i] = v;
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ijepa_checkpoint_writer *w;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 1), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "g", &t, src), IJEPA_OK);
    const int rc = ijepa_checkpoint_writer_save(w, path);
    snprintf(msg, msglen, "%s", ijepa_last_error());
    ijepa_checkpoint_writer_free(w);
    ijepa_config_free(cfg);
    ijepa__table_clear(&t);
    return rc;
}

/* The file at path opens and holds value v. */
static void expect_tiny(const char *path, float v, const char *label)
{
    ijepa_checkpoint *ck;
    ck_assert_msg(ijepa_checkpoint_open(&ck, path) == IJEPA_OK, "%s: %s", label,
                  ijepa_last_error());
    struct ijepa_tensor_table t = tiny_table();
    float dst[32] = {0};
    ck_assert_int_eq(ijepa_checkpoint_read(ck, "g", &t, dst), IJEPA_OK);
    ck_assert_msg(dst[0] == v && dst[19] == v, "%s: holds %g, want %g", label, dst[0], v);
    ijepa__table_clear(&t);
    ijepa_checkpoint_free(ck);
}

START_TEST(test_save_faults)
{
    tmp_init("ckpt");
    const char *path = tmp_path("ck.safetensors");
    char msg[IJEPA__ERRLEN];
    ck_assert_int_eq(save_tiny(path, 1.0f, msg, sizeof msg), IJEPA_OK);
    expect_tiny(path, 1.0f, "first save");
    /* a second save replaces it */
    ck_assert_int_eq(save_tiny(path, 2.0f, msg, sizeof msg), IJEPA_OK);
    expect_tiny(path, 2.0f, "second save");
    ck_assert_int_eq(tmp_count(""), 1);

    /* a write failing at each of the first calls (length, header, data) */
    for (fail_at = 1; fail_at <= 3; fail_at++) {
        calls = 0;
        ijepa__ckpt_io_hooks.write = write_fails;
        const int rc = save_tiny(path, 3.0f, msg, sizeof msg);
        ijepa__ckpt_io_reset();
        expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "write fails");
        ck_assert_msg(strstr(msg, "No space left") != NULL, "message '%s'", msg);
        ck_assert_int_eq(tmp_count(""), 1);
        expect_tiny(path, 2.0f, "after a failed write");
    }
    /* fsync of the file fails */
    calls = 0;
    fail_at = 1;
    ijepa__ckpt_io_hooks.fsync = fsync_fails;
    int rc = save_tiny(path, 3.0f, msg, sizeof msg);
    ijepa__ckpt_io_reset();
    expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "fsync fails");
    ck_assert_int_eq(tmp_count(""), 1);
    expect_tiny(path, 2.0f, "after a failed fsync");
    /* rename fails */
    ijepa__ckpt_io_hooks.rename = rename_fails;
    rc = save_tiny(path, 3.0f, msg, sizeof msg);
    ijepa__ckpt_io_reset();
    expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "rename fails");
    ck_assert_msg(strstr(msg, path) != NULL, "message '%s' lacks the path", msg);
    ck_assert_int_eq(tmp_count(""), 1);
    expect_tiny(path, 2.0f, "after a failed rename");
    /* the directory sync fails: reported, though the new file is in place */
    calls = 0;
    fail_at = 2;
    ijepa__ckpt_io_hooks.fsync = fsync_fails;
    rc = save_tiny(path, 4.0f, msg, sizeof msg);
    ijepa__ckpt_io_reset();
    expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "dir fsync fails");
    ck_assert_ptr_nonnull(strstr(msg, "directory"));
    ck_assert_int_eq(tmp_count(""), 1);
    expect_tiny(path, 4.0f, "after a failed directory sync");
    /* partial writes are continued */
    ijepa__ckpt_io_hooks.write = write_short;
    rc = save_tiny(path, 5.0f, msg, sizeof msg);
    ijepa__ckpt_io_reset();
    ck_assert_msg(rc == IJEPA_OK, "%s", msg);
    expect_tiny(path, 5.0f, "after one-byte writes");
    /* no such directory; a directory as the target */
    rc = save_tiny("/nonexistent-ijepa-dir/x.safetensors", 1.0f, msg, sizeof msg);
    expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "no directory");
    ck_assert_int_eq(mkdir(tmp_path("sub"), 0700), 0);
    rc = save_tiny(tmp_path("sub"), 1.0f, msg, sizeof msg);
    expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "target is a directory");
    ck_assert_int_eq(tmp_count(""), 2);
    rmdir(tmp_path("sub"));
    /* an existing target that is not a regular file (here a FIFO; a device
     * node the same) is refused, never replaced */
    const char *fifo = tmp_path("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    rc = save_tiny(fifo, 1.0f, msg, sizeof msg);
    expect_err(rc, IJEPA_ERR_IO, msg, "ijepa_checkpoint_writer_save", "fifo");
    ck_assert_ptr_nonnull(strstr(msg, "not a regular file"));
    struct stat st;
    ck_assert_int_eq(stat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(tmp_count(""), 2);
    tmp_cleanup();
}
END_TEST

START_TEST(test_trainer_save_faults)
{
    tmp_init("ckpt");
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = tiny_config(3, 2);
    ijepa_trainer *tr;
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    const char *path = tmp_path("tr.safetensors");
    ck_assert_int_eq(ijepa_trainer_save(tr, path), IJEPA_OK);
    size_t n0;
    unsigned char *old = slurp(path, &n0);
    run_steps(tr, 0, 1, NULL);
    /* fail a write in the middle of the data */
    calls = 0;
    fail_at = 5;
    ijepa__ckpt_io_hooks.write = write_fails;
    int rc = ijepa_trainer_save(tr, path);
    ijepa__ckpt_io_reset();
    expect_err(rc, IJEPA_ERR_IO, ijepa_last_error(), "ijepa_checkpoint_writer_save", "write");
    ck_assert_int_eq(tmp_count(""), 1);
    size_t n1;
    unsigned char *now = slurp(path, &n1);
    ck_assert(n0 == n1 && memcmp(old, now, n0) == 0);
    free(now);
    /* the old checkpoint still loads (step 0) */
    ijepa_trainer *fresh;
    ck_assert_int_eq(ijepa_trainer_create(&fresh, ctx, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_load(fresh, path), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_step_count(fresh), 0);
    ijepa_trainer_free(fresh);
    free(old);
    ijepa_trainer_free(tr);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
    tmp_cleanup();
}
END_TEST

START_TEST(test_api_errors)
{
    tmp_init("ckpt");
    ijepa_checkpoint *ck = (ijepa_checkpoint *)1;
    expect_err(ijepa_checkpoint_open(NULL, "x"), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_checkpoint_open", "NULL out");
    expect_err(ijepa_checkpoint_open(&ck, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_checkpoint_open", "NULL path");
    ck_assert_ptr_null(ck);
    expect_err(ijepa_checkpoint_open(&ck, tmp_path("none")), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_checkpoint_open", "missing file");
    expect_err(ijepa_checkpoint_open(&ck, tmp_dir()), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_checkpoint_open", "a directory");
    /* a FIFO without a writer: refused, not waited on */
    ck_assert_int_eq(mkfifo(tmp_path("fifo"), 0600), 0);
    expect_err(ijepa_checkpoint_open(&ck, tmp_path("fifo")), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_checkpoint_open", "a FIFO");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "not a regular file"));
    expect_err(ijepa_checkpoint_open_memory(&ck, NULL, 5, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_open_memory", "NULL data");
    expect_err(ijepa_checkpoint_open_memory(&ck, NULL, 0, NULL), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_checkpoint_open_memory", "empty");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "memory"));
    expect_err(ijepa_checkpoint_read_config(tmp_path("none"), NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_read_config", "NULL out");
    ijepa_config *cfg = (ijepa_config *)1;
    expect_err(ijepa_checkpoint_read_config(tmp_path("none"), &cfg), IJEPA_ERR_IO,
               ijepa_last_error(), "ijepa_checkpoint_read_config", "missing");
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(NULL), 0);
    ijepa_checkpoint_free(NULL);
    ijepa_checkpoint_writer_free(NULL);

    size_t n;
    unsigned char *b = craft("{" A_ENTRY "," B_ENTRY "}", TEN, 10, &n);
    ck_assert_int_eq(ijepa_checkpoint_open_memory(&ck, b, n, "m"), IJEPA_OK);
    struct ijepa_tensor_table t = tiny_table();
    float dst[32];
    expect_err(ijepa_checkpoint_read(ck, NULL, &t, dst), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_read", "NULL prefix");
    /* the empty prefix reads a bare state dict: "a", not "g.a" */
    expect_format(ijepa_checkpoint_read(ck, "", &t, dst), ijepa_last_error(),
                  "ijepa_checkpoint_read", "m", "'a' is missing", "empty prefix");
    expect_err(ijepa_checkpoint_read(ck, "g", NULL, dst), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_read", "NULL table");
    expect_err(ijepa_checkpoint_read(ck, "g", &t, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_read", "NULL dst");
    expect_err(ijepa_checkpoint_tensor_info(ck, 2, NULL, NULL, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_tensor_info", "range");
    expect_err(ijepa_checkpoint_load_encoder(ck, "g", NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_load_encoder", "NULL enc");
    expect_err(ijepa_checkpoint_load_predictor(ck, "g", NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_load_predictor", "NULL");
    ijepa_checkpoint_free(ck);
    free(b);

    ijepa_checkpoint_writer *w = (ijepa_checkpoint_writer *)1;
    expect_err(ijepa_checkpoint_writer_create(NULL, NULL, 0), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_create", "NULL out");
    /* without a configuration (a plain file) the step must be 0 */
    expect_err(ijepa_checkpoint_writer_create(&w, NULL, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_create", "step without config");
    ck_assert_ptr_null(w);
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    expect_err(ijepa_checkpoint_writer_create(&w, cfg, -1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_create", "negative step");
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 0), IJEPA_OK);
    float src[32] = {0};
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "g", &t, src), IJEPA_OK);
    expect_err(ijepa_checkpoint_writer_add(w, "g", &t, src), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_add", "twice");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "'g.a'"));
    expect_err(ijepa_checkpoint_writer_add(w, NULL, &t, src), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_add", "NULL prefix");
    expect_err(ijepa_checkpoint_writer_add(w, "h", NULL, src), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_add", "NULL");
    expect_err(ijepa_checkpoint_writer_save(w, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_checkpoint_writer_save", "NULL");
    /* the failed adds added nothing: the file has the 2 tensors */
    const char *p = tmp_path("w.safetensors");
    ck_assert_int_eq(ijepa_checkpoint_writer_save(w, p), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_open(&ck, p), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_tensor_count(ck), 2);
    ijepa_checkpoint_free(ck);
    ijepa_checkpoint_writer_free(w);
    ijepa_config_free(cfg);
    ijepa__table_clear(&t);

    expect_err(ijepa_trainer_save(NULL, p), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_trainer_save", "NULL trainer");
    expect_err(ijepa_trainer_load(NULL, p), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_trainer_load", "NULL trainer");
    tmp_cleanup();
}
END_TEST

Suite *ijepa_checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = add_tcase(s, "roundtrip", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_trainer_roundtrip);
    tcase_add_test(tc, test_writer_bytes);

    tc = add_tcase(s, "resume", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_exact_resume);

    tc = add_tcase(s, "format", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_crafted_valid);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_bitflips);
    tcase_add_test(tc, test_header_length);
    tcase_add_test(tc, test_not_json);
    tcase_add_test(tc, test_offsets);
    tcase_add_test(tc, test_entries);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_nonfinite);

    tc = add_tcase(s, "trainer", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_trainer_load_errors);

    tc = add_tcase(s, "save", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_save_faults);
    tcase_add_test(tc, test_trainer_save_faults);
    tcase_add_test(tc, test_api_errors);
    return s;
}
