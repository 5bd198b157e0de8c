/*
 * ijepa-train: I-JEPA pretraining from the command line.
 *
 *   ijepa-train [--data DIR] [--config NAME] [--steps N | --epochs E]
 *               [--batch B] [--seed S] [--threads T] [--out DIR] [--resume PATH]
 *               [--save-every K]
 *               [--set key=value]... [--crop S] [--flip 0|1] [--limit N] [--probe]
 *               [--quiet] [--probe-train N] [--probe-epochs E]
 *
 * Trains on Fashion-MNIST (Debian's dataset-fashion-mnist is the default
 * data) or, when --data names a directory without the Fashion-MNIST files,
 * on every .png/.jpg/.jpeg below it (recursively) through the library's
 * dataset handle: decoded on background threads, RandomResizedCrop and
 * ImageNet normalisation (config "folder" by default: 64x64 RGB; any
 * img_size/in_chans via --config or --set, in_chans 1 or 3; a bad file
 * stops the run with its name, or is skipped and counted with
 * --set data_on_error=1). Shows progress (a bar on a terminal, plain lines
 * when piped), and writes to --out: log.csv, loss.png, masks.png and
 * checkpoint.safetensors (both encoders, predictor, optimizer state, step and
 * configuration; see docs/checkpoint.md); --save-every K also saves it every
 * K steps, atomically, so an interrupted run leaves its last checkpoint.
 * --resume PATH continues the run saved in PATH: the configuration comes from
 * the file (--config, --batch and --seed are ignored; --set may change keys
 * that do not define the model), training goes on to --steps N in total
 * (default: the file's total_steps), and with the same data, --limit, --crop
 * and thread count it gives bit-identical results to the run that was never
 * interrupted. --probe then scores a linear probe of
 * the target encoder on the test split (fitted on all 60k training images
 * with 15 epochs per fit, or on the first N with --probe-train N and E
 * epochs with --probe-epochs E: the shorter probe of `make demo`, for
 * screening runs). Any config key can be set with --set
 * (see include/ijepa/config.h for names); --crop S applies the official
 * RandomResizedCrop with scale (S, 1) to every training image (0: none; the
 * default is the recipe's); --flip 1 mirrors each Fashion-MNIST training
 * image left-right with probability 1/2 (--flip 0: never; the default is the
 * recipe's).
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>

#include "trainloop.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: ijepa-train [--data DIR] [--config NAME] [--steps N | --epochs E]\n"
               "                   [--batch B] [--seed S] [--threads T] [--out DIR] [--resume PATH]\n"
               "                   [--save-every K]\n"
               "                   [--set key=value]... [--crop S] [--flip 0|1] [--limit N] [--probe]\n"
               "                   [--quiet] [--probe-train N] [--probe-epochs E]\n"
               "configs:\n");
    for (size_t i = 0; i < sizeof EX_RECIPES / sizeof EX_RECIPES[0]; i++)
        fprintf(f, "  %-16s %s\n", EX_RECIPES[i].name, EX_RECIPES[i].about);
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-train";
    const char *dir = FMNIST_DEFAULT_DIR, *recipe = NULL, *out = NULL, *resume = NULL;
    int64_t steps = 0, batch = 0, limit = 0, seed = 0, threads = 0, save_every = 0;
    double epochs = 0, crop = -1;
    int probe = 0, quiet = 0, probe_epochs = 15, flip = -1;
    int64_t probe_train = 0;
    char sets[4096] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--probe"))
            probe = 1;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!v) {
            usage(stderr);
            return 2;
        } else if (!strcmp(a, "--data"))
            dir = argv[++i];
        else if (!strcmp(a, "--config"))
            recipe = argv[++i];
        else if (!strcmp(a, "--out"))
            out = argv[++i];
        else if (!strcmp(a, "--resume"))
            resume = argv[++i];
        else if (!strcmp(a, "--save-every"))
            save_every = atoll(argv[++i]);
        else if (!strcmp(a, "--steps"))
            steps = atoll(argv[++i]);
        else if (!strcmp(a, "--epochs"))
            epochs = atof(argv[++i]);
        else if (!strcmp(a, "--batch"))
            batch = atoll(argv[++i]);
        else if (!strcmp(a, "--seed"))
            seed = atoll(argv[++i]);
        else if (!strcmp(a, "--threads"))
            threads = atoll(argv[++i]);
        else if (!strcmp(a, "--flip"))
            flip = atoi(argv[++i]) != 0;
        else if (!strcmp(a, "--crop"))
            crop = atof(argv[++i]);
        else if (!strcmp(a, "--limit"))
            limit = atoll(argv[++i]);
        else if (!strcmp(a, "--probe-train"))
            probe_train = atoll(argv[++i]);
        else if (!strcmp(a, "--probe-epochs"))
            probe_epochs = atoi(argv[++i]);
        else if (!strcmp(a, "--set")) {
            size_t n = strlen(sets);
            snprintf(sets + n, sizeof sets - n, "%s%s", n ? " " : "", argv[++i]);
        } else {
            usage(stderr);
            return 2;
        }
    }
    /* a folder of images unless it holds the Fashion-MNIST files */
    char probe_path[4096];
    snprintf(probe_path, sizeof probe_path, "%s/train-images-idx3-ubyte.gz", dir);
    const int folder = access(probe_path, R_OK) != 0 && strcmp(dir, FMNIST_DEFAULT_DIR) != 0;
    if (!recipe)
        recipe = folder ? "folder" : "fmnist";
    if (folder && probe) {
        fprintf(stderr, "ijepa-train: --probe needs Fashion-MNIST (its labels); %s is a folder "
                        "of images\n", dir);
        return 2;
    }
    const ex_recipe *r = ex_recipe_find(recipe);
    if (!r) {
        fprintf(stderr, "ijepa-train: unknown config '%s'\n", recipe);
        usage(stderr);
        return 2;
    }
    if (threads > 0)
        omp_set_num_threads((int)threads); /* the host owns the thread count */

    char err[512];
    fmnist train = {0}, test;
    if (!folder && fmnist_load(&train, dir, "train", err, sizeof err) != 0) {
        fprintf(stderr, "ijepa-train: %s (install dataset-fashion-mnist or pass --data)\n", err);
        return 1;
    }
    if (limit > 0 && limit < train.n)
        train.n = limit;

    ijepa_config *cfg;
    if (resume) {
        CHECK(ijepa_checkpoint_read_config(resume, &cfg));
        if (steps <= 0 && epochs <= 0)
            CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_TOTAL_STEPS, &steps));
    } else {
        CHECK(ijepa_config_create(&cfg));
        ex_apply_settings(cfg, r->settings);
        if (batch > 0)
            CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, batch));
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, seed));
    }
    if (sets[0])
        ex_apply_settings(cfg, sets);
    int64_t B, img;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    ijepa_dataset *images = NULL;
    if (folder) {
        const double smin = crop >= 0 ? crop : r->crop_scale_min;
        if (smin > 0)
            CHECK(ijepa_config_set_float(cfg, IJEPA_CFG_DATA_CROP_SCALE_MIN, smin));
        else /* no random crop: resize + centre crop */
            CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_TRANSFORM, IJEPA_DATA_EVAL));
        if (ijepa_dataset_create(&images, dir, cfg) != IJEPA_OK) {
            fprintf(stderr, "ijepa-train: %s\n", ijepa_last_error());
            return 1;
        }
        train.n = ijepa_dataset_size(images);
        if (limit > 0)
            fprintf(stderr, "ijepa-train: --limit applies to Fashion-MNIST only; ignored\n");
    }
    if (steps <= 0)
        steps = (int64_t)((epochs > 0 ? epochs : 1.0) * (double)(train.n / B));
    if (steps < 1)
        steps = 1;

    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    if (!quiet)
        fprintf(stderr, "ijepa-train: %s%s, config %s, %lld steps of %lld images (%.2f epochs), "
                        "%d threads\n", folder ? "images in " : "Fashion-MNIST", folder ? dir : "",
                resume ? resume : r->name, (long long)steps, (long long)B,
                (double)(steps * B) / (double)train.n, (int)ijepa_context_num_threads(ctx));
    ex_train_result res;
    ijepa_trainer *tr = ex_train(ctx, cfg, &train, images, steps,
                                 crop >= 0 ? crop : r->crop_scale_min,
                                 flip >= 0 ? flip : r->hflip, out, resume, save_every,
                                 quiet, &res);
    printf("trained %lld steps in %.1f s (%.1f images/s): loss %.5f -> %.5f, target std %.4f\n",
           (long long)res.steps, res.seconds, res.images_per_s, res.first_loss, res.last_loss,
           res.last_std);
    if (images && ijepa_dataset_skipped(images) > 0)
        printf("skipped %lld unreadable files (data_on_error=1); last: %s\n",
               (long long)ijepa_dataset_skipped(images), ijepa_dataset_last_skip_error(images));
    if (out)
        printf("wrote %s/{log.csv,loss.png,masks.png,checkpoint.safetensors}\n", out);
    if (probe) {
        if (fmnist_load(&test, dir, "t10k", err, sizeof err) != 0) {
            fprintf(stderr, "ijepa-train: %s\n", err);
            return 1;
        }
        linprobe_result pr = ex_probe(ijepa_trainer_target_encoder(tr), &train, &test, img,
                                      probe_epochs < 1 ? 1 : probe_epochs, probe_train);
        printf("linear probe (target encoder, average-pooled, %lld training images): test %.2f%% "
               "(val %.2f%%, wd %g)\n", (long long)(probe_train > 0 && probe_train < train.n
                                                    ? probe_train : train.n),
               pr.test_acc, pr.val_acc, pr.weight_decay);
        fmnist_free(&test);
    }
    ijepa_dataset_free(images);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    return 0;
}
