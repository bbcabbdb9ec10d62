//! Injected values: attribute values written as `$SYSTEM:NAME` (an environment variable),
//! `$FILE:NAME` (a key of `file.properties`), `$config:NAME` / `$configs:NAME` / `${configs.NAME}`
//! (a declared configuration parameter), resolved when an artifact deploys, as MI's
//! SYN:`modules/commons/src/main/java/org/apache/synapse/commons/resolvers/ResolverFactory.java`
//! does. This module owns the resolver ([`resolve`]), where the values come from
//! ([`InjectedValues`], [`ProcessValues`], [`NoValues`]) and the Java-properties reader used for
//! `file.properties` and `config.properties` ([`parse_properties`], [`read_properties_file`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use crate::artifact::parse_artifact_with;

/// Largest `.properties` file read (`file.properties`, `config.properties`); they hold a few
/// hundred short lines in practice.
pub const MAX_PROPERTIES_FILE_BYTES: u64 = 1024 * 1024;

/// The `-D` property naming the `$FILE:` properties file; `default` (what MI's launcher script
/// passes) means `<home>/conf/file.properties` (SYN `commons/util/FilePropertyLoader.java`).
pub const PROPERTIES_FILE_PATH_PROPERTY: &str = "properties.file.path";

/// Where injected values come from.
pub trait InjectedValues {
    /// `$SYSTEM:NAME`: the environment variable (SYN `resolvers/SystemResolver.java`).
    fn env(&self, name: &str) -> Option<String>;
    /// `$FILE:NAME`: the key of the properties file (SYN `resolvers/FilePropertyResolver.java`).
    fn file_property(&self, name: &str) -> Option<String>;
    /// `$config:NAME`, `$configs:NAME`, `${configs.NAME}`: a declared configuration parameter
    /// (SYN `resolvers/ConfigResolver.java` reads what MI's `ConfigDeployer` put in `PropertyHolder`).
    fn config(&self, name: &str) -> Option<String>;
}

/// Has no value for anything: every injected reference is reported missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoValues;

impl InjectedValues for NoValues {
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn file_property(&self, _: &str) -> Option<String> {
        None
    }
    fn config(&self, _: &str) -> Option<String> {
        None
    }
}

/// The values of a running server: the process environment, the `-D` system properties, the
/// `file.properties` file and the declared configuration parameter names.
#[derive(Debug, Clone, Default)]
pub struct ProcessValues {
    /// `None`: the process environment; `Some`: a fixed map (tests).
    env: Option<HashMap<String, String>>,
    system_properties: HashMap<String, String>,
    /// `$FILE:` keys.
    file_properties: HashMap<String, String>,
    /// The last fallback of configuration parameters: MI's `ConfigDeployer` always reads
    /// `<home>/conf/file.properties`, whatever `-Dproperties.file.path` says.
    config_file_properties: HashMap<String, String>,
    /// Names declared in `config.properties` (CApps' and `conf/config.properties`).
    declared: HashSet<String>,
}

impl ProcessValues {
    /// Values from the process environment, `system_properties` (Conflux's `-D` properties) and
    /// the properties file at `file_properties` (used for `$FILE:` and as the configuration
    /// fallback; an absent file has no keys). `declared`: the configuration parameter names.
    /// A file that cannot be read is an error; [`ProcessValues::with_file_properties`] with an
    /// empty map then gives the values without it.
    pub fn new(
        system_properties: HashMap<String, String>,
        file_properties: Option<&Path>,
        declared: HashSet<String>,
    ) -> Result<Self, PropertiesError> {
        let file = match file_properties {
            Some(path) => read_properties_map(path)?,
            None => HashMap::new(),
        };
        Ok(Self::with_file_properties(
            system_properties,
            file,
            declared,
        ))
    }

    /// [`ProcessValues::new`] with the properties file already read (`file_properties`).
    pub fn with_file_properties(
        system_properties: HashMap<String, String>,
        file_properties: HashMap<String, String>,
        declared: HashSet<String>,
    ) -> Self {
        ProcessValues {
            env: None,
            system_properties,
            config_file_properties: file_properties.clone(),
            file_properties,
            declared,
        }
    }

    /// The values of the server whose home is `home`, with MI's two file rules: `$FILE:` reads
    /// `-Dproperties.file.path` (absent or `default`: `<home>/conf/file.properties`; a relative
    /// path is relative to the home, MI's working directory), configuration parameters fall back
    /// to `<home>/conf/file.properties` (MI `ConfigDeployer.getValueOfKey`).
    pub fn for_home(
        home: &Path,
        system_properties: HashMap<String, String>,
        declared: HashSet<String>,
    ) -> Result<Self, PropertiesError> {
        let conf_file = home.join("conf").join("file.properties");
        let config_file_properties = read_properties_map(&conf_file)?;
        let file_path = file_properties_path(home, &system_properties);
        let file_properties = if file_path == conf_file {
            config_file_properties.clone()
        } else {
            read_properties_map(&file_path)?
        };
        Ok(ProcessValues {
            env: None,
            system_properties,
            file_properties,
            config_file_properties,
            declared,
        })
    }

    /// Fixed values (tests): `env` replaces the process environment; `file_properties` serves
    /// both `$FILE:` and the configuration fallback.
    pub fn from_parts(
        env: HashMap<String, String>,
        system_properties: HashMap<String, String>,
        file_properties: HashMap<String, String>,
        declared: HashSet<String>,
    ) -> Self {
        ProcessValues {
            env: Some(env),
            system_properties,
            config_file_properties: file_properties.clone(),
            file_properties,
            declared,
        }
    }
}

/// The `$FILE:` properties file of the server at `home` (SYN `FilePropertyLoader.init`).
pub fn file_properties_path(home: &Path, system_properties: &HashMap<String, String>) -> PathBuf {
    match system_properties
        .get(PROPERTIES_FILE_PATH_PROPERTY)
        .map(|p| p.trim())
    {
        None | Some("") | Some("default") => home.join("conf").join("file.properties"),
        Some(path) => home.join(path),
    }
}

impl InjectedValues for ProcessValues {
    fn env(&self, name: &str) -> Option<String> {
        match &self.env {
            Some(map) => map.get(name).cloned(),
            // `var_os` may panic on such names; none of them can be set anyway.
            None if name.is_empty() || name.contains(['=', '\0']) => None,
            // Java's System.getenv decodes what it cannot read lossily too.
            None => std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
        }
    }

    fn file_property(&self, name: &str) -> Option<String> {
        self.file_properties.get(name).cloned()
    }

    /// MI `ConfigDeployer.getValueOfKey`: environment, then system property, then
    /// `conf/file.properties`, for declared names only (only those reach `PropertyHolder`).
    fn config(&self, name: &str) -> Option<String> {
        if !self.declared.contains(name) {
            return None;
        }
        self.env(name)
            .or_else(|| self.system_properties.get(name).cloned())
            .or_else(|| self.config_file_properties.get(name).cloned())
    }
}

/// Why an injected value cannot be resolved (MI throws a `ResolverException` and the artifact
/// does not deploy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    #[error("environment variable {name} could not be found")]
    MissingEnv { name: String },
    #[error("file parameter key {name} could not be found")]
    MissingFileProperty { name: String },
    #[error(
        "configuration parameter {name} could not be found; declare it in config.properties and set it as an environment variable, a -D system property or in conf/file.properties"
    )]
    MissingConfig { name: String },
    /// `$SYSTEMX:a` and the like: `$NAME:` names a resolver that does not exist.
    #[error(
        "resolver '{resolver}' could not be found (expected $SYSTEM:NAME, $FILE:NAME, $config:NAME or ${{configs.NAME}})"
    )]
    UnknownResolver { resolver: String },
    /// `$CUSTOM_<class>:`: MI loads such resolvers as Java classes (ServiceLoader).
    #[error("custom resolver '{class}' is a Java class; Conflux has no custom resolvers")]
    CustomResolver { class: String },
}

/// `(\$)([_a-zA-Z0-9]+):([_a-zA-Z0-9]+)` and `(\$\{)([_a-zA-Z0-9]+).([_a-zA-Z0-9]+)(})`: a match's
/// end, resolver name (group 2) and variable (group 3).
struct Match<'v> {
    end: usize,
    resolver: &'v str,
    variable: &'v str,
}

fn word_end(value: &str, from: usize) -> usize {
    value.as_bytes()[from..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(value.len(), |n| from + n)
}

/// `Matcher.find()` of `(\$)([_a-zA-Z0-9]+):([_a-zA-Z0-9]+)` from byte `from`.
fn find_colon_form(value: &str, from: usize) -> Option<Match<'_>> {
    let bytes = value.as_bytes();
    (from..bytes.len())
        .filter(|&i| bytes[i] == b'$')
        .find_map(|i| {
            let colon = word_end(value, i + 1);
            if colon == i + 1 || bytes.get(colon) != Some(&b':') {
                return None;
            }
            let end = word_end(value, colon + 1);
            (end > colon + 1).then(|| Match {
                end,
                resolver: &value[i + 1..colon],
                variable: &value[colon + 1..end],
            })
        })
}

/// `Matcher.find()` of `(\$\{)([_a-zA-Z0-9]+).([_a-zA-Z0-9]+)(})`, with the regex's backtracking:
/// group 2 is tried longest first, `.` is any character but a line terminator.
fn find_brace_form(value: &str) -> Option<Match<'_>> {
    let bytes = value.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{'))
        .find_map(|i| {
            let run_end = word_end(value, i + 2);
            (i + 3..=run_end).rev().find_map(|dot| {
                let any = value[dot..].chars().next()?;
                if matches!(any, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}') {
                    return None;
                }
                let start = dot + any.len_utf8();
                let end = word_end(value, start);
                (end > start && bytes.get(end) == Some(&b'}')).then(|| Match {
                    end: end + 1,
                    resolver: &value[i + 2..dot],
                    variable: &value[start..end],
                })
            })
        })
}

/// Resolves `value` as SYN `ResolverFactory.getResolver(value).resolve()` does: a value starting
/// with `${configs.`, `$SYSTEM`, `$FILE` (or the MI 4.4 pre-GA `$config:`, `$configs:`) is replaced
/// entirely by the value its first `$resolver:NAME` / `${configs.NAME}` match names (text after
/// the match is dropped, as in MI); anything else (e.g. `${payload.x}`, `pre-$SYSTEM:X`) is
/// returned unchanged, without allocating.
pub fn resolve<'v>(
    value: &'v str,
    values: &dyn InjectedValues,
) -> Result<Cow<'v, str>, InjectError> {
    let found = if value.starts_with("${configs.") {
        find_brace_form(value)
    } else if ["$SYSTEM", "$FILE", "$config:", "$configs:"]
        .iter()
        .any(|p| value.starts_with(p))
    {
        find_colon_form(value, 0)
    } else if value.starts_with("$CUSTOM_") {
        // ResolverFactory needs a second match after the `$CUSTOM_<class>:` one, whose variable
        // the class resolves; with one match the value is left as written.
        let first = find_colon_form(value, 0);
        if let Some(first) = first
            && find_colon_form(value, first.end).is_some()
        {
            return Err(InjectError::CustomResolver {
                class: first
                    .resolver
                    .get("CUSTOM_".len()..)
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            });
        }
        None
    } else {
        None
    };
    let Some(found) = found else {
        return Ok(Cow::Borrowed(value));
    };
    let name = found.variable;
    let resolved = match found.resolver.to_ascii_lowercase().as_str() {
        "system" => values.env(name).ok_or_else(|| InjectError::MissingEnv {
            name: name.to_string(),
        })?,
        "file" => values
            .file_property(name)
            .ok_or_else(|| InjectError::MissingFileProperty {
                name: name.to_string(),
            })?,
        // `config` until Jan 2025, `configs` since (MI 4.4).
        "config" | "configs" => values
            .config(name)
            .ok_or_else(|| InjectError::MissingConfig {
                name: name.to_string(),
            })?,
        other => {
            return Err(InjectError::UnknownResolver {
                resolver: other.to_string(),
            });
        }
    };
    Ok(Cow::Owned(resolved))
}

/// A `.properties` file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    #[error("malformed \\uxxxx escape in {file} line {line}: expected four hexadecimal digits")]
    MalformedUnicode { file: String, line: usize },
    #[error("{file} has {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { file: String, size: u64, limit: u64 },
    #[error("cannot read {file}: {message}")]
    Io { file: String, message: String },
}

/// Reads a properties file as `java.util.Properties.load(InputStream)` does: ISO-8859-1 bytes
/// (other characters are written `\uXXXX`). `Ok(None)` when the file does not exist.
pub fn read_properties_file(path: &Path) -> Result<Option<Vec<(String, String)>>, PropertiesError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| PropertiesError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    };
    let too_large = |size: u64| PropertiesError::TooLarge {
        file: path.display().to_string(),
        size,
        limit: MAX_PROPERTIES_FILE_BYTES,
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
        Ok(meta) if meta.len() > MAX_PROPERTIES_FILE_BYTES => return Err(too_large(meta.len())),
        Ok(_) => {}
    }
    let bytes = std::fs::read(path).map_err(io)?;
    // The file may have grown since its size was read.
    if bytes.len() as u64 > MAX_PROPERTIES_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    parse_properties(&file, &text).map(Some)
}

fn read_properties_map(path: &Path) -> Result<HashMap<String, String>, PropertiesError> {
    Ok(read_properties_file(path)?
        .unwrap_or_default()
        .into_iter()
        .collect())
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// A physical line of a properties file.
struct NaturalLine<'t> {
    text: &'t str,
    /// Length of its terminator: 0 (the input ends), 1 (`\n` or `\r`), 2 (`\r\n`).
    terminator: usize,
    /// Nothing follows it.
    last: bool,
}

/// Lines ended by `\n`, `\r` or `\r\n` (`Properties.LineReader`).
fn natural_lines(text: &str) -> impl Iterator<Item = NaturalLine<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let terminator = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + terminator..];
        Some(NaturalLine {
            text: line,
            terminator,
            last: rest.is_empty(),
        })
    })
}

/// Parses Java-properties text as `java.util.Properties.load` (JDK 9+ `LineReader`) does:
/// `key=value`, `key:value` or `key value`; `#`/`!` comment lines; a line ending in an odd number
/// of backslashes continues on the next (whose leading blanks are skipped); `\t \n \r \f \uXXXX`
/// escapes, `\c` is `c`. Entries in file order; a later duplicate key wins when collected into a
/// map, as in `Properties`. `file` names the text in errors.
pub fn parse_properties(file: &str, text: &str) -> Result<Vec<(String, String)>, PropertiesError> {
    Ok(parse_properties_lines(file, text)?
        .into_iter()
        .map(|(_, key, value)| (key, value))
        .collect())
}

/// [`parse_properties`], each entry with the 1-based line it starts on.
pub fn parse_properties_lines(
    file: &str,
    text: &str,
) -> Result<Vec<(usize, String, String)>, PropertiesError> {
    let mut entries = Vec::new();
    // The logical line so far (LineReader's `lineBuf[..len]`).
    let mut logical = String::new();
    let mut start_line = 0;
    for (index, line) in natural_lines(text).enumerate() {
        let content = line.text.trim_start_matches(is_blank);
        if logical.is_empty() {
            // Blank and comment lines (also right after a continuation that left nothing); a
            // comment never continues.
            if content.is_empty() || content.starts_with(['#', '!']) {
                continue;
            }
            start_line = index + 1;
        }
        logical.push_str(content);
        let trailing_backslashes = content.chars().rev().take_while(|&c| c == '\\').count();
        if trailing_backslashes % 2 == 0 {
            if !logical.is_empty() {
                entries.push(line_entry(file, start_line, &logical)?);
            }
            logical.clear();
            continue;
        }
        // A continuation: the backslash is not part of the line.
        logical.pop();
        // LineReader quirk: when the input ends on this line, or right after its one-character
        // terminator, the line is kept even if nothing is left of it.
        if line.terminator < 2 && line.last {
            entries.push(line_entry(file, start_line, &logical)?);
            logical.clear();
        }
    }
    if !logical.is_empty() {
        entries.push(line_entry(file, start_line, &logical)?);
    }
    Ok(entries)
}

fn line_entry(
    file: &str,
    line: usize,
    logical: &str,
) -> Result<(usize, String, String), PropertiesError> {
    let (key, value) = split_entry(file, line, logical)?;
    Ok((line, key, value))
}

/// `Properties.load0`: the key ends at the first unescaped `=`, `:` or blank; blanks and one
/// `=`/`:` separate it from the value.
fn split_entry(
    file: &str,
    line: usize,
    logical: &str,
) -> Result<(String, String), PropertiesError> {
    let mut escaped = false;
    let mut key_end = logical.len();
    for (i, c) in logical.char_indices() {
        if !escaped && (c == '=' || c == ':' || is_blank(c)) {
            key_end = i;
            break;
        }
        escaped = c == '\\' && !escaped;
    }
    let mut rest = &logical[key_end..];
    let mut has_separator = false;
    if let Some(c) = rest.chars().next() {
        has_separator = c == '=' || c == ':';
        rest = &rest[c.len_utf8()..];
    }
    loop {
        rest = rest.trim_start_matches(is_blank);
        match rest.strip_prefix(['=', ':']) {
            Some(after) if !has_separator => {
                has_separator = true;
                rest = after;
            }
            _ => break,
        }
    }
    let unescape_here = |s: &str| {
        unescape(s).ok_or_else(|| PropertiesError::MalformedUnicode {
            file: file.to_string(),
            line,
        })
    };
    Ok((unescape_here(&logical[..key_end])?, unescape_here(rest)?))
}

/// `Properties.loadConvert`; `\uXXXX` units are UTF-16 (a surrogate pair is one character).
fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next() {
                None => break,
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                        return None;
                    }
                    units.push(u16::from_str_radix(&hex, 16).ok()?);
                    continue;
                }
                Some('t') => '\t',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('f') => '\u{c}',
                Some(other) => other,
            }
        } else {
            c
        };
        let mut buf = [0u16; 2];
        units.extend_from_slice(c.encode_utf16(&mut buf));
    }
    Some(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn values() -> ProcessValues {
        ProcessValues::from_parts(
            map(&[
                ("HOST", "env-host"),
                ("url", "http://from-env"),
                ("EMPTY", ""),
            ]),
            map(&[("url", "http://from-sysprop"), ("port", "9000")]),
            map(&[("fileKey", "from-file"), ("port", "1"), ("timeout", "30")]),
            ["url", "port", "timeout", "undefined"]
                .into_iter()
                .map(String::from)
                .collect(),
        )
    }

    fn ok(value: &str) -> String {
        resolve(value, &values()).unwrap().into_owned()
    }

    fn err(value: &str) -> String {
        resolve(value, &values()).unwrap_err().to_string()
    }

    // SystemResolver: System.getenv only.
    #[test]
    fn system_resolver_reads_the_environment_only() {
        assert_eq!(ok("$SYSTEM:HOST"), "env-host");
        assert_eq!(ok("$SYSTEM:EMPTY"), "");
        assert_eq!(
            err("$SYSTEM:fileKey"),
            "environment variable fileKey could not be found"
        );
    }

    // FilePropertyResolver / FilePropertyLoader.
    #[test]
    fn file_property_resolver_reads_file_properties() {
        assert_eq!(ok("$FILE:fileKey"), "from-file");
        assert_eq!(
            err("$FILE:HOST"),
            "file parameter key HOST could not be found"
        );
    }

    // ConfigResolver over what ConfigDeployer.getValueOfKey put in PropertyHolder:
    // env, then system property, then file.properties, for declared names.
    #[test]
    fn config_resolver_in_all_three_spellings_with_mi_precedence() {
        for form in ["$config:url", "$configs:url", "${configs.url}"] {
            assert_eq!(ok(form), "http://from-env", "{form}");
        }
        assert_eq!(ok("${configs.port}"), "9000");
        assert_eq!(ok("$config:timeout"), "30");
        // Declared but set nowhere; and set (in the file) but not declared.
        for form in ["${configs.undefined}", "$configs:fileKey"] {
            assert!(err(form).starts_with("configuration parameter "), "{form}");
        }
        assert_eq!(
            err("${configs.undefined}"),
            "configuration parameter undefined could not be found; declare it in config.properties and set it as an environment variable, a -D system property or in conf/file.properties"
        );
    }

    // ResolverFactory: the prefix must start the value; find() replaces the whole value.
    #[test]
    fn resolver_factory_prefixes_and_whole_value_replacement() {
        assert_eq!(ok("$SYSTEM:HOST/path?x=1"), "env-host");
        assert_eq!(ok("${configs.port}/trailing"), "9000");
        for literal in [
            "http://b/$SYSTEM:HOST",
            " $SYSTEM:HOST",
            "$system:HOST",
            "${payload.x}",
            "${configs}",
            "$SYSTEM",
            "$SYSTEM:",
            "$FILE-x",
            "$ctx:x",
            "$CUSTOM_Vault:x",
            "{uri.var.id}",
            "",
        ] {
            let resolved = resolve(literal, &NoValues).unwrap();
            assert!(
                matches!(resolved, Cow::Borrowed(s) if s == literal),
                "{literal}"
            );
        }
        // `${configs.a.b}` has no match at 0 and nothing later: left as written.
        assert_eq!(ok("${configs.a.b}"), "${configs.a.b}");
        // find() keeps searching past a prefix that does not match.
        assert_eq!(ok("$SYSTEM then $FILE:fileKey"), "from-file");
        assert_eq!(
            err("$SYSTEMX:HOST"),
            "resolver 'systemx' could not be found (expected $SYSTEM:NAME, $FILE:NAME, $config:NAME or ${configs.NAME})"
        );
        assert_eq!(
            err("$CUSTOM_Vault:a $x:y"),
            "custom resolver 'vault' is a Java class; Conflux has no custom resolvers"
        );
    }

    #[test]
    fn brace_form_backtracks_like_the_java_regex() {
        let m = find_brace_form("${configs.a}").unwrap();
        assert_eq!((m.resolver, m.variable, m.end), ("configs", "a", 12));
        // `.` is any character: group 2 is given back one character at a time.
        let m = find_brace_form("${abcd}").unwrap();
        assert_eq!((m.resolver, m.variable), ("ab", "d"));
        assert!(find_brace_form("${configs\n.a}").is_none());
        assert!(find_brace_form("${configs.}").is_none());
    }

    #[test]
    fn no_values_resolves_nothing() {
        assert_eq!(
            resolve("$SYSTEM:PATH", &NoValues).unwrap_err(),
            InjectError::MissingEnv {
                name: "PATH".into()
            }
        );
        assert!(resolve("$FILE:a", &NoValues).is_err());
        assert!(resolve("${configs.a}", &NoValues).is_err());
    }

    #[test]
    fn process_values_read_the_process_environment() {
        let declared: HashSet<String> = ["PATH".to_string()].into();
        let values = ProcessValues::new(HashMap::new(), None, declared).unwrap();
        let path = std::env::var("PATH").expect("PATH is set in test environments");
        assert_eq!(resolve("$SYSTEM:PATH", &values).unwrap(), path);
        assert_eq!(resolve("${configs.PATH}", &values).unwrap(), path);
        assert_eq!(values.env("A=B"), None);
        assert_eq!(values.env(""), None);
        let values = ProcessValues::with_file_properties(
            map(&[("c", "from-sysprop")]),
            map(&[("k", "v"), ("c", "from-file")]),
            ["c".to_string()].into(),
        );
        assert_eq!(resolve("$FILE:k", &values).unwrap(), "v");
        assert_eq!(resolve("$config:c", &values).unwrap(), "from-sysprop");
    }

    #[test]
    fn for_home_follows_properties_file_path() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join("conf")).unwrap();
        std::fs::write(
            home.path().join("conf/file.properties"),
            "k=conf\nc=conf-c\n",
        )
        .unwrap();
        std::fs::write(home.path().join("other.properties"), "k=other\n").unwrap();
        let declared: HashSet<String> = ["c".to_string()].into();
        let v = ProcessValues::for_home(home.path(), HashMap::new(), declared.clone()).unwrap();
        assert_eq!(v.file_property("k").as_deref(), Some("conf"));
        let v = ProcessValues::for_home(
            home.path(),
            map(&[(PROPERTIES_FILE_PATH_PROPERTY, "default")]),
            declared.clone(),
        )
        .unwrap();
        assert_eq!(v.file_property("k").as_deref(), Some("conf"));
        // $FILE: follows -Dproperties.file.path; configuration values still read conf/.
        let v = ProcessValues::for_home(
            home.path(),
            map(&[(PROPERTIES_FILE_PATH_PROPERTY, "other.properties")]),
            declared,
        )
        .unwrap();
        assert_eq!(v.file_property("k").as_deref(), Some("other"));
        assert_eq!(v.file_property("c"), None);
        assert_eq!(v.config("c").as_deref(), Some("conf-c"));
        // No file at all: no keys.
        let empty = tempfile::tempdir().unwrap();
        let v = ProcessValues::for_home(empty.path(), HashMap::new(), HashSet::new()).unwrap();
        assert_eq!(v.file_property("k"), None);
    }

    fn props(text: &str) -> Vec<(String, String)> {
        parse_properties("p.properties", text).unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // java.util.Properties.load: separators, comments, blanks.
    #[test]
    fn properties_separators_and_comments() {
        assert_eq!(
            props(
                "# comment\n! also\n  \na=1\nb:2\nc 3\n d = 4 \ne\t:\t5\nf\ng==x\nh :: y\n\t#i=6\n"
            ),
            pairs(&[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4 "),
                ("e", "5"),
                ("f", ""),
                ("g", "=x"),
                ("h", ": y"),
            ])
        );
        // config.properties declarations (`name:type`).
        assert_eq!(
            props("url:string\r\ncert_alias:cert\r\n"),
            pairs(&[("url", "string"), ("cert_alias", "cert")])
        );
        assert_eq!(props("a=1\rb=2"), pairs(&[("a", "1"), ("b", "2")]));
    }

    #[test]
    fn properties_continuations_and_escapes() {
        assert_eq!(
            props("list=a,\\\n    b,\\\r\n\tc\nnext=1\n"),
            pairs(&[("list", "a,b,c"), ("next", "1")])
        );
        // An even number of backslashes is an escaped backslash, not a continuation.
        assert_eq!(
            props("p=C:\\\\dir\\\\\nq=2"),
            pairs(&[("p", "C:\\dir\\"), ("q", "2")])
        );
        // A comment line never continues; a continued line is never a comment.
        assert_eq!(
            props("# c \\\nx=1\ny=\\\n#z"),
            pairs(&[("x", "1"), ("y", "#z")])
        );
        assert_eq!(
            props("k\\ ey\\=\\:=v\\tw\\nx\\u00e9\\uD83D\\uDE00\\q"),
            pairs(&[("k ey=:", "v\tw\nx\u{e9}\u{1F600}q")])
        );
        // A continuation at end of input drops the backslash.
        assert_eq!(props("a=1\\"), pairs(&[("a", "1")]));
        assert_eq!(
            parse_properties("f.properties", "ok=1\nbad=\\u12G4").unwrap_err(),
            PropertiesError::MalformedUnicode {
                file: "f.properties".into(),
                line: 2
            }
        );
        assert!(parse_properties("f", "bad=\\u12").is_err());
    }

    #[test]
    fn properties_files_are_latin1_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.properties");
        assert_eq!(read_properties_file(&path).unwrap(), None);
        std::fs::write(&path, b"name=caf\xe9\n").unwrap();
        assert_eq!(
            read_properties_file(&path).unwrap(),
            Some(pairs(&[("name", "caf\u{e9}")]))
        );
        let line = b"k=v\n";
        let mut at_limit = b"#".repeat(MAX_PROPERTIES_FILE_BYTES as usize - line.len() - 1);
        at_limit.extend_from_slice(b"\n");
        at_limit.extend_from_slice(line);
        assert_eq!(at_limit.len() as u64, MAX_PROPERTIES_FILE_BYTES);
        std::fs::write(&path, &at_limit).unwrap();
        assert_eq!(
            read_properties_file(&path).unwrap(),
            Some(pairs(&[("k", "v")]))
        );
        at_limit.push(b'\n');
        std::fs::write(&path, &at_limit).unwrap();
        let error = read_properties_file(&path).unwrap_err();
        assert!(
            matches!(error, PropertiesError::TooLarge { size, .. } if size == MAX_PROPERTIES_FILE_BYTES + 1)
        );
    }
}
