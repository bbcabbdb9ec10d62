//! The engine layer on its own: limits at limit + 1, isolation between executions, no host
//! access, errors with their locations, JSON across the boundary.

use std::time::Duration;

use serde_json::json;

use super::*;

fn script(source: &str) -> Script {
    Script::compile("test.js", 1, source).unwrap()
}

/// Evaluates `source` in a fresh scope and returns its completion value as JSON.
fn run(limits: Limits, source: &str) -> Result<Option<serde_json::Value>, ScriptError> {
    let s = Script::unchecked("test.js", 1, source);
    execute(limits, |scope| {
        let value = scope.eval(&s)?;
        scope.from_js(value)
    })
}

fn value(source: &str) -> serde_json::Value {
    run(Limits::default(), source).unwrap().unwrap()
}

#[test]
fn a_function_runs_with_json_globals_and_arguments() {
    let s = script(
        "function total(order) { return { id: order.id, sum: order.items.reduce(function (a, i) { return a + i.price * i.qty; }, rate) }; }",
    );
    let out = call_function(
        &[&s],
        &[("rate", json!(0.5))],
        "total",
        &[json!({"id": 7, "items": [{"price": 2.5, "qty": 2}, {"price": 1, "qty": 3}]})],
        Limits::default(),
    )
    .unwrap();
    assert_eq!(out, Some(json!({"id": 7, "sum": 8.5})));
}

// The limit is 100 ms. A script that needs the limit + 1 ms (plus 50 ms: Date.now() truncates to
// the millisecond and the interrupt handler is polled every few thousand operations) is always
// stopped first, `try` or not; one that needs a few milliseconds runs to its end.
#[test]
fn time_limit_plus_one_is_a_timeout_and_the_thread_runs_the_next_script() {
    const LIMIT_MS: u64 = 100;
    let limits = Limits {
        max_time: Duration::from_millis(LIMIT_MS),
        ..Limits::default()
    };
    let over = format!(
        "var t = Date.now(); try {{ while (Date.now() - t < {}) {{}} }} catch (e) {{}} 'finished'",
        LIMIT_MS + 1 + 50
    );
    let err = run(limits, &over).unwrap_err();
    assert_eq!(
        err,
        ScriptError::Timeout {
            limit: Duration::from_millis(LIMIT_MS)
        }
    );
    assert_eq!(
        err.to_string(),
        "the script ran longer than the limit of 100 ms"
    );
    assert!(matches!(
        run(limits, "while (true) {}"),
        Err(ScriptError::Timeout { .. })
    ));
    // A promise job that never ends is held to the same deadline.
    assert!(matches!(
        run(
            limits,
            "Promise.resolve().then(function () { for (;;) {} }); 1"
        ),
        Err(ScriptError::Timeout { .. })
    ));
    assert_eq!(
        run(
            limits,
            "var n = 0; for (var i = 0; i < 10000; i++) { n += i; } n"
        )
        .unwrap(),
        Some(json!(49_995_000))
    );
}

// The limit is 8 MiB; a string of limit + 1 bytes cannot be allocated, half of it can.
#[test]
fn memory_limit_plus_one_is_out_of_memory_and_the_next_script_has_its_budget_again() {
    const LIMIT: usize = 8 * 1024 * 1024;
    let limits = Limits {
        max_memory: LIMIT,
        ..Limits::default()
    };
    let half = format!("'x'.repeat({}).length", LIMIT / 2);
    assert_eq!(run(limits, &half).unwrap(), Some(json!(LIMIT / 2)));
    let over = format!("var s = 'x'.repeat({}); s.length", LIMIT + 1);
    assert_eq!(
        run(limits, &over).unwrap_err(),
        ScriptError::OutOfMemory { limit: LIMIT }
    );
    // Growing until the allocator refuses, in a function's locals and in a global.
    for source in [
        "function f() { var a = []; for (;;) a.push({ n: a.length }); } f()",
        "var keep = []; for (;;) keep.push('item ' + keep.length);",
    ] {
        assert_eq!(
            run(limits, source).unwrap_err(),
            ScriptError::OutOfMemory { limit: LIMIT },
            "{source}"
        );
        assert_eq!(run(limits, &half).unwrap(), Some(json!(LIMIT / 2)));
    }
}

#[test]
fn deep_recursion_is_a_range_error_the_script_could_catch() {
    let err = run(
        Limits::default(),
        "function f(n) { return f(n + 1) + 1; } f(0)",
    )
    .unwrap_err();
    assert!(
        matches!(&err, ScriptError::Thrown { message, location: Some(at) }
            if message == "RangeError: Maximum call stack size exceeded" && at.starts_with("test.js:1:")),
        "{err:?}"
    );
    assert_eq!(
        value("function f(n) { return f(n + 1); } try { f(0) } catch (e) { e.name }"),
        json!("RangeError")
    );
}

#[test]
fn nothing_leaks_from_one_execution_to_the_next() {
    value(
        "var declared = 1; implicit = 2; globalThis.explicit = 3; function fn() {}
         Array.prototype.evil = function () {}; JSON.stringify = function () { return 'x'; };
         Object.defineProperty(Object.prototype, 'polluted', { value: 1 }); 0",
    );
    assert_eq!(
        value(
            "[typeof declared, typeof implicit, typeof explicit, typeof fn, typeof [].evil,
              JSON.stringify({a: 1}), typeof {}.polluted]"
        ),
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "{\"a\":1}",
            "undefined"
        ])
    );
}

#[test]
fn scripts_have_no_require_modules_files_network_or_host() {
    assert_eq!(
        value(
            "[typeof require, typeof module, typeof process, typeof std, typeof os, typeof fetch,
              typeof XMLHttpRequest, typeof load, typeof Java, typeof java, typeof Packages,
              typeof console, typeof print, typeof setTimeout, typeof WebAssembly]"
        ),
        serde_json::Value::Array(vec![json!("undefined"); 15])
    );
    // A dynamic import finds no loader: the promise is rejected.
    let s = Script::unchecked(
        "test.js",
        1,
        "var r = 'pending'; import('/etc/passwd').then(function () { r = 'loaded'; }, function (e) { r = 'rejected: ' + e.message; });",
    );
    let outcome = execute(Limits::default(), |scope| {
        scope.eval(&s)?;
        while scope.ctx().execute_pending_job() {}
        let r: rquickjs::Value = scope
            .ctx()
            .globals()
            .get("r")
            .map_err(|e| scope.caught(e))?;
        scope.from_js(r)
    })
    .unwrap()
    .unwrap();
    assert!(
        outcome.as_str().is_some_and(|r| r.starts_with("rejected")),
        "{outcome}"
    );
    // A static import is not a script's syntax.
    assert!(matches!(
        Script::compile("test.js", 1, "import fs from 'fs';"),
        Err(ScriptError::Syntax { .. })
    ));
}

#[test]
fn syntax_errors_name_the_file_line_and_column_and_nothing_runs_at_compile_time() {
    let err = Script::compile("api/A.xml", 10, "var a = 1;\n  var b = ;\n").unwrap_err();
    assert_eq!(
        err,
        ScriptError::Syntax {
            name: "api/A.xml".into(),
            line: 11,
            column: 11,
            message: "SyntaxError: unexpected token in expression: ';'".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "api/A.xml:11:11: SyntaxError: unexpected token in expression: ';'"
    );
    // Compiling runs nothing: neither the endless loop nor the throw.
    Script::compile("a.js", 1, "while (true) {}").unwrap();
    Script::compile("a.js", 1, "throw new Error('at deploy?');").unwrap();
    assert!(matches!(
        Script::compile("a.js", 1, "var a = 'NUL\0';"),
        Err(ScriptError::Syntax { .. })
    ));
}

#[test]
fn uncaught_exceptions_carry_their_message_and_the_file_line() {
    let s = Script::unchecked("api/A.xml", 5, "var a = 1;\n\n  undefinedFn();");
    let err = execute(Limits::default(), |scope| scope.eval(&s).map(|_| ())).unwrap_err();
    assert_eq!(
        err,
        ScriptError::Thrown {
            message: "ReferenceError: undefinedFn is not defined".into(),
            location: Some("api/A.xml:7:3".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "ReferenceError: undefinedFn is not defined at api/A.xml:7:3"
    );
    assert_eq!(
        run(Limits::default(), "throw 'boom'").unwrap_err(),
        ScriptError::Thrown {
            message: "boom".into(),
            location: None
        }
    );
    assert_eq!(
        run(Limits::default(), "throw { code: 42 }")
            .unwrap_err()
            .to_string(),
        "[object Object]"
    );
}

#[test]
fn json_crosses_as_json_parse_and_stringify_have_it() {
    // 1.0 is the number 1 (MI's GraalJS and Nashorn stringify it as `1` too); key order is
    // JavaScript's: integer-like keys first.
    let text = execute(Limits::default(), |scope| {
        let v = scope.to_js(
            &serde_json::from_str(r#"{"b": 1.0, "2": true, "a": [1e21, 0.1, null, "s"]}"#).unwrap(),
        )?;
        scope.stringify(v)
    })
    .unwrap();
    assert_eq!(
        text.as_deref(),
        Some(r#"{"2":true,"b":1,"a":[1e+21,0.1,null,"s"]}"#)
    );
    assert_eq!(run(Limits::default(), "undefined").unwrap(), None);
    assert_eq!(
        run(Limits::default(), "var o = {}; o.self = o; o").unwrap_err(),
        ScriptError::Thrown {
            message: "TypeError: circular reference".into(),
            location: None
        }
    );
}

#[test]
fn calling_what_is_not_a_function_is_named() {
    let s = script("var notFn = 1;");
    assert_eq!(
        call_function(&[&s], &[], "notFn", &[], Limits::default()).unwrap_err(),
        ScriptError::NotAFunction {
            name: "notFn".into()
        }
    );
    assert_eq!(
        call_function(&[&s], &[], "missing", &[], Limits::default())
            .unwrap_err()
            .to_string(),
        "missing is not a function defined by the script"
    );
}

#[test]
fn an_execution_inside_an_execution_gets_a_runtime_of_its_own() {
    let inner = execute(Limits::default(), |_outer| {
        Ok(run(Limits::default(), "'inner'"))
    })
    .unwrap();
    assert_eq!(inner.unwrap(), Some(json!("inner")));
}
