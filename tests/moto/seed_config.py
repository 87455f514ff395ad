#!/usr/bin/env python3
"""Seeds a moto server with resources moto's AWS Config records, for tests/it/aws.rs: an S3
bucket (aaa), an SNS topic (ccc) and an IAM role (bbb). moto keeps one configuration item per
resource, not a history, and writes capture times as text and a role's tags as a list, which
tagtrail reads leniently. Prints {arn: product}. Usage: seed_config.py ENDPOINT
"""
import json
import sys

import boto3

kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="AKIASEEDSEEDSEED", aws_secret_access_key="seed")
created = {}
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="config-aaa")
s3.put_bucket_tagging(Bucket="config-aaa", Tagging={"TagSet": [{"Key": "product", "Value": "aaa"}]})
created["arn:aws:s3:::config-aaa"] = "aaa"
sns = boto3.client("sns", **kw)
topic = sns.create_topic(Name="config-ccc", Tags=[{"Key": "product", "Value": "ccc"}])
created[topic["TopicArn"]] = "ccc"
iam = boto3.client("iam", **kw)
role = iam.create_role(RoleName="config-bbb", AssumeRolePolicyDocument="{}", Tags=[{"Key": "product", "Value": "bbb"}])
created[role["Role"]["Arn"]] = "bbb"
print(json.dumps(created, sort_keys=True))
