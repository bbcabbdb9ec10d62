//! Splits a FreeMarker template into pieces (static text, `${...}`, `<#name ...>`, `</#name>`,
//! `<#-- -->`) and the expressions inside them into tokens. Positions are byte offsets into the
//! template; [`super::Template`] turns them into line and column for messages.

use super::MAX_NESTING;
use super::ast::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name; also `@attr`, `@@text` (XML node keys) and the operator words `gt`, `as`...
    Ident(String),
    Str(Vec<StrTok>),
    Num(f64),
    Punct(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StrTok {
    Lit(String),
    /// `${...}` inside a string literal: its tokens and its span.
    Interp(Vec<Token>, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Piece {
    Text(Span),
    Interp {
        tokens: Vec<Token>,
        span: Span,
    },
    Open {
        name: String,
        tokens: Vec<Token>,
        span: Span,
    },
    Close {
        name: String,
        span: Span,
    },
    Comment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub at: usize,
    pub message: String,
}

fn err<T>(at: usize, message: impl Into<String>) -> Result<T, LexError> {
    Err(LexError {
        at,
        message: message.into(),
    })
}

/// Operators and punctuation, longest first.
const PUNCT: &[&str] = &[
    "..<", "..!", "..*", "??", "..", "==", "!=", "<=", ">=", "&&", "||", "!", "=", "<", ">", "+",
    "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ",", ":", ".", "?", ";",
];

/// Where an expression ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At the `}` closing `${`.
    Brace,
    /// At the `>` (or `/>`) closing a directive tag.
    Tag,
}

/// The pieces of `src`.
pub fn pieces(src: &str) -> Result<Vec<Piece>, LexError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut text_start = 0;
    while pos < bytes.len() {
        let rest = &src[pos..];
        let flush = |out: &mut Vec<Piece>, end: usize| {
            if end > text_start {
                out.push(Piece::Text(Span {
                    start: text_start,
                    end,
                }));
            }
        };
        if rest.starts_with("${") {
            flush(&mut out, pos);
            let (tokens, end) = lex_expr(src, pos + 2, Stop::Brace, 0)?;
            out.push(Piece::Interp {
                tokens,
                span: Span { start: pos, end },
            });
            pos = end;
            text_start = pos;
        } else if rest.starts_with("<#--") {
            flush(&mut out, pos);
            let Some(close) = rest.find("-->") else {
                return err(pos, "unclosed comment: <#-- without -->");
            };
            out.push(Piece::Comment);
            pos += close + 3;
            text_start = pos;
        } else if rest.starts_with("<#") && name_start(rest[2..].chars().next()) {
            flush(&mut out, pos);
            let name = name_at(&rest[2..]);
            let after = pos + 2 + name.len();
            if name == "noparse" {
                let Some(open_end) = src[after..].find('>') else {
                    return err(pos, "unclosed <#noparse> tag");
                };
                let body = after + open_end + 1;
                let Some(close) = src[body..].find("</#noparse>") else {
                    return err(pos, "<#noparse> without </#noparse>");
                };
                out.push(Piece::Text(Span {
                    start: body,
                    end: body + close,
                }));
                pos = body + close + "</#noparse>".len();
            } else {
                let (tokens, end) = lex_expr(src, after, Stop::Tag, 0)?;
                out.push(Piece::Open {
                    name: name.to_string(),
                    tokens,
                    span: Span { start: pos, end },
                });
                pos = end;
            }
            text_start = pos;
        } else if rest.starts_with("</#") && name_start(rest[3..].chars().next()) {
            flush(&mut out, pos);
            let name = name_at(&rest[3..]);
            let mut end = pos + 3 + name.len();
            while end < bytes.len() && bytes[end].is_ascii_whitespace() {
                end += 1;
            }
            if bytes.get(end) != Some(&b'>') {
                return err(end, format!("expected '>' to close </#{name}"));
            }
            out.push(Piece::Close {
                name: name.to_string(),
                span: Span {
                    start: pos,
                    end: end + 1,
                },
            });
            pos = end + 1;
            text_start = pos;
        } else if rest.starts_with("<@") || rest.starts_with("</@") {
            return err(
                pos,
                "user-defined directives (<@...>) are not supported: Conflux templates have no macros",
            );
        } else {
            pos += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    if pos > text_start {
        out.push(Piece::Text(Span {
            start: text_start,
            end: pos,
        }));
    }
    Ok(out)
}

fn name_start(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

fn name_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// The tokens of an expression starting at `pos`, and the position after its terminator.
/// `nesting` counts the string literals with `${...}` this expression is inside.
fn lex_expr(
    src: &str,
    mut pos: usize,
    stop: Stop,
    nesting: usize,
) -> Result<(Vec<Token>, usize), LexError> {
    let start = pos;
    if nesting > MAX_NESTING {
        return err(
            pos,
            format!("${{...}} in string literals is nested more than {MAX_NESTING} deep"),
        );
    }
    let mut tokens = Vec::new();
    // Brackets opened inside the expression: a `}` or `>` inside them does not end it.
    let mut depth: Vec<u8> = Vec::new();
    loop {
        let rest = &src[pos..];
        let Some(c) = rest.chars().next() else {
            return err(
                start.saturating_sub(2),
                match stop {
                    Stop::Brace => "unclosed ${ (missing })",
                    Stop::Tag => "unclosed directive tag (missing >)",
                },
            );
        };
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        if depth.is_empty() {
            match stop {
                Stop::Brace if c == '}' => return Ok((tokens, pos + 1)),
                Stop::Tag if c == '>' && !rest.starts_with(">=") => return Ok((tokens, pos + 1)),
                Stop::Tag if rest.starts_with("/>") => return Ok((tokens, pos + 2)),
                _ => {}
            }
        }
        let token_start = pos;
        let tok = if c == '"' || c == '\'' {
            let (parts, end) = lex_string(src, pos + 1, c, false, nesting)?;
            pos = end;
            Tok::Str(parts)
        } else if c == 'r' && matches!(rest[1..].chars().next(), Some('"' | '\'')) {
            let quote = rest.as_bytes()[1] as char;
            let (parts, end) = lex_string(src, pos + 2, quote, true, nesting)?;
            pos = end;
            Tok::Str(parts)
        } else if c.is_ascii_digit() {
            let mut end = pos;
            let b = src.as_bytes();
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit() {
                end += 1;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
            }
            let n = src[pos..end]
                .parse::<f64>()
                .or_else(|_| err(pos, "bad number"))?;
            pos = end;
            Tok::Num(n)
        } else if c == '@' {
            let mut end = pos + 1;
            if src[end..].starts_with('@') {
                end += 1;
            }
            let name_len = src[end..]
                .find(|c: char| !(ident_char(c) || c == ':' || c == '-'))
                .unwrap_or(src.len() - end);
            if name_len == 0 {
                return err(pos, "expected a name after @");
            }
            let name = src[pos..end + name_len].to_string();
            pos = end + name_len;
            Tok::Ident(name)
        } else if ident_char(c) {
            let len = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
            pos += len;
            Tok::Ident(rest[..len].to_string())
        } else if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
            match *p {
                "(" | "[" | "{" => depth.push(p.as_bytes()[0]),
                ")" | "]" | "}" => {
                    let open = match *p {
                        ")" => b'(',
                        "]" => b'[',
                        _ => b'{',
                    };
                    if depth.pop() != Some(open) {
                        return err(pos, format!("unbalanced '{p}'"));
                    }
                }
                _ => {}
            }
            pos += p.len();
            Tok::Punct(p)
        } else {
            return err(pos, format!("unexpected character '{c}'"));
        };
        tokens.push(Token {
            tok,
            span: Span {
                start: token_start,
                end: pos,
            },
        });
    }
}

/// A string literal's content from `pos` (after the opening quote) to the closing `quote`.
fn lex_string(
    src: &str,
    mut pos: usize,
    quote: char,
    raw: bool,
    nesting: usize,
) -> Result<(Vec<StrTok>, usize), LexError> {
    let start = pos;
    let mut parts = Vec::new();
    let mut lit = String::new();
    loop {
        let rest = &src[pos..];
        let Some(c) = rest.chars().next() else {
            return err(start - 1, "unclosed string literal");
        };
        if c == quote {
            if !lit.is_empty() || parts.is_empty() {
                parts.push(StrTok::Lit(lit));
            }
            return Ok((parts, pos + 1));
        }
        if !raw && rest.starts_with("${") {
            if !lit.is_empty() {
                parts.push(StrTok::Lit(std::mem::take(&mut lit)));
            }
            let (tokens, end) = lex_expr(src, pos + 2, Stop::Brace, nesting + 1)?;
            parts.push(StrTok::Interp(tokens, Span { start: pos, end }));
            pos = end;
            continue;
        }
        if !raw && c == '\\' {
            let Some(e) = rest[1..].chars().next() else {
                return err(pos, "unclosed string literal");
            };
            pos += 1 + e.len_utf8();
            lit.push(match e {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'l' => '<',
                'g' => '>',
                'a' => '&',
                '"' | '\'' | '\\' | '{' | '=' | '$' => e,
                'x' => {
                    let hex_len = src[pos..]
                        .find(|c: char| !c.is_ascii_hexdigit())
                        .unwrap_or(src.len() - pos)
                        .min(4);
                    let code = u32::from_str_radix(&src[pos..pos + hex_len], 16)
                        .ok()
                        .and_then(char::from_u32);
                    let Some(ch) = code else {
                        return err(pos, "bad \\x escape in string literal");
                    };
                    pos += hex_len;
                    ch
                }
                other => return err(pos, format!("unknown escape \\{other} in string literal")),
            });
            continue;
        }
        lit.push(c);
        pos += c.len_utf8();
    }
}
