/*
 * Suite "config": include/ijepa/config.h and the error channel of common.h.
 *
 *   threads  one config read from several threads at once, failing calls
 *            included: every thread sees its own values and its own message
 *            (a failure is recorded in the calling thread only, never in the
 *            config)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ref_util.h"

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

// --- suite -----------------------------------------------------------------------------

Suite *ijepa_config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = add_tcase(s, "threads", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_read_from_threads);
    return s;
}
