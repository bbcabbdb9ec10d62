//! `Application` and `Applications`: what the deployer tells the rest of the server about the
//! carbon applications (CApps, `carbonapps/*.car`) it found: which deployed whole and which are
//! faulty, with their artifacts as MI's Management API lists them
//! (MI `CarbonAppResource`, `Utils.createCAppJSONList`).

/// One carbon application.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Application {
    /// The `name` of the `carbon/application` artifact in `artifacts.xml` (the file name without
    /// `.car` when it has none).
    pub name: String,
    pub version: Option<String>,
    /// The file in `carbonapps/` (e.g. `HelloCApp_1.0.0.car`): MI's DELETE and download take it.
    pub file_name: String,
    /// The artifacts it declares, in `artifacts.xml` order (metadata entries left out, as MI does).
    pub artifacts: Vec<ApplicationArtifact>,
    /// Why it did not deploy (faulty ones only), with the file and line of the failure.
    pub error: Option<String>,
}

/// One artifact of a carbon application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationArtifact {
    pub name: String,
    /// The full type as `artifact.xml` writes it (`synapse/api`, `registry/resource`, ...).
    pub kind: String,
}

impl ApplicationArtifact {
    /// The short type MI's Management API shows: the part after the `/` (`api`, `resource`).
    pub fn short_kind(&self) -> &str {
        self.kind.split('/').nth(1).unwrap_or(&self.kind)
    }
}

/// Every carbon application found, deployed or not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applications {
    pub active: Vec<Application>,
    pub faulty: Vec<Application>,
}
