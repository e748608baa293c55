//! `egate officer …` run as the operator runs it: the help lists the subcommands, and an
//! account is added (password from standard input, or generated and printed once),
//! listed, given a new password and disabled, on a temporary data directory.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Run `egate` on `data` with `stdin` as its standard input (a pipe, so not a terminal).
fn egate(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_egate"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("EGATE_") {
            c.env_remove(k);
        }
    }
    let mut child = c
        .args(args)
        .env("EGATE_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run egate");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(data: &Path, args: &[&str], stdin: &str) -> String {
    let out = egate(data, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "egate {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn officer_help_lists_its_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok(dir.path(), &["officer", "--help"], "");
    for sub in ["add", "list", "disable", "reset-password"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "`egate officer --help` does not list {sub}:\n{help}"
        );
    }
    let add = ok(dir.path(), &["officer", "add", "--help"], "");
    for arg in [
        "--role",
        "--name",
        "--password-stdin",
        "officer",
        "supervisor",
    ] {
        assert!(
            add.contains(arg),
            "`officer add --help` lacks {arg}:\n{add}"
        );
    }
    // `officer` alone is an error that shows the subcommands.
    let bare = egate(dir.path(), &["officer"], "");
    assert!(!bare.status.success());
    assert!(String::from_utf8_lossy(&bare.stderr).contains("reset-password"));
}

#[test]
fn officer_accounts_are_added_listed_reset_and_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let added = ok(
        data,
        &[
            "officer",
            "add",
            "Tanaka",
            "--role",
            "officer",
            "--name",
            "Tanaka Ichiro",
        ],
        "correct horse battery staple\n",
    );
    assert!(added.contains("officer tanaka created"), "{added}");
    assert!(
        !added.contains("password"),
        "a given password is not printed: {added}"
    );

    // No password on standard input: one is generated and printed once.
    let generated = ok(
        data,
        &["officer", "add", "sato", "--role", "supervisor"],
        "",
    );
    assert!(generated.contains("officer sato created"), "{generated}");
    assert!(
        generated.contains("initial password (shown once"),
        "{generated}"
    );

    // Refusals: a missing role, an unknown role, a short password, a taken name.
    assert!(
        !egate(data, &["officer", "add", "kato"], "")
            .status
            .success()
    );
    assert!(
        !egate(data, &["officer", "add", "kato", "--role", "chief"], "")
            .status
            .success()
    );
    let short = egate(
        data,
        &["officer", "add", "kato", "--role", "officer"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    let twice = egate(
        data,
        &[
            "officer",
            "add",
            "tanaka",
            "--role",
            "officer",
            "--password-stdin",
        ],
        "another long password here\n",
    );
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already exists"));
    let empty = egate(
        data,
        &[
            "officer",
            "add",
            "kato",
            "--role",
            "officer",
            "--password-stdin",
        ],
        "",
    );
    assert!(!empty.status.success(), "--password-stdin with no input");

    let list = ok(data, &["officer", "list"], "");
    let tanaka = list.lines().find(|l| l.contains("tanaka")).expect(&list);
    assert!(
        tanaka.contains("officer") && tanaka.contains("active") && tanaka.contains("Tanaka Ichiro"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains("sato") && l.contains("supervisor"))
    );

    let reset = ok(data, &["officer", "reset-password", "tanaka"], "");
    assert!(reset.contains("new password (shown once)"), "{reset}");
    let missing = egate(data, &["officer", "disable", "nobody"], "");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no officer named nobody"));

    ok(data, &["officer", "disable", "tanaka"], "");
    let list = ok(data, &["officer", "list"], "");
    assert!(
        list.lines()
            .any(|l| l.contains("tanaka") && l.contains("disabled")),
        "{list}"
    );
}
