//! Ctrl-C in the workshop: it stops what is running (a watch, a program started with
//! `run`) and returns to the prompt instead of ending the shell.
//!
//! Once [`install`]ed, SIGINT only raises a flag that long actions poll. A second
//! Ctrl-C while the first is still unhandled ends the process as usual, so a learner
//! is never stuck. At the prompt, the line editor reads Ctrl-C as a key of its own.

use signal_hook::consts::SIGINT;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Catches Ctrl-C from now on (idempotent). Without it, Ctrl-C ends the process.
pub fn install() {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Order matters: the conditional default runs first and sees the flag as it
        // was before this Ctrl-C; only then is the flag raised.
        let _ = signal_hook::flag::register_conditional_default(SIGINT, flag.clone());
        let _ = signal_hook::flag::register(SIGINT, flag.clone());
    });
}

/// Whether Ctrl-C was pressed since the last call; lowers the flag.
pub fn take() -> bool {
    FLAG.get().is_some_and(|flag| flag.swap(false, Ordering::SeqCst))
}

/// Forgets a Ctrl-C pressed earlier (at the start of a new command).
pub fn clear() {
    let _ = take();
}

/// Raises the flag as if Ctrl-C had been pressed: an action that stopped on Ctrl-C
/// passes it on to whoever called it.
pub fn raise() {
    if let Some(flag) = FLAG.get() {
        flag.store(true, Ordering::SeqCst);
    }
}
