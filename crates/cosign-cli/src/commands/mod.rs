//! One module per command. Each turns raw arguments into typed library requests, calls the
//! `cosign` flows, and prints through the [`Printer`].

mod attest;
mod attest_blob;
mod bundle;
mod bundle_inspect;
mod completion;
mod copy;
mod env_cmd;
mod images;
mod initialize;
mod keys;
mod layout;
mod manifest_verify;
mod pkcs11_tool;
mod sbom;
mod sign;
mod sign_blob;
mod signing_config;
mod tree;
mod trusted_root;
mod upload;
mod verify;
mod verify_attestation;
mod verify_blob;
mod version;

use anyhow::Result;

use crate::args::{
    AttachCommand, Cli, Command, DockerfileCommand, DownloadCommand, ManifestCommand, UploadCommand,
};
use crate::ctx::Ctx;
use crate::printer::Printer;

/// Dispatches to the command.
pub fn run(cli: Cli, printer: &Printer) -> Result<()> {
    let ctx = Ctx::new(printer, cli.global.timeout);
    match cli.command {
        Command::Pkcs11Tool(a) => pkcs11_tool::run(&a, &ctx),
        Command::Version(a) => version::run(&a, &ctx),
        Command::Initialize(a) => initialize::run(&a, &ctx),
        Command::Bundle(a) => bundle::run(&a, &ctx),
        Command::TrustedRoot(a) => trusted_root::run(&a, &ctx),
        Command::SigningConfig(a) => signing_config::run(&a, &ctx),
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
            crate::progress::deprecated(&ctx, "generate", crate::progress::notices::GENERATE);
            images::generate(&a, &ctx)
        }
        Command::Attach(AttachCommand::Signature(a)) => {
            crate::progress::deprecated(&ctx, "attach", crate::progress::notices::ATTACH);
            images::attach_signature_cmd(&a, &ctx)
        }
        Command::Download(DownloadCommand::Signature(a)) => images::download_signature(&a, &ctx),
        Command::Triangulate(a) => {
            crate::progress::deprecated(&ctx, "triangulate", crate::progress::notices::TRIANGULATE);
            images::triangulate(&a, &ctx)
        }
        Command::Clean(a) => images::clean_cmd(&a, &ctx),
        Command::Attach(AttachCommand::Sbom(a)) => {
            crate::progress::deprecated(&ctx, "attach", crate::progress::notices::ATTACH);
            sbom::attach(&a, &ctx)
        }
        Command::Download(DownloadCommand::Sbom(a)) => sbom::download(&a, &ctx),
        Command::Upload(UploadCommand::Blob(a)) => {
            crate::progress::deprecated(&ctx, "upload", crate::progress::notices::UPLOAD);
            upload::blob(&a, &ctx)
        }
        Command::Upload(UploadCommand::Wasm(a)) => {
            crate::progress::deprecated(&ctx, "upload", crate::progress::notices::UPLOAD);
            upload::wasm(&a, &ctx)
        }
        Command::Copy(a) => {
            crate::progress::deprecated(&ctx, "copy", crate::progress::notices::COPY);
            copy::run(&a, &ctx)
        }
        Command::Save(a) => layout::save_cmd(&a, &ctx),
        Command::Load(a) => layout::load_cmd(&a, &ctx),
        Command::Tree(a) => tree::run(&a, &ctx),
        Command::Dockerfile(DockerfileCommand::Verify(a)) => {
            crate::progress::deprecated(&ctx, "dockerfile", crate::progress::notices::DOCKERFILE);
            manifest_verify::dockerfile(a, &ctx)
        }
        Command::Manifest(ManifestCommand::Verify(a)) => {
            crate::progress::deprecated(&ctx, "manifest", crate::progress::notices::MANIFEST);
            manifest_verify::manifest(a, &ctx)
        }
    }
}
