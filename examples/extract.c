/*
 * ijepa-extract: average-pooled target-encoder features of Fashion-MNIST
 * images, written as a NumPy .npy file (float32 [n, embed_dim]).
 *
 * The weights are the target_encoder.* tensors and the configuration of a
 * libijepa checkpoint (docs/checkpoint.md): --run DIR reads
 * DIR/checkpoint.safetensors, as ijepa-train --out DIR and
 * python/examples/train.py --out DIR write it; python/ijepa_convert.py makes
 * one from an official I-JEPA checkpoint. Each image goes through the
 * evaluation transform of that configuration (its data_* keys), is encoded
 * with all its patches, and its tokens are averaged (summed in double, in
 * token order). python/examples/extract.py writes the same array.
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fmnist.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ijepa-extract (--checkpoint FILE | --run DIR) [--fmnist DIR]\n"
        "                     [--split train|t10k] [--limit N] [--threads T] --out FILE.npy\n"
        "  --checkpoint FILE  a libijepa checkpoint with target_encoder.* tensors\n"
        "  --run DIR          DIR/checkpoint.safetensors (what ijepa-train --out DIR writes)\n"
        "  --fmnist DIR       Fashion-MNIST's IDX files in DIR (default " FMNIST_DEFAULT_DIR ")\n"
        "  --split S          train or t10k (default)\n"
        "  --limit N          only the first N images of the split\n"
        "  --threads T        OpenMP threads (default OMP_NUM_THREADS or all cores)\n"
        "  --out FILE.npy     where the features go\n");
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-extract";
    const char *dir = FMNIST_DEFAULT_DIR, *run = NULL, *ckpt = NULL;
    const char *split = "t10k", *out = NULL;
    int64_t limit = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (strncmp(a, "--", 2)) {
            ex_usage_error("unexpected argument '%s'", a);
        } else if (!v) {
            ex_usage_error("%s needs a value", a);
        }
        i++;
        if (!strcmp(a, "--run"))
            run = v;
        else if (!strcmp(a, "--checkpoint"))
            ckpt = v;
        else if (!strcmp(a, "--fmnist"))
            dir = v;
        else if (!strcmp(a, "--split"))
            split = v;
        else if (!strcmp(a, "--limit"))
            limit = ex_int(a, v, 1, INT64_MAX);
        else if (!strcmp(a, "--threads"))
            threads = ex_int(a, v, 1, 4096);
        else if (!strcmp(a, "--out"))
            out = v;
        else
            ex_usage_error("unknown option %s", a);
    }
    if ((run != NULL) + (ckpt != NULL) != 1)
        ex_usage_error("give exactly one of --checkpoint and --run");
    if (!out)
        ex_usage_error("--out FILE.npy is missing");
    if (strcmp(split, "train") && strcmp(split, "t10k"))
        ex_usage_error("--split '%s' is not train or t10k", split);
    char cbuf[4096];
    if (run) {
        snprintf(cbuf, sizeof cbuf, "%s/checkpoint.safetensors", run);
        ckpt = cbuf;
    }
    if (threads > 0)
        omp_set_num_threads((int)threads);

    char err[512];
    fmnist ds;
    if (fmnist_load(&ds, dir, split, err, sizeof err) != 0) {
        fprintf(stderr, "ijepa-extract: %s\n", err);
        return 1;
    }
    if (limit > 0 && limit < ds.n)
        ds.n = limit;
    /* the target encoder, with the configuration it was trained with */
    ijepa_checkpoint *ck;
    ijepa_config *cfg;
    CHECK(ijepa_checkpoint_open(&ck, ckpt));
    CHECK(ijepa_checkpoint_config(ck, &cfg));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
    ijepa_context *ctx;
    ijepa_encoder *enc;
    CHECK(ijepa_context_create(&ctx));
    CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    CHECK(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc));
    ijepa_checkpoint_free(ck);

    const int64_t D = ijepa_encoder_embed_dim(enc);
    float *feats = ex_malloc((size_t)(ds.n * D) * sizeof(float));
    fmnist_features(enc, &ds, ds.n, feats);
    if (ex_write_npy(out, feats, ds.n, D) != 0) {
        fprintf(stderr, "ijepa-extract: cannot write %s\n", out);
        return 1;
    }
    printf("wrote %s: %lld x %lld features of the %s split\n", out, (long long)ds.n,
           (long long)D, split);
    free(feats);
    ijepa_encoder_free(enc);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&ds);
    return 0;
}
