//! Recursive-descent parser for `ExpressionParser.g4` that builds what ExpressionVisitor builds.
//! Where ANTLR's adaptive prediction chooses between alternatives that both match, the first one
//! wins (`x == null` is an ordinary comparison; `[(1+1)]` is an expression index, `[(@.a)]` a
//! filter). Deviations the visitor rejects are compile errors too (`registry(k).property()`), and
//! the parser refuses leftover input as SynapseExpression's constructor does. Depth is bounded by
//! [`MAX_NESTING_DEPTH`](super::MAX_NESTING_DEPTH) and work by [`MAX_PARSE_STEPS`].

use super::ast::{
    Access, AccessKind, BinOp, Filter, Function, LookupKind, Node, java_hash_map_order,
};
use super::lexer::{Tok, Token, tokenize};
use super::value::ExprValue;
use super::{ExprError, MAX_NESTING_DEPTH, java};

/// Most tokens the parser may visit for one expression, counting re-reads when a `[(`...`)]`
/// index is tried as an expression before it is read as a filter.
pub const MAX_PARSE_STEPS: usize = 1_000_000;

#[derive(Debug)]
struct ParseError {
    message: String,
    column: usize,
    /// Limits: not retried as another alternative.
    fatal: bool,
}

type Parse<T> = Result<T, ParseError>;

/// Parses a whole expression (the text inside `${...}`).
pub(super) fn parse(text: &str) -> Result<Node, ExprError> {
    let (tokens, skipped) = tokenize(text);
    for s in &skipped {
        // ANTLR's ConsoleErrorListener on the lexer: printed, then the character is dropped.
        tracing::warn!(
            target: super::LOG_TARGET,
            "line 1:{} token recognition error at: '{}' in Synapse expression \"{text}\"",
            s.column - 1,
            s.character
        );
    }
    let end_column = text.chars().count() + 1;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        depth: 0,
        steps: 0,
        end_column,
    };
    let to_error = |e: ParseError| ExprError::new(e.message, e.column, text);
    if tokens.is_empty() {
        return Err(ExprError::new(
            "Invalid expression: the expression is empty".into(),
            end_column.min(text.chars().count().max(1)),
            text,
        ));
    }
    let node = parser.expression().map_err(to_error)?;
    if let Some(token) = parser.peek_token() {
        return Err(ExprError::new(
            format!(
                "Parse error: leftover input after parsing expression: unexpected {} `{}`",
                token.kind.describe(),
                token.text
            ),
            token.column,
            text,
        ));
    }
    Ok(node)
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
    steps: usize,
    end_column: usize,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<Tok> {
        self.tokens.get(self.pos).map(|t| t.kind)
    }

    fn peek_at(&self, offset: usize) -> Option<Tok> {
        self.tokens.get(self.pos + offset).map(|t| t.kind)
    }

    fn peek_token(&self) -> Option<&'t Token> {
        self.tokens.get(self.pos)
    }

    fn column(&self) -> usize {
        self.peek_token().map_or(self.end_column, |t| t.column)
    }

    fn error<T>(&self, message: impl Into<String>) -> Parse<T> {
        Err(ParseError {
            message: message.into(),
            column: self.column(),
            fatal: false,
        })
    }

    fn unexpected<T>(&self, expected: &str) -> Parse<T> {
        match self.peek_token() {
            Some(t) => {
                // MI 4.4's pre-release spellings, still in its docs and tests; 4.4 GA rejects
                // them too (lexer commit 0e5ef9039), so say what to write instead.
                let hint = match t.text.as_str() {
                    "var" => " (MI 4.4 writes `vars.`; `var.` was a pre-release spelling)",
                    "config" => " (MI 4.4 writes `configs.`; `config.` was a pre-release spelling)",
                    "uriParams" => " (MI 4.4 writes `pathParams`)",
                    _ => "",
                };
                self.error(format!(
                    "expected {expected}, found {} `{}`{hint}",
                    t.kind.describe(),
                    t.text
                ))
            }
            None => self.error(format!(
                "expected {expected}, found the end of the expression"
            )),
        }
    }

    fn advance(&mut self) -> Parse<&'t Token> {
        self.steps += 1;
        if self.steps > MAX_PARSE_STEPS {
            return Err(ParseError {
                message: format!(
                    "the expression is too complex to parse (more than {MAX_PARSE_STEPS} steps, MAX_PARSE_STEPS)"
                ),
                column: self.column(),
                fatal: true,
            });
        }
        match self.tokens.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(t)
            }
            None => self.unexpected("more input"),
        }
    }

    fn expect(&mut self, kind: Tok, what: &str) -> Parse<&'t Token> {
        if self.peek() == Some(kind) {
            self.advance()
        } else {
            self.unexpected(what)
        }
    }

    /// ANTLR `getText()` of the tokens from `start` to the current position.
    fn text_from(&self, start: usize) -> String {
        self.tokens[start..self.pos]
            .iter()
            .map(|t| t.text.as_str())
            .collect()
    }

    fn enter(&mut self) -> Parse<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING_DEPTH {
            return Err(ParseError {
                message: format!(
                    "the expression nests deeper than {MAX_NESTING_DEPTH} levels (MAX_NESTING_DEPTH)"
                ),
                column: self.column(),
                fatal: true,
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// expression : comparisonExpression | conditionalExpression
    fn expression(&mut self) -> Parse<Node> {
        self.enter()?;
        let result = self.expression_inner();
        self.leave();
        result
    }

    fn expression_inner(&mut self) -> Parse<Node> {
        if self.peek().is_none() {
            return self.unexpected("an expression");
        }
        let condition = self.comparison()?;
        if self.peek() != Some(Tok::Question) {
            return Ok(condition);
        }
        self.advance()?;
        let then = self.expression()?;
        self.expect(Tok::Colon, "`:` of the conditional expression")?;
        let otherwise = self.expression()?;
        Ok(Node::Conditional {
            condition: Box::new(condition),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        })
    }

    /// comparisonExpression : logicalExpression ((GT|LT|GTE|LTE|EQ|NEQ) logicalExpression)*
    fn comparison(&mut self) -> Parse<Node> {
        let first = self.logical()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::Gt) => BinOp::GreaterThan,
                Some(Tok::Lt) => BinOp::LessThan,
                Some(Tok::Gte) => BinOp::GreaterThanOrEqual,
                Some(Tok::Lte) => BinOp::LessThanOrEqual,
                Some(Tok::Eq) => BinOp::Equals,
                Some(Tok::Neq) => BinOp::NotEquals,
                _ => break,
            };
            self.advance()?;
            rest.push((op, self.logical()?));
        }
        Ok(chain(first, rest))
    }

    /// logicalExpression : arithmeticExpression (AND logicalExpression | OR logicalExpression)?
    fn logical(&mut self) -> Parse<Node> {
        let mut operands = vec![self.arithmetic()?];
        let mut ops = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::And) => BinOp::And,
                Some(Tok::Or) => BinOp::Or,
                _ => break,
            };
            self.advance()?;
            ops.push(op);
            operands.push(self.arithmetic()?);
        }
        Ok(if ops.is_empty() {
            operands.pop().unwrap_or(Node::Literal(ExprValue::Null))
        } else {
            Node::Logical { operands, ops }
        })
    }

    /// arithmeticExpression : term ((PLUS | MINUS) term)*
    fn arithmetic(&mut self) -> Parse<Node> {
        let first = self.term()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => BinOp::Add,
                Some(Tok::Minus) => BinOp::Subtract,
                _ => break,
            };
            self.advance()?;
            rest.push((op, self.term()?));
        }
        Ok(chain(first, rest))
    }

    /// term : factor ((ASTERISK | DIV | MODULO) factor)*
    fn term(&mut self) -> Parse<Node> {
        let first = self.factor()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::Asterisk) => BinOp::Multiply,
                Some(Tok::Div) => BinOp::Divide,
                Some(Tok::Modulo) => BinOp::Modulo,
                _ => break,
            };
            self.advance()?;
            rest.push((op, self.factor()?));
        }
        Ok(chain(first, rest))
    }

    /// factor : literal | functionCall | variableAccess | payloadAccess | headerAccess
    ///        | configAccess | parameterAccess | propertyAccess | LPAREN expression RPAREN
    fn factor(&mut self) -> Parse<Node> {
        match self.peek() {
            Some(Tok::LBracket) => self.array_literal(),
            Some(Tok::Boolean) => {
                let token = self.advance()?;
                Ok(Node::Literal(ExprValue::Bool(token.text == "true")))
            }
            Some(Tok::Number) => {
                let token = self.advance()?;
                Ok(Node::Literal(number_literal(&token.text)))
            }
            Some(Tok::String) => {
                let token = self.advance()?;
                Ok(Node::Literal(ExprValue::String(token.text.clone())))
            }
            Some(Tok::Null) => {
                self.advance()?;
                Ok(Node::Literal(ExprValue::Null))
            }
            Some(Tok::Function) => self.function_call(),
            Some(Tok::Var) => self.variable_access(),
            Some(Tok::Payload) => self.payload_access(),
            Some(Tok::Headers | Tok::Config | Tok::Params | Tok::Property) => self.lookup(),
            Some(Tok::LParen) => {
                self.advance()?;
                let inner = self.expression()?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(inner)
            }
            _ => self.unexpected("a value (a literal, a function call, payload, vars, headers, props, params, configs or `(`)"),
        }
    }

    /// arrayLiteral : LBRACKET (expression (COMMA expression)*)? RBRACKET
    fn array_literal(&mut self) -> Parse<Node> {
        self.enter()?;
        let result = (|| {
            self.advance()?;
            let mut items = Vec::new();
            if self.peek() != Some(Tok::RBracket) {
                items.push(self.expression()?);
                while self.peek() == Some(Tok::Comma) {
                    self.advance()?;
                    items.push(self.expression()?);
                }
            }
            self.expect(Tok::RBracket, "`,` or `]` of the array")?;
            Ok(Node::Array(items))
        })();
        self.leave();
        result
    }

    /// headerAccess | configAccess | parameterAccess | propertyAccess
    fn lookup(&mut self) -> Parse<Node> {
        let root = self.advance()?;
        let kind = match root.kind {
            Tok::Headers => LookupKind::Header,
            Tok::Config => LookupKind::Config,
            Tok::Params => {
                self.expect(Tok::Dot, "`.` after `params`")?;
                let scope = self.expect(
                    Tok::ParamAccess,
                    "`queryParams`, `pathParams` or `functionParams`",
                )?;
                match scope.text.as_str() {
                    "queryParams" => LookupKind::QueryParam,
                    "pathParams" => LookupKind::PathParam,
                    _ => LookupKind::FunctionParam,
                }
            }
            _ => {
                self.expect(Tok::Dot, "`.` after `props`")?;
                let scope = self.expect(Tok::PropertyAccess, "`synapse` or `axis2`")?;
                if scope.text == "axis2" {
                    LookupKind::Axis2Property
                } else {
                    LookupKind::SynapseProperty
                }
            }
        };
        let key = self.property_name()?;
        Ok(Node::Lookup {
            kind,
            key: Box::new(Node::Literal(ExprValue::String(key))),
        })
    }

    /// propertyName : DOT ID | keywords | (DOT)? LBRACKET STRING_LITERAL RBRACKET; the key as
    /// the visitor's string LiteralNode holds it (a bracketed string keeps its quotes).
    fn property_name(&mut self) -> Parse<String> {
        if self.peek() == Some(Tok::Dot) {
            match self.peek_at(1) {
                Some(Tok::Id) => {
                    self.advance()?;
                    return Ok(self.advance()?.text.clone());
                }
                Some(kind) if is_keyword(kind) => {
                    self.advance()?;
                    return Ok(self.advance()?.text.clone());
                }
                Some(Tok::LBracket) => {
                    self.advance()?;
                }
                _ => {
                    self.advance()?;
                    return self.unexpected("a name or `[\"name\"]`");
                }
            }
        }
        self.expect(Tok::LBracket, "`.name` or `[\"name\"]`")?;
        let key = self.expect(Tok::String, "a quoted name")?.text.clone();
        self.expect(Tok::RBracket, "`]`")?;
        Ok(key)
    }

    /// variableAccess : VAR ( DOT ID | DOT STRING_LITERAL | keywords
    ///                      | (DOT)? LBRACKET STRING_LITERAL RBRACKET ) ( jsonPathExpression )?
    fn variable_access(&mut self) -> Parse<Node> {
        let start = self.pos;
        self.advance()?;
        if self.peek() == Some(Tok::Dot) {
            match self.peek_at(1) {
                Some(Tok::Id | Tok::String) => {
                    self.advance()?;
                    self.advance()?;
                }
                Some(kind) if is_keyword(kind) => {
                    self.advance()?;
                    self.advance()?;
                }
                Some(Tok::LBracket) => {
                    self.advance()?;
                    self.bracketed_name()?;
                }
                _ => {
                    self.advance()?;
                    return self.unexpected("a variable name");
                }
            }
        } else if self.peek() == Some(Tok::LBracket) {
            self.bracketed_name()?;
        } else {
            return self.unexpected("`.name` or `[\"name\"]` after `vars`");
        }
        let mut substitutions = Vec::new();
        if self.starts_json_path() {
            self.json_path(&mut substitutions)?;
        }
        Ok(Node::Access(Box::new(Access {
            kind: AccessKind::Variable,
            text: self.text_from(start),
            substitutions: java_hash_map_order(substitutions),
            function: None,
            prepared: None,
        })))
    }

    fn bracketed_name(&mut self) -> Parse<()> {
        self.expect(Tok::LBracket, "`[`")?;
        self.expect(Tok::String, "a quoted variable name")?;
        self.expect(Tok::RBracket, "`]`")?;
        Ok(())
    }

    /// payloadAccess : PAYLOAD ( jsonPathExpression )?
    fn payload_access(&mut self) -> Parse<Node> {
        let start = self.pos;
        self.advance()?;
        let mut substitutions = Vec::new();
        if self.starts_json_path() {
            self.json_path(&mut substitutions)?;
        }
        Ok(Node::Access(Box::new(Access {
            kind: AccessKind::Payload,
            text: self.text_from(start),
            substitutions: java_hash_map_order(substitutions),
            function: None,
            prepared: None,
        })))
    }

    fn starts_json_path(&self) -> bool {
        matches!(self.peek(), Some(Tok::Dot | Tok::DoubleDot | Tok::LBracket))
    }

    /// jsonPathExpression : ( DOT JSONPATH_FUNCTIONS | DOUBLE_DOT ASTERISK | DOUBLE_DOT ID
    ///   | DOT ID | keywords | (DOT)? LBRACKET arrayIndex RBRACKET | DOT ASTERISK
    ///   | DOUBLE_DOT ID (LBRACKET arrayIndex RBRACKET)? )+
    fn json_path(&mut self, substitutions: &mut Vec<(String, Option<Node>)>) -> Parse<()> {
        loop {
            match self.peek() {
                Some(Tok::Dot) => match self.peek_at(1) {
                    Some(Tok::JsonPathFunction | Tok::Id | Tok::Asterisk) => {
                        self.advance()?;
                        self.advance()?;
                    }
                    Some(kind) if is_keyword(kind) => {
                        self.advance()?;
                        self.advance()?;
                    }
                    Some(Tok::LBracket) => {
                        self.advance()?;
                        self.bracket_index(substitutions)?;
                    }
                    _ => {
                        self.advance()?;
                        return self
                            .unexpected("a name, `*`, `[` or a JSONPath function after `.`");
                    }
                },
                Some(Tok::DoubleDot) => match self.peek_at(1) {
                    Some(Tok::Asterisk | Tok::Id) => {
                        self.advance()?;
                        self.advance()?;
                    }
                    _ => {
                        self.advance()?;
                        return self.unexpected("a name or `*` after `..`");
                    }
                },
                Some(Tok::LBracket) => self.bracket_index(substitutions)?,
                _ => return Ok(()),
            }
        }
    }

    /// LBRACKET arrayIndex RBRACKET, recording the index text and node.
    fn bracket_index(&mut self, substitutions: &mut Vec<(String, Option<Node>)>) -> Parse<()> {
        self.enter()?;
        let result = (|| {
            self.expect(Tok::LBracket, "`[`")?;
            let start = self.pos;
            let node = self.array_index()?;
            let key = self.text_from(start);
            self.expect(Tok::RBracket, "`]`")?;
            substitutions.push((key, node));
            Ok(())
        })();
        self.leave();
        result
    }

    /// arrayIndex : NUMBER | STRING_LITERAL | expression | multipleArrayIndices | sliceArrayIndex
    ///            | ASTERISK | QUESTION? LPAREN filterExpression RPAREN
    fn array_index(&mut self) -> Parse<Option<Node>> {
        match self.peek() {
            Some(Tok::Asterisk) if self.peek_at(1) == Some(Tok::RBracket) => {
                self.advance()?;
                Ok(None)
            }
            Some(Tok::Question) => {
                self.advance()?;
                self.filter().map(Some)
            }
            Some(Tok::Colon | Tok::Minus) => self.slice(None).map(Some),
            Some(Tok::LParen) => {
                // Both alternatives may match; ANTLR takes the expression when it does.
                let saved = (self.pos, self.depth);
                match self.expression() {
                    Ok(first)
                        if matches!(self.peek(), Some(Tok::RBracket | Tok::Comma | Tok::Colon)) =>
                    {
                        self.after_first_index(first).map(Some)
                    }
                    Err(e) if e.fatal => Err(e),
                    _ => {
                        (self.pos, self.depth) = saved;
                        self.filter().map(Some)
                    }
                }
            }
            _ => {
                let first = self.expression()?;
                self.after_first_index(first).map(Some)
            }
        }
    }

    fn after_first_index(&mut self, first: Node) -> Parse<Node> {
        match self.peek() {
            Some(Tok::RBracket) => Ok(first),
            Some(Tok::Comma) => {
                let mut items = vec![Some(first)];
                while self.peek() == Some(Tok::Comma) {
                    self.advance()?;
                    items.push(Some(self.expression()?));
                }
                Ok(Node::Indices {
                    separator: ',',
                    items,
                })
            }
            Some(Tok::Colon) => self.slice(Some(first)),
            _ => self.unexpected("`]`, `,` or `:` in the index"),
        }
    }

    /// sliceArrayIndex : signedExpressions? COLON signedExpressions? (COLON signedExpressions?)?
    /// with ExpressionVisitor.visitSliceArrayIndex's handling of missing bounds (it inserts an
    /// empty bound only when the slice has exactly two parts).
    fn slice(&mut self, first: Option<Node>) -> Parse<Node> {
        // The parse tree's children: bounds (Some) and colons (None).
        let mut children: Vec<Option<Node>> = Vec::new();
        match first {
            Some(node) => children.push(Some(node)),
            None if self.peek() != Some(Tok::Colon) => children.push(Some(self.signed()?)),
            None => {}
        }
        self.expect(Tok::Colon, "`:` of the slice")?;
        children.push(None);
        if !matches!(self.peek(), Some(Tok::Colon | Tok::RBracket)) {
            children.push(Some(self.signed()?));
        }
        if self.peek() == Some(Tok::Colon) {
            self.advance()?;
            children.push(None);
            if self.peek() != Some(Tok::RBracket) {
                children.push(Some(self.signed()?));
            }
        }
        let two_children = children.len() == 2;
        let leading_colon = two_children && children[0].is_none();
        let trailing_colon = two_children && children[1].is_none();
        let mut items: Vec<Option<Node>> = Vec::new();
        if leading_colon {
            items.push(None);
        }
        items.extend(children.into_iter().flatten().map(Some));
        if trailing_colon {
            items.push(None);
        }
        Ok(Node::Indices {
            separator: ':',
            items,
        })
    }

    /// signedExpressions : MINUS? expression
    fn signed(&mut self) -> Parse<Node> {
        if self.peek() == Some(Tok::Minus) {
            self.advance()?;
            Ok(Node::Negate(Box::new(self.expression()?)))
        } else {
            self.expression()
        }
    }

    /// LPAREN filterExpression RPAREN: the components up to the `)` that closes the index.
    fn filter(&mut self) -> Parse<Node> {
        self.expect(Tok::LParen, "`(` of the filter")?;
        let start = self.pos;
        let mut parts = Vec::new();
        loop {
            if self.peek() == Some(Tok::RParen) && self.peek_at(1) == Some(Tok::RBracket) {
                break;
            }
            let part_start = self.pos;
            let node = match self.peek() {
                Some(Tok::Var) => Some(self.variable_access()?),
                Some(Tok::Payload) => Some(self.payload_access()?),
                Some(Tok::Headers | Tok::Config | Tok::Params | Tok::Property) => {
                    Some(self.lookup()?)
                }
                Some(Tok::Function) => Some(self.function_call()?),
                Some(
                    Tok::Question
                    | Tok::At
                    | Tok::JsonPathParam
                    | Tok::String
                    | Tok::Number
                    | Tok::Boolean
                    | Tok::Id
                    | Tok::Gt
                    | Tok::Lt
                    | Tok::Gte
                    | Tok::Lte
                    | Tok::Eq
                    | Tok::Neq
                    | Tok::Plus
                    | Tok::Minus
                    | Tok::Div
                    | Tok::LParen
                    | Tok::RParen
                    | Tok::Dot
                    | Tok::Comma
                    | Tok::Colon
                    | Tok::And
                    | Tok::Or
                    | Tok::Not
                    | Tok::Asterisk,
                ) => {
                    self.advance()?;
                    None
                }
                _ => return self.unexpected("a filter component (`[`, `]`, `..`, `null` and JSONPath functions are not allowed in a filter)"),
            };
            parts.push((self.text_from(part_start), node));
        }
        if parts.is_empty() {
            return self.unexpected("a filter expression");
        }
        let text = self.text_from(start);
        self.expect(Tok::RParen, "`)` of the filter")?;
        Ok(Node::Filter(Box::new(Filter {
            text,
            parts: java_hash_map_order(parts),
        })))
    }

    /// functionCall : FUNCTIONS LPAREN (expression (COMMA expression)*)? RPAREN functionCallSuffix?
    fn function_call(&mut self) -> Parse<Node> {
        let name_token = self.advance()?;
        let function = Function::from_name(&name_token.text)
            .map_or_else(|| self.error("unknown function"), Ok)?;
        self.expect(Tok::LParen, "`(` after the function name")?;
        let args = self.arguments()?;
        // functionCallSuffix : DOT SECONDARY_FUNCTIONS LPAREN args RPAREN | jsonPathExpression
        let mut secondary = None;
        let mut path = None;
        if self.peek() == Some(Tok::Dot)
            && self.peek_at(1) == Some(Tok::SecondaryFunction)
            && self.peek_at(2) == Some(Tok::LParen)
        {
            self.advance()?;
            self.advance()?;
            self.advance()?;
            secondary = Some(self.arguments()?);
        } else if self.starts_json_path() {
            let start = self.pos;
            let mut substitutions = Vec::new();
            self.json_path(&mut substitutions)?;
            path = Some((self.text_from(start), substitutions));
        }
        let call = Node::Call { function, args };
        let path_access = |kind: AccessKind, call: Node, (text, substitutions)| {
            Node::Access(Box::new(Access {
                kind,
                text,
                substitutions: java_hash_map_order(substitutions),
                function: Some(call),
                prepared: None,
            }))
        };
        // ExpressionVisitor.visitFunctionCall: only registry/object/array use the suffix; a
        // `.property()` without an argument or on object/array falls through to "Invalid
        // function call".
        match (function, secondary, path) {
            (Function::Registry, Some(mut extra), _) if !extra.is_empty() => {
                let Node::Call { function, mut args } = call else {
                    return self.error("Invalid function call");
                };
                args.push(extra.swap_remove(0));
                Ok(Node::Call { function, args })
            }
            (Function::Registry | Function::Object | Function::Array, Some(_), _) => {
                Err(ParseError {
                    message: format!(
                        "Invalid function call: {}(...).property() needs a property name and is only defined for registry()",
                        function.name()
                    ),
                    column: name_token.column,
                    fatal: false,
                })
            }
            (Function::Registry, None, Some(path)) => {
                Ok(path_access(AccessKind::Registry, call, path))
            }
            (Function::Object, None, Some(path)) => Ok(path_access(AccessKind::Object, call, path)),
            (Function::Array, None, Some(path)) => Ok(path_access(AccessKind::Array, call, path)),
            _ => Ok(call),
        }
    }

    /// `(expression (COMMA expression)*)? RPAREN` after the `(`.
    fn arguments(&mut self) -> Parse<Vec<Node>> {
        let mut args = Vec::new();
        if self.peek() != Some(Tok::RParen) {
            args.push(self.expression()?);
            while self.peek() == Some(Tok::Comma) {
                self.advance()?;
                args.push(self.expression()?);
            }
        }
        self.expect(Tok::RParen, "`,` or `)` of the arguments")?;
        Ok(args)
    }
}

/// The tokens rule `keywords` allows after a `.` (besides ID).
fn is_keyword(kind: Tok) -> bool {
    matches!(
        kind,
        Tok::Var
            | Tok::Payload
            | Tok::Headers
            | Tok::Config
            | Tok::Params
            | Tok::Property
            | Tok::ParamAccess
            | Tok::PropertyAccess
            | Tok::Function
            | Tok::SecondaryFunction
    )
}

fn chain(first: Node, rest: Vec<(BinOp, Node)>) -> Node {
    if rest.is_empty() {
        first
    } else {
        Node::Chain {
            first: Box::new(first),
            rest,
        }
    }
}

/// LiteralNode.parseNumber: Integer, else Long, else Double.
fn number_literal(text: &str) -> ExprValue {
    if let Some(i) = java::parse_int(text) {
        ExprValue::Int(i)
    } else if let Some(l) = java::parse_long(text) {
        ExprValue::Long(l)
    } else {
        ExprValue::Double(java::parse_double(text).unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Node {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> ExprError {
        match parse(text) {
            Ok(node) => panic!("{text} parsed as {node:?}"),
            Err(e) => e,
        }
    }

    fn access(text: &str) -> Access {
        match ok(text) {
            Node::Access(a) => *a,
            other => panic!("{text}: {other:?}"),
        }
    }

    // Facts §1.1/§1.3 [parsed].
    #[test]
    fn the_grammar_accepts_and_refuses_what_antlr_does() {
        for text in [
            "5 - 3",
            "5-vars.x",
            "2*-1",
            "vars.x-1",
            "headers.Content-Type",
            "payload.payload.vars.pqr",
            "true ? 1 : false ? 2 : 3",
            "(vars.a > 1) and (vars.b < 2)",
            "vars.a > 1 and vars.b < 2",
            "vars.a == null",
            "null == null",
            "[]",
            "[1, \"a\", [2]]",
            "length(\"abc\").ignored[0]",
            "registry('k').property('p')",
            "registry('k').a.b",
            "object(\"{}\").a",
            "array(payload)[2]",
            "$..book[?(@.price > 10)].title",
            "$..book[(@.\"length\"-1)].title",
            "$.cars[:2]",
            "$.cars[-1:]",
            "$.cars[1:]",
            "$.cars[::2]",
            "$.cars[:]",
            "$.cars[1,2,3]",
            "$.store.book.[0].keys()",
            "payload.[:4]",
            "vars.[\"a\"].b",
            "vars[\"a\"][\"b\"]",
            "vars.\"x\"",
            "props.synapse.[\"a b\"]",
            "props.axis2.payload",
            "params.queryParams.q",
            "configs[\"a.b\"]",
            "wso2-vault('x')",
            "$.a.length",
            "payload.property.synapse",
            "$",
            "payload",
        ] {
            ok(text);
        }
        for (text, column) in [
            ("5-3", 2),
            ("vars.x -1", 8),
            ("-vars.x", 1),
            ("!true", 1),
            ("configs.a.b", 10),
            ("props.synapse.a.b", 16),
            ("props.transport.a", 7),
            ("payload.size", 9),
            ("payload.0", 9),
            ("5 >> 3", 4),
            ("payload.products[0].stock + abc", 29),
            ("", 1),
            ("()", 2),
            ("length()", 1),
            ("registry('k').property()", 1),
            ("object('k').property('a')", 1),
            ("$..[0]", 4),
            ("$[?(@.a == null)]", 12),
            ("$[?(@.a in ['x'])]", 12),
            ("$[?()]", 5),
            ("vars['x'", 9),
            ("a ? b", 1),
            ("1 ? 2", 6),
        ] {
            assert_eq!(err(text).column, column, "{text}");
        }
    }

    #[test]
    fn access_text_has_no_whitespace_and_indices_are_recorded() {
        let a = access("payload . cars [ payload.index + 3 : ]");
        assert_eq!(a.text, "payload.cars[payload.index+3:]");
        assert_eq!(a.kind, AccessKind::Payload);
        assert_eq!(a.substitutions.len(), 1);
        assert_eq!(a.substitutions[0].0, "payload.index+3:");
        let a = access("$..book[?(@.category == payload.selectedCategory)]");
        assert_eq!(
            a.substitutions[0].0,
            "?(@.category==payload.selectedCategory)"
        );
        let Some(Node::Filter(filter)) = &a.substitutions[0].1 else {
            panic!("{a:?}");
        };
        assert_eq!(filter.text, "@.category==payload.selectedCategory");
        assert_eq!(
            filter
                .parts
                .iter()
                .filter(|(_, n)| n.is_some())
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            ["payload.selectedCategory"]
        );
        let a = access("$.cars[*]");
        assert_eq!(a.substitutions, [("*".to_string(), None)]);
    }

    // ExpressionVisitor.visitSliceArrayIndex: an empty bound only for two-part slices.
    #[test]
    fn slices_keep_the_visitor_s_bounds() {
        let bounds = |text: &str| -> Vec<bool> {
            let a = access(text);
            match &a.substitutions[0].1 {
                Some(Node::Indices {
                    separator: ':',
                    items,
                }) => items.iter().map(Option::is_some).collect(),
                other => panic!("{text}: {other:?}"),
            }
        };
        assert_eq!(bounds("$[1:2]"), [true, true]);
        assert_eq!(bounds("$[:2]"), [false, true]);
        assert_eq!(bounds("$[1:]"), [true, false]);
        assert_eq!(bounds("$[:]"), Vec::<bool>::new());
        assert_eq!(bounds("$[::]"), [false, false]);
        assert_eq!(bounds("$[::2]"), [true]);
        assert_eq!(bounds("$[1:2:3]"), [true, true, true]);
        assert_eq!(bounds("$[1::3]"), [true, true]);
        let a = access("$[- vars.x:]");
        assert!(matches!(
            &a.substitutions[0].1,
            Some(Node::Indices { items, .. }) if matches!(items[0], Some(Node::Negate(_)))
        ));
    }

    #[test]
    fn parenthesised_indices_prefer_expressions() {
        let a = access("$[(1+1)]");
        assert!(matches!(a.substitutions[0].1, Some(Node::Chain { .. })));
        let a = access("$[(@.\"length\"-1)]");
        assert!(matches!(a.substitutions[0].1, Some(Node::Filter(_))));
    }

    #[test]
    fn precedence_and_associativity() {
        // `a and b or c` = a and (b or c); comparison is looser than logical.
        let Node::Logical { operands, ops } = ok("true and false or true") else {
            panic!()
        };
        assert_eq!((operands.len(), ops), (3, vec![BinOp::And, BinOp::Or]));
        let Node::Chain { first, rest } = ok("vars.a > 1 and vars.b < 2") else {
            panic!()
        };
        assert!(matches!(*first, Node::Access(_)));
        assert_eq!(rest.len(), 2);
        assert!(matches!(rest[0].1, Node::Logical { .. }));
        // Ternary is right-associative.
        let Node::Conditional { otherwise, .. } = ok("vars.a == 1 ? 1 : true ? 2 : 3") else {
            panic!()
        };
        assert!(matches!(*otherwise, Node::Conditional { .. }));
    }

    #[test]
    fn literals_are_typed_as_java_parses_them() {
        assert_eq!(ok("2147483647"), Node::Literal(ExprValue::Int(i32::MAX)));
        assert_eq!(
            ok("2147483648"),
            Node::Literal(ExprValue::Long(2_147_483_648))
        );
        assert_eq!(ok("1.0"), Node::Literal(ExprValue::Double(1.0)));
        assert_eq!(ok("-5.3"), Node::Literal(ExprValue::Double(-5.3)));
        assert_eq!(
            ok("99999999999999999999"),
            Node::Literal(ExprValue::Double(1e20))
        );
        assert_eq!(
            ok("'it\\'s'"),
            Node::Literal(ExprValue::String("'it\\'s'".into()))
        );
    }

    #[test]
    fn registry_property_becomes_a_second_argument() {
        let Node::Call { function, args } = ok("registry('k').property('p', 'ignored')") else {
            panic!()
        };
        assert_eq!((function, args.len()), (Function::Registry, 2));
    }

    #[test]
    fn limits() {
        let deep = format!(
            "{}1{}",
            "(".repeat(MAX_NESTING_DEPTH - 1),
            ")".repeat(MAX_NESTING_DEPTH - 1)
        );
        ok(&deep);
        let too_deep = format!(
            "{}1{}",
            "(".repeat(MAX_NESTING_DEPTH),
            ")".repeat(MAX_NESTING_DEPTH)
        );
        assert!(err(&too_deep).message.contains("MAX_NESTING_DEPTH"));
        // Long operator chains do not nest.
        ok(&vec!["1"; 5000].join(" + "));
        ok(&vec!["true"; 5000].join(" and "));
        // `$[(<inner> @)]` reads <inner> as an expression, fails at `@`, and reads it again as
        // a filter component: the work doubles per level and MAX_PARSE_STEPS stops it.
        let doubling =
            |levels: usize| (0..levels).fold("1".to_string(), |inner, _| format!("$[({inner} @)]"));
        ok(&doubling(8));
        let e = err(&doubling(18));
        assert!(e.message.contains("MAX_PARSE_STEPS"), "{e}");
    }
}
