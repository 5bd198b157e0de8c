/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: reading and validating a checkpoint (checkpoint.h: the
 * reader's opening and its accessors); checkpoint_load.c checks and copies
 * tensor groups.
 *
 * The order of the work bounds what a bad file costs by its header, never by
 * its size: the 8-byte header length is read and bounded, then the header
 * alone is read in chunks, scanned as it comes (no control bytes, at most
 * MAX_JSON_VALUES JSON values, before the JSON parser sees it), parsed (at
 * most IJEPA_CHECKPOINT_MAX_TENSORS tensors) and validated completely
 * (every entry, the tiling of the data section against the file's size,
 * the metadata and its checksum, the configuration text);
 * only then is the data section read, and its checksum verified. The reader
 * keeps the data section, an entry table sorted by data offset and an index
 * sorted by name. The configuration text is parsed by the config
 * (config.c), the byte order, dtypes and checksums are checkpoint_format.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "checkpoint_reader.h"
#include "config_internal.h"

/* An upper bound of the JSON values a header may have: 16 per tensor, a
 * tensor entry with 8 dimensions has 14 (see scan_header()). It bounds the
 * parser's memory (jansson allocates each value) before it runs. */
#define MAX_JSON_VALUES (16 * (uint64_t)IJEPA_CHECKPOINT_MAX_TENSORS)

int ijepa__ckpt_ferr(ijepa_checkpoint *ck, const char *fmt, ...)
{
    char cause[IJEPA__ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    return ijepa__fail(&ck->err, IJEPA_ERR_FORMAT, "%s: %s", ck->file, cause);
}

#define ferr ijepa__ckpt_ferr

// --- where the bytes come from ----------------------------------------------------------------

/* A file (fd >= 0) or a memory image; size is the whole file's. */
typedef struct source {
    int fd;
    const unsigned char *mem;
    uint64_t size;
} source;

/* Read n bytes at off into dst. A file that ends early has shrunk since
 * fstat(): IJEPA_ERR_IO. */
static int src_read(ijepa_checkpoint *ck, const source *s, uint64_t off, void *dst, size_t n)
{
    if (s->fd < 0) {
        memcpy(dst, s->mem + off, n);
        return IJEPA_OK;
    }
    unsigned char *p = dst;
    while (n > 0) {
        const size_t chunk = n > ((size_t)1 << 30) ? (size_t)1 << 30 : n;
        const ssize_t r = pread(s->fd, p, chunk, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                return ijepa__fail(&ck->err, IJEPA_ERR_IO, "'%s' shrank while being read",
                                   ck->file);
            char eb[128];
            if (strerror_r(errno, eb, sizeof eb) != 0)
                snprintf(eb, sizeof eb, "error %d", errno);
            return ijepa__fail(&ck->err, IJEPA_ERR_IO, "cannot read '%s': %s", ck->file, eb);
        }
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return IJEPA_OK;
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

/*
 * The header is scanned as it is read, before the JSON parser sees it, so
 * that what a bad header costs is bounded by where it goes wrong:
 *   - a byte below 0x20 other than tab, LF and CR is never valid JSON text
 *     (the zeros of a sparse file, binary garbage): refused at once;
 *   - the values are counted, with an upper bound needing no parse: every
 *     value is the root, a member or element after a comma, or the first
 *     member or element after an opening bracket, so 1 + commas + opening
 *     brackets outside strings bounds it. A tensor entry
 *     {"dtype":"F32","shape":[a,...],"data_offsets":[b,e]} counts 3 + 2
 *     commas, up to 7 in the shape, 1 in the offsets and 1 before the next
 *     entry: at most 14. Past MAX_JSON_VALUES the header is refused.
 */
typedef struct hscan {
    uint64_t values;
    int in_string, escaped;
} hscan;

static int scan_header(ijepa_checkpoint *ck, hscan *h, const unsigned char *s, size_t from,
                       size_t to)
{
    for (size_t i = from; i < to; i++) {
        const unsigned char c = s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return ferr(ck, "the header holds the control byte 0x%02x at offset %zu (not a "
                            "checkpoint?)", (unsigned)c, i);
        if (h->in_string) {
            if (h->escaped)
                h->escaped = 0;
            else if (c == '\\')
                h->escaped = 1;
            else if (c == '"')
                h->in_string = 0;
        } else if (c == '"') {
            h->in_string = 1;
        } else if ((c == ',' || c == '{' || c == '[') && ++h->values > MAX_JSON_VALUES) {
            return ferr(ck, "the header holds more than %llu JSON values, 16 for each of the "
                            "%d tensors a checkpoint may have (not a checkpoint?)",
                        (unsigned long long)MAX_JSON_VALUES, IJEPA_CHECKPOINT_MAX_TENSORS);
        }
    }
    return IJEPA_OK;
}

/* Read the header hdr[0, hlen) from offset 8 in chunks, scanning each. */
static int read_header(ijepa_checkpoint *ck, const source *src, unsigned char *hdr, size_t hlen)
{
    hscan h = {1, 0, 0};
    const size_t chunk = (size_t)1 << 20;
    for (size_t off = 0; off < hlen; off += chunk) {
        const size_t n = hlen - off < chunk ? hlen - off : chunk;
        int rc = src_read(ck, src, 8 + off, hdr + off, n);
        if (rc < 0)
            return rc;
        if (off == 0 && hdr[0] != '{')
            return ferr(ck, "the header does not start with '{' (not a safetensors file)");
        if ((rc = scan_header(ck, &h, hdr, off, off + n)) < 0)
            return rc;
    }
    return IJEPA_OK;
}

// --- the header ----------------------------------------------------------------------------------

static int parse_entry(ijepa_checkpoint *ck, const char *name, json_t *v, ijepa__ckpt_entry *out)
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
    static const char *const UNSUPPORTED[] = {"I64", "I32", "I16", "I8", "U64", "U32", "U16",
                                              "U8", "BOOL", "F8_E4M3", "F8_E5M2"};
    const char *dt = json_string_value(dtype);
    const int t = ijepa__dtype_of(dt);
    if (t < 0) {
        for (size_t i = 0; i < sizeof UNSUPPORTED / sizeof UNSUPPORTED[0]; i++)
            if (!strcmp(dt, UNSUPPORTED[i]))
                return ferr(ck, "tensor '%.80s' has dtype %s; only F32, F16, BF16 and F64 are "
                                "supported", name, dt);
        return ferr(ck, "tensor '%.80s' has unknown dtype '%.20s'", name, dt);
    }
    out->dtype = t;
    const int64_t esize = ijepa__dtype_size(t);
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
        /* numel * 8 (the largest element) must fit in int64 */
        if (di > 0 && out->numel > (INT64_MAX / 8) / di)
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
    const uint64_t need = (uint64_t)out->numel * (uint64_t)esize;
    if (out->end - out->begin != need)
        return ferr(ck, "tensor '%.80s': data_offsets [%llu, %llu] hold %llu bytes, the shape "
                        "needs %llu",
                    name, (unsigned long long)out->begin, (unsigned long long)out->end,
                    (unsigned long long)(out->end - out->begin), (unsigned long long)need);
    out->name = strdup(name);
    if (!out->name)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot copy a tensor name");
    return IJEPA_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const ijepa__ckpt_entry *x = a, *y = b;
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

/* The libijepa metadata: every key present and well-formed, counters within
 * what the arithmetic using them holds. */
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
    /* the trainer and the optimizer count on from the step, and the
     * schedules take it as a double: IJEPA_CHECKPOINT_MAX_STEP keeps both
     * exact */
    if (parse_u64(meta(ck, "ijepa.step"), UINT64_MAX, &step) < 0)
        return ferr(ck, "ijepa.step '%.30s' is not a decimal integer", meta(ck, "ijepa.step"));
    if (step > (uint64_t)IJEPA_CHECKPOINT_MAX_STEP)
        return ferr(ck, "ijepa.step %llu exceeds the limit of %lld steps",
                    (unsigned long long)step, (long long)IJEPA_CHECKPOINT_MAX_STEP);
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

/* The entries must tile the data section exactly. */
static int check_tiling(ijepa_checkpoint *ck)
{
    qsort(ck->e, (size_t)ck->n, sizeof *ck->e, cmp_offset);
    uint64_t at = 0;
    for (int64_t i = 0; i < ck->n; i++) {
        const ijepa__ckpt_entry *x = &ck->e[i];
        if (x->end > ck->data_size)
            return ferr(ck, "tensor '%.80s' ends at byte %llu of a %llu-byte data section "
                            "(truncated file?)",
                        x->name, (unsigned long long)x->end, (unsigned long long)ck->data_size);
        if (x->begin > at)
            return ferr(ck, "gap of %llu bytes before tensor '%.80s' in the data section",
                        (unsigned long long)(x->begin - at), x->name);
        if (x->begin < at)
            return ferr(ck, "tensor '%.80s' at bytes [%llu, %llu] overlaps '%.80s'", x->name,
                        (unsigned long long)x->begin, (unsigned long long)x->end,
                        ck->e[i - 1].name);
        at = x->end;
    }
    if (at != ck->data_size)
        return ferr(ck, "%llu bytes after the last tensor: the file is longer than its header "
                        "says",
                    (unsigned long long)(ck->data_size - at));
    return IJEPA_OK;
}

static int build_name_index(ijepa_checkpoint *ck)
{
    named *idx = malloc((size_t)(ck->n ? ck->n : 1) * sizeof *idx);
    if (!idx)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate the name index");
    for (int64_t i = 0; i < ck->n; i++)
        idx[i] = (named){ck->e[i].name, i};
    qsort(idx, (size_t)ck->n, sizeof *idx, cmp_name);
    for (int64_t i = 0; i < ck->n; i++)
        ck->by_name[i] = idx[i].index;
    free(idx);
    return IJEPA_OK;
}

/* Validate the JSON header hdr[0, hlen) (read and scanned) against a data
 * section of ck->data_size bytes, and build the tables: everything but the
 * data checksum. */
static int parse_header(ijepa_checkpoint *ck, const unsigned char *hdr, size_t hlen)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ferr(ck, "invalid JSON header: %.120s (line %d, column %d)", jerr.text, jerr.line,
                    jerr.column);
    int rc = IJEPA_OK;
    if (!json_is_object(root)) {
        rc = ferr(ck, "the header is not a JSON object");
        goto out;
    }
    const size_t n = json_object_size(root);
    if (n > (size_t)IJEPA_CHECKPOINT_MAX_TENSORS + 1) {
        rc = ferr(ck, "the header lists %zu tensors, more than the limit of %d", n,
                  IJEPA_CHECKPOINT_MAX_TENSORS);
        goto out;
    }
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
    if (ck->n > IJEPA_CHECKPOINT_MAX_TENSORS) {
        rc = ferr(ck, "the header lists %lld tensors, more than the limit of %d",
                  (long long)ck->n, IJEPA_CHECKPOINT_MAX_TENSORS);
        goto out;
    }
    if ((rc = check_tiling(ck)) < 0 || (rc = build_name_index(ck)) < 0)
        goto out;
    const char *msum = meta(ck, "ijepa.metadata_checksum");
    if (msum && (rc = check_metadata_checksum(ck, msum)) < 0)
        goto out;
    const char *format = meta(ck, "format");
    if (format && !strcmp(format, IJEPA__CKPT_FORMAT))
        rc = check_libijepa(ck);
out:
    json_decref(root);
    return rc;
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

/* Length, header, validation, and only then the data. */
static int read_checkpoint(ijepa_checkpoint *ck, const source *s)
{
    if (s->size < 8)
        return ferr(ck, "%llu bytes, too short for the 8-byte header length",
                    (unsigned long long)s->size);
    unsigned char len8[8];
    int rc = src_read(ck, s, 0, len8, 8);
    if (rc < 0)
        return rc;
    const uint64_t hlen = ijepa__le_u64(len8);
    if (hlen < 2)
        return ferr(ck, "header length %llu is below 2", (unsigned long long)hlen);
    if (hlen > IJEPA_CHECKPOINT_MAX_HEADER)
        return ferr(ck, "header length %llu exceeds the limit of %d bytes (not a checkpoint?)",
                    (unsigned long long)hlen, IJEPA_CHECKPOINT_MAX_HEADER);
    if (hlen > s->size - 8)
        return ferr(ck, "header length %llu exceeds the %llu bytes that follow it (truncated "
                        "file?)",
                    (unsigned long long)hlen, (unsigned long long)(s->size - 8));
    unsigned char *hdr = malloc((size_t)hlen);
    if (!hdr)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "cannot allocate a %llu-byte header",
                           (unsigned long long)hlen);
    ck->data_size = s->size - 8 - hlen;
    if ((rc = read_header(ck, s, hdr, (size_t)hlen)) == IJEPA_OK)
        rc = parse_header(ck, hdr, (size_t)hlen);
    free(hdr);
    if (rc < 0)
        return rc;
    /* the header is valid and the file has exactly the size it says */
    if (ck->data_size > SIZE_MAX - 1)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM, "%s: the data section is too large for "
                           "memory", ck->file);
    ck->data = malloc(ck->data_size ? (size_t)ck->data_size : 1);
    if (!ck->data)
        return ijepa__fail(&ck->err, IJEPA_ERR_NOMEM,
                           "cannot allocate %llu bytes for the data of '%s'",
                           (unsigned long long)ck->data_size, ck->file);
    if ((rc = src_read(ck, s, 8 + hlen, ck->data, (size_t)ck->data_size)) < 0)
        return rc;
    const char *sum = meta(ck, "ijepa.checksum");
    return sum ? check_checksum(ck, sum) : IJEPA_OK;
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
    free(ck->data);
    free(ck->file);
    ijepa_config_free(ck->cfg);
    free(ck);
}

/* A reader of s named file, validated. *out is set on success; on failure
 * the message was recorded under func. */
static int open_source(ijepa_checkpoint **out, const source *s, const char *file,
                       const char *func)
{
    ijepa_checkpoint *ck = calloc(1, sizeof *ck);
    char *f = strdup(file);
    if (!ck || !f) {
        free(ck);
        free(f);
        return ijepa__fail_func(func, IJEPA_ERR_NOMEM, "cannot allocate a checkpoint reader");
    }
    ck->err.func = func;
    ck->file = f;
    int rc = read_checkpoint(ck, s);
    if (rc < 0) {
        ijepa_checkpoint_free(ck);
        return rc;
    }
    *out = ck;
    return IJEPA_OK;
}

static int open_path(ijepa_checkpoint **out, const char *path, const char *func)
{
    char eb[128];
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below */
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        strerror_r(errno, eb, sizeof eb);
        return ijepa__fail_func(func, IJEPA_ERR_IO, "cannot open '%s': %s", path, eb);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ijepa__fail_func(func, IJEPA_ERR_IO, "'%s' is not a regular file", path);
    }
    const source s = {fd, NULL, (uint64_t)st.st_size};
    const int rc = open_source(out, &s, path, func);
    close(fd);
    return rc;
}

int ijepa_checkpoint_open(ijepa_checkpoint **out, const char *path)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!path)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "path is NULL");
    return open_path(out, path, __func__);
}

int ijepa_checkpoint_open_memory(ijepa_checkpoint **out, const void *data, size_t size,
                                 const char *name)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!data && size > 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "data is NULL");
    const source s = {-1, data, (uint64_t)size};
    return open_source(out, &s, name ? name : "memory", __func__);
}

// --- what a reader holds -------------------------------------------------------------------

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

int64_t ijepa_checkpoint_metadata_count(const ijepa_checkpoint *ck) { return ck ? ck->nmeta : 0; }

int ijepa_checkpoint_metadata_at(ijepa_checkpoint *ck, int64_t i, const char **key,
                                 const char **value)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    if (i < 0 || i >= ck->nmeta)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "metadata entry %lld is out of [0, %lld)", (long long)i,
                                (long long)ck->nmeta);
    if (key)
        *key = ck->mkey[i];
    if (value)
        *value = ck->mval[i];
    return IJEPA_OK;
}

int64_t ijepa_checkpoint_tensor_count(const ijepa_checkpoint *ck) { return ck ? ck->n : 0; }

const char *ijepa__checkpoint_name(const ijepa_checkpoint *ck) { return ck->file; }

int ijepa_checkpoint_tensor_info(ijepa_checkpoint *ck, int64_t i, const char **name,
                                 int32_t *ndim, int64_t *dims)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa__enter(&ck->err, __func__);
    if (i < 0 || i >= ck->n)
        return ijepa__fail(&ck->err, IJEPA_ERR_INVALID_ARG, "tensor %lld is out of [0, %lld)",
                           (long long)i, (long long)ck->n);
    const ijepa__ckpt_entry *x = &ck->e[i];
    if (name)
        *name = x->name;
    if (ndim)
        *ndim = x->ndim;
    if (dims)
        memcpy(dims, x->dims, sizeof x->dims);
    return IJEPA_OK;
}

const char *ijepa_checkpoint_tensor_dtype(const ijepa_checkpoint *ck, int64_t i)
{
    if (!ck || i < 0 || i >= ck->n)
        return NULL;
    return ijepa__dtype_name(ck->e[i].dtype);
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
