//! Where the state of a scheduled scan lives, and the lock that keeps a second run off it.
//!
//! A local file is locked with `flock` on `<file>.lock` (released by the kernel when the
//! process dies, even by SIGKILL) and written by fsync and rename. An S3 object is locked by
//! creating `<key>.lock` with `If-None-Match: *` (a lease: a lock older than its expiry may be
//! taken over, with `If-Match` on its ETag) and written with `If-Match` on the ETag it was read
//! with, so two writers can never both succeed.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::state::{State, StateError};

/// Where `--state` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl std::str::FromStr for Location {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key))
                    if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') =>
                {
                    Ok(Location::S3 {
                        bucket: bucket.to_string(),
                        key: key.to_string(),
                    })
                }
                _ => Err(format!(
                    "`{text}`: expected s3://bucket/key of the state object"
                )),
            },
            None if text.is_empty() => Err("an empty path".into()),
            None => Ok(Location::Local(PathBuf::from(text))),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// A failure to read, lock or write the state.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}: another tagtrail run holds the lock ({1}); it is released when that run ends")]
    Locked(String, String),
    /// A call to S3 that failed: the IAM action, the object, what S3 said.
    #[error("{0} {1}: {2}")]
    S3(&'static str, String, String),
    #[error("{0}: the state was changed by another run since this run read it; nothing was written (run again)")]
    Conflict(String),
}

/// The state of one run, locked for it.
pub struct Store {
    name: String,
    inner: Inner,
}

enum Inner {
    Local {
        path: PathBuf,
        /// Holds the lock while open.
        _lock: File,
    },
    #[cfg(feature = "aws")]
    S3(s3::S3Store),
}

impl Store {
    /// Locks and reads a local state file (a first run finds none).
    pub fn open_local(path: &Path) -> Result<(Store, State), StoreError> {
        let name = path.display().to_string();
        let io = |p: &Path, source| StoreError::Io {
            path: p.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let lock_path = lock_path(path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked(
                    name,
                    format!("flock on {}", lock_path.display()),
                ))
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(&lock_path, e)),
        }
        let state = match fs::read(path) {
            Ok(bytes) => State::from_json(&bytes, &name)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::new(),
            Err(e) => return Err(io(path, e)),
        };
        let inner = Inner::Local {
            path: path.to_path_buf(),
            _lock: lock,
        };
        Ok((Store { name, inner }, state))
    }

    /// Locks and reads a state object in S3 (see the module's note).
    #[cfg(feature = "aws")]
    pub fn open_s3(
        runtime: &tokio::runtime::Handle,
        client: aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        lease: chrono::Duration,
    ) -> Result<(Store, State), StoreError> {
        let (store, state) = s3::S3Store::open(runtime, client, bucket, key, lease)?;
        let name = format!("s3://{bucket}/{key}");
        Ok((
            Store {
                name,
                inner: Inner::S3(store),
            },
            state,
        ))
    }

    /// Where the state is, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes the state so that it is durable when this returns, or not written at all.
    pub fn save(&mut self, state: &State) -> Result<(), StoreError> {
        let bytes = state.to_json();
        match &mut self.inner {
            Inner::Local { path, .. } => write_durably(path, &bytes),
            #[cfg(feature = "aws")]
            Inner::S3(store) => store.save(&bytes),
        }
    }

    /// Releases the lock (a local lock is also released when the process ends).
    pub fn release(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Local { .. } => Ok(()),
            #[cfg(feature = "aws")]
            Inner::S3(store) => store.release(),
        }
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a temporary file in the same folder: fsync, rename, fsync
/// of the folder. A crash leaves the old file or the new one, never a mix.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |p: &Path, source| StoreError::Io {
        path: p.display().to_string(),
        source,
    };
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_path_buf(),
        None => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".tagtrail-state.")
        .tempfile_in(&dir)
        .map_err(|e| io(&dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| io(temp.path(), e))?;
    temp.persist(path).map_err(|e| io(path, e.error))?;
    sync_dir(&dir).map_err(|e| io(&dir, e))
}

/// Makes the entries of a folder (a rename into it) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(feature = "aws")]
mod s3 {
    //! The state as an S3 object.

    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::Client;
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};
    use tokio::runtime::Handle;

    use super::StoreError;
    use crate::schedule::state::State;

    /// What the lock object says.
    #[derive(Debug, Serialize, Deserialize)]
    struct Lease {
        pid: u32,
        host: String,
        taken: DateTime<Utc>,
        expires: DateTime<Utc>,
    }

    pub(super) struct S3Store {
        runtime: Handle,
        client: Client,
        bucket: String,
        key: String,
        /// The ETag of the state as read or last written; `None`: there is none yet.
        etag: Option<String>,
        lock_key: String,
        lock_etag: Option<String>,
    }

    /// Whether an S3 call was refused because its condition did not hold.
    fn precondition_failed<E>(
        err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> bool {
        err.raw_response()
            .is_some_and(|r| matches!(r.status().as_u16(), 412 | 409))
    }

    impl S3Store {
        pub(super) fn open(
            runtime: &Handle,
            client: Client,
            bucket: &str,
            key: &str,
            lease: chrono::Duration,
        ) -> Result<(S3Store, State), StoreError> {
            let mut store = S3Store {
                runtime: runtime.clone(),
                client,
                bucket: bucket.to_string(),
                key: key.to_string(),
                etag: None,
                lock_key: format!("{key}.lock"),
                lock_etag: None,
            };
            store.lock(lease)?;
            let state = match store.get(&store.key.clone())? {
                Some((bytes, etag)) => {
                    store.etag = Some(etag);
                    State::from_json(&bytes, &store.url(&store.key))?
                }
                None => State::new(),
            };
            Ok((store, state))
        }

        fn url(&self, key: &str) -> String {
            format!("s3://{}/{key}", self.bucket)
        }

        fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
            let url = self.url(key);
            self.runtime.block_on(async {
                match self
                    .client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .send()
                    .await
                {
                    Ok(out) => {
                        let etag = out.e_tag().unwrap_or_default().to_string();
                        let body = out.body.collect().await.map_err(|e| {
                            StoreError::S3("s3:GetObject", url.clone(), e.to_string())
                        })?;
                        Ok(Some((body.into_bytes().to_vec(), etag)))
                    }
                    Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                        Ok(None)
                    }
                    Err(err) => Err(StoreError::S3(
                        "s3:GetObject",
                        url,
                        crate::aws::describe(&err),
                    )),
                }
            })
        }

        /// Creates the lock object, or takes over one whose lease has expired.
        fn lock(&mut self, lease: chrono::Duration) -> Result<(), StoreError> {
            let now = Utc::now();
            let body = serde_json::to_vec(&Lease {
                pid: std::process::id(),
                host: std::env::var("HOSTNAME").unwrap_or_default(),
                taken: now,
                expires: now + lease,
            })
            .unwrap_or_default();
            let url = self.url(&self.lock_key);
            // Ok: the new lock's ETag; Err(None): the condition failed; Err(Some): another error.
            let put = |condition: Result<&str, &str>| -> Result<Option<String>, Option<String>> {
                let request = self
                    .client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&self.lock_key)
                    .body(ByteStream::from(body.clone()));
                let request = match condition {
                    Ok(etag) => request.if_match(etag),
                    Err(any) => request.if_none_match(any),
                };
                match self.runtime.block_on(request.send()) {
                    Ok(out) => Ok(out.e_tag().map(str::to_string)),
                    Err(err) if precondition_failed(&err) => Err(None),
                    Err(err) => Err(Some(crate::aws::describe(&err))),
                }
            };
            match put(Err("*")) {
                Ok(etag) => {
                    self.lock_etag = etag;
                    return Ok(());
                }
                Err(None) => {}
                Err(Some(detail)) => return Err(StoreError::S3("s3:PutObject", url, detail)),
            }
            let Some((held, etag)) = self.get(&self.lock_key.clone())? else {
                return Err(StoreError::Conflict(url));
            };
            let holder: Option<Lease> = serde_json::from_slice(&held).ok();
            match holder {
                Some(lease) if lease.expires > now => Err(StoreError::Locked(
                    self.url(&self.key),
                    format!(
                        "{url}: taken {} by pid {} on {}, expires {}",
                        lease.taken, lease.pid, lease.host, lease.expires
                    ),
                )),
                _ => match put(Ok(&etag)) {
                    Ok(etag) => {
                        tracing::warn!(lock = url, "took over an expired lock");
                        self.lock_etag = etag;
                        Ok(())
                    }
                    Err(None) => Err(StoreError::Locked(
                        self.url(&self.key),
                        format!("{url}: taken over by another run"),
                    )),
                    Err(Some(detail)) => Err(StoreError::S3("s3:PutObject", url, detail)),
                },
            }
        }

        pub(super) fn save(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
            let request = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .body(ByteStream::from(bytes.to_vec()));
            let request = match &self.etag {
                Some(etag) => request.if_match(etag),
                None => request.if_none_match("*"),
            };
            match self.runtime.block_on(request.send()) {
                Ok(out) => {
                    self.etag = out.e_tag().map(str::to_string);
                    Ok(())
                }
                Err(err) if precondition_failed(&err) => {
                    Err(StoreError::Conflict(self.url(&self.key)))
                }
                Err(err) => Err(StoreError::S3(
                    "s3:PutObject",
                    self.url(&self.key),
                    crate::aws::describe(&err),
                )),
            }
        }

        pub(super) fn release(self) -> Result<(), StoreError> {
            let mut request = self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(&self.lock_key);
            if let Some(etag) = &self.lock_etag {
                request = request.if_match(etag);
            }
            self.runtime
                .block_on(request.send())
                .map(drop)
                .map_err(|err| {
                    StoreError::S3(
                        "s3:DeleteObject",
                        self.url(&self.lock_key),
                        crate::aws::describe(&err),
                    )
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_on_a_local_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let (mut store, mut state) = Store::open_local(&path).unwrap();
        state.runs = 1;
        store.save(&state).unwrap();
        let err = Store::open_local(&path).err().unwrap();
        assert!(err.to_string().contains("another tagtrail run"), "{err}");
        drop(store);
        let (_, again) = Store::open_local(&path).unwrap();
        assert_eq!(again.runs, 1);
        assert_eq!(
            "s3://b/k/state.json".parse::<Location>().unwrap(),
            Location::S3 {
                bucket: "b".into(),
                key: "k/state.json".into()
            }
        );
        assert!("s3://b/".parse::<Location>().is_err());
    }
}
