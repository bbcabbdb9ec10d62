//! Deploying data services (`.dbs`) and named data sources as the server does it, beside the
//! Synapse artifacts the deployer assembles:
//! - data sources: `deployment.toml` `[[datasource]]` (MI `master-datasources.xml.j2`), a
//!   project's `data-sources/*.xml` and CApp `datasource/datasource` artifacts (MI
//!   `DataSourceCappDeployer`: a `<datasource>` with `<name>`, `<description>` and an RDBMS
//!   `<definition><configuration>` of pool properties);
//! - data services: the home's `dataservices/*.dbs`, a project's `data-services/*.dbs` and CApp
//!   `service/dataservice` artifacts (MI `DataServiceCappDeployer`). A `<config>` with
//!   `carbon_datasource_name` uses a named data source's pool.
//!
//! [`plan`] reads and checks everything without I/O beyond reading files (so `conflux check`
//! uses it too); every problem is a failure naming `file:line:column`. [`attach`] opens the pools
//! (lazily) and sets them on the deployment, keeping the pool of every data source and data
//! service whose definition did not change since the previous deployment (MI redeploys only the
//! artifact whose file changed).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use conflux_artifacts::capp::{CAppArtifact, CAppArtifactKind};
use conflux_artifacts::inject::InjectedValues;
use conflux_config::Config;
use conflux_dataservices::db::{DataSource, DataSourceConfig, url as jdbc_url};
use conflux_dataservices::model::{ConfigKind, SecretRef};
use conflux_dataservices::service::{DeployedService, NamedDataSource};
use conflux_dataservices::{DataService, ParseOptions};
use conflux_deployer::{CAppCheck, Snapshot, Sources};
use conflux_mediation::runtime::deployment::Attached;

/// How the home's `dataservices/` files are labelled ([`conflux_deployer::Sources::home`]).
const HOME_LABEL_PREFIX: &str = "dataservices/";

/// The largest `<datasource>` definition file read.
pub const MAX_DATASOURCE_BYTES: usize = 1024 * 1024;

/// The secure-vault namespace of `svns:secretAlias` (MI `DataSourceConstants.SECURE_VAULT_NS`).
const SECURE_VAULT_NS: &str = "http://org.wso2.securevault/configuration";

/// What [`plan`] found deployable: the named data sources and data services, each checked.
#[derive(Debug, Default)]
pub struct DataPlan {
    pub sources: Vec<PlannedSource>,
    pub services: Vec<PlannedService>,
    /// `[[datasource]]`s that could not be opened, with why.
    pub unusable: Vec<(String, String)>,
}

/// A named data source, checked.
#[derive(Debug, Clone)]
pub struct PlannedSource {
    pub info: SourceInfo,
    pub config: DataSourceConfig,
}

/// What the Management API shows of a data source.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub name: String,
    pub description: String,
    pub driver_class: Option<String>,
    pub url: String,
    pub username: Option<String>,
    pub definition: String,
    pub origin: String,
}

/// A data service, checked: its model (values and secrets resolved), its file label, the
/// location its faults name (MI: the path after `dataservices`, `/Foo.dbs`) and a hash of the
/// file's text.
#[derive(Debug, Clone)]
pub struct PlannedService {
    pub label: String,
    pub location: String,
    pub model: DataService,
    pub fingerprint: u64,
}

/// A hash of a file's text: a redeploy keeps a data service whose text hashes the same.
fn fingerprint(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

impl DataPlan {
    fn source(&self, name: &str) -> Option<&PlannedSource> {
        self.sources.iter().find(|s| s.info.name == name)
    }
}

/// The deployer's check of CApp data services and data sources: they parse, their secrets
/// resolve and their pool properties and URLs are valid (named data sources they use are
/// checked when the whole plan is known).
pub fn capp_check(config: &Config) -> CAppCheck {
    let home = config.home.clone();
    let secrets = config.secrets.clone();
    Arc::new(
        move |artifact: &CAppArtifact, values: &dyn InjectedValues| match artifact.kind {
            CAppArtifactKind::DataSource => {
                read_datasource(&artifact.label, &artifact.text, &secrets, &home).map(|_| ())
            }
            CAppArtifactKind::DataService => read_dbs(
                &artifact.label,
                &artifact.text,
                values,
                &secrets,
                &home,
                &|_| None,
            )
            .map(|_| ()),
            _ => Ok(()),
        },
    )
}

/// Reads and checks the named data sources and data services of `sources`, the configuration and
/// the snapshot's active CApps. Failures go to `snapshot.failures`; what fails is left out, the
/// rest deploys.
pub fn plan(config: &Config, sources: &Sources, snapshot: &mut Snapshot) -> DataPlan {
    let mut plan = DataPlan::default();
    let mut failures = Vec::new();
    let home = config.home.as_path();
    let values = crate::deploy::injected_values(config, &mut failures);

    // Named data sources: deployment.toml, project files, CApps.
    let mut candidates: Vec<Result<PlannedSource, String>> = Vec::new();
    for def in &config.datasources {
        match toml_source(def, home) {
            Ok(source) => candidates.push(Ok(source)),
            // MI opens data sources on drivers Conflux does not have (H2, Oracle, MSSQL, ...),
            // often for its own use (user store, coordination): a warning, unless a data
            // service uses it.
            Err((e, true)) => {
                snapshot
                    .warnings
                    .push(format!("{e}; the data source is not opened"));
                plan.unusable.push((def.id.clone(), e));
            }
            Err((e, false)) => {
                plan.unusable.push((def.id.clone(), e.clone()));
                candidates.push(Err(e));
            }
        }
    }
    for folder in &sources.data_sources {
        for (label, text) in read_folder(&folder.dir, &folder.label_prefix, "xml", &mut failures) {
            candidates.push(read_datasource(&label, &text, &config.secrets, home));
        }
    }
    for artifact in snapshot
        .capp_data
        .iter()
        .filter(|a| a.kind == CAppArtifactKind::DataSource)
    {
        candidates.push(read_datasource(
            &artifact.label,
            &artifact.text,
            &config.secrets,
            home,
        ));
    }
    for candidate in candidates {
        match candidate {
            Ok(source) => match plan.source(&source.info.name) {
                Some(first) => failures.push(format!(
                    "data source {} of {} is defined already at {}; data source names must be unique",
                    source.info.name, source.info.origin, first.info.origin
                )),
                None => plan.sources.push(source),
            },
            Err(e) => failures.push(e),
        }
    }

    // Data services: loose files, then CApps.
    let mut files: Vec<(String, String)> = Vec::new();
    for folder in &sources.data_services {
        files.extend(read_folder(
            &folder.dir,
            &folder.label_prefix,
            "dbs",
            &mut failures,
        ));
    }
    files.extend(
        snapshot
            .capp_data
            .iter()
            .filter(|a| a.kind == CAppArtifactKind::DataService)
            .map(|a| (a.label.clone(), a.text.clone())),
    );
    let lookup = |name: &str| plan.source(name).map(|s| s.config.url.clone());
    let mut services: Vec<PlannedService> = Vec::new();
    for (label, text) in files {
        let model = match read_dbs(&label, &text, &values, &config.secrets, home, &lookup) {
            Ok(model) => model,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if let Some(e) = unknown_data_source(&model, &plan) {
            failures.push(e);
            continue;
        }
        if let Some(first) = services.iter().find(|s| s.model.name == model.name) {
            failures.push(format!(
                "data service {} is deployed already from {}; data service names must be unique at {}",
                model.name, first.model.span, model.span
            ));
            continue;
        }
        // MI deploys a proxy service and a data service as Axis2 services of their names, and
        // refuses a second service of one name (`AxisConfiguration.addService`).
        if let Some(proxy) = snapshot.artifacts.proxy(&model.name) {
            failures.push(format!(
                "data service {} cannot be deployed: proxy service {} of {} has that name, and MI refuses two services of one name at {}",
                model.name, proxy.name, proxy.span, model.span
            ));
            continue;
        }
        let location = match label.strip_prefix(HOME_LABEL_PREFIX) {
            Some(file) => format!("/{file}"),
            None => label.clone(),
        };
        services.push(PlannedService {
            location,
            fingerprint: fingerprint(&text),
            label,
            model,
        });
    }
    plan.services = services;
    snapshot.failures.extend(failures);
    plan
}

/// Opens the plan's pools and sets them on the snapshot's deployment. A data source whose
/// configuration is unchanged since `previous`, and a data service whose model (and every named
/// data source it uses) is unchanged, keep their pools. Needs the Tokio runtime.
pub fn attach(plan: DataPlan, previous: Option<&Attached>, home: &Path, snapshot: &mut Snapshot) {
    let mut named: BTreeMap<String, NamedDataSource> = BTreeMap::new();
    let mut kept_sources: Vec<String> = Vec::new();
    for source in plan.sources {
        let old = previous
            .and_then(|p| p.data_sources.get(&source.info.name))
            .filter(|old| old.config == source.config);
        let pool = match old {
            Some(old) => {
                kept_sources.push(source.info.name.clone());
                old.pool.clone()
            }
            None => match DataSource::lazy(source.config.clone()) {
                Ok(pool) => pool,
                Err(e) => {
                    snapshot.failures.push(format!(
                        "data source {}: {e} at {}",
                        source.info.name, source.info.origin
                    ));
                    continue;
                }
            },
        };
        let info = source.info;
        named.insert(
            info.name.clone(),
            NamedDataSource {
                name: info.name,
                description: info.description,
                kind: "RDBMS".into(),
                driver_class: info.driver_class,
                url: info.url,
                username: info.username,
                definition: info.definition,
                origin: info.origin,
                config: source.config,
                pool,
            },
        );
    }
    let mut services = BTreeMap::new();
    for planned in plan.services {
        let name = planned.model.name.clone();
        let uses: Vec<&str> = carbon_names(&planned.model).collect();
        let unchanged = previous
            .and_then(|p| p.data_services.get(&name))
            .filter(|old| {
                old.fingerprint() == planned.fingerprint
                    && *old.model() == planned.model
                    && old.location() == planned.location
                    && uses.iter().all(|n| kept_sources.iter().any(|k| k == n))
            });
        if let Some(old) = unchanged {
            services.insert(name, old.clone());
            continue;
        }
        match open_pools(&planned.model, &named, home) {
            Ok(pools) => {
                tracing::info!(target: "conflux::deployer", "data service {name} deployed from {}", planned.label);
                services.insert(
                    name,
                    Arc::new(DeployedService::with_pools(
                        planned.model,
                        planned.location,
                        pools,
                        planned.fingerprint,
                    )),
                );
            }
            Err(e) => snapshot.failures.push(e),
        }
    }
    snapshot.deployment.attached.data_sources = Arc::new(named);
    snapshot.deployment.attached.data_services = Arc::new(services);
}

/// The names of the named data sources a data service uses.
fn carbon_names(model: &DataService) -> impl Iterator<Item = &str> {
    model.configs.iter().filter_map(|c| match &c.kind {
        ConfigKind::CarbonDataSource { name } => Some(name.as_str()),
        ConfigKind::Rdbms => None,
    })
}

/// One pool per `<config>`: its own, or the named data source's.
fn open_pools(
    model: &DataService,
    named: &BTreeMap<String, NamedDataSource>,
    home: &Path,
) -> Result<BTreeMap<String, DataSource>, String> {
    let mut pools = BTreeMap::new();
    for config in &model.configs {
        let pool = match &config.kind {
            ConfigKind::CarbonDataSource { name } => match named.get(name) {
                Some(source) => source.pool.clone(),
                None => {
                    return Err(format!(
                        "data service {}: <config id=\"{}\"> uses data source {name}, which did not deploy at {}",
                        model.name, config.id, config.span
                    ));
                }
            },
            ConfigKind::Rdbms => {
                let cfg = config_of(model, config, home)?;
                DataSource::lazy(cfg).map_err(|e| {
                    format!(
                        "data service {}: <config id=\"{}\">: {e} at {}",
                        model.name, config.id, config.span
                    )
                })?
            }
        };
        pools.insert(config.id.clone(), pool);
    }
    Ok(pools)
}

/// The pool configuration of an RDBMS `<config>` (values and secrets already resolved).
fn config_of(
    model: &DataService,
    config: &conflux_dataservices::Config,
    home: &Path,
) -> Result<DataSourceConfig, String> {
    let props = config
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()));
    DataSourceConfig::from_properties(props, Some(home.to_path_buf()))
        .map(|(cfg, _)| cfg)
        .map_err(|e| {
            format!(
                "data service {}: <config id=\"{}\">: {e} at {}",
                model.name, config.id, config.span
            )
        })
}

/// Parses a `.dbs`, resolves its secrets and checks its RDBMS configs (URL, driver, pool
/// properties; a relative SQLite path is relative to `home`).
fn read_dbs(
    label: &str,
    text: &str,
    values: &dyn InjectedValues,
    secrets: &conflux_config::secrets::Secrets,
    home: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<DataService, String> {
    if text.len() > conflux_dataservices::MAX_DBS_BYTES {
        return Err(format!(
            "{label}: {} bytes, more than the {} a .dbs file may have",
            text.len(),
            conflux_dataservices::MAX_DBS_BYTES
        ));
    }
    let mut model = conflux_dataservices::parse_dbs(
        label,
        text,
        &ParseOptions {
            values: Some(values),
            datasource_url: Some(lookup),
        },
    )
    .map_err(|e| e.to_string())?;
    let name = model.name.clone();
    for config in &mut model.configs {
        for property in &mut config.properties {
            let Some(secret) = &property.secret else {
                continue;
            };
            let alias = match secret {
                SecretRef::Alias(a) | SecretRef::VaultLookup(a) | SecretRef::Secret(a) => a,
            };
            match secrets.get(alias) {
                Some(value) => property.value = value.to_string(),
                None => {
                    return Err(format!(
                        "data service {name}: <config id=\"{}\"> property {}: secret alias '{alias}' is not in the secure vault (conf/security/ or [secrets] of deployment.toml) at {}",
                        config.id, property.name, property.span
                    ));
                }
            }
        }
        if config.kind == ConfigKind::Rdbms {
            let props = config
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str()));
            let (cfg, _) = DataSourceConfig::from_properties(props, Some(home.to_path_buf()))
                .map_err(|e| {
                    format!(
                        "data service {name}: <config id=\"{}\">: {e} at {}",
                        config.id, config.span
                    )
                })?;
            check_url(&cfg).map_err(|e| {
                format!(
                    "data service {name}: <config id=\"{}\">: {e} at {}",
                    config.id, config.span
                )
            })?;
        }
    }
    Ok(model)
}

/// The URL parses and names a supported database; the driver class fits it.
fn check_url(cfg: &DataSourceConfig) -> Result<(), conflux_dataservices::db::DbError> {
    let url = jdbc_url::parse(&cfg.url, cfg.home.as_deref())?;
    if let Some(class) = &cfg.driver_class {
        jdbc_url::check_driver_class(class, &url, &cfg.url)?;
    }
    Ok(())
}

/// A `carbon_datasource_name` that names no data source.
fn unknown_data_source(model: &DataService, plan: &DataPlan) -> Option<String> {
    for config in &model.configs {
        if let ConfigKind::CarbonDataSource { name } = &config.kind
            && plan.source(name).is_none()
        {
            if let Some((_, why)) = plan.unusable.iter().find(|(n, _)| n == name) {
                return Some(format!(
                    "data service {}: <config id=\"{}\"> uses data source '{name}', which cannot be opened ({why}) at {}",
                    model.name, config.id, config.span
                ));
            }
            let known: Vec<&str> = plan.sources.iter().map(|s| s.info.name.as_str()).collect();
            let span = config
                .property_entry("carbon_datasource_name")
                .map_or(&config.span, |p| &p.span);
            return Some(format!(
                "data service {}: <config id=\"{}\"> names data source '{name}', which is not defined; defined: {} ([[datasource]] id in deployment.toml, or a datasource artifact) at {span}",
                model.name,
                config.id,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    None
}

/// A `[[datasource]]` as a named data source; an error says whether it is only an unsupported
/// database (`true`).
fn toml_source(
    def: &conflux_config::datasource::DataSourceDef,
    home: &Path,
) -> Result<PlannedSource, (String, bool)> {
    let props = def.properties();
    let (config, _) = DataSourceConfig::from_properties(
        props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Some(home.to_path_buf()),
    )
    .map_err(|e| {
        let at = match &e {
            conflux_dataservices::db::DbError::InvalidProperty { name, .. } => {
                def.origin_of(&format!("pool_options.{name}"))
            }
            _ => &def.origin,
        };
        (format!("[[datasource]] {}: {e} at {at}", def.id), false)
    })?;
    check_url(&config).map_err(|e| {
        let unsupported = matches!(e, conflux_dataservices::db::DbError::UnsupportedUrl { .. });
        (
            format!("[[datasource]] {}: {e} at {}", def.id, def.origin_of("url")),
            unsupported,
        )
    })?;
    let mut definition = format!(
        "<datasource><name>{}</name><description>{}</description><jndiConfig><name>jdbc/{}</name></jndiConfig><definition type=\"RDBMS\"><configuration>",
        xml_escape(&def.id),
        xml_escape(&def.description),
        xml_escape(&def.id)
    );
    for (name, value) in &props {
        let shown = if name == "password" { "*****" } else { value };
        definition.push_str(&format!("<{name}>{}</{name}>", xml_escape(shown)));
    }
    definition.push_str("</configuration></definition></datasource>");
    Ok(PlannedSource {
        info: SourceInfo {
            name: def.id.clone(),
            description: def.description.clone(),
            driver_class: def.driver.clone(),
            url: jdbc_url::redact(&def.url),
            username: def.username.clone(),
            definition,
            origin: def.origin.to_string(),
        },
        config,
    })
}

/// A `<datasource>` definition file (MI `DataSourceMetaInfo`, read by `DataSourceCappDeployer`
/// and the RDBMS reader): `<name>`, `<description>`, `<definition type="RDBMS">` with a
/// `<configuration>` of pool properties; `svns:secretAlias` on a property takes its value from
/// the secure vault.
fn read_datasource(
    label: &str,
    text: &str,
    secrets: &conflux_config::secrets::Secrets,
    home: &Path,
) -> Result<PlannedSource, String> {
    if text.len() > MAX_DATASOURCE_BYTES {
        return Err(format!(
            "{label}: {} bytes, more than the {MAX_DATASOURCE_BYTES} a data source definition may have",
            text.len()
        ));
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let pos = e.pos();
        format!("XML syntax error: {e} at {label}:{}:{}", pos.row, pos.col)
    })?;
    let at = |node: roxmltree::Node| {
        let pos = doc.text_pos_at(node.range().start);
        format!("{label}:{}:{}", pos.row, pos.col)
    };
    let root = doc.root_element();
    if root.tag_name().name() != "datasource" {
        return Err(format!(
            "found <{}>, expected <datasource> (a data source definition) at {}",
            root.tag_name().name(),
            at(root)
        ));
    }
    let text_of = |node: Option<roxmltree::Node>| {
        node.and_then(|n| n.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let name = text_of(child(root, "name"))
        .ok_or_else(|| format!("<datasource> requires a <name> at {}", at(root)))?;
    let description = text_of(child(root, "description")).unwrap_or_default();
    let definition = child(root, "definition").ok_or_else(|| {
        format!(
            "data source {name}: <datasource> requires a <definition type=\"RDBMS\"> at {}",
            at(root)
        )
    })?;
    let kind = definition.attribute("type").unwrap_or("");
    if !kind.eq_ignore_ascii_case("RDBMS") {
        return Err(format!(
            "data source {name}: definition type \"{kind}\" is not supported; valid: RDBMS at {}",
            at(definition)
        ));
    }
    let configuration = child(definition, "configuration").ok_or_else(|| {
        format!(
            "data source {name}: <definition> requires a <configuration> at {}",
            at(definition)
        )
    })?;
    let mut props: Vec<(String, String)> = Vec::new();
    for element in configuration.children().filter(|c| c.is_element()) {
        let prop = element.tag_name().name().to_string();
        let alias = element.attribute((SECURE_VAULT_NS, "secretAlias"));
        let value = match alias {
            Some(alias) => secrets.get(alias).map(str::to_string).ok_or_else(|| {
                format!(
                    "data source {name}: <{prop}>: secret alias '{alias}' is not in the secure vault at {}",
                    at(element)
                )
            })?,
            None => element.text().unwrap_or("").trim().to_string(),
        };
        props.push((prop, value));
    }
    let (config, _) = DataSourceConfig::from_properties(
        props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Some(home.to_path_buf()),
    )
    .map_err(|e| format!("data source {name}: {e} at {}", at(configuration)))?;
    check_url(&config).map_err(|e| format!("data source {name}: {e} at {}", at(configuration)))?;
    let get = |key: &str| {
        props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Ok(PlannedSource {
        info: SourceInfo {
            driver_class: get("driverClassName"),
            url: jdbc_url::redact(&config.url),
            username: get("username"),
            definition: mask_passwords(&text[root.range()]),
            origin: label.to_string(),
            name,
            description,
        },
        config,
    })
}

/// The first child element of `parent` named `name`.
fn child<'a, 'i>(parent: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    parent
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The definition with the text of every `<password>` element replaced by `*****` (MI
/// `DataSourceUtils.elementToStringWithMaskedPasswords`).
fn mask_passwords(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(open) = rest.find("<password") {
        let Some(close_tag) = rest[open..].find('>') else {
            break;
        };
        let content_start = open + close_tag + 1;
        if rest[..content_start].ends_with("/>") {
            out.push_str(&rest[..content_start]);
            rest = &rest[content_start..];
            continue;
        }
        let Some(end) = rest[content_start..].find("</password>") else {
            break;
        };
        out.push_str(&rest[..content_start]);
        out.push_str("*****");
        rest = &rest[content_start + end..];
        out.push_str("</password>");
        rest = &rest["</password>".len()..];
    }
    out.push_str(rest);
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `(label, text)` of the `*.{ext}` files of `dir`, sorted by name; a missing folder has none.
fn read_folder(
    dir: &Path,
    label_prefix: &str,
    ext: &str,
    failures: &mut Vec<String>,
) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let label = format!("{label_prefix}{file_name}");
        match std::fs::read_to_string(&path) {
            Ok(text) => out.push((label, text)),
            Err(e) => failures.push(format!("{label}: cannot be read: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DS: &str = r#"<datasource xmlns:svns="http://org.wso2.securevault/configuration">
    <name>Shop</name>
    <description>shop db</description>
    <definition type="RDBMS">
        <configuration>
            <driverClassName>org.sqlite.JDBC</driverClassName>
            <url>jdbc:sqlite::memory:</url>
            <username>u</username>
            <password>secret-pw</password>
            <maxActive>7</maxActive>
        </configuration>
    </definition>
</datasource>"#;

    fn read(text: &str) -> Result<PlannedSource, String> {
        read_datasource(
            "data-sources/Shop.xml",
            text,
            &Default::default(),
            Path::new("/h"),
        )
    }

    // MI CarbonDataSourceTestCase.car's datasource-1.0.0.xml shape.
    #[test]
    fn a_datasource_definition_is_read_with_its_pool_and_masked_password() {
        let source = read(DS).unwrap();
        assert_eq!(source.info.name, "Shop");
        assert_eq!(source.info.description, "shop db");
        assert_eq!(source.info.driver_class.as_deref(), Some("org.sqlite.JDBC"));
        assert_eq!(source.config.pool.max_active, 7);
        assert_eq!(source.config.password.as_deref(), Some("secret-pw"));
        assert!(!source.info.definition.contains("secret-pw"));
        assert!(
            source
                .info
                .definition
                .contains("<password>*****</password>")
        );
    }

    #[test]
    fn datasource_errors_name_file_line_and_what_is_valid() {
        let e = read(&DS.replace("type=\"RDBMS\"", "type=\"Custom\"")).unwrap_err();
        assert!(e.contains("definition type \"Custom\""), "{e}");
        assert!(e.contains("valid: RDBMS"), "{e}");
        assert!(e.contains("data-sources/Shop.xml:4:5"), "{e}");
        let e = read(&DS.replace("jdbc:sqlite::memory:", "jdbc:h2:mem:x")).unwrap_err();
        assert!(e.contains("jdbc:h2:mem:x"), "{e}");
        assert!(e.contains("data-sources/Shop.xml:5:9"), "{e}");
        let e = read(&DS.replace("<maxActive>7", "<maxActive>many")).unwrap_err();
        assert!(e.contains("maxActive") && e.contains("many"), "{e}");
        let e = read(&DS.replace(
            "<password>secret-pw</password>",
            "<password svns:secretAlias=\"db.pw\"/>",
        ))
        .unwrap_err();
        assert!(e.contains("secret alias 'db.pw'"), "{e}");
        assert!(e.contains("Shop.xml:9:13"), "{e}");
        let e = read("<datasources/>").unwrap_err();
        assert!(e.contains("expected <datasource>"), "{e}");
    }

    #[test]
    fn a_definition_over_the_limit_is_refused() {
        let pad = " ".repeat(MAX_DATASOURCE_BYTES - DS.len());
        assert!(read(&format!("{DS}{pad}")).is_ok());
        let e = read(&format!("{DS}{pad} ")).unwrap_err();
        assert!(e.contains("more than the 1048576"), "{e}");
    }

    #[test]
    fn passwords_are_masked_in_any_form() {
        assert_eq!(
            mask_passwords(
                "<a><password>x</password><b/><password a=\"1\">y</password><password/></a>"
            ),
            "<a><password>*****</password><b/><password a=\"1\">*****</password><password/></a>"
        );
    }
}
