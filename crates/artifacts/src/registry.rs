//! The file registry behind `conf:`, `gov:`, `local:` and `resources:` keys: an in-memory snapshot
//! of MI's `<home>/registry/{config,governance,local}` folders (and of the `registry/resource`
//! artifacts of CApps, which other code inserts), with MI's key normalisation, media types from
//! `.metadata/<file>.meta` and resource properties from `<file>.properties` /
//! `<dir>.collections.properties` sidecars.
//!
//! MI sources: `MicroIntegratorRegistry.java` (`resolveRegistryURI`, `lookup`, `readNonXML`,
//! `getResourceProperties`, `getMetadata`) and `MicroIntegratorRegistryConstants.java` in
//! components/mediation/registry/org.wso2.micro.integrator.registry; `AppDeployerUtils.java`
//! (`createRegistryPath`, `computeResourcePath`) in org.wso2.micro.integrator.core.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::error::ArtifactError;
use crate::span::Span;

/// Largest registry file (resource or sidecar) read; larger ones are reported and left out.
pub const MAX_REGISTRY_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Most resources loaded from one registry folder; the rest are reported and left out.
pub const MAX_REGISTRY_FILES: usize = 10_000;

/// Deepest folder nesting under `config/`, `governance/` or `local/` that is walked.
pub const MAX_REGISTRY_DEPTH: usize = 32;

/// The media type of a resource without one (`MicroIntegratorRegistryConstants.DEFAULT_MEDIA_TYPE`).
pub const DEFAULT_MEDIA_TYPE: &str = "text/plain";

/// The three registries of MI's file registry, each a folder under `<home>/registry/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegistryRoot {
    /// `conf:` -> `registry/config/`.
    Config,
    /// `gov:` (and keys without a prefix, and `resources:` under `mi-resources/`) ->
    /// `registry/governance/`.
    Governance,
    /// `local:` -> `registry/local/`.
    Local,
}

impl RegistryRoot {
    pub const ALL: [RegistryRoot; 3] = [
        RegistryRoot::Config,
        RegistryRoot::Governance,
        RegistryRoot::Local,
    ];

    /// The key prefix of canonical keys (`conf:`, `gov:`, `local:`).
    pub fn prefix(self) -> &'static str {
        match self {
            RegistryRoot::Config => "conf:",
            RegistryRoot::Governance => "gov:",
            RegistryRoot::Local => "local:",
        }
    }

    /// The folder under the registry root (`CONFIG_DIRECTORY_NAME` etc.).
    pub fn dir(self) -> &'static str {
        match self {
            RegistryRoot::Config => "config",
            RegistryRoot::Governance => "governance",
            RegistryRoot::Local => "local",
        }
    }
}

/// `resources:` keys live under this folder of the governance registry
/// (`MicroIntegratorRegistryConstants.MI_RESOURCES_DIRECTORY_NAME`).
pub const MI_RESOURCES_DIR: &str = "mi-resources";

/// Whether `key` starts with one of the prefixes MI's registry resolves (`conf:`, `gov:`,
/// `local:`, `resources:`). A key without one is still a governance key to the registry, but
/// names a deployed artifact first.
pub fn has_registry_prefix(key: &str) -> bool {
    ["conf:", "gov:", "local:", "resources:"]
        .iter()
        .any(|p| key.starts_with(p))
}

/// The registry and the path segments inside it that `key` names, `..` and `.` resolved, or
/// `None` when the key climbs out of its registry (`resolveRegistryURI`: "The registry key 'K' is
/// illegal which points to a location outside the registry"). Empty segments (`conf://a`, a
/// trailing `/`) vanish as they do in a file path.
fn resolve(key: &str) -> Option<(RegistryRoot, Vec<&str>)> {
    let (root, rest, base): (RegistryRoot, &str, &[&str]) =
        if let Some(rest) = key.strip_prefix("conf:") {
            (RegistryRoot::Config, rest, &[])
        } else if let Some(rest) = key.strip_prefix("gov:") {
            (RegistryRoot::Governance, rest, &[])
        } else if let Some(rest) = key.strip_prefix("local:") {
            (RegistryRoot::Local, rest, &[])
        } else if let Some(rest) = key.strip_prefix("resources:") {
            (RegistryRoot::Governance, rest, &[MI_RESOURCES_DIR])
        } else {
            (RegistryRoot::Governance, key, &[])
        };
    let mut segments: Vec<&str> = base.to_vec();
    for segment in rest.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    Some((root, segments))
}

/// The canonical form of a registry key (`conf:/a/b.xml`): `conf:a/b.xml`, `conf:/a/./b.xml` and
/// `conf:/a/b.xml` are one key; `resources:x` is `gov:/mi-resources/x`; a key without a prefix is
/// a governance key. `None` for a key that points outside its registry.
pub fn normalize_key(key: &str) -> Option<String> {
    let (root, segments) = resolve(key)?;
    Some(format!("{}/{}", root.prefix(), segments.join("/")))
}

/// Where the file of `key` lives relative to the registry folder (`config/a/b.xml`), for
/// messages that say where the registry looks. `None` for a key outside the registry.
pub fn registry_file_path(key: &str) -> Option<String> {
    let (root, segments) = resolve(key)?;
    let mut path = root.dir().to_string();
    for s in segments {
        path.push('/');
        path.push_str(s);
    }
    Some(path)
}

/// The registry key of a CApp registry item: `AppDeployerUtils.createRegistryPath(path)` (a
/// `gov:`/`conf:`/`local:` value is kept; `/_system/governance...` -> `gov:...`,
/// `/_system/config...` -> `conf:...`, `/_system/local...` -> `local:...`; anything else is
/// `gov:` + path), then `computeResourcePath` with the item's file (joined by `/` unless the
/// path already ends with one).
pub fn registry_key_for_path(path: &str, file: Option<&str>) -> String {
    let base = if ["gov:", "conf:", "local:"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        path.to_string()
    } else if let Some(rest) = path.strip_prefix("/_system/governance") {
        format!("gov:{rest}")
    } else if let Some(rest) = path.strip_prefix("/_system/config") {
        format!("conf:{rest}")
    } else if let Some(rest) = path.strip_prefix("/_system/local") {
        format!("local:{rest}")
    } else {
        format!("gov:{path}")
    };
    match file {
        None => base,
        Some(file) if base.ends_with('/') => format!("{base}{file}"),
        Some(file) => format!("{base}/{file}"),
    }
}

/// A key that cannot be stored: it points outside the registry, or at a registry's root folder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the registry key '{key}' is illegal: {reason}")]
pub struct RegistryKeyError {
    pub key: String,
    pub reason: &'static str,
}

/// One registry resource: its bytes, media type, properties and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryResource {
    content: Arc<[u8]>,
    media_type: Option<String>,
    properties: BTreeMap<String, String>,
    origin: String,
    /// The byte range of the document element when the content is well-formed XML (what MI's
    /// `lookup` returns for it).
    xml_root: Option<Range<usize>>,
}

impl RegistryResource {
    /// A resource; `properties` in any order (a `BTreeMap` or the `Vec` of a CApp's
    /// registry-info.xml); `origin` labels it in errors (`registry/config/a.xml`,
    /// `Foo.car!/res_1.0.0/resources/a.xml`).
    pub fn new(
        content: impl Into<Arc<[u8]>>,
        media_type: Option<String>,
        properties: impl IntoIterator<Item = (String, String)>,
        origin: impl Into<String>,
    ) -> Self {
        let content: Arc<[u8]> = content.into();
        let xml_root = std::str::from_utf8(&content)
            .ok()
            .and_then(|text| roxmltree::Document::parse(text).ok())
            .map(|doc| doc.root_element().range());
        RegistryResource {
            content,
            media_type: media_type.filter(|m| !m.trim().is_empty()),
            // A later property of the same name wins, as in java.util.Properties.
            properties: properties.into_iter().collect(),
            origin: origin.into(),
            xml_root,
        }
    }

    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The media type given in `.metadata/<file>.meta` or the CApp's registry-info.xml.
    pub fn media_type(&self) -> Option<&str> {
        self.media_type.as_deref()
    }

    pub fn properties(&self) -> &BTreeMap<String, String> {
        &self.properties
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether the content is well-formed XML (MI's `lookup` returns its document element).
    pub fn is_xml(&self) -> bool {
        self.xml_root.is_some()
    }

    /// Whether MI's `readNonXML` makes this a binary node: not XML, and a media type other than
    /// `text/plain`. `get-property('registry', key)` then answers the content in base64
    /// (Axiom `OMText.getText()` of a binary node).
    pub fn is_binary(&self) -> bool {
        !self.is_xml() && self.media_type().unwrap_or(DEFAULT_MEDIA_TYPE) != DEFAULT_MEDIA_TYPE
    }

    /// The resource as text: the document element of XML content as written; otherwise the
    /// lines of the content joined by `\n`, without the last line's end (`readNonXML`: each
    /// line read and suffixed with the line separator, the last one removed). Binary media types
    /// are read as text too, as MI does since product-integrator-mi#4778 (payloadFactory with a
    /// JSON format from the registry).
    pub fn text(&self) -> Cow<'_, str> {
        if let Some(range) = &self.xml_root
            && let Ok(text) = std::str::from_utf8(&self.content)
            && let Some(root) = text.get(range.clone())
        {
            return Cow::Borrowed(root);
        }
        let text = String::from_utf8_lossy(&self.content);
        if text.contains('\r') {
            let joined = text.replace("\r\n", "\n").replace('\r', "\n");
            let trimmed = joined.strip_suffix('\n').unwrap_or(&joined).to_string();
            return Cow::Owned(trimmed);
        }
        match text {
            Cow::Borrowed(t) => Cow::Borrowed(t.strip_suffix('\n').unwrap_or(t)),
            Cow::Owned(t) => Cow::Owned(t.strip_suffix('\n').unwrap_or(&t).to_string()),
        }
    }
}

/// Every registry resource by canonical key, and the properties of collections (folders).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    resources: BTreeMap<String, RegistryResource>,
    collection_properties: BTreeMap<String, BTreeMap<String, String>>,
}

impl Registry {
    /// The resource `key` names (any spelling of it: `conf:/a`, `conf:a`, `conf:/x/../a`).
    pub fn get(&self, key: &str) -> Option<&RegistryResource> {
        self.resources.get(&normalize_key(key)?)
    }

    /// The resource as text ([`RegistryResource::text`]).
    pub fn text(&self, key: &str) -> Option<Cow<'_, str>> {
        self.get(key).map(RegistryResource::text)
    }

    /// Property `name` of the resource or collection `key` (`getResourceProperties`: the
    /// resource's `<file>.properties`, or a folder's `<dir>.collections.properties`).
    pub fn property(&self, key: &str, name: &str) -> Option<&str> {
        let key = normalize_key(key)?;
        match self.resources.get(&key) {
            Some(resource) => resource.properties.get(name),
            None => self.collection_properties.get(&key)?.get(name),
        }
        .map(String::as_str)
    }

    /// Stores `resource` under `key`, replacing (and returning) what was there: a CApp's
    /// resource overwrites the file of the same key in MI (`addNewNonEmptyResource`).
    pub fn insert(
        &mut self,
        key: impl AsRef<str>,
        resource: RegistryResource,
    ) -> Result<Option<RegistryResource>, RegistryKeyError> {
        let key = storable_key(key.as_ref())?;
        Ok(self.resources.insert(key, resource))
    }

    /// Sets the properties of the collection (folder) `key`.
    pub fn insert_collection_properties(
        &mut self,
        key: &str,
        properties: BTreeMap<String, String>,
    ) -> Result<(), RegistryKeyError> {
        let key = storable_key(key)?;
        self.collection_properties.insert(key, properties);
        Ok(())
    }

    /// Removes the resource `key` (a CApp's undeploy deletes its resources).
    pub fn remove(&mut self, key: &str) -> Option<RegistryResource> {
        self.resources.remove(&normalize_key(key)?)
    }

    /// The number of resources (collections not counted).
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The canonical keys of every resource, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.resources.keys().map(String::as_str)
    }

    /// Adds every resource and collection of `other`, replacing those of the same key.
    pub fn extend(&mut self, other: Registry) {
        self.resources.extend(other.resources);
        self.collection_properties
            .extend(other.collection_properties);
    }
}

fn storable_key(key: &str) -> Result<String, RegistryKeyError> {
    match resolve(key) {
        None => Err(RegistryKeyError {
            key: key.to_string(),
            reason: "it points to a location outside the registry",
        }),
        Some((_, segments)) if segments.is_empty() => Err(RegistryKeyError {
            key: key.to_string(),
            reason: "it names the root folder of a registry",
        }),
        Some(_) => Ok(normalize_key(key).unwrap_or_default()),
    }
}

/// Resource properties (`<file>.properties`) and collection properties
/// (`<dir>.collections.properties`), MI's `PROPERTY_EXTENTION` / `COLLECTION_PROPERTY_EXTENTION`.
const PROPERTIES_SUFFIX: &str = ".properties";
const COLLECTION_PROPERTIES_SUFFIX: &str = ".collections.properties";
/// `<dir>/.metadata/<file>.meta` holds a resource's `mediaType` (`MicroIntegratorRegistry`).
const METADATA_DIR: &str = ".metadata";
const METADATA_SUFFIX: &str = ".meta";
const METADATA_MEDIA_TYPE: &str = "mediaType";

/// Loads MI's file registry from `root` (`<home>/registry`): every file under `config/`,
/// `governance/` and `local/` is a resource keyed `conf:/...`, `gov:/...`, `local:/...`. Hidden
/// entries (`.metadata/`, dot files) are skipped (`HIDDEN_FILE_PREFIX`), as are `.properties`
/// sidecars of an existing file or folder, which become the properties of what they describe.
/// A missing root is an empty registry. Problems are reported; nothing stops the load.
pub fn load_file_registry(root: &Path) -> (Registry, Vec<ArtifactError>) {
    let mut loader = Loader {
        registry: Registry::default(),
        errors: Vec::new(),
        files: 0,
        canonical_root: fs::canonicalize(root).ok(),
    };
    for kind in RegistryRoot::ALL {
        let dir = root.join(kind.dir());
        let label = format!("registry/{}", kind.dir());
        if loader.files > MAX_REGISTRY_FILES {
            break;
        }
        loader.walk(kind.prefix(), &dir, &label, "", 0);
    }
    (loader.registry, loader.errors)
}

/// Loads one folder whose files are keyed `<prefix>/<path inside it>` (a VS Code MI project's
/// `src/main/wso2mi/resources/registry/conf` with prefix `conf:`), with the same sidecars, skips
/// and limits as [`load_file_registry`]. Errors are labelled with `dir` as given. A missing
/// folder is an empty registry.
pub fn load_registry_folder(dir: &Path, prefix: &str) -> (Registry, Vec<ArtifactError>) {
    let mut loader = Loader {
        registry: Registry::default(),
        errors: Vec::new(),
        files: 0,
        canonical_root: fs::canonicalize(dir).ok(),
    };
    let label = dir.display().to_string();
    loader.walk(prefix, dir, label.trim_end_matches('/'), "", 0);
    (loader.registry, loader.errors)
}

struct Loader {
    registry: Registry,
    errors: Vec<ArtifactError>,
    /// Resources seen so far; one past the limit means the limit was reported.
    files: usize,
    /// Where a symbolic link must stay, as MI's canonical-path check demands.
    canonical_root: Option<std::path::PathBuf>,
}

impl Loader {
    fn error(&mut self, label: &str, message: impl Into<String>) {
        self.errors.push(ArtifactError::Invalid {
            message: message.into(),
            span: Span::whole_file(label),
        });
    }

    fn io_error(&mut self, label: &str, e: std::io::Error) {
        self.errors.push(ArtifactError::Io {
            message: e.to_string(),
            span: Span::whole_file(label),
        });
    }

    /// Walks folder `dir` (labelled `label`, at `rel` under the keys starting with `prefix`).
    fn walk(&mut self, prefix: &str, dir: &Path, label: &str, rel: &str, depth: usize) {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && depth == 0 => return,
            Err(e) => return self.io_error(label, e),
        };
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => match entry.file_name().into_string() {
                    Ok(name) => names.push((name, entry)),
                    Err(name) => self.error(
                        label,
                        format!(
                            "registry file name {} is not UTF-8 and cannot be a key",
                            name.to_string_lossy()
                        ),
                    ),
                },
                Err(e) => self.io_error(label, e),
            }
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let kinds: BTreeMap<&str, EntryKind> = names
            .iter()
            .map(|(name, entry)| (name.as_str(), self.entry_kind(entry)))
            .collect();
        for (name, entry) in &names {
            if name.starts_with('.') {
                continue;
            }
            let child_label = format!("{label}/{name}");
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match kinds.get(name.as_str()) {
                Some(EntryKind::Dir) => {
                    if depth + 1 > MAX_REGISTRY_DEPTH {
                        self.error(
                            &child_label,
                            format!(
                                "registry folders nested deeper than {MAX_REGISTRY_DEPTH} levels are not loaded"
                            ),
                        );
                        continue;
                    }
                    self.walk(prefix, &entry.path(), &child_label, &child_rel, depth + 1);
                }
                Some(EntryKind::DirLink) => self.error(
                    &child_label,
                    "a symbolic link to a folder is not followed in the registry",
                ),
                Some(EntryKind::Outside) => self.error(
                    &child_label,
                    "a symbolic link that points outside the registry is not followed",
                ),
                Some(EntryKind::Other) | None => {}
                Some(EntryKind::File) => {
                    if is_sidecar(name, &kinds) {
                        continue;
                    }
                    if self.files >= MAX_REGISTRY_FILES {
                        if self.files == MAX_REGISTRY_FILES {
                            self.files += 1;
                            self.error(
                                &child_label,
                                format!(
                                    "more than {MAX_REGISTRY_FILES} registry resources: this one and the rest are not loaded"
                                ),
                            );
                        }
                        return;
                    }
                    self.files += 1;
                    self.resource(prefix, dir, name, &child_label, &child_rel, &kinds);
                }
            }
            if let Some(EntryKind::Dir) = kinds.get(name.as_str()) {
                let props_name = format!("{name}{COLLECTION_PROPERTIES_SUFFIX}");
                if let Some(EntryKind::File) = kinds.get(props_name.as_str())
                    && let Some(props) = self
                        .read_properties(&dir.join(&props_name), &format!("{label}/{props_name}"))
                {
                    let key = format!("{prefix}/{child_rel}");
                    if let Err(e) = self.registry.insert_collection_properties(&key, props) {
                        self.error(&child_label, e.to_string());
                    }
                }
            }
        }
    }

    fn entry_kind(&self, entry: &fs::DirEntry) -> EntryKind {
        let Ok(file_type) = entry.file_type() else {
            return EntryKind::Other;
        };
        if file_type.is_dir() {
            return EntryKind::Dir;
        }
        if file_type.is_file() {
            return EntryKind::File;
        }
        if file_type.is_symlink() {
            let path = entry.path();
            let inside = match (&self.canonical_root, fs::canonicalize(&path)) {
                (Some(root), Ok(target)) => target.starts_with(root),
                _ => false,
            };
            return match fs::metadata(&path) {
                Ok(_) if !inside => EntryKind::Outside,
                Ok(m) if m.is_dir() => EntryKind::DirLink,
                Ok(m) if m.is_file() => EntryKind::File,
                _ => EntryKind::Other,
            };
        }
        EntryKind::Other
    }

    /// Reads one resource file with its media type and properties sidecars.
    fn resource(
        &mut self,
        prefix: &str,
        dir: &Path,
        name: &str,
        label: &str,
        rel: &str,
        siblings: &BTreeMap<&str, EntryKind>,
    ) {
        let Some(content) = self.read_limited(&dir.join(name), label) else {
            return;
        };
        let meta_path = dir
            .join(METADATA_DIR)
            .join(format!("{name}{METADATA_SUFFIX}"));
        let media_type = if meta_path.is_file() {
            let meta_label = format!(
                "{}/{METADATA_DIR}/{name}{METADATA_SUFFIX}",
                label.rsplit_once('/').map_or("", |(d, _)| d)
            );
            // getMetadata reads the file with a Reader (UTF-8).
            self.read_limited(&meta_path, &meta_label)
                .map(|bytes| {
                    parse_java_properties(
                        &meta_label,
                        &String::from_utf8_lossy(&bytes),
                        &mut self.errors,
                    )
                })
                .and_then(|mut meta| meta.remove(METADATA_MEDIA_TYPE))
        } else {
            None
        };
        let props_name = format!("{name}{PROPERTIES_SUFFIX}");
        let properties = match siblings.get(props_name.as_str()) {
            Some(EntryKind::File) => self
                .read_properties(
                    &dir.join(&props_name),
                    &format!(
                        "{}/{props_name}",
                        label.rsplit_once('/').map_or("", |(d, _)| d)
                    ),
                )
                .unwrap_or_default(),
            _ => BTreeMap::new(),
        };
        let key = format!("{prefix}/{rel}");
        let resource = RegistryResource::new(content, media_type, properties, label);
        if let Err(e) = self.registry.insert(&key, resource) {
            self.error(label, e.to_string());
        }
    }

    /// A `.properties` file as `Properties.load(InputStream)` reads it (ISO-8859-1).
    fn read_properties(&mut self, path: &Path, label: &str) -> Option<BTreeMap<String, String>> {
        let bytes = self.read_limited(path, label)?;
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        Some(parse_java_properties(label, &text, &mut self.errors))
    }

    fn read_limited(&mut self, path: &Path, label: &str) -> Option<Vec<u8>> {
        let size = match fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) => {
                self.io_error(label, e);
                return None;
            }
        };
        if size > MAX_REGISTRY_FILE_BYTES {
            self.errors.push(ArtifactError::TooLarge {
                size,
                limit: MAX_REGISTRY_FILE_BYTES,
                span: Span::whole_file(label),
            });
            return None;
        }
        match fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                self.io_error(label, e);
                None
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Dir,
    /// A symbolic link to a folder (not followed: it could loop).
    DirLink,
    /// A symbolic link whose target is outside the registry.
    Outside,
    Other,
}

/// Whether `name` is the properties file of a sibling: `<file>.properties` of an existing file,
/// or `<dir>.collections.properties` of an existing folder. Any other `.properties` file is a
/// resource of its own.
fn is_sidecar(name: &str, siblings: &BTreeMap<&str, EntryKind>) -> bool {
    if let Some(dir) = name.strip_suffix(COLLECTION_PROPERTIES_SUFFIX)
        && matches!(siblings.get(dir), Some(EntryKind::Dir))
    {
        return true;
    }
    name.strip_suffix(PROPERTIES_SUFFIX)
        .is_some_and(|file| matches!(siblings.get(file), Some(EntryKind::File)))
}

/// A properties file as `java.util.Properties.load` reads it ([`crate::inject::parse_properties`]);
/// a malformed `\uXXXX` escape, which makes Java throw, is reported at `label` and reads as empty.
fn parse_java_properties(
    label: &str,
    text: &str,
    errors: &mut Vec<ArtifactError>,
) -> BTreeMap<String, String> {
    match crate::inject::parse_properties(label, text) {
        Ok(entries) => entries.into_iter().collect(),
        Err(e) => {
            errors.push(ArtifactError::Invalid {
                message: e.to_string(),
                span: Span::whole_file(label),
            });
            BTreeMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, content: &[u8]) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn resource(text: &str) -> RegistryResource {
        RegistryResource::new(text.as_bytes().to_vec(), None, BTreeMap::new(), "test")
    }

    // MicroIntegratorRegistry.resolveRegistryURI: prefix stripped, one leading '/' stripped,
    // appended to the registry's folder; no prefix = governance; resources: = mi-resources.
    #[test]
    fn keys_are_normalized_like_resolve_registry_uri() {
        assert_eq!(
            normalize_key("conf:/a/b.xml").as_deref(),
            Some("conf:/a/b.xml")
        );
        assert_eq!(
            normalize_key("conf:a/b.xml").as_deref(),
            Some("conf:/a/b.xml")
        );
        assert_eq!(
            normalize_key("conf://a//b.xml/").as_deref(),
            Some("conf:/a/b.xml")
        );
        assert_eq!(
            normalize_key("conf:/x/../a/./b.xml").as_deref(),
            Some("conf:/a/b.xml")
        );
        assert_eq!(
            normalize_key("gov:foo.xml").as_deref(),
            Some("gov:/foo.xml")
        );
        assert_eq!(
            normalize_key("local:/l.txt").as_deref(),
            Some("local:/l.txt")
        );
        assert_eq!(
            normalize_key("foo/bar.xml").as_deref(),
            Some("gov:/foo/bar.xml")
        );
        assert_eq!(
            normalize_key("resources:xslt/t.xslt").as_deref(),
            Some("gov:/mi-resources/xslt/t.xslt")
        );
        assert_eq!(
            registry_file_path("conf:a/b.xml").as_deref(),
            Some("config/a/b.xml")
        );
        assert_eq!(
            registry_file_path("plain").as_deref(),
            Some("governance/plain")
        );
        assert!(has_registry_prefix("resources:x") && !has_registry_prefix("Plain"));
    }

    // "The registry key 'K' is illegal which points to a location outside the registry".
    #[test]
    fn keys_escaping_the_root_resolve_to_nothing() {
        let mut registry = Registry::default();
        registry.insert("conf:/a.txt", resource("a")).unwrap();
        for key in [
            "conf:/../config/a.txt",
            "conf:../../etc/passwd",
            "gov:/a/../../x",
        ] {
            assert_eq!(normalize_key(key), None, "{key}");
            assert!(registry.get(key).is_none(), "{key}");
            assert!(registry.insert(key, resource("x")).is_err(), "{key}");
        }
        // Climbing out of mi-resources stays inside the governance registry, as in MI.
        assert_eq!(
            normalize_key("resources:../g.xml").as_deref(),
            Some("gov:/g.xml")
        );
        let err = registry.insert("conf:/", resource("x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the registry key 'conf:/' is illegal: it names the root folder of a registry"
        );
        assert_eq!(registry.len(), 1);
    }

    // AppDeployerUtils.createRegistryPath + computeResourcePath.
    #[test]
    fn capp_paths_become_keys_like_create_registry_path() {
        assert_eq!(
            registry_key_for_path("/_system/config/json", Some("schema.json")),
            "conf:/json/schema.json"
        );
        assert_eq!(
            registry_key_for_path("/_system/governance/custom/", Some("a.txt")),
            "gov:/custom/a.txt"
        );
        assert_eq!(registry_key_for_path("/_system/local/x", None), "local:/x");
        assert_eq!(
            registry_key_for_path("conf:/kept", Some("f")),
            "conf:/kept/f"
        );
        assert_eq!(
            registry_key_for_path("/other/path", Some("f")),
            "gov:/other/path/f"
        );
        assert_eq!(
            registry_key_for_path("/_system/governance/mi-resources/xslt", Some("t.xslt")),
            "gov:/mi-resources/xslt/t.xslt"
        );
        assert!(registry_key_for_path("resources:x", None).starts_with("gov:"));
    }

    // MicroIntegratorRegistry.lookup/readNonXML: XML is its document element; text is its lines
    // joined, the last line end removed.
    #[test]
    fn text_is_what_lookup_returns() {
        let xml = resource("<?xml version=\"1.0\"?>\n<!-- c -->\n<a xmlns=\"urn:x\"><b/></a>\n");
        assert!(xml.is_xml() && !xml.is_binary());
        assert_eq!(xml.text(), "<a xmlns=\"urn:x\"><b/></a>");
        assert_eq!(resource("line1\r\nline2\r\n").text(), "line1\nline2");
        assert_eq!(resource("one line\n").text(), "one line");
        assert_eq!(resource("x\n\n").text(), "x\n");
        assert_eq!(resource("").text(), "");
        let json = RegistryResource::new(
            b"{\"a\":1}\n".to_vec(),
            Some("application/json".into()),
            BTreeMap::new(),
            "t",
        );
        assert!(json.is_binary());
        assert_eq!(json.text(), "{\"a\":1}");
    }

    #[test]
    fn java_properties_are_read_like_properties_load() {
        let props = parse_java_properties(
            "t.properties",
            "# comment\n! also\n  a=1\nb : two words \nc value\\\n    continued\nd\\:e=\\u0041\\t\nempty=\n#x=no\r\nf=g\r\n",
            &mut Vec::new(),
        );
        assert_eq!(props["a"], "1");
        assert_eq!(props["b"], "two words ");
        assert_eq!(props["c"], "valuecontinued");
        assert_eq!(props["d:e"], "A\t");
        assert_eq!(props["empty"], "");
        assert_eq!(props["f"], "g");
        assert!(!props.contains_key("x") && !props.contains_key("#x"));
        assert_eq!(props.len(), 6, "{props:?}");
    }

    // MI's layout: registry/{config,governance,local}, `.metadata/<file>.meta` with mediaType,
    // `<file>.properties`, `<dir>.collections.properties` (MI test resources of
    // tests-mediator-1 registry/config/custom/test/property_mediator_test.txt.properties).
    #[test]
    fn loads_the_file_layout_with_metadata_and_properties() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            root,
            "config/custom/test/property_mediator_test.txt",
            b"Property mediator test resources",
        );
        write(
            root,
            "config/custom/test/property_mediator_test.txt.properties",
            b"#Wed Jan 01 00:00:00 UTC 2020\nresourceName=Config Reg Test String\n",
        );
        write(root, "config/script_js/test54.js", b"function f() {}\n");
        write(
            root,
            "config/script_js/.metadata/test54.js.meta",
            b"mediaType=application/javascript\n",
        );
        write(root, "config/custom.collections.properties", b"owner=ops\n");
        write(
            root,
            "governance/endpoints/ep.xml",
            b"<endpoint xmlns=\"http://ws.apache.org/ns/synapse\" name=\"e\"/>",
        );
        write(root, "governance/mi-resources/xslt/t.xslt", b"<x/>");
        write(root, "local/l.txt", b"local");
        write(root, "local/orphan.properties", b"k=v\n");
        write(root, "local/.hidden", b"no");
        write(root, "other/ignored.txt", b"not a registry folder");

        let (registry, errors) = load_file_registry(root);
        assert!(errors.is_empty(), "{errors:?}");
        let keys: Vec<&str> = registry.keys().collect();
        assert_eq!(
            keys,
            [
                "conf:/custom/test/property_mediator_test.txt",
                "conf:/script_js/test54.js",
                "gov:/endpoints/ep.xml",
                "gov:/mi-resources/xslt/t.xslt",
                "local:/l.txt",
                "local:/orphan.properties",
            ]
        );
        assert_eq!(
            registry.property(
                "conf:/custom/test/property_mediator_test.txt",
                "resourceName"
            ),
            Some("Config Reg Test String")
        );
        // A trailing '/' (as in `key/@prop`) names the same resource.
        assert_eq!(
            registry.property(
                "conf:/custom/test/property_mediator_test.txt/",
                "resourceName"
            ),
            Some("Config Reg Test String")
        );
        assert_eq!(registry.property("conf:/custom", "owner"), Some("ops"));
        assert_eq!(registry.property("conf:/custom", "missing"), None);
        let js = registry.get("conf:script_js/test54.js").unwrap();
        assert_eq!(js.media_type(), Some("application/javascript"));
        assert_eq!(js.origin(), "registry/config/script_js/test54.js");
        assert_eq!(
            registry.text("resources:xslt/t.xslt").as_deref(),
            Some("<x/>")
        );
        assert_eq!(
            registry.text("endpoints/ep.xml").as_deref(),
            Some("<endpoint xmlns=\"http://ws.apache.org/ns/synapse\" name=\"e\"/>")
        );
        assert_eq!(registry.text("local:/l.txt").as_deref(), Some("local"));
        assert!(
            registry.get("conf:/custom").is_none(),
            "a folder is no resource"
        );
    }

    // A VS Code MI project's src/main/wso2mi/resources/registry/{gov,conf} folders.
    #[test]
    fn a_prefixed_folder_loads_under_its_prefix_and_registries_extend() {
        let tmp = tempfile::tempdir().unwrap();
        let conf = tmp.path().join("registry/conf");
        write(&conf, "json/schema.json", b"{}");
        write(&conf, "json/schema.json.properties", b"k=v");
        let gov = tmp.path().join("registry/gov");
        write(&gov, "json/schema.json", b"[]");
        let (mut registry, errors) = load_registry_folder(&conf, "conf:");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            registry.keys().collect::<Vec<_>>(),
            ["conf:/json/schema.json"]
        );
        assert_eq!(registry.property("conf:json/schema.json", "k"), Some("v"));
        assert_eq!(
            registry.get("conf:/json/schema.json").unwrap().origin(),
            format!("{}/json/schema.json", conf.display())
        );
        let (governance, _) = load_registry_folder(&gov, "gov:");
        registry.extend(governance);
        assert_eq!(registry.len(), 2);
        assert_eq!(
            registry.text("gov:/json/schema.json").as_deref(),
            Some("[]")
        );
        let (empty, errors) = load_registry_folder(&tmp.path().join("none"), "gov:");
        assert!(empty.is_empty() && errors.is_empty());
    }

    #[test]
    fn a_missing_root_is_an_empty_registry() {
        let (registry, errors) = load_file_registry(Path::new("/nonexistent/conflux/registry"));
        assert!(registry.is_empty() && errors.is_empty());
    }

    #[test]
    fn a_file_over_the_size_limit_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let path = root.join("config/big.bin");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = fs::File::create(&path).unwrap();
        file.set_len(MAX_REGISTRY_FILE_BYTES + 1).unwrap();
        write(root, "config/at-limit.bin", b"small");
        let (registry, errors) = load_file_registry(root);
        assert_eq!(registry.keys().collect::<Vec<_>>(), ["conf:/at-limit.bin"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            format!(
                "file of {} bytes exceeds the limit of {MAX_REGISTRY_FILE_BYTES} bytes at registry/config/big.bin",
                MAX_REGISTRY_FILE_BYTES + 1
            )
        );
        // Exactly at the limit loads.
        fs::File::create(&path)
            .unwrap()
            .set_len(MAX_REGISTRY_FILE_BYTES)
            .unwrap();
        let (registry, errors) = load_file_registry(root);
        assert!(errors.is_empty() && registry.len() == 2);
    }

    #[test]
    fn files_over_the_count_limit_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for i in 0..MAX_REGISTRY_FILES {
            write(root, &format!("config/f{i:05}"), b"");
        }
        let (registry, errors) = load_file_registry(root);
        assert!(errors.is_empty());
        assert_eq!(registry.len(), MAX_REGISTRY_FILES);
        write(root, "local/one-too-many", b"");
        let (registry, errors) = load_file_registry(root);
        assert_eq!(registry.len(), MAX_REGISTRY_FILES);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].to_string().starts_with(&format!(
                "more than {MAX_REGISTRY_FILES} registry resources"
            )),
            "{}",
            errors[0]
        );
        assert!(
            errors[0]
                .to_string()
                .ends_with("at registry/local/one-too-many")
        );
    }

    #[test]
    fn folders_over_the_depth_limit_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let at_limit: String = (0..MAX_REGISTRY_DEPTH).map(|i| format!("d{i}/")).collect();
        write(root, &format!("config/{at_limit}ok.txt"), b"ok");
        write(root, &format!("config/{at_limit}deeper/no.txt"), b"no");
        let (registry, errors) = load_file_registry(root);
        assert_eq!(registry.len(), 1);
        assert!(registry.get(&format!("conf:/{at_limit}ok.txt")).is_some());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].to_string().contains("nested deeper than"));
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_stay_inside_the_registry() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("registry");
        write(&root, "config/real.txt", b"real");
        write(tmp.path(), "secret.txt", b"secret");
        std::os::unix::fs::symlink(root.join("config/real.txt"), root.join("config/link.txt"))
            .unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("config/out.txt"))
            .unwrap();
        std::os::unix::fs::symlink(root.join("config"), root.join("config/loop")).unwrap();
        let (registry, errors) = load_file_registry(&root);
        assert_eq!(registry.text("conf:/link.txt").as_deref(), Some("real"));
        assert!(registry.get("conf:/out.txt").is_none());
        assert!(registry.get("conf:/loop/real.txt").is_none());
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("outside the registry")));
        assert!(errors.iter().any(|e| e.contains("link to a folder")));
    }
}
