/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * ijepa-features: the features of one image under a trained encoder.
 *
 *     ijepa-features [--max-memory GIB] IMAGE CHECKPOINT
 *     ijepa-features --help | --version
 *
 * Loads the target encoder of a libijepa checkpoint (ijepa-train --out DIR
 * writes DIR/checkpoint.safetensors) with the configuration stored in the
 * file (its runtime keys replaced by the defaults: float32, as
 * ijepa-extract computes unless told otherwise), decodes a PNG or JPEG
 * image, puts it through that configuration's evaluation transform
 * (resize, centre crop, normalisation), runs the encoder and prints the
 * average of its token features. A model needing
 * more than GIB GiB (default 8; 0: no limit) is refused before anything is
 * allocated. Public API only; against an installed library:
 *
 *     cc -std=c11 features.c -o features $(pkg-config --cflags --libs ijepa)
 */
#include <ijepa/ijepa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The runtime keys (precision, batch_size, decoding limits, ...) are this
 * process's, not the file's: the library's defaults. */
static int own_runtime_keys(ijepa_config *cfg)
{
    ijepa_config *def;
    int rc = ijepa_config_create(&def);
    for (int32_t i = 0; rc == IJEPA_OK && i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        int64_t v;
        double f;
        if (ijepa_config_key_class(key) != IJEPA_CFG_CLASS_RUNTIME)
            continue;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            if ((rc = ijepa_config_get_int(def, key, &v)) == IJEPA_OK)
                rc = ijepa_config_set_int(cfg, key, v);
        } else if ((rc = ijepa_config_get_float(def, key, &f)) == IJEPA_OK) {
            rc = ijepa_config_set_float(cfg, key, f);
        }
    }
    ijepa_config_free(def);
    return rc;
}

/* Print the library's message for a failed call and return 1. */
static int failed(const char *what, int rc)
{
    fprintf(stderr, "ijepa-features: %s: %s: %s\n", what, ijepa_status_string(rc),
            ijepa_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    double max_gib = 8;
    char *end = "";
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("ijepa-features (libijepa) %s\n", ijepa_version_string());
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "--max-memory")) {
        max_gib = strtod(argv[2], &end);
        argc -= 2;
        argv += 2;
    }
    if (argc != 3 || *end || !(max_gib >= 0)) {
        const int help = argc == 2 && !strcmp(argv[1], "--help");
        fprintf(help ? stdout : stderr,
                "usage: ijepa-features [--max-memory GIB] IMAGE CHECKPOINT\n"
                "       ijepa-features --help | --version\n");
        if (help)
            printf("Print the average token features of IMAGE (PNG or JPEG) under the target\n"
                   "encoder of CHECKPOINT (ijepa-train --out DIR: DIR/checkpoint.safetensors).\n"
                   "  --max-memory GIB  refuse an encoder needing more than GIB GiB (default 8;\n"
                   "                    0: no limit)\n"
                   "exit status: 0 success, 1 failure, 2 bad command line\n");
        return help ? 0 : 2;
    }
    ijepa_checkpoint *ck = NULL;
    ijepa_config *cfg = NULL;
    ijepa_context *ctx = NULL;
    ijepa_encoder *enc = NULL;
    ijepa_image *img = NULL;
    float *x = NULL, *tokens = NULL;
    int rc, status = 1;

    /* 1. The checkpoint: its configuration, and an encoder of that shape
     *    holding the trained target encoder (inference only, one image). */
    if ((rc = ijepa_checkpoint_open(&ck, argv[2])) < 0) {
        failed("ijepa_checkpoint_open", rc);
        goto out;
    }
    if ((rc = ijepa_checkpoint_config(ck, &cfg)) < 0 || (rc = own_runtime_keys(cfg)) < 0 ||
        (rc = ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0)) < 0 ||
        (rc = ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, 1)) < 0) {
        failed("config", rc);
        goto out;
    }
    /*    Before allocating anything: does the file hold every tensor of
     *    that encoder, with its shape, and how much memory would it take? */
    int64_t bytes;
    if ((rc = ijepa_checkpoint_check_encoder(ck, "target_encoder", cfg, &bytes)) < 0) {
        failed("ijepa_checkpoint_check_encoder", rc);
        goto out;
    }
    if (max_gib > 0 && (double)bytes > max_gib * 1073741824.0) {
        fprintf(stderr, "ijepa-features: the encoder would need %.2f GiB, more than "
                        "--max-memory %g\n", (double)bytes / 1073741824.0, max_gib);
        goto out;
    }
    if ((rc = ijepa_context_create(&ctx)) < 0 ||
        (rc = ijepa_encoder_create(&enc, ctx, cfg)) < 0 ||
        (rc = ijepa_checkpoint_load_encoder(ck, "target_encoder", enc)) < 0) {
        failed("encoder", rc);
        goto out;
    }

    /* 2. The image, as the encoder was trained to see it: in_chans channels,
     *    resized and centre-cropped to img_size, normalised (data_* keys). */
    int64_t chans, size;
    ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &chans);
    ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &size);
    x = malloc((size_t)(chans * size * size) * sizeof *x);
    if (!x)
        goto out;
    if ((rc = ijepa_image_load(&img, argv[1], chans, cfg)) < 0 ||
        (rc = ijepa_image_transform_eval(img, cfg, x)) < 0) {
        failed("image", rc);
        goto out;
    }

    /* 3. One forward over all patches: [1, N, D] token features. */
    const int64_t n = ijepa_encoder_num_patches(enc), d = ijepa_encoder_embed_dim(enc);
    tokens = malloc((size_t)(n * d) * sizeof *tokens);
    if (!tokens)
        goto out;
    if ((rc = ijepa_encoder_forward(enc, x, 1, NULL, 0, tokens, IJEPA_FORWARD_INFERENCE)) < 0) {
        failed("ijepa_encoder_forward", rc);
        goto out;
    }

    /* 4. Their average over the tokens: one D-dimensional feature vector. */
    printf("%lld tokens x %lld features; average over the tokens:\n", (long long)n,
           (long long)d);
    for (int64_t j = 0; j < d; j++) {
        double sum = 0;
        for (int64_t t = 0; t < n; t++)
            sum += tokens[t * d + j];
        printf("%.9g%c", (float)(sum / (double)n), j + 1 < d ? ' ' : '\n');
    }
    status = 0;
out:
    free(tokens);
    free(x);
    ijepa_image_free(img);
    ijepa_encoder_free(enc); /* before the context it was created from */
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    ijepa_checkpoint_free(ck);
    return status;
}
