//! Builds the [`Node`] tree of a template from the lexer's pieces: FreeMarker's white-space
//! stripping (a line holding only directive tags and comments loses its indentation and line
//! break), the directive structure, and the expression grammar with FreeMarker's precedence
//! (`||` < `&&` < `==` < `<` < `..` < `+` < `*` < unary < `!`/`??` < `.`/`[]`/`?`).

use super::ast::{BinOp, Expr, ExprKind, Node, RangeEnd, Span, StrPart};
use super::builtins;
use super::lexer::{Piece, StrTok, Tok, Token};
use super::{CompileError, MAX_EXPRESSION_DEPTH, MAX_NESTING};

/// What the `<#ftl>` header set.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// `ns_prefixes`: prefix -> namespace URI; `D` is the default namespace.
    pub ns_prefixes: Vec<(String, String)>,
}

/// The directives Conflux implements, for the message refusing any other.
const SUPPORTED: &str = "if/elseif/else, list/else/sep/break, assign, switch/case/default/break, ftl, noparse and <#-- comments -->";

pub struct Parser<'s> {
    src: &'s str,
    items: Vec<Item>,
    idx: usize,
    depth: usize,
    pub header: Header,
}

/// A piece after white-space stripping: text is owned (it may have been cut at line breaks).
#[derive(Debug)]
enum Item {
    Text(String),
    Piece(Piece),
}

type Result<T> = std::result::Result<T, CompileError>;

impl<'s> Parser<'s> {
    pub fn new(src: &'s str, pieces: Vec<Piece>) -> Result<Self> {
        let mut p = Parser {
            src,
            items: Vec::new(),
            idx: 0,
            depth: 0,
            header: Header::default(),
        };
        let mut pieces = pieces;
        let mut strip = true;
        // `<#ftl>` must come first (only white space before it).
        let first_tag = pieces.iter().position(|pc| match pc {
            Piece::Text(s) => !src[s.start..s.end].trim().is_empty(),
            _ => true,
        });
        if let Some(i) = first_tag
            && let Piece::Open { name, .. } = &pieces[i]
            && name == "ftl"
        {
            let Piece::Open { tokens, span, .. } = pieces.remove(i) else {
                unreachable!("matched above")
            };
            strip = p.ftl_header(&tokens, span)?;
            // The header's own line goes with it.
            pieces.drain(..i);
            if let Some(Piece::Text(s)) = pieces.first_mut() {
                let text = &src[s.start..s.end];
                if let Some(nl) = text.find('\n')
                    && text[..nl].trim().is_empty()
                {
                    s.start += nl + 1;
                }
            }
        }
        p.items = if strip {
            strip_whitespace(src, pieces)
        } else {
            pieces
                .into_iter()
                .map(|pc| match pc {
                    Piece::Text(s) => Item::Text(src[s.start..s.end].to_string()),
                    other => Item::Piece(other),
                })
                .collect()
        };
        Ok(p)
    }

    fn error(&self, at: usize, message: impl Into<String>) -> CompileError {
        CompileError::at(self.src, at, message.into())
    }

    /// `<#ftl ns_prefixes={...} strip_whitespace=...>`; returns whether to strip white space.
    fn ftl_header(&mut self, tokens: &[Token], span: Span) -> Result<bool> {
        let mut strip = true;
        let mut i = 0;
        while i < tokens.len() {
            let Tok::Ident(name) = &tokens[i].tok else {
                return Err(self.error(tokens[i].span.start, "expected a <#ftl> parameter name"));
            };
            if !matches!(tokens.get(i + 1).map(|t| &t.tok), Some(Tok::Punct("="))) {
                return Err(self.error(tokens[i].span.end, "expected '=' after the parameter"));
            }
            let mut ts = TokenStream::new(self, &tokens[i + 2..], span.end);
            let value = ts.parse_unary()?;
            let used = ts.pos;
            match name.as_str() {
                "ns_prefixes" | "nsPrefixes" => {
                    let ExprKind::Hash(entries) = &value.kind else {
                        return Err(
                            self.error(value.span.start, "ns_prefixes must be a hash literal")
                        );
                    };
                    for (k, v) in entries {
                        match (&k.kind, &v.kind) {
                            (ExprKind::Str(k), ExprKind::Str(v)) => {
                                self.header.ns_prefixes.push((k.clone(), v.clone()))
                            }
                            _ => {
                                return Err(self.error(
                                    k.span.start,
                                    "ns_prefixes entries must be string literals",
                                ));
                            }
                        }
                    }
                }
                "strip_whitespace" | "stripWhitespace" => {
                    strip = !matches!(value.kind, ExprKind::Bool(false));
                }
                // The template is a string in the artifact: its encoding is the artifact's.
                "encoding" => {}
                other => {
                    return Err(self.error(
                        tokens[i].span.start,
                        format!(
                            "<#ftl {other}=...> is not supported (supported: ns_prefixes, strip_whitespace, encoding); \
                             MI's templates have no output format, so nothing is escaped automatically"
                        ),
                    ));
                }
            }
            i += 2 + used;
        }
        Ok(strip)
    }

    /// The whole template.
    pub fn parse(&mut self) -> Result<Vec<Node>> {
        let nodes = self.block(&[])?;
        if let Some(Item::Piece(pc)) = self.items.get(self.idx) {
            let (name, at) = piece_name(pc);
            return Err(self.error(at, format!("unexpected {name}")));
        }
        Ok(nodes)
    }

    /// Nodes up to (not including) a piece named in `stops` (`"else"`, `"/if"`...).
    fn block(&mut self, stops: &[&str]) -> Result<Vec<Node>> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let at = self.position();
            return Err(self.error(
                at,
                format!("directives are nested more than {MAX_NESTING} deep"),
            ));
        }
        let mut nodes = Vec::new();
        while self.idx < self.items.len() {
            if let Item::Piece(pc) = &self.items[self.idx]
                && stops.contains(&piece_name(pc).0.as_str())
            {
                break;
            }
            let item = std::mem::replace(&mut self.items[self.idx], Item::Text(String::new()));
            self.idx += 1;
            match item {
                Item::Text(t) => {
                    if !t.is_empty() {
                        nodes.push(Node::Text(t));
                    }
                }
                Item::Piece(Piece::Text(_) | Piece::Comment) => {}
                Item::Piece(Piece::Interp { tokens, span }) => {
                    let expr = self.expr(&tokens, span.end)?;
                    nodes.push(Node::Interpolation(expr));
                }
                Item::Piece(Piece::Close { name, span }) => {
                    return Err(self.error(span.start, format!("unexpected </#{name}>")));
                }
                Item::Piece(Piece::Open { name, tokens, span }) => {
                    nodes.push(self.directive(&name, &tokens, span)?);
                }
            }
        }
        self.depth -= 1;
        Ok(nodes)
    }

    fn position(&self) -> usize {
        match self.items.get(self.idx) {
            Some(Item::Piece(pc)) => piece_name(pc).1,
            _ => self.src.len(),
        }
    }

    /// Consumes the piece at the cursor, which `block` stopped at, and returns its name.
    fn take_stop(&mut self, open: &str, at: usize) -> Result<(String, Vec<Token>, Span)> {
        match self.items.get_mut(self.idx) {
            Some(Item::Piece(pc)) => {
                let taken = std::mem::replace(pc, Piece::Comment);
                self.idx += 1;
                Ok(match taken {
                    Piece::Open { name, tokens, span } => (name, tokens, span),
                    Piece::Close { name, span } => (format!("/{name}"), Vec::new(), span),
                    _ => unreachable!("block stops only at tags"),
                })
            }
            _ => Err(self.error(at, format!("<#{open}> is not closed (missing </#{open}>)"))),
        }
    }

    fn no_params(&self, name: &str, tokens: &[Token], _span: Span) -> Result<()> {
        match tokens.first() {
            Some(t) => Err(self.error(t.span.start, format!("<#{name}> takes no parameters"))),
            None => Ok(()),
        }
    }

    fn directive(&mut self, name: &str, tokens: &[Token], span: Span) -> Result<Node> {
        match name {
            "if" => {
                let mut branches = vec![(self.expr(tokens, span.end)?, Vec::new())];
                let mut otherwise = None;
                loop {
                    let body = self.block(&["elseif", "else", "/if"])?;
                    match &mut otherwise {
                        None => branches.last_mut().expect("one branch").1 = body,
                        Some(o) => *o = body,
                    }
                    let (stop, tokens, s) = self.take_stop("if", span.start)?;
                    match stop.as_str() {
                        "/if" => break,
                        "elseif" if otherwise.is_none() => {
                            branches.push((self.expr(&tokens, s.end)?, Vec::new()))
                        }
                        "else" if otherwise.is_none() => {
                            self.no_params("else", &tokens, s)?;
                            otherwise = Some(Vec::new());
                        }
                        _ => return Err(self.error(s.start, format!("<#{stop}> after <#else>"))),
                    }
                }
                Ok(Node::If {
                    branches,
                    otherwise,
                })
            }
            "list" => {
                let as_at = tokens
                    .iter()
                    .rposition(|t| t.tok == Tok::Ident("as".into()))
                    .ok_or_else(|| {
                        self.error(span.start, "<#list> needs 'as': <#list sequence as item>")
                    })?;
                let source = self.expr(&tokens[..as_at], tokens[as_at].span.start)?;
                let names: Vec<&Token> = tokens[as_at + 1..].iter().collect();
                let ident = |t: Option<&&Token>| match t.map(|t| &t.tok) {
                    Some(Tok::Ident(n)) => Some(n.clone()),
                    _ => None,
                };
                let (var, value_var) = match names.len() {
                    1 => (ident(names.first()), None),
                    3 if names[1].tok == Tok::Punct(",") => {
                        (ident(names.first()), ident(names.get(2)))
                    }
                    _ => (None, None),
                };
                let Some(var) = var.filter(|_| names.len() == 1 || value_var.is_some()) else {
                    return Err(self.error(
                        tokens[as_at].span.end,
                        "expected the loop variable name after 'as' (or 'key, value' for a hash)",
                    ));
                };
                let body = self.block(&["else", "/list", "items"])?;
                let (stop, t, s) = self.take_stop("list", span.start)?;
                let otherwise = match stop.as_str() {
                    "/list" => None,
                    "else" => {
                        self.no_params("else", &t, s)?;
                        let o = self.block(&["/list"])?;
                        self.take_stop("list", span.start)?;
                        Some(o)
                    }
                    _ => {
                        return Err(self.error(
                            s.start,
                            "<#items> is not supported: write <#list sequence as item>",
                        ));
                    }
                };
                Ok(Node::List {
                    source,
                    var,
                    value_var,
                    body,
                    otherwise,
                })
            }
            "sep" => {
                self.no_params("sep", tokens, span)?;
                // Without </#sep> it runs to the end of the enclosing list body.
                let body = self.block(&["/sep", "else", "/list"])?;
                if let Some(Item::Piece(Piece::Close { name, .. })) = self.items.get(self.idx)
                    && name == "sep"
                {
                    self.idx += 1;
                }
                Ok(Node::Sep(body))
            }
            "assign" => {
                let mut assigns = Vec::new();
                let mut i = 0;
                while i < tokens.len() {
                    let name = match &tokens[i].tok {
                        Tok::Ident(n) => n.clone(),
                        Tok::Str(parts) => match parts.as_slice() {
                            [StrTok::Lit(n)] => n.clone(),
                            _ => return Err(self.error(tokens[i].span.start, "bad variable name")),
                        },
                        _ => {
                            return Err(self.error(
                                tokens[i].span.start,
                                "expected a variable name in <#assign>",
                            ));
                        }
                    };
                    if tokens.get(i + 1).map(|t| &t.tok) != Some(&Tok::Punct("=")) {
                        return Err(self.error(
                            tokens[i].span.end,
                            "expected '=' in <#assign> (only name = value is supported; no capture form, +=, ++)",
                        ));
                    }
                    let mut ts = TokenStream::new(self, &tokens[i + 2..], span.end);
                    let value = ts.parse_expr()?;
                    i += 2 + ts.pos;
                    if matches!(tokens.get(i).map(|t| &t.tok), Some(Tok::Punct(","))) {
                        i += 1;
                    }
                    assigns.push((name, value));
                }
                if assigns.is_empty() {
                    return Err(self.error(span.start, "<#assign> needs name = value"));
                }
                Ok(Node::Assign(assigns))
            }
            "switch" => {
                let value = self.expr(tokens, span.end)?;
                let leading = self.block(&["case", "default", "/switch"])?;
                if leading
                    .iter()
                    .any(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()))
                {
                    return Err(
                        self.error(span.end, "only <#case> or <#default> may follow <#switch>")
                    );
                }
                let mut cases = Vec::new();
                loop {
                    let (stop, t, s) = self.take_stop("switch", span.start)?;
                    let cond = match stop.as_str() {
                        "/switch" => break,
                        "case" => Some(self.expr(&t, s.end)?),
                        _ => {
                            self.no_params("default", &t, s)?;
                            None
                        }
                    };
                    let body = self.block(&["case", "default", "/switch"])?;
                    cases.push((cond, body));
                }
                Ok(Node::Switch { value, cases })
            }
            "break" => {
                self.no_params("break", tokens, span)?;
                Ok(Node::Break)
            }
            "ftl" => Err(self.error(span.start, "<#ftl> must be the first thing in the template")),
            "else" | "elseif" | "case" | "default" | "items" => {
                Err(self.error(span.start, format!("<#{name}> outside its directive")))
            }
            other => Err(self.error(
                span.start,
                format!("<#{other}> is not supported (supported: {SUPPORTED})"),
            )),
        }
    }

    /// A whole token list as one expression; `end` is where the enclosing piece ends.
    fn expr(&self, tokens: &[Token], end: usize) -> Result<Expr> {
        let mut ts = TokenStream::new(self, tokens, end);
        let e = ts.parse_expr()?;
        if let Some(t) = tokens.get(ts.pos) {
            return Err(self.error(t.span.start, "unexpected token after the expression"));
        }
        Ok(e)
    }
}

fn piece_name(pc: &Piece) -> (String, usize) {
    match pc {
        Piece::Open { name, span, .. } => (name.clone(), span.start),
        Piece::Close { name, span } => (format!("/{name}"), span.start),
        Piece::Interp { span, .. } => ("${...}".into(), span.start),
        Piece::Text(s) => ("text".into(), s.start),
        Piece::Comment => ("comment".into(), 0),
    }
}

/// FreeMarker's `strip_whitespace`: in a line holding only directive tags, comments and white
/// space, that white space and the line break go.
fn strip_whitespace(src: &str, pieces: Vec<Piece>) -> Vec<Item> {
    // Text cut into fragments that end at a line break, so that lines can be judged.
    let mut items: Vec<Item> = Vec::new();
    for pc in pieces {
        match pc {
            Piece::Text(s) => {
                let text = &src[s.start..s.end];
                let mut rest = text;
                while let Some(nl) = rest.find('\n') {
                    items.push(Item::Text(rest[..=nl].to_string()));
                    rest = &rest[nl + 1..];
                }
                if !rest.is_empty() {
                    items.push(Item::Text(rest.to_string()));
                }
            }
            other => items.push(Item::Piece(other)),
        }
    }
    let mut keep = vec![true; items.len()];
    let mut line_start = 0;
    for i in 0..=items.len() {
        let line_end = match items.get(i) {
            Some(Item::Text(t)) if t.ends_with('\n') => i + 1,
            None => i,
            _ => continue,
        };
        let line = &items[line_start..line_end];
        let has_tag = line.iter().any(|it| {
            matches!(
                it,
                Item::Piece(Piece::Open { .. } | Piece::Close { .. } | Piece::Comment)
            )
        });
        let only_blank = line.iter().all(|it| match it {
            Item::Text(t) => t.trim().is_empty(),
            Item::Piece(Piece::Interp { .. } | Piece::Text(_)) => false,
            Item::Piece(_) => true,
        });
        if has_tag && only_blank {
            for (k, it) in line.iter().enumerate() {
                if matches!(it, Item::Text(_)) {
                    keep[line_start + k] = false;
                }
            }
        }
        line_start = line_end;
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(it, k)| k.then_some(it))
        .collect()
}

/// Recursive descent over one expression's tokens.
struct TokenStream<'p, 's> {
    parser: &'p Parser<'s>,
    tokens: &'p [Token],
    pos: usize,
    /// Where the tokens end (for "expected ... at the end").
    end: usize,
    /// Nesting of `parse_expr` (parentheses, brackets, arguments).
    depth: usize,
    /// Nesting of prefix operators (`!!!x`).
    unary_depth: usize,
}

impl<'p, 's> TokenStream<'p, 's> {
    fn new(parser: &'p Parser<'s>, tokens: &'p [Token], end: usize) -> Self {
        TokenStream {
            parser,
            tokens,
            pos: 0,
            end,
            depth: 0,
            unary_depth: 0,
        }
    }

    fn peek(&self) -> Option<&'p Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.span.start)
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(self.end, |t| t.span.end)
    }

    fn error(&self, at: usize, message: impl Into<String>) -> CompileError {
        self.parser.error(at, message)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.error(self.at(), format!("expected '{p}'")))
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(n)) if n == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn node(&self, kind: ExprKind, start: usize) -> Expr {
        Expr {
            depth: kind.child_depth() + 1,
            kind,
            span: Span {
                start,
                end: self.prev_end(),
            },
        }
    }

    fn binary(&self, op: BinOp, l: Expr, r: Expr) -> Expr {
        let span = Span {
            start: l.span.start,
            end: r.span.end,
        };
        let kind = ExprKind::Binary(op, Box::new(l), Box::new(r));
        Expr {
            depth: kind.child_depth() + 1,
            kind,
            span,
        }
    }

    /// Fails when `e` is deeper than evaluation may recurse.
    fn bounded(&self, e: Expr) -> Result<Expr> {
        if e.depth > MAX_EXPRESSION_DEPTH {
            return Err(self.error(
                e.span.start,
                format!("the expression is more than {MAX_EXPRESSION_DEPTH} operations deep"),
            ));
        }
        Ok(e)
    }

    fn parse_expr(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(
                self.at(),
                format!("the expression is nested more than {MAX_NESTING} deep"),
            ));
        }
        let e = self.parse_or();
        self.depth -= 1;
        e
    }

    fn parse_or(&mut self) -> Result<Expr> {
        let mut l = self.parse_and()?;
        while self.eat_punct("||") {
            let r = self.parse_and()?;
            l = self.bounded(self.binary(BinOp::Or, l, r))?;
        }
        Ok(l)
    }

    fn parse_and(&mut self) -> Result<Expr> {
        let mut l = self.parse_equality()?;
        while self.eat_punct("&&") {
            let r = self.parse_equality()?;
            l = self.bounded(self.binary(BinOp::And, l, r))?;
        }
        Ok(l)
    }

    fn parse_equality(&mut self) -> Result<Expr> {
        let mut l = self.parse_relational()?;
        loop {
            let op = if self.eat_punct("==") || self.eat_punct("=") {
                BinOp::Eq
            } else if self.eat_punct("!=") {
                BinOp::Ne
            } else {
                return Ok(l);
            };
            let r = self.parse_relational()?;
            l = self.bounded(self.binary(op, l, r))?;
        }
    }

    fn parse_relational(&mut self) -> Result<Expr> {
        let l = self.parse_range()?;
        let op = if self.eat_punct("<") || self.eat_word("lt") {
            BinOp::Lt
        } else if self.eat_punct("<=") || self.eat_word("lte") {
            BinOp::Le
        } else if self.eat_punct(">") || self.eat_word("gt") {
            BinOp::Gt
        } else if self.eat_punct(">=") || self.eat_word("gte") {
            BinOp::Ge
        } else {
            return Ok(l);
        };
        let r = self.parse_range()?;
        Ok(self.binary(op, l, r))
    }

    fn parse_range(&mut self) -> Result<Expr> {
        let l = self.parse_additive()?;
        let start = l.span.start;
        let end_kind = if self.eat_punct("..") {
            RangeEnd::Inclusive
        } else if self.eat_punct("..<") || self.eat_punct("..!") {
            RangeEnd::Exclusive
        } else if self.eat_punct("..*") {
            return Err(self.error(
                self.prev_end(),
                "length-limited ranges (..*) are not supported",
            ));
        } else {
            return Ok(l);
        };
        let open_ended = matches!(self.peek(), None | Some(Tok::Punct(")" | "]" | "," | "}")));
        let r = if open_ended {
            None
        } else {
            Some(Box::new(self.parse_additive()?))
        };
        Ok(self.node(ExprKind::Range(Box::new(l), r, end_kind), start))
    }

    fn parse_additive(&mut self) -> Result<Expr> {
        let mut l = self.parse_multiplicative()?;
        loop {
            let op = if self.eat_punct("+") {
                BinOp::Add
            } else if self.eat_punct("-") {
                BinOp::Sub
            } else {
                return Ok(l);
            };
            let r = self.parse_multiplicative()?;
            l = self.bounded(self.binary(op, l, r))?;
        }
    }

    fn parse_multiplicative(&mut self) -> Result<Expr> {
        let mut l = self.parse_unary()?;
        loop {
            let op = if self.eat_punct("*") {
                BinOp::Mul
            } else if self.eat_punct("/") {
                BinOp::Div
            } else if self.eat_punct("%") {
                BinOp::Rem
            } else {
                return Ok(l);
            };
            let r = self.parse_unary()?;
            l = self.bounded(self.binary(op, l, r))?;
        }
    }

    fn parse_unary(&mut self) -> Result<Expr> {
        self.unary_depth += 1;
        if self.unary_depth > MAX_EXPRESSION_DEPTH {
            return Err(self.error(
                self.at(),
                format!("the expression is more than {MAX_EXPRESSION_DEPTH} operations deep"),
            ));
        }
        let e = self.parse_unary_inner();
        self.unary_depth -= 1;
        e.and_then(|e| self.bounded(e))
    }

    fn parse_unary_inner(&mut self) -> Result<Expr> {
        let start = self.at();
        if self.eat_punct("!") {
            let e = self.parse_unary()?;
            return Ok(self.node(ExprKind::Not(Box::new(e)), start));
        }
        if self.eat_punct("-") {
            let e = self.parse_unary()?;
            return Ok(self.node(ExprKind::Neg(Box::new(e)), start));
        }
        if self.eat_punct("+") {
            return self.parse_unary();
        }
        self.parse_default()
    }

    /// `a!`, `a!default`, `a??`.
    fn parse_default(&mut self) -> Result<Expr> {
        let start = self.at();
        let e = self.parse_postfix()?;
        if self.eat_punct("??") {
            let exists = self.node(ExprKind::Exists(Box::new(e)), start);
            // `x???c`: built-ins apply to the test's result.
            return self.parse_postfix_from(exists, start);
        }
        if self.eat_punct("!") {
            let starts_value = matches!(
                self.peek(),
                Some(Tok::Str(_) | Tok::Num(_) | Tok::Punct("(" | "[" | "{" | "-"))
            ) || matches!(self.peek(), Some(Tok::Ident(w)) if !matches!(w.as_str(), "gt" | "gte" | "lt" | "lte" | "as"));
            let default = if starts_value {
                Some(Box::new(self.parse_postfix()?))
            } else {
                None
            };
            return Ok(self.node(ExprKind::Default(Box::new(e), default), start));
        }
        Ok(e)
    }

    fn parse_postfix(&mut self) -> Result<Expr> {
        let start = self.at();
        let e = self.parse_primary()?;
        self.parse_postfix_from(e, start)
    }

    fn parse_postfix_from(&mut self, mut e: Expr, start: usize) -> Result<Expr> {
        loop {
            e = self.bounded(e)?;
            if self.eat_punct(".") {
                let name = match self.peek() {
                    Some(Tok::Ident(n)) => n.clone(),
                    Some(Tok::Punct("*")) => "*".to_string(),
                    _ => return Err(self.error(self.at(), "expected a name after '.'")),
                };
                self.pos += 1;
                e = self.node(ExprKind::Dot(Box::new(e), name), start);
            } else if self.eat_punct("[") {
                let index = self.parse_expr()?;
                self.expect_punct("]")?;
                e = self.node(ExprKind::Index(Box::new(e), Box::new(index)), start);
            } else if matches!(self.peek(), Some(Tok::Punct("?")))
                && !matches!(
                    self.tokens.get(self.pos + 1).map(|t| &t.tok),
                    Some(Tok::Punct(_))
                )
            {
                self.pos += 1;
                let Some(Tok::Ident(raw)) = self.peek() else {
                    return Err(self.error(self.at(), "expected a built-in name after '?'"));
                };
                let name_at = self.at();
                self.pos += 1;
                let name = builtins::canonical_name(raw);
                if !builtins::KNOWN.contains(&name.as_str()) {
                    return Err(self.error(
                        name_at,
                        format!(
                            "?{raw} is not a supported built-in (supported: {})",
                            builtins::KNOWN.join(", ")
                        ),
                    ));
                }
                let args = if self.eat_punct("(") {
                    let mut args = Vec::new();
                    if !self.eat_punct(")") {
                        loop {
                            args.push(self.parse_expr()?);
                            if self.eat_punct(")") {
                                break;
                            }
                            self.expect_punct(",")?;
                        }
                    }
                    Some(args)
                } else if name == "string" && self.eat_punct("[") {
                    // `n?string["0.00"]`: the old spelling of `n?string("0.00")`.
                    let format = self.parse_expr()?;
                    self.expect_punct("]")?;
                    Some(vec![format])
                } else if name == "string"
                    && matches!(self.peek(), Some(Tok::Punct(".")))
                    && let Some(Token {
                        tok: Tok::Ident(format),
                        span,
                    }) = self.tokens.get(self.pos + 1)
                {
                    // `n?string.computer`, `n?string.number`...
                    self.pos += 2;
                    Some(vec![Expr {
                        kind: ExprKind::Str(format.clone()),
                        span: *span,
                        depth: 1,
                    }])
                } else {
                    None
                };
                e = self.node(
                    ExprKind::BuiltIn {
                        target: Box::new(e),
                        name,
                        args,
                    },
                    start,
                );
            } else if matches!(self.peek(), Some(Tok::Punct("("))) {
                return Err(self.error(
                    self.at(),
                    "method and function calls are not supported (only built-ins take arguments)",
                ));
            } else {
                return Ok(e);
            }
        }
    }

    fn parse_primary(&mut self) -> Result<Expr> {
        let start = self.at();
        let Some(tok) = self.peek() else {
            return Err(self.error(self.at(), "expected an expression"));
        };
        self.pos += 1;
        let kind = match tok {
            Tok::Num(n) => ExprKind::Num(*n),
            Tok::Str(parts) => self.string(parts)?,
            Tok::Ident(w) if w == "true" => ExprKind::Bool(true),
            Tok::Ident(w) if w == "false" => ExprKind::Bool(false),
            Tok::Ident(w) if w.starts_with('@') => {
                return Err(self.error(start, format!("{w} must follow a node: node.{w}")));
            }
            Tok::Ident(w) => ExprKind::Var(w.clone()),
            Tok::Punct("(") => {
                let inner = self.parse_expr()?;
                self.expect_punct(")")?;
                ExprKind::Paren(Box::new(inner))
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                if !self.eat_punct("]") {
                    loop {
                        items.push(self.parse_expr()?);
                        if self.eat_punct("]") {
                            break;
                        }
                        self.expect_punct(",")?;
                    }
                }
                ExprKind::Seq(items)
            }
            Tok::Punct("{") => {
                let mut entries = Vec::new();
                if !self.eat_punct("}") {
                    loop {
                        let k = self.parse_expr()?;
                        self.expect_punct(":")?;
                        let v = self.parse_expr()?;
                        entries.push((k, v));
                        if self.eat_punct("}") {
                            break;
                        }
                        self.expect_punct(",")?;
                    }
                }
                ExprKind::Hash(entries)
            }
            Tok::Punct(".") => {
                return Err(self.error(
                    start,
                    "special variables (.now, .vars, ...) are not supported",
                ));
            }
            Tok::Punct(p) => return Err(self.error(start, format!("unexpected '{p}'"))),
        };
        Ok(self.node(kind, start))
    }

    fn string(&self, parts: &[StrTok]) -> Result<ExprKind> {
        if let [StrTok::Lit(s)] = parts {
            return Ok(ExprKind::Str(s.clone()));
        }
        let mut out = Vec::new();
        for part in parts {
            match part {
                StrTok::Lit(s) => out.push(StrPart::Lit(s.clone())),
                StrTok::Interp(tokens, span) => {
                    out.push(StrPart::Expr(self.parser.expr(tokens, span.end)?))
                }
            }
        }
        Ok(ExprKind::Interpolated(out))
    }
}
