//! Resolution + tags at the event's time → findings: one per event × resource, of a [`Kind`].
//!
//! Matches (same product) and calls by AWS services are counted, not listed. A tag call that
//! moves a resource between products is a finding of its own (`tag-change`). Plain
//! functions: no I/O.

use std::fmt;

use serde::Serialize;

use crate::history::{TagSource, Tags};
use crate::inventory::Product;
use crate::policy::Policy;
use crate::resolve::{ResolvedEvent, Unresolved};

/// What a finding flags, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ProductMismatch,
    UntaggedPrincipal,
    UntaggedResource,
    ResourceNotInInventory,
    UnresolvedResource,
    TagChange,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::ProductMismatch,
        Kind::UntaggedPrincipal,
        Kind::UntaggedResource,
        Kind::ResourceNotInInventory,
        Kind::UnresolvedResource,
        Kind::TagChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ProductMismatch => "product-mismatch",
            Kind::UntaggedPrincipal => "untagged-principal",
            Kind::UntaggedResource => "untagged-resource",
            Kind::ResourceNotInInventory => "resource-not-in-inventory",
            Kind::UnresolvedResource => "unresolved-resource",
            Kind::TagChange => "tag-change",
        }
    }

    /// One line for people reading a report.
    pub fn description(self) -> &'static str {
        match self {
            Kind::ProductMismatch => "the principal's product tag differs from the resource's: access across products",
            Kind::UntaggedPrincipal => "the principal has no product tag (or is not in the inventory), so the access cannot be judged",
            Kind::UntaggedResource => "the resource is in the inventory but has no product tag",
            Kind::ResourceNotInInventory => "the resource is not in the tag inventory (deleted, another account, or not taggable)",
            Kind::UnresolvedResource => "no rule names the resource this call touched: the access cannot be judged",
            Kind::TagChange => "a tag call moved the resource from one product to another (or out of its product)",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was counted but not listed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counted {
    pub matches: u64,
    pub allowed_by_policy: u64,
    pub ignored_by_policy: u64,
    pub service_events: u64,
    /// Accesses judged with today's tags alone (no trail tag call, session tag or snapshot
    /// for either side): the least certain verdicts.
    pub judged_on_current_tags: u64,
}

impl Counted {
    pub fn add(&mut self, other: &Counted) {
        self.matches += other.matches;
        self.allowed_by_policy += other.allowed_by_policy;
        self.ignored_by_policy += other.ignored_by_policy;
        self.service_events += other.service_events;
        self.judged_on_current_tags += other.judged_on_current_tags;
    }
}

/// One finding: an event, one resource it touched (if known), and what is wrong.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    pub principal_product: Option<String>,
    pub resource_arn: Option<String>,
    pub resource_product: Option<String>,
    pub resolved_via: Option<String>,
    /// The call failed with an access-denied error: an attempt, not an access.
    pub denied: bool,
    /// Where each side's product tag came from (see [`TagSource`]).
    pub principal_tag_source: Option<String>,
    pub resource_tag_source: Option<String>,
    /// For a tag change: the resource's product before the call.
    pub previous_product: Option<String>,
}

/// What judging one event gave: findings to list, and what is only counted.
#[derive(Debug, Default)]
pub struct Judgement {
    pub findings: Vec<Finding>,
    pub counted: Counted,
}

/// Error codes that mean the call was refused for lack of permission.
pub fn is_access_denied(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    lower.contains("accessdenied")
        || lower.contains("unauthorized")
        || lower == "authfailure"
        || lower == "forbidden"
}

fn tagged(product: Product<'_>) -> Option<&str> {
    match product {
        Product::Tagged(p) => Some(p),
        _ => None,
    }
}

/// Judges one event with the tags in force at its time.
pub fn judge(event: &ResolvedEvent, tags: &Tags, policy: &Policy) -> Judgement {
    let mut out = Judgement::default();
    let principal = &event.resolution.principal;
    if principal.is_service() {
        out.counted.service_events = 1;
        return out;
    }
    let denied = event.error_code.as_deref().is_some_and(is_access_denied);
    let principal_arn = principal.arn.as_deref().unwrap_or("");
    let (at, own) = (event.event_time, event.event_id.as_deref());
    let (principal_tag, principal_source) = tags.principal(principal, at, own);
    let principal_product = tagged(principal_tag);
    let finding = |kind,
                   resource_arn: Option<&str>,
                   resource: Option<(Option<&str>, TagSource)>,
                   via: Option<String>| Finding {
        kind,
        principal_product: principal_product.map(str::to_string),
        resource_arn: resource_arn.map(str::to_string),
        resource_product: resource.and_then(|(p, _)| p).map(str::to_string),
        resolved_via: via,
        denied,
        principal_tag_source: Some(principal_source.for_principal()),
        resource_tag_source: resource.map(|(_, source)| source.for_resource()),
        previous_product: None,
    };
    if let Some(Unresolved::NoRule | Unresolved::UnknownLookupType(_)) =
        &event.resolution.unresolved
    {
        out.findings
            .push(finding(Kind::UnresolvedResource, None, None, None));
        return out;
    }
    for touched in &event.resolution.resources {
        let arn = touched.arn.as_str();
        if policy.ignores(arn) {
            out.counted.ignored_by_policy += 1;
            continue;
        }
        let via = Some(touched.via.to_string());
        let (resource, resource_source) = tags.resource(arn, at, own);
        let resource_product = tagged(resource);
        if principal_source == TagSource::Current && resource_source == TagSource::Current {
            out.counted.judged_on_current_tags += 1;
        }
        let sourced = Some((resource_product, resource_source));
        if let Some(change) = own.and_then(|id| tags.history.change_by(arn, id)) {
            // Only a product known to have held before the call. Today's inventory may already
            // show the change itself; it predates the trail's changes only where it does not
            // show the last of them.
            let known_before = match resource_source {
                TagSource::Trail => true,
                TagSource::Snapshot(taken) => taken <= change.time,
                // Config's record as of the call's time precedes it.
                TagSource::Config => true,
                TagSource::Current => tags
                    .history
                    .last_change(arn)
                    .is_some_and(|last| last.product.as_deref() != resource_product),
                TagSource::Session => false,
            };
            if known_before
                && resource_product.is_some_and(|before| change.product.as_deref() != Some(before))
            {
                out.findings.push(Finding {
                    resource_product: change.product.as_deref().map(str::to_string),
                    resource_tag_source: Some(TagSource::Trail.for_resource()),
                    previous_product: resource_product.map(str::to_string),
                    ..finding(Kind::TagChange, Some(arn), sourced, via.clone())
                });
            }
        }
        let kind = match (principal_product, resource) {
            (None, _) => Kind::UntaggedPrincipal,
            (Some(_), Product::Absent) => Kind::ResourceNotInInventory,
            (Some(_), Product::Untagged) => Kind::UntaggedResource,
            (Some(p), Product::Tagged(r)) if p == r => {
                out.counted.matches += 1;
                continue;
            }
            (Some(_), Product::Tagged(r)) if policy.allows(principal_arn, r) => {
                out.counted.allowed_by_policy += 1;
                continue;
            }
            (Some(_), Product::Tagged(_)) => Kind::ProductMismatch,
        };
        out.findings.push(finding(kind, Some(arn), sourced, via));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Position, RecordSource};
    use crate::history::History;
    use crate::inventory::{Inventory, Snapshots, TagKey};
    use crate::principal::{Principal, PrincipalKind};
    use crate::resolve::{Resolution, Touched, Via};

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    fn inventory() -> Inventory {
        let mut inventory = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: false,
        });
        inventory.insert(ALICE, [("product", "aaa")]);
        inventory.insert("arn:aws:iam::111122223333:user/nobody", []);
        inventory.insert("arn:aws:s3:::same", [("product", "aaa")]);
        inventory.insert("arn:aws:s3:::other", [("product", "bbb")]);
        inventory.insert("arn:aws:s3:::shared", [("product", "shared")]);
        inventory.insert("arn:aws:s3:::untagged", [("team", "x")]);
        inventory
    }

    fn event(principal: &str, kind: PrincipalKind, resources: &[&str]) -> ResolvedEvent {
        ResolvedEvent {
            event_time: None,
            event_id: Some("e".into()),
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetObject".into(),
            aws_region: Some("us-east-1".into()),
            account_id: Some("111122223333".into()),
            error_code: None,
            read_only: Some(true),
            request_logged: true,
            resolution: Resolution {
                principal: Principal {
                    arn: Some(principal.into()),
                    kind,
                    account_id: Some("111122223333".into()),
                    session_name: None,
                    access_key_id: None,
                    invoked_by: None,
                    cross_account: false,
                },
                resources: resources
                    .iter()
                    .map(|arn| Touched {
                        arn: arn.to_string(),
                        via: Via::Resources,
                    })
                    .collect(),
                unresolved: None,
            },
            source: RecordSource {
                input: "t".into(),
                position: Position::default(),
            },
            delivery: Default::default(),
        }
    }

    fn judged(event: &ResolvedEvent, policy: &Policy) -> Judgement {
        let history = History::default();
        let snapshots = Snapshots::current(inventory());
        let tags = Tags {
            history: &history,
            snapshots: &snapshots,
        };
        judge(event, &tags, policy)
    }

    fn kinds(judgement: &Judgement) -> Vec<(Kind, Option<&str>)> {
        judgement
            .findings
            .iter()
            .map(|f| (f.kind, f.resource_arn.as_deref()))
            .collect()
    }

    /// One finding per resource, by the table in the book (`docs/src/scan.md`): each kind once, a match and a
    /// shared value counted, not listed.
    #[test]
    fn each_resource_gets_the_kind_its_tags_call_for() {
        let policy = Policy::parse(r#"shared_values = ["shared"]"#).unwrap();
        let resources = [
            "arn:aws:s3:::same",
            "arn:aws:s3:::other",
            "arn:aws:s3:::shared",
            "arn:aws:s3:::untagged",
            "arn:aws:s3:::gone",
        ];
        let judged = judged(&event(ALICE, PrincipalKind::IamUser, &resources), &policy);
        assert_eq!(
            kinds(&judged),
            [
                (Kind::ProductMismatch, Some("arn:aws:s3:::other")),
                (Kind::UntaggedResource, Some("arn:aws:s3:::untagged")),
                (Kind::ResourceNotInInventory, Some("arn:aws:s3:::gone")),
            ]
        );
        assert_eq!(judged.counted.matches, 1);
        assert_eq!(judged.counted.allowed_by_policy, 1);
        let mismatch = &judged.findings[0];
        assert_eq!(mismatch.principal_product.as_deref(), Some("aaa"));
        assert_eq!(mismatch.resource_product.as_deref(), Some("bbb"));
        assert_eq!(mismatch.resolved_via.as_deref(), Some("resources"));
        assert!(!mismatch.denied);
    }

    #[test]
    fn an_untagged_principal_cannot_be_judged_whatever_it_touched() {
        let judged = judged(
            &event(
                "arn:aws:iam::111122223333:user/nobody",
                PrincipalKind::IamUser,
                &["arn:aws:s3:::same", "arn:aws:s3:::gone"],
            ),
            &Policy::default(),
        );
        assert_eq!(
            kinds(&judged),
            [
                (Kind::UntaggedPrincipal, Some("arn:aws:s3:::same")),
                (Kind::UntaggedPrincipal, Some("arn:aws:s3:::gone")),
            ]
        );
    }

    #[test]
    fn services_ignored_resources_denied_calls_and_unresolved_events() {
        let service = judged(
            &event("", PrincipalKind::AwsService, &["arn:aws:s3:::other"]),
            &Policy::default(),
        );
        assert!(service.findings.is_empty());
        assert_eq!(service.counted.service_events, 1);

        let policy = Policy::parse(r#"ignore_resources = ["arn:aws:s3:::oth*"]"#).unwrap();
        let ignored = judged(
            &event(ALICE, PrincipalKind::IamUser, &["arn:aws:s3:::other"]),
            &policy,
        );
        assert!(ignored.findings.is_empty());
        assert_eq!(ignored.counted.ignored_by_policy, 1);

        let mut refused = event(ALICE, PrincipalKind::IamUser, &["arn:aws:s3:::other"]);
        refused.error_code = Some("AccessDenied".into());
        let denied = judged(&refused, &Policy::default());
        assert!(denied.findings[0].denied);

        for (unresolved, listed) in [
            (Unresolved::NoRule, true),
            (Unresolved::UnknownLookupType("AWS::X::Y".into()), true),
            (Unresolved::NoResource { rule: "r".into() }, false),
            (Unresolved::NothingFound { rule: "r".into() }, false),
        ] {
            let mut e = event(ALICE, PrincipalKind::IamUser, &[]);
            e.resolution.unresolved = Some(unresolved.clone());
            let judged = judged(&e, &Policy::default());
            let expected: &[(Kind, Option<&str>)] = if listed {
                &[(Kind::UnresolvedResource, None)]
            } else {
                &[]
            };
            assert_eq!(kinds(&judged), expected, "{unresolved}");
        }
    }

    #[test]
    fn access_denied_codes() {
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "Client.UnauthorizedOperation",
            "AuthFailure",
        ] {
            assert!(is_access_denied(code), "{code}");
        }
        for code in ["ThrottlingException", "NoSuchBucket", "ValidationError"] {
            assert!(!is_access_denied(code), "{code}");
        }
    }
}
