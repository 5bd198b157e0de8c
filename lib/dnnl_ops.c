/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: ops.h on oneDNN 2.6 (the v2 op-descriptor C API).
 *
 * This is the only file of the library that includes oneDNN. Each ops object
 * keeps a small cache of primitives keyed by operation and shape. An entry
 * holds the primitive and one memory object per execution argument; running
 * an op rebinds those memory objects to the caller's pointers
 * (dnnl_memory_set_data_handle) and executes, so a repeated op allocates
 * nothing. Every primitive uses a user-provided scratchpad: one buffer per ops
 * object, grown only when a primitive that needs more is created.
 */
#include <stdio.h> /* snprintf */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "amx.h"
#include "bf16.h"
#include "dpbf16.h"
#include "ops.h"
#include "pack.h"

struct ijepa__engine {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
};

enum {
    OP_MATMUL = 1, OP_LN_FWD, OP_LN_BWD, OP_SM_FWD, OP_SM_BWD, OP_GELU_FWD, OP_GELU_BWD,
    OP_PACK, OP_UNPACK
};

/* The row count of the matmul whose weights layout a pack plan adopts. */
#define PACK_PROBE_M 1024

#define KEY_LEN 12
#define MAX_ARGS 10

typedef struct entry {
    int64_t key[KEY_LEN];       /* key[0] == 0: free slot */
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[MAX_ARGS];
    uint64_t last_use;
    int unpack;                 /* packed matmul run on B unpacked (no primitive) */
} entry;

/* How ijepa__pack_b writes a K x N operand on this ops object. */
typedef struct pack_plan {
    int64_t K, N;
    int packed;                 /* 1: in md (oneDNN's blocked layout); 0: plain bf16 */
    int own;                    /* md is pack.h's layout, fmt: packed by ijepa__pack_bf16 */
    ijepa__blk_fmt fmt;
    dnnl_memory_desc_t md;
} pack_plan;

struct ijepa__ops {
    ijepa__engine *eng;
    ijepa__err *err;
    entry *entries;
    int32_t cap;
    uint64_t clock;
    void *scratch;              /* shared scratchpad, 64-byte aligned */
    size_t scratch_size;
    float *emu;                 /* float32 copies of emulated bf16 matmul operands */
    size_t emu_floats;
    uint16_t *tmp16;            /* bf16 scratch: a mapped product's C or a LayerNorm's output,
                                 * when not on the own kernel */
    size_t tmp16_n;
    int bf16_native;            /* bf16 matmuls on oneDNN's bf16 kernels (AMX, AVX512-BF16) */
    int64_t built;              /* primitives created so far */
    int simd;                   /* level of the bf16.h kernels (ijepa__simd_level) */
    pack_plan *plans;           /* one per (K, N) packed so far */
    int32_t nplans, cap_plans;
    int pack_mode;              /* ijepa__ops_set_packing */
    int64_t pack_fallbacks;     /* packed matmul shapes run on unpacked B */
    int amx;                    /* packed matmuls on amx.h's kernel (ijepa__ops_set_amx) */
    int isa_amx;                /* oneDNN dispatches to AMX (not capped below it) */
    int isa_bf16;               /* ... to AVX512-BF16 or AMX */
    int amx_wgrad;              /* weight gradients on an own kernel (amx.h, dpbf16.h) */
    int amx_bmm;                /* bf16-out products (attention) on an own kernel */
};

static int map_status(dnnl_status_t st)
{
    switch (st) {
    case dnnl_success: return IJEPA_OK;
    case dnnl_out_of_memory: return IJEPA_ERR_NOMEM;
    case dnnl_unimplemented: return IJEPA_ERR_UNSUPPORTED;
    default: return IJEPA_ERR_BACKEND;
    }
}

static int dnnl_fail(ijepa__err *err, dnnl_status_t st, const char *what)
{
    return ijepa__fail(err, map_status(st), "oneDNN %s failed: %s", what,
                       dnnl_status2str(st));
}

// --- engine ---------------------------------------------------------------------

int ijepa__engine_create(ijepa__engine **out, ijepa__err *err)
{
    *out = NULL;
    ijepa__engine *eng = calloc(1, sizeof *eng);
    if (!eng)
        return ijepa__fail(err, IJEPA_ERR_NOMEM, "cannot allocate the engine");
    dnnl_status_t st = dnnl_engine_create(&eng->engine, dnnl_cpu, 0);
    if (st != dnnl_success) {
        free(eng);
        return dnnl_fail(err, st, "CPU engine creation");
    }
    st = dnnl_stream_create(&eng->stream, eng->engine, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        dnnl_engine_destroy(eng->engine);
        free(eng);
        return dnnl_fail(err, st, "stream creation");
    }
    *out = eng;
    return IJEPA_OK;
}

void ijepa__engine_free(ijepa__engine *eng)
{
    if (!eng)
        return;
    dnnl_stream_destroy(eng->stream);
    dnnl_engine_destroy(eng->engine);
    free(eng);
}

const char *ijepa__engine_isa(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
    }
}

/* dnnl_cpu_isa_t values are cumulative bit masks: an ISA includes another
 * when it has all of its bits. */
static int isa_has(int isa, dnnl_cpu_isa_t want) { return (isa & (int)want) == (int)want; }

void ijepa__engine_version(int *major, int *minor, int *patch)
{
    const dnnl_version_t *v = dnnl_version();
    *major = v->major;
    *minor = v->minor;
    *patch = v->patch;
}

/* bf16 matmuls run on oneDNN's bf16 kernels from AVX512-BF16 up: AMX, and
 * the dot-product instruction of AVX512-BF16 (vdpbf16ps), which oneDNN
 * 2.6.3 ran at 2.05x its float32 GEMM peak on AMD Zen 4
 * (docs/performance.md). Below that, emulated. */
static int bf16_native_isa(int isa) { return isa_has(isa, dnnl_cpu_isa_avx512_core_bf16); }

int ijepa__engine_bf16_native(void)
{
    return bf16_native_isa((int)dnnl_get_effective_cpu_isa());
}

// --- the primitive cache ------------------------------------------------------------

/* The switches and what oneDNN dispatches to, as a new ops object has them. */
static void ops_defaults(ijepa__ops *ops)
{
    ops->pack_mode = 1;
    ops->amx = 1;
    ops->amx_wgrad = 1;
    ops->amx_bmm = 1;
    const int isa = (int)dnnl_get_effective_cpu_isa();
    ops->bf16_native = bf16_native_isa(isa);
    ops->isa_bf16 = isa_has(isa, dnnl_cpu_isa_avx512_core_bf16);
    /* the emulated tiles (a test build) stand in for AMX where the CPU has
     * AVX512-BF16; oneDNN itself still runs on what it found */
    ops->isa_amx = isa_has(isa, dnnl_cpu_isa_avx512_core_amx) ||
                   (ijepa__amx_emulated() && ops->isa_bf16);
    ops->simd = ijepa__simd_level(isa_has(isa, dnnl_cpu_isa_avx512_core) ? IJEPA__SIMD_AVX512
                                  : isa_has(isa, dnnl_cpu_isa_avx2)      ? IJEPA__SIMD_AVX2
                                                                         : IJEPA__SIMD_GENERIC);
}

int ijepa__ops_create(ijepa__ops **out, ijepa__engine *eng, int32_t capacity,
                      ijepa__err *err)
{
    *out = NULL;
    if (capacity < 1)
        return ijepa__fail(err, IJEPA_ERR_INVALID_ARG, "cache capacity %d < 1", (int)capacity);
    ijepa__ops *ops = calloc(1, sizeof *ops);
    entry *entries = calloc((size_t)capacity, sizeof *entries);
    if (!ops || !entries) {
        free(ops);
        free(entries);
        return ijepa__fail(err, IJEPA_ERR_NOMEM, "cannot allocate the primitive cache");
    }
    ops->eng = eng;
    ops->err = err;
    ops->entries = entries;
    ops->cap = capacity;
    ops_defaults(ops);
    *out = ops;
    return IJEPA_OK;
}

int ijepa__ops_bf16_native(const ijepa__ops *ops) { return ops->bf16_native; }

ijepa__err *ijepa__ops_err(const ijepa__ops *ops) { return ops->err; }

void ijepa__ops_set_bf16_native(ijepa__ops *ops, int native)
{
    ops->bf16_native = native >= 0 ? !!native : ijepa__engine_bf16_native();
}

int ijepa__ops_simd(const ijepa__ops *ops) { return ops->simd; }

int64_t ijepa__ops_built(const ijepa__ops *ops) { return ops ? ops->built : 0; }

int64_t ijepa__ops_scratch_bytes(const ijepa__ops *ops)
{
    return ops ? (int64_t)(ops->scratch_size + ops->emu_floats * sizeof(float) +
                           ops->tmp16_n * sizeof(uint16_t))
               : 0;
}

static void entry_release(entry *e)
{
    for (int i = 0; i < e->nargs; i++)
        dnnl_memory_destroy(e->args[i].memory);
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    memset(e, 0, sizeof *e);
}

void ijepa__ops_free(ijepa__ops *ops)
{
    if (!ops)
        return;
    for (int32_t i = 0; i < ops->cap; i++)
        entry_release(&ops->entries[i]);
    free(ops->entries);
    free(ops->plans);
    free(ops->scratch);
    free(ops->emu);
    free(ops->tmp16);
    free(ops);
}

static entry *cache_find(ijepa__ops *ops, const int64_t *key)
{
    for (int32_t i = 0; i < ops->cap; i++) {
        entry *e = &ops->entries[i];
        if (e->key[0] != 0 && memcmp(e->key, key, sizeof e->key) == 0) {
            e->last_use = ++ops->clock;
            return e;
        }
    }
    return NULL;
}

/* A free slot, or the least recently used one, released. */
static entry *cache_slot(ijepa__ops *ops)
{
    entry *victim = &ops->entries[0];
    for (int32_t i = 0; i < ops->cap; i++) {
        entry *e = &ops->entries[i];
        if (e->key[0] == 0)
            return e;
        if (e->last_use < victim->last_use)
            victim = e;
    }
    entry_release(victim);
    return victim;
}

/*
 * Fill a fresh entry from a primitive descriptor: the primitive, and a memory
 * object (without buffer) for each wanted argument the descriptor uses, plus
 * the scratchpad. Takes ownership of pd (destroyed here).
 */
static int entry_build(ijepa__ops *ops, entry *e, const int64_t *key,
                       dnnl_primitive_desc_t pd, const int *wanted, int nwanted,
                       const char *what)
{
    int rc = IJEPA_OK;
    dnnl_status_t st = dnnl_primitive_create(&e->prim, pd);
    if (st != dnnl_success) {
        rc = dnnl_fail(ops->err, st, what);
        goto done;
    }
    int all[MAX_ARGS];
    memcpy(all, wanted, (size_t)nwanted * sizeof *wanted);
    all[nwanted] = DNNL_ARG_SCRATCHPAD;
    for (int i = 0; i <= nwanted; i++) {
        const dnnl_memory_desc_t *md =
            dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, all[i]);
        if (!md || md->ndims == 0)
            continue;
        if (all[i] == DNNL_ARG_SCRATCHPAD) {
            size_t need = dnnl_memory_desc_get_size(md);
            if (need > ops->scratch_size) {
                size_t bytes = (need + 4095) & ~(size_t)4095;
                void *p = aligned_alloc(64, bytes);
                if (!p) {
                    rc = ijepa__fail(ops->err, IJEPA_ERR_NOMEM,
                                     "cannot allocate a %zu-byte scratchpad", bytes);
                    goto done;
                }
                free(ops->scratch);
                ops->scratch = p;
                ops->scratch_size = bytes;
            }
        }
        dnnl_memory_t mem;
        st = dnnl_memory_create(&mem, md, ops->eng->engine, DNNL_MEMORY_NONE);
        if (st != dnnl_success) {
            rc = dnnl_fail(ops->err, st, "memory object creation");
            goto done;
        }
        e->args[e->nargs].arg = all[i];
        e->args[e->nargs].memory = mem;
        e->nargs++;
    }
    memcpy(e->key, key, sizeof e->key);
    e->last_use = ++ops->clock;
    ops->built++;
done:
    dnnl_primitive_desc_destroy(pd);
    if (rc != IJEPA_OK)
        entry_release(e);
    return rc;
}

/*
 * Bind pointers to the entry's arguments and run it. ptrs[i] goes to argument
 * ids[i]; arguments the primitive does not use are ignored, and a used
 * argument without a pointer is an internal error.
 */
static int entry_run(ijepa__ops *ops, entry *e, const int *ids, void *const *ptrs,
                     int n, const char *what)
{
    for (int a = 0; a < e->nargs; a++) {
        void *p = NULL;
        if (e->args[a].arg == DNNL_ARG_SCRATCHPAD)
            p = ops->scratch;
        for (int i = 0; i < n; i++)
            if (ids[i] == e->args[a].arg)
                p = ptrs[i];
        if (!p)
            return ijepa__fail(ops->err, IJEPA_ERR_BACKEND,
                               "%s needs argument %d that was not given", what,
                               e->args[a].arg);
        dnnl_status_t st = dnnl_memory_set_data_handle(e->args[a].memory, p);
        if (st != dnnl_success)
            return dnnl_fail(ops->err, st, "binding a buffer");
    }
    dnnl_status_t st = dnnl_primitive_execute(e->prim, ops->eng->stream, e->nargs, e->args);
    if (st == dnnl_success)
        st = dnnl_stream_wait(ops->eng->stream);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, what);
    return IJEPA_OK;
}

static int make_attr(ijepa__ops *ops, dnnl_primitive_attr_t *attr)
{
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "attribute creation");
    st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return dnnl_fail(ops->err, st, "attribute creation");
    }
    return IJEPA_OK;
}

static int make_pd(ijepa__ops *ops, dnnl_primitive_desc_t *pd, const void *desc,
                   dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint,
                   const char *what)
{
    dnnl_status_t st = dnnl_primitive_desc_create(pd, desc, attr, ops->eng->engine, hint);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, what);
    return IJEPA_OK;
}

/*
 * A new cache entry (*out) for key: the primitive of desc with the user
 * scratchpad and the wanted arguments (entry_build); hint: the forward's
 * primitive descriptor where desc is a backward's, else NULL. Failures
 * name "<what> descriptor" or "<what> creation".
 */
static int entry_new(ijepa__ops *ops, entry **out, const int64_t *key, const void *desc,
                     const_dnnl_primitive_desc_t hint, const int *wanted, int nwanted,
                     const char *what)
{
    char msg[96];
    dnnl_primitive_attr_t attr;
    int rc = make_attr(ops, &attr);
    if (rc < 0)
        return rc;
    dnnl_primitive_desc_t pd;
    snprintf(msg, sizeof msg, "%s descriptor", what);
    rc = make_pd(ops, &pd, desc, attr, hint, msg);
    dnnl_primitive_attr_destroy(attr);
    if (rc < 0)
        return rc;
    entry *e = cache_slot(ops);
    snprintf(msg, sizeof msg, "%s creation", what);
    if ((rc = entry_build(ops, e, key, pd, wanted, nwanted, msg)) < 0)
        return rc;
    *out = e;
    return IJEPA_OK;
}

static int md_init_dt(ijepa__ops *ops, dnnl_memory_desc_t *md, int nd, const int64_t *d,
                      dnnl_format_tag_t tag, dnnl_data_type_t dt)
{
    dnnl_dims_t dims = {0};
    for (int i = 0; i < nd; i++)
        dims[i] = d[i];
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(md, nd, dims, dt, tag);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "memory descriptor creation");
    return IJEPA_OK;
}

static int md_init(ijepa__ops *ops, dnnl_memory_desc_t *md, int nd,
                   const int64_t *d, dnnl_format_tag_t tag)
{
    return md_init_dt(ops, md, nd, d, tag, dnnl_f32);
}

static int check_dims(ijepa__ops *ops, const char *what, int n, const int64_t *d)
{
    for (int i = 0; i < n; i++)
        if (d[i] < 1)
            return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                               "%s: dimension %d is %lld, must be >= 1", what, i,
                               (long long)d[i]);
    return IJEPA_OK;
}

static int64_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (int64_t)u;
}

// --- matmul ---------------------------------------------------------------------------

static int packed_matmul_unpacked(ijepa__ops *ops, int64_t M, int64_t N, int64_t K,
                                  const void *A, int trans_a, const void *B,
                                  const pack_plan *pk, const float *bias, float alpha,
                                  int accumulate, const float *addend, void *C, int flags);

/* 1 when the primitive descriptor's implementation is oneDNN's brgemm. */
static int is_brgemm(const_dnnl_primitive_desc_t pd)
{
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success ||
        !impl)
        return 0;
    return strncmp(impl, "brg", 3) == 0;
}

/* One oneDNN matmul (see ijepa__matmul_x); flags say the data types;
 * addend (or NULL) is added by a binary post-op. pk: B is packed by that
 * plan (batch 1; the descriptors are then 2-D, as oneDNN 2.6.3's brgemm
 * takes a blocked B only in 2-D), else NULL. */
static int matmul_run(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                      const void *A, int trans_a, const void *B, int trans_b,
                      const float *bias, float alpha, int accumulate, const float *addend,
                      void *C, int flags, const pack_plan *pk)
{
    const int64_t key[KEY_LEN] = {OP_MATMUL, batch, M, N, K, !!trans_a, pk ? 0 : !!trans_b,
                                  bias != NULL, !!accumulate, float_bits(alpha),
                                  flags & (IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16 | IJEPA__MM_GELU |
                                           (pk ? IJEPA__MM_B_PACKED : 0)),
                                  addend != NULL};
    entry *e = cache_find(ops, key);
    if (!e) {
        const dnnl_data_type_t ab = flags & IJEPA__MM_BF16 ? dnnl_bf16 : dnnl_f32;
        const dnnl_data_type_t c = flags & IJEPA__MM_OUT_BF16 ? dnnl_bf16 : dnnl_f32;
        dnnl_memory_desc_t a_md, b_md, bias_md, c_md;
        /* 3-D [batch, rows, cols], or 2-D [rows, cols] with a packed B */
        const int nd = pk ? 2 : 3, o = pk ? 1 : 0;
        const int64_t ad[3] = {batch, M, K}, bd[3] = {batch, K, N};
        const int64_t cd[3] = {batch, M, N}, biasd[3] = {1, 1, N};
        const dnnl_format_tag_t plain = pk ? dnnl_ab : dnnl_abc, tr = pk ? dnnl_ba : dnnl_acb;
        int rc;
        if ((rc = md_init_dt(ops, &a_md, nd, ad + o, trans_a ? tr : plain, ab)) < 0 ||
            (!pk && (rc = md_init_dt(ops, &b_md, nd, bd + o, trans_b ? tr : plain, ab)) < 0) ||
            (rc = md_init_dt(ops, &c_md, nd, cd + o, plain, c)) < 0 ||
            (rc = md_init(ops, &bias_md, nd, biasd + o, plain)) < 0)
            return rc;
        if (pk)
            b_md = pk->md;
        dnnl_matmul_desc_t desc;
        dnnl_status_t st = dnnl_matmul_desc_init(&desc, &a_md, &b_md,
                                                 bias ? &bias_md : NULL, &c_md);
        if (st != dnnl_success)
            return dnnl_fail(ops->err, st, "matmul descriptor");
        dnnl_primitive_attr_t attr;
        if ((rc = make_attr(ops, &attr)) < 0)
            return rc;
        if (alpha != 1.0f)
            st = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
        dnnl_memory_desc_t add_md;
        if (addend && (rc = md_init(ops, &add_md, nd, cd + o, plain)) < 0) {
            dnnl_primitive_attr_destroy(attr);
            return rc;
        }
        if (st == dnnl_success && (accumulate || addend || (flags & IJEPA__MM_GELU))) {
            dnnl_post_ops_t po;
            st = dnnl_post_ops_create(&po);
            if (st == dnnl_success) {
                if (accumulate)
                    st = dnnl_post_ops_append_sum(po, 1.0f);
                else if (addend)
                    st = dnnl_post_ops_append_binary(po, dnnl_binary_add, &add_md);
                else
                    st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_erf, 0.f, 0.f);
                if (st == dnnl_success)
                    st = dnnl_primitive_attr_set_post_ops(attr, po);
                dnnl_post_ops_destroy(po);
            }
        }
        dnnl_primitive_desc_t pd = NULL;
        if (st != dnnl_success)
            rc = dnnl_fail(ops->err, st, "matmul attributes");
        else if (pk)
            /* any failure here (unimplemented with this layout) takes the
             * unpack fallback below rather than failing the step */
            st = dnnl_primitive_desc_create(&pd, &desc, attr, ops->eng->engine, NULL);
        else
            rc = make_pd(ops, &pd, &desc, attr, NULL, "matmul primitive descriptor");
        dnnl_primitive_attr_destroy(attr);
        if (rc < 0)
            return rc;
        if (pk && (st != dnnl_success || ops->pack_mode == 2 || !is_brgemm(pd))) {
            /* not brgemm with the fixed layout for this M (oneDNN's
             * reference kernel would be slower than anything): this shape
             * runs the plain matmul on B unpacked into scratch */
            dnnl_primitive_desc_destroy(pd);
            e = cache_slot(ops);
            memcpy(e->key, key, sizeof e->key);
            e->unpack = 1;
            e->last_use = ++ops->clock;
            ops->pack_fallbacks++;
        } else {
            static const int wanted[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS,
                                         DNNL_ARG_DST,
                                         DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1};
            e = cache_slot(ops);
            if ((rc = entry_build(ops, e, key, pd, wanted, addend ? 5 : 4,
                                  "matmul creation")) < 0)
                return rc;
        }
    }
    if (e->unpack)
        return packed_matmul_unpacked(ops, M, N, K, A, trans_a, B, pk, bias, alpha, accumulate,
                                      addend, C, flags);
    const int ids[5] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
                        DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1};
    void *const ptrs[5] = {(void *)A, (void *)B, (void *)bias, C, (void *)addend};
    return entry_run(ops, e, ids, ptrs, 5, "matmul");
}

/* The ops' scratch, grown to n floats (never shrunk): an emulated bf16
 * matmul's float32 operands, or the own AMX kernels' tiles and sums; what
 * names the operation in the message when it cannot grow. */
static float *emu_buffer(ijepa__ops *ops, int64_t n, const char *what)
{
    if ((size_t)n > ops->emu_floats) {
        const size_t bytes = ((size_t)n * sizeof(float) + 4095) & ~(size_t)4095;
        float *p = aligned_alloc(64, bytes);
        if (!p) {
            ijepa__fail(ops->err, IJEPA_ERR_NOMEM,
                        "%s: cannot allocate %zu bytes of scratch", what, bytes);
            return NULL;
        }
        free(ops->emu);
        ops->emu = p;
        ops->emu_floats = bytes / sizeof(float);
    }
    return ops->emu;
}

// --- pre-packed B ----------------------------------------------------------------------

int64_t ijepa__pack_bytes(int64_t K, int64_t N)
{
    if (K < 1 || N < 1)
        return 0;
    return ((K + 31) / 32 * 32) * ((N + 63) / 64 * 64) * 2;
}

/* Packing applies: bf16 on oneDNN's kernels and not switched off. */
static int packing_on(const ijepa__ops *ops) { return ops->bf16_native && ops->pack_mode; }

/* 1 when a reorder from a float32 K x N matrix (ab, or ba when trans) into
 * md exists, 0 when oneDNN has none, or a negative status. */
static int reorder_exists(ijepa__ops *ops, int64_t K, int64_t N, int trans,
                          const dnnl_memory_desc_t *md)
{
    dnnl_memory_desc_t src;
    const int64_t d[2] = {K, N};
    int rc = md_init(ops, &src, 2, d, trans ? dnnl_ba : dnnl_ab);
    if (rc < 0)
        return rc;
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, &src, ops->eng->engine, md,
                                                          ops->eng->engine, NULL);
    if (st == dnnl_unimplemented)
        return 0;
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "reorder descriptor");
    dnnl_primitive_desc_destroy(pd);
    return 1;
}

/* 1 when md (K x N bf16) is exactly pack.h's layout; fills f. */
static int own_layout(const dnnl_memory_desc_t *md, int64_t K, int64_t N, ijepa__blk_fmt *f)
{
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    if (md->ndims != 2 || md->format_kind != dnnl_blocked || md->data_type != dnnl_bf16 ||
        md->offset0 != 0 || md->padded_offsets[0] != 0 || md->padded_offsets[1] != 0 ||
        b->inner_nblks != 3 || b->inner_blks[0] != 16 || b->inner_idxs[0] != 0 ||
        b->inner_idxs[1] != 1 || b->inner_blks[2] != 2 || b->inner_idxs[2] != 0)
        return 0;
    const int64_t nb = b->inner_blks[1];
    if (nb != 16 && nb != 32 && nb != 64)
        return 0;
    f->nb = nb;
    f->Kp = (K + 31) / 32 * 32;
    f->Np = (N + nb - 1) / nb * nb;
    f->sk = b->strides[0];
    f->sn = b->strides[1];
    /* dense: the blocks tile [0, Kp Np) either way round */
    const int ba = f->sk == 32 * nb && f->sn == f->Kp * nb;
    const int ab = f->sn == 32 * nb && f->sk == f->Np * 32;
    return md->padded_dims[0] == f->Kp && md->padded_dims[1] == f->Np && (ba || ab) &&
           dnnl_memory_desc_get_size(md) == (size_t)(f->Kp * f->Np * 2);
}

/*
 * Decide how a K x N operand is packed: the weights layout oneDNN picks for
 * a bf16 matmul of PACK_PROBE_M rows with B "any", if it is a blocked layout
 * without extra data (no compensation), within ijepa__pack_bytes, chosen by
 * brgemm, and reachable by a reorder from both float32 orders; else plain.
 */
static int plan_make(ijepa__ops *ops, int64_t K, int64_t N, pack_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->K = K;
    pl->N = N;
    dnnl_memory_desc_t a_md, b_md, c_md;
    const int64_t ad[2] = {PACK_PROBE_M, K}, bd[2] = {K, N}, cd[2] = {PACK_PROBE_M, N};
    int rc;
    if ((rc = md_init_dt(ops, &a_md, 2, ad, dnnl_ab, dnnl_bf16)) < 0 ||
        (rc = md_init_dt(ops, &b_md, 2, bd, dnnl_format_tag_any, dnnl_bf16)) < 0 ||
        (rc = md_init(ops, &c_md, 2, cd, dnnl_ab)) < 0)
        return rc;
    dnnl_matmul_desc_t desc;
    dnnl_status_t st = dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &c_md);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "matmul descriptor");
    dnnl_primitive_attr_t attr;
    if ((rc = make_attr(ops, &attr)) < 0)
        return rc;
    dnnl_primitive_desc_t pd;
    st = dnnl_primitive_desc_create(&pd, &desc, attr, ops->eng->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st == dnnl_unimplemented)
        return IJEPA_OK; /* plain */
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "matmul primitive descriptor");
    const dnnl_memory_desc_t *w = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const int ok = w && is_brgemm(pd) && w->format_kind == dnnl_blocked &&
                   w->data_type == dnnl_bf16 && w->extra.flags == 0 &&
                   w->format_desc.blocking.inner_nblks > 0 &&
                   dnnl_memory_desc_get_size(w) <= (size_t)ijepa__pack_bytes(K, N);
    if (ok)
        pl->md = *w;
    dnnl_primitive_desc_destroy(pd);
    if (!ok)
        return IJEPA_OK;
    /* pack.h's kernel where the layout is its own and AVX-512 runs it, else
     * oneDNN's reorder (which must exist from both float32 orders) */
    pl->own = own_layout(&pl->md, K, N, &pl->fmt) && ops->simd >= IJEPA__SIMD_AVX512;
    /* for amx.h's kernel, 16-column blocks instead of brgemm's choice: each
     * block is then one 1 KiB tile, a column block's steps of K follow one
     * another, and the tile loads stream (5-15 % faster products on the
     * ViT-S shapes, docs/performance.md). oneDNN reads the layout too, where
     * it runs a packed product (or unpacks it, as for any layout). */
    if (pl->own && N % 32 == 0 && ijepa__ops_amx(ops)) {
        dnnl_memory_desc_t tl;
        if ((rc = md_init_dt(ops, &tl, 2, bd, dnnl_BA16a16b2a, dnnl_bf16)) < 0)
            return rc;
        ijepa__blk_fmt tf;
        if (own_layout(&tl, K, N, &tf) &&
            dnnl_memory_desc_get_size(&tl) <= (size_t)ijepa__pack_bytes(K, N)) {
            pl->md = tl;
            pl->fmt = tf;
        }
    }
    for (int trans = 0; trans < 2 && !pl->own; trans++)
        if ((rc = reorder_exists(ops, K, N, trans, &pl->md)) <= 0)
            return rc;
    pl->packed = 1;
    return IJEPA_OK;
}

/* The plan of a K x N operand, made on first use. */
static int plan_get(ijepa__ops *ops, int64_t K, int64_t N, const pack_plan **out)
{
    for (int32_t i = 0; i < ops->nplans; i++)
        if (ops->plans[i].K == K && ops->plans[i].N == N) {
            *out = &ops->plans[i];
            return IJEPA_OK;
        }
    if (ops->nplans == ops->cap_plans) {
        const int32_t cap = ops->cap_plans ? 2 * ops->cap_plans : 8;
        pack_plan *p = realloc(ops->plans, (size_t)cap * sizeof *p);
        if (!p)
            return ijepa__fail(ops->err, IJEPA_ERR_NOMEM, "cannot allocate a pack plan");
        ops->plans = p;
        ops->cap_plans = cap;
    }
    pack_plan *pl = &ops->plans[ops->nplans];
    int rc = plan_make(ops, K, N, pl);
    if (rc < 0)
        return rc;
    ops->nplans++;
    *out = pl;
    return IJEPA_OK;
}

/* The plan when B is packed on this ops object, else NULL (*out). */
static int plan_packed(ijepa__ops *ops, int64_t K, int64_t N, const pack_plan **out)
{
    *out = NULL;
    if (!packing_on(ops))
        return IJEPA_OK;
    const pack_plan *pl = NULL;
    int rc = plan_get(ops, K, N, &pl);
    if (rc < 0)
        return rc;
    if (pl->packed)
        *out = pl;
    return IJEPA_OK;
}

int ijepa__pack_layout(ijepa__ops *ops, int64_t K, int64_t N)
{
    const int64_t d[2] = {K, N};
    int rc = check_dims(ops, "pack", 2, d);
    if (rc < 0)
        return rc;
    const pack_plan *pl;
    if ((rc = plan_packed(ops, K, N, &pl)) < 0)
        return rc;
    return pl != NULL;
}

void ijepa__ops_set_packing(ijepa__ops *ops, int mode) { ops->pack_mode = mode; }

void ijepa__ops_set_amx(ijepa__ops *ops, int on) { ops->amx = on; }

/* 1 when dpbf16.h's kernels run here: oneDNN dispatches to AVX512-BF16
 * (not capped below it) and the CPU has it. */
static int dp_usable(const ijepa__ops *ops)
{
    return ops->isa_bf16 && ops->simd >= IJEPA__SIMD_AVX512 && ijepa__dpbf16_usable();
}

/* Also only where oneDNN dispatches to AMX: ONEDNN_MAX_CPU_ISA below it
 * keeps the own kernels off too. */
int ijepa__ops_amx(const ijepa__ops *ops)
{
    return ops->amx && ops->isa_amx && ijepa__amx_usable();
}

void ijepa__ops_set_amx_wgrad(ijepa__ops *ops, int on) { ops->amx_wgrad = on; }

void ijepa__ops_set_amx_bmm(ijepa__ops *ops, int on) { ops->amx_bmm = on; }

int64_t ijepa__ops_pack_fallbacks(const ijepa__ops *ops) { return ops ? ops->pack_fallbacks : 0; }

/* A cached reorder between a packed layout and a plain one: OP_PACK from
 * float32 (ba when trans) into pk->md, OP_UNPACK from pk->md into plain
 * bf16 ab. */
static int pack_reorder(ijepa__ops *ops, int op, const pack_plan *pk, int trans,
                        const void *from, void *to)
{
    const int64_t key[KEY_LEN] = {op, pk->K, pk->N, !!trans};
    entry *e = cache_find(ops, key);
    if (!e) {
        dnnl_memory_desc_t plain;
        const int64_t d[2] = {pk->K, pk->N};
        int rc = op == OP_PACK ? md_init(ops, &plain, 2, d, trans ? dnnl_ba : dnnl_ab)
                               : md_init_dt(ops, &plain, 2, d, dnnl_ab, dnnl_bf16);
        if (rc < 0)
            return rc;
        dnnl_primitive_attr_t attr;
        if ((rc = make_attr(ops, &attr)) < 0)
            return rc;
        dnnl_primitive_desc_t pd;
        dnnl_status_t st = dnnl_reorder_primitive_desc_create(
            &pd, op == OP_PACK ? &plain : &pk->md, ops->eng->engine,
            op == OP_PACK ? &pk->md : &plain, ops->eng->engine, attr);
        dnnl_primitive_attr_destroy(attr);
        if (st != dnnl_success)
            return dnnl_fail(ops->err, st, "reorder descriptor");
        static const int wanted[] = {DNNL_ARG_FROM, DNNL_ARG_TO};
        e = cache_slot(ops);
        if ((rc = entry_build(ops, e, key, pd, wanted, 2, "reorder creation")) < 0)
            return rc;
    }
    const int ids[2] = {DNNL_ARG_FROM, DNNL_ARG_TO};
    void *const ptrs[2] = {(void *)from, to};
    return entry_run(ops, e, ids, ptrs, 2, op == OP_PACK ? "packing" : "unpacking");
}

int ijepa__pack_b(ijepa__ops *ops, int64_t K, int64_t N, const float *B, int trans_b,
                  void *dst)
{
    const int64_t d[2] = {K, N};
    int rc = check_dims(ops, "pack", 2, d);
    if (rc < 0)
        return rc;
    const pack_plan *pk;
    if ((rc = plan_packed(ops, K, N, &pk)) < 0)
        return rc;
    if (!pk) { /* plain bf16, stored as B is */
        ijepa__to_bf16(ops->simd, B, dst, K * N);
        return IJEPA_OK;
    }
    if (pk->own) {
        ijepa__pack_bf16(ops->simd, B, trans_b, K, N, &pk->fmt, dst);
        return IJEPA_OK;
    }
    return pack_reorder(ops, OP_PACK, pk, trans_b, B, dst);
}

/* The fallback of a packed matmul whose M has no brgemm kernel for the
 * packed layout: B unpacked into plain bf16 scratch, the plain matmul. */
static int packed_matmul_unpacked(ijepa__ops *ops, int64_t M, int64_t N, int64_t K,
                                  const void *A, int trans_a, const void *B,
                                  const pack_plan *pk, const float *bias, float alpha,
                                  int accumulate, const float *addend, void *C, int flags)
{
    ijepa__bf16 *b16 = (ijepa__bf16 *)(void *)emu_buffer(ops, (K * N + 1) / 2, "matmul");
    if (!b16)
        return IJEPA_ERR_NOMEM;
    int rc = pack_reorder(ops, OP_UNPACK, pk, 0, B, b16);
    if (rc < 0)
        return rc;
    return matmul_run(ops, 1, M, N, K, A, trans_a, b16, 0, bias, alpha, accumulate, addend, C,
                      flags & ~IJEPA__MM_B_PACKED, NULL);
}

/* 1 when a packed matmul on pk runs on amx.h's kernel: it reads the same
 * layout as oneDNN's brgemm and is faster on the shapes of a step
 * (docs/performance.md). */
static int amx_kernel(const ijepa__ops *ops, const pack_plan *pk)
{
    return pk && pk->own && ops->bf16_native && ops->pack_mode == 1 && ijepa__ops_amx(ops);
}

/* A packed matmul on amx.h's kernel; ah: A in the heads layout, or NULL. */
static int amx_run(ijepa__ops *ops, int64_t M, int64_t N, int64_t K, const void *A,
                   const ijepa__amx_heads *ah, const void *B, const pack_plan *pk,
                   const ijepa__amx_epi *e, void *C)
{
    const int threads = omp_get_max_threads();
    void *scratch = emu_buffer(ops, (ijepa__amx_scratch_bytes(N, K, threads) + 3) / 4, "matmul");
    if (!scratch)
        return IJEPA_ERR_NOMEM;
    ijepa__amx_matmul(M, N, K, A, ah, B, &pk->fmt, e, C, scratch, threads);
    return IJEPA_OK;
}

int ijepa__ops_fusable(ijepa__ops *ops, int64_t K, int64_t N, int64_t hd)
{
    const pack_plan *pk;
    if (K < 1 || N < 1 || hd < 0 || hd % 32 != 0 || plan_packed(ops, K, N, &pk) < 0)
        return 0;
    return amx_kernel(ops, pk);
}

/* The ops' bf16 scratch of at least n values (grown, never shrunk). */
static uint16_t *tmp16(ijepa__ops *ops, int64_t n)
{
    if ((size_t)n > ops->tmp16_n) {
        uint16_t *p = malloc((size_t)n * sizeof *p);
        if (!p) {
            ijepa__fail(ops->err, IJEPA_ERR_NOMEM, "matmul: cannot allocate %zu bytes of scratch",
                        (size_t)n * sizeof *p);
            return NULL;
        }
        free(ops->tmp16);
        ops->tmp16 = p;
        ops->tmp16_n = (size_t)n;
    }
    return ops->tmp16;
}

/* Which own kernel takes a weight gradient of O x I outputs, if any. */
static int wgrad_amx(const ijepa__ops *ops, int64_t O, int64_t I)
{
    return ops->amx_wgrad && ops->bf16_native && ijepa__ops_amx(ops) && O % 32 == 0 &&
           I % 32 == 0 && O <= INT32_MAX && I <= INT32_MAX;
}

static int wgrad_dp(const ijepa__ops *ops)
{
    return ops->amx_wgrad && ops->bf16_native && !ijepa__ops_amx(ops) && dp_usable(ops);
}

int ijepa__ops_wgrad_own(const ijepa__ops *ops, int64_t O, int64_t I)
{
    return wgrad_amx(ops, O, I) || wgrad_dp(ops);
}

int ijepa__matmul_wgrad(ijepa__ops *ops, int64_t R, int64_t O, int64_t I,
                        const uint16_t *dy, const uint16_t *x, const float *xg,
                        const float *xb, float *gW)
{
    const int64_t d[3] = {R, O, I};
    int rc = check_dims(ops, "weight gradient", 3, d);
    if (rc < 0)
        return rc;
    if (!xg != !xb)
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "weight gradient: the LayerNorm weight and bias go together");
    /* the own kernel makes the affine's AVX-512 values itself */
    const int affine_ok = !xg || ops->simd == IJEPA__SIMD_AVX512;
    if (wgrad_amx(ops, O, I) && affine_ok && R <= INT32_MAX) {
        const int threads = omp_get_max_threads();
        void *scratch = emu_buffer(ops, (ijepa__amx_wgrad_scratch_bytes(O, I, threads) + 3) / 4,
                                    "weight gradient");
        if (!scratch)
            return IJEPA_ERR_NOMEM;
        ijepa__amx_wgrad(R, O, I, dy, x, xg, xb, gW, scratch, threads);
        return IJEPA_OK;
    }
    if (wgrad_dp(ops) && affine_ok) {
        const int threads = omp_get_max_threads();
        void *scratch = emu_buffer(
            ops, (ijepa__dpbf16_wgrad_scratch_bytes(O, I, threads) + 3) / 4, "weight gradient");
        if (!scratch)
            return IJEPA_ERR_NOMEM;
        ijepa__dpbf16_wgrad(R, O, I, dy, x, xg, xb, gW, scratch, threads);
        return IJEPA_OK;
    }
    if (xg) { /* the LayerNorm's output, then the product */
        uint16_t *y = tmp16(ops, R * I);
        if (!y)
            return IJEPA_ERR_NOMEM;
        ijepa__layernorm_affine_bf16(ops->simd, R, I, x, xg, xb, y);
        x = y;
    }
    return ijepa__matmul_x(ops, 1, O, I, R, dy, 1, x, 0, NULL, 1.0f, 1, gW, IJEPA__MM_BF16);
}

int ijepa__matmul_fused(ijepa__ops *ops, int64_t M, int64_t N, int64_t K, const void *A,
                        const void *B, const float *bias, const float *addend, void *C,
                        int flags, const ijepa__mm_fuse *fz)
{
    const int64_t d[3] = {M, N, K};
    int rc = check_dims(ops, "fused matmul", 3, d);
    if (rc < 0)
        return rc;
    const int out16 = !!(flags & IJEPA__MM_OUT_BF16);
    const int heads = fz->heads_in || fz->heads_out[0];
    const int bad_heads = heads && (fz->T < 1 || fz->H < 1 || fz->H > (1 << 20) || fz->hd < 32 ||
                                    fz->hd % 32 || fz->hd > (1 << 20) || M % fz->T);
    const int64_t D = bad_heads || !heads ? 1 : fz->H * fz->hd;
    if ((flags & ~IJEPA__MM_OUT_BF16) != (IJEPA__MM_BF16 | IJEPA__MM_B_PACKED) ||
        ((fz->heads_out[0] || fz->gelu) && !out16) || (addend && out16) ||
        (!C && !fz->heads_out[0] && !fz->gelu) || bad_heads || (fz->keep && !out16) ||
        (fz->heads_in && K != D) ||
        (fz->heads_out[0] && (N % D || N / D > 3 || (N / D > 1 && !fz->heads_out[1]) ||
                              (N / D > 2 && !fz->heads_out[2]))))
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "fused matmul: flags or shapes the fusions do not fit");
    const pack_plan *pk;
    if ((rc = plan_packed(ops, K, N, &pk)) < 0)
        return rc;
    if (!amx_kernel(ops, pk))
        return ijepa__fail(ops->err, IJEPA_ERR_UNSUPPORTED,
                           "fused matmul: needs the own AMX kernel on a packed operand");
    const ijepa__amx_heads ah = {fz->T, fz->H, fz->hd};
    const ijepa__amx_epi e = {1.0f, bias, addend, 0, out16,
                              fz->heads_out[0] ? &ah : NULL,
                              {fz->heads_out[0], fz->heads_out[1], fz->heads_out[2]}, fz->gelu,
                              fz->keep};
    return amx_run(ops, M, N, K, A, fz->heads_in ? &ah : NULL, B, pk, &e, C);
}

// --- matmul entry points ------------------------------------------------------------------

/* Largest M, N, K of a batched bf16 product on amx.h's kernel: its operands
 * are made into tiles per item, at most 4 MiB (and a 4 KiB block) per
 * thread here. */
#define BMM_MAX 1024

/* 1 when the own batched products run on dpbf16.h's kernel (AVX512-BF16,
 * no AMX), 0 on amx.h's. */
static int bmm_dp(const ijepa__ops *ops) { return !ijepa__ops_amx(ops); }

/* 1 when a batched bf16 product (bf16 C, no bias) runs on an own kernel:
 * amx.h's where the CPU has AMX, dpbf16.h's where it has AVX512-BF16. */
static int bmm_own(const ijepa__ops *ops, int64_t M, int64_t N, int64_t K)
{
    return ops->amx_bmm && ops->bf16_native && (ijepa__ops_amx(ops) || dp_usable(ops)) &&
           M <= BMM_MAX && N <= BMM_MAX && K <= BMM_MAX;
}

static int64_t bmm_scratch(const ijepa__ops *ops, int64_t M, int64_t N, int64_t K, int threads)
{
    return bmm_dp(ops) ? ijepa__dpbf16_bmm_scratch_bytes(M, N, K, threads)
                       : ijepa__amx_bmm_scratch_bytes(M, N, K, threads);
}

/* Items [b0, b1) of a batched product on the calling thread (bmm_own). */
static void bmm_items(const ijepa__ops *ops, int64_t b0, int64_t b1, int64_t M, int64_t N,
                      int64_t K, const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B,
                      int trans_b, float alpha, ijepa__bf16 *C, const ijepa__amx_cmap *cm,
                      void *scratch, const ijepa__amx_pf *fetch, int nfetch)
{
    if (bmm_dp(ops))
        ijepa__dpbf16_bmm_items(b0, b1, M, N, K, A, trans_a, B, trans_b, alpha, C, cm, scratch);
    else
        ijepa__amx_bmm_items(b0, b1, M, N, K, A, trans_a, B, trans_b, alpha, C, cm, scratch,
                             fetch, nfetch);
}

static int bmm_run(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                   const void *A, int trans_a, const void *B, int trans_b, float alpha, void *C,
                   const ijepa__amx_cmap *cm)
{
    const int threads = omp_get_max_threads();
    void *scratch = emu_buffer(ops, (bmm_scratch(ops, M, N, K, threads) + 3) / 4,
                                "batched matmul");
    if (!scratch)
        return IJEPA_ERR_NOMEM;
    if (bmm_dp(ops))
        ijepa__dpbf16_bmm(batch, M, N, K, A, trans_a, B, trans_b, alpha, C, cm, scratch, threads);
    else
        ijepa__amx_bmm(batch, M, N, K, A, trans_a, B, trans_b, alpha, C, cm, scratch, threads);
    return IJEPA_OK;
}

int ijepa__ops_attention_own(const ijepa__ops *ops, int64_t Tq, int64_t T, int64_t hd)
{
    return Tq >= 1 && T >= 1 && hd >= 1 && bmm_own(ops, Tq, T, hd);
}

int ijepa__attention_own_default(int64_t T, int64_t hd)
{
    ijepa__ops o;
    memset(&o, 0, sizeof o);
    ops_defaults(&o);
    return ijepa__ops_attention_own(&o, T, T, hd);
}

/* Checks the sizes and map of a fused attention call and sizes each
 * thread's scratch: the products' tiles for their three shapes, then
 * `extra` bytes; *scr: the threads' scratch, *per: bytes per thread. */
static int attn_setup(ijepa__ops *ops, const char *what, int64_t items, int64_t Tq, int64_t T,
                      int64_t hd, int64_t valid, int64_t H, int64_t cs, int64_t ch, int64_t ldc,
                      int map, int64_t extra, int threads, char **scr, int64_t *per)
{
    const int64_t d[4] = {items, Tq, T, hd};
    int rc = check_dims(ops, what, 4, d);
    if (rc < 0)
        return rc;
    if (valid < 1 || valid > T)
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "%s: %lld valid keys of %lld", what, (long long)valid, (long long)T);
    if (!ijepa__ops_attention_own(ops, Tq, T, hd))
        return ijepa__fail(ops->err, IJEPA_ERR_UNSUPPORTED,
                           "%s: %lld queries, %lld keys, width %lld do not run on the own "
                           "kernels", what, (long long)Tq, (long long)T, (long long)hd);
    if ((map || H) && (H < 1 || items % H || ldc < hd || cs < 0 || ch < 0))
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "%s: output map H %lld, strides %lld %lld, ldc %lld do not fit "
                           "%lld items of width %lld", what, (long long)H, (long long)cs,
                           (long long)ch, (long long)ldc, (long long)items, (long long)hd);
    int64_t b = bmm_scratch(ops, Tq, T, hd, 1);
    const int64_t b2 = bmm_scratch(ops, Tq, hd, T, 1);
    const int64_t b3 = bmm_scratch(ops, T, hd, Tq, 1);
    b = b2 > b ? b2 : b;
    b = b3 > b ? b3 : b;
    *per = (b + 63) / 64 * 64 + (extra + 63) / 64 * 64;
    *scr = (char *)emu_buffer(ops, (*per * threads + 3) / 4, what);
    return *scr ? IJEPA_OK : IJEPA_ERR_NOMEM;
}

/* Item b's place in an output of `items` items of Tq rows of hd values:
 * contiguous (H 0) or as the map says. */
static ijepa__bf16 *attn_at(void *out, int64_t b, int64_t Tq, int64_t hd, int64_t H,
                            int64_t cs, int64_t ch)
{
    ijepa__bf16 *o = out;
    return H ? o + b / H * cs + b % H * ch : o + b * Tq * hd;
}

int ijepa__attention_fwd16(ijepa__ops *ops, int64_t items, int64_t Tq, int64_t T, int64_t hd,
                           int64_t valid, float scale, const void *q, const void *k,
                           const void *v, void *P, void *out, int64_t H, int64_t cs,
                           int64_t ch, int64_t ldc)
{
    const int threads = omp_get_max_threads();
    char *scr;
    int64_t per;
    const int64_t np = Tq * T;
    int rc = attn_setup(ops, "attention forward", items, Tq, T, hd, valid, H, cs, ch, ldc, 0,
                        P ? 0 : np * 2, threads, &scr, &per);
    if (rc < 0)
        return rc;
    const int lvl = ops->simd;
    const ijepa__bf16 *q16 = q, *k16 = k, *v16 = v;
    ijepa__bf16 *p16 = P;
    const int64_t ldo = H ? ldc : hd, nq = Tq * hd, nk = T * hd;
    const int64_t poff = per - (np * 2 + 63) / 64 * 64;
    const ijepa__amx_cmap one = {1, 0, 0, ldo}; /* the item's own rows */
#pragma omp parallel num_threads(threads) if (items > 1 && items * Tq * T * hd >= (1 << 18))
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t b1 = items * (t + 1) / nt;
        char *mine = scr + t * per;
        ijepa__bf16 *own = p16 ? NULL : (ijepa__bf16 *)(void *)(mine + poff);
        for (int64_t b = items * t / nt; b < b1; b++) {
            ijepa__bf16 *pb = p16 ? p16 + b * np : own;
            /* scores, softmax and output of item b while item b + 1's
             * operands, scores and output are fetched */
            const int more = b + 1 < b1;
            const ijepa__amx_pf f1[3] = {{q16 + (b + 1) * nq, 1, nq * 2, 0, 0},
                                         {k16 + (b + 1) * nk, 1, nk * 2, 0, 0},
                                         {p16 ? p16 + (b + 1) * np : NULL, 1, np * 2, 0, 1}};
            const ijepa__amx_pf f2[2] = {
                {v16 + (b + 1) * nk, 1, nk * 2, 0, 0},
                {more ? attn_at(out, b + 1, Tq, hd, H, cs, ch) : NULL, Tq, hd * 2, ldo * 2, 1}};
            bmm_items(ops, 0, 1, Tq, T, hd, q16 + b * nq, 0, k16 + b * nk, 1, scale,
                      pb, NULL, mine, f1, more ? (p16 ? 3 : 2) : 0);
            ijepa__softmax_bf16_serial(lvl, Tq, T, valid, pb, pb);
            bmm_items(ops, 0, 1, Tq, hd, T, pb, 0, v16 + b * nk, 0, 1.0f,
                      attn_at(out, b, Tq, hd, H, cs, ch), &one, mine, f2,
                      more ? 2 : 0);
        }
    }
    return IJEPA_OK;
}

int ijepa__attention_bwd16(ijepa__ops *ops, int64_t items, int64_t Tq, int64_t T, int64_t hd,
                           float scale, const void *q, const void *k, const void *v,
                           const void *P, const void *dO, void *dq, void *dk, void *dv,
                           int64_t H, int64_t cs, int64_t ch, int64_t ldc)
{
    const int threads = omp_get_max_threads();
    char *scr;
    int64_t per;
    const int64_t np = Tq * T;
    int rc = attn_setup(ops, "attention backward", items, Tq, T, hd, T, H, cs, ch, ldc, 1,
                        np * 2, threads, &scr, &per);
    if (rc < 0)
        return rc;
    const int lvl = ops->simd;
    const ijepa__bf16 *q16 = q, *k16 = k, *v16 = v, *p16 = P, *o16 = dO;
    const int64_t nq = Tq * hd, nk = T * hd, dsoff = per - (np * 2 + 63) / 64 * 64;
    const ijepa__amx_cmap one = {1, 0, 0, ldc}; /* the item's own rows */
#pragma omp parallel num_threads(threads) if (items > 1 && items * Tq * T * hd >= (1 << 18))
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t b1 = items * (t + 1) / nt;
        char *mine = scr + t * per;
        ijepa__bf16 *ds = (ijepa__bf16 *)(void *)(mine + dsoff); /* dP, then dS: in cache */
        for (int64_t b = items * t / nt; b < b1; b++) {
            const int more = b + 1 < b1;
            const int64_t n = b + 1;
            const ijepa__amx_pf f1[2] = {{o16 + n * nq, 1, nq * 2, 0, 0},
                                         {v16 + n * nk, 1, nk * 2, 0, 0}};
            const ijepa__amx_pf f2[2] = {
                {p16 + n * np, 1, np * 2, 0, 0},
                {more ? attn_at(dv, n, T, hd, H, cs, ch) : NULL, T, hd * 2, ldc * 2, 1}};
            const ijepa__amx_pf f4[2] = {
                {k16 + n * nk, 1, nk * 2, 0, 0},
                {more ? attn_at(dq, n, Tq, hd, H, cs, ch) : NULL, Tq, hd * 2, ldc * 2, 1}};
            const ijepa__amx_pf f5[2] = {
                {q16 + n * nq, 1, nq * 2, 0, 0},
                {more ? attn_at(dk, n, T, hd, H, cs, ch) : NULL, T, hd * 2, ldc * 2, 1}};
            const int nf = more ? 2 : 0;
            const ijepa__bf16 *pb = p16 + b * np;
            bmm_items(ops, 0, 1, Tq, T, hd, o16 + b * nq, 0, v16 + b * nk, 1, 1.0f, ds,
                      NULL, mine, f1, nf);
            bmm_items(ops, 0, 1, T, hd, Tq, pb, 1, o16 + b * nq, 0, 1.0f,
                      attn_at(dv, b, T, hd, H, cs, ch), &one, mine, f2, nf);
            ijepa__softmax_bwd_bf16_serial(lvl, Tq, T, pb, ds, ds);
            bmm_items(ops, 0, 1, Tq, hd, T, ds, 0, k16 + b * nk, 0, scale,
                      attn_at(dq, b, Tq, hd, H, cs, ch), &one, mine, f4, nf);
            bmm_items(ops, 0, 1, T, hd, Tq, ds, 1, q16 + b * nq, 0, scale,
                      attn_at(dk, b, T, hd, H, cs, ch), &one, mine, f5, nf);
        }
    }
    return IJEPA_OK;
}

int ijepa__matmul_bf16_to(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                          const void *A, int trans_a, const void *B, int trans_b, float alpha,
                          void *C, int64_t H, int64_t cs, int64_t ch, int64_t ldc)
{
    const int64_t d[4] = {batch, M, N, K};
    int rc = check_dims(ops, "matmul", 4, d);
    if (rc < 0)
        return rc;
    if (H < 1 || batch % H || ldc < N || cs < 0 || ch < 0)
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "matmul: output map H %lld, strides %lld %lld, ldc %lld do not fit "
                           "%lld items of %lld columns", (long long)H, (long long)cs,
                           (long long)ch, (long long)ldc, (long long)batch, (long long)N);
    const ijepa__amx_cmap cm = {H, cs, ch, ldc};
    if (bmm_own(ops, M, N, K))
        return bmm_run(ops, batch, M, N, K, A, trans_a, B, trans_b, alpha, C, &cm);
    /* the product whole, then its rows where the map puts them */
    const int64_t n = batch * M * N;
    uint16_t *tmp = tmp16(ops, n);
    if (!tmp)
        return IJEPA_ERR_NOMEM;
    if ((rc = ijepa__matmul_x(ops, batch, M, N, K, A, trans_a, B, trans_b, NULL, alpha, 0,
                              tmp, IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16)) < 0)
        return rc;
    uint16_t *c = C;
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t m = 0; m < M; m++)
            memcpy(c + b / H * cs + b % H * ch + m * ldc, tmp + (b * M + m) * N,
                   (size_t)N * sizeof *c);
    return IJEPA_OK;
}

int ijepa__matmul_add(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                      const void *A, int trans_a, const void *B, int trans_b,
                      const float *bias, float alpha, int accumulate, const float *addend,
                      void *C, int flags)
{
    const int64_t d[4] = {batch, M, N, K};
    int rc = check_dims(ops, "matmul", 4, d);
    if (rc < 0)
        return rc;
    /* oneDNN scales the bias too (alpha * (A.B + bias)); no caller needs both */
    if (bias && alpha != 1.0f)
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "matmul: bias together with alpha != 1 is not supported");
    if (accumulate && (flags & (IJEPA__MM_OUT_BF16 | IJEPA__MM_GELU)))
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "matmul: accumulate needs a float32 output without GELU");
    if (addend && (accumulate || (flags & (IJEPA__MM_OUT_BF16 | IJEPA__MM_GELU))))
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "matmul: an addend needs a float32 output, no GELU, no accumulate");
    if (flags & IJEPA__MM_B_PACKED) {
        if (!(flags & IJEPA__MM_BF16) || batch != 1)
            return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                               "matmul: a packed B needs bf16 operands and batch 1");
        const pack_plan *pk;
        if ((rc = plan_packed(ops, K, N, &pk)) < 0)
            return rc;
        if (!trans_a && !(flags & IJEPA__MM_GELU) && amx_kernel(ops, pk)) {
            const ijepa__amx_epi e = {alpha, bias, addend, accumulate,
                                      !!(flags & IJEPA__MM_OUT_BF16), NULL, {NULL, NULL, NULL},
                                      NULL, 0};
            return amx_run(ops, M, N, K, A, NULL, B, pk, &e, C);
        }
        if (pk)
            return matmul_run(ops, 1, M, N, K, A, trans_a, B, 0, bias, alpha, accumulate,
                              addend, C, flags, pk);
        flags &= ~IJEPA__MM_B_PACKED; /* ijepa__pack_b wrote plain bf16 */
    }
    if (flags == (IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16) && !bias && !accumulate &&
        bmm_own(ops, M, N, K))
        return bmm_run(ops, batch, M, N, K, A, trans_a, B, trans_b, alpha, C, NULL);
    if (!(flags & IJEPA__MM_BF16) || ops->bf16_native || (flags & IJEPA__MM_ONEDNN_BF16))
        return matmul_run(ops, batch, M, N, K, A, trans_a, B, trans_b, bias, alpha, accumulate,
                          addend, C, flags, NULL);
    /* Emulated: the bf16 operands widened to float32 (exact), a float32
     * matmul, its result rounded to bf16 if asked: the values of a bf16
     * matmul with float32 accumulation, at float32 speed. */
    const int64_t nA = batch * M * K, nB = batch * K * N;
    const int64_t nC = flags & IJEPA__MM_OUT_BF16 ? batch * M * N : 0;
    float *a32 = emu_buffer(ops, nA + nB + nC, "matmul");
    if (!a32)
        return IJEPA_ERR_NOMEM;
    float *b32 = a32 + nA, *c32 = b32 + nB;
    ijepa__from_bf16(ops->simd, A, a32, nA);
    ijepa__from_bf16(ops->simd, B, b32, nB);
    const int out_flags = flags & IJEPA__MM_GELU;
    if (!nC)
        return matmul_run(ops, batch, M, N, K, a32, trans_a, b32, trans_b, bias, alpha,
                          accumulate, addend, C, out_flags, NULL);
    if ((rc = matmul_run(ops, batch, M, N, K, a32, trans_a, b32, trans_b, bias, alpha, 0, NULL,
                         c32, out_flags, NULL)) < 0)
        return rc;
    ijepa__to_bf16(ops->simd, c32, C, nC);
    return IJEPA_OK;
}

int ijepa__matmul_x(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                    const void *A, int trans_a, const void *B, int trans_b,
                    const float *bias, float alpha, int accumulate, void *C, int flags)
{
    return ijepa__matmul_add(ops, batch, M, N, K, A, trans_a, B, trans_b, bias, alpha,
                             accumulate, NULL, C, flags);
}

int ijepa__matmul(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N,
                  int64_t K, const float *A, int trans_a, const float *B,
                  int trans_b, const float *bias, float alpha, int accumulate,
                  float *C)
{
    return ijepa__matmul_x(ops, batch, M, N, K, A, trans_a, B, trans_b, bias, alpha,
                           accumulate, C, 0);
}

// --- layer normalization -------------------------------------------------------------

static int ln_desc(ijepa__ops *ops, dnnl_layer_normalization_desc_t *desc,
                   dnnl_prop_kind_t prop, int64_t rows, int64_t C, float eps,
                   unsigned flags)
{
    dnnl_memory_desc_t data_md, stat_md;
    const int64_t dd[2] = {rows, C};
    int rc;
    if ((rc = md_init(ops, &data_md, 2, dd, dnnl_ab)) < 0 ||
        (rc = md_init(ops, &stat_md, 1, &rows, dnnl_a)) < 0)
        return rc;
    dnnl_status_t st = dnnl_layer_normalization_forward_desc_init(
        desc, prop, &data_md, &stat_md, eps, flags);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "layer normalization descriptor");
    return IJEPA_OK;
}

int ijepa__layernorm_fwd(ijepa__ops *ops, int64_t rows, int64_t C, float eps,
                         const float *x, const float *gamma, const float *beta,
                         float *y, float *mean, float *var)
{
    const int64_t d[2] = {rows, C};
    int rc = check_dims(ops, "layernorm", 2, d);
    if (rc < 0)
        return rc;
    if (!gamma != !beta || !mean != !var)
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "layernorm: gamma/beta and mean/var go in pairs");
    const int affine = gamma != NULL, training = mean != NULL;
    const int64_t key[KEY_LEN] = {OP_LN_FWD, rows, C, affine, training, float_bits(eps)};
    entry *e = cache_find(ops, key);
    if (!e) {
        dnnl_layer_normalization_desc_t desc;
        unsigned flags = affine ? (dnnl_use_scale | dnnl_use_shift) : 0;
        rc = ln_desc(ops, &desc, training ? dnnl_forward_training : dnnl_forward_inference,
                     rows, C, eps, flags);
        if (rc < 0)
            return rc;
        static const int wanted[] = {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_MEAN,
                                     DNNL_ARG_VARIANCE, DNNL_ARG_SCALE, DNNL_ARG_SHIFT};
        if ((rc = entry_new(ops, &e, key, &desc, NULL, wanted, affine ? 6 : 4,
                            "layer normalization")) < 0)
            return rc;
    }
    const int ids[6] = {DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_SHIFT,
                        DNNL_ARG_DST, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE};
    void *const ptrs[6] = {(void *)x, (void *)gamma, (void *)beta, y, mean, var};
    return entry_run(ops, e, ids, ptrs, 6, "layer normalization");
}

int ijepa__layernorm_bwd(ijepa__ops *ops, int64_t rows, int64_t C, float eps,
                         const float *x, const float *mean, const float *var,
                         const float *gamma, const float *dy, float *dx,
                         float *dgamma, float *dbeta)
{
    const int64_t d[2] = {rows, C};
    int rc = check_dims(ops, "layernorm backward", 2, d);
    if (rc < 0)
        return rc;
    const int affine = gamma != NULL;
    if (affine && (!dgamma || !dbeta))
        return ijepa__fail(ops->err, IJEPA_ERR_INVALID_ARG,
                           "layernorm backward: dgamma and dbeta are needed with gamma");
    const int64_t key[KEY_LEN] = {OP_LN_BWD, rows, C, affine, float_bits(eps)};
    entry *e = cache_find(ops, key);
    if (!e) {
        unsigned flags = affine ? (dnnl_use_scale | dnnl_use_shift) : 0;
        dnnl_layer_normalization_desc_t fdesc, bdesc;
        if ((rc = ln_desc(ops, &fdesc, dnnl_forward_training, rows, C, eps, flags)) < 0)
            return rc;
        dnnl_primitive_desc_t hint;
        if ((rc = make_pd(ops, &hint, &fdesc, NULL, NULL, "layer normalization descriptor")) < 0)
            return rc;
        /* the affine arguments come last, so that without affine the
         * first five are the whole list */
        static const int wanted[] = {DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
                                     DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC, DNNL_ARG_SCALE,
                                     DNNL_ARG_SHIFT, DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT};
        dnnl_memory_desc_t data_md, stat_md;
        if ((rc = md_init(ops, &data_md, 2, d, dnnl_ab)) == IJEPA_OK &&
            (rc = md_init(ops, &stat_md, 1, &rows, dnnl_a)) == IJEPA_OK) {
            dnnl_status_t st = dnnl_layer_normalization_backward_desc_init(
                &bdesc, affine ? dnnl_backward : dnnl_backward_data, &data_md, &data_md,
                &stat_md, eps, flags);
            rc = st != dnnl_success
                     ? dnnl_fail(ops->err, st, "layer normalization backward descriptor")
                     : entry_new(ops, &e, key, &bdesc, hint, wanted, affine ? 9 : 5,
                                 "layer normalization backward");
        }
        dnnl_primitive_desc_destroy(hint);
        if (rc < 0)
            return rc;
    }
    /* oneDNN 2.6 lists the shift among the backward's inputs although no
     * gradient depends on its values; any [C] buffer serves, so gamma does. */
    const int ids[9] = {DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_SCALE,
                        DNNL_ARG_SHIFT, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC,
                        DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT};
    void *const ptrs[9] = {(void *)x, (void *)mean, (void *)var, (void *)gamma, (void *)gamma,
                           (void *)dy, dx, dgamma, dbeta};
    return entry_run(ops, e, ids, ptrs, 9, "layer normalization backward");
}

// --- softmax ----------------------------------------------------------------------------

static int softmax_fwd_desc(ijepa__ops *ops, dnnl_softmax_v2_desc_t *desc,
                            int64_t rows, int64_t cols)
{
    dnnl_memory_desc_t md;
    const int64_t d[2] = {rows, cols};
    int rc = md_init(ops, &md, 2, d, dnnl_ab);
    if (rc < 0)
        return rc;
    dnnl_status_t st = dnnl_softmax_v2_forward_desc_init(
        desc, dnnl_forward_training, dnnl_softmax_accurate, &md, &md, 1);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "softmax descriptor");
    return IJEPA_OK;
}

int ijepa__softmax_fwd(ijepa__ops *ops, int64_t rows, int64_t cols,
                       const float *x, float *y)
{
    const int64_t d[2] = {rows, cols};
    int rc = check_dims(ops, "softmax", 2, d);
    if (rc < 0)
        return rc;
    const int64_t key[KEY_LEN] = {OP_SM_FWD, rows, cols};
    entry *e = cache_find(ops, key);
    if (!e) {
        dnnl_softmax_v2_desc_t desc;
        static const int wanted[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
        if ((rc = softmax_fwd_desc(ops, &desc, rows, cols)) < 0 ||
            (rc = entry_new(ops, &e, key, &desc, NULL, wanted, 2, "softmax")) < 0)
            return rc;
    }
    const int ids[2] = {DNNL_ARG_SRC, DNNL_ARG_DST};
    void *const ptrs[2] = {(void *)x, y};
    return entry_run(ops, e, ids, ptrs, 2, "softmax");
}

int ijepa__softmax_bwd(ijepa__ops *ops, int64_t rows, int64_t cols,
                       const float *y, const float *dy, float *dx)
{
    const int64_t d[2] = {rows, cols};
    int rc = check_dims(ops, "softmax backward", 2, d);
    if (rc < 0)
        return rc;
    const int64_t key[KEY_LEN] = {OP_SM_BWD, rows, cols};
    entry *e = cache_find(ops, key);
    if (!e) {
        dnnl_softmax_v2_desc_t fdesc, bdesc;
        if ((rc = softmax_fwd_desc(ops, &fdesc, rows, cols)) < 0)
            return rc;
        dnnl_primitive_desc_t hint;
        if ((rc = make_pd(ops, &hint, &fdesc, NULL, NULL, "softmax descriptor")) < 0)
            return rc;
        static const int wanted[] = {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC};
        dnnl_memory_desc_t md;
        if ((rc = md_init(ops, &md, 2, d, dnnl_ab)) == IJEPA_OK) {
            dnnl_status_t st = dnnl_softmax_v2_backward_desc_init(
                &bdesc, dnnl_softmax_accurate, &md, &md, &md, 1);
            rc = st != dnnl_success
                     ? dnnl_fail(ops->err, st, "softmax backward descriptor")
                     : entry_new(ops, &e, key, &bdesc, hint, wanted, 3, "softmax backward");
        }
        dnnl_primitive_desc_destroy(hint);
        if (rc < 0)
            return rc;
    }
    const int ids[3] = {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC};
    void *const ptrs[3] = {(void *)y, (void *)dy, dx};
    return entry_run(ops, e, ids, ptrs, 3, "softmax backward");
}

// --- GELU ----------------------------------------------------------------------------------

static int gelu_fwd_desc(ijepa__ops *ops, dnnl_eltwise_desc_t *desc, int64_t n)
{
    dnnl_memory_desc_t md;
    int rc = md_init(ops, &md, 1, &n, dnnl_a);
    if (rc < 0)
        return rc;
    dnnl_status_t st = dnnl_eltwise_forward_desc_init(desc, dnnl_forward_training,
                                                      dnnl_eltwise_gelu_erf, &md, 0.f, 0.f);
    if (st != dnnl_success)
        return dnnl_fail(ops->err, st, "GELU descriptor");
    return IJEPA_OK;
}

int ijepa__gelu_fwd(ijepa__ops *ops, int64_t n, const float *x, float *y)
{
    int rc = check_dims(ops, "gelu", 1, &n);
    if (rc < 0)
        return rc;
    const int64_t key[KEY_LEN] = {OP_GELU_FWD, n};
    entry *e = cache_find(ops, key);
    if (!e) {
        dnnl_eltwise_desc_t desc;
        static const int wanted[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
        if ((rc = gelu_fwd_desc(ops, &desc, n)) < 0 ||
            (rc = entry_new(ops, &e, key, &desc, NULL, wanted, 2, "GELU")) < 0)
            return rc;
    }
    const int ids[2] = {DNNL_ARG_SRC, DNNL_ARG_DST};
    void *const ptrs[2] = {(void *)x, y};
    return entry_run(ops, e, ids, ptrs, 2, "GELU");
}

int ijepa__gelu_bwd(ijepa__ops *ops, int64_t n, const float *x,
                    const float *dy, float *dx)
{
    int rc = check_dims(ops, "gelu backward", 1, &n);
    if (rc < 0)
        return rc;
    const int64_t key[KEY_LEN] = {OP_GELU_BWD, n};
    entry *e = cache_find(ops, key);
    if (!e) {
        dnnl_eltwise_desc_t fdesc, bdesc;
        if ((rc = gelu_fwd_desc(ops, &fdesc, n)) < 0)
            return rc;
        dnnl_primitive_desc_t hint;
        if ((rc = make_pd(ops, &hint, &fdesc, NULL, NULL, "GELU descriptor")) < 0)
            return rc;
        static const int wanted[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC};
        dnnl_memory_desc_t md;
        if ((rc = md_init(ops, &md, 1, &n, dnnl_a)) == IJEPA_OK) {
            dnnl_status_t st = dnnl_eltwise_backward_desc_init(
                &bdesc, dnnl_eltwise_gelu_erf, &md, &md, 0.f, 0.f);
            rc = st != dnnl_success
                     ? dnnl_fail(ops->err, st, "GELU backward descriptor")
                     : entry_new(ops, &e, key, &bdesc, hint, wanted, 3, "GELU backward");
        }
        dnnl_primitive_desc_destroy(hint);
        if (rc < 0)
            return rc;
    }
    const int ids[3] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC};
    void *const ptrs[3] = {(void *)x, (void *)dy, dx};
    return entry_run(ops, e, ids, ptrs, 3, "GELU backward");
}
