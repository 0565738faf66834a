//! Where output goes: primary output to stdout (or `--output-file`), everything informational to
//! stderr, as cosign's CLI convention says.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// The only writer of program output.
pub struct Printer {
    stdout: RefCell<Box<dyn Write>>,
}

impl Printer {
    /// Output to the process's stdout, or to `output_file` when given (created or truncated).
    pub fn new(output_file: Option<&Path>) -> io::Result<Self> {
        let stdout: Box<dyn Write> = match output_file {
            Some(p) => Box::new(File::create(p)?),
            None => Box::new(io::stdout()),
        };
        Ok(Self {
            stdout: RefCell::new(stdout),
        })
    }

    /// Writes raw bytes to the primary output.
    pub fn out_bytes(&self, data: &[u8]) -> io::Result<()> {
        let mut w = self.stdout.borrow_mut();
        w.write_all(data)?;
        w.flush()
    }

    /// The primary output as a writer, to stream large output (flush when done).
    pub fn stdout(&self) -> std::cell::RefMut<'_, Box<dyn Write>> {
        self.stdout.borrow_mut()
    }

    /// Writes a line to the primary output.
    pub fn out_line(&self, line: &str) -> io::Result<()> {
        let mut w = self.stdout.borrow_mut();
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        w.flush()
    }

    /// An informational line on stderr.
    pub fn info(&self, line: &str) {
        stderr_line(line);
    }

    /// Text on stderr without a newline (prompts).
    pub fn info_partial(&self, text: &str) {
        let mut e = io::stderr().lock();
        let _ = e.write_all(text.as_bytes());
        let _ = e.flush();
    }

    /// A `WARNING: ...` line on stderr.
    pub fn warn(&self, message: &str) {
        self.info(&format!("WARNING: {message}"));
    }
}

/// Writes one line to stderr (informational output never fails a command).
pub fn stderr_line(line: &str) {
    let mut e = io::stderr().lock();
    let _ = e.write_all(line.as_bytes());
    let _ = e.write_all(b"\n");
}
