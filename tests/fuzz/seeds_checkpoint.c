/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Seed corpus of fuzz_checkpoint: writes into the directory given as argv[1]
 * a whole trainer checkpoint of the micro model after one step (all seven
 * groups, libijepa metadata), the same without its optional metadata checksum
 * (so that mutated configuration text reaches the parser), a
 * target-encoder-only file (the
 * feature-extraction case), the same tensors without metadata (as
 * safetensors.torch writes them), and an empty-but-valid file; and the
 * hostile and foreign files of issues 10 and 13: the huge-config file (valid
 * checksums, no tensors, a 400M-parameter configuration), the trainer file
 * at step 2^63 - 1 and at 2^53 (metadata checksum recomputed), a header of
 * 2000 zero-size tensors, a garbage length, zeros after '{', the bare state
 * dict of the target encoder (no prefix) in F32, F16, BF16 and F64, a
 * mixed-dtype file, duplicate keys, deep nesting, 9-D shapes and NaN data.
 * Run by `make fuzz`; nothing it writes is committed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_format.h"
#include "fuzz_checkpoint_config.h"

static int fail(const char *what)
{
    fprintf(stderr, "seeds_checkpoint: %s: %s\n", what, ijepa_last_error());
    return 1;
}

/* dir/name := the 8-byte length of h, h, and data[0, n). */
static int put(const char *dir, const char *name, const char *h, size_t hlen, const void *data,
               size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char len8[8];
    ijepa__le_put_u64(len8, hlen);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(len8, 1, 8, f) == 8 && fwrite(h, 1, hlen, f) == hlen &&
             (!n || fwrite(data, 1, n, f) == n);
    if (f)
        ok = fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "seeds_checkpoint: cannot write %s\n", path);
    return ok ? 0 : 1;
}

static void store(unsigned char *p, const char *dtype, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    if (!strcmp(dtype, "F32")) {
        memcpy(p, &v, 4);
    } else if (!strcmp(dtype, "BF16")) {
        p[0] = (unsigned char)(u >> 16);
        p[1] = (unsigned char)(u >> 24);
    } else if (!strcmp(dtype, "F16")) { /* truncating; tiny values to 0 */
        const int e = (int)((u >> 23) & 0xff) - 127 + 15;
        const uint32_t mag = e <= 0    ? 0
                             : e >= 31 ? 0x7bffu
                                       : (uint32_t)e << 10 | (u >> 13 & 0x3ffu);
        const uint32_t h = (u >> 16 & 0x8000u) | mag;
        p[0] = (unsigned char)h;
        p[1] = (unsigned char)(h >> 8);
    } else {
        const double d = v;
        memcpy(p, &d, 8);
    }
}

/* The tensors of ck whose names start with from, renamed without it, in
 * dtype, with the metadata object text meta, as dir/name. */
static int retyped(ijepa_checkpoint *ck, const char *from, const char *dtype, const char *meta,
                   const char *dir, const char *name)
{
    const size_t esize = !strcmp(dtype, "F64") ? 8 : !strcmp(dtype, "F32") ? 4 : 2;
    size_t cap = 1 << 16, len = 0, dn = 0;
    char *h = malloc(cap);
    unsigned char *data = malloc(1 << 20);
    if (!h || !data)
        return 1;
    len += (size_t)snprintf(h, cap, "{\"__metadata__\":%s", meta);
    for (int64_t i = 0; i < ijepa_checkpoint_tensor_count(ck); i++) {
        const char *tn;
        int32_t nd;
        int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS], numel = 1;
        ijepa_checkpoint_tensor_info(ck, i, &tn, &nd, dims);
        if (strncmp(tn, from, strlen(from)))
            continue;
        len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                tn + strlen(from), dtype);
        for (int32_t d = 0; d < nd; d++) {
            len += (size_t)snprintf(h + len, cap - len, "%s%lld", d ? "," : "",
                                    (long long)dims[d]);
            numel *= dims[d];
        }
        float *v = malloc((size_t)numel * sizeof *v + 4);
        if (!v || ijepa_checkpoint_read_tensor(ck, i, v, numel) != IJEPA_OK ||
            dn + (size_t)numel * esize > (1 << 20) || len + 512 > cap)
            return 1;
        for (int64_t k = 0; k < numel; k++)
            store(data + dn + (size_t)k * esize, dtype, v[k]);
        free(v);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", dn,
                                dn + (size_t)numel * esize);
        dn += (size_t)numel * esize;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    const int rc = put(dir, name, h, len, data, dn);
    free(h);
    free(data);
    return rc;
}

/* A copy of the file at src with its ijepa.step replaced (and the metadata
 * checksum recomputed) as dir/name. */
static int with_step(const char *src, const char *step, const char *dir, const char *name)
{
    ijepa_checkpoint *ck;
    if (ijepa_checkpoint_open(&ck, src) != IJEPA_OK)
        return fail(src);
    const char *v[IJEPA__NMETA_SUMMED], *msum;
    for (int i = 0; i < IJEPA__NMETA_SUMMED; i++)
        ijepa_checkpoint_metadata(ck, ijepa__meta_summed[i], &v[i]);
    ijepa_checkpoint_metadata(ck, "ijepa.metadata_checksum", &msum);
    FILE *f = fopen(src, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return 1;
    const size_t n = (size_t)ftell(f);
    unsigned char *b = malloc(n);
    if (!b || fseek(f, 0, SEEK_SET) != 0 || fread(b, 1, n, f) != n)
        return 1;
    fclose(f);
    const size_t hl = (size_t)ijepa__le_u64(b);
    char *h = malloc(hl + 128), *out = malloc(hl + 128);
    memcpy(h, b + 8, hl);
    h[hl] = '\0';
    char from[64], to[64], sum[32];
    snprintf(from, sizeof from, "\"ijepa.step\":\"%s\"", v[4]);
    snprintf(to, sizeof to, "\"ijepa.step\":\"%s\"", step);
    char *at = strstr(h, from);
    if (!at)
        return 1;
    snprintf(out, hl + 128, "%.*s%s%s", (int)(at - h), h, to, at + strlen(from));
    v[4] = step;
    snprintf(sum, sizeof sum, "crc32:%08x", (unsigned)ijepa__metadata_crc(v));
    at = strstr(out, msum);
    if (!at)
        return 1;
    memcpy(at, sum, strlen(sum));
    size_t ol = strlen(out);
    while (ol % 8)
        out[ol++] = ' ';
    const int rc = put(dir, name, out, ol, b + 8 + hl, n - 8 - hl);
    ijepa_checkpoint_free(ck);
    free(b);
    free(h);
    free(out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    ijepa_config *cfg;
    ijepa_context *ctx;
    ijepa_trainer *tr;
    if (fuzz_micro_config(&cfg) != 0 || ijepa_context_create(&ctx) != IJEPA_OK ||
        ijepa_trainer_create(&tr, ctx, cfg) != IJEPA_OK)
        return fail("micro trainer");
    float images[2 * 8 * 8];
    for (int i = 0; i < 2 * 8 * 8; i++)
        images[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    if (ijepa_trainer_step(tr, images, 2, NULL) != IJEPA_OK)
        return fail("step");
    snprintf(path, sizeof path, "%s/trainer.safetensors", argv[1]);
    if (ijepa_trainer_save(tr, path) != IJEPA_OK)
        return fail(path);

    ijepa_encoder *te = ijepa_trainer_target_encoder(tr);
    float *p;
    int64_t n;
    ijepa_encoder_params(te, &p, &n);
    ijepa_checkpoint_writer *w;
    if (ijepa_checkpoint_writer_create(&w, cfg, 1) != IJEPA_OK ||
        ijepa_checkpoint_writer_add(w, "target_encoder", ijepa_encoder_tensors(te), p) !=
            IJEPA_OK)
        return fail("writer");
    snprintf(path, sizeof path, "%s/target_encoder.safetensors", argv[1]);
    if (ijepa_checkpoint_writer_save(w, path) != IJEPA_OK)
        return fail(path);
    ijepa_checkpoint_writer_free(w);

    /* the same tensors with only {"format": "pt"} metadata: rebuild the file
     * from the reader's table (the data section is unchanged) */
    ijepa_checkpoint *ck;
    if (ijepa_checkpoint_open(&ck, path) != IJEPA_OK)
        return fail("reopen");
    size_t cap = 1 << 16, len = 0;
    char *h = malloc(cap);
    if (!h)
        return 1;
    len += (size_t)snprintf(h, cap, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int64_t i = 0; i < ijepa_checkpoint_tensor_count(ck); i++) {
        const char *name;
        int32_t nd;
        int64_t dims[IJEPA_CHECKPOINT_MAX_DIMS], numel = 1;
        ijepa_checkpoint_tensor_info(ck, i, &name, &nd, dims);
        len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[",
                                name);
        for (int32_t d = 0; d < nd; d++) {
            len += (size_t)snprintf(h + len, cap - len, "%s%lld", d ? "," : "",
                                    (long long)dims[d]);
            numel *= dims[d];
        }
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%llu,%llu]}",
                                (unsigned long long)off,
                                (unsigned long long)(off + (uint64_t)numel * 4));
        off += (uint64_t)numel * 4;
        if (len + 512 > cap)
            return 1;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    ijepa_checkpoint_free(ck);
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return 1;
    const long fsize = ftell(f);
    unsigned char *file = malloc((size_t)fsize);
    if (!file || fseek(f, 0, SEEK_SET) != 0 || fread(file, 1, (size_t)fsize, f) != (size_t)fsize)
        return 1;
    fclose(f);
    uint64_t old = 0;
    for (int i = 7; i >= 0; i--)
        old = old << 8 | file[i];
    snprintf(path, sizeof path, "%s/foreign.safetensors", argv[1]);
    f = fopen(path, "wb");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)len >> (8 * i));
    if (!f || fwrite(len8, 1, 8, f) != 8 || fwrite(h, 1, len, f) != len ||
        fwrite(file + 8 + old, 1, (size_t)fsize - 8 - old, f) != (size_t)fsize - 8 - old ||
        fclose(f) != 0)
        return fail(path);
    free(file);
    free(h);

    /* the trainer file without its optional metadata checksum: mutations of
     * the configuration text then reach the configuration parser */
    snprintf(path, sizeof path, "%s/trainer.safetensors", argv[1]);
    f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return fail(path);
    const long tsize = ftell(f);
    unsigned char *t = malloc((size_t)tsize);
    if (!t || fseek(f, 0, SEEK_SET) != 0 || fread(t, 1, (size_t)tsize, f) != (size_t)tsize)
        return fail(path);
    fclose(f);
    uint64_t th = 0;
    for (int i = 7; i >= 0; i--)
        th = th << 8 | t[i];
    static const char key[] = ",\"ijepa.metadata_checksum\":\"crc32:";
    size_t at = 8;
    while (at + sizeof key + 9 < 8 + th && memcmp(t + at, key, sizeof key - 1))
        at++;
    if (at + sizeof key + 9 >= 8 + th)
        return fail("no metadata checksum in the trainer file");
    const size_t cut = sizeof key - 1 + 9; /* key, 8 hex digits, closing quote */
    memmove(t + at, t + at + cut, (size_t)tsize - at - cut);
    th -= cut;
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(th >> (8 * i));
    snprintf(path, sizeof path, "%s/trainer-nosum.safetensors", argv[1]);
    f = fopen(path, "wb");
    if (!f || fwrite(t, 1, (size_t)tsize - cut, f) != (size_t)tsize - cut || fclose(f) != 0)
        return fail(path);
    free(t);

    snprintf(path, sizeof path, "%s/empty.safetensors", argv[1]);
    f = fopen(path, "wb");
    if (!f || fwrite("\x02\0\0\0\0\0\0\0{}", 1, 10, f) != 10 || fclose(f) != 0)
        return fail(path);

    /* --- the hostile and foreign files -------------------------------------- */
    const char *dir = argv[1];
    int bad = 0;
    /* the huge-config file: a 400M-parameter model, no tensors */
    ijepa_config *huge;
    if (ijepa_config_create(&huge) != IJEPA_OK ||
        ijepa_config_set_int(huge, IJEPA_CFG_EMBED_DIM, 1024) != IJEPA_OK ||
        ijepa_config_set_int(huge, IJEPA_CFG_DEPTH, 32) != IJEPA_OK ||
        ijepa_config_set_int(huge, IJEPA_CFG_NUM_HEADS, 16) != IJEPA_OK ||
        ijepa_checkpoint_writer_create(&w, huge, 100) != IJEPA_OK)
        return fail("huge config");
    snprintf(path, sizeof path, "%s/huge-config.safetensors", dir);
    if (ijepa_checkpoint_writer_save(w, path) != IJEPA_OK)
        return fail(path);
    ijepa_checkpoint_writer_free(w);
    ijepa_config_free(huge);
    /* the step counter at and past its limit */
    snprintf(path, sizeof path, "%s/trainer.safetensors", dir);
    bad |= with_step(path, "9223372036854775807", dir, "step-max.safetensors");
    bad |= with_step(path, "9007199254740992", dir, "step-limit.safetensors");
    /* many zero-size tensors; a garbage length; zeros after '{' */
    char *many = malloc(2000 * 64 + 8);
    size_t ml = 0;
    many[ml++] = '{';
    for (int i = 0; i < 2000; i++)
        ml += (size_t)sprintf(many + ml, "%s\"%d\":{\"dtype\":\"F32\",\"shape\":[0],"
                                         "\"data_offsets\":[0,0]}", i ? "," : "", i);
    many[ml++] = '}';
    bad |= put(dir, "many-tensors.safetensors", many, ml, NULL, 0);
    free(many);
    snprintf(path, sizeof path, "%s/garbage-length.safetensors", dir);
    FILE *g = fopen(path, "wb");
    bad |= !g || fwrite("AAAAAAAA{}", 1, 10, g) != 10 || fclose(g) != 0;
    static const char zeros[64] = "{";
    bad |= put(dir, "zeros.safetensors", zeros, sizeof zeros, NULL, 0);
    /* bare state dicts of the target encoder in every dtype */
    snprintf(path, sizeof path, "%s/target_encoder.safetensors", dir);
    if (ijepa_checkpoint_open(&ck, path) != IJEPA_OK)
        return fail(path);
    static const char *const dtypes[] = {"F32", "F16", "BF16", "F64"};
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "bare-%s.safetensors", dtypes[i]);
        bad |= retyped(ck, "target_encoder.", dtypes[i], "{\"format\":\"pt\"}", dir, name);
    }
    ijepa_checkpoint_free(ck);
    /* small malformed and mixed files */
    static const struct { const char *name, *h; size_t data; } small[] = {
        {"mixed-dtypes.safetensors",
         "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
         "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", 16},
        {"duplicate-keys.safetensors",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4},
        {"nine-dims.safetensors",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
         4},
        {"deep.safetensors",
         "{\"k\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0},
    };
    /* F16 1 and 2, BF16 1 and 1.5, F64 1 */
    const unsigned char vals[16] = {0x00, 0x3c, 0x00, 0x40, 0x80, 0x3f, 0xc0, 0x3f,
                                    0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        bad |= put(dir, small[i].name, small[i].h, strlen(small[i].h), vals, small[i].data);
    const float nan4[1] = {NAN};
    static const char nanh[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    bad |= put(dir, "nan.safetensors", nanh, strlen(nanh), nan4, 4);
    if (bad)
        return 1;

    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    return 0;
}
