//! Policies over verified attestations (`verify-attestation --policy`), with cosign's semantics.
//!
//! - Rego (`.rego`, evaluated with `regorus`, Rego v0 syntax as cosign's OPA is configured): all
//!   policy files are loaded together and the query `data.signature.allow` is evaluated with the
//!   in-toto statement as `input` (so `input.predicateType`, `input.predicate.Data` ...). The
//!   policy allows when the query has exactly one result whose single value is `true`; otherwise
//!   each result's value gives an error `expression value, <v>, is not true`, and an undefined
//!   result gives `result is undefined for query 'data.signature.allow'` (cosign's
//!   `rego.ValidateJSON`).
//! - CUE (`.cue`): cosign links the CUE evaluator in; this build runs the `cue` program
//!   (`cue vet POLICY... input.json`) when it is on `PATH` and refuses with a clear error when it
//!   is not.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::Error;
use crate::attestation::VerifiedAttestation;
use crate::fsutil::read_small_file;

/// The query cosign evaluates.
pub const REGO_QUERY: &str = "data.signature.allow";

/// Largest policy file read.
const MAX_POLICY_BYTES: u64 = 4 << 20;

/// The policy files of one verification, by language, in the order given.
#[derive(Clone, Debug, Default)]
pub struct Policies {
    /// `.rego` files: (path, text).
    pub rego: Vec<(PathBuf, String)>,
    /// `.cue` files.
    pub cue: Vec<PathBuf>,
}

/// What the policies found over a set of attestations.
#[derive(Clone, Debug, Default)]
pub struct PolicyOutcome {
    /// The attestations every policy allowed, in order.
    pub passed: Vec<VerifiedAttestation>,
    /// For each attestation examined, in order: whether CUE and Rego policies were evaluated on
    /// it (`(cue, rego)`), so that callers can report each evaluation where cosign does.
    pub evaluated: Vec<(bool, bool)>,
    /// The failures, in cosign's words, in order.
    pub failures: Vec<String>,
}

impl Policies {
    /// Runs the policies over each attestation's statement: CUE first, then Rego; an
    /// attestation that fails one is not given to the next. With no policies everything passes.
    pub fn apply(&self, attestations: Vec<VerifiedAttestation>) -> PolicyOutcome {
        let mut out = PolicyOutcome::default();
        if self.is_empty() {
            out.passed = attestations;
            return out;
        }
        for a in attestations {
            let input = &a.statement.document;
            let mut ran = (false, false);
            let mut allowed = true;
            if !self.cue.is_empty() {
                ran.0 = true;
                if let Err(e) = self.evaluate_cue(input) {
                    out.failures.push(e);
                    allowed = false;
                }
            }
            if allowed && !self.rego.is_empty() {
                ran.1 = true;
                let errs = self.evaluate_rego(input);
                if !errs.is_empty() {
                    out.failures.extend(errs);
                    allowed = false;
                }
            }
            out.evaluated.push(ran);
            if allowed {
                out.passed.push(a);
            }
        }
        out
    }

    /// Reads `--policy` files. Anything but `.rego` and `.cue` is refused with cosign's
    /// "invalid policy format, expected .cue or .rego".
    pub fn load(paths: &[PathBuf]) -> Result<Self, Error> {
        let mut out = Self::default();
        for p in paths {
            match p.extension().and_then(|e| e.to_str()) {
                Some("rego") => {
                    let data = read_small_file(p, "policy file", MAX_POLICY_BYTES)?;
                    let text = String::from_utf8(data).map_err(|_| {
                        Error::format(format!("reading policy {}", p.display()), "not UTF-8 text")
                    })?;
                    out.rego.push((p.clone(), text));
                }
                Some("cue") => {
                    read_small_file(p, "policy file", MAX_POLICY_BYTES)?;
                    out.cue.push(p.clone());
                }
                _ => {
                    return Err(Error::UnsupportedPolicy(p.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Whether no policy was given.
    pub fn is_empty(&self) -> bool {
        self.rego.is_empty() && self.cue.is_empty()
    }

    /// Paths of the Rego policies, as cosign lists them (`[a.rego b.rego]`).
    pub fn rego_list(&self) -> String {
        go_list(self.rego.iter().map(|(p, _)| p.as_path()))
    }

    /// Paths of the CUE policies, as cosign lists them.
    pub fn cue_list(&self) -> String {
        go_list(self.cue.iter().map(PathBuf::as_path))
    }

    /// Evaluates the Rego policies against `input` (the statement). Returns cosign's
    /// validation errors; empty means allowed.
    pub fn evaluate_rego(&self, input: &Value) -> Vec<String> {
        if self.rego.is_empty() {
            return Vec::new();
        }
        match eval_rego(&self.rego, input) {
            Ok(errors) => errors,
            Err(e) => vec![e],
        }
    }

    /// Evaluates the CUE policies against `input` with the `cue` program.
    pub fn evaluate_cue(&self, input: &Value) -> Result<(), String> {
        if self.cue.is_empty() {
            return Ok(());
        }
        run_cue(&self.cue, input, Path::new("cue"))
    }
}

fn go_list<'a>(paths: impl Iterator<Item = &'a Path>) -> String {
    let names: Vec<String> = paths.map(|p| p.display().to_string()).collect();
    format!("[{}]", names.join(" "))
}

fn eval_rego(policies: &[(PathBuf, String)], input: &Value) -> Result<Vec<String>, String> {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(true);
    for (path, text) in policies {
        engine
            .add_policy(path.display().to_string(), text.clone())
            .map_err(|e| e.to_string())?;
    }
    let input_json = serde_json::to_string(input).map_err(|e| e.to_string())?;
    let input = regorus::Value::from_json_str(&input_json).map_err(|e| e.to_string())?;
    engine.set_input(input);
    let results = engine
        .eval_query(REGO_QUERY.to_owned(), false)
        .map_err(|e| e.to_string())?;
    let defined: Vec<&regorus::QueryResult> = results
        .result
        .iter()
        .filter(|r| {
            !r.expressions
                .iter()
                .all(|e| e.value == regorus::Value::Undefined)
        })
        .collect();
    let allowed = matches!(defined.as_slice(), [only]
        if only.expressions.len() == 1
            && only.expressions[0].value == regorus::Value::Bool(true)
            && bindings_empty(&only.bindings));
    if allowed {
        return Ok(Vec::new());
    }
    let mut errors = Vec::new();
    for r in &defined {
        for e in &r.expressions {
            errors.push(format!(
                "expression value, {}, is not true",
                go_sprint_value(&e.value)
            ));
        }
    }
    if errors.is_empty() {
        errors.push(format!("result is undefined for query '{REGO_QUERY}'"));
    }
    Ok(errors)
}

fn bindings_empty(v: &regorus::Value) -> bool {
    match v {
        regorus::Value::Object(o) => o.is_empty(),
        regorus::Value::Undefined | regorus::Value::Null => true,
        _ => false,
    }
}

/// A Rego value as Go's `fmt.Sprint` prints the decoded value.
fn go_sprint_value(v: &regorus::Value) -> String {
    match v.to_json_str() {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(j) => go_sprint(&j),
            Err(_) => text,
        },
        Err(_) => "<undefined>".to_owned(),
    }
}

fn go_sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_sprint).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_sprint(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Runs `cue vet POLICY... input.json` (`program` is `cue`, resolved on `PATH`).
fn run_cue(policies: &[PathBuf], input: &Value, program: &Path) -> Result<(), String> {
    let mut file = tempfile::Builder::new()
        .prefix("cosign-attestation-")
        .suffix(".json")
        .tempfile()
        .map_err(|e| format!("creating a temporary file for the CUE input: {e}"))?;
    let json = serde_json::to_vec(input).map_err(|e| e.to_string())?;
    file.write_all(&json)
        .and_then(|()| file.flush())
        .map_err(|e| format!("writing the CUE input: {e}"))?;
    let output = Command::new(program)
        .arg("vet")
        .args(policies)
        .arg(file.path())
        .stdin(Stdio::null())
        .output();
    let list = go_list(policies.iter().map(PathBuf::as_path));
    match output {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "CUE policies {list} need the `cue` program (https://cuelang.org), which was not found on PATH; install it or use a .rego policy"
        )),
        Err(e) => Err(format!("running cue vet for {list}: {e}")),
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            if text.is_empty() {
                text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            }
            // The temporary input's name means nothing to the user.
            let text = text.replace(&file.path().display().to_string(), "<attestation>");
            Err(format!(
                "failed evaluating cue policy {list}: {}",
                if text.is_empty() {
                    format!("cue vet exited with {}", out.status)
                } else {
                    text
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rego(text: &str, input: Value) -> Vec<String> {
        let p = Policies {
            rego: vec![(PathBuf::from("p.rego"), text.to_owned())],
            cue: Vec::new(),
        };
        p.evaluate_rego(&input)
    }

    #[test]
    fn rego_allow_deny_and_undefined() {
        let input = serde_json::json!({
            "predicateType": "https://cosign.sigstore.dev/attestation/v1",
            "predicate": {"Data": "hello", "Timestamp": "x"}
        });
        let allow = r#"package signature
allow {
  input.predicateType == "https://cosign.sigstore.dev/attestation/v1"
  input.predicate.Data == "hello"
}"#;
        assert!(rego(allow, input.clone()).is_empty());
        let deny = r#"package signature
default allow = false
allow {
  input.predicate.Data == "goodbye"
}"#;
        assert_eq!(
            rego(deny, input.clone()),
            vec!["expression value, false, is not true".to_owned()]
        );
        let undefined = r#"package signature
allow {
  input.predicate.Data == "goodbye"
}"#;
        assert_eq!(
            rego(undefined, input.clone()),
            vec!["result is undefined for query 'data.signature.allow'".to_owned()]
        );
        let other_package = "package other\nallow = true\n";
        assert_eq!(rego(other_package, input.clone()).len(), 1);
        let not_bool = "package signature\nallow = \"yes\"\n";
        assert_eq!(
            rego(not_bool, input.clone()),
            vec!["expression value, yes, is not true".to_owned()]
        );
        let broken = "package signature\nallow {";
        assert_eq!(rego(broken, input).len(), 1);
    }

    #[test]
    fn policy_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("a.rego");
        std::fs::write(&r, "package signature\nallow = true\n").unwrap();
        let c = dir.path().join("b.cue");
        std::fs::write(&c, "predicateType: string\n").unwrap();
        let p = Policies::load(&[r.clone(), c.clone()]).unwrap();
        assert_eq!(p.rego.len(), 1);
        assert_eq!(p.cue.len(), 1);
        let y = dir.path().join("c.yaml");
        std::fs::write(&y, "x").unwrap();
        assert_eq!(
            Policies::load(&[y]).unwrap_err().to_string(),
            "invalid policy format, expected .cue or .rego"
        );
        let missing = run_cue(
            &[c],
            &serde_json::json!({}),
            Path::new("/nonexistent/cue-for-tests"),
        )
        .unwrap_err();
        assert!(missing.contains("need the `cue` program"), "{missing}");
    }
}
