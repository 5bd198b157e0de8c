/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libFuzzer target: bytes -> ijepa_image_decode() (PNG and JPEG, 1 and 3
 * channels), and the transforms on whatever decodes. Built and run by
 * `make fuzz` (see the Makefile); seeds come from seeds_image.c.
 *
 * The pixel limit is lowered to 1 Mpixel and the JPEG scan budget to 2^24
 * (16 full passes at that size) so that a header claiming a large image, or
 * a progressive JPEG of many scans, is cheap to reject or decode; the other
 * limits keep their defaults.
 * Any crash, sanitizer report or leak is a bug in the library.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ijepa/ijepa.h"

static ijepa_config *g_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (ijepa_config_create(&g_cfg) != IJEPA_OK ||
        ijepa_config_set_int(g_cfg, IJEPA_CFG_DATA_MAX_PIXELS, 1 << 20) != IJEPA_OK ||
        ijepa_config_set_int(g_cfg, IJEPA_CFG_DATA_MAX_SCAN_PIXELS, 1 << 24) != IJEPA_OK ||
        ijepa_config_set_int(g_cfg, IJEPA_CFG_IMG_SIZE, 16) != IJEPA_OK ||
        ijepa_config_set_int(g_cfg, IJEPA_CFG_DATA_EVAL_RESIZE, 20) != IJEPA_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float out[3 * 16 * 16];
    for (int64_t ch = 1; ch <= 3; ch += 2) {
        ijepa_image *img = NULL;
        const int rc = ijepa_image_decode(&img, data, (int64_t)size, ch, g_cfg);
        if (rc != IJEPA_OK) {
            /* the documented failure statuses only, and *out stays NULL */
            if ((rc != IJEPA_ERR_FORMAT && rc != IJEPA_ERR_NOMEM) || img)
                abort();
            continue;
        }
        const int64_t w = ijepa_image_width(img), h = ijepa_image_height(img);
        if (w < 1 || h < 1 || w * h > (1 << 20) || ijepa_image_channels(img) != ch)
            abort();
        if (ijepa_image_transform_train(img, g_cfg, size, out) != IJEPA_OK ||
            ijepa_image_transform_eval(img, g_cfg, out) != IJEPA_OK)
            abort();
        ijepa_image_free(img);
    }
    return 0;
}
