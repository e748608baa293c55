//! What a service chooses when it mounts the wizard: the mode, the idle limit, how the
//! first language is chosen, the URL prefix and the stylesheet's address.

use shared::i18n::Lang;
use std::time::Duration;

/// Who holds the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A public terminal (the kiosk): server-side session only, short idle wipe with a
    /// countdown, printable receipt, "Finish" clears the browser; nothing is kept.
    SharedTerminal,
    /// The passenger's own phone (mobile-api): the device keeps the issued QR and the
    /// edit token (the app shell's storage); no print, a phone-length idle limit.
    PersonalPhone,
}

impl Mode {
    /// The session cookie's name.
    pub fn cookie_name(self) -> &'static str {
        match self {
            Mode::SharedTerminal => "kiosk_session",
            Mode::PersonalPhone => "wizard_session",
        }
    }
}

/// How a new session's language is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguagePolicy {
    /// This language until the passenger picks one on the start page (the kiosk's
    /// start page greets in all five, its chrome in Japanese).
    Fixed(Lang),
    /// The browser's `Accept-Language`, switchable on every page.
    AcceptLanguage,
}

/// The wizard's configuration.
#[derive(Debug, Clone)]
pub struct WizardConfig {
    /// Shared terminal or personal phone.
    pub mode: Mode,
    /// Inactivity after which a session is gone.
    pub idle: Duration,
    /// Most sessions held at once. Beyond it idle ones go first; then a kiosk drops
    /// its oldest session, a phone refuses a new one (`evict_live_sessions`).
    pub max_sessions: usize,
    /// At [`Self::max_sessions`], whether the oldest live session makes room for a new
    /// one (kiosk: a terminal has one passenger, the oldest is long gone) or the new
    /// one is refused with a 503 page (phone: a flood of new sessions must not end
    /// passengers' half-typed declarations; docs/wizard.md).
    pub evict_live_sessions: bool,
    /// Most new sessions a minute from one client address (an IPv6 client: its /64);
    /// beyond it the start page is a 429 page with `Retry-After`. `None`: no limit
    /// (kiosk).
    pub new_sessions_per_client_per_minute: Option<u32>,
    /// How the first language is chosen.
    pub language: LanguagePolicy,
    /// Path prefix of every page ("" = at the root; else e.g. "/declare", no trailing
    /// slash).
    pub prefix: String,
    /// Where the stylesheet is served (under the prefix).
    pub stylesheet: &'static str,
    /// The session cookie is `Secure` (the service serves HTTPS).
    pub secure_cookie: bool,
    /// The device's remembered language (a preference cookie shared with the app
    /// shell's pages; phone mode): read for a new session, set by the language switch.
    pub lang_cookie: Option<&'static str>,
}

/// The phone's limit of new sessions a minute per client address: a passenger's phone
/// keeps its cookie, so one address starts a handful a minute; passengers behind one
/// airport Wi-Fi NAT share an address, hence the margin (docs/wizard.md). One address
/// holds at most this times the idle minutes (30) of live sessions: 1,800 of 20,000.
pub const NEW_SESSIONS_PER_CLIENT_PER_MINUTE: u32 = 60;

impl WizardConfig {
    /// The kiosk's configuration: shared terminal, Japanese until chosen.
    pub fn shared_terminal(idle: Duration, secure_cookie: bool) -> WizardConfig {
        WizardConfig {
            mode: Mode::SharedTerminal,
            idle,
            max_sessions: 256,
            evict_live_sessions: true,
            new_sessions_per_client_per_minute: None,
            language: LanguagePolicy::Fixed(Lang::Ja),
            prefix: String::new(),
            stylesheet: "/static/kiosk.css",
            secure_cookie,
            lang_cookie: None,
        }
    }

    /// The phone app's configuration: 30 minutes of inactivity, the browser's language.
    pub fn personal_phone(secure_cookie: bool) -> WizardConfig {
        WizardConfig {
            mode: Mode::PersonalPhone,
            idle: Duration::from_secs(30 * 60),
            max_sessions: 20_000,
            evict_live_sessions: false,
            new_sessions_per_client_per_minute: Some(NEW_SESSIONS_PER_CLIENT_PER_MINUTE),
            language: LanguagePolicy::AcceptLanguage,
            prefix: String::new(),
            stylesheet: "/static/wizard.css",
            secure_cookie,
            lang_cookie: Some("egate_lang"),
        }
    }

    /// `path` under the prefix (`"/"` alone is the prefix itself, or `/`).
    pub fn path(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_owned()
        } else if path == "/" {
            format!("{}/", self.prefix)
        } else {
            format!("{}{path}", self.prefix)
        }
    }
}
