//! `deployment.toml` as a flat list of dotted keys with positions, the way MI's config mapper sees
//! it (`org.wso2.config.mapper.TomlParser`: tables flattened to `a.b.c`, a quoted key segment that
//! contains dots kept as `'a.b'`), with MI's `$env{VAR}`, `$sys{prop}` and `$ref{key}` placeholders
//! resolved (`org.wso2.config.mapper.ReferenceResolver`).
//!
//! Arrays, including arrays of tables (`[[internal_apis.users]]`), are leaves: their elements are
//! kept whole, since MI replaces such arrays wholesale rather than merging them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::error::{ConfigError, ConfigWarning, Origin};
use crate::known_keys::CHECKED_TABLES;
use crate::properties::SystemProperties;

/// How many `$ref{}` hops are followed before a chain is reported as a cycle.
pub const MAX_REFERENCE_DEPTH: usize = 16;

/// A TOML value, owned and position-free (positions live on the [`Entry`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    /// Integers keep their text so that out-of-range numbers can be reported as written.
    Integer(i128),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Value>),
    Table(BTreeMap<String, Value>),
}

impl Value {
    /// The value as the user would recognise it in an error message.
    pub fn display(&self) -> String {
        match self {
            Value::String(s) => format!("{s:?}"),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Datetime(d) => d.clone(),
            Value::Array(items) => {
                let inner: Vec<String> = items.iter().map(Value::display).collect();
                format!("[{}]", inner.join(", "))
            }
            Value::Table(_) => "a table".to_string(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "boolean",
            Value::Datetime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

/// One leaf of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The flattened key, e.g. `transport.http.listener.port`.
    pub key: String,
    pub value: Value,
    /// Where the value starts.
    pub origin: Origin,
}

/// A parsed, flattened, placeholder-resolved `deployment.toml`.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub path: PathBuf,
    entries: BTreeMap<String, Entry>,
    /// Problems that do not stop the server (repeated keys in tables Conflux does not read).
    pub warnings: Vec<ConfigWarning>,
}

impl Document {
    /// Parses `text` (read from `path`), collecting every error rather than stopping at the first.
    pub fn parse(
        path: &Path,
        text: &str,
        properties: &SystemProperties,
    ) -> Result<Document, Vec<ConfigError>> {
        let lines = LineIndex::new(text);
        let origin_at = |offset: usize| {
            let (line, column) = lines.position(offset);
            Origin::File {
                path: path.to_path_buf(),
                line,
                column,
            }
        };
        let (table, parse_errors) = DeTable::parse_recoverable(text);
        let mut errors = Vec::new();
        let mut duplicates = Vec::new();
        for e in parse_errors {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let message = e.message().trim().to_string();
            let table = enclosing_table(text, offset);
            // A repeated key is invalid TOML. Where Conflux reads the table it is an error (which
            // value would win is ambiguous); elsewhere it cannot change what Conflux does, and MI's
            // own deployment-full.toml has one, so it is a warning.
            if message.contains("duplicate key") && !is_checked_table(&table) {
                duplicates.push(ConfigWarning::DuplicateKey {
                    table,
                    origin: origin_at(offset),
                });
            } else {
                errors.push(ConfigError::Syntax {
                    origin: origin_at(offset),
                    message,
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut entries = BTreeMap::new();
        flatten(table.get_ref(), "", &origin_at, &mut entries);
        let mut doc = Document {
            path: path.to_path_buf(),
            entries,
            warnings: duplicates,
        };
        doc.resolve_placeholders(properties)?;
        Ok(doc)
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The entries, for the secure vault to replace `$secret{}` in ([`crate::secrets::open`]).
    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.entries.values_mut()
    }

    fn resolve_placeholders(
        &mut self,
        properties: &SystemProperties,
    ) -> Result<(), Vec<ConfigError>> {
        let snapshot = self.entries.clone();
        let mut errors = Vec::new();
        for entry in self.entries.values_mut() {
            let mut ctx = Resolver {
                entries: &snapshot,
                properties,
                key: &entry.key,
                origin: &entry.origin,
            };
            if let Err(e) = ctx.resolve_value(&mut entry.value, 0) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

struct Resolver<'a> {
    entries: &'a BTreeMap<String, Entry>,
    properties: &'a SystemProperties,
    key: &'a str,
    origin: &'a Origin,
}

impl Resolver<'_> {
    fn resolve_value(&mut self, value: &mut Value, depth: usize) -> Result<(), ConfigError> {
        match value {
            Value::String(s) if s.contains("${") || s.contains('$') => {
                if let Some(resolved) = self.resolve_string(s, depth)? {
                    *value = resolved;
                }
                Ok(())
            }
            Value::Array(items) => {
                for item in items {
                    self.resolve_value(item, depth)?;
                }
                Ok(())
            }
            Value::Table(map) => {
                for item in map.values_mut() {
                    self.resolve_value(item, depth)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Replaces every placeholder in `s`. A string that is exactly one `$ref{}` takes the referenced
    /// value with its type (so `port = "$ref{a.b}"` may be an integer).
    fn resolve_string(&mut self, s: &str, depth: usize) -> Result<Option<Value>, ConfigError> {
        if depth > MAX_REFERENCE_DEPTH {
            return Err(self.error(s, "too many nested $ref{} placeholders (a cycle?)"));
        }
        let mut out = String::new();
        let mut rest = s;
        let mut changed = false;
        while let Some(start) = find_placeholder(rest) {
            let (kind, after) = &rest[start..].split_once('{').unwrap_or(("", ""));
            let Some(end) = after.find('}') else {
                return Err(self.error(&rest[start..], "missing closing `}`"));
            };
            let name = &after[..end];
            let placeholder = format!("{kind}{{{name}}}");
            let replacement = match *kind {
                "$env" => std::env::var(name).map_err(|_| {
                    self.error(
                        &placeholder,
                        &format!("environment variable {name} is not set"),
                    )
                })?,
                "$sys" => self
                    .properties
                    .value(name)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        self.error(
                            &placeholder,
                            &format!(
                                "system property {name} is not set (give it with -D{name}=...)"
                            ),
                        )
                    })?,
                "$ref" => {
                    let target = self.entries.get(name).ok_or_else(|| {
                        self.error(&placeholder, &format!("key {name} is not set in this file"))
                    })?;
                    let mut value = target.value.clone();
                    self.resolve_value(&mut value, depth + 1)?;
                    if start == 0 && after.len() == end + 1 && out.is_empty() {
                        return Ok(Some(value));
                    }
                    match value {
                        Value::String(s) => s,
                        other => other.display(),
                    }
                }
                // Unreachable for `$secret{}` (not in `find_placeholder`): the secure vault
                // replaces it once `[secrets]` is decrypted (`secrets::open`).
                _ => placeholder.clone(),
            };
            out.push_str(&rest[..start]);
            out.push_str(&replacement);
            rest = &after[end + 1..];
            changed = true;
        }
        if !changed {
            return Ok(None);
        }
        out.push_str(rest);
        Ok(Some(Value::String(out)))
    }

    fn error(&self, placeholder: &str, reason: &str) -> ConfigError {
        ConfigError::Placeholder {
            key: self.key.to_string(),
            origin: self.origin.clone(),
            placeholder: placeholder.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// The `[table]` or `[[table]]` header above `offset`, or "" at the top of the file.
fn enclosing_table(text: &str, offset: usize) -> String {
    // Include the rest of the line: a repeated `[table]` header is reported on the header itself.
    let line_end = text
        .get(offset.min(text.len())..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| offset + i);
    let before = text.get(..line_end).unwrap_or("");
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            let end = l.find(']').unwrap_or(l.len());
            l[..end].trim_start_matches('[').trim().to_string()
        })
        .unwrap_or_default()
}

fn is_checked_table(table: &str) -> bool {
    table.is_empty()
        || CHECKED_TABLES.iter().any(|t| {
            table == *t
                || table.starts_with(&format!("{t}."))
                || t.starts_with(&format!("{table}."))
        })
}

fn find_placeholder(s: &str) -> Option<usize> {
    ["$env{", "$sys{", "$ref{"]
        .iter()
        .filter_map(|p| s.find(p))
        .min()
}

fn flatten(
    table: &DeTable<'_>,
    prefix: &str,
    origin_at: &dyn Fn(usize) -> Origin,
    out: &mut BTreeMap<String, Entry>,
) {
    for (key, value) in table.iter() {
        let segment = key.get_ref();
        let segment = if segment.contains('.') {
            format!("'{segment}'")
        } else {
            segment.to_string()
        };
        let full = if prefix.is_empty() {
            segment
        } else {
            format!("{prefix}.{segment}")
        };
        match value.get_ref() {
            DeValue::Table(inner) => flatten(inner, &full, origin_at, out),
            other => {
                out.insert(
                    full.clone(),
                    Entry {
                        key: full,
                        value: convert(other),
                        origin: origin_at(value.span().start),
                    },
                );
            }
        }
    }
}

fn convert(value: &DeValue<'_>) -> Value {
    match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
            match i128::from_str_radix(&digits, i.radix()) {
                Ok(n) => Value::Integer(n),
                Err(_) => Value::String(i.to_string()),
            }
        }
        DeValue::Float(f) => Value::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Array(items.iter().map(|v| convert(v.get_ref())).collect()),
        DeValue::Table(t) => Value::Table(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), convert(v.get_ref())))
                .collect(),
        ),
    }
}

/// Maps byte offsets to 1-based line and column (columns count characters, as editors do).
struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Document, Vec<ConfigError>> {
        Document::parse(
            Path::new("deployment.toml"),
            text,
            &SystemProperties::default(),
        )
    }

    fn at(line: usize, column: usize) -> Origin {
        Origin::File {
            path: PathBuf::from("deployment.toml"),
            line,
            column,
        }
    }

    #[test]
    fn tables_and_dotted_keys_flatten_with_positions() {
        let doc = parse("[server]\nhostname = \"h\"\n\n[transport.http]\nlistener.port = 8300\n")
            .unwrap();
        let e = doc.get("transport.http.listener.port").unwrap();
        assert_eq!(e.value, Value::Integer(8300));
        assert_eq!(e.origin, at(5, 17));
        assert_eq!(
            doc.get("server.hostname").unwrap().value,
            Value::String("h".into())
        );
    }

    // MI config-mapper TomlParser keeps a quoted key containing dots as one segment.
    #[test]
    fn quoted_key_with_dots_is_one_segment() {
        let doc = parse("[synapse_properties]\n'internal.http.api.port' = 9100\n").unwrap();
        assert!(
            doc.get("synapse_properties.'internal.http.api.port'")
                .is_some()
        );
    }

    #[test]
    fn arrays_of_tables_are_leaves() {
        let doc = parse("[[internal_apis.users]]\nuser.name = \"a\"\n[[internal_apis.users]]\nuser.name = \"b\"\n").unwrap();
        match &doc.get("internal_apis.users").unwrap().value {
            Value::Array(items) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_error_is_located() {
        let errors = parse("[server]\noffset = = 3\n").unwrap_err();
        match &errors[0] {
            ConfigError::Syntax { origin, .. } => assert_eq!(origin, &at(2, 10)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duplicate_key_in_a_table_conflux_reads_is_an_error() {
        assert!(parse("[server]\noffset = 1\n[server]\noffset = 2\n").is_err());
        assert!(parse("[server]\noffset = 1\noffset = 2\n").is_err());
        assert!(parse("[transport.http]\nlistener.port = 1\nlistener.port = 2\n").is_err());
    }

    #[test]
    fn duplicate_key_elsewhere_is_a_located_warning() {
        let doc = parse("[[transport.modules]]\nref = \"a\"\nref = \"b\"\n").unwrap();
        assert_eq!(doc.warnings.len(), 1);
        let text = doc.warnings[0].to_string();
        assert!(
            text.contains("transport.modules") && text.contains("deployment.toml:3:1"),
            "{text}"
        );
    }

    #[test]
    fn sys_and_ref_placeholders_resolve() {
        let props = SystemProperties::from_definitions(["myOffset=7"]);
        let doc = Document::parse(
            Path::new("deployment.toml"),
            "[server]\nhostname = \"example.org\"\noffset = \"$sys{myOffset}\"\n[monitoring.jmx]\nrmi_hostname = \"$ref{server.hostname}\"\nurl = \"http://$ref{server.hostname}:1\"\n",
            &props,
        )
        .unwrap();
        assert_eq!(
            doc.get("server.offset").unwrap().value,
            Value::String("7".into())
        );
        assert_eq!(
            doc.get("monitoring.jmx.rmi_hostname").unwrap().value,
            Value::String("example.org".into())
        );
        assert_eq!(
            doc.get("monitoring.jmx.url").unwrap().value,
            Value::String("http://example.org:1".into())
        );
    }

    #[test]
    fn env_placeholder_resolves_from_the_environment() {
        // PATH is set in every environment this runs in; no global state is changed.
        let path = std::env::var("PATH").unwrap_or_default();
        let doc = parse("[server]\nx = \"$env{PATH}\"\n").unwrap();
        assert_eq!(doc.get("server.x").unwrap().value, Value::String(path));
    }

    #[test]
    fn missing_env_variable_is_a_located_error() {
        let errors =
            parse("[server]\noffset = \"$env{CONFLUX_SURELY_UNSET_VARIABLE}\"\n").unwrap_err();
        let text = errors[0].to_string();
        assert!(text.contains("server.offset"), "{text}");
        assert!(text.contains("CONFLUX_SURELY_UNSET_VARIABLE"), "{text}");
        assert!(text.contains("deployment.toml:2:10"), "{text}");
    }

    #[test]
    fn reference_cycle_is_reported_not_looped() {
        let errors = parse("[a]\nx = \"$ref{a.y}\"\ny = \"$ref{a.x}\"\n").unwrap_err();
        assert!(errors[0].to_string().contains("cycle"), "{}", errors[0]);
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        assert!(parse("[a]\nx = \"$env{HOME\"\n").is_err());
    }
}
