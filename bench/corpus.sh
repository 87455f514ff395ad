# Sourced by the bench scripts: with $events set, the work folder and the shared synthetic
# corpus of that many events (generated once, seed 42, by ../shared/bench/gen_corpus.py).
shared="$(cd .. && pwd)/shared/bench"
target="${CARGO_TARGET_DIR:-target}"
work="$target/bench"
corpus="$work/corpus-$events"
mkdir -p "$work"
if [ ! -d "$corpus/AWSLogs" ]; then
  echo "generating $events events into $corpus" >&2
  python3 "$shared/gen_corpus.py" --out "$corpus" --events "$events" --seed 42 > "$corpus.plan.json"
fi
