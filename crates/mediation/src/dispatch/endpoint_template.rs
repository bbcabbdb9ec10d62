//! `uri-template` expansion for HTTP endpoints (`<endpoint><http uri-template="..."/>`).
//!
//! MI does not use Synapse's own template classes here: `SYN:endpoints/HTTPEndpoint.java`
//! (`resolveUrlTemplate`, non-legacy branch) expands with an RFC 6570 (level 4) library over the
//! message's `uri.var.*` and `query.param.*` properties. So `{uri.var.x}` percent-encodes
//! everything but unreserved characters, `{+uri.var.x}` also keeps reserved characters and
//! existing `%XX` escapes, and `{?a,b}` / `{&a}` / `{;a}` / `{.a}` / `{/a}` / `{#a}` work as the
//! RFC says (MI test `ESBJAVA3751UriTemplateReservedCharacterEncodingTest`). An unset variable is
//! left out (RFC 6570 §3.2.1: undefined values are ignored). MI's extra rules, in
//! [`EndpointUriTemplate::expand_for_http_endpoint`]: a template that *starts* with a simple
//! expression is expanded as if it were `{+...}` (a whole URL in one variable), and when the
//! message holds no `uri.var.*`/`query.param.*` property at all, or the expansion is not a valid
//! URI, the template text is used unexpanded.
//! The `legacy-encoding:` form of HTTPEndpoint is not supported.

use super::uri_template::TemplateError;

/// Longest endpoint template accepted, in bytes.
pub const MAX_ENDPOINT_TEMPLATE_LEN: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Simple,
    Reserved,
    Fragment,
    Label,
    Path,
    PathParam,
    Query,
    QueryContinuation,
}

impl Operator {
    /// RFC 6570 appendix A: (first, separator, named, if-empty, allow reserved).
    fn rules(self) -> (&'static str, &'static str, bool, &'static str, bool) {
        match self {
            Operator::Simple => ("", ",", false, "", false),
            Operator::Reserved => ("", ",", false, "", true),
            Operator::Fragment => ("#", ",", false, "", true),
            Operator::Label => (".", ".", false, "", false),
            Operator::Path => ("/", "/", false, "", false),
            Operator::PathParam => (";", ";", true, "", false),
            Operator::Query => ("?", "&", true, "=", false),
            Operator::QueryContinuation => ("&", "&", true, "=", false),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct VarSpec {
    name: String,
    /// `:N` — only the first N characters of the value are used.
    prefix: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Expression {
        operator: Operator,
        variables: Vec<VarSpec>,
    },
}

/// A parsed HTTP-endpoint `uri-template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUriTemplate {
    source: String,
    parts: Vec<Part>,
}

fn invalid(template: &str, reason: impl Into<String>) -> TemplateError {
    TemplateError::Invalid {
        template: template.to_owned(),
        reason: reason.into(),
    }
}

impl EndpointUriTemplate {
    /// Parses an RFC 6570 template. Variable names may use letters, digits, `_`, `.`, `-` and
    /// `%XX`; `*` (explode) is accepted and, for the string values MI has, changes nothing.
    pub fn parse(template: &str) -> Result<EndpointUriTemplate, TemplateError> {
        if template.len() > MAX_ENDPOINT_TEMPLATE_LEN {
            return Err(TemplateError::TooLong {
                len: template.len(),
                max: MAX_ENDPOINT_TEMPLATE_LEN,
            });
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
                Some(pos) if rest.as_bytes()[pos] == b'}' => {
                    return Err(invalid(template, "'}' without a matching '{'"));
                }
                Some(pos) => {
                    if pos > 0 {
                        parts.push(Part::Literal(rest[..pos].to_owned()));
                    }
                    let after = &rest[pos + 1..];
                    let close = after
                        .find('}')
                        .ok_or_else(|| invalid(template, "'{' is never closed"))?;
                    let body = &after[..close];
                    if body.contains('{') {
                        return Err(invalid(template, "'{' inside an expression"));
                    }
                    parts.push(parse_expression(template, body)?);
                    rest = &after[close + 1..];
                }
            }
        }
        Ok(EndpointUriTemplate {
            source: template.to_owned(),
            parts,
        })
    }

    /// The template text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Plain RFC 6570 expansion; `lookup` gives a variable's value, `None` when it is unset.
    pub fn expand(&self, lookup: impl Fn(&str) -> Option<String>) -> String {
        self.expand_inner(false, &lookup)
    }

    /// The expansion MI's HTTP endpoint performs (`HTTPEndpoint.resolveUrlTemplate`):
    /// `message_has_variables` says whether the message (or the endpoint's own properties) holds
    /// any `uri.var.*` or `query.param.*` property; `lookup` answers for those names only.
    pub fn expand_for_http_endpoint(
        &self,
        message_has_variables: bool,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> String {
        if !message_has_variables {
            return self.source.clone();
        }
        let first_as_reserved = self.source.starts_with('{') && !self.source.starts_with("{+");
        let expanded = self.expand_inner(first_as_reserved, &lookup);
        if is_valid_java_uri(&expanded) {
            expanded
        } else {
            self.source.clone()
        }
    }

    fn expand_inner(
        &self,
        first_as_reserved: bool,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Expression {
                    operator,
                    variables,
                } => {
                    let operator =
                        if index == 0 && first_as_reserved && *operator == Operator::Simple {
                            Operator::Reserved
                        } else {
                            *operator
                        };
                    expand_expression(&mut out, operator, variables, lookup);
                }
            }
        }
        out
    }
}

impl std::fmt::Display for EndpointUriTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_expression(template: &str, body: &str) -> Result<Part, TemplateError> {
    let (operator, list) = match body.chars().next() {
        Some('+') => (Operator::Reserved, &body[1..]),
        Some('#') => (Operator::Fragment, &body[1..]),
        Some('.') => (Operator::Label, &body[1..]),
        Some('/') => (Operator::Path, &body[1..]),
        Some(';') => (Operator::PathParam, &body[1..]),
        Some('?') => (Operator::Query, &body[1..]),
        Some('&') => (Operator::QueryContinuation, &body[1..]),
        Some(op @ ('=' | ',' | '!' | '@' | '|')) => {
            return Err(invalid(
                template,
                format!("operator '{op}' is reserved by RFC 6570 and not supported"),
            ));
        }
        Some(_) => (Operator::Simple, body),
        None => return Err(invalid(template, "empty expression '{}'")),
    };
    let mut variables = Vec::new();
    for spec in list.split(',') {
        let spec = spec.strip_suffix('*').unwrap_or(spec);
        let (name, prefix) = match spec.split_once(':') {
            Some((name, digits)) => {
                let prefix = digits
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..10_000).contains(n))
                    .ok_or_else(|| {
                        invalid(
                            template,
                            format!("bad prefix {digits:?} in {{{body}}} (expected 1..9999)"),
                        )
                    })?;
                (name, Some(prefix))
            }
            None => (spec, None),
        };
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'%'));
        if !name_ok {
            return Err(invalid(
                template,
                format!(
                    "bad variable name {name:?} in {{{body}}} (letters, digits, '_', '.', '-')"
                ),
            ));
        }
        variables.push(VarSpec {
            name: name.to_owned(),
            prefix,
        });
    }
    Ok(Part::Expression {
        operator,
        variables,
    })
}

fn expand_expression(
    out: &mut String,
    operator: Operator,
    variables: &[VarSpec],
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    let (first, separator, named, if_empty, allow_reserved) = operator.rules();
    let mut written_any = false;
    for var in variables {
        let Some(value) = lookup(&var.name) else {
            continue;
        };
        out.push_str(if written_any { separator } else { first });
        written_any = true;
        let value: &str = match var.prefix {
            Some(n) => value
                .char_indices()
                .nth(n)
                .map_or(value.as_str(), |(cut, _)| &value[..cut]),
            None => &value,
        };
        if named {
            push_encoded(out, &var.name, true);
            if value.is_empty() {
                out.push_str(if_empty);
                continue;
            }
            out.push('=');
        }
        push_encoded(out, value, allow_reserved);
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_reserved(b: u8) -> bool {
    b":/?#[]@!$&'()*+,;=".contains(&b)
}

/// Percent-encodes `value` (UTF-8, upper-case hex). With `allow_reserved`, reserved characters
/// and well-formed `%XX` escapes pass through (RFC 6570 §3.2.3).
fn push_encoded(out: &mut String, value: &str, allow_reserved: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escape_kept = allow_reserved
            && b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape_kept {
            out.push_str(&value[i..i + 3]);
            i += 3;
            continue;
        }
        if is_unreserved(b) || (allow_reserved && is_reserved(b)) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
        i += 1;
    }
}

/// Approximates `new java.net.URI(text)` succeeding: ASCII characters must be URI characters
/// and every `%` must start a `%XX` escape (Java's URI also accepts non-ASCII "other" characters).
fn is_valid_java_uri(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        if b == b'%' {
            bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        } else {
            !b.is_ascii() || is_unreserved(b) || is_reserved(b)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    /// Expected strings from MI test `ESBJAVA3751UriTemplateReservedCharacterEncodingTest`
    /// (`ESB%3AWSO2`, `ESB%20WSO2`, `ESB%2BWSO2`, and their unencoded `{+...}` forms) and from
    /// RFC 6570 §3.2 examples.
    #[test]
    fn expansion_table() {
        let vars = [
            ("query.param.queryParam", "ESB:WSO2"),
            ("uri.var.space", "ESB WSO2"),
            ("uri.var.plus", "ESB+WSO2"),
            ("uri.var.path", "/foo/bar"),
            ("uri.var.pct", "50%25 off"),
            ("uri.var.empty", ""),
            ("x", "1024"),
            ("y", "768"),
            ("var", "value"),
        ];
        let cases = [
            (
                "http://b/services/test_2?q={query.param.queryParam}",
                "http://b/services/test_2?q=ESB%3AWSO2",
            ),
            (
                "http://b/services/test_2?q={+query.param.queryParam}",
                "http://b/services/test_2?q=ESB:WSO2",
            ),
            (
                "http://b/services/test_2/{query.param.queryParam}",
                "http://b/services/test_2/ESB%3AWSO2",
            ),
            ("http://b/s?q={uri.var.space}", "http://b/s?q=ESB%20WSO2"),
            ("http://b/s?q={uri.var.plus}", "http://b/s?q=ESB%2BWSO2"),
            ("http://b/s?q={+uri.var.plus}", "http://b/s?q=ESB+WSO2"),
            ("http://b{uri.var.path}", "http://b%2Ffoo%2Fbar"),
            ("http://b{+uri.var.path}", "http://b/foo/bar"),
            ("http://b/{+uri.var.pct}", "http://b/50%25%20off"),
            ("http://b/{uri.var.pct}", "http://b/50%2525%20off"),
            ("http://b/{uri.var.missing}/x", "http://b//x"),
            (
                "http://b/x{?x,y,uri.var.missing}",
                "http://b/x?x=1024&y=768",
            ),
            ("http://b/x{?x}{&y}", "http://b/x?x=1024&y=768"),
            ("http://b/x{?uri.var.empty}", "http://b/x?uri.var.empty="),
            (
                "http://b/x{;x,uri.var.empty}",
                "http://b/x;x=1024;uri.var.empty",
            ),
            ("http://b/x{.var}", "http://b/x.value"),
            ("http://b{/var,x}", "http://b/value/1024"),
            ("http://b/x{#var}", "http://b/x#value"),
            ("http://b/{var:3}", "http://b/val"),
            ("http://b/{x,y}", "http://b/1024,768"),
        ];
        for (template, expected) in cases {
            let t =
                EndpointUriTemplate::parse(template).unwrap_or_else(|e| panic!("{template}: {e}"));
            assert_eq!(t.expand(lookup(&vars)), expected, "expanding {template:?}");
        }
    }

    /// `HTTPEndpoint.resolveUrlTemplate` special cases; the full-URL case is
    /// `testURITemplateSpecialCaseVariableWithFullURL` in ESBJAVA3751.
    #[test]
    fn http_endpoint_rules() {
        let vars = [(
            "uri.var.url",
            "http://localhost:8480/services/test_2/special_case",
        )];
        let t = EndpointUriTemplate::parse("{uri.var.url}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.expand_for_http_endpoint(true, lookup(&vars)),
            "http://localhost:8480/services/test_2/special_case"
        );
        assert_eq!(
            t.expand(lookup(&vars)),
            "http%3A%2F%2Flocalhost%3A8480%2Fservices%2Ftest_2%2Fspecial_case"
        );
        // No uri.var/query.param property at all: the template text is used as it is.
        let t =
            EndpointUriTemplate::parse("http://b/{uri.var.id}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.expand_for_http_endpoint(false, lookup(&[])),
            "http://b/{uri.var.id}"
        );
        // Expansion not a valid URI (a space in a literal): the template text is used.
        let t = EndpointUriTemplate::parse("http://b/a b/{uri.var.id}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.expand_for_http_endpoint(true, lookup(&[("uri.var.id", "1")])),
            "http://b/a b/{uri.var.id}"
        );
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "http://b/{",
            "http://b/}",
            "http://b/{}",
            "http://b/{=x}",
            "http://b/{a b}",
            "http://b/{x:0}",
            "http://b/{a{b}}",
        ] {
            assert!(
                EndpointUriTemplate::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let at_limit = "a".repeat(MAX_ENDPOINT_TEMPLATE_LEN);
        assert!(EndpointUriTemplate::parse(&at_limit).is_ok());
        let over = "a".repeat(MAX_ENDPOINT_TEMPLATE_LEN + 1);
        assert!(matches!(
            EndpointUriTemplate::parse(&over),
            Err(TemplateError::TooLong { .. })
        ));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_and_expand_never_panic(template in ".{0,48}", value in ".{0,16}") {
                if let Ok(t) = EndpointUriTemplate::parse(&template) {
                    let _ = t.expand_for_http_endpoint(true, |_| Some(value.clone()));
                }
            }

            #[test]
            fn simple_expansion_is_always_a_valid_uri(value in ".{0,32}") {
                let t = EndpointUriTemplate::parse("http://b/{v}").map_err(|e| TestCaseError::fail(e.to_string()))?;
                let out = t.expand(|_| Some(value.clone()));
                prop_assert!(is_valid_java_uri(&out));
                prop_assert!(out[9..].bytes().all(|b| is_unreserved(b) || b == b'%'));
            }
        }
    }
}
