/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * An external program using an installed libijepa: built by
 * tests/install/run.sh with nothing but `pkg-config` output for the staged
 * install, once against the shared and once against the static library.
 */
#include <ijepa/ijepa.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "consumer: %s failed: %s: %s\n", what,
            ijepa_status_string(rc), ijepa_last_error());
    return 1;
}

int main(void)
{
    ijepa_config *cfg = NULL;
    ijepa_context *ctx = NULL;
    const char *v = ijepa_version_string();
    int rc;

    printf("consumer: libijepa %s (headers %s)\n", v, IJEPA_VERSION_STRING);
    if (strcmp(v, IJEPA_VERSION_STRING) != 0 ||
        ijepa_version_number() != (uint32_t)IJEPA_VERSION_NUMBER) {
        fprintf(stderr, "consumer: runtime and header versions differ\n");
        return 1;
    }

    rc = ijepa_config_create(&cfg);
    if (rc != IJEPA_OK)
        return fail("ijepa_config_create", rc);
    rc = ijepa_context_create(&ctx);
    if (rc != IJEPA_OK) {
        ijepa_config_free(cfg);
        return fail("ijepa_context_create", rc);
    }
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    puts("consumer: ok");
    return 0;
}
