//! Lexer and recursive-descent parser for XPath 1.0 (W3C XPath 1.0 §3, the lexical rules of §3.7),
//! resolving namespace prefixes, function names and Synapse variables while parsing so that a
//! syntax error fails at deploy time with the column of the offending token; what Jaxen only finds
//! when evaluating (unknown functions, argument counts, undeclared prefixes of name tests) compiles
//! into nodes that fail then. Recursion is bounded by
//! [`MAX_NESTING_DEPTH`] so a hostile expression cannot overflow the stack.

use super::XPathError;
use super::ast::{
    ArithOp, Axis, Call, CompareOp, Deferred, Expr, FUNCTIONS, NodeTest, Path, PathStart, Step,
    Variable,
};

/// Longest expression text accepted (bytes).
pub const MAX_EXPRESSION_LEN: usize = 64 * 1024;
/// Deepest nesting of sub-expressions (parentheses, predicates, arguments, operator chains)
/// accepted; both the parser and the evaluator recurse once per level.
pub const MAX_NESTING_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Slash,
    DoubleSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `*` as the multiply operator (§3.7 disambiguation).
    Multiply,
    And,
    Or,
    Div,
    Mod,
    Literal(String),
    Number(f64),
    /// `$qname`
    Variable(String),
    /// A name test or function/axis/node-type name: `*`, `p:*`, `name`, `p:name`.
    Name(String),
}

struct Token {
    tok: Tok,
    /// Byte offset in the expression text.
    at: usize,
}

/// Whether a token lets the next `*` / NCName be a name test rather than an operator (§3.7: "If
/// there is a preceding token and the preceding token is not one of @, ::, (, [, , or an
/// Operator, then a * must be recognized as a MultiplyOperator and an NCName must be recognized
/// as an OperatorName").
fn allows_name_after(prev: Option<&Tok>) -> bool {
    match prev {
        None => true,
        Some(t) => matches!(
            t,
            Tok::At
                | Tok::ColonColon
                | Tok::LParen
                | Tok::LBracket
                | Tok::Comma
                | Tok::Slash
                | Tok::DoubleSlash
                | Tok::Pipe
                | Tok::Plus
                | Tok::Minus
                | Tok::Eq
                | Tok::Ne
                | Tok::Lt
                | Tok::Le
                | Tok::Gt
                | Tok::Ge
                | Tok::Multiply
                | Tok::And
                | Tok::Or
                | Tok::Div
                | Tok::Mod
        ),
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_numeric() || c == '-' || c == '.' || c == '\u{B7}'
}

/// XPath's whitespace (S production).
fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(crate) fn column_of(text: &str, byte_offset: usize) -> usize {
    text.get(..byte_offset)
        .map_or(byte_offset, |prefix| prefix.chars().count())
        + 1
}

fn error_at(text: &str, at: usize, message: String) -> XPathError {
    XPathError::new(message, Some(column_of(text, at)), text)
}

fn lex(text: &str) -> Result<Vec<Token>, XPathError> {
    let mut tokens: Vec<Token> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if is_xml_space(c) {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let prev = tokens.last().map(|t| &t.tok);
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '[' => (Tok::LBracket, 1),
            ']' => (Tok::RBracket, 1),
            '@' => (Tok::At, 1),
            ',' => (Tok::Comma, 1),
            '|' => (Tok::Pipe, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '=' => (Tok::Eq, 1),
            '!' if next == Some('=') => (Tok::Ne, 2),
            '<' if next == Some('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '/' if next == Some('/') => (Tok::DoubleSlash, 2),
            '/' => (Tok::Slash, 1),
            ':' if next == Some(':') => (Tok::ColonColon, 2),
            '.' if next == Some('.') => (Tok::DotDot, 2),
            '.' if next.is_some_and(|c| c.is_ascii_digit()) => lex_number(&chars, i)?,
            '.' => (Tok::Dot, 1),
            '*' if allows_name_after(prev) => (Tok::Name("*".to_string()), 1),
            '*' => (Tok::Multiply, 1),
            '0'..='9' => lex_number(&chars, i)?,
            '"' | '\'' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].1 != c {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(error_at(
                        text,
                        at,
                        "unterminated string literal".to_string(),
                    ));
                }
                let literal: String = chars[i + 1..j].iter().map(|&(_, c)| c).collect();
                (Tok::Literal(literal), j + 1 - i)
            }
            '$' => {
                let (name, len) = lex_qname(&chars, i + 1);
                if len == 0 || name.ends_with(":*") || name == "*" {
                    return Err(error_at(
                        text,
                        at,
                        "expected a variable name after '$'".to_string(),
                    ));
                }
                (Tok::Variable(name), len + 1)
            }
            c if is_name_start(c) => {
                let (name, len) = lex_qname(&chars, i);
                let tok = if allows_name_after(prev) {
                    Tok::Name(name)
                } else {
                    match name.as_str() {
                        "and" => Tok::And,
                        "or" => Tok::Or,
                        "div" => Tok::Div,
                        "mod" => Tok::Mod,
                        _ => {
                            return Err(error_at(
                                text,
                                at,
                                format!(
                                    "expected an operator (and, or, div, mod, *, +, -, =, |, ...) but found '{name}'"
                                ),
                            ));
                        }
                    }
                };
                (tok, len)
            }
            other => {
                return Err(error_at(
                    text,
                    at,
                    format!("unexpected character '{other}'"),
                ));
            }
        };
        tokens.push(Token { tok, at });
        i += len;
    }
    Ok(tokens)
}

/// `Digits ('.' Digits?)? | '.' Digits`; returns the token and its length in chars.
fn lex_number(chars: &[(usize, char)], start: usize) -> Result<(Tok, usize), XPathError> {
    let mut j = start;
    let mut digits = String::new();
    let mut seen_dot = false;
    while let Some(&(_, c)) = chars.get(j) {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if c == '.' && !seen_dot && chars.get(j + 1).map(|&(_, c)| c) != Some('.') {
            seen_dot = true;
            digits.push('.');
        } else {
            break;
        }
        j += 1;
    }
    // Every string this loop builds is a valid Rust float literal ("1", "1.", ".5").
    let value = digits.parse::<f64>().unwrap_or(f64::NAN);
    Ok((Tok::Number(value), j - start))
}

/// A QName or `prefix:*` starting at `start`; returns it and its length in chars (0 if none).
fn lex_qname(chars: &[(usize, char)], start: usize) -> (String, usize) {
    let mut name = String::new();
    let mut j = start;
    match chars.get(j) {
        Some(&(_, c)) if is_name_start(c) => {}
        _ => return (name, 0),
    }
    while let Some(&(_, c)) = chars.get(j) {
        if !is_name_char(c) {
            break;
        }
        name.push(c);
        j += 1;
    }
    // `p:local` or `p:*`, but not `axis::`.
    if chars.get(j).map(|&(_, c)| c) == Some(':') {
        match chars.get(j + 1).map(|&(_, c)| c) {
            Some('*') => {
                name.push_str(":*");
                j += 2;
            }
            Some(c) if is_name_start(c) => {
                name.push(':');
                j += 1;
                while let Some(&(_, c)) = chars.get(j) {
                    if !is_name_char(c) {
                        break;
                    }
                    name.push(c);
                    j += 1;
                }
            }
            _ => {}
        }
    }
    (name, j - start)
}

/// Parses `text` with `namespaces` (prefix -> URI) in scope.
pub(crate) fn parse(text: &str, namespaces: &[(String, String)]) -> Result<Expr, XPathError> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(XPathError::new(
            format!(
                "expression is {} bytes long; the limit is {MAX_EXPRESSION_LEN}",
                text.len()
            ),
            None,
            text,
        ));
    }
    let tokens = lex(text)?;
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        depth: 0,
        last_depth: 0,
        namespaces,
    };
    if parser.tokens.is_empty() {
        return Err(XPathError::new(
            "empty expression".to_string(),
            Some(1),
            text,
        ));
    }
    let expr = parser.parse_expr()?;
    if let Some(token) = parser.tokens.get(parser.pos) {
        return Err(parser.error_at_token(token, "unexpected"));
    }
    Ok(expr)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current recursion depth of the parser.
    depth: usize,
    /// Depth of the expression tree most recently built.
    last_depth: usize,
    namespaces: &'t [(String, String)],
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::Dot => "'.'".into(),
        Tok::DotDot => "'..'".into(),
        Tok::At => "'@'".into(),
        Tok::Comma => "','".into(),
        Tok::ColonColon => "'::'".into(),
        Tok::Slash => "'/'".into(),
        Tok::DoubleSlash => "'//'".into(),
        Tok::Pipe => "'|'".into(),
        Tok::Plus => "'+'".into(),
        Tok::Minus => "'-'".into(),
        Tok::Eq => "'='".into(),
        Tok::Ne => "'!='".into(),
        Tok::Lt => "'<'".into(),
        Tok::Le => "'<='".into(),
        Tok::Gt => "'>'".into(),
        Tok::Ge => "'>='".into(),
        Tok::Multiply => "'*'".into(),
        Tok::And => "'and'".into(),
        Tok::Or => "'or'".into(),
        Tok::Div => "'div'".into(),
        Tok::Mod => "'mod'".into(),
        Tok::Literal(s) => format!("string '{s}'"),
        Tok::Number(n) => format!("number {n}"),
        Tok::Variable(v) => format!("variable ${v}"),
        Tok::Name(n) => format!("'{n}'"),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + offset).map(|t| &t.tok)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.text.len(), |t| t.at)
    }

    fn error_at_token(&self, token: &Token, what: &str) -> XPathError {
        error_at(
            self.text,
            token.at,
            format!("{what} {}", describe(&token.tok)),
        )
    }

    fn error_here(&self, expected: &str) -> XPathError {
        match self.tokens.get(self.pos) {
            Some(token) => error_at(
                self.text,
                token.at,
                format!("expected {expected} but found {}", describe(&token.tok)),
            ),
            None => error_at(
                self.text,
                self.text.len(),
                format!("expected {expected} but the expression ended"),
            ),
        }
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), XPathError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.error_here(&describe(tok)))
        }
    }

    fn enter(&mut self) -> Result<(), XPathError> {
        self.depth += 1;
        if self.depth > MAX_NESTING_DEPTH {
            return Err(error_at(
                self.text,
                self.at(),
                format!("expression nests deeper than {MAX_NESTING_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// Records the depth of the tree just built, refusing trees deeper than the limit (the
    /// evaluator and `Drop` recurse once per level).
    fn finish(&mut self, expr: Expr, depth: usize) -> Result<Expr, XPathError> {
        if depth > MAX_NESTING_DEPTH {
            return Err(error_at(
                self.text,
                self.at(),
                format!("expression nests deeper than {MAX_NESTING_DEPTH} levels"),
            ));
        }
        self.last_depth = depth;
        Ok(expr)
    }

    fn parse_expr(&mut self) -> Result<Expr, XPathError> {
        self.enter()?;
        let result = self.parse_or();
        self.depth -= 1;
        result
    }

    fn parse_or(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_and()?;
        let mut depth = self.last_depth;
        while self.eat(&Tok::Or) {
            let right = self.parse_and()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::Or(Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_equality()?;
        let mut depth = self.last_depth;
        while self.eat(&Tok::And) {
            let right = self.parse_equality()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::And(Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    fn parse_equality(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_relational()?;
        let mut depth = self.last_depth;
        loop {
            let op = match self.peek() {
                Some(Tok::Eq) => CompareOp::Eq,
                Some(Tok::Ne) => CompareOp::Ne,
                _ => break,
            };
            self.pos += 1;
            let right = self.parse_relational()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::Compare(op, Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    fn parse_relational(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_additive()?;
        let mut depth = self.last_depth;
        loop {
            let op = match self.peek() {
                Some(Tok::Lt) => CompareOp::Lt,
                Some(Tok::Le) => CompareOp::Le,
                Some(Tok::Gt) => CompareOp::Gt,
                Some(Tok::Ge) => CompareOp::Ge,
                _ => break,
            };
            self.pos += 1;
            let right = self.parse_additive()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::Compare(op, Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    fn parse_additive(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_multiplicative()?;
        let mut depth = self.last_depth;
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => ArithOp::Add,
                Some(Tok::Minus) => ArithOp::Sub,
                _ => break,
            };
            self.pos += 1;
            let right = self.parse_multiplicative()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::Arith(op, Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    fn parse_multiplicative(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_unary()?;
        let mut depth = self.last_depth;
        loop {
            let op = match self.peek() {
                Some(Tok::Multiply) => ArithOp::Mul,
                Some(Tok::Div) => ArithOp::Div,
                Some(Tok::Mod) => ArithOp::Mod,
                _ => break,
            };
            self.pos += 1;
            let right = self.parse_unary()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::Arith(op, Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Expr, XPathError> {
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let operand = self.parse_unary();
            self.depth -= 1;
            let operand = operand?;
            let depth = 1 + self.last_depth;
            return self.finish(Expr::Negate(Box::new(operand)), depth);
        }
        self.parse_union()
    }

    fn parse_union(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.parse_path()?;
        let mut depth = self.last_depth;
        while self.eat(&Tok::Pipe) {
            let right = self.parse_path()?;
            depth = 1 + depth.max(self.last_depth);
            left = self.finish(Expr::Union(Box::new(left), Box::new(right)), depth)?;
        }
        self.last_depth = depth;
        Ok(left)
    }

    /// PathExpr: a location path, or a filter expression optionally followed by `/` steps.
    fn parse_path(&mut self) -> Result<Expr, XPathError> {
        let starts_filter = match self.peek() {
            Some(Tok::Variable(_) | Tok::LParen | Tok::Literal(_) | Tok::Number(_)) => true,
            Some(Tok::Name(name)) => {
                self.peek_at(1) == Some(&Tok::LParen)
                    && !matches!(
                        name.as_str(),
                        "node" | "text" | "comment" | "processing-instruction"
                    )
            }
            _ => false,
        };
        if !starts_filter {
            return self.parse_location_path();
        }
        let primary = self.parse_primary()?;
        let mut depth = self.last_depth;
        let mut predicates = Vec::new();
        let mut predicate_depth = 0;
        while self.peek() == Some(&Tok::LBracket) {
            predicates.push(self.parse_predicate()?);
            predicate_depth = predicate_depth.max(self.last_depth);
        }
        let filter = if predicates.is_empty() {
            primary
        } else {
            depth = 1 + depth.max(predicate_depth);
            self.finish(Expr::Filter(Box::new(primary), predicates), depth)?
        };
        let mut steps = Vec::new();
        let steps_depth = match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                self.parse_relative_steps(&mut steps)?
            }
            Some(Tok::DoubleSlash) => {
                self.pos += 1;
                steps.push(descendant_or_self_step());
                self.parse_relative_steps(&mut steps)?
            }
            _ => {
                self.last_depth = depth;
                return Ok(filter);
            }
        };
        let path = Expr::Path(Path {
            start: PathStart::Expr(Box::new(filter)),
            steps,
        });
        self.finish(path, 1 + depth.max(steps_depth))
    }

    fn parse_location_path(&mut self) -> Result<Expr, XPathError> {
        let mut steps = Vec::new();
        let (start, steps_depth) = match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                let depth = if self.starts_step() {
                    self.parse_relative_steps(&mut steps)?
                } else {
                    0
                };
                (PathStart::Root, depth)
            }
            Some(Tok::DoubleSlash) => {
                self.pos += 1;
                steps.push(descendant_or_self_step());
                (PathStart::Root, self.parse_relative_steps(&mut steps)?)
            }
            _ => {
                if !self.starts_step() {
                    return Err(self.error_here("an expression"));
                }
                (PathStart::Context, self.parse_relative_steps(&mut steps)?)
            }
        };
        self.finish(Expr::Path(Path { start, steps }), 1 + steps_depth)
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Name(_) | Tok::At | Tok::Dot | Tok::DotDot)
        )
    }

    /// Parses steps into `steps`; returns the depth of the deepest predicate.
    fn parse_relative_steps(&mut self, steps: &mut Vec<Step>) -> Result<usize, XPathError> {
        let mut depth = 0;
        loop {
            let (step, predicate_depth) = self.parse_step()?;
            steps.push(step);
            depth = depth.max(predicate_depth);
            match self.peek() {
                Some(Tok::Slash) => self.pos += 1,
                Some(Tok::DoubleSlash) => {
                    self.pos += 1;
                    steps.push(descendant_or_self_step());
                }
                _ => return Ok(depth),
            }
        }
    }

    /// One step and the depth of its deepest predicate.
    fn parse_step(&mut self) -> Result<(Step, usize), XPathError> {
        if self.eat(&Tok::Dot) {
            let step = Step {
                axis: Axis::SelfNode,
                test: NodeTest::Node,
                predicates: Vec::new(),
            };
            return Ok((step, 0));
        }
        if self.eat(&Tok::DotDot) {
            let step = Step {
                axis: Axis::Parent,
                test: NodeTest::Node,
                predicates: Vec::new(),
            };
            return Ok((step, 0));
        }
        let axis = if self.eat(&Tok::At) {
            Axis::Attribute
        } else if let (Some(Tok::Name(name)), Some(Tok::ColonColon)) =
            (self.peek(), self.peek_at(1))
        {
            let axis = Axis::from_name(name)
                .ok_or_else(|| error_at(self.text, self.at(), format!("unknown axis '{name}'")))?;
            self.pos += 2;
            axis
        } else {
            Axis::Child
        };
        let test = self.parse_node_test()?;
        let mut predicates = Vec::new();
        let mut depth = 0;
        while self.peek() == Some(&Tok::LBracket) {
            predicates.push(self.parse_predicate()?);
            depth = depth.max(self.last_depth);
        }
        let step = Step {
            axis,
            test,
            predicates,
        };
        Ok((step, depth))
    }

    fn parse_node_test(&mut self) -> Result<NodeTest, XPathError> {
        let at = self.at();
        let name = match self.peek() {
            Some(Tok::Name(name)) => name.clone(),
            _ => return Err(self.error_here("a node test (a name, *, node(), text(), ...)")),
        };
        self.pos += 1;
        if self.peek() == Some(&Tok::LParen) {
            let test = match name.as_str() {
                "node" => NodeTest::Node,
                "text" => NodeTest::Text,
                "comment" => NodeTest::Comment,
                "processing-instruction" => {
                    self.pos += 1;
                    let target = match self.peek() {
                        Some(Tok::Literal(s)) => {
                            let s = s.clone();
                            self.pos += 1;
                            Some(s)
                        }
                        _ => None,
                    };
                    self.expect(&Tok::RParen)?;
                    return Ok(NodeTest::ProcessingInstruction(target));
                }
                _ => {
                    return Err(error_at(
                        self.text,
                        at,
                        format!("a function call {name}() cannot be used as a location step"),
                    ));
                }
            };
            self.pos += 1;
            self.expect(&Tok::RParen)?;
            return Ok(test);
        }
        if name == "*" {
            return Ok(NodeTest::AnyName);
        }
        match name.split_once(':') {
            Some((prefix, local)) => {
                let Some(uri) = self.resolve_prefix(prefix) else {
                    return Ok(NodeTest::Unresolved {
                        prefix: prefix.to_string(),
                        column: column_of(self.text, at),
                    });
                };
                if local == "*" {
                    Ok(NodeTest::AnyInNamespace(uri))
                } else {
                    Ok(NodeTest::Name {
                        namespace: Some(uri),
                        local: local.to_string(),
                    })
                }
            }
            None => Ok(NodeTest::Name {
                namespace: None,
                local: name,
            }),
        }
    }

    fn resolve_prefix(&self, prefix: &str) -> Option<String> {
        if prefix == "xml" {
            return Some("http://www.w3.org/XML/1998/namespace".to_string());
        }
        self.namespaces
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, uri)| uri.clone())
    }

    fn parse_predicate(&mut self) -> Result<Expr, XPathError> {
        self.expect(&Tok::LBracket)?;
        let expr = self.parse_expr()?;
        self.expect(&Tok::RBracket)?;
        Ok(expr)
    }

    fn parse_primary(&mut self) -> Result<Expr, XPathError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error_here("an expression"));
        };
        match tok {
            Tok::Variable(name) => {
                self.pos += 1;
                let variable = self.resolve_variable(&name, at)?;
                self.finish(Expr::Variable(variable), 1)
            }
            Tok::LParen => {
                self.pos += 1;
                let expr = self.parse_expr()?;
                self.expect(&Tok::RParen)?;
                Ok(expr)
            }
            Tok::Literal(s) => {
                self.pos += 1;
                self.finish(Expr::Literal(s), 1)
            }
            Tok::Number(n) => {
                self.pos += 1;
                self.finish(Expr::Number(n), 1)
            }
            Tok::Name(name) => self.parse_call(&name, at),
            _ => Err(self.error_here("an expression")),
        }
    }

    /// A function call. The name is looked up here, but as Jaxen resolves functions and checks
    /// argument counts only when evaluating (see [`Expr::Deferred`]), an unknown function or a
    /// wrong argument count compiles into a node that fails at evaluation; only Synapse's
    /// key-store functions, which MI has and Conflux does not, are refused at deploy time.
    fn parse_call(&mut self, name: &str, at: usize) -> Result<Expr, XPathError> {
        let (prefix, local) = match name.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, name),
        };
        if prefix.is_none() && matches!(local, "hmac-generate" | "encrypt" | "decrypt") {
            return Err(error_at(
                self.text,
                at,
                format!(
                    "function {name}() is not supported (Synapse's key-store functions are not implemented)"
                ),
            ));
        }
        self.pos += 1; // the name
        self.expect(&Tok::LParen)?;
        let mut args = Vec::new();
        let mut depth = 0;
        if !self.eat(&Tok::RParen) {
            loop {
                args.push(self.parse_expr()?);
                depth = depth.max(self.last_depth);
                if self.eat(&Tok::Comma) {
                    continue;
                }
                self.expect(&Tok::RParen)?;
                break;
            }
        }
        let column = column_of(self.text, at);
        let entry = FUNCTIONS.iter().find(|(n, ..)| *n == local);
        let (function, min, max) = match entry {
            // `fn:` is XPath 2.0's function namespace, which MI reaches through its Saxon
            // fallback; its functions that XPath 1.0 (or Jaxen) also has behave the same for the
            // arguments Synapse configurations pass, so `fn:concat(...)` runs as `concat(...)`.
            Some(&(_, super::ast::Function::VaultLookup, min, max)) if prefix == Some("wso2") => {
                (super::ast::Function::VaultLookup, min, max)
            }
            Some(&(_, f, min, max))
                if f != super::ast::Function::VaultLookup
                    && (prefix.is_none() || prefix == Some("fn") || f.is_synapse()) =>
            {
                (f, min, max)
            }
            _ => {
                let hint = if prefix.is_some_and(|p| p != "fn") {
                    " (of the prefixed functions only XPath 2.0's fn: functions are known)"
                } else {
                    ""
                };
                return self.finish(
                    Expr::Deferred(Deferred {
                        message: format!("unknown function {name}(){hint}"),
                        column,
                    }),
                    1,
                );
            }
        };
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return self.finish(
                Expr::Deferred(Deferred {
                    message: format!(
                        "{name}() takes {expected} argument(s) but was given {}",
                        args.len()
                    ),
                    column,
                }),
                1,
            );
        }
        let call = Expr::Call(Call {
            function,
            args,
            column,
        });
        self.finish(call, 1 + depth)
    }

    /// SynapseXPathVariableContext.getVariableValue: `$body`, `$header`, `$env` without prefix;
    /// with a prefix, `ctx` (default scope), `axis2`, `trp` (transport headers), `url` (query
    /// parameters), `func` (template parameters), `operation`, `sys` (Java system properties),
    /// `var`, and any other prefix names a map-valued property (passed through as the scope).
    fn resolve_variable(&self, name: &str, at: usize) -> Result<Variable, XPathError> {
        match name.split_once(':') {
            None => match name {
                "body" => Ok(Variable::Body),
                "header" => Ok(Variable::Header),
                "env" => Ok(Variable::Envelope),
                _ => Err(error_at(
                    self.text,
                    at,
                    format!(
                        "unknown variable ${name} (known: $body, $header, $env, $ctx:name, $axis2:name, $trp:name, $url:name, $func:name)"
                    ),
                )),
            },
            Some((prefix, local)) => {
                let scope = match prefix {
                    "ctx" => "default",
                    "axis2" => "axis2",
                    "trp" => "transport",
                    "url" => "url",
                    "func" => "func",
                    "operation" => "operation",
                    "sys" => "system",
                    other => other,
                };
                Ok(Variable::Property {
                    scope: scope.to_string(),
                    name: local.to_string(),
                })
            }
        }
    }
}

fn descendant_or_self_step() -> Step {
    Step {
        axis: Axis::DescendantOrSelf,
        test: NodeTest::Node,
        predicates: Vec::new(),
    }
}
