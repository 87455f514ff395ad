"""Writes CloudTrail's hourly digest files beside a synthetic corpus's log files (tagtrail's
addition to the generated corpus, for bench/integrity.sh): per account and region, one digest
an hour from the first delivery to the last, listing the log files delivered in the hour with
the SHA-256 of their uncompressed content, each naming the one before it with its SHA-256.
Unsigned: a signature lives in S3 metadata, which a local corpus has not got; the
previousDigestSignature fields hold a placeholder.

usage: python3 add_digests.py CORPUS   (writes CORPUS/AWSLogs/<account>/CloudTrail-Digest/...)
"""
import gzip
import hashlib
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone

NAME = re.compile(r"^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4})Z_")


def main(corpus):
    streams = {}
    logs = os.path.join(corpus, "AWSLogs")
    for root, _, files in os.walk(logs):
        for name in files:
            match = NAME.match(name)
            if not match or "/CloudTrail/" not in root + "/":
                continue
            account, region, stamp = match.groups()
            at = datetime.strptime(stamp, "%Y%m%dT%H%M").replace(tzinfo=timezone.utc)
            path = os.path.join(root, name)
            key = os.path.relpath(path, corpus)
            with open(path, "rb") as f:
                sha = hashlib.sha256(gzip.decompress(f.read())).hexdigest()
            streams.setdefault((account, region), []).append((at, key, sha))
    written = 0
    for (account, region), files in sorted(streams.items()):
        files.sort()
        start = files[0][0].replace(minute=0, second=0)
        previous = None
        while start <= files[-1][0]:
            end = start + timedelta(hours=1)
            key = (f"AWSLogs/{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
                   f"{account}_CloudTrail-Digest_{region}_bench_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz")
            digest = {
                "awsAccountId": account,
                "digestStartTime": f"{start:%Y-%m-%dT%H:%M:%SZ}",
                "digestEndTime": f"{end:%Y-%m-%dT%H:%M:%SZ}",
                "digestS3Bucket": "bench-trail", "digestS3Object": key,
                "digestPublicKeyFingerprint": "00000000000000000000000000000000",
                "digestSignatureAlgorithm": "SHA256withRSA",
                "previousDigestS3Bucket": previous and "bench-trail",
                "previousDigestS3Object": previous and previous[0],
                "previousDigestHashValue": previous and previous[1],
                "previousDigestHashAlgorithm": previous and "SHA-256",
                "previousDigestSignature": previous and "00" * 256,
                "logFiles": [{"s3Bucket": "bench-trail", "s3Object": k, "hashValue": sha,
                              "hashAlgorithm": "SHA-256"} for at, k, sha in files if start <= at < end],
            }
            raw = json.dumps(digest, separators=(",", ":")).encode()
            path = os.path.join(corpus, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(gzip.compress(raw, mtime=0))
            previous = (key, hashlib.sha256(raw).hexdigest())
            start = end
            written += 1
    print(f"{written} digest files for {sum(len(f) for f in streams.values())} log files in {len(streams)} streams")


if __name__ == "__main__":
    main(sys.argv[1])
