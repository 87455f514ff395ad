"""Runs the scan as SQL: `tagtrail sql --dialect spark` on Apache Spark in local mode (see
scripts/spark-scan), or `tagtrail sql --dialect athena` translated by sqlglot for DuckDB, a
second check of the Athena form's meaning. Both read the trail files loaded into the table
shape `tagtrail sql` documents, the rule tables and the inventory tables, and write
findings.parquet with the scan's schema. TAGTRAIL_SQL_KEEP=1 keeps the work folder (the
query and tables; Spark's steps as Parquet under warehouse/; the DuckDB translation as
sql/query.duckdb.sql)."""

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# The warehouse of the session `--serve` keeps for all its scans (None: one scan, one session).
SERVE_WAREHOUSE = None


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
            elif name == "resources":
                # A field of another shape than the table's is read as NULL, as Spark reads it.
                out[name] = [canonical(r, RESOURCE_NAMES) for r in item if isinstance(r, dict)] \
                    if isinstance(item, list) else None
            elif name == "userIdentity" and not isinstance(item, dict):
                out[name] = None
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


def prepare(args, dialect, work):
    """The query and its tables for `dialect`, the inventory tables, and the trail as JSON
    Lines (each record with the file it came from). Returns the schemas and the record count."""
    sql = [args.tagtrail, "sql", "--dialect", dialect, "--out", f"{work}/sql"]
    for flag in ("rules", "policy", "since", "until"):
        if getattr(args, flag):
            sql += [f"--{flag}", getattr(args, flag)]
    for extra in args.add_rules:
        sql += ["--add-rules", extra]
    if args.exclude_low_confidence:
        sql.append("--exclude-low-confidence")
    subprocess.run(sql, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    subprocess.run([args.tagtrail, "inventory", "export", "--inventory", args.inventory,
                    "--out", f"{work}/inventory"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, text=True)
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
    return schemas, count


def spark_session(warehouse):
    """A local Spark session (the running one if there is one: `--serve` keeps it)."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("tagtrail")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", os.environ.get("TAGTRAIL_SPARK_MEMORY", "4g"))
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", os.environ.get("TAGTRAIL_SPARK_PARTITIONS", "8"))
             .config("spark.sql.warehouse.dir", warehouse)
             .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MILLIS")
             # Not Snappy: snappy-java takes a glibc host with musl installed (musl-tools, for
             # static release builds) for a musl one and fails to load its native library.
             .config("spark.sql.parquet.compression.codec", "zstd")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_spark(args, work, schemas):
    """Spark's form of the query: each step written as a table, then the findings."""
    spark = spark_session(SERVE_WAREHOUSE or f"{work}/warehouse")
    (spark.read.schema(schemas.pop("cloudtrail") + ", tagtrail_source STRING")
     .json(f"{work}/records").createOrReplaceTempView("cloudtrail"))
    for table, schema in schemas.items():
        spark.read.schema(schema).json(f"{work}/sql/{table}").createOrReplaceTempView(table)
    for table in ("inventory", "kms_aliases"):
        spark.read.parquet(f"{work}/inventory/{table}.parquet").createOrReplaceTempView(f"tagtrail_{table}")
    statements = [s.strip() for s in open(f"{work}/sql/query.sql").read().split("\n;\n")]
    statements = [s for s in statements if s and not all(
        line.startswith("--") for line in s.splitlines())]
    for statement in statements[:-1]:
        began = time.time()
        spark.sql(statement)
        if os.environ.get("TAGTRAIL_SPARK_TRACE"):
            print(f"{time.time() - began:6.2f} s  {statement.split(chr(10), 1)[0]}", file=sys.stderr, flush=True)
    findings = spark.sql(statements[-1])
    findings.coalesce(1).write.mode("overwrite").parquet(f"{work}/findings")
    part = next(f for f in os.listdir(f"{work}/findings") if f.endswith(".parquet"))
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, "findings.parquet")
    shutil.move(f"{work}/findings/{part}", out)
    rows = spark.read.parquet(out).count()
    if not SERVE_WAREHOUSE:
        spark.stop()
    return rows


def duckdb_type(spark_type):
    """A Spark DDL type in DuckDB's spelling."""
    t = spark_type.strip()
    if t.upper().startswith("STRUCT<"):
        return "STRUCT(" + ", ".join(f'"{name}" {duckdb_type(kind)}'
                                     for name, kind in split_fields(t[7:-1])) + ")"
    if t.upper().startswith("ARRAY<"):
        return duckdb_type(t[6:-1]) + "[]"
    if t.upper().startswith("MAP<"):
        key, value = split_top(t[4:-1], ",")
        return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"
    return {"STRING": "VARCHAR", "TIMESTAMP": "TIMESTAMPTZ", "INT": "INTEGER",
            "BOOLEAN": "BOOLEAN", "BIGINT": "BIGINT"}[re.sub(r"\s+", "", t).upper()]


def split_top(text, sep):
    """`text` split at `sep` outside angle brackets."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"<": 1, ">": -1}.get(c, 0)
        if c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def split_fields(text):
    """`a: T, b T` (a struct's fields, or a schema) → [(a, T), (b, T)]."""
    fields = []
    for field in split_top(text, ","):
        name, kind = field.replace(":", " ", 1).split(None, 1) if ":" in field.split("<")[0] \
            else field.split(None, 1)
        fields.append((name.strip("`"), kind))
    return fields


def run_duckdb(args, work, schemas):
    """The Athena form translated by sqlglot (Trino → DuckDB) and run by DuckDB."""
    import duckdb
    import sqlglot

    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    columns = {name: duckdb_type(kind) for name, kind in
               split_fields(schemas.pop("cloudtrail") + ", tagtrail_source STRING")}
    # Athena's `$path`, which sqlglot writes as a column of that name.
    db.execute(f"CREATE TABLE cloudtrail AS SELECT *, tagtrail_source AS \"$path\" FROM read_json(?, "
               f"format = 'newline_delimited', columns = {duckdb_struct(columns)})",
               [f"{work}/records/records.jsonl"])
    for table, schema in schemas.items():
        cols = {name: duckdb_type(kind) for name, kind in split_fields(schema)}
        db.execute(f"CREATE TABLE {table} AS SELECT * FROM read_json(?, format = 'newline_delimited', "
                   f"columns = {duckdb_struct(cols)})", [f"{work}/sql/{table}/{table}.jsonl"])
    for table in ("inventory", "kms_aliases"):
        db.execute(f"CREATE TABLE tagtrail_{table} AS SELECT * FROM read_parquet(?)",
                   [f"{work}/inventory/{table}.parquet"])
    query = sqlglot.transpile(open(f"{work}/sql/query.sql").read(), read="trino", write="duckdb")[0]
    open(f"{work}/sql/query.duckdb.sql", "w").write(query)
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, "findings.parquet")
    quoted = out.replace("'", "''")
    db.execute(f"COPY ({query}) TO '{quoted}' (FORMAT parquet)")
    return db.execute("SELECT count(*) FROM read_parquet(?)", [out]).fetchone()[0]


def duckdb_struct(columns):
    """A `columns` argument of read_json."""
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def serve(common):
    """Many scans on one Spark session, as the test suite runs them: each line of stdin is a
    JSON array of arguments (after `common`, the command line's); each answer one JSON line on
    stdout with `ok`, `stdout` (what the scan printed) and `error`. Starting Spark costs more
    than most scans."""
    global SERVE_WAREHOUSE
    import contextlib
    import io
    import traceback

    SERVE_WAREHOUSE = tempfile.mkdtemp(prefix="tagtrail-spark-warehouse-")
    # Answers go to the original stdout; anything else that writes there (the JVM) to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        for line in sys.stdin:
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    scan(common + json.loads(line))
                answer = {"ok": True, "stdout": printed.getvalue(), "error": ""}
            except BaseException as e:  # noqa: BLE001 - every failure is the caller's answer
                error = traceback.format_exc() + (getattr(e, "stderr", None) or "")
                answer = {"ok": False, "stdout": printed.getvalue(), "error": error}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
    finally:
        shutil.rmtree(SERVE_WAREHOUSE, ignore_errors=True)


def main():
    argv = sys.argv[1:]
    if "--serve" in argv:
        return serve([a for a in argv if a != "--serve"])
    try:
        return scan(argv)
    except subprocess.CalledProcessError as e:
        sys.exit(f"{' '.join(e.cmd)} failed:\n{e.stderr}")


def scan(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--engine", choices=["spark", "duckdb"], default="spark")
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tagtrail", required=True)
    ap.add_argument("--rules")
    ap.add_argument("--add-rules", action="append", default=[])
    ap.add_argument("--policy")
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--exclude-low-confidence", action="store_true")
    args = ap.parse_args(argv)

    work = tempfile.mkdtemp(prefix=f"tagtrail-{args.engine}-")
    try:
        dialect = "spark" if args.engine == "spark" else "athena"
        schemas, count = prepare(args, dialect, work)
        started = time.time()
        run = run_spark if args.engine == "spark" else run_duckdb
        rows = run(args, work, schemas)
        print(f"records {count}, findings {rows}, {args.engine} {time.time() - started:.1f} s "
              f"-> {os.path.join(args.out, 'findings.parquet')}")
    finally:
        if os.environ.get("TAGTRAIL_SQL_KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
