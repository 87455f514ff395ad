//! Resolution + tags → findings: one per event × resource, of a [`Kind`].
//!
//! Matches (same product) and calls by AWS services are counted, not listed. Plain functions:
//! no I/O.

use std::fmt;

use serde::Serialize;

use crate::inventory::{Inventory, Product};
use crate::pipeline::ResolvedEvent;
use crate::policy::Policy;
use crate::report::summary::Counted;
use crate::resolve::Unresolved;

/// What a finding flags, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ProductMismatch,
    UntaggedPrincipal,
    UntaggedResource,
    ResourceNotInInventory,
    UnresolvedResource,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::ProductMismatch,
        Kind::UntaggedPrincipal,
        Kind::UntaggedResource,
        Kind::ResourceNotInInventory,
        Kind::UnresolvedResource,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ProductMismatch => "product-mismatch",
            Kind::UntaggedPrincipal => "untagged-principal",
            Kind::UntaggedResource => "untagged-resource",
            Kind::ResourceNotInInventory => "resource-not-in-inventory",
            Kind::UnresolvedResource => "unresolved-resource",
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

/// Judges one event.
pub fn judge(event: &ResolvedEvent, inventory: &Inventory, policy: &Policy) -> Judgement {
    let mut out = Judgement::default();
    let principal = &event.resolution.principal;
    if principal.is_service() {
        out.counted.service_events = 1;
        return out;
    }
    let denied = event.error_code.as_deref().is_some_and(is_access_denied);
    let principal_arn = principal.arn.as_deref().unwrap_or("");
    let principal_product = match principal.arn.as_deref().map(|a| inventory.product(a)) {
        Some(Product::Tagged(p)) => Some(p),
        _ => None,
    };
    let finding = |kind,
                   resource_arn: Option<&str>,
                   resource_product: Option<&str>,
                   via: Option<String>| Finding {
        kind,
        principal_product: principal_product.map(str::to_string),
        resource_arn: resource_arn.map(str::to_string),
        resource_product: resource_product.map(str::to_string),
        resolved_via: via,
        denied,
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
        let resource = inventory.product(arn);
        let resource_product = match resource {
            Product::Tagged(p) => Some(p),
            _ => None,
        };
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
        out.findings
            .push(finding(kind, Some(arn), resource_product, via));
    }
    out
}
