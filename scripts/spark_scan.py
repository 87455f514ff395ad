"""Runs `tagtrail sql --dialect spark` on Apache Spark in local mode (see scripts/spark-scan)."""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def records_of(path):
    """The CloudTrail records of one file: the S3 layout's `Records[]`, one record, a JSON
    array of records, or JSON Lines of either."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            yield from (r for r in doc["Records"] if isinstance(r, dict))
        elif isinstance(doc, list):
            yield from (r for r in doc if isinstance(r, dict))
        elif isinstance(doc, dict) and "eventSource" in doc:
            yield doc


# The fields of a `resources[]` entry, whose `ARN` differs from userIdentity's `arn`.
RESOURCE_NAMES = {"arn": "ARN", "arnprefix": "ARNPrefix", "accountid": "accountId", "type": "type"}


def field_names(schema):
    """Every field name of a Spark DDL schema (but a resource's), lower-cased → as written."""
    import re
    names = re.findall(r"`?([A-Za-z0-9_]+)`?\s*:?\s+(?=[A-Z])", schema)
    return {n.lower(): n for n in names if n not in ("ARN", "ARNPrefix")}


def canonical(value, names):
    """Keys renamed to the schema's spelling, as Athena's JSON SerDe reads them in any case.
    Only structs are renamed: the JSON text of requestParameters and the like is kept."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = names.get(key.lower(), key)
            keep_text = name in ("requestParameters", "responseElements", "additionalEventData",
                                 "serviceEventDetails")
            if keep_text:
                out[name] = item
            elif name == "resources" and isinstance(item, list):
                out[name] = [canonical(r, RESOURCE_NAMES) for r in item]
            else:
                out[name] = canonical(item, names)
        return out
    if isinstance(value, list):
        return [canonical(item, names) for item in value]
    return value


def inputs(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                for name in sorted(files):
                    if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz", ".gz")):
                        yield os.path.join(root, name)
        else:
            yield path


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tagtrail", required=True)
    ap.add_argument("--rules")
    ap.add_argument("--add-rules", action="append", default=[])
    ap.add_argument("--policy")
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--exclude-low-confidence", action="store_true")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="tagtrail-spark-")
    try:
        sql = [args.tagtrail, "sql", "--dialect", "spark", "--out", f"{work}/sql"]
        for flag in ("rules", "policy", "since", "until"):
            if getattr(args, flag):
                sql += [f"--{flag}", getattr(args, flag)]
        for extra in args.add_rules:
            sql += ["--add-rules", extra]
        if args.exclude_low_confidence:
            sql.append("--exclude-low-confidence")
        subprocess.run(sql, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.tagtrail, "inventory", "export", "--inventory", args.inventory,
                        "--out", f"{work}/inventory"], check=True, stdout=subprocess.DEVNULL)

        # The trail as JSON Lines, each record with the file it came from.
        os.makedirs(f"{work}/records")
        schemas = json.load(open(f"{work}/sql/schemas.json"))
        names = field_names(schemas["cloudtrail"])
        count = 0
        with open(f"{work}/records/records.jsonl", "w") as out:
            for path in inputs(args.paths):
                for record in records_of(path):
                    record = canonical(record, names)
                    record["tagtrail_source"] = path
                    out.write(json.dumps(record) + "\n")
                    count += 1

        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master("local[2]").appName("tagtrail")
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", os.environ.get("TAGTRAIL_SPARK_MEMORY", "4g"))
                 .config("spark.driver.host", "127.0.0.1")
                 .config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.shuffle.partitions", "8")
                 .config("spark.sql.warehouse.dir", f"{work}/warehouse")
                 .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MILLIS")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        started = time.time()
        (spark.read.schema(schemas.pop("cloudtrail") + ", tagtrail_source STRING")
         .json(f"{work}/records").createOrReplaceTempView("cloudtrail"))
        for table, schema in schemas.items():
            spark.read.schema(schema).json(f"{work}/sql/{table}").createOrReplaceTempView(table)
        spark.read.parquet(f"{work}/inventory/inventory.parquet").createOrReplaceTempView("tagtrail_inventory")
        spark.read.parquet(f"{work}/inventory/kms_aliases.parquet").createOrReplaceTempView("tagtrail_kms_aliases")
        # Spark's form of the query: each step written as a table, then the findings.
        statements = [s.strip() for s in open(f"{work}/sql/query.sql").read().split("\n;\n")]
        statements = [s for s in statements if s and not all(
            line.startswith("--") for line in s.splitlines())]
        for statement in statements[:-1]:
            if os.environ.get("TAGTRAIL_SPARK_TRACE"):
                print(statement.split("\n", 1)[0], file=sys.stderr, flush=True)
            spark.sql(statement)
        findings = spark.sql(statements[-1])
        findings.coalesce(1).write.mode("overwrite").parquet(f"{work}/findings")
        part = next(f for f in os.listdir(f"{work}/findings") if f.endswith(".parquet"))
        os.makedirs(args.out, exist_ok=True)
        shutil.move(f"{work}/findings/{part}", os.path.join(args.out, "findings.parquet"))
        rows = spark.read.parquet(os.path.join(args.out, "findings.parquet")).count()
        print(f"records {count}, findings {rows}, spark {time.time() - started:.1f} s "
              f"-> {os.path.join(args.out, 'findings.parquet')}")
        spark.stop()
    finally:
        if os.environ.get("TAGTRAIL_SPARK_KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
