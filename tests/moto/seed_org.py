#!/usr/bin/env python3
"""Seeds a moto server with an organisation for tests/it/aws.rs: the management account and
three member accounts, each member with a tagged bucket and a tagged user created through
AssumeRole into it (moto keeps state per account). Prints {"accounts": [...], "created":
{arn: product}}. Usage: seed_org.py ENDPOINT
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
root = dict(aws_access_key_id="AKIASEEDSEEDSEED", aws_secret_access_key="seed", **kw)
org = boto3.client("organizations", **root)
org.create_organization(FeatureSet="ALL")
accounts, created = [], {}
for i, product in enumerate(["aaa", "bbb", "ccc"]):
    status = org.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")["CreateAccountStatus"]
    account = status["AccountId"]
    accounts.append(account)
    creds = boto3.client("sts", **root).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="seed")["Credentials"]
    member = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"], **kw)
    s3 = boto3.client("s3", **member)
    s3.create_bucket(Bucket=f"member-{i}-data")
    s3.put_bucket_tagging(Bucket=f"member-{i}-data", Tagging={"TagSet": [{"Key": "product", "Value": product}]})
    created[f"arn:aws:s3:::member-{i}-data"] = product
    user = boto3.client("iam", **member).create_user(UserName=f"dev-{i}", Tags=[{"Key": "product", "Value": product}])
    created[user["User"]["Arn"]] = product
print(json.dumps({"accounts": accounts, "created": created}, sort_keys=True))
