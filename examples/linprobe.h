/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Linear probe for the examples: multinomial logistic regression on frozen
 * features, trained with minibatch Adam and a small weight-decay sweep on a
 * held-out part of the training split, then refitted on the whole training
 * split and scored on the test split. Plain C, deterministic.
 */
#ifndef IJEPA_EXAMPLES_LINPROBE_H
#define IJEPA_EXAMPLES_LINPROBE_H

#include <stdint.h>

typedef struct linprobe_result {
    double test_acc;     /* percent */
    double val_acc;      /* percent, of the chosen weight decay */
    double weight_decay; /* chosen */
} linprobe_result;

/*
 * Probe features xtr [ntr, d] (labels ytr in [0, C)) and xte [nte, d]; both are
 * standardised in place with training statistics. The last nval training
 * rows choose the weight decay among {0, 1e-4, 1e-3, 1e-2}. Returns 0, -1 on
 * allocation failure.
 */
int linprobe_run(float *xtr, const int32_t *ytr, int64_t ntr, float *xte, const int32_t *yte,
                 int64_t nte, int64_t d, int C, int64_t nval, int epochs, linprobe_result *res);

#endif
