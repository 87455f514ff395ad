#!/usr/bin/env bash
# Benchmark: the same scan from S3 and from local disk, alternating, in one run. The S3 server
# is s3s-fs (crate s3s-fs 0.14.1, the last release that builds with rustc 1.95), serving the
# bench corpus from disk on 127.0.0.1: moto is too slow a server to measure a client with.
# Prints the median wall time and peak RSS of each, the S3/local ratios (goal: within 1.3x),
# with the default two passes and with --single-pass, and checks both find the same. With two
# cores or more it also runs the single-pass pair with the client pinned to one core and a
# second server pinned to another ("pinned"): the server then takes no CPU from the client, as
# Amazon S3 takes none.
#
# usage: [BIN=tagtrail] bench/s3.sh [EVENTS] [ROUNDS]      (defaults: release build, 200000 3)
# Not run by CI. Needs python3 (the corpus generator) and cargo (to install s3s-fs once).
set -euo pipefail
cd "$(dirname "$0")/.."

events="${1:-200000}"
rounds="${2:-3}"
# shellcheck source=bench/corpus.sh
. bench/corpus.sh
if [ ! -x "$work/s3s/bin/s3s-fs" ]; then
  cargo install s3s-fs@0.14.1 --features binary --locked --root "$work/s3s"
fi
# BIN=path/to/tagtrail measures another build (e.g. the `ci` profile's, which shares CI's cache).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
fi
bin="${BIN:-$target/release/tagtrail}"

# The bucket is a folder of the server's root: hard links to the corpus, no copy.
root="$work/s3root-$events"
if [ ! -d "$root/trail-bucket" ]; then
  mkdir -p "$root/trail-bucket"
  cp -al "$corpus/AWSLogs" "$root/trail-bucket/AWSLogs"
fi
port=$((20000 + RANDOM % 20000))
"$work/s3s/bin/s3s-fs" --host 127.0.0.1 --port "$port" --access-key bench --secret-key bench-secret "$root" \
  > "$work/s3s.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret \
  AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

measure() { # name, command...: appends "name seconds peak_kb" to $work/s3-times
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time.one" "$@" > "$work/s3-out.$name" 2>&1
  echo "$name $(cat "$work/time.one")" >> "$work/s3-times"
}

: > "$work/s3-times"
scan=(scan --inventory "$corpus/inventory" --fail-on never --format csv,json)
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  measure local "$bin" "${scan[@]}" "$corpus/AWSLogs" --out "$work/s3-report-local"
  measure s3 "$bin" "${scan[@]}" --logs s3://trail-bucket/ --out "$work/s3-report-s3"
  measure local-1pass "$bin" "${scan[@]}" "$corpus/AWSLogs" --single-pass --out "$work/s3-report-local1"
  measure s3-1pass "$bin" "${scan[@]}" --logs s3://trail-bucket/ --single-pass --out "$work/s3-report-s31"
done

if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  kill $server 2>/dev/null; wait $server 2>/dev/null || true
  taskset -c 0 "$work/s3s/bin/s3s-fs" --host 127.0.0.1 --port "$port" --access-key bench \
    --secret-key bench-secret "$root" > "$work/s3s.log" 2>&1 &
  server=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  for round in $(seq "$rounds"); do
    echo "pinned round $round/$rounds" >&2
    measure local-pinned taskset -c 1 "$bin" "${scan[@]}" "$corpus/AWSLogs" --single-pass --out "$work/s3-report-localp"
    measure s3-pinned taskset -c 1 "$bin" "${scan[@]}" --logs s3://trail-bucket/ --single-pass --out "$work/s3-report-s3p"
  done
fi

python3 - "$work" "$events" <<'PY'
import csv, json, statistics, sys
work, events = sys.argv[1], int(sys.argv[2])
rows = {}
for line in open(f"{work}/s3-times"):
    name, secs, kb = line.split()
    rows.setdefault(name, []).append((float(secs), int(kb)))
med = {n: (statistics.median(s for s, _ in v), max(k for _, k in v)) for n, v in rows.items()}
print(f"{'':12} {'wall s':>8} {'events/s':>10} {'peak RSS MB':>12}")
for name in ("local", "s3", "local-1pass", "s3-1pass", "local-pinned", "s3-pinned"):
    if name not in med:
        continue
    s, kb = med[name]
    print(f"{name:12} {s:8.2f} {events / s:10.0f} {kb / 1024:12.0f}")
print(f"S3/local time: {med['s3'][0] / med['local'][0]:.2f}x (two passes), "
      f"{med['s3-1pass'][0] / med['local-1pass'][0]:.2f}x (--single-pass); goal 1.3x")
if "s3-pinned" in med:
    print(f"S3/local time, server on a core of its own: "
          f"{med['s3-pinned'][0] / med['local-pinned'][0]:.2f}x (--single-pass, client on one core)")
def findings(name):
    # Everything but the source column, which names a path or an s3:// URL.
    with open(f"{work}/s3-report-{name}/findings.csv") as f:
        return sorted(tuple(v for k, v in r.items() if k != "source") for r in csv.DictReader(f))
same = findings("local") == findings("s3")
read = {n: json.load(open(f"{work}/s3-report-{n}/summary.json"))["records"]["read"] for n in ("local", "s3")}
print(f"same findings from S3 and disk: {same}; records read {read['local']} / {read['s3']}")
PY
