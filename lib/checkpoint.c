/*
 * Implements: checkpoint reader and validation (checkpoint.h), and the
 * trainer's save/load on top of the reader and the writer
 * (lib/checkpoint_write.c).
 *
 * A reader holds the whole file. Opening validates everything that does not
 * depend on a handle (see checkpoint.h) and keeps a table of entries sorted
 * by data offset plus an index sorted by name; loading into a handle checks
 * names, shapes and values of every group first and copies afterwards, so a
 * failed load changes nothing.
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
#include <zlib.h>

#include "checkpoint_internal.h"
#include "config_internal.h"
#include "trainer_internal.h"

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

// --- little-endian access -------------------------------------------------------------------

static uint64_t le_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static float le_f32(const unsigned char *p)
{
    const uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* zlib's crc32 over any length (its length argument is an unsigned int). */
uint32_t ijepa__crc32(uint32_t crc, const unsigned char *p, uint64_t n)
{
    uLong c = crc;
    while (n > 0) {
        const uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

const char *const ijepa__meta_summed[IJEPA__NMETA_SUMMED] = {
    "format", "ijepa.format_version", "ijepa.library_version", "ijepa.config",
    "ijepa.step", "ijepa.seed", "ijepa.checksum"};

uint32_t ijepa__metadata_crc(const char *const values[IJEPA__NMETA_SUMMED])
{
    uint32_t c = ijepa__crc32(0, NULL, 0);
    for (int i = 0; i < IJEPA__NMETA_SUMMED; i++) {
        c = ijepa__crc32(c, (const unsigned char *)ijepa__meta_summed[i],
                         strlen(ijepa__meta_summed[i]) + 1);
        c = ijepa__crc32(c, (const unsigned char *)values[i], strlen(values[i]) + 1);
    }
    return c;
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

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Apply "name = value" lines over the defaults in cfg. */
static int parse_config(ijepa_checkpoint *ck, const char *text, ijepa_config *cfg)
{
    char *copy = strdup(text);
    if (!copy)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot copy the configuration text");
    int rc = IJEPA_OK, line = 0;
    int32_t seen[1024]; /* more than there are keys */
    int nseen = 0;
    for (char *s = copy, *next; s && rc == IJEPA_OK; s = next) {
        line++;
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        char *l = trim(s);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = ferr(ck, "ijepa.config line %d has no '='", line);
            break;
        }
        *eq = '\0';
        const char *name = trim(l), *value = trim(eq + 1);
        int32_t key;
        if (ijepa_config_key_from_name(name, &key) < 0) {
            rc = ferr(ck, "ijepa.config line %d: unknown key '%.64s'", line, name);
            break;
        }
        for (int i = 0; i < nseen; i++)
            if (seen[i] == key)
                rc = ferr(ck, "ijepa.config line %d: key '%s' given twice", line, name);
        if (rc != IJEPA_OK)
            break;
        if (nseen < (int)(sizeof seen / sizeof seen[0]))
            seen[nseen++] = key;
        char *end = NULL;
        int bad;
        errno = 0;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            const long long v = strtoll(value, &end, 10);
            bad = !*value || *end || errno ||
                  ijepa_config_set_int(cfg, key, (int64_t)v) < 0;
        } else {
            const double v = strtod(value, &end);
            bad = !*value || *end || !isfinite(v) || ijepa_config_set_float(cfg, key, v) < 0;
        }
        if (bad)
            rc = ferr(ck, "ijepa.config line %d: invalid value '%.32s' for key '%s'", line,
                      value, name);
    }
    free(copy);
    return rc;
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
    if (strcmp(fv, "1"))
        return ferr(ck, "unsupported ijepa.format_version '%.20s' (this library reads 1)", fv);
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
    if ((rc = parse_config(ck, meta(ck, "ijepa.config"), ck->cfg)) < 0)
        return rc;
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
    const uint64_t hlen = le_u64(ck->buf);
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
    if (format && !strcmp(format, "libijepa")) {
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

typedef struct group {
    const char *prefix;
    const ijepa_tensor_table *tab;
    float *dst;
} group;

#define NAME_MAX_LEN 1100

/* Check a group against the file without writing anything: every tensor of
 * the table present with its shape and finite values, no other tensor under
 * the prefix. Marks the entries used in used[] (may be NULL). */
static int check_group(ijepa_checkpoint *ck, const group *g, unsigned char *used)
{
    const size_t plen = strlen(g->prefix);
    char name[NAME_MAX_LEN];
    for (int64_t t = 0; t < g->tab->count; t++) {
        const ijepa__tensor *tt = &g->tab->t[t];
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
            if (!isfinite(le_f32(p + 4 * k)))
                return ferr(ck, "tensor '%.100s' holds a non-finite value at element %lld", name,
                            (long long)k);
        if (used)
            used[i] = 1;
    }
    /* extra tensors under the prefix */
    for (int64_t i = 0; i < ck->n; i++) {
        const char *nm = ck->e[i].name;
        if (strncmp(nm, g->prefix, plen) || nm[plen] != '.')
            continue;
        int64_t t = 0;
        while (t < g->tab->count && strcmp(g->tab->t[t].name, nm + plen + 1))
            t++;
        if (t == g->tab->count)
            return ferr(ck, "unexpected tensor '%.120s' (not in the model)", nm);
    }
    return IJEPA_OK;
}

/* Copy a checked group into its buffer. */
static void copy_group(const ijepa_checkpoint *ck, const group *g)
{
    char name[NAME_MAX_LEN];
    for (int64_t t = 0; t < g->tab->count; t++) {
        const ijepa__tensor *tt = &g->tab->t[t];
        snprintf(name, sizeof name, "%s.%s", g->prefix, tt->name);
        const entry *x = &ck->e[find(ck, name)];
        const unsigned char *p = ck->data + x->begin;
        float *d = g->dst + tt->offset;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(d, p, (size_t)x->numel * 4u);
#else
        for (int64_t k = 0; k < x->numel; k++)
            d[k] = le_f32(p + 4 * k);
#endif
    }
}

static int check_prefix(ijepa_checkpoint *ck, const char *prefix)
{
    if (!prefix || !*prefix || strlen(prefix) > 1000)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG,
                           "prefix must be a non-empty string of at most 1000 bytes");
    return IJEPA_OK;
}

static int read_group(ijepa_checkpoint *ck, const group *g)
{
    int rc = check_prefix(ck, g->prefix);
    if (rc < 0)
        return rc;
    if (!g->tab || !g->dst)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "table and buffer must not be NULL");
    if ((rc = check_group(ck, g, NULL)) < 0)
        return rc;
    copy_group(ck, g);
    return IJEPA_OK;
}

int ijepa_checkpoint_read(ijepa_checkpoint *ck, const char *prefix,
                          const ijepa_tensor_table *table, float *dst)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    const group g = {prefix, table, dst};
    return read_group(ck, &g);
}

int ijepa_checkpoint_load_encoder(ijepa_checkpoint *ck, const char *prefix, ijepa_encoder *enc)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    if (!enc)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "encoder is NULL");
    float *p;
    int64_t n;
    ijepa_encoder_params(enc, &p, &n);
    const group g = {prefix, ijepa_encoder_tensors(enc), p};
    return read_group(ck, &g);
}

int ijepa_checkpoint_load_predictor(ijepa_checkpoint *ck, const char *prefix,
                                    ijepa_predictor *pred)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    if (!pred)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "predictor is NULL");
    float *p;
    int64_t n;
    ijepa_predictor_params(pred, &p, &n);
    const group g = {prefix, ijepa_predictor_tensors(pred), p};
    return read_group(ck, &g);
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

// --- the trainer --------------------------------------------------------------------------------

/* The seven groups of a trainer checkpoint. Returns the count. */
static int trainer_groups(ijepa_trainer *tr, group g[7], ijepa__err *e)
{
    ijepa_encoder *enc = ijepa_trainer_context_encoder(tr), *tgt = ijepa_trainer_target_encoder(tr);
    ijepa_predictor *pred = ijepa_trainer_predictor(tr);
    ijepa_optimizer *opt = ijepa__trainer_optimizer(tr);
    float *pe, *pt, *pp, *m[2], *v[2];
    int64_t n;
    if (ijepa_encoder_params(enc, &pe, &n) < 0 || ijepa_encoder_params(tgt, &pt, &n) < 0 ||
        ijepa_predictor_params(pred, &pp, &n) < 0 ||
        ijepa_optimizer_moments(opt, 0, &m[0], &v[0], &n) < 0 ||
        ijepa_optimizer_moments(opt, 1, &m[1], &v[1], &n) < 0)
        return ijepa__fail(e, IJEPA_ERR_STATE, "the trainer's handles are not complete");
    const ijepa_tensor_table *te = ijepa_encoder_tensors(enc), *tp = ijepa_predictor_tensors(pred);
    g[0] = (group){"encoder", te, pe};
    g[1] = (group){"predictor", tp, pp};
    g[2] = (group){"target_encoder", ijepa_encoder_tensors(tgt), pt};
    g[3] = (group){"optimizer.exp_avg.encoder", te, m[0]};
    g[4] = (group){"optimizer.exp_avg_sq.encoder", te, v[0]};
    g[5] = (group){"optimizer.exp_avg.predictor", tp, m[1]};
    g[6] = (group){"optimizer.exp_avg_sq.predictor", tp, v[1]};
    return 7;
}

int ijepa_trainer_save(ijepa_trainer *tr, const char *path)
{
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "trainer is NULL");
    ijepa__err *e = ijepa__trainer_err(tr);
    ijepa__enter(e, __func__);
    if (!path)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "path is NULL");
    group g[7];
    int rc = trainer_groups(tr, g, e);
    if (rc < 0)
        return rc;
    ijepa_checkpoint_writer *w = NULL;
    rc = ijepa__writer_new(&w, ijepa_encoder_config(ijepa_trainer_context_encoder(tr)),
                           ijepa_trainer_step_count(tr), e);
    for (int i = 0; rc == IJEPA_OK && i < 7; i++)
        rc = ijepa__writer_add(w, g[i].prefix, g[i].tab, g[i].dst, e);
    if (rc == IJEPA_OK)
        rc = ijepa__writer_save(w, path, e);
    ijepa_checkpoint_writer_free(w);
    return rc;
}

/* Config keys that must agree between a trainer and the checkpoint it loads:
 * the seed and everything that defines the model, the masks and the loss. */
static int must_match(int32_t key) { return key == IJEPA_CFG_SEED || (key >= 100 && key <= 401); }

int ijepa_trainer_load(ijepa_trainer *tr, const char *path)
{
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "trainer is NULL");
    ijepa__err *e = ijepa__trainer_err(tr);
    ijepa__enter(e, __func__);
    if (!path)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "path is NULL");
    group g[7];
    int rc = trainer_groups(tr, g, e);
    if (rc < 0)
        return rc;
    ijepa_checkpoint *ck = NULL;
    unsigned char *used = NULL;
    if ((rc = open_path(&ck, path, __func__)) < 0)
        goto out;
    if (!ck->libijepa) {
        rc = ferr(ck, "no libijepa metadata (\"format\": \"libijepa\"): a trainer needs the "
                      "step and configuration");
        goto out;
    }
    const ijepa_config *have = ijepa_encoder_config(ijepa_trainer_context_encoder(tr));
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (!must_match(key))
            continue;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            const int64_t a = ijepa__cfg_int(ck->cfg, key), b = ijepa__cfg_int(have, key);
            if (a != b) {
                rc = ferr(ck, "config key '%s' is %lld in the file, %lld in the trainer",
                          ijepa_config_key_name(key), (long long)a, (long long)b);
                goto out;
            }
        } else {
            const double a = ijepa__cfg_float(ck->cfg, key), b = ijepa__cfg_float(have, key);
            if (a != b) {
                rc = ferr(ck, "config key '%s' is %.17g in the file, %.17g in the trainer",
                          ijepa_config_key_name(key), a, b);
                goto out;
            }
        }
    }
    used = calloc((size_t)(ck->n ? ck->n : 1), 1);
    if (!used) {
        rc = ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate %lld flags",
                         (long long)ck->n);
        goto out;
    }
    for (int i = 0; i < 7; i++)
        if ((rc = check_group(ck, &g[i], used)) < 0)
            goto out;
    for (int64_t i = 0; i < ck->n; i++)
        if (!used[i]) {
            rc = ferr(ck, "unexpected tensor '%.120s' (not part of a trainer)", ck->e[i].name);
            goto out;
        }
    /* everything checked: nothing below can fail */
    for (int i = 0; i < 7; i++)
        copy_group(ck, &g[i]);
    ijepa_optimizer_set_step_count(ijepa__trainer_optimizer(tr), ck->step);
    ijepa__trainer_set_step(tr, ck->step);
out:
    free(used);
    ijepa_checkpoint_free(ck);
    return rc;
}
