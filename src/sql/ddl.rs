//! Every table's DDL: the tables the query reads (the CloudTrail table as AWS documents it for
//! Athena, with partition projection over the trail's `AWSLogs/.../CloudTrail/<region>/YYYY/MM/DD`
//! layout; the rule tables; the inventory tables), and the findings table a report folder
//! makes (`tagtrail report ddl`, for Athena or DuckDB).

use crate::report::inventory_tables::{ALIAS_SCHEMA, INVENTORY_SCHEMA};

use super::rules::TABLES;
use crate::report::SCHEMA;

/// The columns of the CloudTrail table (Athena's documented table, plus `ARNPrefix` in
/// `resources`, which S3 data events log). Names as CloudTrail spells them: Athena and Spark
/// resolve columns in any case, and Spark's JSON reader matches fields exactly.
pub const TRAIL_COLUMNS: &[(&str, &str)] = &[
    ("eventVersion", "STRING"),
    (
        "userIdentity",
        "STRUCT<type: STRING, principalId: STRING, arn: STRING, accountId: STRING, invokedBy: STRING, \
         accessKeyId: STRING, userName: STRING, onBehalfOf: STRUCT<userId: STRING, identityStoreArn: STRING>, \
         sessionContext: STRUCT<attributes: STRUCT<mfaAuthenticated: STRING, creationDate: STRING>, \
         sessionIssuer: STRUCT<type: STRING, principalId: STRING, arn: STRING, accountId: STRING, userName: STRING>, \
         ec2RoleDelivery: STRING, webIdFederationData: STRUCT<federatedProvider: STRING, attributes: MAP<STRING, STRING>>>>",
    ),
    ("eventTime", "STRING"),
    ("eventSource", "STRING"),
    ("eventName", "STRING"),
    ("awsRegion", "STRING"),
    ("sourceIPAddress", "STRING"),
    ("userAgent", "STRING"),
    ("errorCode", "STRING"),
    ("errorMessage", "STRING"),
    ("requestParameters", "STRING"),
    ("responseElements", "STRING"),
    ("additionalEventData", "STRING"),
    ("requestID", "STRING"),
    ("eventID", "STRING"),
    ("readOnly", "STRING"),
    (
        "resources",
        "ARRAY<STRUCT<ARN: STRING, accountId: STRING, type: STRING, ARNPrefix: STRING>>",
    ),
    ("eventType", "STRING"),
    ("apiVersion", "STRING"),
    ("recipientAccountId", "STRING"),
    ("serviceEventDetails", "STRING"),
    ("sharedEventID", "STRING"),
    ("vpcEndpointId", "STRING"),
    ("eventCategory", "STRING"),
    (
        "addendum",
        "STRUCT<reason: STRING, updatedFields: STRING, originalRequestID: STRING, originalEventID: STRING>",
    ),
];

/// The CloudTrail table's schema in Spark's DDL form (`name type, ...`).
pub fn trail_schema() -> String {
    column_list(TRAIL_COLUMNS.iter().copied(), ", ")
}

/// `` `name` type `` for each column, joined by `separator`: a table's columns in DDL.
fn column_list<'a>(columns: impl Iterator<Item = (&'a str, &'a str)>, separator: &str) -> String {
    columns
        .map(|(name, kind)| format!("`{name}` {kind}"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Where the trail lies and which of its partitions exist.
#[derive(Debug, Clone)]
pub struct TrailLayout {
    /// `s3://bucket/prefix`: the folder that holds `AWSLogs/`.
    pub location: String,
    /// An organization trail's id (`o-...`): its folders are `AWSLogs/<org>/<account>/...`.
    pub organization: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The first day of the projection, `YYYY/MM/DD`.
    pub start: String,
}

/// `CREATE EXTERNAL TABLE cloudtrail` for Athena, partitioned by account, region and day
/// with partition projection, so new days need no `ALTER TABLE ADD PARTITION`.
pub fn trail_table_ddl(layout: &TrailLayout) -> String {
    let root = layout.location.trim_end_matches('/');
    let org = layout
        .organization
        .as_deref()
        .map(|o| format!("{o}/"))
        .unwrap_or_default();
    let columns = column_list(TRAIL_COLUMNS.iter().copied(), ",\n  ");
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS cloudtrail (\n  {columns}\n)\n\
         PARTITIONED BY (`account` string, `region` string, `timestamp` string)\n\
         ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n\
         STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n\
         OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n\
         LOCATION '{root}/AWSLogs/{org}'\n\
         TBLPROPERTIES (\n\
         \x20 'projection.enabled' = 'true',\n\
         \x20 'projection.account.type' = 'enum',\n\
         \x20 'projection.account.values' = '{accounts}',\n\
         \x20 'projection.region.type' = 'enum',\n\
         \x20 'projection.region.values' = '{regions}',\n\
         \x20 'projection.timestamp.type' = 'date',\n\
         \x20 'projection.timestamp.format' = 'yyyy/MM/dd',\n\
         \x20 'projection.timestamp.range' = '{start},NOW',\n\
         \x20 'projection.timestamp.interval' = '1',\n\
         \x20 'projection.timestamp.interval.unit' = 'DAYS',\n\
         \x20 'storage.location.template' = '{root}/AWSLogs/{org}${{account}}/CloudTrail/${{region}}/${{timestamp}}'\n\
         );\n",
        accounts = layout.accounts.join(","),
        regions = layout.regions.join(","),
        start = layout.start,
    )
}

/// The columns of a table of tagtrail's (kinds `int`, `boolean`, `timestamp`, `string`) in
/// Hive's types, as Athena's DDL and Spark's schemas write them.
fn hive_columns<'a>(columns: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    column_list(columns.map(|(name, kind)| (name, hive_type(kind))), ", ")
}

fn hive_type(kind: &str) -> &'static str {
    match kind {
        "int" => "int",
        "boolean" => "boolean",
        "timestamp" => "timestamp",
        _ => "string",
    }
}

/// `CREATE EXTERNAL TABLE` for the rule tables (JSON Lines, one folder each under
/// `location`, as `tagtrail sql --out` writes them) and the inventory tables (Parquet, as
/// `tagtrail inventory export` writes them, each in its own folder `tagtrail_inventory/`
/// and `tagtrail_kms_aliases/` under `location`).
pub fn data_tables_ddl(location: &str) -> String {
    let root = location.trim_end_matches('/');
    let mut out = String::new();
    for (table, columns) in TABLES {
        let columns = hive_columns(columns.iter().copied());
        out.push_str(&format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS {table} ({columns})\n\
             ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n\
             LOCATION '{root}/{table}/';\n"
        ));
    }
    for (table, schema) in [
        ("tagtrail_inventory", INVENTORY_SCHEMA),
        ("tagtrail_kms_aliases", ALIAS_SCHEMA),
    ] {
        let columns = hive_columns(schema.iter().map(|(name, kind, _)| (*name, *kind)));
        out.push_str(&format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS {table} ({columns})\n\
             STORED AS PARQUET\n\
             LOCATION '{root}/{table}/';\n"
        ));
    }
    out
}

/// The Spark schema (`name type, ...`) of each rule table, for loading the JSON Lines files.
pub fn spark_schemas() -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (table, columns) in TABLES {
        out.insert(
            table.to_string(),
            hive_columns(columns.iter().copied()).into(),
        );
    }
    out.into()
}

/// Where the findings table's statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportEngine {
    Athena,
    Duckdb,
}

impl std::str::FromStr for ReportEngine {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "athena" => Ok(ReportEngine::Athena),
            "duckdb" => Ok(ReportEngine::Duckdb),
            _ => Err(format!(
                "`{text}` is not a dialect: expected athena or duckdb"
            )),
        }
    }
}

/// The statement that exposes the findings under `location` as table `table`: a one-off
/// scan's folder (`findings.parquet`), or with `partitioned` a scheduled scan's report root
/// (`findings/dt=YYYY-MM-DD/<run>.parquet`).
pub fn findings_table(
    dialect: ReportEngine,
    location: &str,
    partitioned: bool,
    table: &str,
) -> String {
    let location = location.trim_end_matches('/');
    match dialect {
        ReportEngine::Athena => athena_findings(location, partitioned, table),
        ReportEngine::Duckdb => {
            let (files, hive) = if partitioned {
                (
                    format!("{location}/findings/dt=*/*.parquet"),
                    ", hive_partitioning = true",
                )
            } else {
                (format!("{location}/findings.parquet"), "")
            };
            format!(
                "CREATE OR REPLACE VIEW {table} AS\nSELECT * FROM read_parquet('{}'{hive});\n",
                files.replace('\'', "''")
            )
        }
    }
}

fn athena_findings(location: &str, partitioned: bool, table: &str) -> String {
    let columns: Vec<String> = SCHEMA
        .iter()
        .map(|(name, kind, doc)| {
            let kind = match *kind {
                "bool" => "boolean",
                "string" => "string",
                _ => "timestamp",
            };
            // Hive, whose DDL Athena speaks, escapes a quote with a backslash.
            format!("  `{name}` {kind} COMMENT '{}'", doc.replace('\'', "\\'"))
        })
        .collect();
    let mut out = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` (\n{}\n)\n",
        columns.join(",\n")
    );
    if partitioned {
        out.push_str("PARTITIONED BY (`dt` string)\n");
        out.push_str(&format!(
            "STORED AS PARQUET\nLOCATION '{location}/findings/'\n"
        ));
        out.push_str(&format!(
            "TBLPROPERTIES (\n  'projection.enabled' = 'true',\n  'projection.dt.type' = 'date',\n  \
             'projection.dt.format' = 'yyyy-MM-dd',\n  'projection.dt.range' = '2015-01-01,NOW',\n  \
             'projection.dt.interval' = '1',\n  'projection.dt.interval.unit' = 'DAYS',\n  \
             'storage.location.template' = '{location}/findings/dt=${{dt}}/'\n);\n"
        ));
    } else {
        // Athena reads every file under LOCATION: the one-off folder's CSV and JSON must not
        // be there, so the Parquet file is expected in a folder of its own.
        out.push_str(&format!("STORED AS PARQUET\nLOCATION '{location}/'\n;\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athena_ddl_projects_the_day_partitions_and_duckdb_reads_them() {
        let text = findings_table(ReportEngine::Athena, "s3://b/reports/", true, "findings");
        assert!(text.contains("PARTITIONED BY (`dt` string)"), "{text}");
        assert!(
            text.contains("'storage.location.template' = 's3://b/reports/findings/dt=${dt}/'"),
            "{text}"
        );
        assert!(text.contains("`event_time` timestamp"), "{text}");
        let text = findings_table(ReportEngine::Duckdb, "/r", true, "findings");
        assert!(
            text.contains("read_parquet('/r/findings/dt=*/*.parquet', hive_partitioning = true)")
        );
    }
}
