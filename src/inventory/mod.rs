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

use std::sync::Arc;

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

/// Product tags by ARN, plus the index that completes partial ARNs.
#[derive(Debug, Clone)]
pub struct Inventory {
    tag_key: TagKey,
    products: foldhash::HashMap<Arc<str>, Option<Arc<str>>>,
    /// Each product value once; entries share it.
    values: foldhash::HashSet<Arc<str>>,
    index: ArnIndex,
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
            sources: Vec::new(),
        }
    }

    /// Records an ARN and its tags (as (key, value) pairs). A later entry for the same ARN
    /// adds to what is known: a product tag is never replaced by its absence.
    pub fn insert<'t>(&mut self, arn: &str, tags: impl IntoIterator<Item = (&'t str, &'t str)>) {
        let arn: Arc<str> = match arn::normalize(arn) {
            Some(normal) => normal.into(),
            None => arn.trim().into(),
        };
        let product = tags
            .into_iter()
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
            });
        if !self.products.contains_key(&arn) {
            self.index.insert_shared(arn.clone());
        }
        let slot = self.products.entry(arn).or_insert(None);
        if product.is_some() {
            *slot = product;
        }
    }

    /// The product of an ARN, from the ARN itself or, where it is not known, its parent.
    pub fn product(&self, arn: &str) -> Product<'_> {
        fn known(p: &Option<Arc<str>>) -> Product<'_> {
            p.as_deref().map_or(Product::Untagged, Product::Tagged)
        }
        if let Some(p) = self.products.get(arn) {
            return known(p);
        }
        let mut current = arn::parent(arn);
        while let Some(a) = current {
            if let Some(p) = self.products.get(a.as_str()) {
                return known(p);
            }
            current = arn::parent(&a);
        }
        Product::Absent
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
}
