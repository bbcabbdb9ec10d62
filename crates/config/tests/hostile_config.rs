//! Hostile `deployment.toml` files: deep nesting, huge strings and many keys get a clear error
//! naming the file (or load), never a panic, a stack overflow or a hang.

use std::path::Path;

use conflux_config::SystemProperties;

fn load_text(text: &str) -> Result<conflux_config::Config, conflux_config::ConfigErrors> {
    let home = tempfile::tempdir().expect("temp home");
    std::fs::create_dir_all(home.path().join("conf")).expect("conf dir");
    std::fs::write(home.path().join("conf/deployment.toml"), text).expect("write toml");
    conflux_config::load(home.path(), SystemProperties::default())
}

fn names_the_file(errors: &conflux_config::ConfigErrors) {
    let text = errors.to_string();
    assert!(
        text.contains(
            &Path::new("conf")
                .join("deployment.toml")
                .display()
                .to_string()
        ),
        "{text}"
    );
}

#[test]
fn deeply_nested_inline_arrays_and_tables_are_an_error_not_a_stack_overflow() {
    for (open, close) in [("[", "]"), ("{a=", "}")] {
        let text = format!("x = {}1{}\n", open.repeat(100_000), close.repeat(100_000));
        let errors = load_text(&text).expect_err("100,000 levels are refused");
        names_the_file(&errors);
    }
}

#[test]
fn deep_dotted_table_headers_load_or_fail_cleanly() {
    let key = vec!["a"; 10_000].join(".");
    match load_text(&format!("[{key}]\nb = 1\n")) {
        Ok(_) => {}
        Err(errors) => names_the_file(&errors),
    }
}

#[test]
fn a_huge_string_value_loads_without_trouble() {
    let text = format!(
        "[server]\nhostname = \"localhost\"\n[custom]\nblob = \"{}\"\n",
        "x".repeat(8 * 1024 * 1024)
    );
    match load_text(&text) {
        Ok(_) => {}
        Err(errors) => names_the_file(&errors),
    }
}

#[test]
fn many_keys_load_without_trouble() {
    let keys: String = (0..100_000).map(|i| format!("k{i} = {i}\n")).collect();
    match load_text(&format!("[custom]\n{keys}")) {
        Ok(_) => {}
        Err(errors) => names_the_file(&errors),
    }
}

#[test]
fn invalid_utf8_is_an_error_naming_the_file() {
    let home = tempfile::tempdir().expect("temp home");
    std::fs::create_dir_all(home.path().join("conf")).expect("conf dir");
    std::fs::write(
        home.path().join("conf/deployment.toml"),
        b"[server]\nhostname = \"\xff\xfe\"\n",
    )
    .expect("write toml");
    let errors =
        conflux_config::load(home.path(), SystemProperties::default()).expect_err("not UTF-8");
    names_the_file(&errors);
}

#[test]
fn a_deployment_toml_past_the_size_limit_is_refused_and_one_at_it_is_read() {
    let limit = conflux_config::settings::MAX_DEPLOYMENT_TOML_BYTES as usize;
    // A comment line padded to exactly the limit parses; one byte more is refused unread.
    let at_limit = format!("#{}\n", "x".repeat(limit - 2));
    assert!(load_text(&at_limit).is_ok());
    let errors = load_text(&format!("{at_limit} ")).expect_err("limit + 1 is refused");
    names_the_file(&errors);
    assert!(errors.to_string().contains("larger than"), "{errors}");
}
