#!/usr/bin/env python3
"""Security Hub in a moto server, for tests/it/aws.rs.

usage: securityhub.py ENDPOINT list
         prints [{"Id", "RecordState", "GeneratorId"}] of every finding
       securityhub.py ENDPOINT stale ID FIRST_OBSERVED
         imports a tagtrail finding with that id, first observed then (an earlier run's)
"""
import json
import sys

import boto3

endpoint, command = sys.argv[1], sys.argv[2]
hub = boto3.client("securityhub", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="AKIASEEDSEEDSEED", aws_secret_access_key="seed")
if command == "list":
    found, token = [], None
    while True:
        page = hub.get_findings(MaxResults=100, **({"NextToken": token} if token else {}))
        found += [{k: f.get(k) for k in ("Id", "RecordState", "GeneratorId")} for f in page["Findings"]]
        token = page.get("NextToken")
        if not token:
            break
    print(json.dumps(found))
elif command == "stale":
    finding_id, observed = sys.argv[3], sys.argv[4]
    out = hub.batch_import_findings(Findings=[{
        "SchemaVersion": "2018-10-08", "Id": finding_id,
        "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
        "GeneratorId": "tagtrail/product-mismatch", "AwsAccountId": "123456789012",
        "Types": ["Unusual Behaviors/User"], "CreatedAt": observed, "UpdatedAt": observed,
        "FirstObservedAt": observed, "Severity": {"Label": "MEDIUM"}, "Title": "an earlier run's",
        "Description": "d", "RecordState": "ACTIVE",
        "Resources": [{"Type": "Other", "Id": "arn:aws:s3:::gone"}],
    }])
    assert out["SuccessCount"] == 1, out
