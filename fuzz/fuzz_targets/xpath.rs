//! Synapse XPath: compilation (`XPath::compile`) and evaluation (node set, Synapse string value,
//! boolean) against a document. Input: the expression on the first line, an XML document after it
//! (a SOAP envelope is used when the rest is not XML).

#![no_main]

use conflux_mediation::xpath::{XPath, XPathEnv};
use libfuzzer_sys::fuzz_target;

const ENVELOPE: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:order xmlns:m="urn:orders" id="7"><m:item qty="2">apple</m:item><m:item qty="5">pear</m:item><note><![CDATA[a<b]]></note></m:order></soapenv:Body></soapenv:Envelope>"#;

struct Env;

impl XPathEnv for Env {
    fn property(&self, scope: &str, name: &str) -> Option<String> {
        match (scope, name) {
            (_, "xml") => Some("<p><q>1</q></p>".to_owned()),
            ("transport", _) | ("default", _) => Some(format!("{scope}:{name}")),
            _ => None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, rest) = text.split_once('\n').unwrap_or((text, ""));
    let namespaces = [
        ("m".to_owned(), "urn:orders".to_owned()),
        (
            "soapenv".to_owned(),
            "http://schemas.xmlsoap.org/soap/envelope/".to_owned(),
        ),
    ];
    let Ok(xpath) = XPath::compile(expression, &namespaces) else {
        return;
    };
    let parsed = roxmltree::Document::parse(rest);
    let document = match parsed {
        Ok(document) => document,
        Err(_) => roxmltree::Document::parse(ENVELOPE).expect("the fixed envelope parses"),
    };
    let _ = xpath.evaluate(&document, &Env);
    let _ = xpath.string_value_at(&document, &Env, 1_700_000_000_000);
    let _ = xpath.boolean_value(&document, &Env);
});
