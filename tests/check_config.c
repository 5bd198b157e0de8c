/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Suite "config": include/ijepa/config.h and the error channel of common.h.
 *
 *   threads  one config read from several threads at once, failing calls
 *            included: every thread sees its own values and its own message
 *            (a failure is recorded in the calling thread only, never in the
 *            config)
 *   text     ijepa_config_to_text() / _from_text(): bit-exact round trip,
 *            the size query, every kind of bad line, all or nothing
 *   keys     key classes; presets
 *   locale   text and checkpoints written under a comma-decimal locale
 *            (de_DE.UTF-8, built with localedef into a temporary directory
 *            when the system lacks it) read under "C" and the reverse
 */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "internal.h"
#include "helpers.h"

// --- threads ---------------------------------------------------------------------------

#define NTHREADS 4
#define ROUNDS 2000

typedef struct reader {
    const ijepa_config *cfg;
    int id;
    int64_t want_img;   /* img_size of cfg */
    double want_lr;     /* lr of cfg */
    char bad[160];      /* "" or what went wrong (asserting is for the main thread) */
} reader;

static void *read_config(void *arg)
{
    reader *r = arg;
    char want[64];
    /* a key number no other thread asks for */
    const int32_t unknown = 90000 + r->id;
    snprintf(want, sizeof want, "unknown key %d", (int)unknown);
    for (int k = 0; k < ROUNDS && !r->bad[0]; k++) {
        int64_t v = -1;
        double d = -1;
        if (ijepa_config_get_int(r->cfg, IJEPA_CFG_IMG_SIZE, &v) != IJEPA_OK || v != r->want_img)
            snprintf(r->bad, sizeof r->bad, "img_size read as %lld", (long long)v);
        else if (ijepa_config_get_float(r->cfg, IJEPA_CFG_LR, &d) != IJEPA_OK || d != r->want_lr)
            snprintf(r->bad, sizeof r->bad, "lr read as %g", d);
        else if (ijepa_config_get_int(r->cfg, unknown, &v) != IJEPA_ERR_INVALID_ARG)
            snprintf(r->bad, sizeof r->bad, "unknown key %d accepted", (int)unknown);
        else if (!strstr(ijepa_last_error(), "ijepa_config_get_int()") ||
                 !strstr(ijepa_last_error(), want))
            snprintf(r->bad, sizeof r->bad, "round %d: message '%.100s'", k, ijepa_last_error());
        else if (ijepa_config_get_float(r->cfg, IJEPA_CFG_IMG_SIZE, &d) != IJEPA_ERR_INVALID_ARG ||
                 !strstr(ijepa_last_error(), "ijepa_config_get_float()"))
            snprintf(r->bad, sizeof r->bad, "round %d: type error '%.100s'", k,
                     ijepa_last_error());
    }
    return NULL;
}

START_TEST(test_read_from_threads)
{
    ijepa_config *cfg = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 96), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_LR, 0.125), IJEPA_OK);
    /* this thread's own message must survive the other threads' failures */
    ck_assert_int_eq(ijepa_config_key_from_name("no_such_key", &(int32_t){0}),
                     IJEPA_ERR_INVALID_ARG);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", ijepa_last_error());
    ck_assert_ptr_nonnull(strstr(mine, "no_such_key"));

    reader r[NTHREADS];
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        r[i] = (reader){cfg, i, 96, 0.125, ""};
        ck_assert_int_eq(pthread_create(&th[i], NULL, read_config, &r[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_msg(!r[i].bad[0], "thread %d: %s", i, r[i].bad);
    ck_assert_str_eq(ijepa_last_error(), mine);
    int64_t v;
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &v), IJEPA_OK);
    ck_assert_int_eq(v, 96);
    ijepa_config_free(cfg);
}
END_TEST

// --- text -------------------------------------------------------------------------------

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A config with every key set to a random value within its bounds (floats
 * with all 53 bits of mantissa used). */
static ijepa_config *random_config(uint64_t seed)
{
    ijepa_config *cfg = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    uint64_t st = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        double lo, hi;
        ck_assert_int_eq(ijepa_config_bounds(key, &lo, &hi), IJEPA_OK);
        const double u = (double)(xs(&st) >> 11) * 0x1.0p-53;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            const double span = fmin(hi - lo, 1e15);
            ck_assert_int_eq(ijepa_config_set_int(cfg, key, (int64_t)(lo + floor(u * span))),
                             IJEPA_OK);
        } else {
            const double v = lo + u * (hi - lo);
            ck_assert_int_eq(ijepa_config_set_float(cfg, key, v < hi ? v : hi), IJEPA_OK);
        }
    }
    return cfg;
}

/* Every key of a and b holds the same bits. */
static void expect_same_config(const ijepa_config *a, const ijepa_config *b, const char *what)
{
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            int64_t x, y;
            ck_assert_int_eq(ijepa_config_get_int(a, key, &x), IJEPA_OK);
            ck_assert_int_eq(ijepa_config_get_int(b, key, &y), IJEPA_OK);
            ck_assert_msg(x == y, "%s: %s %lld != %lld", what, ijepa_config_key_name(key),
                          (long long)x, (long long)y);
        } else {
            double x, y;
            ck_assert_int_eq(ijepa_config_get_float(a, key, &x), IJEPA_OK);
            ck_assert_int_eq(ijepa_config_get_float(b, key, &y), IJEPA_OK);
            ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "%s: %s %.17g != %.17g", what,
                          ijepa_config_key_name(key), x, y);
        }
    }
}

/* The text of cfg in a new malloc() string. */
static char *text_of(const ijepa_config *cfg)
{
    size_t n = 0;
    ck_assert_int_eq(ijepa_config_to_text(cfg, NULL, 0, &n), IJEPA_OK);
    char *t = malloc(n + 1);
    ck_assert_ptr_nonnull(t);
    size_t m = 0;
    ck_assert_int_eq(ijepa_config_to_text(cfg, t, n + 1, &m), IJEPA_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_uint_eq(strlen(t), n);
    return t;
}

START_TEST(test_text_round_trip)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        ijepa_config *a = random_config(seed), *b = NULL;
        char *t = text_of(a);
        ck_assert_int_eq(ijepa_config_create(&b), IJEPA_OK);
        ck_assert_msg(ijepa_config_from_text(b, t) == IJEPA_OK, "%s", ijepa_last_error());
        expect_same_config(a, b, "round trip");
        /* one line per key, in key order */
        const char *line = t;
        for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
            const char *name = ijepa_config_key_name(ijepa_config_key_at(i));
            ck_assert_msg(!strncmp(line, name, strlen(name)) && !strncmp(line + strlen(name), " = ", 3),
                          "line %d: '%.40s', want key %s", (int)i + 1, line, name);
            line = strchr(line, '\n');
            ck_assert_ptr_nonnull(line);
            line++;
        }
        ck_assert_str_eq(line, "");
        free(t);
        ijepa_config_free(a);
        ijepa_config_free(b);
    }
}
END_TEST

START_TEST(test_text_buffer)
{
    const char *F = "ijepa_config_to_text";
    ijepa_config *cfg = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    size_t n = 0;
    ck_assert_int_eq(ijepa_config_to_text(cfg, NULL, 0, &n), IJEPA_OK);
    ck_assert_uint_gt(n, 100);
    char *buf = malloc(n + 1);
    memset(buf, 'x', n + 1);
    size_t m = 0;
    expect_err(ijepa_config_to_text(cfg, buf, n, &m), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "one byte short");
    ck_assert_uint_eq(m, n);
    ck_assert_int_eq(buf[0], 'x'); /* nothing written */
    ck_assert_int_eq(ijepa_config_to_text(cfg, buf, n + 1, NULL), IJEPA_OK);
    ck_assert_int_eq(buf[n], '\0');
    ck_assert_ptr_nonnull(strstr(buf, "\nlr = 0.001\n"));
    expect_err(ijepa_config_to_text(NULL, buf, n + 1, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL config");
    expect_err(ijepa_config_to_text(cfg, NULL, 5, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL buf, size 5");
    free(buf);
    ijepa_config_free(cfg);
}
END_TEST

START_TEST(test_from_text_lines)
{
    ijepa_config *cfg = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    /* blanks, comments, CR LF, tabs, signs, exponents; other keys untouched */
    ck_assert_msg(ijepa_config_from_text(cfg, "# a comment\n\n  img_size\t= 64 \r\n"
                                              "lr = 2.5e-3\nseed=+7\nmlp_ratio =4") == IJEPA_OK,
                  "%s", ijepa_last_error());
    int64_t v;
    double d;
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &v), IJEPA_OK);
    ck_assert_int_eq(v, 64);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_SEED, &v), IJEPA_OK);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_LR, &d), IJEPA_OK);
    ck_assert(d == 2.5e-3);
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_MLP_RATIO, &d), IJEPA_OK);
    ck_assert(d == 4.0);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_DEPTH, &v), IJEPA_OK);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(ijepa_config_from_text(cfg, ""), IJEPA_OK);
    ijepa_config_free(cfg);
}
END_TEST

START_TEST(test_from_text_errors)
{
    static const struct { const char *text, *want; } bad[] = {
        {"img_size 64\n", "line 1 has no '='"},
        {"depth = 2\nimg_sise = 64\n", "line 2: unknown key 'img_sise'"},
        {"depth = 2\ndepth = 3\n", "line 2: key 'depth' given twice"},
        {"depth = 2.5\n", "invalid value '2.5' for key 'depth'"},
        {"depth = \n", "invalid value '' for key 'depth'"},
        {"depth = 99999999999999999999\n", "invalid value"},
        {"lr = 0,001\n", "invalid value '0,001' for key 'lr'"},
        {"lr = nan\n", "invalid value 'nan'"},
        {"lr = inf\n", "invalid value 'inf'"},
        {"lr = 1e-3x\n", "invalid value '1e-3x'"},
        {"loss = l3\n", "line 1: invalid value 'l3' for key 'loss' (its names: smooth_l1, l2, l1)"},
        {"precision = \n", "invalid value '' for key 'precision' (its names: f32, bf16)"},
        {"depth = 0\n", "'depth' (outside [1, 256])"},
        {"lr = 11\n", "'lr' (outside [0, 10])"},
    };
    ijepa_config *cfg = NULL, *orig = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_create(&orig), IJEPA_OK);
    for (size_t k = 0; k < COUNT_OF(bad); k++) {
        expect_err(ijepa_config_from_text(cfg, bad[k].text), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), "ijepa_config_from_text", bad[k].text);
        ck_assert_msg(strstr(ijepa_last_error(), bad[k].want), "'%s': message '%s', want '%s'",
                      bad[k].text, ijepa_last_error(), bad[k].want);
        /* all or nothing: a good line before the bad one does not stay applied */
        char text[256];
        snprintf(text, sizeof text, "embed_dim = 96\n%s", bad[k].text);
        ck_assert_int_eq(ijepa_config_from_text(cfg, text), IJEPA_ERR_INVALID_ARG);
        expect_same_config(cfg, orig, bad[k].text);
    }
    expect_err(ijepa_config_from_text(NULL, "depth = 2"), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_config_from_text", "NULL config");
    expect_err(ijepa_config_from_text(cfg, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_config_from_text", "NULL text");
    ijepa_config_free(cfg);
    ijepa_config_free(orig);
}
END_TEST

// --- keys -------------------------------------------------------------------------------

START_TEST(test_key_classes)
{
    int count[5] = {0};
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        const int c = ijepa_config_key_class(key);
        ck_assert_msg(c >= IJEPA_CFG_CLASS_MODEL && c <= IJEPA_CFG_CLASS_RUNTIME,
                      "%s: class %d", ijepa_config_key_name(key), c);
        count[c]++;
        /* what ijepa_trainer_load() compared before the classes existed */
        const int model_by_number = key == IJEPA_CFG_SEED || (key >= 100 && key <= 401);
        ck_assert_msg((c == IJEPA_CFG_CLASS_MODEL) == model_by_number, "%s: class %d",
                      ijepa_config_key_name(key), c);
    }
    for (int c = 1; c <= 4; c++)
        ck_assert_int_gt(count[c], 0);
    ck_assert_int_eq(ijepa_config_key_class(IJEPA_CFG_BATCH_SIZE), IJEPA_CFG_CLASS_RUNTIME);
    ck_assert_int_eq(ijepa_config_key_class(IJEPA_CFG_LR), IJEPA_CFG_CLASS_TRAINING);
    ck_assert_int_eq(ijepa_config_key_class(IJEPA_CFG_DATA_MEAN_R), IJEPA_CFG_CLASS_DATA);
    ck_assert_int_eq(ijepa_config_key_class(IJEPA_CFG_DATA_WORKERS), IJEPA_CFG_CLASS_RUNTIME);
    expect_err(ijepa_config_key_class(12345), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_config_key_class", "unknown key");
}
END_TEST

START_TEST(test_presets)
{
    const int32_t n = ijepa_config_preset_count();
    ck_assert_int_ge(n, 11);
    for (int32_t i = 0; i < n; i++) {
        const char *name = ijepa_config_preset_name(i), *about = ijepa_config_preset_about(i);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(about && about[0], "%s: no description", name);
        for (int32_t j = 0; j < i; j++)
            ck_assert_str_ne(name, ijepa_config_preset_name(j));
        ijepa_config *cfg = NULL;
        ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
        ck_assert_msg(ijepa_config_apply_preset(cfg, name) == IJEPA_OK, "%s: %s", name,
                      ijepa_last_error());
        ijepa_config_free(cfg);
    }
    ck_assert_ptr_null(ijepa_config_preset_name(n));
    ck_assert_ptr_null(ijepa_config_preset_name(-1));
    ck_assert_ptr_null(ijepa_config_preset_about(n));

    ijepa_config *cfg = NULL, *orig = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_create(&orig), IJEPA_OK);
    double d;
    int64_t v;
    ck_assert_int_eq(ijepa_config_apply_preset(cfg, "vit_giant"), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_MLP_RATIO, &d), IJEPA_OK);
    ck_assert(d == 48.0 / 11.0);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_EMBED_DIM, &v), IJEPA_OK);
    ck_assert_int_eq(v, 1408);
    /* a recipe: model, optimizer and the Fashion-MNIST data keys; others kept */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, 5), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_apply_preset(cfg, "fmnist"), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_SEED, &v), IJEPA_OK);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &v), IJEPA_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_EMBED_DIM, &v), IJEPA_OK);
    ck_assert_int_eq(v, 128);
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_DATA_MEAN_R, &d), IJEPA_OK);
    ck_assert(d == 0.286);
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_DATA_STD_R, &d), IJEPA_OK);
    ck_assert(d == 0.353);
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_MLP_RATIO, &d), IJEPA_OK);
    ck_assert(d == 48.0 / 11.0); /* not named by "fmnist" */
    /* unknown: the message lists the known names; nothing changes */
    ck_assert_int_eq(ijepa_config_apply_preset(orig, "vit_small"), IJEPA_OK);
    ijepa_config *before = NULL;
    ck_assert_int_eq(ijepa_config_copy(&before, orig), IJEPA_OK);
    expect_err(ijepa_config_apply_preset(orig, "vit_small2"), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_config_apply_preset", "unknown preset");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "fmnist-official"));
    expect_same_config(orig, before, "unknown preset");
    expect_err(ijepa_config_apply_preset(orig, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_config_apply_preset", "NULL name");
    ijepa_config_free(before);
    ijepa_config_free(cfg);
    ijepa_config_free(orig);
}
END_TEST

// --- locale -----------------------------------------------------------------------------

#define COMMA_LOCALE "de_DE.UTF-8"

/* Make COMMA_LOCALE usable: from the system, or built with localedef into
 * dir (then LOCPATH points there). Returns 0, or -1 with why set. */
static int comma_locale(const char *dir, char *why, size_t whylen)
{
    if (setlocale(LC_ALL, COMMA_LOCALE))
        return 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 '%s/" COMMA_LOCALE "' >/dev/null 2>&1",
             dir);
    const int rc = system(cmd);
    /* localedef exits 1 for warnings even when it wrote the locale */
    setenv("LOCPATH", dir, 1);
    if (setlocale(LC_ALL, COMMA_LOCALE))
        return 0;
    snprintf(why, whylen, "%s is not installed and 'localedef -i de_DE -f UTF-8' (package "
                          "locales) could not build it (status %d)", COMMA_LOCALE, rc);
    return -1;
}

/* A libijepa checkpoint of cfg (one small tensor group) at path. */
static void write_checkpoint(const ijepa_config *cfg, const char *path)
{
    static struct ijepa_tensor_table t;
    static float data[16] = {0.5f, -1.25f, 3.0f};
    if (!t.count) {
        const int64_t dims[1] = {3};
        ck_assert_int_ge(ijepa__table_add(&t, "w", 0, 1, dims), 0);
    }
    ijepa_checkpoint_writer *w = NULL;
    ck_assert_int_eq(ijepa_checkpoint_writer_create(&w, cfg, 3), IJEPA_OK);
    ck_assert_int_eq(ijepa_checkpoint_writer_add(w, "g", &t, data), IJEPA_OK);
    ck_assert_msg(ijepa_checkpoint_writer_save(w, path) == IJEPA_OK, "%s", ijepa_last_error());
    ijepa_checkpoint_writer_free(w);
}

/* Open path and compare its configuration with want. */
static void expect_checkpoint_config(const char *path, const ijepa_config *want, const char *what)
{
    ijepa_checkpoint *ck = NULL;
    ck_assert_msg(ijepa_checkpoint_open(&ck, path) == IJEPA_OK, "%s: %s", what,
                  ijepa_last_error());
    ijepa_config *got = NULL;
    ck_assert_int_eq(ijepa_checkpoint_config(ck, &got), IJEPA_OK);
    expect_same_config(got, want, what);
    ijepa_config_free(got);
    ijepa_checkpoint_free(ck);
}

START_TEST(test_comma_locale)
{
    char dir[] = "/tmp/ijepa-locale-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char why[512];
    if (comma_locale(dir, why, sizeof why) != 0) {
        fprintf(stderr, "test_comma_locale: SKIPPED: %s\n", why);
        rmdir(dir);
        return;
    }
    /* the precondition: this process now writes and reads numbers with ',' */
    char probe[32];
    snprintf(probe, sizeof probe, "%.3f", 0.5);
    ck_assert_str_eq(probe, "0,500");
    ck_assert(strtod("0.5", NULL) == 0.0);

    ijepa_config *cfg = random_config(42);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_LR, 0.001), IJEPA_OK);
    char *de_text = text_of(cfg);
    ck_assert_ptr_nonnull(strstr(de_text, "\nlr = 0.001\n"));
    ijepa_config *back = NULL;
    ck_assert_int_eq(ijepa_config_create(&back), IJEPA_OK);
    ck_assert_msg(ijepa_config_from_text(back, de_text) == IJEPA_OK, "%s", ijepa_last_error());
    expect_same_config(back, cfg, "text read back under " COMMA_LOCALE);
    ck_assert_int_eq(ijepa_config_from_text(back, "lr = 0,5\n"), IJEPA_ERR_INVALID_ARG);
    char p_de[256], p_c[256];
    snprintf(p_de, sizeof p_de, "%s/de.safetensors", dir);
    snprintf(p_c, sizeof p_c, "%s/c.safetensors", dir);
    write_checkpoint(cfg, p_de);
    expect_checkpoint_config(p_de, cfg, "written and read under " COMMA_LOCALE);
    /* the host's setting is left as it was */
    snprintf(probe, sizeof probe, "%.3f", 0.5);
    ck_assert_str_eq(probe, "0,500");

    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
    char *c_text = text_of(cfg);
    ck_assert_str_eq(c_text, de_text);
    expect_checkpoint_config(p_de, cfg, "written under " COMMA_LOCALE ", read under C");
    write_checkpoint(cfg, p_c);
    ck_assert_ptr_nonnull(setlocale(LC_ALL, COMMA_LOCALE));
    expect_checkpoint_config(p_c, cfg, "written under C, read under " COMMA_LOCALE);

    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
    free(de_text);
    free(c_text);
    ijepa_config_free(back);
    ijepa_config_free(cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

// --- suite -----------------------------------------------------------------------------

Suite *ijepa_config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = add_tcase(s, "threads", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_read_from_threads);
    tc = add_tcase(s, "text", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_text_round_trip);
    tcase_add_test(tc, test_text_buffer);
    tcase_add_test(tc, test_from_text_lines);
    tcase_add_test(tc, test_from_text_errors);
    tc = add_tcase(s, "keys", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_key_classes);
    tcase_add_test(tc, test_presets);
    tc = add_tcase(s, "locale", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_comma_locale);
    return s;
}
