/*
 * Implements: examples/trainloop.h, the pretraining loop of the examples.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "plot.h"
#include "trainloop.h"

// --- feeds ------------------------------------------------------------------------------

void ex_feed_fmnist(ex_feed *f, const fmnist *fm, const ijepa_config *cfg)
{
    memset(f, 0, sizeof *f);
    int64_t seed, mode;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_SEED, &seed));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_DATA_TRANSFORM, &mode));
    f->fm = fm;
    f->cfg = cfg;
    f->train = mode == IJEPA_DATA_TRAIN;
    f->seed = (uint64_t)seed;
    f->rng = 0x2545f4914f6cdd1dULL ^ (uint64_t)seed;
    f->perm = ex_malloc((size_t)fm->n * sizeof *f->perm);
    f->pos = fm->n; /* the first image starts an epoch */
    f->epoch = -1;
}

void ex_feed_folder(ex_feed *f, ijepa_dataset *ds)
{
    memset(f, 0, sizeof *f);
    f->ds = ds;
}

void ex_feed_next(ex_feed *f, int64_t batch, float *x)
{
    if (f->ds) { /* decoded ahead by the dataset's worker threads */
        CHECK(ijepa_dataset_next_batch(f->ds, batch, x, NULL));
        return;
    }
    const fmnist *fm = f->fm;
    int64_t img;
    CHECK(ijepa_config_get_int(f->cfg, IJEPA_CFG_IMG_SIZE, &img));
    for (int64_t b = 0; b < batch; b++, f->position++) {
        if (f->pos == fm->n) { /* a new epoch: reshuffle */
            for (int64_t i = 0; i < fm->n; i++)
                f->perm[i] = i;
            for (int64_t i = fm->n - 1; i > 0; i--) {
                const int64_t j = (int64_t)(ex_xorshift(&f->rng) % (uint64_t)(i + 1));
                const int64_t t = f->perm[i];
                f->perm[i] = f->perm[j];
                f->perm[j] = t;
            }
            f->pos = 0;
            f->epoch++;
        }
        const int64_t i = f->perm[f->pos++];
        if (x)
            fmnist_transform(fm, i, f->cfg, f->train, fmnist_crop_seed(f->seed, f->position),
                             x + b * img * img);
    }
}

int64_t ex_feed_size(const ex_feed *f) { return f->ds ? ijepa_dataset_size(f->ds) : f->fm->n; }

int64_t ex_feed_epoch(const ex_feed *f) { return f->ds ? ijepa_dataset_epoch(f->ds) : f->epoch; }

void ex_feed_free(ex_feed *f)
{
    free(f->perm);
    memset(f, 0, sizeof *f);
}

// --- the loop -------------------------------------------------------------------------

static void fmt_time(double s, char *buf, size_t n)
{
    if (s < 0 || !isfinite(s))
        s = 0;
    const long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* The masks of the last step over the first images of its batch x. */
static void save_masks(ijepa_trainer *tr, const ijepa_config *cfg, float *x, const char *path)
{
    const int32_t *ctxm, *tgtm;
    int64_t nc, nt, bm, M, p, img, C;
    CHECK(ijepa_trainer_masks(tr, &ctxm, &nc, &tgtm, &nt, &bm));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PATCH_SIZE, &p));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_NUM_TARGETS, &M));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &C));
    for (int64_t b = 1; b < bm && C > 1; b++) /* first channel only, [B, img, img] */
        memmove(x + b * img * img, x + b * C * img * img, (size_t)(img * img) * sizeof(float));
    if (plot_masks(path, x, bm < 6 ? (int)bm : 6, (int)img, (int)(img / p), (int)p, ctxm, nc,
                   tgtm, M, bm, nt) != 0)
        fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
}

ijepa_trainer *ex_train(ijepa_context *ctx, ijepa_config *cfg, ex_feed *feed,
                        const ex_train_opts *o, ex_train_result *res)
{
    const int64_t steps = o->steps;
    int64_t B, img, C, warm;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &C));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, steps));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_WARMUP_STEPS, &warm));
    if (warm > steps)
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, steps / 10));
    ijepa_trainer *tr;
    CHECK(ijepa_trainer_create(&tr, ctx, cfg));
    int64_t s0 = 0;
    if (o->resume) {
        CHECK(ijepa_trainer_load(tr, o->resume));
        s0 = ijepa_trainer_step_count(tr);
        if (s0 >= steps) {
            fprintf(stderr, "%s: %s is already at step %lld of %lld\n", ex_prog, o->resume,
                    (long long)s0, (long long)steps);
            exit(2);
        }
    }

    FILE *csv = NULL;
    char path[4096];
    if (o->out_dir) {
        ex_mkdir(o->out_dir);
        snprintf(path, sizeof path, "%s/log.csv", o->out_dir);
        csv = fopen(path, "w");
        if (!csv) {
            fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
            exit(1);
        }
        fprintf(csv, "step,epoch,loss,target_std,lr,weight_decay,momentum,grad_norm,"
                     "n_context,n_target,images_per_s,elapsed_s\n");
    }
    const int tty = !o->quiet && isatty(2);
    const int64_t log_every = steps / 20 > 0 ? steps / 20 : 1;
    float *x = ex_malloc((size_t)(B * C * img * img) * sizeof(float));
    double *losses = ex_malloc((size_t)steps * sizeof *losses);
    int warned = 0;
    double best_std = 0, t0 = ex_now(), last_draw = 0;
    memset(res, 0, sizeof *res);
    for (int64_t s = 0; s < steps; s++) {
        if (s == s0)
            t0 = ex_now(); /* time only the steps this run trains */
        /* resuming: the batches of the steps trained before are replayed, not trained */
        ex_feed_next(feed, B, s < s0 && !feed->ds ? NULL : x);
        if (s < s0)
            continue;
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
                    (long long)(s + 1), (long long)ex_feed_epoch(feed), loss, tstd, lr, wd, mom,
                    gn, nc, nt, ips, el);
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
        fmt_time(el / (double)(s + 1 - s0) * (double)(steps - s - 1), eta, sizeof eta);
        if (tty && (el - last_draw > 0.25 || s + 1 == steps)) {
            const int filled = (int)(30 * (s + 1) / steps);
            char bar[31];
            for (int i = 0; i < 30; i++)
                bar[i] = i < filled ? '#' : '-';
            bar[30] = '\0';
            fprintf(stderr, "\r[%s] %lld/%lld loss %.4f std %.3f %.0f img/s ETA %s ", bar,
                    (long long)(s + 1), (long long)steps, loss, tstd, ips, eta);
            last_draw = el;
        } else if (!tty && !o->quiet && ((s + 1) % log_every == 0 || s + 1 == steps)) {
            fprintf(stderr, "step %lld/%lld loss %.5f target_std %.4f lr %.2e %.0f img/s ETA %s\n",
                    (long long)(s + 1), (long long)steps, loss, tstd, lr, ips, eta);
        }
        res->last_loss = loss;
        res->last_std = tstd;
        if (o->out_dir && o->save_every > 0 && (s + 1) % o->save_every == 0 && s + 1 < steps) {
            fflush(csv);
            snprintf(path, sizeof path, "%s/checkpoint.safetensors", o->out_dir);
            CHECK(ijepa_trainer_save(tr, path));
        }
    }
    if (tty)
        fputc('\n', stderr);
    res->steps = steps - s0;
    res->seconds = ex_now() - t0;
    res->images_per_s = (double)((steps - s0) * B) / res->seconds;
    if (o->out_dir) {
        fclose(csv);
        snprintf(path, sizeof path, "%s/loss.png", o->out_dir);
        if (plot_curve(path, losses, steps - s0) != 0)
            fprintf(stderr, "%s: cannot write %s\n", ex_prog, path);
        snprintf(path, sizeof path, "%s/masks.png", o->out_dir);
        save_masks(tr, cfg, x, path);
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", o->out_dir);
        CHECK(ijepa_trainer_save(tr, path));
    }
    free(x);
    free(losses);
    return tr;
}
