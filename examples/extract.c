/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * ijepa-extract: average-pooled target-encoder features of images, written
 * as a NumPy .npy file (float32 [n, embed_dim]).
 *
 * The images are a folder of the user's own (--data DIR: every .png, .jpg
 * and .jpeg below DIR, in the byte-wise order of their paths, which go to a
 * .txt file beside the .npy, one per line, row i of the array being line
 * i) or a split of Fashion-MNIST (--fmnist DIR, the default).
 *
 * The weights are the target_encoder.* tensors and the configuration of a
 * libijepa checkpoint (docs/checkpoint.md): --checkpoint FILE, or --run DIR
 * for DIR/checkpoint.safetensors, as ijepa-train --out DIR and
 * python/examples/train.py --out DIR write it; python/ijepa_convert.py makes
 * one from an official I-JEPA checkpoint. Each image goes through the
 * evaluation transform of that configuration (its data_* keys, in_chans
 * and img_size), is encoded with all its patches, and its tokens are
 * averaged (summed in double, in token order). python/examples/extract.py
 * writes the same array for Fashion-MNIST.
 *
 * The runtime keys (precision, batch_size, ...) are this process's: the
 * library's defaults, then --set, never the file's. The precision used is
 * printed with the result.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fmnist.h"
#include "folder.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ijepa-extract (--checkpoint FILE | --run DIR) [--fmnist DIR | --data DIR]\n"
        "                     [--split train|t10k] [--limit N] [--batch B] [--threads T]\n"
        "                     [--set KEY=VALUE]... [--max-memory SIZE] --out FILE.npy\n"
        "       ijepa-extract --help | --version\n"
        "Write the features of images under a trained I-JEPA encoder (libijepa).\n"
        "encoder (one of):\n"
        "  --checkpoint FILE  a libijepa checkpoint: its target encoder and configuration\n"
        "  --run DIR          DIR/checkpoint.safetensors (what ijepa-train --out DIR writes)\n"
        "images (one of):\n"
        "  --data DIR         every .png/.jpg/.jpeg below DIR, in path order; their paths go\n"
        "                     to FILE.txt beside FILE.npy, one per line (line i: row i)\n"
        "  --fmnist DIR       Fashion-MNIST's IDX files in DIR (default $IJEPA_FMNIST_DIR,\n"
        "                     or " FMNIST_DEFAULT_DIR ")\n"
        "  --split NAME       the Fashion-MNIST split: train or t10k (default)\n"
        "options:\n"
        "  --limit N          only the first N images\n"
        "  --batch B          images per forward (default 32)\n"
        "  --threads T        OpenMP threads (default OMP_NUM_THREADS or all cores)\n"
        "  --set KEY=VALUE    change a config key after the file's configuration, whose\n"
        "                     runtime keys are this process's defaults (precision f32):\n"
        "                     --set precision=bf16 computes in bf16 mixed precision\n"
        "                     (faster where the CPU has bf16 instructions)\n"
        "  --out FILE.npy     where the features go: float32 [images, embed_dim] (in an\n"
        "                     existing directory)\n"
        EX_MAX_MEMORY_HELP("                     ")
        "  --help             print this help and exit\n"
        "  --version          print the version and exit\n");
    ex_print_exit_status(f);
}

/* FILE.npy -> FILE.txt; any other name gets ".txt" appended. */
static char *list_path(const char *out)
{
    const size_t n = strlen(out);
    const size_t stem = n >= 4 && !strcmp(out + n - 4, ".npy") ? n - 4 : n;
    char *p = ex_malloc(stem + 5);
    memcpy(p, out, stem);
    memcpy(p + stem, ".txt", 5);
    return p;
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-extract";
    const char *fmnist_dir = NULL, *data_dir = NULL, *run = NULL, *ckpt = NULL;
    const char *split = NULL, *out = NULL;
    int64_t limit = 0, threads = 0, batch = 32, max_memory = EX_MAX_MEMORY_DEFAULT;
    const char *sets[256];
    int nsets = 0;
    ex_args a;
    ex_args_init(&a, argc, argv, usage);
    while (ex_args_next(&a)) {
        const char *v;
        if ((v = ex_value(&a, "--run")))
            run = v;
        else if ((v = ex_value(&a, "--checkpoint")))
            ckpt = v;
        else if ((v = ex_value(&a, "--fmnist")))
            fmnist_dir = v;
        else if ((v = ex_value(&a, "--data")))
            data_dir = v;
        else if ((v = ex_value(&a, "--split")))
            split = v;
        else if ((v = ex_value(&a, "--limit")))
            limit = ex_int(a.opt, v, 1, INT64_MAX);
        else if ((v = ex_value(&a, "--threads")))
            threads = ex_int(a.opt, v, 1, 4096);
        else if ((v = ex_value(&a, "--out")))
            out = v;
        else if ((v = ex_value(&a, "--batch")))
            batch = ex_int(a.opt, v, 1, 65536);
        else if ((v = ex_value(&a, "--max-memory")))
            max_memory = ex_size(a.opt, v);
        else if ((v = ex_value(&a, "--set"))) {
            if (nsets == 256)
                ex_usage_error("more than 256 --set options");
            sets[nsets++] = v;
        } else
            ex_unknown(&a);
    }
    if ((run != NULL) + (ckpt != NULL) != 1)
        ex_usage_error("give exactly one of --checkpoint and --run");
    if (!out)
        ex_usage_error("--out FILE.npy is missing");
    if (fmnist_dir && data_dir)
        ex_usage_error("give --fmnist or --data, not both");
    if (data_dir && split)
        ex_usage_error("--split chooses a Fashion-MNIST split; --data takes the whole folder");
    if (!split)
        split = "t10k";
    if (strcmp(split, "train") && strcmp(split, "t10k"))
        ex_usage_error("--split: '%s' is not train or t10k", split);
    if (!data_dir && !fmnist_dir)
        fmnist_dir = fmnist_default_dir();
    char cbuf[4096];
    if (run) {
        if (snprintf(cbuf, sizeof cbuf, "%s/checkpoint.safetensors", run) >= (int)sizeof cbuf)
            ex_usage_error("--run: the path is too long");
        ckpt = cbuf;
    }
    if (threads > 0)
        omp_set_num_threads((int)threads);
    ex_check_out_dir(out); /* before the work: a --out in no directory fails at once */

    /* Fashion-MNIST: the data first, so that a missing data set says so at once */
    fmnist fm = {0};
    if (!data_dir)
        fmnist_load_or_exit(&fm, fmnist_dir, split);

    /* the target encoder, with the configuration it was trained with and
     * this process's runtime keys; checked before anything is allocated */
    ijepa_checkpoint *ck;
    ijepa_config *cfg, *defaults;
    CHECK(ijepa_checkpoint_open(&ck, ckpt));
    CHECK(ijepa_checkpoint_config(ck, &cfg));
    CHECK(ijepa_config_create(&defaults));
    ex_copy_class(cfg, defaults, IJEPA_CFG_CLASS_RUNTIME);
    ijepa_config_free(defaults);
    for (int i = 0; i < nsets; i++)
        ex_set(cfg, sets[i]);
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, batch));
    int64_t bytes, prec;
    ex_check_config(ijepa_checkpoint_check_encoder(ck, "target_encoder", cfg, &bytes));
    ex_check_memory("the encoder", bytes, max_memory);
    ijepa_context *ctx;
    ijepa_encoder *enc;
    CHECK(ijepa_context_create(&ctx));
    CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    CHECK(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc));
    ijepa_checkpoint_free(ck);
    const int64_t D = ijepa_encoder_embed_dim(enc);

    float *feats;
    int64_t n;
    char *txt = NULL;
    if (data_dir) {
        ex_folder folder;
        ex_folder_open(&folder, data_dir, cfg, 0);
        n = limit > 0 && limit < folder.n ? limit : folder.n;
        /* the list first: a path the list cannot hold stops before the work */
        txt = list_path(out);
        for (int64_t i = 0; i < n; i++)
            if (strchr(ex_folder_path(&folder, i), '\n'))
                ex_fail("%s: a file name with a newline cannot be listed in %s",
                        ex_folder_path(&folder, i), txt);
        feats = ex_malloc((size_t)(n * D) * sizeof(float));
        ex_folder_features(&folder, enc, n, feats);
        FILE *list = fopen(txt, "w");
        if (!list)
            ex_fail("cannot write %s: %s", txt, strerror(errno));
        for (int64_t i = 0; i < n; i++)
            fprintf(list, "%s\n", ex_folder_path(&folder, i));
        if (ferror(list) | fclose(list))
            ex_fail("cannot write %s: %s", txt, strerror(errno));
        ex_folder_free(&folder);
    } else {
        n = limit > 0 && limit < fm.n ? limit : fm.n;
        feats = ex_malloc((size_t)(n * D) * sizeof(float));
        fmnist_features(enc, &fm, n, feats);
        fmnist_free(&fm);
    }
    if (ex_write_npy(out, feats, n, D) != 0)
        ex_fail("cannot write %s: %s", out, strerror(errno));
    char ptext[256];
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PRECISION, &prec));
    ex_precision_text(ctx, prec, ptext, sizeof ptext);
    if (data_dir)
        printf("wrote %s: %lld x %lld features of the images in %s (paths in %s), precision "
               "%s\n", out, (long long)n, (long long)D, data_dir, txt, ptext);
    else
        printf("wrote %s: %lld x %lld features of the %s split, precision %s\n", out,
               (long long)n, (long long)D, split, ptext);
    free(txt);
    free(feats);
    ijepa_encoder_free(enc);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    return 0;
}
