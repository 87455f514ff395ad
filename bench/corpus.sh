# Sourced by the bench scripts: with $events set, the work folder and the synthetic corpus of
# that many events (generated once, seed 42, by bench/synthetic/gen_corpus.py).
synthetic="$(pwd)/bench/synthetic"
target="${CARGO_TARGET_DIR:-target}"
work="$target/bench"
corpus="$work/corpus-$events"
mkdir -p "$work"
if [ ! -d "$corpus/AWSLogs" ]; then
  echo "generating $events events into $corpus" >&2
  python3 "$synthetic/gen_corpus.py" --out "$corpus" --events "$events" --seed 42 > "$corpus.plan.json"
fi
