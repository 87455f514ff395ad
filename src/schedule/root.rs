//! The report root that scheduled runs append to, and never rewrite:
//! `findings/dt=YYYY-MM-DD/<run>.parquet` (and `.csv`) and `runs/<run>/…`.
//!
//! A run writes its files as `_tmp/<run>/<path>.pending` (a name no reader of `*.parquet` or
//! of `findings/` takes), the state commits with the list of them, and only then are they
//! moved to their names: a rename on a local disk, a copy and a delete in S3 (an object
//! appears whole or not at all). A run killed before its commit leaves only `_tmp/` files,
//! which the next run deletes; one killed after it has its move finished by the next run.

use std::fs;
use std::path::{Path, PathBuf};

use super::state::Publishing;
use super::store::sync_dir;

/// The suffix of a staged file.
pub const STAGED: &str = ".pending";

/// Where `--out` points when a scan is scheduled.
pub enum Root {
    Local(PathBuf),
    #[cfg(feature = "aws")]
    S3(s3::S3Root),
}

/// A failure to stage or publish report files.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: {1}")]
    S3(String, String),
    #[error("{0}: a committed report file is neither staged nor in place (was the report root changed by hand?)")]
    Lost(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RootError + '_ {
    move |source| RootError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Root {
    /// For messages.
    pub fn name(&self) -> String {
        match self {
            Root::Local(path) => path.display().to_string(),
            #[cfg(feature = "aws")]
            Root::S3(root) => root.url(""),
        }
    }

    /// The local folder a run writes its report files into (as `<path>.pending`): the
    /// staging folder under a local root, a temporary folder for S3 (`holder` keeps it).
    pub fn staging_dir(
        &self,
        run: &str,
        holder: &mut Option<tempfile::TempDir>,
    ) -> Result<PathBuf, RootError> {
        match self {
            Root::Local(root) => Ok(root.join("_tmp").join(run)),
            #[cfg(feature = "aws")]
            Root::S3(_) => {
                let dir = tempfile::tempdir().map_err(io(Path::new("temporary folder")))?;
                Ok(holder.insert(dir).path().to_path_buf())
            }
        }
    }

    /// Makes the staged files durable where the next run can find them: fsync on a local
    /// disk; an upload to `_tmp/<run>/` in S3. Returns their final paths under the root.
    pub fn stage(
        &self,
        run: &str,
        staging: &Path,
        files: &[PathBuf],
    ) -> Result<Vec<String>, RootError> {
        let mut names = Vec::new();
        for file in files {
            let relative = file.strip_prefix(staging).unwrap_or(file);
            let text = relative.to_string_lossy().replace('\\', "/");
            let name = text.strip_suffix(STAGED).unwrap_or(&text).to_string();
            match self {
                Root::Local(_) => {
                    fs::File::open(file)
                        .and_then(|f| f.sync_all())
                        .map_err(io(file))?;
                    if let Some(dir) = file.parent() {
                        sync_dir(dir).map_err(io(dir))?;
                    }
                }
                #[cfg(feature = "aws")]
                Root::S3(root) => root.upload(&staged_key(run, &name), file)?,
            }
            names.push(name);
        }
        Ok(names)
    }

    /// Moves a committed run's staged files to their names. Safe to repeat: a file already
    /// moved is left alone.
    pub fn publish(&self, publishing: &Publishing) -> Result<(), RootError> {
        for name in &publishing.files {
            fail::fail_point!("schedule::publish-one");
            let staged = staged_key(&publishing.run, name);
            match self {
                Root::Local(root) => {
                    let (from, to) = (root.join(&staged), root.join(name));
                    if from.exists() {
                        let dir = to.parent().unwrap_or(root);
                        fs::create_dir_all(dir).map_err(io(dir))?;
                        fs::rename(&from, &to).map_err(io(&from))?;
                        sync_dir(dir).map_err(io(dir))?;
                    } else if !to.exists() {
                        return Err(RootError::Lost(to.display().to_string()));
                    }
                }
                #[cfg(feature = "aws")]
                Root::S3(root) => root.promote(&staged, name)?,
            }
        }
        Ok(())
    }

    /// Deletes what runs left in `_tmp/`, the files a committed run still has to move
    /// (`keep`) excepted.
    pub fn clean(&self, keep: Option<&str>) -> Result<(), RootError> {
        match self {
            Root::Local(root) => {
                let tmp = root.join("_tmp");
                let entries = match fs::read_dir(&tmp) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(io(&tmp)(e)),
                };
                for entry in entries {
                    let entry = entry.map_err(io(&tmp))?;
                    if keep.is_some_and(|run| entry.file_name() == run) {
                        continue;
                    }
                    let path = entry.path();
                    tracing::info!(path = %path.display(), "deleting what an interrupted run staged");
                    fs::remove_dir_all(&path).map_err(io(&path))?;
                }
                Ok(())
            }
            #[cfg(feature = "aws")]
            Root::S3(root) => root.clean(keep),
        }
    }
}

/// Where a run stages a file, relative to the root.
fn staged_key(run: &str, name: &str) -> String {
    format!("_tmp/{run}/{name}{STAGED}")
}

#[cfg(feature = "aws")]
pub mod s3 {
    //! A report root in S3.

    use std::path::Path;

    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::Client;
    use tokio::runtime::Handle;

    use super::RootError;

    pub struct S3Root {
        pub runtime: Handle,
        pub client: Client,
        pub bucket: String,
        /// Empty, or ending in `/`.
        pub prefix: String,
    }

    impl S3Root {
        pub(super) fn url(&self, name: &str) -> String {
            format!("s3://{}/{}{name}", self.bucket, self.prefix)
        }

        fn key(&self, name: &str) -> String {
            format!("{}{name}", self.prefix)
        }

        fn failed<E: std::error::Error>(&self, name: &str, err: &E) -> RootError {
            RootError::S3(self.url(name), crate::aws::describe(err))
        }

        pub(super) fn upload(&self, name: &str, file: &Path) -> Result<(), RootError> {
            self.runtime.block_on(async {
                let body = ByteStream::from_path(file)
                    .await
                    .map_err(|e| RootError::S3(file.display().to_string(), e.to_string()))?;
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(self.key(name))
                    .body(body)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| self.failed(name, &e))
            })
        }

        /// Copies a staged object to its name and deletes the staged one.
        pub(super) fn promote(&self, staged: &str, name: &str) -> Result<(), RootError> {
            self.runtime.block_on(async {
                let exists = |key: String| async move {
                    match self
                        .client
                        .head_object()
                        .bucket(&self.bucket)
                        .key(key)
                        .send()
                        .await
                    {
                        Ok(_) => Ok(true),
                        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                            Ok(false)
                        }
                        Err(err) => Err(err),
                    }
                };
                let staged_exists = exists(self.key(staged))
                    .await
                    .map_err(|e| self.failed(staged, &e))?;
                if !staged_exists {
                    return match exists(self.key(name)).await {
                        Ok(true) => Ok(()),
                        Ok(false) => Err(RootError::Lost(self.url(name))),
                        Err(e) => Err(self.failed(name, &e)),
                    };
                }
                self.client
                    .copy_object()
                    .bucket(&self.bucket)
                    .key(self.key(name))
                    .copy_source(format!("{}/{}", self.bucket, self.key(staged)))
                    .send()
                    .await
                    .map_err(|e| self.failed(name, &e))?;
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(self.key(staged))
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| self.failed(staged, &e))
            })
        }

        pub(super) fn clean(&self, keep: Option<&str>) -> Result<(), RootError> {
            let tmp = self.key("_tmp/");
            let keep = keep.map(|run| self.key(&format!("_tmp/{run}/")));
            self.runtime.block_on(async {
                let mut pages = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(&tmp)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| self.failed("_tmp/", &e))?;
                    for object in page.contents() {
                        let Some(key) = object.key() else { continue };
                        if keep.as_deref().is_some_and(|k| key.starts_with(k)) {
                            continue;
                        }
                        tracing::info!(key, "deleting what an interrupted run staged");
                        self.client
                            .delete_object()
                            .bucket(&self.bucket)
                            .key(key)
                            .send()
                            .await
                            .map_err(|e| self.failed(key, &e))?;
                    }
                }
                Ok(())
            })
        }
    }
}
