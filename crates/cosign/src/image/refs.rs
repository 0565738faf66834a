//! Image references named by a Dockerfile (`FROM` lines) or Kubernetes YAML (`image:`
//! fields), for `cosign dockerfile verify` and `cosign manifest verify`.
//!
//! Dockerfiles: line continuations are joined, `ARG` defaults and `ENV` values are
//! substituted (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
//! `${VAR+alt}`; a value from the caller's lookup, like a `--build-arg`, wins over an `ARG`
//! default), `--platform=` flags are skipped, `AS <name>` declares a build stage, and a `FROM`
//! that names an earlier stage or `scratch` is not an image. Kubernetes YAML: every `image:`
//! value of every document (a line scanner: block style, `- image:` list items, quotes and
//! comments), in order, without duplicates.

use std::collections::BTreeMap;

use crate::Error;

/// One image found in a Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerfileImage {
    /// The reference after substitution.
    pub reference: String,
    /// The 1-based line of its `FROM`.
    pub line: usize,
}

/// What a Dockerfile names, and what was skipped (`scratch`, build stages), for messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DockerfileRefs {
    /// Images, in `FROM` order.
    pub images: Vec<DockerfileImage>,
    /// `FROM scratch` lines seen.
    pub scratch: usize,
}

/// Joins `\` continuation lines, drops comments and blank lines: `(first line number, text)`.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if current.is_empty() {
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            start = i + 1;
        } else if trimmed.starts_with('#') {
            continue;
        }
        if let Some(stripped) = line.trim_end().strip_suffix('\\') {
            current.push_str(stripped);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        out.push((start, std::mem::take(&mut current)));
    }
    if !current.trim().is_empty() {
        out.push((start, current));
    }
    out
}

/// Expands `$VAR` / `${VAR...}` with `vars`.
pub fn expand(text: &str, vars: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('{') => {
                let Some(end) = chars[i + 2..].iter().position(|&c| c == '}') else {
                    return Err(Error::Invalid {
                        what: format!("{text:?}"),
                        reason: "unterminated ${".into(),
                    });
                };
                let inner: String = chars[i + 2..i + 2 + end].iter().collect();
                out.push_str(&expand_braced(&inner, vars, text)?);
                i += end + 3;
            }
            Some(c2) if c2.is_ascii_alphabetic() || *c2 == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                out.push_str(&vars(&name).unwrap_or_default());
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(out)
}

fn expand_braced(
    inner: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    text: &str,
) -> Result<String, Error> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_end);
    if name.is_empty() {
        return Err(bad_substitution(inner, text));
    }
    let value = vars(name);
    let word = |w: &str| expand(w, vars);
    Ok(match rest {
        "" => value.unwrap_or_default(),
        r if r.starts_with(":-") => match value.filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => word(&r[2..])?,
        },
        r if r.starts_with('-') => match value {
            Some(v) => v,
            None => word(&r[1..])?,
        },
        r if r.starts_with(":+") => match value.filter(|v| !v.is_empty()) {
            Some(_) => word(&r[2..])?,
            None => String::new(),
        },
        r if r.starts_with('+') => match value {
            Some(_) => word(&r[1..])?,
            None => String::new(),
        },
        _ => {
            return Err(bad_substitution(inner, text));
        }
    })
}

fn bad_substitution(inner: &str, text: &str) -> Error {
    Error::Invalid {
        what: format!("{text:?}"),
        reason: format!("bad substitution ${{{inner}}}"),
    }
}

/// `KEY=VALUE` pairs (or `KEY VALUE`, the old ENV form) of an ARG/ENV instruction.
fn assignments(rest: &str, is_env: bool) -> Vec<(String, Option<String>)> {
    let rest = rest.trim();
    if is_env && !rest.split_whitespace().next().unwrap_or("").contains('=') {
        let mut parts = rest.splitn(2, char::is_whitespace);
        let k = parts.next().unwrap_or("").to_owned();
        let v = parts.next().map(|v| unquote(v.trim()));
        return vec![(k, v)];
    }
    rest.split_whitespace()
        .map(|tok| match tok.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(unquote(v))),
            None => (tok.to_owned(), None),
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        v[1..v.len() - 1].to_owned()
    } else {
        v.to_owned()
    }
}

/// The images a Dockerfile's `FROM` lines name. `lookup` gives values that override `ARG`
/// defaults (cosign expands the process environment).
pub fn dockerfile_images(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<DockerfileRefs, Error> {
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut out = DockerfileRefs::default();
    for (line_no, line) in logical_lines(text) {
        let trimmed = line.trim();
        let (instr, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((i, r)) => (i.to_ascii_uppercase(), r.trim()),
            None => (trimmed.to_ascii_uppercase(), ""),
        };
        let snapshot = |env: &BTreeMap<String, String>, args: &BTreeMap<String, String>| {
            let (env, args) = (env.clone(), args.clone());
            move |name: &str| -> Option<String> {
                lookup(name)
                    .or_else(|| env.get(name).cloned())
                    .or_else(|| args.get(name).cloned())
            }
        };
        match instr.as_str() {
            "ARG" => {
                for (k, v) in assignments(rest, false) {
                    let vars = snapshot(&env, &args);
                    let v = match v {
                        Some(v) => Some(expand(&v, &vars)?),
                        None => None,
                    };
                    if let Some(v) = v {
                        args.insert(k, v);
                    } else {
                        args.entry(k).or_default();
                    }
                }
            }
            "ENV" => {
                for (k, v) in assignments(rest, true) {
                    let vars = snapshot(&env, &args);
                    let v = expand(&v.unwrap_or_default(), &vars)?;
                    env.insert(k, v);
                }
            }
            "FROM" => {
                // A new stage starts with no ENV of the previous one.
                let fields: Vec<String> = rest
                    .split_whitespace()
                    .filter(|f| !f.starts_with("--"))
                    .map(str::to_owned)
                    .collect();
                let Some(image_text) = fields.first() else {
                    return Err(Error::Invalid {
                        what: format!("line {line_no}"),
                        reason: "FROM without an image".into(),
                    });
                };
                let image = expand(image_text, &|n: &str| {
                    lookup(n).or_else(|| args.get(n).cloned())
                })?;
                env.clear();
                let is_stage = stages.contains(&image.to_ascii_lowercase());
                if let (Some(kw), Some(name)) = (fields.get(1), fields.get(2))
                    && kw.eq_ignore_ascii_case("as")
                {
                    stages.push(name.to_ascii_lowercase());
                }
                if image.is_empty() {
                    return Err(Error::Invalid {
                        what: format!("line {line_no}"),
                        reason: format!("FROM {image_text} expands to nothing"),
                    });
                }
                if image.eq_ignore_ascii_case("scratch") {
                    out.scratch += 1;
                    continue;
                }
                if is_stage {
                    continue;
                }
                out.images.push(DockerfileImage {
                    reference: image,
                    line: line_no,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Every `image:` value in a (multi-document) Kubernetes YAML file, in order, without
/// duplicates.
pub fn yaml_images(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.lines() {
        let mut line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        while let Some(rest) = line.strip_prefix("- ") {
            line = rest.trim_start();
        }
        let value = line
            .strip_prefix("image:")
            .or_else(|| line.strip_prefix("\"image\":"))
            .or_else(|| line.strip_prefix("'image':"));
        let Some(value) = value else { continue };
        let value = value.trim();
        let value = if value.starts_with('"') || value.starts_with('\'') {
            let q = value.chars().next().unwrap_or('"');
            value[1..].split(q).next().unwrap_or("").to_owned()
        } else {
            value
                .split(" #")
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches(',')
                .to_owned()
        };
        if value.is_empty() || value == "|" || value == ">" {
            continue;
        }
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    fn refs(text: &str) -> Vec<String> {
        dockerfile_images(text, &none)
            .unwrap()
            .images
            .into_iter()
            .map(|i| i.reference)
            .collect()
    }

    #[test]
    fn from_lines_with_args_stages_and_scratch() {
        let df = "# syntax=docker/dockerfile:1\nARG REGISTRY=gcr.io\nARG TAG\nFROM --platform=$BUILDPLATFORM ${REGISTRY}/distroless/base:${TAG:-latest} AS build\nRUN make \\\n  all\nFROM build AS test\nfrom scratch\nFROM golang:1.22@sha256:aaaa as builder2\nFROM Build\n";
        assert_eq!(
            refs(df),
            ["gcr.io/distroless/base:latest", "golang:1.22@sha256:aaaa"]
        );
        let r = dockerfile_images(df, &none).unwrap();
        assert_eq!(r.scratch, 1);
        assert_eq!(r.images[0].line, 4);
        // A build arg from outside wins over the default.
        let over = |n: &str| (n == "TAG").then(|| "v2".to_owned());
        let r = dockerfile_images(df, &over).unwrap();
        assert_eq!(r.images[0].reference, "gcr.io/distroless/base:v2");
    }

    #[test]
    fn substitutions() {
        let vars = |n: &str| match n {
            "A" => Some("a".to_owned()),
            "E" => Some(String::new()),
            _ => None,
        };
        assert_eq!(expand("$A/${A}:${B:-d}", &vars).unwrap(), "a/a:d");
        assert_eq!(
            expand("${E:-x}${E-y}${A:+p}${B+q}", &vars).unwrap(),
            "x p".replace(' ', "")
        );
        assert!(expand("${A", &vars).is_err());
        assert!(expand("${:x}", &vars).is_err());
        assert_eq!(expand("cost \\$5", &vars).unwrap(), "cost $5");
    }

    #[test]
    fn images_in_yaml() {
        let y = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: \"reg/a:v1\" # pinned\n  - image: reg/b@sha256:bb\n    name: b\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n        - image: 'reg/a:v1'\n      containers:\n        - name: c\n          image: reg/c:latest\n# image: commented/out\n";
        assert_eq!(
            yaml_images(y),
            ["reg/a:v1", "reg/b@sha256:bb", "reg/c:latest"]
        );
        assert!(yaml_images("kind: ConfigMap\ndata: {}\n").is_empty());
    }
}
