//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::builder::{NonEmptyStringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use tagtrail::report::Format;

/// Find tag-based access violations in AWS CloudTrail: who touched what, and do their
/// product tags match?
#[derive(Debug, Parser)]
#[command(
    name = "tagtrail",
    version,
    about,
    max_term_width = 100,
    after_help = "Start with `tagtrail scan --demo`; the book is in docs/ (https://github.com/tagtrail/tagtrail/tree/main/docs)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines on stderr as text, or as JSON objects for schedulers and log collectors.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve, judge against product tags, write Parquet/CSV/JSON reports (the main job).
    Scan(Box<ScanArgs>),
    /// Print who touched what for every record, as JSON Lines.
    Resolve(ResolveArgs),
    /// Check and test rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Tag inventories from AWS.
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// Reports as tables: the CREATE statement for Athena or DuckDB, findings new and gone.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// The rule pack, name completion and verdicts as one SQL query for Athena or Spark, with
    /// the rule tables it joins and the CREATE statements of its tables.
    Sql(SqlArgs),
    /// Shell completions for bash, zsh, fish or PowerShell, on stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the CLI reference (a Markdown page per command), the man pages and the shell
    /// completions into a folder (the repository's `docs/`).
    #[command(hide = true)]
    Docs {
        #[arg(long, value_name = "DIR", default_value = "docs")]
        out: PathBuf,
    },
    /// Benchmark floor: find and decompress the inputs with tagtrail's gzip code on all cores,
    /// and nothing else (used by bench/run.sh). With `--decode`, also type every record as the
    /// scan's reader does, and stop there.
    #[command(hide = true)]
    BenchFloor {
        paths: Vec<PathBuf>,
        #[arg(long)]
        decode: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Print the statement that makes a report queryable: a one-off scan's folder, or with
    /// --partitioned a scheduled scan's report root (day partitions projected in Athena).
    Ddl {
        #[arg(long)]
        dialect: tagtrail::sql::ddl::ReportEngine,
        /// Where the reports are: s3://bucket/prefix for Athena, a folder or URL DuckDB reads.
        #[arg(long)]
        location: String,
        /// The location is a report root of `scan --state` (findings/dt=YYYY-MM-DD/).
        #[arg(long)]
        partitioned: bool,
        #[arg(long, default_value = "tagtrail_findings")]
        table: String,
    },
    /// List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event
    /// id, resource and kind. Exits 1 when they differ.
    Diff { old: PathBuf, new: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their
    /// tags, or AWS Config's record of tags over time, and write them as the AWS CLI JSON files
    /// `--inventory DIR` reads.
    Fetch(FetchArgs),
    /// Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB):
    /// `inventory` (each ARN's product tag, with the interval it holds for dated snapshots and
    /// AWS Config's record) and `kms_aliases`.
    Export(ExportArgs),
}

/// The engine `tagtrail sql` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    Athena,
    Spark,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[arg(long, value_enum)]
    pub dialect: SqlDialect,
    /// Exceptions (see `scan --policy`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Folder to write `query.sql`, the rule tables (`<table>/<table>.jsonl`), their schemas
    /// and, for Athena, `tables.sql`; without it the query is printed.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Athena: the S3 folder that holds the trail's `AWSLogs/` (`s3://bucket/prefix`): writes
    /// the CloudTrail table with partition projection to `tables.sql`.
    #[arg(long, value_name = "S3URL")]
    pub trail_location: Option<String>,
    /// Athena: an organization trail's id (`o-...`), whose folders are `AWSLogs/<org>/<account>/`.
    #[arg(long, value_name = "ID")]
    pub organization: Option<String>,
    /// Athena: the accounts whose folders the table projects (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = NonEmptyStringValueParser::new())]
    pub accounts: Vec<String>,
    /// Athena: the regions whose folders the table projects (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = NonEmptyStringValueParser::new())]
    pub trail_regions: Vec<String>,
    /// Athena: the first day the table projects (`YYYY/MM/DD`).
    #[arg(long, default_value = "2020/01/01")]
    pub projection_start: String,
    /// The tag whose value names the product (the trail's own tag calls are read for it).
    #[arg(long, default_value = "product", value_parser = NonEmptyStringValueParser::new())]
    pub tag_key: String,
    /// Match the tag key case-insensitively (`Product`, `PRODUCT`).
    #[arg(long)]
    pub ignore_tag_case: bool,
    /// Athena: the S3 folder the rule tables and the inventory tables are uploaded to (one
    /// folder each, named as the table).
    #[arg(
        long,
        value_name = "S3URL",
        default_value = "s3://BUCKET/tagtrail-tables"
    )]
    pub tables_location: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The file format of `inventory export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The inventory folder, as `scan --inventory` reads it (dated snapshot folders included).
    #[arg(long, value_name = "DIR")]
    pub inventory: PathBuf,
    /// Folder to write `inventory.<format>` and `kms_aliases.<format>` to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    /// The tag whose value names the product.
    #[arg(long, default_value = "product", value_parser = NonEmptyStringValueParser::new())]
    pub tag_key: String,
    /// Match the tag key case-insensitively (`Product`, `PRODUCT`).
    #[arg(long)]
    pub ignore_tag_case: bool,
}

/// Where `inventory fetch` reads tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FetchFrom {
    Tagging,
    Config,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Folder to write the inventory files to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only resources that carry this tag key (the tagging API's TagFilters).
    #[arg(long, value_name = "KEY")]
    pub only_tag_key: Option<String>,
    /// What to fetch: today's tags (the tagging API, IAM, KMS aliases), or AWS Config's
    /// record of each resource's tags over time, deleted resources included. Both may be
    /// written to the same folder.
    #[arg(long, value_enum, default_value_t = FetchFrom::Tagging)]
    pub from: FetchFrom,
    /// Member accounts to read with --assume-role (comma-separated) [default: the organisation's].
    #[arg(long, value_delimiter = ',', value_parser = NonEmptyStringValueParser::new())]
    pub accounts: Vec<String>,
    /// Write into a new subfolder of --out named by the time of the fetch
    /// (`2026-11-30T180000Z/`): run on a schedule, it keeps the dated snapshots a scan judges
    /// each event by.
    #[arg(long)]
    pub dated: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS profile [default: the default credential chain].
    ///
    /// Without it, the chain every AWS tool uses: environment, SSO, instance role...
    #[arg(long, global = true, help_heading = "AWS")]
    pub profile: Option<String>,
    /// Regions to read (comma-separated).
    ///
    /// Default: the configured region; for S3 trails, every region the layout holds.
    #[arg(long, alias = "region", value_delimiter = ',', global = true, value_parser = NonEmptyStringValueParser::new(), help_heading = "AWS")]
    pub regions: Vec<String>,
    /// Read member accounts' inventories through this role name.
    ///
    /// `arn:aws:iam::<account>:role/NAME`, for the accounts given with --accounts, else every
    /// active account AWS Organizations lists.
    #[arg(long, value_name = "NAME", global = true, value_parser = NonEmptyStringValueParser::new(), help_heading = "AWS")]
    pub assume_role: Option<String>,
}

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Trail objects in S3 (`s3://bucket/prefix/`); repeatable.
    ///
    /// Listed along the `AWSLogs/` layout, so that only the accounts, regions and days asked
    /// for are read.
    #[arg(long, value_name = "S3URL", help_heading = "Inputs")]
    pub logs: Vec<tagtrail::source::s3::S3Url>,
    /// Pull management events from CloudTrail's LookupEvents API.
    ///
    /// 90 days at most; paced at 2 requests per second per region (the published limit).
    #[arg(long, help_heading = "Inputs")]
    pub lookup_events: bool,
    /// Accounts of the trail layout to read (comma-separated) [default: all].
    #[arg(long, value_delimiter = ',', value_parser = NonEmptyStringValueParser::new(), help_heading = "Inputs")]
    pub accounts: Vec<String>,
    /// Read the --logs objects with this role (a log archive bucket in another account).
    #[arg(long, value_name = "ARN", requires = "logs", value_parser = NonEmptyStringValueParser::new(), help_heading = "AWS")]
    pub logs_role: Option<String>,
    /// S3 downloads in flight at once.
    ///
    /// Each waits ~20-50 ms for its first byte: many in flight keep the cores busy
    /// (bench/s3.sh).
    #[arg(long, default_value_t = 64, help_heading = "AWS")]
    pub concurrency: usize,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Trail files or folders, plain or gzipped; stdin when none is given.
    ///
    /// Folders are walked (the `AWSLogs/...` layout or any); files may hold trail files'
    /// `Records`, JSON Lines, Firehose or EventBridge output, or LookupEvents output.
    #[arg(help_heading = "Inputs")]
    pub paths: Vec<PathBuf>,
    /// Scan the bundled demo (examples/demo): no AWS account, no other argument needed.
    #[arg(long, conflicts_with_all = ["paths", "inventory", "logs", "lookup_events"], help_heading = "Inputs")]
    pub demo: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Tag inventory: a folder of AWS CLI JSON output, of dated snapshots, or `aws`.
    ///
    /// The folder holds `aws resourcegroupstaggingapi get-resources`, `aws iam
    /// get-account-authorization-details` and the like; a folder of dated snapshots of it
    /// (`2026-11-01/`, `2026-11-30T180000Z/`: `inventory fetch --dated`) judges each event by
    /// the snapshot in force; `aws` fetches it live for this run.
    #[arg(
        long,
        value_name = "DIR|aws",
        required_unless_present = "demo",
        help_heading = "Inventory and rules"
    )]
    pub inventory: Option<String>,
    /// The tag whose value names the product.
    #[arg(long, default_value = "product", value_parser = NonEmptyStringValueParser::new(), help_heading = "Inventory and rules")]
    pub tag_key: String,
    /// Match the tag key case-insensitively (`Product`, `PRODUCT`).
    #[arg(long, help_heading = "Inventory and rules")]
    pub ignore_tag_case: bool,
    /// Policy file (TOML): shared values, per-principal allowances, ignored resources.
    #[arg(long, value_name = "FILE", help_heading = "Inventory and rules")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Report folder [default: reports/<UTC timestamp>/].
    ///
    /// With --state, the report root runs append to (a folder or `s3://bucket/prefix/`):
    /// `findings/dt=YYYY-MM-DD/<run>.parquet` and `.csv`, `runs/<run>/summary.json` and
    /// `run.json`.
    #[arg(long, value_name = "DIR|S3URL", value_parser = NonEmptyStringValueParser::new(), help_heading = "Outputs")]
    pub out: Option<String>,
    /// Report files to write: parquet, csv, json, html, ocsf, asff.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "parquet,csv,json",
        help_heading = "Outputs"
    )]
    pub format: Vec<Format>,
    /// Exit 1 when a finding of this kind or a more severe one exists; `never` for report-only runs.
    #[arg(long, default_value = "product-mismatch", value_parser = parse_fail_on, help_heading = "Outputs")]
    pub fail_on: FailOn,
    /// Rejected (malformed) input does not make the exit code 2.
    #[arg(long, help_heading = "Outputs")]
    pub allow_partial: bool,
    /// Exit 2 unless CloudTrail's digest files vouch for the trail read.
    ///
    /// The log files of local trail folders and S3 are checked against the digest files
    /// beside them (hashes, signatures, the digest chain, files missing or in no digest) in
    /// every scan, and reported in the summary; with this flag any failure, a log file no
    /// digest covers (no digest at all, a stream without digests), or signatures that cannot
    /// be checked (`cloudtrail:ListPublicKeys` refused) make the exit code 2 (for compliance
    /// runs).
    #[arg(long, help_heading = "Outputs")]
    pub require_integrity: bool,
    /// Send this one-off scan's findings to the targets of the config file's `[notify]` table.
    ///
    /// Scheduled runs (`--state`) send their new findings whenever the table is there; a
    /// one-off scan sends every finding it made, only when asked.
    #[arg(long, help_heading = "Outputs", requires = "config")]
    pub notify: bool,
    /// Exit 2 when a notification could not be delivered (scheduled runs keep it in the
    /// state's outbox and send it again next run either way).
    #[arg(long, help_heading = "Outputs")]
    pub require_notify: bool,
    /// Import the findings into AWS Security Hub.
    ///
    /// Into the credentials' account and the configured region, with BatchImportFindings;
    /// writes `findings.asff.json` too. A re-run updates the findings it imported before; a
    /// one-off scan also archives the tagtrail findings of its window that it no longer
    /// reports. Findings Security Hub refuses make the exit code 2.
    #[arg(long, help_heading = "Outputs")]
    pub security_hub: bool,
    /// Findings held in memory before a sorted run is spilled to a temporary file in --out.
    #[arg(long, value_name = "ROWS", default_value_t = tagtrail::report::sorter::RUN_ROWS, help_heading = "Outputs")]
    pub spill_rows: usize,
    /// Judge each record as it is read, by the inventory alone.
    ///
    /// No tag history from the trail's tag calls, no session tags, no duplicate detection;
    /// nothing kept aside on disk until the read ends.
    #[arg(long, help_heading = "Inventory and rules")]
    pub single_pass: bool,
    /// Read the inputs twice, the history first: the order before judging was deferred, kept
    /// for tests to compare the default with (local files only).
    #[arg(long, hide = true, conflicts_with = "single_pass")]
    pub two_pass_reference: bool,
    /// Read the scan's options from this TOML file, each key named as its flag.
    ///
    /// `fail-on = "never"`, `paths = ["trail/"]`; flags given on the command line win.
    #[arg(long, value_name = "FILE", help_heading = "Scheduled runs")]
    pub config: Option<PathBuf>,
    /// Make the scan incremental (a file or `s3://bucket/key`; locked while a run uses it).
    ///
    /// Read only the trail files no earlier run read, report each finding once across runs,
    /// and append to --out exactly once.
    #[arg(
        long,
        value_name = "FILE|S3URL",
        requires = "out",
        help_heading = "Scheduled runs"
    )]
    pub state: Option<tagtrail::schedule::store::Location>,
    /// With --state: how long a day folder stays open to late deliveries.
    ///
    /// A day folder of the trail is listed again on every run until its day ended this long
    /// ago (CloudTrail delivers late, with no documented maximum).
    #[arg(long, value_name = "DURATION", default_value = "2d", value_parser = parse_duration, help_heading = "Scheduled runs")]
    pub lookback: chrono::Duration,
    /// With an S3 --state: a lock older than this is taken to be left by a run that died.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_duration, help_heading = "Scheduled runs")]
    pub lock_lease: chrono::Duration,
    /// The time the run takes as now (RFC 3339), for tests and replays.
    #[arg(long, hide = true, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Rule folder [default: the rule pack built into tagtrail].
    #[arg(long, value_name = "DIR", help_heading = "Inventory and rules")]
    pub rules: Option<PathBuf>,
    /// Rule files (or folders of them) loaded beside the rule set; repeatable.
    ///
    /// E.g. the rules `rules learn` wrote; a hand-written rule of the set keeps its calls.
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append, help_heading = "Inventory and rules")]
    pub add_rules: Vec<PathBuf>,
    /// Leave out generated rules that no real record confirms (`confidence = "low"`).
    #[arg(long, help_heading = "Inventory and rules")]
    pub exclude_low_confidence: bool,
    /// Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d).
    #[arg(long, help_heading = "Window")]
    pub since: Option<String>,
    /// Only events before this time (same forms as --since).
    #[arg(long, help_heading = "Window")]
    pub until: Option<String>,
    /// Refuse an input larger than this many MiB once decompressed.
    ///
    /// Counted as rejected instead of held whole: a bound on memory per file in flight.
    #[arg(long, value_name = "MiB", default_value_t = tagtrail::source::DEFAULT_MAX_FILE_BYTES >> 20,
          value_parser = clap::value_parser!(u32).range(1..=65536).map(|n| n as usize), help_heading = "Inputs")]
    pub max_file_mib: usize,
}

fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like 2d or 36h ({e})"))
        .and_then(|d| chrono::Duration::from_std(d).map_err(|e| e.to_string()))
}

fn parse_now(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| format!("`{text}` is not an RFC 3339 time ({e})"))
}

#[derive(Debug, Clone, Copy)]
pub enum FailOn {
    Never,
    Kind(tagtrail::verdict::Kind),
}

fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    if text == "never" {
        return Ok(FailOn::Never);
    }
    tagtrail::verdict::Kind::parse(text)
        .map(FailOn::Kind)
        .ok_or_else(|| {
            let kinds: Vec<_> = tagtrail::verdict::Kind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect();
            format!("expected `never` or one of {}", kinds.join(", "))
        })
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Inputs as for `scan`; stdin when none is given.
    pub paths: Vec<PathBuf>,
    /// Tag inventory used to complete names into ARNs (Secrets Manager suffixes, IAM paths).
    #[arg(long, value_name = "DIR")]
    pub inventory: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Ignore the records' own `resources[]` (to measure what rules find alone).
    #[arg(long)]
    pub no_record_resources: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate every rule file and report every problem at once, at file:line:column; with
    /// --records, also hold every ARN the rules build from those records against the SAR's ARN
    /// formats and the full ARNs the records themselves hold (no labels needed).
    Check(CheckArgs),
    /// Run every test case embedded in the rule files.
    Test(RulesArgs),
    /// Share of resource-targeting calls resolved in a set of records, overall and per service,
    /// and the unresolved calls by count.
    Coverage(CoverageArgs),
    /// Resolutions gained, lost and changed per rule between a base and the working rule set.
    Diff(DiffArgs),
    /// Scaffold a rule file for one API call, with a test case from a real record.
    New(NewArgs),
    /// Propose rules for the calls no rule covers, from a trail and an inventory: a value of
    /// the request or response that names a resource of the call's service shows the path.
    Learn(LearnArgs),
    /// Print the JSON Schema of rule files (committed as rules/schema.json).
    Schema,
    /// Write the generated pack from the candidates `scripts/generate_rules.py` proposes,
    /// each held against real records and AWS's examples with the engine itself.
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The candidates (JSON), as scripts/generate_rules.py writes them.
    #[arg(long, value_name = "FILE")]
    pub candidates: PathBuf,
    /// Real records the rules are held against.
    #[arg(long, value_name = "PATH", default_value = "tests/corpus")]
    pub records: Vec<PathBuf>,
    /// The evaluation folder (examples.jsonl.gz, truth.json) whose examples become cases.
    #[arg(long, value_name = "DIR", default_value = "tests/eval")]
    pub examples: PathBuf,
    /// The rule file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The call's eventSource, e.g. guardduty.amazonaws.com.
    pub event_source: String,
    /// The call's eventName, e.g. GetDetector.
    pub event_name: String,
    /// A file holding a record of that call (any container); its first such record becomes the test case.
    #[arg(long, value_name = "FILE")]
    pub from_record: Option<PathBuf>,
    /// The rule folder to write to.
    #[arg(long, value_name = "DIR", default_value = "rules")]
    pub rules: PathBuf,
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Records to learn from (files or folders, any container).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The inventory whose ARNs the values are matched against (as `scan --inventory`).
    #[arg(long, value_name = "DIR")]
    pub inventory: PathBuf,
    /// The rule file to write (it must not exist: review, then commit it to rules/).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A proposal is kept when it matches in at least this many records.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub min_records: u64,
    /// Rule folder the proposals complete [default: the rule pack built into tagtrail].
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Rule files (or folders of them) loaded beside the rule set, e.g. the rules `rules learn`
    /// wrote; a hand-written rule of the set keeps its calls.
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    pub add_rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Records to measure on (files or folders, any container).
    #[arg(required_unless_present = "universe")]
    pub paths: Vec<PathBuf>,
    /// Instead of records: the pack's reach over the whole API surface, the share of the
    /// Service Authorization Reference's resource-targeting actions that have a rule, per
    /// IAM prefix.
    #[arg(long, conflicts_with_all = ["paths", "rules_only"])]
    pub universe: bool,
    /// Rule folder [default: the rule pack built into tagtrail].
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Rule files (or folders of them) loaded beside the rule set, e.g. the rules `rules learn`
    /// wrote; a hand-written rule of the set keeps its calls.
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    pub add_rules: Vec<PathBuf>,
    /// Count only what the rules find (ignore resources[] and LookupEvents names).
    #[arg(long)]
    pub rules_only: bool,
    /// Leave out generated rules that no real record confirms (`confidence = "low"`).
    #[arg(long)]
    pub exclude_low_confidence: bool,
    /// How many unresolved calls the text lists.
    #[arg(long, default_value_t = 30)]
    pub most: usize,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base rule set: a folder, or a git revision whose `rules/` is compared (`main`, `HEAD~1`).
    #[arg(long, value_name = "REV|DIR")]
    pub base: String,
    /// The working rule set.
    #[arg(long, value_name = "DIR", default_value = "rules")]
    pub rules: PathBuf,
    /// Records to compare on [default: tests/corpus, the real records vendored in this repository].
    pub paths: Vec<PathBuf>,
    /// The lost or changed resolutions are intended: report them but exit 0.
    #[arg(long)]
    pub accept: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rule folder [default: `rules`; with --records, the rule pack built into tagtrail].
    pub dir: Option<PathBuf>,
    /// Records (files or folders, any container) to check the rules on.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub records: Vec<PathBuf>,
    /// With --records: rule files (or folders of them) loaded beside the rule set.
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append, requires = "records")]
    pub add_rules: Vec<PathBuf>,
    /// With --records: how many calls and records the text lists.
    #[arg(long, default_value_t = 30)]
    pub most: usize,
    /// Output for people, for programs, or GitHub workflow annotations.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// The rule folder.
    #[arg(default_value = "rules")]
    pub dir: PathBuf,
    /// Output for people, for programs, or GitHub workflow annotations.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Github,
}
