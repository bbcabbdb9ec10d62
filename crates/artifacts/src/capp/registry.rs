//! `registry/resource` artifacts: `registry-info.xml` (MI `AppDeployerUtils.populateRegistryConfig`)
//! and the files it names under the artifact's `resources/` directory, as MI's
//! `FileRegistryResourceDeployer` writes them into the file registry.

use super::archive::Entries;
use super::descriptor::{child_text, children_named, parse_xml, position, utf8_text};

/// One file a CApp puts into the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CAppRegistryResource {
    /// The registry collection as `registry-info.xml` writes it (`/_system/config/foo`,
    /// `/_system/governance/custom`, or already a `conf:`/`gov:` key); for a file of a
    /// `<collection>` the collection path plus the file's sub-directories.
    pub path: String,
    pub file_name: String,
    /// `<mediaType>` of an item; for a collection file, `<mediaType>` of its
    /// `.meta/~<file>.xml` when present.
    pub media_type: Option<String>,
    /// `<properties><property key value/>` of the item or collection.
    pub properties: Vec<(String, String)>,
    /// The file's bytes, unchanged. MI reads item files as text lines (binary content is
    /// mangled) and writes collection files EMPTY (`FileRegistryResourceDeployer`); Conflux keeps
    /// both whole, which is what the CApp author meant.
    pub content: Vec<u8>,
    /// Where the file is (`Foo.car!/res_1.0.0/resources/foo.json`).
    pub label: String,
}

#[derive(Debug)]
struct Item {
    file: String,
    path: String,
    media_type: Option<String>,
    properties: Vec<(String, String)>,
}

#[derive(Debug)]
struct Collection {
    directory: String,
    path: String,
    properties: Vec<(String, String)>,
}

/// The resources of one `registry/resource` artifact in directory `dir`, whose descriptor
/// (`registry-info.xml`) is `info_text`, named `info_label`. `<dump>` and `<association>` are
/// ignored, as MI ignores them. A named file or directory that is absent is an error (MI logs it
/// and skips the resource).
pub(crate) fn registry_resources(
    capp: &str,
    dir: &str,
    info_label: &str,
    info_text: &str,
    entries: &Entries,
    errors: &mut Vec<String>,
) -> Vec<CAppRegistryResource> {
    let (items, collections) = match parse_registry_info(info_label, info_text) {
        Ok(parsed) => parsed,
        Err(mut problems) => {
            errors.append(&mut problems);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        let entry = format!("{dir}/resources/{}", item.file);
        let label = format!("{capp}!/{entry}");
        let Some(content) = entries.files.get(&entry) else {
            errors.push(format!(
                "{label}: registry item '{}' (in {info_label}) is not in the CApp",
                item.file
            ));
            continue;
        };
        out.push(CAppRegistryResource {
            path: item.path,
            file_name: item.file,
            media_type: item.media_type,
            properties: item.properties,
            content: as_item_deployer_writes(content),
            label,
        });
    }
    for collection in collections {
        let directory = collection.directory.trim_end_matches('/');
        let root = format!("{dir}/resources/{directory}");
        if !entries.dirs.contains(&root) {
            errors.push(format!(
                "{capp}!/{root}: registry collection directory '{}' (in {info_label}) is not in the CApp",
                collection.directory
            ));
            continue;
        }
        for (name, content) in entries.files_under(&root) {
            let relative = &name[root.len() + 1..];
            let (sub_dir, file_name) = match relative.rsplit_once('/') {
                Some((sub, file)) => (Some(sub), file),
                None => (None, relative),
            };
            if sub_dir.is_some_and(|sub| sub.split('/').any(|part| part == ".meta")) {
                continue;
            }
            let parent = &name[..name.len() - file_name.len() - 1];
            let media_type = collection_media_type(capp, parent, file_name, entries, errors);
            let base = collection.path.trim_end_matches('/');
            out.push(CAppRegistryResource {
                path: match sub_dir {
                    Some(sub) => format!("{base}/{sub}"),
                    None => base.to_string(),
                },
                file_name: file_name.to_string(),
                media_type,
                properties: collection.properties.clone(),
                content: content.to_vec(),
                label: format!("{capp}!/{name}"),
            });
        }
    }
    out
}

/// An item's content as MI's `FileRegistryResourceDeployer` writes it into the registry: read as
/// text lines, each written back with `\n` (so CRLF becomes LF and the last line always ends in a
/// line break; MI's `CustomSwaggerWithSpecialCharactersTestCase` expects that break). Content that
/// is not UTF-8 text is kept whole, where MI would mangle it.
fn as_item_deployer_writes(content: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(content) else {
        return content.to_vec();
    };
    // `BufferedReader.readLine`: `\n`, `\r\n` or a lone `\r` ends a line.
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normalized.len() + 1);
    for line in normalized.split_inclusive('\n') {
        out.push_str(line.strip_suffix('\n').unwrap_or(line));
        out.push('\n');
    }
    out.into_bytes()
}

/// `<mediaType>` of `<parent>/.meta/~<file>.xml` (MI `getMediaTypeFromMeta`), when that exists.
fn collection_media_type(
    capp: &str,
    parent: &str,
    file_name: &str,
    entries: &Entries,
    errors: &mut Vec<String>,
) -> Option<String> {
    let meta = format!("{parent}/.meta/~{file_name}.xml");
    let bytes = entries.files.get(&meta)?;
    let label = format!("{capp}!/{meta}");
    let parsed = utf8_text(&label, bytes).and_then(|text| {
        let doc = parse_xml(&label, text)?;
        Ok(child_text(doc.root_element(), "mediaType"))
    });
    match parsed {
        Ok(media_type) => media_type.filter(|m| !m.is_empty()),
        Err(err) => {
            errors.push(err);
            None
        }
    }
}

fn parse_registry_info(
    label: &str,
    text: &str,
) -> Result<(Vec<Item>, Vec<Collection>), Vec<String>> {
    let doc = parse_xml(label, text).map_err(|e| vec![e])?;
    parse_registry_node(label, &doc, doc.root_element())
}

/// A registry file a project folder describes: the VS Code MI extension's
/// `src/main/wso2mi/resources/registry/artifact.xml` lists, per `registry/resource` artifact, the
/// `<item>`s of `registry-info.xml` (file, registry path, media type, properties); the files
/// themselves sit under `registry/gov/...` and `registry/conf/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRegistryItem {
    pub path: String,
    pub file_name: String,
    pub media_type: Option<String>,
    pub properties: Vec<(String, String)>,
}

/// The items of a VS Code project's `resources/registry/artifact.xml` (`label` names it in errors).
pub fn project_registry_items(
    label: &str,
    text: &str,
) -> Result<Vec<ProjectRegistryItem>, Vec<String>> {
    let doc = parse_xml(label, text).map_err(|e| vec![e])?;
    let mut out = Vec::new();
    for artifact in children_named(doc.root_element(), "artifact") {
        let (items, _collections) = parse_registry_node(label, &doc, artifact)?;
        out.extend(items.into_iter().map(|item| ProjectRegistryItem {
            path: item.path,
            file_name: item.file,
            media_type: item.media_type,
            properties: item.properties,
        }));
    }
    Ok(out)
}

fn parse_registry_node(
    label: &str,
    doc: &roxmltree::Document,
    root: roxmltree::Node,
) -> Result<(Vec<Item>, Vec<Collection>), Vec<String>> {
    let mut errors = Vec::new();
    let mut required = |node: roxmltree::Node, child: &'static str| -> String {
        match child_text(node, child) {
            Some(text) if !text.is_empty() => text,
            _ => {
                errors.push(format!(
                    "{}: <{}> requires a non-empty <{child}>",
                    position(label, doc, node),
                    node.tag_name().name()
                ));
                String::new()
            }
        }
    };
    let mut items = Vec::new();
    for node in children_named(root, "item") {
        let file = required(node, "file");
        let path = required(node, "path");
        items.push((node, file, path));
    }
    let mut collections = Vec::new();
    for node in children_named(root, "collection") {
        let directory = required(node, "directory");
        let path = required(node, "path");
        collections.push((node, directory, path));
    }
    let items = items
        .into_iter()
        .map(|(node, file, path)| Item {
            file,
            path,
            media_type: child_text(node, "mediaType").filter(|m| !m.is_empty()),
            properties: properties(label, doc, node, &mut errors),
        })
        .collect();
    let collections = collections
        .into_iter()
        .map(|(node, directory, path)| Collection {
            directory,
            path,
            properties: properties(label, doc, node, &mut errors),
        })
        .collect();
    if errors.is_empty() {
        Ok((items, collections))
    } else {
        Err(errors)
    }
}

/// `<properties><property key=".." value=".."/></properties>` (MI `readProperties`; a missing
/// `key` or `value` fails MI with a NullPointerException, here it is reported).
fn properties(
    label: &str,
    doc: &roxmltree::Document,
    node: roxmltree::Node,
    errors: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for list in children_named(node, "properties").take(1) {
        for property in children_named(list, "property") {
            match (property.attribute("key"), property.attribute("value")) {
                (Some(key), Some(value)) => out.push((key.to_string(), value.to_string())),
                _ => errors.push(format!(
                    "{}: <property> requires key and value attributes",
                    position(label, doc, property)
                )),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capp::archive::read_entries;
    use crate::capp::test_zip::zip_of;

    const CAPP: &str = "carbonapps/R.car";

    fn resources(files: &[(&str, &[u8])]) -> (Vec<CAppRegistryResource>, Vec<String>) {
        let entries = read_entries(CAPP, &zip_of(files)).unwrap();
        let info = &entries.files["res_1.0.0/registry-info.xml"];
        let info = std::str::from_utf8(info).unwrap();
        let label = format!("{CAPP}!/res_1.0.0/registry-info.xml");
        let mut errors = Vec::new();
        let out = registry_resources(CAPP, "res_1.0.0", &label, info, &entries, &mut errors);
        (out, errors)
    }

    #[test]
    fn item_as_in_mi_custom_swagger_capp() {
        let info = br#"<?xml version="1.0" encoding="UTF-8"?><resources>
    <item>
        <file>swagger_rus.json</file>
        <path>/_system/governance/custom</path>
        <mediaType>application/json</mediaType>
        <properties><property key="k" value="v"/></properties>
    </item>
</resources>"#;
        let (out, errors) = resources(&[
            ("res_1.0.0/registry-info.xml", info),
            ("res_1.0.0/resources/swagger_rus.json", b"{\"a\":\xff}"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            out,
            [CAppRegistryResource {
                path: "/_system/governance/custom".into(),
                file_name: "swagger_rus.json".into(),
                media_type: Some("application/json".into()),
                properties: vec![("k".into(), "v".into())],
                content: b"{\"a\":\xff}".to_vec(),
                label: format!("{CAPP}!/res_1.0.0/resources/swagger_rus.json"),
            }]
        );
    }

    #[test]
    fn collection_files_recursively_with_meta_media_types() {
        let info = br#"<resources><collection><directory>xslt</directory>
            <path>/_system/config/xslt</path>
            <properties><property key="owner" value="ops"/></properties></collection></resources>"#;
        let meta = br#"<resource><mediaType>application/xslt+xml</mediaType></resource>"#;
        let (out, errors) = resources(&[
            ("res_1.0.0/registry-info.xml", info),
            ("res_1.0.0/resources/xslt/a.xslt", b"<a/>"),
            ("res_1.0.0/resources/xslt/.meta/~a.xslt.xml", meta),
            ("res_1.0.0/resources/xslt/sub/b.txt", b"b"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        let summary: Vec<_> = out
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
            summary,
            [
                (
                    "/_system/config/xslt",
                    "a.xslt",
                    Some("application/xslt+xml"),
                    &b"<a/>"[..]
                ),
                ("/_system/config/xslt/sub", "b.txt", None, &b"b"[..]),
            ]
        );
        assert_eq!(out[1].properties, [("owner".into(), "ops".into())]);
    }

    #[test]
    fn missing_files_and_fields_are_all_reported() {
        let info = br#"<resources>
            <item><file>absent.json</file><path>/_system/config</path></item>
            <item><file>x.json</file></item>
            <collection><directory>nodir</directory><path>/_system/config/c</path></collection>
            <item><file>y.json</file><path>/p</path><properties><property key="k"/></properties></item>
        </resources>"#;
        let (_, errors) = resources(&[("res_1.0.0/registry-info.xml", info)]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("registry-info.xml:3:") && errors[0].contains("<path>"));
        assert!(errors[1].contains("registry-info.xml:5:") && errors[1].contains("key and value"));

        let info = br#"<resources>
            <item><file>absent.json</file><path>/_system/config</path></item>
            <collection><directory>nodir</directory><path>/_system/config/c</path></collection>
        </resources>"#;
        let (_, errors) = resources(&[("res_1.0.0/registry-info.xml", info)]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("absent.json") && errors[0].contains("not in the CApp"));
        assert!(errors[1].contains("nodir"), "{errors:?}");
    }
}

#[cfg(test)]
mod project_tests {
    use super::*;

    #[test]
    fn items_read_as_mi_writes_them_line_by_line() {
        assert_eq!(as_item_deployer_writes(b"a\r\nb\rc"), b"a\nb\nc\n");
        assert_eq!(as_item_deployer_writes(b"a\n"), b"a\n");
        assert_eq!(as_item_deployer_writes(b""), b"");
        // Not UTF-8: kept whole.
        assert_eq!(as_item_deployer_writes(&[0xff, b'\r']), [0xff, b'\r']);
    }

    #[test]
    fn vscode_registry_artifact_xml_lists_items_with_media_types() {
        // The shape the VS Code MI extension writes (WSO2SADemo/mi430-integration-vsproject).
        let text = r#"<?xml version="1.0" encoding="UTF-8"?><artifacts>
  <artifact name="conf_json_schema_validator_json" groupId="com.example" version="1.0.0" type="registry/resource" serverRole="EnterpriseIntegrator">
    <item><file>schema_validator.json</file><path>/_system/config/json</path><mediaType>application/json</mediaType><properties><property key="owner" value="team"/></properties></item>
  </artifact>
</artifacts>"#;
        let items = project_registry_items("resources/registry/artifact.xml", text).unwrap();
        assert_eq!(
            items,
            [ProjectRegistryItem {
                path: "/_system/config/json".into(),
                file_name: "schema_validator.json".into(),
                media_type: Some("application/json".into()),
                properties: vec![("owner".into(), "team".into())],
            }]
        );
        let err = project_registry_items(
            "a.xml",
            "<artifacts><artifact><item><file>x</file></item></artifact></artifacts>",
        )
        .unwrap_err();
        assert!(err[0].contains("requires a non-empty <path>"), "{err:?}");
    }
}
