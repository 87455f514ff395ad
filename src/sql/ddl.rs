//! The tables the query reads: the CloudTrail table as AWS documents it for Athena (with
//! partition projection over the trail's `AWSLogs/.../CloudTrail/<region>/YYYY/MM/DD`
//! layout), the rule tables and the inventory tables.

use crate::report::inventory_tables::{ALIAS_SCHEMA, INVENTORY_SCHEMA};

use super::rules::TABLES;

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
