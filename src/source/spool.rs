//! Inputs that can be read once only, kept on disk for a second pass over them: standard input,
//! S3 objects and LookupEvents pages are read once, written (as read, compressed) while the
//! first pass reads them, and replayed from disk in the same order under the same names. The
//! folder is temporary.

use std::fs;
use std::path::Path;
use std::sync::Mutex;

use super::Pending;
use crate::tally::Problem;

/// The live inputs of one run, on disk.
#[derive(Debug)]
pub struct Spool {
    dir: tempfile::TempDir,
    kept: Mutex<Vec<Pending>>,
}

impl Spool {
    /// An empty spool in a new hidden folder under `parent`, removed when it is dropped.
    pub fn new_in(parent: &Path) -> std::io::Result<Spool> {
        Ok(Spool {
            dir: tempfile::Builder::new()
                .prefix(".tagtrail-spool-")
                .tempdir_in(parent)?,
            kept: Mutex::new(Vec::new()),
        })
    }

    /// Passes `inputs` on unchanged, keeping each on disk as it goes. One that cannot be
    /// written is replayed as unreadable, with the reason.
    pub fn record<'s>(
        &'s self,
        inputs: impl Iterator<Item = Pending> + Send + 's,
    ) -> impl Iterator<Item = Pending> + Send + 's {
        inputs.inspect(move |pending| {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            let copy = match pending {
                Pending::Fetched {
                    name,
                    raw,
                    signature,
                } => {
                    let path = self.dir.path().join(format!("{:09}", kept.len()));
                    match fs::write(&path, raw) {
                        Ok(()) => Pending::Spooled {
                            name: name.clone(),
                            path,
                            signature: signature.clone(),
                        },
                        Err(e) => Pending::Unreadable(Problem {
                            source: name.clone(),
                            reason: format!(
                                "could not be kept for the second pass in {}: {e}",
                                path.display()
                            ),
                        }),
                    }
                }
                Pending::File(path) => Pending::File(path.clone()),
                Pending::Spooled {
                    name,
                    path,
                    signature,
                } => Pending::Spooled {
                    name: name.clone(),
                    path: path.clone(),
                    signature: signature.clone(),
                },
                Pending::Unreadable(problem) => Pending::Unreadable(problem.clone()),
            };
            kept.push(copy);
        })
    }

    /// What was recorded, in the order it was read; the files stay until the spool is dropped.
    pub fn replay(&self) -> impl Iterator<Item = Pending> + Send + '_ {
        let kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        kept.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replayed inputs come back in order, under their names, with the same bytes; the folder
    /// goes with the spool.
    #[test]
    fn inputs_come_back_in_order_and_the_folder_goes() {
        let parent = tempfile::tempdir().unwrap();
        let spool = Spool::new_in(parent.path()).unwrap();
        let inputs = vec![
            Pending::Fetched {
                name: "s3://b/one".into(),
                raw: b"{\"Records\":[]}".to_vec(),
                signature: Some("5ign".into()),
            },
            Pending::Unreadable(Problem {
                source: "s3://b/two".into(),
                reason: "AccessDenied".into(),
            }),
        ];
        let passed: Vec<String> = spool.record(inputs.into_iter()).map(|p| p.name()).collect();
        assert_eq!(passed, ["s3://b/one", "s3://b/two"]);
        let replayed: Vec<Pending> = spool.replay().collect();
        assert_eq!(replayed.len(), 2);
        let input = replayed
            .into_iter()
            .next()
            .unwrap()
            .load(Vec::new(), 1 << 20)
            .unwrap();
        assert_eq!(input.name, "s3://b/one");
        assert_eq!(input.bytes, b"{\"Records\":[]}");
        assert_eq!(
            input.signature.as_deref(),
            Some("5ign"),
            "a digest's signature is kept"
        );
        let dir = spool.dir.path().to_path_buf();
        drop(spool);
        assert!(!dir.exists());
    }
}
