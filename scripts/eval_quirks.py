#!/usr/bin/env python3
"""Writes tests/eval/quirks.jsonl.gz: the evaluation's records (tests/eval/examples.jsonl.gz)
rewritten with CloudTrail's own quirks, which AWS's SDK examples do not have. Each quirk
record keeps the truth of the record it comes from (`eventID` `<origin>+<quirk>`).

The quirks, each applied where CloudTrail shows it:
- `percent`: REST APIs (rest-json, rest-xml) log the members bound to the URL path as they
  appeared in the URL, percent-encoded (`arn%3Aaws%3A...`; a greedy label keeps its `/`).
  Only records with such a member whose value changes when encoded.
- `wrapper`: query-API services log some calls as `{"<Call>Request": {...}}` with the API's
  own member names (PascalCase), list items as `{"tag": n, "content": value}` (one item alone
  as that object) and structures in lists with their `tag`; the response as
  `{"<Call>Response": {...}}` with lists as `{"item": [...]}`. Every record of a query service.
- `no-account`: older event versions and exports that project fields have no
  `recipientAccountId`; by the record's id, its identity keeps `accountId`, or names the
  account only in a session's ARN, or is a root's named by its principal id.
- `service-event`: a service event (`eventType` `AwsServiceEvent`, an `AWSService` identity,
  no request, no response) carrying the call's request in `serviceEventDetails` and its
  result in `additionalEventData`.

usage: python scripts/eval_quirks.py [--out FILE]   (botocore as pinned in scripts/requirements.txt)
"""
import argparse
import gzip
import hashlib
import json
import os
import urllib.parse

from aws_models import OTHER_SHAPES, ROOT, Models, event_source, lower_first, shape_of

EVAL = os.path.join(ROOT, "tests", "eval")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(EVAL, "quirks.jsonl.gz"))
    args = ap.parse_args()
    models = Models()
    by_call = {}
    for model in models.by_name.values():
        if model["_name"] in OTHER_SHAPES:
            continue
        source = event_source(model)
        for op in model["operations"]:
            by_call.setdefault((source, op), model)
    records = [json.loads(line) for line in gzip.open(os.path.join(EVAL, "examples.jsonl.gz"), "rt")]
    out, counts = [], {}
    for record in records:
        model = by_call.get((record["eventSource"], record["eventName"]))
        for quirk, rewrite in QUIRKS:
            changed = rewrite(json.loads(json.dumps(record)), model)
            if changed is None or changed == record:
                continue
            changed["eventID"] = f"{record['eventID']}+{quirk}"
            out.append(changed)
            counts[quirk] = counts.get(quirk, 0) + 1
    path = args.out
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        for r in sorted(out, key=lambda r: r["eventID"]):
            f.write((json.dumps(r, sort_keys=True) + "\n").encode())
    for quirk in sorted(counts):
        print(f"{counts[quirk]:6}  {quirk}")
    print(f"{len(out)} records -> {os.path.relpath(path)}")


def percent(record, model):
    """Path members of REST calls, percent-encoded as in their URL."""
    if model is None or model["metadata"]["protocol"] not in ("rest-json", "rest-xml"):
        return None
    operation = model["operations"][record["eventName"]]
    uri = operation.get("http", {}).get("requestUri", "")
    shape = shape_of(model, operation.get("input", {}).get("shape"))
    request = record.get("requestParameters")
    if not isinstance(request, dict):
        return None
    for member, spec in shape.get("members", {}).items():
        if spec.get("location") != "uri":
            continue
        name = spec.get("locationName", member)
        greedy = "{" + name + "+}" in uri
        key = lower_first(member)
        value = request.get(key)
        if isinstance(value, str):
            request[key] = urllib.parse.quote(value, safe="/" if greedy else "")
    return record


def wrapper(record, model):
    """A query service's call in its `<Call>Request` / `<Call>Response` wrappers."""
    if model is None or model["metadata"]["protocol"] != "query":
        return None
    operation = model["operations"][record["eventName"]]
    request = record.get("requestParameters")
    if isinstance(request, dict):
        inner = query_form(model, operation.get("input", {}).get("shape"), request)
        record["requestParameters"] = {record["eventName"] + "Request": inner or ""}
    response = record.get("responseElements")
    if isinstance(response, dict):
        inner = response_form(model, operation.get("output", {}).get("shape"), response)
        inner["xmlns"] = f"http://{model['metadata']['endpointPrefix']}.amazonaws.com/doc/{model['metadata']['apiVersion']}/"
        record["responseElements"] = {record["eventName"] + "Response": inner}
    return record


def sdk_members(model, shape_name, logged):
    """(SDK member name, its shape, value) of a logged structure."""
    members = shape_of(model, shape_name).get("members", {})
    by_logged = {lower_first(m): m for m in members}
    for key, value in logged.items():
        member = by_logged.get(key)
        yield (member or key), (members[member]["shape"] if member else None), value


def query_form(model, shape_name, value):
    shape = shape_of(model, shape_name)
    kind = shape.get("type")
    if kind == "structure" and isinstance(value, dict):
        return {m: query_form(model, s, v) for m, s, v in sdk_members(model, shape_name, value)}
    if kind == "list" and isinstance(value, list):
        member = shape["member"]["shape"]
        items = []
        for i, v in enumerate(value):
            item = query_form(model, member, v)
            items.append(dict(item, tag=i + 1) if isinstance(item, dict) else {"tag": i + 1, "content": item})
        return items[0] if len(items) == 1 else items
    return value


def response_form(model, shape_name, value):
    shape = shape_of(model, shape_name)
    kind = shape.get("type")
    if kind == "structure" and isinstance(value, dict):
        return {lower_first(m): response_form(model, s, v) for m, s, v in sdk_members(model, shape_name, value)}
    if kind == "list" and isinstance(value, list):
        return {"item": [response_form(model, shape["member"]["shape"], v) for v in value]}
    return value


def no_account(record, model):
    """No `recipientAccountId`; by the record's id, the identity keeps its `accountId`, names
    the account only in a session's ARN, or is a root's, named by its principal id."""
    account = record.pop("recipientAccountId", None)
    if account is None:
        return None
    kind = int(hashlib.sha256(record["eventID"].encode()).hexdigest(), 16) % 3
    if kind == 1:
        record["userIdentity"] = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:session",
                                  "arn": f"arn:aws:sts::{account}:assumed-role/example-role/session"}
    elif kind == 2:
        record["userIdentity"] = {"type": "Root", "principalId": account}
    return record


def service_event(record, model):
    """The call as a service event: its request in serviceEventDetails, its result in
    additionalEventData."""
    request = record.pop("requestParameters", None)
    response = record.pop("responseElements", None)
    if not request and not response:
        return None
    record["eventType"] = "AwsServiceEvent"
    record["userIdentity"] = {"accountId": record.get("recipientAccountId"),
                              "invokedBy": record["eventSource"]}
    record["requestParameters"] = None
    record["responseElements"] = None
    if request:
        record["serviceEventDetails"] = request
    if response:
        record["additionalEventData"] = response
    return record


QUIRKS = [("percent", percent), ("wrapper", wrapper), ("no-account", no_account), ("service-event", service_event)]

if __name__ == "__main__":
    main()
