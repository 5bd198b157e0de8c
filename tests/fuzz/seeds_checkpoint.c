/*
 * Seed corpus of fuzz_checkpoint: writes into the directory given as argv[1]
 * a whole trainer checkpoint of the micro model after one step (all seven
 * groups, libijepa metadata), the same without its optional metadata checksum
 * (so that mutated configuration text reaches the parser), a
 * target-encoder-only file (the
 * feature-extraction case), the same tensors without metadata (as
 * safetensors.torch writes them), and an empty-but-valid file. Run by
 * `make fuzz`; nothing it writes is committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_checkpoint_config.h"

static int fail(const char *what)
{
    fprintf(stderr, "seeds_checkpoint: %s: %s\n", what, ijepa_last_error());
    return 1;
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

    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    return 0;
}
