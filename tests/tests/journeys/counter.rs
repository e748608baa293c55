//! The red lane: a passenger over the allowance, the case at the counter, the outcome
//! and the payment, through the officer console over real HTTP.

use super::*;
use serde_json::json;

#[tokio::test]
async fn a_passenger_over_the_allowance_is_routed_red_and_the_officer_records_outcome_and_payment()
{
    let sys = System::spawn().await;
    // A watch rule on the flight: the case then carries an officer-only reason too.
    let watchlist = &sys.gate.state.config.watchlist_file;
    std::fs::write(
        watchlist,
        "[[rule]]\nname = \"flight-nh212-check\"\nkind = \"flight\"\nvalue = \"NH212\"\n\
         reason = \"Targeted check of this flight, order 2026-041\"\n",
    )
    .unwrap();
    // A later modification time than the one loaded at start, however coarse the clock.
    std::fs::File::options()
        .write(true)
        .open(watchlist)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    sys.gate_refresh().await;
    assert_eq!(
        sys.gate.state.selection.rules().len(),
        1,
        "watch rule loaded"
    );
    let hanako = Traveller::hanako();
    let (status, created) = sys
        .declare(&hanako.declaration(json!([
            {"category": "whisky", "quantity": 5, "volume_ml": 750,
             "value": {"amount": 300.0, "currency": "USD"}}
        ])))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["lane_preview"], "red");
    let d = sys
        .scan(created["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert_eq!(d["decision"], "red", "{d}");
    assert!(
        codes(&d).contains(&"declaration.items_to_declare".to_owned()),
        "{d}"
    );
    let case_id = sys.case_of(&d).await.expect("a case id");
    // The officer sees the watch-rule hit; the passenger-facing part names no
    // officer-only reason: only the passenger reason, the generic counter message, and
    // nothing of the rule (code, name, why) anywhere in the answer.
    assert!(
        sys.stored_codes(&d)
            .await
            .contains(&"selection.watch_flight".to_owned()),
        "{d}"
    );
    let passenger_codes: Vec<&str> = d["reasons"]
        .as_array()
        .expect("passenger reasons")
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(passenger_codes, ["declaration.items_to_declare"], "{d}");
    assert_eq!(
        d["passenger_message"], "Please go to the customs counter.",
        "{d}"
    );
    let passenger_part = d.to_string();
    for officer_only in ["selection", "flight-nh212-check", "order 2026-041", "watch"] {
        assert!(
            !passenger_part.contains(officer_only),
            "{officer_only:?} shown to the passenger: {passenger_part}"
        );
    }

    gate_service::console::create_officer(
        &sys.gate.state.db,
        "sato",
        "Sato Officer",
        "officer",
        "correct horse battery staple",
    )
    .await
    .unwrap();
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = web
        .get(sys.console_url("/console/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = web
        .post(sys.console_url("/console/login"))
        .form(&[
            ("csrf", csrf_of(&login).as_str()),
            ("username", "sato"),
            ("password", "correct horse battery staple"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let queue = r.text().await.unwrap();
    let link = format!("/console/cases/{case_id}");
    assert!(queue.contains(&link), "the queue lists the case");
    assert!(queue.contains("NH212"));

    let case = web
        .get(sys.console_url(&link))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        case.contains("declaration.items_to_declare")
            || case.contains("allowance.alcohol_exceeded")
    );
    assert!(
        case.contains("TANAKA"),
        "the MRZ identity is shown to the officer"
    );
    assert!(
        case.contains("Marunouchi"),
        "the full declaration is fetched from the reachable issuer"
    );
    // The declaration reads as the paper form, not as flattened JSON keys: the items
    // table with its caption and headers and the declared whisky line, the questions as
    // the passenger read them, the address in the trip part.
    let section = |id: &str, end: &str| -> String {
        let start = case
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} on the case page: {case}"));
        let len = case[start..].find(end).expect("the section ends");
        case[start..start + len].to_owned()
    };
    let items = section("decl-items", "</table>");
    assert!(
        items.contains("<caption>Items declared</caption>"),
        "{items}"
    );
    for header in [
        "Category",
        "Description",
        "Quantity",
        "Size per unit",
        "Value",
        "Currency",
    ] {
        assert!(
            items.contains(&format!("<th scope=\"col\">{header}</th>"))
                || items.contains(&format!("<th scope=\"col\" class=\"num\">{header}</th>")),
            "no {header:?} column: {items}"
        );
    }
    assert!(
        items.contains(
            "<tr><td>1</td><td>Whisky</td><td></td><td class=\"num\">5</td><td>750 ml</td>\
             <td class=\"num\">300</td><td>USD</td></tr>"
        ),
        "the declared whisky line, five bottles of 750 ml for USD 300: {items}"
    );
    let answers = section("decl-answers", "</table>");
    assert!(
        answers.contains(
            "<th scope=\"row\">Are you bringing goods over the duty-free allowance?</th>"
        ),
        "the question as the passenger read it: {answers}"
    );
    let trip = section("decl-trip", "</section>");
    assert!(
        trip.contains(
            "<th scope=\"row\">Address in Japan</th><td>1-1 Marunouchi, Chiyoda-ku, Tokyo</td>"
        ),
        "the passenger's address in the trip part: {trip}"
    );
    for flattened in [
        "declaration.items[0]",
        "items[0].quantity",
        "value.currency",
        "declaration.passenger.surname",
        "trip.address_in_japan",
        "duty_estimate.lines[",
    ] {
        assert!(
            !case.contains(flattened),
            "a flattened key {flattened:?} on the case page"
        );
    }
    let csrf = csrf_of(&case);
    let r = web
        .post(sys.console_url(&format!("{link}/outcome")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "duty_assessed"),
            ("amount_source", "estimate"),
            ("note", "five bottles, two over the allowance"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = r.text().await.unwrap();
    assert!(
        after.contains("id=\"payment-form\""),
        "payment form offered after assessment"
    );
    let r = web
        .post(sys.console_url(&format!("{link}/payment")))
        .form(&[
            ("csrf", csrf_of(&after).as_str()),
            ("method", "card"),
            ("reference", "CARD-E2E-1"),
            // What the form proposes: the assessed duty (no more can be paid).
            ("amount_yen", proposed_amount_of(&after).as_str()),
            ("idempotency_key", form_key_of(&after).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let receipt = r.text().await.unwrap();
    assert!(receipt.contains("id=\"receipt\"") && receipt.contains("CARD-E2E-1"));
    let (outcomes, payments): (i64, i64) = sys
        .gate
        .state
        .db
        .read(|c| {
            Ok::<_, shared::db::DbError>((
                c.query_row("SELECT count(*) FROM outcomes", [], |r| r.get(0))?,
                c.query_row("SELECT count(*) FROM payments", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((outcomes, payments), (1, 1));
}

/// The payment form's idempotency key (one payment per rendered form).
fn form_key_of(html: &str) -> String {
    let pat = "name=\"idempotency_key\" value=\"";
    let i = html.find(pat).expect("the payment form has its key") + pat.len();
    html[i..].split('"').next().unwrap_or_default().to_owned()
}

/// The amount the payment form proposes (what is left of the assessed duty).
fn proposed_amount_of(html: &str) -> String {
    let pat = "name=\"amount_yen\" inputmode=\"numeric\" value=\"";
    let i = html.find(pat).expect("the payment form proposes an amount") + pat.len();
    html[i..].split('"').next().unwrap_or_default().to_owned()
}
