# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tagtrail_global_optspecs
    string join \n v/verbose log-format= h/help V/version
end

function __fish_tagtrail_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tagtrail_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tagtrail_using_subcommand
    set -l cmd (__fish_tagtrail_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tagtrail -n "__fish_tagtrail_needs_command" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -s V -l version -d 'Print version'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "scan" -d 'Resolve, judge against product tags, write Parquet/CSV/JSON reports (the main job)'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "resolve" -d 'Print who touched what for every record, as JSON Lines'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "rules" -d 'Check and test rule files'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "inventory" -d 'Tag inventories from AWS'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "report" -d 'Reports as tables: the CREATE statement for Athena or DuckDB, findings new and gone'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "sql" -d 'The rule pack, name completion and verdicts as one SQL query for Athena or Spark, with the rule tables it joins and the CREATE statements of its tables'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "completions" -d 'Shell completions for bash, zsh, fish or PowerShell, on stdout'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "docs" -d 'Write the CLI reference (a Markdown page per command), the man pages and the shell completions into a folder (the repository\'s `docs/`)'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "bench-floor" -d 'Benchmark floor: find and decompress the inputs with tagtrail\'s gzip code on all cores, and nothing else (used by bench/run.sh). With `--decode`, also type every record as the scan\'s reader does, and stop there'
complete -c tagtrail -n "__fish_tagtrail_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l logs -d 'Trail objects in S3 (`s3://bucket/prefix/`); repeatable' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l accounts -d 'Accounts of the trail layout to read (comma-separated) [default: all]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l logs-role -d 'Read the --logs objects with this role (a log archive bucket in another account)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l concurrency -d 'S3 downloads in flight at once' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l profile -d 'AWS profile [default: the default credential chain]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l regions -d 'Regions to read (comma-separated)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l assume-role -d 'Read member accounts\' inventories through this role name' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l inventory -d 'Tag inventory: a folder of AWS CLI JSON output, of dated snapshots, or `aws`' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l tag-key -d 'The tag whose value names the product' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l policy -d 'Policy file (TOML): shared values, per-principal allowances, ignored resources' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l rules -d 'Rule folder [default: the rule pack built into tagtrail]' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l add-rules -d 'Rule files (or folders of them) loaded beside the rule set; repeatable' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l since -d 'Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l until -d 'Only events before this time (same forms as --since)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l max-file-mib -d 'Refuse an input larger than this many MiB once decompressed' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l out -d 'Report folder [default: reports/<UTC timestamp>/]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l format -d 'Report files to write: parquet, csv, json, html, ocsf, asff' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l fail-on -d 'Exit 1 when a finding of this kind or a more severe one exists; `never` for report-only runs' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l spill-rows -d 'Findings held in memory before a sorted run is spilled to a temporary file in --out' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l config -d 'Read the scan\'s options from this TOML file, each key named as its flag' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l state -d 'Make the scan incremental (a file or `s3://bucket/key`; locked while a run uses it)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l lookback -d 'With --state: how long a day folder stays open to late deliveries' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l lock-lease -d 'With an S3 --state: a lock older than this is taken to be left by a run that died' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l now -d 'The time the run takes as now (RFC 3339), for tests and replays' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l demo -d 'Scan the bundled demo (examples/demo): no AWS account, no other argument needed'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l lookup-events -d 'Pull management events from CloudTrail\'s LookupEvents API'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l ignore-tag-case -d 'Match the tag key case-insensitively (`Product`, `PRODUCT`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l exclude-low-confidence -d 'Leave out generated rules that no real record confirms (`confidence = "low"`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l allow-partial -d 'Rejected (malformed) input does not make the exit code 2'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l require-integrity -d 'Exit 2 unless CloudTrail\'s digest files vouch for the trail read'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l notify -d 'Send this one-off scan\'s findings to the targets of the config file\'s `[notify]` table'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l require-notify -d 'Exit 2 when a notification could not be delivered (scheduled runs keep it in the state\'s outbox and send it again next run either way)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l security-hub -d 'Import the findings into AWS Security Hub'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l single-pass -d 'Judge each record as it is read, by the inventory alone'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -l two-pass-reference -d 'Read the inputs twice, the history first: the order before judging was deferred, kept for tests to compare the default with (local files only)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l inventory -d 'Tag inventory used to complete names into ARNs (Secrets Manager suffixes, IAM paths)' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l logs -d 'Trail objects in S3 (`s3://bucket/prefix/`); repeatable' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l accounts -d 'Accounts of the trail layout to read (comma-separated) [default: all]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l logs-role -d 'Read the --logs objects with this role (a log archive bucket in another account)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l concurrency -d 'S3 downloads in flight at once' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l profile -d 'AWS profile [default: the default credential chain]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l regions -d 'Regions to read (comma-separated)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l assume-role -d 'Read member accounts\' inventories through this role name' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l rules -d 'Rule folder [default: the rule pack built into tagtrail]' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l add-rules -d 'Rule files (or folders of them) loaded beside the rule set; repeatable' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l since -d 'Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l until -d 'Only events before this time (same forms as --since)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l max-file-mib -d 'Refuse an input larger than this many MiB once decompressed' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l lookup-events -d 'Pull management events from CloudTrail\'s LookupEvents API'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l exclude-low-confidence -d 'Leave out generated rules that no real record confirms (`confidence = "low"`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -l no-record-resources -d 'Ignore the records\' own `resources[]` (to measure what rules find alone)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand resolve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "check" -d 'Validate every rule file and report every problem at once, at file:line:column; with --records, also hold every ARN the rules build from those records against the SAR\'s ARN formats and the full ARNs the records themselves hold (no labels needed)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "test" -d 'Run every test case embedded in the rule files'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "coverage" -d 'Share of resource-targeting calls resolved in a set of records, overall and per service, and the unresolved calls by count'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "diff" -d 'Resolutions gained, lost and changed per rule between a base and the working rule set'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "new" -d 'Scaffold a rule file for one API call, with a test case from a real record'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "learn" -d 'Propose rules for the calls no rule covers, from a trail and an inventory: a value of the request or response that names a resource of the call\'s service shows the path'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "schema" -d 'Print the JSON Schema of rule files (committed as rules/schema.json)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "generate" -d 'Write the generated pack from the candidates `scripts/generate_rules.py` proposes, each held against real records and AWS\'s examples with the engine itself'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and not __fish_seen_subcommand_from check test coverage diff new learn schema generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -l records -d 'Records (files or folders, any container) to check the rules on' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -l add-rules -d 'With --records: rule files (or folders of them) loaded beside the rule set' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -l most -d 'With --records: how many calls and records the text lists' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -l format -d 'Output for people, for programs, or GitHub workflow annotations' -r -f -a "text\t''
json\t''
github\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from test" -l format -d 'Output for people, for programs, or GitHub workflow annotations' -r -f -a "text\t''
json\t''
github\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from test" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from test" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l rules -d 'Rule folder [default: the rule pack built into tagtrail]' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l add-rules -d 'Rule files (or folders of them) loaded beside the rule set, e.g. the rules `rules learn` wrote; a hand-written rule of the set keeps its calls' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l most -d 'How many unresolved calls the text lists' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l format -r -f -a "text\t''
json\t''
github\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l universe -d 'Instead of records: the pack\'s reach over the whole API surface, the share of the Service Authorization Reference\'s resource-targeting actions that have a rule, per IAM prefix'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l rules-only -d 'Count only what the rules find (ignore resources[] and LookupEvents names)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l exclude-low-confidence -d 'Leave out generated rules that no real record confirms (`confidence = "low"`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from coverage" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -l base -d 'The base rule set: a folder, or a git revision whose `rules/` is compared (`main`, `HEAD~1`)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -l rules -d 'The working rule set' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -l format -r -f -a "text\t''
json\t''
github\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -l accept -d 'The lost or changed resolutions are intended: report them but exit 0'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from new" -l from-record -d 'A file holding a record of that call (any container); its first such record becomes the test case' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from new" -l rules -d 'The rule folder to write to' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from new" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from new" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -l inventory -d 'The inventory whose ARNs the values are matched against (as `scan --inventory`)' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -l out -d 'The rule file to write (it must not exist: review, then commit it to rules/)' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -l min-records -d 'A proposal is kept when it matches in at least this many records' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -l rules -d 'Rule folder the proposals complete [default: the rule pack built into tagtrail]' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -l add-rules -d 'Rule files (or folders of them) loaded beside the rule set, e.g. the rules `rules learn` wrote; a hand-written rule of the set keeps its calls' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from learn" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from schema" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from schema" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -l candidates -d 'The candidates (JSON), as scripts/generate_rules.py writes them' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -l records -d 'Real records the rules are held against' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -l examples -d 'The evaluation folder (examples.jsonl.gz, truth.json) whose examples become cases' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -l out -d 'The rule file to write' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate every rule file and report every problem at once, at file:line:column; with --records, also hold every ARN the rules build from those records against the SAR\'s ARN formats and the full ARNs the records themselves hold (no labels needed)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run every test case embedded in the rule files'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "coverage" -d 'Share of resource-targeting calls resolved in a set of records, overall and per service, and the unresolved calls by count'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Resolutions gained, lost and changed per rule between a base and the working rule set'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "new" -d 'Scaffold a rule file for one API call, with a test case from a real record'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "learn" -d 'Propose rules for the calls no rule covers, from a trail and an inventory: a value of the request or response that names a resource of the call\'s service shows the path'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print the JSON Schema of rule files (committed as rules/schema.json)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Write the generated pack from the candidates `scripts/generate_rules.py` proposes, each held against real records and AWS\'s examples with the engine itself'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and not __fish_seen_subcommand_from fetch export help" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and not __fish_seen_subcommand_from fetch export help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and not __fish_seen_subcommand_from fetch export help" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and not __fish_seen_subcommand_from fetch export help" -f -a "fetch" -d 'Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their tags, or AWS Config\'s record of tags over time, and write them as the AWS CLI JSON files `--inventory DIR` reads'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and not __fish_seen_subcommand_from fetch export help" -f -a "export" -d 'Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB): `inventory` (each ARN\'s product tag, with the interval it holds for dated snapshots and AWS Config\'s record) and `kms_aliases`'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and not __fish_seen_subcommand_from fetch export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l out -d 'Folder to write the inventory files to' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l only-tag-key -d 'Only resources that carry this tag key (the tagging API\'s TagFilters)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l from -d 'What to fetch: today\'s tags (the tagging API, IAM, KMS aliases), or AWS Config\'s record of each resource\'s tags over time, deleted resources included. Both may be written to the same folder' -r -f -a "tagging\t''
config\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l accounts -d 'Member accounts to read with --assume-role (comma-separated) [default: the organisation\'s]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l profile -d 'AWS profile [default: the default credential chain]' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l regions -d 'Regions to read (comma-separated)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l assume-role -d 'Read member accounts\' inventories through this role name' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -l dated -d 'Write into a new subfolder of --out named by the time of the fetch (`2026-11-30T180000Z/`): run on a schedule, it keeps the dated snapshots a scan judges each event by'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -l inventory -d 'The inventory folder, as `scan --inventory` reads it (dated snapshot folders included)' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -l out -d 'Folder to write `inventory.<format>` and `kms_aliases.<format>` to' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -l format -r -f -a "parquet\t''
csv\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -l tag-key -d 'The tag whose value names the product' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -l ignore-tag-case -d 'Match the tag key case-insensitively (`Product`, `PRODUCT`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their tags, or AWS Config\'s record of tags over time, and write them as the AWS CLI JSON files `--inventory DIR` reads'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB): `inventory` (each ARN\'s product tag, with the interval it holds for dated snapshots and AWS Config\'s record) and `kms_aliases`'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand inventory; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and not __fish_seen_subcommand_from ddl diff help" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and not __fish_seen_subcommand_from ddl diff help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and not __fish_seen_subcommand_from ddl diff help" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and not __fish_seen_subcommand_from ddl diff help" -f -a "ddl" -d 'Print the statement that makes a report queryable: a one-off scan\'s folder, or with --partitioned a scheduled scan\'s report root (day partitions projected in Athena)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and not __fish_seen_subcommand_from ddl diff help" -f -a "diff" -d 'List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event id, resource and kind. Exits 1 when they differ'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and not __fish_seen_subcommand_from ddl diff help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -l dialect -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -l location -d 'Where the reports are: s3://bucket/prefix for Athena, a folder or URL DuckDB reads' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -l table -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -l partitioned -d 'The location is a report root of `scan --state` (findings/dt=YYYY-MM-DD/)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from ddl" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from diff" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "ddl" -d 'Print the statement that makes a report queryable: a one-off scan\'s folder, or with --partitioned a scheduled scan\'s report root (day partitions projected in Athena)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "diff" -d 'List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event id, resource and kind. Exits 1 when they differ'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l dialect -r -f -a "athena\t''
spark\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l policy -d 'Exceptions (see `scan --policy`)' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l out -d 'Folder to write `query.sql`, the rule tables (`<table>/<table>.jsonl`), their schemas and, for Athena, `tables.sql`; without it the query is printed' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l trail-location -d 'Athena: the S3 folder that holds the trail\'s `AWSLogs/` (`s3://bucket/prefix`): writes the CloudTrail table with partition projection to `tables.sql`' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l organization -d 'Athena: an organization trail\'s id (`o-...`), whose folders are `AWSLogs/<org>/<account>/`' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l accounts -d 'Athena: the accounts whose folders the table projects (comma-separated)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l trail-regions -d 'Athena: the regions whose folders the table projects (comma-separated)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l projection-start -d 'Athena: the first day the table projects (`YYYY/MM/DD`)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l tag-key -d 'The tag whose value names the product (the trail\'s own tag calls are read for it)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l tables-location -d 'Athena: the S3 folder the rule tables and the inventory tables are uploaded to (one folder each, named as the table)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l rules -d 'Rule folder [default: the rule pack built into tagtrail]' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l add-rules -d 'Rule files (or folders of them) loaded beside the rule set; repeatable' -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l since -d 'Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l until -d 'Only events before this time (same forms as --since)' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l max-file-mib -d 'Refuse an input larger than this many MiB once decompressed' -r
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l ignore-tag-case -d 'Match the tag key case-insensitively (`Product`, `PRODUCT`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -l exclude-low-confidence -d 'Leave out generated rules that no real record confirms (`confidence = "low"`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand sql" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand completions" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand docs" -l out -r -F
complete -c tagtrail -n "__fish_tagtrail_using_subcommand docs" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand docs" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand docs" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand bench-floor" -l log-format -d 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors' -r -f -a "text\t''
json\t''"
complete -c tagtrail -n "__fish_tagtrail_using_subcommand bench-floor" -l decode
complete -c tagtrail -n "__fish_tagtrail_using_subcommand bench-floor" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand bench-floor" -s h -l help -d 'Print help'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "scan" -d 'Resolve, judge against product tags, write Parquet/CSV/JSON reports (the main job)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "resolve" -d 'Print who touched what for every record, as JSON Lines'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "rules" -d 'Check and test rule files'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "inventory" -d 'Tag inventories from AWS'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "report" -d 'Reports as tables: the CREATE statement for Athena or DuckDB, findings new and gone'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "sql" -d 'The rule pack, name completion and verdicts as one SQL query for Athena or Spark, with the rule tables it joins and the CREATE statements of its tables'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "completions" -d 'Shell completions for bash, zsh, fish or PowerShell, on stdout'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "docs" -d 'Write the CLI reference (a Markdown page per command), the man pages and the shell completions into a folder (the repository\'s `docs/`)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "bench-floor" -d 'Benchmark floor: find and decompress the inputs with tagtrail\'s gzip code on all cores, and nothing else (used by bench/run.sh). With `--decode`, also type every record as the scan\'s reader does, and stop there'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and not __fish_seen_subcommand_from scan resolve rules inventory report sql completions docs bench-floor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "check" -d 'Validate every rule file and report every problem at once, at file:line:column; with --records, also hold every ARN the rules build from those records against the SAR\'s ARN formats and the full ARNs the records themselves hold (no labels needed)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "test" -d 'Run every test case embedded in the rule files'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "coverage" -d 'Share of resource-targeting calls resolved in a set of records, overall and per service, and the unresolved calls by count'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "diff" -d 'Resolutions gained, lost and changed per rule between a base and the working rule set'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "new" -d 'Scaffold a rule file for one API call, with a test case from a real record'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "learn" -d 'Propose rules for the calls no rule covers, from a trail and an inventory: a value of the request or response that names a resource of the call\'s service shows the path'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "schema" -d 'Print the JSON Schema of rule files (committed as rules/schema.json)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "generate" -d 'Write the generated pack from the candidates `scripts/generate_rules.py` proposes, each held against real records and AWS\'s examples with the engine itself'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from inventory" -f -a "fetch" -d 'Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their tags, or AWS Config\'s record of tags over time, and write them as the AWS CLI JSON files `--inventory DIR` reads'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from inventory" -f -a "export" -d 'Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB): `inventory` (each ARN\'s product tag, with the interval it holds for dated snapshots and AWS Config\'s record) and `kms_aliases`'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "ddl" -d 'Print the statement that makes a report queryable: a one-off scan\'s folder, or with --partitioned a scheduled scan\'s report root (day partitions projected in Athena)'
complete -c tagtrail -n "__fish_tagtrail_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "diff" -d 'List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event id, resource and kind. Exits 1 when they differ'
