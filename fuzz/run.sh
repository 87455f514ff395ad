#!/usr/bin/env bash
# Runs the cargo fuzz targets, each for SECONDS, as many at once as there are cores, and prints
# one line per target: executions, coverage and corpus at the end, and any crash found
# (fuzz/artifacts/<target>/). Seeds the corpora from the repository first (fuzz/seed.py).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable Rust with libFuzzer and no
# sanitizer (`-s none`), with debug assertions on.
#   fuzz/run.sh 600                 every target for 10 minutes
#   fuzz/run.sh 60 input rule_file  two targets for a minute
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(input rule_file path template policy window)
fi
python3 fuzz/seed.py >/dev/null
cargo fuzz build -s none -O --debug-assertions >/dev/null
mkdir -p fuzz/logs
run() {
  local target="$1"
  cargo fuzz run -s none -O --debug-assertions "$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"fuzz/logs/$target.log" 2>&1 || true
  local last crashes
  last=$(grep -E '^#[0-9]+' "fuzz/logs/$target.log" | tail -1)
  crashes=$(find "fuzz/artifacts/$target" -type f 2>/dev/null | wc -l)
  printf '%-10s %ss  %s  crashes: %s\n' "$target" "$seconds" "$last" "$crashes"
}
jobs_max=$(nproc)
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 5; done
  run "$target" &
done
wait
