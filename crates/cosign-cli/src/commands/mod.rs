//! One module per command. Each turns raw arguments into typed library requests, calls the
//! `cosign` flows, and prints through the [`Printer`].

mod attest;
mod attest_blob;
mod completion;
mod copy;
mod env_cmd;
mod images;
mod keys;
mod layout;
mod manifest_verify;
mod pkcs11_tool;
mod progress;
mod registry;
mod sbom;
mod sign;
mod sign_blob;
mod tlog;
mod tree;
mod upload;
mod verify;
mod verify_attestation;
mod verify_blob;
mod version;

use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::args::{
    AttachCommand, Cli, Command, DockerfileCommand, DownloadCommand, ManifestCommand, UploadCommand,
};
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
        Command::Pkcs11Tool(a) => pkcs11_tool::run(&a, &ctx),
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
        Command::Attest(a) => attest::run(&a, &ctx),
        Command::VerifyAttestation(a) => verify_attestation::run(&a, &ctx),
        Command::AttestBlob(a) => attest_blob::attest(&a, &ctx),
        Command::VerifyBlobAttestation(a) => attest_blob::verify(&a, &ctx),
        Command::Attach(AttachCommand::Attestation(a)) => attest::attach(&a, &ctx),
        Command::Download(DownloadCommand::Attestation(a)) => attest::download(&a, &ctx),
        Command::Generate(a) => {
            progress::deprecated(&ctx, "generate", progress::notices::GENERATE);
            images::generate(&a, &ctx)
        }
        Command::Attach(AttachCommand::Signature(a)) => {
            progress::deprecated(&ctx, "attach", progress::notices::ATTACH);
            images::attach_signature_cmd(&a, &ctx)
        }
        Command::Download(DownloadCommand::Signature(a)) => images::download_signature(&a, &ctx),
        Command::Triangulate(a) => {
            progress::deprecated(&ctx, "triangulate", progress::notices::TRIANGULATE);
            images::triangulate(&a, &ctx)
        }
        Command::Clean(a) => images::clean_cmd(&a, &ctx),
        Command::Attach(AttachCommand::Sbom(a)) => {
            progress::deprecated(&ctx, "attach", progress::notices::ATTACH);
            sbom::attach(&a, &ctx)
        }
        Command::Download(DownloadCommand::Sbom(a)) => sbom::download(&a, &ctx),
        Command::Upload(UploadCommand::Blob(a)) => {
            progress::deprecated(&ctx, "upload", progress::notices::UPLOAD);
            upload::blob(&a, &ctx)
        }
        Command::Upload(UploadCommand::Wasm(a)) => {
            progress::deprecated(&ctx, "upload", progress::notices::UPLOAD);
            upload::wasm(&a, &ctx)
        }
        Command::Copy(a) => {
            progress::deprecated(&ctx, "copy", progress::notices::COPY);
            copy::run(&a, &ctx)
        }
        Command::Save(a) => layout::save_cmd(&a, &ctx),
        Command::Load(a) => layout::load_cmd(&a, &ctx),
        Command::Tree(a) => tree::run(&a, &ctx),
        Command::Dockerfile(DockerfileCommand::Verify(a)) => {
            progress::deprecated(&ctx, "dockerfile", progress::notices::DOCKERFILE);
            manifest_verify::dockerfile(a, &ctx)
        }
        Command::Manifest(ManifestCommand::Verify(a)) => {
            progress::deprecated(&ctx, "manifest", progress::notices::MANIFEST);
            manifest_verify::manifest(a, &ctx)
        }
    }
}

/// The environment lookup handed to library flows for `env://` key references.
pub fn env_lookup(name: &str) -> Option<String> {
    crate::env::user_named(name)
}
