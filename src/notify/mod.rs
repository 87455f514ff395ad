//! Telling the owners: findings routed to the teams that own the resources, as Amazon SNS
//! messages, Amazon EventBridge events or webhook posts (Slack, Microsoft Teams).
//!
//! In: finding rows (a scheduled run's new findings, or every finding of a one-off scan with
//! `--notify`) and the `[notify]` table of the config file. Routing ([`NotifyConfig::route`])
//! sends each finding at or above `on` to the targets of every route it matches, else to the
//! default, else nowhere (counted). Findings are cut into [`Batch`]es that fit each service's
//! limits, each with a stable id; a scheduled run keeps them in the state's outbox until they
//! are delivered ([`deliver`]), so a run that cannot reach a target leaves the batch for the
//! next run, which sends it again under the same id (receivers drop repeats by it).

#[cfg(feature = "aws")]
mod deliver;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[cfg(feature = "aws")]
pub use deliver::{deliver, Transport};

use crate::report::FindingRow;
use crate::verdict::Kind;

/// The `source` of tagtrail's EventBridge events and the `source` field of every message.
pub const SOURCE: &str = "tagtrail";
/// The `detail-type` of tagtrail's EventBridge events.
pub const DETAIL_TYPE: &str = "tagtrail finding";
/// The version of the notice schema (`docs/src/notify/notice.schema.json`).
pub const SCHEMA: &str = "tagtrail.notice/1";

/// A configuration that does not hold together.
#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("[notify] {0}")]
    Config(String),
}

/// The `[notify]` table of the config file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NotifyConfig {
    /// Findings of this kind or a more severe one are sent (like `--fail-on`).
    #[serde(default = "default_on", alias = "notify-on", alias = "notify_on")]
    pub on: String,
    /// The target of findings no route matches; none: they are counted, not sent.
    #[serde(default)]
    pub default: Option<String>,
    /// A link to the run's report in messages (`{run}` is replaced by the run's id).
    #[serde(default)]
    pub report_url: Option<String>,
    /// Targets by name.
    #[serde(default)]
    pub targets: BTreeMap<String, Target>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

fn default_on() -> String {
    Kind::ProductMismatch.as_str().to_string()
}

/// Where notifications go: exactly one of the keys.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Target {
    /// An SNS topic ARN.
    #[serde(default)]
    pub sns: Option<String>,
    /// An EventBridge bus: its name or ARN (`default` for the account's default bus).
    #[serde(default)]
    pub eventbridge: Option<String>,
    /// A webhook URL (Slack and Teams incoming webhooks)...
    #[serde(default)]
    pub webhook: Option<String>,
    /// ...or the environment variable holding it (webhook URLs are secrets).
    #[serde(default)]
    pub webhook_env: Option<String>,
}

/// What a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Sns,
    EventBridge,
    Webhook,
}

impl Target {
    pub fn kind(&self) -> Option<TargetKind> {
        match (
            &self.sns,
            &self.eventbridge,
            self.webhook.is_some() || self.webhook_env.is_some(),
        ) {
            (Some(_), None, false) => Some(TargetKind::Sns),
            (None, Some(_), false) => Some(TargetKind::EventBridge),
            (None, None, true) if !(self.webhook.is_some() && self.webhook_env.is_some()) => {
                Some(TargetKind::Webhook)
            }
            _ => None,
        }
    }
}

/// A route: findings that match every key given go to `to`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Route {
    #[serde(default)]
    pub resource_product: Option<String>,
    #[serde(default)]
    pub principal_product: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    pub to: Vec<String>,
}

impl Route {
    fn matches(&self, notice: &Notice) -> bool {
        let is = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_deref() == Some(w))
        };
        is(&self.resource_product, &notice.resource_product)
            && is(&self.principal_product, &notice.principal_product)
            && self.kind.as_ref().is_none_or(|k| *k == notice.kind)
            && is(&self.account, &notice.account_id)
    }
}

impl NotifyConfig {
    /// Reads the `[notify]` table of a config file; `None` when it has none.
    pub fn from_config_file(text: &str, name: &str) -> Result<Option<Self>, NotifyError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            notify: Option<NotifyConfig>,
        }
        // toml's errors name the line and column.
        let file: File =
            toml::from_str(text).map_err(|e| NotifyError::Config(format!("{name}: {e}")))?;
        let Some(config) = file.notify else {
            return Ok(None);
        };
        config.check(name)?;
        Ok(Some(config))
    }

    /// Every name a route or the default uses is a target, every target says where it goes,
    /// every kind is one tagtrail reports.
    fn check(&self, name: &str) -> Result<(), NotifyError> {
        let bad = |what: String| Err(NotifyError::Config(format!("{name}: {what}")));
        if Kind::parse(&self.on).is_none() {
            return bad(format!("`on = \"{}\"` is not a finding kind", self.on));
        }
        for (target_name, target) in &self.targets {
            if target.kind().is_none() {
                return bad(format!(
                    "target `{target_name}` needs exactly one of sns, eventbridge, webhook, webhook-env"
                ));
            }
        }
        let named = self.routes.iter().flat_map(|r| &r.to).chain(&self.default);
        for to in named {
            if !self.targets.contains_key(to) {
                return bad(format!("`{to}` is not one of the [notify.targets]"));
            }
        }
        for route in &self.routes {
            if let Some(kind) = route.kind.as_deref().filter(|k| Kind::parse(k).is_none()) {
                return bad(format!("route kind `{kind}` is not a finding kind"));
            }
            if route.to.is_empty() {
                return bad("a route needs `to`".into());
            }
        }
        Ok(())
    }

    /// The threshold: findings of this kind or more severe are sent.
    pub fn threshold(&self) -> Kind {
        Kind::parse(&self.on).unwrap_or(Kind::ProductMismatch)
    }

    /// Whether a finding is at or above the threshold (the others are only counted, never
    /// held).
    pub fn wants(&self, row: &FindingRow) -> bool {
        row.kind <= self.threshold()
    }

    /// Routes `notices` at or above the threshold to their targets and cuts them into batches
    /// (`run` names the run they come from).
    pub fn route(&self, notices: Vec<Notice>, run: &str) -> Routed {
        let threshold = self.threshold();
        let mut routed = Routed::default();
        let mut by_target: BTreeMap<&str, Vec<Notice>> = BTreeMap::new();
        for notice in notices {
            if Kind::parse(&notice.kind).is_none_or(|k| k > threshold) {
                routed.below_threshold += 1;
                continue;
            }
            let mut to: BTreeSet<&str> = self
                .routes
                .iter()
                .filter(|r| r.matches(&notice))
                .flat_map(|r| r.to.iter().map(String::as_str))
                .collect();
            if to.is_empty() {
                to.extend(self.default.as_deref());
            }
            if to.is_empty() {
                routed.unrouted += 1;
                continue;
            }
            routed.routed += 1;
            for target in to {
                by_target.entry(target).or_default().push(notice.clone());
            }
        }
        for (target, notices) in by_target {
            let kind = self
                .targets
                .get(target)
                .and_then(Target::kind)
                .unwrap_or(TargetKind::Webhook);
            routed.batches.extend(batches(
                target,
                kind,
                notices,
                run,
                self.report_url.as_deref(),
            ));
        }
        routed
    }
}

/// What routing made of a run's findings.
#[derive(Debug, Default)]
pub struct Routed {
    pub batches: Vec<Batch>,
    /// Findings sent to at least one target.
    pub routed: u64,
    /// Findings no route matched, with no default.
    pub unrouted: u64,
    /// Findings below `on`.
    pub below_threshold: u64,
}

/// One finding as sent: the fields an owner acts on, and its stable id (the id tagtrail's
/// OCSF and Security Hub outputs give it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub kind: String,
    pub event_time: Option<String>,
    pub event_id: Option<String>,
    pub event_source: String,
    pub event_name: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub principal_arn: Option<String>,
    pub principal_product: Option<String>,
    pub resource_arn: Option<String>,
    pub resource_product: Option<String>,
    pub denied: bool,
}

impl Notice {
    pub fn new(row: &FindingRow) -> Self {
        let text = |s: &Option<std::sync::Arc<str>>| s.as_deref().map(str::to_string);
        Notice {
            id: row.finding_id(),
            kind: row.kind.as_str().to_string(),
            event_time: row
                .event_time
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            event_id: row.event_id.as_deref().map(str::to_string),
            event_source: row.event_source.to_string(),
            event_name: row.event_name.to_string(),
            account_id: text(&row.account_id),
            region: text(&row.aws_region),
            principal_arn: text(&row.principal_arn),
            principal_product: text(&row.principal_product),
            resource_arn: text(&row.resource_arn),
            resource_product: text(&row.resource_product),
            denied: row.denied,
        }
    }

    /// One line for people.
    pub fn line(&self) -> String {
        format!(
            "{}: {} ({}) {} {} ({}){}",
            self.kind,
            self.principal_arn.as_deref().unwrap_or("?"),
            self.principal_product.as_deref().unwrap_or("untagged"),
            self.event_name,
            self.resource_arn.as_deref().unwrap_or("?"),
            self.resource_product.as_deref().unwrap_or("untagged"),
            if self.denied { ", denied" } else { "" }
        )
    }
}

/// Findings bound for one target, sent as one SNS message, one `PutEvents` call or one
/// webhook post; kept in the outbox until delivered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Batch {
    /// Stable: the SHA-256 of the target and the findings' ids (first 16 bytes, hex).
    pub id: String,
    pub target: String,
    /// The run that found them.
    pub run: String,
    /// The report link, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    pub notices: Vec<Notice>,
    /// Delivery attempts so far (runs that tried).
    #[serde(default)]
    pub attempts: u32,
}

/// Below SNS's 256 KiB message (with its attributes) and EventBridge's 256 KiB per call.
const MAX_BATCH_BYTES: usize = 200 * 1024;
/// EventBridge takes at most 10 entries a call.
const EVENTBRIDGE_ENTRIES: usize = 10;
/// A webhook post shows counts and the first findings; more than this makes another post.
const WEBHOOK_NOTICES: usize = 500;

/// Cuts `notices` into batches under the target's limits.
fn batches(
    target: &str,
    kind: TargetKind,
    notices: Vec<Notice>,
    run: &str,
    report_url: Option<&str>,
) -> Vec<Batch> {
    let most = match kind {
        TargetKind::EventBridge => EVENTBRIDGE_ENTRIES,
        TargetKind::Webhook => WEBHOOK_NOTICES,
        TargetKind::Sns => usize::MAX,
    };
    let mut out = Vec::new();
    let mut current: Vec<Notice> = Vec::new();
    let mut bytes = 0;
    for notice in notices {
        let size = serde_json::to_vec(&notice).map_or(0, |v| v.len()) + 1;
        if !current.is_empty() && (current.len() >= most || bytes + size > MAX_BATCH_BYTES) {
            out.push(Batch::new(
                target,
                run,
                report_url,
                std::mem::take(&mut current),
            ));
            bytes = 0;
        }
        bytes += size;
        current.push(notice);
    }
    if !current.is_empty() {
        out.push(Batch::new(target, run, report_url, current));
    }
    out
}

impl Batch {
    fn new(target: &str, run: &str, report_url: Option<&str>, notices: Vec<Notice>) -> Self {
        let mut named = target.to_string();
        for notice in &notices {
            named.push('\n');
            named.push_str(&notice.id);
        }
        // The first 16 bytes of the SHA-256, as hex.
        let id = crate::integrity::sha256_hex(named.as_bytes())[..32].to_string();
        Batch {
            id,
            target: target.to_string(),
            run: run.to_string(),
            report_url: report_url.map(|url| url.replace("{run}", run)),
            notices,
            attempts: 0,
        }
    }

    /// The JSON message of an SNS batch (and the body of a webhook post beside its text).
    pub fn message(&self) -> serde_json::Value {
        serde_json::json!({
            "schema": SCHEMA,
            "source": SOURCE,
            "batch_id": self.id,
            "run": self.run,
            "report_url": self.report_url,
            "findings": self.notices,
        })
    }

    /// A short text for chat: counts by kind, the first findings, the report link.
    pub fn text(&self) -> String {
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for notice in &self.notices {
            *by_kind.entry(&notice.kind).or_default() += 1;
        }
        let counts: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let mut text = format!(
            "tagtrail: {} new finding(s) ({}), run {}",
            self.notices.len(),
            counts.join(", "),
            self.run
        );
        for notice in self.notices.iter().take(10) {
            text.push_str("\n• ");
            text.push_str(&notice.line());
        }
        if self.notices.len() > 10 {
            text.push_str(&format!("\n… and {} more", self.notices.len() - 10));
        }
        if let Some(url) = &self.report_url {
            text.push_str(&format!("\nReport: {url}"));
        }
        text
    }
}

/// The configuration and the way out.
pub struct Notifier {
    pub config: NotifyConfig,
    #[cfg(feature = "aws")]
    pub transport: Transport,
}

impl Notifier {
    /// Sends the batches of `outbox`; what is delivered leaves it.
    #[cfg_attr(not(feature = "aws"), allow(clippy::ptr_arg))]
    pub fn deliver(&self, outbox: &mut Vec<Batch>) -> Delivered {
        #[cfg(feature = "aws")]
        return deliver(outbox, &self.config, &self.transport);
        #[cfg(not(feature = "aws"))]
        Delivered {
            failed: outbox
                .iter()
                .map(|b| format!("batch {}: built without the `aws` feature", b.id))
                .collect(),
            ..Delivered::default()
        }
    }
}

/// What delivery did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Delivered {
    /// Batches delivered, and the findings in them.
    pub batches: u64,
    pub findings: u64,
    /// Batches left in the outbox, with why.
    pub failed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(id: &str, kind: &str, resource: &str, principal: &str) -> Notice {
        Notice {
            id: id.into(),
            kind: kind.into(),
            event_time: Some("2026-11-21T10:00:00.000Z".into()),
            event_id: Some(format!("e-{id}")),
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetObject".into(),
            account_id: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            principal_arn: Some("arn:aws:iam::111122223333:role/r".into()),
            principal_product: Some(principal.into()),
            resource_arn: Some("arn:aws:s3:::b".into()),
            resource_product: Some(resource.into()),
            denied: false,
        }
    }

    fn config(text: &str) -> Result<Option<NotifyConfig>, NotifyError> {
        NotifyConfig::from_config_file(text, "t.toml")
    }

    const ROUTED: &str = r#"
        [notify]
        on = "untagged-principal"
        default = "security"
        [notify.targets.payments]
        sns = "arn:aws:sns:us-east-1:111122223333:payments"
        [notify.targets.security]
        eventbridge = "default"
        [notify.targets.chat]
        webhook-env = "CHAT_WEBHOOK"
        [[notify.routes]]
        resource-product = "payments"
        to = ["payments", "chat"]
        [[notify.routes]]
        principal-product = "payments"
        kind = "product-mismatch"
        to = ["payments"]
    "#;

    #[test]
    fn findings_go_to_every_route_they_match_else_the_default() {
        let config = config(ROUTED).unwrap().unwrap();
        let routed = config.route(
            vec![
                notice("1", "product-mismatch", "payments", "search"),
                notice("2", "product-mismatch", "search", "payments"),
                notice("3", "untagged-principal", "search", "ads"),
                notice("4", "untagged-resource", "payments", "ads"),
            ],
            "run1",
        );
        let sent: Vec<(String, Vec<String>)> = routed
            .batches
            .iter()
            .map(|b| {
                (
                    b.target.clone(),
                    b.notices.iter().map(|n| n.id.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            sent,
            [
                ("chat".to_string(), vec!["1".to_string()]),
                (
                    "payments".to_string(),
                    vec!["1".to_string(), "2".to_string()]
                ),
                ("security".to_string(), vec!["3".to_string()]),
            ]
        );
        assert_eq!(
            (routed.routed, routed.unrouted, routed.below_threshold),
            (3, 0, 1)
        );
        // Without a default, what no route matches is counted, not sent.
        let mut no_default = config.clone();
        no_default.default = None;
        let routed = no_default.route(vec![notice("3", "untagged-principal", "x", "y")], "r");
        assert_eq!((routed.batches.len(), routed.unrouted), (0, 1));
    }

    #[test]
    fn batches_fit_the_limits_and_keep_their_ids() {
        let config = config(ROUTED).unwrap().unwrap();
        let many: Vec<Notice> = (0..25)
            .map(|i| notice(&i.to_string(), "untagged-principal", "x", "y"))
            .collect();
        let routed = config.route(many.clone(), "run1");
        let sizes: Vec<usize> = routed.batches.iter().map(|b| b.notices.len()).collect();
        assert_eq!(sizes, [10, 10, 5], "EventBridge: 10 entries a call");
        let again = config.route(many, "run1");
        assert_eq!(
            routed.batches, again.batches,
            "the same findings, the same ids"
        );
        // SNS: one message up to the size limit.
        let big: Vec<Notice> = (0..1000)
            .map(|i| notice(&i.to_string(), "product-mismatch", "payments", "x"))
            .collect();
        let routed = config.route(big, "run1");
        for batch in routed.batches.iter().filter(|b| b.target == "payments") {
            assert!(serde_json::to_vec(&batch.message()).unwrap().len() < 256 * 1024);
        }
        assert!(
            routed
                .batches
                .iter()
                .filter(|b| b.target == "payments")
                .count()
                > 1
        );
    }

    #[test]
    fn the_shipped_routes_parse() {
        for file in ["deploy/notify.toml", "examples/tagtrail.toml"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = config(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(parsed.is_some_and(|c| !c.routes.is_empty()), "{file}");
        }
    }

    #[test]
    fn a_bad_table_is_refused_with_where() {
        let err = config("[notify]\ndefault = \"nowhere\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`nowhere` is not one of the [notify.targets]"),
            "{err}"
        );
        let err = config("[notify.targets.x]\nsns = \"a\"\nwebhook = \"b\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("exactly one of"), "{err}");
        let err = config("[notify]\nroute = []\n").unwrap_err().to_string();
        assert!(err.contains("route") && err.contains("line 2"), "{err}");
        assert!(config("fail-on = \"never\"\n").unwrap().is_none());
    }
}
