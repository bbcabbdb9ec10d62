//! `Sources`: where a server's artifacts come from, and the folder layouts that hold them: an MI
//! home (`synapse-configs/default/api/...`, `carbonapps/`, `registry/`), a VS Code MI project
//! (`src/main/wso2mi/artifacts/apis/...`, `src/main/wso2mi/resources/registry/{gov,conf}`) and an
//! Integration Studio project (`*Configs/src/main/synapse-config/api/...`). Listing only: reading
//! and parsing is the assembler's.

use std::fs;
use std::path::{Path, PathBuf};

use conflux_artifacts::ArtifactKind;

/// The folder names of one layout, for the kinds Conflux deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// MI's `synapse-configs/default/` (and Integration Studio's `src/main/synapse-config/`,
    /// which uses the same names).
    Synapse,
    /// The VS Code MI extension's `src/main/wso2mi/artifacts/` (`apis/` instead of `api/`).
    VsCode,
}

impl Layout {
    /// The folder of `kind` in this layout.
    pub fn folder(self, kind: ArtifactKind) -> &'static str {
        match (self, kind) {
            (Layout::VsCode, ArtifactKind::Api) => "apis",
            (_, kind) => kind.folder(),
        }
    }

    /// Folders of artifact kinds Conflux does not deploy yet, with why; their files are reported,
    /// not ignored.
    pub fn unsupported_folders(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Layout::Synapse => conflux_artifacts::loader::UNSUPPORTED_FOLDERS,
            Layout::VsCode => VSCODE_UNSUPPORTED_FOLDERS,
        }
    }
}

/// The VS Code project's folders of kinds Conflux does not deploy yet (`data-services/` and
/// `data-sources/` are [`Sources::data_services`] and [`Sources::data_sources`]).
const VSCODE_UNSUPPORTED_FOLDERS: &[(&str, &str)] = &[];

/// The home's folder of data services (MI `repository/deployment/server/dataservices`).
pub const HOME_DATA_SERVICES_DIR: &str = "repository/deployment/server/dataservices";

/// A folder of data services (`*.dbs`) or data source definitions (`*.xml`), which the server
/// deploys beside the Synapse artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFolder {
    pub dir: PathBuf,
    /// Prefix of the labels errors show (`dataservices/` in a home).
    pub label_prefix: String,
}

/// A folder of loose artifact files (one artifact per `*.xml`, one sub-folder per kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFolder {
    pub root: PathBuf,
    pub layout: Layout,
    /// Prefix of the labels errors show (`api/Foo.xml` in a home; the path inside a project).
    pub label_prefix: String,
}

/// A folder of registry resources and the key prefix its files get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryFolder {
    /// MI's `registry/` root: `config/` -> `conf:`, `governance/` -> `gov:`, `local/` -> `local:`.
    Root(PathBuf),
    /// One folder whose files are keyed `<prefix>/<relative path>` (a VS Code project's
    /// `resources/registry/conf` is `conf:`).
    Prefixed { dir: PathBuf, prefix: &'static str },
    /// An Integration Studio Registry Resources project: its `artifact.xml` lists each file
    /// (relative to the project) with its registry path, media type and properties.
    Described { descriptor: PathBuf },
}

/// Every place artifacts are read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub folders: Vec<ArtifactFolder>,
    /// The folder of `*.car` files (`repository/deployment/server/carbonapps`).
    pub carbonapps: Option<PathBuf>,
    /// Single `.car` files (`conflux check FILE.car`).
    pub capp_files: Vec<PathBuf>,
    pub registry: Vec<RegistryFolder>,
    /// A VS Code project's `resources/registry/artifact.xml`: media types and properties of the
    /// files of its registry folders.
    pub registry_descriptor: Option<PathBuf>,
    /// `conf/config.properties`: declared `$config:` names (`name:type`), beside those of CApps.
    pub config_properties: Option<PathBuf>,
    /// Folders of loose data services (`*.dbs`).
    pub data_services: Vec<DataFolder>,
    /// Folders of loose data source definitions (`<datasource>` `*.xml`).
    pub data_sources: Vec<DataFolder>,
}

/// A project folder that is neither a VS Code MI project nor an Integration Studio one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is not an MI project: expected src/main/wso2mi/artifacts/ (VS Code MI extension) or */src/main/synapse-config/ (Integration Studio)",
    dir.display()
)]
pub struct NotAProject {
    pub dir: PathBuf,
}

impl Sources {
    /// An MI home's sources: `synapse_dir` (`synapse-configs/default`), `carbonapps/` and
    /// `registry/`, plus `conf/config.properties`.
    pub fn home(home: &Path, synapse_dir: &Path, carbonapps: &Path, registry: &Path) -> Sources {
        Sources {
            folders: vec![ArtifactFolder {
                root: synapse_dir.to_path_buf(),
                layout: Layout::Synapse,
                label_prefix: String::new(),
            }],
            carbonapps: Some(carbonapps.to_path_buf()),
            capp_files: Vec::new(),
            registry: vec![RegistryFolder::Root(registry.to_path_buf())],
            registry_descriptor: None,
            config_properties: Some(home.join("conf/config.properties")),
            data_services: vec![DataFolder {
                dir: home.join(HOME_DATA_SERVICES_DIR),
                label_prefix: "dataservices/".into(),
            }],
            data_sources: Vec::new(),
        }
    }

    /// The sources of a project folder, deployed with no build: a VS Code MI project
    /// (`src/main/wso2mi/...`) or an Integration Studio workspace or project
    /// (`<Name>Configs/src/main/synapse-config/...`).
    pub fn project(dir: &Path) -> Result<Sources, NotAProject> {
        let wso2mi = dir.join("src/main/wso2mi");
        if wso2mi.join("artifacts").is_dir() {
            let resources = wso2mi.join("resources");
            let mut registry = Vec::new();
            for (folder, prefix) in [("registry/gov", "gov:"), ("registry/conf", "conf:")] {
                registry.push(RegistryFolder::Prefixed {
                    dir: resources.join(folder),
                    prefix,
                });
            }
            return Ok(Sources {
                folders: vec![ArtifactFolder {
                    root: wso2mi.join("artifacts"),
                    layout: Layout::VsCode,
                    label_prefix: "src/main/wso2mi/artifacts/".into(),
                }],
                carbonapps: None,
                capp_files: Vec::new(),
                registry,
                registry_descriptor: Some(resources.join("registry/artifact.xml")),
                config_properties: Some(resources.join("conf/config.properties")),
                // docs-mi "Create a data service" / "Create a datasource" (VS Code extension):
                // `artifacts/data-services/*.dbs` and `artifacts/data-sources/*.xml`.
                data_services: vec![DataFolder {
                    dir: wso2mi.join("artifacts/data-services"),
                    label_prefix: "src/main/wso2mi/artifacts/data-services/".into(),
                }],
                data_sources: vec![DataFolder {
                    dir: wso2mi.join("artifacts/data-sources"),
                    label_prefix: "src/main/wso2mi/artifacts/data-sources/".into(),
                }],
            });
        }
        // Integration Studio: the project itself, or a workspace of projects beside each other.
        let mut folders = Vec::new();
        let mut candidates = vec![(dir.to_path_buf(), String::new())];
        candidates.extend(
            sorted_subdirs(dir)
                .into_iter()
                .map(|(name, path)| (path, format!("{name}/"))),
        );
        let mut registry = Vec::new();
        for (project, prefix) in candidates {
            let configs = project.join("src/main/synapse-config");
            if configs.is_dir() {
                folders.push(ArtifactFolder {
                    root: configs,
                    layout: Layout::Synapse,
                    label_prefix: format!("{prefix}src/main/synapse-config/"),
                });
            } else if is_registry_resources_project(&project) {
                registry.push(RegistryFolder::Described {
                    descriptor: project.join("artifact.xml"),
                });
            }
        }
        if folders.is_empty() {
            return Err(NotAProject {
                dir: dir.to_path_buf(),
            });
        }
        Ok(Sources {
            folders,
            carbonapps: None,
            capp_files: Vec::new(),
            registry,
            registry_descriptor: None,
            config_properties: None,
            data_services: Vec::new(),
            data_sources: Vec::new(),
        })
    }

    /// One `.car` file on its own (`conflux check FILE.car`).
    pub fn capp_file(path: &Path) -> Sources {
        Sources {
            capp_files: vec![path.to_path_buf()],
            ..Sources::default()
        }
    }

    /// The folders a hot-deployment watcher watches (those that exist or may appear).
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.folders.iter().map(|f| f.root.clone()).collect();
        paths.extend(self.carbonapps.iter().cloned());
        paths.extend(self.capp_files.iter().cloned());
        for r in &self.registry {
            match r {
                RegistryFolder::Root(dir) | RegistryFolder::Prefixed { dir, .. } => {
                    paths.push(dir.clone())
                }
                RegistryFolder::Described { descriptor } => {
                    paths.extend(descriptor.parent().map(Path::to_path_buf))
                }
            }
        }
        paths.extend(self.registry_descriptor.iter().cloned());
        paths.extend(self.config_properties.iter().cloned());
        for folder in self.data_services.iter().chain(&self.data_sources) {
            paths.push(folder.dir.clone());
        }
        paths
    }
}

/// One loose artifact file found in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFile {
    pub path: PathBuf,
    /// How errors name it (`api/Foo.xml`).
    pub label: String,
    /// The kind its folder holds, or `None` for a folder of a kind Conflux does not deploy (then
    /// `unsupported` says why).
    pub kind: Option<ArtifactKind>,
    pub unsupported: Option<&'static str>,
}

impl ArtifactFolder {
    /// Every `*.xml` file in the kind folders, in MI's kind order and by file name within a kind;
    /// then the files of unsupported kinds. A folder that cannot be read is an `Err` entry.
    pub fn files(&self) -> Vec<Result<ArtifactFile, (String, std::io::Error)>> {
        let mut out = Vec::new();
        let mut add =
            |folder: &str, kind: Option<ArtifactKind>, why: Option<&'static str>| match xml_files(
                &self.root.join(folder),
            ) {
                Ok(files) => out.extend(files.into_iter().map(|(name, path)| {
                    Ok(ArtifactFile {
                        path,
                        label: format!("{}{folder}/{name}", self.label_prefix),
                        kind,
                        unsupported: why,
                    })
                })),
                Err(e) => out.push(Err((format!("{}{folder}/", self.label_prefix), e))),
            };
        for kind in ArtifactKind::ALL {
            add(self.layout.folder(kind), Some(kind), None);
        }
        for (folder, why) in self.layout.unsupported_folders() {
            add(folder, None, Some(why));
        }
        out
    }
}

/// Whether `dir` is an Integration Studio Registry Resources project: an `artifact.xml` that
/// declares `registry/resource` artifacts.
fn is_registry_resources_project(dir: &Path) -> bool {
    fs::read_to_string(dir.join("artifact.xml"))
        .is_ok_and(|text| text.contains("registry/resource"))
}

/// `(file name, path)` of the `*.xml` files of `dir`, sorted; a missing folder has none.
fn xml_files(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".xml").then(|| (name, e.path()))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// `(name, path)` of the sub-folders of `dir`, sorted (none when it cannot be read).
fn sorted_subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .filter(|(name, _)| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// The `*.car` files of `dir`, sorted by name (a missing folder has none).
pub fn capp_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "car"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "<x/>").unwrap();
    }

    #[test]
    fn vscode_project_uses_its_folder_names() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(&root.join("src/main/wso2mi/artifacts/apis/Hello.xml"));
        touch(&root.join("src/main/wso2mi/artifacts/endpoints/Ep.xml"));
        touch(&root.join("src/main/wso2mi/artifacts/inbound-endpoints/I.xml"));
        touch(&root.join("src/main/wso2mi/artifacts/data-sources/D.xml"));
        let sources = Sources::project(root).unwrap();
        let files: Vec<ArtifactFile> = sources.folders[0]
            .files()
            .into_iter()
            .map(|f| f.unwrap())
            .collect();
        let labels: Vec<(&str, Option<ArtifactKind>)> =
            files.iter().map(|f| (f.label.as_str(), f.kind)).collect();
        assert_eq!(
            labels,
            [
                (
                    "src/main/wso2mi/artifacts/endpoints/Ep.xml",
                    Some(ArtifactKind::Endpoint)
                ),
                (
                    "src/main/wso2mi/artifacts/apis/Hello.xml",
                    Some(ArtifactKind::Api)
                ),
                (
                    "src/main/wso2mi/artifacts/inbound-endpoints/I.xml",
                    Some(ArtifactKind::InboundEndpoint)
                ),
            ]
        );
        // Data sources and data services are the server's, not Synapse artifacts.
        assert_eq!(
            sources.data_sources[0].dir,
            root.join("src/main/wso2mi/artifacts/data-sources")
        );
        assert_eq!(
            sources.data_services[0].dir,
            root.join("src/main/wso2mi/artifacts/data-services")
        );
        assert!(sources.registry.contains(&RegistryFolder::Prefixed {
            dir: root.join("src/main/wso2mi/resources/registry/conf"),
            prefix: "conf:"
        }));
    }

    #[test]
    fn integration_studio_workspace_finds_every_configs_project() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(&root.join("BConfigs/src/main/synapse-config/api/B.xml"));
        touch(&root.join("AConfigs/src/main/synapse-config/sequences/S.xml"));
        touch(&root.join("ACompositeExporter/pom.xml"));
        let sources = Sources::project(root).unwrap();
        let labels: Vec<String> = sources
            .folders
            .iter()
            .flat_map(|f| f.files())
            .map(|f| f.unwrap().label)
            .collect();
        assert_eq!(
            labels,
            [
                "AConfigs/src/main/synapse-config/sequences/S.xml",
                "BConfigs/src/main/synapse-config/api/B.xml"
            ]
        );
    }

    #[test]
    fn a_folder_that_is_no_project_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Sources::project(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("is not an MI project"), "{err}");
    }

    #[test]
    fn capp_files_are_sorted_and_only_car() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("b.car"));
        touch(&tmp.path().join("a.car"));
        touch(&tmp.path().join("notes.txt"));
        let names: Vec<String> = capp_files(tmp.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.car", "b.car"]);
        assert!(capp_files(&tmp.path().join("missing")).unwrap().is_empty());
    }
}
