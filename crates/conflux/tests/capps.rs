//! Carbon applications (`carbonapps/*.car`) end to end through the real binary: MI's own test
//! CApps (`../shared/corpus/car/`) deployed at start-up and serving real requests; CApps built here
//! covering every artifact type MI's tooling writes (Synapse artifacts, `registry/resource` used
//! through `conf:`/`gov:` keys, `config/property` with `$config:`/`${configs.}`, `$SYSTEM:`,
//! `$FILE:`, swagger metadata) and the types Conflux refuses; bad input (corrupt zip, zip-slip,
//! zip bomb, no `artifacts.xml`, unknown type, missing artifact, duplicate names) reported in the
//! log, on `/healthz` and in `/management/applications` while the rest keeps serving; deploy order
//! by reference; `conflux check FILE.car`; `--project` for VS Code and Integration Studio
//! projects.
//!
//! MI sources (facts in /tmp/mi-capp-facts.md): `CappDeployer.java` (whole-or-nothing, faulty
//! list), `FileRegistryResourceDeployer.java` and `MicroIntegratorRegistry.java` (registry keys),
//! `ConfigDeployer.java` (config properties), `CarbonAppResource.java` (`/applications`).

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::backend::*;
use support::capp::*;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";

fn backend() -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: r#"{"backend": "reached"}"#.into(),
    })
}

fn json_of(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", r.status, r.text()))
}

/// The paths the backend was called on, in order.
fn backend_paths(backend: &Backend) -> Vec<String> {
    backend
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect()
}

fn post_xml(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "text/xml"), ("SOAPAction", "urn:getQuote")],
        body.as_bytes(),
    )
}

const SOAP_REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>WSO2</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>"#;

/// The Management API's names of the deployed artifacts of one kind (`apis`, `endpoints`, ...).
fn deployed_names(management: &Management, resource: &str) -> Vec<String> {
    management.get_json(resource)["list"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|a| a["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 1. MI's own test CApps.
// ---------------------------------------------------------------------------------------------

/// What a corpus CApp does when deployed on Conflux.
enum Outcome {
    /// Deploys whole.
    Active,
    /// Faulty; the error names all of these (artifact file, feature).
    Faulty(&'static [&'static str]),
}

/// Every corpus CApp: file, MI application name (`artifacts.xml`), outcome on Conflux.
const CORPUS: &[(&str, &str, Outcome)] = &[
    (
        "1_3_1_synapse-configCompositeApplication_1.0.0.car",
        "1_3_1_synapse-configCompositeApplication",
        // JSON to SOAP through the XSLT mediator (crates/conflux/tests/xslt.rs runs the same
        // flow against a local backend).
        Outcome::Active,
    ),
    (
        "CappDeactivateAndRestartTest_1.0.0.car",
        "CappDeactivateAndRestartTest",
        // A VFS (file polling) proxy: only http and https transports are served.
        Outcome::Faulty(&["VFSTestProxy-1.0.0.xml:", "vfs"]),
    ),
    (
        "CarbonDataSourceTestCase.car",
        "testCompositeApplication",
        // A data service and its Carbon datasource, on H2 (not supported: the URL is named).
        Outcome::Faulty(&[
            "testdbforDSSDataSource",
            "jdbc:h2:file:./../../h2DataBase/testdb_for_DSS",
            "datasource-1.0.0.xml:8:9",
        ]),
    ),
    (
        "CustomSwaggerCompositeExporter_1.0.0.car",
        "CustomSwaggerCompositeExporter",
        Outcome::Active,
    ),
    ("DemoProxy-1.0.0.car", "DemoProxy", Outcome::Active),
    (
        "ESBCApp-3.2.2.car",
        "ESBCApp",
        // Its endpoint has the ESB 3.x `<timeout><action>`, which SYN `EndpointDefinitionFactory`
        // ignores (it reads `responseAction`).
        Outcome::Active,
    ),
    ("ESBproject3-1.0.0.car", "ESBproject3", Outcome::Active),
    (
        "SecurityPolicyWSDLBindingCapp_1.0.0.car",
        "SecurityPolicyWSDLBindingCapp",
        // WS-Security policies.
        Outcome::Faulty(&["SecpolicyCappTest-1.0.0.xml:", "policy"]),
    ),
    (
        "car-deployment-before-tranaport-start-test_1.0.0.car",
        "car-deployment-before-tranaport-start-test",
        // `<address uri="http://"/>` deploys (MI fails only when a message is sent to it).
        Outcome::Active,
    ),
    (
        "car-deployment-test.car",
        "car-deployment-test",
        Outcome::Active,
    ),
    (
        "hello-worldCompositeApplication_1.0.0.car",
        "hello-worldCompositeApplication",
        Outcome::Active,
    ),
    (
        "inactive_proxy_1.0.0.car",
        "inactive_proxy_car",
        Outcome::Active,
    ),
    (
        "invalidCompositeApplication_1.0.0.car",
        "testSwaggerCompositeApplication",
        // Its API is not well-formed XML (MI's test expects it faulty too).
        Outcome::Faulty(&["testCapp-1.0.0.xml:"]),
    ),
    (
        "scenario_5_1_1_CompositeApplication_1.0.0.car",
        "scenario_5_1_1_CompositeApplication",
        Outcome::Active,
    ),
    (
        "testConfiguration_1.0.0.car",
        "testConfiguration",
        Outcome::Active,
    ),
    (
        "validCompositeApplication_1.0.0.car",
        "validCompositeApplication",
        Outcome::Active,
    ),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/car")
}

/// The fixed backend addresses the corpus CApps call, rewritten to `backend` (the conformance
/// runner does the same for loose artifacts).
fn corpus_rewrites(backend: &str) -> Vec<(&'static str, String)> {
    [
        "http://localhost:9000",
        "http://localhost:9764",
        "http://appserver.stratoslive.wso2.com",
        "http://ei-backend.scenarios.wso2.org:8080",
    ]
    .into_iter()
    .map(|from| (from, backend.to_string()))
    .collect()
}

#[test]
fn every_corpus_capp_deploys_or_is_faulty_as_expected_and_serves_real_requests() {
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        eprintln!("skipping: the corpus {} is absent", corpus.display());
        return;
    }
    let backend = Backend::start(Behaviour::Echo);
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    // $config: values of testConfiguration: one from the environment, one from -D, one from
    // conf/file.properties (MI ConfigDeployer: env, then system property, then file.properties).
    home.write(
        "conf/file.properties",
        &format!("url_value={}/config/url_value\n", backend.url()),
    );
    let carbonapps = carbonapps(home.path());
    std::fs::create_dir_all(&carbonapps).unwrap();
    let rewrites = corpus_rewrites(&backend.url());
    let rewrites: Vec<(&str, &str)> = rewrites.iter().map(|(f, t)| (*f, t.as_str())).collect();
    let mut present = Vec::new();
    for entry in std::fs::read_dir(&corpus).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".car") {
            continue;
        }
        assert!(
            CORPUS.iter().any(|(file, _, _)| *file == name),
            "{name} is new in the corpus: add its expected outcome to CORPUS"
        );
        let bytes = std::fs::read(entry.path()).unwrap();
        std::fs::write(carbonapps.join(&name), rewrite_car(&bytes, &rewrites)).unwrap();
        present.push(name);
    }
    let env_url = format!("{}/config/url", backend.url());
    let sys_url = format!("{}/config/endpoint_url", backend.url());
    let common = format!("-Dcommon_url={}/config/common_url", backend.url());
    let server = start_with_env(
        home.path(),
        &[&common],
        &[("url", &env_url), ("endpoint_url", &sys_url)],
    );
    let http = server.port(HTTP);
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let apps = management.applications();
    let health = get(server.port(INTERNAL_HTTP), "/healthz");
    let log = server.output();

    for (file, app, outcome) in CORPUS {
        if !present.iter().any(|p| p == file) {
            continue;
        }
        match outcome {
            Outcome::Active => assert!(
                apps.active().iter().any(|a| a == app),
                "{file}: {app} is not active: {}\n{log}",
                apps.0
            ),
            Outcome::Faulty(needles) => {
                let error = apps
                    .error_of(app)
                    .unwrap_or_else(|| panic!("{file}: {app} is not faulty: {}", apps.0));
                assert!(
                    error.contains(file),
                    "{file}: the error names no CApp: {error}"
                );
                for needle in *needles {
                    assert!(error.contains(needle), "{file}: {needle:?} not in {error}");
                    assert!(
                        health.text().contains(needle),
                        "{file}: {needle:?} not on /healthz"
                    );
                }
                assert!(log.contains(file), "{file} is not in the log");
            }
        }
    }
    assert_eq!(health.status, 500, "{}", health.text());

    // hello-world: payloadFactory + respond.
    if present.iter().any(|p| p.starts_with("hello-world")) {
        let r = get(http, "/hello-world");
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(json_of(&r), json!({"Hello": "World"}));
        let app = apps.active_app("hello-worldCompositeApplication").unwrap();
        assert_eq!(
            artifact_list(&app),
            [("hello-world".to_string(), "api".to_string())]
        );
        assert_eq!(app["version"], "1.0.0");
    }
    // validCompositeApplication: log + respond echoes the (empty) request.
    if present.iter().any(|p| p.starts_with("validComposite")) {
        let r = get(http, "/test");
        assert_eq!(r.status, 200, "{r:?}");
        assert!(
            server
                .output_with(&["test API invoked"])
                .contains("test API invoked")
        );
    }
    // testConfiguration: `$config:` endpoints, each value from its source, called for real.
    if present.iter().any(|p| p.starts_with("testConfiguration")) {
        let r = get(http, "/endpoint/file/file");
        assert_eq!(json_of(&r), json!({"msg": "file"}));
        for (resource, expected_path) in [
            ("/getdata/file", "/config/url/file"),
            ("/getdata/env", "/config/url_value/env"),
            ("/getdata/sys", "/config/endpoint_url/sys"),
            ("/getdata/common", "/config/common_url/common"),
        ] {
            let r = get(http, resource);
            assert_eq!(r.status, 200, "{resource}: {r:?}");
            assert_eq!(
                backend_paths(&backend).last().map(String::as_str),
                Some(expected_path),
                "{resource}"
            );
        }
        // The metadata artifacts are left out of the listing, as MI does.
        let app = apps.active_app("testConfiguration").unwrap();
        let listed = artifact_list(&app);
        assert!(
            listed.contains(&("config".to_string(), "property".to_string())),
            "{listed:?}"
        );
        assert!(
            !listed
                .iter()
                .any(|(n, _)| n.contains("_swagger") || n.contains("_metadata"))
        );
        assert_eq!(listed.len(), 7, "{listed:?}");
    }
    // DemoProxy: a proxy that sends to its (rewritten) address and passes the answer back.
    if present.iter().any(|p| p.starts_with("DemoProxy")) {
        let r = post_xml(http, "/services/DemoProxy2", SOAP_REQUEST);
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.text().contains("WSO2"), "{}", r.text());
        assert_eq!(
            backend_paths(&backend).last().map(String::as_str),
            Some("/services/t/wso2manualQA0002.org/Axis2Service/")
        );
    }
    // ESBCApp: proxy -> named inSequence (in/out mediators) -> named endpoint, and back.
    if present.iter().any(|p| p.starts_with("ESBCApp")) {
        let r = post_xml(http, "/services/CSproxyService", SOAP_REQUEST);
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.text().contains("WSO2"), "{}", r.text());
        assert_eq!(
            backend_paths(&backend).last().map(String::as_str),
            Some("/services/Axis2Service")
        );
    }
    // car-deployment-before-tranaport-start-test: the proxy dispatches; its endpoint has no
    // host, so the send fails into a fault answer.
    if present
        .iter()
        .any(|p| p.starts_with("car-deployment-before"))
    {
        let calls = backend.requests().len();
        let r = post_xml(http, "/services/car_test", SOAP_REQUEST);
        assert!(r.status >= 500, "{r:?}");
        assert_eq!(backend.requests().len(), calls);
    }
    // inactive_proxy: startOnLoad="false" takes no messages until an operator starts it.
    if present.iter().any(|p| p.starts_with("inactive_proxy")) {
        // MI: Axis2's inactive-service SOAP fault with status 500.
        let stopped = post_xml(http, "/services/InactiveProxy", SOAP_REQUEST);
        assert_eq!(stopped.status, 500);
        assert!(
            stopped
                .text()
                .contains("attempting to access an inactive service: InactiveProxy"),
            "{stopped:?}"
        );
        let r = management.call(
            "POST",
            "proxy-services",
            &[("Content-Type", "application/json".into())],
            json!({"name": "InactiveProxy", "status": "active"})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let r = post_xml(http, "/services/InactiveProxy", SOAP_REQUEST);
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(
            backend_paths(&backend).last().map(String::as_str),
            Some("/services/SimpleStockQuoteService")
        );
    }
    // Artifacts that serve no HTTP are deployed: listed by the Management API.
    if present.iter().any(|p| p.starts_with("car-deployment-test")) {
        assert!(deployed_names(&management, "sequences").contains(&"MySequenceDomain".into()));
    }
    if present.iter().any(|p| p.starts_with("scenario_5_1_1")) {
        assert!(deployed_names(&management, "endpoints").contains(&"RouetMessageAPI".into()));
    }
    if present.iter().any(|p| p.starts_with("ESBproject3")) {
        assert!(deployed_names(&management, "local-entries").contains(&"localEntry1".into()));
    }
    if present.iter().any(|p| p.starts_with("CustomSwagger")) {
        let apis = deployed_names(&management, "apis");
        assert!(apis.contains(&"CustomSwagger".into()), "{apis:?}");
        assert!(apis.contains(&"CustomSwaggerRus".into()), "{apis:?}");
        let app = apps.active_app("CustomSwaggerCompositeExporter").unwrap();
        assert!(
            artifact_list(&app).contains(&("swagger_rus_json".to_string(), "resource".to_string()))
        );
    }
    // The XSLT CApp deploys whole: its API, its endpoint and the stylesheets' local entries.
    if present.iter().any(|p| p.starts_with("1_3_1")) {
        assert!(deployed_names(&management, "endpoints").contains(&"SOAP_EP".into()));
        assert!(
            deployed_names(&management, "apis")
                .contains(&"1_3_1_API_json_to_soap_using_xslt".into())
        );
        let entries = deployed_names(&management, "local-entries");
        assert!(
            entries.contains(&"in_transform".into()) && entries.contains(&"out_transform".into()),
            "{entries:?}"
        );
    }
    // Nothing of a faulty CApp is deployed, not even its valid artifacts (whole or nothing).
    if present.iter().any(|p| p.starts_with("invalidComposite")) {
        assert_eq!(get(http, "/capp").status, 404);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Every artifact type, in CApps built here.
// ---------------------------------------------------------------------------------------------

fn synapse_capp(backend: &str) -> CAppBuilder {
    CAppBuilder::new("SynapseTypes")
        .endpoint(
            "SynEp",
            &format!(r#"<endpoint xmlns="{NS}" name="SynEp"><address uri="{backend}/syn"/></endpoint>"#),
        )
        .sequence(
            "SynTag",
            &format!(
                r#"<sequence xmlns="{NS}" name="SynTag"><header name="X-Syn" scope="transport" value="tagged"/></sequence>"#
            ),
        )
        .local_entry(
            "SynFormat",
            &format!(r#"<localEntry xmlns="{NS}" key="SynFormat">{{"entry": "$1"}}</localEntry>"#),
        )
        .template(
            "SynGreet",
            &format!(
                r#"<template xmlns="{NS}" name="SynGreet"><parameter name="who"/><sequence>
    <payloadFactory media-type="json"><format>{{"greet": "$1"}}</format><args><arg evaluator="xml" expression="$func:who"/></args></payloadFactory>
</sequence></template>"#
            ),
        )
        .api(
            "SynApi",
            &format!(
                r#"<api xmlns="{NS}" name="SynApi" context="/syn">
    <resource methods="GET" uri-template="/local"><inSequence>
        <payloadFactory media-type="json"><format key="SynFormat"/><args><arg value="local"/></args></payloadFactory>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/template"><inSequence>
        <call-template target="SynGreet"><with-param name="who" value="capp"/></call-template>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/backend"><inSequence>
        <sequence key="SynTag"/>
        <call><endpoint key="SynEp"/></call>
        <respond/>
    </inSequence></resource>
</api>"#
            ),
        )
        .proxy(
            "SynProxy",
            &format!(
                r#"<proxy xmlns="{NS}" name="SynProxy" transports="http https" startOnLoad="true"><target><inSequence>
    <payloadFactory media-type="json"><format>{{"proxy": "SynProxy"}}</format><args/></payloadFactory>
    <respond/>
</inSequence></target></proxy>"#
            ),
        )
}

fn registry_capp(backend: &str) -> CAppBuilder {
    CAppBuilder::new("RegistryTypes")
        .registry(
            "RegistryResources",
            &[
                RegistryItem::new(
                    "/_system/config/endpoints",
                    "RegEp.xml",
                    "application/xml",
                    &format!(
                        r#"<endpoint xmlns="{NS}" name="RegEp"><address uri="{backend}/reg-ep"/></endpoint>"#
                    ),
                ),
                RegistryItem::new(
                    "/_system/governance/sequences",
                    "RegSeq.xml",
                    "application/xml",
                    &format!(
                        r#"<sequence xmlns="{NS}" name="RegSeq"><payloadFactory media-type="json"><format>{{"from": "gov sequence"}}</format><args/></payloadFactory></sequence>"#
                    ),
                ),
                RegistryItem::new(
                    "/_system/config/formats",
                    "hello.json",
                    "application/json",
                    r#"{"format": "$1"}"#,
                ),
                RegistryItem::new("/_system/config/props", "data.txt", "text/plain", "data")
                    .property("owner", "conflux-team"),
            ],
        )
        .api(
            "RegApi",
            &format!(
                r#"<api xmlns="{NS}" name="RegApi" context="/reg">
    <resource methods="GET" uri-template="/endpoint"><inSequence>
        <call><endpoint key="conf:/endpoints/RegEp.xml"/></call>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/sequence"><inSequence>
        <sequence key="gov:/sequences/RegSeq.xml"/>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/format"><inSequence>
        <payloadFactory media-type="json"><format key="conf:/formats/hello.json"/><args><arg value="from registry"/></args></payloadFactory>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/property"><inSequence>
        <payloadFactory media-type="json"><format>{{"owner": "$1", "text": "$2"}}</format><args>
            <arg evaluator="xml" expression="get-property('registry', 'conf:/props/data.txt@owner')"/>
            <arg evaluator="xml" expression="get-property('registry', 'conf:/props/data.txt')"/>
        </args></payloadFactory>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/home"><inSequence>
        <payloadFactory media-type="json"><format>{{"note": "$1"}}</format><args>
            <arg evaluator="xml" expression="get-property('registry', 'gov:/home/note.txt')"/>
        </args></payloadFactory>
        <respond/>
    </inSequence></resource>
</api>"#
            ),
        )
}

/// `config/property` declarations and every injected-value form in endpoint URIs.
fn config_capp() -> CAppBuilder {
    let endpoint = |name: &str, uri: &str| {
        format!(r#"<endpoint xmlns="{NS}" name="{name}"><address uri="{uri}"/></endpoint>"#)
    };
    let call = |uri: &str, ep: &str| {
        format!(
            r#"<resource methods="GET" uri-template="{uri}"><inSequence><call><endpoint key="{ep}"/></call><respond/></inSequence></resource>"#
        )
    };
    CAppBuilder::new("ConfigTypes")
        .config_properties(
            "ConfigDeclarations",
            "cfg_env_url:string\ncfg_prop_url:string\ncfg_file_url:string\n",
        )
        .endpoint("CfgEnvEp", &endpoint("CfgEnvEp", "$config:cfg_env_url"))
        .endpoint(
            "CfgPropEp",
            &endpoint("CfgPropEp", "${configs.cfg_prop_url}"),
        )
        .endpoint("CfgFileEp", &endpoint("CfgFileEp", "$config:cfg_file_url"))
        .endpoint("FileEp", &endpoint("FileEp", "$FILE:file_url"))
        .endpoint("SysEp", &endpoint("SysEp", "$SYSTEM:CONFLUX_TEST_SYS_URL"))
        .api(
            "CfgApi",
            &format!(
                r#"<api xmlns="{NS}" name="CfgApi" context="/cfg">{}{}{}{}{}</api>"#,
                call("/env", "CfgEnvEp"),
                call("/prop", "CfgPropEp"),
                call("/cfgfile", "CfgFileEp"),
                call("/file", "FileEp"),
                call("/sys", "SysEp"),
            ),
        )
}

fn swagger_capp() -> CAppBuilder {
    CAppBuilder::new("SwaggerTypes")
        .api(
            "PetsApi",
            &format!(
                r#"<api xmlns="{NS}" name="PetsApi" context="/pets"><resource methods="GET"><inSequence>
    <payloadFactory media-type="json"><format>{{"pets": []}}</format><args/></payloadFactory>
    <respond/>
</inSequence></resource></api>"#
            ),
        )
        .swagger(
            "PetsApi",
            "openapi: 3.0.1\ninfo:\n  title: PetsApi\n  version: 1.0.0\npaths:\n  /:\n    get:\n      responses:\n        '200':\n          description: the pets\n",
        )
}

/// An API of a CApp that must not deploy, so that "nothing of it deployed" can be checked.
fn marker_api(name: &str, context: &str) -> String {
    format!(
        r#"<api xmlns="{NS}" name="{name}" context="{context}"><resource methods="GET"><inSequence>
    <payloadFactory media-type="json"><format>{{"deployed": "{name}"}}</format><args/></payloadFactory>
    <respond/>
</inSequence></resource></api>"#
    )
}

/// CApps holding a type Conflux cannot run: (builder, refused artifact name, its API's context).
fn refused_capps() -> Vec<(CAppBuilder, &'static str, &'static str)> {
    vec![
        (
            CAppBuilder::new("ClassMediatorCApp")
                .artifact(
                    "UpperCaseMediator",
                    "lib/synapse/mediator",
                    "UpperCaseMediator-1.0.0.jar",
                    b"PK\x03\x04 a Java archive",
                )
                .api(
                    "ClassMediatorApi",
                    &marker_api("ClassMediatorApi", "/classmed"),
                ),
            "UpperCaseMediator",
            "/classmed",
        ),
        (
            CAppBuilder::new("DataServiceCApp")
                .artifact(
                    "CustomersService",
                    "service/dataservice",
                    "CustomersService-1.0.0.dbs",
                    br#"<data name="CustomersService"><config id="db"/></data>"#,
                )
                .api("DataServiceApi", &marker_api("DataServiceApi", "/dss")),
            "CustomersService",
            "/dss",
        ),
    ]
}

#[test]
fn capps_built_here_cover_every_artifact_type_and_refused_types_fault_the_whole_capp() {
    let backend = backend();
    let url = backend.url();
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let carbonapps = carbonapps(home.path());
    synapse_capp(&url).write_into(&carbonapps);
    registry_capp(&url).write_into(&carbonapps);
    config_capp().write_into(&carbonapps);
    swagger_capp().write_into(&carbonapps);
    let refused = refused_capps();
    for (capp, _, _) in &refused {
        capp.write_into(&carbonapps);
    }
    // A plain file in the home's registry (MI registry/governance = gov:).
    home.write(
        "registry/governance/home/note.txt",
        "from the home registry",
    );
    home.write(
        "conf/file.properties",
        &format!("cfg_file_url={url}/cfg-file\nfile_url={url}/file\n"),
    );
    let env_url = format!("{url}/cfg-env");
    let sys_url = format!("{url}/sys");
    let prop = format!("-Dcfg_prop_url={url}/cfg-prop");
    let server = start_with_env(
        home.path(),
        &[&prop],
        &[
            ("cfg_env_url", &env_url),
            ("CONFLUX_TEST_SYS_URL", &sys_url),
        ],
    );
    let http = server.port(HTTP);
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let apps = management.applications();
    for name in [
        "SynapseTypes",
        "RegistryTypes",
        "ConfigTypes",
        "SwaggerTypes",
    ] {
        assert!(
            apps.active().contains(&name.to_string()),
            "{name} is not active: {}\n{}",
            apps.0,
            server.output()
        );
    }

    // Synapse types: API, proxy, sequence, endpoint, local entry, template.
    let listed = artifact_list(&apps.active_app("SynapseTypes").unwrap());
    let expected: Vec<(String, String)> = [
        ("SynEp", "endpoint"),
        ("SynTag", "sequence"),
        ("SynFormat", "local-entry"),
        ("SynGreet", "template"),
        ("SynApi", "api"),
        ("SynProxy", "proxy-service"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    assert_eq!(listed, expected);
    assert_eq!(json_of(&get(http, "/syn/local")), json!({"entry": "local"}));
    assert_eq!(
        json_of(&get(http, "/syn/template")),
        json!({"greet": "capp"})
    );
    let r = get(http, "/syn/backend");
    assert_eq!(json_of(&r), json!({"backend": "reached"}));
    let last = backend.requests().pop().expect("a backend request");
    assert_eq!(last.path_and_query, "/syn/backend");
    assert_eq!(last.header("X-Syn"), Some("tagged"));
    let r = post_xml(http, "/services/SynProxy", "<ping/>");
    assert_eq!(json_of(&r), json!({"proxy": "SynProxy"}));

    // Registry resources used through conf:/gov: keys, and a plain file of the home registry.
    let listed = artifact_list(&apps.active_app("RegistryTypes").unwrap());
    assert!(
        listed.contains(&("RegistryResources".into(), "resource".into())),
        "{listed:?}"
    );
    let r = get(http, "/reg/endpoint");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        backend_paths(&backend).last().map(String::as_str),
        Some("/reg-ep/endpoint")
    );
    assert_eq!(
        json_of(&get(http, "/reg/sequence")),
        json!({"from": "gov sequence"})
    );
    assert_eq!(
        json_of(&get(http, "/reg/format")),
        json!({"format": "from registry"})
    );
    assert_eq!(
        json_of(&get(http, "/reg/property")),
        json!({"owner": "conflux-team", "text": "data"})
    );
    assert_eq!(
        json_of(&get(http, "/reg/home")),
        json!({"note": "from the home registry"})
    );

    // Config properties and injected values, each from its source.
    let listed = artifact_list(&apps.active_app("ConfigTypes").unwrap());
    assert!(
        listed.contains(&("ConfigDeclarations".into(), "property".into())),
        "{listed:?}"
    );
    for (resource, path) in [
        ("/cfg/env", "/cfg-env/env"),
        ("/cfg/prop", "/cfg-prop/prop"),
        ("/cfg/cfgfile", "/cfg-file/cfgfile"),
        ("/cfg/file", "/file/file"),
        ("/cfg/sys", "/sys/sys"),
    ] {
        let r = get(http, resource);
        assert_eq!(r.status, 200, "{resource}: {r:?}");
        assert_eq!(
            backend_paths(&backend).last().map(String::as_str),
            Some(path),
            "{resource}"
        );
    }

    // Swagger metadata: read with the API, left out of the listing.
    assert_eq!(
        artifact_list(&apps.active_app("SwaggerTypes").unwrap()),
        [("PetsApi".to_string(), "api".to_string())]
    );
    assert_eq!(json_of(&get(http, "/pets")), json!({"pets": []}));

    // Refused types: the whole CApp is faulty, its API is not deployed, the error names the
    // artifact and the CApp.
    let health = get(server.port(INTERNAL_HTTP), "/healthz").text();
    for (capp, artifact, context) in &refused {
        let name = capp.file_stem().trim_end_matches("_1.0.0").to_string();
        let error = apps
            .error_of(&name)
            .unwrap_or_else(|| panic!("{name} is not faulty: {}", apps.0));
        assert!(error.contains(artifact), "{error}");
        assert!(error.contains(&capp.file_name()), "{error}");
        assert!(health.contains(artifact), "{health}");
        assert_eq!(
            get(http, context).status,
            404,
            "{context} of faulty {name} serves"
        );
    }
    assert!(!deployed_names(&management, "apis").contains(&"TaskApi".into()));
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input.
// ---------------------------------------------------------------------------------------------

fn good_api(name: &str, context: &str, answer: &str) -> String {
    format!(
        r#"<api xmlns="{NS}" name="{name}" context="{context}"><resource methods="GET"><inSequence>
    <payloadFactory media-type="text"><format>{answer}</format><args/></payloadFactory>
    <respond/>
</inSequence></resource></api>"#
    )
}

#[test]
fn bad_capps_are_clear_errors_and_everything_else_keeps_serving() {
    let home = home_with(&[("api/Loose.xml", good_api("Loose", "/loose", "loose"))]);
    let dir = carbonapps(home.path());
    CAppBuilder::new("Good")
        .api("GoodApi", &good_api("GoodApi", "/good", "good"))
        .write_into(&dir);
    std::fs::write(
        dir.join("Corrupt_1.0.0.car"),
        b"this is not a zip file at all",
    )
    .unwrap();
    // A zip-slip entry in an otherwise valid CApp.
    CAppBuilder::new("Slip")
        .api("SlipApi", &good_api("SlipApi", "/slip", "slip"))
        .raw_entry("../../evil.xml", b"<evil/>")
        .write_into(&dir);
    CAppBuilder::new("NoDescriptor")
        .api(
            "NoDescriptorApi",
            &good_api("NoDescriptorApi", "/nodesc", "x"),
        )
        .without_descriptor()
        .write_into(&dir);
    CAppBuilder::new("Unknown")
        .artifact(
            "Unicorn",
            "synapse/unicorn",
            "Unicorn-1.0.0.xml",
            b"<unicorn/>",
        )
        .api("UnknownApi", &good_api("UnknownApi", "/unknown", "x"))
        .write_into(&dir);
    CAppBuilder::new("Missing")
        .api("MissingApi", &good_api("MissingApi", "/missing", "x"))
        .missing_dependency("GhostEndpoint")
        .write_into(&dir);
    // A zip bomb: 2 MiB of zeros deflate to a few KiB (far above the 100:1 ratio guard).
    CAppBuilder::new("Bomb")
        .api("BombApi", &good_api("BombApi", "/bomb", "x"))
        .raw_entry("BombApi_1.0.0/padding.txt", &vec![0u8; 2 * 1024 * 1024])
        .write_into(&dir);
    // Two CApps defining one endpoint name: the later one (by file name here) is faulty.
    let shared = format!(
        r#"<endpoint xmlns="{NS}" name="SharedEp"><address uri="http://127.0.0.1:{}/x"/></endpoint>"#,
        closed_port()
    );
    CAppBuilder::new("DupFirst")
        .endpoint("SharedEp", &shared)
        .api(
            "DupFirstApi",
            &good_api("DupFirstApi", "/dup-first", "first"),
        )
        .write_into(&dir);
    CAppBuilder::new("DupSecond")
        .endpoint("SharedEp", &shared)
        .api(
            "DupSecondApi",
            &good_api("DupSecondApi", "/dup-second", "second"),
        )
        .write_into(&dir);
    // A CApp redefining a hand-placed artifact: the loose file deploys first, the CApp is refused.
    CAppBuilder::new("Shadow")
        .api("Loose", &good_api("Loose", "/shadow", "shadow"))
        .write_into(&dir);

    let server = start(&home);
    let http = server.port(HTTP);
    for (path, answer) in [
        ("/loose", "loose"),
        ("/good", "good"),
        ("/dup-first", "first"),
    ] {
        let r = get(http, path);
        assert_eq!((r.status, r.text().as_str()), (200, answer), "{path}");
    }
    for path in [
        "/slip",
        "/nodesc",
        "/unknown",
        "/missing",
        "/bomb",
        "/dup-second",
        "/shadow",
    ] {
        assert_eq!(
            get(http, path).status,
            404,
            "{path} of a faulty CApp serves"
        );
    }
    assert!(
        !home.path().join("repository/deployment/evil.xml").exists()
            && !home.path().join("repository/evil.xml").exists(),
        "a zip-slip entry was written"
    );

    let health = get(server.port(INTERNAL_HTTP), "/healthz");
    assert_eq!(health.status, 500);
    let health = health.text();
    let log = server.output_with(&["DupSecond_1.0.0.car"]);
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let apps = management.applications();
    let mut active = apps.active();
    active.sort();
    assert_eq!(active, ["DupFirst", "Good"], "{}", apps.0);
    // (faulty application name, what the error must say)
    let cases: [(&str, &[&str]); 8] = [
        ("Corrupt_1.0.0", &["Corrupt_1.0.0.car", "zip"]),
        // A CApp whose zip cannot be read has no known name: its file name stands for it.
        ("Slip_1.0.0", &["Slip_1.0.0.car", "../../evil.xml"]),
        (
            "NoDescriptor_1.0.0",
            &["NoDescriptor_1.0.0.car", "artifacts.xml"],
        ),
        (
            "Unknown",
            &["Unknown_1.0.0.car", "Unicorn", "synapse/unicorn"],
        ),
        ("Missing", &["Missing_1.0.0.car", "GhostEndpoint"]),
        ("Bomb_1.0.0", &["Bomb_1.0.0.car", "padding.txt", "zip bomb"]),
        (
            "DupSecond",
            &["DupSecond_1.0.0.car", "SharedEp", "DupFirst_1.0.0.car"],
        ),
        ("Shadow", &["Shadow_1.0.0.car", "Loose", "api/Loose.xml"]),
    ];
    for (name, needles) in cases {
        assert!(
            apps.faulty().iter().any(|n| n == name),
            "{name} is not faulty: {}",
            apps.0
        );
        let error = apps
            .error_of(name)
            .unwrap_or_else(|| panic!("faulty {name} is listed without its error: {}", apps.0));
        for needle in needles {
            assert!(error.contains(needle), "{name}: {needle:?} not in {error}");
            assert!(
                health.contains(needle),
                "{name}: {needle:?} not on /healthz: {health}"
            );
            assert!(log.contains(needle), "{name}: {needle:?} not in the log");
        }
    }
    assert_eq!(apps.0["faultyCount"], 8, "{}", apps.0);
    assert_eq!(apps.0["totalCount"], 10, "{}", apps.0);
}

#[test]
fn capps_deploy_in_reference_order_whatever_their_names() {
    // "A_Orders" calls an endpoint of "Z_Endpoints": alphabetical order (MI's) would deploy the
    // API before its endpoint.
    let backend = backend();
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let dir = carbonapps(home.path());
    CAppBuilder::new("A_Orders")
        .api(
            "OrdersApi",
            &format!(
                r#"<api xmlns="{NS}" name="OrdersApi" context="/orders"><resource methods="GET"><inSequence>
    <call><endpoint key="OrdersEp"/></call><respond/>
</inSequence></resource></api>"#
            ),
        )
        .write_into(&dir);
    CAppBuilder::new("Z_Endpoints")
        .endpoint(
            "OrdersEp",
            &format!(
                r#"<endpoint xmlns="{NS}" name="OrdersEp"><address uri="{}/orders-backend"/></endpoint>"#,
                backend.url()
            ),
        )
        .write_into(&dir);
    let server = start(&home);
    let r = get(server.port(HTTP), "/orders");
    assert_eq!(json_of(&r), json!({"backend": "reached"}));
    assert_eq!(backend_paths(&backend), ["/orders-backend"]);
    let apps = Management::admin(server.port(INTERNAL_HTTPS)).applications();
    let mut active = apps.active();
    active.sort();
    assert_eq!(active, ["A_Orders", "Z_Endpoints"], "{}", apps.0);
    assert_eq!(apps.0["faultyCount"], 0);
    let log = server.output();
    assert!(!log.contains("OrdersEp is not deployed"), "{log}");
    assert_eq!(get(server.port(INTERNAL_HTTP), "/healthz").status, 200);
}

// ---------------------------------------------------------------------------------------------
// 4. `conflux check FILE.car` and `--project`.
// ---------------------------------------------------------------------------------------------

#[test]
fn conflux_check_validates_one_capp_file() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let files = tempfile::tempdir().unwrap();
    let good = CAppBuilder::new("CheckGood")
        .endpoint(
            "CheckEp",
            &format!(r#"<endpoint xmlns="{NS}" name="CheckEp"><address uri="http://127.0.0.1:9/x"/></endpoint>"#),
        )
        .api("CheckApi", &good_api("CheckApi", "/check", "ok"))
        .write_into(files.path());
    let h = home.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&["check", "--home", h, good.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("carbon application CheckGood 1.0.0: 2 artifacts OK"),
        "{stdout}"
    );

    let bad = CAppBuilder::new("CheckBad")
        .api(
            "BadApi",
            &format!(
                "<api xmlns=\"{NS}\" name=\"BadApi\" context=\"/bad\">\n<resource methods=\"GET\"><inSequence>\n<xquery key=\"q\"/>\n</inSequence></resource></api>"
            ),
        )
        .write_into(files.path());
    let (code, stdout, stderr) = run(&["check", "--home", h, bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    // The error is located inside the CApp: FILE.car!/dir/file.xml:line:column.
    assert!(
        stderr.contains("CheckBad_1.0.0.car!/BadApi_1.0.0/BadApi-1.0.0.xml:3:"),
        "{stderr}"
    );
    assert!(stderr.contains("xquery"), "{stderr}");

    let corrupt = files.path().join("Corrupt.car");
    std::fs::write(&corrupt, b"PK\x03\x04 truncated").unwrap();
    let (code, stdout, stderr) = run(&["check", "--home", h, corrupt.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("Corrupt.car"), "{stderr}");

    let not_a_car = files.path().join("notes.txt");
    std::fs::write(&not_a_car, "x").unwrap();
    let (code, _, stderr) = run(&["check", "--home", h, not_a_car.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a .car file"), "{stderr}");
}

/// A VS Code MI project (the extension's layout, with a registry resource), whose endpoint
/// reads its address from `$SYSTEM:VS_BACKEND`.
fn vscode_project(dir: &Path) {
    let root = dir.join("src/main/wso2mi");
    let write = |relative: &str, text: &str| {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    std::fs::write(
        dir.join("pom.xml"),
        "<project><artifactId>vs-demo</artifactId></project>",
    )
    .unwrap();
    write(
        "artifacts/apis/VsApi.xml",
        &format!(
            r#"<api xmlns="{NS}" name="VsApi" context="/vs">
    <resource methods="GET" uri-template="/backend"><inSequence>
        <call><endpoint key="VsEp"/></call><respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/registry"><inSequence>
        <payloadFactory media-type="json"><format>{{"greeting": "$1"}}</format><args>
            <arg evaluator="xml" expression="get-property('registry', 'conf:/greetings/hello.txt')"/>
        </args></payloadFactory>
        <sequence key="VsReply"/>
    </inSequence></resource>
</api>"#
        ),
    );
    write(
        "artifacts/endpoints/VsEp.xml",
        &format!(
            r#"<endpoint xmlns="{NS}" name="VsEp"><address uri="$SYSTEM:VS_BACKEND"/></endpoint>"#
        ),
    );
    write(
        "artifacts/sequences/VsReply.xml",
        &format!(r#"<sequence xmlns="{NS}" name="VsReply"><respond/></sequence>"#),
    );
    write(
        "resources/registry/conf/greetings/hello.txt",
        "hello from the project registry",
    );
    write(
        "resources/registry/artifact.xml",
        r#"<artifacts><artifact name="conf_greetings_hello_txt" groupId="com.example" version="1.0.0" type="registry/resource" serverRole="EnterpriseIntegrator"><item><file>hello.txt</file><path>/_system/config/greetings</path><mediaType>text/plain</mediaType><properties/></item></artifact></artifacts>"#,
    );
}

/// An Integration Studio workspace: a `*Configs` project and a composite exporter beside it.
fn integration_studio_project(dir: &Path, backend: &str) {
    let configs = dir.join("DemoConfigs/src/main/synapse-config");
    std::fs::create_dir_all(configs.join("api")).unwrap();
    std::fs::create_dir_all(configs.join("endpoints")).unwrap();
    std::fs::write(
        configs.join("api/IsApi.xml"),
        format!(
            r#"<api xmlns="{NS}" name="IsApi" context="/is"><resource methods="GET"><inSequence>
    <call><endpoint key="IsEp"/></call><respond/>
</inSequence></resource></api>"#
        ),
    )
    .unwrap();
    std::fs::write(
        configs.join("endpoints/IsEp.xml"),
        format!(r#"<endpoint xmlns="{NS}" name="IsEp"><address uri="{backend}/is"/></endpoint>"#),
    )
    .unwrap();
    std::fs::write(dir.join("DemoConfigs/artifact.xml"), "<artifacts/>").unwrap();
    std::fs::create_dir_all(dir.join("DemoCompositeExporter")).unwrap();
    std::fs::write(dir.join("DemoCompositeExporter/pom.xml"), "<project/>").unwrap();
}

#[test]
fn projects_deploy_with_no_build_for_check_and_run() {
    let backend = backend();
    // The home gives deployment.toml; its own artifacts are not deployed with --project.
    let home = home_with(&[(
        "api/HomeOnly.xml",
        good_api("HomeOnly", "/home-only", "home"),
    )]);
    let h = home.path().to_str().unwrap().to_string();

    // VS Code MI project.
    let vscode = tempfile::tempdir().unwrap();
    vscode_project(vscode.path());
    let vs = vscode.path().to_str().unwrap();
    let env_url = format!("{}/vs", backend.url());
    let env = [("VS_BACKEND", env_url.as_str())];
    let (code, stdout, stderr) = run_with_env(&["check", "--home", &h, "--project", vs], &env);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 APIs"), "{stdout}");
    // Without the environment variable, the endpoint cannot deploy: located in the project.
    let (code, _, stderr) = run(&["check", "--home", &h, "--project", vs]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("src/main/wso2mi/artifacts/endpoints/VsEp.xml:"),
        "{stderr}"
    );
    assert!(stderr.contains("VS_BACKEND"), "{stderr}");

    let server = start_with_env(home.path(), &["run", "--project", vs], &env);
    let http = server.port(HTTP);
    assert_eq!(
        json_of(&get(http, "/vs/backend")),
        json!({"backend": "reached"})
    );
    assert_eq!(
        backend_paths(&backend).last().map(String::as_str),
        Some("/vs/backend")
    );
    assert_eq!(
        json_of(&get(http, "/vs/registry")),
        json!({"greeting": "hello from the project registry"})
    );
    assert_eq!(get(http, "/home-only").status, 404);
    // Hot deployment watches the project's folders.
    std::fs::write(
        vscode
            .path()
            .join("src/main/wso2mi/artifacts/apis/Added.xml"),
        good_api("Added", "/added", "added"),
    )
    .unwrap();
    wait_for("the added project API", CHANGE_TIMEOUT, || {
        let r = get(http, "/added");
        if (r.status, r.text().as_str()) == (200, "added") {
            Ok(())
        } else {
            Err(format!("{r:?}"))
        }
    });
    drop(server);

    // Integration Studio project (workspace with a *Configs project).
    let studio = tempfile::tempdir().unwrap();
    integration_studio_project(studio.path(), &backend.url());
    let is = studio.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&["check", "--home", &h, "--project", is]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 APIs"), "{stdout}");
    let server = Server::start(home.path(), free_offset(), &["--project", is]);
    assert_eq!(
        json_of(&get(server.port(HTTP), "/is")),
        json!({"backend": "reached"})
    );
    assert_eq!(
        backend_paths(&backend).last().map(String::as_str),
        Some("/is")
    );
    drop(server);

    // A broken project artifact is located by its path in the project.
    std::fs::write(
        studio
            .path()
            .join("DemoConfigs/src/main/synapse-config/api/Broken.xml"),
        format!("<api xmlns=\"{NS}\" name=\"Broken\" context=\"/broken\">\n<resource>\n</api>"),
    )
    .unwrap();
    let (code, _, stderr) = run(&["check", "--home", &h, "--project", is]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("DemoConfigs/src/main/synapse-config/api/Broken.xml:"),
        "{stderr}"
    );

    // A folder that is no project.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&[
        "check",
        "--home",
        &h,
        "--project",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not an MI project"), "{stderr}");
}
