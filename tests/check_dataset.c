/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "dataset" — include/ijepa/dataset.h over directory
 * trees the tests write themselves (PNG and JPEG files of several sizes in
 * nested directories, plus files that must be ignored or that are broken).
 *
 * TCases:
 *   scan     recursive listing, extensions (any case), dot-files and other
 *            files ignored, strcmp order of relative paths; errors
 *   stream   each epoch is a permutation, epochs differ, data_shuffle 0
 *            keeps path order; a batch item equals ijepa_image_load() +
 *            ijepa_image_transform_train() with ijepa_dataset_crop_seed()
 *            of its position (and the eval transform); the same seed gives
 *            the same batches with 0, 1 or 3 workers; set_epoch replays;
 *            slices of each group of positions give the whole stream's
 *            rows (set_slice)
 *   errors   stop mode fails naming the bad file and consumes nothing; skip
 *            mode skips and counts; all-bad trees fail instead of spinning;
 *            free mid-epoch with busy workers (leak-checked under
 *            make check-asan); argument errors
 *   hostile  a file the scan listed and that is then replaced by a FIFO
 *            (the tree changing under a running dataset) fails the batch
 *            with IJEPA_ERR_IO naming it, or is skipped, at once; free
 *            returns at once (before the fix a worker blocked opening the
 *            FIFO, next_batch waited for it and free joined it: forever)
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <turbojpeg.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ref_img.h"
#include "helpers.h"

#define REQUIRE(cond, ...)             \
    do {                               \
        if (!(cond))                   \
            ck_abort_msg(__VA_ARGS__); \
    } while (0)

static char g_dir[64];

static void write_file(const char *rel, const uint8_t *d, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(d, 1, n, f), n);
    fclose(f);
}

static void write_png(const char *rel, int w, int h, uint64_t seed)
{
    ref_png p;
    ck_assert_int_eq(png_make(&p, seed % 2 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_PALETTE, 8, w, h,
                              0, seed), 0);
    write_file(rel, p.data, p.size);
    ref_png_free(&p);
}

static void write_jpeg(const char *rel, int w, int h, uint64_t seed)
{
    uint8_t *px = smooth_pixels(w, h, 3, seed);
    size_t n;
    uint8_t *j = jpeg_make(px, w, h, TJPF_RGB, TJSAMP_420, 90, 0, &n);
    ck_assert_ptr_nonnull(j);
    write_file(rel, j, n);
    free(j);
    free(px);
}

static void subdir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* The tree every test starts from: 7 images, 3 ignored files. */
static const char *const IMAGES[] = {
    "UPPER.PNG", "a/b/deep.jpeg", "a/x.png", "a/y.jpg", "b.png", "c.JPG", "z/last.png",
};

static void make_tree(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ijepa-data-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    subdir("a");
    subdir("a/b");
    subdir("z");
    subdir(".hidden");
    write_png("UPPER.PNG", 31, 20, 1);
    write_jpeg("a/b/deep.jpeg", 40, 56, 2);
    write_png("a/x.png", 18, 18, 3);
    write_jpeg("a/y.jpg", 64, 33, 4);
    write_png("b.png", 25, 40, 5);
    write_jpeg("c.JPG", 30, 30, 6);
    write_png("z/last.png", 50, 12, 7);
    write_png(".hidden/h.png", 10, 10, 8);
    write_png(".dot.png", 10, 10, 9);
    write_file("notes.txt", (const uint8_t *)"not an image", 12);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void remove_tree(void)
{
    if (g_dir[0])
        nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    g_dir[0] = '\0';
}

static ijepa_config *data_cfg(int64_t img, int64_t chans, int64_t batch, int64_t workers,
                              int64_t seed)
{
    const cfg_int iv[] = {{IJEPA_CFG_IMG_SIZE, img},  {IJEPA_CFG_IN_CHANS, chans},
                          {IJEPA_CFG_BATCH_SIZE, batch}, {IJEPA_CFG_DATA_WORKERS, workers},
                          {IJEPA_CFG_SEED, seed}};
    return config_with(iv, COUNT_OF(iv), NULL, 0);
}

static ijepa_dataset *open_ok(const ijepa_config *cfg)
{
    ijepa_dataset *ds = NULL;
    int rc = ijepa_dataset_create(&ds, g_dir, cfg);
    REQUIRE(rc == IJEPA_OK, "dataset_create: %s", ijepa_last_error());
    return ds;
}

static void batch_ok(ijepa_dataset *ds, int64_t b, float *out, int64_t *idx)
{
    int rc = ijepa_dataset_next_batch(ds, b, out, idx);
    REQUIRE(rc == IJEPA_OK, "next_batch: %s", ijepa_last_error());
}

// --- scan ------------------------------------------------------------------------

START_TEST(scan_tree)
{
    make_tree();
    ijepa_config *cfg = data_cfg(16, 3, 4, 1, 0);
    ijepa_dataset *ds = open_ok(cfg);
    ck_assert_int_eq(ijepa_dataset_size(ds), (int64_t)COUNT_OF(IMAGES));
    for (size_t i = 0; i < COUNT_OF(IMAGES); i++) {
        char want[512];
        snprintf(want, sizeof want, "%s/%s", g_dir, IMAGES[i]);
        ck_assert_str_eq(ijepa_dataset_path(ds, (int64_t)i), want);
    }
    ck_assert_ptr_null(ijepa_dataset_path(ds, -1));
    ck_assert_ptr_null(ijepa_dataset_path(ds, (int64_t)COUNT_OF(IMAGES)));
    ijepa_dataset_free(ds);
    /* a trailing slash on the root changes nothing */
    char root[96];
    snprintf(root, sizeof root, "%s//", g_dir);
    ck_assert_int_eq(ijepa_dataset_create(&ds, root, cfg), IJEPA_OK);
    ck_assert_str_eq(ijepa_dataset_path(ds, 0) + strlen(g_dir), "/UPPER.PNG");
    ijepa_dataset_free(ds);

    /* errors */
    ds = (ijepa_dataset *)(uintptr_t)1;
    snprintf(root, sizeof root, "%s/a/b/deep.jpeg", g_dir);
    expect_err(ijepa_dataset_create(&ds, root, cfg), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_dataset_create", "root is a file");
    ck_assert_ptr_null(ds);
    snprintf(root, sizeof root, "%s/nothing-here", g_dir);
    expect_err(ijepa_dataset_create(&ds, root, cfg), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_dataset_create", "missing root");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), root));
    snprintf(root, sizeof root, "%s/.hidden", g_dir);
    write_file(".hidden/readme.txt", (const uint8_t *)"x", 1);
    /* .hidden holds h.png only, found when it is the root itself */
    ck_assert_int_eq(ijepa_dataset_create(&ds, root, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_dataset_size(ds), 1);
    ijepa_dataset_free(ds);
    subdir("empty");
    snprintf(root, sizeof root, "%s/empty", g_dir);
    expect_err(ijepa_dataset_create(&ds, root, cfg), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_dataset_create", "no images");
    expect_err(ijepa_dataset_create(NULL, g_dir, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_dataset_create", "NULL out");
    expect_err(ijepa_dataset_create(&ds, NULL, cfg), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_dataset_create", "NULL root");
    ijepa_config *cfg2 = data_cfg(16, 2, 4, 1, 0);
    expect_err(ijepa_dataset_create(&ds, g_dir, cfg2), IJEPA_ERR_UNSUPPORTED, ijepa_last_error(),
               "ijepa_dataset_create", "in_chans 2");
    ijepa_config_free(cfg2);
    ck_assert_int_eq(ijepa_dataset_size(NULL), 0);
    ck_assert_str_eq(ijepa_dataset_last_skip_error(NULL), "");
    ijepa_dataset_free(NULL);
    ijepa_config_free(cfg);
    remove_tree();
}
END_TEST

// --- stream ----------------------------------------------------------------------

START_TEST(stream_permutations)
{
    make_tree();
    const int64_t N = (int64_t)COUNT_OF(IMAGES), B = 3;
    ijepa_config *cfg = data_cfg(8, 3, B, 2, 5);
    ijepa_dataset *ds = open_ok(cfg);
    /* 4 epochs of indices, in batches that cross epoch boundaries */
    int64_t idx[4 * 7 + 3];
    float out[3 * 3 * 8 * 8];
    int64_t got = 0;
    while (got < 4 * N) {
        batch_ok(ds, B, out, idx + got);
        got += B;
    }
    ck_assert_int_eq(ijepa_dataset_position(ds), got);
    ck_assert_int_eq(ijepa_dataset_epoch(ds), got / N);
    int differs = 0;
    for (int e = 0; e < 4; e++) {
        int seen[7] = {0};
        for (int64_t i = 0; i < N; i++) {
            const int64_t v = idx[e * N + i];
            REQUIRE(v >= 0 && v < N && !seen[v], "epoch %d is not a permutation", e);
            seen[v] = 1;
        }
        if (e && memcmp(idx + e * N, idx, sizeof(int64_t) * (size_t)N))
            differs = 1;
    }
    ck_assert_msg(differs, "every epoch has the same order");
    int shuffled = 0;
    for (int64_t i = 0; i < N; i++)
        shuffled |= idx[i] != i;
    ck_assert(shuffled);
    ijepa_dataset_free(ds);

    /* no shuffle: path order, epoch after epoch */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_SHUFFLE, 0), IJEPA_OK);
    ds = open_ok(cfg);
    for (int64_t i = 0; i < 12; i += B) {
        int64_t k[3];
        batch_ok(ds, B, out, k);
        for (int j = 0; j < B; j++)
            ck_assert_int_eq(k[j], (i + j) % N);
    }
    ijepa_dataset_free(ds);
    ijepa_config_free(cfg);
    remove_tree();
}
END_TEST

/* Batch items equal the single-image API on the same file. */
START_TEST(stream_matches_single_image)
{
    make_tree();
    const int64_t N = (int64_t)COUNT_OF(IMAGES), B = 4, S = 12;
    for (int64_t mode = IJEPA_DATA_TRAIN; mode <= IJEPA_DATA_EVAL; mode++)
        for (int64_t C = 1; C <= 3; C += 2) {
            ijepa_config *cfg = data_cfg(S, C, B, 2, 11);
            ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_TRANSFORM, mode), IJEPA_OK);
            ijepa_dataset *ds = open_ok(cfg);
            float *out = malloc(sizeof(float) * (size_t)(B * C * S * S));
            float *one = malloc(sizeof(float) * (size_t)(C * S * S));
            for (int64_t pos = 0; pos < 2 * N;) {
                int64_t idx[4];
                batch_ok(ds, B, out, idx);
                for (int64_t b = 0; b < B; b++, pos++) {
                    ijepa_image *img = NULL;
                    ck_assert_int_eq(ijepa_image_load(&img, ijepa_dataset_path(ds, idx[b]), C, cfg),
                                     IJEPA_OK);
                    if (mode == IJEPA_DATA_TRAIN)
                        ck_assert_int_eq(ijepa_image_transform_train(
                                             img, cfg, ijepa_dataset_crop_seed(ds, pos), one),
                                         IJEPA_OK);
                    else
                        ck_assert_int_eq(ijepa_image_transform_eval(img, cfg, one), IJEPA_OK);
                    REQUIRE(!memcmp(one, out + b * C * S * S, sizeof(float) * (size_t)(C * S * S)),
                            "mode %lld, %lld channels: position %lld (%s) differs from the "
                            "single-image transform", (long long)mode, (long long)C,
                            (long long)pos, ijepa_dataset_path(ds, idx[b]));
                    ijepa_image_free(img);
                }
            }
            free(out);
            free(one);
            ijepa_dataset_free(ds);
            ijepa_config_free(cfg);
        }
    remove_tree();
}
END_TEST

/* The same seed gives the same bytes whatever the worker count and prefetch
 * depth; another seed gives others; set_epoch replays an epoch. */
START_TEST(stream_deterministic)
{
    make_tree();
    const int64_t B = 5, S = 10, C = 3, STEPS = 6;
    const size_t bytes = sizeof(float) * (size_t)(B * C * S * S);
    float *ref = malloc(bytes * STEPS), *out = malloc(bytes);
    const int64_t setups[][2] = {{0, 1}, {1, 1}, {3, 2}, {2, 5}};
    for (size_t k = 0; k < COUNT_OF(setups); k++) {
        ijepa_config *cfg = data_cfg(S, C, B, setups[k][0], 42);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_PREFETCH, setups[k][1]),
                         IJEPA_OK);
        ijepa_dataset *ds = open_ok(cfg);
        for (int64_t s = 0; s < STEPS; s++) {
            batch_ok(ds, B, k ? out : ref + s * B * C * S * S, NULL);
            if (k)
                REQUIRE(!memcmp(out, ref + s * B * C * S * S, bytes),
                        "batch %lld with %lld workers differs from 0 workers", (long long)s,
                        (long long)setups[k][0]);
        }
        ijepa_dataset_free(ds);
        ijepa_config_free(cfg);
    }
    /* another seed */
    ijepa_config *cfg = data_cfg(S, C, B, 2, 43);
    ijepa_dataset *ds = open_ok(cfg);
    batch_ok(ds, B, out, NULL);
    ck_assert(memcmp(out, ref, bytes) != 0);
    ijepa_dataset_free(ds);
    ijepa_config_free(cfg);
    /* set_epoch(1) replays what a fresh run gives from position 7 */
    cfg = data_cfg(S, C, 7, 2, 42);
    ds = open_ok(cfg);
    float *e1 = malloc(sizeof(float) * (size_t)(7 * C * S * S));
    float *again = malloc(sizeof(float) * (size_t)(7 * C * S * S));
    int64_t i1[7], i2[7];
    batch_ok(ds, 7, e1, i1); /* epoch 0 */
    batch_ok(ds, 7, e1, i1); /* epoch 1 */
    batch_ok(ds, 3, again, NULL);
    ck_assert_int_eq(ijepa_dataset_set_epoch(ds, 1), IJEPA_OK);
    ck_assert_int_eq(ijepa_dataset_position(ds), 7);
    batch_ok(ds, 7, again, i2);
    ck_assert(!memcmp(i1, i2, sizeof i1));
    ck_assert(!memcmp(e1, again, sizeof(float) * (size_t)(7 * C * S * S)));
    expect_err(ijepa_dataset_set_epoch(ds, -1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_dataset_set_epoch", "epoch -1");
    free(e1);
    free(again);
    ijepa_dataset_free(ds);
    ijepa_config_free(cfg);
    free(ref);
    free(out);
    remove_tree();
}
END_TEST

/* Slices of each group of positions (the data of data-parallel workers):
 * three datasets taking [0, 2), [2, 3) and [3, 5) of each group of 5, with
 * 0, 1 and 3 workers, give exactly the rows of the whole stream's batches of
 * 5 (pixels with the training crops of their positions, and indices), over
 * several epochs; a slice started at a later position (a resumed run) gives
 * the rows from there; set_epoch keeps the slice; argument errors, and skip
 * mode refuses a proper slice. */
START_TEST(stream_slices)
{
    make_tree();
    const int64_t G = 5, S = 10, C = 3, STEPS = 6, F = C * S * S;
    ijepa_config *cfg = data_cfg(S, C, G, 2, 17);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_TRANSFORM, IJEPA_DATA_TRAIN),
                     IJEPA_OK);
    ijepa_dataset *ds = open_ok(cfg);
    float *whole = malloc(sizeof(float) * (size_t)(STEPS * G * F));
    float *out = malloc(sizeof(float) * (size_t)(G * F));
    int64_t widx[6 * 5], idx[5];
    for (int64_t s = 0; s < STEPS; s++)
        batch_ok(ds, G, whole + s * G * F, widx + s * G);
    ijepa_dataset_free(ds);
    const int64_t sl[3][3] = {{0, 2, 0}, {2, 1, 1}, {3, 2, 3}}; /* offset, count, workers */
    for (int k = 0; k < 3; k++) {
        const int64_t off = sl[k][0], cnt = sl[k][1];
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_WORKERS, sl[k][2]), IJEPA_OK);
        for (int64_t from = 0; from <= 2; from += 2) { /* from the start, and resuming at 2 */
            ds = open_ok(cfg);
            int rc = ijepa_dataset_set_slice(ds, from * G, G, off, cnt);
            REQUIRE(rc == IJEPA_OK, "set_slice: %s", ijepa_last_error());
            ck_assert_int_eq(ijepa_dataset_position(ds), from * G + off);
            for (int64_t s = from; s < STEPS; s++) {
                batch_ok(ds, cnt, out, idx);
                REQUIRE(!memcmp(idx, widx + s * G + off, sizeof(int64_t) * (size_t)cnt) &&
                        !memcmp(out, whole + (s * G + off) * F, sizeof(float) * (size_t)(cnt * F)),
                        "slice [%lld, +%lld) from step %lld: step %lld differs from the whole "
                        "stream's rows", (long long)off, (long long)cnt, (long long)from,
                        (long long)s);
            }
            ck_assert_int_eq(ijepa_dataset_position(ds), STEPS * G + off);
            ck_assert_int_eq(ijepa_dataset_epoch(ds), (STEPS * G + off) / 7);
            ijepa_dataset_free(ds);
        }
    }
    /* set_epoch keeps the slice: item 0 is position 7 + offset */
    ds = open_ok(cfg);
    ck_assert_int_eq(ijepa_dataset_set_slice(ds, 0, G, 3, 2), IJEPA_OK);
    ck_assert_int_eq(ijepa_dataset_set_epoch(ds, 1), IJEPA_OK);
    ck_assert_int_eq(ijepa_dataset_position(ds), 7 + 3);
    batch_ok(ds, 2, out, idx);
    ck_assert_int_eq(ijepa_dataset_position(ds), 7 + G + 3);
    /* argument errors change nothing */
    const char *FN = "ijepa_dataset_set_slice";
    const int64_t bad[][4] = {{-1, 5, 0, 1}, {0, 0, 0, 1},  {0, 5, -1, 1}, {0, 5, 0, 0},
                              {0, 5, 4, 2},  {0, 5, 5, 1},  {INT64_MAX, 5, 0, 1},
                              {0, INT64_MAX, INT64_MAX - 1, 2}};
    for (size_t k = 0; k < COUNT_OF(bad); k++)
        expect_err(ijepa_dataset_set_slice(ds, bad[k][0], bad[k][1], bad[k][2], bad[k][3]),
                   IJEPA_ERR_INVALID_ARG, ijepa_last_error(), FN, "bad slice");
    expect_err(ijepa_dataset_set_slice(NULL, 0, 5, 0, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), FN, "NULL dataset");
    ck_assert_int_eq(ijepa_dataset_position(ds), 7 + G + 3);
    ijepa_dataset_free(ds);
    /* skip mode: a proper slice is refused, the whole group is fine */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_ON_ERROR, IJEPA_DATA_SKIP),
                     IJEPA_OK);
    ds = open_ok(cfg);
    expect_err(ijepa_dataset_set_slice(ds, 0, G, 0, 2), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), FN, "skip mode, slice of 2 of 5");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "data_on_error = stop"));
    ck_assert_int_eq(ijepa_dataset_set_slice(ds, 2 * G, G, 0, G), IJEPA_OK);
    batch_ok(ds, G, out, idx);
    ck_assert(!memcmp(idx, widx + 2 * G, sizeof(int64_t) * (size_t)G));
    ijepa_dataset_free(ds);
    free(whole);
    free(out);
    ijepa_config_free(cfg);
    remove_tree();
}
END_TEST

// --- errors ----------------------------------------------------------------------

START_TEST(bad_files)
{
    make_tree();
    /* "b.png" (index 4) becomes a truncated file, "c.JPG" (5) a text file */
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_RGB, 8, 20, 20, 0, 3), 0);
    write_file("b.png", p.data, p.size / 2);
    ref_png_free(&p);
    write_file("c.JPG", (const uint8_t *)"hello", 5);
    const int64_t N = (int64_t)COUNT_OF(IMAGES), S = 8;
    ijepa_config *cfg = data_cfg(S, 3, N, 2, 0);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_SHUFFLE, 0), IJEPA_OK);
    float *out = malloc(sizeof(float) * (size_t)(N * 3 * S * S));

    /* stop: the first four are fine, the fifth names b.png; nothing consumed */
    ijepa_dataset *ds = open_ok(cfg);
    int64_t idx[7] = {-1, -1, -1, -1, -1, -1, -1};
    batch_ok(ds, 4, out, idx);
    for (int k = 0; k < 2; k++) {
        int rc = ijepa_dataset_next_batch(ds, 2, out, idx);
        ck_assert_int_eq(rc, IJEPA_ERR_FORMAT);
        const char *msg = ijepa_last_error();
        ck_assert_msg(strstr(msg, "ijepa_dataset_next_batch()") && strstr(msg, "/b.png: "),
                      "message '%s' does not name the function and the file", msg);
        ck_assert_int_eq(ijepa_dataset_position(ds), 4);
        ck_assert_int_eq(idx[0], 0); /* untouched by the failed calls */
    }
    ck_assert_int_eq(ijepa_dataset_skipped(ds), 0);
    /* past the one bad file as dataset.h says: the stream restarted after it */
    ck_assert_int_eq(ijepa_dataset_set_slice(ds, ijepa_dataset_position(ds) + 1, 1, 0, 1),
                     IJEPA_OK);
    ck_assert_int_eq(ijepa_dataset_next_batch(ds, 1, out, idx), IJEPA_ERR_FORMAT); /* c.JPG */
    ck_assert_int_eq(ijepa_dataset_set_slice(ds, ijepa_dataset_position(ds) + 1, 1, 0, 1),
                     IJEPA_OK);
    batch_ok(ds, 1, out, idx);
    ck_assert_int_eq(idx[0], 6);
    ijepa_dataset_free(ds);

    /* skip: 5 good images per epoch, two skips counted per epoch */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_ON_ERROR, IJEPA_DATA_SKIP),
                     IJEPA_OK);
    ds = open_ok(cfg);
    batch_ok(ds, 7, out, idx);
    const int64_t want[7] = {0, 1, 2, 3, 6, 0, 1};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(idx[i], want[i]);
    ck_assert_int_eq(ijepa_dataset_skipped(ds), 2);
    ck_assert_int_eq(ijepa_dataset_position(ds), 9);
    ck_assert_msg(strstr(ijepa_dataset_last_skip_error(ds), "/c.JPG: not a PNG or JPEG"),
                  "last skip error '%s'", ijepa_dataset_last_skip_error(ds));
    batch_ok(ds, 7, out, idx);
    ck_assert_int_eq(ijepa_dataset_skipped(ds), 4);
    ijepa_dataset_free(ds);
    free(out);

    /* every file bad: an error, not an endless loop */
    for (size_t i = 0; i < COUNT_OF(IMAGES); i++)
        write_file(IMAGES[i], (const uint8_t *)"\x89PNG", 4);
    ds = open_ok(cfg);
    float one[3 * 8 * 8];
    expect_err(ijepa_dataset_next_batch(ds, 1, one, NULL), IJEPA_ERR_FORMAT,
               ijepa_last_error(), "ijepa_dataset_next_batch", "all files bad");
    ijepa_dataset_free(ds);
    ijepa_config_free(cfg);
    remove_tree();
}
END_TEST

START_TEST(free_mid_epoch)
{
    make_tree();
    /* bigger images so that workers are busy when the dataset is freed */
    for (int i = 0; i < 12; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "big%02d.png", i);
        write_png(rel, 300, 200, 100 + (uint64_t)i);
    }
    for (int64_t workers = 0; workers <= 3; workers += 3) {
        ijepa_config *cfg = data_cfg(32, 3, 4, workers, 1);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_PREFETCH, 3), IJEPA_OK);
        float *out = malloc(sizeof(float) * 4 * 3 * 32 * 32);
        for (int k = 0; k < 3; k++) {
            ijepa_dataset *ds = open_ok(cfg);
            for (int b = 0; b < k; b++)
                batch_ok(ds, 4, out, NULL);
            ijepa_dataset_free(ds); /* mid-epoch (19 images), workers running */
        }
        /* argument errors */
        ijepa_dataset *ds = open_ok(cfg);
        expect_err(ijepa_dataset_next_batch(ds, 5, out, NULL), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), "ijepa_dataset_next_batch", "batch > batch_size");
        expect_err(ijepa_dataset_next_batch(ds, 0, out, NULL), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), "ijepa_dataset_next_batch", "batch 0");
        expect_err(ijepa_dataset_next_batch(ds, 1, NULL, NULL), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), "ijepa_dataset_next_batch", "NULL out");
        expect_err(ijepa_dataset_next_batch(NULL, 1, out, NULL), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), "ijepa_dataset_next_batch", "NULL dataset");
        ijepa_dataset_free(ds);
        free(out);
        ijepa_config_free(cfg);
    }
    remove_tree();
}
END_TEST

// --- hostile ---------------------------------------------------------------------

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(fifo_after_scan)
{
    const int64_t S = 8;
    for (int skip = 0; skip <= 1; skip++) {
        make_tree();
        /* path order, 2 images per batch, 1 batch ahead: the workers can
         * reach "z/last.png" (index 6) only after three batches, so it is
         * surely a FIFO by the time it is opened */
        ijepa_config *cfg = data_cfg(S, 3, 2, 2, 0);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_SHUFFLE, 0), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_PREFETCH, 1), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_ON_ERROR,
                                              skip ? IJEPA_DATA_SKIP : IJEPA_DATA_STOP),
                         IJEPA_OK);
        ijepa_dataset *ds = open_ok(cfg);
        char path[512];
        snprintf(path, sizeof path, "%s/z/last.png", g_dir);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        float out[2 * 3 * 8 * 8];
        int64_t idx[2];
        for (int b = 0; b < 3; b++)
            batch_ok(ds, 2, out, idx);
        double t0 = now_s();
        const int rc = ijepa_dataset_next_batch(ds, 1, out, idx);
        const double dt = now_s() - t0;
        /* 1 s: a liveness bound (this takes microseconds; it used to hang) */
        REQUIRE(dt < 1.0, "next_batch took %.3f s", dt);
        if (!skip) {
            ck_assert_int_eq(rc, IJEPA_ERR_IO);
            const char *msg = ijepa_last_error();
            REQUIRE(strstr(msg, path) && strstr(msg, "FIFO"),
                    "message '%s' does not name the file and the FIFO", msg);
            ck_assert_int_eq(ijepa_dataset_position(ds), 6);
        } else {
            REQUIRE(rc == IJEPA_OK, "skip mode: %s", ijepa_last_error());
            ck_assert_int_eq(idx[0], 0); /* the next epoch's first image */
            ck_assert_int_eq(ijepa_dataset_skipped(ds), 1);
            REQUIRE(strstr(ijepa_dataset_last_skip_error(ds), "FIFO"), "skip error '%s'",
                    ijepa_dataset_last_skip_error(ds));
        }
        t0 = now_s();
        ijepa_dataset_free(ds);
        REQUIRE(now_s() - t0 < 1.0, "ijepa_dataset_free took %.3f s", now_s() - t0);
        ijepa_config_free(cfg);
        remove_tree();
    }
}
END_TEST

Suite *ijepa_dataset_suite(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("scan");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, scan_tree);
    suite_add_tcase(s, tc);
    tc = tcase_create("stream");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, stream_permutations);
    tcase_add_test(tc, stream_matches_single_image);
    tcase_add_test(tc, stream_deterministic);
    tcase_add_test(tc, stream_slices);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, free_mid_epoch);
    suite_add_tcase(s, tc);
    /* short: a regression here is a hang (before the fix, forever) */
    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, fifo_after_scan);
    suite_add_tcase(s, tc);
    return s;
}
