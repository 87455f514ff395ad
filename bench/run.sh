#!/usr/bin/env bash
# Benchmark: tagtrail scan (the default, and --single-pass) vs the DuckDB baseline of the same job vs a decompress-only pass
# with tagtrail's own gzip library (the floor) and a decompress-and-decode pass (every record
# typed as the scan's reader does, and nothing else), on the synthetic corpus (bench/synthetic), alternating,
# in one run. Prints wall time, events/s and peak RSS of each (median of ROUNDS), the ratios,
# and how tagtrail's product-mismatch findings compare with the violations the generator planted;
# and the scan of the same corpus with CloudTrail digest files beside it, for the share the
# integrity check takes (bench/integrity.sh measures it alone, with more rounds); then each
# stage's share of the default scan (the times it logs) next to DuckDB's whole job.
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
  RUST_LOG="warn,tagtrail::stages=info,tagtrail::done=info" \
    measure tagtrail "$bin" --log-format json scan "$corpus/AWSLogs" --inventory "$corpus/inventory" --out "$work/report" --fail-on never
  cp "$work/out.tagtrail" "$work/stages.$round"
  measure single "$bin" scan "$corpus/AWSLogs" --inventory "$corpus/inventory" --out "$work/report-single" --fail-on never --single-pass
  measure duckdb "$work/venv/bin/python" "$synthetic/duckdb_baseline.py" "$corpus"
  measure floor "$bin" bench-floor "$corpus/AWSLogs"
  measure decode "$bin" bench-floor --decode "$corpus/AWSLogs"
  measure digests "$bin" scan "$digested/AWSLogs" --inventory "$digested/inventory" --out "$work/report-digests" --fail-on never
done

python3 - "$work" "$events" "$corpus.plan.json" "$rounds" <<'PY'
import json, statistics, sys
work, events, plan_file, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
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
o = med["single"]
print(f"--single-pass: {o[0]:.2f} s, {o[1] / 1024:.0f} MB: the default takes {(t[0] / o[0] - 1) * 100:+.1f}% more time")
print(f"decode alone/duckdb speed: {d[0] / r[0]:.2f}x (the most any scan built on this reader can reach)")
# Each stage of the scan (median over the rounds of the times the scan logs, target
# tagtrail::stages), next to DuckDB's whole job.
stages = {}
for n in range(1, rounds + 1):
    seen = {}
    for line in open(f"{work}/stages.{n}"):
        if '"tagtrail::stages"' not in line:
            continue
        fields = json.loads(line)["fields"]
        seen[fields["stage"]] = seen.get(fields["stage"], 0) + fields["seconds"]
    for stage, secs in seen.items():
        stages.setdefault(stage, []).append(secs)
stage = {k: statistics.median(v) for k, v in stages.items()}
read = stage.get("read and resolve", 0)
table = [
    ("inflate (bench-floor)", f[0], ""),
    ("decode (bench-floor --decode, less inflate)", r[0] - f[0], ""),
    ("resolve, observe, keep aside (rest of the read)", read - r[0], ""),
    ("history (build)", stage.get("history", 0), ""),
    ("judge (read back, judge, sort)", stage.get("judge", 0), ""),
    ("merge and write reports", stage.get("merge and write reports", 0), ""),
    ("  findings tables: rows to columns, frames out", stage.get("write findings tables", 0), "within the line above"),
    ("  write parquet", stage.get("write parquet", 0), "own thread, within"),
    ("  write csv", stage.get("write csv", 0), "own thread, within"),
    ("  write summary.json", stage.get("write summary", 0), "within"),
]
print(f"\n{'stage of the default scan':50} {'wall s':>7} {'share':>6}")
for name, secs, note in table:
    print(f"{name:50} {secs:7.2f} {secs / t[0] * 100:5.0f}%  {note}")
print(f"{'the whole scan':50} {t[0]:7.2f}")
print(f"{'DuckDB, the whole job':50} {d[0]:7.2f}")
print(f"{'3x DuckDB: the scan within':50} {d[0] / 3:7.2f}  (decode alone takes {r[0]:.2f})")
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
