#!/usr/bin/env python3
"""Seeds a moto server with tagged principals and resources for tests/it/aws.rs.

Creates more items than one page holds (GetResources pages of 100, IAM pages of 100), so that
tagtrail's pagination is exercised, and prints what it created as JSON: {arn: product or null}.
Usage: seed.py ENDPOINT
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="AKIASEEDSEEDSEED", aws_secret_access_key="seed")
created = {}


def tags(product):
    return [{"Key": "product", "Value": product}, {"Key": "team", "Value": "t"}] if product else [{"Key": "team", "Value": "t"}]


iam = boto3.client("iam", **kw)
for i in range(130):
    product = ["aaa", "bbb", None][i % 3]
    user = iam.create_user(UserName=f"user-{i:03d}", Path="/people/" if i % 2 else "/", Tags=tags(product))
    created[user["User"]["Arn"]] = product
for name, product in [("aaa-app", "aaa"), ("bbb-batch", "bbb"), ("ci-deploy", "platform")]:
    role = iam.create_role(RoleName=name, Path="/service/", AssumeRolePolicyDocument="{}", Tags=tags(product))
    created[role["Role"]["Arn"]] = product

s3 = boto3.client("s3", **kw)
for i in range(120):
    bucket = f"bucket-{i:03d}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags(["aaa", "bbb"][i % 2])})
    created[f"arn:aws:s3:::{bucket}"] = ["aaa", "bbb"][i % 2]

ec2 = boto3.client("ec2", **kw)
for product in ["aaa", "bbb"]:
    r = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                          TagSpecifications=[{"ResourceType": "instance", "Tags": tags(product)}])
    created[f"arn:aws:ec2:us-east-1:123456789012:instance/{r['Instances'][0]['InstanceId']}"] = product

sqs = boto3.client("sqs", **kw)
for name, product in [("aaa-orders", "aaa"), ("bbb-jobs", "bbb")]:
    sqs.create_queue(QueueName=name, tags={"product": product})
    created[f"arn:aws:sqs:us-east-1:123456789012:{name}"] = product

ddb = boto3.client("dynamodb", **kw)
for name, product in [("aaa-sessions", "aaa"), ("bbb-ledger", "bbb")]:
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST", Tags=tags(product))
    created[f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"] = product

sm = boto3.client("secretsmanager", **kw)
for name, product in [("aaa/db-password", "aaa"), ("bbb/api-key", "bbb")]:
    secret = sm.create_secret(Name=name, SecretString="x", Tags=tags(product))
    created[secret["ARN"]] = product

kms = boto3.client("kms", **kw)
key = kms.create_key(Tags=[{"TagKey": "product", "TagValue": "aaa"}, {"TagKey": "team", "TagValue": "t"}])
kms.create_alias(AliasName="alias/aaa-app", TargetKeyId=key["KeyMetadata"]["KeyId"])
created[key["KeyMetadata"]["Arn"]] = "aaa"

print(json.dumps(created, sort_keys=True))
