/*
 * ijepa-extract: average-pooled target-encoder features of Fashion-MNIST
 * images, written as a NumPy .npy file (float32 [n, embed_dim]).
 *
 *   ijepa-extract (--checkpoint FILE | --run DIR) [--data DIR]
 *                 [--split train|t10k] [--limit N] [--threads T] --out FILE.npy
 *
 * The weights are the target_encoder.* tensors and the configuration of a
 * libijepa checkpoint (docs/checkpoint.md): --run DIR reads
 * DIR/checkpoint.safetensors, as ijepa-train --out DIR and
 * python/examples/train.py --out DIR write it; python/ijepa_convert.py makes
 * one from an official I-JEPA checkpoint. Each image is normalised as in
 * training, encoded with all its patches, and its tokens averaged (summed in
 * double, in token order). python/examples/extract.py writes the same array.
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>

#include "trainloop.h" /* FMNIST_MEAN, FMNIST_STD: the training normalisation */

static void usage(FILE *f)
{
    fprintf(f, "usage: ijepa-extract (--checkpoint FILE | --run DIR) [--data DIR]\n"
               "                     [--split train|t10k] [--limit N] [--threads T] --out FILE.npy\n");
}

/* NumPy format 1.0: magic, version, little-endian u16 header length, a
 * Python dict literal padded with spaces and a newline so that the data
 * start at a multiple of 64 bytes (with the spare spaces numpy.save leaves
 * for growing the first axis, so both write the same bytes). */
static int write_npy(const char *path, const float *data, int64_t rows, int64_t cols)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                     (long long)rows, (long long)cols);
    char first[32];
    int digits = snprintf(first, sizeof first, "%lld", (long long)rows);
    for (int i = digits; i < 21 && n < (int)sizeof dict - 1; i++)
        dict[n++] = ' ';
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    int hlen = n + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (int i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    /* the data are little-endian float32: x86-64 and arm64 are little-endian */
    ok = ok && fwrite(data, sizeof(float), (size_t)(rows * cols), f) == (size_t)(rows * cols);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-extract";
    const char *dir = FMNIST_DEFAULT_DIR, *run = NULL, *ckpt = NULL;
    const char *split = "t10k", *out = NULL;
    int64_t limit = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--run"))
            run = v;
        else if (!strcmp(a, "--checkpoint"))
            ckpt = v;
        else if (!strcmp(a, "--data"))
            dir = v;
        else if (!strcmp(a, "--split"))
            split = v;
        else if (!strcmp(a, "--limit"))
            limit = atoll(v);
        else if (!strcmp(a, "--threads"))
            threads = atoll(v);
        else if (!strcmp(a, "--out"))
            out = v;
        else {
            usage(stderr);
            return 2;
        }
    }
    char cbuf[4096];
    if (run && !ckpt) {
        snprintf(cbuf, sizeof cbuf, "%s/checkpoint.safetensors", run);
        ckpt = cbuf;
    }
    if (!ckpt || !out) {
        usage(stderr);
        return 2;
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
    ijepa_checkpoint *ck;
    ijepa_config *cfg;
    CHECK(ijepa_checkpoint_open(&ck, ckpt));
    CHECK(ijepa_checkpoint_config(ck, &cfg));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
    int64_t img, batch;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &batch));
    ijepa_context *ctx;
    ijepa_encoder *enc;
    CHECK(ijepa_context_create(&ctx));
    CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    CHECK(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc));
    ijepa_checkpoint_free(ck);
    const int64_t D = ijepa_encoder_embed_dim(enc);
    float *feats = ex_malloc((size_t)(ds.n * D) * sizeof(float));
    ex_extract(enc, &ds, ds.n, img, batch, FMNIST_MEAN, FMNIST_STD, feats);
    if (write_npy(out, feats, ds.n, D) != 0) {
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
