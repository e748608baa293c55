//! Operator commands of the `gate-service` binary (besides `serve`).

use shared::token::{BindingKey, KeyError};
use std::path::PathBuf;

/// The usage line of `gate-service binding`.
pub const BINDING_USAGE: &str =
    "usage: gate-service binding <nationality> <passport no> <birth date YYYY-MM-DD>";

/// Why `gate-service binding` printed no binding.
#[derive(Debug, thiserror::Error)]
pub enum BindingCmdError {
    /// Not three arguments.
    #[error("{BINDING_USAGE}")]
    Usage,
    /// The birth date is not a date.
    #[error("the birth date `{0}` must be YYYY-MM-DD")]
    BirthDate(String),
    /// The binding key file could not be read or created.
    #[error("failed to load the binding key {}: {source}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// The cause.
        source: KeyError,
    },
}

/// `gate-service binding <nationality> <passport no> <birth date YYYY-MM-DD>`: print the
/// passport binding (32 hex characters) for a watch rule. The binding key stays in its file.
pub fn binding(config: &crate::Config, args: &[String]) -> Result<(), BindingCmdError> {
    let [nationality, number, birth] = args else {
        return Err(BindingCmdError::Usage);
    };
    let birth = shared::domain::parse_date(birth)
        .ok_or_else(|| BindingCmdError::BirthDate(birth.clone()))?;
    let path = config.binding_key_path();
    let key = BindingKey::load_or_generate(&path)
        .map_err(|source| BindingCmdError::Key { path, source })?;
    let b = key.bind(
        &nationality.trim().to_ascii_uppercase(),
        &number.trim().to_ascii_uppercase(),
        birth,
    );
    println!("{}", hex::encode(b));
    Ok(())
}
