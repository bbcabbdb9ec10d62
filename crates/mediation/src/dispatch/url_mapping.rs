//! Resource `url-mapping` parsing and matching, as SYN:`api/dispatch/URLMappingHelper.java` does:
//! `/x/*` path mappings (longest wins), `*.ext` extension mappings, and exact mappings. The
//! choice between several url-mapping resources (exact first, then longest path, then extension)
//! is in [`super::api_table`], after `URLMappingBasedDispatcher.java`.

use super::java_compat::java_split;
use super::uri_template::TemplateError;

/// Longest url-mapping accepted, in bytes.
pub const MAX_URL_MAPPING_LEN: usize = 2048;

/// A parsed `url-mapping`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlMapping {
    source: String,
    kind: MappingKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum MappingKind {
    /// `/a/b/*`: the segments before `/*` (Java `split("/")`); `/*` has none and matches all.
    Path(Vec<String>),
    /// `*.ext`: stored as `.ext`.
    Extension(String),
    /// Anything else; a single trailing `/` is dropped.
    Exact(String),
}

impl UrlMapping {
    /// Classifies a mapping as the `URLMappingHelper` constructor does; every string is valid.
    pub fn parse(mapping: &str) -> Result<UrlMapping, TemplateError> {
        if mapping.len() > MAX_URL_MAPPING_LEN {
            return Err(TemplateError::TooLong {
                len: mapping.len(),
                max: MAX_URL_MAPPING_LEN,
            });
        }
        let kind = if mapping.starts_with('/') && mapping.ends_with("/*") {
            if mapping.len() > 2 {
                let inner = &mapping.as_bytes()[1..mapping.len() - 2];
                MappingKind::Path(
                    java_split(inner, b'/')
                        .into_iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect(),
                )
            } else {
                MappingKind::Path(Vec::new())
            }
        } else if let Some(ext) = mapping
            .strip_prefix('*')
            .filter(|rest| rest.starts_with('.'))
        {
            MappingKind::Extension(ext.to_owned())
        } else if mapping.len() > 1 && mapping.ends_with('/') {
            MappingKind::Exact(mapping[..mapping.len() - 1].to_owned())
        } else {
            MappingKind::Exact(mapping.to_owned())
        };
        Ok(UrlMapping {
            source: mapping.to_owned(),
            kind,
        })
    }

    /// The mapping as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// `isExactMatch`: query dropped (a path that is only a query counts as `/`), trailing
    /// slashes trimmed unless the path is `/`, then string equality.
    pub fn is_exact_match(&self, sub_path: &str) -> bool {
        let MappingKind::Exact(exact) = &self.kind else {
            return false;
        };
        let path = match sub_path.find('?') {
            Some(0) => "/",
            Some(index) => &sub_path[..index],
            None => sub_path,
        };
        let path = if path == "/" {
            path
        } else {
            path.trim_end_matches('/')
        };
        exact == path
    }

    /// `isExtensionMatch`: query dropped, then "ends with `.ext`".
    pub fn is_extension_match(&self, sub_path: &str) -> bool {
        let MappingKind::Extension(ext) = &self.kind else {
            return false;
        };
        let path = sub_path.split('?').next().unwrap_or(sub_path);
        path.ends_with(ext.as_str())
    }

    /// `getPrefixMatchingLength`: how many leading segments match (0 = no match; `/*` gives 1).
    /// Synapse's `trimSlashes` is reproduced: it drops one leading `/` and then, if the path
    /// still starts with `/`, the *last* character.
    pub fn prefix_match_len(&self, sub_path: &str) -> usize {
        let MappingKind::Path(segments) = &self.kind else {
            return 0;
        };
        if segments.is_empty() {
            return 1;
        }
        let mut path = sub_path.strip_prefix('/').unwrap_or(sub_path);
        if path.starts_with('/') {
            let cut = path.char_indices().last().map_or(0, |(i, _)| i);
            path = &path[..cut];
        }
        let path = path.split('?').next().unwrap_or(path);
        let request_segments = java_split(path.as_bytes(), b'/');
        if request_segments.len() < segments.len() {
            return 0;
        }
        if segments
            .iter()
            .zip(&request_segments)
            .all(|(want, got)| want.as_bytes() == *got)
        {
            segments.len()
        } else {
            0
        }
    }
}

impl std::fmt::Display for UrlMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(s: &str) -> UrlMapping {
        UrlMapping::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Cases derived from SYN:`api/dispatch/URLMappingHelper.java` and the reference §3.5.
    #[test]
    fn exact_mappings() {
        let cases = [
            ("/orders", "/orders", true),
            ("/orders", "/orders/", true),
            ("/orders", "/orders//", true),
            ("/orders", "/orders?x=1", true),
            ("/orders/", "/orders", true),
            ("/orders", "/orders/1", false),
            ("/", "/", true),
            ("/", "?a=1", true),
            ("/", "/?a=1", true),
            ("/Orders", "/orders", false),
        ];
        for (m, path, expected) in cases {
            assert_eq!(
                mapping(m).is_exact_match(path),
                expected,
                "{m:?} exact vs {path:?}"
            );
            assert_eq!(mapping(m).prefix_match_len(path), 0);
        }
    }

    #[test]
    fn path_mappings() {
        let cases = [
            ("/*", "/anything/at/all", 1),
            ("/*", "/", 1),
            ("/a/*", "/a", 1),
            ("/a/*", "/a/b/c", 1),
            ("/a/b/*", "/a/b/c", 2),
            ("/a/b/*", "/a/b?x=1", 2),
            ("/a/b/*", "/a/c", 0),
            ("/a/b/*", "/a", 0),
            ("/a/*", "/ab", 0),
            ("/a/*", "//a/", 0),
        ];
        for (m, path, expected) in cases {
            assert_eq!(
                mapping(m).prefix_match_len(path),
                expected,
                "{m:?} prefix vs {path:?}"
            );
            assert!(!mapping(m).is_exact_match(path));
        }
    }

    #[test]
    fn extension_mappings() {
        let cases = [
            ("*.jsp", "/a/b.jsp", true),
            ("*.jsp", "/a/b.jsp?x=.y", true),
            ("*.jsp", "/a/b.jspx", false),
            ("*.jsp", "/a/b?x=.jsp", false),
        ];
        for (m, path, expected) in cases {
            assert_eq!(
                mapping(m).is_extension_match(path),
                expected,
                "{m:?} ext vs {path:?}"
            );
        }
    }

    #[test]
    fn mapping_length_limit() {
        assert!(UrlMapping::parse(&"a".repeat(MAX_URL_MAPPING_LEN)).is_ok());
        assert!(UrlMapping::parse(&"a".repeat(MAX_URL_MAPPING_LEN + 1)).is_err());
    }
}
