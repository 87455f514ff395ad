//! One findings row per finding, with the documented column contract ([`SCHEMA`]) and the
//! report order; rows share their repeated strings per thread.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::event::RecordSource;
use crate::principal::PrincipalKind;
use crate::resolve::ResolvedEvent;
use crate::verdict::{Finding, Kind};

/// The columns of `findings.parquet` / `findings.csv`: name, type, meaning. This is the
/// documented contract; tests check the files against it.
pub const SCHEMA: &[(&str, &str, &str)] = &[
    ("event_time", "timestamp[ms, UTC]", "eventTime of the record"),
    ("event_id", "string", "eventID"),
    ("event_source", "string", "eventSource, e.g. s3.amazonaws.com"),
    ("event_name", "string", "eventName, e.g. GetObject"),
    ("aws_region", "string", "awsRegion"),
    ("account_id", "string", "the account that received the call and owns the resource (recipientAccountId)"),
    ("principal_arn", "string", "the IAM user or role that acted (the role behind a session)"),
    ("principal_type", "string", "iam-user, assumed-role, identity-center, root, federated-user, web-identity, aws-account, unknown"),
    ("principal_account", "string", "the caller's account"),
    ("cross_account", "bool", "the caller's account differs from account_id"),
    ("principal_product", "string", "the principal's product tag at the event's time, if any"),
    ("principal_tag_source", "string", "where the principal's tag came from: session, trail, snapshot:<time>, iam (the current inventory)"),
    ("resource_arn", "string", "the resource touched (empty for unresolved-resource)"),
    ("resource_product", "string", "the resource's product tag at the event's time, if any (for tag-change: after the call)"),
    ("resource_tag_source", "string", "where the resource's tag came from: trail, snapshot:<time>, current"),
    ("previous_resource_product", "string", "tag-change: the resource's product before the call"),
    ("kind", "string", "the finding kind (see the book: docs/src/scan.md)"),
    ("resolved_via", "string", "how the resource was found: resources, lookup, rule:<id>, inventory, error-message, arn-in-record"),
    ("error_code", "string", "errorCode of the call, if it failed"),
    ("denied", "bool", "the call was refused for lack of permission: an attempt, not an access"),
    ("read_only", "bool", "readOnly of the record"),
    ("source", "string", "the input file and the record's position in it"),
];

/// One row of the findings report.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub event_time: Option<DateTime<Utc>>,
    pub event_id: Option<Box<str>>,
    pub event_source: Arc<str>,
    pub event_name: Arc<str>,
    pub aws_region: Option<Arc<str>>,
    pub account_id: Option<Arc<str>>,
    pub principal_arn: Option<Arc<str>>,
    pub principal_type: PrincipalKind,
    pub principal_account: Option<Arc<str>>,
    pub cross_account: bool,
    pub principal_product: Option<Arc<str>>,
    pub principal_tag_source: Option<Arc<str>>,
    pub resource_arn: Option<Arc<str>>,
    pub resource_product: Option<Arc<str>>,
    pub resource_tag_source: Option<Arc<str>>,
    pub previous_resource_product: Option<Arc<str>>,
    pub kind: Kind,
    pub resolved_via: Option<Arc<str>>,
    pub error_code: Option<Arc<str>>,
    pub denied: bool,
    pub read_only: Option<bool>,
    pub source: RecordSource,
}

impl FindingRow {
    /// The row of one finding; its strings are shared with earlier rows made on this thread.
    pub fn new(event: &ResolvedEvent, finding: &Finding) -> Self {
        let principal = &event.resolution.principal;
        let optional = |s: &Option<String>| s.as_deref().map(shared);
        FindingRow {
            // Reports keep milliseconds; truncating here keeps the order of spilled runs.
            event_time: event
                .event_time
                .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis())),
            event_id: event.event_id.as_deref().map(Box::from),
            event_source: shared(&event.event_source),
            event_name: shared(&event.event_name),
            aws_region: optional(&event.aws_region),
            account_id: optional(&event.account_id),
            principal_arn: optional(&principal.arn),
            principal_type: principal.kind,
            principal_account: optional(&principal.account_id),
            cross_account: principal.cross_account,
            principal_product: optional(&finding.principal_product),
            principal_tag_source: optional(&finding.principal_tag_source),
            resource_arn: optional(&finding.resource_arn),
            resource_product: optional(&finding.resource_product),
            resource_tag_source: optional(&finding.resource_tag_source),
            previous_resource_product: optional(&finding.previous_product),
            kind: finding.kind,
            resolved_via: optional(&finding.resolved_via),
            error_code: optional(&event.error_code),
            denied: finding.denied,
            read_only: event.read_only,
            source: event.source.clone(),
        }
    }

    /// The SHA-256 of what identifies a finding across runs: its event id, resource ARN and
    /// kind. A record delivered twice, or read again by a later run, gives the same digest.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in [
            self.event_id.as_deref().unwrap_or(""),
            self.resource_arn.as_deref().unwrap_or(""),
            self.kind.as_str(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.finalize().into()
    }

    /// The finding's id in OCSF and Security Hub: 32 hex digits of [`FindingRow::digest`].
    pub fn finding_id(&self) -> String {
        crate::integrity::hex(&self.digest()[..16])
    }

    /// The report order: time, then event id, then resource and kind, so reruns are identical.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.event_time,
            self.event_id.as_deref(),
            self.resource_arn.as_deref(),
            self.kind,
            &self.source,
        )
    }
}

/// The copy of `text` this thread already holds, or a new one it then holds. Rows repeat
/// principals, resources, services and regions: held rows cost little more than their event
/// ids, and making a row rarely allocates. At most [`SHARED_STRINGS`] are held per thread.
pub(crate) fn shared(text: &str) -> Arc<str> {
    thread_local! {
        static STRINGS: std::cell::RefCell<foldhash::HashSet<Arc<str>>> = Default::default();
    }
    STRINGS.with_borrow_mut(|strings| {
        if let Some(held) = strings.get(text) {
            return held.clone();
        }
        if strings.len() >= SHARED_STRINGS {
            strings.clear();
        }
        let new: Arc<str> = Arc::from(text);
        strings.insert(new.clone());
        new
    })
}

/// Strings [`shared`] holds per thread before it starts again (a few MB).
const SHARED_STRINGS: usize = 1 << 16;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::Position;

    /// A findings row for tests (also used by `sorter`'s).
    pub(crate) fn row(second: i64, id: &str, kind: Kind, resource: Option<&str>) -> FindingRow {
        FindingRow {
            event_time: DateTime::from_timestamp(1_700_000_000 + second, 0),
            event_id: Some(id.into()),
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetObject".into(),
            aws_region: Some("us-east-1".into()),
            account_id: None,
            principal_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            principal_type: PrincipalKind::IamUser,
            principal_account: Some("111122223333".into()),
            cross_account: second % 2 == 0,
            principal_product: Some("aaa".into()),
            principal_tag_source: Some("iam".into()),
            resource_arn: resource.map(Arc::from),
            resource_product: Some("=bbb".into()),
            resource_tag_source: Some("snapshot:2026-11-01T00:00:00Z".into()),
            previous_resource_product: (kind == Kind::TagChange).then(|| "aaa".into()),
            kind,
            resolved_via: Some("rule:s3-bucket".into()),
            error_code: None,
            denied: second % 3 == 0,
            read_only: [None, Some(true), Some(false)][(second % 3) as usize],
            source: RecordSource {
                input: "a/b.json.gz".into(),
                position: Position {
                    line: None,
                    index: Some(second as usize),
                },
            },
        }
    }

    #[test]
    fn rows_share_their_strings_and_the_pool_stays_bounded() {
        let a = shared("arn:aws:s3:::bucket");
        assert!(Arc::ptr_eq(&a, &shared("arn:aws:s3:::bucket")));
        for n in 0..SHARED_STRINGS + 10 {
            assert_eq!(&*shared(&n.to_string()), n.to_string());
        }
        assert_eq!(&*shared("arn:aws:s3:::bucket"), "arn:aws:s3:::bucket");
    }
}
