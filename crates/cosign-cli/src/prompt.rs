//! Passwords and confirmations, read the way Go cosign reads them.

use std::io::{self, BufRead, IsTerminal, Read};

use anyhow::{Result, bail};
use zeroize::Zeroizing;

use crate::env;
use crate::printer::Printer;

/// Where a password comes from, decided once per command.
pub enum PasswordSource {
    /// `COSIGN_PASSWORD` was set (possibly empty).
    Env(Zeroizing<String>),
    /// Standard input is a terminal: prompt without echo.
    Terminal,
    /// Read all of standard input.
    Stdin,
}

impl PasswordSource {
    /// Chooses the source: `COSIGN_PASSWORD`, else a terminal prompt, else standard input.
    pub fn detect() -> Self {
        if let Some(p) = env::password() {
            Self::Env(Zeroizing::new(p))
        } else if io::stdin().is_terminal() {
            Self::Terminal
        } else {
            Self::Stdin
        }
    }

    /// Reads the password; `confirm` asks twice on a terminal. `stdin_busy` names the input that
    /// already uses standard input, which then cannot also carry the password.
    pub fn read(
        &self,
        printer: &Printer,
        confirm: bool,
        stdin_busy: Option<&str>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        match self {
            Self::Env(p) => Ok(Zeroizing::new(p.as_bytes().to_vec())),
            Self::Terminal => {
                let first = ask(printer, "Enter password for private key: ")?;
                if confirm {
                    let again = ask(printer, "Enter password for private key again: ")?;
                    if *first != *again {
                        bail!("passwords do not match");
                    }
                }
                Ok(Zeroizing::new(first.as_bytes().to_vec()))
            }
            Self::Stdin => {
                if let Some(what) = stdin_busy {
                    bail!(
                        "cannot read the key password from standard input: it carries {what}; set COSIGN_PASSWORD"
                    );
                }
                let mut buf = Zeroizing::new(Vec::new());
                io::stdin()
                    .lock()
                    .read_to_end(&mut buf)
                    .map_err(|e| anyhow::anyhow!("reading password from standard input: {e}"))?;
                Ok(buf)
            }
        }
    }
}

fn ask(printer: &Printer, prompt: &str) -> Result<Zeroizing<String>> {
    printer.info_partial(prompt);
    let pw = rpassword::read_password().map_err(|e| anyhow::anyhow!("reading password: {e}"))?;
    printer.info("");
    Ok(Zeroizing::new(pw))
}

/// Reads a PKCS#11 PIN after `prompt` (cosign's texts: `Enter PIN for key '<label>' in PKCS11
/// token '<token>': ` and `Enter PIN for PKCS11 token '<token>': `): without echo on a terminal,
/// else one line of standard input unless `stdin_busy` names what standard input carries.
pub fn read_pin(
    printer: &Printer,
    prompt: &str,
    stdin_busy: Option<&str>,
) -> Result<Zeroizing<String>> {
    if io::stdin().is_terminal() {
        return ask(printer, prompt);
    }
    if let Some(what) = stdin_busy {
        bail!(
            "cannot read the PIN from standard input: it carries {what}; set COSIGN_PKCS11_PIN or add pin-value to the URI"
        );
    }
    printer.info_partial(prompt);
    let mut line = Zeroizing::new(String::new());
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| anyhow::anyhow!("reading PIN from standard input: {e}"))?;
    printer.info("");
    let pin = line.trim_end_matches(['\r', '\n']);
    Ok(Zeroizing::new(pin.to_owned()))
}

/// cosign's `ConfirmContinue`: asks on stderr, reads a line from stdin.
pub fn confirm_continue(printer: &Printer) -> Result<()> {
    printer.info_partial("Are you sure you would like to continue? [y/N] ");
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| anyhow::anyhow!("reading confirmation: {e}"))?;
    match line.trim() {
        "y" | "Y" => Ok(()),
        "" | "n" | "N" => bail!("user declined the prompt"),
        other => bail!("invalid input {other:?} (allowed values y, n)"),
    }
}
