//! The product tag each resource and principal had when an event happened.
//!
//! A scan reads its inputs once. As each record is resolved, [`observe`] keeps only what
//! changes tags or identities: the trail's own tag calls (which ones, and how their requests carry tags, is
//! data: `data/tag-calls.toml`), role sessions and their session tags (`sessions`), records
//! CloudTrail delivered again with corrections, and the owner's copies of cross-account calls.
//! [`History`] orders them in time; [`Tags`] answers "which product, from which source" for an
//! ARN at an instant, from, in order of trust: the trail's tag calls, the inventory snapshot
//! in force at that instant, AWS Config's record, and the current inventory.

pub mod calls;
mod sessions;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::arn;
use crate::event::Event;
use crate::inventory::{Product, Snapshot, Snapshots, TagKey};
use crate::principal::Principal;
use crate::resolve::{Delivery, ResolvedEvent};
use crate::ruleset::Record;
pub use calls::{ProductChange, TagCalls};
use sessions::SessionStart;

/// Where the product tag a verdict used came from, most certain first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSource {
    /// A session tag of the principal's role session (`AssumeRole*` in the trail).
    Session,
    /// The trail's own tag calls, replayed in event order.
    Trail,
    /// An inventory snapshot taken at this time, the one in force at the event's time.
    Snapshot(DateTime<Utc>),
    /// AWS Config's record of the resource's tags (`inventory fetch --from config`).
    Config,
    /// The one inventory given: today's tags. Named `iam` for principals.
    Current,
}

impl TagSource {
    /// The text of the `resource_tag_source` column.
    pub fn for_resource(self) -> String {
        self.to_string()
    }

    /// The text of the `principal_tag_source` column: `iam` for the current inventory.
    pub fn for_principal(self) -> String {
        match self {
            TagSource::Current => "iam".into(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for TagSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagSource::Session => f.write_str("session"),
            TagSource::Trail => f.write_str("trail"),
            TagSource::Snapshot(t) => write!(f, "snapshot:{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            TagSource::Config => f.write_str("config"),
            TagSource::Current => f.write_str("current"),
        }
    }
}

/// What the history keeps of one record.
#[derive(Debug, Clone)]
pub enum Observed {
    /// A successful tag call changed the product tag of these resources.
    TagChange {
        time: Option<DateTime<Utc>>,
        event_id: Option<String>,
        targets: Vec<String>,
        change: ProductChange,
    },
    /// A role session began.
    Session(SessionStart),
    /// This record replaces an earlier delivery of the event with this id.
    Replaces(String),
    /// The owner's copy of a cross-account call with this `sharedEventID` was read.
    OwnerCopy(String),
    /// The caller's copy of a cross-account call names its principal: the owner's copy often
    /// names only the caller's account (`AWSAccount`).
    CallerCopy(String, Principal),
}

/// Whether the history needs a record at all: most records it never looks at.
pub fn is_observed(event: &Event, calls: &TagCalls) -> bool {
    event.addendum.is_some()
        || event.shared_event_id.is_some()
        || sessions::starts_session(event)
        || calls.may_change_tags(event)
}

/// What the history keeps of one resolved record.
pub fn observe(
    event: &Event,
    record: &impl Record,
    resolved: &ResolvedEvent,
    calls: &TagCalls,
    key: &TagKey,
) -> Vec<Observed> {
    let mut out = Vec::new();
    if let Some(original) = event
        .addendum
        .as_ref()
        .and_then(|a| a.original_event_id.as_deref())
        .filter(|id| !id.is_empty() && Some(*id) != event.event_id.as_deref())
    {
        out.push(Observed::Replaces(original.to_string()));
    }
    if let Some(shared) = event.shared_event_id.as_deref().filter(|s| !s.is_empty()) {
        let principal = &resolved.resolution.principal;
        if event.is_owner_copy() {
            out.push(Observed::OwnerCopy(shared.to_string()));
        } else if principal.arn.is_some() {
            out.push(Observed::CallerCopy(shared.to_string(), principal.clone()));
        }
    }
    if let Some(start) = sessions::session_start(event, record, key, resolved) {
        out.push(Observed::Session(start));
    }
    if let Some(change) = calls.product_change(event, record, key) {
        let targets: Vec<String> = resolved
            .resolution
            .resources
            .iter()
            .map(|t| t.arn.clone())
            .collect();
        if !targets.is_empty() {
            out.push(Observed::TagChange {
                time: resolved.event_time,
                event_id: resolved.event_id.clone(),
                targets,
                change,
            });
        }
    }
    out
}

/// One change of a product tag in the trail.
#[derive(Debug, Clone)]
pub struct Change {
    pub time: DateTime<Utc>,
    pub event_id: Option<Arc<str>>,
    /// The product after the change; `None`: removed.
    pub product: Option<Arc<str>>,
}

/// Everything the read observed, ordered in time.
#[derive(Debug, Default)]
pub struct History {
    /// Product changes per ARN (IAM users and roles without their path), oldest first.
    timelines: foldhash::HashMap<String, Vec<Change>>,
    /// The product a role session's tags give it, by the session's access key id.
    sessions: sessions::Sessions,
    /// The product of federated sign-ins (SAML, web identity) by event id: the caller has no
    /// IAM identity, only the attributes it signs in with.
    sign_ins: foldhash::HashMap<String, Arc<str>>,
    /// Event ids replaced by a later delivery (`addendum.originalEventID`).
    replaced: foldhash::HashSet<String>,
    /// `sharedEventID`s whose owner's copy this run read.
    owner_copies: foldhash::HashSet<String>,
    /// The principal the caller's copy names, by `sharedEventID`.
    callers: foldhash::HashMap<String, Principal>,
    /// Cross-account copies earlier scheduled runs read, by `sharedEventID`, with the time of
    /// the run that first read them: owners' copies, and callers' copies they reported.
    carried_owners: BTreeMap<String, DateTime<Utc>>,
    carried_callers: BTreeMap<String, DateTime<Utc>>,
}

/// The key a timeline is kept under: IAM names are unique in an account whatever their path,
/// and a tag call names a user or role without it.
fn timeline_key(arn: &str) -> Cow<'_, str> {
    if !arn.contains(":iam::") {
        return arn.into();
    }
    if let Some(parsed) = arn::Arn::parse(arn).filter(|a| a.service == "iam") {
        for kind in ["role/", "user/"] {
            if let Some(rest) = parsed.resource.strip_prefix(kind) {
                if let Some((_, name)) = rest.rsplit_once('/') {
                    return format!(
                        "arn:{}:iam::{}:{kind}{name}",
                        parsed.partition, parsed.account
                    )
                    .into();
                }
            }
        }
    }
    arn.into()
}

/// How long a session may last: 36 hours (GetFederationToken; role sessions last 12 at most).
pub const SESSION_LIFETIME: Duration = Duration::hours(36);

/// How long a scheduled scan carries a tag change to later runs: long enough for the inventory
/// the runs read to have caught up with it.
pub const CHANGE_RETENTION: Duration = Duration::days(30);

/// The part of the history a later scheduled run may still need, kept in its state: tag
/// changes and tagged role sessions a record of a later file may come after (a session begun
/// in one run is used in the next), and the cross-account copies read, so that the other
/// copy of a call is known as its duplicate.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carried {
    /// Product changes by ARN (IAM users and roles without their path), oldest first.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub changes: BTreeMap<String, Vec<CarriedChange>>,
    /// Tagged sessions by access key id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sessions: BTreeMap<String, CarriedSession>,
    /// Cross-account calls whose owner's copy was read, by `sharedEventID`, with the time of
    /// the run that read it: a caller's copy read later is its duplicate.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owner_copies: BTreeMap<String, DateTime<Utc>>,
    /// Cross-account calls whose caller's copy was reported (no owner's copy was read with it):
    /// an owner's copy read later is its duplicate.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub caller_copies: BTreeMap<String, DateTime<Utc>>,
}

/// One product change carried to a later run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarriedChange {
    pub time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `None`: the product tag was removed.
    pub product: Option<String>,
}

/// One tagged session carried to a later run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarriedSession {
    pub started: DateTime<Utc>,
    pub product: String,
    /// Passed on to the sessions it starts.
    pub transitive: bool,
}

impl Carried {
    pub fn is_empty(&self) -> bool {
        *self == Carried::default()
    }
}

impl History {
    /// Orders what the read observed.
    pub fn build(observed: impl IntoIterator<Item = Observed>) -> History {
        History::build_after(&Carried::default(), observed)
    }

    /// [`History::build`], continuing what earlier scheduled runs carried.
    pub fn build_after(carried: &Carried, observed: impl IntoIterator<Item = Observed>) -> History {
        let mut history = History {
            carried_owners: carried.owner_copies.clone(),
            carried_callers: carried.caller_copies.clone(),
            ..History::default()
        };
        let mut starts = Vec::new();
        let mut values: foldhash::HashSet<Arc<str>> = Default::default();
        let mut share = |v: &str| -> Arc<str> {
            match values.get(v) {
                Some(shared) => shared.clone(),
                None => {
                    let shared: Arc<str> = v.into();
                    values.insert(shared.clone());
                    shared
                }
            }
        };
        for (arn, changes) in &carried.changes {
            history.timelines.insert(
                arn.clone(),
                changes
                    .iter()
                    .map(|c| Change {
                        time: c.time,
                        event_id: c.event_id.as_deref().map(Into::into),
                        product: c.product.as_deref().map(&mut share),
                    })
                    .collect(),
            );
        }
        let known: sessions::Sessions = carried
            .sessions
            .iter()
            .map(|(key, s)| {
                let session = sessions::SessionProduct {
                    product: Some(share(&s.product)),
                    transitive: s.transitive,
                    started: Some(s.started),
                };
                (key.clone(), session)
            })
            .collect();
        for item in observed {
            match item {
                Observed::TagChange {
                    time,
                    event_id,
                    targets,
                    change,
                } => {
                    let Some(time) = time else { continue };
                    let product = match change {
                        ProductChange::Set(v) => Some(share(&v)),
                        ProductChange::Unset => None,
                    };
                    let event_id: Option<Arc<str>> = event_id.map(Into::into);
                    for target in targets {
                        history
                            .timelines
                            .entry(timeline_key(&target).into_owned())
                            .or_default()
                            .push(Change {
                                time,
                                event_id: event_id.clone(),
                                product: product.clone(),
                            });
                    }
                }
                Observed::Session(start) => starts.push(start),
                Observed::Replaces(id) => {
                    history.replaced.insert(id);
                }
                Observed::OwnerCopy(id) => {
                    history.owner_copies.insert(id);
                }
                Observed::CallerCopy(id, principal) => {
                    history.callers.insert(id, principal);
                }
            }
        }
        for timeline in history.timelines.values_mut() {
            // Stable: calls logged in the same second keep the order they were read in; a
            // change a later run reads again (a re-delivered file) counts once.
            timeline.sort_by_key(|c| c.time);
            let mut seen = std::collections::HashSet::new();
            timeline.retain(|c| c.event_id.is_none() || seen.insert((c.time, c.event_id.clone())));
        }
        (history.sessions, history.sign_ins) = sessions::link(known, starts);
        history
    }

    /// What a later scheduled run may still need, at `now`: the tag changes of the last
    /// [`CHANGE_RETENTION`] and the tagged sessions begun in the last [`SESSION_LIFETIME`]
    /// (plus `lookback`, the time a late file may still arrive).
    pub fn carry(&self, now: DateTime<Utc>, lookback: Duration) -> Carried {
        let changes = self
            .timelines
            .iter()
            .filter_map(|(arn, timeline)| {
                let kept: Vec<CarriedChange> = timeline
                    .iter()
                    .filter(|c| c.time >= now - CHANGE_RETENTION - lookback)
                    .map(|c| CarriedChange {
                        time: c.time,
                        event_id: c.event_id.as_deref().map(str::to_string),
                        product: c.product.as_deref().map(str::to_string),
                    })
                    .collect();
                (!kept.is_empty()).then(|| (arn.clone(), kept))
            })
            .collect();
        let sessions = self
            .sessions
            .iter()
            .filter_map(|(key, s)| {
                let started = s.started?;
                let product = s.product.as_deref()?.to_string();
                (started >= now - SESSION_LIFETIME - lookback).then(|| {
                    let session = CarriedSession {
                        started,
                        product,
                        transitive: s.transitive,
                    };
                    (key.clone(), session)
                })
            })
            .collect();
        // Both copies of a cross-account call are delivered within minutes of each other.
        let copies_since = now - lookback - Duration::days(1);
        let recent = |map: &BTreeMap<String, DateTime<Utc>>| -> BTreeMap<String, DateTime<Utc>> {
            map.iter()
                .filter(|(_, seen)| **seen >= copies_since)
                .map(|(id, seen)| (id.clone(), *seen))
                .collect()
        };
        let mut owner_copies = recent(&self.carried_owners);
        for id in &self.owner_copies {
            owner_copies.entry(id.clone()).or_insert(now);
        }
        let mut caller_copies = recent(&self.carried_callers);
        for id in self.callers.keys().filter(|id| !self.owner_copy_read(id)) {
            caller_copies.entry(id.clone()).or_insert(now);
        }
        Carried {
            changes,
            sessions,
            owner_copies,
            caller_copies,
        }
    }

    /// The last change of `arn`'s product before `at` (or at `at`, by another event).
    fn change_before(&self, arn: &str, at: DateTime<Utc>, own: Option<&str>) -> Option<&Change> {
        self.timeline(arn)?
            .iter()
            .rev()
            .find(|c| c.time < at || (c.time == at && c.event_id.as_deref() != own))
    }

    /// The last change of `arn`'s product in the trail.
    pub fn last_change(&self, arn: &str) -> Option<&Change> {
        self.timeline(arn)?.last()
    }

    /// The product changes of `arn`, oldest first. Asked for every access judged: a trail
    /// without tag calls costs no lookup.
    fn timeline(&self, arn: &str) -> Option<&[Change]> {
        if self.timelines.is_empty() {
            return None;
        }
        self.timelines
            .get(timeline_key(arn).as_ref())
            .map(Vec::as_slice)
    }

    /// The change event `event_id` made to `arn`'s product, if it made one.
    pub fn change_by(&self, arn: &str, event_id: &str) -> Option<&Change> {
        self.timeline(arn)?
            .iter()
            .find(|c| c.event_id.as_deref() == Some(event_id))
    }

    /// Whether the owner's copy of the cross-account call `shared` was read, by this run or an
    /// earlier scheduled one.
    fn owner_copy_read(&self, shared: &str) -> bool {
        self.owner_copies.contains(shared) || self.carried_owners.contains_key(shared)
    }

    /// Why a record is skipped: a duplicate of one reported.
    pub fn duplicate(&self, event_id: Option<&str>, delivery: &Delivery) -> Option<&'static str> {
        if !delivery.corrects && event_id.is_some_and(|id| self.replaced.contains(id)) {
            return Some("duplicate: replaced by a later delivery with corrections (addendum)");
        }
        let shared = delivery.shared_event_id.as_deref();
        if !delivery.owner_copy && shared.is_some_and(|id| self.owner_copy_read(id)) {
            return Some("duplicate: the caller's copy of a cross-account call (the owner's copy is reported)");
        }
        if delivery.owner_copy && shared.is_some_and(|id| self.carried_callers.contains_key(id)) {
            return Some("duplicate: the owner's copy of a cross-account call whose caller's copy an earlier run reported");
        }
        None
    }

    /// The principal of a cross-account call as its caller's copy names it, for the owner's
    /// copy when that names only the caller's account.
    pub fn caller_of(&self, event: &ResolvedEvent) -> Option<Principal> {
        let principal = &event.resolution.principal;
        if principal.arn.is_some() || !event.delivery.owner_copy {
            return None;
        }
        let caller = self
            .callers
            .get(event.delivery.shared_event_id.as_deref()?)?;
        Some(Principal {
            cross_account: true,
            ..caller.clone()
        })
    }

    /// How many product changes (one per resource) and tagged sessions it knows.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.timelines.values().map(Vec::len).sum(),
            self.sessions.len(),
        )
    }
}

/// Product tags at an instant, from the history and the inventory snapshots.
#[derive(Debug, Clone, Copy)]
pub struct Tags<'a> {
    pub history: &'a History,
    pub snapshots: &'a Snapshots,
}

/// A product and where it came from.
pub type Sourced<'a> = (Product<'a>, TagSource);

impl<'a> Tags<'a> {
    /// The product of a resource at `at`, ignoring the change `own` (the event being judged)
    /// made: a call is judged by the tags it found.
    pub fn resource(&self, arn: &str, at: Option<DateTime<Utc>>, own: Option<&str>) -> Sourced<'a> {
        let snapshot = self.snapshots.in_force(at);
        let at = at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        for current in snapshot.inventory.levels(arn) {
            if let Some(change) = self.history.change_before(&current, at, own) {
                let product = change
                    .product
                    .as_deref()
                    .map_or(Product::Untagged, Product::Tagged);
                return (product, TagSource::Trail);
            }
            let exact = snapshot.inventory.exact(&current);
            if let (Some(product), Some(_)) = (exact, snapshot.taken) {
                return (product, source_of(snapshot));
            }
            let recorded = [snapshot, self.snapshots.newest()]
                .into_iter()
                .find_map(|s| s.inventory.recorded(&current, at));
            if let Some(product) = recorded {
                return (product, TagSource::Config);
            }
            if let Some(product) = exact {
                return (product, source_of(snapshot));
            }
        }
        (Product::Absent, source_of(snapshot))
    }

    /// The product of the principal at `at`: its session's tag when the session has one
    /// (it overrides the role's tag of the same key, as in IAM), else its own tags.
    pub fn principal(
        &self,
        principal: &Principal,
        at: Option<DateTime<Utc>>,
        own: Option<&str>,
    ) -> Sourced<'a> {
        let session = principal
            .access_key_id
            .as_deref()
            .and_then(|key| self.history.sessions.get(key))
            .and_then(|s| s.product.as_deref());
        let sign_in = || {
            let id = own.filter(|_| principal.arn.is_none())?;
            self.history.sign_ins.get(id).map(|p| &**p)
        };
        if let Some(product) = session.or_else(sign_in) {
            return (Product::Tagged(product), TagSource::Session);
        }
        match principal.arn.as_deref() {
            Some(arn) => self.resource(arn, at, own),
            None => (Product::Absent, source_of(self.snapshots.in_force(at))),
        }
    }
}

fn source_of(snapshot: &Snapshot) -> TagSource {
    snapshot
        .taken
        .map_or(TagSource::Current, TagSource::Snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn change(arn: &str, time: &str, id: &str, product: &str) -> Observed {
        Observed::TagChange {
            time: Some(at(time)),
            event_id: Some(id.into()),
            targets: vec![arn.into()],
            change: ProductChange::Set(product.into()),
        }
    }

    /// What is carried is bounded by time, and a change read again by a later run (a file
    /// delivered twice) counts once.
    #[test]
    fn a_run_carries_recent_changes_and_live_sessions_once() {
        let mut carried = Carried::default();
        carried.sessions.insert(
            "ASIAOLD".into(),
            CarriedSession {
                started: at("2026-11-01T00:00:00Z"),
                product: "aaa".into(),
                transitive: false,
            },
        );
        carried.sessions.insert(
            "ASIANEW".into(),
            CarriedSession {
                started: at("2026-11-09T20:00:00Z"),
                product: "bbb".into(),
                transitive: true,
            },
        );
        let history = History::build_after(
            &carried,
            [
                change("arn:aws:s3:::old", "2026-09-01T00:00:00Z", "e1", "x"),
                change("arn:aws:s3:::new", "2026-11-09T00:00:00Z", "e2", "y"),
                change("arn:aws:s3:::new", "2026-11-09T00:00:00Z", "e2", "y"),
            ],
        );
        assert_eq!(history.timeline("arn:aws:s3:::new").unwrap().len(), 1);
        let next = history.carry(at("2026-11-10T00:00:00Z"), Duration::days(2));
        assert_eq!(next.sessions.keys().collect::<Vec<_>>(), ["ASIANEW"]);
        assert_eq!(
            next.changes.keys().collect::<Vec<_>>(),
            ["arn:aws:s3:::new"]
        );
        // Carried again, it is the same.
        let again = History::build_after(&next, []);
        assert_eq!(
            again.carry(at("2026-11-10T00:00:00Z"), Duration::days(2)),
            next
        );
        // A cross-account copy is remembered for the lookback and a day, from the run that
        // read it.
        let owner = History::build_after(&Carried::default(), [Observed::OwnerCopy("s1".into())]);
        let carried = owner.carry(at("2026-11-10T00:00:00Z"), Duration::days(2));
        assert_eq!(carried.owner_copies.len(), 1);
        let later = History::build_after(&carried, []);
        let at_time = |t: &str| later.carry(at(t), Duration::days(2)).owner_copies.len();
        assert_eq!(at_time("2026-11-12T23:00:00Z"), 1);
        assert_eq!(at_time("2026-11-13T01:00:00Z"), 0);
    }
}
