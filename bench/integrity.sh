#!/usr/bin/env bash
# What checking the trail against CloudTrail's digests costs: `tagtrail scan` on the synthetic
# corpus, and on the same corpus with hourly digest files beside its log files
# (bench/synthetic/add_digests.py; the log files are hard links of the first corpus's), which
# makes the scan hash every log file and check the chain. Alternating, ROUNDS each; prints the
# median wall time, CPU time and peak RSS of each, and the cost as a share of the scan.
#
# usage: bench/integrity.sh [EVENTS] [ROUNDS]      (defaults: 1000000 5)
# Not run by CI. TAGTRAIL_BIN names a binary (default: the `ci` profile, built if needed).
set -euo pipefail
cd "$(dirname "$0")/.."

events="${1:-1000000}"
rounds="${2:-5}"
# shellcheck source=bench/corpus.sh
. bench/corpus.sh
bin="${TAGTRAIL_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet --profile ci
  bin="$target/ci/tagtrail"
fi

measure() { # name, corpus: appends "name wall user sys peak_kb" to $work/integrity.times
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.one" \
    "$bin" scan "$2/AWSLogs" --inventory "$2/inventory" --out "$work/integrity-report" \
    --fail-on never > "$work/out.$1" 2>&1
  echo "$1 $(cat "$work/time.one")" >> "$work/integrity.times"
}

: > "$work/integrity.times"
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  measure plain "$corpus"
  measure digests "$digested"
done
grep '^digests ' "$work/out.digests" || true

python3 - "$work/integrity.times" "$events" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def medians(name):
    mine = [r for r in rows if r[0] == name]
    return [statistics.median(f(r) for r in mine)
            for f in (lambda r: float(r[1]), lambda r: float(r[2]) + float(r[3]), lambda r: float(r[4]))]
med = {name: medians(name) for name in ("plain", "digests")}
print(f"{int(sys.argv[2]):,} events, medians of {len(rows) // 2} alternating runs")
print(f"{'':10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
for name, (wall, cpu, peak) in med.items():
    print(f"{name:10} {wall:8.2f} {cpu:8.2f} {peak / 1024:8.0f}")
(pw, pc, _), (dw, dc, _) = med["plain"], med["digests"]
print(f"integrity check: {(dw / pw - 1) * 100:+.1f}% wall, {(dc / pc - 1) * 100:+.1f}% CPU")
PY
