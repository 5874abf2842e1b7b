//! Output folders that are replaced whole or not at all.
//!
//! A run writes every artifact into a staging folder beside its target (`.NAME.staging-XXXX`)
//! and [`Staging::commit`] swaps it in only when the run succeeded, so a failed or interrupted
//! run leaves the previous folder byte-identical and never mixes two runs. Staging folders and
//! `.realitycheck-*.tmp` files left by a run that was killed are removed by the next run into
//! the same place. On Ctrl-C the CLI calls [`remove_active`] before exiting.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

/// Staging folders of this process, for [`interrupt`].
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set by [`interrupt`]: no staging folder may be committed after it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub struct Staging {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
}

fn prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    format!(".{name}.staging-")
}

impl Staging {
    /// A fresh staging folder for `target`; stale ones of earlier killed runs are removed.
    pub fn new(target: &Path) -> anyhow::Result<Staging> {
        let parent = parent_of(target);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let prefix = prefix(target);
        remove_stale(&parent, &prefix);
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&parent)
            .with_context(|| format!("creating a staging folder in {}", parent.display()))?;
        if let Ok(mut a) = ACTIVE.lock() {
            a.push(dir.path().to_path_buf());
        }
        Ok(Staging {
            target: target.to_path_buf(),
            dir: Some(dir),
        })
    }

    /// Where the run writes.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(&self.target, |d| d.path())
    }

    /// Puts the staged folder in place of the target (the old one is removed).
    pub fn commit(mut self) -> anyhow::Result<()> {
        if INTERRUPTED.load(Ordering::SeqCst) {
            anyhow::bail!("interrupted: {} was not replaced", self.target.display());
        }
        let dir = self.dir.take().expect("committed once").keep();
        forget(&dir);
        let old = if self.target.exists() {
            let old = parent_of(&self.target).join(format!(
                "{}old-{}",
                prefix(&self.target),
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&self.target, &old).with_context(|| {
                format!(
                    "moving the previous {} aside (is it a folder you can write?)",
                    self.target.display()
                )
            })?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&dir, &self.target) {
            // Put the previous output back: a failed swap must not lose it.
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.target);
            }
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e)
                .with_context(|| format!("moving the new output into {}", self.target.display()));
        }
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            forget(d.path());
        }
        // The TempDir removes the staging folder: the target is untouched.
    }
}

fn forget(p: &Path) {
    if let Ok(mut a) = ACTIVE.lock() {
        a.retain(|x| x != p);
    }
}

fn parent_of(p: &Path) -> PathBuf {
    p.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Removes staging folders of killed runs; a previous output that a run killed in the middle of
/// its swap had moved aside (`...old-PID`) is put back first if the target is missing.
fn remove_stale(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let target = parent.join(prefix.trim_start_matches('.').trim_end_matches(".staging-"));
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(prefix) {
            continue;
        }
        if name[prefix.len()..].starts_with("old-")
            && !target.exists()
            && std::fs::rename(e.path(), &target).is_ok()
        {
            continue;
        }
        let _ = std::fs::remove_dir_all(e.path());
    }
}

/// Removes `.realitycheck-*.tmp` files in `dir` that an interrupted write left behind and that
/// are over an hour old (a younger one may belong to a run still writing).
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if name.starts_with(".realitycheck-") && name.ends_with(".tmp") && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// On Ctrl-C, before exiting: no staging folder is committed from now on, and every staging
/// folder of this process is removed.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    remove_active();
}

fn remove_active() {
    let dirs = ACTIVE.lock().map(|a| a.clone()).unwrap_or_default();
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The process's peak resident memory in KiB (`VmHWM`), where the kernel reports it (Linux).
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_folder() {
        let root = tempfile::tempdir().expect("tmp");
        let target = root.path().join("report");
        std::fs::create_dir_all(&target).expect("mkdir");
        std::fs::write(target.join("a.txt"), "old").expect("write");

        let s = Staging::new(&target).expect("staging");
        std::fs::write(s.path().join("a.txt"), "half-written").expect("write");
        drop(s);
        assert_eq!(
            std::fs::read_to_string(target.join("a.txt")).expect("read"),
            "old"
        );

        let s = Staging::new(&target).expect("staging");
        std::fs::write(s.path().join("b.txt"), "new").expect("write");
        s.commit().expect("commit");
        assert!(!target.join("a.txt").exists(), "no mix of two runs");
        assert_eq!(
            std::fs::read_to_string(target.join("b.txt")).expect("read"),
            "new"
        );
        let left: Vec<_> = std::fs::read_dir(root.path()).expect("ls").collect();
        assert_eq!(left.len(), 1, "nothing but the target is left");
    }

    #[test]
    fn stale_temp_files_are_removed_young_ones_kept() {
        let root = tempfile::tempdir().expect("tmp");
        let old = root.path().join(".realitycheck-abc.tmp");
        let young = root.path().join(".realitycheck-def.tmp");
        let other = root.path().join("keep.tmp");
        for p in [&old, &young, &other] {
            std::fs::write(p, "x").expect("write");
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for p in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .and_then(|f| f.set_modified(two_hours_ago))
                .expect("mtime");
        }
        remove_stale_temp_files(root.path());
        assert!(!old.exists() && young.exists() && other.exists());
    }

    #[test]
    fn stale_staging_folders_are_removed_and_a_moved_aside_output_restored() {
        let root = tempfile::tempdir().expect("tmp");
        let target = root.path().join("out");
        let stale = root.path().join(".out.staging-killed");
        let aside = root.path().join(".out.staging-old-123");
        std::fs::create_dir_all(&stale).expect("mkdir");
        std::fs::create_dir_all(&aside).expect("mkdir");
        std::fs::write(aside.join("report.json"), "{}").expect("write");
        let s = Staging::new(&target).expect("staging");
        assert!(!stale.exists() && !aside.exists());
        assert!(
            target.join("report.json").exists(),
            "the previous output is back"
        );
        drop(s);
    }
}
