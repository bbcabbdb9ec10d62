//! Inputs found by the cargo-fuzz targets in `fuzz/` (scripts/fuzz.sh), kept as regression tests.
//! Each test replays the input exactly as the target fed it.

use conflux_mediation::json::{JsonEval, MAX_BRACKET_DEPTH};

/// A path nesting `[?(` filters ~20 deep (861 bytes) that made the RFC 9535 parser backtrack for
/// 20 s (target `jsonpath`, 2026-12-06). It is now refused before that parser sees it.
#[test]
fn deeply_nested_jsonpath_filters_are_refused() {
    let input = include_bytes!("fixtures/fuzz/jsonpath-nested-filters.bin");
    let text = std::str::from_utf8(input).expect("the target feeds UTF-8 only");
    let (path, _document) = text.split_once('\n').unwrap_or((text, ""));
    let error = JsonEval::compile(path).expect_err("refused").to_string();
    assert!(error.contains("MAX_BRACKET_DEPTH"), "{error}");
}

/// `$[?(@.a[?(@.a[?(@.b > 1)])])]` with `depth` filters, each an existence test of the next.
fn nested_filters(depth: usize) -> String {
    let inner = "[?(@.b > 1)]".to_string();
    let nested = (1..depth).fold(inner, |inner, _| format!("[?(@.a{inner})]"));
    format!("${nested}")
}

#[test]
fn bracket_depth_limit_and_limit_plus_one() {
    let at_limit = nested_filters(MAX_BRACKET_DEPTH);
    if let Err(error) = JsonEval::compile(&at_limit) {
        panic!("{at_limit} is within the limit: {error}");
    }
    let over = nested_filters(MAX_BRACKET_DEPTH + 1);
    let error = JsonEval::compile(&over)
        .expect_err("over the limit")
        .to_string();
    assert!(error.contains("MAX_BRACKET_DEPTH"), "{error}");
    // Brackets inside quoted names do not count.
    let quoted = format!("$['{}']", "[".repeat(MAX_BRACKET_DEPTH + 5));
    assert!(JsonEval::compile(&quoted).is_ok(), "{quoted}");
}
