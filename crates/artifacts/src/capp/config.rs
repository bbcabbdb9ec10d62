//! `config/property` artifacts: the `config.properties` file that declares the names a CApp reads
//! with `$config:NAME` / `${configs.NAME}` and their types, one `name:type` per line (MI
//! `ConfigDeployer`, which loads it as Java properties). The values come from the environment at
//! deployment; this module only reads the declarations.

use std::fmt;

/// The type of a declared config property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigPropertyKind {
    /// A plain value.
    String,
    /// A path to a certificate file that MI imports into the client truststore under the
    /// property's name as alias.
    Cert,
}

impl ConfigPropertyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigPropertyKind::String => "string",
            ConfigPropertyKind::Cert => "cert",
        }
    }
}

impl fmt::Display for ConfigPropertyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One declaration from a CApp's `config.properties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProperty {
    pub name: String,
    pub kind: ConfigPropertyKind,
    /// Where it is declared (`Foo.car!/config_1.0.0/config.properties:3`).
    pub source: String,
}

/// Reads `config.properties` text: Java properties syntax (`name:type`, `name=type` or
/// `name type`; `#`/`!` comments; `\` line continuations and escapes). A name declared twice keeps
/// its last type, as `Properties.load` does. MI treats any type other than `cert` as a string;
/// Conflux accepts only the documented `string` and `cert` and reports every other line.
pub(crate) fn parse_config_properties(
    label: &str,
    text: &str,
) -> Result<Vec<ConfigProperty>, Vec<String>> {
    let mut properties: Vec<ConfigProperty> = Vec::new();
    let mut errors = Vec::new();
    let entries =
        crate::inject::parse_properties_lines(label, text).map_err(|e| vec![e.to_string()])?;
    for (line_number, name, kind) in entries {
        let source = format!("{label}:{line_number}");
        if name.is_empty() {
            errors.push(format!(
                "{source}: config property line ':{kind}' has no name"
            ));
            continue;
        }
        let kind = match kind.trim_end() {
            "string" => ConfigPropertyKind::String,
            "cert" => ConfigPropertyKind::Cert,
            other => {
                errors.push(format!(
                    "{source}: config property '{name}' has type '{other}': expected string or cert"
                ));
                continue;
            }
        };
        let property = ConfigProperty { name, kind, source };
        match properties.iter_mut().find(|p| p.name == property.name) {
            Some(existing) => *existing = property,
            None => properties.push(property),
        }
    }
    if errors.is_empty() {
        Ok(properties)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: &str = "T.car!/config_1.0.0/config.properties";

    #[test]
    fn reads_the_mi_test_capp_format() {
        // As in MI's testConfiguration_1.0.0.car (ConfigDeployer test).
        let props =
            parse_config_properties(LABEL, "url:string\ncommon_url:string\ncert_alias:cert\n")
                .unwrap();
        let pairs: Vec<_> = props.iter().map(|p| (p.name.as_str(), p.kind)).collect();
        assert_eq!(
            pairs,
            [
                ("url", ConfigPropertyKind::String),
                ("common_url", ConfigPropertyKind::String),
                ("cert_alias", ConfigPropertyKind::Cert)
            ]
        );
        assert_eq!(props[2].source, format!("{LABEL}:3"));
    }

    #[test]
    fn java_properties_syntax() {
        let text = "# comment\n! also a comment\n\n  a = string\nb=cert\nc string\nd\\:x:string\ne:str\\\n    ing\na:cert\n";
        let props = parse_config_properties(LABEL, text).unwrap();
        let pairs: Vec<_> = props.iter().map(|p| (p.name.as_str(), p.kind)).collect();
        assert_eq!(
            pairs,
            [
                ("a", ConfigPropertyKind::Cert),
                ("b", ConfigPropertyKind::Cert),
                ("c", ConfigPropertyKind::String),
                ("d:x", ConfigPropertyKind::String),
                ("e", ConfigPropertyKind::String),
            ]
        );
        assert_eq!(props[4].source, format!("{LABEL}:8"));
    }

    #[test]
    fn every_invalid_line_is_reported() {
        let errors =
            parse_config_properties(LABEL, "a:string\nb:integer\nc\n:string\n").unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].contains(":2:") && errors[0].contains("'integer'"),
            "{errors:?}"
        );
        assert!(errors[0].contains("expected string or cert"));
        assert!(errors[1].contains(":3:") && errors[1].contains("''"));
        assert!(errors[2].contains(":4:") && errors[2].contains("no name"));
    }
}
