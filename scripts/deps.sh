#!/bin/sh
# deps.sh - what synstruct needs to build and test.
#
#   scripts/deps.sh                 installs what is missing (make deps)
#   scripts/deps.sh --check [build] installs nothing: where something is
#                                   missing, prints one line naming it and
#                                   exits 1 (make check; make demo checks
#                                   only what the build needs)
#
# Debian packages: a C compiler and make, pkg-config, libhdf5-dev (serial
# HDF5), libcjson-dev, and for the tests bats, bats-support, bats-assert and
# mandoc. Installing uses apt-get (through sudo when not root). Checking
# looks for the tools and libraries themselves, however they were installed;
# CC names the compiler (default cc).
set -eu

BUILD_PACKAGES="gcc make pkg-config libhdf5-dev libcjson-dev"
TEST_PACKAGES="bats bats-support bats-assert mandoc"

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

# has PACKAGE: whether what the Debian package PACKAGE provides is here.
has() {
	case $1 in
	gcc) command -v "${CC:-cc}" > /dev/null 2>&1 ;;
	make | pkg-config | bats | mandoc) command -v "$1" > /dev/null 2>&1 ;;
	libhdf5-dev)
		pkg-config --exists hdf5-serial 2> /dev/null ||
			pkg-config --exists hdf5 2> /dev/null
		;;
	libcjson-dev)
		printf '#include <cjson/cJSON.h>\n' |
			"${CC:-cc}" -E -x c - > /dev/null 2>&1
		;;
	bats-support | bats-assert)
		# where bats_load_library looks
		(
			IFS=:
			for dir in ${BATS_LIB_PATH:-/usr/lib/bats}; do
				[ -f "$dir/$1/load.bash" ] && exit 0
			done
			exit 1
		)
		;;
	esac
}

if [ "${1:-}" = "--check" ]; then
	packages="$BUILD_PACKAGES $TEST_PACKAGES"
	[ "${2:-}" = "build" ] && packages=$BUILD_PACKAGES
	missing=
	for pkg in $packages; do
		has "$pkg" || missing="$missing $pkg"
	done
	[ -z "$missing" ] && exit 0
	echo "synstruct: missing$missing: run 'make deps' (or '${sudo:+sudo }apt-get install$missing')" >&2
	exit 1
fi

missing=
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for pkg in $BUILD_PACKAGES $TEST_PACKAGES; do
	have_pkg "$pkg" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $missing >/dev/null
