//! The live sources of a run, trail objects in S3 and LookupEvents pages, streamed into the
//! same parallel run as local files.
//!
//! In: a tokio runtime and one `SdkConfig` that the caller made once for the whole run (the
//! live inventory uses the same two). Out: an iterator of [`Pending`] inputs in a stable order
//! (buckets as given, objects in key order; regions as given, pages in order), fed by
//! downloads running on the runtime. The channel between them is bounded, so downloads run
//! ahead of decoding by a few objects, never by a whole bucket. The bytes are decompressed and
//! decoded by the pipeline's workers on every core, not here.

use aws_config::SdkConfig;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::s3::{self, LayoutFilter, S3Url};
use super::{lookup_api, Pending, Window};
use crate::tally::Problem;

/// What to read live, and how to reach AWS.
#[derive(Debug, Clone)]
pub struct Live {
    pub runtime: Handle,
    pub config: SdkConfig,
    /// The configuration S3 trail objects are read with, when it is not `config` (a role in
    /// the log archive account: `--logs-role`).
    pub logs_config: Option<SdkConfig>,
    pub s3: Vec<S3Url>,
    pub lookup_events: bool,
    /// Regions for LookupEvents and the trail layout (empty: the configured region for
    /// LookupEvents; every region for S3).
    pub regions: Vec<String>,
    /// Accounts of the trail layout to read (empty: all).
    pub accounts: Vec<String>,
    /// S3 downloads in flight at once.
    pub concurrency: usize,
    /// Whether to read the digest files beside each log stream too (integrity).
    pub digests: bool,
    /// The objects to read of each `s3` URL, chosen beforehand (an incremental scan lists with
    /// [`Live::list`] and leaves out what it read before); `None`: list them.
    pub selected: Option<std::sync::Arc<Vec<Vec<s3::Object>>>>,
}

impl Live {
    /// Lists every `s3` URL for an incremental scan (see [`s3::list_resuming`]), in order.
    /// Must be called outside the runtime.
    pub fn list(
        &self,
        window: &Window,
        first_open: &s3::FirstOpenDay<'_>,
    ) -> Result<Vec<s3::Listing>, s3::S3Error> {
        self.runtime.block_on(async {
            let mut listings = Vec::new();
            for url in &self.s3 {
                let client = self.client_for(&url.bucket).await;
                let filter = self.filter();
                listings.push(
                    s3::list_resuming(&client, url, window, &filter, Some(first_open)).await?,
                );
            }
            Ok(listings)
        })
    }

    /// The bytes of objects (`s3://bucket/key`), as stored, in order; one client per bucket.
    /// Must be called outside the runtime.
    pub fn get_all(&self, urls: &[String]) -> Vec<Result<s3::Got, s3::S3Error>> {
        self.runtime.block_on(async {
            let mut clients = std::collections::BTreeMap::new();
            let mut out = Vec::with_capacity(urls.len());
            for url in urls {
                let (bucket, key) = url
                    .strip_prefix("s3://")
                    .and_then(|rest| rest.split_once('/'))
                    .unwrap_or_default();
                if !clients.contains_key(bucket) {
                    clients.insert(bucket, self.client_for(bucket).await);
                }
                out.push(s3::get(&clients[bucket], bucket, key).await);
            }
            out
        })
    }

    /// CloudTrail's public keys of each of `regions` valid between `start` and `end` (RFC 3339),
    /// as (fingerprint, PKCS#1 DER): `cloudtrail:ListPublicKeys`. Must be called outside the
    /// runtime.
    pub fn public_keys(
        &self,
        regions: &[String],
        start: &str,
        end: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        let time = |text: &str| {
            use aws_sdk_cloudtrail::primitives::{DateTime, DateTimeFormat};
            DateTime::from_str(text, DateTimeFormat::DateTime).map_err(|e| format!("`{text}`: {e}"))
        };
        let (start, end) = (time(start)?, time(end)?);
        self.runtime.block_on(async {
            let mut keys = Vec::new();
            for region in regions {
                let client =
                    aws_sdk_cloudtrail::Client::new(&crate::aws::in_region(&self.config, region));
                let mut token = None;
                loop {
                    let page = client
                        .list_public_keys()
                        .start_time(start)
                        .end_time(end)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| {
                            format!(
                                "cloudtrail:ListPublicKeys in {region}: {}",
                                crate::aws::describe(&e)
                            )
                        })?;
                    for key in page.public_key_list() {
                        if let (Some(fingerprint), Some(value)) = (key.fingerprint(), key.value()) {
                            keys.push((fingerprint.to_string(), value.as_ref().to_vec()));
                        }
                    }
                    token = page.next_token().map(str::to_string);
                    if token.is_none() {
                        break;
                    }
                }
            }
            Ok(keys)
        })
    }

    /// An S3 client for the trail bucket, in the bucket's own region.
    async fn client_for(&self, bucket: &str) -> aws_sdk_s3::Client {
        let logs_config = self.logs_config.as_ref().unwrap_or(&self.config);
        s3::bucket_client(logs_config, bucket).await
    }

    fn filter(&self) -> LayoutFilter {
        LayoutFilter {
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
        }
    }

    /// Starts the downloads on the runtime and returns their inputs in order. Must be called
    /// outside the runtime (the iterator blocks its thread while it waits).
    pub fn stream(&self, window: &Window) -> impl Iterator<Item = Pending> + Send + 'static {
        // Downloaded objects waiting for a worker: a few per core. With the downloads in
        // flight, this bounds the objects held at once (concurrency + this).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (sender, mut receiver) = mpsc::channel(cores * 2);
        let runtime = self.runtime.clone();
        let mut producer = Some(runtime.spawn(produce(self.clone(), *window, sender)));
        std::iter::from_fn(move || {
            if let Some(pending) = receiver.blocking_recv() {
                return Some(pending);
            }
            // The channel closes when the producer ends: had it panicked, the rest of the
            // sources would be lost in silence, so that is an unreadable input too.
            let failed = runtime.block_on(producer.take()?).is_err();
            failed.then(|| {
                Pending::Unreadable(Problem {
                    source: "live sources".into(),
                    reason: "internal error while reading S3 or LookupEvents; later inputs \
                             were not read (a bug: please report it)"
                        .into(),
                })
            })
        })
    }
}

/// Sends every input of every live source, in order; stops early when the receiver is gone.
async fn produce(live: Live, window: Window, sender: mpsc::Sender<Pending>) {
    let filter = live.filter();
    for (index, url) in live.s3.iter().enumerate() {
        let client = live.client_for(&url.bucket).await;
        let listed = match &live.selected {
            Some(selected) => Ok(selected.get(index).cloned().unwrap_or_default()),
            None => s3::list(&client, url, &window, &filter, live.digests).await,
        };
        let sent = match listed {
            Ok(objects) => {
                tracing::info!(url = %url, objects = objects.len(), "listed");
                s3::fetch(&client, &url.bucket, objects, live.concurrency, &sender).await
            }
            Err(err) => unreadable(&sender, url.to_string(), err.to_string()).await,
        };
        if !sent {
            return;
        }
    }
    if live.lookup_events {
        for region in crate::aws::regions(&live.config, &live.regions) {
            let client =
                aws_sdk_cloudtrail::Client::new(&crate::aws::in_region(&live.config, &region));
            let span = tracing::info_span!(
                "lookup-events",
                region = region.as_str(),
                "indicatif.pb_show" = tracing::field::Empty
            );
            let pulled =
                lookup_api::pull(&client, &region, &window, lookup_api::MIN_INTERVAL, &sender)
                    .instrument(span)
                    .await;
            let sent = match pulled {
                Ok(_) => true,
                Err(lookup_api::LookupError::Closed) => false,
                Err(err) => {
                    unreadable(&sender, format!("lookup-events:{region}"), err.to_string()).await
                }
            };
            if !sent {
                return;
            }
        }
    }
}

/// Sends a source that could not be read; false when nobody listens any more.
async fn unreadable(sender: &mpsc::Sender<Pending>, source: String, reason: String) -> bool {
    sender
        .send(Pending::Unreadable(Problem { source, reason }))
        .await
        .is_ok()
}
