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
