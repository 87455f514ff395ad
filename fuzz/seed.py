#!/usr/bin/env python3
"""Seeds the fuzz targets' corpora (fuzz/corpus/<target>/) from this repository: the real
records of tests/corpus (one per file, and a few whole trail files, plain and gzipped), the
rule pack, the demo's policy, the paths and templates the rules use, and window values.
Run from the repository root: python3 fuzz/seed.py"""

import gzip
import hashlib
import json
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "fuzz" / "corpus"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


records = []
for path in sorted((root / "tests" / "corpus").glob("*.jsonl.gz")):
    lines = gzip.open(path, "rt").read().splitlines()
    records.extend(lines)
    # A whole source as JSON Lines, and as a trail file, gzipped.
    put("input", "\n".join(lines[:40]))
    trail = '{"Records":[' + ",".join(lines[:40]) + "]}"
    put("input", gzip.compress(trail.encode()))
for line in records[::8]:
    put("input", line)
for path in sorted((root / "examples" / "demo" / "trail").rglob("*")):
    if path.is_file():
        put("input", path.read_bytes())
for path in (root / "tests" / "fixtures").iterdir():
    put("input", path.read_bytes())

paths, templates = set(), set()
for path in sorted((root / "rules").glob("*.toml")):
    text = path.read_text()
    # Rule files are large; seed with each file and with single rules cut from it.
    put("rule_file", text)
    head = text.split("[[rule]]")[0]
    for rule in text.split("[[rule]]")[1:40]:
        put("rule_file", head + "[[rule]]" + rule)
    paths.update(re.findall(r'path = "([^"]+)"', text))
    templates.update(re.findall(r'arn = "([^"]+)"', text))
for p in sorted(paths)[:300]:
    put("path", p + "\n" + (records[len(p) % len(records)]))
for t in sorted(templates)[:300]:
    put("template", t)
put("policy", (root / "examples" / "demo" / "policy.toml").read_text())
put("policy", 'shared_values = ["shared"]\nignore_resources = ["arn:aws:s3:::cdk-*", "arn:aws:kms:*:*:alias/aws/*"]\n[allow]\n"arn:aws:iam::*:role/{ci,cd}-deploy" = ["aaa"]\n')
for w in ["2026-11-01", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00+09:00", "90m", "24h", "7d", "2w", "1h30m", "3y"]:
    put("window", w)
print({p.name: len(list(p.iterdir())) for p in sorted(out.iterdir())})
