//! Writes a [`Node`] as YAML the way MI's two YAML writers do; both drive SnakeYAML's
//! `Emitter` (block style, indent 2, sequences in a mapping not indented, lines split past
//! column 80), which this file follows state for state. They differ in how they ask for each
//! scalar:
//! - [`Dialect::SnakeYaml`]: `new Yaml().dumpAsMap(map)` (SnakeYAML 2.2 `StandardRepresenter`):
//!   a string that would read back as something else (`'2.0'`, `'123'`, `'yes'`, `''`) is
//!   single-quoted; multi-line strings are literal blocks.
//! - [`Dialect::Jackson`]: swagger-core's `Yaml.mapper()` (Jackson 2.16 `YAMLGenerator` with
//!   `MINIMIZE_QUOTES` and `ALWAYS_QUOTE_NUMBERS_AS_STRINGS`, `StringQuotingChecker.Default`):
//!   reserved words, number-like strings and keys starting like a number are double-quoted.
//!
//! Source: SnakeYAML `emitter/Emitter.java` (`analyzeScalar`, `chooseScalarStyle`,
//! `writePlain`, `writeSingleQuoted`, `writeDoubleQuoted`, `writeLiteral`, `checkSimpleKey`).

use super::document::{Node, java_double};
use super::yaml_load::resolves_to_string;

/// Which MI writer to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    SnakeYaml,
    Jackson,
}

/// `DumperOptions` defaults.
const BEST_INDENT: usize = 2;
const BEST_WIDTH: usize = 80;
/// `DumperOptions.maxSimpleKeyLength`: longer keys are written as `? key`.
const MAX_SIMPLE_KEY_LENGTH: usize = 128;
/// SnakeYAML's tag for strings, which `checkSimpleKey` counts (`!!str`).
const STR_TAG_LENGTH: usize = 5;

/// The YAML text of `node` (a mapping or sequence at the root), ending with a line break.
pub fn emit_yaml(node: &Node, dialect: Dialect) -> String {
    let mut emitter = Emitter {
        dialect,
        out: String::new(),
        column: 0,
        indent: None,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        flow_level: 0,
        mapping_context: false,
        simple_key_context: false,
    };
    emitter.node(node, false, false, false);
    // Document end (`ExpectDocumentEnd.writeIndent`).
    emitter.write_indent();
    emitter.out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// One scalar as the writer hands it to the emitter.
struct ScalarEvent {
    value: String,
    /// The style asked for (`ScalarEvent.getScalarStyle`).
    style: Style,
    /// `ImplicitTuple.canOmitTagInPlainScalar`: plain is only chosen when it reads back as the
    /// same type.
    plain_implicit: bool,
    /// Length of the tag `checkSimpleKey` counts.
    tag_length: usize,
}

struct Analysis {
    empty: bool,
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
    allow_block: bool,
}

struct Emitter {
    dialect: Dialect,
    out: String,
    column: usize,
    indent: Option<usize>,
    indents: Vec<Option<usize>>,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
    mapping_context: bool,
    simple_key_context: bool,
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Java `String.length()`: UTF-16 units.
fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

impl Emitter {
    /// `expectNode`.
    fn node(&mut self, node: &Node, mapping: bool, simple_key: bool, is_key: bool) {
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match node {
            Node::Seq(items) if items.is_empty() || self.flow_level > 0 => {
                self.empty_flow("[", "]");
            }
            Node::Map(entries) if entries.is_empty() || self.flow_level > 0 => {
                self.empty_flow("{", "}");
            }
            Node::Seq(items) => {
                let indentless = self.mapping_context && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, false, false, false);
                }
                self.indent = self.indents.pop().flatten();
            }
            Node::Map(entries) => {
                self.increase_indent(false, false);
                for (key, value) in entries {
                    self.write_indent();
                    let key_node = Node::Str(key.clone());
                    let event = self.scalar_event(&key_node, true);
                    let length = event.tag_length + utf16_len(&event.value);
                    let simple = length < MAX_SIMPLE_KEY_LENGTH
                        && !event.value.is_empty()
                        && !event.value.chars().any(is_line_break);
                    if simple {
                        self.node(&key_node, true, true, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.node(&key_node, true, false, true);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(value, true, false, false);
                }
                self.indent = self.indents.pop().flatten();
            }
            scalar => {
                let event = self.scalar_event(scalar, is_key);
                self.increase_indent(true, false);
                self.process_scalar(&event);
                self.indent = self.indents.pop().flatten();
            }
        }
    }

    /// Our collections in flow context are always empty: `[]`, `{}`.
    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        self.indent = self.indents.pop().flatten();
        self.flow_level -= 1;
        self.write_indicator(close, false, false, false);
    }

    fn scalar_event(&self, node: &Node, is_key: bool) -> ScalarEvent {
        let (value, text) = match node {
            Node::Str(s) => (None, s.clone()),
            Node::Null => (Some(()), "null".to_string()),
            Node::Bool(b) => (Some(()), b.to_string()),
            Node::Int(digits) => (Some(()), digits.clone()),
            Node::Float(f) => (Some(()), self.float_text(*f)),
            Node::Seq(_) | Node::Map(_) => (Some(()), node.java_string()),
        };
        let is_string = value.is_none();
        match self.dialect {
            Dialect::SnakeYaml => {
                let style = if is_string && text.chars().any(is_line_break) {
                    Style::Literal
                } else {
                    Style::Plain
                };
                ScalarEvent {
                    plain_implicit: !is_string || resolves_to_string(&text),
                    value: text,
                    style,
                    tag_length: STR_TAG_LENGTH,
                }
            }
            Dialect::Jackson => {
                let style = if !is_string {
                    Style::Plain
                } else if is_key {
                    if jackson_quotes_name(&text) {
                        Style::DoubleQuoted
                    } else {
                        Style::Plain
                    }
                } else if text.is_empty() {
                    Style::DoubleQuoted
                } else if text.contains('\n') {
                    Style::Literal
                } else if jackson_quotes_value(&text) || jackson_plain_number(&text) {
                    Style::DoubleQuoted
                } else {
                    Style::Plain
                };
                ScalarEvent {
                    value: text,
                    style,
                    plain_implicit: true,
                    tag_length: 0,
                }
            }
        }
    }

    fn float_text(&self, f: f64) -> String {
        match self.dialect {
            // SafeRepresenter.RepresentNumber.
            Dialect::SnakeYaml if f.is_nan() => ".NaN".into(),
            Dialect::SnakeYaml if f.is_infinite() => if f > 0.0 { ".inf" } else { "-.inf" }.into(),
            _ => java_double(f),
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        match self.indent {
            None => self.indent = Some(if flow { BEST_INDENT } else { 0 }),
            Some(i) if !indentless => self.indent = Some(i + BEST_INDENT),
            Some(_) => {}
        }
    }

    fn process_scalar(&mut self, event: &ScalarEvent) {
        let analysis = analyze(&event.value);
        let style = self.choose_style(event, &analysis);
        let split = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(&event.value, split),
            Style::SingleQuoted => self.write_single_quoted(&event.value, split),
            Style::DoubleQuoted => self.write_double_quoted(&event.value, split),
            Style::Literal => self.write_literal(&event.value),
        }
    }

    /// `chooseScalarStyle`.
    fn choose_style(&self, event: &ScalarEvent, a: &Analysis) -> Style {
        if event.style == Style::DoubleQuoted {
            return Style::DoubleQuoted;
        }
        if event.style == Style::Plain
            && event.plain_implicit
            && !(self.simple_key_context && (a.empty || a.multiline))
            && ((self.flow_level != 0 && a.allow_flow_plain)
                || (self.flow_level == 0 && a.allow_block_plain))
        {
            return Style::Plain;
        }
        if event.style == Style::Literal
            && self.flow_level == 0
            && !self.simple_key_context
            && a.allow_block
        {
            return Style::Literal;
        }
        if (event.style == Style::Plain || event.style == Style::SingleQuoted)
            && a.allow_single_quoted
            && !(self.simple_key_context && a.multiline)
        {
            return Style::SingleQuoted;
        }
        Style::DoubleQuoted
    }

    fn write(&mut self, s: &str) {
        self.column += utf16_len(s);
        self.out.push_str(s);
    }

    fn write_chars(&mut self, chars: &[char]) {
        for &c in chars {
            self.column += c.len_utf16();
            self.out.push(c);
        }
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        whitespace: bool,
        indentation: bool,
    ) {
        if !self.whitespace && need_whitespace {
            self.write(" ");
        }
        self.whitespace = whitespace;
        self.indention = self.indention && indentation;
        self.write(indicator);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break(None);
        }
        if indent > self.column {
            self.whitespace = true;
            let spaces = " ".repeat(indent - self.column);
            self.write(&spaces);
        }
    }

    fn write_line_break(&mut self, data: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push(data.unwrap_or('\n'));
    }

    /// A run of line breaks as they are: `\n` as the line break, others written as themselves.
    fn write_breaks(&mut self, breaks: &[char]) {
        for &br in breaks {
            self.write_line_break(Some(br));
        }
    }

    fn write_plain(&mut self, text: &str, split: bool) {
        let text: Vec<char> = text.chars().collect();
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0, 0);
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > BEST_WIDTH && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write_chars(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_line_break) {
                    if text[start] == '\n' {
                        self.write_line_break(None);
                    }
                    self.write_breaks(&text[start..end]);
                    self.write_indent();
                    self.whitespace = false;
                    self.indention = false;
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_line_break(c)) {
                self.write_chars(&text[start..end]);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_line_break(c);
            }
            end += 1;
        }
    }

    fn write_single_quoted(&mut self, text: &str, split: bool) {
        self.write_indicator("'", true, false, false);
        let text: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0, 0);
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > BEST_WIDTH
                        && split
                        && start != 0
                        && end != text.len()
                    {
                        self.write_indent();
                    } else {
                        self.write_chars(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_line_break) {
                    if text[start] == '\n' {
                        self.write_line_break(None);
                    }
                    self.write_breaks(&text[start..end]);
                    self.write_indent();
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_line_break(c)) && start < end {
                self.write_chars(&text[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_line_break(c);
            }
            end += 1;
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &str, split: bool) {
        self.write_indicator("\"", true, false, false);
        let text: Vec<char> = text.chars().collect();
        let (mut start, mut end) = (0, 0);
        while end <= text.len() {
            let ch = text.get(end).copied();
            let needs_escape = match ch {
                None => true,
                Some(c) => {
                    matches!(
                        c,
                        '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
                    ) || !(' '..='~').contains(&c)
                }
            };
            if needs_escape {
                if start < end {
                    self.write_chars(&text[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let data = double_quoted_escape(c);
                    self.write(&data);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < text.len()
                && (ch == Some(' ') || start >= end)
                // Java's `column + (end - start)`, where `start` may be `end + 1`.
                && self.column as isize + end as isize - start as isize > BEST_WIDTH as isize
                && split
            {
                let mut data: String = if start >= end {
                    String::new()
                } else {
                    text[start..end].iter().collect()
                };
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.write(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if text.get(start) == Some(&' ') {
                    self.write("\\");
                }
            }
            end += 1;
        }
        self.write_indicator("\"", false, false, false);
    }

    fn write_literal(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let mut hints = String::new();
        if chars.first().is_some_and(|&c| c == ' ' || is_line_break(c)) {
            hints.push_str(&BEST_INDENT.to_string());
        }
        match chars.last() {
            Some(&last) if !is_line_break(last) => hints.push('-'),
            Some(_) if chars.len() == 1 || is_line_break(chars[chars.len() - 2]) => hints.push('+'),
            _ => {}
        }
        self.write_indicator(&format!("|{hints}"), true, false, false);
        self.write_line_break(None);
        let mut breaks = true;
        let (mut start, mut end) = (0, 0);
        while end <= chars.len() {
            let ch = chars.get(end).copied();
            if breaks {
                if !ch.is_some_and(is_line_break) {
                    self.write_breaks(&chars[start..end]);
                    if ch.is_some() {
                        self.write_indent();
                    }
                    start = end;
                }
            } else if ch.is_none_or(is_line_break) {
                self.write_chars(&chars[start..end]);
                if ch.is_none() {
                    self.write_line_break(None);
                }
                start = end;
            }
            if let Some(c) = ch {
                breaks = is_line_break(c);
            }
            end += 1;
        }
    }
}

/// `ESCAPE_REPLACEMENTS`, else the character itself when printable, else `\xXX`/`\uXXXX`/
/// `\UXXXXXXXX`.
fn double_quoted_escape(c: char) -> String {
    let short = match c {
        '\0' => Some('0'),
        '\u{7}' => Some('a'),
        '\u{8}' => Some('b'),
        '\t' => Some('t'),
        '\n' => Some('n'),
        '\u{b}' => Some('v'),
        '\u{c}' => Some('f'),
        '\r' => Some('r'),
        '\u{1b}' => Some('e'),
        '"' => Some('"'),
        '\\' => Some('\\'),
        '\u{85}' => Some('N'),
        '\u{a0}' => Some('_'),
        '\u{2028}' => Some('L'),
        '\u{2029}' => Some('P'),
        _ => None,
    };
    if let Some(s) = short {
        return format!("\\{s}");
    }
    if is_printable(c) {
        return c.to_string();
    }
    let code = c as u32;
    if code <= 0xFF {
        format!("\\x{code:02x}")
    } else if code > 0xFFFF {
        format!("\\U{code:08x}")
    } else {
        format!("\\u{code:04x}")
    }
}

/// SnakeYAML `StreamReader.isPrintable`.
fn is_printable(c: char) -> bool {
    let c = c as u32;
    (0x20..=0x7E).contains(&c)
        || c == 0x9
        || c == 0xA
        || c == 0xD
        || c == 0x85
        || (0xA0..=0xD7FF).contains(&c)
        || (0xE000..=0xFFFD).contains(&c)
        || (0x10000..=0x10FFFF).contains(&c)
}

/// `analyzeScalar` (with `allowUnicode`).
fn analyze(scalar: &str) -> Analysis {
    let chars: Vec<char> = scalar.chars().collect();
    if chars.is_empty() {
        return Analysis {
            empty: true,
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
            allow_block: false,
        };
    }
    let blank = |c: char| c == ' ' || c == '\t' || c == '\0';
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    if scalar.starts_with("---") || scalar.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let mut followed_by_whitespace = chars.len() == 1 || blank(chars[1]) || is_line_break(chars[1]);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                flow_indicators = true;
                block_indicators = true;
            }
            if c == '?' || c == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if c == '-' && followed_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(c) {
                flow_indicators = true;
            }
            if c == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if c == '#' && preceded_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        let is_break = is_line_break(c);
        if is_break {
            line_breaks = true;
        }
        if !(c == '\n' || (' '..='~').contains(&c)) {
            let code = c as u32;
            let unicode = code == 0x85
                || (0xA0..=0xD7FF).contains(&code)
                || (0xE000..=0xFFFD).contains(&code)
                || (0x10000..=0x10FFFF).contains(&code);
            if !unicode {
                special_characters = true;
            }
        }
        if c == ' ' {
            if index == 0 {
                leading_space = true;
            }
            if index == chars.len() - 1 {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break {
            if index == 0 {
                leading_break = true;
            }
            if index == chars.len() - 1 {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        index += 1;
        preceded_by_whitespace = blank(c) || is_break;
        followed_by_whitespace = true;
        if index + 1 < chars.len() {
            let next = chars[index + 1];
            followed_by_whitespace = blank(next) || is_break;
        }
    }
    let mut allow_flow_plain = true;
    let mut allow_block_plain = true;
    let mut allow_single_quoted = true;
    let mut allow_block = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if trailing_space {
        allow_block = false;
    }
    if break_space {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if space_break || special_characters {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
        allow_block = false;
    }
    if line_breaks {
        allow_flow_plain = false;
    }
    if flow_indicators {
        allow_flow_plain = false;
    }
    if block_indicators {
        allow_block_plain = false;
    }
    Analysis {
        empty: false,
        multiline: line_breaks,
        allow_flow_plain,
        allow_block_plain,
        allow_single_quoted,
        allow_block,
    }
}

/// Jackson `StringQuotingChecker.isReservedKeyword`.
fn jackson_reserved(s: &str) -> bool {
    s.is_empty()
        || s.starts_with('~')
        || matches!(
            s,
            "false"
                | "False"
                | "FALSE"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "null"
                | "Null"
                | "NULL"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
                | "true"
                | "True"
                | "TRUE"
                | "y"
                | "Y"
                | "yes"
                | "Yes"
                | "YES"
        )
}

/// `StringQuotingChecker.Default.needToQuoteName`.
fn jackson_quotes_name(s: &str) -> bool {
    jackson_reserved(s)
        || s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
        || s.chars().any(|c| c < ' ')
}

/// `StringQuotingChecker.Default.needToQuoteValue`.
fn jackson_quotes_value(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let blank = |c: Option<&char>| matches!(c, Some(' ') | Some('\t'));
    jackson_reserved(s)
        || chars.iter().enumerate().any(|(i, &c)| match c {
            ',' | '[' | ']' | '{' | '}' => true,
            '#' => i > 0 && blank(chars.get(i - 1)),
            ':' => i + 1 < chars.len() && blank(chars.get(i + 1)),
            _ => false,
        })
}

/// `YAMLGenerator.PLAIN_NUMBER_P` (`-?[0-9]*(\.[0-9]*)?`), for `ALWAYS_QUOTE_NUMBERS_AS_STRINGS`.
fn jackson_plain_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::swagger::document::{Numbers, parse_json};

    fn snake(json: &str) -> String {
        emit_yaml(
            &parse_json(json, Numbers::AllDouble).unwrap(),
            Dialect::SnakeYaml,
        )
    }

    fn jackson(json: &str) -> String {
        emit_yaml(
            &parse_json(json, Numbers::IntegersKept).unwrap(),
            Dialect::Jackson,
        )
    }

    #[test]
    fn snakeyaml_quotes_what_would_read_back_otherwise() {
        assert_eq!(
            snake(
                r##"{"swagger":"2.0","version":"1.0.0","n":"123456","ref":"#/definitions/T","200":{"a":"x"},"e":"","b":"yes","d":"2001-12-14","port":8080,"list":["http"],"empty":[],"o":{},"t":true,"z":null}"##
            ),
            "swagger: '2.0'\nversion: 1.0.0\nn: '123456'\nref: '#/definitions/T'\n'200':\n  a: x\ne: ''\nb: 'yes'\nd: '2001-12-14'\nport: 8080.0\nlist:\n- http\nempty: []\no: {}\nt: true\nz: null\n"
        );
    }

    #[test]
    fn sequences_of_mappings_and_sequences() {
        assert_eq!(
            snake(r#"{"tags":[{"name":"Test","description":"Test"}],"m":[["a","b"],[]]}"#),
            "tags:\n- name: Test\n  description: Test\nm:\n- - a\n  - b\n- []\n"
        );
    }

    #[test]
    fn long_plain_lines_split_past_column_80() {
        let text = "word ".repeat(30);
        let yaml = snake(&format!(
            r#"{{"a":{{"description":"{}"}}}}"#,
            text.trim_end()
        ));
        let expected = format!(
            "a:\n  description: {}\n    {}\n",
            "word ".repeat(14).trim_end(),
            "word ".repeat(16).trim_end()
        );
        assert_eq!(yaml, expected);
    }

    #[test]
    fn special_strings() {
        assert_eq!(
            snake(r#"{"a":"line1\nline2","b":"x: y","c":" lead","d":"tab\there","e":"it's"}"#),
            "a: |-\n  line1\n  line2\nb: 'x: y'\nc: ' lead'\nd: \"tab\\there\"\ne: it's\n"
        );
        assert_eq!(snake(r#"{"a":"- x","b":"ü"}"#), "a: '- x'\nb: ü\n");
    }

    #[test]
    fn long_keys_are_complex() {
        let key = "k".repeat(123);
        assert_eq!(
            snake(&format!(r#"{{"{key}":1}}"#)),
            format!("? {key}\n: 1.0\n")
        );
        let key = "k".repeat(122);
        assert_eq!(snake(&format!(r#"{{"{key}":1}}"#)), format!("{key}: 1.0\n"));
    }

    #[test]
    fn jackson_minimize_quotes() {
        assert_eq!(
            jackson(
                r##"{"openapi":"3.0.1","version":"1.0","200":{"description":"ok"},"t":"true","e":"","n":5,"f":1.5,"s":"a, b","x":"#x","y":"a #b","p":"/pet/{id}","empty":[]}"##
            ),
            // `n` and `y` are reserved words too (YAML 1.1 booleans).
            "openapi: 3.0.1\nversion: \"1.0\"\n\"200\":\n  description: ok\nt: \"true\"\ne: \"\"\n\"n\": 5\nf: 1.5\ns: \"a, b\"\nx: '#x'\n\"y\": \"a #b\"\np: \"/pet/{id}\"\nempty: []\n"
        );
    }
}
