//! Test helper: builds `.car` zips in memory with the `zip` writer.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub(crate) struct ZipBuilder {
    writer: ZipWriter<Cursor<Vec<u8>>>,
}

impl ZipBuilder {
    pub fn new() -> Self {
        ZipBuilder {
            writer: ZipWriter::new(Cursor::new(Vec::new())),
        }
    }

    fn add(&mut self, name: &str, content: &[u8], method: CompressionMethod) -> &mut Self {
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(false);
        self.writer.start_file(name, options).expect("start entry");
        self.writer.write_all(content).expect("write entry");
        self
    }

    pub fn stored(&mut self, name: &str, content: &[u8]) -> &mut Self {
        self.add(name, content, CompressionMethod::Stored)
    }

    pub fn deflated(&mut self, name: &str, content: &[u8]) -> &mut Self {
        self.add(name, content, CompressionMethod::Deflated)
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.writer
            .add_directory(name, SimpleFileOptions::default())
            .expect("add directory");
        self
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.writer
            .add_symlink(name, target, SimpleFileOptions::default())
            .expect("add symlink");
        self
    }

    /// Another entry with the same packed bytes as `from` (no recompression).
    pub fn copy(&mut self, from: &str, to: &str) -> &mut Self {
        self.writer.deep_copy_file(from, to).expect("copy entry");
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.writer.finish().expect("finish zip").into_inner()
    }
}

/// A zip of stored (uncompressed) entries.
pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipBuilder::new();
    for (name, content) in entries {
        zip.stored(name, content);
    }
    zip.finish()
}
