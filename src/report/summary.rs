//! `summary.json` and the table printed for people: the record buckets, rejected inputs,
//! findings per kind, per product pair, and the principals with most findings.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use serde::Serialize;

use super::FindingRow;
use crate::integrity::Integrity;
use crate::principal::PrincipalKind;
use crate::tally::{Problem, Tally};
use crate::verdict::{Counted, Kind};

/// The record buckets; `read` is the sum of the other four.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Records {
    pub read: u64,
    pub resolved: u64,
    pub unresolved: u64,
    pub skipped: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProductPair {
    pub principal_product: String,
    pub resource_product: String,
    pub findings: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PrincipalCount {
    pub principal_arn: String,
    pub findings: u64,
}

/// The content of `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub tool: &'static str,
    pub version: &'static str,
    pub records: Records,
    pub inputs: u64,
    pub unresolved_by_reason: BTreeMap<String, u64>,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub rejected: Vec<Problem>,
    pub findings: BTreeMap<String, u64>,
    pub denied_attempts: u64,
    pub counted: Counted,
    /// product-mismatch findings per (principal product, resource product), most first.
    pub product_pairs: Vec<ProductPair>,
    /// Principals with the most findings of any kind (ten at most).
    pub top_principals: Vec<PrincipalCount>,
    pub inventory_entries: usize,
    pub tag_key: String,
    /// Where verdicts' tags came from besides the current inventory.
    pub tag_history: TagHistory,
    /// Findings left out because an earlier run of a scheduled scan (`--state`) reported
    /// them: the same event id, resource and kind, read again from a duplicate delivery.
    pub reported_before: u64,
    /// The trail files checked against CloudTrail's digest files, when digests were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<Integrity>,
}

/// What the scan knew of tags over time.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TagHistory {
    /// Product tag changes replayed from the trail's own tag calls (one per resource).
    pub trail_changes: usize,
    /// Role sessions whose session tags name a product.
    pub tagged_sessions: usize,
    /// The inventory snapshots, by the time they were taken (empty: one current inventory).
    pub snapshots: Vec<String>,
    /// Records skipped as duplicates of one reported (cross-account copies, re-deliveries).
    pub duplicates: u64,
}

/// (principal product, resource product) of a product-mismatch finding.
type ProductPairKey = (Option<Arc<str>>, Option<Arc<str>>);

/// Who a finding counts for: the principal's ARN, or its type when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Arn(Arc<str>),
    Kind(PrincipalKind),
}

/// What the summary says of the findings, gathered row by row as they stream to the reports.
#[derive(Debug, Clone, Default)]
pub struct FindingStats {
    by_kind: BTreeMap<Kind, u64>,
    pairs: foldhash::HashMap<ProductPairKey, u64>,
    principals: foldhash::HashMap<Who, u64>,
    denied: u64,
}

impl FindingStats {
    pub fn add(&mut self, row: &FindingRow) {
        *self.by_kind.entry(row.kind).or_default() += 1;
        if row.kind == Kind::ProductMismatch {
            let key = (row.principal_product.clone(), row.resource_product.clone());
            *self.pairs.entry(key).or_default() += 1;
        }
        let who = match &row.principal_arn {
            Some(arn) => Who::Arn(arn.clone()),
            None => Who::Kind(row.principal_type),
        };
        *self.principals.entry(who).or_default() += 1;
        self.denied += row.denied as u64;
    }

    /// True when a finding of `threshold` or a more severe kind was seen.
    pub fn any_at_or_above(&self, threshold: Kind) -> bool {
        self.by_kind.keys().any(|kind| *kind <= threshold)
    }
}

impl Summary {
    pub fn new(
        tally: &Tally,
        stats: FindingStats,
        counted: Counted,
        inventory_entries: usize,
        tag_key: &str,
    ) -> Self {
        let findings: BTreeMap<String, u64> = Kind::ALL
            .iter()
            .map(|k| {
                let n = stats.by_kind.get(k).copied().unwrap_or(0);
                (k.as_str().to_string(), n)
            })
            .collect();
        let FindingStats {
            pairs,
            principals,
            denied,
            ..
        } = stats;
        let mut product_pairs: Vec<ProductPair> = pairs
            .into_iter()
            .map(|((p, r), n)| ProductPair {
                principal_product: p.as_deref().unwrap_or_default().to_string(),
                resource_product: r.as_deref().unwrap_or_default().to_string(),
                findings: n,
            })
            .collect();
        product_pairs.sort_by(|a, b| {
            (b.findings, &a.principal_product, &a.resource_product).cmp(&(
                a.findings,
                &b.principal_product,
                &b.resource_product,
            ))
        });
        let mut top_principals: Vec<PrincipalCount> = principals
            .into_iter()
            .map(|(who, findings)| PrincipalCount {
                principal_arn: match who {
                    Who::Arn(arn) => arn.to_string(),
                    Who::Kind(kind) => format!("({})", kind.as_str()),
                },
                findings,
            })
            .collect();
        // Most findings first; ties by name, so reruns write the same summary.
        top_principals
            .sort_by(|a, b| (b.findings, &a.principal_arn).cmp(&(a.findings, &b.principal_arn)));
        top_principals.truncate(10);
        let mut rejected = tally.rejections.clone();
        rejected.sort();
        Summary {
            tool: "tagtrail",
            version: env!("CARGO_PKG_VERSION"),
            records: Records {
                read: tally.read,
                resolved: tally.resolved,
                unresolved: tally.unresolved,
                skipped: tally.skipped,
                rejected: tally.rejected,
            },
            inputs: tally.inputs,
            unresolved_by_reason: tally.unresolved_by_reason.clone(),
            skipped_by_reason: tally.skipped_by_reason.clone(),
            rejected,
            findings,
            denied_attempts: denied,
            counted,
            product_pairs,
            top_principals,
            inventory_entries,
            tag_key: tag_key.to_string(),
            tag_history: TagHistory {
                duplicates: tally
                    .skipped_by_reason
                    .iter()
                    .filter(|(reason, _)| reason.starts_with("duplicate"))
                    .map(|(_, n)| n)
                    .sum(),
                ..TagHistory::default()
            },
            reported_before: 0,
            integrity: None,
        }
    }

    /// The table printed on stdout after a scan.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let r = &self.records;
        let _ = writeln!(
            s,
            "records  read {}  = resolved {} + unresolved {} + skipped {} + rejected {}   ({} input(s), inventory of {} ARNs, tag key `{}`)",
            r.read, r.resolved, r.unresolved, r.skipped, r.rejected, self.inputs, self.inventory_entries, self.tag_key
        );
        let c = &self.counted;
        let _ = writeln!(
            s,
            "counted  {} matching access(es), {} allowed by policy, {} ignored by policy, {} by AWS services",
            c.matches, c.allowed_by_policy, c.ignored_by_policy, c.service_events
        );
        let h = &self.tag_history;
        let _ = writeln!(
            s,
            "tags     {} product change(s) replayed from the trail, {} tagged session(s), {}; {} access(es) judged on current tags alone; {} duplicate record(s) skipped",
            h.trail_changes,
            h.tagged_sessions,
            match h.snapshots.len() {
                0 => "one current inventory".to_string(),
                n => format!("{n} inventory snapshot(s)"),
            },
            c.judged_on_current_tags,
            h.duplicates
        );
        if let Some(i) = &self.integrity {
            let _ = writeln!(
                s,
                "digests  {} digest file(s): {} log file(s) verified, {} modified, {} missing, {} in no digest, {} outside the digests, {} awaiting their digest; {} digest(s) missing, {} invalid; signatures {} verified, {} not verifiable here{}",
                i.digests,
                i.log_files_verified,
                i.log_files_modified.len(),
                i.log_files_missing.len(),
                i.log_files_not_in_any_digest.len(),
                i.log_files_without_digests,
                i.log_files_awaiting_digest,
                i.digests_missing.len(),
                i.digests_invalid.len(),
                i.signatures_verified,
                i.signatures_not_verifiable,
                if i.failed() { "   INTEGRITY FAILED" } else { "" }
            );
            for why in &i.public_keys_unavailable {
                let _ = writeln!(s, "         signatures not checked: {why}");
            }
        }
        let _ = writeln!(s, "\nfindings");
        for kind in Kind::ALL {
            let n = self.findings.get(kind.as_str()).copied().unwrap_or(0);
            let _ = writeln!(
                s,
                "  {:<27} {:>7}   {}",
                kind.as_str(),
                n,
                kind.description()
            );
        }
        let _ = writeln!(
            s,
            "  {:<27} {:>7}   of the above, calls refused with an access-denied error",
            "(denied attempts)", self.denied_attempts
        );
        if !self.product_pairs.is_empty() {
            let _ = writeln!(
                s,
                "\nproduct-mismatch by product pair (principal -> resource)"
            );
            for p in &self.product_pairs {
                let _ = writeln!(
                    s,
                    "  {:>7}   {} -> {}",
                    p.findings, p.principal_product, p.resource_product
                );
            }
        }
        if !self.top_principals.is_empty() {
            let _ = writeln!(s, "\nprincipals with most findings");
            for p in self.top_principals.iter().take(5) {
                let _ = writeln!(s, "  {:>7}   {}", p.findings, p.principal_arn);
            }
        }
        if let Some(i) = self.integrity.as_ref().filter(|i| i.failed()) {
            let _ = writeln!(s, "\nintegrity faults (CloudTrail digests)");
            for (what, fault) in i.faults() {
                let _ = writeln!(s, "  {what}: {}: {}", fault.object, fault.detail);
            }
        }
        if !self.rejected.is_empty() {
            let _ = writeln!(s, "\nrejected input");
            for p in &self.rejected {
                let _ = writeln!(s, "  {}: {}", p.source, p.reason);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::rows::tests::row;

    /// Counts per kind and pair, ties broken by name, top principals bounded, rejections
    /// sorted: the summary of the same findings is the same whatever order they came in.
    #[test]
    fn the_summary_counts_and_orders_what_it_is_given() {
        let mut rows = Vec::new();
        for (i, (principal, product, kind)) in [
            ("arn:aws:iam::1:user/b", "bbb", Kind::ProductMismatch),
            ("arn:aws:iam::1:user/a", "bbb", Kind::ProductMismatch),
            ("arn:aws:iam::1:user/a", "ccc", Kind::ProductMismatch),
            ("arn:aws:iam::1:user/c", "bbb", Kind::UntaggedResource),
        ]
        .into_iter()
        .enumerate()
        {
            let mut r = row(i as i64 + 1, &format!("e{i}"), kind, Some("arn:aws:s3:::x"));
            r.principal_arn = Some(principal.into());
            r.resource_product = Some(product.into());
            r.denied = i == 0;
            rows.push(r);
        }
        for n in 0..12 {
            let mut r = row(100 + n, "x", Kind::UnresolvedResource, None);
            r.principal_arn = Some(format!("arn:aws:iam::1:user/z{n:02}").into());
            rows.push(r);
        }
        let summarise = |rows: &[FindingRow]| {
            let mut stats = FindingStats::default();
            rows.iter().for_each(|r| stats.add(r));
            let tally = Tally {
                read: 3,
                rejected: 2,
                resolved: 1,
                rejections: vec![
                    Problem {
                        source: "z".into(),
                        reason: "r".into(),
                    },
                    Problem {
                        source: "a".into(),
                        reason: "r".into(),
                    },
                ],
                ..Tally::default()
            };
            serde_json::to_value(Summary::new(
                &tally,
                stats,
                Counted::default(),
                5,
                "product",
            ))
            .unwrap()
        };
        let summary = summarise(&rows);
        rows.reverse();
        assert_eq!(
            summarise(&rows),
            summary,
            "independent of the order of findings"
        );

        assert_eq!(summary["findings"]["product-mismatch"], 3);
        assert_eq!(summary["findings"]["untagged-resource"], 1);
        assert_eq!(summary["findings"]["unresolved-resource"], 12);
        assert_eq!(summary["findings"]["untagged-principal"], 0);
        // One of the first four, and the unresolved rows whose second is a multiple of 3.
        assert_eq!(summary["denied_attempts"], 1 + 4);
        assert_eq!(
            summary["product_pairs"],
            serde_json::json!([
                {"principal_product": "aaa", "resource_product": "bbb", "findings": 2},
                {"principal_product": "aaa", "resource_product": "ccc", "findings": 1},
            ])
        );
        let top = summary["top_principals"].as_array().unwrap();
        assert_eq!(top.len(), 10);
        assert_eq!(
            top[0],
            serde_json::json!({"principal_arn": "arn:aws:iam::1:user/a", "findings": 2})
        );
        assert_eq!(
            top[1]["principal_arn"], "arn:aws:iam::1:user/b",
            "ties by name"
        );
        assert_eq!(summary["rejected"][0]["source"], "a");
        assert_eq!(summary["records"]["read"], 3);
    }

    #[test]
    fn the_threshold_counts_kinds_at_or_above_it() {
        let mut stats = FindingStats::default();
        stats.add(&row(1, "e", Kind::UntaggedResource, None));
        assert!(stats.any_at_or_above(Kind::ResourceNotInInventory));
        assert!(stats.any_at_or_above(Kind::UntaggedResource));
        assert!(!stats.any_at_or_above(Kind::UntaggedPrincipal));
    }
}
