//! `cosign env`: the registered environment variables and their values, then any unregistered
//! `COSIGN_*`, `SIGSTORE_*` and `TUF_*` variables found in the environment.

use anyhow::Result;

use crate::args::EnvArgs;
use crate::ctx::Ctx;
use crate::env::{self, REGISTRY};

const MASK: &str = "******";

fn shown(value: &str, sensitive: bool, show_sensitive: bool) -> String {
    if sensitive && !show_sensitive && !value.is_empty() {
        MASK.to_owned()
    } else {
        value.to_owned()
    }
}

pub fn run(args: &EnvArgs, ctx: &Ctx<'_>) -> Result<()> {
    let mut out = String::new();
    for var in REGISTRY {
        if args.show_descriptions {
            out.push_str(&format!(
                "# {} {}\n# Expects: {}\n",
                var.name, var.description, var.expects
            ));
        }
        let value = env::lookup(var.name).unwrap_or_default();
        out.push_str(&format!(
            "{}={}\n",
            var.name,
            shown(&value, var.sensitive, args.show_sensitive_values)
        ));
        if args.show_descriptions {
            out.push('\n');
        }
    }
    let others = env::unregistered();
    if !others.is_empty() {
        if args.show_descriptions {
            out.push_str("# Environment variables below are not registered with cosign,\n# but might still influence cosign's behavior.\n");
        }
        for (name, value) in others {
            out.push_str(&format!(
                "{name}={}\n",
                shown(&value, true, args.show_sensitive_values)
            ));
        }
    }
    ctx.printer.out_bytes(out.as_bytes())?;
    Ok(())
}
