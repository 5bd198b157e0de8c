#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Install the Debian packages named as arguments, if any is missing.
#   - a no-op (no apt-get call) when every package is already installed;
#   - runs `apt-get update` first, then `apt-get install -y --no-install-recommends`;
#   - uses sudo only when not root;
#   - IJEPA_NO_DEPS=1 skips it (e.g. inside a package build), and so does a
#     system without dpkg-query (not Debian): then it only prints the list.
# The package list lives in the Makefile (DEB_PACKAGES): use `make deps`.
set -eu

if [ $# -eq 0 ]; then
    echo "usage: $0 PACKAGE..." >&2
    exit 2
fi
if [ -n "${IJEPA_NO_DEPS:-}" ]; then
    echo "deps: IJEPA_NO_DEPS is set, not checking Debian packages"
    exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: no dpkg-query (not Debian?); make sure these are installed: $*" >&2
    exit 0
fi

missing=
for pkg in "$@"; do
    case $(dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null || true) in
        *"install ok installed"*) ;;
        *) missing="$missing $pkg" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "deps: all $# required Debian packages are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=
elif command -v sudo >/dev/null 2>&1; then
    sudo=sudo
else
    echo "deps: missing packages:$missing" >&2
    echo "deps: not root and no sudo: install them as root, or set IJEPA_NO_DEPS=1" >&2
    exit 1
fi

echo "deps: installing:$missing"
set -x
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
