//! The wording of what the library reports: each flow [`Event`] becomes cosign's stderr line.

use cosign::report::{Event, Reporter};
use cosign::tlog::LogCheck;
use cosign_types::media_types::{
    COSIGN_ARTIFACT_SBOM_MEDIA_TYPE, COSIGN_ARTIFACT_SIG_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE,
};

/// Prints flow events on stderr, as the [`crate::printer::Printer`] does.
pub struct StderrReporter;

impl Reporter for StderrReporter {
    fn event(&self, event: Event) {
        let line = describe(&event);
        if event.is_warning() {
            crate::printer::stderr_line(&format!("WARNING: {line}"));
        } else {
            crate::printer::stderr_line(&line);
        }
    }
}

/// cosign's line for an event.
pub fn describe(event: &Event) -> String {
    match event {
        Event::SigningByTag { reference } => tag_reference_warning(reference),
        Event::TlogEntryCreated { index } => tlog_entry_created(*index),
        Event::PushingSignature { repository } => format!("Pushing signature to: {repository}"),
        Event::UploadingSignatureReferrer {
            subject,
            repository,
            manifest,
        } => format!(
            "Uploading signature for [{subject}] to [{repository}@{manifest}] with config.mediaType [{COSIGN_ARTIFACT_SIG_MEDIA_TYPE}] layers[0].mediaType [{SIMPLE_SIGNING_MEDIA_TYPE}]."
        ),
        Event::ReplacingAttestation { predicate_type } => {
            format!("Replacing attestation predicate: {predicate_type}")
        }
        Event::KeepingAttestation { predicate_type } => {
            format!("Not replacing attestation predicate: {predicate_type}")
        }
        Event::Removed { reference, image } => format!("Removed {reference} from {image}"),
        Event::RemoveFailed {
            reference,
            image,
            error,
        } => format!("could not delete {reference} from {image}:\n{error}"),
        Event::ReferrersLeft => "image has referrers, consider using --type=referrer".to_owned(),
        Event::UploadingFile {
            path,
            image,
            media_type,
        } => format!(
            "Uploading file from [{}] to [{image}] with media type [{media_type}]",
            path.display()
        ),
        Event::FileAvailable {
            path,
            registry,
            repository,
            digest,
        } => format!(
            "File [{}] is available directly at [{registry}/v2/{repository}/blobs/{digest}]",
            path.display()
        ),
        Event::UploadingWasm { path, image } => {
            format!(
                "Uploading wasm file from [{}] to [{image}].",
                path.display()
            )
        }
        Event::UploadingSbom {
            image,
            target,
            media_type,
            referrer: true,
        } => format!(
            "Uploading SBOM file for [{image}] to [{target}] with config.mediaType [{COSIGN_ARTIFACT_SBOM_MEDIA_TYPE}] layers[0].mediaType [{media_type}]."
        ),
        Event::UploadingSbom {
            image,
            target,
            media_type,
            referrer: false,
        } => format!(
            "Uploading SBOM file for [{image}] to [{target}] with mediaType [{media_type}]."
        ),
        Event::Copying { from, to } => format!("Copying {from} to {to}..."),
        Event::ImpliedPayload { reference } => format!(
            "using obsolete implied signature payload data (with digested reference {reference}); specify it explicitly with --payload instead"
        ),
        Event::LayoutWithoutAttachments { dir } => format!(
            "{} holds no signatures, attestations or referrers of the image",
            dir.display()
        ),
        other => format!("{other:?}"),
    }
}

/// cosign's line after recording in the transparency log.
pub fn tlog_entry_created(index: i64) -> String {
    format!("tlog entry created with index: {index}")
}

/// cosign's warning for signing by tag.
fn tag_reference_warning(reference: &str) -> String {
    format!(
        "Image reference {reference} uses a tag, not a digest, to identify the image to sign.\n    This can lead you to sign a different image than the intended one. Please use a\n    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to\n    images by tag will be removed in a future release.\n"
    )
}

/// cosign's checks block printed before the verified payloads of an image.
pub fn verification_header(
    p: &crate::printer::Printer,
    image: &str,
    check_claims: bool,
    annotations: bool,
    log: LogCheck,
    keyless: bool,
) {
    p.info(&format!("\nVerification for {image} --"));
    p.info("The following checks were performed on each of these signatures:");
    if check_claims {
        if annotations {
            p.info("  - The specified annotations were verified.");
        }
        p.info("  - The cosign claims were validated");
    }
    match log {
        LogCheck::None => {}
        LogCheck::Offline => {
            p.info("  - Existence of the claims in the transparency log was verified offline");
        }
        LogCheck::Online => {
            p.info("  - The claims were present in the transparency log");
            p.info("  - The signatures were integrated into the transparency log when the certificate was valid");
        }
    }
    if keyless {
        p.info(
            "  - The code-signing certificate was verified using trusted certificate authority certificates",
        );
    } else {
        p.info("  - The signatures were verified against the specified public key");
    }
}
