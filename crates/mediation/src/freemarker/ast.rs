//! The syntax tree of a compiled FreeMarker template: directives and text ([`Node`]) and the
//! expression language ([`Expr`]). Every expression keeps the byte range of its source so that a
//! run-time error can name the expression and its line and column, as FreeMarker does
//! (`TemplateException.getBlamedExpressionString`).

/// A byte range of the template source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub enum Node {
    /// Static text, written as it is.
    Text(String),
    /// `${expr}`.
    Interpolation(Expr),
    /// `<#if>` with its `<#elseif>` branches and `<#else>`.
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    /// `<#list seq as x>` or `<#list hash as k, v>`, with `<#else>` for an empty sequence.
    List {
        source: Expr,
        /// The loop variable (the key variable when listing a hash).
        var: String,
        /// The value variable when listing a hash (`as k, v`).
        value_var: Option<String>,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    /// `<#sep>`: written by the innermost loop only when there is a next item.
    Sep(Vec<Node>),
    /// `<#assign a = expr b = expr>`.
    Assign(Vec<(String, Expr)>),
    /// `<#switch>`: the cases in order; `None` is `<#default>`. Cases fall through until `<#break>`.
    Switch {
        value: Expr,
        cases: Vec<(Option<Expr>, Vec<Node>)>,
    },
    /// `<#break>`: leaves the innermost `<#list>` or `<#switch>`.
    Break,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Height of the tree below (1 for a leaf): evaluation recurses this deep, so the parser
    /// bounds it ([`super::MAX_EXPRESSION_DEPTH`]).
    pub depth: usize,
}

impl ExprKind {
    /// The deepest direct child's depth.
    pub fn child_depth(&self) -> usize {
        let d = |e: &Expr| e.depth;
        match self {
            ExprKind::Str(_) | ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Var(_) => 0,
            ExprKind::Interpolated(parts) => parts
                .iter()
                .map(|p| match p {
                    StrPart::Lit(_) => 0,
                    StrPart::Expr(e) => e.depth,
                })
                .max()
                .unwrap_or(0),
            ExprKind::Dot(t, _) => d(t),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => d(a).max(d(b)),
            ExprKind::BuiltIn { target, args, .. } => args
                .iter()
                .flatten()
                .map(d)
                .chain([d(target)])
                .max()
                .unwrap_or(0),
            ExprKind::Default(a, b) => d(a).max(b.as_deref().map_or(0, d)),
            ExprKind::Range(a, b, _) => d(a).max(b.as_deref().map_or(0, d)),
            ExprKind::Exists(e) | ExprKind::Not(e) | ExprKind::Neg(e) | ExprKind::Paren(e) => d(e),
            ExprKind::Seq(items) => items.iter().map(d).max().unwrap_or(0),
            ExprKind::Hash(entries) => entries
                .iter()
                .map(|(k, v)| d(k).max(d(v)))
                .max()
                .unwrap_or(0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// `a..b`: `b` included.
    Inclusive,
    /// `a..<b` and `a..!b`: `b` excluded.
    Exclusive,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Str(String),
    /// A string literal with `${...}` inside.
    Interpolated(Vec<StrPart>),
    Num(f64),
    Bool(bool),
    Var(String),
    /// `a.b`, and the XML forms `a.@attr`, `a.@@text`, `a.*`.
    Dot(Box<Expr>, String),
    /// `a[b]`.
    Index(Box<Expr>, Box<Expr>),
    /// `a?name` or `a?name(args)`; the name was checked against [`super::builtins::KNOWN`].
    BuiltIn {
        target: Box<Expr>,
        name: String,
        args: Option<Vec<Expr>>,
    },
    /// `a!` or `a!default`.
    Default(Box<Expr>, Option<Box<Expr>>),
    /// `a??`.
    Exists(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `(a)`: kept so that `(a.b)!d` also covers a missing `a`, as in FreeMarker.
    Paren(Box<Expr>),
    Seq(Vec<Expr>),
    Hash(Vec<(Expr, Expr)>),
    /// `a..b`, `a..<b`, `a..` (no end: up to the iteration limit).
    Range(Box<Expr>, Option<Box<Expr>>, RangeEnd),
}

#[derive(Debug, Clone)]
pub enum StrPart {
    Lit(String),
    Expr(Expr),
}
