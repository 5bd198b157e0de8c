/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa: I-JEPA (Image-based Joint-Embedding Predictive Architecture)
 * pretraining and feature extraction for Vision Transformers on the CPU.
 *
 * The only header applications include. Link with `pkg-config --libs ijepa`.
 */
#ifndef IJEPA_IJEPA_H
#define IJEPA_IJEPA_H

#include "version.h"
#include "common.h"
#include "config.h"
#include "context.h"
#include "tensors.h"
#include "encoder.h"
#include "predictor.h"
#include "trainer.h"
#include "loss.h"
#include "optim.h"
#include "mask.h"
#include "checkpoint.h"
#include "image.h"
#include "dataset.h"

#endif /* IJEPA_IJEPA_H */
