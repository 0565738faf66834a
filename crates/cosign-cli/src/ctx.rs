//! What every command gets besides its own arguments: the printer, `--timeout`, and the one
//! async runtime that runs the library's flows.

use std::cell::OnceCell;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::printer::Printer;

/// The command context.
pub struct Ctx<'a> {
    /// Output.
    pub printer: &'a Printer,
    /// `--timeout`, applied to network operations.
    pub timeout: Duration,
    /// The single-threaded runtime, made on first use (commands without I/O never build it).
    runtime: OnceCell<tokio::runtime::Runtime>,
}

impl<'a> Ctx<'a> {
    /// A context printing through `printer`, bounding flows by `timeout` (zero: no bound).
    pub fn new(printer: &'a Printer, timeout: Duration) -> Self {
        Self {
            printer,
            timeout,
            runtime: OnceCell::new(),
        }
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(self.runtime.get_or_init(|| rt))
    }

    /// Runs an async flow to completion, bounded by `--timeout`.
    pub fn block_on<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let timeout = self.timeout;
        self.runtime()?.block_on(async move {
            if timeout.is_zero() {
                return fut.await;
            }
            match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => {
                    anyhow::bail!("timed out after {timeout:?} (set --timeout to allow longer)")
                }
            }
        })
    }
}
