//! A spinner that says which stage a long run is in: on a terminal only, never under `CI`,
//! `-q`, or when stderr is a file, so logs and CI output stay free of control codes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The spinner on screen, if any, so log lines can be written around it.
static ACTIVE: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);

/// Runs `f` (a write to stderr) with the spinner, if one is on screen, cleared meanwhile.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let active = ACTIVE.lock().ok().and_then(|a| a.clone());
    match active {
        Some(pb) => pb.suspend(f),
        None => f(),
    }
}

/// Allows spinners for this run (the CLI decides once, from the terminal and the flags).
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::SeqCst);
}

/// A spinner showing `message`, or nothing when spinners are off.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    pub fn start(message: &str) -> Spinner {
        if !ENABLED.load(Ordering::SeqCst) {
            return Spinner(None);
        }
        let pb = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            pb.set_style(style);
        }
        pb.set_message(message.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut a) = ACTIVE.lock() {
            *a = Some(pb.clone());
        }
        Spinner(Some(pb))
    }

    pub fn stage(&self, message: &str) {
        if let Some(pb) = &self.0 {
            pb.set_message(message.to_string());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            if let Ok(mut a) = ACTIVE.lock() {
                *a = None;
            }
            pb.finish_and_clear();
        }
    }
}
