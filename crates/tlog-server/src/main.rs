//! `tlog-server`: a Rekor v1 API compatible transparency log server.
//!
//! It accepts `hashedrekord` 0.0.1, `dsse` 0.0.1 and `intoto` 0.0.2 entries (each verified
//! and canonicalised), keeps them in an RFC 6962 Merkle tree, and answers with signed entry
//! timestamps, inclusion proofs against signed checkpoints, consistency proofs and searches by
//! hash, key or email. Storage is one append-only file in the data directory; an entry is
//! acknowledged only once it has been `fdatasync`ed and the signed tree head covering it is
//! stored, with concurrent submissions committed in groups by a single writer. On start the
//! log is checked against the stored head: damage a crash cannot cause, a rollback or a fork
//! is refused, never repaired.
//!
//! Modules: [`cli`] arguments, [`datadir`] key and identity files, [`wal`] the entry log,
//! [`head`] the stored signed tree head, [`startup`] recovery and checks on start, [`check`]
//! the offline check, [`state`] tree and indexes, [`writer`] group commit, [`signer`] SETs and
//! checkpoints, [`canonical`] entry canonicalisation, [`api`] the REST handlers, [`server`]
//! the HTTP loop and connection limits, [`tlog`] the bridge to `cosign-tlog`,
//! [`trusted_root`] the trusted_root.json, [`out`] output.
#![forbid(unsafe_code)]

mod api;
mod canonical;
mod check;
mod cli;
mod datadir;
mod head;
mod out;
mod server;
mod signer;
mod startup;
mod state;
mod tlog;
mod trusted_root;
mod v2;
mod wal;
mod writer;

use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use clap::Parser;

use api::App;
use cli::{Cli, Command, KeyArgs, ServeArgs};
use datadir::{DataDir, LogIdentity};
use signer::LogSigner;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Check(args) = &cli.command {
        return match run_check(args) {
            Ok(status) => ExitCode::from(status),
            Err(e) => {
                out::error(&format!("tlog-server: {e:#}"));
                ExitCode::from(check::DAMAGED)
            }
        };
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out::error(&format!("tlog-server: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::PublicKey(args) => {
            let (key, _) = key_and_identity(&args)?;
            out::stdout(&key.public_key().to_pem());
            Ok(())
        }
        Command::SigningConfig(args) => {
            let (_, id) = key_and_identity(&args.key)?;
            out::stdout(&trusted_root::signing_config(&args.url, id.created)?);
            Ok(())
        }
        Command::TrustedRoot(args) => {
            let (key, id) = key_and_identity(&args.key)?;
            let v2_key = v2::signing_key(&args.key.data_dir)?.public_key();
            let json =
                trusted_root::json_with_v2(&key.public_key(), &v2_key, &args.url, id.created)?;
            out::stdout(&json);
            Ok(())
        }
        Command::Check(_) => Ok(()),
    }
}

/// `check`: read-only; needs the log's key (the directory's own, or `--key`).
fn run_check(args: &KeyArgs) -> Result<u8> {
    let dir = DataDir::open(&args.data_dir)?;
    let key = dir
        .existing_signing_key(args.key.as_deref())?
        .with_context(|| format!("{} has no signing key", args.data_dir.display()))?;
    let report = check::check(&dir, &key.public_key())?;
    for line in &report.lines {
        out::stdout(&format!("{line}\n"));
    }
    Ok(report.status())
}

/// The key and identity of a data directory, initialising it if it has none yet (so a
/// trusted root can be made before the first start).
fn key_and_identity(args: &KeyArgs) -> Result<(cosign_crypto::PrivateKey, LogIdentity)> {
    let dir = DataDir::open(&args.data_dir)?;
    if let (Some(key), Some(id)) = (
        dir.existing_signing_key(args.key.as_deref())?,
        dir.existing_identity()?,
    ) {
        return Ok((key, id));
    }
    let lock = dir.lock()?;
    Ok((
        dir.signing_key(args.key.as_deref(), &lock)?,
        dir.identity(&lock)?,
    ))
}

fn serve(args: ServeArgs) -> Result<()> {
    let dir = DataDir::open(&args.key.data_dir)?;
    let lock = dir.lock()?;
    let key = dir.signing_key(args.key.key.as_deref(), &lock)?;
    let key_public = key.public_key();
    let id = dir.identity(&lock)?;
    let hostname =
        trusted_root::log_name(args.hostname.as_deref(), args.url.as_deref(), args.addr)?;
    let signer = Arc::new(LogSigner::new(key, id.tree_id, &hostname));

    let path = dir.entries_path();
    let opened = startup::open(&dir, &lock, id, &signer, &key_public)?;
    let (log, state, recovery) = (opened.log, opened.state, opened.recovery);
    if recovery.truncated_bytes > 0 {
        out::error(&format!(
            "tlog-server: cut a torn tail of {} bytes off {} (the last group commit, never \
             acknowledged)",
            recovery.truncated_bytes,
            path.display()
        ));
    }
    out::error(&format!(
        "tlog-server: log {} (tree ID {}, log ID {}) with {} entries",
        signer.origin(),
        signer.tree_id(),
        signer.log_id_hex(),
        recovery.records
    ));

    let reader = log.reader(&path)?;
    let (v2_service, v2_writer) = v2::start_logged(&dir, &lock, &hostname)?;
    let state = Arc::new(RwLock::new(state));
    let (writer, writer_thread) =
        writer::spawn(dir.clone(), log, Arc::clone(&state), Arc::clone(&signer))?;
    let limits = server::Limits {
        max_connections: args.max_connections as usize,
        header_timeout: std::time::Duration::from_secs(args.header_timeout.into()),
        body_timeout: std::time::Duration::from_secs(args.body_timeout.into()),
        ..server::Limits::default()
    };
    let app = Arc::new(App {
        v2: v2_service,
        state,
        signer,
        reader,
        writer,
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let served = runtime.block_on(async move {
        let listener = server::bind(args.addr).with_context(|| format!("binding {}", args.addr))?;
        let addr = listener.local_addr()?;
        out::error(&format!("listening on http://{addr}"));
        server::serve(listener, app, limits, shutdown_signal()).await;
        anyhow::Ok(())
    });
    // Dropping the runtime drops every handle to the writer, which then finishes its batch.
    drop(runtime);
    if let Ok(commits) = v2_writer.join() {
        out::error(&format!(
            "tlog-server: v2 log stopped after {commits} group commits"
        ));
    }
    if let Ok(stats) = writer_thread.join() {
        out::error(&format!(
            "tlog-server: stopped; stored {} entries in {} group commits",
            stats.entries, stats.commits
        ));
    }
    drop(lock);
    served
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
