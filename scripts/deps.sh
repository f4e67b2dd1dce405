#!/bin/sh
# deps.sh - installs what synstruct needs to build and test, if missing.
#
#   scripts/deps.sh [--quiet]
#
# Debian packages: a C compiler and make, pkg-config, libhdf5-dev (serial
# HDF5), libcjson-dev, and for the tests bats, bats-support, bats-assert and
# mandoc. Uses apt-get (through sudo when not root).
set -eu

quiet=
[ "${1:-}" = "--quiet" ] && quiet=1

missing=
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for pkg in gcc make pkg-config libhdf5-dev libcjson-dev bats bats-support bats-assert mandoc; do
	have_pkg "$pkg" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
	[ -n "$quiet" ] || echo "deps: everything is installed"
	exit 0
fi

echo "deps: installing$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $missing >/dev/null
