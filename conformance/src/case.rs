//! The case files: one TOML file per ported MI test class (`cases/<module>/<dir>/<Class>.toml`), read
//! into [`CaseFile`]s and checked for what serde cannot check (an exchange needs a request, a SOAP
//! request needs a payload). The format is described in `conformance/README.md`.

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
    #[serde(default, rename = "backend")]
    pub backends: Vec<BackendSpec>,
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
    /// The file it was read from, relative to the cases folder (set by [`load`]).
    #[serde(skip)]
    pub path: PathBuf,
}

/// Where the facts come from: the MI test class, at a commit of wso2/micro-integrator. The
/// `artifacts` and `deployment_toml` lines of a case file usually follow `[source]` (and so belong
/// to this table in TOML); [`load`] moves them to the [`CaseFile`].
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
        if !file.source.artifacts.is_empty() {
            if !file.artifacts.is_empty() {
                return Err(CaseError::Invalid {
                    path: file.path.display().to_string(),
                    message: "artifacts given twice (top level and [source])".into(),
                });
            }
            file.artifacts = std::mem::take(&mut file.source.artifacts);
        }
        if let Some(toml) = file.source.deployment_toml.take() {
            file.deployment_toml = Some(toml);
        }
        validate(&file)?;
        files.push(file);
    }
    Ok(files)
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
