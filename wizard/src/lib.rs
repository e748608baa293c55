//! The passenger's declaration wizard: one set of steps, templates and messages that
//! two services mount (docs/wizard.md).
//!
//! Steps: language, passport, trip, party, questions, items, review, result. Every step
//! is POST → 303 → GET of a fixed URL (no personal data in a URL); answers live in a
//! server-side [`session::SessionStore`] keyed by the SHA-256 of a random cookie; every
//! POST checks the session's CSRF token; HTML pages carry a CSP with a per-request nonce
//! ([`html::page_headers`]).
//!
//! Two [`Mode`]s:
//! - [`Mode::SharedTerminal`] (the kiosk): the start page wipes the previous session,
//!   a short idle limit with a countdown, a printable receipt, "Finish" clears the
//!   browser's data; nothing is kept.
//! - [`Mode::PersonalPhone`] (mobile-api): language from `Accept-Language` and a
//!   language switch on every page, the passport typed from the photo page or as MRZ,
//!   a live duty estimate, a result page whose data block the app shell keeps on the
//!   device (with the edit token), editing a declaration the device holds.
//!
//! What differs per service sits behind [`Submit`] (issue the token, or create and
//! amend a stored declaration) and [`WizardConfig`]. The wizard depends on `shared`
//! only: services never import each other.

use shared::clock::SharedClock;
use shared::issuer::TokenPolicy;
use shared::rules::RulesProfile;
use std::sync::Arc;

mod config;
pub mod error;
pub mod html;
mod routes;
pub mod session;
pub mod steps;
mod submit;

pub use config::{LanguagePolicy, Mode, WizardConfig};
pub use error::WizardError;
pub use routes::mount;
pub use session::SessionStore;
pub use submit::{Amend, Loaded, Receipt, Submission, Submit, SubmitError, SubmitFuture};

/// Everything the wizard's handlers need. Cheap to clone.
#[derive(Clone)]
pub struct WizardState {
    /// Mode, idle limit, language policy, URL prefix.
    pub config: Arc<WizardConfig>,
    /// Time source (tests inject a fixed clock).
    pub clock: SharedClock,
    /// The active rules profile (currencies, allowances).
    pub profile: Arc<RulesProfile>,
    /// The token policy: the time zone dates are counted in, the arrival-date window.
    pub policy: TokenPolicy,
    /// Passenger sessions.
    pub sessions: SessionStore,
    /// What confirming the review does (the service's part).
    pub submit: Arc<dyn Submit>,
}

impl std::fmt::Debug for WizardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WizardState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WizardState {
    /// A wizard with a new, empty session store.
    pub fn new(
        config: WizardConfig,
        clock: SharedClock,
        profile: Arc<RulesProfile>,
        policy: TokenPolicy,
        submit: Arc<dyn Submit>,
    ) -> WizardState {
        let sessions = SessionStore::with_limits(
            clock.clone(),
            config.idle.as_secs(),
            config.max_sessions,
            config.mode.cookie_name(),
        );
        WizardState {
            config: Arc::new(config),
            clock,
            profile,
            policy,
            sessions,
            submit,
        }
    }

    /// Whether this is the phone app.
    pub fn phone(&self) -> bool {
        self.config.mode == Mode::PersonalPhone
    }

    /// The idle limit in seconds (shown by the kiosk's countdown).
    pub fn idle_secs(&self) -> u64 {
        self.config.idle.as_secs()
    }

    /// Today in the rules profile's time zone.
    pub fn today(&self) -> time::Date {
        self.policy.today(self.clock.unix())
    }
}
