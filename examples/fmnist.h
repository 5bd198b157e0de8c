/*
 * Reading the gzipped IDX files of MNIST-style datasets (Fashion-MNIST as
 * Debian's dataset-fashion-mnist ships it), for the example programs.
 * Header-only so each example stays one file plus this helper.
 */
#ifndef IJEPA_EXAMPLES_FMNIST_H
#define IJEPA_EXAMPLES_FMNIST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

typedef struct fmnist {
    int64_t n;          /* images */
    int64_t rows, cols; /* 28 x 28 */
    uint8_t *pixels;    /* [n, rows, cols] */
    uint8_t *labels;    /* [n], 0..9 */
} fmnist;

static inline int idx_read_u32(gzFile f, uint32_t *v)
{
    unsigned char b[4];
    if (gzread(f, b, 4) != 4)
        return -1;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

/* Read one IDX file of unsigned bytes with 1 or 3 dimensions. Returns the
 * data (malloc'd) and fills dims; NULL with a message in err on failure. */
static inline uint8_t *idx_read(const char *path, int want_ndim, uint32_t dims[3],
                         char *err, size_t errlen)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    uint32_t magic;
    uint8_t *data = NULL;
    if (idx_read_u32(f, &magic) != 0 || (magic >> 8) != 0x08 || (int)(magic & 0xff) != want_ndim) {
        snprintf(err, errlen, "%s: not an IDX file of %d-D unsigned bytes", path, want_ndim);
        goto done;
    }
    uint64_t total = 1;
    for (int i = 0; i < want_ndim; i++) {
        if (idx_read_u32(f, &dims[i]) != 0 || dims[i] == 0 || dims[i] > 10000000) {
            snprintf(err, errlen, "%s: bad dimension %d", path, i);
            goto done;
        }
        total *= dims[i];
    }
    if (total > ((uint64_t)1 << 31)) {
        snprintf(err, errlen, "%s: too large", path);
        goto done;
    }
    data = malloc((size_t)total);
    if (!data) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    if ((uint64_t)gzread(f, data, (unsigned)total) != total) {
        snprintf(err, errlen, "%s: truncated", path);
        free(data);
        data = NULL;
    }
done:
    gzclose(f);
    return data;
}

/* Load split "train" or "t10k" from dir. Returns 0, or -1 with err set. */
static inline int fmnist_load(fmnist *ds, const char *dir, const char *split, char *err,
                       size_t errlen)
{
    char path[4096];
    uint32_t di[3], dl[3];
    memset(ds, 0, sizeof *ds);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    ds->pixels = idx_read(path, 3, di, err, errlen);
    if (!ds->pixels)
        return -1;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    ds->labels = idx_read(path, 1, dl, err, errlen);
    if (!ds->labels) {
        free(ds->pixels);
        return -1;
    }
    if (dl[0] != di[0]) {
        snprintf(err, errlen, "%s: %u labels for %u images", dir, dl[0], di[0]);
        free(ds->pixels);
        free(ds->labels);
        return -1;
    }
    ds->n = di[0];
    ds->rows = di[1];
    ds->cols = di[2];
    return 0;
}

static inline void fmnist_free(fmnist *ds)
{
    free(ds->pixels);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

/* Write image i as floats [size, size]: pixels scaled to [0,1], normalised
 * with (mean, std), centred in a size x size canvas (size >= 28) whose
 * border is the normalised value of black. */
static inline void fmnist_image(const fmnist *ds, int64_t i, int64_t size, float mean, float std,
                         float *img)
{
    const int64_t pad = (size - ds->rows) / 2;
    const float black = (0.0f - mean) / std;
    const uint8_t *src = ds->pixels + i * ds->rows * ds->cols;
    for (int64_t k = 0; k < size * size; k++)
        img[k] = black;
    for (int64_t r = 0; r < ds->rows; r++)
        for (int64_t c = 0; c < ds->cols; c++)
            img[(r + pad) * size + c + pad] = ((float)src[r * ds->cols + c] / 255.0f - mean) / std;
}

/* Images [first, first+count) as floats [count, 1, size, size]. */
static inline void fmnist_batch(const fmnist *ds, int64_t first, int64_t count, int64_t size,
                         float mean, float std, float *out)
{
    for (int64_t i = 0; i < count; i++)
        fmnist_image(ds, first + i, size, mean, std, out + i * size * size);
}

#endif
