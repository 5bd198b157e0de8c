/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The six AMX tile instructions lib/amx.c uses (LDTILECFG, TILELOADD,
 * TILESTORED, TILEZERO, TDPBF16PS, TILERELEASE), in software: included by
 * amx.c only in the test build `make check-amx-emu` (-DIJEPA_AMX_EMULATE,
 * the Makefile's amxemu variant), never in the library a user links. There
 * the own AMX kernels, and every path of the library that chooses them,
 * run on any CPU with AVX512-BF16 (e.g. AMD Zen 4), so the suite checks
 * their logic (blocking, tails, epilogues, in-place and heads layouts,
 * threads) without an AMX machine.
 *
 * Each thread has its own eight tiles and configuration, as each has its
 * own tile registers. TDPBF16PS is done with the instruction AVX512-BF16
 * has for one pair of K, VDPBF16PS (bf16 subnormals read as zero,
 * subnormal sums flushed, rounding to nearest even): each output adds its
 * pairs k = 0, 1, ... in order, one VDPBF16PS each. That is not the order
 * the Intel SDM gives for TDPBF16PS (per instruction, the even and the odd
 * products of its 16 pairs summed apart from zero, then together, then
 * added to C), but it is the order of oneDNN's products on such a CPU
 * (brg:avx512_core_bf16, made of the same instruction, up to K 512), so
 * the tests that hold the own AMX kernel to oneDNN's bits on AMX hold it
 * to them here. In exchange the emulation gives the same bits however a
 * kernel groups K into steps of 32, which only an AMX machine checks.
 *
 * What the hardware faults on stops the test process with SIGILL
 * (__builtin_trap), as the hardware would stop it with #UD or #GP: a tile
 * instruction without a configuration, or before the process was granted
 * the tile state (ijepa__amx_usable(), emu_granted); shapes TDPBF16PS
 * cannot multiply; a configuration LDTILECFG rejects. The copies are plain
 * memcpy calls the compiler sees; the real tile loads and stores are asm
 * statements GCC 12 does not know read or write memory, so a misordering
 * of them around the stores that fill a buffer (as amx.c's tile_cfg once
 * met) shows on AMX only.
 */
#ifndef IJEPA_AMX_EMU_H
#define IJEPA_AMX_EMU_H

#include <stdint.h>
#include <string.h>

#include <immintrin.h>

#define EMU_T512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

typedef struct emu_tiles {
    uint8_t t[8][16][64]; /* the tile registers, 16 rows of 64 bytes */
    uint8_t rows[8];
    uint16_t colsb[8];
    int on; /* a configuration is loaded */
} emu_tiles;

static __thread emu_tiles emu __attribute__((aligned(64)));

/* Set by amx.c's probe where ijepa__amx_usable() says 1, as Linux grants
 * the tile state there (arch_prctl). */
static int emu_granted;

static void emu_release(void) { memset(&emu, 0, sizeof emu); }

/* LDTILECFG of palette 0 (tiles off) or 1 (eight tiles): rows <= 16,
 * bytes per row <= 64 (both zero for a tile not used), the reserved bytes
 * and the entries of tiles 8-15 zero. start_row (the row an interrupted
 * tile load resumes at) is not kept: no instruction here is interrupted.
 * Loading a configuration zeroes the tiles. */
static void emu_loadconfig(const void *cfg)
{
    const uint8_t *p = cfg;
    if (!emu_granted)
        __builtin_trap();
    if (p[0] == 0) {
        emu_release();
        return;
    }
    if (p[0] != 1)
        __builtin_trap();
    for (int i = 2; i < 16; i++)
        if (p[i])
            __builtin_trap();
    emu_release();
    for (int i = 0; i < 16; i++) {
        uint16_t cb;
        memcpy(&cb, p + 16 + 2 * i, sizeof cb);
        const uint8_t r = p[48 + i];
        if (i >= 8 ? cb || r : cb > 64 || r > 16 || !cb != !r)
            __builtin_trap();
        if (i < 8) {
            emu.colsb[i] = cb;
            emu.rows[i] = r;
        }
    }
    emu.on = 1;
}

static inline void emu_need(int t)
{
    if (!emu.on || t < 0 || t > 7 || !emu.rows[t])
        __builtin_trap();
}

/* TILELOADD: the configured rows and bytes, the rest of the tile zero. */
static void emu_loadd(int t, const void *base, long stride)
{
    emu_need(t);
    memset(emu.t[t], 0, sizeof emu.t[t]);
    for (int r = 0; r < emu.rows[t]; r++)
        memcpy(emu.t[t][r], (const char *)base + (long)r * stride, emu.colsb[t]);
}

static void emu_stored(int t, void *base, long stride)
{
    emu_need(t);
    for (int r = 0; r < emu.rows[t]; r++)
        memcpy((char *)base + (long)r * stride, emu.t[t][r], emu.colsb[t]);
}

static void emu_zero(int t)
{
    emu_need(t);
    memset(emu.t[t], 0, sizeof emu.t[t]);
}

/* TDPBF16PS dst, a, b: dst [M, N] float32 += a [M, 2K] bf16 . b [K, 2N]
 * in pairs, k in order, each pair by VDPBF16PS (above); rows of dst past
 * M and bytes past 4 N zero. */
EMU_T512 static void emu_dpbf16ps(int d, int a, int b)
{
    emu_need(d);
    emu_need(a);
    emu_need(b);
    const int M = emu.rows[d], N = emu.colsb[d] / 4, K = emu.colsb[a] / 4;
    if (emu.rows[a] != M || emu.rows[b] != K || emu.colsb[b] != emu.colsb[d] ||
        emu.colsb[d] % 4 || emu.colsb[a] % 4 || d == a || d == b || a == b)
        __builtin_trap();
    const __mmask16 mn = (__mmask16)((1u << N) - 1u);
    for (int m = 0; m < M; m++) {
        __m512 c = _mm512_maskz_loadu_ps(mn, emu.t[d][m]);
        for (int k = 0; k < K; k++) {
            int32_t w;
            memcpy(&w, emu.t[a][m] + 4 * k, sizeof w);
            const __m512i bk = _mm512_maskz_loadu_epi32(mn, emu.t[b][k]);
            c = _mm512_dpbf16_ps(c, (__m512bh)_mm512_set1_epi32(w), (__m512bh)bk);
        }
        _mm512_storeu_ps(emu.t[d][m], _mm512_maskz_mov_ps(mn, c));
    }
    for (int m = M; m < 16; m++)
        memset(emu.t[d][m], 0, 64);
}

/* The intrinsics amx.c calls, now these functions. */
#undef _tile_loadd
#undef _tile_stored
#undef _tile_zero
#undef _tile_dpbf16ps
#define _tile_loadconfig(cfg) emu_loadconfig(cfg)
#define _tile_release() emu_release()
#define _tile_loadd(t, base, stride) emu_loadd(t, base, (long)(stride))
#define _tile_stored(t, base, stride) emu_stored(t, base, (long)(stride))
#define _tile_zero(t) emu_zero(t)
#define _tile_dpbf16ps(d, a, b) emu_dpbf16ps(d, a, b)

#endif /* IJEPA_AMX_EMU_H */
