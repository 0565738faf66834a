//! `cosign verify-attestation`: verify image attestations of one predicate type with a public
//! key, evaluate CUE/Rego policies over their statements, and print cosign's checks block
//! (stderr) and each verified DSSE envelope (stdout, one per line).

use anyhow::{Result, bail};
use cosign::attestation::VerifiedAttestation;
use cosign::image::attest::{
    ImageAttestations, VerifyAttestationOptions, verify_image_attestations,
};
use cosign::image::store::Store;
use cosign::policy::Policies;
use cosign_types::predicate::PredicateType;
use futures_util::stream::{self, StreamExt};

use crate::args::VerifyAttestationArgs;
use crate::ctx::Ctx;
use crate::exit::VerifyFailure;
use crate::settings::registry;

/// Images verified at once.
const CONCURRENCY: usize = 8;

pub fn run(args: &VerifyAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    let key_ref = super::verify::require_key(&args.key, args.images_from.max_workers)?;
    let predicate_type = PredicateType::parse(&args.predicate_type)?;
    let policies = Policies::load(&args.policy)?;
    let tlog = crate::settings::tlog::verify_flags(&args.log, ctx, "attestation")?;
    let (layouts, images) =
        super::verify::images_to_verify(args.images_from.local_image, &args.images)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let key = crate::settings::keys::load_verification_key(ctx, key_ref)?;
    let opts = VerifyAttestationOptions {
        key,
        predicate_type,
        check_claims: args.check_claims,
        storage: registry::storage(&args.registry)?,
        tlog,
    };
    let results: Vec<Result<ImageAttestations, cosign::Error>> = ctx.block_on(async {
        Ok(stream::iter(images.iter().enumerate())
            .map(|(i, image)| {
                let src: &dyn Store = match layouts.get(i) {
                    Some(l) => l,
                    None => &reg,
                };
                let opts = &opts;
                async move { verify_image_attestations(src, image, opts).await }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await)
    })?;
    for ((image, given), result) in images.iter().zip(&args.images).zip(results) {
        let verified = result.map_err(VerifyFailure)?;
        let checked = apply_policies(ctx, &policies, verified.attestations)?;
        let outcomes: Vec<_> = checked.iter().filter_map(|a| a.tlog.as_ref()).collect();
        if outcomes.iter().any(|o| o.entry.inactive_key) {
            ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
        }
        let log = if opts.tlog.is_none() || outcomes.is_empty() {
            LogCheck::None
        } else if outcomes.iter().all(|o| o.offline) {
            LogCheck::Offline
        } else {
            LogCheck::Online
        };
        let shown = if args.images_from.local_image {
            given.clone()
        } else {
            image.to_string()
        };
        print_header(ctx, &shown, args.check_claims, log);
        for a in &checked {
            let text = String::from_utf8_lossy(&a.envelope_json);
            ctx.printer.out_line(text.trim_end())?;
        }
    }
    Ok(())
}

/// cosign's policy step ([`Policies::apply`]), reported in cosign's words; any failure fails
/// the command.
fn apply_policies(
    ctx: &Ctx<'_>,
    policies: &Policies,
    attestations: Vec<VerifiedAttestation>,
) -> Result<Vec<VerifiedAttestation>> {
    let outcome = policies.apply(attestations);
    for (cue, rego) in &outcome.evaluated {
        if *cue {
            ctx.printer.info(&format!(
                "will be validating against CUE policies: {}",
                policies.cue_list()
            ));
        }
        if *rego {
            ctx.printer.info(&format!(
                "will be validating against Rego policies: {}",
                policies.rego_list()
            ));
        }
    }
    if !outcome.failures.is_empty() {
        ctx.printer.info(&format!(
            "There are {} number of errors occurred during the validation:\n",
            outcome.failures.len()
        ));
        for e in &outcome.failures {
            ctx.printer.info(&format!("- {e}"));
        }
        bail!("{} validation errors occurred", outcome.failures.len());
    }
    Ok(outcome.passed)
}

/// How the attestations' log entries were checked.
enum LogCheck {
    None,
    Offline,
    Online,
}

fn print_header(ctx: &Ctx<'_>, image: &str, check_claims: bool, log: LogCheck) {
    let p = ctx.printer;
    p.info(&format!("\nVerification for {image} --"));
    p.info("The following checks were performed on each of these signatures:");
    if check_claims {
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
    p.info("  - The signatures were verified against the specified public key");
}
