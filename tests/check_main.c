/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the libijepa test program. Runs every suite of the table
 * below with Check (fork mode by default: one child process per test).
 *
 *   tests/check_ijepa [SUITE [TCASE]]
 *
 * SUITE and TCASE default to the CK_RUN_SUITE and CK_RUN_CASE environment
 * variables (Check's own selectors); CK_VERBOSITY, CK_FORK, CK_TAP_LOG_FILE_NAME,
 * CK_TIMEOUT_MULTIPLIER work as usual; IJEPA_TEST_VERBOSE=1 makes the numeric
 * suites print every comparison (max diff, and how close it came to its
 * tolerance). Exit status 0 only if at least one
 * test ran and none failed. A SUITE or TCASE name that matches nothing is an
 * error (Check alone would run zero tests and report success).
 *
 * Adding a suite: write tests/check_<module>.c defining
 * Suite *ijepa_<module>_suite(void) with suite_create("<module>"), declare it
 * in tests/check_ijepa.h, and add one { "<module>", ijepa_<module>_suite } line
 * to the table. The name in the table must equal the suite_create() name.
 *
 * This process never calls the library (see check_ijepa.h): forked children
 * of a process that has run OpenMP hang in libgomp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"

static const struct {
    const char *name;        /* suite_create() name */
    Suite *(*make)(void);
} suites[] = {
    { "config", ijepa_config_suite },
    { "ops", ijepa_ops_suite },
    { "encoder", ijepa_encoder_suite },
    { "mask", ijepa_mask_suite },
    { "loss", ijepa_loss_suite },
    { "optim", ijepa_optim_suite },
    { "predictor", ijepa_predictor_suite },
    { "trainer", ijepa_trainer_suite },
    { "checkpoint", ijepa_checkpoint_suite },
    { "ckpt_limits", ijepa_ckpt_limits_suite },
    { "ckpt_interop", ijepa_ckpt_interop_suite },
    { "image", ijepa_image_suite },
    { "dataset", ijepa_dataset_suite },
    { "bf16", ijepa_bf16_suite },
};

#define NSUITES ((int)(sizeof suites / sizeof suites[0]))

static int suite_index(const char *name)
{
    for (int i = 0; i < NSUITES; i++)
        if (strcmp(suites[i].name, name) == 0) return i;
    return -1;
}

static void list_suites(FILE *f)
{
    fprintf(f, "known suites:");
    for (int i = 0; i < NSUITES; i++) fprintf(f, " %s", suites[i].name);
    fprintf(f, "\n");
}

int main(int argc, char **argv)
{
    const char *sname = getenv("CK_RUN_SUITE");
    const char *tname = getenv("CK_RUN_CASE");
    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
                                  strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [SUITE [TCASE]]\n", argv[0]);
        list_suites(stderr);
        return 2;
    }
    if (argc > 1) sname = argv[1];
    if (argc > 2) tname = argv[2];
    if (sname && !*sname) sname = NULL;
    if (tname && !*tname) tname = NULL;

    if (sname && suite_index(sname) < 0) {
        fprintf(stderr, "check_ijepa: unknown suite \"%s\"\n", sname);
        list_suites(stderr);
        return 2;
    }

    SRunner *sr = NULL;
    int case_found = 0;
    for (int i = 0; i < NSUITES; i++) {
        Suite *s = suites[i].make();
        if (!s) {
            fprintf(stderr, "check_ijepa: suite \"%s\" could not be built\n",
                    suites[i].name);
            return 2;
        }
        if (tname && (!sname || strcmp(sname, suites[i].name) == 0) &&
            suite_tcase(s, tname))
            case_found = 1;
        if (!sr) sr = srunner_create(s);
        else srunner_add_suite(sr, s);
    }
    if (tname && !case_found) {
        fprintf(stderr, "check_ijepa: no test case \"%s\" in %s%s\n", tname,
                sname ? "suite " : "any suite", sname ? sname : "");
        srunner_free(sr);
        return 2;
    }

    srunner_run(sr, sname, tname, CK_ENV);
    int nrun = srunner_ntests_run(sr);
    int nfailed = srunner_ntests_failed(sr);
    srunner_free(sr);

    if (nrun == 0) {
        fprintf(stderr, "check_ijepa: no test ran (CK_INCLUDE_TAGS/"
                        "CK_EXCLUDE_TAGS or selection excludes everything)\n");
        return 1;
    }
    return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
