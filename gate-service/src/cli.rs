//! Operator commands of the `gate-service` binary (besides `serve`).

use anyhow::Context as _;
use shared::token::BindingKey;

/// `gate-service binding <nationality> <passport no> <birth date YYYY-MM-DD>`: print the
/// passport binding (32 hex characters) for a watch rule. The binding key stays in its file.
pub fn binding(config: &crate::Config, args: &[String]) -> anyhow::Result<()> {
    let [nationality, number, birth] = args else {
        anyhow::bail!(
            "usage: gate-service binding <nationality> <passport no> <birth date YYYY-MM-DD>"
        );
    };
    let birth = shared::domain::parse_date(birth).context("the birth date must be YYYY-MM-DD")?;
    let key = BindingKey::load_or_generate(&config.binding_key_path())
        .context("failed to load the binding key")?;
    let b = key.bind(
        &nationality.trim().to_ascii_uppercase(),
        &number.trim().to_ascii_uppercase(),
        birth,
    );
    println!("{}", hex::encode(b));
    Ok(())
}
