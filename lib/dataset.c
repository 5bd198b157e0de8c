/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the directory dataset of dataset.h: recursive scan, sorted
 * paths, per-epoch seeded permutations, and a ring of decode slots filled by
 * worker threads.
 *
 * Ring: the dataset's own stream is numbered q = 0, 1, ... (the images
 * this handle gives); q is stream position pos_of(q) (q itself unless a
 * slice is set: then the slice's positions of each group). Slot q % Q holds
 * item q. Workers take items in increasing order (the shared counter
 * `assigned`) while q < consumed + Q, decode and transform into the slot,
 * and mark it ready; the caller takes items in order (`consumed`). What a
 * slot holds depends only on its position, so the output is independent of
 * thread timing. One mutex protects the counters
 * and the slot states; the decoding itself runs unlocked (a slot is written
 * only by the worker that took it, and read by the caller only when ready).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"
#include "image_internal.h"

#define PERM_DOMAIN 0x646174612d70726dULL  /* "data-prm" */
#define CROP_DOMAIN 0x646174612d637270ULL  /* "data-crp" */
#define MAX_DEPTH 128

enum { SLOT_EMPTY = 0, SLOT_BUSY, SLOT_READY };

typedef struct slot {
    int64_t pos;            /* item q held, -1 if none */
    int state;
    int status;             /* result of decoding */
    int64_t index;          /* image index */
    char msg[IJEPA__ERRLEN];
    float *px;              /* C * S * S */
} slot;

struct ijepa_dataset {
    ijepa__err err;
    char **paths;
    int64_t n;
    ijepa__xform xf;
    ijepa__limits lim;
    int64_t C, S, batch_max;
    uint64_t seed;
    int shuffle, on_error;

    int64_t Q;
    slot *slots;
    int64_t consumed, assigned; /* items q taken by the caller, claimed by workers */
    /* item q is stream position start + (q / count) * group + offset + q % count */
    int64_t start, group, offset, count;
    int64_t bad_run;        /* consecutive skipped files */
    int64_t skipped;
    char skip_msg[IJEPA__ERRLEN];

    int64_t perm_epoch[2];
    int64_t *perm[2];
    int perm_next;

    int nworkers, nrunning;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    int stop;
};

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t keyed(uint64_t seed, uint64_t domain, uint64_t v)
{
    return mix64(mix64(seed ^ domain) + v * 0x9e3779b97f4a7c15ULL);
}

// --- scanning ------------------------------------------------------------------

typedef struct plist {
    char **v;
    int64_t n, cap;
} plist;

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    char ext[6];
    size_t len = strlen(dot + 1);
    if (len < 3 || len > 4)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = dot[1 + i];
        ext[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return !strcmp(ext, "png") || !strcmp(ext, "jpg") || !strcmp(ext, "jpeg");
}

static int plist_add(plist *l, char *s)
{
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 256;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return IJEPA_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return IJEPA_OK;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

/* Add the image files below root/rel (rel "" for root) as relative paths. */
static int scan(ijepa__err *e, const char *root, const char *rel, int depth, plist *out)
{
    char *dir = rel[0] ? join(root, rel) : strdup(root);
    if (!dir)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate a path");
    if (depth > MAX_DEPTH) {
        int rc = ijepa__fail(e, IJEPA_ERR_IO, "%s: directories nested deeper than %d", dir,
                             MAX_DEPTH);
        free(dir);
        return rc;
    }
    DIR *d = opendir(dir);
    if (!d) {
        int rc = ijepa__fail(e, IJEPA_ERR_IO, "%s: cannot open directory: %s", dir,
                             strerror(errno));
        free(dir);
        return rc;
    }
    int rc = IJEPA_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = ijepa__fail(e, IJEPA_ERR_IO, "%s: cannot read directory: %s", dir,
                                 strerror(errno));
            break;
        }
        if (de->d_name[0] == '.')
            continue;
        char *full = join(dir, de->d_name);
        char *sub = rel[0] ? join(rel, de->d_name) : strdup(de->d_name);
        if (!full || !sub) {
            free(full);
            free(sub);
            rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate a path");
            break;
        }
        struct stat st;
        int is_dir = 0, is_file = 0;
        if (lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                is_dir = 1;
            else if (S_ISREG(st.st_mode))
                is_file = 1;
            else if (S_ISLNK(st.st_mode) && stat(full, &st) == 0 && S_ISREG(st.st_mode))
                is_file = 1; /* links to files only: no directory cycles */
        }
        free(full);
        if (is_dir) {
            rc = scan(e, root, sub, depth + 1, out);
            free(sub);
        } else if (is_file && has_image_ext(de->d_name)) {
            rc = plist_add(out, sub);
            if (rc < 0) {
                free(sub);
                rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the file list");
            }
        } else {
            free(sub);
        }
        if (rc < 0)
            break;
    }
    closedir(d);
    free(dir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// --- the stream ------------------------------------------------------------------

/* Stream position of item q. */
static int64_t pos_of(const ijepa_dataset *ds, int64_t q)
{
    return ds->start + q / ds->count * ds->group + ds->offset + q % ds->count;
}

/* Image index of position p. Called with the mutex held (or no workers). */
static int64_t index_of(ijepa_dataset *ds, int64_t p)
{
    const int64_t e = p / ds->n, i = p % ds->n;
    if (!ds->shuffle)
        return i;
    for (int k = 0; k < 2; k++)
        if (ds->perm_epoch[k] == e)
            return ds->perm[k][i];
    const int k = ds->perm_next;
    ds->perm_next ^= 1;
    int64_t *pm = ds->perm[k];
    for (int64_t j = 0; j < ds->n; j++)
        pm[j] = j;
    ijepa__rng rng;
    ijepa__rng_seed(&rng, keyed(ds->seed, PERM_DOMAIN, (uint64_t)e));
    for (int64_t j = ds->n - 1; j > 0; j--) {
        /* uniform in [0, j] without modulo bias */
        const uint64_t m = (uint64_t)j + 1, reject_below = (0 - m) % m;
        uint64_t x;
        do
            x = ijepa__rng_u64(&rng);
        while (x < reject_below);
        const int64_t r = (int64_t)(x % m);
        const int64_t t = pm[j];
        pm[j] = pm[r];
        pm[r] = t;
    }
    ds->perm_epoch[k] = e;
    return pm[i];
}

/* Decode and transform image idx for position p into s (no lock held). */
static void process(const ijepa_dataset *ds, int64_t p, int64_t idx, slot *s)
{
    ijepa__err e = {NULL}; /* messages are "<path>: <cause>", in this thread's record */
    const char *path = ds->paths[idx];
    uint8_t *buf = NULL;
    int64_t size = 0;
    ijepa_image *img = NULL;
    int rc = ijepa__read_file(&e, path, &ds->lim, &buf, &size);
    if (rc == IJEPA_OK)
        rc = ijepa__image_decode(&e, path, buf, size, ds->C, &ds->lim, &img);
    free(buf);
    if (rc == IJEPA_OK) {
        rc = ijepa__transform(&e, img, &ds->xf, ds->xf.mode,
                              keyed(ds->seed, CROP_DOMAIN, (uint64_t)p), s->px);
        if (rc < 0)
            ijepa__fail(&e, rc, "%s: %s", path, ijepa_last_error());
    }
    ijepa_image_free(img);
    s->index = idx;
    s->status = rc;
    memcpy(s->msg, rc < 0 ? ijepa_last_error() : "", rc < 0 ? sizeof s->msg : 1);
}

static void *worker(void *arg)
{
    ijepa_dataset *ds = arg;
    pthread_mutex_lock(&ds->mu);
    while (!ds->stop) {
        if (ds->assigned >= ds->consumed + ds->Q) {
            pthread_cond_wait(&ds->cv_work, &ds->mu);
            continue;
        }
        const int64_t q = ds->assigned++, p = pos_of(ds, q);
        slot *s = &ds->slots[q % ds->Q];
        s->pos = q;
        s->state = SLOT_BUSY;
        const int64_t idx = index_of(ds, p);
        pthread_mutex_unlock(&ds->mu);
        process(ds, p, idx, s);
        pthread_mutex_lock(&ds->mu);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&ds->cv_done);
    }
    pthread_mutex_unlock(&ds->mu);
    return NULL;
}

static void stop_workers(ijepa_dataset *ds)
{
    if (ds->nrunning == 0)
        return;
    pthread_mutex_lock(&ds->mu);
    ds->stop = 1;
    pthread_cond_broadcast(&ds->cv_work);
    pthread_mutex_unlock(&ds->mu);
    for (int i = 0; i < ds->nrunning; i++)
        pthread_join(ds->threads[i], NULL);
    ds->nrunning = 0;
    ds->stop = 0;
}

static int start_workers(ijepa_dataset *ds)
{
    for (int i = 0; i < ds->nworkers; i++) {
        if (pthread_create(&ds->threads[i], NULL, worker, ds) != 0) {
            stop_workers(ds);
            return IJEPA_ERR_NOMEM;
        }
        ds->nrunning++;
    }
    return IJEPA_OK;
}

/* The ready slot of item q (q in [consumed, consumed + Q)). */
static slot *take(ijepa_dataset *ds, int64_t q)
{
    slot *s = &ds->slots[q % ds->Q];
    if (ds->nrunning == 0) {
        /* no workers: decode here, in order */
        while (ds->assigned <= q) {
            const int64_t a = ds->assigned++, p = pos_of(ds, a);
            slot *t = &ds->slots[a % ds->Q];
            t->pos = a;
            process(ds, p, index_of(ds, p), t);
            t->state = SLOT_READY;
        }
        return s;
    }
    pthread_mutex_lock(&ds->mu);
    while (s->pos != q || s->state != SLOT_READY)
        pthread_cond_wait(&ds->cv_done, &ds->mu);
    pthread_mutex_unlock(&ds->mu);
    return s;
}

static void advance(ijepa_dataset *ds, int64_t k)
{
    if (ds->nrunning)
        pthread_mutex_lock(&ds->mu);
    ds->consumed += k;
    if (ds->nrunning) {
        pthread_cond_broadcast(&ds->cv_work);
        pthread_mutex_unlock(&ds->mu);
    }
}

// --- public API ----------------------------------------------------------------

void ijepa_dataset_free(ijepa_dataset *ds)
{
    if (!ds)
        return;
    stop_workers(ds);
    pthread_mutex_destroy(&ds->mu);
    pthread_cond_destroy(&ds->cv_work);
    pthread_cond_destroy(&ds->cv_done);
    if (ds->slots)
        for (int64_t i = 0; i < ds->Q; i++)
            ijepa__ffree(ds->slots[i].px);
    free(ds->slots);
    for (int64_t i = 0; i < ds->n; i++)
        free(ds->paths[i]);
    free(ds->paths);
    free(ds->perm[0]);
    free(ds->perm[1]);
    free(ds->threads);
    free(ds);
}

int64_t ijepa_dataset_size(const ijepa_dataset *ds) { return ds ? ds->n : 0; }
int64_t ijepa_dataset_skipped(const ijepa_dataset *ds) { return ds ? ds->skipped : 0; }
int64_t ijepa_dataset_position(const ijepa_dataset *ds)
{
    return ds ? pos_of(ds, ds->consumed) : 0;
}

int64_t ijepa_dataset_epoch(const ijepa_dataset *ds)
{
    return ds ? pos_of(ds, ds->consumed) / ds->n : 0;
}

const char *ijepa_dataset_last_skip_error(const ijepa_dataset *ds)
{
    return ds ? ds->skip_msg : "";
}

const char *ijepa_dataset_path(const ijepa_dataset *ds, int64_t index)
{
    return ds && index >= 0 && index < ds->n ? ds->paths[index] : NULL;
}

uint64_t ijepa_dataset_crop_seed(const ijepa_dataset *ds, int64_t position)
{
    return ds ? keyed(ds->seed, CROP_DOMAIN, (uint64_t)position) : 0;
}

static int build(ijepa_dataset *ds, const char *root, const ijepa_config *cfg)
{
    ijepa__err *e = &ds->err;
    int rc = ijepa__xform_from_cfg(e, &ds->xf, cfg);
    if (rc < 0)
        return rc;
    ijepa__limits_from_cfg(&ds->lim, cfg);
    ds->C = ijepa__cfg_int(cfg, IJEPA_CFG_IN_CHANS);
    if (ds->C != 1 && ds->C != 3)
        return ijepa__fail(e, IJEPA_ERR_UNSUPPORTED,
                           "in_chans %lld: images decode to 1 or 3 channels", (long long)ds->C);
    ds->S = ds->xf.size;
    ds->batch_max = ijepa__cfg_int(cfg, IJEPA_CFG_BATCH_SIZE);
    ds->seed = (uint64_t)ijepa__cfg_int(cfg, IJEPA_CFG_SEED);
    ds->shuffle = (int)ijepa__cfg_int(cfg, IJEPA_CFG_DATA_SHUFFLE);
    ds->on_error = (int)ijepa__cfg_int(cfg, IJEPA_CFG_DATA_ON_ERROR);
    ds->nworkers = (int)ijepa__cfg_int(cfg, IJEPA_CFG_DATA_WORKERS);
    ds->Q = ijepa__cfg_int(cfg, IJEPA_CFG_DATA_PREFETCH) * ds->batch_max;

    /* root without trailing slashes (but "/" stays "/") */
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    char *r = strndup(root, rl);
    if (!r)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate a path");
    plist l = {0};
    rc = scan(e, r, "", 0, &l);
    if (rc == IJEPA_OK && l.n == 0)
        rc = ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                         "%s: no .png, .jpg or .jpeg file in this directory tree", r);
    if (rc == IJEPA_OK) {
        qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_str);
        ds->paths = calloc((size_t)l.n, sizeof *ds->paths);
        if (!ds->paths)
            rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the file list");
    }
    if (rc == IJEPA_OK) {
        ds->n = l.n;
        for (int64_t i = 0; i < l.n; i++) {
            /* "/" + "a.png" would give "//a.png": join handles root "/" */
            ds->paths[i] = strcmp(r, "/") ? join(r, l.v[i]) : join("", l.v[i]);
            if (!ds->paths[i]) {
                rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate a path");
                break;
            }
        }
    }
    for (int64_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    free(r);
    if (rc < 0)
        return rc;

    ds->perm[0] = malloc((size_t)ds->n * sizeof(int64_t));
    ds->perm[1] = malloc((size_t)ds->n * sizeof(int64_t));
    ds->slots = calloc((size_t)ds->Q, sizeof *ds->slots);
    ds->threads = calloc((size_t)(ds->nworkers ? ds->nworkers : 1), sizeof *ds->threads);
    if (!ds->perm[0] || !ds->perm[1] || !ds->slots || !ds->threads)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the dataset state");
    ds->perm_epoch[0] = ds->perm_epoch[1] = -1;
    ds->group = ds->count = 1; /* the whole stream: item q is position q */
    for (int64_t i = 0; i < ds->Q; i++) {
        ds->slots[i].pos = -1;
        ds->slots[i].px = ijepa__falloc(ds->C * ds->S * ds->S);
        if (!ds->slots[i].px)
            return ijepa__fail(e, IJEPA_ERR_NOMEM,
                               "cannot allocate %lld decode slots of %lldx%lldx%lld floats",
                               (long long)ds->Q, (long long)ds->C, (long long)ds->S,
                               (long long)ds->S);
    }
    if (start_workers(ds) < 0)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot start %d worker threads", ds->nworkers);
    return IJEPA_OK;
}

int ijepa_dataset_create(ijepa_dataset **out, const char *root, const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!root || !cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "root and cfg must not be NULL");
    ijepa_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate the dataset");
    ijepa__enter(&ds->err, __func__);
    pthread_mutex_init(&ds->mu, NULL);
    pthread_cond_init(&ds->cv_work, NULL);
    pthread_cond_init(&ds->cv_done, NULL);
    int rc = build(ds, root, cfg);
    if (rc < 0) {
        ijepa_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return IJEPA_OK;
}

int ijepa_dataset_next_batch(ijepa_dataset *ds, int64_t batch, float *out, int64_t *indices)
{
    if (!ds)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "dataset is NULL");
    ijepa__err *e = &ds->err;
    ijepa__enter(e, __func__);
    if (!out)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "out is NULL");
    if (batch < 1 || batch > ds->batch_max)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "batch %lld is outside [1, %lld] (batch_size)",
                           (long long)batch, (long long)ds->batch_max);
    const int64_t img_floats = ds->C * ds->S * ds->S;

    if (ds->on_error == IJEPA_DATA_STOP) {
        /* all of the batch first (batch <= Q: the slots exist), then commit */
        for (int64_t b = 0; b < batch; b++) {
            const slot *s = take(ds, ds->consumed + b);
            if (s->status < 0)
                return ijepa__fail(e, s->status, "%s", s->msg);
        }
        for (int64_t b = 0; b < batch; b++) {
            const slot *s = &ds->slots[(ds->consumed + b) % ds->Q];
            memcpy(out + b * img_floats, s->px, (size_t)img_floats * sizeof *out);
            if (indices)
                indices[b] = s->index;
        }
        advance(ds, batch);
        return IJEPA_OK;
    }

    for (int64_t b = 0; b < batch;) {
        const slot *s = take(ds, ds->consumed);
        if (s->status == IJEPA_ERR_FORMAT || s->status == IJEPA_ERR_IO) {
            ds->skipped++;
            ds->bad_run++;
            memcpy(ds->skip_msg, s->msg, sizeof ds->skip_msg);
            advance(ds, 1);
            if (ds->bad_run >= ds->n)
                return ijepa__fail(e, IJEPA_ERR_FORMAT,
                                   "the last %lld files all failed (every image is bad); "
                                   "last: %s", (long long)ds->bad_run, ds->skip_msg);
            continue;
        }
        if (s->status < 0)
            return ijepa__fail(e, s->status, "%s", s->msg);
        memcpy(out + b * img_floats, s->px, (size_t)img_floats * sizeof *out);
        if (indices)
            indices[b] = s->index;
        ds->bad_run = 0;
        b++;
        advance(ds, 1);
    }
    return IJEPA_OK;
}

/* Restart the stream: item 0 is position `start` of the slice layout
 * (group, offset, count). Nothing pending survives. */
static int restart(ijepa_dataset *ds, int64_t start, int64_t group, int64_t offset,
                   int64_t count)
{
    stop_workers(ds);
    for (int64_t i = 0; i < ds->Q; i++) {
        ds->slots[i].pos = -1;
        ds->slots[i].state = SLOT_EMPTY;
    }
    ds->start = start;
    ds->group = group;
    ds->offset = offset;
    ds->count = count;
    ds->consumed = ds->assigned = 0;
    ds->bad_run = 0;
    if (start_workers(ds) < 0)
        return ijepa__fail(&ds->err, IJEPA_ERR_NOMEM,
                           "cannot restart %d worker threads; decoding on the calling thread",
                           ds->nworkers);
    return IJEPA_OK;
}

/* Positions stay below this (item positions are computed in int64). */
#define MAX_POSITION (INT64_MAX / 4)

int ijepa_dataset_set_epoch(ijepa_dataset *ds, int64_t epoch)
{
    if (!ds)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "dataset is NULL");
    ijepa__err *e = &ds->err;
    ijepa__enter(e, __func__);
    if (epoch < 0 || epoch > MAX_POSITION / ds->n)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "epoch %lld is out of range",
                           (long long)epoch);
    return restart(ds, epoch * ds->n, ds->group, ds->offset, ds->count);
}

int ijepa_dataset_set_slice(ijepa_dataset *ds, int64_t position, int64_t group, int64_t offset,
                            int64_t count)
{
    if (!ds)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "dataset is NULL");
    ijepa__err *e = &ds->err;
    ijepa__enter(e, __func__);
    if (position < 0 || position > MAX_POSITION)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "position %lld is out of range",
                           (long long)position);
    if (group < 1 || group > MAX_POSITION || offset < 0 || count < 1 || offset > group - count)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "slice [%lld, %lld + %lld) is not inside a group of %lld positions",
                           (long long)offset, (long long)offset, (long long)count,
                           (long long)group);
    if (count < group && ds->on_error == IJEPA_DATA_SKIP)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "a slice of %lld of %lld positions needs data_on_error = stop: "
                           "skipping a bad file would shift the other slices' images",
                           (long long)count, (long long)group);
    return restart(ds, position, group, offset, count);
}
