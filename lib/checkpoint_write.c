/*
 * Implements: the checkpoint writer (checkpoint.h) and its atomic save.
 * The configuration text is the config's (ijepa_config_to_text()), the
 * byte order and checksums are checkpoint_format.c's.
 *
 * A save makes two passes over the borrowed buffers: the first computes the
 * CRC-32 of the data section (it goes into the header, which precedes the
 * data), the second writes. Floats go through a staging buffer in
 * little-endian byte order, so the file is the same on any host.
 *
 * Atomic replacement: <path>.tmp-<pid>-<writer>-<n>-<nanoseconds> is created with
 * O_EXCL in the target's directory, written, fsync'ed and closed, renamed
 * over <path>, and the directory is fsync'ed. Any failure before the rename
 * unlinks the temporary file, so the previous file at <path> stays intact.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "checkpoint_format.h"
#include "checkpoint_internal.h"
#include "config_internal.h"

ijepa__ckpt_io ijepa__ckpt_io_hooks = {write, fsync, rename};

void ijepa__ckpt_io_reset(void)
{
    ijepa__ckpt_io_hooks.write = write;
    ijepa__ckpt_io_hooks.fsync = fsync;
    ijepa__ckpt_io_hooks.rename = rename;
}

typedef struct wtensor {
    char *name;
    int32_t ndim;
    int64_t dims[IJEPA_TENSOR_MAX_DIMS];
    int64_t numel;
    const float *src;
} wtensor;

struct ijepa_checkpoint_writer {
    ijepa__err err;
    char *config_text;
    int64_t step;
    uint64_t seed;
    wtensor *t;
    int64_t n, cap;
    unsigned saves;                  /* temporary files tried, for unique names */
};

#define MAX_NAME 1000
#define STAGE_FLOATS 65536

// --- building -----------------------------------------------------------------------------------

int ijepa_checkpoint_writer_create(ijepa_checkpoint_writer **out, const ijepa_config *cfg,
                                   int64_t step)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "config is NULL");
    if (step < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "step %lld is negative",
                                (long long)step);
    ijepa_checkpoint_writer *w = calloc(1, sizeof *w);
    char *text = NULL;
    if (!w || ijepa__config_text(cfg, &text) < 0) {
        free(w);
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate the writer");
    }
    w->config_text = text;
    w->step = step;
    w->seed = (uint64_t)ijepa__cfg_int(cfg, IJEPA_CFG_SEED);
    *out = w;
    return IJEPA_OK;
}

void ijepa_checkpoint_writer_free(ijepa_checkpoint_writer *w)
{
    if (!w)
        return;
    for (int64_t i = 0; i < w->n; i++)
        free(w->t[i].name);
    free(w->t);
    free(w->config_text);
    free(w);
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
    if (plen == 0 || plen > MAX_NAME - 65)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "prefix must have 1 to %d bytes",
                           MAX_NAME - 65);
    if (table->count > INT64_MAX / 2 - w->n)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "too many tensors");
    const int64_t need = w->n + table->count;
    if (need > w->cap) {
        const int64_t cap = need > 2 * w->cap ? need : 2 * w->cap;
        wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t)
            return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot grow the tensor list");
        w->t = t;
        w->cap = cap;
    }
    int64_t k = 0;
    int rc = IJEPA_OK;
    for (; k < table->count; k++) {
        const ijepa__tensor *s = &table->t[k];
        wtensor *d = &w->t[w->n + k];
        const size_t len = plen + 1 + strlen(s->name);
        d->name = malloc(len + 1);
        if (!d->name) {
            rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot copy a tensor name");
            break;
        }
        snprintf(d->name, len + 1, "%s.%s", prefix, s->name);
        int dup = !strcmp(d->name, "__metadata__");
        for (int64_t j = 0; !dup && j < w->n + k; j++)
            dup = !strcmp(w->t[j].name, d->name);
        if (dup) {
            rc = ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "tensor '%.120s' is already added",
                             d->name);
            free(d->name);
            break;
        }
        d->ndim = s->ndim;
        memcpy(d->dims, s->dims, sizeof d->dims);
        d->numel = s->numel;
        d->src = data + s->offset;
    }
    if (rc < 0) {
        for (int64_t j = 0; j < k; j++)
            free(w->t[w->n + j].name);
        return rc;
    }
    w->n += table->count;
    return IJEPA_OK;
}

// --- the bytes ----------------------------------------------------------------------------------

/* The JSON header, space-padded to a multiple of 8 bytes; *len its length. */
static char *header_json(const ijepa_checkpoint_writer *w, uint32_t crc, size_t *len)
{
    json_t *root = json_object(), *meta = json_object();
    char buf[64];
    int bad = !root || !meta;
    bad = bad || json_object_set_new(root, "__metadata__", meta) < 0;
    if (!bad) {
        char step[32], seed[32], sum[32];
        snprintf(step, sizeof step, "%lld", (long long)w->step);
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)w->seed);
        snprintf(sum, sizeof sum, "crc32:%08x", (unsigned)crc);
        /* in the order of ijepa__meta_summed */
        const char *const v[IJEPA__NMETA_SUMMED] = {
            IJEPA__CKPT_FORMAT, IJEPA__CKPT_FORMAT_VERSION, IJEPA_VERSION_STRING,
            w->config_text, step, seed, sum};
        for (int i = 0; !bad && i < IJEPA__NMETA_SUMMED; i++)
            bad = json_object_set_new(meta, ijepa__meta_summed[i], json_string(v[i])) < 0;
        snprintf(buf, sizeof buf, "crc32:%08x", (unsigned)ijepa__metadata_crc(v));
        bad = bad || json_object_set_new(meta, "ijepa.metadata_checksum", json_string(buf)) < 0;
    } else if (meta && !root) {
        json_decref(meta); /* root owns meta once it is set */
    }
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
    /* pass 1: checksum of the data section */
    uint32_t crc = ijepa__crc32(0, NULL, 0);
    for (int64_t i = 0; i < w->n; i++)
        for (int64_t k = 0; k < w->t[i].numel; k += STAGE_FLOATS) {
            const int64_t m = w->t[i].numel - k < STAGE_FLOATS ? w->t[i].numel - k : STAGE_FLOATS;
            ijepa__le_put_f32(stage, w->t[i].src + k, m);
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
    /* the directory, for its fsync */
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    int fd = -1, rc = IJEPA_OK;
    /* never replace a directory, device, FIFO or socket */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        rc = ijepa__fail(e, IJEPA_ERR_IO, "cannot replace '%s': not a regular file", path);
        goto done;
    }
    /* a fresh temporary name in the same directory */
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(tmp, plen + 96, "%s.tmp-%ld-%lx-%u-%lx", path, (long)getpid(),
                 (unsigned long)(uintptr_t)w, w->saves++, (unsigned long)ts.tv_nsec);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
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
    const int cfd = fd;
    fd = -1;
    if (close(cfd) != 0) {
        rc = io_fail(e, "close", tmp, errno);
        goto fail;
    }
    if (ijepa__ckpt_io_hooks.rename(tmp, path) != 0) {
        rc = io_fail(e, "rename the temporary file to", path, errno);
        goto fail;
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
    if (fd >= 0)
        close(fd);
    unlink(tmp);
done:
    free(stage);
    free(header);
    free(tmp);
    free(dir);
    return rc;
}
