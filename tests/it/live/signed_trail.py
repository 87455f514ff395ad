"""A trail with log file validation, signed as CloudTrail signs it, for the S3 integrity tests.

    signed_trail.py DIR

Writes under DIR/files/ hours 09 to 13 of 2026-11-21 of account 111122223333 in us-east-1: two
log files an hour (delivered at :30 and :40) and the hour's digest (delivered at the next full
hour) listing them with the SHA-256 of their uncompressed content, chained to the digest before
it. Each digest is signed with SHA256withRSA over CloudTrail's data-to-sign string (its end
time, bucket/key, the hex SHA-256 of its uncompressed content, the previous digest's signature
or `null`) with a fresh RSA key (Python's `cryptography`, independent of tagtrail's own code).
DIR/signatures.json maps each digest key to its hex signature (the S3 metadata `signature`);
DIR/public.json holds the key's fingerprint and its PKCS#1 DER, base64 (as ListPublicKeys).
"""

import base64
import gzip
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

BUCKET = "signed"
ACCOUNT = "111122223333"
REGION = "us-east-1"
DAY = "2026/11/21"
LOGS = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{DAY}/"
DIGESTS = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/{DAY}/"


def main(out):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    fingerprint = hashlib.md5(der).hexdigest()
    files, signatures, previous = {}, {}, None
    for hour in range(9, 14):
        listed = []
        for minute in (30, 40):
            stamp = f"20261121T{hour:02}{minute:02}Z"
            name = f"{LOGS}{ACCOUNT}_CloudTrail_{REGION}_{stamp}_{hour}{minute}.json.gz"
            content = json.dumps({"Records": [{
                "eventVersion": "1.08", "eventID": f"e-{hour}-{minute}",
                "eventTime": f"2026-11-21T{hour:02}:{minute - 5:02}:00Z",
                "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
                "awsRegion": REGION, "recipientAccountId": ACCOUNT,
                "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT,
                                 "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"},
            }]}).encode()
            files[name] = gzip.compress(content)
            listed.append({"s3Bucket": BUCKET, "s3Object": name,
                           "hashValue": hashlib.sha256(content).hexdigest(),
                           "hashAlgorithm": "SHA-256",
                           "newestEventTime": f"2026-11-21T{hour:02}:{minute - 5:02}:00Z",
                           "oldestEventTime": f"2026-11-21T{hour:02}:{minute - 5:02}:00Z"})
        end = f"2026-11-21T{hour + 1:02}:00:00Z"
        name = (f"{DIGESTS}{ACCOUNT}_CloudTrail-Digest_{REGION}_trail_{REGION}_"
                f"20261121T{hour + 1:02}0000Z.json.gz")
        digest = {
            "awsAccountId": ACCOUNT, "digestStartTime": f"2026-11-21T{hour:02}:00:00Z",
            "digestEndTime": end, "digestS3Bucket": BUCKET, "digestS3Object": name,
            "digestPublicKeyFingerprint": fingerprint, "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": end, "oldestEventTime": f"2026-11-21T{hour:02}:00:00Z",
            "previousDigestS3Bucket": BUCKET if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": previous[1] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[2] if previous else None,
            "logFiles": listed,
        }
        content = json.dumps(digest).encode()
        content_hash = hashlib.sha256(content).hexdigest()
        to_sign = f"{end}\n{BUCKET}/{name}\n{content_hash}\n{previous[2] if previous else 'null'}"
        signature = key.sign(to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()
        files[name] = gzip.compress(content)
        signatures[name] = signature
        previous = (name, content_hash, signature)
    for name, data in files.items():
        path = os.path.join(out, "files", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    with open(os.path.join(out, "signatures.json"), "w") as f:
        json.dump(signatures, f)
    with open(os.path.join(out, "public.json"), "w") as f:
        json.dump({"Fingerprint": fingerprint, "Value": base64.b64encode(der).decode()}, f)


if __name__ == "__main__":
    main(sys.argv[1])
