//! `tagtrail sql`: the rule pack, name completion and verdicts as one SQL query for engines
//! that already hold the trail (Athena, Spark), so the same rules run where the data is.
//!
//! The rules are data, not SQL text: every extractor becomes rows of small tables
//! ([`RuleTables`]) that one fixed query joins to the trail, so the query stays the same size
//! whatever the pack (Athena refuses queries over 256 KB; the pack has thousands of
//! extractors). The query is written once (`scan.sql`, the intermediate form) with the
//! constructs whose spelling differs between engines marked `@NAME(...)`; [`Dialect`] prints
//! it for each engine, so the two cannot drift.
//!
//! Paths are matched against the record's scalars flattened with their paths
//! (`.instancesSet.items[0].instanceId`): each rule path becomes a regular expression over
//! those, `[key=value]` a check on the element's sibling.

pub mod ddl;
mod rules;

use std::fmt;

use chrono::{DateTime, Utc};

use crate::inventory::TagKey;
use crate::source::Window;

pub use ddl::{data_tables_ddl, spark_schemas, trail_schema, trail_table_ddl, TrailLayout};
pub use rules::{compile_rules, RuleTables, Untranslated, TABLES};

/// Where the query runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Amazon Athena (Trino).
    Athena,
    /// Apache Spark SQL (4.0 or later: VARIANT).
    Spark,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Athena => "athena",
            Dialect::Spark => "spark",
        })
    }
}

/// The query of the intermediate form, before printing.
const QUERY: &str = include_str!("scan.sql");

/// Prints the findings query for `dialect`. `tables` gives how deep records are flattened
/// and how many capture groups templates use.
pub fn query(
    dialect: Dialect,
    tables: &RuleTables,
    window: Window,
    tag_key: &TagKey,
    notes: &[String],
) -> String {
    let mut header = format!(
        "-- tagtrail {} findings query ({dialect}), {} rules as data (see `tagtrail sql --out`).\n",
        env!("CARGO_PKG_VERSION"),
        tables.rule_count
    );
    for note in notes {
        header.push_str(&format!("-- {note}\n"));
    }
    let body = QUERY
        .lines()
        .skip_while(|l| l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let body = body
        .replace("{{window}}", &window_filter(dialect, window))
        .replace("{{leaves}}", &leaves(dialect, tables.depth))
        .replace("{{render}}", &render(tables.groups))
        .replace("{{session_chain}}", &session_chain(CHAIN_HOPS))
        .replace("{{chain_hops}}", &CHAIN_HOPS.to_string())
        .replace("{{findings_columns}}", &findings_columns());
    // The tag key goes in after the constructs are printed: it is the user's text.
    let (open, close, key) = if tag_key.case_insensitive {
        ("lower(trim(", "))", tag_key.key.trim().to_lowercase())
    } else {
        ("", "", tag_key.key.clone())
    };
    let printed = expand(dialect, &body)
        .replace("{{key_fold_open}}", open)
        .replace("{{key_fold_close}}", close)
        .replace("{{tag_key}}", &format!("'{}'", key.replace('\'', "''")));
    match dialect {
        Dialect::Athena => header + &printed + "\n",
        Dialect::Spark => header + &materialized(&printed),
    }
}

/// The columns of the findings report, in its order: the query's result.
fn findings_columns() -> String {
    crate::report::SCHEMA
        .iter()
        .map(|(name, _, _)| *name)
        .collect::<Vec<_>>()
        .join(",\n  ")
}

/// How many sessions deep the query follows a role chain.
pub const CHAIN_HOPS: usize = 8;

/// The `session_chain` steps: each session's product and whether it passes it on, computed
/// `hops` times, each from its parent's in the step before (sessions::link), so that chains
/// of up to `hops` sessions get the product the scan gives them.
fn session_chain(hops: usize) -> String {
    let mut out = "session_chain0 AS (\n  SELECT rk, COALESCE(incoming, own) AS product, \
         incoming IS NOT NULL OR own_transitive AS transitive\n  FROM session_starts\n)"
        .to_string();
    for hop in 1..=hops {
        let name = if hop == hops {
            "session_chain".to_string()
        } else {
            format!("session_chain{hop}")
        };
        out.push_str(&format!(
            ",\n{name} AS (\n  SELECT s.rk,\n    \
             COALESCE(s.incoming, CASE WHEN p.transitive THEN p.product END, s.own) AS product,\n    \
             COALESCE(s.incoming, CASE WHEN p.transitive THEN p.product END) IS NOT NULL OR s.own_transitive AS transitive\n  \
             FROM session_starts s\n  \
             LEFT JOIN session_parents sp ON sp.rk = s.rk\n  \
             LEFT JOIN session_chain{} p ON p.rk = sp.parent_rk\n)",
            hop - 1
        ));
    }
    out
}

/// The database Spark's form writes its steps to.
pub const SPARK_STEPS_DATABASE: &str = "tagtrail_steps";

/// Spark's form: each step of the query that later steps read more than once written as a
/// table of database [`SPARK_STEPS_DATABASE`], then the final `SELECT`; one statement per
/// line-ending `;`. Spark's analyzer expands a CTE (or a view, or a cached query) at every
/// reference, and this query's steps are referenced many times over: planned as one, it runs
/// out of memory before it runs. A step read from a table is planned as a scan. A step read
/// once stays a CTE of the statement that reads it (fewer statements: each one costs Spark a
/// job and a write).
fn materialized(query: &str) -> String {
    let (steps, last) = split_ctes(query);
    let reads = |body: &str, name: &str| -> bool {
        body.match_indices(name).any(|(at, _)| {
            let before = body[..at].chars().next_back();
            let after = body[at + name.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    };
    let readers = |name: &str| -> usize {
        steps
            .iter()
            .map(|(_, body)| body.as_str())
            .chain(std::iter::once(last.as_str()))
            .filter(|body| reads(body, name))
            .count()
    };
    // A union stays a table: inlined, Spark 4.0's optimizer has been seen to break the plan of
    // the statement reading it (RemoveRedundantAliases: PLAN_VALIDATION_FAILED_RULE_IN_BATCH).
    let inline: Vec<bool> = steps
        .iter()
        .map(|(n, body)| readers(n) == 1 && !body.contains("UNION ALL"))
        .collect();
    // The steps a statement takes along as CTEs: those read once, that it reads, and what
    // they read once in turn, in query order.
    let along = |body: &str| -> String {
        let mut wanted = vec![false; steps.len()];
        let mut stack = vec![body.to_string()];
        while let Some(text) = stack.pop() {
            for (i, (name, step)) in steps.iter().enumerate() {
                if inline[i] && !wanted[i] && reads(&text, name) {
                    wanted[i] = true;
                    stack.push(step.clone());
                }
            }
        }
        let ctes: Vec<String> = steps
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| **w)
            .map(|((name, step), _)| format!("{name} AS (\n{step}\n)"))
            .collect();
        if ctes.is_empty() {
            body.to_string()
        } else {
            format!("WITH {}\n{body}", ctes.join(",\n"))
        }
    };
    let mut out = format!(
        "CREATE DATABASE IF NOT EXISTS {SPARK_STEPS_DATABASE}\n;\nUSE {SPARK_STEPS_DATABASE}\n;\n"
    );
    for (i, (name, body)) in steps.iter().enumerate() {
        if inline[i] {
            continue;
        }
        out.push_str(&format!(
            "DROP TABLE IF EXISTS {name}\n;\nCREATE TABLE {name} USING parquet AS\n{}\n;\n",
            along(body)
        ));
    }
    out.push_str(along(last.trim()).trim());
    out.push_str("\n;\n");
    out
}

/// `WITH a AS (...), b AS (...) SELECT ...` → ([(a, ...), (b, ...)], `SELECT ...`).
fn split_ctes(query: &str) -> (Vec<(String, String)>, String) {
    let text: String = query
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = text
        .trim_start()
        .strip_prefix("WITH")
        .expect("the query starts with WITH");
    let mut steps = Vec::new();
    loop {
        let trimmed = rest.trim_start();
        let Some(open) = trimmed.find(" AS (") else {
            break;
        };
        let name = trimmed[..open].trim();
        if name.contains(char::is_whitespace) {
            break;
        }
        let body_open = open + " AS ".len();
        let end = body_open + parenthesis(&trimmed[body_open..]).1;
        steps.push((
            name.to_string(),
            trimmed[body_open + 1..end].trim().to_string(),
        ));
        rest = trimmed[end + 1..].trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None => break,
        }
    }
    (steps, rest.to_string())
}

fn window_filter(dialect: Dialect, window: Window) -> String {
    let literal = |t: DateTime<Utc>| match dialect {
        Dialect::Spark => format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.3f")),
        Dialect::Athena => format!(
            "from_iso8601_timestamp('{}')",
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        ),
    };
    let mut out = String::new();
    // Athena: only the day folders the window can touch (a day of slack each side: folders
    // are named by when a file was delivered, not by its events' times).
    if dialect == Dialect::Athena {
        let day = |t: DateTime<Utc>| t.format("%Y/%m/%d").to_string();
        if let Some(since) = window.since {
            out.push_str(&format!(
                "\n    AND \"timestamp\" >= '{}'",
                day(since - chrono::Duration::days(1))
            ));
        }
        if let Some(until) = window.until {
            out.push_str(&format!(
                "\n    AND \"timestamp\" <= '{}'",
                day(until + chrono::Duration::days(1))
            ));
        }
    }
    // A record without a readable time is kept, as the scan keeps it.
    if let Some(since) = window.since {
        out.push_str(&format!(
            "\n    AND (@TS(eventtime) IS NULL OR @TS(eventtime) >= {})",
            literal(since)
        ));
    }
    if let Some(until) = window.until {
        out.push_str(&format!(
            "\n    AND (@TS(eventtime) IS NULL OR @TS(eventtime) < {})",
            literal(until)
        ));
    }
    out
}

/// The `leaves` CTE: every scalar of the sections rules read, `depth` levels deep, with its
/// path relative to its section, an order key (document order within a level) and whether
/// it is a string. Strings are percent-decoded, trimmed and empty ones dropped; numbers keep
/// their text. Paths are those of the record as rules read it (`ruleset::record`): a
/// service event's details stand for its request and response, a query-API wrapper
/// (`{"<Call>Request": {...}}`) is stepped over, and list items (`{"tag": 1, "content": v}`;
/// inside a wrapper, structures with a `tag`, and `{"item": ...}`) are read as the lists they
/// stand for.
fn leaves(dialect: Dialect, depth: usize) -> String {
    // The request and response as rules read them (a service event's details stand in).
    let sections = [
        ("requestParameters", "request_text"),
        ("responseElements", "response_text"),
        ("additionalEventData", "additionaleventdata"),
        ("serviceEventDetails", "serviceeventdetails"),
        ("userIdentity", "@STRUCT_JSON(ui)"),
        ("resources", "@STRUCT_JSON(resources)"),
    ];
    let roots = sections
        .iter()
        .map(|(root, column)| {
            format!("  SELECT rk, '{root}' AS root, {column} AS txt FROM records WHERE {column} IS NOT NULL")
        })
        .collect::<Vec<_>>()
        .join("\n  UNION ALL\n");
    let mut out = format!("json_roots AS (\n{roots}\n),\n");
    // Every level's nodes, for the typed_nodes step below.
    let all = (0..=depth)
        .map(|l| format!("SELECT * FROM nodes{l}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    match dialect {
        Dialect::Spark => {
            out.push_str(
                "nodes0 AS (SELECT rk, root, '' AS path, '' AS parent, '' AS seg, '' AS ordpath, 0 AS level, try_parse_json(txt) AS v FROM json_roots),\n",
            );
            for level in 1..=depth {
                out.push_str(&format!(
                    "nodes{level} AS (\n  SELECT rk, root, concat(parent, seg) AS path, parent, seg, ordpath, {level} AS level, v FROM (\n    SELECT n.rk, n.root, n.path AS parent,\n      CASE WHEN c.key IS NULL THEN concat('[', CAST(c.pos AS STRING), ']') ELSE concat('.', c.key) END AS seg,\n      concat(n.ordpath, lpad(CAST(c.pos AS STRING), 5, '0')) AS ordpath, c.value AS v\n    FROM nodes{} n, LATERAL variant_explode(n.v) c\n  ) c\n),\n",
                    level - 1
                ));
            }
            out.push_str(&format!(
                "typed_nodes AS (\n  SELECT rk, root, path, parent, seg, ordpath, level, s,\n    CASE WHEN t = 'STRING' THEN 'str' WHEN t LIKE 'DECIMAL%' OR t IN ('BIGINT', 'INT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'FLOAT') THEN 'num'\n      WHEN t LIKE 'OBJECT%' THEN 'obj' WHEN t LIKE 'ARRAY%' THEN 'arr' ELSE 'other' END AS kind\n  FROM (SELECT n.*, schema_of_variant(v) AS t, variant_get(v, '$', 'string') AS s FROM ({all}) n) n\n),\n"
            ));
        }
        Dialect::Athena => {
            out.push_str(
                "nodes0 AS (SELECT rk, root, '' AS path, '' AS parent, '' AS seg, '' AS ordpath, 0 AS level, try(json_parse(txt)) AS j FROM json_roots),\n",
            );
            for level in 1..=depth {
                let parent = level - 1;
                out.push_str(&format!(
                    "nodes{level} AS (\n  SELECT n.rk, n.root, concat(n.path, '.', c.k) AS path, n.path AS parent, concat('.', c.k) AS seg, concat(n.ordpath, lpad(CAST(c.i AS VARCHAR), 5, '0')) AS ordpath, {level} AS level, element_at(TRY_CAST(n.j AS MAP(VARCHAR, JSON)), c.k) AS j\n  FROM nodes{parent} n CROSS JOIN UNNEST(map_keys(TRY_CAST(n.j AS MAP(VARCHAR, JSON)))) WITH ORDINALITY AS c(k, i)\n  UNION ALL\n  SELECT n.rk, n.root, concat(n.path, '[', CAST(c.i - 1 AS VARCHAR), ']') AS path, n.path AS parent, concat('[', CAST(c.i - 1 AS VARCHAR), ']') AS seg, concat(n.ordpath, lpad(CAST(c.i AS VARCHAR), 5, '0')) AS ordpath, {level} AS level, c.v AS j\n  FROM nodes{parent} n CROSS JOIN UNNEST(TRY_CAST(n.j AS ARRAY(JSON))) WITH ORDINALITY AS c(v, i)\n),\n"
                ));
            }
            out.push_str(&format!(
                "typed_nodes AS (\n  SELECT rk, root, path, parent, seg, ordpath, level, s,\n    CASE substr(text, 1, 1) WHEN '\"' THEN 'str' WHEN '{{' THEN 'obj' WHEN '[' THEN 'arr'\n      ELSE CASE WHEN s IS NOT NULL AND text NOT IN ('true', 'false', 'null') THEN 'num' ELSE 'other' END END AS kind\n  FROM (SELECT n.*, json_format(j) AS text, json_extract_scalar(j, '$') AS s FROM ({all}) n) n\n),\n"
            ));
        }
    }
    // What each object node holds: how many members, a numeric `tag`, a `content`.
    out.push_str(
        "node_facts AS (\n  SELECT rk, root, parent AS path,\n    sum(CASE WHEN @STARTS(seg, '.') THEN 1 ELSE 0 END) AS n_keys,\n    max(CASE WHEN seg = '.tag' AND kind = 'num' THEN 1 ELSE 0 END) AS tag_num,\n    max(CASE WHEN seg = '.content' THEN 1 ELSE 0 END) AS has_content,\n    min(seg) AS first_seg\n  FROM typed_nodes WHERE seg <> '' GROUP BY rk, root, parent\n),\n",
    );
    // A request or response whose one member is a query-API wrapper (ruleset::record::is_wrapper).
    out.push_str(
        "wrappers AS (\n  SELECT t.rk, t.root, t.path, t.kind FROM typed_nodes t\n  JOIN (SELECT rk, root FROM typed_nodes WHERE parent = '' AND seg <> '' AND root IN ('requestParameters', 'responseElements')\n        GROUP BY rk, root HAVING count(*) = 1) one ON one.rk = t.rk AND one.root = t.root\n  WHERE t.parent = '' AND t.kind IN ('obj', 'str')\n    AND ((t.root = 'requestParameters' AND @RLIKE(t.path, @RE('^\\.([A-Z][A-Za-z0-9]*)?(Request|Req)$')))\n      OR (t.root = 'responseElements' AND @RLIKE(t.path, @RE('^\\.([A-Z][A-Za-z0-9]*)?Response$'))))\n),\n",
    );
    // Each node's path as rules read it (`rpath`), level by level from its parent's.
    out.push_str(
        "rpath0 AS (SELECT rk, root, path, '' AS rpath, seg, kind, ordpath, s, false AS in_wrapper, false AS dropped FROM typed_nodes WHERE path = '' AND seg = ''),\n",
    );
    for level in 1..=depth {
        let wrapper = if level == 1 {
            "w.path IS NOT NULL"
        } else {
            "false"
        };
        let join_wrapper = if level == 1 {
            "\n  LEFT JOIN wrappers w ON w.rk = n.rk AND w.root = n.root AND w.path = n.path"
        } else {
            ""
        };
        out.push_str(&format!(
            "rpath{level} AS (\n  SELECT n.rk, n.root, n.path, n.seg, n.kind, n.ordpath, n.s,\n    p.in_wrapper OR {wrapper} AS in_wrapper,\n    p.dropped OR ({wrapper} AND n.kind = 'str')\n      OR (n.seg = '.tag' AND (f.content_item OR f.struct_item)) AS dropped,\n    CASE\n      WHEN {wrapper} THEN ''\n      WHEN f.content_item AND n.seg = '.content' THEN concat(p.rpath, CASE WHEN @STARTS(p.seg, '[') THEN '' ELSE '[0]' END)\n      WHEN f.struct_item THEN concat(p.rpath, CASE WHEN @STARTS(p.seg, '[') THEN '' ELSE '[0]' END, n.seg)\n      WHEN f.item_list AND n.seg IN ('.item', '.member') THEN concat(p.rpath, CASE WHEN n.kind = 'arr' THEN '' ELSE '[0]' END)\n      ELSE concat(p.rpath, n.seg)\n    END AS rpath\n  FROM typed_nodes n\n  JOIN rpath{parent} p ON p.rk = n.rk AND p.root = n.root AND p.path = n.parent{join_wrapper}\n  LEFT JOIN (\n    SELECT f.rk, f.root, f.path,\n      f.tag_num = 1 AND f.has_content = 1 AND f.n_keys = 2 AS content_item,\n      p.in_wrapper AND f.tag_num = 1 AND f.has_content = 0 AS struct_item,\n      p.in_wrapper AND f.n_keys = 1 AND f.first_seg IN ('.item', '.member') AS item_list\n    FROM node_facts f JOIN rpath{parent} p ON p.rk = f.rk AND p.root = f.root AND p.path = f.path\n  ) f ON f.rk = p.rk AND f.root = p.root AND f.path = p.path\n  WHERE n.level = {level}\n),\n",
            parent = level - 1,
        ));
    }
    let every = (0..=depth)
        .map(|l| format!("SELECT rk, root, rpath, ordpath, s, kind, dropped FROM rpath{l}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    out.push_str(&format!(
        "leaves AS (\n  SELECT rk, root, path, ordpath, value, is_string FROM (\n    SELECT rk, root, rpath AS path, ordpath, CASE WHEN kind = 'str' THEN trim(@DECODED(s)) ELSE s END AS value, kind = 'str' AS is_string\n    FROM ({every}) n\n    WHERE NOT dropped AND kind IN ('str', 'num') AND s IS NOT NULL\n  ) l\n  WHERE NOT is_string OR value <> ''\n"
    ));
    // The sections that are one scalar.
    for (root, column) in [
        ("eventName", "event_name"),
        ("eventSource", "event_source"),
        ("awsRegion", "aws_region"),
        ("recipientAccountId", "recipient_account"),
    ] {
        out.push_str(&format!(
            "  UNION ALL SELECT rk, '{root}', '', '', {column}, true FROM records WHERE {column} IS NOT NULL\n"
        ));
    }
    out.push(')');
    out
}

/// The template filled in, `NULL` when a placeholder has no value (Template::render): the
/// builtins, the regex capture groups `{g1}`..`{gN}` and the vars `{v1}`..`{v4}`. A missing
/// value leaves the marker `{!}`, which no template or ARN holds.
fn render(groups: usize) -> String {
    let mut fills: Vec<(String, String)> = [
        ("partition", "ctx_partition"),
        ("region", "ctx_region"),
        ("account", "ctx_account"),
        ("value", "value"),
        ("type", "type_name"),
        ("v1", "var1"),
        ("v2", "var2"),
        ("v3", "var3"),
        ("v4", "var4"),
    ]
    .iter()
    .map(|(p, v)| (p.to_string(), v.to_string()))
    .collect();
    for g in 1..=groups {
        fills.push((
            format!("g{g}"),
            format!(
                "CASE WHEN template LIKE '%{{g{g}}}%' THEN regexp_extract(value, regex, {g}) END"
            ),
        ));
    }
    let mut expr = "template".to_string();
    for (placeholder, value) in fills {
        expr =
            format!("replace({expr}, '{{{placeholder}}}', COALESCE(NULLIF({value}, ''), '{{!}}'))");
    }
    format!("CASE WHEN {expr} LIKE '%{{!}}%' THEN NULL ELSE {expr} END")
}

/// Prints the `@NAME(args)` constructs of the intermediate form for `dialect`.
fn expand(dialect: Dialect, text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let tail = &after[name_len..];
        if name.is_empty() {
            out.push('@');
            rest = after;
            continue;
        }
        let (args, consumed) = if tail.starts_with('(') {
            split_args(tail)
        } else {
            (Vec::new(), 0)
        };
        let args: Vec<String> = args.iter().map(|a| expand(dialect, a)).collect();
        out.push_str(&construct(dialect, name, &args));
        rest = &tail[consumed..];
    }
    out.push_str(rest);
    out
}

/// `(a, b(c, d), 'e,f')` → (["a", "b(c, d)", "'e,f'"], length consumed).
fn split_args(text: &str) -> (Vec<String>, usize) {
    let (commas, close) = parenthesis(text);
    let starts = std::iter::once(0).chain(commas.iter().copied());
    let ends = commas.iter().copied().chain([close]);
    let args = starts
        .zip(ends)
        .map(|(start, end)| text[start + 1..end].trim().to_string())
        .collect();
    (args, close + 1)
}

/// In `text`, which opens with `(`: where the commas directly inside that parenthesis are,
/// and where the `)` that closes it is. Quoted text is passed over.
fn parenthesis(text: &str) -> (Vec<usize>, usize) {
    let (mut depth, mut quoted, mut commas) = (0, false, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return (commas, i);
                }
            }
            ',' if !quoted && depth == 1 => commas.push(i),
            _ => {}
        }
    }
    panic!("unbalanced parentheses in the query: {text}")
}

/// What an ARN looks like (arn::Arn::parse): partition, service and resource not empty.
const ARN_SHAPE: &str = r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$";

fn construct(dialect: Dialect, name: &str, a: &[String]) -> String {
    use Dialect::*;
    let re = |r: &str| construct(dialect, "RE", &[format!("'{r}'")]);
    match (name, dialect) {
        ("RE", Spark) => a[0].replace('\\', "\\\\"),
        ("RE", Athena) => a[0].clone(),
        ("RLIKE", Spark) => format!("({} RLIKE {})", a[0], a[1]),
        ("RLIKE", Athena) => format!("regexp_like({}, {})", a[0], a[1]),
        ("REGEX_ALL", _) => format!("regexp_extract_all({}, {}, {})", a[0], a[1], a[2]),
        ("STARTS", Spark) => format!("startswith({}, {})", a[0], a[1]),
        ("STARTS", Athena) => format!("starts_with({}, {})", a[0], a[1]),
        ("TS", Spark) => format!("try_to_timestamp({})", a[0]),
        // window::parse_event_time: ISO 8601, with `T` or a space, UTC without an offset.
        ("TS", Athena) => format!("try(from_iso8601_timestamp(replace({}, ' ', 'T')))", a[0]),
        ("TS_TEXT", Spark) => format!("date_format({}, \"yyyy-MM-dd'T'HH:mm:ss'Z'\")", a[0]),
        ("TS_TEXT", Athena) => format!(
            "date_format({} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%i:%sZ')",
            a[0]
        ),
        ("HASH", Spark) => format!("sha2({}, 256)", a[0]),
        ("HASH", Athena) => format!("to_hex(sha256(to_utf8({})))", a[0]),
        ("STR", Spark) => "STRING".into(),
        ("STR", Athena) => "VARCHAR".into(),
        ("STRUCT_JSON", Spark) => format!("to_json({})", a[0]),
        ("STRUCT_JSON", Athena) => format!("json_format(CAST({} AS JSON))", a[0]),
        ("SOURCE", Spark) => "tagtrail_source".into(),
        ("SOURCE", Athena) => "\"$path\"".into(),
        ("EXPLODE", Spark) => format!("LATERAL VIEW explode({}) {} AS {}", a[1], a[0], a[2]),
        ("EXPLODE", Athena) => format!("CROSS JOIN UNNEST({}) AS {}({})", a[1], a[0], a[2]),
        ("POSEXPLODE", Spark) => format!(
            "LATERAL VIEW posexplode({}) {} AS {}, {}",
            a[1], a[0], a[3], a[2]
        ),
        ("POSEXPLODE", Athena) => format!(
            "CROSS JOIN UNNEST({}) WITH ORDINALITY AS {}({}, {})",
            a[1], a[0], a[2], a[3]
        ),
        ("IS_ARN", _) => construct(dialect, "RLIKE", &[a[0].clone(), re(ARN_SHAPE)]),
        // JSON strings that hold an ARN, read from a section's raw text (percent-encoded
        // too: REST APIs log path parameters so).
        ("RE_ARN_STRINGS", _) => re(r#""(arn(?::|%3[Aa])[^"\\]*)""#),
        // arn::inside: `a` names something inside `b` (`group/g/deployments/d` in `group/g`).
        ("INSIDE", _) => format!(
            "(length({a}) > length({b}) AND {starts} AND substr({a}, length({b}) + 1, 1) IN ('/', ':'))",
            a = a[0],
            b = a[1],
            starts = construct(dialect, "STARTS", &[a[0].clone(), a[1].clone()]),
        ),
        ("SIZE", Spark) => format!("size({})", a[0]),
        ("SIZE", Athena) => format!("cardinality({})", a[0]),
        ("CONTAINS", Spark) => format!("array_contains({}, {})", a[0], a[1]),
        ("CONTAINS", Athena) => format!("contains({}, {})", a[0], a[1]),
        ("AT", Spark) => format!("try_element_at({}, {})", a[0], a[1]),
        ("AT", Athena) => format!("element_at({}, {})", a[0], a[1]),
        // Template::undoubled: the value without the resource type the template writes right
        // before `{value}` (`alias/` of `...:alias/{value}`), where the value carries it.
        ("UNDOUBLED", _) => {
            let (template, value) = (&a[0], &a[1]);
            let piece = format!(
                "COALESCE(regexp_extract({template}, {}, 1), '')",
                re(r"[:/}]([A-Za-z0-9-]{3,}[:/]+)\{value\}")
            );
            let bare = format!(
                "CASE WHEN {} THEN substr({value}, 2) ELSE {value} END",
                construct(dialect, "STARTS", &[value.clone(), "'/'".into()])
            );
            format!(
                "CASE WHEN {piece} <> '' AND {starts} AND length({bare}) > length({piece}) \
                 THEN substr({bare}, length({piece}) + 1) ELSE {value} END",
                starts = construct(dialect, "STARTS", &[bare.clone(), piece.clone()]),
            )
        }
        // inventory::index: an IAM ARN with a path, and the same ARN without it.
        ("HAS_IAM_PATH", _) => construct(
            dialect,
            "RLIKE",
            &[a[0].clone(), re(r"^arn:[^:]+:iam::[^:]*:[^/]+/.+/[^/]+$")],
        ),
        ("IAM_WITHOUT_PATH", _) => rewrite(
            dialect,
            &a[0],
            r"^arn:([^:]+):iam::([^:]*):([^/]+)/(.*/)?([^/]+)$",
            "arn:$1:iam::$2:$3/$5",
        ),
        // ArnIndex::complete: `full` is `stem` plus a dash and six characters (`random-suffix`)
        // or plus `/` and one more segment (`id-suffix`), or `stem` with an id (no `:` or `/`)
        // where its `*` is (`any-id`).
        ("COMPLETES", _) => {
            let (full, stem, how) = (&a[0], &a[1], &a[2]);
            let rest = format!("substr({full}, length({stem}) + 2)");
            let star = format!("position('*' IN {stem})");
            let after = format!("substr({stem}, {star} + 1)");
            format!(
                "(({how} IN ('random-suffix', 'id-suffix') \
                 AND {starts} \
                 AND (({how} = 'random-suffix' AND {six}) OR ({how} = 'id-suffix' AND {segment}))) \
                 OR ({how} = 'any-id' AND {star} > 0 AND {before} \
                 AND substr({full}, length({full}) - length({after}) + 1) = {after} AND {id}))",
                starts = construct(
                    dialect,
                    "STARTS",
                    &[
                        full.clone(),
                        format!("concat({stem}, CASE WHEN {how} = 'random-suffix' THEN '-' ELSE '/' END)"),
                    ],
                ),
                six = construct(dialect, "RLIKE", &[rest.clone(), re("^[A-Za-z0-9]{6}$")]),
                segment = construct(dialect, "RLIKE", &[rest, re("^[^/]+$")]),
                before = construct(
                    dialect,
                    "STARTS",
                    &[full.clone(), format!("substr({stem}, 1, {star} - 1)")],
                ),
                id = construct(
                    dialect,
                    "RLIKE",
                    &[
                        format!("substr({full}, {star}, length({full}) - length({stem}) + 1)"),
                        re("^[^:/]+$"),
                    ],
                ),
            )
        }
        ("NORM", _) => normalize(dialect, &a[0]),
        // ruleset::path::decoded: percent-encoding decoded at most twice, text whose escapes
        // do not decode kept ('+' is a plus sign, not a space).
        ("DECODED", _) => {
            let once = |x: &str| {
                let decode = match dialect {
                    Spark => format!("try_url_decode(replace({x}, '+', '%2B'))"),
                    Athena => format!("try(url_decode(replace({x}, '+', '%2B')))"),
                };
                let escaped = construct(dialect, "RLIKE", &[x.to_string(), re("%[0-9A-Fa-f]{2}")]);
                format!("CASE WHEN {escaped} THEN COALESCE({decode}, {x}) ELSE {x} END")
            };
            once(&once(&a[0]))
        }
        // history::timeline_key: IAM users and roles by name, without their path.
        ("TIMELINE_KEY", _) => rewrite(
            dialect,
            &a[0],
            r"^arn:([^:]+):iam::([^:]*):(role|user)/(?:.*/)?([^/]+)$",
            "arn:$1:iam::$2:$3/$4",
        ),
        // `regexp_replace(x, pattern, template)` for a pattern that matches all of `x`.
        ("REWRITE", _) => rewrite(dialect, &a[0], unquote(&a[1]), unquote(&a[2])),
        ("PARENT", _) => parent(dialect, &a[0]),
        // TagKey::matches; the key is filled in last (`query`).
        ("KEY_IS", _) => format!(
            "({{{{key_fold_open}}}}{}{{{{key_fold_close}}}} = {{{{tag_key}}}})",
            a[0]
        ),
        _ => panic!("no construct @{name} for {dialect}"),
    }
}

/// The text of a quoted SQL string literal of the query.
fn unquote(literal: &str) -> &str {
    literal
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
        .unwrap_or_else(|| panic!("not a string literal: {literal}"))
}

/// `x` rewritten as `template` (`$1`.. its capture groups) where `pattern` matches all of it,
/// else `x`. Spelled with captures joined rather than `regexp_replace`: engines write
/// backreferences differently (`$1`, `\1`), and translators leave them as they are.
fn rewrite(dialect: Dialect, x: &str, pattern: &str, template: &str) -> String {
    let matches = construct(
        dialect,
        "RLIKE",
        &[
            x.to_string(),
            construct(dialect, "RE", &[format!("'{pattern}'")]),
        ],
    );
    format!(
        "CASE WHEN {matches} THEN {} ELSE {x} END",
        captures(dialect, x, pattern, template)
    )
}

/// `template` filled with the capture groups of `pattern` (`$1`..`$9`) in `x`, which it
/// matches.
fn captures(dialect: Dialect, x: &str, pattern: &str, template: &str) -> String {
    let re = construct(dialect, "RE", &[format!("'{pattern}'")]);
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().and_then(|d| d.to_digit(10))) {
            ('$', Some(group)) => {
                chars.next();
                if !literal.is_empty() {
                    parts.push(format!("'{}'", std::mem::take(&mut literal)));
                }
                parts.push(format!("COALESCE(regexp_extract({x}, {re}, {group}), '')"));
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(format!("'{literal}'"));
    }
    match parts.len() {
        1 => parts.remove(0),
        _ => format!("concat({})", parts.join(", ")),
    }
}

/// arn::normalize: `NULL` unless an ARN; S3 ARNs without region and account (`bucket/` is
/// the bucket); log groups without `:*`.
fn normalize(dialect: Dialect, x: &str) -> String {
    let re = |r: &str| construct(dialect, "RE", &[format!("'{r}'")]);
    let like = |v: &str, r: &str| construct(dialect, "RLIKE", &[v.to_string(), re(r)]);
    let t = format!("trim({x})");
    let (bucket_slash, s3) = (
        r"^arn:([^:]+):s3:[^:]*:[^:]*:([^/]+)/$",
        r"(?s)^arn:([^:]+):s3:[^:]*:[^:]*:(.*)$",
    );
    format!(
        "CASE WHEN NOT {is_arn} THEN NULL \
         WHEN split_part({t}, ':', 3) = 's3' AND {is_bucket_slash} THEN {bucket} \
         WHEN split_part({t}, ':', 3) = 's3' THEN {object} \
         WHEN split_part({t}, ':', 3) = 'logs' THEN regexp_replace({t}, {star}, '') \
         ELSE {t} END",
        is_arn = like(&format!("COALESCE({t}, '')"), ARN_SHAPE),
        is_bucket_slash = like(&t, bucket_slash),
        bucket = captures(dialect, &t, bucket_slash, "arn:$1:s3:::$2"),
        object = captures(dialect, &t, s3, "arn:$1:s3:::$2"),
        star = re(r":\*$"),
    )
}

/// arn::parent: the resource whose tags apply to a part never tagged on its own.
fn parent(dialect: Dialect, x: &str) -> String {
    let re = |r: &str| construct(dialect, "RE", &[format!("'{r}'")]);
    let cases: [(&str, &str, &str); 7] = [
        (
            "s3",
            r"^arn:([^:]+):s3:[^:]*:[^:]*:([^/]*)/.*$",
            "arn:$1:s3:::$2",
        ),
        (
            "dynamodb",
            r"^(arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]*)/.*$",
            "$1",
        ),
        (
            "lambda",
            r"^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]*):.*$",
            "$1",
        ),
        (
            "logs",
            r"^(arn:[^:]+:logs:[^:]*:[^:]*:log-group:.*?):log-stream:.*$",
            "$1",
        ),
        ("sns", r"^(arn:[^:]+:sns:[^:]*:[^:]*:[^:]*):.*$", "$1"),
        (
            "kinesis",
            r"^(arn:[^:]+:kinesis:[^:]*:[^:]*:stream/.*?)/consumer/.*$",
            "$1",
        ),
        (
            "states",
            r"^arn:([^:]+):states:([^:]*):([^:]*):execution:([^:]*):.*$",
            "arn:$1:states:$2:$3:stateMachine:$4",
        ),
    ];
    let mut out = "CASE".to_string();
    for (service, pattern, replacement) in cases {
        out.push_str(&format!(
            " WHEN split_part({x}, ':', 3) = '{service}' AND {m} THEN {c}",
            m = construct(dialect, "RLIKE", &[x.to_string(), re(pattern)]),
            c = captures(dialect, x, pattern, replacement),
        ));
    }
    out.push_str(" END");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructs_print_per_dialect() {
        let text = "@RLIKE(@STARTS(a, 'b'), @RE('^x\\.y$'))";
        assert_eq!(
            expand(Dialect::Spark, text),
            "(startswith(a, 'b') RLIKE '^x\\\\.y$')"
        );
        assert_eq!(
            expand(Dialect::Athena, text),
            "regexp_like(starts_with(a, 'b'), '^x\\.y$')"
        );
        // Commas and parentheses inside quotes are not argument separators.
        assert_eq!(
            expand(Dialect::Athena, "@REGEX_ALL(x, '(a,b)', 1)"),
            "regexp_extract_all(x, '(a,b)', 1)"
        );
    }

    #[test]
    fn a_rewrite_joins_captures_instead_of_backreferences() {
        assert_eq!(
            expand(Dialect::Athena, "@REWRITE(x, '^a(b)c$', 'z$1y')"),
            "CASE WHEN regexp_like(x, '^a(b)c$') THEN \
             concat('z', COALESCE(regexp_extract(x, '^a(b)c$', 1), ''), 'y') ELSE x END"
        );
        assert_eq!(
            expand(Dialect::Spark, "@REWRITE(x, '^(a)\\.$', '$1')"),
            "CASE WHEN (x RLIKE '^(a)\\\\.$') THEN \
             COALESCE(regexp_extract(x, '^(a)\\\\.$', 1), '') ELSE x END"
        );
    }

    #[test]
    fn every_construct_of_the_query_prints_in_both_dialects() {
        let tables = RuleTables::default();
        for dialect in [Dialect::Spark, Dialect::Athena] {
            let key = TagKey {
                key: "product".into(),
                case_insensitive: false,
            };
            let q = query(dialect, &tables, Window::default(), &key, &[]);
            assert!(
                !q.contains('@'),
                "{dialect}: {}",
                &q[q.find('@').unwrap()..][..40]
            );
            assert!(!q.contains("{{"), "{dialect}");
        }
    }

    #[test]
    fn the_tag_key_is_quoted_and_never_read_as_a_construct() {
        let key = TagKey {
            key: "it's@NORM(x)".into(),
            case_insensitive: true,
        };
        let q = query(
            Dialect::Athena,
            &RuleTables::default(),
            Window::default(),
            &key,
            &[],
        );
        assert!(q.contains("(lower(trim(value)) = 'it''s@norm(x)')"), "{q}");
    }
}
