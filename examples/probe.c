/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * ijepa-probe: linear-probe accuracy of the average-pooled features of
 *   --checkpoint FILE  the target encoder of a checkpoint (target_encoder.*
 *                      and the configuration of FILE; --run DIR for
 *                      DIR/checkpoint.safetensors, what ijepa-train --out
 *                      DIR writes)
 *   --random-init      the same architecture untrained (the configuration
 *                      of --preset)
 *   --pixels           raw pixels
 * on Fashion-MNIST (--fmnist DIR, the default: fit on the training split,
 * score on the 10k test split) or on a labelled folder of the user's images
 * (--data DIR, torchvision's ImageFolder convention: DIR/CLASS/.../IMAGE;
 * scored on --test DIR, a second such folder, or on a held-out part of each
 * class, --test-fraction). Each image goes through the evaluation transform
 * of the encoder's configuration (its data_* keys). Classifier: multinomial
 * logistic regression with a weight-decay sweep on the last sixth (at most
 * 10k) of the training images; score: top-1 on the test images.
 */
#define _POSIX_C_SOURCE 200809L
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
        "usage: ijepa-probe (--checkpoint FILE | --run DIR | --random-init | --pixels)\n"
        "                   [--fmnist DIR | --data DIR [--test DIR | --test-fraction F]]\n"
        "                   [--preset NAME] [--set KEY=VALUE]... [--seed S]\n"
        "                   [--probe-epochs E] [--probe-train N] [--threads T]\n"
        "                   [--max-memory SIZE]\n"
        "       ijepa-probe --help | --version\n"
        "Score frozen image features with a linear classifier (libijepa).\n"
        "features (one of):\n"
        "  --checkpoint FILE  the target encoder of a libijepa checkpoint, with its\n"
        "                     configuration\n"
        "  --run DIR          DIR/checkpoint.safetensors (what ijepa-train --out DIR writes)\n"
        "  --random-init      the untrained encoder of --preset NAME, --seed S\n"
        "  --pixels           raw pixels (Fashion-MNIST: / 255; a folder: the evaluation\n"
        "                     transform of --preset)\n"
        "images (one of):\n"
        "  --fmnist DIR       Fashion-MNIST's IDX files in DIR (default $IJEPA_FMNIST_DIR,\n"
        "                     or " FMNIST_DEFAULT_DIR "): fit on the training\n"
        "                     split, score on the 10k test split\n"
        "  --data DIR         a labelled folder: DIR/CLASS/.../IMAGE, one directory per class\n"
        "                     (torchvision's ImageFolder), .png/.jpg/.jpeg images\n"
        "  --test DIR         score on this labelled folder (its classes must be in --data)\n"
        "  --test-fraction F  else score on this fraction of each class of --data (default\n"
        "                     0.2), chosen by a hash of the path: the same split every time\n"
        "options:\n"
        "  --preset NAME      the configuration of --random-init and --pixels (default: fmnist,\n"
        "                     or folder with --data)\n"
        "  --set KEY=VALUE    change a config key of the encoder, after --preset or the\n"
        "                     file's configuration; a file's runtime keys are replaced by\n"
        "                     this process's defaults first (precision f32: --set\n"
        "                     precision=bf16 to probe in bf16)\n");
    ex_print_value_names(f, "                     ");
    fprintf(f,
        "  --seed S           the seed of --random-init (its parameters)\n"
        "  --probe-epochs E   logistic-regression epochs per fit (default 15)\n"
        "  --probe-train N    fit on the first N training images (default 0: all)\n"
        "  --threads T        OpenMP threads (default OMP_NUM_THREADS or all cores)\n"
        EX_MAX_MEMORY_HELP("                     ")
        "  --help             print this help and exit\n"
        "  --version          print the version and exit\n");
    ex_print_exit_status(f);
}

/* FNV-1a of a path, salted: the fixed pseudo-random order of a folder's
 * images (held-out split, training order). */
static uint64_t path_hash(const char *s, uint64_t salt)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ salt;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

typedef struct keyed {
    uint64_t key;
    int64_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Copy rows idx[0..n) of x [*, d] (labels y) into xo, yo. */
static void gather(const float *x, const int32_t *y, const int64_t *idx, int64_t n, int64_t d,
                   float *xo, int32_t *yo)
{
    for (int64_t k = 0; k < n; k++) {
        memcpy(xo + k * d, x + idx[k] * d, (size_t)d * sizeof *xo);
        yo[k] = y[idx[k]];
    }
}

/* The probe on a labelled folder: returns the result, and the image counts. */
static linprobe_result folder_probe(ijepa_encoder *enc, const ijepa_config *cfg,
                                    const char *dir, const char *test_dir, double fraction,
                                    int epochs, int64_t ntrain_max, int64_t *ntr_out,
                                    int64_t *nte_out, int32_t *classes_out)
{
    ex_folder tr;
    ex_folder_open(&tr, dir, cfg, 1);
    if (tr.nclasses < 2)
        ex_fail("%s: %d class directory; a probe needs two classes or more", dir,
                (int)tr.nclasses);
    const int64_t d = enc ? ijepa_encoder_embed_dim(enc) : tr.chans * tr.img * tr.img;
    float *x = ex_malloc((size_t)(tr.n * d) * sizeof *x);
    ex_folder_features(&tr, enc, tr.n, x);

    /* the training images in a fixed pseudo-random order (the probe's
     * validation rows are the last ones), and the test images */
    keyed *order = ex_malloc((size_t)tr.n * sizeof *order);
    for (int64_t i = 0; i < tr.n; i++)
        order[i] = (keyed){path_hash(ex_folder_relpath(&tr, i), 2), i};
    qsort(order, (size_t)tr.n, sizeof *order, cmp_keyed);
    int64_t *itr = ex_malloc((size_t)tr.n * sizeof *itr), ntr = 0;
    int64_t *ite = ex_malloc((size_t)tr.n * sizeof *ite), nte = 0;
    float *xte = NULL;
    int32_t *yte = NULL;
    if (test_dir) {
        for (int64_t k = 0; k < tr.n; k++)
            itr[ntr++] = order[k].i;
        ex_folder te;
        ex_folder_open(&te, test_dir, cfg, 1);
        yte = ex_malloc((size_t)te.n * sizeof *yte);
        for (int64_t i = 0; i < te.n; i++) {
            yte[i] = ex_folder_class(&tr, te.classes[te.labels[i]]);
            if (yte[i] < 0)
                ex_fail("%s: class '%s' is not a class of %s", ex_folder_path(&te, i),
                        te.classes[te.labels[i]], dir);
        }
        nte = te.n;
        xte = ex_malloc((size_t)(nte * d) * sizeof *xte);
        ex_folder_features(&te, enc, nte, xte);
        ex_folder_free(&te);
    } else {
        /* per class: the images of lowest hash are held out, round(k * fraction)
         * of k, at least one and at most k - 1 (a class of one image trains) */
        keyed *held = ex_malloc((size_t)tr.n * sizeof *held);
        for (int64_t i = 0; i < tr.n; i++)
            held[i] = (keyed){path_hash(ex_folder_relpath(&tr, i), 1), i};
        qsort(held, (size_t)tr.n, sizeof *held, cmp_keyed);
        char *is_test = ex_malloc((size_t)tr.n);
        for (int32_t c = 0; c < tr.nclasses; c++) {
            int64_t k = 0;
            for (int64_t i = 0; i < tr.n; i++)
                k += tr.labels[i] == c;
            int64_t t = (int64_t)((double)k * fraction + 0.5);
            if (t < 1)
                t = 1;
            if (t > k - 1)
                t = k - 1;
            for (int64_t j = 0; j < tr.n && t > 0; j++)
                if (tr.labels[held[j].i] == c) {
                    is_test[held[j].i] = 1;
                    t--;
                }
        }
        for (int64_t i = 0; i < tr.n; i++)
            if (is_test[i])
                ite[nte++] = i;
        for (int64_t k = 0; k < tr.n; k++)
            if (!is_test[order[k].i])
                itr[ntr++] = order[k].i;
        xte = ex_malloc((size_t)(nte * d) * sizeof *xte);
        yte = ex_malloc((size_t)nte * sizeof *yte);
        gather(x, tr.labels, ite, nte, d, xte, yte);
        free(is_test);
        free(held);
    }
    if (ntrain_max > 0 && ntrain_max < ntr)
        ntr = ntrain_max;
    if (ntr < 2 || nte < 1)
        ex_fail("%s: %lld training and %lld test images: too few for a probe", dir,
                (long long)ntr, (long long)nte);
    float *xtr = ex_malloc((size_t)(ntr * d) * sizeof *xtr);
    int32_t *ytr = ex_malloc((size_t)ntr * sizeof *ytr);
    gather(x, tr.labels, itr, ntr, d, xtr, ytr);
    int64_t nval = ntr / 6 < 10000 ? ntr / 6 : 10000;
    if (nval < 1)
        nval = 1;
    linprobe_result r;
    if (linprobe_run(xtr, ytr, ntr, xte, yte, nte, d, tr.nclasses, nval, epochs, &r) != 0)
        ex_fail("out of memory in the linear probe");
    *ntr_out = ntr;
    *nte_out = nte;
    *classes_out = tr.nclasses;
    free(xtr);
    free(ytr);
    free(xte);
    free(yte);
    free(itr);
    free(ite);
    free(order);
    free(x);
    ex_folder_free(&tr);
    return r;
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-probe";
    const char *fmnist_dir = NULL, *data_dir = NULL, *test_dir = NULL, *ckpt = NULL;
    const char *run = NULL, *preset = NULL, *sets[256];
    int random_init = 0, pixels = 0, epochs = 15, nsets = 0;
    int64_t seed = -1, probe_train = 0, threads = 0, max_memory = EX_MAX_MEMORY_DEFAULT;
    double fraction = -1;
    ex_args a;
    ex_args_init(&a, argc, argv, usage);
    while (ex_args_next(&a)) {
        const char *v;
        if (ex_flag(&a, "--random-init"))
            random_init = 1;
        else if (ex_flag(&a, "--pixels"))
            pixels = 1;
        else if ((v = ex_value(&a, "--checkpoint")))
            ckpt = v;
        else if ((v = ex_value(&a, "--run")))
            run = v;
        else if ((v = ex_value(&a, "--fmnist")))
            fmnist_dir = v;
        else if ((v = ex_value(&a, "--data")))
            data_dir = v;
        else if ((v = ex_value(&a, "--test")))
            test_dir = v;
        else if ((v = ex_value(&a, "--test-fraction")))
            fraction = ex_float(a.opt, v, 0.001, 0.999);
        else if ((v = ex_value(&a, "--preset")))
            preset = v;
        else if ((v = ex_value(&a, "--set"))) {
            if (nsets == 256)
                ex_usage_error("more than 256 --set options");
            sets[nsets++] = v;
        } else if ((v = ex_value(&a, "--seed")))
            seed = ex_int(a.opt, v, 0, INT64_MAX);
        else if ((v = ex_value(&a, "--probe-epochs")))
            epochs = (int)ex_int(a.opt, v, 1, 10000);
        else if ((v = ex_value(&a, "--probe-train")))
            probe_train = ex_int(a.opt, v, 0, INT64_MAX);
        else if ((v = ex_value(&a, "--threads")))
            threads = ex_int(a.opt, v, 1, 4096);
        else if ((v = ex_value(&a, "--max-memory")))
            max_memory = ex_size(a.opt, v);
        else {
            ex_renamed(&a, "--weights", "--checkpoint");
            ex_renamed(&a, "--epochs", "--probe-epochs");
            ex_unknown(&a);
        }
    }
    if ((ckpt != NULL) + (run != NULL) + random_init + pixels != 1)
        ex_usage_error("give exactly one of --checkpoint, --run, --random-init, --pixels");
    if (fmnist_dir && data_dir)
        ex_usage_error("give --fmnist or --data, not both");
    if ((test_dir || fraction > 0) && !data_dir)
        ex_usage_error("--test and --test-fraction go with --data");
    if (test_dir && fraction > 0)
        ex_usage_error("give --test or --test-fraction, not both");
    if (pixels && seed >= 0)
        ex_usage_error("--pixels takes no --seed");
    if (pixels && !data_dir && (preset || nsets))
        ex_usage_error("--pixels on Fashion-MNIST takes no --preset or --set (pixels / 255)");
    if ((ckpt || run) && (preset || seed >= 0))
        ex_usage_error("a checkpoint brings its configuration (no --preset or --seed)");
    if (!data_dir && !fmnist_dir)
        fmnist_dir = fmnist_default_dir();
    if (fraction < 0)
        fraction = 0.2;
    char cbuf[4096];
    if (run) {
        if (snprintf(cbuf, sizeof cbuf, "%s/checkpoint.safetensors", run) >= (int)sizeof cbuf)
            ex_usage_error("--run: the path is too long");
        ckpt = cbuf;
    }
    if (threads > 0)
        omp_set_num_threads((int)threads);
    /* the encoder's configuration: the file's (checked before anything is
     * allocated or loaded), or an untrained one of the preset; pixels of a
     * folder use the preset's evaluation transform */
    ijepa_config *cfg = NULL;
    ijepa_checkpoint *ck = NULL;
    if (ckpt) {
        CHECK(ijepa_checkpoint_open(&ck, ckpt));
        CHECK(ijepa_checkpoint_config(ck, &cfg));
        /* this process's runtime keys, not the file's */
        ijepa_config *defaults;
        CHECK(ijepa_config_create(&defaults));
        ex_copy_class(cfg, defaults, IJEPA_CFG_CLASS_RUNTIME);
        ijepa_config_free(defaults);
    } else if (!pixels || data_dir) {
        CHECK(ijepa_config_create(&cfg));
        if (!preset)
            preset = data_dir ? "folder" : "fmnist";
        if (ijepa_config_apply_preset(cfg, preset) < 0)
            ex_usage_error("%s", ijepa_last_error());
        if (seed >= 0)
            CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, seed));
    }
    if (cfg) {
        for (int i = 0; i < nsets; i++)
            ex_set(cfg, sets[i]);
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
        /* a folder's images may be large: fewer of them per forward */
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, data_dir ? 64 : 256));
        int64_t bytes = 0, chans;
        if (ck)
            ex_check_config(ijepa_checkpoint_check_encoder(ck, "target_encoder", cfg, &bytes));
        else if (!pixels)
            ex_check_config(ijepa_encoder_estimate_bytes(cfg, &bytes));
        ex_check_memory("the encoder", bytes, max_memory);
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &chans));
        if (fmnist_dir && chans != 1)
            ex_usage_error("Fashion-MNIST images have 1 channel, the encoder's in_chans is %lld",
                           (long long)chans);
        if (data_dir && chans != 1 && chans != 3)
            ex_usage_error("images decode to 1 or 3 channels, the encoder's in_chans is %lld",
                           (long long)chans);
    }
    fmnist train = {0}, test = {0};
    if (fmnist_dir) {
        fmnist_load_or_exit(&train, fmnist_dir, "train");
        fmnist_load_or_exit(&test, fmnist_dir, "t10k");
    }
    if (pixels && fmnist_dir) {
        const linprobe_result r = fmnist_probe(NULL, &train, &test, epochs, probe_train);
        printf("raw pixels: test %.2f%% (val %.2f%%, wd %g)\n", r.test_acc, r.val_acc,
               r.weight_decay);
        ijepa_config_free(cfg);
        fmnist_free(&train);
        fmnist_free(&test);
        return 0;
    }
    ijepa_context *ctx = NULL;
    ijepa_encoder *enc = NULL;
    if (!pixels) {
        CHECK(ijepa_context_create(&ctx));
        CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    }
    if (ck) {
        CHECK(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc));
        ijepa_checkpoint_free(ck);
    }
    const char *what = pixels ? "raw pixels" : ckpt ? "I-JEPA target encoder"
                                                    : "random-init encoder";
    /* ", precision f32" after an encoder's result (this process's, never a file's) */
    char ptext[256] = "", pnote[300] = "";
    if (enc) {
        int64_t prec;
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PRECISION, &prec));
        snprintf(pnote, sizeof pnote, ", precision %s",
                 ex_precision_text(ctx, prec, ptext, sizeof ptext));
    }
    if (data_dir) {
        int64_t ntr, nte;
        int32_t classes;
        const linprobe_result r = folder_probe(enc, cfg, data_dir, test_dir, fraction, epochs,
                                               probe_train, &ntr, &nte, &classes);
        printf("%s: test %.2f%% (val %.2f%%, wd %g); %d classes, %lld training images, "
               "%lld test images%s\n", what, r.test_acc, r.val_acc, r.weight_decay,
               (int)classes, (long long)ntr, (long long)nte, pnote);
    } else {
        const linprobe_result r = fmnist_probe(enc, &train, &test, epochs, probe_train);
        printf("%s: test %.2f%% (val %.2f%%, wd %g)%s\n", what, r.test_acc, r.val_acc,
               r.weight_decay, pnote);
    }
    ijepa_encoder_free(enc);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    fmnist_free(&test);
    return 0;
}
