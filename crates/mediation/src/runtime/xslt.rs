//! XSLT 1.0 through libxslt (the system library, `libxslt1-dev` to build, with libexslt for the
//! EXSLT functions such as `exsl:node-set`): a minimal safe wrapper over
//! `xsltParseStylesheetDoc` (compile once, share between threads, as libxslt allows for a compiled
//! stylesheet) and `xsltApplyStylesheetUser` (one transformation context per message), with
//! string parameters (`xsltQuoteUserParams`) and the output written as `xsl:output` asks
//! (`xsltSaveResultToString`). Nothing here transforms by itself: libxslt does.
//!
//! libxslt never reads a file or the network for us: a process-wide document loader serves only
//! the modules of the stylesheet being compiled or run (its own text, for `document('')`, and the
//! `<resource location key>`s given for `xsl:import`/`xsl:include`), and the process-wide
//! security preferences refuse every other read and every write, so `document('file:///...')`,
//! `document('http://...')` and `exsl:document` fail the transformation. Stylesheets with a DTD are
//! refused, so no entity is ever expanded or fetched.
//!
//! Limits: nested sequence constructors ([`MAX_TEMPLATE_DEPTH`], libxslt's `xsltMaxDepth`), live
//! variables ([`MAX_TEMPLATE_VARS`], `xsltMaxVars`), instructions executed per transformation
//! ([`MAX_XSLT_OPERATIONS`], the context's `opLimit`) and the size of the output
//! ([`MAX_XSLT_OUTPUT_BYTES`]).

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_long, c_ulong, c_void};
use std::ptr::NonNull;
use std::sync::{Arc, Once, OnceLock};

use super::libxml::{
    EntityLoaderFn, XML_PARSE_NOCDATA, XML_PARSE_NOERROR, XML_PARSE_NONET, XML_PARSE_NOWARNING,
    xmlFreeDoc, xmlInitParser, xmlNewStringInputStream, xmlReadMemory, xmlSetExternalEntityLoader,
};

/// The largest stylesheet, stylesheet module or source document handed to libxslt (its lengths
/// are C ints; a source is also bounded by the message-size limit before it gets here).
pub const MAX_XSLT_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// The largest output kept: a transformation writing more fails.
pub const MAX_XSLT_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// Most nested sequence constructors (template bodies and the contents of `xsl:if`,
/// `xsl:for-each`, ...) in one transformation: libxslt's `xsltMaxDepth` (3000 by default), lower
/// here because a transformation runs on a worker thread's stack.
pub const MAX_TEMPLATE_DEPTH: c_int = 1000;

/// Most variables and parameters alive at once in one transformation: libxslt's `xsltMaxVars`.
pub const MAX_TEMPLATE_VARS: c_int = 15_000;

/// Most instructions one transformation executes (libxslt's `opLimit`), so that a runaway
/// stylesheet (nested loops over a large message, doubly recursive templates) fails instead of
/// holding a worker.
pub const MAX_XSLT_OPERATIONS: u64 = 50_000_000;

/// Most error lines kept per compilation or transformation.
pub const MAX_XSLT_ERRORS: usize = 20;

/// No DTD is loaded and no entity substituted; CDATA sections read as text, as libxslt expects.
const PARSE_OPTIONS: c_int = XML_PARSE_NONET | XML_PARSE_NOCDATA;

// xsltSecurityOption values (libxslt security.h).
const XSLT_SECPREF_READ_FILE: c_int = 1;
const XSLT_SECPREF_WRITE_FILE: c_int = 2;
const XSLT_SECPREF_CREATE_DIRECTORY: c_int = 3;
const XSLT_SECPREF_READ_NETWORK: c_int = 4;
const XSLT_SECPREF_WRITE_NETWORK: c_int = 5;

/// The first libxslt release whose transformation context has `opLimit` (1.1.34).
const OP_LIMIT_SINCE: c_int = 10134;

type SecurityCheckFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *const c_char) -> c_int;
type GenericErrorFn = unsafe extern "C" fn(*mut c_void, *const c_char, ...);

#[link(name = "xml2")]
unsafe extern "C" {
    /// Writes to this thread's generic error context (`xmlGenericErrorContext` is per thread).
    fn xmlGenericErrorDefaultFunc(ctx: *mut c_void, msg: *const c_char, ...);
    fn xmlSetGenericErrorFunc(ctx: *mut c_void, handler: Option<GenericErrorFn>);
    fn xmlGetExternalEntityLoader() -> Option<EntityLoaderFn>;
    fn xmlCharStrdup(text: *const c_char) -> *mut c_char;
    static xmlFree: Option<unsafe extern "C" fn(*mut c_void)>;
}

#[link(name = "xslt")]
unsafe extern "C" {
    fn xsltInit();
    fn xsltSetGenericErrorFunc(ctx: *mut c_void, handler: Option<GenericErrorFn>);
    fn xsltNewSecurityPrefs() -> *mut c_void;
    fn xsltSetSecurityPrefs(sec: *mut c_void, option: c_int, func: SecurityCheckFn) -> c_int;
    fn xsltSetDefaultSecurityPrefs(sec: *mut c_void);
    fn xsltGetDefaultSecurityPrefs() -> *mut c_void;
    fn xsltSecurityForbid(sec: *mut c_void, ctxt: *mut c_void, value: *const c_char) -> c_int;
    fn xsltParseStylesheetDoc(doc: *mut c_void) -> *mut c_void;
    fn xsltFreeStylesheet(style: *mut c_void);
    fn xsltNewTransformContext(style: *mut c_void, doc: *mut c_void) -> *mut c_void;
    fn xsltFreeTransformContext(ctxt: *mut c_void);
    fn xsltQuoteUserParams(ctxt: *mut c_void, params: *const *const c_char) -> c_int;
    fn xsltApplyStylesheetUser(
        style: *mut c_void,
        doc: *mut c_void,
        params: *const *const c_char,
        output: *const c_char,
        profile: *mut c_void,
        user_ctxt: *mut c_void,
    ) -> *mut c_void;
    fn xsltSaveResultToString(
        out: *mut *mut u8,
        len: *mut c_int,
        result: *mut c_void,
        style: *mut c_void,
    ) -> c_int;
    static mut xsltMaxDepth: c_int;
    static mut xsltMaxVars: c_int;
    static xsltLibxsltVersion: c_int;
}

#[link(name = "exslt")]
unsafe extern "C" {
    fn exsltRegisterAll();
}

// glibc: an in-memory FILE for libxml2's generic error channel.
unsafe extern "C" {
    fn open_memstream(buffer: *mut *mut c_char, size: *mut usize) -> *mut c_void;
    fn fclose(file: *mut c_void) -> c_int;
    fn free(ptr: *mut c_void);
}

/// libxslt's `xsltTransformContext` (xsltInternals.h) up to `opCount`: the layout of every
/// release since 1.1.34 (later ones only append fields). Read only to set `opLimit`, after
/// [`op_limit_field`] has checked the fields it knows the values of.
#[repr(C)]
struct TransformContextPrefix {
    style: *mut c_void,
    output_type: c_int,
    templ: *mut c_void,
    templ_nr: c_int,
    templ_max: c_int,
    templ_tab: *mut c_void,
    vars: *mut c_void,
    vars_nr: c_int,
    vars_max: c_int,
    vars_tab: *mut c_void,
    vars_base: c_int,
    ext_functions: *mut c_void,
    ext_elements: *mut c_void,
    ext_infos: *mut c_void,
    mode: *const c_char,
    mode_uri: *const c_char,
    doc_list: *mut c_void,
    document: *mut c_void,
    node: *mut c_void,
    node_list: *mut c_void,
    output: *mut c_void,
    insert: *mut c_void,
    xpath_ctxt: *mut c_void,
    state: c_int,
    global_vars: *mut c_void,
    inst: *mut c_void,
    xinclude: c_int,
    output_file: *const c_char,
    profile: c_int,
    prof: c_long,
    prof_nr: c_int,
    prof_max: c_int,
    prof_tab: *mut c_long,
    private: *mut c_void,
    extras_nr: c_int,
    extras_max: c_int,
    extras: *mut c_void,
    style_list: *mut c_void,
    sec: *mut c_void,
    error: *mut c_void,
    errctx: *mut c_void,
    sortfunc: *mut c_void,
    tmp_rvt: *mut c_void,
    persist_rvt: *mut c_void,
    ctxtflags: c_int,
    lasttext: *const c_char,
    lasttsize: c_int,
    lasttuse: c_int,
    debug_status: c_int,
    trace_code: *mut c_ulong,
    parser_options: c_int,
    dict: *mut c_void,
    tmp_doc: *mut c_void,
    internalized: c_int,
    nb_keys: c_int,
    has_templ_key_patterns: c_int,
    current_template_rule: *mut c_void,
    initial_context_node: *mut c_void,
    initial_context_doc: *mut c_void,
    cache: *mut c_void,
    context_variable: *mut c_void,
    local_rvt: *mut c_void,
    local_rvt_base: *mut c_void,
    key_init_level: c_int,
    depth: c_int,
    max_template_depth: c_int,
    max_template_vars: c_int,
    op_limit: c_ulong,
    op_count: c_ulong,
}

/// The stylesheet modules libxslt may read on this thread, by location, while a stylesheet
/// compiles or runs.
type Modules = Arc<Vec<(String, CString)>>;

thread_local! {
    static SERVED: RefCell<Option<Modules>> = const { RefCell::new(None) };
    /// Why the loader refused a module it was asked for (it has no other way to say).
    static LOADER_ERRORS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

static INIT: Once = Once::new();

/// The external entity loader installed before ours.
static PREVIOUS_LOADER: OnceLock<Option<EntityLoaderFn>> = OnceLock::new();

fn init() {
    INIT.call_once(|| {
        // SAFETY: run once, before any other libxslt call of this module; the functions and the
        // preferences registered stay valid for the life of the process. xsltMaxDepth and
        // xsltMaxVars are read when a transformation context is created, never written by
        // libxslt.
        unsafe {
            xmlInitParser();
            xsltInit();
            exsltRegisterAll();
            // libxslt's errors go to libxml2's default handler, which writes to the calling
            // thread's generic error context: [`capture`] points that at a buffer per call.
            xsltSetGenericErrorFunc(std::ptr::null_mut(), Some(xmlGenericErrorDefaultFunc));
            // libxslt's own loader reads imports and document()s through libxml2's external
            // entity loader (sharing the stylesheet's dictionary, which modes are compared by):
            // ours serves the modules and hands anything else to the loader before it, the
            // schema validator's, which refuses what it does not serve.
            crate::runtime::xsd::init();
            let _ = PREVIOUS_LOADER.set(xmlGetExternalEntityLoader());
            xmlSetExternalEntityLoader(load_module);
            let sec = xsltNewSecurityPrefs();
            if !sec.is_null() {
                xsltSetSecurityPrefs(sec, XSLT_SECPREF_READ_FILE, allow_served);
                xsltSetSecurityPrefs(sec, XSLT_SECPREF_READ_NETWORK, allow_served);
                xsltSetSecurityPrefs(sec, XSLT_SECPREF_WRITE_FILE, xsltSecurityForbid);
                xsltSetSecurityPrefs(sec, XSLT_SECPREF_CREATE_DIRECTORY, xsltSecurityForbid);
                xsltSetSecurityPrefs(sec, XSLT_SECPREF_WRITE_NETWORK, xsltSecurityForbid);
                xsltSetDefaultSecurityPrefs(sec);
            }
            xsltMaxDepth = MAX_TEMPLATE_DEPTH;
            xsltMaxVars = MAX_TEMPLATE_VARS;
        }
    });
}

/// Calls `f` with the served module for a location: the exact location, or one whose last path
/// segment is the requested one (libxslt resolves a relative `href` against the importing
/// module's location; MI's ResourceMap matches the `href` as written). The text lives as long
/// as this thread serves the modules.
fn with_served<R>(location: &str, f: impl FnOnce(&CStr) -> R) -> Option<R> {
    let tail = |s: &str| s.rsplit('/').next().map(str::to_string);
    SERVED.with(|s| {
        let served = s.try_borrow().ok()?;
        let modules = served.as_ref()?;
        let found = modules.iter().find(|(l, _)| l == location).or_else(|| {
            let wanted = tail(location)?;
            modules
                .iter()
                .find(|(l, _)| tail(l).as_deref() == Some(wanted.as_str()))
        })?;
        Some(f(&found.1))
    })
}

/// The read check of the security preferences: a served module may be read, nothing else.
unsafe extern "C" fn allow_served(
    _sec: *mut c_void,
    _ctxt: *mut c_void,
    value: *const c_char,
) -> c_int {
    if value.is_null() {
        return 0;
    }
    // SAFETY: libxslt passes a NUL-terminated location that lives for this call.
    let location = unsafe { CStr::from_ptr(value) }.to_string_lossy();
    c_int::from(with_served(&location, |_| ()).is_some())
}

/// libxml2's external entity loader while this module is installed: a served module becomes an
/// input stream named by its location (so that the modules it imports resolve against it);
/// anything else goes to the loader installed before. libxslt checks the security preferences
/// before it asks.
extern "C" fn load_module(url: *const c_char, id: *const c_char, ctxt: *mut c_void) -> *mut c_void {
    let previous = || match PREVIOUS_LOADER.get().copied().flatten() {
        // The arguments are passed on as libxml2 gave them.
        Some(loader) => loader(url, id, ctxt),
        None => std::ptr::null_mut(),
    };
    if url.is_null() {
        return previous();
    }
    // SAFETY: libxml2 passes a NUL-terminated URL that lives for this call.
    let location = unsafe { CStr::from_ptr(url) }
        .to_string_lossy()
        .into_owned();
    let served = with_served(&location, |text| {
        if let Err(e) = check_xml(text.to_bytes(), &location) {
            LOADER_ERRORS.with(|l| l.borrow_mut().push(e));
            return std::ptr::null_mut();
        }
        // SAFETY: libxml2 reads the NUL-terminated buffer in place and never frees it: it is
        // held by the served modules (an Arc the caller of `capture` keeps) until the parse that
        // asked for it has ended. The input's second field is its file name, freed by libxml2
        // with xmlFree (xmlCharStrdup allocates with xmlMalloc).
        unsafe {
            let input = xmlNewStringInputStream(ctxt, text.as_ptr().cast());
            if !input.is_null() {
                let prefix = input.cast::<ParserInputPrefix>();
                if (*prefix).filename.is_null() {
                    (*prefix).filename = xmlCharStrdup(url);
                }
            }
            input
        }
    });
    served.unwrap_or_else(previous)
}

/// The first fields of libxml2's `xmlParserInput` (parser.h), unchanged since libxml2 2.0.
#[repr(C)]
struct ParserInputPrefix {
    buf: *mut c_void,
    filename: *const c_char,
}

/// Runs `f` with libxml2's (and so libxslt's) generic error channel of this thread writing into
/// a buffer; returns what `f` returned and the lines written, at most [`MAX_XSLT_ERRORS`].
fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let mut buffer: *mut c_char = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: `buffer` and `size` outlive the stream, which is closed below before they are read.
    let file = unsafe { open_memstream(&mut buffer, &mut size) };
    if file.is_null() {
        return (f(), Vec::new());
    }
    LOADER_ERRORS.with(|l| l.borrow_mut().clear());
    // SAFETY: the generic error context is per thread in libxml2; it is reset to the default
    // (stderr) before the stream is closed, so nothing writes to a closed stream.
    unsafe { xmlSetGenericErrorFunc(file, Some(xmlGenericErrorDefaultFunc)) };
    let result = f();
    let mut lines: Vec<String> = LOADER_ERRORS.with(|l| std::mem::take(&mut *l.borrow_mut()));
    // SAFETY: as above; after fclose `buffer` holds `size` bytes allocated with malloc, freed once.
    unsafe {
        xmlSetGenericErrorFunc(std::ptr::null_mut(), None);
        fclose(file);
        if !buffer.is_null() {
            let bytes = std::slice::from_raw_parts(buffer.cast::<u8>(), size);
            for line in String::from_utf8_lossy(bytes).lines() {
                let line = line.trim();
                if !line.is_empty() && !is_debug_dump(line) && lines.len() < MAX_XSLT_ERRORS {
                    lines.push(line.to_string());
                }
            }
            free(buffer.cast());
        }
    }
    (result, lines)
}

/// The lines of libxslt's `xsltDebug` dump (the template and variable stacks written after a
/// recursion error) and of xsltproc's advice: not for Conflux's messages.
fn is_debug_dump(line: &str) -> bool {
    line == "Templates:"
        || line == "Variables:"
        || line.starts_with("You can adjust")
        || line.starts_with("var ")
        || line.starts_with("param ")
        || (line.starts_with('#') && line[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Sets this thread's served modules for the life of the guard.
struct Serving;

impl Serving {
    fn new(modules: &Modules) -> Serving {
        SERVED.with(|s| *s.borrow_mut() = Some(modules.clone()));
        Serving
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        SERVED.with(|s| *s.borrow_mut() = None);
    }
}

/// Why a stylesheet did not compile or a transformation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XsltError {
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    #[error("{what} is not well-formed XML: {detail}")]
    NotWellFormed { what: String, detail: String },
    #[error("the stylesheet does not compile: {}", .0.join("; "))]
    Compile(Vec<String>),
    #[error("{}", .0.join("; "))]
    Transform(Vec<String>),
    #[error("the output is encoded in {0}, which Conflux does not read (use UTF-8)")]
    Encoding(String),
    #[error("libxslt could not {0}")]
    Internal(&'static str),
}

/// What `xsl:output` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMethod {
    Xml,
    Html,
    Text,
}

/// A compiled stylesheet: shared read-only between threads.
pub struct XsltStylesheet {
    style: NonNull<c_void>,
    /// Its modules: the stylesheet itself (for `document('')`), then the resources.
    modules: Modules,
    method: OutputMethod,
    encoding: Option<String>,
    /// What libxslt warned about while compiling (e.g. a `version="2.0"` stylesheet runs in
    /// forwards-compatible mode).
    warnings: Vec<String>,
}

// SAFETY: a compiled xsltStylesheet is not modified by transformations; libxslt supports running
// one stylesheet from several threads, each with its own transformation context.
unsafe impl Send for XsltStylesheet {}
unsafe impl Sync for XsltStylesheet {}

impl Drop for XsltStylesheet {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xsltParseStylesheetDoc and is freed once (with its doc).
        unsafe { xsltFreeStylesheet(self.style.as_ptr()) }
    }
}

impl std::fmt::Debug for XsltStylesheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "XsltStylesheet({:?})",
            self.modules.first().map(|m| &m.0)
        )
    }
}

/// The output of one transformation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XsltOutput {
    pub text: String,
    pub method: OutputMethod,
    /// `xsl:message`s and other non-fatal notes.
    pub messages: Vec<String>,
}

impl XsltStylesheet {
    /// Compiles the stylesheet `text` of entry `name` with `resources` (location, text)
    /// available to its `xsl:import`s and `xsl:include`s.
    pub fn compile(
        name: &str,
        text: &str,
        resources: &[(String, String)],
    ) -> Result<XsltStylesheet, XsltError> {
        init();
        if text.len() > MAX_XSLT_INPUT_BYTES {
            return Err(XsltError::TooLarge {
                what: "the stylesheet".into(),
                size: text.len(),
                limit: MAX_XSLT_INPUT_BYTES,
            });
        }
        crate::runtime::payload::parse_document(text).map_err(|detail| {
            XsltError::NotWellFormed {
                what: "the stylesheet".into(),
                detail,
            }
        })?;
        let (mut method, mut encoding) = output_settings(text);
        // The base URI of the stylesheet: its key, when it can be one.
        let base = uri_like(name).then(|| name.to_string());
        let mut modules = Vec::with_capacity(resources.len() + 1);
        modules.push((
            base.clone().unwrap_or_default(),
            c_text(text, "the stylesheet")?,
        ));
        for (location, resource) in resources {
            if resource.len() > MAX_XSLT_INPUT_BYTES {
                return Err(XsltError::TooLarge {
                    what: format!("resource {location}"),
                    size: resource.len(),
                    limit: MAX_XSLT_INPUT_BYTES,
                });
            }
            if method.is_none() || encoding.is_none() {
                let (m, e) = output_settings(resource);
                method = method.or(m);
                encoding = encoding.or(e);
            }
            modules.push((location.clone(), c_text(resource, "a resource")?));
        }
        let modules: Modules = Arc::new(modules);
        let base = base.map(|b| CString::new(b).unwrap_or_default());
        let _serving = Serving::new(&modules);
        let (style, lines) = capture(|| {
            // SAFETY: the buffer lives through the parse; the document is owned by the stylesheet
            // when it compiles and freed here when it does not (xsltParseStylesheetUser detaches
            // it on error).
            unsafe {
                let main = &modules[0].1;
                let doc = xmlReadMemory(
                    main.as_ptr(),
                    main.as_bytes().len() as c_int,
                    base.as_ref().map_or(std::ptr::null(), |b| b.as_ptr()),
                    std::ptr::null(),
                    PARSE_OPTIONS,
                );
                if doc.is_null() {
                    return None;
                }
                let style = xsltParseStylesheetDoc(doc);
                if style.is_null() {
                    xmlFreeDoc(doc);
                }
                NonNull::new(style)
            }
        });
        match style {
            Some(style) => Ok(XsltStylesheet {
                style,
                modules,
                method: method.unwrap_or(OutputMethod::Xml),
                encoding,
                warnings: lines,
            }),
            None if lines.is_empty() => {
                Err(XsltError::Compile(vec!["libxslt did not say why".into()]))
            }
            None => Err(XsltError::Compile(lines)),
        }
    }

    /// What libxslt warned about while compiling.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The output method `xsl:output` declares (`xml` when none does).
    pub fn method(&self) -> OutputMethod {
        self.method
    }

    /// Transforms one XML document (`source`, as text) with string `params` (`xsl:param` name,
    /// value).
    pub fn transform(
        &self,
        source: &str,
        params: &[(String, String)],
    ) -> Result<XsltOutput, XsltError> {
        self.transform_limited(source, params, MAX_XSLT_OPERATIONS, MAX_XSLT_OUTPUT_BYTES)
    }

    fn transform_limited(
        &self,
        source: &str,
        params: &[(String, String)],
        max_operations: u64,
        max_output: usize,
    ) -> Result<XsltOutput, XsltError> {
        init();
        if source.len() > MAX_XSLT_INPUT_BYTES {
            return Err(XsltError::TooLarge {
                what: "the source document".into(),
                size: source.len(),
                limit: MAX_XSLT_INPUT_BYTES,
            });
        }
        let mut c_params = Vec::with_capacity(params.len() * 2);
        for (name, value) in params {
            c_params.push(c_text(name, "a parameter name")?);
            c_params.push(c_text(value, "a parameter value")?);
        }
        let mut param_ptrs: Vec<*const c_char> = c_params.iter().map(|p| p.as_ptr()).collect();
        param_ptrs.push(std::ptr::null());
        let _serving = Serving::new(&self.modules);
        let (outcome, lines) = capture(|| {
            // SAFETY: every buffer lives through the calls that read it; the source document,
            // the transformation context and the result are each freed once, the result string
            // with xmlFree; the context is only used on this thread.
            unsafe {
                let doc = xmlReadMemory(
                    source.as_ptr().cast(),
                    source.len() as c_int,
                    std::ptr::null(),
                    std::ptr::null(),
                    PARSE_OPTIONS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING,
                );
                if doc.is_null() {
                    return Err(XsltError::NotWellFormed {
                        what: "the source".into(),
                        detail: "libxml2 could not parse it".into(),
                    });
                }
                let ctxt = xsltNewTransformContext(self.style.as_ptr(), doc);
                if ctxt.is_null() {
                    xmlFreeDoc(doc);
                    return Err(XsltError::Internal("create a transformation context"));
                }
                if let Some(field) = op_limit_field(ctxt, self.style.as_ptr()) {
                    *field = max_operations as c_ulong;
                }
                let quoted = xsltQuoteUserParams(ctxt, param_ptrs.as_ptr());
                let result = if quoted == 0 {
                    xsltApplyStylesheetUser(
                        self.style.as_ptr(),
                        doc,
                        std::ptr::null(),
                        std::ptr::null(),
                        std::ptr::null_mut(),
                        ctxt,
                    )
                } else {
                    std::ptr::null_mut()
                };
                let outcome = if result.is_null() {
                    Err(XsltError::Transform(Vec::new()))
                } else {
                    let mut out: *mut u8 = std::ptr::null_mut();
                    let mut len: c_int = 0;
                    let rc =
                        xsltSaveResultToString(&mut out, &mut len, result, self.style.as_ptr());
                    let bytes = if out.is_null() {
                        Vec::new()
                    } else {
                        let bytes = std::slice::from_raw_parts(out, len.max(0) as usize).to_vec();
                        if let Some(free_fn) = xmlFree {
                            free_fn(out.cast());
                        }
                        bytes
                    };
                    xmlFreeDoc(result);
                    if rc < 0 {
                        Err(XsltError::Internal("write the output"))
                    } else {
                        Ok(bytes)
                    }
                };
                xsltFreeTransformContext(ctxt);
                xmlFreeDoc(doc);
                outcome
            }
        });
        let bytes = match outcome {
            Ok(bytes) => bytes,
            Err(XsltError::Transform(_)) if lines.is_empty() => {
                return Err(XsltError::Transform(vec![
                    "the transformation failed (libxslt did not say why)".into(),
                ]));
            }
            Err(XsltError::Transform(_)) => return Err(XsltError::Transform(lines)),
            Err(e) => return Err(e),
        };
        if bytes.len() > max_output {
            return Err(XsltError::TooLarge {
                what: "the output".into(),
                size: bytes.len(),
                limit: max_output,
            });
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => match self.encoding.as_deref() {
                Some(enc) if is_latin1(enc) => e.into_bytes().iter().map(|&b| b as char).collect(),
                Some(enc) => return Err(XsltError::Encoding(enc.to_string())),
                None => return Err(XsltError::Encoding("an unknown encoding".into())),
            },
        };
        Ok(XsltOutput {
            text,
            method: self.method,
            messages: lines,
        })
    }
}

/// The `opLimit` field of a transformation context, when this libxslt's context has the layout
/// [`TransformContextPrefix`] describes: the fields whose values are known must hold them.
///
/// # Safety
/// `ctxt` is a live context just created by `xsltNewTransformContext(style, ..)`.
unsafe fn op_limit_field(ctxt: *mut c_void, style: *mut c_void) -> Option<*mut c_ulong> {
    // SAFETY: reading exported globals; the prefix is read only after the version check says
    // the context is at least that long.
    unsafe {
        if xsltLibxsltVersion < OP_LIMIT_SINCE {
            return None;
        }
        let prefix = ctxt.cast::<TransformContextPrefix>();
        let known = (*prefix).style == style
            && (*prefix).max_template_depth == xsltMaxDepth
            && (*prefix).max_template_vars == xsltMaxVars
            && (*prefix).sec == xsltGetDefaultSecurityPrefs()
            && (*prefix).depth == 0
            && (*prefix).op_limit == 0
            && (*prefix).op_count == 0;
        known.then(|| &raw mut (*prefix).op_limit)
    }
}

fn is_latin1(encoding: &str) -> bool {
    matches!(
        encoding.to_ascii_lowercase().as_str(),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1"
    )
}

/// Whether a key can serve as a base URI (libxml2 resolves relative locations against it).
fn uri_like(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#@!$&'()*+,;=%".contains(&b))
}

fn c_text(text: &str, what: &str) -> Result<CString, XsltError> {
    CString::new(text).map_err(|_| XsltError::NotWellFormed {
        what: what.to_string(),
        detail: "it contains a NUL character".into(),
    })
}

/// Checks a stylesheet module before libxml2 reads it: within the size limit, well-formed, no
/// DTD (so no entity can be expanded or fetched). `Err` says why, naming `what`.
fn check_xml(text: &[u8], what: &str) -> Result<(), String> {
    if text.len() > MAX_XSLT_INPUT_BYTES {
        return Err(format!(
            "{what} of {} bytes exceeds the limit of {MAX_XSLT_INPUT_BYTES} bytes",
            text.len()
        ));
    }
    let text = std::str::from_utf8(text).map_err(|_| format!("{what}: not UTF-8 text"))?;
    crate::runtime::payload::parse_document(text)
        .map(|_| ())
        .map_err(|e| format!("{what}: {e}"))
}

/// The `method` and `encoding` of a stylesheet's top-level `xsl:output` (the last one that says).
fn output_settings(text: &str) -> (Option<OutputMethod>, Option<String>) {
    const XSL: &str = "http://www.w3.org/1999/XSL/Transform";
    let Ok(doc) = crate::runtime::payload::parse_document(text) else {
        return (None, None);
    };
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(XSL) {
        // A literal result element as the stylesheet: html when it is <html>.
        let html = root.tag_name().namespace().is_none()
            && root.tag_name().name().eq_ignore_ascii_case("html");
        return (html.then_some(OutputMethod::Html), None);
    }
    let mut method = None;
    let mut encoding = None;
    for output in root
        .children()
        .filter(|n| n.is_element() && n.has_tag_name((XSL, "output")))
    {
        if let Some(m) = output.attribute("method") {
            method = Some(match m.trim() {
                "text" => OutputMethod::Text,
                "html" => OutputMethod::Html,
                _ => OutputMethod::Xml,
            });
        }
        if let Some(e) = output.attribute("encoding") {
            encoding = Some(e.trim().to_string());
        }
    }
    (method, encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(body: &str) -> String {
        format!(
            r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">{body}</xsl:stylesheet>"#
        )
    }

    fn run(stylesheet: &str, source: &str) -> Result<XsltOutput, XsltError> {
        XsltStylesheet::compile("test", stylesheet, &[])?.transform(source, &[])
    }

    #[test]
    fn transforms_with_string_parameters() {
        let s = XsltStylesheet::compile(
            "k",
            &sheet(
                r#"<xsl:output method="xml" omit-xml-declaration="yes"/>
                <xsl:param name="p"/>
                <xsl:template match="/a"><b p="{$p}"><xsl:value-of select="."/></b></xsl:template>"#,
            ),
            &[],
        )
        .unwrap();
        let out = s
            .transform("<a>x</a>", &[("p".into(), "it's \"quoted\"".into())])
            .unwrap();
        assert_eq!(out.text.trim(), r#"<b p="it's &quot;quoted&quot;">x</b>"#);
        assert_eq!(out.method, OutputMethod::Xml);
        // An undeclared parameter is ignored.
        let out = s
            .transform("<a>y</a>", &[("q".into(), "1".into())])
            .unwrap();
        assert_eq!(out.text.trim(), r#"<b p="">y</b>"#);
    }

    #[test]
    fn text_output_and_exslt() {
        let out = run(
            &sheet(
                r#"<xsl:output method="text"/>
                <xsl:template match="/" xmlns:exsl="http://exslt.org/common">
                  <xsl:variable name="t"><i>1</i><i>2</i></xsl:variable>
                  <xsl:value-of select="count(exsl:node-set($t)/i)"/>:<xsl:value-of select="/a"/>
                </xsl:template>"#,
            ),
            "<a>&amp;&lt;</a>",
        )
        .unwrap();
        assert_eq!(out.method, OutputMethod::Text);
        assert_eq!(out.text, "2:&<");
    }

    #[test]
    fn broken_stylesheets_are_errors() {
        let err = XsltStylesheet::compile(
            "k",
            &sheet(r#"<xsl:template match="/"><xsl:value-of/></xsl:template>"#),
            &[],
        )
        .unwrap_err();
        let XsltError::Compile(lines) = &err else {
            panic!("{err:?}")
        };
        assert!(lines.iter().any(|l| l.contains("value-of")), "{lines:?}");
        assert!(matches!(
            XsltStylesheet::compile("k", "<xsl:stylesheet", &[]),
            Err(XsltError::NotWellFormed { .. })
        ));
        // A DTD is refused before libxml2 sees it.
        let err = XsltStylesheet::compile(
            "k",
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, XsltError::NotWellFormed { .. }), "{err:?}");
    }

    // A version="2.0" stylesheet (MI runs Saxon) compiles in forwards-compatible mode, with a
    // warning.
    #[test]
    fn version_2_stylesheets_run_in_forwards_compatible_mode() {
        let s = XsltStylesheet::compile(
            "k",
            r#"<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
                <xsl:output method="text"/>
                <xsl:template match="/">ok</xsl:template></xsl:stylesheet>"#,
            &[],
        )
        .unwrap();
        assert!(
            s.warnings().iter().any(|w| w.contains("only 1.1 features")),
            "{:?}",
            s.warnings()
        );
        assert_eq!(s.transform("<a/>", &[]).unwrap().text, "ok");
    }

    // xsl:import and xsl:include are served from the given resources only.
    #[test]
    fn imports_come_from_resources_only() {
        let main = sheet(
            r#"<xsl:import href="common.xsl"/><xsl:include href="http://example.invalid/inc.xsl"/>
               <xsl:output method="text"/>
               <xsl:template match="/"><xsl:call-template name="hello"/>-<xsl:call-template name="inc"/>-<xsl:apply-templates select="a" mode="m"/></xsl:template>"#,
        );
        let common = sheet(
            r#"<xsl:template name="hello">hello</xsl:template>
               <xsl:template match="a" mode="m">moded</xsl:template>"#,
        );
        let inc = sheet(r#"<xsl:template name="inc">inc</xsl:template>"#);
        let resources = [
            ("common.xsl".to_string(), common.clone()),
            ("http://example.invalid/inc.xsl".to_string(), inc),
        ];
        let s = XsltStylesheet::compile("conf:/xslt/main.xslt", &main, &resources).unwrap();
        assert_eq!(s.transform("<a/>", &[]).unwrap().text, "hello-inc-moded");

        // Not served: the import fails even when the file exists on disk.
        let dir = std::env::temp_dir().join(format!("conflux-xslt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let on_disk = dir.join("common.xsl");
        std::fs::write(&on_disk, &common).unwrap();
        let from_file = sheet(&format!(
            r#"<xsl:import href="file://{}"/><xsl:template match="/"><xsl:call-template name="hello"/></xsl:template>"#,
            on_disk.display()
        ));
        let outcome = XsltStylesheet::compile("k", &from_file, &[]);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(outcome, Err(XsltError::Compile(_))), "{outcome:?}");
    }

    // document() reads nothing outside the stylesheet's own modules; document('') is the
    // stylesheet.
    #[test]
    fn document_reads_only_the_stylesheet() {
        let lookup = run(
            &sheet(
                r#"<xsl:output method="text"/>
                <l:codes xmlns:l="urn:l"><l:c k="a">Alpha</l:c></l:codes>
                <xsl:template match="/" xmlns:l="urn:l"><xsl:value-of select="document('')//l:c[@k='a']"/></xsl:template>"#,
            ),
            "<a/>",
        )
        .unwrap();
        assert_eq!(lookup.text, "Alpha");
        for location in [
            "file:///etc/passwd",
            "/etc/passwd",
            "http://127.0.0.1:9/x.xml",
        ] {
            let err = run(
                &sheet(&format!(
                    r#"<xsl:template match="/"><r><xsl:copy-of select="document('{location}')"/></r></xsl:template>"#
                )),
                "<a/>",
            )
            .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("refused") || text.contains("denied"),
                "{location}: {text}"
            );
        }
    }

    #[test]
    fn writing_documents_is_refused() {
        let path = std::env::temp_dir().join(format!("conflux-xslt-w-{}", std::process::id()));
        let err = run(
            &sheet(&format!(
                r#"<xsl:template match="/"><xsl:document href="{}" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><x/></xsl:document><r/></xsl:template>"#,
                path.display()
            ))
            .replace("version=\"1.0\"", "version=\"1.1\""),
            "<a/>",
        )
        .unwrap_err();
        assert!(!path.exists());
        assert!(
            err.to_string().contains("forbidden") || err.to_string().contains("refused"),
            "{err}"
        );
    }

    /// A template recursing `levels` times below the root template: `2 * levels + 2` nested
    /// sequence constructors (the root template's body, each level's body and `xsl:if`, the last
    /// body), one more with `extra`.
    fn recursion(levels: usize, extra: bool) -> String {
        let (open, close) = if extra {
            ("<xsl:if test=\"true()\">", "</xsl:if>")
        } else {
            ("", "")
        };
        sheet(&format!(
            r#"<xsl:output method="text"/>
            <xsl:template match="/">{open}<xsl:call-template name="r"><xsl:with-param name="n" select="{levels}"/></xsl:call-template>{close}deep</xsl:template>
            <xsl:template name="r"><xsl:param name="n"/><xsl:if test="$n &gt; 0"><xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:if></xsl:template>"#
        ))
    }

    // xsltMaxDepth: MAX_TEMPLATE_DEPTH nested sequence constructors run, one more fails.
    #[test]
    fn nesting_is_limited() {
        let levels = (MAX_TEMPLATE_DEPTH as usize - 2) / 2;
        assert_eq!(run(&recursion(levels, false), "<a/>").unwrap().text, "deep");
        let err = run(&recursion(levels, true), "<a/>").unwrap_err();
        assert!(
            err.to_string().contains("infinite template recursion"),
            "{err}"
        );
        // Endless recursion stops there too.
        let err = run(
            &sheet(
                r#"<xsl:template match="/"><xsl:call-template name="r"/></xsl:template>
                      <xsl:template name="r"><xsl:call-template name="r"/></xsl:template>"#,
            ),
            "<a/>",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("infinite template recursion"),
            "{err}"
        );
    }

    /// A root template declaring `n` variables, then calling a template.
    fn variables(n: usize) -> String {
        let vars: String = (0..n)
            .map(|i| format!("<xsl:variable name=\"v{i}\" select=\"{i}\"/>"))
            .collect();
        sheet(&format!(
            r#"<xsl:output method="text"/><xsl:template match="/">{vars}<xsl:call-template name="t"/></xsl:template>
            <xsl:template name="t">ok</xsl:template>"#
        ))
    }

    // xsltMaxVars: a template is entered while fewer than MAX_TEMPLATE_VARS variables are
    // alive; with MAX_TEMPLATE_VARS alive the call fails.
    #[test]
    fn variables_are_limited() {
        let vars = MAX_TEMPLATE_VARS as usize;
        assert_eq!(run(&variables(vars - 1), "<a/>").unwrap().text, "ok");
        let err = run(&variables(vars), "<a/>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "runtime error: file test line 2 element text; xsltApplyXSLTTemplate: A potential infinite template recursion was detected."
        );
    }

    // opLimit: a template of `n` literal result elements executes `n` instructions.
    #[test]
    fn instructions_are_limited() {
        let body = |n: usize| {
            sheet(&format!(
                r#"<xsl:template match="/"><r>{}</r></xsl:template>"#,
                "<i/>".repeat(n - 1)
            ))
        };
        let s = XsltStylesheet::compile("k", &body(100), &[]).unwrap();
        assert!(
            s.transform_limited("<a/>", &[], 100, MAX_XSLT_OUTPUT_BYTES)
                .is_ok()
        );
        let s = XsltStylesheet::compile("k", &body(101), &[]).unwrap();
        let err = s
            .transform_limited("<a/>", &[], 100, MAX_XSLT_OUTPUT_BYTES)
            .unwrap_err();
        assert!(
            err.to_string().contains("Operation limit exceeded"),
            "{err}"
        );
        // A runaway loop over a small message fails with the real limit.
        let runaway = sheet(
            r#"<xsl:template match="/"><r><xsl:for-each select="//node()"><xsl:for-each select="//node()"><xsl:for-each select="//node()"><xsl:for-each select="//node()"><i/></xsl:for-each></xsl:for-each></xsl:for-each></xsl:for-each></r></xsl:template>"#,
        );
        let source = format!("<a>{}</a>", "<b/>".repeat(100));
        let err = run(&runaway, &source).unwrap_err();
        assert!(
            err.to_string().contains("Operation limit exceeded"),
            "{err}"
        );
    }

    // The output is bounded: MAX_XSLT_OUTPUT_BYTES is kept, one more byte fails.
    #[test]
    fn output_is_limited() {
        let chunk = "x".repeat(1024 * 1024);
        let source = format!("<a>{chunk}</a>");
        let copies = MAX_XSLT_OUTPUT_BYTES / chunk.len();
        let stylesheet = |extra: &str| {
            sheet(&format!(
                r#"<xsl:output method="text"/><xsl:template match="/">{}{extra}</xsl:template>"#,
                "<xsl:value-of select=\"/a\"/>".repeat(copies)
            ))
        };
        let at_limit = run(&stylesheet(""), &source).unwrap();
        assert_eq!(at_limit.text.len(), MAX_XSLT_OUTPUT_BYTES);
        let err = run(&stylesheet("y"), &source).unwrap_err();
        assert_eq!(
            err,
            XsltError::TooLarge {
                what: "the output".into(),
                size: MAX_XSLT_OUTPUT_BYTES + 1,
                limit: MAX_XSLT_OUTPUT_BYTES
            }
        );
    }

    #[test]
    fn latin1_output_is_decoded() {
        let out = run(
            &sheet(r#"<xsl:output method="text" encoding="ISO-8859-1"/><xsl:template match="/"><xsl:value-of select="/a"/></xsl:template>"#),
            "<a>café</a>",
        )
        .unwrap();
        assert_eq!(out.text, "café");
    }

    // One compiled stylesheet serves several threads at once.
    #[test]
    fn a_stylesheet_is_shared_between_threads() {
        let s = Arc::new(
            XsltStylesheet::compile(
                "k",
                &sheet(r#"<xsl:output method="text"/><xsl:param name="n"/><xsl:template match="/"><xsl:value-of select="concat($n, ':', /a)"/></xsl:template>"#),
                &[],
            )
            .unwrap(),
        );
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let out = s
                            .transform(&format!("<a>{i}</a>"), &[("n".into(), t.to_string())])
                            .unwrap();
                        assert_eq!(out.text, format!("{t}:{i}"));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
