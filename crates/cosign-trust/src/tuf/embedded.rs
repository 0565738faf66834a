//! The trust anchors built into the binary: the public-good and staging TUF roots and, as the
//! last fallback, their `trusted_root.json` targets (see `embedded/README.md` for the origin).

/// The public-good Sigstore instance's TUF mirror.
pub const PUBLIC_GOOD_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";
/// The staging Sigstore instance's TUF mirror.
pub const STAGING_MIRROR: &str = "https://tuf-repo-cdn.sigstage.dev";

/// The name of the Sigstore trust root target.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

const PUBLIC_GOOD_ROOT: &[u8] = include_bytes!("embedded/public-good/root.json");
const PUBLIC_GOOD_TRUSTED_ROOT: &[u8] = include_bytes!("embedded/public-good/trusted_root.json");
const STAGING_ROOT: &[u8] = include_bytes!("embedded/staging/root.json");
const STAGING_TRUSTED_ROOT: &[u8] = include_bytes!("embedded/staging/trusted_root.json");

/// A Sigstore instance whose trust anchors are embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// The public-good instance (`--staging` not given).
    PublicGood,
    /// The staging instance (`cosign initialize --staging`).
    Staging,
}

impl Instance {
    /// The instance's TUF mirror.
    pub fn mirror(self) -> &'static str {
        match self {
            Self::PublicGood => PUBLIC_GOOD_MIRROR,
            Self::Staging => STAGING_MIRROR,
        }
    }

    /// The embedded TUF `root.json` that trust starts from.
    pub fn root_json(self) -> &'static [u8] {
        match self {
            Self::PublicGood => PUBLIC_GOOD_ROOT,
            Self::Staging => STAGING_ROOT,
        }
    }

    /// The embedded `trusted_root.json`: a snapshot taken when the binary was built, for use
    /// only when TUF cannot give a verified one.
    pub fn trusted_root_json(self) -> &'static [u8] {
        match self {
            Self::PublicGood => PUBLIC_GOOD_TRUSTED_ROOT,
            Self::Staging => STAGING_TRUSTED_ROOT,
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::PublicGood => "public-good",
            Self::Staging => "staging",
        }
    }

    /// The instance whose mirror is `mirror` (ignoring one trailing `/`), if any.
    pub fn for_mirror(mirror: &str) -> Option<Self> {
        let m = mirror.strip_suffix('/').unwrap_or(mirror);
        [Self::PublicGood, Self::Staging]
            .into_iter()
            .find(|i| i.mirror() == m)
    }
}
