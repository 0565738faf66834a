//! Closed sets of flag values. Variants carry no doc comments on purpose: clap would turn them
//! into a per-value list in `--help`, and cosign's help shows `[possible values: ...]`.

use clap::ValueEnum;
use cosign_oci::ImageRef;
use cosign_types::oci::Platform;

/// Parses an image reference argument (Docker Hub names normalised as Go cosign does).
pub fn image_ref(text: &str) -> Result<ImageRef, String> {
    ImageRef::parse(text).map_err(|e| format!("parsing reference {text:?}: {e}"))
}

/// Parses `--platform`: `os/arch[/variant]`.
pub fn platform(text: &str) -> Result<Platform, String> {
    Platform::parse(text)
        .ok_or_else(|| format!("parsing platform {text:?}: expected os/arch[/variant]"))
}

/// `--registry-referrers-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReferrersMode {
    // the .sig/.att/.sbom tags
    Legacy,
    // OCI 1.1 referrers (with COSIGN_EXPERIMENTAL=1)
    #[value(name = "oci-1-1")]
    Oci11,
}

/// `verify -o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Text,
}

/// `triangulate --type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TriangulateType {
    Signature,
    Attestation,
    Sbom,
    Digest,
}

/// `clean --type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CleanKind {
    All,
    Signature,
    Attestation,
    Sbom,
    Referrer,
}

/// `--rekor-entry-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EntryType {
    Dsse,
    Intoto,
}

impl From<EntryType> for cosign::attestation::RekorEntryType {
    fn from(t: EntryType) -> Self {
        match t {
            EntryType::Dsse => Self::Dsse,
            EntryType::Intoto => Self::Intoto,
        }
    }
}

/// `--digestAlg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DigestAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl From<DigestAlg> for cosign_types::HashAlgorithm {
    fn from(a: DigestAlg) -> Self {
        match a {
            DigestAlg::Sha256 => Self::Sha256,
            DigestAlg::Sha384 => Self::Sha384,
            DigestAlg::Sha512 => Self::Sha512,
        }
    }
}

impl From<CleanKind> for cosign::image::clean::CleanType {
    fn from(k: CleanKind) -> Self {
        match k {
            CleanKind::All => Self::All,
            CleanKind::Signature => Self::Signature,
            CleanKind::Attestation => Self::Attestation,
            CleanKind::Sbom => Self::Sbom,
            CleanKind::Referrer => Self::Referrer,
        }
    }
}

impl From<Shell> for clap_complete::Shell {
    fn from(s: Shell) -> Self {
        match s {
            Shell::Bash => Self::Bash,
            Shell::Zsh => Self::Zsh,
            Shell::Fish => Self::Fish,
            Shell::Powershell => Self::PowerShell,
        }
    }
}

/// `completion SHELL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}
