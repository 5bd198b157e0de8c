/*
 * Implements: examples/common.h, what every example program shares.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"

const char *ex_prog = "ijepa";

void ex_check(int rc)
{
    if (rc >= 0)
        return;
    fprintf(stderr, "%s: %s: %s\n", ex_prog, ijepa_status_string(rc), ijepa_last_error());
    exit(1);
}

void ex_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", ex_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see %s --help)\n", ex_prog);
    exit(2);
}

int64_t ex_int(const char *option, const char *value, int64_t lo, int64_t hi)
{
    char *end;
    errno = 0;
    const long long v = strtoll(value, &end, 10);
    if (end == value || *end || errno || v < lo || v > hi)
        ex_usage_error("%s '%s' is not an integer in [%lld, %lld]", option, value,
                       (long long)lo, (long long)hi);
    return (int64_t)v;
}

double ex_float(const char *option, const char *value, double lo, double hi)
{
    char *end;
    const double v = strtod(value, &end);
    if (end == value || *end || !(v >= lo && v <= hi))
        ex_usage_error("%s '%s' is not a number in [%g, %g]", option, value, lo, hi);
    return v;
}

void ex_set(ijepa_config *cfg, const char *setting)
{
    if (!strchr(setting, '='))
        ex_usage_error("--set '%s' is not key=value", setting);
    if (ijepa_config_from_text(cfg, setting) < 0)
        ex_usage_error("--set %s: %s", setting, ijepa_last_error());
}

void ex_print_presets(FILE *f)
{
    for (int32_t i = 0; i < ijepa_config_preset_count(); i++)
        fprintf(f, "  %-16s %s\n", ijepa_config_preset_name(i), ijepa_config_preset_about(i));
}

double ex_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void *ex_malloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", ex_prog, n);
        exit(1);
    }
    return p;
}

void ex_mkdir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", ex_prog, dir, strerror(errno));
        exit(1);
    }
}

uint64_t ex_xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

void ex_pool(const float *tokens, int64_t batch, int64_t N, int64_t D, float *feats)
{
    for (int64_t j = 0; j < batch; j++)
        for (int64_t d = 0; d < D; d++) {
            double s = 0;
            for (int64_t t = 0; t < N; t++)
                s += tokens[(j * N + t) * D + d];
            feats[j * D + d] = (float)(s / (double)N);
        }
}

/* NumPy format 1.0: magic, version, little-endian u16 header length, a
 * Python dict literal padded with spaces and a newline so that the data
 * start at a multiple of 64 bytes (with the spare spaces numpy.save leaves
 * for growing the first axis, so both write the same bytes). */
int ex_write_npy(const char *path, const float *data, int64_t rows, int64_t cols)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                     (long long)rows, (long long)cols);
    char first[32];
    const int digits = snprintf(first, sizeof first, "%lld", (long long)rows);
    for (int i = digits; i < 21 && n < (int)sizeof dict - 1; i++)
        dict[n++] = ' ';
    const int total = 10 + n + 1;
    const int pad = (64 - total % 64) % 64;
    const int hlen = n + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                   (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (int i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    /* the data are little-endian float32: x86-64 and arm64 are little-endian */
    ok = ok && fwrite(data, sizeof(float), (size_t)(rows * cols), f) == (size_t)(rows * cols);
    return fclose(f) == 0 && ok ? 0 : -1;
}
