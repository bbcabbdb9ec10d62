//! Jolokia requests of the monitoring endpoint: a POST body (JSON, single or bulk) or a GET path
//! (`/jolokia/read/...`, `/jolokia/list`, escapes). Every answer must be a JSON document.

#![no_main]

use std::sync::{Arc, LazyLock};

use conflux_admin::monitoring::Monitoring;
use conflux_admin::status::ServerStatus;
use http::Method;
use libfuzzer_sys::fuzz_target;

static MONITORING: LazyLock<Monitoring> =
    LazyLock::new(|| Monitoring::new(Arc::new(ServerStatus::new("fuzz", 0))));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let response = if selector % 2 == 0 {
        MONITORING.handle(&Method::POST, "/jolokia", rest)
    } else {
        let path = format!("/jolokia/{}", String::from_utf8_lossy(rest));
        MONITORING.handle(&Method::GET, &path, b"")
    };
    let body = response.body();
    assert!(
        serde_json::from_slice::<serde_json::Value>(body).is_ok(),
        "status {} with a body that is not JSON: {:?}",
        response.status(),
        String::from_utf8_lossy(body)
    );
});
