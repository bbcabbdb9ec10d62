//! The case files: one TOML file per ported MI test class (`cases/<module>/<dir>/<Class>.toml`), read
//! into [`CaseFile`]s and checked for what serde cannot check (an exchange needs a request, a SOAP
//! request needs a payload, a CApp is a plain `.car` file name, a home file stays inside the home).
//! The format is described in `conformance/README.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One ported Java test class.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub source: Source,
    /// Corpus artifacts, relative to `shared/corpus/synapse/`.
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Extra `deployment.toml` text; the class then gets a home of its own.
    #[serde(default)]
    pub deployment_toml: Option<String>,
    /// Corpus carbon applications (file names in `shared/corpus/car/`), copied unchanged into the
    /// home's `repository/deployment/server/carbonapps/` before the server starts, as MI's test
    /// servers hold them in their `carbonapps` folder. The class then gets a home of its own.
    #[serde(default)]
    pub capps: Vec<String>,
    /// Environment variables of the server process (MI's `--env-file`, `$SYSTEM:`/`$config:`
    /// values). The class then gets a home of its own.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// System properties, passed as `-Dname=value` (MI's `restartMicroIntegrator(commands)`). The
    /// class then gets a home of its own.
    #[serde(default)]
    pub system_properties: BTreeMap<String, String>,
    /// Text files written into the home before start, by path relative to it (the module's test
    /// server files, e.g. `conf/file.properties`). The class then gets a home of its own.
    #[serde(default)]
    pub home_files: BTreeMap<String, String>,
    #[serde(default, rename = "backend")]
    pub backends: Vec<BackendSpec>,
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
    /// The file it was read from, relative to the cases folder (set by [`load`]).
    #[serde(skip)]
    pub path: PathBuf,
}

/// Where the facts come from: the MI test class, at a commit of wso2/micro-integrator. The
/// `artifacts`, `deployment_toml`, `capps`, `env`, `system_properties` and `home_files` lines of a
/// case file often follow `[source]` (and so belong to this table in TOML); [`load`] moves them to
/// the [`CaseFile`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub module: String,
    pub class: String,
    pub commit: String,
    #[serde(default)]
    pub artifacts: Vec<String>,
    #[serde(default)]
    pub deployment_toml: Option<String>,
    #[serde(default)]
    pub capps: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub system_properties: BTreeMap<String, String>,
    #[serde(default)]
    pub home_files: BTreeMap<String, String>,
}

/// A backend a class declares beyond the default ones.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSpec {
    /// `host:port` as the artifacts name it.
    pub address: String,
    pub kind: BackendKind,
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub delay_ms: u64,
}

fn default_status() -> u16 {
    200
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Fixed status, headers and body.
    Static,
    /// 200 with the request's body and Content-Type.
    Echo,
    /// The Axis2 sample server.
    Stockquote,
}

/// One Java `@Test` method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub method: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Conflux answers differently from MI here, and why.
    #[serde(default)]
    pub known_divergence: Option<String>,
    /// The case cannot run here, and why (it is not counted).
    #[serde(default)]
    pub skip: Option<String>,
    #[serde(default)]
    pub request: Option<Request>,
    #[serde(default)]
    pub expect: Option<Expect>,
    #[serde(default, rename = "exchange")]
    pub exchanges: Vec<Exchange>,
}

impl Case {
    /// The exchanges of the case: the `[[case.exchange]]` list, or the one `request`/`expect` pair.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut all = Vec::new();
        if let Some(request) = &self.request {
            all.push(Exchange {
                request: request.clone(),
                expect: self.expect.clone().unwrap_or_default(),
            });
        }
        all.extend(self.exchanges.iter().cloned());
        all
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    pub request: Request,
    #[serde(default)]
    pub expect: Expect,
}

/// What the Java client puts on the wire.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    #[serde(default)]
    pub https: bool,
    /// To MI's internal HTTP API port (`/healthz`, `/liveness`: 9191 + offset, 9391 in MI's tests)
    /// instead of the pass-through HTTP port.
    #[serde(default)]
    pub internal_http: bool,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// "1.1", "1.2" or "pox": wrap `payload` (or the stock quote payload) as Axis2's client does.
    #[serde(default)]
    pub soap: Option<String>,
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub addressing_to: Option<String>,
    #[serde(default)]
    pub stockquote: Option<StockQuote>,
    /// Milliseconds to wait before sending (a test that sleeps between requests).
    #[serde(default)]
    pub wait_ms: u64,
}

/// One of `StockQuoteClient`'s payloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockQuote {
    pub operation: String,
    #[serde(default = "default_symbol")]
    pub symbol: String,
    #[serde(default = "default_count")]
    pub count: usize,
}

fn default_symbol() -> String {
    "WSO2".to_string()
}

fn default_count() -> usize {
    1
}

/// What the Java test asserts about one exchange.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body_contains: Vec<String>,
    #[serde(default)]
    pub body_not_contains: Vec<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The body is not empty (`Assert.assertFalse(payload.isEmpty())`).
    #[serde(default)]
    pub body_not_empty: bool,
    #[serde(default)]
    pub json: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub headers_absent: Vec<String>,
    #[serde(default)]
    pub log_contains: Vec<String>,
    #[serde(default)]
    pub log_not_contains: Vec<String>,
    #[serde(default)]
    pub backend: Vec<BackendExpect>,
}

/// What a backend must have received during the exchange.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendExpect {
    pub address: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub headers_absent: Vec<String>,
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// The backend received nothing during the exchange.
    #[serde(default)]
    pub none: bool,
}

/// A case file that cannot be used, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Reads every `*.toml` under `cases_dir` whose relative path contains `only` (all when `None`),
/// sorted by path.
pub fn load(cases_dir: &Path, only: Option<&str>) -> Result<Vec<CaseFile>, CaseError> {
    let mut paths = Vec::new();
    collect_toml(cases_dir, &mut paths).map_err(|source| CaseError::Io {
        path: cases_dir.display().to_string(),
        source,
    })?;
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(cases_dir).unwrap_or(&path).to_path_buf();
        if let Some(only) = only
            && !relative.to_string_lossy().contains(only)
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| CaseError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut file: CaseFile = toml::from_str(&text).map_err(|e| CaseError::Invalid {
            path: relative.display().to_string(),
            message: e.to_string(),
        })?;
        file.path = relative;
        hoist_source_keys(&mut file)?;
        validate(&file)?;
        files.push(file);
    }
    Ok(files)
}

/// Moves the keys that TOML put into `[source]` (they followed its header) to the case file;
/// each may be given in one place only.
fn hoist_source_keys(file: &mut CaseFile) -> Result<(), CaseError> {
    let path = file.path.display().to_string();
    let twice = |key: &str| CaseError::Invalid {
        path: path.clone(),
        message: format!("{key} given twice (top level and [source])"),
    };
    let source = &mut file.source;
    if !source.artifacts.is_empty() {
        if !file.artifacts.is_empty() {
            return Err(twice("artifacts"));
        }
        file.artifacts = std::mem::take(&mut source.artifacts);
    }
    if let Some(toml) = source.deployment_toml.take() {
        if file.deployment_toml.is_some() {
            return Err(twice("deployment_toml"));
        }
        file.deployment_toml = Some(toml);
    }
    if !source.capps.is_empty() {
        if !file.capps.is_empty() {
            return Err(twice("capps"));
        }
        file.capps = std::mem::take(&mut source.capps);
    }
    for (key, from, to) in [
        ("env", &mut source.env, &mut file.env),
        (
            "system_properties",
            &mut source.system_properties,
            &mut file.system_properties,
        ),
        ("home_files", &mut source.home_files, &mut file.home_files),
    ] {
        if !from.is_empty() {
            if !to.is_empty() {
                return Err(twice(key));
            }
            *to = std::mem::take(from);
        }
    }
    Ok(())
}

impl CaseFile {
    /// Whether the class changes the server itself (its configuration, its CApps, its process
    /// environment), so that it cannot share a server with other classes.
    pub fn needs_own_server(&self) -> bool {
        self.deployment_toml.is_some()
            || !self.capps.is_empty()
            || !self.env.is_empty()
            || !self.system_properties.is_empty()
            || !self.home_files.is_empty()
    }
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

fn validate(file: &CaseFile) -> Result<(), CaseError> {
    let invalid = |message: String| CaseError::Invalid {
        path: file.path.display().to_string(),
        message,
    };
    if file.cases.is_empty() {
        return Err(invalid("no [[case]]".into()));
    }
    for capp in &file.capps {
        if !valid_capp_name(capp) {
            return Err(invalid(format!(
                "capps: {capp:?} is not a file name ending in .car (CApps are read from shared/corpus/car/)"
            )));
        }
    }
    for name in file.env.keys().chain(file.system_properties.keys()) {
        if name.is_empty() || name.contains(['=', '\0']) || name.trim() != name {
            return Err(invalid(format!(
                "env/system_properties: {name:?} is not a variable name (non-empty, no '=', NUL or surrounding spaces)"
            )));
        }
    }
    for path in file.home_files.keys() {
        if !valid_home_path(path) {
            return Err(invalid(format!(
                "home_files: {path:?} must be a relative path inside the home (no '..', no leading '/', not conf/deployment.toml: use deployment_toml)"
            )));
        }
    }
    for case in &file.cases {
        if case.skip.is_none() && case.exchanges().is_empty() {
            return Err(invalid(format!(
                "case {} has no request (and no skip reason)",
                case.method
            )));
        }
        for exchange in case.exchanges() {
            let r = &exchange.request;
            if let Some(soap) = &r.soap
                && !matches!(soap.as_str(), "1.1" | "1.2" | "pox")
            {
                return Err(invalid(format!(
                    "case {}: soap = {soap:?}, expected \"1.1\", \"1.2\" or \"pox\"",
                    case.method
                )));
            }
            if r.https && r.internal_http {
                return Err(invalid(format!(
                    "case {}: a request goes to https or internal_http, not both",
                    case.method
                )));
            }
            if r.body.is_some() && (r.payload.is_some() || r.stockquote.is_some()) {
                return Err(invalid(format!(
                    "case {}: a request has either body or payload/stockquote",
                    case.method
                )));
            }
            if r.soap.is_some() && r.payload.is_none() && r.stockquote.is_none() {
                return Err(invalid(format!(
                    "case {}: soap needs payload or stockquote",
                    case.method
                )));
            }
        }
    }
    Ok(())
}

/// A corpus CApp: a plain file name ending in `.car`.
fn valid_capp_name(name: &str) -> bool {
    name.ends_with(".car")
        && name.len() > ".car".len()
        && !name.contains(['/', '\\'])
        && name != ".."
        && !name.starts_with('.')
}

/// A file of the home: relative, made of normal components only, and not the deployment.toml the
/// runner writes itself.
fn valid_home_path(path: &str) -> bool {
    let relative = Path::new(path);
    !path.is_empty()
        && !path.contains('\\')
        && relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        && relative != Path::new("conf/deployment.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "[source]\nmodule = \"m\"\nclass = \"a.B\"\ncommit = \"c\"\n";

    fn parse(text: &str) -> Result<CaseFile, CaseError> {
        let mut file: CaseFile = toml::from_str(text).map_err(|e| CaseError::Invalid {
            path: "t.toml".into(),
            message: e.to_string(),
        })?;
        hoist_source_keys(&mut file)?;
        validate(&file)?;
        Ok(file)
    }

    fn with_case(head: &str) -> String {
        format!("{head}\n[[case]]\nmethod = \"m\"\n[case.request]\npath = \"/x\"\n")
    }

    #[test]
    fn server_keys_after_source_move_to_the_file_and_need_an_own_server() {
        let text = with_case(&format!(
            "{SOURCE}capps = [\"a_1.0.0.car\"]\nenv = {{ url = \"http://localhost:8480/x\" }}\n\
             system_properties = {{ k = \"v\" }}\nhome_files = {{ \"conf/file.properties\" = \"k=v\" }}\n"
        ));
        let file = parse(&text).unwrap();
        assert_eq!(file.capps, ["a_1.0.0.car"]);
        assert_eq!(file.env["url"], "http://localhost:8480/x");
        assert_eq!(file.system_properties["k"], "v");
        assert_eq!(file.home_files["conf/file.properties"], "k=v");
        assert!(file.source.capps.is_empty() && file.source.env.is_empty());
        assert!(file.needs_own_server());
        let plain = parse(&with_case(SOURCE)).unwrap();
        assert!(!plain.needs_own_server());
    }

    #[test]
    fn a_key_given_at_the_top_and_in_source_is_refused() {
        let text = with_case(&format!(
            "capps = [\"a.car\"]\n{SOURCE}capps = [\"b.car\"]\n"
        ));
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("capps given twice"), "{err}");
    }

    #[test]
    fn capp_names_and_home_paths_cannot_leave_their_folders() {
        for bad in ["../x.car", "sub/x.car", "x.zip", ".car", "..\\x.car"] {
            let text = with_case(&format!("capps = [{bad:?}]\n{SOURCE}"));
            assert!(parse(&text).is_err(), "{bad}");
        }
        for bad in [
            "../etc/x",
            "/etc/x",
            "conf/../../x",
            "conf/deployment.toml",
            "",
        ] {
            let text = with_case(&format!("home_files = {{ {bad:?} = \"\" }}\n{SOURCE}"));
            assert!(parse(&text).is_err(), "{bad}");
        }
        let text = with_case(&format!("env = {{ \"A=B\" = \"x\" }}\n{SOURCE}"));
        assert!(parse(&text).is_err());
        let good = with_case(&format!(
            "capps = [\"hello-world_1.0.0.car\"]\nhome_files = {{ \"conf/file.properties\" = \"\" }}\n{SOURCE}"
        ));
        assert!(parse(&good).is_ok());
    }

    #[test]
    fn a_request_goes_to_one_listener() {
        let text = format!(
            "{SOURCE}[[case]]\nmethod = \"m\"\n[case.request]\npath = \"/healthz\"\nhttps = true\ninternal_http = true\n"
        );
        assert!(parse(&text).is_err());
    }
}
