//! `Span`: where something came from (`file:line:column`), carried by every artifact, resource,
//! mediator, endpoint and expression so that every error and log line can point at the source.

use std::fmt;
use std::sync::Arc;

/// A position in an artifact file. `file` is the caller's label (e.g. `api/Foo.xml`); `line` and
/// `column` are 1-based. `line == 0` means "the whole file" (I/O errors, wrong folder).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: Arc<str>, line: u32, column: u32) -> Self {
        Span { file, line, column }
    }

    /// A span naming only the file (for errors that have no position inside it).
    pub fn whole_file(file: &str) -> Self {
        Span {
            file: Arc::from(file),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_column() {
        let span = Span::new(Arc::from("api/Foo.xml"), 14, 9);
        assert_eq!(span.to_string(), "api/Foo.xml:14:9");
        assert_eq!(Span::whole_file("api/Foo.xml").to_string(), "api/Foo.xml");
    }
}
