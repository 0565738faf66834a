//! The one tokio runtime behind the in-process servers (token server, counting proxy) and the
//! HTTP client, shared by every [`crate::Registry`] of a test binary.
//!
//! Everything public in this crate is blocking. [`block_on`] runs a future on a fresh thread, so
//! it works from plain `#[test]`s and from inside another runtime (`#[tokio::test]`) alike.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-support")
            .enable_all()
            .build()
            .expect("build the test-support tokio runtime")
    })
}

/// The shared runtime's handle, to spawn servers on.
pub(crate) fn handle() -> &'static Handle {
    runtime().handle()
}

/// Runs `fut` to completion on the shared runtime and returns its output; a panic inside it is
/// re-raised here with its message.
pub(crate) fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| runtime().block_on(fut))
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
    })
}
