/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa version: the one source of truth.
 *
 * The Makefile derives the SONAME (libijepa.so.MAJOR) and the real file name
 * (libijepa.so.MAJOR.MINOR.PATCH) from these three macros, and pkgconfig's
 * Version: field too. Bump MAJOR for any removed or changed symbol; adding a
 * function or an enum value is a MINOR bump.
 */
#ifndef IJEPA_VERSION_H
#define IJEPA_VERSION_H

#define IJEPA_VERSION_MAJOR 0
#define IJEPA_VERSION_MINOR 2
#define IJEPA_VERSION_PATCH 0

/** MAJOR*10000 + MINOR*100 + PATCH, e.g. 200 for 0.2.0. */
#define IJEPA_VERSION_NUMBER \
    (IJEPA_VERSION_MAJOR * 10000 + IJEPA_VERSION_MINOR * 100 + IJEPA_VERSION_PATCH)

#define IJEPA_STR2_(x) #x
#define IJEPA_STR_(x) IJEPA_STR2_(x)
/** "MAJOR.MINOR.PATCH" */
#define IJEPA_VERSION_STRING                                              \
    IJEPA_STR_(IJEPA_VERSION_MAJOR) "." IJEPA_STR_(IJEPA_VERSION_MINOR) "." \
    IJEPA_STR_(IJEPA_VERSION_PATCH)

#endif /* IJEPA_VERSION_H */
