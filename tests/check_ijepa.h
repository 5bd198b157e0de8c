/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The Check suites of the libijepa test program (tests/check_ijepa).
 *
 * One suite per module: tests/check_<module>.c defines
 * Suite *ijepa_<module>_suite(void), whose suite_create() name is "<module>",
 * and check_main.c lists it in its suite table.
 *
 * Rule for every suite constructor: build the Suite and its TCases only.
 * Never call a library function (nor anything that starts OpenMP threads)
 * there or anywhere else in the parent process: Check forks one child per
 * test, and a child forked after libgomp has started a thread pool hangs.
 * All library use belongs inside START_TEST bodies (or checked fixtures),
 * which run in the child.
 *
 * Helpers the suites share (assertions, config building, tensor-table
 * checks, the encoder fixture, add_tcase()) are in tests/helpers.h.
 */
#ifndef IJEPA_TESTS_CHECK_IJEPA_H
#define IJEPA_TESTS_CHECK_IJEPA_H

#include <check.h>

/* Timeout of TCases that run numeric work, in seconds (Check's default is
 * 4 s; scaled by CK_TIMEOUT_MULTIPLIER, e.g. under valgrind). */
#define IJEPA_TEST_TIMEOUT 120

Suite *ijepa_config_suite(void);  /* check_config.c: include/ijepa/config.h */
Suite *ijepa_ops_suite(void);     /* check_ops.c: oneDNN kernels (lib/ops.h) */
Suite *ijepa_encoder_suite(void); /* check_encoder.c: include/ijepa/encoder.h */
Suite *ijepa_mask_suite(void);    /* check_mask.c: include/ijepa/mask.h */
Suite *ijepa_loss_suite(void);    /* check_loss.c: include/ijepa/loss.h */
Suite *ijepa_optim_suite(void);   /* check_optim.c: include/ijepa/optim.h */
Suite *ijepa_predictor_suite(void); /* check_predictor.c: include/ijepa/predictor.h */
Suite *ijepa_trainer_suite(void);   /* check_trainer.c: include/ijepa/trainer.h */
Suite *ijepa_checkpoint_suite(void); /* check_checkpoint.c: include/ijepa/checkpoint.h */
Suite *ijepa_ckpt_limits_suite(void); /* check_ckpt_limits.c: checkpoint costs, caps, temp files */
Suite *ijepa_ckpt_interop_suite(void); /* check_ckpt_interop.c: dtypes, bare state dicts, writer */
Suite *ijepa_image_suite(void);     /* check_image.c: include/ijepa/image.h */
Suite *ijepa_dataset_suite(void);   /* check_dataset.c: include/ijepa/dataset.h */
Suite *ijepa_bf16_suite(void);      /* check_bf16.c: precision = bf16 (lib/bf16.h, models) */

#endif /* IJEPA_TESTS_CHECK_IJEPA_H */
