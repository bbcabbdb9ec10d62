//! `deployment.toml`: the TOML document parser (with `$env{}`/`$sys{}` references and duplicate
//! keys), then the typed configuration built from it with every key check and the port plan.

#![no_main]

use std::path::Path;

use conflux_config::SystemProperties;
use conflux_config::document::Document;
use conflux_config::settings::from_document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent/conflux-fuzz/conf/deployment.toml");
    let properties = SystemProperties::default();
    let Ok(document) = Document::parse(path, text, &properties) else {
        return;
    };
    let _ = from_document(
        Path::new("/nonexistent/conflux-fuzz"),
        path.to_path_buf(),
        &document,
        properties,
        Vec::new(),
    );
});
