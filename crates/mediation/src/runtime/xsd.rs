//! W3C XML Schema validation through libxml2 (the system library, `libxml2-dev` to build): a
//! minimal safe wrapper over `xmlSchemaNewMemParserCtxt`/`xmlSchemaParse` (compile once, share
//! between threads, as libxml2 allows for a parsed `xmlSchema`) and `xmlSchemaValidateDoc` (one
//! validation context per message). Nothing here validates by itself: libxml2 does.
//!
//! libxml2 never reads a file or the network for us: a process-wide external-entity loader serves
//! only the resources the schema being compiled was given (the validate mediator's
//! `<resource location key>`s, and the parts of a multi-schema set), and refuses every other
//! `xs:import`/`xs:include`/DTD location.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr::NonNull;
use std::sync::Once;

use super::libxml::{
    XML_PARSE_NOERROR, XML_PARSE_NONET, XML_PARSE_NOWARNING, xmlFreeDoc, xmlInitParser,
    xmlNewStringInputStream, xmlReadMemory, xmlSetExternalEntityLoader,
};

/// The largest schema or instance document handed to libxml2 (its lengths are C ints; the
/// instance is also bounded by the message-size limit before it gets here).
pub const MAX_XSD_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Most validation errors kept per message (libxml2 reports one per invalid node).
pub const MAX_XSD_ERRORS: usize = 100;

/// The first fields of libxml2's `xmlError` (the struct is only read through its pointer).
#[repr(C)]
struct XmlErrorPrefix {
    domain: c_int,
    code: c_int,
    message: *const c_char,
    level: c_int,
    file: *const c_char,
    line: c_int,
}

type StructuredErrorFn = extern "C" fn(user: *mut c_void, error: *const XmlErrorPrefix);

#[link(name = "xml2")]
unsafe extern "C" {
    fn xmlSetStructuredErrorFunc(user: *mut c_void, handler: Option<StructuredErrorFn>);
    fn xmlSchemaNewMemParserCtxt(buffer: *const c_char, size: c_int) -> *mut c_void;
    fn xmlSchemaSetParserStructuredErrors(
        ctxt: *mut c_void,
        serror: StructuredErrorFn,
        user: *mut c_void,
    );
    fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
    fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
    fn xmlSchemaFree(schema: *mut c_void);
    fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
    fn xmlSchemaSetValidStructuredErrors(
        ctxt: *mut c_void,
        serror: StructuredErrorFn,
        user: *mut c_void,
    );
    fn xmlSchemaValidateDoc(ctxt: *mut c_void, doc: *mut c_void) -> c_int;
    fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
}

thread_local! {
    /// The resources the loader may serve, by location, while a schema compiles on this thread.
    static RESOURCES: RefCell<Vec<(String, CString)>> = const { RefCell::new(Vec::new()) };
}

static INIT: Once = Once::new();

/// Initialises libxml2 for schemas and installs the entity loader (the XSLT module chains its
/// own in front of it).
pub(crate) fn init() {
    INIT.call_once(|| {
        // SAFETY: xmlInitParser is idempotent and must run before libxml2 is used from several
        // threads; the loader is a plain function that stays valid for the process.
        unsafe {
            xmlInitParser();
            xmlSetExternalEntityLoader(entity_loader);
        }
    });
}

/// Serves a location from [`RESOURCES`]: the exact location, or one whose last path segment is
/// the requested one (libxml2 hands relative locations over as written). Anything else: none.
extern "C" fn entity_loader(
    url: *const c_char,
    _id: *const c_char,
    ctxt: *mut c_void,
) -> *mut c_void {
    if url.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated URL that lives for this call.
    let url = unsafe { CStr::from_ptr(url) }.to_string_lossy();
    RESOURCES.with(|r| {
        let Ok(resources) = r.try_borrow() else {
            return std::ptr::null_mut();
        };
        let found = resources.iter().find(|(location, _)| {
            *location == url
                || url
                    .rsplit('/')
                    .next()
                    .is_some_and(|tail| location.rsplit('/').next() == Some(tail))
        });
        match found {
            // SAFETY: libxml2 reads the NUL-terminated buffer in place and never frees it; it
            // outlives the schema parse that asked for it (RESOURCES is cleared only after
            // xmlSchemaParse returns, when the imported documents have been built and released).
            Some((_, text)) => unsafe { xmlNewStringInputStream(ctxt, text.as_ptr().cast()) },
            None => std::ptr::null_mut(),
        }
    })
}

/// Collects libxml2's structured errors into the `Vec<String>` behind `user`.
extern "C" fn collect_error(user: *mut c_void, error: *const XmlErrorPrefix) {
    if user.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `user` is the `&mut Vec<String>` registered for this (single-threaded) call, and
    // libxml2 passes a valid error whose message is NUL-terminated or null.
    let (errors, error) = unsafe { (&mut *user.cast::<Vec<String>>(), &*error) };
    if errors.len() >= MAX_XSD_ERRORS || error.message.is_null() {
        return;
    }
    let message = unsafe { CStr::from_ptr(error.message) }.to_string_lossy();
    errors.push(message.trim_end().to_string());
}

/// Why a schema did not compile or a document did not validate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XsdError {
    #[error("{what} of {size} bytes exceeds the limit of {MAX_XSD_INPUT_BYTES} bytes")]
    TooLarge { what: &'static str, size: usize },
    #[error("{}", .0.join("; "))]
    Schema(Vec<String>),
    #[error("the element to validate is not well-formed XML")]
    NotWellFormed,
    #[error("libxml2 could not {0}")]
    Internal(&'static str),
}

/// A compiled schema: shared read-only between threads.
pub struct XsdSchema(NonNull<c_void>);

// SAFETY: a parsed xmlSchema is never modified after xmlSchemaParse; libxml2 supports validating
// against one schema from several threads, each with its own xmlSchemaValidCtxt.
unsafe impl Send for XsdSchema {}
unsafe impl Sync for XsdSchema {}

impl Drop for XsdSchema {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xmlSchemaParse and is freed once.
        unsafe { xmlSchemaFree(self.0.as_ptr()) }
    }
}

impl std::fmt::Debug for XsdSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XsdSchema")
    }
}

impl XsdSchema {
    /// Compiles `schemas` (one or more schema documents, as Xerces' `newSchema(Source[])` takes
    /// them) with `resources` (location, text) available to their imports and includes.
    pub fn compile(
        schemas: &[&str],
        resources: &[(String, String)],
    ) -> Result<XsdSchema, XsdError> {
        init();
        let mut served: Vec<(String, CString)> = Vec::new();
        for (location, text) in resources {
            served.push((location.clone(), c_text(text, "a schema resource")?));
        }
        let main = match schemas {
            [one] => one.to_string(),
            many => {
                // Several schemas: one document that imports (or, without a target namespace,
                // includes) each, served by the loader.
                let mut wrapper =
                    String::from("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">");
                for (i, text) in many.iter().enumerate() {
                    let location = format!("conflux-schema:{i}");
                    match target_namespace(text) {
                        Some(ns) => wrapper.push_str(&format!(
                            "<xs:import namespace=\"{}\" schemaLocation=\"{location}\"/>",
                            crate::runtime::payload::escape_attribute(&ns)
                        )),
                        None => wrapper
                            .push_str(&format!("<xs:include schemaLocation=\"{location}\"/>")),
                    }
                    served.push((location, c_text(text, "a schema")?));
                }
                wrapper.push_str("</xs:schema>");
                wrapper
            }
        };
        if main.len() > MAX_XSD_INPUT_BYTES {
            return Err(XsdError::TooLarge {
                what: "a schema",
                size: main.len(),
            });
        }
        RESOURCES.with(|r| *r.borrow_mut() = served);
        let mut errors: Vec<String> = Vec::new();
        let sink: *mut c_void = (&mut errors as *mut Vec<String>).cast();
        // SAFETY: the buffer lives through the call; the error sink is a local Vec used only on
        // this thread during xmlSchemaParse (the thread's structured handler, which also gets the
        // errors of parsing the schema documents, is reset before the Vec goes away); the parser
        // context is freed once.
        let schema = unsafe {
            xmlSetStructuredErrorFunc(sink, Some(collect_error));
            let ctxt = xmlSchemaNewMemParserCtxt(main.as_ptr().cast(), main.len() as c_int);
            let schema = if ctxt.is_null() {
                std::ptr::null_mut()
            } else {
                xmlSchemaSetParserStructuredErrors(ctxt, collect_error, sink);
                let schema = xmlSchemaParse(ctxt);
                xmlSchemaFreeParserCtxt(ctxt);
                schema
            };
            xmlSetStructuredErrorFunc(std::ptr::null_mut(), None);
            schema
        };
        RESOURCES.with(|r| r.borrow_mut().clear());
        match NonNull::new(schema) {
            Some(schema) => Ok(XsdSchema(schema)),
            None if errors.is_empty() => Err(XsdError::Schema(vec![
                "the schema could not be compiled".into(),
            ])),
            None => Err(XsdError::Schema(errors)),
        }
    }

    /// Validates one XML document (an element as text): `Ok(errors)`, empty when it is valid.
    pub fn validate(&self, xml: &str) -> Result<Vec<String>, XsdError> {
        init();
        if xml.len() > MAX_XSD_INPUT_BYTES {
            return Err(XsdError::TooLarge {
                what: "the element to validate",
                size: xml.len(),
            });
        }
        let mut errors: Vec<String> = Vec::new();
        // SAFETY: the buffer lives through the calls; the document and the validation context
        // are freed once each; the error sink is a local Vec used only during the validation.
        unsafe {
            let doc = xmlReadMemory(
                xml.as_ptr().cast(),
                xml.len() as c_int,
                std::ptr::null(),
                std::ptr::null(),
                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING,
            );
            if doc.is_null() {
                return Err(XsdError::NotWellFormed);
            }
            let ctxt = xmlSchemaNewValidCtxt(self.0.as_ptr());
            if ctxt.is_null() {
                xmlFreeDoc(doc);
                return Err(XsdError::Internal("create a validation context"));
            }
            xmlSchemaSetValidStructuredErrors(
                ctxt,
                collect_error,
                (&mut errors as *mut Vec<String>).cast(),
            );
            let rc = xmlSchemaValidateDoc(ctxt, doc);
            xmlSchemaFreeValidCtxt(ctxt);
            xmlFreeDoc(doc);
            if rc < 0 {
                return Err(XsdError::Internal("validate the element"));
            }
            if rc > 0 && errors.is_empty() {
                errors.push("the element is not valid against the schema".into());
            }
        }
        Ok(errors)
    }
}

fn c_text(text: &str, what: &'static str) -> Result<CString, XsdError> {
    if text.len() > MAX_XSD_INPUT_BYTES {
        return Err(XsdError::TooLarge {
            what,
            size: text.len(),
        });
    }
    CString::new(text).map_err(|_| XsdError::Schema(vec![format!("{what} contains a NUL byte")]))
}

/// The `targetNamespace` of a schema document, when it has one.
fn target_namespace(text: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(text).ok()?;
    doc.root_element()
        .attribute("targetNamespace")
        .filter(|ns| !ns.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER_XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="urn:o" xmlns="urn:o" elementFormDefault="qualified">
      <xs:element name="order"><xs:complexType><xs:sequence>
        <xs:element name="qty" type="xs:int"/>
      </xs:sequence></xs:complexType></xs:element>
    </xs:schema>"#;

    #[test]
    fn valid_and_invalid_documents() {
        let schema = XsdSchema::compile(&[ORDER_XSD], &[]).unwrap();
        assert!(
            schema
                .validate(r#"<order xmlns="urn:o"><qty>3</qty></order>"#)
                .unwrap()
                .is_empty()
        );
        let errors = schema
            .validate(r#"<order xmlns="urn:o"><qty>three</qty></order>"#)
            .unwrap();
        assert_eq!(
            errors,
            ["Element '{urn:o}qty': 'three' is not a valid value of the atomic type 'xs:int'."]
        );
        assert_eq!(schema.validate("<order"), Err(XsdError::NotWellFormed));
    }

    #[test]
    fn a_broken_schema_is_an_error() {
        let err = XsdSchema::compile(
            &["<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element/></xs:schema>"],
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, XsdError::Schema(_)), "{err:?}");
        assert!(XsdSchema::compile(&["not xml"], &[]).is_err());
    }

    // Imports are served from the given resources only: never the file system or the network.
    #[test]
    fn imports_come_from_resources_only() {
        let main = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:o="urn:o">
            <xs:import namespace="urn:o" schemaLocation="http://example.invalid/order.xsd"/>
            <xs:element name="wrap"><xs:complexType><xs:sequence><xs:element ref="o:order"/></xs:sequence></xs:complexType></xs:element>
          </xs:schema>"#;
        let served = [(
            "http://example.invalid/order.xsd".to_string(),
            ORDER_XSD.to_string(),
        )];
        let schema = XsdSchema::compile(&[main], &served).unwrap();
        assert!(
            schema
                .validate(r#"<wrap><order xmlns="urn:o"><qty>1</qty></order></wrap>"#)
                .unwrap()
                .is_empty()
        );
        // A schema on disk that would make <root/> valid is not read.
        let dir = std::env::temp_dir().join(format!("conflux-xsd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let on_disk = dir.join("root.xsd");
        std::fs::write(
            &on_disk,
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="root"/></xs:schema>"#,
        )
        .unwrap();
        let file_import = format!(
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="{}"/></xs:schema>"#,
            on_disk.display()
        );
        let outcome = XsdSchema::compile(&[&file_import], &[]).map(|s| s.validate("<root/>"));
        let _ = std::fs::remove_dir_all(&dir);
        // libxml2 only warns about a location it cannot load: either the schema does not
        // compile, or it compiles without the file and <root/> is not declared.
        match outcome {
            Err(_) => {}
            Ok(result) => assert!(!result.unwrap().is_empty()),
        }
    }

    #[test]
    fn several_schemas_combine() {
        let other = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
            <xs:element name="plain" type="xs:string"/></xs:schema>"#;
        let schema = XsdSchema::compile(&[ORDER_XSD, other], &[]).unwrap();
        assert!(schema.validate("<plain>x</plain>").unwrap().is_empty());
        assert!(
            schema
                .validate(r#"<order xmlns="urn:o"><qty>1</qty></order>"#)
                .unwrap()
                .is_empty()
        );
        assert!(!schema.validate("<other/>").unwrap().is_empty());
    }

    #[test]
    fn errors_are_kept_up_to_the_limit() {
        let schema = XsdSchema::compile(
            &[r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
                <xs:element name="list"><xs:complexType><xs:sequence>
                  <xs:element name="n" type="xs:int" maxOccurs="unbounded"/>
                </xs:sequence></xs:complexType></xs:element></xs:schema>"#],
            &[],
        )
        .unwrap();
        let items = |count: usize| format!("<list>{}</list>", "<n>x</n>".repeat(count));
        assert_eq!(
            schema.validate(&items(MAX_XSD_ERRORS)).unwrap().len(),
            MAX_XSD_ERRORS
        );
        assert_eq!(
            schema.validate(&items(MAX_XSD_ERRORS + 1)).unwrap().len(),
            MAX_XSD_ERRORS
        );
    }

    #[test]
    fn documents_over_the_limit_are_refused() {
        let schema = XsdSchema::compile(&[ORDER_XSD], &[]).unwrap();
        let big = "x".repeat(MAX_XSD_INPUT_BYTES + 1);
        assert!(matches!(
            schema.validate(&big),
            Err(XsdError::TooLarge { .. })
        ));
    }
}
