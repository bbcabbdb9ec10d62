//! The syntax tree Synapse's ExpressionVisitor builds (`util/synapse/expression/ast/*Node.java`),
//! in the shapes the evaluator needs: operator chains are kept flat so that long chains do not
//! deepen the recursion (the left-associative `+ - * / % > < ...` fold left, the right-recursive
//! `and`/`or` fold right, as the Java nodes do).

use super::EvalError;
use super::eval::CompiledPath;
use super::value::ExprValue;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// LiteralNode: a number, boolean, null, or a string with its quotes.
    Literal(ExprValue),
    /// LiteralNode ARRAY: `[e1, e2]`.
    Array(Vec<Node>),
    /// Left-associative BinaryOperationNodes: `first op1 r1 op2 r2` = `(first op1 r1) op2 r2`.
    Chain {
        first: Box<Node>,
        rest: Vec<(BinOp, Node)>,
    },
    /// Right-associative logical BinaryOperationNodes: `o0 op0 (o1 op1 (o2 ...))`.
    Logical {
        operands: Vec<Node>,
        ops: Vec<BinOp>,
    },
    /// ConditionalExpressionNode.
    Conditional {
        condition: Box<Node>,
        then: Box<Node>,
        otherwise: Box<Node>,
    },
    /// PredefinedFunctionNode.
    Call { function: Function, args: Vec<Node> },
    /// PayloadAccessNode.
    Access(Box<Access>),
    /// HeadersAndPropertiesAccessNode; `key` is a string LiteralNode.
    Lookup { kind: LookupKind, key: Box<Node> },
    /// SignedExpressionNode (a `-` before a slice bound).
    Negate(Box<Node>),
    /// ArrayIndexNode: `[a,b]` (separator `,`) or a slice `[a:b]` (`:`; None is an empty bound).
    Indices {
        separator: char,
        items: Vec<Option<Node>>,
    },
    /// FilterExpressionNode: `[?( ... )]`.
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    Equals,
    NotEquals,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    And,
    Or,
}

impl BinOp {
    /// BinaryOperationNode.Operator's name, as MI's messages print it.
    pub(super) fn name(self) -> &'static str {
        match self {
            BinOp::Add => "ADD",
            BinOp::Subtract => "SUBTRACT",
            BinOp::Multiply => "MULTIPLY",
            BinOp::Divide => "DIVIDE",
            BinOp::Modulo => "MODULO",
            BinOp::Equals => "EQUALS",
            BinOp::NotEquals => "NOT_EQUALS",
            BinOp::LessThan => "LESS_THAN",
            BinOp::LessThanOrEqual => "LESS_THAN_OR_EQUAL",
            BinOp::GreaterThan => "GREATER_THAN",
            BinOp::GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

/// The kinds of PayloadAccessNode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AccessKind {
    /// `payload...` / `$...`.
    Payload,
    /// `vars...`.
    Variable,
    /// `registry(key).a.b`: JSONPath over the resource text.
    Registry,
    /// `object(x).a`.
    Object,
    /// `array(x)[0]`.
    Array,
}

/// A PayloadAccessNode: the access text as ANTLR's `getText()` gives it (no whitespace) and the
/// array-index sub-expressions whose values replace their text before the JSONPath runs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Access {
    pub kind: AccessKind,
    /// For payload and variables the whole access (`payload.a[vars.i]`); for the function
    /// kinds the JSONPath after the call (`.a[0]`).
    pub text: String,
    /// (index text, its node) in the order Java's HashMap iterates them; None for `[*]`.
    pub substitutions: Vec<(String, Option<Node>)>,
    /// The `registry(..)`/`object(..)`/`array(..)` call whose result the path reads.
    pub function: Option<Node>,
    /// The JSONPath (and variable name) worked out at compile time when no index needs a value
    /// ([`super::eval::prepare`]); None: built for each evaluation.
    pub prepared: Option<Prepared>,
}

/// What an access without index sub-expressions reads, known before any message arrives. Errors
/// are kept for evaluation time, where MI reports them.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Prepared {
    /// Payload, registry, object and array accesses: the JSONPath.
    Path(Result<CompiledPath, EvalError>),
    /// A variable: its name and the path after it (None: the whole value).
    Variable(Result<(String, Option<Result<CompiledPath, EvalError>>), EvalError>),
}

/// A FilterExpressionNode: the filter text and its components (None for plain tokens).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter {
    pub text: String,
    pub parts: Vec<(String, Option<Node>)>,
}

/// What a HeadersAndPropertiesAccessNode reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LookupKind {
    Header,
    SynapseProperty,
    Axis2Property,
    QueryParam,
    PathParam,
    FunctionParam,
    Config,
}

/// The FUNCTIONS of ExpressionLexer.g4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Function {
    Length,
    ToUpper,
    ToLower,
    SubString,
    StartsWith,
    EndsWith,
    Contains,
    Trim,
    Replace,
    Split,
    IndexOf,
    Now,
    FormatDateTime,
    CharAt,
    Abs,
    Ceil,
    Floor,
    Sqrt,
    Log,
    Pow,
    Base64Encode,
    Base64Decode,
    UrlEncode,
    UrlDecode,
    IsString,
    IsNumber,
    IsArray,
    IsObject,
    String,
    Float,
    Boolean,
    Integer,
    Round,
    Exists,
    Xpath,
    Wso2Vault,
    HashicorpVault,
    Not,
    Registry,
    Object,
    Array,
}

const FUNCTION_NAMES: &[(Function, &str)] = &[
    (Function::Length, "length"),
    (Function::ToUpper, "toUpper"),
    (Function::ToLower, "toLower"),
    (Function::SubString, "subString"),
    (Function::StartsWith, "startsWith"),
    (Function::EndsWith, "endsWith"),
    (Function::Contains, "contains"),
    (Function::Trim, "trim"),
    (Function::Replace, "replace"),
    (Function::Split, "split"),
    (Function::IndexOf, "indexOf"),
    (Function::Now, "now"),
    (Function::FormatDateTime, "formatDateTime"),
    (Function::CharAt, "charAt"),
    (Function::Abs, "abs"),
    (Function::Ceil, "ceil"),
    (Function::Floor, "floor"),
    (Function::Sqrt, "sqrt"),
    (Function::Log, "log"),
    (Function::Pow, "pow"),
    (Function::Base64Encode, "base64encode"),
    (Function::Base64Decode, "base64decode"),
    (Function::UrlEncode, "urlEncode"),
    (Function::UrlDecode, "urlDecode"),
    (Function::IsString, "isString"),
    (Function::IsNumber, "isNumber"),
    (Function::IsArray, "isArray"),
    (Function::IsObject, "isObject"),
    (Function::String, "string"),
    (Function::Float, "float"),
    (Function::Boolean, "boolean"),
    (Function::Integer, "integer"),
    (Function::Round, "round"),
    (Function::Exists, "exists"),
    (Function::Xpath, "xpath"),
    (Function::Wso2Vault, "wso2-vault"),
    (Function::HashicorpVault, "hashicorp-vault"),
    (Function::Not, "not"),
    (Function::Registry, "registry"),
    (Function::Object, "object"),
    (Function::Array, "array"),
];

impl Function {
    pub(super) fn from_name(name: &str) -> Option<Function> {
        FUNCTION_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(f, _)| *f)
    }

    pub(super) fn name(self) -> &'static str {
        FUNCTION_NAMES
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }
}

/// The order in which a `java.util.HashMap<String, _>` filled with `keys` (in this order)
/// iterates them: buckets by the spread `String.hashCode()` over the final table size, insertion
/// order within a bucket; a repeated key keeps its first place. MI substitutes index texts in this
/// order with `replaceFirst`, which matters when one text occurs inside another.
pub(super) fn java_hash_map_order<T>(entries: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut unique: Vec<(String, T)> = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        if !unique.iter().any(|(k, _)| *k == key) {
            unique.push((key, value));
        }
    }
    // The table doubles from 16 whenever the size passes 3/4 of it.
    let mut capacity = 16usize;
    while unique.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let mut keyed: Vec<(usize, usize, (String, T))> = unique
        .into_iter()
        .enumerate()
        .map(|(order, entry)| {
            let h = java_string_hash(&entry.0);
            let spread = h ^ (h >> 16);
            ((spread as usize) & (capacity - 1), order, entry)
        })
        .collect();
    keyed.sort_by_key(|(bucket, order, _)| (*bucket, *order));
    keyed.into_iter().map(|(_, _, entry)| entry).collect()
}

/// Java `String.hashCode()` over UTF-16 units, as an unsigned bit pattern.
fn java_string_hash(s: &str) -> u32 {
    s.encode_utf16().fold(0u32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(u32::from(unit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_round_trip() {
        for (f, name) in FUNCTION_NAMES {
            assert_eq!(Function::from_name(name), Some(*f));
            assert_eq!(f.name(), *name);
        }
        assert_eq!(Function::from_name("nope"), None);
    }

    #[test]
    fn hash_map_order_matches_java() {
        // Java: "a".hashCode() = 97, "b" = 98 ("a" bucket 1, "b" bucket 2); "$.index" hashes
        // higher. new HashMap<>() with "b", "a", "b" iterates a, b.
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        let order: Vec<String> = java_hash_map_order(vec![
            ("b".to_string(), 1),
            ("a".to_string(), 2),
            ("b".to_string(), 3),
        ])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
        assert_eq!(order, ["a", "b"]);
        // "Aa" and "BB" collide: insertion order within the bucket.
        let order: Vec<String> =
            java_hash_map_order(vec![("BB".to_string(), ()), ("Aa".to_string(), ())])
                .into_iter()
                .map(|(k, _)| k)
                .collect();
        assert_eq!(order, ["BB", "Aa"]);
        // Thirteen keys make the table 32 wide: "p" (112) sorts after "A" (65) by bucket.
        let keys: Vec<(String, ())> = "ABCDEFGHIJKLp"
            .chars()
            .map(|c| (c.to_string(), ()))
            .collect();
        let order: String = java_hash_map_order(keys)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(order, "ABCDEFGHIJKLp");
        let keys: Vec<(String, ())> = "pABC".chars().map(|c| (c.to_string(), ())).collect();
        let order: String = java_hash_map_order(keys)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        // Table 16: p = 112 & 15 = 0, A = 65 & 15 = 1, B = 2, C = 3.
        assert_eq!(order, "pABC");
    }
}
