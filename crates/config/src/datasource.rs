//! `[[datasource]]` entries of `deployment.toml`: MI's carbon data sources (docs-mi "Configuring
//! Datasources"; rendered by MI's `conf/datasources/master-datasources.xml.j2` into an RDBMS
//! `<datasource>` named `id`, JNDI name `jdbc/<id>`, with `url`, `username`, `password`,
//! `driver` and every `pool_options.<name>` as a pool property).
//!
//! This module checks the keys and their types and keeps where each value was written, so that a
//! later error (a pool property the data source layer refuses) can name its `file:line:column`.
//! Opening pools is the server's job.

use std::collections::BTreeMap;
use std::path::Path;

use crate::document::{Document, Value};
use crate::error::{ConfigError, Origin};

/// The `deployment.toml` key of the array of tables.
pub const DATASOURCE_KEY: &str = "datasource";

/// The most `[[datasource]]` entries read; one more is an error.
pub const MAX_DATASOURCES: usize = 256;

/// The keys an entry may have besides `pool_options.*` (MI's template reads exactly these).
pub const DATASOURCE_FIELDS: &[&str] = &[
    "id",
    "url",
    "username",
    "password",
    "driver",
    "pool_options",
    "jmx_enable",
    "description",
];

/// One `[[datasource]]`.
#[derive(Clone, PartialEq)]
pub struct DataSourceDef {
    /// `id`: the data source name (`carbon_datasource_name`, `<dsName>`).
    pub id: String,
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `driver`: the JDBC driver class.
    pub driver: Option<String>,
    /// `pool_options.<name> = value`, values as text (MI renders them into XML text).
    pub pool_options: Vec<(String, String)>,
    /// `description`, else MI's template text `this database is <id>`.
    pub description: String,
    /// Where the entry's `[[datasource]]` header is.
    pub origin: Origin,
    /// Where each key's value is (`url`, `pool_options.maxActive`, ...).
    pub key_origins: BTreeMap<String, Origin>,
}

impl std::fmt::Debug for DataSourceDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSourceDef")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("driver", &self.driver)
            .field("pool_options", &self.pool_options)
            .field("origin", &self.origin)
            .finish()
    }
}

impl DataSourceDef {
    /// Where `key` (`url`, `pool_options.maxActive`) was written, else the entry's header.
    pub fn origin_of(&self, key: &str) -> &Origin {
        self.key_origins.get(key).unwrap_or(&self.origin)
    }

    /// The entry as MI's pool properties (`url`, `username`, `password`, `driverClassName`, then
    /// the pool options), as the template renders them into `<configuration>`.
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut props = vec![("url".to_string(), self.url.clone())];
        if let Some(u) = &self.username {
            props.push(("username".into(), u.clone()));
        }
        if let Some(p) = &self.password {
            props.push(("password".into(), p.clone()));
        }
        if let Some(d) = &self.driver {
            props.push(("driverClassName".into(), d.clone()));
        }
        props.extend(self.pool_options.iter().cloned());
        props
    }
}

/// Reads every `[[datasource]]` of `document`. All problems are reported together; each names
/// `[[datasource]] entry N <key>`, where it was written, the value and what is valid.
pub fn read(document: &Document) -> Result<Vec<DataSourceDef>, Vec<ConfigError>> {
    let Some(entry) = document.get(DATASOURCE_KEY) else {
        return Ok(Vec::new());
    };
    let mut errors = Vec::new();
    let Value::Array(items) = &entry.value else {
        return Err(vec![ConfigError::InvalidValue {
            key: DATASOURCE_KEY.into(),
            origin: entry.origin.clone(),
            value: entry.value.display(),
            expected: "an array of tables ([[datasource]] with id, url, username, password, driver, pool_options.*)".into(),
        }]);
    };
    if items.len() > MAX_DATASOURCES {
        return Err(vec![ConfigError::InvalidValue {
            key: "[[datasource]]".into(),
            origin: entry.origin.clone(),
            value: format!("{} entries", items.len()),
            expected: format!("at most {MAX_DATASOURCES} data sources"),
        }]);
    }
    let text = std::fs::read_to_string(&document.path).unwrap_or_default();
    let headers = header_lines(&text);
    let mut defs: Vec<DataSourceDef> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let header = headers.get(index).copied();
        let origin = match header {
            Some(line) => file_origin(&document.path, line, 1),
            None => entry.origin.clone(),
        };
        let key_origin = |key: &str| -> Origin {
            header
                .and_then(|h| key_line(&text, h, key))
                .map(|(line, column)| file_origin(&document.path, line, column))
                .unwrap_or_else(|| origin.clone())
        };
        let label = |key: &str| format!("[[datasource]] entry {} {key}", index + 1);
        let Value::Table(table) = item else {
            errors.push(ConfigError::InvalidValue {
                key: label(""),
                origin: origin.clone(),
                value: item.display(),
                expected: "a table".into(),
            });
            continue;
        };
        let mut key_origins = BTreeMap::new();
        for key in table.keys() {
            if !DATASOURCE_FIELDS.contains(&key.as_str()) {
                errors.push(ConfigError::InvalidValue {
                    key: label(key),
                    origin: key_origin(key),
                    value: table[key].display(),
                    expected: format!("one of the keys {}", DATASOURCE_FIELDS.join(", ")),
                });
            } else if key != "pool_options" {
                key_origins.insert(key.clone(), key_origin(key));
            }
        }
        let text_of =
            |key: &str, required: bool, errors: &mut Vec<ConfigError>| match table.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                None if !required => None,
                Some(Value::String(_)) if !required => None,
                other => {
                    errors.push(ConfigError::InvalidValue {
                        key: label(key),
                        origin: key_origin(key),
                        value: other.map_or("nothing".into(), Value::display),
                        expected: "a non-empty string".into(),
                    });
                    None
                }
            };
        let id = text_of("id", true, &mut errors);
        let url = text_of("url", true, &mut errors);
        let username = text_of("username", false, &mut errors);
        let password = text_of("password", false, &mut errors);
        let driver = text_of("driver", false, &mut errors);
        let description = text_of("description", false, &mut errors);
        if let Some(url) = &url
            && !url.starts_with("jdbc:")
        {
            errors.push(ConfigError::InvalidValue {
                key: label("url"),
                origin: key_origin("url"),
                value: format!("{url:?}"),
                expected: "a JDBC URL (jdbc:postgresql://…, jdbc:mysql://…, jdbc:sqlite:…)".into(),
            });
        }
        let mut pool_options = Vec::new();
        match table.get("pool_options") {
            None => {}
            Some(Value::Table(options)) => {
                for (name, value) in options {
                    let key = format!("pool_options.{name}");
                    let at = key_origin(name);
                    match value {
                        Value::String(s) => pool_options.push((name.clone(), s.clone())),
                        Value::Integer(i) => pool_options.push((name.clone(), i.to_string())),
                        Value::Bool(b) => pool_options.push((name.clone(), b.to_string())),
                        other => {
                            errors.push(ConfigError::InvalidValue {
                                key: label(&key),
                                origin: at.clone(),
                                value: other.display(),
                                expected: "a string, whole number or boolean".into(),
                            });
                            continue;
                        }
                    }
                    key_origins.insert(key, at);
                }
            }
            Some(other) => errors.push(ConfigError::InvalidValue {
                key: label("pool_options"),
                origin: key_origin("pool_options"),
                value: other.display(),
                expected: "a table of pool properties (pool_options.maxActive = 50)".into(),
            }),
        }
        match table.get("jmx_enable") {
            None | Some(Value::Bool(_)) => {}
            Some(Value::String(s)) if matches!(s.trim(), "true" | "false") => {}
            Some(other) => errors.push(ConfigError::InvalidValue {
                key: label("jmx_enable"),
                origin: key_origin("jmx_enable"),
                value: other.display(),
                expected: "true or false".into(),
            }),
        }
        let (Some(id), Some(url)) = (id, url) else {
            continue;
        };
        if defs.iter().any(|d| d.id == id) {
            errors.push(ConfigError::InvalidValue {
                key: label("id"),
                origin: key_origin("id"),
                value: format!("{id:?}"),
                expected: "an id not used by another [[datasource]]".into(),
            });
            continue;
        }
        defs.push(DataSourceDef {
            description: description.unwrap_or_else(|| format!("this database is {id}")),
            id,
            url,
            username,
            password,
            driver,
            pool_options,
            origin,
            key_origins,
        });
    }
    if errors.is_empty() {
        Ok(defs)
    } else {
        Err(errors)
    }
}

fn file_origin(path: &Path, line: usize, column: usize) -> Origin {
    Origin::File {
        path: path.to_path_buf(),
        line,
        column,
    }
}

/// The 1-based line numbers of the `[[datasource]]` headers, in order.
fn header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            l.strip_prefix("[[")
                .and_then(|l| l.split(']').next())
                .is_some_and(|name| name.trim() == DATASOURCE_KEY)
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Where `key = ...` (or `pool_options.key = ...`) is written in the entry whose header is on
/// `header` (1-based line, column of the value).
fn key_line(text: &str, header: usize, key: &str) -> Option<(usize, usize)> {
    for (i, line) in text.lines().enumerate().skip(header) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            return None;
        }
        let Some((lhs, _)) = trimmed.split_once('=') else {
            continue;
        };
        let lhs = lhs.trim().trim_matches('"');
        let last = lhs.rsplit('.').next().unwrap_or(lhs).trim_matches('"');
        if lhs == key || last == key {
            let column = line.find('=').map_or(1, |at| {
                let after = &line[at + 1..];
                at + 2 + (after.len() - after.trim_start().len())
            });
            return Some((i + 1, column));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::SystemProperties;

    fn parse(text: &str) -> Result<Vec<DataSourceDef>, Vec<ConfigError>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployment.toml");
        std::fs::write(&path, text).unwrap();
        let doc = Document::parse(&path, text, &SystemProperties::default()).unwrap();
        read(&doc)
    }

    // docs-mi "Configuring Datasources": id, url, username, password, driver, pool_options.*.
    #[test]
    fn entries_are_read_with_pool_options_and_mi_description() {
        let defs = parse(
            "[server]\nhostname = \"h\"\n\n[[datasource]]\nid = \"MySQLConnection\"\nurl = \"jdbc:mysql://localhost:3306/userdb\"\nusername = \"root\"\npassword = \"pw\"\ndriver = \"com.mysql.jdbc.Driver\"\npool_options.maxActive = 50\npool_options.testOnBorrow = true\n\n[[datasource]]\nid = \"Other\"\nurl = \"jdbc:sqlite::memory:\"\n",
        )
        .unwrap();
        assert_eq!(defs.len(), 2);
        let d = &defs[0];
        assert_eq!(d.id, "MySQLConnection");
        assert_eq!(d.description, "this database is MySQLConnection");
        assert_eq!(
            d.pool_options,
            vec![
                ("maxActive".to_string(), "50".to_string()),
                ("testOnBorrow".to_string(), "true".to_string())
            ]
        );
        assert!(matches!(
            d.origin,
            Origin::File {
                line: 4,
                column: 1,
                ..
            }
        ));
        assert!(matches!(
            d.origin_of("pool_options.maxActive"),
            Origin::File { line: 10, .. }
        ));
        assert!(matches!(defs[1].origin, Origin::File { line: 13, .. }));
        assert!(!format!("{d:?}").contains("pw"), "Debug hides the password");
    }

    #[test]
    fn errors_name_entry_key_line_value_and_what_is_valid() {
        let errors = parse(
            "[[datasource]]\nid = \"A\"\nurl = \"mysql://x\"\nport = 3\npool_options.maxActive = 1.5\n\n[[datasource]]\nid = \"A\"\nurl = \"jdbc:sqlite::memory:\"\n\n[[datasource]]\nurl = \"jdbc:sqlite::memory:\"\n",
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let all = text.join("\n");
        assert!(
            all.contains("[[datasource]] entry 1 url: invalid value \"mysql://x\""),
            "{all}"
        );
        assert!(all.contains("deployment.toml:3:7"), "{all}");
        assert!(all.contains("entry 1 port"), "{all}");
        assert!(
            all.contains("entry 1 pool_options.maxActive: invalid value 1.5"),
            "{all}"
        );
        assert!(all.contains("entry 2 id: invalid value \"A\""), "{all}");
        assert!(all.contains("not used by another"), "{all}");
        assert!(all.contains("entry 3 id: invalid value nothing"), "{all}");
        assert_eq!(errors.len(), 5, "{all}");
    }

    #[test]
    fn more_entries_than_the_limit_are_refused() {
        let one =
            |i: usize| format!("[[datasource]]\nid = \"D{i}\"\nurl = \"jdbc:sqlite::memory:\"\n");
        let at_limit: String = (0..MAX_DATASOURCES).map(one).collect();
        assert_eq!(parse(&at_limit).unwrap().len(), MAX_DATASOURCES);
        let over: String = (0..=MAX_DATASOURCES).map(one).collect();
        let errors = parse(&over).unwrap_err();
        assert!(
            errors[0].to_string().contains("at most 256"),
            "{:?}",
            errors
        );
    }
}
