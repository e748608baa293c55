//! Writes the seed corpora: `corpus/token_decode/valid-N` (valid tokens under the fixed
//! key) and `corpus/mrz_parse/valid-N` (valid TD3 MRZs). Run from `fuzz/`.

fn main() {
    std::fs::create_dir_all("corpus/token_decode").expect("mkdir");
    for (i, t) in egate_fuzz::valid_tokens().iter().enumerate() {
        std::fs::write(format!("corpus/token_decode/valid-{i}"), t).expect("write");
    }
    std::fs::create_dir_all("corpus/mrz_parse").expect("mkdir");
    let td3 = |surname: &str, given: &str, number: &str, optional: &str| shared::mrz::Td3 {
        document_code: "P".into(),
        issuing_state: "JPN".into(),
        surname: surname.into(),
        given_names: given.into(),
        document_number: number.into(),
        nationality: "JPN".into(),
        birth_date: time::macros::date!(1985 - 04 - 12),
        sex: shared::domain::Sex::Female,
        expiry_date: time::macros::date!(2031 - 04 - 12),
        optional_data: optional.into(),
    };
    let mrz = [
        td3("TANAKA", "HANAKO", "TK1234567", ""),
        td3("ERIKSSON", "ANNA MARIA", "L898902C3", "ZE184226B"),
    ];
    for (i, m) in mrz.iter().enumerate() {
        std::fs::write(
            format!("corpus/mrz_parse/valid-{i}"),
            shared::mrz::build_td3(m),
        )
        .expect("write");
    }
}
