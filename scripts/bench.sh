#!/bin/sh
# bench.sh - times synstruct (make bench; not a test).
#
# For each configuration (linear chains: B problems of n positions over t
# tags; spanning trees: B sentences of n nodes, projective and not; float32
# scores), runs partition, marginals, argmax and sample on one thread under
# every instruction set this CPU runs and on two under the best, and
# prints the compute time measured inside the process (--timing: no file
# I/O) and the wall time of the whole command (reading the input and
# writing HDF5 output included). Each figure is the best of REPEAT runs.
# Then top-k against argmax, and --grad against the plain command.
set -eu
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

now() { date +%s.%N; }

# The instruction sets this CPU runs (synstruct --version), best last.
ISAS=$(build/synstruct --version | sed -n 's/^isa [^ ]* (built: \(.*\))$/\1/p' |
	sed 's/ [^ ]* (not on this CPU)//g; s/^[^ ]* (not on this CPU) *//')
BEST=${ISAS##* }

# bench_file LABEL FILE [FLAGS]: the four commands on one thread under every
# instruction set, and on two under the best.
bench_file() {
	label=$1 file=$2 flags=${3:-}
	for cmd in partition marginals argmax sample; do
		for run in $ISAS 2; do
			j=1 isa=$run
			[ "$run" = 2 ] && j=2 isa=$BEST
			r=0
			: >"$dir/runs"
			while [ $r -lt "$REPEAT" ]; do
				t0=$(now)
				# shellcheck disable=SC2086
				SYNSTRUCT_ISA=$isa build/synstruct $cmd $flags -j $j --timing -o "$dir/out.h5" "$file" 2>"$dir/timing"
				t1=$(now)
				compute=$(sed -n 's/.*compute \([0-9.]*\) s.*/\1/p' "$dir/timing")
				echo "$compute $t0 $t1" >>"$dir/runs"
				r=$((r + 1))
			done
			awk -v cfg="$label" -v cmd="$cmd" -v j="$j" -v isa="$isa" '
				{ c = $1; w = $3 - $2
				  if (NR == 1 || c < bc) bc = c
				  if (NR == 1 || w < bw) bw = w }
				END { printf "%-32s %-10s %-7s %2d %12.2f %12.2f\n", cfg, cmd, isa, j, bc * 1000, bw * 1000 }
			' "$dir/runs"
		done
	done
}

chain() { # B n t
	file=$dir/chain-$1-$2-$3.h5
	printf 'attr structure string linear-chain\ndataset log_potentials float32 [%s, %s, %s, %s] random 1 -3 3\n' \
		"$1" "$2" "$3" "$3" | build/tools/h5mk - "$file"
	bench_file "chain B=$1 n=$2 t=$3" "$file"
}

trees() { # B n
	file=$dir/tree-$1-$2.h5
	printf 'attr structure string spanning-tree\ndataset log_potentials float32 [%s, %s, %s] random 2 -3 3\n' \
		"$1" "$2" "$2" | build/tools/h5mk - "$file"
	bench_file "tree B=$1 n=$2 projective" "$file" --projective
	bench_file "tree B=$1 n=$2 non-projective" "$file"
}

# best_compute FILE ARGS...: the best compute seconds of REPEAT runs, one
# thread, the best instruction set.
best_compute() {
	file=$1
	shift
	r=0 best=
	while [ $r -lt "$REPEAT" ]; do
		c=$(SYNSTRUCT_ISA=$BEST build/synstruct "$@" -j 1 --timing -o "$dir/out.h5" "$file" 2>&1 >/dev/null |
			sed -n 's/.*compute \([0-9.]*\) s.*/\1/p')
		best=$(awk -v a="$best" -v b="$c" 'BEGIN { print (a == "" || b < a) ? b : a }')
		r=$((r + 1))
	done
	echo "$best"
}

# topk LABEL FILE [FLAGS]: top-k with K = 1, 8 and 64 against argmax (issue
# 11): the k-best semiring on charts, Lawler's partitioning without one.
topk() {
	label=$1 file=$2 flags=${3:-}
	# shellcheck disable=SC2086
	base=$(best_compute "$file" argmax $flags)
	for k in 1 8 64; do
		# shellcheck disable=SC2086
		t=$(best_compute "$file" top-k -k $k $flags)
		awk -v l="$label" -v k="$k" -v t="$t" -v b="$base" 'BEGIN {
			printf "%-32s top-k -k %-3s %10.2f ms, argmax %8.2f ms, ratio %7.2f (per rank %.2f)\n",
				l, k, t * 1000, b * 1000, t / b, t / b / k }'
	done
}

printf '%-32s %-10s %-7s %2s %12s %12s\n' problem command isa j "compute ms" "command ms"
chain 64 256 32
chain 16 64 128
trees 32 48
trees 32 128

echo
echo "top-k against argmax (one thread, $BEST)"
topk "chain B=64 n=256 t=32" "$dir/chain-64-256-32.h5"
topk "tree B=32 n=48 projective" "$dir/tree-32-48.h5" --projective
topk "tree B=32 n=48 non-projective" "$dir/tree-32-48.h5"

# compute_once FILE ARGS...: the compute seconds of one run, one thread, the
# best instruction set; empty where the command fails (a structure without
# gradients).
compute_once() {
	file=$1
	shift
	SYNSTRUCT_ISA=$BEST build/synstruct "$@" -j 1 --timing -o "$dir/out.h5" "$file" 2>&1 >/dev/null |
		sed -n 's/.*compute \([0-9.]*\) s.*/\1/p'
}

# grad LABEL FILE COMMAND [FLAGS]: COMMAND --grad against COMMAND on the
# same input, one run each (issue 11): the gradient's cost over the result's.
grad() {
	label=$1 file=$2 cmd=$3 flags=${4:-}
	# shellcheck disable=SC2086
	base=$(compute_once "$file" $cmd $flags)
	# shellcheck disable=SC2086
	t=$(compute_once "$file" $cmd --grad $flags)
	if [ -z "$base" ] || [ -z "$t" ]; then
		printf '%-32s %-10s --grad: failed\n' "$label" "$cmd"
		return
	fi
	awk -v l="$label" -v c="$cmd" -v t="$t" -v b="$base" 'BEGIN {
		printf "%-32s %-10s --grad %10.2f ms, plain %8.2f ms, ratio %7.2f\n",
			l, c, t * 1000, b * 1000, (b > 0 ? t / b : 0) }'
}

echo
echo "--grad against the plain command (one thread, $BEST, one run each)"
for cmd in partition entropy; do
	grad "chain B=64 n=256 t=32" "$dir/chain-64-256-32.h5" "$cmd"
	grad "tree B=32 n=48 projective" "$dir/tree-32-48.h5" "$cmd" --projective
	grad "tree B=32 n=48 non-projective" "$dir/tree-32-48.h5" "$cmd"
done

# The ratios of issue 8: against plain PyTorch and against HDF5's own read
# and write (scripts/bench_torch.py), where Debian's python3-torch and
# python3-h5py are installed.
echo
if /usr/bin/python3 -c 'import torch, h5py' 2>/dev/null; then
	# shellcheck disable=SC2086
	REPEAT=$REPEAT /usr/bin/python3 scripts/bench_torch.py build/synstruct "$dir" $ISAS
else
	echo "(no PyTorch comparison: apt-get install python3-torch python3-h5py)"
fi
