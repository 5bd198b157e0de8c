/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/trainloop.h, the pretraining loop of the examples.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
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

void ex_feed_slice(ex_feed *f, int64_t batch, int64_t step, int64_t offset, int64_t count)
{
    if (offset == 0 && count == batch)
        return; /* the whole batch (one rank): the feed as without ranks, replay included */
    f->sliced = 1;
    f->slice_offset = offset;
    f->slice_count = count;
    if (f->ds && count > 0)
        CHECK(ijepa_dataset_set_slice(f->ds, step * batch, batch, offset, count));
}

uint64_t ex_feed_id(const ex_feed *f)
{
    const int64_t n = ex_feed_size(f);
    uint64_t h = ex_hash(EX_HASH_SEED, &n, sizeof n);
    if (f->ds) {
        for (int64_t i = 0; i < n; i++) {
            const char *p = ijepa_dataset_path(f->ds, i);
            h = ex_hash(h, p, strlen(p) + 1);
        }
        return h;
    }
    return ex_hash(h, f->fm->pixels, (size_t)(n * f->fm->rows * f->fm->cols));
}

void ex_feed_next(ex_feed *f, int64_t batch, float *x)
{
    const int64_t lo = f->sliced ? f->slice_offset : 0;
    const int64_t hi = f->sliced ? f->slice_offset + f->slice_count : batch;
    if (f->ds) { /* decoded ahead by the dataset's worker threads */
        if (hi > lo)
            CHECK(ijepa_dataset_next_batch(f->ds, hi - lo, x, NULL));
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
        if (x && b >= lo && b < hi) /* the positions advance for every image of the batch */
            fmnist_transform(fm, i, f->cfg, f->train, fmnist_crop_seed(f->seed, f->position),
                             x + (b - lo) * img * img);
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

#define LOG_HEADER                                                                         \
    "step,epoch,loss,target_std,lr,weight_decay,momentum,grad_norm,n_context,n_target,"   \
    "images_per_s,elapsed_s\n"

/* log.csv for a run that starts after step s0: a new file, or (s0 > 0) the
 * rows of an existing one up to step s0, which the run then continues (a
 * run killed after its last save logged steps that the resumed run trains
 * again: those rows go). */
static FILE *open_log(const char *path, int64_t s0)
{
    FILE *old = s0 > 0 ? fopen(path, "r") : NULL;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(old ? tmp : path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", ex_prog, old ? tmp : path,
                strerror(errno));
        exit(1);
    }
    fputs(LOG_HEADER, f);
    if (old) {
        char line[1024];
        int first = 1;
        while (fgets(line, sizeof line, old)) {
            char *end;
            const long long step = strtoll(line, &end, 10);
            if (!first && end != line && *end == ',' && step >= 1 && step <= s0)
                fputs(line, f);
            first = 0;
        }
        fclose(old);
        if (fclose(f) != 0 || rename(tmp, path) != 0) {
            fprintf(stderr, "%s: cannot write %s: %s\n", ex_prog, path, strerror(errno));
            exit(1);
        }
        f = fopen(path, "a");
        if (!f) {
            fprintf(stderr, "%s: cannot write %s: %s\n", ex_prog, path, strerror(errno));
            exit(1);
        }
    }
    return f;
}

static void add_file(ex_train_result *res, const char *name)
{
    const size_t n = strlen(res->files);
    snprintf(res->files + n, sizeof res->files - n, "%s%s", n ? "," : "", name);
}

/* The masks of the last step over the first of the nx images of its batch
 * that x holds. */
static int save_masks(ijepa_trainer *tr, const ijepa_config *cfg, float *x, int64_t nx,
                      const char *path)
{
    const int32_t *ctxm, *tgtm;
    int64_t nc, nt, bm, M, p, img, C;
    CHECK(ijepa_trainer_masks(tr, &ctxm, &nc, &tgtm, &nt, &bm));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PATCH_SIZE, &p));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_NUM_TARGETS, &M));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &C));
    const int64_t show = nx < 6 ? nx : 6;
    for (int64_t b = 1; b < show && C > 1; b++) /* first channel only, [B, img, img] */
        memmove(x + b * img * img, x + b * C * img * img, (size_t)(img * img) * sizeof(float));
    if (show < 1) /* a rank 0 with no image of the batch (more ranks than images) */
        return -1;
    if (plot_masks(path, x, (int)show, (int)img, (int)(img / p), (int)p, ctxm, nc, tgtm, M, bm,
                   nt) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", ex_prog, path, strerror(errno));
        return -1;
    }
    return 0;
}

ijepa_trainer *ex_train(ijepa_context *ctx, ijepa_config *cfg, ex_feed *feed,
                        const ex_train_opts *o, ex_train_result *res)
{
    int64_t warm;
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, o->steps));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_WARMUP_STEPS, &warm));
    if (warm > o->steps)
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, o->steps / 10));
    return ex_train_scheduled(ctx, cfg, feed, o, res);
}

ijepa_trainer *ex_train_scheduled(ijepa_context *ctx, const ijepa_config *cfg, ex_feed *feed,
                                  const ex_train_opts *o, ex_train_result *res)
{
    const int64_t steps = o->steps;
    int64_t B, img, C;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &C));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    ex_dist *dist = o->dist;
    const int root = !dist || dist->rank == 0; /* the process that writes and prints */
    if (o->out_dir && root) /* before the work: a bad --out fails at once */
        ex_mkdir(o->out_dir);
    int64_t off = 0, cnt = B;                  /* this process's slice of each batch */
    if (dist) {
        ex_dist_slice(dist->rank, dist->size, B, &off, &cnt);
        dist->same_run(dist, cfg, ex_feed_id(feed), steps);
    }
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
    if (dist) {
        dist->agree(dist, tr); /* the same start (the same --resume file) */
        ex_feed_slice(feed, B, s0, off, cnt);
    }

    FILE *csv = NULL;
    char path[4096];
    memset(res, 0, sizeof *res);
    if (o->out_dir && root) {
        snprintf(path, sizeof path, "%s/log.csv", o->out_dir);
        csv = open_log(path, s0);
    }
    const int quiet = o->quiet || !root;
    const int tty = !quiet && isatty(2);
    const int64_t log_every = steps / 20 > 0 ? steps / 20 : 1;
    float *x = ex_malloc((size_t)(B * C * img * img) * sizeof(float));
    double *losses = ex_malloc((size_t)steps * sizeof *losses);
    int warned = 0;
    double best_std = 0, t0 = ex_now(), last_draw = 0;
    for (int64_t s = 0; s < steps; s++) {
        if (s == s0)
            t0 = ex_now(); /* time only the steps this run trains */
        /* resuming: the batches of the steps trained before are replayed, not
         * trained (a folder's slice already starts at step s0) */
        if (s < s0 && feed->ds && feed->sliced)
            continue;
        ex_feed_next(feed, B, s < s0 && !feed->ds ? NULL : x);
        if (s < s0)
            continue;
        double loss, tstd, lr, wd, mom, gn, nc, nt;
        if (dist) { /* my slice, the sums over the ranks, the same update everywhere */
            CHECK(ijepa_trainer_compute(tr, x, off, cnt, B));
            dist->reduce(dist, tr);
            CHECK(ijepa_trainer_apply(tr, &loss));
            if (dist->check_every > 0 && (s + 1) % dist->check_every == 0 && s + 1 < steps)
                dist->agree(dist, tr);
        } else {
            CHECK(ijepa_trainer_step(tr, x, B, &loss));
        }
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
        if (!warned && !quiet && s > 10 && tstd < 0.1 * best_std) {
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
        } else if (!tty && !quiet && ((s + 1) % log_every == 0 || s + 1 == steps)) {
            fprintf(stderr, "step %lld/%lld loss %.5f target_std %.4f lr %.2e %.0f img/s ETA %s\n",
                    (long long)(s + 1), (long long)steps, loss, tstd, lr, ips, eta);
        }
        res->last_loss = loss;
        res->last_std = tstd;
        if (csv && o->save_every > 0 && (s + 1) % o->save_every == 0 && s + 1 < steps) {
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
    if (dist) {
        res->comm_seconds = dist->comm_seconds;
        dist->agree(dist, tr); /* what rank 0 saves is every rank's state */
    }
    if (csv) {
        if (fclose(csv) != 0) {
            fprintf(stderr, "%s: cannot write %s/log.csv: %s\n", ex_prog, o->out_dir,
                    strerror(errno));
            exit(1);
        }
        add_file(res, "log.csv");
        if (steps - s0 >= 2) {
            snprintf(path, sizeof path, "%s/loss.png", o->out_dir);
            if (plot_curve(path, losses, steps - s0) == 0)
                add_file(res, "loss.png");
            else
                fprintf(stderr, "%s: cannot write %s: %s\n", ex_prog, path, strerror(errno));
        } else {
            snprintf(res->note, sizeof res->note, " (no loss.png: a curve needs 2 steps)");
        }
        snprintf(path, sizeof path, "%s/masks.png", o->out_dir);
        if (save_masks(tr, cfg, x, cnt, path) == 0) {
            add_file(res, "masks.png");
        } else if (cnt == 0) {
            const size_t n = strlen(res->note);
            snprintf(res->note + n, sizeof res->note - n,
                     " (no masks.png: rank 0 computed no image of the batch)");
        }
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", o->out_dir);
        CHECK(ijepa_trainer_save(tr, path));
        add_file(res, "checkpoint.safetensors");
    }
    free(x);
    free(losses);
    return tr;
}
