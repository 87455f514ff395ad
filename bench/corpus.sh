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
# The same corpus with hourly CloudTrail digest files beside its log files (hard links of the
# log files; digests by bench/synthetic/add_digests.py): a scan of it checks every log file.
digested="$corpus-digests"
if [ ! -d "$digested/AWSLogs" ]; then
  cp -al "$corpus" "$digested"
  python3 "$synthetic/add_digests.py" "$digested" >&2
fi
