//! The settings layer: raw flags and the environment turned into typed library requests, one
//! module per concern (registry access, the transparency log, keys, the signing service,
//! user inputs), and the parsers for Go-flavoured flag values (booleans, durations) that keep
//! scripts written for Go cosign working.

pub mod inputs;
pub mod keyless;
pub mod keys;
pub mod registry;
pub mod signing;
pub mod tlog;
pub mod trust;
pub mod verify;

pub use cosign_types::time::parse_go_duration;

/// cosign's User-Agent, sent to registries and logs.
pub fn user_agent() -> String {
    format!(
        "cosign/v{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Makes every boolean flag of `cmd` and its subcommands a Go (pflag) boolean: `--flag` and
/// `--flag=true|false|1|0|t|f...`, never a separate value (`--flag false` leaves `false` as an
/// argument). Fields are declared as plain `bool` flags (`#[arg(long)]`, or
/// `default_value_t = true`); this runs on the built command before parsing.
pub fn go_bool_flags(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| {
        if !matches!(a.get_action(), clap::ArgAction::SetTrue) {
            return a;
        }
        let default = if a.get_default_values().is_empty() {
            "false".to_owned()
        } else {
            a.get_default_values()[0].to_string_lossy().into_owned()
        };
        a.action(clap::ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .default_value(default)
            .default_missing_value("true")
            .value_parser(parse_go_bool)
    })
    .mut_subcommands(go_bool_flags)
}

/// Parses a boolean as Go's `strconv.ParseBool` does.
pub fn parse_go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!(
            "invalid boolean value {other:?} (expected true or false)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_bools() {
        assert_eq!(parse_go_bool("true"), Ok(true));
        assert_eq!(parse_go_bool("F"), Ok(false));
        assert!(parse_go_bool("yes").is_err());
    }
}
