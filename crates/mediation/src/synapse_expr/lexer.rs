//! The tokens of Synapse expressions as Synapse's ANTLR lexer cuts them
//! (`antlr4/org/apache/synapse/util/synapse_expression/ExpressionLexer.g4`): longest match, and
//! between matches of the same length the rule declared first wins (`vars` is VAR, not ID;
//! `length()` is one JSONPATH_FUNCTIONS token, `length(` is FUNCTIONS then `(`; `-3` is a NUMBER,
//! so `5-3` is two numbers). Whitespace is skipped. A character no rule matches is reported by
//! ANTLR's console listener (MI only registers its error listener on the parser) and skipped, so
//! it does not fail the expression: [`tokenize`] returns those as `skipped`.

/// Token kinds (ExpressionLexer.g4 rule names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    JsonPathParam,
    JsonPathFunction,
    Var,
    Payload,
    Headers,
    Config,
    Params,
    Property,
    And,
    Or,
    Not,
    DoubleDot,
    Asterisk,
    Plus,
    Minus,
    Div,
    Modulo,
    Eq,
    Neq,
    Gt,
    Lt,
    Gte,
    Lte,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Colon,
    Quote,
    Boolean,
    Number,
    ParamAccess,
    PropertyAccess,
    Function,
    SecondaryFunction,
    String,
    Null,
    Id,
    Question,
    At,
}

impl Tok {
    /// How a token of this kind is named in error messages.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Tok::JsonPathParam => "a JSONPath filter operator",
            Tok::JsonPathFunction => "a JSONPath function",
            Tok::Var => "`vars`",
            Tok::Payload => "`payload`",
            Tok::Headers => "`headers`",
            Tok::Config => "`configs`",
            Tok::Params => "`params`",
            Tok::Property => "`props`",
            Tok::And => "`and`",
            Tok::Or => "`or`",
            Tok::Not => "`!`",
            Tok::DoubleDot => "`..`",
            Tok::Asterisk => "`*`",
            Tok::Plus => "`+`",
            Tok::Minus => "`-`",
            Tok::Div => "`/`",
            Tok::Modulo => "`%`",
            Tok::Eq => "`==`",
            Tok::Neq => "`!=`",
            Tok::Gt => "`>`",
            Tok::Lt => "`<`",
            Tok::Gte => "`>=`",
            Tok::Lte => "`<=`",
            Tok::LParen => "`(`",
            Tok::RParen => "`)`",
            Tok::LBracket => "`[`",
            Tok::RBracket => "`]`",
            Tok::Dot => "`.`",
            Tok::Comma => "`,`",
            Tok::Colon => "`:`",
            Tok::Quote => "an unterminated string",
            Tok::Boolean => "a boolean",
            Tok::Number => "a number",
            Tok::ParamAccess => "a parameter kind",
            Tok::PropertyAccess => "a property scope",
            Tok::Function => "a function name",
            Tok::SecondaryFunction => "`property`",
            Tok::String => "a string",
            Tok::Null => "`null`",
            Tok::Id => "a name",
            Tok::Question => "`?`",
            Tok::At => "`@`",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: Tok,
    pub text: String,
    /// 1-based column (characters) in the expression text.
    pub column: usize,
}

/// A character no lexer rule matches, skipped as ANTLR's lexer does.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Skipped {
    pub character: char,
    pub column: usize,
}

/// The fixed-text rules, in declaration order (the order decides ties with ID).
const KEYWORDS: &[(Tok, &[&str])] = &[
    (
        Tok::JsonPathParam,
        &[
            "in", "nin", "subsetof", "anyof", "noneof", "size", "empty", "=~",
        ],
    ),
    (
        Tok::JsonPathFunction,
        &[
            "length()", "size()", "min()", "max()", "avg()", "sum()", "stddev()", "keys()",
            "first()", "last()",
        ],
    ),
    (Tok::Var, &["vars"]),
    (Tok::Payload, &["payload", "$"]),
    (Tok::Headers, &["headers"]),
    (Tok::Config, &["configs"]),
    (Tok::Params, &["params"]),
    (Tok::Property, &["props", "properties"]),
    (Tok::And, &["and", "&&"]),
    (Tok::Or, &["or", "||"]),
    (Tok::Not, &["!"]),
    (Tok::DoubleDot, &[".."]),
    (Tok::Asterisk, &["*"]),
    (Tok::Plus, &["+"]),
    (Tok::Minus, &["-"]),
    (Tok::Div, &["/"]),
    (Tok::Modulo, &["%"]),
    (Tok::Eq, &["=="]),
    (Tok::Neq, &["!="]),
    (Tok::Gt, &[">"]),
    (Tok::Lt, &["<"]),
    (Tok::Gte, &[">="]),
    (Tok::Lte, &["<="]),
    (Tok::LParen, &["("]),
    (Tok::RParen, &[")"]),
    (Tok::LBracket, &["["]),
    (Tok::RBracket, &["]"]),
    (Tok::Dot, &["."]),
    (Tok::Comma, &[","]),
    (Tok::Colon, &[":"]),
    (Tok::Quote, &["\"", "'"]),
    (Tok::Boolean, &["true", "false"]),
    // NUMBER is matched by code, between BOOLEAN_LITERAL and PARAM_ACCESS.
    (
        Tok::ParamAccess,
        &["queryParams", "pathParams", "functionParams"],
    ),
    (Tok::PropertyAccess, &["axis2", "synapse"]),
    (
        Tok::Function,
        &[
            "length",
            "toUpper",
            "toLower",
            "subString",
            "startsWith",
            "endsWith",
            "contains",
            "trim",
            "replace",
            "split",
            "indexOf",
            "now",
            "formatDateTime",
            "charAt",
            "abs",
            "ceil",
            "floor",
            "sqrt",
            "log",
            "pow",
            "base64encode",
            "base64decode",
            "urlEncode",
            "urlDecode",
            "isString",
            "isNumber",
            "isArray",
            "isObject",
            "string",
            "float",
            "boolean",
            "integer",
            "round",
            "exists",
            "xpath",
            "wso2-vault",
            "hashicorp-vault",
            "not",
            "registry",
            "object",
            "array",
        ],
    ),
    (Tok::SecondaryFunction, &["property"]),
    // STRING_LITERAL is matched by code here.
    (Tok::Null, &["null"]),
];

/// Rank of a rule in ExpressionLexer.g4 (lower is declared earlier).
fn rank(kind: Tok) -> usize {
    match kind {
        Tok::Number => 32,
        Tok::String => 37,
        Tok::Null => 38,
        Tok::Id => 39,
        Tok::Question => 40,
        Tok::At => 41,
        other => KEYWORDS
            .iter()
            .position(|(k, _)| *k == other)
            .map_or(usize::MAX, |p| if p >= 32 { p + 1 } else { p }),
    }
}

/// Cuts `text` into tokens; characters no rule matches are returned separately (skipped).
pub(super) fn tokenize(text: &str) -> (Vec<Token>, Vec<Skipped>) {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut skipped = Vec::new();
    let mut pos = 0;
    while pos < chars.len() {
        let c = chars[pos];
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            pos += 1;
            continue;
        }
        match longest_match(&chars, pos) {
            Some((kind, len)) => {
                tokens.push(Token {
                    kind,
                    text: chars[pos..pos + len].iter().collect(),
                    column: pos + 1,
                });
                pos += len;
            }
            None => {
                skipped.push(Skipped {
                    character: c,
                    column: pos + 1,
                });
                pos += 1;
            }
        }
    }
    (tokens, skipped)
}

fn longest_match(chars: &[char], pos: usize) -> Option<(Tok, usize)> {
    let mut best: Option<(Tok, usize)> = None;
    let mut consider = |kind: Tok, len: usize| {
        if len == 0 {
            return;
        }
        best = match best {
            Some((b, blen)) if blen > len || (blen == len && rank(b) <= rank(kind)) => {
                Some((b, blen))
            }
            _ => Some((kind, len)),
        };
    };
    for (kind, words) in KEYWORDS {
        for word in *words {
            if starts_with_at(chars, pos, word) {
                consider(*kind, word.chars().count());
            }
        }
    }
    consider(Tok::Number, number_len(chars, pos));
    consider(Tok::String, string_len(chars, pos));
    consider(Tok::Id, id_len(chars, pos));
    match chars[pos] {
        '?' => consider(Tok::Question, 1),
        '@' => consider(Tok::At, 1),
        _ => {}
    }
    best
}

fn starts_with_at(chars: &[char], pos: usize, word: &str) -> bool {
    (pos..)
        .zip(word.chars())
        .all(|(i, w)| chars.get(i) == Some(&w))
}

/// NUMBER: '-'? [0-9]+ ('.' [0-9]+)?
fn number_len(chars: &[char], pos: usize) -> usize {
    let mut i = pos;
    if chars.get(i) == Some(&'-') {
        i += 1;
    }
    let digits_start = i;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if i == digits_start {
        return 0;
    }
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        i += 1;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
    }
    i - pos
}

/// ID: [a-zA-Z_][a-zA-Z_0-9-]*
fn id_len(chars: &[char], pos: usize) -> usize {
    let first = chars[pos];
    if !(first.is_ascii_alphabetic() || first == '_') {
        return 0;
    }
    let mut i = pos + 1;
    while chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
    {
        i += 1;
    }
    i - pos
}

/// STRING_LITERAL: a `"` or `'` string whose escapes are `\` + one of `btnfr"'\/`, `\uXXXX` or an
/// octal escape; 0 when the string is not closed or has another escape.
fn string_len(chars: &[char], pos: usize) -> usize {
    let quote = chars[pos];
    if quote != '"' && quote != '\'' {
        return 0;
    }
    let mut i = pos + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return 0;
        };
        if c == quote {
            return i + 1 - pos;
        }
        if c != '\\' {
            i += 1;
            continue;
        }
        let Some(&e) = chars.get(i + 1) else {
            return 0;
        };
        let octal = |k: usize| chars.get(k).is_some_and(|c| ('0'..='7').contains(c));
        if matches!(e, 'b' | 't' | 'n' | 'f' | 'r' | '"' | '\'' | '\\' | '/') {
            i += 2;
        } else if e == 'u' {
            if (2..6).all(|k| chars.get(i + k).is_some_and(char::is_ascii_hexdigit)) {
                i += 6;
            } else {
                return 0;
            }
        } else if ('0'..='3').contains(&e) && octal(i + 2) && octal(i + 3) {
            i += 4;
        } else if octal(i + 1) && octal(i + 2) {
            i += 3;
        } else {
            return 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        tokenize(text).0.into_iter().map(|t| t.kind).collect()
    }

    fn texts(text: &str) -> Vec<String> {
        tokenize(text).0.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn keywords_win_ties_and_longer_names_are_ids() {
        assert_eq!(kinds("vars variable"), [Tok::Var, Tok::Id]);
        assert_eq!(
            kinds("in index size sizes"),
            [Tok::JsonPathParam, Tok::Id, Tok::JsonPathParam, Tok::Id]
        );
        assert_eq!(
            kinds("length length() length("),
            [
                Tok::Function,
                Tok::JsonPathFunction,
                Tok::Function,
                Tok::LParen
            ]
        );
        assert_eq!(kinds("wso2-vault wso2-vaults"), [Tok::Function, Tok::Id]);
        assert_eq!(
            kinds("true null nullable property"),
            [Tok::Boolean, Tok::Null, Tok::Id, Tok::SecondaryFunction]
        );
        assert_eq!(
            kinds("$ payload props properties"),
            [Tok::Payload, Tok::Payload, Tok::Property, Tok::Property]
        );
    }

    // Facts §1.1: `5-3` is NUMBER NUMBER; `vars.x-1` is a name with a dash.
    #[test]
    fn minus_belongs_to_numbers_and_names() {
        assert_eq!(texts("5-3"), ["5", "-3"]);
        assert_eq!(texts("5 - 3"), ["5", "-", "3"]);
        assert_eq!(texts("vars.x-1"), ["vars", ".", "x-1"]);
        assert_eq!(texts("2*-1"), ["2", "*", "-1"]);
        assert_eq!(texts("1.5.3"), ["1.5", ".", "3"]);
        assert_eq!(texts("1."), ["1", "."]);
    }

    #[test]
    fn operators_take_the_longest_form() {
        assert_eq!(
            kinds("== != ! >= > <= < =~ && || .. ."),
            [
                Tok::Eq,
                Tok::Neq,
                Tok::Not,
                Tok::Gte,
                Tok::Gt,
                Tok::Lte,
                Tok::Lt,
                Tok::JsonPathParam,
                Tok::And,
                Tok::Or,
                Tok::DoubleDot,
                Tok::Dot
            ]
        );
    }

    #[test]
    fn strings_keep_their_raw_text_and_bad_escapes_fall_back_to_a_quote() {
        assert_eq!(texts(r#""a\"b" 'it\'s'"#), [r#""a\"b""#, r"'it\'s'"]);
        assert_eq!(texts(r#""\u00e9\101\77\1234""#).len(), 1);
        assert_eq!(kinds(r#""\7""#), [Tok::Quote, Tok::Number, Tok::Quote]);
        assert_eq!(kinds(r#""\q""#), [Tok::Quote, Tok::Id, Tok::Quote]);
        assert_eq!(kinds("\"abc"), [Tok::Quote, Tok::Id]);
        assert_eq!(kinds("'x\ny'"), [Tok::String]);
    }

    #[test]
    fn unknown_characters_are_skipped_with_their_column() {
        let (tokens, skipped) = tokenize("5 # + 3 é");
        assert_eq!(tokens.len(), 3);
        assert_eq!(
            skipped,
            [
                Skipped {
                    character: '#',
                    column: 3
                },
                Skipped {
                    character: 'é',
                    column: 9
                }
            ]
        );
        assert_eq!(tokens[2].column, 7);
    }
}
