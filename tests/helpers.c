/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: tests/helpers.h, the Check helpers shared by the suites.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "ref_vit.h"

_Static_assert(IJEPA_TENSOR_MAX_DIMS == 4, "want_add() takes 4 dims");

// --- assertions ---------------------------------------------------------------------

void expect_close(const ref_cmp *c, const char *fmt, ...)
{
    char label[256], desc[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(label, sizeof label, fmt, ap);
    va_end(ap);
    ref_cmp_str(c, desc, sizeof desc);
    if (getenv("IJEPA_TEST_VERBOSE")) /* shows how close each check comes to its bound */
        fprintf(stderr, "%s: %s\n", label, desc);
    ck_assert_msg(ref_cmp_ok(c), "%s: %s", label, desc);
}

void expect_err(int rc, int code, const char *msg, const char *func, const char *what)
{
    ck_assert_msg(rc == code, "%s: status %d (%s), want %d (%s)", what, rc,
                  ijepa_status_string(rc), code, ijepa_status_string(code));
    ck_assert_msg(msg && msg[0] != '\0', "%s: empty message", what);
    ck_assert_msg(strstr(msg, func) != NULL, "%s: message '%s' does not name %s()", what, msg,
                  func);
}

int64_t first_not(const float *p, int64_t n, float v)
{
    for (int64_t i = 0; i < n; i++)
        if (p[i] != v) return i;
    return -1;
}

int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

float *rand_floats(int64_t n, uint64_t seed, double lo, double hi)
{
    float *x = ref_falloc(n);
    ck_assert_ptr_nonnull(x);
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    ref_fill_f(x, n, &rng, lo, hi);
    return x;
}

// --- configs ------------------------------------------------------------------------

static const char *key_name(int32_t key)
{
    const char *s = ijepa_config_key_name(key);
    return s ? s : "(unknown)";
}

ijepa_config *config_with(const cfg_int *iv, size_t ni, const cfg_float *fv, size_t nf)
{
    ijepa_config *cfg = NULL;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    for (size_t i = 0; i < ni; i++)
        ck_assert_msg(ijepa_config_set_int(cfg, iv[i].key, iv[i].v) == IJEPA_OK,
                      "set key %d (%s): %s", (int)iv[i].key, key_name(iv[i].key),
                      ijepa_last_error());
    for (size_t i = 0; i < nf; i++)
        ck_assert_msg(ijepa_config_set_float(cfg, fv[i].key, fv[i].v) == IJEPA_OK,
                      "set key %d (%s): %s", (int)fv[i].key, key_name(fv[i].key),
                      ijepa_last_error());
    return cfg;
}

// --- tensor tables --------------------------------------------------------------------

tinfo tensor_at(const ijepa_tensor_table *tab, int64_t i)
{
    tinfo t;
    t.name = ijepa_tensor_table_name(tab, i);
    ck_assert_ptr_nonnull(t.name);
    ck_assert_int_eq(ijepa_tensor_table_info(tab, i, &t.off, &t.numel, &t.ndim, t.dims,
                                             &t.flags), IJEPA_OK);
    return t;
}

tinfo tensor_named(const ijepa_tensor_table *tab, const char *name)
{
    int64_t idx = -1;
    ck_assert_msg(ijepa_tensor_table_find(tab, name, &idx) == IJEPA_OK, "no tensor '%s'", name);
    return tensor_at(tab, idx);
}

int64_t padding_nonzero(const ijepa_tensor_table *tab, const float *buf, int64_t count)
{
    int64_t bad = 0, next = 0, nt = ijepa_tensor_table_count(tab);
    for (int64_t i = 0; i <= nt; i++) {
        int64_t end = count;
        if (i < nt) end = tensor_at(tab, i).off;
        for (int64_t j = next; j < end; j++) bad += buf[j] != 0.0f;
        if (i < nt) {
            tinfo t = tensor_at(tab, i);
            next = t.off + t.numel;
        }
    }
    return bad;
}

void randomize_table(const ijepa_tensor_table *tab, float *params, uint64_t seed)
{
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    for (int64_t i = 0; i < ijepa_tensor_table_count(tab); i++) {
        tinfo t = tensor_at(tab, i);
        if (t.flags & IJEPA_TENSOR_FROZEN) continue;
        float *p = params + t.off;
        if (strcmp(t.name, "mask_token") == 0) {
            ref_fill_f(p, t.numel, &rng, -1, 1);
        } else if (t.ndim >= 2) {
            double a = sqrt(3.0 * (double)t.dims[0] / (double)t.numel);
            ref_fill_f(p, t.numel, &rng, -a, a);
        } else if (ends_with(t.name, ".weight")) {
            ref_fill_f(p, t.numel, &rng, 0.5, 1.5);
        } else {
            ref_fill_f(p, t.numel, &rng, -0.3, 0.3);
        }
    }
}

/* Over the weights (ndim >= 2, not frozen) of tab: how many floats of a and
 * b are equal; *total gets the number of weight floats. */
static int64_t weights_equal(const ijepa_tensor_table *tab, const float *a, const float *b,
                             int64_t *total)
{
    int64_t same = 0;
    *total = 0;
    for (int64_t i = 0; i < ijepa_tensor_table_count(tab); i++) {
        tinfo t = tensor_at(tab, i);
        if (t.ndim < 2 || (t.flags & IJEPA_TENSOR_FROZEN)) continue;
        for (int64_t j = 0; j < t.numel; j++) same += a[t.off + j] == b[t.off + j];
        *total += t.numel;
    }
    return same;
}

void expect_seeded(const ijepa_tensor_table *tab, const float *a, const float *b, const float *c,
                   int64_t count, uint64_t seed)
{
    ck_assert_msg(memcmp(a, b, (size_t)count * sizeof(float)) == 0,
                  "same seed, different parameters");
    int64_t total;
    const int64_t same = weights_equal(tab, a, c, &total);
    ck_assert_msg(same < total / 100, "seeds %llu and %llu share %lld of %lld weights",
                  (unsigned long long)seed, (unsigned long long)(seed + 1), (long long)same,
                  (long long)total);
}

void expect_reinit(const float *a, const float *c, const float *c_grads, int64_t count,
                   uint64_t seed)
{
    ck_assert_msg(memcmp(a, c, (size_t)count * sizeof(float)) == 0,
                  "init_params(%llu) differs from creation with seed %llu",
                  (unsigned long long)seed, (unsigned long long)seed);
    int64_t nz = first_not(c_grads, count, 0.0f);
    ck_assert_msg(nz < 0, "init_params left gradient %lld", (long long)nz);
}

// --- table layout -----------------------------------------------------------------------

void want_add(want_table *w, int32_t ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
              const char *fmt, ...)
{
    if (w->n >= (int)COUNT_OF(w->t))
        ck_abort_msg("want_add: more than %d tensors", (int)COUNT_OF(w->t));
    want_tensor *t = &w->t[w->n];
    va_list ap;
    va_start(ap, fmt);
    const int len = vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof t->name)
        ck_abort_msg("want_add: name '%s...' too long", t->name);
    t->ndim = ndim;
    t->dims[0] = d0;
    t->dims[1] = d1;
    t->dims[2] = d2;
    t->dims[3] = d3;
    w->n++;
}

void want_vit_blocks(want_table *w, const char *prefix, int64_t depth, int64_t D,
                     int64_t hidden, int qkv_bias)
{
    const struct { const char *suffix; int32_t ndim; int64_t d0, d1; } blk[] = {
        {"norm1.weight", 1, D, 1},
        {"norm1.bias", 1, D, 1},
        {"attn.qkv.weight", 2, 3 * D, D},
        {"attn.qkv.bias", 1, 3 * D, 1}, /* only with qkv_bias */
        {"attn.proj.weight", 2, D, D},
        {"attn.proj.bias", 1, D, 1},
        {"norm2.weight", 1, D, 1},
        {"norm2.bias", 1, D, 1},
        {"mlp.fc1.weight", 2, hidden, D},
        {"mlp.fc1.bias", 1, hidden, 1},
        {"mlp.fc2.weight", 2, D, hidden},
        {"mlp.fc2.bias", 1, D, 1},
    };
    for (int64_t i = 0; i < depth; i++)
        for (size_t k = 0; k < COUNT_OF(blk); k++) {
            if (!qkv_bias && strcmp(blk[k].suffix, "attn.qkv.bias") == 0) continue;
            want_add(w, blk[k].ndim, blk[k].d0, blk[k].d1, 1, 1, "%s.%lld.%s", prefix,
                     (long long)i, blk[k].suffix);
        }
}

void expect_tensor_table(const ijepa_tensor_table *tab, int64_t count, const want_table *w,
                         const char *frozen)
{
    const int nw = w->n;
    const want_tensor *want = w->t;
    ck_assert_int_eq(ijepa_tensor_table_count(tab), nw);
    ck_assert_int_eq(ijepa_tensor_table_buffer_size(tab), count);
    int64_t prev_end = 0;
    for (int i = 0; i < nw; i++) {
        tinfo t = tensor_at(tab, i);
        ck_assert_msg(strcmp(t.name, want[i].name) == 0, "tensor %d is '%s', want '%s'", i,
                      t.name, want[i].name);
        ck_assert_msg(t.ndim == want[i].ndim, "%s: ndim %d, want %d", t.name, (int)t.ndim,
                      (int)want[i].ndim);
        int64_t numel = 1;
        for (int d = 0; d < IJEPA_TENSOR_MAX_DIMS; d++) {
            ck_assert_msg(t.dims[d] == want[i].dims[d], "%s: dim %d is %lld, want %lld", t.name,
                          d, (long long)t.dims[d], (long long)want[i].dims[d]);
            numel *= want[i].dims[d];
        }
        ck_assert_int_eq(t.numel, numel);
        ck_assert_msg(t.off % 16 == 0, "%s: offset %lld not 16-float aligned", t.name,
                      (long long)t.off);
        ck_assert_msg(t.off >= prev_end, "%s: offset %lld overlaps the previous tensor "
                      "(ends at %lld) or breaks state-dict order", t.name, (long long)t.off,
                      (long long)prev_end);
        ck_assert_msg(t.off - prev_end < 16, "%s: %lld floats of padding before it", t.name,
                      (long long)(t.off - prev_end));
        prev_end = t.off + t.numel;
        ck_assert_msg(prev_end <= count, "%s ends at %lld beyond the buffer (%lld)", t.name,
                      (long long)prev_end, (long long)count);
        /* official rule: 'bias' in the name or a 1-D tensor (so the predictor's
         * mask_token [1, 1, Dp] is decayed: an official quirk) */
        const int no_decay = strstr(t.name, "bias") != NULL || t.ndim == 1;
        ck_assert_msg(!!(t.flags & IJEPA_TENSOR_NO_DECAY) == no_decay, "%s: NO_DECAY is %d",
                      t.name, !!(t.flags & IJEPA_TENSOR_NO_DECAY));
        const int is_frozen = strcmp(t.name, frozen) == 0;
        ck_assert_msg(!!(t.flags & IJEPA_TENSOR_FROZEN) == is_frozen, "%s: FROZEN is %d", t.name,
                      !!(t.flags & IJEPA_TENSOR_FROZEN));
        ck_assert_msg((t.flags & ~(IJEPA_TENSOR_NO_DECAY | IJEPA_TENSOR_FROZEN)) == 0,
                      "%s: unknown flags %d", t.name, (int)t.flags);
        int64_t idx = -1;
        ck_assert_int_eq(ijepa_tensor_table_find(tab, t.name, &idx), IJEPA_OK);
        ck_assert_int_eq(idx, i);
    }
    ck_assert_msg(count - prev_end < 16, "%lld floats after the last tensor",
                  (long long)(count - prev_end));
}

// --- init and gradients of a whole table -----------------------------------------------

int expect_init_stats(const ijepa_tensor_table *tab, const float *params, double std,
                      int64_t frac_min_n)
{
    int nweights = 0;
    for (int64_t i = 0; i < ijepa_tensor_table_count(tab); i++) {
        tinfo t = tensor_at(tab, i);
        const float *p = params + t.off;
        if (t.flags & IJEPA_TENSOR_FROZEN) continue;
        if (t.ndim >= 2) {
            double s1 = 0.0, s2 = 0.0;
            int64_t in1 = 0, out2 = 0;
            for (int64_t j = 0; j < t.numel; j++) {
                s1 += p[j];
                s2 += (double)p[j] * p[j];
                in1 += fabs(p[j]) <= std;
                out2 += fabs(p[j]) > 2.0;
            }
            const double n = (double)t.numel, mean = s1 / n;
            const double sd = sqrt(s2 / n - mean * mean), frac = (double)in1 / n;
            const double p1 = 0.682689492137;
            ck_assert_msg(fabs(mean) <= 5.0 * std / sqrt(n), "%s: mean %g (std %g, n %g)",
                          t.name, mean, std, n);
            ck_assert_msg(fabs(sd / std - 1.0) <= 5.0 / sqrt(2.0 * n),
                          "%s: sample std %g, want %g (n %g)", t.name, sd, std, n);
            if (t.numel >= frac_min_n)
                ck_assert_msg(fabs(frac - p1) <= 5.0 * sqrt(p1 * (1 - p1) / n),
                              "%s: fraction within 1 std %g, normal gives %g", t.name, frac, p1);
            ck_assert_msg(out2 == 0, "%s: %lld values outside [-2, 2]", t.name, (long long)out2);
            nweights++;
        } else {
            const float want = ends_with(t.name, ".weight") ? 1.0f : 0.0f;
            int64_t j = first_not(p, t.numel, want);
            ck_assert_msg(j < 0, "%s[%lld] = %g, want %g", t.name, (long long)j,
                          j < 0 ? 0.0 : (double)p[j], (double)want);
        }
    }
    return nweights;
}

void expect_sincos_embed(const float *p, int64_t G, int64_t D, const char *label)
{
    const int64_t n = G * G * D;
    double *want = ref_dalloc(n);
    ck_assert_ptr_nonnull(want);
    ref_vit_sincos(G, D, want);
    ref_cmp c = ref_compare_f(p, want, n, 1e-300, 2 * REF_U32, NULL);
    expect_close(&c, "%s G=%lld D=%lld", label, (long long)G, (long long)D);
    free(want);
    const float *e = p + (1 * G + 2) * D;
    ck_assert_float_eq_tol(e[0], (float)sin(2.0), 1e-7f);
    ck_assert_float_eq_tol(e[D / 4], (float)cos(2.0), 1e-7f);
    ck_assert_float_eq_tol(e[D / 2], (float)sin(1.0), 1e-7f);
    ck_assert_float_eq_tol(e[3 * D / 4], (float)cos(1.0), 1e-7f);
}

table_grads expect_table_grads(const ijepa_tensor_table *tab, const float *grads, double *pd,
                               double *fd, ref_fwd_fn fwd, void *ctx, int64_t ny,
                               const double *R, double rtol, double afloor, const char *label)
{
    table_grads r;
    memset(&r, 0, sizeof r);
    r.worst_name = "";
    for (int64_t i = 0; i < ijepa_tensor_table_count(tab); i++) {
        tinfo t = tensor_at(tab, i);
        const float *g = grads + t.off;
        r.covered += t.numel;
        if (t.flags & IJEPA_TENSOR_FROZEN) {
            int64_t j = first_not(g, t.numel, 0.0f);
            ck_assert_msg(j < 0, "frozen %s has gradient %g at %lld", t.name,
                          j < 0 ? 0.0 : (double)g[j], (long long)j);
            r.frozen++;
            continue;
        }
        ck_assert_int_eq(ref_fd_grad(fwd, ctx, pd + t.off, t.numel, ny, R, 1e-6, fd + t.off), 0);
        ref_cmp c = ref_compare_f(g, fd + t.off, t.numel,
                                  afloor * ref_max_abs_d(fd + t.off, t.numel), rtol, NULL);
        if (getenv("IJEPA_TEST_VERBOSE")) {
            char d[384];
            fprintf(stderr, "%s %s: %s\n", label, t.name, ref_cmp_str(&c, d, sizeof d));
        }
        if (c.worst_ratio > r.worst.worst_ratio || !*r.worst_name) {
            r.worst = c;
            r.worst_name = t.name;
        }
    }
    return r;
}

// --- encoder fixture ---------------------------------------------------------------------

void expect_grads_borrowed(const ijepa_config *cfg, int rc, const float *grads, int64_t n,
                           int64_t count)
{
    int64_t trainable;
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_TRAINABLE, &trainable), IJEPA_OK);
    if (trainable) {
        ck_assert_int_eq(rc, IJEPA_OK);
        ck_assert_ptr_nonnull(grads);
        ck_assert_int_eq(n, count);
    } else {
        ck_assert_int_eq(rc, IJEPA_ERR_STATE);
        ck_assert_ptr_null(grads);
        ck_assert_int_eq(n, 0);
    }
}

void enc_fx_open(enc_fx *f, ijepa_config *cfg)
{
    memset(f, 0, sizeof *f);
    f->cfg = cfg;
    int rc = ijepa_context_create(&f->ctx);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_context_create: %d %s", rc, ijepa_last_error());
    rc = ijepa_encoder_create(&f->enc, f->ctx, cfg);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_encoder_create: %d %s", rc, ijepa_last_error());
    int64_t n2;
    ck_assert_int_eq(ijepa_encoder_params(f->enc, &f->params, &f->count), IJEPA_OK);
    rc = ijepa_encoder_grads(f->enc, &f->grads, &n2);
    expect_grads_borrowed(cfg, rc, f->grads, n2, f->count);
    f->tab = ijepa_encoder_tensors(f->enc);
    ck_assert_ptr_nonnull(f->tab);
    f->N = ijepa_encoder_num_patches(f->enc);
    f->D = ijepa_encoder_embed_dim(f->enc);
}

void enc_fx_close(enc_fx *f)
{
    ijepa_optimizer_free(f->opt);
    ijepa_encoder_free(f->enc);
    ijepa_context_free(f->ctx);
    ijepa_config_free(f->cfg);
    memset(f, 0, sizeof *f);
}

// --- suites ------------------------------------------------------------------------

TCase *add_tcase(Suite *s, const char *name, int timeout)
{
    TCase *tc = tcase_create(name);
    if (timeout > 0) tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

// --- a scratch directory -----------------------------------------------------------

static char tmpdir[64];

void tmp_init(const char *tag)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ijepa-%s-XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

const char *tmp_dir(void) { return tmpdir; }

const char *tmp_path(const char *name)
{
    static char p[32][160];
    static int k;
    k = (k + 1) % 32;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

int tmp_count(const char *prefix)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            !strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

void tmp_cleanup(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
    closedir(d);
    rmdir(tmpdir);
}
