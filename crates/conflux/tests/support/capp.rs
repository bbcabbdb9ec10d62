//! Carbon applications (`.car`) for end-to-end tests, built in memory with the `zip` writer in
//! the layout the VS Code MI extension and Integration Studio produce (MI `CappDeployer`):
//! `artifacts.xml` (the `carbon/application` artifact and its dependencies), one
//! `<name>_<version>/` folder per artifact with `artifact.xml` and its file, registry resources as
//! `registry-info.xml` + `resources/<file>`, `config/property` as `config.properties`, and swagger
//! definitions under `metadata/` (listed in `metadata.xml`). Also: re-packing a `.car` with its
//! texts rewritten (the corpus CApps' backend addresses), dropping a CApp into a home, polling
//! helpers, and a Management API client (login, `/applications`, multipart upload, delete).

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::backend::https_request_with;
use super::{BIN, HttpResponse, Server, free_offset};

/// Where a home's carbon applications are deployed from (MI `carbonapps`).
pub const CARBONAPPS: &str = "repository/deployment/server/carbonapps";

/// The server role the VS Code MI extension writes.
pub const SERVER_ROLE: &str = "EnterpriseIntegrator";

/// How long a test waits for a change to show (debounce, assembly and a loaded debug build).
pub const CHANGE_TIMEOUT: Duration = Duration::from_secs(20);

/// One artifact folder of a CApp.
#[derive(Debug, Clone)]
struct Folder {
    /// The artifact's name (what `artifacts.xml` depends on).
    name: String,
    /// `artifact.xml` `type` (`synapse/api`, `registry/resource`, ...).
    kind: String,
    /// Folder inside the zip (`<name>_<version>`, or `metadata/<name>_<version>`).
    dir: String,
    /// `<file>` elements of `artifact.xml`.
    files: Vec<String>,
    /// Zip entries of the folder, relative to it.
    entries: Vec<(String, Vec<u8>)>,
    /// Listed in `metadata.xml` only (a `synapse/metadata` artifact).
    metadata: bool,
    /// Declared as a dependency of the application.
    declared: bool,
}

/// A registry resource of a `registry/resource` artifact (`registry-info.xml` `<item>`).
#[derive(Debug, Clone)]
pub struct RegistryItem {
    /// The file name (also the last segment of its registry key).
    pub file: String,
    /// The registry path (`/_system/config/x` means `conf:/x`, `/_system/governance/x` `gov:/x`).
    pub path: String,
    pub media_type: String,
    pub content: Vec<u8>,
    pub properties: Vec<(String, String)>,
}

impl RegistryItem {
    pub fn new(path: &str, file: &str, media_type: &str, content: &str) -> RegistryItem {
        RegistryItem {
            file: file.into(),
            path: path.into(),
            media_type: media_type.into(),
            content: content.as_bytes().to_vec(),
            properties: Vec::new(),
        }
    }

    pub fn property(mut self, key: &str, value: &str) -> RegistryItem {
        self.properties.push((key.into(), value.into()));
        self
    }
}

/// A carbon application under construction.
#[derive(Debug, Clone)]
pub struct CAppBuilder {
    name: String,
    version: String,
    folders: Vec<Folder>,
    /// Extra zip entries, as given (any name, zip-slip ones included).
    raw_entries: Vec<(String, Vec<u8>)>,
    /// Dependencies with no folder (a missing artifact).
    dangling: Vec<String>,
    with_descriptor: bool,
}

impl CAppBuilder {
    /// An application `name` at version 1.0.0.
    pub fn new(name: &str) -> CAppBuilder {
        CAppBuilder {
            name: name.into(),
            version: "1.0.0".into(),
            folders: Vec::new(),
            raw_entries: Vec::new(),
            dangling: Vec::new(),
            with_descriptor: true,
        }
    }

    /// `<name>_<version>.car`, the file name the tooling gives it.
    pub fn file_name(&self) -> String {
        format!("{}_{}.car", self.name, self.version)
    }

    /// The file name without `.car` (what `DELETE /management/applications/{name}` takes).
    pub fn file_stem(&self) -> String {
        format!("{}_{}", self.name, self.version)
    }

    /// An artifact of any `type` with one file (`<name>-<version>.<ext>` unless `file` is given).
    pub fn artifact(mut self, name: &str, kind: &str, file: &str, content: &[u8]) -> CAppBuilder {
        let dir = format!("{name}_{}", self.version);
        self.folders.push(Folder {
            name: name.into(),
            kind: kind.into(),
            dir,
            files: vec![file.into()],
            entries: vec![(file.into(), content.to_vec())],
            metadata: false,
            declared: true,
        });
        self
    }

    /// A Synapse artifact of `kind` (`api`, `proxy-service`, `sequence`, `endpoint`,
    /// `local-entry`, `template`) named `name`, its XML in `<name>-<version>.xml`.
    pub fn synapse(self, kind: &str, name: &str, xml: &str) -> CAppBuilder {
        let file = format!("{name}-{}.xml", self.version);
        self.artifact(name, &format!("synapse/{kind}"), &file, xml.as_bytes())
    }

    pub fn api(self, name: &str, xml: &str) -> CAppBuilder {
        self.synapse("api", name, xml)
    }

    pub fn proxy(self, name: &str, xml: &str) -> CAppBuilder {
        self.synapse("proxy-service", name, xml)
    }

    pub fn sequence(self, name: &str, xml: &str) -> CAppBuilder {
        self.synapse("sequence", name, xml)
    }

    pub fn endpoint(self, name: &str, xml: &str) -> CAppBuilder {
        self.synapse("endpoint", name, xml)
    }

    pub fn local_entry(self, name: &str, xml: &str) -> CAppBuilder {
        self.synapse("local-entry", name, xml)
    }

    pub fn template(self, name: &str, xml: &str) -> CAppBuilder {
        self.synapse("template", name, xml)
    }

    /// A `registry/resource` artifact holding `items` (`registry-info.xml` + `resources/`).
    pub fn registry(mut self, name: &str, items: &[RegistryItem]) -> CAppBuilder {
        let mut info = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><resources>\n");
        let mut entries = Vec::new();
        for item in items {
            let properties: String = item
                .properties
                .iter()
                .map(|(k, v)| format!("<property key=\"{k}\" value=\"{v}\"/>"))
                .collect();
            info.push_str(&format!(
                "    <item>\n        <file>{}</file>\n        <path>{}</path>\n        <mediaType>{}</mediaType>\n        <properties>{properties}</properties>\n    </item>\n",
                item.file, item.path, item.media_type
            ));
            entries.push((format!("resources/{}", item.file), item.content.clone()));
        }
        info.push_str("</resources>\n");
        entries.push(("registry-info.xml".into(), info.into_bytes()));
        self.folders.push(Folder {
            name: name.into(),
            kind: "registry/resource".into(),
            dir: format!("{name}_{}", self.version),
            files: vec!["registry-info.xml".into()],
            entries,
            metadata: false,
            declared: true,
        });
        self
    }

    /// A `config/property` artifact: `config.properties` with `name:type` lines.
    pub fn config_properties(self, name: &str, lines: &str) -> CAppBuilder {
        self.artifact(
            name,
            "config/property",
            "config.properties",
            lines.as_bytes(),
        )
    }

    /// The swagger definition of the API artifact `api`: `metadata/<api>_swagger_<v>/`, a
    /// `synapse/metadata` artifact listed in `metadata.xml` (MI 4.x's layout).
    pub fn swagger(mut self, api: &str, yaml: &str) -> CAppBuilder {
        let name = format!("{api}_swagger");
        let file = format!("{name}-{}.yaml", self.version);
        self.folders.push(Folder {
            dir: format!("metadata/{name}_{}", self.version),
            name,
            kind: "synapse/metadata".into(),
            files: vec![file.clone()],
            entries: vec![(file, yaml.as_bytes().to_vec())],
            metadata: true,
            declared: true,
        });
        self
    }

    /// A zip entry as given, outside any artifact (e.g. `../evil.xml`).
    pub fn raw_entry(mut self, name: &str, content: &[u8]) -> CAppBuilder {
        self.raw_entries.push((name.into(), content.to_vec()));
        self
    }

    /// A dependency in `artifacts.xml` that no folder provides.
    pub fn missing_dependency(mut self, name: &str) -> CAppBuilder {
        self.dangling.push(name.into());
        self
    }

    /// Leaves `artifacts.xml` (and `metadata.xml`) out.
    pub fn without_descriptor(mut self) -> CAppBuilder {
        self.with_descriptor = false;
        self
    }

    fn descriptor(&self, include_metadata: bool) -> String {
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><artifacts>\n    <artifact name=\"{}\" version=\"{}\" type=\"carbon/application\">\n",
            self.name, self.version
        );
        let names = self
            .folders
            .iter()
            .filter(|f| f.declared && (include_metadata || !f.metadata))
            .map(|f| f.name.as_str())
            .chain(self.dangling.iter().map(String::as_str));
        for name in names {
            xml.push_str(&format!(
                "        <dependency artifact=\"{name}\" version=\"{}\" include=\"true\" serverRole=\"{SERVER_ROLE}\"/>\n",
                self.version
            ));
        }
        xml.push_str("    </artifact>\n</artifacts>\n");
        xml
    }

    /// The `.car` bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        let mut add = |name: &str, content: &[u8]| {
            zip.start_file(name, options).expect("start zip entry");
            zip.write_all(content).expect("write zip entry");
        };
        if self.with_descriptor {
            add("artifacts.xml", self.descriptor(false).as_bytes());
            if self.folders.iter().any(|f| f.metadata) {
                add("metadata.xml", self.descriptor(true).as_bytes());
            }
        }
        for folder in &self.folders {
            let files: String = folder
                .files
                .iter()
                .map(|f| format!("\n    <file>{f}</file>"))
                .collect();
            let artifact_xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><artifact name=\"{}\" version=\"{}\" type=\"{}\" serverRole=\"{SERVER_ROLE}\">{files}\n</artifact>\n",
                folder.name, self.version, folder.kind
            );
            add(
                &format!("{}/artifact.xml", folder.dir),
                artifact_xml.as_bytes(),
            );
            for (name, content) in &folder.entries {
                add(&format!("{}/{name}", folder.dir), content);
            }
        }
        for (name, content) in &self.raw_entries {
            add(name, content);
        }
        zip.finish().expect("finish zip").into_inner()
    }

    /// Writes the `.car` into `dir` (created if needed) in one write; returns its path.
    pub fn write_into(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("create carbonapps");
        let path = dir.join(self.file_name());
        std::fs::write(&path, self.build()).expect("write .car");
        path
    }

    /// Writes the `.car` to a temporary name in `dir` and renames it into place, as a copy tool
    /// or a deployment script does; returns its path.
    pub fn write_into_atomically(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("create carbonapps");
        let path = dir.join(self.file_name());
        let temporary = dir.join(format!(".{}.part", self.file_name()));
        std::fs::write(&temporary, self.build()).expect("write temporary .car");
        std::fs::rename(&temporary, &path).expect("rename .car into place");
        path
    }
}

/// The home's `carbonapps` folder.
pub fn carbonapps(home: &Path) -> PathBuf {
    home.join(CARBONAPPS)
}

/// A copy of the zip `car` in which every text entry (`.xml`, `.properties`, `.json`, `.yaml`)
/// has each `(from, to)` replaced; other entries are copied as they are. This is how the corpus
/// CApps' fixed backend addresses are pointed at test backends (as the conformance runner does
/// for loose artifacts).
pub fn rewrite_car(car: &[u8], replacements: &[(&str, &str)]) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(car)).expect("a readable .car");
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("zip entry");
        let name = entry.name().expect("entry name").to_string();
        if entry.is_dir() {
            zip.add_directory(name.as_str(), options)
                .expect("add directory");
            continue;
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("read zip entry");
        let is_text = [".xml", ".properties", ".json", ".yaml", ".dbs"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if is_text && let Ok(text) = String::from_utf8(content.clone()) {
            let mut text = text;
            for (from, to) in replacements {
                text = text.replace(from, to);
            }
            content = text.into_bytes();
        }
        zip.start_file(name.as_str(), options)
            .expect("start zip entry");
        zip.write_all(&content).expect("write zip entry");
    }
    zip.finish().expect("finish zip").into_inner()
}

/// Starts the binary on `home` at a free port offset with `extra` arguments and these
/// environment variables (`$SYSTEM:` and `$config:` values come from the environment).
pub fn start_with_env(home: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let offset = free_offset();
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("--home")
        .arg(home)
        .arg(format!("-DportOffset={offset}"))
        .args(extra)
        .envs(env.iter().copied());
    Server::spawn(cmd, offset)
}

/// Runs `conflux` to completion with these environment variables: (exit code, stdout, stderr).
pub fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run conflux");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Calls `probe` every 50 ms until it returns `Ok`, and returns that; after `timeout`, fails the
/// test with `what` and the last `Err`.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) => {
                assert!(
                    Instant::now() < deadline,
                    "timed out after {timeout:?} waiting for {what}; last seen: {last}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A Management API session over HTTPS (the internal HTTPS port), logged in once.
pub struct Management {
    pub port: u16,
    token: String,
}

impl Management {
    /// `GET /management/login` with Basic `user:password`; panics unless it answers a token.
    pub fn login(port: u16, user: &str, password: &str) -> Management {
        let r = https_request_with(
            "GET",
            port,
            "/management/login",
            &[(
                "Authorization",
                format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            )],
            b"",
        );
        assert_eq!(r.status, 200, "login as {user}: {}", r.text());
        let body: Value = serde_json::from_slice(&r.body).expect("login JSON");
        let token = body["AccessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("no AccessToken in {body}"))
            .to_string();
        Management { port, token }
    }

    /// MI's default user (a home without `[[internal_apis.users]]`).
    pub fn admin(port: u16) -> Management {
        Management::login(port, "admin", "admin")
    }

    pub fn call(
        &self,
        method: &str,
        resource: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> HttpResponse {
        let mut all = vec![("Authorization", format!("Bearer {}", self.token))];
        all.extend(headers.iter().cloned());
        https_request_with(
            method,
            self.port,
            &format!("/management/{resource}"),
            &all,
            body,
        )
    }

    /// A GET that must answer 200 with JSON.
    pub fn get_json(&self, resource: &str) -> Value {
        let r = self.call("GET", resource, &[], b"");
        assert_eq!(r.status, 200, "GET {resource}: {}", r.text());
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("GET {resource}: not JSON ({e}): {}", r.text()))
    }

    /// `GET /management/applications`.
    pub fn applications(&self) -> Applications {
        Applications(self.get_json("applications"))
    }

    /// `POST /management/applications`: `car` as the one part of a multipart/form-data body,
    /// built by hand as MI's `mi` CLI and curl `-F file=@X.car` send it.
    pub fn upload(&self, file_name: &str, car: &[u8]) -> HttpResponse {
        let (content_type, body) = multipart_file("file", file_name, car);
        self.call(
            "POST",
            "applications",
            &[("Content-Type", content_type)],
            &body,
        )
    }

    /// `DELETE /management/applications/{name}` (the file name without `.car`).
    pub fn delete(&self, name: &str) -> HttpResponse {
        self.call("DELETE", &format!("applications/{name}"), &[], b"")
    }
}

/// `(Content-Type, body)` of a multipart/form-data request with one file part.
pub fn multipart_file(field: &str, file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----ConfluxTestBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The `/management/applications` answer.
#[derive(Debug, Clone)]
pub struct Applications(pub Value);

impl Applications {
    fn list(&self, key: &str) -> Vec<Value> {
        self.0[key].as_array().cloned().unwrap_or_default()
    }

    /// The names of the active applications.
    pub fn active(&self) -> Vec<String> {
        names(&self.list("activeList"))
    }

    /// The names of the faulty applications.
    pub fn faulty(&self) -> Vec<String> {
        names(&self.list("faultyList"))
    }

    /// The active application named `name`.
    pub fn active_app(&self, name: &str) -> Option<Value> {
        self.list("activeList")
            .into_iter()
            .find(|a| a["name"] == name)
    }

    /// The faulty application named `name`.
    pub fn faulty_app(&self, name: &str) -> Option<Value> {
        self.list("faultyList")
            .into_iter()
            .find(|a| a["name"] == name)
    }

    /// Why the faulty application `name` did not deploy (Conflux's `error` field).
    pub fn error_of(&self, name: &str) -> Option<String> {
        self.faulty_app(name)
            .and_then(|a| a["error"].as_str().map(str::to_string))
    }
}

fn names(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|a| a["name"].as_str().map(str::to_string))
        .collect()
}

/// `(name, type)` of an application's artifacts, as `/applications` lists them.
pub fn artifact_list(app: &Value) -> Vec<(String, String)> {
    app["artifacts"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| {
                    (
                        a["name"].as_str().unwrap_or_default().to_string(),
                        a["type"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Standard Base64 (the test crate has no base64 dependency).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
