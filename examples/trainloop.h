/*
 * The I-JEPA pretraining loop of the examples (ijepa-train, ijepa-demo):
 * named recipes, a shuffled Fashion-MNIST feed or a folder of images (the
 * library's dataset handle), progress display, CSV log, pictures and the
 * checkpoint.
 */
#ifndef IJEPA_EXAMPLES_TRAINLOOP_H
#define IJEPA_EXAMPLES_TRAINLOOP_H

#include <math.h>
#include <unistd.h>

#include "linprobe.h"
#include "plot.h"
#include "util.h"

static const float FMNIST_MEAN = 0.2860f, FMNIST_STD = 0.3530f;

/* A recipe is a list of config settings, applied in order. */
typedef struct ex_recipe {
    const char *name;
    const char *about;
    const char *settings;
    double crop_scale_min; /* RandomResizedCrop scale (crop_scale_min, 1); 0 = no crop */
    int hflip;             /* 1: flip each training image left-right with probability 1/2 */
} ex_recipe;

static const ex_recipe EX_RECIPES[] = {
    {"fmnist", "ViT 128x4 on 7x7 patches of 4x4 pixels: learns (docs/results.md)",
     "img_size=28 patch_size=4 in_chans=1 embed_dim=128 depth=4 num_heads=4 patch_init_std=0.25 "
     "pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
     "mask_mode=0 min_keep=2 lr_start=2e-4 lr=1e-3 lr_final=1e-6 "
     "weight_decay=0.04 weight_decay_final=0.4 ema_start=0.996 ema_end=1.0 loss=0", 0.0, 0},
    {"fmnist-p2", "the same on 14x14 patches of 2x2 pixels: slower, learns less per minute",
     "img_size=28 patch_size=2 in_chans=1 embed_dim=128 depth=4 num_heads=4 patch_init_std=0.5 "
     "pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
     "mask_mode=0 min_keep=4 lr_start=2e-4 lr=1e-3 lr_final=1e-6 "
     "weight_decay=0.04 weight_decay_final=0.4 ema_start=0.996 ema_end=1.0 loss=0", 0.0, 0},
    {"fmnist-official", "the official recipe at small scale: 32x32, patch 4, ViT 192x6, "
                        "predictor 96x4, official masks",
     "img_size=32 patch_size=4 in_chans=1 embed_dim=192 depth=6 num_heads=3 "
     "pred_embed_dim=96 pred_depth=4 pred_num_heads=3 batch_size=128 "
     "mask_mode=1 min_keep=4 lr_start=2e-4 lr=1e-3 lr_final=1e-6 "
     "weight_decay=0.04 weight_decay_final=0.4 ema_start=0.996 ema_end=1.0 loss=0", 0.3, 0},
    {"tiny", "a seconds-long smoke run",
     "img_size=28 patch_size=4 in_chans=1 embed_dim=32 depth=2 num_heads=2 "
     "pred_embed_dim=16 pred_depth=1 pred_num_heads=2 batch_size=32 min_keep=2", 0.0, 0},
    {"folder", "a folder of photos (--data DIR): 64x64 RGB, patch 8, ViT 192x6, predictor 96x3, "
               "official crop and ImageNet normalisation",
     "img_size=64 patch_size=8 in_chans=3 embed_dim=192 depth=6 num_heads=3 "
     "pred_embed_dim=96 pred_depth=3 pred_num_heads=3 batch_size=32 min_keep=4 "
     "lr_start=2e-4 lr=1e-3 lr_final=1e-6 weight_decay=0.04 weight_decay_final=0.4 "
     "ema_start=0.996 ema_end=1.0 loss=0", 0.3, 0},
};

static inline const ex_recipe *ex_recipe_find(const char *name)
{
    for (size_t i = 0; i < sizeof EX_RECIPES / sizeof EX_RECIPES[0]; i++)
        if (!strcmp(EX_RECIPES[i].name, name))
            return &EX_RECIPES[i];
    return NULL;
}

/* Apply "k=v k=v ..." settings; exits with a message on a bad one. */
static inline void ex_apply_settings(ijepa_config *cfg, const char *settings)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", settings);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            fprintf(stderr, "%s: setting '%s' is not key=value\n", ex_prog, tok);
            exit(2);
        }
        *eq = '\0';
        if (ex_config_set(cfg, tok, eq + 1) != 0) {
            fprintf(stderr, "%s: cannot set %s=%s: %s\n", ex_prog, tok, eq + 1, ijepa_last_error());
            exit(2);
        }
    }
}

/* Mirror one image [size, size] left-right. */
static inline void ex_hflip(float *img, int64_t size)
{
    for (int64_t y = 0; y < size; y++)
        for (int64_t a = 0, b = size - 1; a < b; a++, b--) {
            float t = img[y * size + a];
            img[y * size + a] = img[y * size + b];
            img[y * size + b] = t;
        }
}

/*
 * The official training transform on one normalised image [size, size]:
 * RandomResizedCrop(scale = (smin, 1), ratio = (3/4, 4/3)) with bilinear
 * resampling back to size x size (torchvision's sampling: 10 tries, then the
 * whole image). tmp has room for size*size floats.
 */
static inline void ex_random_resized_crop(float *img, int64_t size, double smin, uint64_t *rng,
                                          float *tmp)
{
    const double area = (double)(size * size);
    double w = (double)size, h = (double)size, x0 = 0, y0 = 0;
    for (int t = 0; t < 10; t++) {
        double u1 = (double)(lp_rng(rng) >> 11) * 0x1.0p-53;
        double u2 = (double)(lp_rng(rng) >> 11) * 0x1.0p-53;
        double target = area * (smin + u1 * (1.0 - smin));
        double ar = exp(log(3.0 / 4.0) + u2 * (log(4.0 / 3.0) - log(3.0 / 4.0)));
        double cw = round(sqrt(target * ar)), ch = round(sqrt(target / ar));
        if (cw >= 1 && ch >= 1 && cw <= (double)size && ch <= (double)size) {
            w = cw;
            h = ch;
            x0 = (double)(lp_rng(rng) % (uint64_t)(size - (int64_t)cw + 1));
            y0 = (double)(lp_rng(rng) % (uint64_t)(size - (int64_t)ch + 1));
            break;
        }
    }
    memcpy(tmp, img, (size_t)(size * size) * sizeof(float));
    for (int64_t oy = 0; oy < size; oy++)
        for (int64_t ox = 0; ox < size; ox++) {
            /* pixel centres map as with align_corners = false */
            double sy = y0 + ((double)oy + 0.5) * h / (double)size - 0.5;
            double sx = x0 + ((double)ox + 0.5) * w / (double)size - 0.5;
            if (sy < 0)
                sy = 0;
            if (sx < 0)
                sx = 0;
            int64_t iy = (int64_t)sy, ix = (int64_t)sx;
            if (iy > size - 1)
                iy = size - 1;
            if (ix > size - 1)
                ix = size - 1;
            int64_t iy1 = iy + 1 < size ? iy + 1 : iy, ix1 = ix + 1 < size ? ix + 1 : ix;
            double fy = sy - (double)iy, fx = sx - (double)ix;
            double v = (1 - fy) * ((1 - fx) * tmp[iy * size + ix] + fx * tmp[iy * size + ix1]) +
                       fy * ((1 - fx) * tmp[iy1 * size + ix] + fx * tmp[iy1 * size + ix1]);
            img[oy * size + ox] = (float)v;
        }
}

typedef struct ex_train_result {
    int64_t steps;
    double seconds, images_per_s, first_loss, last_loss, last_std;
} ex_train_result;

static inline void ex_fmt_time(double s, char *buf, size_t n)
{
    if (s < 0 || !isfinite(s))
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/*
 * Train until `steps` steps on ds (images [0, ds->n)), or, when images is not
 * NULL, on the batches of that dataset handle (ds is then unused: the
 * dataset crops and normalises itself, crop_scale_min and hflip are
 * ignored; hflip 1 mirrors each Fashion-MNIST image with probability 1/2,
 * after the crop). With
 * resume (a checkpoint written by this loop) the trainer continues from the
 * saved step: the feed replays the skipped batches' shuffles and crops (or
 * reads them from the dataset) without training, so the run is the one that
 * would have continued. Writes out_dir/log.csv, loss.png, masks.png and
 * checkpoint.safetensors (ijepa_trainer_save) when out_dir is not NULL; with
 * save_every > 0 the checkpoint is also saved every save_every steps
 * (atomically: an interrupted run leaves the last one). Returns the trainer
 * (caller frees it).
 */
static inline ijepa_trainer *ex_train(ijepa_context *ctx, ijepa_config *cfg, const fmnist *ds,
                                      ijepa_dataset *images, int64_t steps, double crop_scale_min,
                                      int hflip, const char *out_dir, const char *resume, int64_t save_every,
                                      int quiet, ex_train_result *res)
{
    int64_t B, img, seed, C;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &C));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_SEED, &seed));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, steps));
    int64_t warm;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_WARMUP_STEPS, &warm));
    if (warm > steps)
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, steps / 10));
    ijepa_trainer *tr;
    CHECK(ijepa_trainer_create(&tr, ctx, cfg));
    int64_t s0 = 0;
    if (resume) {
        CHECK(ijepa_trainer_load(tr, resume));
        s0 = ijepa_trainer_step_count(tr);
        if (s0 >= steps) {
            fprintf(stderr, "%s: %s is already at step %lld of %lld\n", ex_prog, resume,
                    (long long)s0, (long long)steps);
            exit(2);
        }
    }

    FILE *csv = NULL;
    char path[4096];
    if (out_dir) {
        ex_mkdir(out_dir);
        snprintf(path, sizeof path, "%s/log.csv", out_dir);
        csv = fopen(path, "w");
        if (!csv) {
            fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
            exit(1);
        }
        fprintf(csv, "step,epoch,loss,target_std,lr,weight_decay,momentum,grad_norm,"
                     "n_context,n_target,images_per_s,elapsed_s\n");
    }
    const int tty = !quiet && isatty(2);
    const int64_t log_every = steps / 20 > 0 ? steps / 20 : 1;
    float *x = ex_malloc((size_t)(B * C * img * img) * sizeof(float));
    float *tmp = ex_malloc((size_t)(img * img) * sizeof(float));
    const int64_t n_images = images ? ijepa_dataset_size(images) : ds->n;
    int64_t *perm = ex_malloc((size_t)n_images * sizeof *perm);
    double *losses = ex_malloc((size_t)steps * sizeof *losses);
    uint64_t rng = 0x2545f4914f6cdd1dULL ^ (uint64_t)seed;
    int64_t pos = n_images, epoch = -1;
    int warned = 0;
    double best_std = 0;
    double t0 = ex_now();
    double last_draw = 0;
    memset(res, 0, sizeof *res);
    for (int64_t s = 0; s < steps; s++) {
        if (s == s0)
            t0 = ex_now(); /* time only the steps this run trains */
        if (images) {
            /* decoded ahead by the dataset's worker threads */
            CHECK(ijepa_dataset_next_batch(images, B, x, NULL));
            epoch = ijepa_dataset_epoch(images);
        }
        for (int64_t b = 0; b < B && !images; b++) {
            if (pos == ds->n) { /* new epoch: reshuffle */
                for (int64_t i = 0; i < ds->n; i++)
                    perm[i] = i;
                for (int64_t i = ds->n - 1; i > 0; i--) {
                    int64_t j = (int64_t)(lp_rng(&rng) % (uint64_t)(i + 1));
                    int64_t t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
                pos = 0;
                epoch++;
            }
            fmnist_image(ds, perm[pos++], img, FMNIST_MEAN, FMNIST_STD, x + b * img * img);
            if (crop_scale_min > 0)
                ex_random_resized_crop(x + b * img * img, img, crop_scale_min, &rng, tmp);
            if (hflip && (lp_rng(&rng) >> 63))
                ex_hflip(x + b * img * img, img);
        }
        if (s < s0)
            continue; /* resuming: this batch was trained before */
        double loss, tstd, lr, wd, mom, gn, nc, nt;
        CHECK(ijepa_trainer_step(tr, x, B, &loss));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_TARGET_STD, &tstd));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_LR, &lr));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_WEIGHT_DECAY, &wd));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_MOMENTUM, &mom));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_GRAD_NORM, &gn));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_N_CONTEXT, &nc));
        CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_N_TARGET, &nt));
        losses[s - s0] = loss;
        if (s == s0)
            res->first_loss = loss;
        const double el = ex_now() - t0, ips = (double)((s + 1 - s0) * B) / el;
        if (csv)
            fprintf(csv, "%lld,%lld,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.0f,%.0f,%.2f,%.2f\n",
                    (long long)(s + 1), (long long)epoch, loss, tstd, lr, wd, mom, gn, nc, nt,
                    ips, el);
        /* collapse: the spread of the target features across images falls
         * far below the best it has had */
        if (tstd > best_std)
            best_std = tstd;
        if (!warned && s > 10 && tstd < 0.1 * best_std) {
            fprintf(stderr, "%s: warning: target features are collapsing (std across the "
                            "batch %.4f at step %lld, down from %.4f)\n", ex_prog, tstd,
                    (long long)(s + 1), best_std);
            warned = 1;
        }
        char eta[32];
        ex_fmt_time(el / (double)(s + 1 - s0) * (double)(steps - s - 1), eta, sizeof eta);
        if (tty && (el - last_draw > 0.25 || s + 1 == steps)) {
            int filled = (int)(30 * (s + 1) / steps);
            char bar[31];
            for (int i = 0; i < 30; i++)
                bar[i] = i < filled ? '#' : '-';
            bar[30] = '\0';
            fprintf(stderr, "\r[%s] %lld/%lld loss %.4f std %.3f %.0f img/s ETA %s ", bar,
                    (long long)(s + 1), (long long)steps, loss, tstd, ips, eta);
            last_draw = el;
        } else if (!tty && !quiet && ((s + 1) % log_every == 0 || s + 1 == steps)) {
            fprintf(stderr, "step %lld/%lld loss %.5f target_std %.4f lr %.2e %.0f img/s ETA %s\n",
                    (long long)(s + 1), (long long)steps, loss, tstd, lr, ips, eta);
        }
        res->last_loss = loss;
        res->last_std = tstd;
        if (out_dir && save_every > 0 && (s + 1) % save_every == 0 && s + 1 < steps) {
            if (csv)
                fflush(csv);
            snprintf(path, sizeof path, "%s/checkpoint.safetensors", out_dir);
            CHECK(ijepa_trainer_save(tr, path));
        }
    }
    if (tty)
        fputc('\n', stderr);
    res->steps = steps - s0;
    res->seconds = ex_now() - t0;
    res->images_per_s = (double)((steps - s0) * B) / res->seconds;
    if (out_dir) {
        fclose(csv);
        snprintf(path, sizeof path, "%s/loss.png", out_dir);
        if (plot_curve(path, losses, steps - s0) != 0)
            fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
        const int32_t *ctxm, *tgtm;
        int64_t nc, nt, bm, G, M, p;
        CHECK(ijepa_trainer_masks(tr, &ctxm, &nc, &tgtm, &nt, &bm));
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PATCH_SIZE, &p));
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_NUM_TARGETS, &M));
        G = img / p;
        snprintf(path, sizeof path, "%s/masks.png", out_dir);
        for (int64_t b = 1; b < bm && C > 1; b++) /* first channel only, [B, img, img] */
            memmove(x + b * img * img, x + b * C * img * img, (size_t)(img * img) * sizeof(float));
        if (plot_masks(path, x, bm < 6 ? (int)bm : 6, (int)img, (int)G, (int)p, ctxm, nc, tgtm,
                       M, bm, nt) != 0)
            fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", out_dir);
        CHECK(ijepa_trainer_save(tr, path));
    }
    free(x);
    free(tmp);
    free(perm);
    free(losses);
    return tr;
}

/* Linear-probe accuracy of average-pooled encoder features (enc != NULL) or
 * of raw pixels (enc == NULL): fit on the first ntrain training images (0:
 * all; the last sixth, at most 10k, chooses the weight decay), score on the
 * whole test split. */
static inline linprobe_result ex_probe(ijepa_encoder *enc, const fmnist *train_all,
                                       const fmnist *test, int64_t img, int epochs,
                                       int64_t ntrain)
{
    fmnist sub = *train_all;
    if (ntrain > 0 && ntrain < sub.n)
        sub.n = ntrain;
    const fmnist *train = &sub;
    const int64_t d = enc ? ijepa_encoder_embed_dim(enc) : train->rows * train->cols;
    float *xtr = ex_malloc((size_t)(train->n * d) * sizeof(float));
    float *xte = ex_malloc((size_t)(test->n * d) * sizeof(float));
    if (enc) {
        int64_t batch;
        CHECK(ijepa_config_get_int(ijepa_encoder_config(enc), IJEPA_CFG_BATCH_SIZE, &batch));
        ex_extract(enc, train, train->n, img, batch, FMNIST_MEAN, FMNIST_STD, xtr);
        ex_extract(enc, test, test->n, img, batch, FMNIST_MEAN, FMNIST_STD, xte);
    } else {
        for (int64_t i = 0; i < train->n * d; i++)
            xtr[i] = (float)train->pixels[i] / 255.0f;
        for (int64_t i = 0; i < test->n * d; i++)
            xte[i] = (float)test->pixels[i] / 255.0f;
    }
    linprobe_result r;
    const int64_t nval = train->n / 6 < 10000 ? train->n / 6 : 10000;
    if (linprobe_run(xtr, train->labels, train->n, xte, test->labels, test->n, d, 10, nval,
                     epochs, &r) != 0) {
        fprintf(stderr, "%s: out of memory in the linear probe\n", ex_prog);
        exit(1);
    }
    free(xtr);
    free(xte);
    return r;
}

#endif
