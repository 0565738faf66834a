//! Loading a PKCS#11 module (once per process) and finding the token a URI names.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::{Slot, TokenInfo};

use super::{Pkcs11CallError, Pkcs11Error, Pkcs11Settings};
use crate::pkcs11_uri::Pkcs11Uri;

/// Modules loaded and initialised in this process, by path. PKCS#11 allows one
/// `C_Initialize` per process, so every key on the same module shares one context; modules are
/// never finalised (the process exit does it).
static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());

fn check_module_path(path: &Path) -> Result<(), Pkcs11Error> {
    let bad = |reason: String| Pkcs11Error::ModulePath {
        path: path.to_owned(),
        reason,
    };
    if !path.is_absolute() {
        return Err(bad("module-path does not point to an absolute path".into()));
    }
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot access it: {e}")))?;
    if !meta.is_file() {
        return Err(bad("module-path does not point to a regular file".into()));
    }
    Ok(())
}

/// A failed call on the module itself (loading, initialising, listing slots).
pub(super) fn module_err(path: &Path, e: &CkError) -> Pkcs11Error {
    Pkcs11Error::Module {
        path: path.to_owned(),
        source: Pkcs11CallError::from_ck(e),
    }
}

/// The module at `path`, loaded and initialised once per process.
pub(super) fn load_module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    check_module_path(path)?;
    let mut modules = MODULES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, ctx)) = modules.iter().find(|(p, _)| p == path) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(path).map_err(|e| module_err(path, &e))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(module_err(path, &e)),
    }
    modules.push((path.to_owned(), ctx.clone()));
    Ok(ctx)
}

/// The module path: the URI's `module-path`, else the settings'.
pub(super) fn module_path(
    uri: &Pkcs11Uri,
    settings: &Pkcs11Settings,
) -> Result<PathBuf, Pkcs11Error> {
    uri.module_path
        .clone()
        .or_else(|| settings.module_path.clone())
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or(Pkcs11Error::NoModulePath)
}

fn token_matches(uri: &Pkcs11Uri, info: &TokenInfo) -> bool {
    uri.token.as_deref().is_none_or(|t| t == info.label())
        && uri
            .manufacturer
            .as_deref()
            .is_none_or(|m| m == info.manufacturer_id())
        && uri.model.as_deref().is_none_or(|m| m == info.model())
        && uri
            .serial
            .as_deref()
            .is_none_or(|s| s == info.serial_number())
}

/// The slot of the token the URI names: by `slot-id` when given (the other attributes must
/// then match too), else the first token whose label/serial/model/manufacturer match.
pub(super) fn find_token(
    ctx: &Pkcs11,
    uri: &Pkcs11Uri,
    module: &Path,
) -> Result<(Slot, TokenInfo), Pkcs11Error> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| module_err(module, &e))?;
    for slot in slots {
        if uri.slot_id.is_some_and(|id| id != slot.id()) {
            continue;
        }
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        if token_matches(uri, &info) {
            return Ok((slot, info));
        }
    }
    Err(Pkcs11Error::TokenNotFound {
        token: uri.token_description(),
        module: module.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_path_checks() {
        let uri = Pkcs11Uri::parse("pkcs11:token=t;id=%01").unwrap();
        assert!(matches!(
            module_path(&uri, &Pkcs11Settings::default()),
            Err(Pkcs11Error::NoModulePath)
        ));
        let err = check_module_path(Path::new("relative/lib.so")).unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");
        let err = check_module_path(Path::new("/nonexistent/lib.so")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/lib.so"), "{err}");
        let err = check_module_path(Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("regular file"), "{err}");
    }
}
