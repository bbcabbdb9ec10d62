//! Reads a YAML text into a [`Node`] as MI's `new org.yaml.snakeyaml.Yaml().load(text)` does
//! (SnakeYAML 2.2, `SwaggerUtils.getAPISwagger`): one document; plain scalars resolved by the
//! YAML 1.1 rules of SnakeYAML's `Resolver` (`yes`/`on` are booleans, `0755` is octal, `1:30` is
//! sexagesimal, `1e5` is a float); quoted scalars are strings; anchors and aliases expanded. The
//! text is scanned by `yaml-rust2`; the values are resolved here.
//!
//! Not done: timestamps stay strings (SnakeYAML builds a `java.util.Date`, which Gson prints in
//! the JVM's locale), merge keys (`<<`) are ordinary keys, `!!binary`/`!!set`/`!!omap` are
//! refused.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

use super::document::{Node, put};

/// Most characters of YAML read (SnakeYAML `LoaderOptions.codePointLimit`, 3 MiB).
pub const MAX_YAML_CHARS: usize = 3 * 1024 * 1024;
/// Most aliases of collections (SnakeYAML `LoaderOptions.maxAliasesForCollections`).
pub const MAX_YAML_COLLECTION_ALIASES: usize = 50;
/// Deepest nesting of collections (SnakeYAML `LoaderOptions.nestingDepthLimit`).
pub const MAX_YAML_DEPTH: usize = 50;
/// Most values in the document once aliases are expanded (Conflux's bound on what aliases can
/// multiply).
pub const MAX_YAML_NODES: usize = 1_000_000;

/// Why a YAML text could not be read (MI answers these with an error too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("YAML is not well-formed: {0}")]
    Syntax(String),
    #[error("the YAML has {found} characters, more than the {max} SnakeYAML reads")]
    TooLong { found: usize, max: usize },
    #[error("the YAML nests collections deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("the YAML has more than {max} aliases of collections")]
    TooManyAliases { max: usize },
    #[error("the YAML expands to more than {max} values")]
    TooManyNodes { max: usize },
    #[error("expected a single document in the stream, found another")]
    SeveralDocuments,
    #[error("found undefined alias")]
    UndefinedAlias,
    #[error("could not determine a constructor for the tag {0}")]
    UnknownTag(String),
    #[error("invalid {tag} value '{value}'")]
    BadValue { tag: &'static str, value: String },
}

/// The document of `text` (`Node::Null` when it has none).
pub fn load_yaml(text: &str) -> Result<Node, YamlError> {
    let chars = text.chars().count();
    if chars > MAX_YAML_CHARS {
        return Err(YamlError::TooLong {
            found: chars,
            max: MAX_YAML_CHARS,
        });
    }
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    loop {
        let (event, _) = parser
            .next_token()
            .map_err(|e| YamlError::Syntax(e.to_string()))?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                builder.documents += 1;
                if builder.documents > 1 {
                    return Err(YamlError::SeveralDocuments);
                }
            }
            other => builder.event(other)?,
        }
    }
    Ok(builder.root.unwrap_or(Node::Null))
}

#[derive(Default)]
struct Builder {
    documents: usize,
    /// Open collections: the node being filled, its anchor, and a map's pending key.
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    collection_aliases: usize,
    nodes: usize,
}

struct Open {
    node: Node,
    anchor: usize,
    pending_key: Option<String>,
}

impl Builder {
    fn event(&mut self, event: Event) -> Result<(), YamlError> {
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let node = scalar(value, style, tag.as_ref())?;
                self.complete(node, anchor)
            }
            Event::SequenceStart(anchor, tag) => self.open(anchor, tag, false),
            Event::MappingStart(anchor, tag) => self.open(anchor, tag, true),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(open) => self.complete(open.node, open.anchor),
                None => Err(YamlError::Syntax("unbalanced collection end".into())),
            },
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or(YamlError::UndefinedAlias)?;
                if matches!(node, Node::Seq(_) | Node::Map(_)) {
                    self.collection_aliases += 1;
                    if self.collection_aliases > MAX_YAML_COLLECTION_ALIASES {
                        return Err(YamlError::TooManyAliases {
                            max: MAX_YAML_COLLECTION_ALIASES,
                        });
                    }
                }
                self.nodes += count(&node).saturating_sub(1);
                self.complete(node, 0)
            }
            _ => Ok(()),
        }
    }

    /// A sequence or mapping starts.
    fn open(&mut self, anchor: usize, tag: Option<Tag>, is_map: bool) -> Result<(), YamlError> {
        if let Some(tag) = &tag {
            let name = tag_name(tag);
            if name != if is_map { "!!map" } else { "!!seq" } {
                return Err(YamlError::UnknownTag(name));
            }
        }
        if self.stack.len() >= MAX_YAML_DEPTH {
            return Err(YamlError::TooDeep {
                max: MAX_YAML_DEPTH,
            });
        }
        self.stack.push(Open {
            node: if is_map {
                Node::Map(Vec::new())
            } else {
                Node::Seq(Vec::new())
            },
            anchor,
            pending_key: None,
        });
        Ok(())
    }

    /// A finished value: stored under its anchor, then put into its parent (or made the root).
    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_YAML_NODES {
            return Err(YamlError::TooManyNodes {
                max: MAX_YAML_NODES,
            });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut parent.node {
            Node::Seq(items) => items.push(node),
            Node::Map(entries) => match parent.pending_key.take() {
                // Non-string keys become their Java `String.valueOf`, which is how Gson writes
                // them.
                None => parent.pending_key = Some(node.java_string()),
                Some(key) => put(entries, key, node),
            },
            _ => {}
        }
        Ok(())
    }
}

fn count(node: &Node) -> usize {
    match node {
        Node::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Node::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + count(v)).sum::<usize>(),
        _ => 1,
    }
}

/// `!!str` for `tag:yaml.org,2002:str`, `!` for the non-specific tag, the tag as written
/// otherwise.
fn tag_name(tag: &Tag) -> String {
    match tag.handle.as_str() {
        "tag:yaml.org,2002:" => format!("!!{}", tag.suffix),
        handle => format!("{handle}{}", tag.suffix),
    }
}

fn scalar(value: String, style: TScalarStyle, tag: Option<&Tag>) -> Result<Node, YamlError> {
    if let Some(tag) = tag {
        return match tag_name(tag).as_str() {
            "!!str" | "!" => Ok(Node::Str(value)),
            "!!int" => construct_int(&value),
            "!!float" => construct_float(&value),
            "!!bool" => Ok(Node::Bool(is_true(&value))),
            "!!null" => Ok(Node::Null),
            other => Err(YamlError::UnknownTag(other.to_string())),
        };
    }
    if style != TScalarStyle::Plain {
        return Ok(Node::Str(value));
    }
    match resolve_plain(&value) {
        Resolved::Bool => Ok(Node::Bool(is_true(&value))),
        Resolved::Int => construct_int(&value),
        Resolved::Float => construct_float(&value),
        Resolved::Null => Ok(Node::Null),
        Resolved::Str => Ok(Node::Str(value)),
    }
}

/// What a plain scalar is, by SnakeYAML's implicit resolvers (also used by the emitter to
/// decide whether a string must be quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Bool,
    Int,
    Float,
    Null,
    /// A string, including timestamps, `<<` and `=`, which SnakeYAML resolves to other tags; see
    /// [`resolves_to_string`].
    Str,
}

static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("valid regex")
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?0b_*[0-1]+[0-1_]*|[-+]?0_*[0-7]+[0-7_]*|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x_*[0-9a-fA-F]+[0-9a-fA-F_]*|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .expect("valid regex")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .expect("valid regex")
});
static NULL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:~|null|Null|NULL| )?$").expect("valid regex"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    )
    .expect("valid regex")
});

/// SnakeYAML's `Resolver.resolve` for a plain scalar (the resolvers are tried by the first
/// character, in the order SnakeYAML adds them).
pub fn resolve_plain(value: &str) -> Resolved {
    if BOOL.is_match(value) {
        Resolved::Bool
    } else if INT.is_match(value) {
        Resolved::Int
    } else if FLOAT.is_match(value) {
        Resolved::Float
    } else if NULL.is_match(value) {
        Resolved::Null
    } else {
        Resolved::Str
    }
}

/// Whether SnakeYAML reads `value`, written plain, back as a string (`!!str`): not a bool,
/// number, null, timestamp, merge key (`<<`), value key (`=`) or YAML indicator (`!`, `&`, `*`).
pub fn resolves_to_string(value: &str) -> bool {
    resolve_plain(value) == Resolved::Str
        && !TIMESTAMP.is_match(value)
        && !matches!(value, "<<" | "=" | "!" | "&" | "*")
}

fn is_true(value: &str) -> bool {
    matches!(
        value,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
    )
}

/// SnakeYAML `ConstructYamlInt`: `_` dropped, sign, `0b`/`0x`/`0` prefixes, `a:b:c` base 60.
fn construct_int(raw: &str) -> Result<Node, YamlError> {
    let bad = || YamlError::BadValue {
        tag: "int",
        value: raw.to_string(),
    };
    let value = raw.replace('_', "");
    let (negative, value) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        Some(_) => (false, value.as_str()),
        None => return Err(bad()),
    };
    let magnitude: u128 = if value == "0" {
        0
    } else if let Some(bin) = value.strip_prefix("0b") {
        u128::from_str_radix(bin, 2).map_err(|_| bad())?
    } else if let Some(hex) = value.strip_prefix("0x") {
        u128::from_str_radix(hex, 16).map_err(|_| bad())?
    } else if let Some(oct) = value.strip_prefix('0') {
        u128::from_str_radix(oct, 8).map_err(|_| bad())?
    } else if value.contains(':') {
        let mut total: u128 = 0;
        for part in value.split(':') {
            let digit: u128 = part.parse().map_err(|_| bad())?;
            total = total
                .checked_mul(60)
                .and_then(|t| t.checked_add(digit))
                .ok_or_else(bad)?;
        }
        total
    } else {
        // Decimal: any length (Java falls back to BigInteger).
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let digits = value.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        let sign = if negative && digits != "0" { "-" } else { "" };
        return Ok(Node::Int(format!("{sign}{digits}")));
    };
    let sign = if negative && magnitude != 0 { "-" } else { "" };
    Ok(Node::Int(format!("{sign}{magnitude}")))
}

/// SnakeYAML `ConstructYamlFloat`: `_` dropped, `.inf`/`.nan`, `a:b.c` base 60, else
/// `Double.valueOf`.
fn construct_float(raw: &str) -> Result<Node, YamlError> {
    let bad = || YamlError::BadValue {
        tag: "float",
        value: raw.to_string(),
    };
    let value = raw.replace('_', "");
    match value.to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" => return Ok(Node::Float(f64::INFINITY)),
        "-.inf" => return Ok(Node::Float(f64::NEG_INFINITY)),
        ".nan" => return Ok(Node::Float(f64::NAN)),
        _ => {}
    }
    let (sign, value) = match value.as_bytes().first() {
        Some(b'-') => (-1.0, &value[1..]),
        Some(b'+') => (1.0, &value[1..]),
        Some(_) => (1.0, value.as_str()),
        None => return Err(bad()),
    };
    if value.contains(':') {
        let mut total = 0.0;
        let mut unit = 1.0;
        for part in value.split(':').rev() {
            total += part.parse::<f64>().map_err(|_| bad())? * unit;
            unit *= 60.0;
        }
        return Ok(Node::Float(sign * total));
    }
    value
        .parse::<f64>()
        .map(|f| Node::Float(sign * f))
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, Node)]) -> Node {
        Node::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn plain_scalars_resolve_as_yaml_1_1() {
        let doc = load_yaml(
            "a: yes\nb: off\nc: 0755\nd: 0x1F\ne: 1:30\nf: 1_000\ng: 1e5\nh: 2.0\ni: ~\nj:\nk: 1.0.0\nl: '123'\nm: \"true\"\nn: -.inf\no: 2001-12-14\n200: x\n",
        )
        .unwrap();
        let int = |s: &str| Node::Int(s.into());
        assert_eq!(
            doc,
            map(&[
                ("a", Node::Bool(true)),
                ("b", Node::Bool(false)),
                ("c", int("493")),
                ("d", int("31")),
                ("e", int("90")),
                ("f", int("1000")),
                ("g", Node::Float(100000.0)),
                ("h", Node::Float(2.0)),
                ("i", Node::Null),
                ("j", Node::Null),
                ("k", Node::Str("1.0.0".into())),
                ("l", Node::Str("123".into())),
                ("m", Node::Str("true".into())),
                ("n", Node::Float(f64::NEG_INFINITY)),
                ("o", Node::Str("2001-12-14".into())),
                ("200", Node::Str("x".into())),
            ])
        );
    }

    #[test]
    fn anchors_tags_and_repeated_keys() {
        let doc = load_yaml(
            "base: &b {x: 1}\nuse: *b\nt: !!str 12\nf: !!float '3'\nk: 1\nk: 2\nlist: [a, [b]]\n",
        )
        .unwrap();
        let x = map(&[("x", Node::Int("1".into()))]);
        assert_eq!(doc.get("use"), Some(&x));
        assert_eq!(doc.get("t"), Some(&Node::Str("12".into())));
        assert_eq!(doc.get("f"), Some(&Node::Float(3.0)));
        assert_eq!(doc.get("k"), Some(&Node::Int("2".into())));
        match &doc {
            Node::Map(entries) => assert_eq!(entries[4].0, "k"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            doc.get("list"),
            Some(&Node::Seq(vec![
                Node::Str("a".into()),
                Node::Seq(vec![Node::Str("b".into())])
            ]))
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            load_yaml("a: 1\n---\nb: 2\n"),
            Err(YamlError::SeveralDocuments)
        );
        assert_eq!(
            load_yaml("a: !foo x\n"),
            Err(YamlError::UnknownTag("!foo".into()))
        );
        assert!(matches!(load_yaml("a: [1\n"), Err(YamlError::Syntax(_))));
        assert_eq!(load_yaml("# nothing\n"), Ok(Node::Null));
    }

    #[test]
    fn limits_at_plus_one() {
        let deep = "[".repeat(MAX_YAML_DEPTH) + &"]".repeat(MAX_YAML_DEPTH);
        assert!(load_yaml(&deep).is_ok());
        let deeper = "[".repeat(MAX_YAML_DEPTH + 1) + &"]".repeat(MAX_YAML_DEPTH + 1);
        assert_eq!(
            load_yaml(&deeper),
            Err(YamlError::TooDeep {
                max: MAX_YAML_DEPTH
            })
        );

        let aliases = |n: usize| {
            let mut text = String::from("a: &a [1]\nb:\n");
            for _ in 0..n {
                text.push_str("- *a\n");
            }
            text
        };
        assert!(load_yaml(&aliases(MAX_YAML_COLLECTION_ALIASES)).is_ok());
        assert_eq!(
            load_yaml(&aliases(MAX_YAML_COLLECTION_ALIASES + 1)),
            Err(YamlError::TooManyAliases {
                max: MAX_YAML_COLLECTION_ALIASES
            })
        );

        let long = format!("a: {}", "x".repeat(MAX_YAML_CHARS - 3));
        assert!(load_yaml(&long).is_ok());
        assert_eq!(
            load_yaml(&format!("{long}x")),
            Err(YamlError::TooLong {
                found: MAX_YAML_CHARS + 1,
                max: MAX_YAML_CHARS
            })
        );
    }

    #[test]
    fn node_limit_at_plus_one() {
        // A flat list of n scalars is n + 1 values (the list itself).
        let list = |n: usize| format!("[{}]", vec!["1"; n].join(","));
        assert!(load_yaml(&list(MAX_YAML_NODES - 1)).is_ok());
        assert_eq!(
            load_yaml(&list(MAX_YAML_NODES)),
            Err(YamlError::TooManyNodes {
                max: MAX_YAML_NODES
            })
        );
    }
}
