//! `cosign verify-attestation`: verify image attestations of one predicate type with a public
//! key, evaluate CUE/Rego policies over their statements, and print cosign's checks block
//! (stderr) and each verified DSSE envelope (stdout, one per line).

use anyhow::{Result, bail};
use cosign::attestation::VerifiedAttestation;
use cosign::image::attest::{VerifyAttestationOptions, verify_image_attestations};
use cosign::policy::Policies;
use cosign::tlog::LogCheck;
use cosign_types::predicate::PredicateType;

use crate::args::VerifyAttestationArgs;
use crate::ctx::Ctx;
use crate::exit::VerifyFailure;
use crate::output::verification_header;
use crate::settings::registry;

pub fn run(args: &VerifyAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    super::verify::check_workers(args.images_from.max_workers)?;
    let predicate_type = PredicateType::parse(&args.predicate_type)?;
    let policies = Policies::load(&args.policy)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let sources = super::verify::image_sources(&reg, &args.images_from, &args.images)?;
    let trust =
        crate::settings::verify::resolve(ctx, &args.key, &args.cert, &args.log, "attestation")?;
    let keyless = trust.keyless();
    let opts = VerifyAttestationOptions {
        authority: trust.authority,
        predicate_type,
        check_claims: args.check_claims,
        storage: registry::storage(&args.registry)?,
        tlog: trust.tlog,
        trusted_root: trust.trusted_root,
    };
    let results = ctx.block_on(async {
        Ok(sources
            .verify_each(|src, image| verify_image_attestations(src, image, &opts))
            .await)
    })?;
    for ((image, given), result) in sources.images.iter().zip(&args.images).zip(results) {
        let verified = result.map_err(VerifyFailure)?;
        let checked = apply_policies(ctx, &policies, verified.attestations)?;
        let outcomes: Vec<_> = checked.iter().filter_map(|a| a.tlog.as_ref()).collect();
        if outcomes.iter().any(|o| o.entry.inactive_key) {
            ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
        }
        let log = LogCheck::of(opts.tlog.is_some(), outcomes);
        let shown = super::verify::shown_name(&args.images_from, image, given);
        verification_header(ctx.printer, &shown, args.check_claims, false, log, keyless);
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
