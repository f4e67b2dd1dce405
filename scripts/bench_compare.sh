#!/bin/sh
# bench_compare.sh - is a change faster or slower? (not a test)
#
# usage: scripts/bench_compare.sh OLD_SYNSTRUCT [NEW_SYNSTRUCT]
#
# Runs two builds of synstruct (NEW defaults to build/synstruct) on the
# same inputs, one thread, interleaved so that both see the same machine,
# and prints the best of REPEAT (default 3) compute times (--timing) of
# each and their ratio, new / old: below 1 is faster. Build the old one
# from a worktree: git worktree add /tmp/old REV && make -C /tmp/old.
# The inputs: float32 linear chains (B=64 n=256 t=32; B=16 n=64 t=128) and
# projective trees (B=32 n=48; B=1024 n=48; B=32 n=128).
set -eu
cd "$(dirname "$0")/.."
OLD=$1 NEW=${2:-build/synstruct} REPEAT=${REPEAT:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

compute() { # BINARY ARGS...: compute seconds of one run
	"$@" -j 1 --timing -o "$dir/out.h5" 2>&1 >/dev/null |
		sed -n 's/.*compute \([0-9.]*\) s.*/\1/p'
}

compare() { # LABEL FILE [FLAGS]
	label=$1 file=$2 flags=${3:-}
	for cmd in partition marginals argmax sample entropy; do
		best_old= best_new=
		r=0
		while [ $r -lt "$REPEAT" ]; do
			# shellcheck disable=SC2086
			o=$(compute "$OLD" $cmd $flags "$file")
			# shellcheck disable=SC2086
			n=$(compute "$NEW" $cmd $flags "$file")
			best_old=$(echo "$o ${best_old:-$o}" | awk '{print ($1 < $2) ? $1 : $2}')
			best_new=$(echo "$n ${best_new:-$n}" | awk '{print ($1 < $2) ? $1 : $2}')
			r=$((r + 1))
		done
		echo "$label $cmd $best_old $best_new" | awk '{
			printf "%-24s %-10s old %9.2f ms  new %9.2f ms  ratio %.2f\n",
			       $1, $2, $3 * 1000, $4 * 1000, $4 / $3 }'
	done
}

make_input() { # FILE STRUCTURE SHAPE
	printf 'attr structure string %s\ndataset log_potentials float32 %s random 1 -3 3\n' \
		"$2" "$3" | build/tools/h5mk - "$1"
}

make_input "$dir/c1.h5" linear-chain "[64, 256, 32, 32]"
make_input "$dir/c2.h5" linear-chain "[16, 64, 128, 128]"
make_input "$dir/t1.h5" spanning-tree "[32, 48, 48]"
make_input "$dir/t2.h5" spanning-tree "[1024, 48, 48]"
make_input "$dir/t3.h5" spanning-tree "[32, 128, 128]"
compare chain-64x256x32 "$dir/c1.h5"
compare chain-16x64x128 "$dir/c2.h5"
compare proj-32x48 "$dir/t1.h5" --projective
compare proj-1024x48 "$dir/t2.h5" --projective
compare proj-32x128 "$dir/t3.h5" --projective
