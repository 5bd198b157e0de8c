/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the checkpoint writer (checkpoint.h) and its atomic save.
 * The configuration text is the config's (ijepa_config_to_text()), the
 * byte order and checksums are checkpoint_format.c's.
 *
 * A writer holds tensor names, shapes and borrowed data pointers (from
 * tensor tables or one tensor at a time) and metadata; with a configuration
 * it writes a libijepa file, without one a plain safetensors file. A save
 * makes two passes over the borrowed buffers: the first computes the CRC-32
 * of the data section (it goes into the header, which precedes the data),
 * the second writes. Floats go through a staging buffer in little-endian
 * byte order, so the file is the same on any host.
 *
 * Atomic replacement: <path>.tmp-<pid>-<writer>-<n>-<nanoseconds> is created
 * with O_EXCL in the target's directory and locked (flock) for as long as
 * it exists, written, fsync'ed and closed, renamed over <path>, and the
 * directory is fsync'ed. Any failure before the rename unlinks the temporary
 * file, so the previous file at <path> stays intact. A save first removes
 * the temporary files of <path> that an interrupted save left: names of that
 * exact pattern whose lock nobody holds and which have not changed for
 * STALE_SECONDS (see remove_stale()).
 */
#define _DEFAULT_SOURCE /* flock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "checkpoint_format.h"
#include "checkpoint_internal.h"
#include "config_internal.h"

/* A temporary file that nobody holds locked and that has not changed for
 * this long is an interrupted save's. */
#define STALE_SECONDS 60

ijepa__ckpt_io ijepa__ckpt_io_hooks = {write, fsync, rename, STALE_SECONDS};

void ijepa__ckpt_io_reset(void)
{
    ijepa__ckpt_io_hooks.write = write;
    ijepa__ckpt_io_hooks.fsync = fsync;
    ijepa__ckpt_io_hooks.rename = rename;
    ijepa__ckpt_io_hooks.stale_seconds = STALE_SECONDS;
}

typedef struct wtensor {
    char *name;
    int32_t ndim;
    int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS];
    int64_t numel;
    const float *src;
} wtensor;

struct ijepa_checkpoint_writer {
    ijepa__err err;
    int libijepa;                    /* a configuration was given */
    char *config_text;
    int64_t step;
    uint64_t seed;
    wtensor *t;
    int64_t n, cap;
    int64_t *hash;                   /* [hcap] tensor index + 1, 0: free */
    int64_t hcap;
    char **mkey, **mval;             /* [nmeta] metadata set by the caller */
    int64_t nmeta;
    unsigned saves;                  /* temporary files tried, for unique names */
};

#define MAX_NAME 1000
#define MAX_META IJEPA_CHECKPOINT_MAX_TENSORS
#define STAGE_FLOATS 65536

/* The metadata keys the library writes itself. */
static const char *const RESERVED[] = {"format", "ijepa.format_version", "ijepa.library_version",
                                       "ijepa.config", "ijepa.step", "ijepa.seed",
                                       "ijepa.checksum", "ijepa.metadata_checksum"};

// --- building -----------------------------------------------------------------------------------

int ijepa_checkpoint_writer_create(ijepa_checkpoint_writer **out, const ijepa_config *cfg,
                                   int64_t step)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (step < 0 || step > IJEPA_CHECKPOINT_MAX_STEP || (!cfg && step != 0))
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "step %lld is outside [0, %lld]%s", (long long)step,
                                (long long)IJEPA_CHECKPOINT_MAX_STEP,
                                cfg ? "" : " (a file without a configuration has step 0)");
    ijepa_checkpoint_writer *w = calloc(1, sizeof *w);
    char *text = NULL;
    if (!w || (cfg && ijepa__config_text(cfg, &text) < 0)) {
        free(w);
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate the writer");
    }
    w->libijepa = cfg != NULL;
    w->config_text = text;
    w->step = step;
    w->seed = cfg ? (uint64_t)ijepa__cfg_int(cfg, IJEPA_CFG_SEED) : 0;
    *out = w;
    return IJEPA_OK;
}

void ijepa_checkpoint_writer_free(ijepa_checkpoint_writer *w)
{
    if (!w)
        return;
    for (int64_t i = 0; i < w->n; i++)
        free(w->t[i].name);
    for (int64_t i = 0; i < w->nmeta; i++) {
        free(w->mkey[i]);
        free(w->mval[i]);
    }
    free(w->mkey);
    free(w->mval);
    free(w->t);
    free(w->hash);
    free(w->config_text);
    free(w);
}

/* Strict UTF-8 (what JSON text must be): no overlong forms, surrogates or
 * code points past U+10FFFF. */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned c = *p;
        int n;
        unsigned min, cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Slot of name in the hash: where it is, or the free slot it would take. */
static int64_t hash_slot(const ijepa_checkpoint_writer *w, const char *name)
{
    int64_t i = (int64_t)(hash_str(name) & (uint64_t)(w->hcap - 1));
    while (w->hash[i] && strcmp(w->t[w->hash[i] - 1].name, name))
        i = (i + 1) & (w->hcap - 1);
    return i;
}

/* Room for `more` tensors in the list and the hash (load at most 1/2). */
static int reserve(ijepa_checkpoint_writer *w, int64_t more)
{
    ijepa__err *e = &w->err;
    if (more > IJEPA_CHECKPOINT_MAX_TENSORS - w->n)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "%lld tensors would exceed the limit of %d a checkpoint may hold",
                           (long long)(w->n + more), IJEPA_CHECKPOINT_MAX_TENSORS);
    const int64_t need = w->n + more;
    if (need > w->cap) {
        const int64_t cap = need > 2 * w->cap ? need : 2 * w->cap;
        wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t)
            return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot grow the tensor list");
        w->t = t;
        w->cap = cap;
    }
    if (2 * need >= w->hcap) {
        int64_t hcap = 64;
        while (2 * need >= hcap)
            hcap *= 2;
        int64_t *h = calloc((size_t)hcap, sizeof *h);
        if (!h)
            return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot grow the name index");
        free(w->hash);
        w->hash = h;
        w->hcap = hcap;
        for (int64_t i = 0; i < w->n; i++)
            w->hash[hash_slot(w, w->t[i].name)] = i + 1;
    }
    return IJEPA_OK;
}

/* Append tensor name (taken over: freed on failure) after the first
 * `pending` names added since the last commit; duplicates of the committed
 * and pending names are refused. */
/* name for a message: at most 120 bytes of it, each byte outside printable
 * ASCII as \xNN, so that a message stays one line of text whatever the
 * name holds (invalid UTF-8, control bytes). */
static const char *shown(const char *name, char *buf, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; name[i] && i < 120 && o + 5 < n; i++) {
        const unsigned char c = (unsigned char)name[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
    }
    buf[o] = '\0';
    return buf;
}

static int append(ijepa_checkpoint_writer *w, char *name, int64_t pending, int32_t ndim,
                  const int64_t *dims, int64_t numel, const float *src)
{
    ijepa__err *e = &w->err;
    const char *why = !*name                          ? "is empty"
                      : strlen(name) > MAX_NAME       ? "is longer than 1000 bytes"
                      : !strcmp(name, "__metadata__") ? "is reserved"
                      : !utf8_ok(name)                ? "is not valid UTF-8"
                                                      : NULL;
    if (why) {
        char buf[512];
        const int rc = ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "tensor name '%s' %s",
                                   shown(name, buf, sizeof buf), why);
        free(name);
        return rc;
    }
    const int64_t slot = hash_slot(w, name);
    if (w->hash[slot]) {
        const int rc = ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "tensor '%.120s' is already added",
                                   name);
        free(name);
        return rc;
    }
    wtensor *d = &w->t[w->n + pending];
    d->name = name;
    d->ndim = ndim;
    for (int i = 0; i < IJEPA_CHECKPOINT_MAX_DIMS; i++)
        d->dims[i] = i < ndim ? dims[i] : 1;
    d->numel = numel;
    d->src = src;
    w->hash[slot] = w->n + pending + 1;
    return IJEPA_OK;
}

/* Forget the `pending` names appended since the last commit. */
static void rollback(ijepa_checkpoint_writer *w, int64_t pending)
{
    for (int64_t j = 0; j < pending; j++)
        free(w->t[w->n + j].name);
    /* rebuild: removing from a linear-probing table breaks its chains */
    memset(w->hash, 0, (size_t)w->hcap * sizeof *w->hash);
    for (int64_t i = 0; i < w->n; i++)
        w->hash[hash_slot(w, w->t[i].name)] = i + 1;
}

int ijepa_checkpoint_writer_add(ijepa_checkpoint_writer *w, const char *prefix,
                                const ijepa_tensor_table *table, const float *data)
{
    if (!w)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "writer is NULL");
    ijepa__err *e = &w->err;
    ijepa__enter(e, __func__);
    if (!prefix || !table || !data)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "prefix, table and data must not be NULL");
    const size_t plen = strlen(prefix);
    if (plen > MAX_NAME - 65)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "prefix must have at most %d bytes",
                           MAX_NAME - 65);
    int rc = reserve(w, table->count);
    if (rc < 0)
        return rc;
    for (int64_t k = 0; k < table->count; k++) {
        const ijepa__tensor *s = &table->t[k];
        const size_t len = plen + 1 + strlen(s->name);
        char *name = malloc(len + 1);
        if (!name) {
            rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot copy a tensor name");
        } else {
            if (plen)
                snprintf(name, len + 1, "%s.%s", prefix, s->name);
            else
                snprintf(name, len + 1, "%s", s->name);
            rc = append(w, name, k, s->ndim, s->dims, s->numel, data + s->offset);
        }
        if (rc < 0) {
            rollback(w, k);
            return rc;
        }
    }
    w->n += table->count;
    return IJEPA_OK;
}

int ijepa_checkpoint_writer_add_tensor(ijepa_checkpoint_writer *w, const char *name,
                                       int32_t ndim, const int64_t *dims, const float *data)
{
    if (!w)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "writer is NULL");
    ijepa__err *e = &w->err;
    ijepa__enter(e, __func__);
    if (!name || (ndim > 0 && !dims))
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "name and dims must not be NULL");
    if (ndim < 0 || ndim > IJEPA_CHECKPOINT_MAX_DIMS)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "ndim %d is outside [0, %d]", (int)ndim,
                           IJEPA_CHECKPOINT_MAX_DIMS);
    int64_t numel = 1;
    for (int32_t i = 0; i < ndim; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && numel > (INT64_MAX / 8) / dims[i]))
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                               "dims[%d] = %lld is negative or overflows the element count",
                               (int)i, (long long)dims[i]);
        numel *= dims[i];
    }
    if (!data && numel > 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "data is NULL");
    int rc = reserve(w, 1);
    if (rc < 0)
        return rc;
    char *copy = strdup(name);
    if (!copy)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot copy a tensor name");
    if ((rc = append(w, copy, 0, ndim, dims, numel, data)) < 0)
        return rc;
    w->n++;
    return IJEPA_OK;
}

int ijepa_checkpoint_writer_set_metadata(ijepa_checkpoint_writer *w, const char *key,
                                         const char *value)
{
    if (!w)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "writer is NULL");
    ijepa__err *e = &w->err;
    ijepa__enter(e, __func__);
    if (!key || !value)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "key and value must not be NULL");
    char buf[512];
    if (!*key || !utf8_ok(key) || !utf8_ok(value))
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "metadata key '%s' is empty, or it or its value is not valid "
                           "UTF-8", shown(key, buf, sizeof buf));
    for (size_t i = 0; i < sizeof RESERVED / sizeof RESERVED[0]; i++) {
        if (strcmp(key, RESERVED[i]))
            continue;
        /* a plain file may say its format, just not claim to be libijepa's */
        if (i == 0 && !w->libijepa && strcmp(value, IJEPA__CKPT_FORMAT))
            break;
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "metadata key '%s'%s is the library's own", key,
                           i == 0 ? (w->libijepa ? "" : " = \"libijepa\"") : "");
    }
    char *v = strdup(value);
    if (!v)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot copy the metadata value");
    for (int64_t i = 0; i < w->nmeta; i++)
        if (!strcmp(w->mkey[i], key)) {
            free(w->mval[i]);
            w->mval[i] = v;
            return IJEPA_OK;
        }
    if (w->nmeta == MAX_META) {
        free(v);
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "more than %d metadata keys", MAX_META);
    }
    char *k = strdup(key);
    char **mk = realloc(w->mkey, (size_t)(w->nmeta + 1) * sizeof *mk);
    if (mk)
        w->mkey = mk;
    char **mv = mk ? realloc(w->mval, (size_t)(w->nmeta + 1) * sizeof *mv) : NULL;
    if (mv)
        w->mval = mv;
    if (!k || !mk || !mv) {
        free(k);
        free(v);
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot grow the metadata");
    }
    w->mkey[w->nmeta] = k;
    w->mval[w->nmeta] = v;
    w->nmeta++;
    return IJEPA_OK;
}

// --- the bytes ----------------------------------------------------------------------------------

/* The metadata object: the caller's keys, then the library's. */
static json_t *metadata_json(const ijepa_checkpoint_writer *w, uint32_t crc)
{
    json_t *meta = json_object();
    int bad = !meta;
    for (int64_t i = 0; !bad && i < w->nmeta; i++)
        bad = json_object_set_new(meta, w->mkey[i], json_string(w->mval[i])) < 0;
    char sum[32];
    snprintf(sum, sizeof sum, "crc32:%08x", (unsigned)crc);
    if (!bad && !w->libijepa) {
        bad = json_object_set_new(meta, "ijepa.checksum", json_string(sum)) < 0;
    } else if (!bad) {
        char step[32], seed[32], msum[32];
        snprintf(step, sizeof step, "%lld", (long long)w->step);
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)w->seed);
        /* in the order of ijepa__meta_summed */
        const char *const v[IJEPA__NMETA_SUMMED] = {
            IJEPA__CKPT_FORMAT, IJEPA__CKPT_FORMAT_VERSION, IJEPA_VERSION_STRING,
            w->config_text, step, seed, sum};
        for (int i = 0; !bad && i < IJEPA__NMETA_SUMMED; i++)
            bad = json_object_set_new(meta, ijepa__meta_summed[i], json_string(v[i])) < 0;
        snprintf(msum, sizeof msum, "crc32:%08x", (unsigned)ijepa__metadata_crc(v));
        bad = bad || json_object_set_new(meta, "ijepa.metadata_checksum", json_string(msum)) < 0;
    }
    if (bad) {
        json_decref(meta);
        return NULL;
    }
    return meta;
}

/* The JSON header, space-padded to a multiple of 8 bytes; *len its length. */
static char *header_json(const ijepa_checkpoint_writer *w, uint32_t crc, size_t *len)
{
    json_t *root = json_object(), *meta = metadata_json(w, crc);
    int bad = !root || !meta;
    if (!bad)
        bad = json_object_set_new(root, "__metadata__", meta) < 0;
    else
        json_decref(meta);
    uint64_t off = 0;
    for (int64_t i = 0; !bad && i < w->n; i++) {
        const wtensor *t = &w->t[i];
        json_t *o = json_object(), *shape = json_array(), *offs = json_array();
        bad = !o || !shape || !offs;
        for (int32_t d = 0; !bad && d < t->ndim; d++)
            bad = json_array_append_new(shape, json_integer((json_int_t)t->dims[d])) < 0;
        const uint64_t end = off + (uint64_t)t->numel * 4u;
        bad = bad || json_array_append_new(offs, json_integer((json_int_t)off)) < 0 ||
              json_array_append_new(offs, json_integer((json_int_t)end)) < 0;
        if (!bad) {
            bad = json_object_set_new(o, "dtype", json_string("F32")) < 0;
            bad = bad || json_object_set_new(o, "shape", shape) < 0;
            shape = NULL;
            bad = bad || json_object_set_new(o, "data_offsets", offs) < 0;
            offs = NULL;
            bad = bad || json_object_set_new(root, t->name, o) < 0;
            o = NULL;
        }
        json_decref(o);
        json_decref(shape);
        json_decref(offs);
        off = end;
    }
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        return NULL;
    const size_t n = strlen(s), padded = (n + 7) / 8 * 8;
    char *p = realloc(s, padded + 1);
    if (!p) {
        free(s);
        return NULL;
    }
    memset(p + n, ' ', padded - n);
    p[padded] = '\0';
    *len = padded;
    return p;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        const ssize_t r = ijepa__ckpt_io_hooks.write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int io_fail(ijepa__err *e, const char *what, const char *path, int err)
{
    char eb[128];
    if (strerror_r(err, eb, sizeof eb) != 0)
        snprintf(eb, sizeof eb, "error %d", err);
    return ijepa__fail(e, IJEPA_ERR_IO, "cannot %s '%s': %s", what, path, eb);
}

// --- temporary files ----------------------------------------------------------------------------

/* Does name follow "<base>.tmp-<pid>-<hex>-<n>-<hex>", the names the save
 * below makes for base? */
static int temp_name_of(const char *name, const char *base)
{
    const size_t blen = strlen(base);
    if (strncmp(name, base, blen) || strncmp(name + blen, ".tmp-", 5))
        return 0;
    const char *p = name + blen + 5;
    for (int field = 0; field < 4; field++) {
        const char *start = p;
        const int hex = field == 1 || field == 3;
        while ((*p >= '0' && *p <= '9') || (hex && *p >= 'a' && *p <= 'f'))
            p++;
        if (p == start || p - start > 20 || *p != (field < 3 ? '-' : '\0'))
            return 0;
        p++;
    }
    return 1;
}

/*
 * Remove the temporary files an interrupted save to dir/base left (a
 * process killed between creating and renaming one). A save holds an
 * exclusive flock() on its temporary file from its creation to its rename,
 * and the kernel drops the lock when the process dies, however it dies. So a
 * file is stale when it has base's temporary name pattern, is a regular
 * file, its lock can be taken, and it has not been modified for
 * STALE_SECONDS (a second guard for file systems whose locks other hosts
 * do not see). Anything else is left alone: a concurrent save (this process
 * or another) holds its lock; a file system without flock() support keeps
 * its orphans. Best effort: failures are ignored, the save goes on.
 */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    const int dfd = dirfd(d);
    const time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!temp_name_of(de->d_name, base))
            continue;
        const int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            now - st.st_mtime >= ijepa__ckpt_io_hooks.stale_seconds &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dfd, de->d_name, 0);
        close(fd); /* drops the lock */
    }
    closedir(d);
}

/* Create and lock a fresh temporary file for path; -1 with errno set. */
static int create_temp(ijepa_checkpoint_writer *w, const char *path, char *tmp, size_t tmplen)
{
    for (int tries = 0; tries < 100; tries++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(tmp, tmplen, "%s.tmp-%ld-%lx-%u-%lx", path, (long)getpid(),
                 (unsigned long)(uintptr_t)w, w->saves++, (unsigned long)ts.tv_nsec);
        const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return -1;
        }
        /* Between the open and the lock a cleaner could have taken the file
         * for an orphan and removed it: then the name no longer leads to
         * our file, and we start over under a new name. */
        if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
            close(fd);
            continue;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(tmp, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            return fd;
        close(fd);
    }
    errno = EEXIST;
    return -1;
}

int ijepa_checkpoint_writer_save(ijepa_checkpoint_writer *w, const char *path)
{
    if (!w)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "writer is NULL");
    ijepa__err *e = &w->err;
    ijepa__enter(e, __func__);
    if (!path || !*path)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "path is NULL or empty");
    unsigned char *stage = malloc((size_t)STAGE_FLOATS * 4u);
    if (!stage)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the staging buffer");
    /* pass 1: checksum of the data section, and every value finite, as a
     * reader requires (checkpoint_read.c): refused before anything is
     * written */
    uint32_t crc = ijepa__crc32(0, NULL, 0);
    for (int64_t i = 0; i < w->n; i++)
        for (int64_t k = 0; k < w->t[i].numel; k += STAGE_FLOATS) {
            const int64_t m = w->t[i].numel - k < STAGE_FLOATS ? w->t[i].numel - k : STAGE_FLOATS;
            const float *src = w->t[i].src + k;
            int bad = 0;
            for (int64_t j = 0; j < m; j++)
                bad |= !isfinite(src[j]);
            if (bad) {
                int64_t j = 0;
                while (isfinite(src[j]))
                    j++;
                free(stage);
                return ijepa__fail(e, IJEPA_ERR_NUMERIC,
                                   "tensor '%.120s' holds a non-finite value (%s) at element "
                                   "%lld, which no reader accepts; nothing was written",
                                   w->t[i].name, isnan(src[j]) ? "NaN" : "infinite",
                                   (long long)(k + j));
            }
            ijepa__le_put_f32(stage, src, m);
            crc = ijepa__crc32(crc, stage, (uint64_t)m * 4u);
        }
    size_t hlen = 0;
    char *header = header_json(w, crc, &hlen);
    const size_t plen = strlen(path);
    char *tmp = malloc(plen + 96);
    char *dir = malloc(plen + 2);
    if (!header || !tmp || !dir) {
        free(stage);
        free(header);
        free(tmp);
        free(dir);
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot build the header");
    }
    int fd = -1, rc = IJEPA_OK;
    if (hlen > IJEPA_CHECKPOINT_MAX_HEADER) {
        rc = ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                         "the header would have %zu bytes, more than the %d a reader accepts",
                         hlen, IJEPA_CHECKPOINT_MAX_HEADER);
        goto done;
    }
    /* the directory, for its fsync and the stale temporary files */
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    /* never replace a directory, device, FIFO or socket */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        rc = ijepa__fail(e, IJEPA_ERR_IO, "cannot replace '%s': not a regular file", path);
        goto done;
    }
    remove_stale(dir, slash ? slash + 1 : path);
    if ((fd = create_temp(w, path, tmp, plen + 96)) < 0) {
        rc = io_fail(e, "create a temporary file for", path, errno);
        goto done;
    }
    unsigned char len8[8];
    ijepa__le_put_u64(len8, (uint64_t)hlen);
    if (write_all(fd, len8, 8) < 0 || write_all(fd, header, hlen) < 0) {
        rc = io_fail(e, "write", tmp, errno);
        goto fail;
    }
    /* pass 2: the data */
    for (int64_t i = 0; i < w->n; i++)
        for (int64_t k = 0; k < w->t[i].numel; k += STAGE_FLOATS) {
            const int64_t m = w->t[i].numel - k < STAGE_FLOATS ? w->t[i].numel - k : STAGE_FLOATS;
            ijepa__le_put_f32(stage, w->t[i].src + k, m);
            if (write_all(fd, stage, (size_t)m * 4u) < 0) {
                rc = io_fail(e, "write", tmp, errno);
                goto fail;
            }
        }
    if (ijepa__ckpt_io_hooks.fsync(fd) != 0) {
        rc = io_fail(e, "sync", tmp, errno);
        goto fail;
    }
    /* rename while the file is still open and locked: no cleaner can take
     * it for an orphan before it has its final name */
    if (ijepa__ckpt_io_hooks.rename(tmp, path) != 0) {
        rc = io_fail(e, "rename the temporary file to", path, errno);
        goto fail;
    }
    const int cfd = fd;
    fd = -1;
    if (close(cfd) != 0) {
        rc = io_fail(e, "close", path, errno);
        goto done;
    }
    /* make the rename itself durable; file systems that cannot sync a
     * directory say EINVAL */
    const int dfd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NONBLOCK); /* never a FIFO */
    if (dfd < 0) {
        rc = io_fail(e, "open the directory of", path, errno);
        goto done;
    }
    if (ijepa__ckpt_io_hooks.fsync(dfd) != 0 && errno != EINVAL) {
        const int err = errno;
        close(dfd);
        char eb[128];
        if (strerror_r(err, eb, sizeof eb) != 0)
            snprintf(eb, sizeof eb, "error %d", err);
        rc = ijepa__fail(e, IJEPA_ERR_IO,
                         "'%s' was replaced but its directory could not be synced: %s", path,
                         eb);
        goto done;
    }
    close(dfd);
    goto done;
fail:
    /* unlink first: the name goes before the lock does */
    unlink(tmp);
    if (fd >= 0)
        close(fd);
done:
    free(stage);
    free(header);
    free(tmp);
    free(dir);
    return rc;
}
