//! Wording of what the library reports: the lines the flows' events become on stderr.

use cosign::image::Reporter;

/// Prints flow reports on stderr, as the [`crate::printer::Printer`] does.
pub struct StderrReporter;

impl Reporter for StderrReporter {
    fn info(&self, line: &str) {
        crate::printer::stderr_line(line);
    }
    fn warn(&self, message: &str) {
        crate::printer::stderr_line(&format!("WARNING: {message}"));
    }
}
