//! Parsers for Go-flavoured flag values (booleans, durations), so scripts written for Go cosign
//! keep working.

pub use cosign_types::time::parse_go_duration;

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
