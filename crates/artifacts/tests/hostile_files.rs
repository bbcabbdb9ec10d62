//! Hostile artifact files (issue 20, "the same holds for artifacts ... and CApp zips"): a Synapse
//! XML file or a `.car` built to exhaust the loader (entity expansion, external entities, depth,
//! attribute and namespace bombs, nested zips) gets a clear error naming the file, quickly, never a
//! panic, a hang, or a network fetch.

use std::io::{Cursor, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use conflux_artifacts::{ArtifactError, MAX_NESTING_DEPTH, parse_artifact, read_capp};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const FILE: &str = "api/Hostile.xml";

/// A refusal naming the file, within a generous bound that only catches hangs.
fn refused(xml: &str) -> ArtifactError {
    let started = Instant::now();
    let err = parse_artifact(FILE, xml).expect_err("hostile artifact is refused");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains(FILE), "{err}");
    err
}

fn api_around(inner: &str) -> String {
    format!(
        r#"<api xmlns="http://ws.apache.org/ns/synapse" name="H" context="/h"><resource methods="GET"><inSequence>{inner}</inSequence></resource></api>"#
    )
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let mut dtd = String::from("<!ENTITY l0 \"lol\">");
    for i in 1..10 {
        dtd.push_str(&format!(
            "<!ENTITY l{i} \"{}\">",
            format!("&l{};", i - 1).repeat(10)
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE api [{dtd}]>{}",
        api_around("<log><property name=\"x\" value=\"&l9;\"/></log>")
    );
    let err = refused(&xml);
    assert_eq!(err.kind(), "xml-syntax", "{err}");
}

#[test]
fn external_entities_and_dtds_are_never_fetched() {
    let trap = TcpListener::bind("127.0.0.1:0").expect("bind");
    trap.set_nonblocking(true).expect("nonblocking");
    let port = trap.local_addr().expect("addr").port();
    for doctype in [
        format!("<!DOCTYPE api [<!ENTITY x SYSTEM \"http://127.0.0.1:{port}/x\">]>"),
        format!("<!DOCTYPE api [<!ENTITY % p SYSTEM \"http://127.0.0.1:{port}/p\"> %p;]>"),
        format!("<!DOCTYPE api SYSTEM \"http://127.0.0.1:{port}/api.dtd\">"),
    ] {
        let xml = format!("<?xml version=\"1.0\"?>{doctype}{}", api_around(""));
        assert_eq!(refused(&xml).kind(), "xml-syntax");
    }
    assert!(
        matches!(trap.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the loader connected to an entity's address"
    );
}

#[test]
fn a_hundred_thousand_levels_are_refused_by_depth() {
    let deep = format!("{}{}", "<log>".repeat(100_000), "</log>".repeat(100_000));
    let err = refused(&api_around(&deep));
    assert_eq!(err.kind(), "too-deep", "{err}");
    assert!(
        err.to_string().contains(&MAX_NESTING_DEPTH.to_string()),
        "{err}"
    );
}

#[test]
fn attribute_and_namespace_bombs_are_refused() {
    let attributes: String = (0..100_000).map(|i| format!(" a{i}=\"\"")).collect();
    let err = refused(&api_around(&format!("<log{attributes}/>")));
    assert!(err.to_string().contains("attributes"), "{err}");

    let mut nested = String::new();
    for level in 0..200 {
        nested.push_str("<sequence");
        for i in 0..100 {
            nested.push_str(&format!(" xmlns:p{level}_{i}=\"urn:x\""));
        }
        nested.push('>');
    }
    nested.push_str(&"</sequence>".repeat(200));
    let err = refused(&api_around(&nested));
    assert!(err.to_string().contains("namespace"), "{err}");
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        writer.start_file(*name, options).expect("entry");
        writer.write_all(content).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

fn car_with_api(api_xml: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let artifacts = br#"<?xml version="1.0" encoding="UTF-8"?><artifacts>
    <artifact name="App" version="1.0.0" type="carbon/application">
        <dependency artifact="H" version="1.0.0" include="true" serverRole="EnterpriseIntegrator"/>
    </artifact>
</artifacts>"#;
    let artifact = br#"<?xml version="1.0" encoding="UTF-8"?><artifact name="H" version="1.0.0" type="synapse/api" serverRole="EnterpriseIntegrator"><file>H-1.0.0.xml</file></artifact>"#;
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("artifacts.xml", artifacts),
        ("H_1.0.0/artifact.xml", artifact),
        ("H_1.0.0/H-1.0.0.xml", api_xml.as_bytes()),
    ];
    entries.extend_from_slice(extra);
    zip(&entries)
}

#[test]
fn a_capp_with_a_hostile_artifact_names_the_car_and_the_entry() {
    // 20,000 levels: under the compression-ratio floor, so the XML layer is what refuses it.
    let deep = format!("{}{}", "<log>".repeat(20_000), "</log>".repeat(20_000));
    let laughs = format!(
        "<!DOCTYPE api [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>{}",
        api_around("<log><property name=\"x\" value=\"&b;\"/></log>")
    );
    for api_xml in [api_around(&deep), laughs] {
        let car = car_with_api(&api_xml, &[]);
        let started = Instant::now();
        // The zip layer holds the text; the artifact is parsed when it is deployed, under the
        // label that names the car and the entry.
        let capp = match read_capp("carbonapps/App_1.0.0.car", &car) {
            Ok(capp) => capp,
            Err(e) => panic!("the zip layer reads it: {e}"),
        };
        let artifact = &capp.artifacts[0];
        let err = parse_artifact(&artifact.label, &artifact.text).expect_err("refused");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            err.to_string()
                .contains("carbonapps/App_1.0.0.car!/H_1.0.0/H-1.0.0.xml"),
            "{err}"
        );
    }
}

#[test]
fn a_zip_inside_a_capp_is_never_unpacked() {
    // 16 MiB of zeros deflate to about 16 KiB: a bomb if anything inflated it. The CApp reader
    // opens one zip level only, so the inner archive is an opaque entry well under every limit.
    let inner = zip(&[("zeros.bin", &vec![0u8; 16 * 1024 * 1024])]);
    assert!(inner.len() < 1024 * 1024, "{}", inner.len());
    let car = car_with_api(
        &api_around(""),
        &[("H_1.0.0/bomb.zip", &inner), ("bomb.zip", &inner)],
    );
    let started = Instant::now();
    let capp = read_capp("carbonapps/App_1.0.0.car", &car).expect("the CApp loads");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(capp.artifacts.len(), 1, "{capp:?}");
}
