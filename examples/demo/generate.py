#!/usr/bin/env python3
"""Writes the tagtrail demo: a small trail in the S3 layout and its tag inventory.

Deterministic (fixed ids, gzip mtime 0): running it again gives the same bytes, but for the
digests' signatures (a throwaway RSA key made by `openssl` each run, as CloudTrail's region key
would sign them; the private key is not kept). The committed files under trail/ and inventory/
are its output; edit this script, not them.

Products `aaa` and `bbb` (and `shared`), two accounts, two regions, three days. Most calls stay
within their product; a handful cross it (see VIOLATIONS below, checked by tests/it/scan.rs).
"""
import gzip, hashlib, io, json, os, shutil, subprocess, tempfile, uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
A1, A2 = "401234567890", "402345678901"
NS = uuid.UUID("6f1b2c3d-0000-4000-8000-000000000000")

def iam(account, kind, name, path="/"):
    return f"arn:aws:iam::{account}:{kind}{path}{name}"

ALICE = iam(A1, "user", "alice")
BOB = iam(A1, "user", "bob")
CAROL = iam(A1, "user", "carol")
AAA_APP = iam(A1, "role", "aaa-app", "/service/")
BBB_BATCH = iam(A2, "role", "bbb-batch")
CI = iam(A1, "role", "ci-deploy")
SSO = iam(A1, "role", "AWSReservedSSO_AdminAccess_2b1c3d4e5f6a7b8c", "/aws-reserved/sso.amazonaws.com/")

INSTANCE_AAA = "i-0aaa1111111111111"
INSTANCE_BBB = "i-0bbb2222222222222"
INSTANCE_GONE = "i-0ccc3333333333333"
SECRET_AAA = f"arn:aws:secretsmanager:us-east-1:{A1}:secret:aaa/db-password-AbC123"
SECRET_BBB = f"arn:aws:secretsmanager:us-east-1:{A1}:secret:bbb/api-key-XyZ789"
KEY_AAA = f"arn:aws:kms:us-east-1:{A1}:key/5a0c7a8e-1f2b-4c3d-9e8f-0a1b2c3d4e5f"

RESOURCES = [
    (f"arn:aws:ec2:us-east-1:{A1}:instance/{INSTANCE_AAA}", "aaa"),
    (f"arn:aws:ec2:us-east-1:{A1}:instance/{INSTANCE_BBB}", "bbb"),
    ("arn:aws:s3:::aaa-data", "aaa"),
    ("arn:aws:s3:::bbb-reports", "bbb"),
    ("arn:aws:s3:::shared-artifacts", "shared"),
    ("arn:aws:s3:::logs-untagged", None),
    (f"arn:aws:lambda:us-east-1:{A1}:function:aaa-api", "aaa"),
    (f"arn:aws:lambda:eu-west-1:{A2}:function:bbb-worker", "bbb"),
    (f"arn:aws:sqs:us-east-1:{A1}:aaa-orders", "aaa"),
    (f"arn:aws:sqs:eu-west-1:{A2}:bbb-jobs", "bbb"),
    (SECRET_AAA, "aaa"),
    (SECRET_BBB, "bbb"),
    (f"arn:aws:dynamodb:us-east-1:{A1}:table/aaa-sessions", "aaa"),
    (KEY_AAA, "aaa"),
    (f"arn:aws:ssm:eu-west-1:{A2}:parameter/bbb/config", "bbb"),
]
PRINCIPALS = [  # (arn, product, user?)
    (ALICE, "aaa", True), (BOB, "bbb", True), (CAROL, None, True),
    (AAA_APP, "aaa", False), (BBB_BATCH, "bbb", False), (CI, "platform", False), (SSO, "aaa", False),
]

def tags(product, extra=()):
    out = [{"Key": "team", "Value": "demo"}] + list(extra)
    if product:
        out.insert(0, {"Key": "product", "Value": product})
    return out

def identity(arn, key="AKIADEMO0000000EXAMPLE"):
    account = arn.split(":")[4]
    kind, rest = arn.split(":")[5].split("/", 1)
    if kind == "user":
        name = rest.split("/")[-1]
        return {"type": "IAMUser", "principalId": "AIDADEMO" + name.upper(), "arn": arn,
                "accountId": account, "accessKeyId": key, "userName": name}
    name = rest.split("/")[-1]
    return {"type": "AssumedRole", "principalId": f"AROADEMO:{name}-session",
            "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{name}-session",
            "accountId": account, "accessKeyId": "ASIADEMO0000000EXAMPLE",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROADEMO", "arn": arn,
                                                 "accountId": account, "userName": name},
                               "attributes": {"creationDate": "2026-11-20T00:00:00Z", "mfaAuthenticated": "false"}}}

SERVICE = {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}

EVENTS = []  # (day, hh:mm:ss, region, recipient, identity, source, name, request, resources, response, error)

def ev(day, time, region, recipient, who, source, name, request=None, resources=None, response=None, error=None):
    EVENTS.append((day, time, region, recipient, who, source, name, request, resources, response, error))

def obj(bucket, key, account):
    return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]

Q_AAA = f"https://sqs.us-east-1.amazonaws.com/{A1}/aaa-orders"
Q_BBB = f"https://sqs.eu-west-1.amazonaws.com/{A2}/bbb-jobs"

for day in (20, 21, 22):
    # Matches: each principal within its product, every day.
    ev(day, "08:01:10", "us-east-1", A1, identity(ALICE), "ec2.amazonaws.com", "StartInstances",
       {"instancesSet": {"items": [{"instanceId": INSTANCE_AAA}]}})
    ev(day, "08:05:00", "us-east-1", A1, identity(ALICE), "s3.amazonaws.com", "GetObject",
       {"bucketName": "aaa-data", "key": f"daily/{day}.parquet"}, obj("aaa-data", f"daily/{day}.parquet", A1))
    ev(day, "09:00:00", "us-east-1", A1, identity(AAA_APP), "secretsmanager.amazonaws.com", "GetSecretValue",
       {"secretId": "aaa/db-password"})
    ev(day, "09:00:05", "us-east-1", A1, identity(AAA_APP), "sqs.amazonaws.com", "SendMessage",
       {"queueUrl": Q_AAA, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"})
    ev(day, "09:00:06", "us-east-1", A1, identity(AAA_APP), "dynamodb.amazonaws.com", "PutItem",
       {"tableName": "aaa-sessions", "key": {"id": "HIDDEN_DUE_TO_SECURITY_REASONS"}},
       [{"accountId": A1, "type": "AWS::DynamoDB::Table", "ARN": f"arn:aws:dynamodb:us-east-1:{A1}:table/aaa-sessions"}])
    ev(day, "09:00:07", "us-east-1", A1, identity(AAA_APP), "kms.amazonaws.com", "Decrypt",
       {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, [{"accountId": A1, "type": "AWS::KMS::Key", "ARN": KEY_AAA}])
    ev(day, "10:15:00", "us-east-1", A1, identity(BOB), "s3.amazonaws.com", "GetObject",
       {"bucketName": "bbb-reports", "key": f"2026/{day}.csv"}, obj("bbb-reports", f"2026/{day}.csv", A1))
    ev(day, "10:20:00", "eu-west-1", A2, identity(BBB_BATCH), "sqs.amazonaws.com", "ReceiveMessage",
       {"queueUrl": Q_BBB, "maxNumberOfMessages": 10})
    ev(day, "10:21:00", "eu-west-1", A2, identity(BBB_BATCH), "lambda.amazonaws.com", "Invoke",
       {"functionName": f"arn:aws:lambda:eu-west-1:{A2}:function:bbb-worker"},
       [{"accountId": A2, "type": "AWS::Lambda::Function", "ARN": f"arn:aws:lambda:eu-west-1:{A2}:function:bbb-worker"}])
    ev(day, "10:22:00", "eu-west-1", A2, identity(BBB_BATCH), "ssm.amazonaws.com", "GetParameter",
       {"name": "/bbb/config", "withDecryption": True})
    # Shared and platform access, allowed by the demo policy.
    ev(day, "11:00:00", "us-east-1", A1, identity(ALICE), "s3.amazonaws.com", "GetObject",
       {"bucketName": "shared-artifacts", "key": "tools/cli.tgz"}, obj("shared-artifacts", "tools/cli.tgz", A1))
    # AWS services acting on their own: counted, not judged.
    ev(day, "12:00:00", "us-east-1", A1, SERVICE, "sts.amazonaws.com", "AssumeRole",
       {"roleArn": AAA_APP, "roleSessionName": "aaa-app-session"},
       [{"accountId": A1, "type": "AWS::IAM::Role", "ARN": AAA_APP}])
    # A call that targets no resource.
    ev(day, "12:30:00", "us-east-1", A1, identity(ALICE), "s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"})

# The violations (product-mismatch), one or two a day.
ev(20, "14:02:11", "us-east-1", A1, identity(BOB), "ec2.amazonaws.com", "StopInstances",
   {"instancesSet": {"items": [{"instanceId": INSTANCE_AAA}]}, "force": False})
ev(20, "15:30:00", "us-east-1", A1, identity(AAA_APP), "s3.amazonaws.com", "GetObject",
   {"bucketName": "bbb-reports", "key": "2026/q3.csv"}, obj("bbb-reports", "2026/q3.csv", A1))
ev(21, "09:45:00", "us-east-1", A1, identity(ALICE), "secretsmanager.amazonaws.com", "GetSecretValue",
   {"secretId": "bbb/api-key"})
ev(21, "16:00:00", "us-east-1", A1, identity(BBB_BATCH), "sqs.amazonaws.com", "SendMessage",
   {"queueUrl": Q_AAA, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"})
ev(22, "07:30:00", "us-east-1", A1, identity(BOB), "s3.amazonaws.com", "DeleteObject",
   {"bucketName": "aaa-data", "key": "daily/21.parquet"}, obj("aaa-data", "daily/21.parquet", A1), error="AccessDenied")
ev(22, "13:13:13", "eu-west-1", A2, identity(SSO), "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2",
   {"functionName": "bbb-worker", "timeout": 900})

# Other findings.
ev(21, "11:11:11", "us-east-1", A1, identity(CAROL), "ec2.amazonaws.com", "DescribeInstances",
   {"instancesSet": {"items": [{"instanceId": INSTANCE_BBB}]}})
ev(21, "11:20:00", "us-east-1", A1, identity(ALICE), "s3.amazonaws.com", "GetBucketAcl",
   {"bucketName": "logs-untagged", "acl": ""})
ev(22, "08:00:00", "us-east-1", A1, identity(ALICE), "ec2.amazonaws.com", "TerminateInstances",
   {"instancesSet": {"items": [{"instanceId": INSTANCE_GONE}]}})
ev(22, "08:30:00", "us-east-1", A1, identity(ALICE), "bedrock.amazonaws.com", "InvokeModel",
   {"modelId": "anthropic.claude-v2"})
# The CI role deploys both products: allowed by the policy.
ev(22, "18:00:00", "us-east-1", A1, identity(CI), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
   {"functionName": "aaa-api", "publish": True})
ev(22, "18:00:30", "eu-west-1", A2, identity(CI), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
   {"functionName": f"arn:aws:lambda:eu-west-1:{A2}:function:bbb-worker", "publish": True})


def record(i, e):
    day, time, region, recipient, who, source, name, request, resources, response, error = e
    r = {"eventVersion": "1.09", "userIdentity": who, "eventTime": f"2026-11-{day}T{time}Z",
         "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": "198.51.100.7",
         "userAgent": "aws-cli/2.22.0", "requestParameters": request, "responseElements": response,
         "requestID": str(uuid.uuid5(NS, f"req-{i}")).upper(), "eventID": str(uuid.uuid5(NS, f"event-{i}")),
         "readOnly": name.startswith(("Get", "Describe", "List", "Receive", "Decrypt")),
         "eventType": "AwsApiCall", "managementEvent": resources is None or source not in ("s3.amazonaws.com", "lambda.amazonaws.com", "dynamodb.amazonaws.com"),
         "recipientAccountId": recipient, "eventCategory": "Management"}
    if who is SERVICE:
        r["sourceIPAddress"] = "lambda.amazonaws.com"
        r["eventType"] = "AwsServiceEvent" if False else "AwsApiCall"
    if resources is not None:
        r["resources"] = resources
    if error:
        r["errorCode"] = error
        r["errorMessage"] = "Access Denied"
    return r


def write_gz(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw = json.dumps(obj, indent=None, separators=(",", ":")).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(raw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return raw


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_digests(trail, logs):
    """CloudTrail's hourly digest files for each stream, as log file validation writes them:
    each lists the log files delivered in its hour with the SHA-256 of their uncompressed
    content, names the digest before it with its SHA-256 and signature, and is signed
    (SHA256withRSA over CloudTrail's data-to-sign string) with a throwaway key."""
    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "rsa", "-in", key, "-RSAPublicKey_out", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        fingerprint = hashlib.md5(der).hexdigest()

        def sign(text):
            return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=text.encode(),
                                  check=True, capture_output=True).stdout.hex()

        first = datetime(2026, 11, 20, 22, 59, tzinfo=timezone.utc)
        for (account, region), files in sorted(logs.items()):
            previous = None
            for hour in range(49):
                start, end = first + timedelta(hours=hour), first + timedelta(hours=hour + 1)
                listed = [(k, raw) for at, k, raw in files if start <= at < end]
                key_name = (f"AWSLogs/{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
                            f"{account}_CloudTrail-Digest_{region}_demo_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz")
                times = sorted(r["eventTime"] for _, raw in listed for r in json.loads(raw)["Records"])
                digest = {
                    "awsAccountId": account, "digestStartTime": stamp(start), "digestEndTime": stamp(end),
                    "digestS3Bucket": "demo-trail", "digestS3Object": key_name,
                    "digestPublicKeyFingerprint": fingerprint, "digestSignatureAlgorithm": "SHA256withRSA",
                    "newestEventTime": times[-1] if times else None, "oldestEventTime": times[0] if times else None,
                    "previousDigestS3Bucket": previous and "demo-trail",
                    "previousDigestS3Object": previous and previous[0],
                    "previousDigestHashValue": previous and previous[1],
                    "previousDigestHashAlgorithm": previous and "SHA-256",
                    "previousDigestSignature": previous and previous[2],
                    "logFiles": [{"s3Bucket": "demo-trail", "s3Object": k, "hashValue": hashlib.sha256(raw).hexdigest(),
                                  "hashAlgorithm": "SHA-256"} for k, raw in listed],
                }
                raw = write_gz(os.path.join(trail, key_name), digest)
                content_hash = hashlib.sha256(raw).hexdigest()
                signature = sign(f"{digest['digestEndTime']}\ndemo-trail/{key_name}\n{content_hash}\n"
                                 f"{previous[2] if previous else 'null'}")
                previous = (key_name, content_hash, signature)


def main():
    trail = os.path.join(HERE, "trail")
    shutil.rmtree(trail, ignore_errors=True)
    files, logs = {}, {}
    for i, e in enumerate(EVENTS):
        day, _, region, recipient = e[0], e[1], e[2], e[3]
        files.setdefault((recipient, region, day), []).append(record(i, e))
    for (account, region, day), records in sorted(files.items()):
        records.sort(key=lambda r: r["eventTime"])
        folder = os.path.join(trail, "AWSLogs", account, "CloudTrail", region, "2026", "11", f"{day:02d}")
        name = f"{account}_CloudTrail_{region}_202611{day:02d}T2355Z_demo{day}{region[-1]}.json.gz"
        raw = write_gz(os.path.join(folder, name), {"Records": records})
        key = f"AWSLogs/{account}/CloudTrail/{region}/2026/11/{day:02d}/{name}"
        logs.setdefault((account, region), []).append((datetime(2026, 11, day, 23, 55, tzinfo=timezone.utc), key, raw))
    write_digests(trail, logs)
    inventory = os.path.join(HERE, "inventory")
    os.makedirs(inventory, exist_ok=True)
    with open(os.path.join(inventory, "resources.json"), "w") as f:
        json.dump({"ResourceTagMappingList": [{"ResourceARN": arn, "Tags": tags(p)} for arn, p in RESOURCES],
                   "PaginationToken": ""}, f, indent=2)
        f.write("\n")
    users = [{"Path": "/", "UserName": a.rsplit("/", 1)[1], "UserId": "AIDADEMO" + a.rsplit("/", 1)[1].upper(),
              "Arn": a, "Tags": tags(p)} for a, p, user in PRINCIPALS if user]
    roles = []
    for a, p, user in PRINCIPALS:
        if user:
            continue
        path = "/" + a.split(":role/", 1)[1].rsplit("/", 1)[0] + "/" if a.split(":role/", 1)[1].count("/") else "/"
        roles.append({"Path": path.replace("//", "/"), "RoleName": a.rsplit("/", 1)[1], "RoleId": "AROADEMO",
                      "Arn": a, "Tags": tags(p)})
    with open(os.path.join(inventory, "account-authorization-details.json"), "w") as f:
        json.dump({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": [],
                   "IsTruncated": False}, f, indent=2)
        f.write("\n")
    print(f"{len(EVENTS)} records in {len(files)} trail files")


if __name__ == "__main__":
    main()
