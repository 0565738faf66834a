//! Progress bars for long transfers (indicatif, on stderr, only when stderr is a terminal and
//! the transfer is over a few MiB) and cobra's deprecation notices.

use std::io::IsTerminal;
use std::sync::Arc;

use cosign::image::transfer::ProgressSink;
use cosign_oci::Progress;

/// Transfers smaller than this get no bar.
const MIN_BYTES: u64 = 4 << 20;

/// Draws an indicatif bar per large transfer when stderr is a terminal.
pub struct Bars {
    enabled: bool,
}

impl Bars {
    /// Bars only when stderr is a terminal.
    pub fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl ProgressSink for Bars {
    fn start(&self, label: &str, total: u64) -> Option<Progress> {
        if !self.enabled || total < MIN_BYTES {
            return None;
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        let short: String = label.chars().take(40).collect();
        bar.set_message(short);
        let bar = Arc::new(bar);
        Some(Arc::new(move |done: u64| {
            if done >= total {
                bar.finish_and_clear();
            } else {
                bar.set_position(done);
            }
        }))
    }
}

/// cobra's line for a deprecated command (stderr), printed before the command runs.
pub fn deprecated(ctx: &crate::ctx::Ctx<'_>, command: &str, message: &str) {
    ctx.printer
        .info(&format!("Command \"{command}\" is deprecated, {message}"));
}

/// The `Deprecated` texts of Go cosign's commands (cosign issue #4696).
pub mod notices {
    /// `cosign copy`.
    pub const COPY: &str = "there are several options you can use instead:\n  - \"oras copy -r\" will copy images and referring artifacts\n  - \"cosign save\" to write to disk, followed by \"cosign load\" for a new registry\n  - \"cosign download\" followed by \"cosign attach\" to just copy the bundle";
    /// `cosign attach`.
    pub const ATTACH: &str = "attach will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use oras for attaching artifacts to other artifacts in a registry";
    /// `cosign upload`.
    pub const UPLOAD: &str = "upload will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use oras for uploading artifacts to a registry";
    /// `cosign dockerfile`.
    pub const DOCKERFILE: &str = "dockerfile will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use cosign verify on each image";
    /// `cosign manifest`.
    pub const MANIFEST: &str = "manifest will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use cosign verify on each image";
    /// `cosign generate`.
    pub const GENERATE: &str = "generate will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use in-toto tooling";
    /// `cosign triangulate`.
    pub const TRIANGULATE: &str = "triangulate will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `oras discover` or `cosign tree` to show referring artifacts";
}
