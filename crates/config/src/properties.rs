//! System properties given on the command line as `-Dkey=value`, following MI's launcher
//! (`org.wso2.micro.integrator.server.Main#processCmdLineArgs`): a bare `-Dkey` means `"true"`,
//! and a later definition of the same key wins.

use std::collections::BTreeMap;

use crate::error::{ConfigWarning, Origin};

/// The property that selects the port offset, as MI names it.
pub const PORT_OFFSET_PROPERTY: &str = "portOffset";
/// MI's property naming an alternative deployment.toml (config-mapper `ConfigParser`).
pub const DEPLOYMENT_FILE_PROPERTY: &str = "deployment.config.file.path";

/// `-D` properties that MI's launcher and scripts document. Conflux acts on some of them and
/// accepts the others quietly, so MI's documented command lines keep working.
pub const KNOWN_PROPERTIES: &[&str] = &[
    PORT_OFFSET_PROPERTY,
    DEPLOYMENT_FILE_PROPERTY,
    "enablePrometheusApi",
    "enableManagementApi",
    "enableReadinessProbe",
    "enableLivenessProbe",
    "configParseOnly",
    "avoidConfigUpdate",
    "forceConfigUpdate",
    "config.backup.path",
    "skipStartupExtensions",
    "profile",
    "setup",
    "serverRoles",
    "workerNode",
    "osgiConsole",
    "osgiDebugOptions",
    "encryptSecrets",
    "tenant.idle.time",
    "esb.debug",
    "node.id",
    "carbon.home",
    "logfiles.home",
    "java.io.tmpdir",
    "NonRegistryMode",
    "NonUserCoreMode",
    "java.net.preferIPv4Stack",
    "avoidConfigHashRead",
];

/// One `-D` definition and the argument it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub value: String,
    /// The argument as typed, for error messages.
    pub argument: String,
}

/// The `-D` system properties of this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemProperties {
    values: BTreeMap<String, Property>,
}

impl SystemProperties {
    /// Builds the properties from the text after `-D` of each argument (`portOffset=3`, `foo`).
    pub fn from_definitions<I, S>(definitions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut values = BTreeMap::new();
        for definition in definitions {
            let definition = definition.as_ref();
            let (key, value) = match definition.split_once('=') {
                Some((key, value)) => (key, value),
                None => (definition, "true"),
            };
            values.insert(
                key.to_string(),
                Property {
                    value: value.to_string(),
                    argument: format!("-D{definition}"),
                },
            );
        }
        SystemProperties { values }
    }

    /// Sets a property as if given with `-Dkey=value` (used for `--port-offset N`).
    pub fn set(&mut self, key: &str, value: &str, argument: &str) {
        self.values.insert(
            key.to_string(),
            Property {
                value: value.to_string(),
                argument: argument.to_string(),
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<&Property> {
        self.values.get(key)
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|p| p.value.as_str())
    }

    /// MI's `Boolean.parseBoolean`: only `true`, in any case, is true.
    pub fn is_true(&self, key: &str) -> bool {
        self.value(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Warnings for properties that neither MI nor Conflux documents.
    pub fn unknown_property_warnings(&self) -> Vec<ConfigWarning> {
        self.values
            .iter()
            .filter(|(key, _)| !KNOWN_PROPERTIES.contains(&key.as_str()))
            .map(|(key, p)| ConfigWarning::UnknownProperty {
                key: key.clone(),
                origin: Origin::CommandLine(p.argument.clone()),
            })
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|(k, p)| (k.as_str(), p.value.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // MI: components/org.wso2.micro.integrator.server/.../Main.java processCmdLineArgs
    #[test]
    fn bare_define_means_true_and_value_may_contain_equals() {
        let p =
            SystemProperties::from_definitions(["portOffset=3", "enablePrometheusApi", "a.b=x=y"]);
        assert_eq!(p.value("portOffset"), Some("3"));
        assert_eq!(p.value("enablePrometheusApi"), Some("true"));
        assert!(p.is_true("enablePrometheusApi"));
        assert_eq!(p.value("a.b"), Some("x=y"));
        assert_eq!(p.get("portOffset").unwrap().argument, "-DportOffset=3");
    }

    #[test]
    fn later_definition_wins() {
        let p = SystemProperties::from_definitions(["portOffset=3", "portOffset=4"]);
        assert_eq!(p.value("portOffset"), Some("4"));
    }

    #[test]
    fn unknown_properties_are_warned_by_name() {
        let p = SystemProperties::from_definitions(["portOffset=3", "fooBar=1"]);
        let w = p.unknown_property_warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].to_string().contains("-DfooBar"), "{}", w[0]);
    }
}
