//! One module per command. Each turns raw arguments into typed library requests, calls the
//! `cosign` flows, and prints through the [`Printer`].

mod completion;
mod env_cmd;
mod images;
mod keys;
mod registry;
mod sign;
mod sign_blob;
mod tlog;
mod verify;
mod verify_blob;
mod version;

use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::args::{AttachCommand, Cli, Command, DownloadCommand};
use crate::printer::Printer;

/// What every command gets besides its own arguments.
pub struct Ctx<'a> {
    /// Output.
    pub printer: &'a Printer,
    /// `--timeout`, applied to network operations.
    pub timeout: Duration,
}

impl Ctx<'_> {
    /// Runs an async flow to completion on a single-threaded runtime, bounded by `--timeout`.
    pub fn block_on<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let timeout = self.timeout;
        rt.block_on(async move {
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

/// Dispatches to the command.
pub fn run(cli: Cli, printer: &Printer) -> Result<()> {
    let ctx = Ctx {
        printer,
        timeout: cli.global.timeout,
    };
    match cli.command {
        Command::Version(a) => version::run(&a, &ctx),
        Command::Completion(a) => completion::run(&a, &ctx),
        Command::Env(a) => env_cmd::run(&a, &ctx),
        Command::GenerateKeyPair(a) => keys::generate_key_pair(&a, &ctx),
        Command::ImportKeyPair(a) => keys::import_key_pair(&a, &ctx),
        Command::PublicKey(a) => keys::public_key(&a, &ctx),
        Command::SignBlob(a) => sign_blob::run(&a, &ctx),
        Command::VerifyBlob(a) => verify_blob::run(&a, &ctx),
        Command::Sign(a) => sign::run(&a, &ctx),
        Command::Verify(a) => verify::run(&a, &ctx),
        Command::Generate(a) => images::generate(&a, &ctx),
        Command::Attach(AttachCommand::Signature(a)) => images::attach_signature_cmd(&a, &ctx),
        Command::Download(DownloadCommand::Signature(a)) => images::download_signature(&a, &ctx),
        Command::Triangulate(a) => images::triangulate(&a, &ctx),
        Command::Clean(a) => images::clean_cmd(&a, &ctx),
    }
}

/// The environment lookup handed to library flows for `env://` key references.
pub fn env_lookup(name: &str) -> Option<String> {
    crate::env::user_named(name)
}
