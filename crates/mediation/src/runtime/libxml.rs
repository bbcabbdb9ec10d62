//! The libxml2 declarations shared by the XSLT (`xslt.rs`) and XML Schema (`xsd.rs`) runtimes:
//! parser options, the entity-loader type and the parser entry points both call. Each runtime keeps
//! the declarations only it uses.

use std::ffi::{c_char, c_int, c_void};

// xmlParserOption values (libxml2 parser.h).
pub(super) const XML_PARSE_NOERROR: c_int = 1 << 5;
pub(super) const XML_PARSE_NOWARNING: c_int = 1 << 6;
pub(super) const XML_PARSE_NONET: c_int = 1 << 11;
pub(super) const XML_PARSE_NOCDATA: c_int = 1 << 14;

/// libxml2's `xmlExternalEntityLoader`.
pub(super) type EntityLoaderFn =
    extern "C" fn(url: *const c_char, id: *const c_char, ctxt: *mut c_void) -> *mut c_void;

#[link(name = "xml2")]
unsafe extern "C" {
    pub(super) fn xmlInitParser();
    pub(super) fn xmlReadMemory(
        buffer: *const c_char,
        size: c_int,
        url: *const c_char,
        encoding: *const c_char,
        options: c_int,
    ) -> *mut c_void;
    pub(super) fn xmlFreeDoc(doc: *mut c_void);
    pub(super) fn xmlSetExternalEntityLoader(f: EntityLoaderFn);
    pub(super) fn xmlNewStringInputStream(ctxt: *mut c_void, buffer: *const u8) -> *mut c_void;
}
