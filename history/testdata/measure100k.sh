#!/bin/sh
# measure100k.sh: the 100k-message `mimichat import` and `mimichat export`
# figures of docs/history.md, measured as processes (issues 15 and 18).
#
#   history/testdata/measure100k.sh [RUNS] [BINARY]
#
# Builds the real binary (unless BINARY is given, e.g. an older build to
# compare), writes the benchmarks' 100k room as a vCon file (42.7 MB) with
# the history benchmarks' generator, then RUNS times (default 5): imports it
# into a new data directory, exports the room as vCon and as CPIM, and
# imports it into a fresh copy of a data directory whose cache already holds
# a run of the room's 500 newest messages at relay seqs 1,000,000.. (so the
# file merges below that run; written once by the benchmark's helper through
# session's API), each as a process under /usr/bin/time, with `uptime`
# before each round. Ends with the median [min-max] of wall and CPU
# (user+sys) time per process.
# WORK (default a new directory under /tmp) keeps the file, the data
# directory with the cached run and the binary.
set -eu
runs=${1:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${WORK:-$(mktemp -d /tmp/mimichat-measure.XXXXXX)}
mkdir -p "$work"
cd "$root"
if [ $# -ge 2 ]; then
	bin=$2
	built="given"
else
	bin=$work/mimichat
	go build -o "$bin" .
	built="built at $(git -C "$root" rev-parse --short HEAD)"
fi
file=$work/room.vcon.json
below=$work/below
if [ ! -s "$file" ] || [ ! -s "$below/mimichat.db" ]; then
	# The benchmark's parent writes the file and the data directory with the
	# cached run; its sub-benchmarks are not run.
	MIMICHAT_BENCH_FILE=$file MIMICHAT_BENCH_BELOW_DIR=$below go test ./history -run '^$' -bench 'MimichatImport100k/none' -benchtime 1x >/dev/null
fi
room=mimi://example.com/r/history
log=$work/times.log
: >"$log"
echo "binary $bin ($built), file $file, $(nproc) cores" >&2
i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	echo "round $i: $(uptime)" >&2
	rm -rf "$work/dd"
	/usr/bin/time -f 'import %e %U %S %M' -a -o "$log" "$bin" import --data-dir "$work/dd" "$file" >/dev/null
	for f in vcon cpim; do
		/usr/bin/time -f "export-$f %e %U %S %M" -a -o "$log" "$bin" export --data-dir "$work/dd" --room "$room" --format "$f" "$work/out.$f" >/dev/null 2>&1
	done
	rm -rf "$work/db"
	cp -r "$below" "$work/db"
	/usr/bin/time -f 'import-below %e %U %S %M' -a -o "$log" "$bin" import --data-dir "$work/db" "$file" >/dev/null
done
echo "after: $(uptime)" >&2
# median [min-max] of wall (s), CPU user+sys (s) and peak RSS (MB) per process
awk '
{ n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3 + $4; r[$1, n[$1]] = $5 / 1024 }
function sortcol(a, k, m,   i, j, t) {
	for (i = 1; i <= m; i++) s[i] = a[k, i]
	for (i = 2; i <= m; i++) for (j = i; j > 1 && s[j-1] > s[j]; j--) { t = s[j]; s[j] = s[j-1]; s[j-1] = t }
}
function stat(a, k, m,   med) {
	sortcol(a, k, m)
	med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
	return sprintf("%.2f [%.2f-%.2f]", med, s[1], s[m])
}
END {
	split("import export-vcon export-cpim import-below", ks, " ")
	printf "%-12s %-22s %-22s %s\n", "process", "wall s", "CPU s (user+sys)", "peak RSS MB"
	for (x = 1; x <= 4; x++) { k = ks[x]; m = n[k]
		printf "%-12s %-22s %-22s %s\n", k, stat(w, k, m), stat(c, k, m), stat(r, k, m) }
}' "$log"
echo "raw: $log" >&2
