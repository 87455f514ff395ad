
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tagtrail' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tagtrail'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tagtrail' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Resolve, judge against product tags, write Parquet/CSV/JSON reports (the main job)')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Print who touched what for every record, as JSON Lines')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'Check and test rule files')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Tag inventories from AWS')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Reports as tables: the CREATE statement for Athena or DuckDB, findings new and gone')
            [CompletionResult]::new('sql', 'sql', [CompletionResultType]::ParameterValue, 'The rule pack, name completion and verdicts as one SQL query for Athena or Spark, with the rule tables it joins and the CREATE statements of its tables')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Shell completions for bash, zsh, fish or PowerShell, on stdout')
            [CompletionResult]::new('docs', 'docs', [CompletionResultType]::ParameterValue, 'Write the CLI reference (a Markdown page per command), the man pages and the shell completions into a folder (the repository''s `docs/`)')
            [CompletionResult]::new('bench-floor', 'bench-floor', [CompletionResultType]::ParameterValue, 'Benchmark floor: find and decompress the inputs with tagtrail''s gzip code on all cores, and nothing else (used by bench/run.sh). With `--decode`, also type every record as the scan''s reader does, and stop there')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;scan' {
            [CompletionResult]::new('--logs', '--logs', [CompletionResultType]::ParameterName, 'Trail objects in S3 (`s3://bucket/prefix/`); repeatable')
            [CompletionResult]::new('--accounts', '--accounts', [CompletionResultType]::ParameterName, 'Accounts of the trail layout to read (comma-separated) [default: all]')
            [CompletionResult]::new('--logs-role', '--logs-role', [CompletionResultType]::ParameterName, 'Read the --logs objects with this role (a log archive bucket in another account)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'S3 downloads in flight at once')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile [default: the default credential chain]')
            [CompletionResult]::new('--regions', '--regions', [CompletionResultType]::ParameterName, 'Regions to read (comma-separated)')
            [CompletionResult]::new('--assume-role', '--assume-role', [CompletionResultType]::ParameterName, 'Read member accounts'' inventories through this role name')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Tag inventory: a folder of AWS CLI JSON output, of dated snapshots, or `aws`')
            [CompletionResult]::new('--tag-key', '--tag-key', [CompletionResultType]::ParameterName, 'The tag whose value names the product')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Policy file (TOML): shared values, per-principal allowances, ignored resources')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Rule folder [default: the rule pack built into tagtrail]')
            [CompletionResult]::new('--add-rules', '--add-rules', [CompletionResultType]::ParameterName, 'Rule files (or folders of them) loaded beside the rule set; repeatable')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events before this time (same forms as --since)')
            [CompletionResult]::new('--max-file-mib', '--max-file-mib', [CompletionResultType]::ParameterName, 'Refuse an input larger than this many MiB once decompressed')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Report folder [default: reports/<UTC timestamp>/]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report files to write: parquet, csv, json, html, ocsf, asff')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when a finding of this kind or a more severe one exists; `never` for report-only runs')
            [CompletionResult]::new('--spill-rows', '--spill-rows', [CompletionResultType]::ParameterName, 'Findings held in memory before a sorted run is spilled to a temporary file in --out')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read the scan''s options from this TOML file, each key named as its flag')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Make the scan incremental (a file or `s3://bucket/key`; locked while a run uses it)')
            [CompletionResult]::new('--lookback', '--lookback', [CompletionResultType]::ParameterName, 'With --state: how long a day folder stays open to late deliveries')
            [CompletionResult]::new('--lock-lease', '--lock-lease', [CompletionResultType]::ParameterName, 'With an S3 --state: a lock older than this is taken to be left by a run that died')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'The time the run takes as now (RFC 3339), for tests and replays')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--demo', '--demo', [CompletionResultType]::ParameterName, 'Scan the bundled demo (examples/demo): no AWS account, no other argument needed')
            [CompletionResult]::new('--lookup-events', '--lookup-events', [CompletionResultType]::ParameterName, 'Pull management events from CloudTrail''s LookupEvents API')
            [CompletionResult]::new('--ignore-tag-case', '--ignore-tag-case', [CompletionResultType]::ParameterName, 'Match the tag key case-insensitively (`Product`, `PRODUCT`)')
            [CompletionResult]::new('--exclude-low-confidence', '--exclude-low-confidence', [CompletionResultType]::ParameterName, 'Leave out generated rules that no real record confirms (`confidence = "low"`)')
            [CompletionResult]::new('--allow-partial', '--allow-partial', [CompletionResultType]::ParameterName, 'Rejected (malformed) input does not make the exit code 2')
            [CompletionResult]::new('--require-integrity', '--require-integrity', [CompletionResultType]::ParameterName, 'Exit 2 unless CloudTrail''s digest files vouch for the trail read')
            [CompletionResult]::new('--notify', '--notify', [CompletionResultType]::ParameterName, 'Send this one-off scan''s findings to the targets of the config file''s `[notify]` table')
            [CompletionResult]::new('--require-notify', '--require-notify', [CompletionResultType]::ParameterName, 'Exit 2 when a notification could not be delivered (scheduled runs keep it in the state''s outbox and send it again next run either way)')
            [CompletionResult]::new('--security-hub', '--security-hub', [CompletionResultType]::ParameterName, 'Import the findings into AWS Security Hub')
            [CompletionResult]::new('--single-pass', '--single-pass', [CompletionResultType]::ParameterName, 'Judge each record as it is read, by the inventory alone')
            [CompletionResult]::new('--two-pass-reference', '--two-pass-reference', [CompletionResultType]::ParameterName, 'Read the inputs twice, the history first: the order before judging was deferred, kept for tests to compare the default with (local files only)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tagtrail;resolve' {
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Tag inventory used to complete names into ARNs (Secrets Manager suffixes, IAM paths)')
            [CompletionResult]::new('--logs', '--logs', [CompletionResultType]::ParameterName, 'Trail objects in S3 (`s3://bucket/prefix/`); repeatable')
            [CompletionResult]::new('--accounts', '--accounts', [CompletionResultType]::ParameterName, 'Accounts of the trail layout to read (comma-separated) [default: all]')
            [CompletionResult]::new('--logs-role', '--logs-role', [CompletionResultType]::ParameterName, 'Read the --logs objects with this role (a log archive bucket in another account)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'S3 downloads in flight at once')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile [default: the default credential chain]')
            [CompletionResult]::new('--regions', '--regions', [CompletionResultType]::ParameterName, 'Regions to read (comma-separated)')
            [CompletionResult]::new('--assume-role', '--assume-role', [CompletionResultType]::ParameterName, 'Read member accounts'' inventories through this role name')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Rule folder [default: the rule pack built into tagtrail]')
            [CompletionResult]::new('--add-rules', '--add-rules', [CompletionResultType]::ParameterName, 'Rule files (or folders of them) loaded beside the rule set; repeatable')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events before this time (same forms as --since)')
            [CompletionResult]::new('--max-file-mib', '--max-file-mib', [CompletionResultType]::ParameterName, 'Refuse an input larger than this many MiB once decompressed')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--lookup-events', '--lookup-events', [CompletionResultType]::ParameterName, 'Pull management events from CloudTrail''s LookupEvents API')
            [CompletionResult]::new('--exclude-low-confidence', '--exclude-low-confidence', [CompletionResultType]::ParameterName, 'Leave out generated rules that no real record confirms (`confidence = "low"`)')
            [CompletionResult]::new('--no-record-resources', '--no-record-resources', [CompletionResultType]::ParameterName, 'Ignore the records'' own `resources[]` (to measure what rules find alone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tagtrail;rules' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate every rule file and report every problem at once, at file:line:column; with --records, also hold every ARN the rules build from those records against the SAR''s ARN formats and the full ARNs the records themselves hold (no labels needed)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run every test case embedded in the rule files')
            [CompletionResult]::new('coverage', 'coverage', [CompletionResultType]::ParameterValue, 'Share of resource-targeting calls resolved in a set of records, overall and per service, and the unresolved calls by count')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Resolutions gained, lost and changed per rule between a base and the working rule set')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Scaffold a rule file for one API call, with a test case from a real record')
            [CompletionResult]::new('learn', 'learn', [CompletionResultType]::ParameterValue, 'Propose rules for the calls no rule covers, from a trail and an inventory: a value of the request or response that names a resource of the call''s service shows the path')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of rule files (committed as rules/schema.json)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write the generated pack from the candidates `scripts/generate_rules.py` proposes, each held against real records and AWS''s examples with the engine itself')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;rules;check' {
            [CompletionResult]::new('--records', '--records', [CompletionResultType]::ParameterName, 'Records (files or folders, any container) to check the rules on')
            [CompletionResult]::new('--add-rules', '--add-rules', [CompletionResultType]::ParameterName, 'With --records: rule files (or folders of them) loaded beside the rule set')
            [CompletionResult]::new('--most', '--most', [CompletionResultType]::ParameterName, 'With --records: how many calls and records the text lists')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people, for programs, or GitHub workflow annotations')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;test' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people, for programs, or GitHub workflow annotations')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;coverage' {
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Rule folder [default: the rule pack built into tagtrail]')
            [CompletionResult]::new('--add-rules', '--add-rules', [CompletionResultType]::ParameterName, 'Rule files (or folders of them) loaded beside the rule set, e.g. the rules `rules learn` wrote; a hand-written rule of the set keeps its calls')
            [CompletionResult]::new('--most', '--most', [CompletionResultType]::ParameterName, 'How many unresolved calls the text lists')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--universe', '--universe', [CompletionResultType]::ParameterName, 'Instead of records: the pack''s reach over the whole API surface, the share of the Service Authorization Reference''s resource-targeting actions that have a rule, per IAM prefix')
            [CompletionResult]::new('--rules-only', '--rules-only', [CompletionResultType]::ParameterName, 'Count only what the rules find (ignore resources[] and LookupEvents names)')
            [CompletionResult]::new('--exclude-low-confidence', '--exclude-low-confidence', [CompletionResultType]::ParameterName, 'Leave out generated rules that no real record confirms (`confidence = "low"`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;diff' {
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The base rule set: a folder, or a git revision whose `rules/` is compared (`main`, `HEAD~1`)')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'The working rule set')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--accept', '--accept', [CompletionResultType]::ParameterName, 'The lost or changed resolutions are intended: report them but exit 0')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;new' {
            [CompletionResult]::new('--from-record', '--from-record', [CompletionResultType]::ParameterName, 'A file holding a record of that call (any container); its first such record becomes the test case')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'The rule folder to write to')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;learn' {
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'The inventory whose ARNs the values are matched against (as `scan --inventory`)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The rule file to write (it must not exist: review, then commit it to rules/)')
            [CompletionResult]::new('--min-records', '--min-records', [CompletionResultType]::ParameterName, 'A proposal is kept when it matches in at least this many records')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Rule folder the proposals complete [default: the rule pack built into tagtrail]')
            [CompletionResult]::new('--add-rules', '--add-rules', [CompletionResultType]::ParameterName, 'Rule files (or folders of them) loaded beside the rule set, e.g. the rules `rules learn` wrote; a hand-written rule of the set keeps its calls')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;schema' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;generate' {
            [CompletionResult]::new('--candidates', '--candidates', [CompletionResultType]::ParameterName, 'The candidates (JSON), as scripts/generate_rules.py writes them')
            [CompletionResult]::new('--records', '--records', [CompletionResultType]::ParameterName, 'Real records the rules are held against')
            [CompletionResult]::new('--examples', '--examples', [CompletionResultType]::ParameterName, 'The evaluation folder (examples.jsonl.gz, truth.json) whose examples become cases')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The rule file to write')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;rules;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate every rule file and report every problem at once, at file:line:column; with --records, also hold every ARN the rules build from those records against the SAR''s ARN formats and the full ARNs the records themselves hold (no labels needed)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run every test case embedded in the rule files')
            [CompletionResult]::new('coverage', 'coverage', [CompletionResultType]::ParameterValue, 'Share of resource-targeting calls resolved in a set of records, overall and per service, and the unresolved calls by count')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Resolutions gained, lost and changed per rule between a base and the working rule set')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Scaffold a rule file for one API call, with a test case from a real record')
            [CompletionResult]::new('learn', 'learn', [CompletionResultType]::ParameterValue, 'Propose rules for the calls no rule covers, from a trail and an inventory: a value of the request or response that names a resource of the call''s service shows the path')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of rule files (committed as rules/schema.json)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write the generated pack from the candidates `scripts/generate_rules.py` proposes, each held against real records and AWS''s examples with the engine itself')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;rules;help;check' {
            break
        }
        'tagtrail;rules;help;test' {
            break
        }
        'tagtrail;rules;help;coverage' {
            break
        }
        'tagtrail;rules;help;diff' {
            break
        }
        'tagtrail;rules;help;new' {
            break
        }
        'tagtrail;rules;help;learn' {
            break
        }
        'tagtrail;rules;help;schema' {
            break
        }
        'tagtrail;rules;help;generate' {
            break
        }
        'tagtrail;rules;help;help' {
            break
        }
        'tagtrail;inventory' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their tags, or AWS Config''s record of tags over time, and write them as the AWS CLI JSON files `--inventory DIR` reads')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB): `inventory` (each ARN''s product tag, with the interval it holds for dated snapshots and AWS Config''s record) and `kms_aliases`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;inventory;fetch' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Folder to write the inventory files to')
            [CompletionResult]::new('--only-tag-key', '--only-tag-key', [CompletionResultType]::ParameterName, 'Only resources that carry this tag key (the tagging API''s TagFilters)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'What to fetch: today''s tags (the tagging API, IAM, KMS aliases), or AWS Config''s record of each resource''s tags over time, deleted resources included. Both may be written to the same folder')
            [CompletionResult]::new('--accounts', '--accounts', [CompletionResultType]::ParameterName, 'Member accounts to read with --assume-role (comma-separated) [default: the organisation''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile [default: the default credential chain]')
            [CompletionResult]::new('--regions', '--regions', [CompletionResultType]::ParameterName, 'Regions to read (comma-separated)')
            [CompletionResult]::new('--assume-role', '--assume-role', [CompletionResultType]::ParameterName, 'Read member accounts'' inventories through this role name')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--dated', '--dated', [CompletionResultType]::ParameterName, 'Write into a new subfolder of --out named by the time of the fetch (`2026-11-30T180000Z/`): run on a schedule, it keeps the dated snapshots a scan judges each event by')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tagtrail;inventory;export' {
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'The inventory folder, as `scan --inventory` reads it (dated snapshot folders included)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Folder to write `inventory.<format>` and `kms_aliases.<format>` to')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--tag-key', '--tag-key', [CompletionResultType]::ParameterName, 'The tag whose value names the product')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--ignore-tag-case', '--ignore-tag-case', [CompletionResultType]::ParameterName, 'Match the tag key case-insensitively (`Product`, `PRODUCT`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;inventory;help' {
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their tags, or AWS Config''s record of tags over time, and write them as the AWS CLI JSON files `--inventory DIR` reads')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB): `inventory` (each ARN''s product tag, with the interval it holds for dated snapshots and AWS Config''s record) and `kms_aliases`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;inventory;help;fetch' {
            break
        }
        'tagtrail;inventory;help;export' {
            break
        }
        'tagtrail;inventory;help;help' {
            break
        }
        'tagtrail;report' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('ddl', 'ddl', [CompletionResultType]::ParameterValue, 'Print the statement that makes a report queryable: a one-off scan''s folder, or with --partitioned a scheduled scan''s report root (day partitions projected in Athena)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event id, resource and kind. Exits 1 when they differ')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;report;ddl' {
            [CompletionResult]::new('--dialect', '--dialect', [CompletionResultType]::ParameterName, 'dialect')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Where the reports are: s3://bucket/prefix for Athena, a folder or URL DuckDB reads')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'table')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--partitioned', '--partitioned', [CompletionResultType]::ParameterName, 'The location is a report root of `scan --state` (findings/dt=YYYY-MM-DD/)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;report;diff' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;report;help' {
            [CompletionResult]::new('ddl', 'ddl', [CompletionResultType]::ParameterValue, 'Print the statement that makes a report queryable: a one-off scan''s folder, or with --partitioned a scheduled scan''s report root (day partitions projected in Athena)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event id, resource and kind. Exits 1 when they differ')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;report;help;ddl' {
            break
        }
        'tagtrail;report;help;diff' {
            break
        }
        'tagtrail;report;help;help' {
            break
        }
        'tagtrail;sql' {
            [CompletionResult]::new('--dialect', '--dialect', [CompletionResultType]::ParameterName, 'dialect')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Exceptions (see `scan --policy`)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Folder to write `query.sql`, the rule tables (`<table>/<table>.jsonl`), their schemas and, for Athena, `tables.sql`; without it the query is printed')
            [CompletionResult]::new('--trail-location', '--trail-location', [CompletionResultType]::ParameterName, 'Athena: the S3 folder that holds the trail''s `AWSLogs/` (`s3://bucket/prefix`): writes the CloudTrail table with partition projection to `tables.sql`')
            [CompletionResult]::new('--organization', '--organization', [CompletionResultType]::ParameterName, 'Athena: an organization trail''s id (`o-...`), whose folders are `AWSLogs/<org>/<account>/`')
            [CompletionResult]::new('--accounts', '--accounts', [CompletionResultType]::ParameterName, 'Athena: the accounts whose folders the table projects (comma-separated)')
            [CompletionResult]::new('--trail-regions', '--trail-regions', [CompletionResultType]::ParameterName, 'Athena: the regions whose folders the table projects (comma-separated)')
            [CompletionResult]::new('--projection-start', '--projection-start', [CompletionResultType]::ParameterName, 'Athena: the first day the table projects (`YYYY/MM/DD`)')
            [CompletionResult]::new('--tag-key', '--tag-key', [CompletionResultType]::ParameterName, 'The tag whose value names the product (the trail''s own tag calls are read for it)')
            [CompletionResult]::new('--tables-location', '--tables-location', [CompletionResultType]::ParameterName, 'Athena: the S3 folder the rule tables and the inventory tables are uploaded to (one folder each, named as the table)')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Rule folder [default: the rule pack built into tagtrail]')
            [CompletionResult]::new('--add-rules', '--add-rules', [CompletionResultType]::ParameterName, 'Rule files (or folders of them) loaded beside the rule set; repeatable')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339, a date, or a duration before now (24h, 7d)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events before this time (same forms as --since)')
            [CompletionResult]::new('--max-file-mib', '--max-file-mib', [CompletionResultType]::ParameterName, 'Refuse an input larger than this many MiB once decompressed')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--ignore-tag-case', '--ignore-tag-case', [CompletionResultType]::ParameterName, 'Match the tag key case-insensitively (`Product`, `PRODUCT`)')
            [CompletionResult]::new('--exclude-low-confidence', '--exclude-low-confidence', [CompletionResultType]::ParameterName, 'Leave out generated rules that no real record confirms (`confidence = "low"`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tagtrail;completions' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;docs' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'out')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;bench-floor' {
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as text, or as JSON objects for schedulers and log collectors')
            [CompletionResult]::new('--decode', '--decode', [CompletionResultType]::ParameterName, 'decode')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug); RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tagtrail;help' {
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Resolve, judge against product tags, write Parquet/CSV/JSON reports (the main job)')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Print who touched what for every record, as JSON Lines')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'Check and test rule files')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Tag inventories from AWS')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Reports as tables: the CREATE statement for Athena or DuckDB, findings new and gone')
            [CompletionResult]::new('sql', 'sql', [CompletionResultType]::ParameterValue, 'The rule pack, name completion and verdicts as one SQL query for Athena or Spark, with the rule tables it joins and the CREATE statements of its tables')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Shell completions for bash, zsh, fish or PowerShell, on stdout')
            [CompletionResult]::new('docs', 'docs', [CompletionResultType]::ParameterValue, 'Write the CLI reference (a Markdown page per command), the man pages and the shell completions into a folder (the repository''s `docs/`)')
            [CompletionResult]::new('bench-floor', 'bench-floor', [CompletionResultType]::ParameterValue, 'Benchmark floor: find and decompress the inputs with tagtrail''s gzip code on all cores, and nothing else (used by bench/run.sh). With `--decode`, also type every record as the scan''s reader does, and stop there')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tagtrail;help;scan' {
            break
        }
        'tagtrail;help;resolve' {
            break
        }
        'tagtrail;help;rules' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate every rule file and report every problem at once, at file:line:column; with --records, also hold every ARN the rules build from those records against the SAR''s ARN formats and the full ARNs the records themselves hold (no labels needed)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run every test case embedded in the rule files')
            [CompletionResult]::new('coverage', 'coverage', [CompletionResultType]::ParameterValue, 'Share of resource-targeting calls resolved in a set of records, overall and per service, and the unresolved calls by count')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Resolutions gained, lost and changed per rule between a base and the working rule set')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Scaffold a rule file for one API call, with a test case from a real record')
            [CompletionResult]::new('learn', 'learn', [CompletionResultType]::ParameterValue, 'Propose rules for the calls no rule covers, from a trail and an inventory: a value of the request or response that names a resource of the call''s service shows the path')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of rule files (committed as rules/schema.json)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write the generated pack from the candidates `scripts/generate_rules.py` proposes, each held against real records and AWS''s examples with the engine itself')
            break
        }
        'tagtrail;help;rules;check' {
            break
        }
        'tagtrail;help;rules;test' {
            break
        }
        'tagtrail;help;rules;coverage' {
            break
        }
        'tagtrail;help;rules;diff' {
            break
        }
        'tagtrail;help;rules;new' {
            break
        }
        'tagtrail;help;rules;learn' {
            break
        }
        'tagtrail;help;rules;schema' {
            break
        }
        'tagtrail;help;rules;generate' {
            break
        }
        'tagtrail;help;inventory' {
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Fetch resources (tagging API, per region), principals (IAM) and KMS aliases with their tags, or AWS Config''s record of tags over time, and write them as the AWS CLI JSON files `--inventory DIR` reads')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write an inventory folder as tables for SQL engines (Athena, Spark, DuckDB): `inventory` (each ARN''s product tag, with the interval it holds for dated snapshots and AWS Config''s record) and `kms_aliases`')
            break
        }
        'tagtrail;help;inventory;fetch' {
            break
        }
        'tagtrail;help;inventory;export' {
            break
        }
        'tagtrail;help;report' {
            [CompletionResult]::new('ddl', 'ddl', [CompletionResultType]::ParameterValue, 'Print the statement that makes a report queryable: a one-off scan''s folder, or with --partitioned a scheduled scan''s report root (day partitions projected in Athena)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'List the findings of NEW that OLD lacks and those of OLD gone from NEW, keyed by event id, resource and kind. Exits 1 when they differ')
            break
        }
        'tagtrail;help;report;ddl' {
            break
        }
        'tagtrail;help;report;diff' {
            break
        }
        'tagtrail;help;sql' {
            break
        }
        'tagtrail;help;completions' {
            break
        }
        'tagtrail;help;docs' {
            break
        }
        'tagtrail;help;bench-floor' {
            break
        }
        'tagtrail;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
