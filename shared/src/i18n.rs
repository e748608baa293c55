//! Fluent messages in the five languages of the system (ja, en, zh-Hans, zh-Hant, ko).
//!
//! One loader serves every crate: messages live in `shared/locales/<lang>/*.ftl`, shared
//! terms (category and lane names) in `common.ftl`, rule and gate reasons in `rules.ftl`
//! and `reasons.ftl`, each UI in its own file with page-prefixed keys (`kiosk.ftl`,
//! `console.ftl`, `gate.ftl`). A missing message falls back to English, then to the key
//! itself: a lookup never panics. Bidi isolation marks are off, outputs are plain text.
//!
//! The files are embedded at compile time by `fluent_templates::static_loader!`. Edits
//! to existing files rebuild the crate; Cargo does not notice a *new* file in `locales/`
//! unless a build script prints `cargo:rerun-if-changed=locales` (touch this file
//! otherwise). A parse error or a key defined twice in one locale would make the loader
//! panic at first use: the tests below refuse both.

use fluent_templates::LanguageIdentifier;
use fluent_templates::fluent_bundle::FluentValue;
use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Plain text out: no U+2068/U+2069 isolation marks around arguments.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Where the `.ftl` sources live (used by [`keys`] and the completeness tests).
pub const LOCALES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/locales");

/// A supported language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// 日本語
    Ja,
    /// English
    En,
    /// 简体中文
    ZhHans,
    /// 繁體中文
    ZhHant,
    /// 한국어
    Ko,
}

impl Lang {
    /// Every language, in the order of the language picker.
    pub const ALL: [Lang; 5] = [Lang::Ja, Lang::En, Lang::ZhHans, Lang::ZhHant, Lang::Ko];

    /// BCP 47 code, also the directory name under `locales/`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
            Lang::ZhHans => "zh-Hans",
            Lang::ZhHant => "zh-Hant",
            Lang::Ko => "ko",
        }
    }

    /// The language's name in itself, for the picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Ja => "日本語",
            Lang::En => "English",
            Lang::ZhHans => "简体中文",
            Lang::ZhHant => "繁體中文",
            Lang::Ko => "한국어",
        }
    }

    /// From one of the five codes (case-insensitive, `_` accepted for `-`).
    pub fn from_code(code: &str) -> Option<Lang> {
        let c = code.trim().replace('_', "-");
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(&c))
    }

    /// The best language for an HTTP `Accept-Language` header: q-values honoured,
    /// `zh-CN`/`zh-SG`/`zh` → simplified, `zh-TW`/`zh-HK`/`zh-MO` → traditional,
    /// English when nothing matches.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut ranges: Vec<(u32, usize, Lang)> = Vec::new();
        for (pos, part) in header.split(',').take(32).enumerate() {
            let mut fields = part.split(';');
            let tag = fields.next().unwrap_or("").trim();
            let mut q = 1000u32;
            for f in fields {
                let f = f.trim();
                if let Some(v) = f.strip_prefix("q=").or_else(|| f.strip_prefix("Q=")) {
                    q = match v.trim().parse::<f32>() {
                        Ok(x) if (0.0..=1.0).contains(&x) => (x * 1000.0).round() as u32,
                        _ => 0,
                    };
                }
            }
            if q == 0 {
                continue;
            }
            if let Some(lang) = Lang::from_tag(tag) {
                ranges.push((q, pos, lang));
            }
        }
        // Highest q first; equal q keeps header order.
        ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges.first().map_or(Lang::En, |r| r.2)
    }

    /// Map one language tag (any region/script) to a supported language.
    fn from_tag(tag: &str) -> Option<Lang> {
        let lower = tag.to_ascii_lowercase().replace('_', "-");
        let mut sub = lower.split('-');
        let primary = sub.next()?;
        match primary {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            "zh" => {
                let rest: Vec<&str> = sub.collect();
                let traditional = rest
                    .iter()
                    .any(|s| matches!(*s, "hant" | "tw" | "hk" | "mo"));
                let simplified = rest.contains(&"hans");
                Some(if traditional && !simplified {
                    Lang::ZhHant
                } else {
                    Lang::ZhHans
                })
            }
            _ => None,
        }
    }

    fn langid(self) -> &'static LanguageIdentifier {
        static IDS: LazyLock<Vec<LanguageIdentifier>> = LazyLock::new(|| {
            Lang::ALL
                .iter()
                .map(|l| l.code().parse().unwrap_or_default())
                .collect()
        });
        let i = Lang::ALL.iter().position(|l| *l == self).unwrap_or(1);
        &IDS[i]
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A message argument: text or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum FluentArg {
    /// Text, inserted as is.
    Str(String),
    /// A number (Fluent plural rules apply).
    Num(f64),
}

impl From<&str> for FluentArg {
    fn from(s: &str) -> Self {
        FluentArg::Str(s.to_owned())
    }
}
impl From<String> for FluentArg {
    fn from(s: String) -> Self {
        FluentArg::Str(s)
    }
}
impl From<&String> for FluentArg {
    fn from(s: &String) -> Self {
        FluentArg::Str(s.clone())
    }
}
macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for FluentArg {
            fn from(n: $t) -> Self {
                FluentArg::Num(n as f64)
            }
        }
    )*};
}
num_arg!(u8, u16, u32, u64, usize, i32, i64, f32, f64);

impl FluentArg {
    fn to_value(&self) -> FluentValue<'static> {
        match self {
            FluentArg::Str(s) => FluentValue::from(s.clone()),
            FluentArg::Num(n) => FluentValue::from(*n),
        }
    }
}

fn lookup(
    lang: Lang,
    key: &str,
    args: Option<&HashMap<String, FluentValue<'static>>>,
) -> Option<String> {
    LOCALES
        .lookup_single_language(lang.langid(), key, args)
        .ok()
}

/// The message `key` in `lang`; missing → English → the key itself.
pub fn t(lang: Lang, key: &str) -> String {
    lookup(lang, key, None)
        .or_else(|| lookup(Lang::En, key, None))
        .unwrap_or_else(|| key.to_owned())
}

/// The message `key` in `lang` with arguments; missing → English → the key itself.
pub fn t_args(lang: Lang, key: &str, args: &[(&str, FluentArg)]) -> String {
    let map: HashMap<String, FluentValue<'static>> = args
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_value()))
        .collect();
    lookup(lang, key, Some(&map))
        .or_else(|| lookup(Lang::En, key, Some(&map)))
        .unwrap_or_else(|| key.to_owned())
}

/// Whether `lang` itself (no fallback) has the message `key`.
pub fn has_key(lang: Lang, key: &str) -> bool {
    // A message that needs arguments fails to format without them, so the parsed
    // source list decides when the plain lookup does not succeed.
    lookup(lang, key, None).is_some() || SOURCE_KEYS.get(&lang).is_some_and(|k| k.contains(key))
}

/// Every message id of `lang`, sorted, read from the `.ftl` sources under
/// [`LOCALES_DIR`] (empty when the source tree is not present, e.g. a deployed binary).
pub fn keys(lang: Lang) -> Vec<String> {
    SOURCE_KEYS
        .get(&lang)
        .map(|k| k.iter().cloned().collect())
        .unwrap_or_default()
}

static SOURCE_KEYS: LazyLock<HashMap<Lang, BTreeSet<String>>> = LazyLock::new(|| {
    Lang::ALL
        .into_iter()
        .map(|l| {
            let ids = ftl_files(l)
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .flat_map(|src| message_ids(&src))
                .collect();
            (l, ids)
        })
        .collect()
});

/// The `.ftl` files of one locale, sorted by name.
pub fn ftl_files(lang: Lang) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(LOCALES_DIR).join(lang.code());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Message ids defined in Fluent source: lines starting in column 0 with an
/// identifier followed by `=` (terms start with `-`, comments with `#`).
pub fn message_ids(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|line| {
            let (id, _) = line.split_once('=')?;
            let id = id.trim_end();
            let mut chars = id.chars();
            let first = chars.next()?;
            (first.is_ascii_alphabetic()
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| id.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_templates::fluent_bundle::FluentResource;

    #[test]
    fn every_locale_has_exactly_the_english_keys() {
        let en: BTreeSet<String> = keys(Lang::En).into_iter().collect();
        assert!(
            en.len() > 50,
            "English messages were not found under {LOCALES_DIR}"
        );
        for lang in Lang::ALL {
            let other: BTreeSet<String> = keys(lang).into_iter().collect();
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
            for k in &en {
                assert!(has_key(lang, k), "{lang}: has_key({k}) is false");
            }
        }
    }

    #[test]
    fn every_ftl_file_parses_and_no_key_is_defined_twice() {
        // A parse error or a duplicate id would make the loader panic at first use.
        for lang in Lang::ALL {
            let mut seen = BTreeSet::new();
            for path in ftl_files(lang) {
                let src = std::fs::read_to_string(&path).unwrap();
                if let Err((_, errs)) = FluentResource::try_new(src.clone()) {
                    panic!("{} does not parse: {errs:?}", path.display());
                }
                for id in message_ids(&src) {
                    assert!(seen.insert(id.clone()), "{id} defined twice in {lang}");
                }
            }
        }
    }

    #[test]
    fn lookups_fall_back_to_english_then_to_the_key() {
        assert_eq!(t(Lang::En, "lane-green"), "Green lane");
        assert_eq!(t(Lang::Ja, "lane-red"), "赤色検査台");
        assert_eq!(t(Lang::Ko, "no-such-key"), "no-such-key");
        assert!(!has_key(Lang::Ja, "no-such-key"));
        let s = t_args(
            Lang::En,
            "reason-allowance-alcohol-exceeded",
            &[
                ("declared_ml", 3000u32.into()),
                ("allowed_ml", 2280u32.into()),
            ],
        );
        assert!(s.contains("3000") && s.contains("2280"), "{s}");
        assert!(!s.contains('\u{2068}'), "isolation marks must be off");
    }

    #[test]
    fn accept_language_honours_q_values_and_chinese_variants() {
        assert_eq!(
            Lang::from_accept_language("fr-FR, ko;q=0.5, ja;q=0.8"),
            Lang::Ja
        );
        assert_eq!(Lang::from_accept_language("zh-TW"), Lang::ZhHant);
        assert_eq!(Lang::from_accept_language("zh-HK,en;q=0.1"), Lang::ZhHant);
        assert_eq!(Lang::from_accept_language("zh-MO"), Lang::ZhHant);
        assert_eq!(Lang::from_accept_language("zh-Hant-TW"), Lang::ZhHant);
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9"), Lang::ZhHans);
        assert_eq!(Lang::from_accept_language("zh-SG"), Lang::ZhHans);
        assert_eq!(Lang::from_accept_language("zh"), Lang::ZhHans);
        assert_eq!(Lang::from_accept_language("ko-KR;q=0, en;q=0.2"), Lang::En);
        assert_eq!(Lang::from_accept_language("de, fr"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language(";;;q=,,"), Lang::En);
        assert_eq!(Lang::from_accept_language("en;q=0.9, ko"), Lang::Ko);
    }

    #[test]
    fn codes_round_trip() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_code(l.code()), Some(l));
            assert!(!l.native_name().is_empty());
        }
        assert_eq!(Lang::from_code("zh_hant"), Some(Lang::ZhHant));
        assert_eq!(Lang::from_code("fr"), None);
    }
}
