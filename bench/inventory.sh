#!/usr/bin/env bash
# Benchmark: loading a tag inventory of 1,000,000 tagged resources (tagging API JSON) and
# 100,000 tagged IAM users (account authorization details), as `--inventory DIR` reads them.
# Prints wall time and peak RSS of a scan of one empty trail file with that inventory.
#
# usage: bench/inventory.sh [RESOURCES] [USERS]      (defaults: 1000000 100000)
# Not run by CI. Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."

resources="${1:-1000000}"
users="${2:-100000}"
target="${CARGO_TARGET_DIR:-target}"
work="$target/bench/inventory-$resources-$users"
mkdir -p "$work/inventory" "$work/input"

if [ ! -s "$work/inventory/resources.json" ]; then
  echo "generating $resources resources and $users users into $work/inventory" >&2
  python3 - "$work/inventory" "$resources" "$users" <<'PY'
import json, sys
out, resources, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
products = ["checkout", "catalog", "search", "payments", "identity",
            "analytics", "messaging", "shipping", "ml-platform", "reviews"]
arns = ["arn:aws:s3:::bucket-{i}",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-{i:017x}",
        "arn:aws:lambda:us-east-1:111122223333:function:fn-{i}",
        "arn:aws:sqs:us-east-1:111122223333:queue-{i}",
        "arn:aws:dynamodb:us-east-1:111122223333:table/t-{i}"]
with open(f"{out}/resources.json", "w") as f:
    f.write('{"ResourceTagMappingList": [\n')
    for i in range(resources):
        entry = {"ResourceARN": arns[i % len(arns)].format(i=i),
                 "Tags": [{"Key": "product", "Value": products[i % 10]},
                          {"Key": "Name", "Value": f"res-{i}"}]}
        f.write(("" if i == 0 else ",\n") + json.dumps(entry))
    f.write("\n]}\n")
details = {"UserDetailList": [
    {"Path": "/", "UserName": f"u{i}", "UserId": f"AIDA{i:016d}",
     "Arn": f"arn:aws:iam::111122223333:user/u{i}", "CreateDate": "2022-06-01T00:00:00Z",
     "Tags": [{"Key": "product", "Value": products[i % 10]}]} for i in range(users)],
    "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
with open(f"{out}/account-authorization-details.json", "w") as f:
    json.dump(details, f)
PY
fi
echo '{"Records":[]}' > "$work/input/empty.json"
cargo build --release --quiet
du -sh "$work/inventory"
for round in 1 2 3; do
  /usr/bin/time -f "inventory load: %e s, peak RSS %M KB" "$target/release/tagtrail" scan "$work/input" \
    --inventory "$work/inventory" --out "$work/report" --fail-on never > /dev/null
done
