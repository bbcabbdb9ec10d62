//! Resource `uri-template` parsing and matching, as Synapse does it
//! (SYN commons `templates/uri/URITemplate.java` and `templates/uri/parser/*.java`).
//!
//! A template is a chain of nodes: literals and `{...}` expressions (`{var}`, `{+var}`, `{#var}`,
//! `{.var}`, `{/var}`; `{;..}`, `{?..}`, `{&..}` are rejected). Matching walks the request's
//! sub-path left to right exactly as Synapse's `Node.matchAll` does, including its arithmetic on a
//! failed tail (a failing node answers -1 and that -1 is *added* to the length matched so far),
//! because MI's answer for odd paths depends on it. Expansion of templates is not here: Synapse's
//! own `URITemplate.expand` returns nothing; HTTP endpoints expand with RFC 6570, see
//! [`super::endpoint_template`].

use super::java_compat::{MalformedEscape, java_split, template_decode};
use thiserror::Error;

/// Longest template accepted, in bytes. Synapse has no limit; this keeps matching cost bounded.
pub const MAX_URI_TEMPLATE_LEN: usize = 2048;

/// RFC 3986 reserved characters: a simple `{var}` stops at any of them
/// (SYN commons `parser/SimpleStringExpression.java`, default without `synapse.allow.subdelims`).
const RESERVED: &[u8] = b":/?#[]@!$&'()*+,;=";

/// The "first character" Synapse gives `{var}`/`{+var}` nodes: a request byte equal to it ends the
/// preceding expression (`SimpleStringExpression.getFirstCharacter` returns U+0001).
const EXPRESSION_MARKER: &[u8] = b"\x01";

/// Why a template was rejected; the messages follow Synapse's `URITemplateException` texts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("URI template {template:?}: {reason}")]
    Invalid { template: String, reason: String },
    #[error("URI template is {len} bytes long; the limit is {max} bytes")]
    TooLong { len: usize, max: usize },
}

fn invalid(template: &str, reason: impl Into<String>) -> TemplateError {
    TemplateError::Invalid {
        template: template.to_owned(),
        reason: reason.into(),
    }
}

/// The expression kinds Synapse supports (`URITemplateParser.createExpressionNode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionKind {
    /// `{var}`: stops at reserved characters.
    Simple,
    /// `{+var}`: stops only at the next literal.
    Reserved,
    /// `{#var}`: `#` then a reserved-style value.
    Fragment,
    /// `{.var}`: `.` then a simple value, `.`-separated lists.
    Label,
    /// `{/var}`: `/` then a simple value, `/`-separated lists.
    PathSegment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    name: String,
    /// `{var:N}`: when matching, the captured value must be exactly N UTF-16 units long.
    prefix: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Literal(String),
    Expression {
        kind: ExpressionKind,
        variables: Vec<Variable>,
    },
}

impl Node {
    /// `Node.getFirstCharacter`: what ends a preceding expression.
    fn first_bytes(&self) -> &[u8] {
        match self {
            Node::Literal(token) => {
                let len = token.chars().next().map_or(0, char::len_utf8);
                &token.as_bytes()[..len]
            }
            Node::Expression { kind, .. } => match kind {
                ExpressionKind::Simple | ExpressionKind::Reserved => EXPRESSION_MARKER,
                ExpressionKind::Fragment => b"#",
                ExpressionKind::Label => b".",
                ExpressionKind::PathSegment => b"/",
            },
        }
    }
}

/// A parsed resource `uri-template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    nodes: Vec<Node>,
    /// No literal holds `?`: then any query may follow a full path match (ESBJAVA-4260 in
    /// `URITemplate.matches`).
    allow_optional_query: bool,
}

impl UriTemplate {
    /// Parses a template as Synapse does at deploy time. Quirks kept: one trailing `/` is removed
    /// twice over (by `URITemplate` and by the parser), so `/a//` is `/a`; an expression left
    /// open at the very end (`/a/{id`) is accepted as if closed; a template starting with `{`
    /// fails (Synapse throws while looking at the character before it).
    pub fn parse(template: &str) -> Result<UriTemplate, TemplateError> {
        if template.len() > MAX_URI_TEMPLATE_LEN {
            return Err(TemplateError::TooLong {
                len: template.len(),
                max: MAX_URI_TEMPLATE_LEN,
            });
        }
        let mut text = template;
        for _ in 0..2 {
            if text != "/" && text.ends_with('/') {
                text = &text[..text.len() - 1];
            }
        }
        let chars: Vec<char> = text.chars().collect();
        let mut nodes = Vec::new();
        let mut in_expression = false;
        let mut start = 0usize;
        let max_index = chars.len() as isize - 1;
        let slice = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        for (index, ch) in chars.iter().enumerate() {
            match ch {
                '{' => {
                    if in_expression {
                        return Err(invalid(template, "Already in expression"));
                    }
                    if index as isize + 1 >= max_index {
                        return Err(invalid(template, "Illegal open brace character"));
                    }
                    in_expression = true;
                    if index > start {
                        nodes.push(Node::Literal(slice(start, index)));
                        start = index + 1;
                    } else if index == 0 {
                        return Err(invalid(
                            template,
                            "a template may not start with '{' (Synapse fails on it at deploy time)",
                        ));
                    } else {
                        // index == start: directly after a closing brace.
                        start += 1;
                    }
                }
                '}' => {
                    if !in_expression {
                        return Err(invalid(template, "Illegal closing brace detected"));
                    }
                    in_expression = false;
                    if index > start {
                        nodes.push(parse_expression(template, &slice(start, index))?);
                        start = index + 1;
                    } else {
                        return Err(invalid(template, "Illegal empty expression"));
                    }
                }
                _ => {
                    if index as isize == max_index {
                        let token = slice(start, chars.len());
                        if in_expression {
                            nodes.push(parse_expression(template, &token)?);
                        } else {
                            nodes.push(Node::Literal(token));
                        }
                    }
                }
            }
        }
        if nodes.is_empty() {
            return Err(invalid(template, "empty template"));
        }
        let allow_optional_query = !nodes
            .iter()
            .any(|n| matches!(n, Node::Literal(t) if t.contains('?')));
        Ok(UriTemplate {
            source: template.to_owned(),
            nodes,
            allow_optional_query,
        })
    }

    /// The template text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names, in template order (a repeated name once).
    pub fn variable_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for node in &self.nodes {
            if let Node::Expression { variables, .. } = node {
                for var in variables {
                    if !names.contains(&var.name.as_str()) {
                        names.push(&var.name);
                    }
                }
            }
        }
        names
    }

    /// Matches a sub-path (path after context and version, with its query) and returns the
    /// captured variables (decoded, `+` kept), in the order they were bound. A malformed `%`
    /// escape in a captured value counts as no match here; see [`UriTemplate::try_match_path`].
    pub fn match_path(&self, path_and_query: &str) -> Option<Vec<(String, String)>> {
        self.try_match_path(path_and_query).ok().flatten()
    }

    /// Like [`UriTemplate::match_path`] but reports a malformed `%` escape in a captured value,
    /// where Synapse's `URLDecoder` throws and the request fails instead of moving on.
    pub fn try_match_path(
        &self,
        path_and_query: &str,
    ) -> Result<Option<Vec<(String, String)>>, MalformedEscape> {
        let uri = path_and_query.as_bytes();
        let mut variables = Vec::new();
        let matched = self.match_all(0, uri, &mut variables)?;
        // URITemplate.matches: a full match, or (no '?' in the template) a match that ends right
        // before the query.
        let full = matched == uri.len() as isize;
        let before_query =
            self.allow_optional_query && matched > 0 && uri.get(matched as usize) == Some(&b'?');
        Ok((full || before_query).then_some(variables))
    }

    /// `Node.matchAll`, with Java's arithmetic.
    fn match_all(
        &self,
        index: usize,
        fragment: &[u8],
        vars: &mut Vec<(String, String)>,
    ) -> Result<isize, MalformedEscape> {
        let matched = self.match_node(index, fragment, vars)?;
        let len = fragment.len() as isize;
        let next = self.nodes.get(index + 1);
        if matched < 0 {
            return Ok(-1);
        }
        if matched < len {
            return match next {
                Some(_) => {
                    let rest = self.match_all(index + 1, &fragment[matched as usize..], vars)?;
                    Ok(matched + rest)
                }
                // Content left but no node: a trailing '/' is forgiven.
                None => Ok(if fragment.ends_with(b"/") {
                    matched + 1
                } else {
                    matched
                }),
            };
        }
        match next {
            None => Ok(matched),
            Some(Node::Literal(token)) if token == "*" || token == "/*" => Ok(matched),
            // An empty last query value ("?a=1&b="): the following expression matches nothing.
            Some(Node::Expression { .. }) if fragment.contains(&b'=') => {
                let rest = self.match_all(index + 1, &fragment[matched as usize..], vars)?;
                Ok(matched + rest)
            }
            Some(_) => Ok(-1),
        }
    }

    fn match_node(
        &self,
        index: usize,
        fragment: &[u8],
        vars: &mut Vec<(String, String)>,
    ) -> Result<isize, MalformedEscape> {
        let next_first = self.nodes.get(index + 1).map(Node::first_bytes);
        match &self.nodes[index] {
            Node::Literal(token) => Ok(match_literal(token.as_bytes(), fragment)),
            Node::Expression { kind, variables } => {
                let expr = ExpressionMatcher {
                    kind: *kind,
                    variables,
                    next_first,
                };
                match kind {
                    ExpressionKind::Simple | ExpressionKind::Reserved => {
                        expr.match_value(fragment, vars)
                    }
                    ExpressionKind::Fragment
                    | ExpressionKind::Label
                    | ExpressionKind::PathSegment => {
                        let lead = match kind {
                            ExpressionKind::Fragment => b'#',
                            ExpressionKind::Label => b'.',
                            _ => b'/',
                        };
                        if fragment.first() == Some(&lead) {
                            Ok(expr.match_value(&fragment[1..], vars)? + 1)
                        } else {
                            Ok(0)
                        }
                    }
                }
            }
        }
    }
}

impl std::fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

/// `Literal.match`: exact prefix, or with a trailing `*` the prefix before it and then anything.
fn match_literal(token: &[u8], fragment: &[u8]) -> isize {
    if let Some(head) = token.strip_suffix(b"*") {
        if fragment.starts_with(head) {
            fragment.len() as isize
        } else {
            -1
        }
    } else if fragment.starts_with(token) {
        token.len() as isize
    } else {
        -1
    }
}

struct ExpressionMatcher<'a> {
    kind: ExpressionKind,
    variables: &'a [Variable],
    next_first: Option<&'a [u8]>,
}

impl ExpressionMatcher<'_> {
    fn separator(&self) -> u8 {
        match self.kind {
            ExpressionKind::Label => b'.',
            ExpressionKind::PathSegment => b'/',
            _ => b',',
        }
    }

    fn stops_at_reserved(&self) -> bool {
        !matches!(
            self.kind,
            ExpressionKind::Reserved | ExpressionKind::Fragment
        )
    }

    /// `SimpleStringExpression.match` (also used by the reserved, fragment, label and path kinds).
    fn match_value(
        &self,
        fragment: &[u8],
        vars: &mut Vec<(String, String)>,
    ) -> Result<isize, MalformedEscape> {
        let len = fragment.len();
        for i in 0..len {
            let ch = fragment[i];
            let at_next = self
                .next_first
                .is_some_and(|f| !f.is_empty() && fragment[i..].starts_with(f));
            if (self.stops_at_reserved() && RESERVED.contains(&ch)) || at_next {
                if ch == self.separator() && self.variables.len() > 1 {
                    // A list separator inside the value; when it is the last byte the loop ends
                    // and Synapse answers 0 without binding anything.
                    continue;
                }
                return Ok(if self.set_variables(&fragment[..i], vars)? {
                    i as isize
                } else {
                    -1
                });
            } else if i == len - 1 {
                return Ok(if self.set_variables(fragment, vars)? {
                    len as isize
                } else {
                    -1
                });
            }
        }
        Ok(0)
    }

    /// `setVariables`: bind the value (or the separator-split list) with the conflict and prefix
    /// checks. Reserved-kind expressions with one variable take the whole value unsplit.
    fn set_variables(
        &self,
        value: &[u8],
        vars: &mut Vec<(String, String)>,
    ) -> Result<bool, MalformedEscape> {
        let whole_value = matches!(
            self.kind,
            ExpressionKind::Reserved | ExpressionKind::Fragment
        ) && self.variables.len() == 1;
        if whole_value {
            let decoded = template_decode(value)?;
            return Ok(bind(&self.variables[0], decoded, vars));
        }
        let values = java_split(value, self.separator());
        if values.len() > self.variables.len() {
            return Ok(false);
        }
        for (var, raw) in self.variables.iter().zip(values.iter()) {
            if !bind(var, template_decode(raw)?, vars) {
                return Ok(false);
            }
        }
        for var in &self.variables[values.len()..] {
            if !bind(var, String::new(), vars) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn bind(var: &Variable, value: String, vars: &mut Vec<(String, String)>) -> bool {
    if let Some((_, existing)) = vars.iter().find(|(n, _)| *n == var.name)
        && *existing != value
    {
        return false;
    }
    if let Some(prefix) = var.prefix
        && value.encode_utf16().count() != prefix
    {
        return false;
    }
    if let Some(slot) = vars.iter_mut().find(|(n, _)| *n == var.name) {
        slot.1 = value;
    } else {
        vars.push((var.name.clone(), value));
    }
    true
}

/// `URITemplateParser.createExpressionNode`.
fn parse_expression(template: &str, expression: &str) -> Result<Node, TemplateError> {
    let (kind, body) = match expression.chars().next() {
        Some('#') => (ExpressionKind::Fragment, &expression[1..]),
        Some('+') => (ExpressionKind::Reserved, &expression[1..]),
        Some('.') => (ExpressionKind::Label, &expression[1..]),
        Some('/') => (ExpressionKind::PathSegment, &expression[1..]),
        Some(op @ (';' | '?' | '&')) => {
            return Err(invalid(
                template,
                format!(
                    "Unsupported template expression: {{{expression}}} (the '{op}' operator is not \
                     supported in resource templates; supported: {{var}} {{+var}} {{#var}} {{.var}} {{/var}})"
                ),
            ));
        }
        _ => (ExpressionKind::Simple, expression),
    };
    Ok(Node::Expression {
        kind,
        variables: parse_variables(template, body)?,
    })
}

/// `Expression` constructor: comma-separated variables; an empty name between commas is an error,
/// a trailing comma is ignored.
fn parse_variables(template: &str, body: &str) -> Result<Vec<Variable>, TemplateError> {
    let mut variables = Vec::new();
    let bytes = body.as_bytes();
    let mut start = 0usize;
    for i in 0..bytes.len() {
        if bytes[i] == b',' {
            if start == i {
                return Err(invalid(
                    template,
                    "Illegal variable reference with zero length",
                ));
            }
            variables.push(parse_variable(template, &body[start..i])?);
            start = i + 1;
        } else if i == bytes.len() - 1 && start < bytes.len() {
            variables.push(parse_variable(template, &body[start..])?);
        }
    }
    Ok(variables)
}

/// `Variable` constructor: letters, digits, `.`, `-`, `_`, and an optional `:N` prefix length.
fn parse_variable(template: &str, text: &str) -> Result<Variable, TemplateError> {
    for (i, ch) in text.char_indices() {
        if ch == ':' {
            let digits = &text[i + 1..];
            let prefix = parse_java_int(digits).ok_or_else(|| {
                invalid(template, format!("invalid variable prefix {digits:?} in {text:?} (expected a positive integer)"))
            })?;
            if prefix <= 0 {
                return Err(invalid(
                    template,
                    format!("Invalid variable prefix: {prefix}"),
                ));
            }
            return Ok(Variable {
                name: text[..i].to_owned(),
                prefix: Some(prefix as usize),
            });
        }
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_')) {
            return Err(invalid(
                template,
                format!(
                    "Invalid character: '{ch}' in expression (allowed: letters, digits, '.', '-', '_')"
                ),
            ));
        }
    }
    Ok(Variable {
        name: text.to_owned(),
        prefix: None,
    })
}

/// `Integer.parseInt` for ASCII input: optional sign, digits, 32-bit range.
fn parse_java_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&value)
        .then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// Parse results; cases from SYN commons `src/test/.../templates/uri/parser/ParserTest.java`
    /// and from reading `URITemplateParser.java`.
    #[test]
    fn parse_accepts_and_rejects_like_synapse() {
        for ok in [
            "/",
            "/customers/{id}",
            "/a/{x}{y}",
            "/dictionary/{char}/{+word}",
            "/a{#frag}",
            "/a{.ext}",
            "/a{/seg1,seg2}",
            "/a/{id:3}",
            "/a/{bc",
            "/a/*",
            "/q?a={x}&b={y}",
            "/a/{x,}",
        ] {
            assert!(UriTemplate::parse(ok).is_ok(), "{ok:?} should parse");
        }
        for bad in [
            "",
            "{id}",
            "/a/{?q}",
            "/a/{;p}",
            "/a/{&q}",
            "/a/{}",
            "/a/}",
            "/a/{b{c}}",
            "/a/{",
            "/a/{b",
            "/a/{b c}",
            "/a/{,b}",
            "/a/{b,,c}",
            "/a/{id:0}",
            "/a/{id:x}",
        ] {
            assert!(
                UriTemplate::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn template_length_limit() {
        let at_limit = format!("/{}", "a".repeat(MAX_URI_TEMPLATE_LEN - 1));
        assert!(UriTemplate::parse(&at_limit).is_ok());
        let over = format!("/{}", "a".repeat(MAX_URI_TEMPLATE_LEN));
        assert!(matches!(
            UriTemplate::parse(&over),
            Err(TemplateError::TooLong { .. })
        ));
    }

    /// Matching table. Sources: SYN commons `ParserTest.java` (template/URI pairs), MI tests
    /// `LastQueryParamEmptyTestCase` (pattern1/pattern2), `ESBJAVA3751...` (decoding of `+`),
    /// and the semantics of `Node.matchAll` / `URITemplate.matches` (ESBJAVA-4260 optional query).
    #[test]
    fn match_table() {
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, &str, Option<&[(&str, &str)]>)] = &[
            ("/customers/{id}", "/customers/10", Some(&[("id", "10")])),
            ("/customers/{id}", "/customers/10/", Some(&[("id", "10")])),
            (
                "/customers/{id}",
                "/customers/10?x=1",
                Some(&[("id", "10")]),
            ),
            ("/customers/{id}", "/customers/10/orders", None),
            ("/customers/{id}", "/customers", None),
            ("/customers/{id}", "/customers/", None),
            (
                "/customers/{id}/orders/{oid}",
                "/customers/1/orders/2",
                Some(&[("id", "1"), ("oid", "2")]),
            ),
            ("/a/{x}", "/a/b%20c", Some(&[("x", "b c")])),
            ("/a/{x}", "/a/ESB+WSO2", None),
            ("/a/{+x}", "/a/ESB+WSO2", Some(&[("x", "ESB+WSO2")])),
            ("/a/{x}", "/a/b:c", None),
            (
                "/dictionary/{char}/{+word}",
                "/dictionary/c/cat/x",
                Some(&[("char", "c"), ("word", "cat/x")]),
            ),
            (
                "/special_case/{+url}",
                "/special_case/http://h:1/s?x",
                Some(&[("url", "http://h:1/s?x")]),
            ),
            ("/a/{x}/b/{x}", "/a/1/b/1", Some(&[("x", "1")])),
            ("/a/{x}/b/{x}", "/a/1/b/2", None),
            ("/a/{x,y}", "/a/1,2", Some(&[("x", "1"), ("y", "2")])),
            ("/a/{x,y}", "/a/1", Some(&[("x", "1"), ("y", "")])),
            ("/a/{x:3}", "/a/abc", Some(&[("x", "abc")])),
            ("/a/{x:3}", "/a/ab", None),
            ("/a{.ext}", "/a.json", Some(&[("ext", "json")])),
            ("/a{/s,t}", "/a/1/2", Some(&[("s", "1"), ("t", "2")])),
            ("/a{#f}", "/a#top", Some(&[("f", "top")])),
            (
                "/pattern2*",
                "/pattern2?latitude=10&longitude=20&floor",
                Some(&[]),
            ),
            (
                "/pattern3/*",
                "/pattern3/sample?latitude=10&floor",
                Some(&[]),
            ),
            ("/a/*", "/a", None),
            ("/a/*", "/ab", None),
            ("/", "/", Some(&[])),
            ("/", "/?a=1", Some(&[])),
            ("/", "/x", None),
            ("/x", "/x?a=1/", None),
            (
                "/pattern1?latitude={+latitude}&longitude={+longitude}&floor={+floor}",
                "/pattern1?latitude=10&longitude=20&floor=30",
                Some(&[("latitude", "10"), ("longitude", "20"), ("floor", "30")]),
            ),
            (
                "/pattern1?latitude={+latitude}&longitude={+longitude}&floor={+floor}",
                "/pattern1?latitude=10&longitude=20&floor=",
                Some(&[("latitude", "10"), ("longitude", "20")]),
            ),
            (
                "/pattern1?latitude={+latitude}&longitude={+longitude}&floor={+floor}",
                "/pattern1?latitude=&longitude=20&floor=30",
                Some(&[("latitude", ""), ("longitude", "20"), ("floor", "30")]),
            ),
            (
                "/pattern1?latitude={+latitude}&longitude={+longitude}&floor={+floor}",
                "/pattern1?latitude=10&longitude=20&floor",
                None,
            ),
            ("/q?a={x}&b={y}", "/q?b=2&a=1", None),
            ("/q?a={x}&b={y}", "/q?a=1&b=2&c=3", None),
        ];
        for (template, uri, expected) in cases {
            let parsed = UriTemplate::parse(template).unwrap_or_else(|e| panic!("{template}: {e}"));
            let got = parsed.match_path(uri);
            assert_eq!(
                got,
                expected.map(vars),
                "template {template:?} against {uri:?}"
            );
        }
    }

    #[test]
    fn malformed_escape_is_reported_not_matched() {
        let t = UriTemplate::parse("/a/{x}").unwrap_or_else(|e| panic!("{e}"));
        assert!(t.try_match_path("/a/%zz").is_err());
        assert_eq!(t.match_path("/a/%zz"), None);
    }

    #[test]
    fn trailing_slashes_in_template_are_trimmed_twice() {
        let t = UriTemplate::parse("/a//").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.match_path("/a"), Some(vec![]));
    }

    #[test]
    fn open_expression_at_end_is_accepted_like_synapse() {
        let t = UriTemplate::parse("/a/{id").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.match_path("/a/7"), Some(vars(&[("id", "7")])));
        assert_eq!(t.variable_names(), vec!["id"]);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_never_panics(template in ".{0,64}") {
                let _ = UriTemplate::parse(&template);
            }

            #[test]
            fn parse_and_match_never_panic(
                template in "/[a-z{}+#./,:?&=*0-9]{0,24}",
                uri in "[a-z/%+?&=.#,:0-9A-F\u{1}é]{0,32}",
            ) {
                if let Ok(t) = UriTemplate::parse(&template) {
                    let _ = t.try_match_path(&uri);
                }
            }

            #[test]
            fn simple_variable_captures_any_unreserved_segment(seg in "[a-zA-Z0-9._~-]{1,20}") {
                let t = UriTemplate::parse("/items/{id}").map_err(|e| TestCaseError::fail(e.to_string()))?;
                let uri = format!("/items/{seg}");
                prop_assert_eq!(t.match_path(&uri), Some(vec![("id".to_string(), seg.clone())]));
            }
        }
    }
}
