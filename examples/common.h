/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Code shared by the example programs (compiled once, linked into each):
 * failure handling and exit statuses, the command-line parser and its
 * number parsing, --version, config settings, average pooling, .npy
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

/* Exit statuses of every program (their --help and man pages list them). */
enum {
    EX_EXIT_OK = 0,      /* success */
    EX_EXIT_FAILURE = 1, /* the work failed: unreadable data, a library error, a full disk */
    EX_EXIT_USAGE = 2    /* a bad command line: unknown option, bad or missing value, a
                          * configuration the library refuses or the data cannot take */
};

/* CHECK() for the calls that check a configuration the command line made
 * (ijepa_trainer_estimate_bytes(), ...): IJEPA_ERR_INVALID_ARG there is a
 * bad combination of options, a usage error (exit 2); any other failure
 * exits with status 1. */
void ex_check_config(int rc);

/* The same for ijepa_dataset_create() on a directory of the command line:
 * IJEPA_ERR_INVALID_ARG there (data keys the transform refuses, no image in
 * the tree) is a usage error with the library's message; others exit 1. */
void ex_check_data(int rc);

/* Print "<prog>: <message> (see <prog> --help)" on stderr and exit with
 * status 2 (EX_EXIT_USAGE). */
void ex_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Print "<prog>: <message>" on stderr and exit with status 1 (EX_EXIT_FAILURE). */
void ex_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * The command line, GNU style: options are "--name VALUE", "--name=VALUE"
 * or flags "--name" ("-h" is --help); "--" ends the options. Every program
 * parses its options with one loop over ex_args_next():
 *
 *     ex_args a;
 *     ex_args_init(&a, argc, argv, usage);
 *     while (ex_args_next(&a)) {
 *         const char *v;
 *         if (ex_flag(&a, "--quiet"))
 *             quiet = 1;
 *         else if ((v = ex_value(&a, "--steps")))
 *             steps = ex_int(a.opt, v, 1, 1000);
 *         else
 *             ex_unknown(&a);
 *     }
 *
 * --help (the usage text on stdout, exit 0) and --version (exit 0) are
 * handled inside ex_args_next(). Anything that is not an option (a
 * positional argument) is a usage error: no program takes one.
 */
typedef struct ex_args {
    int argc;
    char **argv;
    int i;                    /* the next argv index */
    void (*usage)(FILE *f);   /* prints the program's --help text */
    const char *opt;          /* the current option's name, "--steps" */
    const char *inline_value; /* the VALUE of "--name=VALUE", else NULL */
    char name[64];            /* opt's storage for the "--name=VALUE" form */
} ex_args;

void ex_args_init(ex_args *a, int argc, char **argv, void (*usage)(FILE *f));
/* Move to the next option: 1, or 0 when there is none left. */
int ex_args_next(ex_args *a);
/* 1 if the current option is the flag `name` (a usage error if it was
 * given a value), else 0. */
int ex_flag(ex_args *a, const char *name);
/* The value of the current option if it is `name` (the rest of
 * "--name=VALUE", or the next argument; a usage error if there is none),
 * else NULL. */
const char *ex_value(ex_args *a, const char *name);
/* If the current option is old_name, a usage error saying that it is now
 * new_name; else nothing. */
void ex_renamed(ex_args *a, const char *old_name, const char *new_name);
/* The usage error for the current option, which nothing matched. */
void ex_unknown(ex_args *a) __attribute__((noreturn));

/* Print the --version text: the program, the version of the libijepa it
 * runs with, the copyright and the licence. */
void ex_print_version(FILE *f);

/* Print the "exit status" lines every --help ends with. */
void ex_print_exit_status(FILE *f);

/* Numbers on the command line, strictly: the whole value must be a decimal
 * number ("12", "-3"; for ex_float also "0.5", ".5", "1e-4"), without
 * spaces, a '+' sign, hexadecimal, nan or inf, and within [lo, hi].
 * Anything else is a usage error naming the option ("--steps: 'abc' is not
 * a whole number", "--steps: '-5' is out of range: 1 to 1099511627776"). */
int64_t ex_int(const char *option, const char *value, int64_t lo, int64_t hi);
double ex_float(const char *option, const char *value, double lo, double hi);

/* Apply one "key=value" setting (a line of the config's text form, as
 * --set takes it; ijepa_config_from_text()); a bad one is a usage error,
 * which lists the names a key with named values takes. */
void ex_set(ijepa_config *cfg, const char *setting);

/* Print "named values: precision=f32|bf16 ..." for every key whose values
 * have names (ijepa_config_value_name()), wrapped at 80 columns with each
 * line starting with indent. */
void ex_print_value_names(FILE *f, const char *indent);

/* "bf16 (native)", "f32", or "bf16 (emulated: the backend runs avx512_core,
 * which has no bf16 matmul instructions)" into buf, for the tools' first
 * line; where ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA is set, the emulated
 * case names it ("bf16 (emulated: ONEDNN_MAX_CPU_ISA=avx512_core caps the
 * backend to avx512_core, which has ...)"). Returns buf. */
const char *ex_precision_text(ijepa_context *ctx, int64_t prec, char *buf, size_t n);

/* Copy the values of every key of class cls (IJEPA_CFG_CLASS_RUNTIME, ...)
 * from src into dst: e.g. a resumed run keeps the runtime limits of its
 * command line, not those of the file it resumes. */
void ex_copy_class(ijepa_config *dst, const ijepa_config *src, int cls);

/* --max-memory: the most memory the handles a tool creates may allocate
 * (ijepa_*_estimate_bytes(), ijepa_checkpoint_check_*()); past it the tool
 * refuses to create them. Overridden with --max-memory SIZE; 0: no limit. */
#define EX_MAX_MEMORY_DEFAULT ((int64_t)8 << 30)
/* Its --help lines; pad: the spaces before the descriptions of the tool's
 * --help (continuation lines start there). */
#define EX_MAX_MEMORY_HELP(pad) \
    "  --max-memory SIZE  refuse models needing more memory than SIZE: bytes, or\n" \
    pad "with K, M, G or T, powers of 1024 (8G, 8g, 8GiB: the same;\n" \
    pad "1.5G, 512M); default 8G; 0: no limit (image decoding, up\n" \
    pad "to data_max_pixels an image per data worker, comes on top)\n"

/* A size: digits with an optional fraction, then optionally K, M, G or T in
 * either case (powers of 1024) followed by an optional "iB" or "B", or a
 * bare "B": "8G", "8gib", "1.5G", "65536". Anything else, an exponent
 * ("1e9") or a sign included, is a usage error naming the option. */
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

/* Create a directory and any missing parent (mkdir -p: mode 0777 less the
 * umask; existing directories are fine), or exit with status 1 and the
 * reason. */
void ex_mkdir(const char *dir);

/* Exit with status 1 and "cannot write PATH: <reason>" unless the
 * directory of the output file path exists (the file is not created: no
 * directory is made for a file, as cp or cc -o do not). */
void ex_check_out_dir(const char *path);

/* xorshift64: the examples' own random stream (shuffles, probe). */
uint64_t ex_xorshift(uint64_t *state);

/* Average over the tokens of an encoder output [batch, N, D]: feats
 * [batch, D], each sum taken in double in token order. */
void ex_pool(const float *tokens, int64_t batch, int64_t N, int64_t D, float *feats);

/* Write data [rows, cols] as a NumPy .npy file (float32, format 1.0, the
 * bytes numpy.save writes). Returns 0, or -1. */
int ex_write_npy(const char *path, const float *data, int64_t rows, int64_t cols);

#endif
