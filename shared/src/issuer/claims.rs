//! The claims of a token, assembled from a validated declaration. What goes in is fixed
//! here once: the passport enters only as a keyed binding (never the number itself),
//! and item descriptions (free text, possibly personal) are left out.

use crate::domain::Declaration;
use crate::token::{BindingKey, Claims, Summary};

/// What a service asks to sign: one revision of one declaration.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// The service's declaration id.
    pub declaration_id: &'a str,
    /// Revision (1 for the first; services that never revise always pass 1).
    pub revision: u32,
    /// The validated declaration.
    pub declaration: &'a Declaration,
    /// Id of the rules profile it was judged under.
    pub profile_id: &'a str,
}

/// The claims of a token for `req` by issuer `iss`, issued at `iat`, expiring at `exp`,
/// with token id `cti`.
pub fn assemble(
    iss: &str,
    req: &TokenRequest<'_>,
    binding: &BindingKey,
    iat: i64,
    exp: i64,
    cti: [u8; 16],
) -> Claims {
    let decl = req.declaration;
    let p = &decl.passenger;
    let mut declared = decl.declared.clone();
    for item in &mut declared.items {
        item.description = None;
    }
    Claims {
        iss: iss.to_owned(),
        iat,
        exp,
        cti,
        summary: Summary {
            declaration_id: req.declaration_id.to_owned(),
            revision: req.revision,
            profile_id: req.profile_id.to_owned(),
            arrival_date: decl.trip.arrival_date,
            flight: decl.trip.flight.to_string(),
            binding: binding.bind(
                p.nationality.as_str(),
                p.passport_number.as_str(),
                p.birth_date,
            ),
            declared,
        },
    }
}
