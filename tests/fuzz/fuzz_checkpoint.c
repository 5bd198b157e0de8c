/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libFuzzer target: bytes -> checkpoint loading.
 *
 * Each input is opened from memory (ijepa_checkpoint_open_memory: the whole
 * validation), its metadata, configuration and tensor table are read, every
 * tensor is read as float32, the checks before creating handles run with the
 * file's own configuration (whatever model it describes: they must not
 * allocate it) and with the micro model's, and every group a trainer has,
 * and the bare state dict, is loaded into the micro model's handles
 * (fuzz_checkpoint_config.h); the input is also written to a file and loaded
 * with ijepa_trainer_load(), which adds the configuration comparison and the
 * whole-file name check. Seeds come from seeds_checkpoint.c. Any crash,
 * sanitizer report or leak is a bug in the library; so is a load or check
 * that fails with anything but IJEPA_ERR_FORMAT / IJEPA_ERR_NOMEM after a
 * successful open, a load that succeeds where the check before it failed,
 * or a failed trainer load that changed the trainer.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_checkpoint_config.h"

static ijepa_context *g_ctx;
static ijepa_trainer *g_tr;
static ijepa_encoder *g_enc;
static ijepa_predictor *g_pred;
static ijepa_config *g_cfg;
static char g_path[64];
static float *g_before;
static int64_t g_n;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ijepa_config *cfg;
    if (fuzz_micro_config(&cfg) != 0 || ijepa_context_create(&g_ctx) != IJEPA_OK ||
        ijepa_trainer_create(&g_tr, g_ctx, cfg) != IJEPA_OK ||
        ijepa_encoder_create(&g_enc, g_ctx, cfg) != IJEPA_OK ||
        ijepa_predictor_create(&g_pred, g_ctx, cfg) != IJEPA_OK)
        abort();
    g_cfg = cfg;
    const char *t = getenv("TMPDIR");
    snprintf(g_path, sizeof g_path, "%s/ijepa-fuzz-XXXXXX", t && strlen(t) < 30 ? t : "/tmp");
    const int fd = mkstemp(g_path);
    if (fd < 0)
        abort();
    close(fd);
    float *p;
    if (ijepa_encoder_params(ijepa_trainer_target_encoder(g_tr), &p, &g_n) != IJEPA_OK)
        abort();
    g_before = malloc((size_t)g_n * sizeof(float));
    if (!g_before)
        abort();
    return 0;
}

static void expect_load_status(int rc)
{
    if (rc != IJEPA_OK && rc != IJEPA_ERR_FORMAT && rc != IJEPA_ERR_NOMEM)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ijepa_checkpoint *ck = NULL;
    if (ijepa_checkpoint_open_memory(&ck, data, size, "fuzz") == IJEPA_OK) {
        ijepa_config *cfg = NULL;
        if (ijepa_checkpoint_config(ck, &cfg) == IJEPA_OK)
            ijepa_config_free(cfg);
        int64_t step;
        ijepa_checkpoint_step(ck, &step);
        const char *v;
        ijepa_checkpoint_metadata(ck, "ijepa.library_version", &v);
        for (int64_t i = 0; i < ijepa_checkpoint_tensor_count(ck); i++) {
            const char *name;
            int32_t nd;
            int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS];
            if (ijepa_checkpoint_tensor_info(ck, i, &name, &nd, dims) != IJEPA_OK)
                abort();
        }
        int64_t nmeta = ijepa_checkpoint_metadata_count(ck);
        for (int64_t i = 0; i < nmeta; i++) {
            const char *k, *val;
            if (ijepa_checkpoint_metadata_at(ck, i, &k, &val) != IJEPA_OK || !k || !val)
                abort();
        }
        for (int64_t i = 0; i < ijepa_checkpoint_tensor_count(ck); i++) {
            int32_t nd;
            int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS], numel = 1;
            ijepa_checkpoint_tensor_info(ck, i, NULL, &nd, dims);
            for (int32_t d = 0; d < nd; d++)
                numel *= dims[d];
            if (!ijepa_checkpoint_tensor_dtype(ck, i))
                abort();
            /* the data section holds it: at most size / 2 elements */
            float *buf = malloc((size_t)(numel ? numel : 1) * sizeof(float));
            if (!buf)
                abort();
            expect_load_status(ijepa_checkpoint_read_tensor(ck, i, buf, numel));
            free(buf);
        }
        /* the checks with the file's own configuration: any model, never
         * allocated */
        int64_t bytes;
        expect_load_status(ijepa_checkpoint_check_encoder(ck, "target_encoder", NULL, &bytes));
        expect_load_status(ijepa_checkpoint_check_predictor(ck, "predictor", NULL, &bytes));
        expect_load_status(ijepa_trainer_check(ck, NULL, &bytes));
        /* with the micro model's: a load succeeds only where its check did */
        static const char *const enc_groups[] = {"encoder", "target_encoder", ""};
        for (size_t g = 0; g < sizeof enc_groups / sizeof enc_groups[0]; g++) {
            const int chk = ijepa_checkpoint_check_encoder(ck, enc_groups[g], g_cfg, &bytes);
            expect_load_status(chk);
            const int rc = ijepa_checkpoint_load_encoder(ck, enc_groups[g], g_enc);
            expect_load_status(rc);
            if (rc == IJEPA_OK && chk != IJEPA_OK)
                abort();
        }
        const int chk = ijepa_checkpoint_check_predictor(ck, "predictor", g_cfg, &bytes);
        expect_load_status(chk);
        const int rc = ijepa_checkpoint_load_predictor(ck, "predictor", g_pred);
        expect_load_status(rc);
        if (rc == IJEPA_OK && chk != IJEPA_OK)
            abort();
        expect_load_status(ijepa_checkpoint_load_predictor(ck, "", g_pred));
        expect_load_status(ijepa_trainer_check(ck, g_cfg, &bytes));
        ijepa_checkpoint_free(ck);
    } else if (ck) {
        abort(); /* *out must be NULL on failure */
    }
    /* the trainer path, through a file */
    FILE *f = fopen(g_path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    float *p;
    int64_t n;
    ijepa_encoder_params(ijepa_trainer_target_encoder(g_tr), &p, &n);
    memcpy(g_before, p, (size_t)n * sizeof(float));
    const int64_t step0 = ijepa_trainer_step_count(g_tr);
    const int rc = ijepa_trainer_load(g_tr, g_path);
    expect_load_status(rc);
    if (rc != IJEPA_OK &&
        (memcmp(g_before, p, (size_t)n * sizeof(float)) || ijepa_trainer_step_count(g_tr) != step0))
        abort(); /* a failed load changed the trainer */
    return 0;
}
