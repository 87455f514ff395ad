//! Product tags of resources and principals, keyed by ARN.
//!
//! One [`Inventory`] interface, filled by backends: AWS CLI JSON files (`files`), and later
//! live AWS. Only the tag that matters (the product tag key) is kept per ARN, so a large
//! inventory stays small in memory. Lookups fall back to the parent of parts that are never
//! tagged on their own (S3 object → bucket, ...).

#[cfg(feature = "aws")]
pub mod aws;
pub mod files;
mod index;

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::arn;
pub use index::{ArnIndex, Completion};

/// A failure to read an inventory.
#[derive(Debug, Error)]
pub enum InventoryError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
}

/// Which tag is the product tag.
#[derive(Debug, Clone)]
pub struct TagKey {
    pub key: String,
    pub case_insensitive: bool,
}

impl TagKey {
    pub fn matches(&self, key: &str) -> bool {
        if self.case_insensitive {
            key.trim().eq_ignore_ascii_case(self.key.trim())
        } else {
            key == self.key
        }
    }
}

/// The product tag of an ARN as the inventory knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product<'a> {
    /// Tagged; the value is trimmed.
    Tagged(&'a str),
    /// In the inventory, without the product tag (or with an empty value).
    Untagged,
    /// Not in the inventory at all.
    Absent,
}

/// A product tag AWS Config recorded at a time (`None`: no product tag).
pub type Recorded = (DateTime<Utc>, Option<Arc<str>>);

/// Product tags by ARN, plus the index that completes partial ARNs.
#[derive(Debug, Clone)]
pub struct Inventory {
    tag_key: TagKey,
    products: foldhash::HashMap<Arc<str>, Option<Arc<str>>>,
    /// Each product value once; entries share it.
    values: foldhash::HashSet<Arc<str>>,
    index: ArnIndex,
    /// KMS alias ARN → the ARN of the key it points to: a key used by alias is judged by the
    /// key's tags.
    aliases: foldhash::HashMap<Arc<str>, Arc<str>>,
    /// AWS Config's record of product tags over time, per ARN, oldest first.
    recorded: foldhash::HashMap<Arc<str>, Vec<Recorded>>,
    /// The files or services it was read from.
    pub sources: Vec<String>,
}

impl Inventory {
    pub fn new(tag_key: TagKey) -> Self {
        Inventory {
            tag_key,
            products: Default::default(),
            values: Default::default(),
            index: ArnIndex::default(),
            aliases: Default::default(),
            recorded: Default::default(),
            sources: Vec::new(),
        }
    }

    /// The product value among `tags`, shared with the entries that have the same.
    fn product_of<'t>(
        &mut self,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> Option<Arc<str>> {
        tags.into_iter()
            .find(|(k, _)| self.tag_key.matches(k))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .map(|v| match self.values.get(v) {
                Some(shared) => shared.clone(),
                None => {
                    let shared: Arc<str> = v.into();
                    self.values.insert(shared.clone());
                    shared
                }
            })
    }

    fn normal(arn: &str) -> Arc<str> {
        match arn::normalize(arn) {
            Some(normal) => normal.into(),
            None => arn.trim().into(),
        }
    }

    /// Adds an ARN the inventory does not know yet to the index names are completed against.
    fn index_if_new(&mut self, arn: &Arc<str>) {
        if !self.products.contains_key(arn) && !self.recorded.contains_key(arn) {
            self.index.insert_shared(arn.clone());
        }
    }

    /// Records what AWS Config captured of an ARN's tags at `time`. The ARN is also known to
    /// the index, so names of deleted resources still complete.
    pub fn insert_recorded<'t>(
        &mut self,
        arn: &str,
        time: DateTime<Utc>,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) {
        let arn = Self::normal(arn);
        let product = self.product_of(tags);
        self.index_if_new(&arn);
        let timeline = self.recorded.entry(arn).or_default();
        let at = timeline.partition_point(|(t, _)| *t <= time);
        timeline.insert(at, (time, product));
    }

    /// The product AWS Config recorded for exactly this ARN as of `at`, if it recorded the
    /// ARN by then.
    pub fn recorded(&self, arn: &str, at: DateTime<Utc>) -> Option<Product<'_>> {
        let timeline = self.recorded.get(arn)?;
        let (_, product) = timeline[..timeline.partition_point(|(t, _)| *t <= at)].last()?;
        Some(
            product
                .as_deref()
                .map_or(Product::Untagged, Product::Tagged),
        )
    }

    /// Records an ARN and its tags (as (key, value) pairs). A later entry for the same ARN
    /// adds to what is known: a product tag is never replaced by its absence.
    pub fn insert<'t>(&mut self, arn: &str, tags: impl IntoIterator<Item = (&'t str, &'t str)>) {
        let arn = Self::normal(arn);
        let product = self.product_of(tags);
        self.index_if_new(&arn);
        let slot = self.products.entry(arn).or_insert(None);
        if product.is_some() {
            *slot = product;
        }
    }

    /// Records that a KMS alias points to a key.
    pub fn insert_alias(&mut self, alias_arn: &str, key_arn: &str) {
        self.aliases
            .insert(alias_arn.trim().into(), key_arn.trim().into());
    }

    /// The key a KMS alias ARN points to, if the inventory lists the alias.
    pub fn alias_target(&self, arn: &str) -> Option<&str> {
        self.aliases.get(arn).map(|k| &**k)
    }

    /// The product of an ARN, from the ARN itself or, where it is not known, its parent.
    pub fn product(&self, arn: &str) -> Product<'_> {
        self.levels(arn)
            .find_map(|level| self.exact(&level))
            .unwrap_or(Product::Absent)
    }

    /// Where the tags of an ARN are looked up, in order: the ARN (the key, for a KMS alias the
    /// inventory lists), then its parents, for parts never tagged on their own.
    pub fn levels<'s>(&'s self, arn: &'s str) -> impl Iterator<Item = Cow<'s, str>> {
        let first = Cow::Borrowed(self.alias_target(arn).unwrap_or(arn));
        std::iter::successors(Some(first), |level| arn::parent(level).map(Cow::Owned))
    }

    /// The product of exactly this ARN, without looking at its parents; `None` if it is not
    /// in the inventory.
    pub fn exact(&self, arn: &str) -> Option<Product<'_>> {
        self.products
            .get(arn)
            .map(|p| p.as_deref().map_or(Product::Untagged, Product::Tagged))
    }

    /// Every ARN the inventory lists, with its product (`None`: listed without the tag).
    pub fn entries(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.products.iter().map(|(arn, p)| (&**arn, p.as_deref()))
    }

    /// What AWS Config recorded: per ARN, oldest first, each time and the product it found.
    pub fn recorded_entries(&self) -> impl Iterator<Item = (&str, &[Recorded])> {
        self.recorded.iter().map(|(arn, t)| (&**arn, t.as_slice()))
    }

    /// KMS alias ARNs and the keys they point to.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases.iter().map(|(alias, key)| (&**alias, &**key))
    }

    /// Every ARN the inventory lists.
    pub fn arns(&self) -> impl Iterator<Item = &str> {
        self.products.keys().map(|a| &**a)
    }

    /// The ARNs known, for completing names.
    pub fn index(&self) -> &ArnIndex {
        &self.index
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    pub fn tag_key(&self) -> &TagKey {
        &self.tag_key
    }
}

/// One inventory and when it was taken (`None`: the one current inventory).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken: Option<DateTime<Utc>>,
    pub inventory: Inventory,
}

/// The inventories a scan judges with: one current inventory, or dated snapshots of which the
/// one in force at an event's time applies.
#[derive(Debug, Clone)]
pub struct Snapshots {
    /// Oldest first; never empty.
    list: Vec<Snapshot>,
}

impl Snapshots {
    /// One inventory, today's.
    pub fn current(inventory: Inventory) -> Self {
        Snapshots {
            list: vec![Snapshot {
                taken: None,
                inventory,
            }],
        }
    }

    /// Dated snapshots; `None` if there are none.
    pub fn dated(mut list: Vec<(DateTime<Utc>, Inventory)>) -> Option<Self> {
        list.sort_by_key(|(taken, _)| *taken);
        let list: Vec<Snapshot> = list
            .into_iter()
            .map(|(taken, inventory)| Snapshot {
                taken: Some(taken),
                inventory,
            })
            .collect();
        (!list.is_empty()).then_some(Snapshots { list })
    }

    /// The snapshot in force at `at`: the last taken at or before it; for an event older than
    /// every snapshot, the oldest (the nearest in time); the newest for an event without time.
    pub fn in_force(&self, at: Option<DateTime<Utc>>) -> &Snapshot {
        let Some(at) = at else {
            return self.newest();
        };
        let after = self
            .list
            .partition_point(|s| s.taken.is_none_or(|t| t <= at));
        &self.list[after.saturating_sub(1)]
    }

    /// The newest snapshot: the one names are completed against.
    pub fn newest(&self) -> &Snapshot {
        self.list.last().expect("never empty")
    }

    pub fn iter(&self) -> impl Iterator<Item = &Snapshot> {
        self.list.iter()
    }

    /// The inventory as rows of a table (`inventory export`): each listed ARN's product over
    /// the interval its snapshot is in force, and each product AWS Config recorded over the
    /// interval until the next record. Sorted by snapshot, source, ARN and start.
    pub fn intervals(&self) -> Vec<TagInterval<'_>> {
        let mut rows = Vec::new();
        for (i, snapshot) in self.list.iter().enumerate() {
            // As `in_force`: the oldest also judges what came before it, the newest all after.
            let valid_from = snapshot.taken.filter(|_| i > 0);
            let valid_to = self.list.get(i + 1).and_then(|next| next.taken);
            for (arn, product) in snapshot.inventory.entries() {
                rows.push(TagInterval {
                    arn,
                    product,
                    source: IntervalSource::Inventory,
                    snapshot: snapshot.taken,
                    valid_from,
                    valid_to,
                });
            }
            for (arn, timeline) in snapshot.inventory.recorded_entries() {
                for (k, (time, product)) in timeline.iter().enumerate() {
                    rows.push(TagInterval {
                        arn,
                        product: product.as_deref(),
                        source: IntervalSource::Config,
                        snapshot: snapshot.taken,
                        valid_from: Some(*time),
                        valid_to: timeline.get(k + 1).map(|(next, _)| *next),
                    });
                }
            }
        }
        rows.sort_by(|a, b| {
            (a.snapshot, a.source, a.arn, a.valid_from).cmp(&(
                b.snapshot,
                b.source,
                b.arn,
                b.valid_from,
            ))
        });
        rows
    }
}

/// Where a [`TagInterval`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IntervalSource {
    /// A listed ARN of an inventory (today's, or a dated snapshot).
    Inventory,
    /// A configuration item AWS Config recorded.
    Config,
}

impl IntervalSource {
    pub fn as_str(self) -> &'static str {
        match self {
            IntervalSource::Inventory => "inventory",
            IntervalSource::Config => "config",
        }
    }
}

/// An ARN's product over an interval: from `valid_from` (open when `None`) to before
/// `valid_to` (open when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInterval<'a> {
    pub arn: &'a str,
    /// `None`: known without the product tag.
    pub product: Option<&'a str>,
    pub source: IntervalSource,
    /// When the snapshot it belongs to was taken; `None` for a current inventory.
    pub snapshot: Option<DateTime<Utc>>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

impl TagInterval<'_> {
    /// Whether the ARN names an IAM user or role, the principals a product tag is read from.
    pub fn is_principal(&self) -> bool {
        let mut parts = self.arn.splitn(6, ':');
        let service = parts.nth(2);
        let resource = parts.nth(2).unwrap_or_default();
        service == Some("iam") && (resource.starts_with("user/") || resource.starts_with("role/"))
    }
}

/// Reads a snapshot folder's name as the time it was taken: `2026-11-30`,
/// `2026-11-30T18:00:00Z`, `2026-11-30T180000Z` or `2026-11-30T18-00-00Z`, alone or within the
/// name (`inventory-2026-11-30`).
pub fn snapshot_time(name: &str) -> Option<DateTime<Utc>> {
    static WITHIN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let within = WITHIN.get_or_init(|| {
        regex::Regex::new(r"\d{4}-\d{2}-\d{2}(?:T\d{2}(?:[:-]?\d{2}){2}(?:\.\d+)?Z)?|\d{8}T\d{6}Z")
            .expect("a valid pattern")
    });
    exact_time(name).or_else(|| within.find_iter(name).find_map(|m| exact_time(m.as_str())))
}

fn exact_time(name: &str) -> Option<DateTime<Utc>> {
    use chrono::{NaiveDate, NaiveDateTime};
    if let Ok(t) = DateTime::parse_from_rfc3339(name) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H%M%SZ", "%Y-%m-%dT%H-%M-%SZ", "%Y%m%dT%H%M%SZ"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(name, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(name, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_fallback_and_untagged() {
        let mut inv = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: true,
        });
        inv.insert("arn:aws:s3:::data", [("Product", " aaa ")]);
        inv.insert("arn:aws:s3:::logs", [("team", "x")]);
        assert_eq!(
            inv.product("arn:aws:s3:::data/2024/x.csv"),
            Product::Tagged("aaa")
        );
        assert_eq!(inv.product("arn:aws:s3:::logs"), Product::Untagged);
        assert_eq!(inv.product("arn:aws:s3:::other"), Product::Absent);
        inv.insert("arn:aws:s3:::logs", [("product", "bbb")]);
        inv.insert("arn:aws:s3:::logs", []);
        assert_eq!(inv.product("arn:aws:s3:::logs"), Product::Tagged("bbb"));
    }

    #[test]
    fn a_kms_alias_is_judged_by_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        std::fs::write(
            dir.path().join("resources.json"),
            format!(r#"{{"ResourceTagMappingList":[{{"ResourceARN":"{key}","Tags":[{{"Key":"product","Value":"aaa"}}]}}]}}"#),
        )
        .unwrap();
        // `aws kms list-aliases`: one alias with its key, one AWS managed alias never used.
        std::fs::write(
            dir.path().join("aliases.json"),
            r#"{"Aliases":[{"AliasName":"alias/app","AliasArn":"arn:aws:kms:us-east-1:111122223333:alias/app","TargetKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"},
                           {"AliasName":"alias/aws/ebs","AliasArn":"arn:aws:kms:us-east-1:111122223333:alias/aws/ebs"},
                           {"AliasName":"alias/loop","AliasArn":"arn:aws:kms:us-east-1:111122223333:alias/loop","TargetKeyId":"arn:aws:kms:us-east-1:111122223333:alias/loop"}]}"#,
        )
        .unwrap();
        let mut inv = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: false,
        });
        files::load_dir(dir.path(), &mut inv).unwrap();
        let alias = |name: &str| format!("arn:aws:kms:us-east-1:111122223333:alias/{name}");
        assert_eq!(inv.product(&alias("app")), Product::Tagged("aaa"));
        assert_eq!(inv.product(&alias("aws/ebs")), Product::Absent);
        assert_eq!(inv.product(&alias("loop")), Product::Absent);
    }

    /// Each interval holds exactly where `in_force` and `recorded` say the product holds.
    #[test]
    fn intervals_agree_with_the_snapshot_in_force_and_config() {
        let key = TagKey {
            key: "product".into(),
            case_insensitive: false,
        };
        let at = |s: &str| snapshot_time(s).unwrap();
        let role = "arn:aws:iam::111122223333:role/app";
        let bucket = "arn:aws:s3:::data";
        let mut older = Inventory::new(key.clone());
        older.insert(role, [("product", "aaa")]);
        older.insert(bucket, []);
        let mut newer = Inventory::new(key.clone());
        newer.insert(role, [("product", "bbb")]);
        newer.insert_recorded(bucket, at("2026-11-25"), [("product", "ccc")]);
        newer.insert_recorded(bucket, at("2026-11-10"), []);
        let snapshots =
            Snapshots::dated(vec![(at("2026-11-20"), newer), (at("2026-11-01"), older)]).unwrap();
        let rows = snapshots.intervals();
        let brief: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.arn,
                    r.product,
                    r.source,
                    r.valid_from,
                    r.valid_to,
                    r.is_principal(),
                )
            })
            .collect();
        use IntervalSource::{Config, Inventory as Listed};
        assert_eq!(
            brief,
            [
                (
                    role,
                    Some("aaa"),
                    Listed,
                    None,
                    Some(at("2026-11-20")),
                    true
                ),
                (bucket, None, Listed, None, Some(at("2026-11-20")), false),
                (
                    role,
                    Some("bbb"),
                    Listed,
                    Some(at("2026-11-20")),
                    None,
                    true
                ),
                (
                    bucket,
                    None,
                    Config,
                    Some(at("2026-11-10")),
                    Some(at("2026-11-25")),
                    false
                ),
                (
                    bucket,
                    Some("ccc"),
                    Config,
                    Some(at("2026-11-25")),
                    None,
                    false
                ),
            ]
        );
        for instant in ["2026-10-01", "2026-11-05", "2026-11-20", "2026-11-26"] {
            let t = at(instant);
            let holds = |r: &&TagInterval| {
                r.valid_from.is_none_or(|f| f <= t) && r.valid_to.is_none_or(|u| t < u)
            };
            let in_force = snapshots.in_force(Some(t));
            let listed = rows
                .iter()
                .filter(|r| r.source == Listed && r.arn == role)
                .filter(holds)
                .map(|r| r.product);
            assert_eq!(
                listed.collect::<Vec<_>>(),
                [in_force
                    .inventory
                    .entries()
                    .find(|(a, _)| *a == role)
                    .unwrap()
                    .1],
                "{instant}"
            );
            let recorded = rows
                .iter()
                .filter(|r| r.source == Config)
                .find(|r| holds(r));
            let expected = snapshots.newest().inventory.recorded(bucket, t);
            assert_eq!(
                recorded.map(|r| r.product.map_or(Product::Untagged, Product::Tagged)),
                expected,
                "{instant}"
            );
        }
    }

    #[test]
    fn the_snapshot_in_force_at_an_instant() {
        let key = TagKey {
            key: "product".into(),
            case_insensitive: false,
        };
        let at = |s: &str| snapshot_time(s).unwrap();
        let snapshots = Snapshots::dated(vec![
            (at("2026-11-20"), Inventory::new(key.clone())),
            (at("2026-11-01T120000Z"), Inventory::new(key.clone())),
        ])
        .unwrap();
        let taken = |t: Option<&str>| snapshots.in_force(t.map(at)).taken.unwrap();
        assert_eq!(taken(Some("2026-10-01")), at("2026-11-01T12:00:00Z"));
        assert_eq!(
            taken(Some("2026-11-01T12:00:00Z")),
            at("2026-11-01T12-00-00Z")
        );
        assert_eq!(taken(Some("2026-11-19")), at("2026-11-01T12:00:00Z"));
        assert_eq!(taken(Some("2026-11-25")), at("2026-11-20"));
        assert_eq!(taken(None), at("2026-11-20"));
        assert!(snapshot_time("latest").is_none());
        assert_eq!(
            snapshot_time("inventory-2026-11-20"),
            Some(at("2026-11-20"))
        );
        assert_eq!(
            snapshot_time("snap_2026-11-01T12:00:00Z_eu"),
            Some(at("2026-11-01T120000Z"))
        );
        assert!(Snapshots::dated(Vec::new()).is_none());
    }
}
