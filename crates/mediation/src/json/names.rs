//! JSON keys <-> XML element/attribute names, as Synapse commons `json/JsonReaderDelegate.java`
//! (JSON -> XML) and `json/XmlReaderDelegate.java` (XML -> JSON) rename them: a key starting with a
//! digit gets `_JsonReader_PD_` in front, a key starting with `$` has it replaced by
//! `_JsonReader_PS_`. Any other character that cannot appear in an XML name is written as
//! `_JsonReader_<code point>_`, which is MI's `synapse.commons.json.buildValidNCNames=true` form; we
//! always apply it because the XML text must parse (MI's default would emit unparsable XML).

const ID_KEY: &str = "_JsonReader_";
const PRECEDING_DIGIT: &str = "_JsonReader_PD_";
const PRECEDING_DOLLAR: &str = "_JsonReader_PS_";
/// Ours, not MI's: MI would emit an element without a name for an empty key.
const EMPTY_KEY: &str = "_JsonReader_EMPTY_";

fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// The XML name MI gives the JSON key `key` (always a valid NCName).
pub(crate) fn key_to_xml_name(key: &str) -> String {
    let Some(first) = key.chars().next() else {
        return EMPTY_KEY.to_string();
    };
    let (prefix, rest) = if first.is_ascii_digit() {
        (PRECEDING_DIGIT, key)
    } else if first == '$' {
        (PRECEDING_DOLLAR, &key[1..])
    } else {
        ("", key)
    };
    let mut name = String::with_capacity(prefix.len() + rest.len());
    name.push_str(prefix);
    for c in rest.chars() {
        let valid = if name.is_empty() {
            is_name_start_char(c)
        } else {
            is_name_char(c)
        };
        if valid {
            name.push(c);
        } else {
            name.push_str(ID_KEY);
            name.push_str(&u32::from(c).to_string());
            name.push('_');
        }
    }
    if name.is_empty() {
        // Only a lone "$" gets here: "_JsonReader_PS_" plus nothing.
        name.push_str(PRECEDING_DOLLAR);
    }
    name
}

/// The JSON key for the XML local name `name` (inverse of [`key_to_xml_name`]).
pub(crate) fn xml_name_to_key(name: &str) -> String {
    if name == EMPTY_KEY {
        return String::new();
    }
    if let Some(rest) = name.strip_prefix(PRECEDING_DIGIT) {
        decode_code_points(rest)
    } else if let Some(rest) = name.strip_prefix(PRECEDING_DOLLAR) {
        format!("${}", decode_code_points(rest))
    } else {
        decode_code_points(name)
    }
}

/// Replaces each `_JsonReader_<decimal>_` by that character; other text is kept
/// (XmlReaderDelegate.toOrigJsonKey).
fn decode_code_points(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(at) = rest.find(ID_KEY) {
        out.push_str(&rest[..at]);
        let after = &rest[at + ID_KEY.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let decoded = (digits > 0 && after.as_bytes().get(digits) == Some(&b'_'))
            .then(|| after[..digits].parse::<u32>().ok())
            .flatten()
            .filter(|&n| n > 0)
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[digits + 1..];
            }
            None => {
                out.push_str(ID_KEY);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // JsonReaderDelegate.getLocalName: digit -> PRECEDING_DIGIT + name; '$' -> PRECEDING_DOLLOR + rest.
    #[test]
    fn json_reader_delegate_prefixes_leading_digit_and_dollar() {
        assert_eq!(key_to_xml_name("2xx"), "_JsonReader_PD_2xx");
        assert_eq!(key_to_xml_name("$ref"), "_JsonReader_PS_ref");
        assert_eq!(key_to_xml_name("plain"), "plain");
        assert_eq!(xml_name_to_key("_JsonReader_PD_2xx"), "2xx");
        assert_eq!(xml_name_to_key("_JsonReader_PS_ref"), "$ref");
    }

    // JsonReaderDelegate.toValidNCName: ID_KEY + (int) c + '_'.
    #[test]
    fn invalid_name_characters_use_build_valid_nc_names_form() {
        assert_eq!(key_to_xml_name("first name"), "first_JsonReader_32_name");
        assert_eq!(key_to_xml_name("a:b"), "a_JsonReader_58_b");
        assert_eq!(key_to_xml_name("-x"), "_JsonReader_45_x");
        assert_eq!(xml_name_to_key("first_JsonReader_32_name"), "first name");
        assert_eq!(xml_name_to_key("a_JsonReader_58_b"), "a:b");
    }

    #[test]
    fn malformed_escapes_are_kept_verbatim() {
        assert_eq!(xml_name_to_key("a_JsonReader_x_"), "a_JsonReader_x_");
        assert_eq!(xml_name_to_key("a_JsonReader_0_"), "a_JsonReader_0_");
        assert_eq!(
            xml_name_to_key("a_JsonReader_99999999999_"),
            "a_JsonReader_99999999999_"
        );
        assert_eq!(xml_name_to_key("a_JsonReader_12"), "a_JsonReader_12");
    }

    #[test]
    fn empty_and_lone_dollar_keys_round_trip() {
        for key in ["", "$", "$1", "1$", "é", "日本", "a.b", "x-y"] {
            let name = key_to_xml_name(key);
            assert!(
                roxmltree::Document::parse(&format!("<{name}/>")).is_ok(),
                "{name}"
            );
            assert_eq!(xml_name_to_key(&name), key);
        }
    }
}
