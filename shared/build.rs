//! Rebuild the crate when a Fluent file is added or changed: the i18n loader embeds
//! `locales/` at compile time, and Cargo does not watch directories it was not told of.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
