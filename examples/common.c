/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
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
    exit(EX_EXIT_FAILURE);
}

void ex_check_config(int rc)
{
    if (rc == IJEPA_ERR_INVALID_ARG)
        ex_usage_error("bad configuration: %s", ijepa_last_error());
    ex_check(rc);
}

void ex_check_data(int rc)
{
    if (rc == IJEPA_ERR_INVALID_ARG)
        ex_usage_error("%s", ijepa_last_error());
    ex_check(rc);
}

/* "PROG: message[ (see PROG --help)]" on stderr in one write, so that the
 * lines of several MPI ranks do not interleave; the hint names the program
 * without ex_prog's " (rank N)". */
static void say(const char *fmt, va_list ap, int hint)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%s: ", ex_prog);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof line - 64) /* too long: cut, room kept for the end */
        n = (int)(sizeof line - 64);
    if (hint)
        snprintf(line + n, sizeof line - (size_t)n, " (see %.*s --help)\n",
                 (int)strcspn(ex_prog, " "), ex_prog);
    else
        snprintf(line + n, sizeof line - (size_t)n, "\n");
    fputs(line, stderr);
}

void ex_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap, 1);
    va_end(ap);
    exit(EX_EXIT_USAGE);
}

void ex_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap, 0);
    va_end(ap);
    exit(EX_EXIT_FAILURE);
}

// --- the command line ----------------------------------------------------------------

/* Exit 0 after --help or --version, or 1 if their text could not be written
 * (a closed pipe, a full disk). */
static void exit_after_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write error: %s\n", ex_prog, strerror(errno));
        exit(EX_EXIT_FAILURE);
    }
    exit(EX_EXIT_OK);
}

void ex_args_init(ex_args *a, int argc, char **argv, void (*usage)(FILE *f))
{
    memset(a, 0, sizeof *a);
    a->argc = argc;
    a->argv = argv;
    a->i = 1;
    a->usage = usage;
}

int ex_args_next(ex_args *a)
{
    if (a->i >= a->argc)
        return 0;
    const char *arg = a->argv[a->i++];
    if (!strcmp(arg, "--")) { /* the end of the options; no program takes operands */
        if (a->i < a->argc)
            ex_usage_error("unexpected argument '%s'", a->argv[a->i]);
        return 0;
    }
    if (strncmp(arg, "--", 2) && strcmp(arg, "-h"))
        ex_usage_error("unexpected argument '%s'", arg);
    const char *eq = strchr(arg, '=');
    a->opt = arg;
    a->inline_value = NULL;
    if (eq) {
        const size_t n = (size_t)(eq - arg);
        if (n >= sizeof a->name)
            ex_usage_error("unknown option '%.*s'", (int)n, arg);
        memcpy(a->name, arg, n);
        a->name[n] = '\0';
        a->opt = a->name;
        a->inline_value = eq + 1;
    }
    if (ex_flag(a, "--help") || ex_flag(a, "-h")) {
        a->usage(stdout);
        exit_after_output();
    }
    if (ex_flag(a, "--version")) {
        ex_print_version(stdout);
        exit_after_output();
    }
    return 1;
}

int ex_flag(ex_args *a, const char *name)
{
    if (strcmp(a->opt, name))
        return 0;
    if (a->inline_value)
        ex_usage_error("option %s takes no value (got '%s')", name, a->inline_value);
    return 1;
}

const char *ex_value(ex_args *a, const char *name)
{
    if (strcmp(a->opt, name))
        return NULL;
    if (a->inline_value)
        return a->inline_value;
    if (a->i >= a->argc)
        ex_usage_error("option %s needs a value", name);
    return a->argv[a->i++];
}

void ex_renamed(ex_args *a, const char *old_name, const char *new_name)
{
    if (!strcmp(a->opt, old_name))
        ex_usage_error("option %s is now called %s", old_name, new_name);
}

void ex_unknown(ex_args *a)
{
    ex_usage_error("unknown option '%s'", a->opt);
}

void ex_print_version(FILE *f)
{
    fprintf(f, "%s (libijepa) %s\n", ex_prog, ijepa_version_string());
    if (strcmp(ijepa_version_string(), IJEPA_VERSION_STRING))
        fprintf(f, "built with libijepa %s\n", IJEPA_VERSION_STRING);
    fprintf(f, "Copyright (c) 2026 The libijepa authors.\n"
               "License MIT: <https://opensource.org/licenses/MIT>.\n"
               "This is free software: you are free to change and redistribute it.\n"
               "There is NO WARRANTY, to the extent permitted by law.\n");
}

void ex_print_exit_status(FILE *f)
{
    fprintf(f, "exit status:\n"
               "  0  success\n"
               "  1  failure (unreadable data or checkpoint, library error, cannot write)\n"
               "  2  bad command line (unknown option, bad or missing value, a configuration\n"
               "     the library refuses or the data cannot take)\n");
}

// --- numbers -------------------------------------------------------------------------------

/* Length of the run of decimal digits at s. */
static size_t digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

int64_t ex_int(const char *option, const char *value, int64_t lo, int64_t hi)
{
    const char *s = value + (value[0] == '-');
    const size_t n = digits(s);
    if (n == 0 || s[n] != '\0')
        ex_usage_error("%s: '%s' is not a whole number", option, value);
    char *end;
    errno = 0;
    const long long v = strtoll(value, &end, 10);
    if (errno == ERANGE || v < lo || v > hi)
        ex_usage_error("%s: '%s' is out of range: %lld to %lld", option, value, (long long)lo,
                       (long long)hi);
    return (int64_t)v;
}

double ex_float(const char *option, const char *value, double lo, double hi)
{
    /* [-] digits [. digits] [e [+-] digits], with a digit before or after the point */
    const char *s = value + (value[0] == '-');
    size_t n = digits(s), mant = n;
    if (s[n] == '.') {
        const size_t f = digits(s + n + 1);
        mant += f;
        n += 1 + f;
    }
    if (mant > 0 && (s[n] == 'e' || s[n] == 'E')) {
        const size_t sign = s[n + 1] == '-' || s[n + 1] == '+';
        const size_t e = digits(s + n + 1 + sign);
        n = e ? n + 1 + sign + e : 0;
    }
    if (mant == 0 || n == 0 || s[n] != '\0')
        ex_usage_error("%s: '%s' is not a number", option, value);
    errno = 0;
    const double v = strtod(value, NULL);
    if (!(v >= lo && v <= hi) || (errno == ERANGE && v != 0))
        ex_usage_error("%s: '%s' is out of range: %g to %g", option, value, lo, hi);
    return v;
}

// --- configs ----------------------------------------------------------------------------

void ex_set(ijepa_config *cfg, const char *setting)
{
    if (!strchr(setting, '=') || strchr(setting, '\n'))
        ex_usage_error("--set '%s' is not one key=value", setting);
    if (ijepa_config_from_text(cfg, setting) < 0) {
        /* the cause without the parser's "ijepa_config_from_text(): line 1: " */
        const char *why = ijepa_last_error(), *cut = strstr(why, ": line 1: ");
        ex_usage_error("--set %s: %s", setting, cut ? cut + 10 : why);
    }
}

void ex_print_value_names(FILE *f, const char *indent)
{
    fprintf(f, "%snamed values:", indent);
    size_t col = strlen(indent) + 13;
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (!ijepa_config_value_name(key, 0))
            continue;
        char item[128];
        size_t len = (size_t)snprintf(item, sizeof item, " %s=", ijepa_config_key_name(key));
        for (int64_t v = 0; ijepa_config_value_name(key, v) && len < sizeof item; v++)
            len += (size_t)snprintf(item + len, sizeof item - len, "%s%s", v ? "|" : "",
                                    ijepa_config_value_name(key, v));
        if (col + len > 79) {
            fprintf(f, "\n%s%s", indent, item + 1);
            col = strlen(indent) + len - 1;
        } else {
            fputs(item, f);
            col += len;
        }
    }
    fputc('\n', f);
}

const char *ex_precision_text(ijepa_context *ctx, int64_t prec, char *buf, size_t n)
{
    const char *name = ijepa_config_value_name(IJEPA_CFG_PRECISION, prec);
    if (!name)
        name = "?";
    if (prec == IJEPA_PRECISION_F32) {
        snprintf(buf, n, "%s", name);
        return buf;
    }
    if (ijepa_context_precision_native(ctx, (int32_t)prec) == 1) {
        snprintf(buf, n, "%s (native)", name);
        return buf;
    }
    const char *var = getenv("ONEDNN_MAX_CPU_ISA") ? "ONEDNN_MAX_CPU_ISA"
                      : getenv("DNNL_MAX_CPU_ISA") ? "DNNL_MAX_CPU_ISA"
                                                    : NULL;
    const char *isa = ijepa_context_cpu_isa(ctx);
    if (var)
        snprintf(buf, n, "%s (emulated: %s=%s caps the backend to %s, which has no bf16 matmul "
                         "instructions)", name, var, getenv(var), isa);
    else
        snprintf(buf, n, "%s (emulated: the backend runs %s, which has no bf16 matmul "
                         "instructions)", name, isa);
    return buf;
}

void ex_copy_class(ijepa_config *dst, const ijepa_config *src, int cls)
{
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (ijepa_config_key_class(key) != cls)
            continue;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            int64_t v;
            CHECK(ijepa_config_get_int(src, key, &v));
            CHECK(ijepa_config_set_int(dst, key, v));
        } else {
            double v;
            CHECK(ijepa_config_get_float(src, key, &v));
            CHECK(ijepa_config_set_float(dst, key, v));
        }
    }
}

int64_t ex_size(const char *option, const char *value)
{
    /* digits [. digits], a digit before or after the point */
    size_t n = digits(value), mant = n;
    if (value[n] == '.') {
        const size_t f = digits(value + n + 1);
        mant += f;
        n += 1 + f;
    }
    const char *u = value + n;
    const char *units = "kmgt", *p = *u ? strchr(units, *u | 0x20) : NULL;
    double scale = 1;
    if (p) { /* K, M, G, T in either case, then iB or B */
        scale = ldexp(1.0, 10 * (int)(p - units + 1));
        u++;
        if ((u[0] | 0x20) == 'i' && (u[1] | 0x20) == 'b')
            u += 2;
        else if ((*u | 0x20) == 'b')
            u++;
    } else if ((*u | 0x20) == 'b') {
        u++;
    }
    const double bytes = mant > 0 && !*u ? strtod(value, NULL) * scale : -1;
    if (bytes >= 0x1p62)
        ex_usage_error("%s: '%s' is out of range: 0 to 4194303T", option, value);
    if (!(bytes >= 0))
        ex_usage_error("%s: '%s' is not a size: a number of bytes, with K, M, G or T for "
                       "powers of 1024 (8G, 8GiB, 1.5g)", option, value);
    return (int64_t)bytes;
}

void ex_check_memory(const char *what, int64_t bytes, int64_t limit)
{
    if (limit <= 0 || bytes <= limit)
        return;
    fprintf(stderr, "%s: %s would need %.2f GiB of memory, more than the limit of %.2f GiB; "
                    "raise it with --max-memory SIZE (0: no limit)\n",
            ex_prog, what, (double)bytes / 1073741824.0, (double)limit / 1073741824.0);
    exit(1);
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
        exit(EX_EXIT_FAILURE);
    }
    return p;
}

/* mkdir(path) that accepts an existing directory: 0, or -1 with errno. */
static int mkdir_one(const char *path)
{
    struct stat st;
    if (mkdir(path, 0777) == 0)
        return 0;
    const int e = errno;
    if (e == EEXIST && stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        return -1;
    }
    errno = e;
    return -1;
}

void ex_mkdir(const char *dir)
{
    /* mkdir -p: each missing directory of the path in turn, from the top,
     * with mode 0777 less the umask */
    const size_t n = strlen(dir);
    char *path = ex_malloc(n + 1);
    memcpy(path, dir, n + 1);
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        if (path[i - 1] == '/') /* "a//b", or a trailing slash */
            continue;
        const char c = path[i];
        path[i] = '\0';
        rc = mkdir_one(path);
        path[i] = c;
    }
    if (rc != 0) {
        const int e = errno;
        fprintf(stderr, "%s: cannot create %s: %s\n", ex_prog, dir, strerror(e));
        exit(EX_EXIT_FAILURE);
    }
    free(path);
}

void ex_check_out_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    const size_t n = slash ? (size_t)(slash - path) + 1 : 0; /* "dir/", "/" or "" */
    char *dir = ex_malloc(n + 2);
    memcpy(dir, path, n);
    memcpy(dir + n, ".", 2); /* "dir/." is dir only if dir is a directory */
    struct stat st;
    if (stat(dir, &st) != 0)
        ex_fail("cannot write %s: %s", path, strerror(errno));
    free(dir);
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
