/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/* The context's layout, for the handles that borrow its engine. */
#ifndef IJEPA_CONTEXT_INTERNAL_H
#define IJEPA_CONTEXT_INTERNAL_H

#include "ops.h"

struct ijepa_context {
    ijepa__engine *eng;
};

#endif
