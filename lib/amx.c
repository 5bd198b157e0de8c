/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: amx.h, the own AMX matrix products: with packed bf16
 * weights, and the weight gradients.
 *
 * Eight tile registers: C00 C01 C10 C11 (tmm0-3, 16 x 16 float32 each) make
 * one 32 x 32 block of C; A0 A1 (tmm4-5) are 16 rows x 32 k of A, B0 B1
 * (tmm6-7) 16 k pairs x 16 columns of the packed B. One step of K (32) is
 * four tile loads and four TDPBF16PS. Rows of A are read in place when 32
 * whole rows in the row layout are there, with the next rows prefetched
 * while the current ones are multiplied; otherwise (the last rows, K not a
 * multiple of 32, A in the heads layout) they are first copied into tile
 * order (each 16 x 32 tile 1 KiB contiguous, zeros past M and K), once per
 * 32 rows, and reused across all columns. B's zero padding past K (pack.h)
 * meets A's zero padding, so the sums are exactly those over K.
 */
#define _DEFAULT_SOURCE /* syscall */
#include <string.h>

#include "amx.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bf16_avx512.h"
#ifdef IJEPA_AMX_EMULATE
#include "amx_emu.h" /* the tile instructions in software: a test build only */
#endif

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

#define TAMX                                                                               \
    __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16," \
                          "prfchw")))

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int amx_ok;

static void probe(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return;
    const unsigned avx512 = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31); /* F DQ BW VL */
    if ((b & avx512) != avx512)
        return;
#ifndef IJEPA_AMX_EMULATE
    if (!(d & (1u << 24)) || !(d & (1u << 22))) /* AMX-TILE, -BF16 */
        return;
#endif
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) /* AVX512-BF16 */
        return;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
#ifdef IJEPA_AMX_EMULATE
    amx_ok = emu_granted = (lo & 0xe6u) == 0xe6u; /* SSE AVX opmask ZMM: the emulation's */
#else
    const unsigned need = 0xe6u | (3u << 17); /* SSE AVX opmask ZMM, XTILECFG XTILEDATA */
    if ((lo & need) != need)
        return;
    /* Linux grants the 8 KiB tile state per process on request */
    amx_ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#endif
}

int ijepa__amx_usable(void)
{
    pthread_once(&probe_once, probe);
    return amx_ok;
}

int ijepa__amx_emulated(void)
{
#ifdef IJEPA_AMX_EMULATE
    return 1;
#else
    return 0;
#endif
}

typedef struct tilecfg {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

/* All eight tiles 16 rows of 64 bytes (palette 1). A constant object:
 * GCC 12's _tile_loadconfig tells the compiler it reads only the first 8
 * of the 64 bytes, and the stores that filled a local configuration were
 * moved past LDTILECFG once the setup was inlined into a kernel (a #GP,
 * seen as SIGSEGV, in test_bucket_steady_state). */
static const tilecfg tile_cfg = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

/* A compiler barrier, no instruction. GCC 12's tile loads are asm
 * statements with neither a memory operand nor a memory clobber, so to the
 * compiler they read no memory, and nothing in the language keeps it from
 * moving the stores that fill a buffer below the tile loads of that buffer
 * (what happened to tile_cfg's local stores above). One follows the
 * packing of the weight gradients' and attention's operands: today the
 * packing functions are calls, which already order the stores, and the
 * code is the same with or without it; it keeps that so if they are
 * inlined. Not placed in run() after the first rows of A are copied
 * (inlined there): it changes the register allocation of the forward
 * kernel, which can only be timed on AMX; there GCC's scheduler treats
 * each volatile asm as a barrier, and the rows copied during a block are
 * loaded after that block's tile stores, which carry a memory clobber. */
#define TILE_FENCE() __asm__ __volatile__("" ::: "memory")

/* Loads tile_cfg into this thread's tile configuration. */
TAMX static void tiles_on(void)
{
    _tile_loadconfig(&tile_cfg);
}

/* Steps of K (32 each) per pass over a block's columns; a longer K is
 * done in passes, the sums stored in scratch and reloaded. One pass over K
 * up to 1536 (all of a ViT-S product) measured 5-10 % faster than passes of
 * 12 steps (24 KiB of A, what L1 holds) on K 1152 and 1536: A's rows stay
 * close in L2 either way, and the passes store and reload the sums. */
#define KC 48

/* Work done between the tile instructions of a block, while the AMX unit
 * computes: the epilogue of the block before, and the copy of the next rows
 * of A into tile order (or their prefetch, when read in place). Both walk
 * their rows with running counters: a 64-bit division per 64-byte piece
 * cost more than the piece. */
typedef struct side {
    /* epilogue: rows [done, rows) of acc are block (m0, n0) of C, `per` of
     * them at each step of K; acc NULL: none pending. Heads: hbase is the
     * block's column offset in its array, (eq, er) row m0 + done as (s, t) */
    const float *acc;
    int64_t rows, m0, n0, per, done;
    ijepa__bf16 *hbase;
    int64_t eq, er;
    /* copies: `left` 64-byte pieces still to do, `cpk` at each step of K,
     * into the tiles at ap of the 32 rows from A row pm0; the cursor is
     * piece (row cr, step ckt), row pm0 + cr of A starts at crow and the
     * step at crow + coff; heads: (cq, cm) is row pm0 + cr as (s, t), chin
     * the column within the head */
    ijepa__bf16 *ap;
    int pf; /* the next rows are read in place: prefetch them, no copy */
    int64_t pm0, left, cpk;
    int64_t cr, ckt, coff, chin, cq, cm;
    const ijepa__bf16 *crow;
} side;

typedef struct job {
    int64_t M, N, K, nkt;
    const ijepa__bf16 *A, *B;
    const ijepa__amx_heads *ah; /* A in the heads layout, or NULL */
    const ijepa__blk_fmt *f;
    const ijepa__amx_epi *e;
    const ijepa__bf16 *gtab;    /* e->gelu: the GELU table */
    void *C;
} job;

/* Points the copy's cursor at row cr, step 0 (cq, cm already row cr's). */
static inline __attribute__((always_inline)) void copy_row(const job *j, side *s)
{
    const int64_t m = s->pm0 + s->cr;
    s->ckt = 0;
    s->coff = 0;
    s->chin = 0;
    if (m >= j->M) /* no address formed past M */
        s->crow = NULL;
    else if (j->ah)
        s->crow = j->A + (s->cq * j->ah->H * j->ah->T + s->cm) * j->ah->hd;
    else
        s->crow = j->A + m * j->K;
}

/* Starts the copy of the 32 rows of A from row pm0 into the tiles at ap, or
 * (pf) their prefetch. */
static void copy_start(const job *j, side *s, ijepa__bf16 *ap, int64_t pm0, int pf)
{
    s->ap = ap;
    s->pf = pf;
    s->pm0 = pm0;
    s->cr = 0;
    if (j->ah) {
        s->cq = pm0 / j->ah->T;
        s->cm = pm0 % j->ah->T;
    }
    copy_row(j, s);
}

/* The piece at the cursor: step ckt of row cr into tile (cr / 16, ckt) at
 * ap + ((cr / 16) nkt + ckt) 512, zeros past M and K, or (pf) its prefetch
 * into L1; then the cursor moves on. In the heads layout (K = H hd, 32 |
 * hd) a step stays within a head, and the next head of the same row is
 * T hd further. */
TAMX static inline __attribute__((always_inline)) void copy_piece(const job *j, side *s)
{
    const int64_t nkt = j->nkt, r = s->cr, kt = s->ckt, left = j->K - kt * 32;
    if (s->pf) {
        if (s->crow)
            _mm_prefetch((const char *)(s->crow + s->coff), _MM_HINT_T0);
    } else {
        ijepa__bf16 *d = s->ap + ((r >> 4) * nkt + kt) * 512 + (r & 15) * 32;
        const __mmask32 mk = !s->crow     ? 0
                             : left >= 32 ? ~(__mmask32)0
                                          : ((__mmask32)1 << left) - 1;
        if (!mk)
            _mm512_store_si512((void *)d, _mm512_setzero_si512());
        else
            _mm512_store_si512((void *)d, _mm512_maskz_loadu_epi16(mk, s->crow + s->coff));
    }
    s->coff += 32;
    if (j->ah && (s->chin += 32) == j->ah->hd) {
        s->chin = 0;
        s->coff += (j->ah->T - 1) * j->ah->hd;
    }
    if (++s->ckt == nkt) {
        s->cr++;
        if (j->ah && ++s->cm == j->ah->T) {
            s->cm = 0;
            s->cq++;
        }
        copy_row(j, s);
    }
}

/* Rows [done, done + n) of the pending epilogue: the 32 x 32 block at acc
 * (row-major, 32 floats per row) to C. bf16 by VCVTNE2PS2BF16 (to nearest
 * even, as oneDNN's AMX kernels round; it reads float32 subnormals as
 * zero, which no AMX product gives). */
TAMX static inline __attribute__((always_inline)) void epilogue(const job *j, side *s,
                                                               int64_t n)
{
    const ijepa__amx_epi *e = j->e;
    const int64_t N = j->N, left = N - s->n0;
    int64_t r1 = s->done + n < s->rows ? s->done + n : s->rows;
    const __mmask16 m0 = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
    const __mmask16 m1 = left >= 32   ? (__mmask16)0xffff
                         : left <= 16 ? (__mmask16)0
                                      : (__mmask16)((1u << (left - 16)) - 1);
    const __mmask32 mw = (__mmask32)m0 | ((__mmask32)m1 << 16);
    const __m512 alpha = _mm512_set1_ps(e->alpha);
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    if (e->bias) {
        b0 = _mm512_maskz_loadu_ps(m0, e->bias + s->n0);
        b1 = _mm512_maskz_loadu_ps(m1, e->bias + s->n0 + 16);
    }
    for (int64_t r = s->done; r < r1; r++) {
        const int64_t o = (s->m0 + r) * N + s->n0;
        __m512 v0 = _mm512_load_ps(s->acc + r * 32), v1 = _mm512_load_ps(s->acc + r * 32 + 16);
        if (e->alpha != 1.0f) {
            v0 = _mm512_mul_ps(v0, alpha);
            v1 = _mm512_mul_ps(v1, alpha);
        }
        v0 = _mm512_add_ps(v0, b0);
        v1 = _mm512_add_ps(v1, b1);
        if (e->addend) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, e->addend + o));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, e->addend + o + 16));
        }
        if (e->out_bf16) {
            const __m512i w = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
            ijepa__bf16 *dst = j->C ? (ijepa__bf16 *)j->C + o : NULL; /* NULL: GELU only */
            if (e->heads) { /* 32 columns of one head (32 | hd) */
                const int64_t T = e->heads->T;
                dst = s->hbase + (s->eq * e->heads->H * T + s->er) * e->heads->hd;
                if (++s->er == T) {
                    s->er = 0;
                    s->eq++;
                }
            }
            if (dst && e->stream && !e->heads && mw == ~(__mmask32)0 && !((uintptr_t)dst & 63))
                _mm512_stream_si512((void *)dst, w);
            else if (dst)
                _mm512_mask_storeu_epi16(dst, mw, w);
            if (e->gelu) {
                const __m512i i0 = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(w));
                const __m512i i1 = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(w, 1));
                const __m256i g0 = _mm512_cvtepi32_epi16(
                    _mm512_i32gather_epi32(i0, (const void *)j->gtab, 2));
                const __m256i g1 = _mm512_cvtepi32_epi16(
                    _mm512_i32gather_epi32(i1, (const void *)j->gtab, 2));
                _mm512_mask_storeu_epi16(e->gelu + o, mw,
                                         _mm512_inserti64x4(_mm512_castsi256_si512(g0), g1, 1));
            }
        } else {
            float *c = (float *)j->C + o;
            if (e->accumulate) {
                v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), v0);
                v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), v1);
            }
            _mm512_mask_storeu_ps(c, m0, v0);
            _mm512_mask_storeu_ps(c + 16, m1, v1);
        }
    }
    s->done = r1;
    if (r1 >= s->rows)
        s->acc = NULL;
}

/* Where the tiles of 32 rows of A are: step kt of rows 0-15 at a0 + kt
 * step, of rows 16-31 at a1 + kt step, ld bytes between rows. */
typedef struct asrc {
    const ijepa__bf16 *a0, *a1;
    int64_t step, ld;
} asrc;

/* Rows m0.. of A are read in place when all 32 are rows of A, in the row
 * layout, with whole steps of K: a tile load of a step then reads 16 rows
 * 64 bytes each, as the copy would write them. Measured 10-20 % faster than
 * the copy on the ViT-S shapes (the copy's loads and stores compete with
 * the tile loads for the L1). */
static int in_place(const job *j, int64_t m0)
{
    return !j->ah && j->K % 32 == 0 && m0 + 32 <= j->M;
}

static asrc a_source(const job *j, const ijepa__bf16 *ap, int64_t m0)
{
    if (in_place(j, m0))
        return (asrc){j->A + m0 * j->K, j->A + (m0 + 16) * j->K, 32, j->K * 2};
    return (asrc){ap, ap + j->nkt * 512, 512, 64};
}

/* Steps [k0, k1) of K for columns n0..n0+31 of the rows whose A tiles are
 * at a, on the sums in acc (zero when k0 == 0), with the side work spread
 * over the steps. */
TAMX static void block(const job *j, const asrc *a, int64_t n0, int64_t k0, int64_t k1,
                       float *acc, side *s)
{
    /* the block's two column tiles; past Np (N % 32 <= 16, 16-column
     * blocks) the second is the first again, its sums in columns past N */
    const ijepa__blk_fmt *f = j->f;
    const int64_t n1 = n0 + 16, ld = f->nb * 4;
    const ijepa__bf16 *b0 = j->B + (n0 / f->nb) * f->sn + (n0 % f->nb) * 2;
    const ijepa__bf16 *b1 = n1 < f->Np ? j->B + (n1 / f->nb) * f->sn + (n1 % f->nb) * 2 : b0;
    if (k0 == 0) {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    } else {
        _tile_loadd(0, acc, 128);
        _tile_loadd(1, acc + 16, 128);
        _tile_loadd(2, acc + 512, 128);
        _tile_loadd(3, acc + 528, 128);
    }
    for (int64_t kt = k0; kt < k1; kt++) {
        _tile_loadd(4, a->a0 + kt * a->step, a->ld);
        _tile_loadd(5, a->a1 + kt * a->step, a->ld);
        _tile_loadd(6, b0 + kt * f->sk, ld);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
        _tile_loadd(7, b1 + kt * f->sk, ld);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(3, 5, 7);
        if (s->acc)
            epilogue(j, s, s->per);
        for (int64_t c = 0; c < s->cpk && s->left > 0; c++, s->left--)
            copy_piece(j, s);
    }
    if (s->acc) /* the block before is written before acc can be reused */
        epilogue(j, s, 32);
    _tile_stored(0, acc, 128);
    _tile_stored(1, acc + 16, 128);
    _tile_stored(2, acc + 512, 128);
    _tile_stored(3, acc + 528, 128);
}

/* Column blocks of 32 one item spans at most. */
static int64_t item_blocks(int64_t N, int64_t parts)
{
    const int64_t nq = (N + 31) / 32;
    return (nq + parts - 1) / parts;
}

/* Two copies of 32 rows of A in tiles (2 nkt KiB each), one 32 x 32 block
 * of sums per column block of an item. */
static int64_t per_thread(int64_t N, int64_t K, int64_t parts)
{
    return (K + 31) / 32 * 4096 + item_blocks(N, parts) * 4096;
}

int64_t ijepa__amx_scratch_bytes(int64_t N, int64_t K, int threads)
{
    return per_thread(N, K, 1) * (threads > 0 ? threads : 1);
}

/* Items [lo, hi) of one thread: item it is rows 32 (it / parts).., column
 * range it % parts of `parts`. Each block's epilogue runs during the next
 * block's products, and the next item's rows of A are copied (or
 * prefetched, when read in place) during the current item's. */
TAMX static void run(const job *j, char *base, int64_t lo, int64_t hi, int64_t parts)
{
    const int64_t nkt = j->nkt, nq = (j->N + 31) / 32, npass = (nkt + KC - 1) / KC;
    ijepa__bf16 *ap[2] = {(ijepa__bf16 *)(void *)base,
                          (ijepa__bf16 *)(void *)(base + nkt * 2048)};
    float *sums = (float *)(void *)(base + nkt * 4096);
    tiles_on();
    side s;
    memset(&s, 0, sizeof s);
    int cur = 0; /* the A copy in use */
    if (lo < hi) { /* the first rows of A, before any product */
        copy_start(j, &s, ap[0], lo / parts * 32, in_place(j, lo / parts * 32));
        for (int64_t c = 0; c < 32 * nkt; c++)
            copy_piece(j, &s);
    }
    for (int64_t it = lo; it < hi; it++) {
        const int64_t i = it / parts, p = it % parts;
        const int64_t q0 = nq * p / parts, q1 = nq * (p + 1) / parts, nblk = q1 - q0;
        const int next = it + 1 < hi && (it + 1) / parts != i; /* new rows next */
        const asrc a = a_source(j, ap[cur], i * 32);
        if (next)
            copy_start(j, &s, ap[cur ^ 1], (i + 1) * 32, in_place(j, (i + 1) * 32));
        /* the 32 nkt pieces of the next rows over the item's nblk nkt steps */
        s.left = next ? 32 * nkt : 0;
        s.cpk = (32 + nblk - 1) / nblk;
        /* heads: row i 32 as (s, t); column q0 32 as (array, head, offset) */
        const ijepa__amx_heads *h = j->e->heads;
        int64_t eq = 0, er = 0, hc = 0, hh = 0, hw = 0;
        if (h) {
            eq = i * 32 / h->T;
            er = i * 32 % h->T;
            hc = q0 * 32 / (h->H * h->hd);
            hh = q0 * 32 % (h->H * h->hd) / h->hd;
            hw = q0 * 32 % h->hd;
        }
        for (int64_t pass = 0; pass < npass; pass++) {
            const int64_t k0 = pass * KC, k1 = k0 + KC < nkt ? k0 + KC : nkt;
            s.per = (32 + (k1 - k0) - 1) / (k1 - k0);
            for (int64_t q = q0; q < q1; q++) {
                float *acc = sums + (q - q0) * 1024;
                block(j, &a, q * 32, k0, k1, acc, &s);
                if (pass == npass - 1) {
                    s.acc = acc;
                    s.rows = j->M - i * 32 < 32 ? j->M - i * 32 : 32;
                    s.m0 = i * 32;
                    s.n0 = q * 32;
                    s.done = 0;
                    if (h) { /* the next block is 32 columns further */
                        s.hbase = j->e->out[hc] + hh * h->T * h->hd + hw;
                        s.eq = eq;
                        s.er = er;
                        if ((hw += 32) == h->hd) {
                            hw = 0;
                            if (++hh == h->H) {
                                hh = 0;
                                hc++;
                            }
                        }
                    }
                }
            }
        }
        if (next)
            cur ^= 1;
    }
    if (s.acc) /* the last block's epilogue */
        epilogue(j, &s, 32);
    if (j->e->stream) /* the non-temporal stores ordered before what follows */
        _mm_sfence();
    _tile_release();
}

void ijepa__amx_matmul(int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                       const ijepa__amx_heads *ah, const ijepa__bf16 *B,
                       const ijepa__blk_fmt *f, const ijepa__amx_epi *e, void *C,
                       void *scratch, int threads)
{
    const int64_t mb = (M + 31) / 32, nq = (N + 31) / 32;
    if (threads < 1)
        threads = 1;
    /* blocks of 32 rows, each split into column ranges when there are
     * fewer than two blocks per thread */
    int64_t parts = 1;
    if (mb < 2 * (int64_t)threads) {
        parts = (2 * (int64_t)threads + mb - 1) / mb;
        if (parts > nq)
            parts = nq;
    }
    const int64_t items = mb * parts;
    const int par = items > 1 && M * N * K >= (int64_t)1 << 18;
    const int64_t per = per_thread(N, K, parts);
    const job j = {M, N, K, (K + 31) / 32, A, B, ah, f, e,
                   e->gelu ? ijepa__gelu_table() : NULL, C};
#pragma omp parallel num_threads(threads) if (par)
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        run(&j, (char *)scratch + t * per, items * t / nt, items * (t + 1) / nt, parts);
    }
}

/* --- weight gradients --------------------------------------------------------------
 *
 * gW [O, I] += dy^T x over R rows (tokens): A = dy^T (rows: outputs, K:
 * tokens) and B = x (K: tokens) as tiles. Tokens run in chunks of WC; for
 * each chunk a thread turns its share of dy into A tiles (pairs of token
 * rows interleaved into dwords, then 16 x 16 dword transposes) and its
 * share of x into B tiles (pairs of token rows interleaved), then adds the
 * chunk's products to every 32 x 32 block of its outputs, the block's sums
 * loaded from and stored to gW. Threads split the wider of O and I; each
 * prepares all of the narrower operand itself, so no thread waits for
 * another. Every output is summed over the chunks in order, over the steps
 * of a chunk in order: the result does not depend on the thread count. */

#define WC 256 /* tokens per chunk: 8 steps of K */
#define WKS (WC / 32)

static const uint16_t pair_idx[32] __attribute__((aligned(64))) = {
    0, 32, 1, 33, 2,  34, 3,  35, 4,  36, 5,  37, 6,  38, 7,  39,
    8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};

/* Columns c.. (n of them, <= 16 used) of rows k and k + 1 of m [rows,
 * ld] as 16 dwords (row k low), zeros for rows at or past `rows` and
 * columns past n; nothing read outside. */
TAMX static inline __attribute__((always_inline)) __m512i pair16z(const ijepa__bf16 *m,
                                                                  int64_t ld, int64_t k,
                                                                  int64_t rows, int64_t c,
                                                                  int64_t n)
{
    const __mmask16 cm = n >= 16 ? (__mmask16)0xffff
                         : n <= 0 ? (__mmask16)0
                                  : (__mmask16)((1u << n) - 1);
    const __m256i z = _mm256_setzero_si256();
    const __m256i a = k < rows ? _mm256_maskz_loadu_epi16(cm, m + k * ld + c) : z;
    const __m256i b = k + 1 < rows ? _mm256_maskz_loadu_epi16(cm, m + (k + 1) * ld + c) : z;
    return _mm512_permutex2var_epi16(_mm512_castsi256_si512(a),
                                     _mm512_load_si512((const void *)pair_idx),
                                     _mm512_castsi256_si512(b));
}

/* A tiles of the chunk at t0: dy^T rows (outputs) o0.., n16 groups of 16;
 * tile (g, s) (16 outputs x 32 tokens) at dst + (g WKS + s) 512. Both
 * packings walk the chunk's token rows in order and each row's columns
 * left to right (here 32 rows at a time), so the source streams in
 * sequentially: 10-14 % faster on the whole weight gradient of the ViT-S
 * shapes than a group of 16 columns down all 256 rows, 32 bytes a row,
 * before the next (docs/performance.md). */
TAMX static void wg_pack_a(const ijepa__bf16 *dy, int64_t O, int64_t R, int64_t t0, int64_t o0,
                           int64_t n16, ijepa__bf16 *dst)
{
    for (int s = 0; s < WKS; s++)
        for (int64_t g = 0; g < n16; g++) {
            __m512i r[16];
            for (int p = 0; p < 16; p++)
                r[p] = pair16z(dy, O, t0 + s * 32 + 2 * p, R, o0 + g * 16, 16);
            ijepa__transpose16(r); /* r[o]: dword p = tokens 2p, 2p + 1 of output o */
            ijepa__bf16 *d = dst + (g * WKS + s) * 512;
            for (int o = 0; o < 16; o++)
                _mm512_store_si512((void *)(d + o * 32), r[o]);
        }
}

/* 16 columns of token row t of xh, bf16(xh * xg + xb) in the low half of
 * each dword (ijepa__layernorm_affine_bf16's AVX-512 values), zeros for a
 * row at or past R. */
TAMX static inline __attribute__((always_inline)) __m512i affine16(const ijepa__bf16 *xh,
                                                                   int64_t ld, int64_t t,
                                                                   int64_t R, int64_t c,
                                                                   __m512 g, __m512 b)
{
    if (t >= R)
        return _mm512_setzero_si512();
    const __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(xh + t * ld + c));
    const __m512 v = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return ijepa__rnd512(_mm512_fmadd_ps(v, g, b));
}

/* B tiles of the chunk at t0: x columns i0.., n16 groups of 16; tile
 * (g, s) (16 token pairs x 16 columns) at dst + (g WKS + s) 512. With xg:
 * x is a LayerNorm's xhat, the tiles hold bf16(x xg + xb). */
TAMX static void wg_pack_b(const ijepa__bf16 *x, const float *xg, const float *xb, int64_t I,
                           int64_t R, int64_t t0, int64_t i0, int64_t n16, ijepa__bf16 *dst)
{
    for (int s = 0; s < WKS; s++)
        for (int p = 0; p < 16; p++) {
            const int64_t t = t0 + s * 32 + 2 * p;
            for (int64_t g = 0; g < n16; g++) {
                const int64_t c = i0 + g * 16;
                __m512i v;
                if (xg) {
                    const __m512 vg = _mm512_loadu_ps(xg + c), vb = _mm512_loadu_ps(xb + c);
                    v = _mm512_or_si512(affine16(x, I, t, R, c, vg, vb),
                                        _mm512_slli_epi32(affine16(x, I, t + 1, R, c, vg, vb), 16));
                } else {
                    v = pair16z(x, I, t, R, c, 16);
                }
                _mm512_store_si512((void *)(dst + (g * WKS + s) * 512 + p * 32), v);
            }
        }
}

/* One thread's outputs: rows [o0, o1) x columns [i0, i1) of gW. */
TAMX static void wg_run(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                        const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                        int64_t o0, int64_t o1, int64_t i0, int64_t i1, ijepa__bf16 *pa)
{
    if (o1 <= o0 || i1 <= i0)
        return;
    tiles_on();
    ijepa__bf16 *pb = pa + (o1 - o0) * WC;
    const int64_t ldc = I * (int64_t)sizeof(float);
    for (int64_t t0 = 0; t0 < R; t0 += WC) {
        wg_pack_a(dy, O, R, t0, o0, (o1 - o0) / 16, pa);
        wg_pack_b(x, xg, xb, I, R, t0, i0, (i1 - i0) / 16, pb);
        TILE_FENCE();
        for (int64_t ob = 0; ob < (o1 - o0) / 32; ob++) {
            const ijepa__bf16 *a0 = pa + 2 * ob * WKS * 512, *a1 = a0 + WKS * 512;
            for (int64_t ib = 0; ib < (i1 - i0) / 32; ib++) {
                const ijepa__bf16 *b0 = pb + 2 * ib * WKS * 512, *b1 = b0 + WKS * 512;
                float *c = gW + (o0 + ob * 32) * I + i0 + ib * 32;
                _tile_loadd(0, c, ldc);
                _tile_loadd(1, c + 16, ldc);
                _tile_loadd(2, c + 16 * I, ldc);
                _tile_loadd(3, c + 16 * I + 16, ldc);
                for (int s = 0; s < WKS; s++) {
                    _tile_loadd(4, a0 + s * 512, 64);
                    _tile_loadd(5, a1 + s * 512, 64);
                    _tile_loadd(6, b0 + s * 512, 64);
                    _tile_dpbf16ps(0, 4, 6);
                    _tile_dpbf16ps(2, 5, 6);
                    _tile_loadd(7, b1 + s * 512, 64);
                    _tile_dpbf16ps(1, 4, 7);
                    _tile_dpbf16ps(3, 5, 7);
                }
                _tile_stored(0, c, ldc);
                _tile_stored(1, c + 16, ldc);
                _tile_stored(2, c + 16 * I, ldc);
                _tile_stored(3, c + 16 * I + 16, ldc);
            }
        }
    }
    _tile_release();
}

/* Thread t's range of the split dimension (n blocks of 32). */
static void wg_split(int64_t n, int t, int nt, int64_t *lo, int64_t *hi)
{
    *lo = n * t / nt * 32;
    *hi = n * (t + 1) / nt * 32;
}

/* Scratch: each thread's A and B tiles of one chunk, (range + narrow) WC
 * values, placed at (range start + t narrow) WC so that threads never
 * overlap whatever their number (a team smaller than asked for, under
 * OMP_THREAD_LIMIT or nested parallelism, gets larger ranges). */
int64_t ijepa__amx_wgrad_scratch_bytes(int64_t O, int64_t I, int threads)
{
    if (threads < 1)
        threads = 1;
    const int64_t wide = O >= I ? O : I, narrow = O >= I ? I : O;
    return (wide + threads * narrow) * WC * (int64_t)sizeof(ijepa__bf16);
}

void ijepa__amx_wgrad(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                      const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                      void *scratch, int threads)
{
    if (threads < 1)
        threads = 1;
    const int par = R * O * I >= (int64_t)1 << 18;
#pragma omp parallel num_threads(threads) if (par)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t o0 = 0, o1 = O, i0 = 0, i1 = I;
        if (O >= I)
            wg_split(O / 32, t, nt, &o0, &o1);
        else
            wg_split(I / 32, t, nt, &i0, &i1);
        const int64_t at = O >= I ? o0 + t * I : i0 + t * O;
        wg_run(R, O, I, dy, x, xg, xb, gW, o0, o1, i0, i1, (ijepa__bf16 *)scratch + at * WC);
    }
}

/* --- batched products (attention) ---------------------------------------------------
 *
 * C_b = alpha op(A_b) op(B_b) for each item b, all bf16, small (a head's
 * T x T scores or T x hd values). Each item is one thread's: its operands
 * are first made into zero-padded tiles in the thread's scratch (A: 16 rows
 * x 32 k, whole tiles of a plain A read in place instead, a transposed A
 * from pairs of rows of A^T interleaved and 16 x 16 dword transposes; B: 16
 * k pairs x 16 columns, pairs of rows interleaved or, transposed, 16 x 16
 * dword transposes of B^T's rows; tens of KiB for attention's shapes, in
 * L1 or L2), then each block of up to 32 x 32 is summed over all of K in
 * tiles, stored to a 4 KiB float32 block, scaled and rounded into C. The
 * zeros past M, N and K are written by the packing, so the tails cost no
 * branch in the tile loop. A transposed A with a plain B is done as C^T =
 * B^T A^T where that makes fewer transposes (bm_swap). */

/* n (<= 0 to 32) values from p, zeros after; nothing read past them. */
TAMX static inline __attribute__((always_inline)) __m512i load32z(const ijepa__bf16 *p,
                                                                  int64_t n)
{
    const __mmask32 m = n >= 32 ? (__mmask32)0xffffffffu
                        : n <= 0 ? (__mmask32)0
                                 : (__mmask32)((1u << n) - 1);
    return _mm512_maskz_loadu_epi16(m, p);
}


/* A_b as tiles: (mt, ks) at dst + (mt nks + ks) 512, 16 rows x 32 k. */
TAMX static void bm_pack_a(const ijepa__bf16 *A, int ta, int64_t M, int64_t K, int64_t nmt,
                           int64_t nks, ijepa__bf16 *dst)
{
    if (!ta) { /* A [M, K]: only the tiles not read in place (bm_item) */
        const int64_t nmf = M / 16, nkf = K / 32;
        for (int64_t m = 0; m < nmt * 16; m++) {
            ijepa__bf16 *d = dst + (m / 16) * nks * 512 + (m % 16) * 32;
            for (int64_t ks = m / 16 < nmf ? nkf : 0; ks < nks; ks++)
                _mm512_store_si512((void *)(d + ks * 512),
                                   m < M ? load32z(A + m * K + ks * 32, K - ks * 32)
                                         : _mm512_setzero_si512());
        }
        return;
    }
    for (int64_t mt = 0; mt < nmt; mt++)
        for (int64_t ks = 0; ks < nks; ks++) {
            ijepa__bf16 *d = dst + (mt * nks + ks) * 512;
            const int64_t m0 = mt * 16, k0 = ks * 32;
            { /* A stored as A^T [K, M] */
                __m512i r[16];
                for (int p = 0; p < 16; p++)
                    r[p] = pair16z(A, M, k0 + 2 * p, K, m0, M - m0);
                ijepa__transpose16(r); /* r[i]: dword p = k pair p of row m0 + i */
                for (int i = 0; i < 16; i++)
                    _mm512_store_si512((void *)(d + i * 32), r[i]);
            }
        }
}

/* B_b as tiles: (nt, ks) at dst + (nt nks + ks) 512, 16 k pairs x 16
 * columns. */
TAMX static void bm_pack_b(const ijepa__bf16 *B, int tb, int64_t N, int64_t K, int64_t nnt,
                           int64_t nks, ijepa__bf16 *dst)
{
    for (int64_t nt = 0; nt < nnt; nt++)
        for (int64_t ks = 0; ks < nks; ks++) {
            ijepa__bf16 *d = dst + (nt * nks + ks) * 512;
            const int64_t n0 = nt * 16, k0 = ks * 32;
            if (!tb) { /* B [K, N]: pairs of rows interleaved */
                for (int p = 0; p < 16; p++)
                    _mm512_store_si512((void *)(d + p * 32),
                                       pair16z(B, N, k0 + 2 * p, K, n0, N - n0));
            } else { /* B stored as B^T [N, K]: its rows are columns */
                __m512i r[16];
                for (int j = 0; j < 16; j++)
                    r[j] = n0 + j < N ? load32z(B + (n0 + j) * K + k0, K - k0)
                                      : _mm512_setzero_si512();
                ijepa__transpose16(r); /* r[p]: dword j = k pair p of column n0 + j */
                for (int p = 0; p < 16; p++)
                    _mm512_store_si512((void *)(d + p * 32), r[p]);
            }
        }
}

/* C^T's 32 x 32 block at acc (rows m0 + i of the product, columns n0 + j,
 * `rows` x `cols` of them valid) into C, where it is element (n0 + j, m0 +
 * i): 16 x 16 transposes of the float32 block, then rows of C. */
TAMX static void bm_store_t(const float *acc, int64_t m0, int64_t n0, int64_t rows,
                            int64_t cols, __m512 va, ijepa__bf16 *C, int64_t ldc)
{
    for (int qi = 0; qi < 2 && qi * 16 < rows; qi++) {
        const int64_t ni = rows - qi * 16;
        const __mmask16 mi = ni >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << ni) - 1);
        for (int qj = 0; qj < 2 && qj * 16 < cols; qj++) {
            __m512i r[16];
            for (int k = 0; k < 16; k++)
                r[k] = _mm512_load_si512((const void *)(acc + (qi * 16 + k) * 32 + qj * 16));
            ijepa__transpose16(r); /* r[l]: lane k = product (m0 + 16 qi + k, n0 + 16 qj + l) */
            const int64_t nl = cols - qj * 16 < 16 ? cols - qj * 16 : 16;
            for (int64_t l = 0; l < nl; l++) {
                const __m512 v = _mm512_mul_ps(_mm512_castsi512_ps(r[l]), va);
                _mm256_mask_storeu_epi16(C + (n0 + qj * 16 + l) * ldc + m0 + qi * 16, mi,
                                         (__m256i)_mm512_cvtneps_pbh(v));
            }
        }
    }
}

/* Lines fetched a few at a time while an item is multiplied: the next
 * item's operands to read and its C's rows to write (ijepa__amx_pf). In
 * the step they come from memory, where the products waited on them: at
 * half their warm-cache speed or less. Running cursors, no division per
 * line. */
#define BM_PF_MAX 4
typedef struct bm_pf {
    ijepa__amx_pf r[BM_PF_MAX];
    int n, i;               /* ranges, the current one */
    int64_t row;            /* its current row */
    uintptr_t q, end;       /* the row's next line, its end (addresses only) */
    int64_t per;            /* lines per block of the current item */
} bm_pf;

/* Points f at the rows of the row range i (or past the last). */
static void bm_pf_row(bm_pf *f)
{
    while (f->i < f->n && f->row >= f->r[f->i].rows) {
        f->i++;
        f->row = 0;
    }
    if (f->i == f->n)
        return;
    const ijepa__amx_pf *r = &f->r[f->i];
    const uintptr_t p = (uintptr_t)r->p + (uintptr_t)(f->row * r->ld);
    f->q = p & ~(uintptr_t)63;
    f->end = p + (uintptr_t)r->bytes;
}

/* f over the n (<= BM_PF_MAX) ranges at r, spread over nblk blocks. */
static void bm_pf_start(bm_pf *f, const ijepa__amx_pf *r, int n, int64_t nblk)
{
    int64_t lines = 0;
    f->n = 0;
    for (int k = 0; k < n && f->n < BM_PF_MAX; k++)
        if (r[k].p && r[k].rows > 0 && r[k].bytes > 0) {
            f->r[f->n++] = r[k];
            lines += r[k].rows * ((r[k].bytes + 63) / 64 + 1);
        }
    f->i = 0;
    f->row = 0;
    f->per = (lines + nblk - 1) / nblk;
    bm_pf_row(f);
}

TAMX static inline __attribute__((always_inline)) void bm_pf_some(bm_pf *f)
{
    for (int64_t k = f->per; k > 0 && f->i < f->n; k--) {
        if (f->r[f->i].write)
            __builtin_prefetch((const void *)f->q, 1, 3);
        else
            _mm_prefetch((const char *)f->q, _MM_HINT_T0);
        if ((f->q += 64) >= f->end) {
            f->row++;
            bm_pf_row(f);
        }
    }
}

/* One item: C [M, N] = alpha A . (tiles pb); acc: 32 x 32 floats. A's
 * tiles are at pa, or (Ad not NULL: A [M, K] itself) read in place where
 * they hold 16 whole rows and 32 whole columns of it. tout: C is stored
 * transposed, [N, M] with ldc between its rows. */
TAMX static void bm_item(int64_t M, int64_t N, int64_t K, const ijepa__bf16 *Ad,
                         float alpha, const ijepa__bf16 *pa, const ijepa__bf16 *pb,
                         ijepa__bf16 *C, int64_t ldc, int tout, float *acc, bm_pf *pf)
{
    const int64_t nmt = (M + 15) / 16, nnt = (N + 15) / 16, nks = (K + 31) / 32;
    const int64_t nkf = Ad ? K / 32 : 0, lda = K * (int64_t)sizeof *Ad;
    const __m512 va = _mm512_set1_ps(alpha);
    for (int64_t mt = 0; mt < nmt; mt += 2) {
        const int two_m = mt + 1 < nmt;
        /* (pointers to a second tile formed only where it exists) */
        const ijepa__bf16 *a0 = pa + mt * nks * 512, *a1 = two_m ? a0 + nks * 512 : a0;
        /* steps below k0f / k1f of the two row tiles are read in place */
        const int64_t k0f = (mt + 1) * 16 <= M ? nkf : 0, k1f = (mt + 2) * 16 <= M ? nkf : 0;
        const ijepa__bf16 *d0 = Ad ? Ad + mt * 16 * K : NULL;
        const ijepa__bf16 *d1 = d0 && two_m ? d0 + 16 * K : d0;
        for (int64_t nt = 0; nt < nnt; nt += 2) {
            const int two_n = nt + 1 < nnt;
            const ijepa__bf16 *b0 = pb + nt * nks * 512, *b1 = two_n ? b0 + nks * 512 : b0;
            bm_pf_some(pf);
            _tile_zero(0);
            if (two_n)
                _tile_zero(1);
            if (two_m)
                _tile_zero(2);
            if (two_m && two_n)
                _tile_zero(3);
            for (int64_t s = 0; s < nks; s++) {
                if (s < k0f)
                    _tile_loadd(4, d0 + s * 32, lda);
                else
                    _tile_loadd(4, a0 + s * 512, 64);
                _tile_loadd(6, b0 + s * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                if (two_m) {
                    if (s < k1f)
                        _tile_loadd(5, d1 + s * 32, lda);
                    else
                        _tile_loadd(5, a1 + s * 512, 64);
                    _tile_dpbf16ps(2, 5, 6);
                }
                if (two_n) {
                    _tile_loadd(7, b1 + s * 512, 64);
                    _tile_dpbf16ps(1, 4, 7);
                    if (two_m)
                        _tile_dpbf16ps(3, 5, 7);
                }
            }
            _tile_stored(0, acc, 128);
            if (two_n)
                _tile_stored(1, acc + 16, 128);
            if (two_m)
                _tile_stored(2, acc + 16 * 32, 128);
            if (two_m && two_n)
                _tile_stored(3, acc + 16 * 32 + 16, 128);
            /* the block to C, rounded to nearest even as epilogue() does;
             * the right half of acc is read only when two_n stored it */
            const int64_t m0 = mt * 16, n0 = nt * 16, left = N - n0;
            const int64_t rows = M - m0 < 32 ? M - m0 : 32;
            if (tout) {
                bm_store_t(acc, m0, n0, rows, left < 32 ? left : 32, va, C, ldc);
                continue;
            }
            const __mmask32 mw = left >= 32 ? (__mmask32)0xffffffffu
                                            : (__mmask32)((1u << left) - 1);
            if (two_n) {
                for (int64_t r = 0; r < rows; r++) {
                    const __m512 v0 = _mm512_mul_ps(_mm512_load_ps(acc + r * 32), va);
                    const __m512 v1 = _mm512_mul_ps(_mm512_load_ps(acc + r * 32 + 16), va);
                    _mm512_mask_storeu_epi16(C + (m0 + r) * ldc + n0, mw,
                                             (__m512i)_mm512_cvtne2ps_pbh(v1, v0));
                }
            } else { /* 16 columns at most */
                for (int64_t r = 0; r < rows; r++) {
                    const __m512 v0 = _mm512_mul_ps(_mm512_load_ps(acc + r * 32), va);
                    _mm256_mask_storeu_epi16(C + (m0 + r) * ldc + n0, (__mmask16)mw,
                                             (__m256i)_mm512_cvtneps_pbh(v0));
                }
            }
        }
    }
}

/* Per thread: A's and B's tiles and the 32 x 32 float32 block. */
static int64_t bm_thread_bytes(int64_t M, int64_t N, int64_t K)
{
    const int64_t nks = (K + 31) / 32;
    return (((M + 15) / 16 + (N + 15) / 16) * nks * 512) * (int64_t)sizeof(ijepa__bf16) +
           32 * 32 * (int64_t)sizeof(float);
}

int64_t ijepa__amx_bmm_scratch_bytes(int64_t M, int64_t N, int64_t K, int threads)
{
    if (threads < 1)
        threads = 1;
    return bm_thread_bytes(M, N, K) * threads;
}

/* A transposed and B plain (Pᵀ dO, dSᵀ q): 1 when C^T = B^T A^T is the
 * cheaper way. Plain, A^T's tiles are 16 x 16 transposes and B's rows are
 * interleaved in pairs; swapped, B^T's tiles and C's 16 x 16 blocks are
 * transposes and A^T's rows are interleaved. A transpose counted as two
 * interleaves, as they measured: swapped is 13-15 % faster at 196 tokens
 * of width 32 and 8 % at 96 of width 16, 15-20 % slower at 88-112 tokens
 * of width 64 and at 60 of width 32. */
static int bm_swap(int64_t M, int64_t N, int64_t K)
{
    const int64_t mt = (M + 15) / 16, nt = (N + 15) / 16, ks = (K + 31) / 32;
    return 2 * (nt * ks + nt * mt) + mt * ks < 2 * mt * ks + nt * ks;
}

/* Items [b0, b1) on this thread, its scratch at mine. */
TAMX static void bm_run(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                        const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B, int trans_b,
                        float alpha, ijepa__bf16 *C, const ijepa__amx_cmap *cm, char *mine,
                        const ijepa__amx_pf *fetch, int nfetch)
{
    if (b1 <= b0)
        return;
    const int64_t nks = (K + 31) / 32, nmt = (M + 15) / 16, nnt = (N + 15) / 16;
    ijepa__bf16 *pa = (ijepa__bf16 *)(void *)mine, *pb = pa + nmt * nks * 512;
    float *acc = (float *)(void *)(pb + nnt * nks * 512);
    tiles_on();
    const int swap = trans_a && !trans_b && bm_swap(M, N, K);
    const int64_t ldc = cm ? cm->ldc : N, nblk = (nmt + 1) / 2 * ((nnt + 1) / 2);
    bm_pf pf;
    for (int64_t b = b0; b < b1; b++) {
        const ijepa__bf16 *Ab = A + b * M * K, *Bb = B + b * K * N;
        ijepa__bf16 *cb = cm ? C + b / cm->H * cm->cs + b % cm->H * cm->ch : C + b * M * N;
        if (b + 1 < b1) { /* the next item's lines, while this one is done */
            const int64_t n = b + 1;
            const ijepa__amx_pf r[3] = {
                {A + n * M * K, 1, M * K * 2, 0, 0},
                {B + n * K * N, 1, K * N * 2, 0, 0},
                {cm ? C + n / cm->H * cm->cs + n % cm->H * cm->ch : C + n * M * N, M, N * 2,
                 ldc * 2, 1}};
            bm_pf_start(&pf, r, 3, nblk);
        } else { /* the last: what the caller fetches for its next work */
            bm_pf_start(&pf, fetch, nfetch, nblk);
        }
        if (swap) {
            bm_pack_a(Bb, 1, N, K, nnt, nks, pa);
            bm_pack_b(Ab, 0, M, K, nmt, nks, pa + nnt * nks * 512);
            TILE_FENCE();
            bm_item(N, M, K, NULL, alpha, pa, pa + nnt * nks * 512, cb, ldc, 1, acc, &pf);
            continue;
        }
        bm_pack_a(Ab, trans_a, M, K, nmt, nks, pa);
        bm_pack_b(Bb, trans_b, N, K, nnt, nks, pb);
        TILE_FENCE();
        bm_item(M, N, K, trans_a ? NULL : Ab, alpha, pa, pb, cb, ldc, 0, acc, &pf);
    }
    _tile_release();
}

void ijepa__amx_bmm(int64_t batch, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                    int trans_a, const ijepa__bf16 *B, int trans_b, float alpha,
                    ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch, int threads)
{
    if (threads < 1)
        threads = 1;
    const int64_t per = bm_thread_bytes(M, N, K);
    const int par = batch > 1 && batch * M * N * K >= (int64_t)1 << 18;
#pragma omp parallel num_threads(threads) if (par)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        bm_run(batch * t / nt, batch * (t + 1) / nt, M, N, K, A, trans_a, B, trans_b, alpha, C,
               cm, (char *)scratch + t * per, NULL, 0);
    }
}

void ijepa__amx_bmm_items(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                          const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B, int trans_b,
                          float alpha, ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch,
                          const ijepa__amx_pf *fetch, int nfetch)
{
    bm_run(b0, b1, M, N, K, A, trans_a, B, trans_b, alpha, C, cm, scratch, fetch, nfetch);
}

#else /* not x86-64: never usable, never called */

int ijepa__amx_usable(void)
{
    return 0;
}

int ijepa__amx_emulated(void) { return 0; }

int64_t ijepa__amx_scratch_bytes(int64_t N, int64_t K, int threads)
{
    (void)N;
    (void)K;
    (void)threads;
    return 0;
}

void ijepa__amx_matmul(int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                       const ijepa__amx_heads *ah, const ijepa__bf16 *B,
                       const ijepa__blk_fmt *f, const ijepa__amx_epi *e, void *C,
                       void *scratch, int threads)
{
    (void)M, (void)N, (void)K, (void)A, (void)ah, (void)B, (void)f, (void)e, (void)C;
    (void)scratch, (void)threads;
}

int64_t ijepa__amx_wgrad_scratch_bytes(int64_t O, int64_t I, int threads)
{
    (void)O, (void)I, (void)threads;
    return 0;
}

void ijepa__amx_wgrad(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                      const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                      void *scratch, int threads)
{
    (void)R, (void)O, (void)I, (void)dy, (void)x, (void)gW, (void)scratch, (void)threads;
    (void)xg, (void)xb;
}

int64_t ijepa__amx_bmm_scratch_bytes(int64_t M, int64_t N, int64_t K, int threads)
{
    (void)M, (void)N, (void)K, (void)threads;
    return 0;
}

void ijepa__amx_bmm(int64_t batch, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                    int trans_a, const ijepa__bf16 *B, int trans_b, float alpha,
                    ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch, int threads)
{
    (void)batch, (void)M, (void)N, (void)K, (void)A, (void)trans_a, (void)B, (void)trans_b;
    (void)alpha, (void)C, (void)cm, (void)scratch, (void)threads;
}

void ijepa__amx_bmm_items(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                          const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B, int trans_b,
                          float alpha, ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch,
                          const ijepa__amx_pf *fetch, int nfetch)
{
    (void)b0, (void)b1, (void)M, (void)N, (void)K, (void)A, (void)trans_a, (void)B;
    (void)trans_b, (void)alpha, (void)C, (void)cm, (void)scratch, (void)fetch, (void)nfetch;
}

#endif
