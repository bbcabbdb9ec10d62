//! Jayway JsonPath syntax -> RFC 9535 text for serde_json_path, plus what Jayway decides from the
//! syntax: whether the path is *definite* (Jayway `Path.isDefinite`: no `..`, `*`, filter, slice,
//! or multi-index/multi-name union) and a trailing path function (`.length()`, `.min()`, ...).
//! Jayway-only syntax handled here: dot names RFC shorthand cannot carry (`$.first-name`),
//! `[?(...)]` filters with `=~ /re/flags` (full match, Jayway `RegexMatchEvaluator`), `in`, `nin`,
//! `size`, `empty`, and a path without `$` (Jayway's compiler prepends `$.`).

use super::JsonError;

/// Jayway path functions supported at the end of a path (Jayway `PathFunctionFactory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathFunction {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    StdDev,
    Keys,
    First,
    Last,
}

impl PathFunction {
    fn from_name(name: &str) -> Option<PathFunction> {
        Some(match name {
            "length" | "size" => PathFunction::Length,
            "min" => PathFunction::Min,
            "max" => PathFunction::Max,
            "avg" => PathFunction::Avg,
            "sum" => PathFunction::Sum,
            "stddev" => PathFunction::StdDev,
            "keys" => PathFunction::Keys,
            "first" => PathFunction::First,
            "last" => PathFunction::Last,
            _ => return None,
        })
    }
}

/// One step of a translated path, kept for the edits (parent lookups).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Name(String),
    Index(i64),
    /// `['a','b']`: Jayway merges these into one object when it is the last step.
    Names(Vec<String>),
    Other,
}

/// A Jayway path translated to RFC 9535.
#[derive(Debug, Clone)]
pub(crate) struct Translated {
    pub rfc: String,
    pub definite: bool,
    pub function: Option<PathFunction>,
    /// A last step `['a','b']` (Jayway `multiPropertyMergeCase`, a definite token): `rfc` selects
    /// the objects and the result is, per object, a new object of those of its members present.
    pub merge: Option<Vec<String>>,
    /// Definiteness of each step.
    pub definites: Vec<bool>,
    /// RFC text of each prefix: `prefixes[i]` selects the parent of step `i`.
    pub prefixes: Vec<String>,
    pub steps: Vec<Step>,
}

/// Translates `path` (which must start with `$`, or a name: Jayway adds `$.`). `column` is the
/// 1-based column of `path` in the user's text, for errors.
pub(crate) fn translate(
    path: &str,
    full_text: &str,
    column: usize,
) -> Result<Translated, JsonError> {
    let owned;
    let (path, column) = if path.starts_with('$') {
        (path, column)
    } else if path.is_empty() {
        return Err(syntax(full_text, column, "empty JSONPath"));
    } else {
        owned = format!("$.{path}");
        (owned.as_str(), column.saturating_sub(2))
    };
    let chars: Vec<char> = path.chars().collect();
    // PathCompiler.compile: `if (ci.lastCharIs('.')) fail("Path must not end with a '.' or '..'")`,
    // checked before any token (so the one-character tail rule never applies to it).
    if path.ends_with('.') {
        return Err(syntax(
            full_text,
            column + chars.len(),
            "a path must not end with `.` or `..`",
        ));
    }
    let mut parser = PathParser {
        chars: &chars,
        pos: 1,
        full_text,
        column,
        in_filter: false,
    };
    let mut translated = Translated::root("$");
    parser.steps(&mut translated)?;
    if parser.pos < chars.len() {
        return Err(parser.error("unexpected character"));
    }
    if translated.function.is_none()
        && let Some(Step::Names(names)) = translated.steps.last().cloned()
        && let Some(prefix) = translated.prefixes.pop()
    {
        translated.steps.pop();
        translated.definites.pop();
        translated.rfc = prefix;
        translated.definite = translated.definites.iter().all(|d| *d);
        translated.merge = Some(names);
    }
    Ok(translated)
}

impl Translated {
    fn root(root: &str) -> Translated {
        Translated {
            rfc: root.to_string(),
            definite: true,
            function: None,
            merge: None,
            definites: Vec::new(),
            prefixes: Vec::new(),
            steps: Vec::new(),
        }
    }
}

fn syntax(text: &str, column: usize, message: &str) -> JsonError {
    JsonError::PathSyntax {
        text: text.to_string(),
        column,
        message: message.to_string(),
    }
}

/// An RFC 9535 single-quoted string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

struct PathParser<'a> {
    chars: &'a [char],
    pos: usize,
    full_text: &'a str,
    column: usize,
    in_filter: bool,
}

impl PathParser<'_> {
    fn error(&self, message: &str) -> JsonError {
        syntax(self.full_text, self.column + self.pos, message)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn is_name_end(&self, c: char) -> bool {
        match c {
            '.' | '[' => true,
            _ if self.in_filter => {
                c.is_whitespace()
                    || matches!(c, '(' | ')' | ']' | '=' | '<' | '>' | '!' | '&' | '|' | ',')
            }
            '(' => true,
            _ => false,
        }
    }

    fn name(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if self.is_name_end(c) {
                break;
            }
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if name.is_empty() {
            return Err(self.error("expected a property name"));
        }
        Ok(name)
    }

    fn push(&self, t: &mut Translated, rfc: &str, step: Step, definite: bool) {
        t.prefixes.push(t.rfc.clone());
        t.rfc.push_str(rfc);
        t.steps.push(step);
        t.definites.push(definite);
        t.definite &= definite;
    }

    /// Steps after the root; stops at the end or (in a filter) at a character that ends the path.
    ///
    /// Jayway's PathCompiler (com/jayway/jsonpath/internal/path/PathCompiler.java) ends every
    /// token reader with `path.currentIsTail() || readNextToken(appender)`, and `currentIsTail` is
    /// true when at most one character is left: so one stray character after a token is ignored
    /// (`$.store.book[?(@.price > 20)])` in MI test PropertyJSONPathSupportTestCase), and a name
    /// may follow `]` directly (`spo[0]spo_emad_spo_srs` in EnrichJSONPayloadWithSpaceTest), read
    /// by readPropertyOrFunctionToken.
    fn steps(&mut self, t: &mut Translated) -> Result<(), JsonError> {
        let mut after_token = false;
        while let Some(c) = self.peek() {
            if !self.in_filter
                && after_token
                && t.function.is_none()
                && self.pos + 1 == self.chars.len()
            {
                self.pos += 1;
                return Ok(());
            }
            after_token = true;
            if t.function.is_some() {
                if self.in_filter && !matches!(c, '.' | '[') {
                    return Ok(());
                }
                return Err(self.error("a path function must end the path"));
            }
            match c {
                '.' if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            self.push(t, "..*", Step::Other, false);
                        }
                        Some('[') => {
                            let (rfc, _, _) = self.bracket()?;
                            self.push(t, &format!("..{rfc}"), Step::Other, false);
                        }
                        _ => {
                            let name = self.name()?;
                            self.push(t, &format!("..[{}]", quote(&name)), Step::Other, false);
                        }
                    }
                }
                '.' => {
                    self.pos += 1;
                    if self.peek() == Some('*') {
                        self.pos += 1;
                        self.push(t, ".*", Step::Other, false);
                        continue;
                    }
                    if self.peek() == Some('[') {
                        // Jayway tolerates `$.['a']`.
                        after_token = false;
                        continue;
                    }
                    self.property_or_function(t)?;
                }
                '[' => {
                    let (rfc, step, definite) = self.bracket()?;
                    self.push(t, &rfc, step, definite);
                }
                _ if self.in_filter => return Ok(()),
                // After `]` (or `*`) Jayway reads a name directly (readNextToken's default case).
                _ if self.pos > 1 && !matches!(c, '*' | ' ') => self.property_or_function(t)?,
                _ => return Err(self.error("expected `.`, `..` or `[`")),
            }
        }
        Ok(())
    }

    /// `name` or `name()` (a path function) at `pos` (Jayway readPropertyOrFunctionToken).
    fn property_or_function(&mut self, t: &mut Translated) -> Result<(), JsonError> {
        let name = self.name()?;
        if self.peek() == Some('(') {
            if self.peek_at(1) != Some(')') {
                return Err(self.error("path functions with arguments are not supported"));
            }
            let Some(function) = PathFunction::from_name(&name) else {
                return Err(self.error("unknown path function (supported: length, size, min, max, avg, sum, stddev, keys, first, last)"));
            };
            self.pos += 2;
            t.function = Some(function);
            return Ok(());
        }
        self.push(t, &format!("[{}]", quote(&name)), Step::Name(name), true);
        Ok(())
    }

    /// `[...]` at `pos`; returns the RFC selector, the step and whether it is definite.
    fn bracket(&mut self) -> Result<(String, Step, bool), JsonError> {
        let open = self.pos;
        let close = self.matching_bracket(open)?;
        let inner: String = self.chars[open + 1..close].iter().collect();
        let trimmed = inner.trim();
        let result = if trimmed == "*" {
            ("[*]".to_string(), Step::Other, false)
        } else if let Some(filter) = trimmed.strip_prefix('?') {
            let offset = open + 1 + (inner.len() - inner.trim_start().len()) + 1;
            let filter_chars: Vec<char> = filter.chars().collect();
            let expr = translate_filter(&filter_chars, self.full_text, self.column + offset)?;
            (format!("[?{expr}]"), Step::Other, false)
        } else if trimmed.starts_with('(') {
            return Err(self.error("script expressions `[(...)]` are not supported"));
        } else if trimmed.starts_with('\'') || trimmed.starts_with('"') {
            let names = self.quoted_list(trimmed, open + 1)?;
            let rfc = format!(
                "[{}]",
                names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(",")
            );
            match <[String; 1]>::try_from(names) {
                Ok([name]) => (rfc, Step::Name(name), true),
                Err(names) => (rfc, Step::Names(names), false),
            }
        } else if !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | ',' | ' '))
        {
            let compact: String = trimmed.chars().filter(|c| *c != ' ').collect();
            match compact.parse::<i64>() {
                Ok(index) => (format!("[{index}]"), Step::Index(index), true),
                Err(_) => (format!("[{compact}]"), Step::Other, false),
            }
        } else {
            return Err(self
                .error("expected `*`, `?(...)`, quoted names, indexes or a slice inside `[...]`"));
        };
        self.pos = close + 1;
        Ok(result)
    }

    fn matching_bracket(&self, open: usize) -> Result<usize, JsonError> {
        let mut depth = 0usize;
        let mut quote_char: Option<char> = None;
        let mut i = open;
        while let Some(&c) = self.chars.get(i) {
            match quote_char {
                Some(q) => {
                    if c == '\\' {
                        i += 1;
                    } else if c == q {
                        quote_char = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote_char = Some(c),
                    '[' | '(' => depth += 1,
                    ']' | ')' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return if c == ']' {
                                Ok(i)
                            } else {
                                Err(syntax(self.full_text, self.column + i, "unbalanced `)`"))
                            };
                        }
                    }
                    _ => {}
                },
            }
            i += 1;
        }
        Err(syntax(
            self.full_text,
            self.column + open,
            "`[` is never closed",
        ))
    }

    /// `'a', "b"` -> names.
    fn quoted_list(&self, text: &str, offset: usize) -> Result<Vec<String>, JsonError> {
        let chars: Vec<char> = text.chars().collect();
        let mut names = Vec::new();
        let mut i = 0;
        loop {
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            let (name, next) = read_string(&chars, i).ok_or_else(|| {
                syntax(
                    self.full_text,
                    self.column + offset + i,
                    "unterminated or missing quoted name",
                )
            })?;
            names.push(name);
            i = next;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            match chars.get(i) {
                None => return Ok(names),
                Some(',') => i += 1,
                Some(_) => {
                    return Err(syntax(
                        self.full_text,
                        self.column + offset + i,
                        "expected `,` or `]` after a quoted name",
                    ));
                }
            }
        }
    }
}

/// A `'...'` or `"..."` string at `start` (Jayway escapes: backslash + char); returns the text and
/// the index after the closing quote.
fn read_string(chars: &[char], start: usize) -> Option<(String, usize)> {
    let q = *chars.get(start)?;
    if q != '\'' && q != '"' {
        return None;
    }
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let c = *chars.get(i)?;
        if c == q {
            return Some((out, i + 1));
        }
        if c == '\\' {
            i += 1;
            let e = *chars.get(i)?;
            out.push(match e {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                other => other,
            });
        } else {
            out.push(c);
        }
        i += 1;
    }
}

/// Filter tokens after translation of paths and literals.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// RFC text of an operand (path, function call or literal).
    Operand(String),
    /// `==`, `<`, `&&`, `(`, `!`, ...
    Symbol(String),
    /// Jayway operators we rewrite: `=~`, `in`, `nin`, `size`, `empty`.
    Jayway(String),
    Regex {
        pattern: String,
        flags: String,
    },
    List(Vec<String>),
}

fn translate_filter(chars: &[char], full_text: &str, column: usize) -> Result<String, JsonError> {
    let err = |at: usize, message: &str| syntax(full_text, column + at, message);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '@' || c == '$' {
            let mut parser = PathParser {
                chars,
                pos: i + 1,
                full_text,
                column,
                in_filter: true,
            };
            let mut t = Translated::root(&c.to_string());
            parser.steps(&mut t)?;
            i = parser.pos;
            let operand = match t.function {
                None => t.rfc,
                Some(PathFunction::Length) => format!("length({})", t.rfc),
                Some(_) => return Err(err(i, "only length()/size() can be used inside a filter")),
            };
            tokens.push(Token::Operand(operand));
            continue;
        }
        if c == '\'' || c == '"' {
            let (s, next) = read_string(chars, i).ok_or_else(|| err(i, "unterminated string"))?;
            tokens.push(Token::Operand(quote(&s)));
            i = next;
            continue;
        }
        if c == '/' && matches!(tokens.last(), Some(Token::Jayway(op)) if op == "=~") {
            let mut pattern = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err(err(i, "unterminated regular expression")),
                    Some('\\') if chars.get(j + 1) == Some(&'/') => {
                        pattern.push('/');
                        j += 2;
                    }
                    Some('\\') => {
                        pattern.push('\\');
                        if let Some(&n) = chars.get(j + 1) {
                            pattern.push(n);
                        }
                        j += 2;
                    }
                    Some('/') => break,
                    Some(&other) => {
                        pattern.push(other);
                        j += 1;
                    }
                }
            }
            j += 1;
            let mut flags = String::new();
            while let Some(&f) = chars.get(j).filter(|f| f.is_ascii_alphabetic()) {
                if !matches!(f, 'i' | 'm' | 's' | 'x') {
                    return Err(err(j, "unsupported regex flag (i, m, s, x)"));
                }
                flags.push(f);
                j += 1;
            }
            if regex::Regex::new(&pattern).is_err() {
                return Err(err(i, "invalid regular expression"));
            }
            tokens.push(Token::Regex { pattern, flags });
            i = j;
            continue;
        }
        if c == '[' {
            let mut depth = 0usize;
            let mut j = i;
            let mut items = Vec::new();
            let mut current = String::new();
            loop {
                let Some(&d) = chars.get(j) else {
                    return Err(err(i, "`[` is never closed"));
                };
                match d {
                    '\'' | '"' => {
                        let (s, next) =
                            read_string(chars, j).ok_or_else(|| err(j, "unterminated string"))?;
                        current.push_str(&quote(&s));
                        j = next;
                        continue;
                    }
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        items.push(std::mem::take(&mut current));
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
                if depth >= 1 && !(d == '[' && depth == 1) {
                    current.push(d);
                }
                j += 1;
            }
            if !current.trim().is_empty() || !items.is_empty() {
                items.push(current);
            }
            let items: Vec<String> = items.into_iter().map(|s| s.trim().to_string()).collect();
            for item in &items {
                if !is_literal(item) {
                    return Err(err(
                        i,
                        "list items must be strings, numbers, true, false or null",
                    ));
                }
            }
            tokens.push(Token::List(items));
            i = j + 1;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if matches!(two.as_str(), "==" | "!=" | "<=" | ">=" | "&&" | "||") {
            tokens.push(Token::Symbol(two));
            i += 2;
            continue;
        }
        if two == "=~" {
            tokens.push(Token::Jayway(two));
            i += 2;
            continue;
        }
        if matches!(c, '<' | '>' | '(' | ')' | '!') {
            tokens.push(Token::Symbol(c.to_string()));
            i += 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match word.as_str() {
                "in" | "nin" | "size" | "empty" => tokens.push(Token::Jayway(word)),
                "subsetof" | "anyof" | "noneof" | "contains" => {
                    return Err(err(
                        start,
                        "Jayway operators subsetof/anyof/noneof/contains are not supported",
                    ));
                }
                _ if is_literal(&word) => tokens.push(Token::Operand(word)),
                _ => return Err(err(start, "unexpected word in filter")),
            }
            continue;
        }
        return Err(err(i, "unexpected character in filter"));
    }
    rewrite_jayway_operators(tokens).map_err(|message| err(0, message))
}

fn is_literal(text: &str) -> bool {
    matches!(text, "true" | "false" | "null")
        || text.starts_with('\'')
        || serde_json::from_str::<serde_json::Number>(text).is_ok()
}

fn rewrite_jayway_operators(tokens: Vec<Token>) -> Result<String, &'static str> {
    let mut out: Vec<String> = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        match token {
            Token::Operand(s) | Token::Symbol(s) => out.push(s),
            Token::Jayway(op) => {
                let left = out.pop().ok_or("Jayway operator without a left operand")?;
                let right = iter
                    .next()
                    .ok_or("Jayway operator without a right operand")?;
                let rewritten = match (op.as_str(), right) {
                    ("=~", Token::Regex { pattern, flags }) => {
                        let flagged = if flags.is_empty() {
                            pattern
                        } else {
                            format!("(?{flags}){pattern}")
                        };
                        format!("match({left}, {})", quote(&flagged))
                    }
                    ("in", Token::List(items)) if items.is_empty() => "1 == 2".to_string(),
                    ("in", Token::List(items)) => format!(
                        "({})",
                        items
                            .iter()
                            .map(|i| format!("{left} == {i}"))
                            .collect::<Vec<_>>()
                            .join(" || ")
                    ),
                    ("nin", Token::List(items)) if items.is_empty() => "1 == 1".to_string(),
                    ("nin", Token::List(items)) => format!(
                        "({})",
                        items
                            .iter()
                            .map(|i| format!("{left} != {i}"))
                            .collect::<Vec<_>>()
                            .join(" && ")
                    ),
                    ("size", Token::Operand(n)) => format!("length({left}) == {n}"),
                    ("empty", Token::Operand(b)) if b == "true" => format!("length({left}) == 0"),
                    // RFC's `!=` is true when the left side is missing; Jayway's `empty false` is not.
                    ("empty", Token::Operand(b)) if b == "false" => {
                        format!("({left} && length({left}) != 0)")
                    }
                    ("=~", _) => return Err("`=~` needs a /regex/ on its right"),
                    ("in" | "nin", _) => return Err("`in`/`nin` need a [list] on their right"),
                    ("size", _) => return Err("`size` needs a number on its right"),
                    _ => return Err("`empty` needs true or false on its right"),
                };
                out.push(rewritten);
            }
            Token::Regex { .. } => return Err("a /regex/ can only follow `=~`"),
            Token::List(_) => return Err("a [list] can only follow `in` or `nin`"),
        }
    }
    Ok(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(path: &str) -> String {
        translate(path, path, 1)
            .map(|t| t.rfc)
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn dot_names_become_bracket_names() {
        assert_eq!(rfc("$.store.first-name"), "$['store']['first-name']");
        assert_eq!(rfc("store.book[0]"), "$['store']['book'][0]");
        assert_eq!(rfc("$..price"), "$..['price']");
        assert_eq!(rfc("$.a.*"), "$['a'].*");
        assert_eq!(rfc("$['a b'][\"c\"]"), "$['a b']['c']");
    }

    #[test]
    fn definiteness_follows_jayway() {
        for (path, definite) in [
            ("$.a.b[0]", true),
            ("$['a']", true),
            ("$.a[*]", false),
            ("$..a", false),
            ("$.a[0,1]", false),
            ("$.a[1:2]", false),
            // Jayway multiPropertyMergeCase: a last `['a','b']` is a definite token.
            ("$['a','b']", true),
            ("$['a','b'].c", false),
            ("$..x['a','b']", false),
            ("$.a[?(@.x)]", false),
        ] {
            assert_eq!(
                translate(path, path, 1).map(|t| t.definite),
                Ok(definite),
                "{path}"
            );
        }
    }

    #[test]
    fn filters_are_translated() {
        assert_eq!(
            rfc("$.book[?(@.price < 10)]"),
            "$['book'][?( @['price'] < 10 )]"
        );
        assert_eq!(
            rfc("$.b[?(@.name =~ /ab.*/i)]"),
            "$['b'][?( match(@['name'], '(?i)ab.*') )]"
        );
        assert_eq!(
            rfc("$.b[?(@.c in ['x', 'y'])]"),
            "$['b'][?( (@['c'] == 'x' || @['c'] == 'y') )]"
        );
        assert_eq!(rfc("$.b[?(@.c nin [1])]"), "$['b'][?( (@['c'] != 1) )]");
        assert_eq!(
            rfc("$.b[?(@.t size 2)]"),
            "$['b'][?( length(@['t']) == 2 )]"
        );
        assert_eq!(
            rfc("$.b[?(@.t empty false)]"),
            "$['b'][?( (@['t'] && length(@['t']) != 0) )]"
        );
        assert_eq!(
            rfc("$.b[?(@.t.length() > 1 && @.a-b == \"q\")]"),
            "$['b'][?( length(@['t']) > 1 && @['a-b'] == 'q' )]"
        );
    }

    #[test]
    fn functions_are_recognised_at_the_end_only() {
        let t = translate("$.a.length()", "$.a.length()", 1).expect("valid");
        assert_eq!(
            (t.rfc.as_str(), t.function),
            ("$['a']", Some(PathFunction::Length))
        );
        assert!(translate("$.a.length().b", "$.a.length().b", 1).is_err());
        assert!(translate("$.a.concat(1)", "$.a.concat(1)", 1).is_err());
        assert!(translate("$.a.nope()", "$.a.nope()", 1).is_err());
    }

    #[test]
    fn errors_name_the_column() {
        let err = translate("$.a[?(@.b =~ 3)]", "json-eval($.a[?(@.b =~ 3)])", 11);
        assert!(matches!(err, Err(JsonError::PathSyntax { .. })), "{err:?}");
        let err = translate("$.a[0", "$.a[0", 1);
        assert_eq!(
            err.map(|t| t.rfc),
            Err(JsonError::PathSyntax {
                text: "$.a[0".into(),
                column: 4,
                message: "`[` is never closed".into()
            })
        );
        assert!(translate("$.a[(@.length-1)]", "x", 1).is_err());
        // Jayway reads an inline `{$ctx:p}` as a name; SynapseJsonPath replaces it before use.
        assert!(translate("$.{$ctx:p}", "x", 1).is_ok());
    }
}
