#!/usr/bin/env bash
# Benchmark: tagtrail scan vs the DuckDB baseline of the same job vs a decompress-only pass
# with tagtrail's own gzip library (the floor) and a decompress-and-decode pass (every record
# typed as the scan's reader does, and nothing else), on the synthetic corpus (bench/synthetic), alternating,
# in one run. Prints wall time, events/s and peak RSS of each (median of ROUNDS), the ratios,
# and how tagtrail's product-mismatch findings compare with the violations the generator planted;
# and the scan of the same corpus with CloudTrail digest files beside it, for the share the
# integrity check takes (bench/integrity.sh measures it alone, with more rounds).
#
# usage: bench/run.sh [EVENTS] [ROUNDS]      (defaults: 1000000 3)
# Not run by CI. Needs python3; installs duckdb into a virtual environment under target/.
# TAGTRAIL_BIN names a binary (default: the release build, built if needed).
set -euo pipefail
cd "$(dirname "$0")/.."

events="${1:-1000000}"
rounds="${2:-3}"
# shellcheck source=bench/corpus.sh
. bench/corpus.sh
if [ ! -x "$work/venv/bin/python" ] || ! "$work/venv/bin/python" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet duckdb
fi
bin="${TAGTRAIL_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin="$target/release/tagtrail"
fi

measure() { # name, command...: appends "name seconds peak_kb" to $work/times
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time.one" "$@" > "$work/out.$name" 2>&1
  echo "$name $(cat "$work/time.one")" >> "$work/times"
}

: > "$work/times"
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  measure tagtrail "$bin" scan "$corpus/AWSLogs" --inventory "$corpus/inventory" --out "$work/report" --fail-on never
  measure duckdb "$work/venv/bin/python" "$synthetic/duckdb_baseline.py" "$corpus"
  measure floor "$bin" bench-floor "$corpus/AWSLogs"
  measure decode "$bin" bench-floor --decode "$corpus/AWSLogs"
  measure digests "$bin" scan "$digested/AWSLogs" --inventory "$digested/inventory" --out "$work/report-digests" --fail-on never
done

python3 - "$work" "$events" "$corpus.plan.json" <<'PY'
import json, statistics, sys
work, events, plan_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(f"{work}/times"):
    name, secs, kb = line.split()
    rows.setdefault(name, []).append((float(secs), int(kb)))
med = {n: (statistics.median(s for s, _ in v), max(k for _, k in v)) for n, v in rows.items()}
print(f"{'':10} {'wall s':>8} {'events/s':>10} {'peak RSS MB':>12}")
for name in ("tagtrail", "duckdb", "floor", "decode"):
    s, kb = med[name]
    print(f"{name:10} {s:8.2f} {events / s:10.0f} {kb / 1024:12.0f}")
t, d, f, r = med["tagtrail"], med["duckdb"], med["floor"], med["decode"]
print(f"tagtrail/duckdb speed: {d[0] / t[0]:.2f}x   memory: {t[1] / d[1]:.2f} of DuckDB's")
print(f"tagtrail/floor time:   {t[0] / f[0]:.2f}x")
print(f"decode alone/duckdb speed: {d[0] / r[0]:.2f}x (the most any scan built on this reader can reach)")
g = med["digests"]
print(f"integrity check (digests beside the logs): {g[0]:.2f} s, {(g[0] / t[0] - 1) * 100:+.1f}% of the scan's wall time")
summary = json.load(open(f"{work}/report/summary.json"))
plan = json.load(open(plan_file))
duck = open(f"{work}/out.duckdb").read().split()
print(f"product-mismatch findings: tagtrail {summary['findings']['product-mismatch']}, "
      f"generator planted {plan['expected_violations']['total']} "
      f"(core {plan['expected_violations']['core']}, other rules {plan['expected_violations']['other_rules']}), "
      f"duckdb {[w for w in duck if w.startswith('violations=')][0]}")
PY
