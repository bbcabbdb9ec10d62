//! Tests of `read_capp` with CApps built in memory, and over MI's own test CApps (the corpus).

use super::test_zip::ZipBuilder;
use super::*;

const LABEL: &str = "carbonapps/Every_1.0.0.car";

fn artifact_xml(name: &str, kind: &str, files: &[&str]) -> Vec<u8> {
    let files: String = files
        .iter()
        .map(|f| format!("\n    <file>{f}</file>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><artifact name="{name}" version="1.0.0" type="{kind}" serverRole="EnterpriseIntegrator">{files}
</artifact>"#
    )
    .into_bytes()
}

/// `artifacts.xml` of application `app` 1.0.0 depending on `(name, serverRole)` at version 1.0.0.
fn artifacts_xml(app: &str, deps: &[(&str, &str)]) -> Vec<u8> {
    let deps: String = deps
        .iter()
        .map(|(name, role)| {
            format!(
                "\n        <dependency artifact=\"{name}\" version=\"1.0.0\" include=\"true\" serverRole=\"{role}\"/>"
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><artifacts>
    <artifact name="{app}" version="1.0.0" type="carbon/application">{deps}
    </artifact>
</artifacts>"#
    )
    .into_bytes()
}

/// Adds directory `<name>_1.0.0/` with an artifact.xml of `kind` and one `<name>-1.0.0.xml`.
fn synapse(zip: &mut ZipBuilder, name: &str, kind: &str, xml: &str) {
    let dir = format!("{name}_1.0.0");
    let file = format!("{name}-1.0.0.xml");
    zip.deflated(
        &format!("{dir}/artifact.xml"),
        &artifact_xml(name, kind, &[&file]),
    );
    zip.deflated(&format!("{dir}/{file}"), xml.as_bytes());
}

/// A CApp with one artifact of `kind` named `Thing` plus a valid API.
fn one_of(kind: &str, files: &[&str]) -> Vec<u8> {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "One",
            &[
                ("Thing", "EnterpriseIntegrator"),
                ("Api", "EnterpriseIntegrator"),
            ],
        ),
    );
    zip.deflated(
        "Thing_1.0.0/artifact.xml",
        &artifact_xml("Thing", kind, files),
    );
    for file in files {
        zip.deflated(&format!("Thing_1.0.0/{file}"), b"content");
    }
    synapse(&mut zip, "Api", "synapse/api", "<api/>");
    zip.finish()
}

fn faulty_errors(result: Result<CApp, CAppError>) -> Vec<String> {
    match result {
        Err(CAppError::Faulty { errors, .. }) => errors,
        other => panic!("expected a faulty CApp, got {other:?}"),
    }
}

fn every_type_capp() -> Vec<u8> {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "Every",
            &[
                ("HelloApi", "EnterpriseServiceBus"),
                ("EchoProxy", "EnterpriseServiceBus"),
                ("InSeq", "EnterpriseServiceBus"),
                ("Backend", "EnterpriseServiceBus"),
                ("Config", "EnterpriseServiceBus"),
                ("Tpl", "EnterpriseServiceBus"),
                ("Res", "EnterpriseIntegrator"),
                ("conf", "EnterpriseIntegrator"),
                ("ForIdentityServer", "IdentityServer"),
            ],
        ),
    );
    // metadata.xml wins over artifacts.xml (MI's "new CApp format"); it also lists the metadata
    // artifacts, which are dropped from the dependencies.
    let mut metadata_xml = String::from_utf8(artifacts_xml(
        "Every",
        &[
            ("HelloApi", "EnterpriseServiceBus"),
            ("EchoProxy", "EnterpriseServiceBus"),
            ("InSeq", "EnterpriseServiceBus"),
            ("Backend", "EnterpriseServiceBus"),
            ("Config", "EnterpriseServiceBus"),
            ("Tpl", "EnterpriseServiceBus"),
            ("Res", "EnterpriseIntegrator"),
            ("conf", "EnterpriseIntegrator"),
            ("HelloApi_swagger", "EnterpriseIntegrator"),
            ("HelloApi_metadata", "EnterpriseIntegrator"),
        ],
    ))
    .unwrap();
    metadata_xml = metadata_xml.replace("<artifacts>", "<artifacts><!-- new format -->");
    zip.deflated("metadata.xml", metadata_xml.as_bytes());
    synapse(
        &mut zip,
        "HelloApi",
        "synapse/api",
        "<api name=\"HelloApi\"/>",
    );
    synapse(&mut zip, "EchoProxy", "synapse/proxy-service", "<proxy/>");
    synapse(&mut zip, "InSeq", "synapse/sequence", "<sequence/>");
    synapse(&mut zip, "Backend", "synapse/endpoint", "<endpoint/>");
    synapse(&mut zip, "Config", "synapse/local-entry", "<localEntry/>");
    synapse(&mut zip, "Tpl", "synapse/template", "<template/>");
    zip.deflated(
        "Res_1.0.0/artifact.xml",
        &artifact_xml("Res", "registry/resource", &["registry-info.xml"]),
    );
    zip.deflated(
        "Res_1.0.0/registry-info.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><resources>
    <item><file>schema.json</file><path>/_system/config/json</path><mediaType>application/json</mediaType><properties/></item>
    <collection><directory>xslt</directory><path>/_system/governance/xslt</path></collection>
</resources>"#,
    );
    zip.deflated("Res_1.0.0/resources/schema.json", b"{\"type\":\"object\"}");
    zip.dir("Res_1.0.0/resources/xslt/");
    zip.deflated("Res_1.0.0/resources/xslt/t.xslt", b"<xsl:stylesheet/>");
    zip.deflated(
        "conf_1.0.0/artifact.xml",
        &artifact_xml("conf", "config/property", &["config.properties"]),
    );
    zip.deflated("conf_1.0.0/config.properties", b"url:string\nalias:cert\n");
    zip.deflated(
        "metadata/HelloApi_swagger_1.0.0/artifact.xml",
        &artifact_xml(
            "HelloApi_swagger",
            "synapse/metadata",
            &["HelloApi_swagger-1.0.0.yaml"],
        ),
    );
    zip.deflated(
        "metadata/HelloApi_swagger_1.0.0/HelloApi_swagger-1.0.0.yaml",
        b"openapi: 3.0.1\n",
    );
    zip.deflated(
        "metadata/HelloApi_metadata_1.0.0/artifact.xml",
        &artifact_xml(
            "HelloApi_metadata",
            "synapse/metadata",
            &["HelloApi_metadata-1.0.0.yaml"],
        ),
    );
    zip.deflated(
        "metadata/HelloApi_metadata_1.0.0/HelloApi_metadata-1.0.0.yaml",
        b"key: x\n",
    );
    // A directory nobody depends on is not deployed (as in MI).
    synapse(&mut zip, "Unused", "synapse/task", "<task/>");
    zip.finish()
}

#[test]
fn capp_with_every_supported_type() {
    let capp = read_capp(LABEL, &every_type_capp()).unwrap();
    assert_eq!(capp.name, "Every");
    assert_eq!(capp.version.as_deref(), Some("1.0.0"));
    assert_eq!(capp.file_name, "Every_1.0.0.car");
    assert_eq!(capp.label, LABEL);

    // MI's deploy order: ConfigDeployer, registry, then SynapseAppDeployer's type order.
    let order: Vec<(&str, &str)> = capp
        .artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.kind_name.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("conf", "config/property"),
            ("Res", "registry/resource"),
            ("Config", "synapse/local-entry"),
            ("Backend", "synapse/endpoint"),
            ("InSeq", "synapse/sequence"),
            ("Tpl", "synapse/template"),
            ("EchoProxy", "synapse/proxy-service"),
            ("HelloApi", "synapse/api"),
        ]
    );
    let api = capp.artifacts.last().unwrap();
    assert_eq!(api.kind, CAppArtifactKind::Synapse(ArtifactKind::Api));
    assert_eq!(
        api.label,
        format!("{LABEL}!/HelloApi_1.0.0/HelloApi-1.0.0.xml")
    );
    assert_eq!(api.text, "<api name=\"HelloApi\"/>");
    assert_eq!(api.version.as_deref(), Some("1.0.0"));
    assert_eq!(capp.artifacts[0].kind, CAppArtifactKind::ConfigProperty);
    assert_eq!(capp.artifacts[0].text, "url:string\nalias:cert\n");
    assert_eq!(capp.artifacts[1].kind, CAppArtifactKind::RegistryResource);

    let registry: Vec<_> = capp
        .registry
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                r.file_name.as_str(),
                r.media_type.as_deref(),
                r.content.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        registry,
        [
            (
                "/_system/config/json",
                "schema.json",
                Some("application/json"),
                // An item is stored as MI's deployer writes it: each line ends in `\n`.
                &b"{\"type\":\"object\"}\n"[..]
            ),
            (
                "/_system/governance/xslt",
                "t.xslt",
                None,
                &b"<xsl:stylesheet/>"[..]
            ),
        ]
    );
    assert_eq!(
        capp.registry[0].label,
        format!("{LABEL}!/Res_1.0.0/resources/schema.json")
    );

    let config: Vec<_> = capp
        .config_properties
        .iter()
        .map(|p| (p.name.as_str(), p.kind))
        .collect();
    assert_eq!(
        config,
        [
            ("url", ConfigPropertyKind::String),
            ("alias", ConfigPropertyKind::Cert)
        ]
    );
    assert_eq!(
        capp.swagger,
        [("HelloApi".to_string(), "openapi: 3.0.1\n".to_string())]
    );

    // The management API's view: artifacts.xml order, full types, metadata left out.
    let app = capp.application();
    assert_eq!(app.name, "Every");
    assert_eq!(app.file_name, "Every_1.0.0.car");
    assert_eq!(app.error, None);
    let listed: Vec<(&str, &str)> = app
        .artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.short_kind()))
        .collect();
    assert_eq!(
        listed,
        [
            ("HelloApi", "api"),
            ("EchoProxy", "proxy-service"),
            ("InSeq", "sequence"),
            ("Backend", "endpoint"),
            ("Config", "local-entry"),
            ("Tpl", "template"),
            ("Res", "resource"),
            ("conf", "property"),
        ]
    );
}

#[test]
fn each_type_conflux_cannot_run_is_refused_naming_artifact_type_and_capp() {
    for (kind, file, why) in [
        ("lib/synapse/mediator", "m.jar", "Java class mediator"),
        ("synapse/lib", "c.zip", "connector"),
        ("synapse/event-source", "e.xml", "event sources"),
        ("service/axis2", "s.aar", "Axis2 service"),
        ("bundle", "lib.jar", "Java archive"),
        ("synapse/unknown", "u.xml", "valid types are synapse/api"),
    ] {
        let errors = faulty_errors(read_capp("carbonapps/One.car", &one_of(kind, &[file])));
        assert_eq!(errors.len(), 1, "{kind}: {errors:?}");
        let error = &errors[0];
        assert!(error.contains("'Thing'"), "{kind}: {error}");
        assert!(error.contains(kind), "{kind}: {error}");
        assert!(error.contains("carbonapps/One.car"), "{kind}: {error}");
        assert!(error.contains(why), "{kind}: {error}");
    }
}

#[test]
fn every_problem_of_a_capp_is_reported() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "Bad",
            &[
                ("Events", "EnterpriseServiceBus"),
                ("Missing", "EnterpriseServiceBus"),
                ("Two", "EnterpriseServiceBus"),
            ],
        ),
    );
    synapse(&mut zip, "Events", "synapse/event-source", "<eventSource/>");
    zip.deflated(
        "Two_1.0.0/artifact.xml",
        &artifact_xml("Two", "synapse/sequence", &["a.xml", "b.xml"]),
    );
    let err = read_capp("carbonapps/Bad.car", &zip.finish()).unwrap_err();
    let CAppError::Faulty {
        name,
        version,
        artifacts,
        errors,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(name.as_deref(), Some("Bad"));
    assert_eq!(version.as_deref(), Some("1.0.0"));
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("'Missing'") && errors[0].contains("not in carbonapps/Bad.car"));
    assert!(
        errors[0].starts_with("carbonapps/Bad.car!/artifacts.xml:4:"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("synapse/event-source"), "{}", errors[1]);
    assert!(
        errors[2].contains("exactly one <file>, found 2"),
        "{}",
        errors[2]
    );
    // Faulty CApps are still listed with their resolved artifacts (as MI lists them).
    let kinds: Vec<_> = artifacts.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["synapse/event-source", "synapse/sequence"]);
    let app = application_from_error("Bad.car", &err);
    assert_eq!(app.name, "Bad");
    assert_eq!(app.version.as_deref(), Some("1.0.0"));
    assert_eq!(app.artifacts.len(), 2);
    assert!(app.error.unwrap().contains("cannot be deployed"));
}

#[test]
fn missing_artifacts_xml_is_an_error() {
    let mut zip = ZipBuilder::new();
    synapse(&mut zip, "Api", "synapse/api", "<api/>");
    let err = read_capp("carbonapps/NoDesc.car", &zip.finish()).unwrap_err();
    assert!(matches!(err, CAppError::DescriptorMissing { .. }));
    assert!(
        err.to_string()
            .starts_with("artifacts.xml not found in carbonapps/NoDesc.car"),
        "{err}"
    );
    let app = application_from_error("NoDesc.car", &err);
    assert_eq!(app.name, "NoDesc");
    assert!(app.error.is_some());
}

#[test]
fn unresolved_dependency_version_mismatch_is_an_error() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml("App", &[("Api", "EnterpriseServiceBus")]),
    );
    zip.deflated(
        "Api_2.0.0/artifact.xml",
        br#"<artifact name="Api" version="2.0.0" type="synapse/api"><file>a.xml</file></artifact>"#,
    );
    zip.deflated("Api_2.0.0/a.xml", b"<api/>");
    let errors = faulty_errors(read_capp("carbonapps/App.car", &zip.finish()));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("dependency 'Api' version 1.0.0 is not in carbonapps/App.car"),
        "{}",
        errors[0]
    );
}

#[test]
fn nested_artifact_dependencies_must_resolve() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml("App", &[("Api", "EnterpriseServiceBus")]),
    );
    zip.deflated(
        "Api_1.0.0/artifact.xml",
        br#"<artifact name="Api" version="1.0.0" type="synapse/api"><file>a.xml</file>
            <dependency artifact="Helper" version="1.0.0"/></artifact>"#,
    );
    zip.deflated("Api_1.0.0/a.xml", b"<api/>");
    let errors = faulty_errors(read_capp("carbonapps/App.car", &zip.finish()));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("'Helper'"), "{}", errors[0]);
    assert!(errors[0].starts_with("carbonapps/App.car!/Api_1.0.0/artifact.xml:2:"));
}

#[test]
fn two_files_in_a_synapse_artifact_are_refused() {
    let errors = faulty_errors(read_capp(
        "carbonapps/One.car",
        &one_of("synapse/sequence", &["a.xml", "b.xml"]),
    ));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("exactly one <file>, found 2"),
        "{}",
        errors[0]
    );
}

#[test]
fn missing_or_non_utf8_artifact_file_is_an_error() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "App",
            &[("A", "EnterpriseServiceBus"), ("B", "EnterpriseServiceBus")],
        ),
    );
    zip.deflated(
        "A_1.0.0/artifact.xml",
        &artifact_xml("A", "synapse/api", &["a.xml"]),
    );
    zip.deflated(
        "B_1.0.0/artifact.xml",
        &artifact_xml("B", "synapse/api", &["b.xml"]),
    );
    zip.deflated("B_1.0.0/b.xml", b"<api>\xff</api>");
    let errors = faulty_errors(read_capp("carbonapps/App.car", &zip.finish()));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("A_1.0.0/a.xml") && errors[0].contains("not found"));
    assert!(errors[1].contains("B_1.0.0/b.xml") && errors[1].contains("not UTF-8"));
}

#[test]
fn dependencies_for_other_server_roles_are_dropped_and_none_left_is_nothing_to_deploy() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "Other",
            &[("Api", "IdentityServer"), ("Gadget", "DashboardServer")],
        ),
    );
    let err = read_capp("carbonapps/Other.car", &zip.finish()).unwrap_err();
    assert!(
        matches!(&err, CAppError::NothingToDeploy { name, .. } if name == "Other"),
        "{err:?}"
    );
    assert!(err.to_string().contains("carbonapps/Other.car"));
}

#[test]
fn missing_server_role_is_kept_and_missing_name_falls_back_to_file_name() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        br#"<artifacts><artifact type="carbon/application">
            <dependency artifact="Api" version="1.0.0"/></artifact></artifacts>"#,
    );
    synapse(&mut zip, "Api", "synapse/api", "<api/>");
    let capp = read_capp("carbonapps/Nameless_2.0.car", &zip.finish()).unwrap();
    assert_eq!(capp.name, "Nameless_2.0");
    assert_eq!(capp.version, None);
    assert_eq!(capp.artifacts.len(), 1);
}

#[test]
fn malformed_artifacts_xml_is_a_located_error() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        b"<artifacts>\n  <artifact name=\"x\"\n</artifacts>",
    );
    let err = read_capp("carbonapps/X.car", &zip.finish()).unwrap_err();
    let errors = match &err {
        CAppError::Faulty {
            name: None, errors, ..
        } => errors,
        other => panic!("{other:?}"),
    };
    assert!(
        errors[0].contains("carbonapps/X.car!/artifacts.xml:3:"),
        "{errors:?}"
    );
    assert_eq!(application_from_error("X.car", &err).name, "X");
}

#[test]
fn zip_level_failures_surface_from_read_capp() {
    let err = read_capp("carbonapps/C.car", b"PK\x03\x04 truncated").unwrap_err();
    assert!(matches!(err, CAppError::Corrupt { .. }), "{err:?}");
    let mut zip = ZipBuilder::new();
    zip.stored("../artifacts.xml", b"<artifacts/>");
    let err = read_capp("carbonapps/S.car", &zip.finish()).unwrap_err();
    assert!(
        matches!(&err, CAppError::UnsafeEntryName { entry, .. } if entry == "../artifacts.xml"),
        "{err:?}"
    );
}

#[test]
fn invalid_config_properties_and_registry_info_make_the_capp_faulty() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "App",
            &[
                ("conf", "EnterpriseIntegrator"),
                ("Res", "EnterpriseIntegrator"),
            ],
        ),
    );
    zip.deflated(
        "conf_1.0.0/artifact.xml",
        &artifact_xml("conf", "config/property", &["config.properties"]),
    );
    zip.deflated("conf_1.0.0/config.properties", b"url:number\n");
    zip.deflated(
        "Res_1.0.0/artifact.xml",
        &artifact_xml("Res", "registry/resource", &["registry-info.xml"]),
    );
    zip.deflated(
        "Res_1.0.0/registry-info.xml",
        b"<resources><item><file>gone.txt</file><path>/_system/config</path></item></resources>",
    );
    let errors = faulty_errors(read_capp("carbonapps/App.car", &zip.finish()));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("conf_1.0.0/config.properties:1") && errors[0].contains("'number'"));
    assert!(errors[1].contains("gone.txt"), "{}", errors[1]);
}

/// MI's own test CApps (`shared/corpus/car`), each with the outcome Conflux must give.
#[test]
fn mi_corpus_cars() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/car");
    let Ok(listing) = std::fs::read_dir(&dir) else {
        println!("skipped: no CApp corpus at {}", dir.display());
        return;
    };
    enum Expect {
        /// Reads: (artifacts, registry files, config properties, swagger definitions).
        Ok(usize, usize, usize, usize),
    }
    let expectations: &[(&str, Expect)] = &[
        (
            "1_3_1_synapse-configCompositeApplication_1.0.0.car",
            Expect::Ok(4, 0, 0, 0),
        ),
        // A VFS proxy is still a synapse/proxy-service: reading succeeds.
        (
            "CappDeactivateAndRestartTest_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
        // A data service and its datasource: read here; the server checks them (H2 is refused
        // there, naming the URL).
        ("CarbonDataSourceTestCase.car", Expect::Ok(2, 0, 0, 0)),
        (
            "CustomSwaggerCompositeExporter_1.0.0.car",
            Expect::Ok(4, 2, 0, 0),
        ),
        ("DemoProxy-1.0.0.car", Expect::Ok(1, 0, 0, 0)),
        // 3217 bytes precede the zip; the zip reader finds it anyway.
        ("ESBCApp-3.2.2.car", Expect::Ok(3, 0, 0, 0)),
        ("ESBproject3-1.0.0.car", Expect::Ok(1, 0, 0, 0)),
        (
            "SecurityPolicyWSDLBindingCapp_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
        (
            "car-deployment-before-tranaport-start-test_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
        ("car-deployment-test.car", Expect::Ok(1, 0, 0, 0)),
        (
            "hello-worldCompositeApplication_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
        ("inactive_proxy_1.0.0.car", Expect::Ok(1, 0, 0, 0)),
        // Its API XML is malformed: reading succeeds, the deployer's parse fails.
        (
            "invalidCompositeApplication_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
        (
            "scenario_5_1_1_CompositeApplication_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
        // metadata.xml + metadata/ swagger for its two APIs + config/property.
        ("testConfiguration_1.0.0.car", Expect::Ok(7, 0, 4, 2)),
        (
            "validCompositeApplication_1.0.0.car",
            Expect::Ok(1, 0, 0, 0),
        ),
    ];
    let mut seen = Vec::new();
    for entry in listing {
        let path = entry.expect("corpus entry").path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if !file.ends_with(".car") {
            continue;
        }
        let (_, expect) = expectations
            .iter()
            .find(|(name, _)| *name == file)
            .unwrap_or_else(|| panic!("no expectation for corpus CApp {file}"));
        let bytes = std::fs::read(&path).expect("read corpus CApp");
        let label = format!("carbonapps/{file}");
        let result = read_capp(&label, &bytes);
        match (expect, result) {
            (Expect::Ok(artifacts, registry, config, swagger), Ok(capp)) => {
                assert_eq!(capp.artifacts.len(), *artifacts, "{file}");
                assert_eq!(capp.registry.len(), *registry, "{file}");
                assert_eq!(capp.config_properties.len(), *config, "{file}");
                assert_eq!(capp.swagger.len(), *swagger, "{file}");
                for artifact in &capp.artifacts {
                    assert!(artifact.label.starts_with(&format!("{label}!/")));
                    assert!(!artifact.text.is_empty(), "{}", artifact.label);
                }
                if file == "testConfiguration_1.0.0.car" {
                    let apis: Vec<&str> = capp.swagger.iter().map(|(a, _)| a.as_str()).collect();
                    assert_eq!(apis, ["endpoint", "getdata"]);
                    assert!(capp.swagger[1].1.starts_with("openapi: 3.0.1"));
                    let names: Vec<&str> = capp
                        .config_properties
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect();
                    assert_eq!(names, ["url", "common_url", "url_value", "endpoint_url"]);
                }
                if file == "CustomSwaggerCompositeExporter_1.0.0.car" {
                    assert!(
                        capp.registry
                            .iter()
                            .all(|r| r.path == "/_system/governance/custom"
                                && r.media_type.as_deref() == Some("application/json"))
                    );
                }
            }
            (_, other) => panic!("{file}: unexpected {other:?}"),
        }
        seen.push(file.to_string());
    }
    assert_eq!(seen.len(), expectations.len(), "corpus files: {seen:?}");
}

// MI `DataServiceCappDeployer` (`service/dataservice`) and `DataSourceCappDeployer`
// (`datasource/datasource`): both are read with their file's text; data sources come before the
// data services that name them.
#[test]
fn data_services_and_data_sources_are_read_data_sources_first() {
    let mut zip = ZipBuilder::new();
    zip.deflated(
        "artifacts.xml",
        &artifacts_xml(
            "Data",
            &[
                ("Svc", "DataServicesServer"),
                ("Ds", "DataServicesServer"),
                ("Api", "EnterpriseIntegrator"),
            ],
        ),
    );
    zip.deflated(
        "Svc_1.0.0/artifact.xml",
        &artifact_xml("Svc", "service/dataservice", &["Svc-1.0.0.dbs"]),
    );
    zip.deflated("Svc_1.0.0/Svc-1.0.0.dbs", b"<data name=\"Svc\"/>");
    zip.deflated(
        "Ds_1.0.0/artifact.xml",
        &artifact_xml("Ds", "datasource/datasource", &["Ds-1.0.0.xml"]),
    );
    zip.deflated("Ds_1.0.0/Ds-1.0.0.xml", b"<datasource/>");
    synapse(&mut zip, "Api", "synapse/api", "<api/>");
    let capp = read_capp("carbonapps/Data.car", &zip.finish()).unwrap();
    let kinds: Vec<(&str, CAppArtifactKind)> = capp
        .artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Api", CAppArtifactKind::Synapse(ArtifactKind::Api)),
            ("Ds", CAppArtifactKind::DataSource),
            ("Svc", CAppArtifactKind::DataService),
        ]
    );
    assert_eq!(capp.artifacts[2].text, "<data name=\"Svc\"/>");
    assert_eq!(
        capp.artifacts[2].label,
        "carbonapps/Data.car!/Svc_1.0.0/Svc-1.0.0.dbs"
    );
}
