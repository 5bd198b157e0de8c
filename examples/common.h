/*
 * Code shared by the example programs (compiled once, linked into each):
 * failure handling, option values, config settings, average pooling, .npy
 * output. Unlike the library, the programs may exit on failure.
 */
#ifndef IJEPA_EXAMPLES_COMMON_H
#define IJEPA_EXAMPLES_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ijepa/ijepa.h>

/* The running program's name, for messages ("ijepa-train"). */
extern const char *ex_prog;

/* Exit with status 1 and the library's message unless rc is IJEPA_OK:
 *     CHECK(ijepa_trainer_step(tr, x, batch, &loss));  */
#define CHECK(call) ex_check(call)
void ex_check(int rc);

/* Print "<prog>: <message>" and exit with status 2 (a usage error). */
void ex_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Command-line values: the whole string must be a number in [lo, hi];
 * anything else is a usage error naming the option. */
int64_t ex_int(const char *option, const char *value, int64_t lo, int64_t hi);
double ex_float(const char *option, const char *value, double lo, double hi);

/* Apply one "key=value" setting (a line of the config's text form, as
 * --set takes it; ijepa_config_from_text()); a bad one is a usage error. */
void ex_set(ijepa_config *cfg, const char *setting);

/* Copy the values of every key of class cls (IJEPA_CFG_CLASS_RUNTIME, ...)
 * from src into dst: e.g. a resumed run keeps the runtime limits of its
 * command line, not those of the file it resumes. */
void ex_copy_class(ijepa_config *dst, const ijepa_config *src, int cls);

/* --max-memory: the most memory the handles a tool creates may allocate
 * (ijepa_*_estimate_bytes(), ijepa_checkpoint_check_*()); past it the tool
 * refuses to create them. Overridden with --max-memory SIZE; 0: no limit. */
#define EX_MAX_MEMORY_DEFAULT ((int64_t)8 << 30)
#define EX_MAX_MEMORY_HELP \
    "  --max-memory SIZE  refuse models needing more memory than SIZE (bytes, or with a\n" \
    "                   suffix K, M, G, T: powers of 1024; default 8G; 0: no limit)\n"

/* A size: digits with an optional fraction and a suffix K, M, G or T (powers
 * of 1024), e.g. "8G", "1.5G", "65536"; anything else is a usage error. */
int64_t ex_size(const char *option, const char *value);

/* Exit with status 1 and a message when creating what would allocate more
 * than limit bytes (limit 0: no limit). */
void ex_check_memory(const char *what, int64_t bytes, int64_t limit);

/* Print "  <name>  <description>" for every preset of the library. */
void ex_print_presets(FILE *f);

/* Seconds on a monotonic clock. */
double ex_now(void);

/* Zeroed memory, or exit with a message. */
void *ex_malloc(size_t n);

/* Create a directory (an existing one is fine), or exit. */
void ex_mkdir(const char *dir);

/* xorshift64: the examples' own random stream (shuffles, probe). */
uint64_t ex_xorshift(uint64_t *state);

/* Average over the tokens of an encoder output [batch, N, D]: feats
 * [batch, D], each sum taken in double in token order. */
void ex_pool(const float *tokens, int64_t batch, int64_t N, int64_t D, float *feats);

/* Write data [rows, cols] as a NumPy .npy file (float32, format 1.0, the
 * bytes numpy.save writes). Returns 0, or -1. */
int ex_write_npy(const char *path, const float *data, int64_t rows, int64_t cols);

#endif
