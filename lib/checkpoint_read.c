/*
 * Implements: the checkpoint reader and its validation (checkpoint.h), and
 * ijepa__checkpoint_load(), the one way into handles' buffers
 * (checkpoint_internal.h).
 *
 * A reader holds the whole file. Opening validates everything that does not
 * depend on a handle (see checkpoint.h) and keeps a table of entries sorted
 * by data offset plus an index sorted by name; loading into a handle checks
 * names, shapes and values of every group first and copies afterwards, so a
 * failed load changes nothing. The configuration text is parsed by the
 * config (config.c), the byte order and checksums are checkpoint_format.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "checkpoint_format.h"
#include "checkpoint_internal.h"
#include "config_internal.h"

typedef struct entry {
    char *name;
    int32_t ndim;
    int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end;             /* byte range in the data section */
} entry;

struct ijepa_checkpoint {
    ijepa__err err;
    char *file;                      /* name used in messages */
    unsigned char *buf;              /* the whole file */
    size_t size;
    const unsigned char *data;       /* data section */
    uint64_t data_size;
    entry *e;                        /* [n], sorted by data offset */
    int64_t *by_name;                /* [n] entry indices sorted by name */
    int64_t n;
    char **mkey, **mval;             /* [nmeta] __metadata__ */
    int64_t nmeta;
    int libijepa;                    /* "format": "libijepa" */
    ijepa_config *cfg;               /* libijepa files: their configuration */
    int64_t step;
};

/* Record a format error "<file>: <cause>". */
static int ferr(ijepa_checkpoint *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ferr(ijepa_checkpoint *ck, const char *fmt, ...)
{
    char cause[IJEPA__ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    return ijepa__fail(&ck->err, IJEPA_ERR_FORMAT, "%s: %s", ck->file, cause);
}

// --- strict text parsing ----------------------------------------------------------------------

/* Decimal digits only, no sign or blanks, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        const uint64_t d = (uint64_t)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

// --- opening ----------------------------------------------------------------------------------

static const char *const OTHER_DTYPES[] = {"F64", "F16", "BF16", "I64", "I32", "I16", "I8",
                                           "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3",
                                           "F8_E5M2"};

static int parse_entry(ijepa_checkpoint *ck, const char *name, json_t *v, entry *out)
{
    if (!json_is_object(v))
        return ferr(ck, "tensor '%.80s' is not a JSON object", name);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
            return ferr(ck, "tensor '%.80s' has an unknown field '%.40s'", name, k);
    }
    json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
           *offs = json_object_get(v, "data_offsets");
    if (!dtype || !shape || !offs)
        return ferr(ck, "tensor '%.80s' lacks %s", name,
                    !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!json_is_string(dtype))
        return ferr(ck, "tensor '%.80s': dtype is not a string", name);
    const char *dt = json_string_value(dtype);
    if (strcmp(dt, "F32")) {
        for (size_t i = 0; i < sizeof OTHER_DTYPES / sizeof OTHER_DTYPES[0]; i++)
            if (!strcmp(dt, OTHER_DTYPES[i]))
                return ferr(ck, "tensor '%.80s' has dtype %s; only F32 is supported", name, dt);
        return ferr(ck, "tensor '%.80s' has unknown dtype '%.20s'", name, dt);
    }
    if (!json_is_array(shape))
        return ferr(ck, "tensor '%.80s': shape is not an array", name);
    const size_t nd = json_array_size(shape);
    if (nd > IJEPA_CHECKPOINT_MAX_DIMS)
        return ferr(ck, "tensor '%.80s' has %zu dimensions, more than %d", name, nd,
                    IJEPA_CHECKPOINT_MAX_DIMS);
    out->ndim = (int32_t)nd;
    out->numel = 1;
    for (int i = 0; i < IJEPA_CHECKPOINT_MAX_DIMS; i++)
        out->dims[i] = 1;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(shape, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return ferr(ck, "tensor '%.80s': shape[%zu] is not a non-negative integer", name, i);
        const int64_t di = (int64_t)json_integer_value(d);
        /* numel * 4 must fit in int64 */
        if (di > 0 && out->numel > (INT64_MAX / 4) / di)
            return ferr(ck, "tensor '%.80s': the shape's element count overflows", name);
        out->dims[i] = di;
        out->numel *= di;
    }
    if (!json_is_array(offs) || json_array_size(offs) != 2)
        return ferr(ck, "tensor '%.80s': data_offsets is not an array of 2 integers", name);
    json_t *b = json_array_get(offs, 0), *e = json_array_get(offs, 1);
    if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
        json_integer_value(e) < 0)
        return ferr(ck, "tensor '%.80s': data_offsets are not non-negative integers", name);
    out->begin = (uint64_t)json_integer_value(b);
    out->end = (uint64_t)json_integer_value(e);
    if (out->end < out->begin)
        return ferr(ck, "tensor '%.80s': data_offsets [%llu, %llu] end before they begin", name,
                    (unsigned long long)out->begin, (unsigned long long)out->end);
    if (out->end - out->begin != (uint64_t)out->numel * 4u)
        return ferr(ck, "tensor '%.80s': data_offsets [%llu, %llu] hold %llu bytes, the shape "
                        "needs %llu",
                    name, (unsigned long long)out->begin, (unsigned long long)out->end,
                    (unsigned long long)(out->end - out->begin),
                    (unsigned long long)out->numel * 4u);
    out->name = strdup(name);
    if (!out->name)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot copy a tensor name");
    return IJEPA_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

typedef struct named {
    const char *name;
    int64_t index;
} named;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static int parse_metadata(ijepa_checkpoint *ck, json_t *m)
{
    if (!json_is_object(m))
        return ferr(ck, "__metadata__ is not a JSON object");
    const size_t n = json_object_size(m);
    ck->mkey = calloc(n ? n : 1, sizeof *ck->mkey);
    ck->mval = calloc(n ? n : 1, sizeof *ck->mval);
    if (!ck->mkey || !ck->mval)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate the metadata");
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (!json_is_string(v))
            return ferr(ck, "__metadata__ value of '%.60s' is not a string", k);
        ck->mkey[ck->nmeta] = strdup(k);
        ck->mval[ck->nmeta] = strdup(json_string_value(v));
        ck->nmeta++;
        if (!ck->mkey[ck->nmeta - 1] || !ck->mval[ck->nmeta - 1])
            return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot copy the metadata");
    }
    return IJEPA_OK;
}

static const char *meta(const ijepa_checkpoint *ck, const char *key)
{
    for (int64_t i = 0; i < ck->nmeta; i++)
        if (!strcmp(ck->mkey[i], key))
            return ck->mval[i];
    return NULL;
}

/* The libijepa metadata: every key present and well-formed. */
static int check_libijepa(ijepa_checkpoint *ck)
{
    static const char *const need[] = {"ijepa.format_version", "ijepa.library_version",
                                       "ijepa.config", "ijepa.step", "ijepa.seed",
                                       "ijepa.checksum"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!meta(ck, need[i]))
            return ferr(ck, "libijepa metadata lacks '%s'", need[i]);
    const char *fv = meta(ck, "ijepa.format_version");
    if (strcmp(fv, IJEPA__CKPT_FORMAT_VERSION))
        return ferr(ck, "unsupported ijepa.format_version '%.20s' (this library reads "
                        IJEPA__CKPT_FORMAT_VERSION ")", fv);
    if (!*meta(ck, "ijepa.library_version"))
        return ferr(ck, "ijepa.library_version is empty");
    uint64_t step, seed;
    if (parse_u64(meta(ck, "ijepa.step"), INT64_MAX, &step) < 0)
        return ferr(ck, "ijepa.step '%.30s' is not a decimal integer in [0, 2^63-1]",
                    meta(ck, "ijepa.step"));
    if (parse_u64(meta(ck, "ijepa.seed"), UINT64_MAX, &seed) < 0)
        return ferr(ck, "ijepa.seed '%.30s' is not a decimal integer", meta(ck, "ijepa.seed"));
    int rc = ijepa_config_create(&ck->cfg);
    if (rc < 0)
        return ijepa__fail(&ck->err, rc, "cannot create a config");
    char why[IJEPA__ERRLEN];
    if ((rc = ijepa__config_parse(ck->cfg, meta(ck, "ijepa.config"), why, sizeof why)) < 0)
        return rc == IJEPA_ERR_NOMEM ? ijepa__fail(&ck->err, rc, "%s", why)
                                     : ferr(ck, "ijepa.config %s", why);
    const int64_t cseed = ijepa__cfg_int(ck->cfg, IJEPA_CFG_SEED);
    if ((uint64_t)cseed != seed)
        return ferr(ck, "ijepa.seed %llu differs from the config's seed %lld",
                    (unsigned long long)seed, (long long)cseed);
    ck->step = (int64_t)step;
    ck->libijepa = 1;
    return IJEPA_OK;
}

/* "crc32:" and 8 hex digits. */
static int parse_crc(ijepa_checkpoint *ck, const char *key, const char *s, uint32_t *out)
{
    if (strncmp(s, "crc32:", 6) || strlen(s) != 14)
        return ferr(ck, "%s '%.30s' is not crc32:<8 hex digits>", key, s);
    uint32_t want = 0;
    for (int i = 6; i < 14; i++) {
        const char c = s[i];
        const int d = c >= '0' && c <= '9' ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return ferr(ck, "%s '%.30s' is not crc32:<8 hex digits>", key, s);
        want = want << 4 | (uint32_t)d;
    }
    *out = want;
    return IJEPA_OK;
}

/* The optional checksum of the metadata values (see docs/checkpoint.md). */
static int check_metadata_checksum(ijepa_checkpoint *ck, const char *s)
{
    uint32_t want;
    int rc = parse_crc(ck, "ijepa.metadata_checksum", s, &want);
    if (rc < 0)
        return rc;
    const char *v[IJEPA__NMETA_SUMMED];
    for (int i = 0; i < IJEPA__NMETA_SUMMED; i++)
        if (!(v[i] = meta(ck, ijepa__meta_summed[i])))
            return ferr(ck, "the metadata lacks '%s', which ijepa.metadata_checksum covers",
                        ijepa__meta_summed[i]);
    const uint32_t got = ijepa__metadata_crc(v);
    if (got != want)
        return ferr(ck, "metadata checksum mismatch: the header says crc32 %08x, the metadata "
                        "has %08x (corrupt header)",
                    (unsigned)want, (unsigned)got);
    return IJEPA_OK;
}

static int check_checksum(ijepa_checkpoint *ck, const char *s)
{
    uint32_t want;
    int rc = parse_crc(ck, "ijepa.checksum", s, &want);
    if (rc < 0)
        return rc;
    const uint32_t got = ijepa__crc32(0, ck->data, ck->data_size);
    if (got != want)
        return ferr(ck, "checksum mismatch: the header says crc32 %08x, the data has %08x "
                        "(corrupt file)",
                    (unsigned)want, (unsigned)got);
    return IJEPA_OK;
}

/* Validate ck->buf[0, size) and build the tables. */
static int parse(ijepa_checkpoint *ck)
{
    if (ck->size < 8)
        return ferr(ck, "%zu bytes, too short for the 8-byte header length", ck->size);
    const uint64_t hlen = ijepa__le_u64(ck->buf);
    if (hlen < 2)
        return ferr(ck, "header length %llu is below 2", (unsigned long long)hlen);
    if (hlen > IJEPA_CHECKPOINT_MAX_HEADER)
        return ferr(ck, "header length %llu exceeds the limit of %d bytes (not a checkpoint?)",
                    (unsigned long long)hlen, IJEPA_CHECKPOINT_MAX_HEADER);
    if (hlen > ck->size - 8)
        return ferr(ck, "header length %llu exceeds the %zu bytes that follow it (truncated "
                        "file?)",
                    (unsigned long long)hlen, ck->size - 8);
    ck->data = ck->buf + 8 + hlen;
    ck->data_size = ck->size - 8 - hlen;
    if (ck->buf[8] != '{')
        return ferr(ck, "the header does not start with '{' (not a safetensors file)");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)ck->buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES,
                              &jerr);
    if (!root)
        return ferr(ck, "invalid JSON header: %.120s (line %d, column %d)", jerr.text, jerr.line,
                    jerr.column);
    int rc = IJEPA_OK;
    if (!json_is_object(root)) {
        rc = ferr(ck, "the header is not a JSON object");
        goto out;
    }
    const size_t n = json_object_size(root);
    ck->e = calloc(n ? n : 1, sizeof *ck->e);
    ck->by_name = malloc((n ? n : 1) * sizeof *ck->by_name);
    if (!ck->e || !ck->by_name) {
        rc = ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate %zu entries", n);
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (!strcmp(k, "__metadata__"))
            rc = parse_metadata(ck, v);
        else if ((rc = parse_entry(ck, k, v, &ck->e[ck->n])) == IJEPA_OK)
            ck->n++;
        if (rc < 0)
            goto out;
    }
    /* the entries must tile the data section exactly */
    qsort(ck->e, (size_t)ck->n, sizeof *ck->e, cmp_offset);
    uint64_t at = 0;
    for (int64_t i = 0; i < ck->n; i++) {
        const entry *x = &ck->e[i];
        if (x->end > ck->data_size) {
            rc = ferr(ck, "tensor '%.80s' ends at byte %llu of a %llu-byte data section "
                          "(truncated file?)",
                      x->name, (unsigned long long)x->end, (unsigned long long)ck->data_size);
            goto out;
        }
        if (x->begin > at) {
            rc = ferr(ck, "gap of %llu bytes before tensor '%.80s' in the data section",
                      (unsigned long long)(x->begin - at), x->name);
            goto out;
        }
        if (x->begin < at) {
            rc = ferr(ck, "tensor '%.80s' at bytes [%llu, %llu] overlaps '%.80s'", x->name,
                      (unsigned long long)x->begin, (unsigned long long)x->end,
                      ck->e[i - 1].name);
            goto out;
        }
        at = x->end;
    }
    if (at != ck->data_size) {
        rc = ferr(ck, "%llu bytes after the last tensor: the file is longer than its header "
                      "says",
                  (unsigned long long)(ck->data_size - at));
        goto out;
    }
    named *idx = malloc((size_t)(ck->n ? ck->n : 1) * sizeof *idx);
    if (!idx) {
        rc = ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate the name index");
        goto out;
    }
    for (int64_t i = 0; i < ck->n; i++)
        idx[i] = (named){ck->e[i].name, i};
    qsort(idx, (size_t)ck->n, sizeof *idx, cmp_name);
    for (int64_t i = 0; i < ck->n; i++)
        ck->by_name[i] = idx[i].index;
    free(idx);
    const char *msum = meta(ck, "ijepa.metadata_checksum");
    if (msum && (rc = check_metadata_checksum(ck, msum)) < 0)
        goto out;
    const char *format = meta(ck, "format");
    if (format && !strcmp(format, IJEPA__CKPT_FORMAT)) {
        if ((rc = check_libijepa(ck)) < 0)
            goto out;
    }
    const char *sum = meta(ck, "ijepa.checksum");
    if (sum)
        rc = check_checksum(ck, sum);
out:
    json_decref(root);
    return rc;
}

void ijepa_checkpoint_free(ijepa_checkpoint *ck)
{
    if (!ck)
        return;
    for (int64_t i = 0; i < ck->n; i++)
        free(ck->e[i].name);
    for (int64_t i = 0; i < ck->nmeta; i++) {
        free(ck->mkey[i]);
        free(ck->mval[i]);
    }
    free(ck->mkey);
    free(ck->mval);
    free(ck->e);
    free(ck->by_name);
    free(ck->buf);
    free(ck->file);
    ijepa_config_free(ck->cfg);
    free(ck);
}

/* Take ownership of buf (malloc'ed) and validate it. *out is set on success;
 * on failure the message was recorded under func and ck is freed. */
static int open_buffer(ijepa_checkpoint **out, unsigned char *buf, size_t size,
                       const char *file, const char *func)
{
    ijepa_checkpoint *ck = calloc(1, sizeof *ck);
    char *f = strdup(file);
    if (!ck || !f) {
        free(ck);
        free(f);
        free(buf);
        return ijepa__fail_func(func, IJEPA_ERR_NOMEM, "cannot allocate a checkpoint reader");
    }
    ck->err.func = func;
    ck->file = f;
    ck->buf = buf;
    ck->size = size;
    int rc = parse(ck);
    if (rc < 0) {
        ijepa_checkpoint_free(ck);
        return rc;
    }
    *out = ck;
    return IJEPA_OK;
}

static int read_file(const char *path, const char *func, unsigned char **buf, size_t *size)
{
    char eb[128];
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        strerror_r(errno, eb, sizeof eb);
        return ijepa__fail_func(func, IJEPA_ERR_IO, "cannot open '%s': %s", path, eb);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ijepa__fail_func(func, IJEPA_ERR_IO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX - 1) {
        close(fd);
        return ijepa__fail_func(func, IJEPA_ERR_NOMEM, "'%s' is too large for memory", path);
    }
    const size_t n = (size_t)st.st_size;
    unsigned char *b = malloc(n ? n : 1);
    if (!b) {
        close(fd);
        return ijepa__fail_func(func, IJEPA_ERR_NOMEM, "cannot allocate %zu bytes for '%s'", n,
                                path);
    }
    size_t got = 0;
    while (got < n) {
        const ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            const int err = r < 0 ? errno : 0;
            close(fd);
            free(b);
            if (!err)
                return ijepa__fail_func(func, IJEPA_ERR_IO, "'%s' shrank while being read",
                                        path);
            strerror_r(err, eb, sizeof eb);
            return ijepa__fail_func(func, IJEPA_ERR_IO, "cannot read '%s': %s", path, eb);
        }
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *size = n;
    return IJEPA_OK;
}

static int open_path(ijepa_checkpoint **out, const char *path, const char *func)
{
    unsigned char *buf;
    size_t size;
    int rc = read_file(path, func, &buf, &size);
    if (rc < 0)
        return rc;
    return open_buffer(out, buf, size, path, func);
}

int ijepa_checkpoint_open(ijepa_checkpoint **out, const char *path)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!path)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "path is NULL");
    ijepa_checkpoint *ck;
    int rc = open_path(&ck, path, __func__);
    if (rc == IJEPA_OK)
        *out = ck;
    return rc;
}

int ijepa_checkpoint_open_memory(ijepa_checkpoint **out, const void *data, size_t size,
                                 const char *name)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!data && size > 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "data is NULL");
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot copy %zu bytes", size);
    if (size)
        memcpy(buf, data, size);
    ijepa_checkpoint *ck;
    int rc = open_buffer(&ck, buf, size, name ? name : "memory", __func__);
    if (rc == IJEPA_OK)
        *out = ck;
    return rc;
}

int ijepa_checkpoint_config(ijepa_checkpoint *ck, ijepa_config **out)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    if (!ck->libijepa)
        return ferr(ck, "no libijepa metadata (\"format\": \"libijepa\"): the configuration "
                        "must be given explicitly");
    int rc = ijepa_config_copy(out, ck->cfg);
    if (rc < 0)
        return ijepa__fail(&ck->err, rc, "cannot copy the configuration");
    return IJEPA_OK;
}

int ijepa_checkpoint_step(ijepa_checkpoint *ck, int64_t *step)
{
    if (!ck || !step)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "checkpoint and step must not be NULL");
    ijepa__enter(&ck->err, __func__);
    if (!ck->libijepa)
        return ferr(ck, "no libijepa metadata, so no step");
    *step = ck->step;
    return IJEPA_OK;
}

int ijepa_checkpoint_metadata(ijepa_checkpoint *ck, const char *key, const char **value)
{
    if (!ck || !key || !value)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "checkpoint, key and value must not be NULL");
    ijepa__enter(&ck->err, __func__);
    const char *v = meta(ck, key);
    if (!v)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "%s: no metadata key '%.60s'",
                           ck->file, key);
    *value = v;
    return IJEPA_OK;
}

int64_t ijepa_checkpoint_tensor_count(const ijepa_checkpoint *ck) { return ck ? ck->n : 0; }

int ijepa_checkpoint_tensor_info(ijepa_checkpoint *ck, int64_t i, const char **name,
                                 int32_t *ndim, int64_t *dims)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    if (i < 0 || i >= ck->n)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "tensor %lld is out of [0, %lld)",
                           (long long)i, (long long)ck->n);
    const entry *x = &ck->e[i];
    if (name)
        *name = x->name;
    if (ndim)
        *ndim = x->ndim;
    if (dims)
        memcpy(dims, x->dims, sizeof x->dims);
    return IJEPA_OK;
}

// --- loading groups into buffers ----------------------------------------------------------------

/* Index of the entry called name, or -1. */
static int64_t find(const ijepa_checkpoint *ck, const char *name)
{
    int64_t lo = 0, hi = ck->n - 1;
    while (lo <= hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(ck->e[ck->by_name[mid]].name, name);
        if (c == 0)
            return ck->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

#define NAME_MAX_LEN 1100

/* Check a group against the file without writing anything: every tensor of
 * the table present with its shape and finite values, no other tensor under
 * the prefix. Marks the entries used in used[]. */
static int check_group(ijepa_checkpoint *ck, const ijepa__ckpt_group *g, unsigned char *used)
{
    if (!g->prefix || !*g->prefix || strlen(g->prefix) > 1000)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG,
                           "prefix must be a non-empty string of at most 1000 bytes");
    if (!g->table || !g->data)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "table and buffer must not be NULL");
    const size_t plen = strlen(g->prefix);
    char name[NAME_MAX_LEN];
    for (int64_t t = 0; t < g->table->count; t++) {
        const ijepa__tensor *tt = &g->table->t[t];
        snprintf(name, sizeof name, "%s.%s", g->prefix, tt->name);
        const int64_t i = find(ck, name);
        if (i < 0)
            return ferr(ck, "tensor '%.120s' is missing", name);
        const entry *x = &ck->e[i];
        int same = x->ndim == tt->ndim;
        for (int32_t d = 0; same && d < tt->ndim; d++)
            same = x->dims[d] == tt->dims[d];
        if (!same) {
            char a[96] = "", b[96] = "";
            for (int32_t d = 0; d < x->ndim; d++)
                snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? ", " : "",
                         (long long)x->dims[d]);
            for (int32_t d = 0; d < tt->ndim; d++)
                snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? ", " : "",
                         (long long)tt->dims[d]);
            return ferr(ck, "tensor '%.100s' has shape [%s], the model needs [%s]", name, a, b);
        }
        const unsigned char *p = ck->data + x->begin;
        for (int64_t k = 0; k < x->numel; k++)
            if (!isfinite(ijepa__le_f32(p + 4 * k)))
                return ferr(ck, "tensor '%.100s' holds a non-finite value at element %lld", name,
                            (long long)k);
        used[i] = 1;
    }
    /* extra tensors under the prefix */
    for (int64_t i = 0; i < ck->n; i++) {
        const char *nm = ck->e[i].name;
        if (strncmp(nm, g->prefix, plen) || nm[plen] != '.')
            continue;
        int64_t t = 0;
        while (t < g->table->count && strcmp(g->table->t[t].name, nm + plen + 1))
            t++;
        if (t == g->table->count)
            return ferr(ck, "unexpected tensor '%.120s' (not in the model)", nm);
    }
    return IJEPA_OK;
}

/* Copy a checked group into its buffer (padding is not written). */
static void copy_group(const ijepa_checkpoint *ck, const ijepa__ckpt_group *g)
{
    char name[NAME_MAX_LEN];
    for (int64_t t = 0; t < g->table->count; t++) {
        const ijepa__tensor *tt = &g->table->t[t];
        snprintf(name, sizeof name, "%s.%s", g->prefix, tt->name);
        const entry *x = &ck->e[find(ck, name)];
        ijepa__le_get_f32(g->data + tt->offset, ck->data + x->begin, x->numel);
    }
}

int ijepa__checkpoint_load(ijepa_checkpoint *ck, const char *func, const ijepa__ckpt_group *g,
                           int n, int whole_file)
{
    ijepa__enter(&ck->err, func);
    unsigned char *used = calloc((size_t)(ck->n ? ck->n : 1), 1);
    if (!used)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate %lld flags",
                           (long long)ck->n);
    int rc = IJEPA_OK;
    for (int i = 0; rc == IJEPA_OK && i < n; i++)
        rc = check_group(ck, &g[i], used);
    for (int64_t i = 0; rc == IJEPA_OK && whole_file && i < ck->n; i++)
        if (!used[i])
            rc = ferr(ck, "unexpected tensor '%.120s' (not in any group loaded)", ck->e[i].name);
    free(used);
    if (rc < 0)
        return rc;
    /* everything checked: nothing below can fail */
    for (int i = 0; i < n; i++)
        copy_group(ck, &g[i]);
    return IJEPA_OK;
}

int ijepa_checkpoint_read(ijepa_checkpoint *ck, const char *prefix,
                          const ijepa_tensor_table *table, float *dst)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    const ijepa__ckpt_group g = {prefix, table, dst};
    return ijepa__checkpoint_load(ck, __func__, &g, 1, 0);
}

int ijepa_checkpoint_load_encoder(ijepa_checkpoint *ck, const char *prefix, ijepa_encoder *enc)
{
    if (!ck || !enc)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "checkpoint and encoder must not be NULL");
    float *p;
    int64_t n;
    ijepa_encoder_params(enc, &p, &n);
    const ijepa__ckpt_group g = {prefix, ijepa_encoder_tensors(enc), p};
    return ijepa__checkpoint_load(ck, __func__, &g, 1, 0);
}

int ijepa_checkpoint_load_predictor(ijepa_checkpoint *ck, const char *prefix,
                                    ijepa_predictor *pred)
{
    if (!ck || !pred)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "checkpoint and predictor must not be NULL");
    float *p;
    int64_t n;
    ijepa_predictor_params(pred, &p, &n);
    const ijepa__ckpt_group g = {prefix, ijepa_predictor_tensors(pred), p};
    return ijepa__checkpoint_load(ck, __func__, &g, 1, 0);
}

int ijepa_checkpoint_read_config(const char *path, ijepa_config **out)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!path)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "path is NULL");
    ijepa_checkpoint *ck;
    int rc = open_path(&ck, path, __func__);
    if (rc < 0)
        return rc;
    if (!ck->libijepa)
        rc = ferr(ck, "no libijepa metadata (\"format\": \"libijepa\"), so no configuration");
    else if ((rc = ijepa_config_copy(out, ck->cfg)) < 0)
        ijepa__fail(&ck->err, rc, "cannot copy the configuration");
    ijepa_checkpoint_free(ck);
    return rc;
}
