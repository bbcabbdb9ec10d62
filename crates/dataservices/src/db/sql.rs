//! JDBC-style `?` placeholders in SQL text: counted for every database and rewritten to
//! PostgreSQL's `$1, $2, …` (the form its server-side binding takes). SQL already written with
//! PostgreSQL's `$n` (and no `?`) is left alone and binds as many values as its highest `n`.
//!
//! A `?` inside a string literal, a quoted identifier or a comment is text, not a placeholder;
//! the scanner knows each dialect's quoting: PostgreSQL's `E'…'` escapes and `$tag$…$tag$`
//! bodies, MySQL's backslash escapes, backticks and `#` comments, SQLite's `[…]` identifiers.
//! On PostgreSQL `??` stands for a literal `?` (the JSON operators), as the PostgreSQL JDBC
//! driver reads it. Values are never spliced into the text: this module only renames markers.

use std::borrow::Cow;

/// Which database's quoting rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    Sqlite,
}

/// SQL ready for the driver, and how many values it binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSql<'a> {
    pub sql: Cow<'a, str>,
    /// The `?` placeholders found (and, on PostgreSQL, numbered).
    pub placeholders: usize,
    /// PostgreSQL only: the highest native `$n` placeholder already in the text (SQL rendered
    /// for PostgreSQL by the caller), 0 when there is none.
    pub highest_numbered: usize,
}

impl PreparedSql<'_> {
    /// How many values the statement binds: its `?` placeholders, or for SQL written with
    /// PostgreSQL's `$n` (and no `?`), the highest `n`.
    pub fn parameters(&self) -> usize {
        if self.placeholders == 0 {
            self.highest_numbered
        } else {
            self.placeholders
        }
    }
}

/// Counts the `?` placeholders of `sql` and, for PostgreSQL, numbers them.
pub fn prepare(sql: &str, dialect: Dialect) -> PreparedSql<'_> {
    let bytes = sql.as_bytes();
    let mut out: Option<String> = None;
    // Start of the text not yet copied to `out` (PostgreSQL only).
    let mut copied = 0;
    let mut count = 0;
    let mut highest_numbered = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' => {
                let backslash = match dialect {
                    Dialect::MySql => true,
                    Dialect::Postgres => {
                        i > 0
                            && matches!(bytes[i - 1], b'E' | b'e')
                            && (i < 2 || !is_ident_byte(bytes, i - 2))
                    }
                    Dialect::Sqlite => false,
                };
                i = skip_quoted(bytes, i, b'\'', backslash);
            }
            b'"' => i = skip_quoted(bytes, i, b'"', dialect == Dialect::MySql),
            b'`' if dialect != Dialect::Postgres => i = skip_quoted(bytes, i, b'`', false),
            b'[' if dialect == Dialect::Sqlite => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = skip_line(bytes, i),
            b'#' if dialect == Dialect::MySql => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2);
            }
            b'$' if dialect == Dialect::Postgres
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let n = sql[i + 1..i + 1 + digits]
                    .parse::<usize>()
                    .unwrap_or(usize::MAX);
                highest_numbered = highest_numbered.max(n);
                i += 1 + digits;
            }
            b'$' if dialect == Dialect::Postgres && !is_ident_byte(bytes, i.wrapping_sub(1)) => {
                i = skip_dollar_quoted(bytes, i);
            }
            b'?' => {
                if dialect == Dialect::Postgres {
                    let o = out.get_or_insert_with(|| String::with_capacity(sql.len() + 8));
                    o.push_str(&sql[copied..i]);
                    if bytes.get(i + 1) == Some(&b'?') {
                        o.push('?');
                        i += 2;
                        copied = i;
                        continue;
                    }
                    count += 1;
                    o.push('$');
                    o.push_str(&count.to_string());
                    copied = i + 1;
                } else {
                    count += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    let sql = match out {
        Some(mut o) => {
            o.push_str(&sql[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(sql),
    };
    PreparedSql {
        sql,
        placeholders: count,
        highest_numbered,
    }
}

/// Whether `bytes[i]` exists and can be part of an identifier (so a following `'` or `$` is not
/// the start of an `E'…'` string or a dollar quote).
fn is_ident_byte(bytes: &[u8], i: usize) -> bool {
    bytes
        .get(i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80)
}

/// Index just past the quoted run that starts at `start` (a doubled quote is an escaped quote;
/// with `backslash`, so is `\` + anything). An unterminated quote runs to the end.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if backslash && c == b'\\' {
            i += 2;
        } else if c == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn skip_line(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(bytes.len(), |p| start + p + 1)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// PostgreSQL `$tag$ … $tag$` (tag possibly empty). A `$` that does not open one (`$1`, a lone
/// `$`) is skipped as a single character.
fn skip_dollar_quoted(bytes: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    if bytes.get(j).is_some_and(u8::is_ascii_digit) {
        return start + 1;
    }
    while bytes
        .get(j)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
    {
        j += 1;
    }
    if bytes.get(j) != Some(&b'$') {
        return start + 1;
    }
    let tag = &bytes[start..=j];
    find(bytes, j + 1, tag).map_or(bytes.len(), |p| p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> (String, usize) {
        let p = prepare(sql, Dialect::Postgres);
        (p.sql.into_owned(), p.placeholders)
    }

    #[test]
    fn postgres_numbers_placeholders_outside_quotes_and_comments() {
        assert_eq!(
            pg("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?"),
            (
                "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2".into(),
                2
            )
        );
        assert_eq!(
            pg("SELECT \"a?\" -- what?\n, ? /* ? */ FROM t"),
            ("SELECT \"a?\" -- what?\n, $1 /* ? */ FROM t".into(), 1)
        );
        assert_eq!(
            pg("SELECT 'it''s ?', ?"),
            ("SELECT 'it''s ?', $1".into(), 1)
        );
        assert_eq!(pg(r"SELECT E'\'?', ?"), (r"SELECT E'\'?', $1".into(), 1));
        assert_eq!(
            pg("SELECT $fn$ ? $fn$, $$?$$, ?"),
            ("SELECT $fn$ ? $fn$, $$?$$, $1".into(), 1)
        );
        assert_eq!(
            pg("SELECT j ?? 'k' FROM t WHERE id = ?"),
            ("SELECT j ? 'k' FROM t WHERE id = $1".into(), 1)
        );
        // A `$` inside an identifier is not a dollar quote.
        assert_eq!(
            pg("SELECT a$b$ FROM t WHERE x = ?"),
            ("SELECT a$b$ FROM t WHERE x = $1".into(), 1)
        );
        assert_eq!(pg("SELECT 1"), ("SELECT 1".into(), 0));
        assert!(matches!(
            prepare("SELECT 1", Dialect::Postgres).sql,
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn postgres_native_placeholders_are_counted_by_the_highest_number() {
        let p = prepare(
            "SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $1 AND d = '$9'",
            Dialect::Postgres,
        );
        assert_eq!(
            (p.placeholders, p.highest_numbered, p.parameters()),
            (0, 2, 2)
        );
        assert!(matches!(p.sql, Cow::Borrowed(_)));
        assert_eq!(
            prepare("SELECT $$ $3 $$, ?", Dialect::Postgres).parameters(),
            1
        );
    }

    #[test]
    fn mysql_and_sqlite_count_without_rewriting() {
        let p = prepare(r#"SELECT '\'?', "?", `?`, ? # ?"#, Dialect::MySql);
        assert_eq!(
            (p.sql.as_ref(), p.placeholders),
            (r#"SELECT '\'?', "?", `?`, ? # ?"#, 1)
        );
        let p = prepare("SELECT [a?], '?', ?, ? -- ?", Dialect::Sqlite);
        assert_eq!(p.placeholders, 2);
        // SQLite has no backslash escapes: the quote closes the string.
        assert_eq!(prepare(r"SELECT '\', ?", Dialect::Sqlite).placeholders, 1);
    }

    #[test]
    fn unterminated_quotes_and_comments_hide_the_rest() {
        assert_eq!(pg("SELECT '?, ?").1, 0);
        assert_eq!(pg("SELECT /* ?, ?").1, 0);
        assert_eq!(pg("SELECT $x$ ?").1, 0);
    }
}
