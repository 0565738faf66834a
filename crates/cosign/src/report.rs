//! What the flows report while they run, as data. The library never words these: the CLI turns
//! each [`Event`] into cosign's stderr line (`cosign-cli/src/output.rs`), and other front ends
//! may show them however they like, or not at all ([`Silent`]).

use std::path::PathBuf;

use cosign_types::Digest;

/// Something a flow did or found that a user may want to know about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An image to sign or attest was named by tag, not by digest (a warning).
    SigningByTag {
        /// The reference as given.
        reference: String,
    },
    /// A signature or attestation was recorded in the transparency log.
    TlogEntryCreated {
        /// The entry's log index.
        index: i64,
    },
    /// A signature is being written to a repository.
    PushingSignature {
        /// The repository (`registry/path`).
        repository: String,
    },
    /// A legacy signature is uploaded as an OCI 1.1 referrer (`--registry-referrers-mode`).
    UploadingSignatureReferrer {
        /// The signed image (`repo@digest`).
        subject: String,
        /// The repository the referrer goes to.
        repository: String,
        /// The referrer manifest's digest.
        manifest: Digest,
    },
    /// An attestation of the replaced predicate type was dropped (`attest --replace`).
    ReplacingAttestation {
        /// The predicate type.
        predicate_type: String,
    },
    /// An attestation of another predicate type was kept (`attest --replace`).
    KeepingAttestation {
        /// Its predicate type.
        predicate_type: String,
    },
    /// An attachment or referrer was deleted (`clean`).
    Removed {
        /// What was deleted.
        reference: String,
        /// The image it belonged to.
        image: String,
    },
    /// An attachment or referrer could not be deleted (`clean` goes on, then fails).
    RemoveFailed {
        /// What was to be deleted.
        reference: String,
        /// The image it belongs to.
        image: String,
        /// Why it failed.
        error: String,
    },
    /// The image has referrers that this `clean --type` leaves (a warning).
    ReferrersLeft,
    /// A file is uploaded as a single-layer image (`upload blob`).
    UploadingFile {
        /// The file.
        path: PathBuf,
        /// The destination image.
        image: String,
        /// The layer's media type.
        media_type: String,
    },
    /// Where an uploaded file's blob can be fetched directly.
    FileAvailable {
        /// The file.
        path: PathBuf,
        /// The registry host.
        registry: String,
        /// The repository path.
        repository: String,
        /// The blob's digest.
        digest: Digest,
    },
    /// A WASM module is uploaded (`upload wasm`).
    UploadingWasm {
        /// The file.
        path: PathBuf,
        /// The destination image.
        image: String,
    },
    /// An SBOM is uploaded (`attach sbom`).
    UploadingSbom {
        /// The image it is about.
        image: String,
        /// Where it goes.
        target: String,
        /// The SBOM's media type.
        media_type: String,
        /// Stored as an OCI 1.1 referrer rather than the `.sbom` tag.
        referrer: bool,
    },
    /// Something is copied (`copy`, `load`).
    Copying {
        /// The source.
        from: String,
        /// The destination.
        to: String,
    },
    /// `attach signature` without a payload: the image's simple-signing payload is implied
    /// (a warning: cosign calls this obsolete).
    ImpliedPayload {
        /// The image by digest.
        reference: String,
    },
    /// A layout holds the image only (a warning).
    LayoutWithoutAttachments {
        /// The layout directory.
        dir: PathBuf,
    },
}

impl Event {
    /// Whether the event is a warning rather than information.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Self::SigningByTag { .. }
                | Self::ReferrersLeft
                | Self::LayoutWithoutAttachments { .. }
                | Self::ImpliedPayload { .. }
        )
    }
}

/// Where flows report events; the CLI prints them. Libraries never print.
pub trait Reporter: Sync {
    /// Something happened.
    fn event(&self, event: Event);
}

/// A reporter that drops everything (tests, library callers).
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: Event) {}
}
