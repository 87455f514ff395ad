//! The rule pack and the policy as rows of the tables the query joins ([`RuleTables`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::policy::Policy;
use crate::ruleset::template::Part;
use crate::ruleset::{Build, Extractor, JsonPath, RuleSet, Segment};

/// The tables, each with its columns as (name, SQL type: `string`, `int` or `boolean`).
pub const TABLES: &[(&str, &[(&str, &str)])] = &[
    (
        "tagtrail_calls",
        &[
            ("source", "string"),
            ("event", "string"),
            ("rule_id", "string"),
            ("companion", "boolean"),
            ("no_resource", "boolean"),
            ("fallback", "boolean"),
        ],
    ),
    (
        "tagtrail_paths",
        &[
            ("path_id", "int"),
            ("path", "string"),
            ("root", "string"),
            ("path_re", "string"),
            ("path_ci_re", "string"),
            ("node_re", "string"),
            ("filters", "int"),
            ("session", "string"),
        ],
    ),
    (
        "tagtrail_filters",
        &[
            ("path_id", "int"),
            ("grp", "int"),
            ("fkey", "string"),
            ("fvalue", "string"),
        ],
    ),
    (
        "tagtrail_rule_paths",
        &[("rule_id", "string"), ("path_id", "int")],
    ),
    (
        "tagtrail_extractors",
        &[
            ("rule_id", "string"),
            ("ext_no", "int"),
            ("path_id", "int"),
            ("build", "string"),
            ("template", "string"),
            ("arn_of", "string"),
            ("regex", "string"),
            ("strip_prefix", "string"),
            ("accept_arn", "boolean"),
            ("complete", "string"),
            ("has_types", "boolean"),
            ("n_when", "int"),
            ("var1_path", "int"),
            ("var2_path", "int"),
            ("var3_path", "int"),
            ("var4_path", "int"),
        ],
    ),
    (
        "tagtrail_conditions",
        &[
            ("rule_id", "string"),
            ("ext_no", "int"),
            ("kind", "string"),
            ("path_id", "int"),
            ("value", "string"),
        ],
    ),
    (
        "tagtrail_types",
        &[
            ("rule_id", "string"),
            ("ext_no", "int"),
            ("prefix", "string"),
            ("type_name", "string"),
        ],
    ),
    (
        "tagtrail_policy",
        &[
            ("kind", "string"),
            ("pattern", "string"),
            ("product", "string"),
        ],
    ),
    (
        "tagtrail_sar_formats",
        &[
            ("service", "string"),
            ("skeleton", "string"),
            ("pattern", "string"),
            ("literal_len", "int"),
            ("own", "boolean"),
            ("text", "string"),
        ],
    ),
    (
        "tagtrail_sar_targets",
        &[("action", "string"), ("skeleton", "string")],
    ),
    (
        "tagtrail_named",
        &[
            ("service", "string"),
            ("member", "string"),
            ("template", "string"),
        ],
    ),
    (
        "tagtrail_tag_calls",
        &[
            ("ord", "int"),
            ("source", "string"),
            ("name", "string"),
            ("prefix", "boolean"),
            ("op", "string"),
            ("pos", "int"),
            ("path_id", "int"),
        ],
    ),
];

/// The parts of a session-starting call (history::sessions) the query reads, by purpose: the
/// new credentials' key, the session tags (`tags`, else `principalTags`), the tags a role
/// chain passed in, and the keys passed on.
const SESSION_PATHS: [(&str, &str); 5] = [
    ("key", "responseElements.credentials.accessKeyId"),
    ("tags", "requestParameters.tags"),
    ("principal_tags", "requestParameters.principalTags"),
    ("incoming", "requestParameters.incomingTransitiveTags"),
    ("transitive_keys", "requestParameters.transitiveTagKeys"),
];

/// Vars a template may take from other paths (`{v1}`..`{v4}`).
const MAX_VARS: usize = 4;

/// The rule pack and policy as data, and what the query needs to know of their shape.
#[derive(Debug, Default)]
pub struct RuleTables {
    /// Rows per table of [`TABLES`], in its order.
    pub rows: Vec<Vec<Value>>,
    /// Rules that take at least one call.
    pub rule_count: usize,
    /// Levels of JSON the query flattens: the longest path, plus its last array.
    pub depth: usize,
    /// The highest regex capture group a template uses.
    pub groups: usize,
}

/// A rule (or part of one) the SQL cannot express: named in the query and on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslated {
    pub rule: String,
    pub reason: String,
}

#[derive(Default)]
struct Paths {
    ids: BTreeMap<String, usize>,
    rows: Vec<Value>,
    filters: Vec<Value>,
    depth: usize,
}

impl Paths {
    fn id(&mut self, path: &JsonPath) -> usize {
        if let Some(&id) = self.ids.get(path.as_str()) {
            return id;
        }
        let id = self.ids.len() + 1;
        let segments = path.segments();
        let mut body = String::new();
        let mut filters = Vec::new();
        for segment in &segments[1..] {
            match segment {
                Segment::Key(key) => body.push_str(&format!(r"\.{}", escape(key))),
                Segment::Index(i) => body.push_str(&format!(r"\[{i}\]")),
                Segment::All => body.push_str(r"(?:\[[0-9]+\]|\.[^.\[]+)"),
                Segment::Filter(key, value) => {
                    // The element so far, as a group: its sibling `key` is looked up.
                    body = format!(r"({body}\[[0-9]+\])");
                    filters.push((key.clone(), value.clone()));
                }
            }
        }
        let n = filters.len();
        for (j, (key, value)) in filters.into_iter().enumerate() {
            // Each wrap opens a group before the earlier ones: the last filter is group 1.
            self.filters
                .push(json!({"path_id": id, "grp": n - j, "fkey": key, "fvalue": value}));
        }
        let path_re = format!(r"^{body}(?:\[[0-9]+\])?$");
        self.depth = self.depth.max(segments.len());
        self.rows.push(json!({
            "path_id": id,
            "path": path.as_str(),
            "root": path.root(),
            "path_re": path_re,
            "path_ci_re": format!("(?i){path_re}"),
            // The node the path ends at and everything below it (the tags a call carries).
            "node_re": format!(r"^({body})(?:[.\[].*)?$"),
            "filters": n,
            "session": null,
        }));
        self.ids.insert(path.as_str().to_string(), id);
        id
    }
}

/// The extractors as the query runs them: a `named` extractor becomes one template extractor
/// per member name it reads (`requestParameters.natgatewayid`, matched in any case), so the
/// query joins them like any other.
fn expanded(extractors: &[crate::ruleset::Extractor]) -> Vec<crate::ruleset::Extractor> {
    let mut out = Vec::new();
    for x in extractors {
        let Build::Named(service) = &x.build else {
            out.push(x.clone());
            continue;
        };
        for (member, format) in crate::sar::named_members(service) {
            let path = JsonPath::parse(&format!("{}.{member}", x.path.as_str()))
                .expect("a member below a valid path is a valid path");
            let template = crate::ruleset::template::Template::parse(&format.template())
                .expect("a SAR format is a template");
            out.push(crate::ruleset::Extractor {
                path,
                build: Build::Template(template),
                ..x.clone()
            });
        }
    }
    out
}

/// A literal for Java's and Trino's regular expressions.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.^$|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A rule's regex for the engines: named groups become plain ones (Java refuses `_` in group
/// names; the query reads groups by number, which stay the same).
fn engine_regex(regex: &regex::Regex) -> String {
    static NAMED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    NAMED
        .get_or_init(|| regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("valid"))
        .replace_all(regex.as_str(), "(")
        .into_owned()
}

/// The template with its placeholders renamed for the query: a capture group → `{gN}`, a
/// var → `{vN}`, builtins kept; `None` when a placeholder can never have a value.
fn template_for(parts: &[Part], extractor: &Extractor, groups: &mut usize) -> Option<String> {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Var(name) => {
                let group = extractor
                    .regex
                    .as_ref()
                    .and_then(|re| re.capture_names().position(|n| n == Some(name.as_str())));
                let var = extractor.vars.iter().position(|(n, _)| n == name);
                match (group, var, name.as_str()) {
                    (Some(g), _, _) => {
                        *groups = (*groups).max(g);
                        out.push_str(&format!("{{g{g}}}"));
                    }
                    (None, Some(v), _) => out.push_str(&format!("{{v{}}}", v + 1)),
                    (None, None, "partition" | "region" | "account" | "value") => {
                        out.push_str(&format!("{{{name}}}"))
                    }
                    (None, None, "type") if !extractor.types.is_empty() => out.push_str("{type}"),
                    _ => return None,
                }
            }
        }
    }
    Some(out)
}

/// The rules that take a call, and the policy, as table rows.
pub fn compile_rules(rules: &RuleSet, policy: &Policy) -> (RuleTables, Vec<Untranslated>) {
    let mut untranslated = Vec::new();
    let mut paths = Paths::default();
    let mut calls = Vec::new();
    let mut extractors = Vec::new();
    let mut conditions = Vec::new();
    let mut types = Vec::new();
    let mut rule_paths = std::collections::BTreeSet::new();
    let mut groups = 0;
    let mut compiled = std::collections::BTreeSet::new();
    for (source, event, rule, companion) in rules.calls() {
        calls.push(json!({
            "source": source, "event": event, "rule_id": rule.id, "companion": companion,
            "no_resource": rule.no_resource, "fallback": rule.is_fallback(),
        }));
        if !compiled.insert(rule.id.clone()) {
            continue;
        }
        for (ext_no, x) in expanded(&rule.extractors).iter().enumerate() {
            if x.vars.len() > MAX_VARS {
                untranslated.push(Untranslated {
                    rule: rule.id.clone(),
                    reason: format!(
                        "extractor {} takes {} vars (the query fills {MAX_VARS})",
                        ext_no + 1,
                        x.vars.len()
                    ),
                });
                continue;
            }
            let path_id = paths.id(&x.path);
            rule_paths.insert((rule.id.clone(), path_id));
            let mut var_paths = [Value::Null, Value::Null, Value::Null, Value::Null];
            for (slot, (_, path)) in x.vars.iter().enumerate() {
                let id = paths.id(path);
                rule_paths.insert((rule.id.clone(), id));
                var_paths[slot] = json!(id);
            }
            for (path, value) in &x.when {
                let id = paths.id(path);
                rule_paths.insert((rule.id.clone(), id));
                conditions.push(json!({"rule_id": rule.id, "ext_no": ext_no, "kind": "when", "path_id": id, "value": value}));
            }
            for path in &x.unless {
                let id = paths.id(path);
                rule_paths.insert((rule.id.clone(), id));
                conditions.push(json!({"rule_id": rule.id, "ext_no": ext_no, "kind": "unless", "path_id": id, "value": null}));
            }
            for (prefix, type_name) in &x.types {
                types.push(json!({"rule_id": rule.id, "ext_no": ext_no, "prefix": prefix, "type_name": type_name}));
            }
            let (build, template, arn_of) = match &x.build {
                Build::Template(t) => ("template", template_for(t.parts(), x, &mut groups), None),
                Build::ArnOf(service) => ("arn_of", None, Some(service.clone())),
                Build::Named(_) => unreachable!("expanded into templates"),
            };
            extractors.push(json!({
                "rule_id": rule.id, "ext_no": ext_no, "path_id": path_id, "build": build,
                "template": template, "arn_of": arn_of,
                "regex": x.regex.as_ref().map(engine_regex),
                "strip_prefix": x.strip_prefix, "accept_arn": x.accept_arn,
                "complete": x.complete.map(|c| match c {
                    crate::inventory::Completion::RandomSuffix => "random-suffix",
                    crate::inventory::Completion::Path => "path",
                    crate::inventory::Completion::IdSuffix => "id-suffix",
                    crate::inventory::Completion::AnyId => "any-id",
                }),
                "has_types": !x.types.is_empty(), "n_when": x.when.len(),
                "var1_path": var_paths[0], "var2_path": var_paths[1], "var3_path": var_paths[2], "var4_path": var_paths[3],
            }));
        }
    }
    let mut policy_rows: Vec<Value> = policy
        .shared_values()
        .iter()
        .map(|v| json!({"kind": "shared", "pattern": null, "product": v}))
        .collect();
    for pattern in policy.ignore_regexes() {
        policy_rows.push(json!({"kind": "ignore", "pattern": pattern, "product": null}));
    }
    for (pattern, products) in policy.allow_regexes() {
        for product in products {
            policy_rows.push(json!({"kind": "allow", "pattern": pattern, "product": product}));
        }
    }
    // The calls that change tags (history::calls), each name and path a row.
    let mut tag_calls = Vec::new();
    let entries = crate::history::TagCalls::builtin().entries();
    for (ord, (source, names, op, tag_paths)) in entries.enumerate() {
        for name in names {
            let (name, prefix) = match name.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (name.as_str(), false),
            };
            let ids: Vec<Option<usize>> = if tag_paths.is_empty() {
                vec![None]
            } else {
                tag_paths.iter().map(|p| Some(paths.id(p))).collect()
            };
            for (pos, path_id) in ids.into_iter().enumerate() {
                tag_calls.push(json!({
                    "ord": ord, "source": source, "name": name, "prefix": prefix, "op": op,
                    "pos": pos, "path_id": path_id,
                }));
            }
        }
    }
    // What a call that starts a role session says of its product (history::sessions).
    for (purpose, path) in SESSION_PATHS {
        let id = paths.id(&JsonPath::parse(path).expect("a valid path"));
        paths.rows[id - 1]["session"] = json!(purpose);
    }
    let tables = RuleTables {
        rule_count: compiled.len(),
        // A tag path's node holds its tags a wrapper, an element and a key further down.
        depth: paths.depth.max(1) + 2,
        groups,
        rows: vec![
            calls,
            paths.rows,
            paths.filters,
            rule_paths
                .into_iter()
                .map(|(rule_id, path_id)| json!({"rule_id": rule_id, "path_id": path_id}))
                .collect(),
            extractors,
            conditions,
            types,
            policy_rows,
            sar_formats(),
            sar_targets(),
            named_rows(),
            tag_calls,
        ],
    };
    (tables, untranslated)
}

/// The SAR's formats (`sar::type_of` as data): each with its pattern, how specific it is,
/// and whether its IAM prefix is its ARN's service (which wins a tie).
fn sar_formats() -> Vec<Value> {
    crate::sar::formats()
        .iter()
        .map(|f| {
            json!({
                "service": f.service, "skeleton": f.skeleton(), "pattern": f.pattern(),
                "literal_len": f.literal_len(), "own": f.iam_prefix == f.service, "text": f.text,
            })
        })
        .collect()
}

/// Per action (and per event name whose action has another name), the types it acts on.
fn sar_targets() -> Vec<Value> {
    let mut out = Vec::new();
    for (action, targets) in crate::sar::actions_with_targets() {
        let mut skeletons: Vec<String> = targets.iter().map(|f| f.skeleton()).collect();
        skeletons.sort();
        skeletons.dedup();
        out.extend(
            skeletons
                .into_iter()
                .map(|skeleton| json!({"action": action, "skeleton": skeleton})),
        );
    }
    out
}

/// For every ARN service, the members a `named` extractor reads and the template each fills
/// (a service event's resource, named by its API's member: `snapshotId`).
fn named_rows() -> Vec<Value> {
    let mut services: Vec<&str> = crate::sar::formats().iter().map(|f| f.service).collect();
    services.sort_unstable();
    services.dedup();
    let mut out = Vec::new();
    for service in services {
        for (member, format) in crate::sar::named_members(service) {
            out.push(json!({"service": service, "member": member, "template": format.template()}));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_re(text: &str) -> (String, Vec<Value>) {
        let mut paths = Paths::default();
        paths.id(&JsonPath::parse(text).unwrap());
        (
            paths.rows[0]["path_re"].as_str().unwrap().to_string(),
            paths.filters,
        )
    }

    #[test]
    fn paths_become_expressions_over_flattened_paths() {
        let (re, _) = path_re("requestParameters.instancesSet.items[*].instanceId");
        let re = regex::Regex::new(&re).unwrap();
        assert!(re.is_match(".instancesSet.items[3].instanceId"));
        assert!(
            re.is_match(".instancesSet.items[3].instanceId[0]"),
            "an array at the end"
        );
        assert!(!re.is_match(".instancesSet.items[3].instanceId.x"));
        let (re, _) = path_re(r#"requestParameters[*]."aws:s3:arn""#);
        assert!(regex::Regex::new(&re)
            .unwrap()
            .is_match(".CreateX.aws:s3:arn"));
        let (re, filters) = path_re("requestParameters.f.items[name=vpc-id].v[*].value");
        let re = regex::Regex::new(&re).unwrap();
        let caps = re.captures(".f.items[2].v[0].value").unwrap();
        assert_eq!(&caps[1], ".f.items[2]");
        assert_eq!(filters[0]["grp"], 1);
        assert_eq!(filters[0]["fkey"], "name");
    }

    #[test]
    fn the_builtin_pack_compiles_whole() {
        let rules = RuleSet::builtin().unwrap();
        let (tables, untranslated) = compile_rules(&rules, &Policy::default());
        assert_eq!(untranslated, []);
        assert!(tables.rule_count > 1000, "{}", tables.rule_count);
        assert!((4..=12).contains(&tables.depth), "{}", tables.depth);
        for row in &tables.rows[4] {
            if let Some(re) = row["regex"].as_str() {
                assert!(!re.contains("?P<"), "{re}");
            }
        }
    }
}
