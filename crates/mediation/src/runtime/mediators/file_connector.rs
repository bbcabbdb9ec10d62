//! MI's file connector on the local filesystem: `<file.init>` connections (connectionType
//! `LOCAL`, `workingDir`) and the operations `<file.write>`, `<file.read>`, `<file.checkExist>`,
//! `<file.createDirectory>`, `<file.delete>`, `<file.listFiles>`, `<file.move>`, `<file.copy>`
//! and `<file.rename>`. It follows wso2-extensions/esb-connector-file
//! 5.x/6.x: paths are taken relative to the working directory (the connector concatenates
//! `workingDir` and the path; a `file://` URI is accepted too, and nothing may resolve outside
//! the working directory), the result is `Utils.generateOperationResult`'s JSON
//! (`{"success":true}`, plus `writtenBytes`, `fileExists`, `numOfDeletedFiles` per operation)
//! into `responseVariable` and, with `overwriteBody`, the body; `<file.read>` gives the file's
//! content and its `FILE_*` attributes. A failure writes `{"success":false,"error":{code,
//! message,detail}}` the same way, sets `ERROR_CODE`/`ERROR_MESSAGE` (the connector's `Error`
//! enum) and faults, as each operation's `handleError` does. FTP, FTPS, SFTP and SMB
//! connections, and the parameters that need them or that Conflux does not implement (locks,
//! compression, streaming, the advanced file filters, moving a folder), are errors naming what
//! is not supported. The operations work on `std::fs` synchronously, in the mediation task.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use conflux_artifacts::mediators::connector::{ConnectorConnection, ConnectorOperation};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::engine::Fault;
use crate::runtime::mediators::http_connector::ParamValue;
use crate::runtime::payload::{ContentKind, Payload};
use crate::synapse_expr::ExprValue;

/// The largest file `<file.read>` loads (the default `[mediation] max_message_size`): a larger
/// one is an error rather than a message held in memory.
pub const MAX_READ_BYTES: u64 = crate::runtime::payload::DEFAULT_MAX_MESSAGE_BYTES as u64;

/// `Const.LOCAL_FILE_PROTOCOL_PREFIX`.
const FILE_URI_PREFIX: &str = "file://";

/// The connector's `Error` enum (utils/Error.java): code and `ERROR_MESSAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileErrorKind {
    ConnectionError,
    IllegalPath,
    FileAlreadyExists,
    RetryExhausted,
    AccessDenied,
    FileLockingError,
    InvalidConfiguration,
    OperationError,
}

impl FileErrorKind {
    pub fn code(self) -> u32 {
        match self {
            FileErrorKind::ConnectionError => 700101,
            FileErrorKind::IllegalPath => 700102,
            FileErrorKind::FileAlreadyExists => 700103,
            FileErrorKind::RetryExhausted => 700104,
            FileErrorKind::AccessDenied => 700105,
            FileErrorKind::FileLockingError => 700106,
            FileErrorKind::InvalidConfiguration => 700107,
            FileErrorKind::OperationError => 700108,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            FileErrorKind::ConnectionError => "FILE:CONNECTION_ERROR",
            FileErrorKind::IllegalPath => "FILE:ILLEGAL_PATH",
            FileErrorKind::FileAlreadyExists => "FILE:FILE_ALREADY_EXISTS",
            FileErrorKind::RetryExhausted => "FILE:RETRY_EXHAUSTED",
            FileErrorKind::AccessDenied => "FILE:ACCESS_DENIED",
            FileErrorKind::FileLockingError => "FILE:FILE_LOCKING_ERROR",
            FileErrorKind::InvalidConfiguration => "FILE:INVALID_CONFIGURATION",
            FileErrorKind::OperationError => "FILE:OPERATION_ERROR",
        }
    }
}

/// A failed operation: the connector's error and the exception's message (`detail`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {detail}", kind.message())]
pub struct FileError {
    pub kind: FileErrorKind,
    pub detail: String,
}

fn error(kind: FileErrorKind, detail: impl Into<String>) -> FileError {
    FileError {
        kind,
        detail: detail.into(),
    }
}

fn invalid(detail: impl Into<String>) -> FileError {
    error(FileErrorKind::InvalidConfiguration, detail)
}

/// An I/O failure: the connector retries these and then reports `RETRY_EXHAUSTED`
/// (`maxRetries` 0: at once); a permission failure is `ACCESS_DENIED`.
fn io_error(what: &str, path: &Path, e: std::io::Error) -> FileError {
    let kind = match e.kind() {
        std::io::ErrorKind::PermissionDenied => FileErrorKind::AccessDenied,
        _ => FileErrorKind::RetryExhausted,
    };
    error(kind, format!("{what} {}: {e}", path.display()))
}

/// A deployed `<file.init>` connection.
#[derive(Debug, Clone, PartialEq)]
pub struct FileConnection {
    pub name: Arc<str>,
    /// `workingDir`, lexically normalised; `None`: paths must be absolute.
    pub working_dir: Option<PathBuf>,
}

fn literal<'a>(c: &'a ConnectorConnection, name: &str) -> Result<Option<&'a str>, String> {
    match c.param(name) {
        None => Ok(None),
        Some(p) => match p.value.as_text() {
            Some(text) => Ok(Some(text.trim()).filter(|t| !t.is_empty())),
            None => Err(format!(
                "<{name}> of a <file.init> connection must be static text (at {})",
                p.span
            )),
        },
    }
}

/// `a/./b/../c` as `a/c`; `None` when a `..` climbs above the start.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for part in path.components() {
        match part {
            Component::Prefix(_) | Component::RootDir => out.push(part.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
                out.pop();
            }
            Component::Normal(name) => {
                depth += 1;
                out.push(name);
            }
        }
    }
    Some(out)
}

impl FileConnection {
    /// The connection of entry `key` (connection/FileSystemHandler.java: the protocol's setup,
    /// then the working directory as the base of every path).
    pub fn compile(key: &str, c: &ConnectorConnection) -> Result<FileConnection, String> {
        let kind = literal(c, "connectionType")?
            .unwrap_or("LOCAL")
            .to_ascii_uppercase();
        match kind.as_str() {
            "LOCAL" => {}
            "FTP" | "FTPS" | "SFTP" | "SMB" | "SMB2" => {
                return Err(format!(
                    "file connection {key}: connectionType {kind} is not supported: Conflux's file connector works on the local filesystem only (LOCAL)"
                ));
            }
            other => {
                return Err(format!(
                    "file connection {key}: connectionType {other} is not one of LOCAL, FTP, FTPS, SFTP, SMB2"
                ));
            }
        }
        let working_dir = match literal(c, "workingDir")? {
            None => None,
            Some(dir) => {
                let dir = dir.strip_prefix(FILE_URI_PREFIX).unwrap_or(dir);
                let path = Path::new(dir);
                if !path.is_absolute() {
                    return Err(format!(
                        "file connection {key}: workingDir {dir} is not an absolute path"
                    ));
                }
                Some(normalise(path).ok_or_else(|| {
                    format!("file connection {key}: workingDir {dir} climbs above the root")
                })?)
            }
        };
        let name = literal(c, "name")?.unwrap_or(key);
        Ok(FileConnection {
            name: name.into(),
            working_dir,
        })
    }

    /// Where `path` (an operation's parameter) is: relative to the working directory (a leading
    /// `/` too, as the connector concatenates the two), or a `file://` URI inside it.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, FileError> {
        let illegal = |why: &str| error(FileErrorKind::IllegalPath, format!("{path}: {why}"));
        let (text, uri) = match path.strip_prefix(FILE_URI_PREFIX) {
            Some(rest) => (rest, true),
            None => (path, false),
        };
        match &self.working_dir {
            Some(dir) => {
                let joined = if uri {
                    PathBuf::from(text)
                } else {
                    dir.join(text.trim_start_matches('/'))
                };
                let resolved = normalise(&joined)
                    .filter(|p| p.starts_with(dir))
                    .ok_or_else(|| {
                        illegal(&format!(
                            "the path is outside the working directory {}",
                            dir.display()
                        ))
                    })?;
                Ok(resolved)
            }
            None => {
                let p = Path::new(text);
                if !p.is_absolute() {
                    return Err(illegal(
                        "a relative path needs a connection with a workingDir",
                    ));
                }
                normalise(p).ok_or_else(|| illegal("the path climbs above the root"))
            }
        }
    }
}

/// The operations Conflux runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Write,
    Read,
    CheckExist,
    CreateDirectory,
    Delete,
    ListFiles,
    Move,
    Copy,
    Rename,
}

impl Operation {
    pub fn of(name: &str) -> Option<Operation> {
        Some(match name {
            "write" => Operation::Write,
            "read" => Operation::Read,
            "checkExist" => Operation::CheckExist,
            "createDirectory" => Operation::CreateDirectory,
            "delete" => Operation::Delete,
            "listFiles" => Operation::ListFiles,
            "move" => Operation::Move,
            "copy" => Operation::Copy,
            "rename" => Operation::Rename,
            _ => return None,
        })
    }

    /// The parameter naming the file or folder.
    fn path_param(self) -> &'static str {
        match self {
            Operation::Write => "filePath",
            Operation::CreateDirectory | Operation::ListFiles => "directoryPath",
            Operation::Move | Operation::Copy => "sourcePath",
            Operation::Read | Operation::CheckExist | Operation::Delete | Operation::Rename => {
                "path"
            }
        }
    }
}

/// Parameter values Conflux does not implement: `(operation, parameter, the values it does
/// handle)`; another static value is a deploy error, another value at run time an
/// `INVALID_CONFIGURATION` error.
const LIMITED: &[(Operation, &str, &[&str])] = &[
    (Operation::Write, "compress", &["false"]),
    (Operation::Write, "enableLock", &["false"]),
    (Operation::Write, "enableStreaming", &["false"]),
    (Operation::Write, "appendPosition", &["2147483647"]),
    (Operation::Write, "timeBetweenSizeCheck", &[]),
    (Operation::Write, "updateFilePermission", &[]),
    (
        Operation::Read,
        "readMode",
        &[
            "Complete File",
            "Metadata Only",
            "Starting From Line",
            "Up To Line",
            "Between Lines",
            "Specific Line",
        ],
    ),
    (Operation::Read, "enableLock", &["false"]),
    (Operation::Read, "enableStreaming", &["false"]),
    (Operation::Read, "timeBetweenSizeCheck", &[]),
    (Operation::Read, "fileFilterType", &[]),
    (Operation::Read, "includeFiles", &[]),
    (Operation::Read, "excludeFiles", &[]),
    (Operation::Read, "maxFileAge", &[]),
    (Operation::Delete, "fileFilterType", &[]),
    (Operation::Delete, "includeFiles", &[]),
    (Operation::Delete, "excludeFiles", &[]),
    (Operation::Delete, "maxFileAge", &[]),
    (Operation::CreateDirectory, "permissions", &[]),
    (Operation::ListFiles, "fileFilterType", &[]),
    (Operation::ListFiles, "includeFiles", &[]),
    (Operation::ListFiles, "excludeFiles", &[]),
    (Operation::ListFiles, "maxFileAge", &[]),
    (Operation::ListFiles, "appendFileAttributes", &["false"]),
    (
        Operation::ListFiles,
        "responseFormat",
        &["Hierarchical", "Flat"],
    ),
    (
        Operation::ListFiles,
        "sortingAttribute",
        &["Name", "Size", "LastModifiedTime"],
    ),
    (
        Operation::ListFiles,
        "sortingOrder",
        &["Ascending", "Descending"],
    ),
    (Operation::Move, "filePattern", &[]),
    (Operation::Move, "fileFilterType", &[]),
    (Operation::Move, "includeFiles", &[]),
    (Operation::Move, "excludeFiles", &[]),
    (Operation::Move, "maxFileAge", &[]),
    (Operation::Move, "timeBetweenSizeCheck", &[]),
    (Operation::Copy, "sourceFilePattern", &[]),
    (Operation::Copy, "fileFilterType", &[]),
    (Operation::Copy, "includeFiles", &[]),
    (Operation::Copy, "excludeFiles", &[]),
    (Operation::Copy, "maxFileAge", &[]),
    (Operation::Copy, "timeBetweenSizeCheck", &[]),
    (Operation::Rename, "timeBetweenSizeCheck", &[]),
];

/// A compiled `<file.operation>`.
#[derive(Debug, Clone)]
pub struct FileOperation {
    pub element: &'static str,
    pub operation: Operation,
    pub connection: Arc<FileConnection>,
    pub params: HashMap<&'static str, ParamValue>,
}

/// What an operation produced: the result JSON, the content read (with its attributes), or
/// nothing (a delete of a path that does not exist sets no result in MI).
#[derive(Debug, PartialEq)]
enum Outcome {
    Result(serde_json::Value),
    Read {
        content: Option<Payload>,
        attributes: serde_json::Map<String, serde_json::Value>,
    },
    Nothing,
}

impl FileOperation {
    /// The parameters whose text is a template the connector renders (`InlineExpressionUtil`).
    pub const INLINE_PARAMS: [&'static str; 1] = ["contentOrExpression"];

    /// Checks the static parameters Conflux cannot honour; `Err` says which and why.
    pub fn new(
        op: &ConnectorOperation,
        connection: Arc<FileConnection>,
        params: HashMap<&'static str, ParamValue>,
    ) -> Result<FileOperation, String> {
        let operation = Operation::of(op.operation).ok_or_else(|| {
            format!(
                "{} is not an operation Conflux's file connector runs",
                op.element
            )
        })?;
        for (name, value) in &params {
            if let ParamValue::Literal(text) = value
                && let Err(e) = check_limited(operation, name, text)
            {
                return Err(format!("{}: {}", op.element, e.detail));
            }
        }
        Ok(FileOperation {
            element: op.element,
            operation,
            connection,
            params,
        })
    }

    /// Whether the body must be read first: a parameter reads it, the result may replace it
    /// (`overwriteBody` not a static false), or a write may write it (no static content).
    pub fn needs_payload(&self) -> bool {
        let static_text = |name| match self.params.get(name) {
            Some(ParamValue::Literal(text)) => Some(text.trim()),
            _ => None,
        };
        let may_overwrite = self.params.contains_key("overwriteBody")
            && static_text("overwriteBody").is_none_or(|v| v.eq_ignore_ascii_case("true"));
        let writes_body = self.operation == Operation::Write
            && static_text("contentOrExpression").is_none_or(str::is_empty);
        may_overwrite || writes_body || self.params.values().any(ParamValue::needs_payload)
    }

    fn text<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        name: &str,
    ) -> Result<Option<String>, FileError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) => v
                .render(ctx)
                .map(|t| Some(t).filter(|t| !t.trim().is_empty()))
                .map_err(|e| invalid(format!("<{name}>: {e}"))),
        }
    }

    fn flag<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        name: &str,
        default: bool,
    ) -> Result<bool, FileError> {
        Ok(self
            .text(ctx, name)?
            .map_or(default, |v| v.trim().eq_ignore_ascii_case("true")))
    }

    /// Runs the operation; sets the result or faults.
    pub(crate) fn run<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), Fault> {
        let variable = self
            .text(ctx, "responseVariable")
            .map_err(|e| self.fault(ctx, None, false, e))?;
        let overwrite = self
            .flag(ctx, "overwriteBody", false)
            .map_err(|e| self.fault(ctx, None, false, e))?;
        match self.execute(ctx) {
            Ok(outcome) => {
                tracing::debug!(target: "conflux::mediation", "{{{}}} {} through connection {}: {outcome:?}", ctx.artifact, self.element, self.connection.name);
                match outcome {
                    Outcome::Result(result) => {
                        respond(ctx, variable.as_deref(), overwrite, result, None)
                    }
                    Outcome::Read {
                        content,
                        attributes,
                    } => read_response(ctx, variable.as_deref(), overwrite, content, attributes),
                    Outcome::Nothing => {}
                }
                Ok(())
            }
            Err(e) => Err(self.fault(ctx, variable.as_deref(), overwrite, e)),
        }
    }

    fn execute<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<Outcome, FileError> {
        for (name, value) in &self.params {
            if !matches!(value, ParamValue::Literal(_))
                && let Some(v) = self.text(ctx, name)?
            {
                check_limited(self.operation, name, &v)?;
            }
        }
        let name = self.operation.path_param();
        let raw = self
            .text(ctx, name)?
            .ok_or_else(|| invalid(format!("Parameter '{name}' is not provided ")))?;
        let path = self.connection.resolve(raw.trim())?;
        match self.operation {
            Operation::Write => self.write(ctx, &path),
            Operation::Read => self.read(ctx, raw.trim(), &path),
            Operation::CheckExist => Ok(Outcome::Result(serde_json::json!({
                "success": true,
                "fileExists": path.exists(),
            }))),
            Operation::CreateDirectory => {
                // FileObject.createFolder: creates the missing ancestors too; an existing
                // folder is left as it is.
                std::fs::create_dir_all(&path)
                    .map_err(|e| io_error("Error while creating directory", &path, e))?;
                Ok(Outcome::Result(serde_json::json!({"success": true})))
            }
            Operation::Delete => match self.text(ctx, "matchingPattern")? {
                None => delete(&path),
                Some(pattern) => delete_matching(&path, &pattern),
            },
            Operation::ListFiles => self.list_files(ctx, &path),
            Operation::Move | Operation::Copy => self.move_or_copy(ctx, &path),
            Operation::Rename => self.rename(ctx, raw.trim(), &path),
        }
    }

    /// operations/ListFiles.java: the folder's files (`Hierarchical`: `{"directory": {"name",
    /// "file": [...], "directory": [...]}}`; `Flat`: `{"files": {"files": [{"name","path"}]}}`),
    /// those matching `matchingPattern`, sorted, with subfolders when `recursive`.
    fn list_files<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        path: &Path,
    ) -> Result<Outcome, FileError> {
        let meta = std::fs::metadata(path)
            .map_err(|_| error(FileErrorKind::IllegalPath, "Folder does not exist."))?;
        if !meta.is_dir() {
            return Err(error(FileErrorKind::RetryExhausted, "Folder is expected."));
        }
        let pattern = match self.text(ctx, "matchingPattern")? {
            None => None,
            Some(p) => Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                error(
                    FileErrorKind::RetryExhausted,
                    format!("matchingPattern {p}: {e}"),
                )
            })?),
        };
        let listing = Listing {
            pattern,
            recursive: self.flag(ctx, "recursive", false)?,
            max_depth: self
                .text(ctx, "subDirectoryMaxDepth")?
                .and_then(|d| d.trim().parse::<usize>().ok()),
            by: self
                .text(ctx, "sortingAttribute")?
                .unwrap_or_else(|| "Name".into()),
            descending: self
                .text(ctx, "sortingOrder")?
                .is_some_and(|o| o.trim().eq_ignore_ascii_case("Descending")),
        };
        let format = self
            .text(ctx, "responseFormat")?
            .unwrap_or_else(|| "Hierarchical".into());
        let io = |e| io_error("Error while listing", path, e);
        let mut result = serde_json::json!({"success": true});
        if format.trim().eq_ignore_ascii_case("Flat") {
            let mut files = Vec::new();
            listing.flat(path, 0, &mut files).map_err(io)?;
            result["files"] = serde_json::json!({"files": files});
        } else {
            result["directory"] = listing.hierarchical(path, 0).map_err(io)?;
        }
        Ok(Outcome::Result(result))
    }

    /// operations/MoveFiles.java and CopyFiles.java: a file goes into the folder `targetPath`
    /// (as `renameTo` if given); a folder's content is copied into `targetPath` (into a folder
    /// of its own name, or `renameTo`, with `includeParent`).
    fn move_or_copy<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        source: &Path,
    ) -> Result<Outcome, FileError> {
        let moving = self.operation == Operation::Move;
        let target = self
            .text(ctx, "targetPath")?
            .ok_or_else(|| invalid("Parameter 'targetPath' is not provided "))?;
        let target = target.trim().trim_end_matches('/');
        let rename_to = self.text(ctx, "renameTo")?;
        let overwrite = self.flag(ctx, "overwrite", false)?;
        let Ok(meta) = std::fs::metadata(source) else {
            return Err(if moving {
                error(FileErrorKind::OperationError, "File/Folder does not exist.")
            } else {
                error(
                    FileErrorKind::IllegalPath,
                    format!("File/Folder does not exist : {}", uri(source)),
                )
            });
        };
        let base = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let exists = || {
            error(
                FileErrorKind::FileAlreadyExists,
                "Destination file already exists and overwrite not allowed",
            )
        };
        if meta.is_file() {
            let name = rename_to.as_deref().unwrap_or(&base);
            let dest = self
                .connection
                .resolve(&format!("{target}/{}", name.trim()))?;
            if !overwrite && dest.exists() {
                return Err(exists());
            }
            if let Some(parent) = dest.parent()
                && !parent.exists()
            {
                if moving && !self.flag(ctx, "createParentDirectories", false)? {
                    return Err(error(
                        FileErrorKind::OperationError,
                        format!(
                            "Parent directory: {} does not exist and createParentDirectories is set to false",
                            uri(parent)
                        ),
                    ));
                }
                std::fs::create_dir_all(parent)
                    .map_err(|e| io_error("Error while creating", parent, e))?;
            }
            if moving {
                std::fs::rename(source, &dest)
                    .map_err(|e| error(FileErrorKind::OperationError, format!("{e}")))?;
            } else {
                std::fs::copy(source, &dest)
                    .map_err(|e| io_error("Error while copying to", &dest, e))?;
            }
            return Ok(Outcome::Result(serde_json::json!({"success": true})));
        }
        // A folder: its content is copied into the target (VFS `copyFrom(src, SELECT_ALL)`);
        // a move then deletes the source (MoveFiles.moveFolder).
        let target_dir = self.connection.resolve(target)?;
        if moving && !target_dir.exists() && !self.flag(ctx, "createParentDirectories", false)? {
            return Err(error(
                FileErrorKind::OperationError,
                "Target folder does not exist and not configured to create",
            ));
        }
        let dest = if self.flag(ctx, "includeParent", false)? {
            let name = rename_to.as_deref().unwrap_or(&base);
            self.connection
                .resolve(&format!("{target}/{}", name.trim()))?
        } else {
            target_dir
        };
        if dest.starts_with(source) {
            return Err(error(
                FileErrorKind::RetryExhausted,
                format!("{} is inside the folder {}", uri(&dest), uri(source)),
            ));
        }
        if dest.exists() && !overwrite && shares_a_file(source, &dest) {
            return Err(if moving {
                error(
                    FileErrorKind::OperationError,
                    "Error occurred while moving one or more File(s)/Folder.",
                )
            } else {
                error(
                    FileErrorKind::FileAlreadyExists,
                    "Folder or one or more sub-directories already exists and overwrite not allowed",
                )
            });
        }
        copy_folder(source, &dest).map_err(|e| io_error("Error while copying to", &dest, e))?;
        if moving {
            std::fs::remove_dir_all(source)
                .map_err(|e| io_error("Error while deleting", source, e))?;
        }
        Ok(Outcome::Result(serde_json::json!({"success": true})))
    }

    /// operations/RenameFiles.java: `renameTo` in the same folder.
    fn rename<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        raw: &str,
        path: &Path,
    ) -> Result<Outcome, FileError> {
        let new_name = self
            .text(ctx, "renameTo")?
            .ok_or_else(|| invalid("Parameter 'renameTo' is not provided "))?;
        let new_name = new_name.trim();
        if new_name.contains('/') || new_name == ".." || new_name == "." {
            return Err(error(
                FileErrorKind::OperationError,
                format!("File {raw} cannot be renamed to {new_name}"),
            ));
        }
        if !path.exists() {
            return Err(error(
                FileErrorKind::IllegalPath,
                format!("File or folder does not exist {}", uri(path)),
            ));
        }
        let dest = path.with_file_name(new_name);
        if !self.flag(ctx, "overwrite", false)? && dest.exists() {
            return Err(error(
                FileErrorKind::FileAlreadyExists,
                "Destination file already exists and overwrite not allowed.",
            ));
        }
        std::fs::rename(path, &dest)
            .map_err(|e| error(FileErrorKind::OperationError, format!("{e}")))?;
        Ok(Outcome::Result(serde_json::json!({"success": true})))
    }

    /// operations/WriteFile.java.
    fn write<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        path: &Path,
    ) -> Result<Outcome, FileError> {
        if path.is_dir() {
            return Err(error(
                FileErrorKind::IllegalPath,
                format!("Path does not point to a file {}", path.display()),
            ));
        }
        let mode = self
            .text(ctx, "writeMode")?
            .unwrap_or_else(|| "Overwrite".to_string());
        let encoding = self
            .text(ctx, "encoding")?
            .unwrap_or_else(|| "UTF-8".to_string());
        let content = self.text(ctx, "contentOrExpression")?;
        let bytes = match content {
            Some(mut text) => {
                if self.flag(ctx, "appendNewLine", false)? {
                    text.push('\n');
                }
                encode(&text, &encoding)?
            }
            // performBodyWrite: the message as its formatter writes it.
            None => {
                let mime = self.text(ctx, "mimeType")?;
                let kind = mime.as_deref().map(ContentKind::of);
                match &ctx.payload {
                    None | Some(Payload::Empty) => Vec::new(),
                    Some(p) => p
                        .serialize(kind)
                        .map_err(|e| invalid(format!("the message body: {e}")))?
                        .to_vec(),
                }
            }
        };
        let create_parent = || -> Result<(), FileError> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| io_error("Error while creating the folder of", path, e))?;
            }
            Ok(())
        };
        use std::io::Write as _;
        match mode.trim() {
            m if m.eq_ignore_ascii_case("Overwrite") => {
                create_parent()?;
                std::fs::write(path, &bytes)
                    .map_err(|e| io_error("Error while writing", path, e))?;
            }
            m if m.eq_ignore_ascii_case("Append") => {
                if !path.exists() {
                    return Err(error(
                        FileErrorKind::IllegalPath,
                        format!("File to append is not found: {}", uri(path)),
                    ));
                }
                let mut file = std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(|e| io_error("Error while appending to", path, e))?;
                file.write_all(&bytes)
                    .map_err(|e| io_error("Error while appending to", path, e))?;
            }
            m if m.eq_ignore_ascii_case("Create New") => {
                create_parent()?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .map_err(|e| match e.kind() {
                        // MI throws FileOperationException, retried then RETRY_EXHAUSTED.
                        std::io::ErrorKind::AlreadyExists => error(
                            FileErrorKind::RetryExhausted,
                            format!("Target file already exists. Path = {}", uri(path)),
                        ),
                        _ => io_error("Error while creating", path, e),
                    })?;
                file.write_all(&bytes)
                    .map_err(|e| io_error("Error while writing", path, e))?;
            }
            other => {
                return Err(invalid(format!(
                    "writeMode {other} is not one of Overwrite, Append, Create New"
                )));
            }
        }
        let mut result = serde_json::json!({"success": true});
        if !bytes.is_empty() {
            result["writtenBytes"] = bytes.len().into();
        }
        Ok(Outcome::Result(result))
    }

    /// operations/ReadFile.java: the whole file (or its metadata only).
    fn read<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        raw: &str,
        path: &Path,
    ) -> Result<Outcome, FileError> {
        let meta = std::fs::metadata(path).map_err(|_| {
            error(
                FileErrorKind::IllegalPath,
                format!("File or folder not found: {}", path.display()),
            )
        })?;
        let mode = self.read_mode(ctx)?;
        // A folder: its first file whose name matches filePattern (ReadFile.selectFileToRead;
        // here in name order, and files only).
        let (raw, path, meta) = if meta.is_dir() {
            let pattern = self
                .text(ctx, "filePattern")?
                .unwrap_or_else(|| ".*".into());
            let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                error(
                    FileErrorKind::RetryExhausted,
                    format!("filePattern {pattern}: {e}"),
                )
            })?;
            let io = |e| io_error("Error while listing", path, e);
            let mut names = Vec::new();
            for entry in std::fs::read_dir(path).map_err(io)? {
                let entry = entry.map_err(io)?;
                if entry.file_type().map_err(io)?.is_file() {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            names.sort();
            let name = names.into_iter().find(|n| re.is_match(n)).ok_or_else(|| {
                error(
                    FileErrorKind::RetryExhausted,
                    format!(
                        "There is no immediate files to read that matches with given pattern in the folder {}",
                        uri(path)
                    ),
                )
            })?;
            let file = path.join(&name);
            let meta = std::fs::metadata(&file)
                .map_err(|e| io_error("Error while reading file", &file, e))?;
            (format!("{}/{name}", raw.trim_end_matches('/')), file, meta)
        } else {
            (raw.to_string(), path.to_path_buf(), meta)
        };
        let path = path.as_path();
        let attributes = attributes(&raw, path, &meta);
        if mode == ReadMode::Metadata {
            return Ok(Outcome::Read {
                content: None,
                attributes,
            });
        }
        if meta.len() > MAX_READ_BYTES {
            return Err(error(
                FileErrorKind::OperationError,
                format!(
                    "{} is {} bytes, more than the {MAX_READ_BYTES} Conflux reads into a message",
                    path.display(),
                    meta.len()
                ),
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| io_error("Error while reading file", path, e))?;
        let encoding = self
            .text(ctx, "encoding")?
            .unwrap_or_else(|| "UTF-8".to_string());
        let text = select_lines(decode(&bytes, &encoding)?, mode);
        let content_type = self
            .text(ctx, "contentType")?
            .unwrap_or_else(|| content_type_of(path).to_string());
        let payload =
            Payload::parse(text.into_bytes().into(), Some(&content_type)).map_err(|e| {
                error(
                    FileErrorKind::RetryExhausted,
                    format!("Error while building message from {}: {e}", path.display()),
                )
            })?;
        Ok(Outcome::Read {
            content: Some(payload),
            attributes,
        })
    }

    /// `readMode` and its line numbers, checked as `ReadFile.readAndValidateInputs` does.
    fn read_mode<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<ReadMode, FileError> {
        let number = |name: &str| -> Result<i64, FileError> {
            match self.text(ctx, name)? {
                None => Ok(0),
                Some(v) => v.trim().parse().map_err(|_| {
                    error(
                        FileErrorKind::RetryExhausted,
                        format!("For input string: \"{}\"", v.trim()),
                    )
                }),
            }
        };
        let mode = self
            .text(ctx, "readMode")?
            .unwrap_or_else(|| "Complete File".into());
        let is = |name: &str| mode.trim().eq_ignore_ascii_case(name);
        let positive = |n: i64, name: &str, verb: &str| -> Result<usize, FileError> {
            match n {
                0 => Err(invalid(format!(
                    "Parameter '{name}' is required for selected read mode"
                ))),
                n if n < 0 => Err(invalid(format!("Parameter '{name}' {verb} positive"))),
                n => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            }
        };
        let line = |name: &str, verb: &str| positive(number(name)?, name, verb);
        if is("Complete File") {
            Ok(ReadMode::Complete)
        } else if is("Metadata Only") {
            Ok(ReadMode::Metadata)
        } else if is("Starting From Line") {
            Ok(ReadMode::From(line("startLineNum", "must be")?))
        } else if is("Up To Line") {
            Ok(ReadMode::UpTo(line("endLineNum", "must be")?))
        } else if is("Specific Line") {
            Ok(ReadMode::Line(line("lineNum", "should be")?))
        } else if is("Between Lines") {
            let (start, end) = (number("startLineNum")?, number("endLineNum")?);
            if start == 0 || end == 0 {
                return Err(invalid(
                    "Parameters 'startLineNum' and 'endLineNumber' are required for selected read mode",
                ));
            }
            if start < 0 || end < 0 {
                return Err(invalid(
                    "Parameter 'startLineNum' and 'endLineNumber' must be positive",
                ));
            }
            if end < start {
                return Err(invalid(
                    "Parameter 'endLineNumber' should be greater than 'startLineNum'",
                ));
            }
            let n = |v: i64| usize::try_from(v).unwrap_or(usize::MAX);
            Ok(ReadMode::Between(n(start), n(end)))
        } else {
            Err(invalid("Unknown file read mode"))
        }
    }

    /// The connector's `handleError`: the failure result, `ERROR_CODE`/`ERROR_MESSAGE`, and a
    /// fault.
    fn fault<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        variable: Option<&str>,
        overwrite: bool,
        e: FileError,
    ) -> Fault {
        let result = serde_json::json!({
            "success": false,
            "error": {
                "code": e.kind.code().to_string(),
                "message": e.kind.message(),
                "detail": e.detail,
            },
        });
        respond(ctx, variable, overwrite, result, None);
        let _ = ctx.set(Scope::Default, props::ERROR_CODE, e.kind.code().to_string());
        let _ = ctx.set(
            Scope::Default,
            props::ERROR_MESSAGE,
            e.kind.message().to_string(),
        );
        Fault {
            code: e.kind.code(),
            message: format!(
                "{} (connection {}): {}",
                self.element, self.connection.name, e.detail
            ),
            status: None,
        }
    }
}

/// `readMode` (pojo/FileReadMode.java); line numbers from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadMode {
    Complete,
    Metadata,
    From(usize),
    UpTo(usize),
    Between(usize, usize),
    Line(usize),
}

/// `ReadFile.readFile`/`processStream`: the lines asked for, joined with `\n`. As there, a range
/// whose end is not after its start reads to the end of the file (`Up To Line` 1, `Between
/// Lines` n and n), and a line past the end is empty.
fn select_lines(text: String, mode: ReadMode) -> String {
    let range = |start: usize, end: usize| -> String {
        let lines = text.lines().skip(start - 1);
        if end > start {
            lines.take(end - start + 1).collect::<Vec<_>>().join("\n")
        } else {
            lines.collect::<Vec<_>>().join("\n")
        }
    };
    match mode {
        ReadMode::Complete | ReadMode::Metadata => text,
        ReadMode::From(start) => range(start, 0),
        ReadMode::UpTo(end) => range(1, end),
        ReadMode::Between(start, end) => range(start, end),
        ReadMode::Line(n) => text.lines().nth(n - 1).unwrap_or_default().to_string(),
    }
}

/// How `<file.listFiles>` selects and orders.
struct Listing {
    pattern: Option<regex::Regex>,
    recursive: bool,
    /// `subDirectoryMaxDepth`; `None`: unlimited.
    max_depth: Option<usize>,
    by: String,
    descending: bool,
}

/// A folder entry: name, whether a folder, size, modification time.
type Entry = (String, bool, u64, std::time::SystemTime);

impl Listing {
    /// The folder's children: files matching the pattern, every folder (ListFiles
    /// `getFilesAndFolders`), in `FileSorter`'s order.
    fn children(&self, dir: &Path) -> std::io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = meta.is_dir();
            if !is_dir && self.pattern.as_ref().is_some_and(|p| !p.is_match(&name)) {
                continue;
            }
            let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            // VFS cannot size a folder: folders sort as size 0.
            let size = if is_dir { 0 } else { meta.len() };
            out.push((name, is_dir, size, modified));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        if self.by.trim().eq_ignore_ascii_case("Size") {
            out.sort_by_key(|e| e.2);
        } else if self.by.trim().eq_ignore_ascii_case("LastModifiedTime") {
            out.sort_by_key(|e| e.3);
        }
        if self.descending {
            out.reverse();
        }
        Ok(out)
    }

    fn descend(&self, depth: usize) -> bool {
        self.recursive && self.max_depth.is_none_or(|max| depth < max)
    }

    fn hierarchical(&self, dir: &Path, depth: usize) -> std::io::Result<serde_json::Value> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files = Vec::new();
        let mut folders = Vec::new();
        for (child, is_dir, _, _) in self.children(dir)? {
            if !is_dir {
                files.push(serde_json::Value::from(child));
            } else if self.descend(depth) {
                folders.push(self.hierarchical(&dir.join(child), depth + 1)?);
            }
        }
        let mut out = serde_json::json!({"name": name});
        if !files.is_empty() {
            out["file"] = files.into();
        }
        if !folders.is_empty() {
            out["directory"] = folders.into();
        }
        Ok(out)
    }

    fn flat(
        &self,
        dir: &Path,
        depth: usize,
        out: &mut Vec<serde_json::Value>,
    ) -> std::io::Result<()> {
        for (child, is_dir, _, _) in self.children(dir)? {
            let path = dir.join(&child);
            if !is_dir {
                out.push(serde_json::json!({"name": child, "path": path.display().to_string()}));
            } else if self.descend(depth) {
                self.flat(&path, depth + 1, out)?;
            }
        }
        Ok(())
    }
}

/// Whether a file directly in `source` has a namesake directly in `dest` (CopyFiles checks
/// one level only).
fn shares_a_file(source: &Path, dest: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(source) else {
        return false;
    };
    entries
        .flatten()
        .any(|e| e.file_type().is_ok_and(|t| t.is_file()) && dest.join(e.file_name()).is_file())
}

/// VFS `copyFrom(src, SELECT_ALL)`: `dest` gets everything `source` holds.
fn copy_folder(source: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let to = dest.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_folder(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

/// A run-time value of a parameter in [`LIMITED`] that Conflux does not implement.
fn check_limited(operation: Operation, name: &str, value: &str) -> Result<(), FileError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(());
    }
    let Some((_, _, handled)) = LIMITED
        .iter()
        .find(|(op, n, _)| *op == operation && *n == name)
    else {
        return Ok(());
    };
    if handled.iter().any(|h| h.eq_ignore_ascii_case(value)) {
        return Ok(());
    }
    Err(invalid(if handled.is_empty() {
        format!("<{name}> is not supported by Conflux's file connector")
    } else {
        format!(
            "<{name}> {value} is not supported by Conflux's file connector (it handles {})",
            handled.join(", ")
        )
    }))
}

/// `FileObject.getName().getFriendlyURI()` of a local file.
fn uri(path: &Path) -> String {
    format!("{FILE_URI_PREFIX}{}", path.display())
}

/// The content type VFS guesses from the name (`FileContentInfo`), as `getContentType` uses it.
fn content_type_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "json" => "application/json",
        "xml" => "application/xml",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        _ => "text/plain",
    }
}

/// The text in `encoding`: UTF-8, US-ASCII and ISO-8859-1 (Java's replacement for what the
/// charset cannot hold, `?`); another charset is an error naming it.
fn encode(text: &str, encoding: &str) -> Result<Vec<u8>, FileError> {
    match charset(encoding)? {
        Charset::Utf8 => Ok(text.as_bytes().to_vec()),
        Charset::Latin1 => Ok(text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()),
        Charset::Ascii => Ok(text
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect()),
    }
}

fn decode(bytes: &[u8], encoding: &str) -> Result<String, FileError> {
    match charset(encoding)? {
        Charset::Utf8 | Charset::Ascii => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Charset::Latin1 => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
    }
}

enum Charset {
    Utf8,
    Ascii,
    Latin1,
}

fn charset(encoding: &str) -> Result<Charset, FileError> {
    match encoding.trim().to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => Ok(Charset::Utf8),
        "US-ASCII" | "ASCII" => Ok(Charset::Ascii),
        "ISO-8859-1" | "LATIN1" => Ok(Charset::Latin1),
        other => Err(invalid(format!(
            "encoding {other} is not supported by Conflux's file connector (UTF-8, US-ASCII, ISO-8859-1)"
        ))),
    }
}

/// `ReadFile.getFileProperties` with the default `metadataOutputFormat` (`MM/dd/yyyy HH:mm:ss`,
/// here in UTC).
fn attributes(
    raw: &str,
    path: &Path,
    meta: &std::fs::Metadata,
) -> serde_json::Map<String, serde_json::Value> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let modified = meta
        .modified()
        .ok()
        .map(|t| {
            let t = time::OffsetDateTime::from(t);
            format!(
                "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
                u8::from(t.month()),
                t.day(),
                t.year(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default();
    let mut out = serde_json::Map::new();
    for (key, value) in [
        ("FILE_LAST_MODIFIED_TIME", modified),
        ("FILE_IS_DIR", meta.is_dir().to_string()),
        ("FILE_PATH", raw.to_string()),
        ("FILE_URL", uri(path)),
        (
            "FILE_NAME_WITHOUT_EXTENSION",
            name.split('.').next().unwrap_or_default().to_string(),
        ),
        ("FILE_NAME", name),
        ("FILE_SIZE", meta.len().to_string()),
    ] {
        out.insert(key.to_string(), value.into());
    }
    out
}

/// operations/DeleteFileOrFolder.java: a file (`{"success":true}`), or a folder with all it
/// holds (`numOfDeletedFiles`, VFS `deleteAll`: the folder and every descendant); a path that
/// does not exist is left as it is and sets no result.
fn delete(path: &Path) -> Result<Outcome, FileError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(Outcome::Nothing);
    };
    if !meta.is_dir() {
        std::fs::remove_file(path).map_err(|e| io_error("Error while deleting", path, e))?;
        return Ok(Outcome::Result(serde_json::json!({"success": true})));
    }
    fn count(dir: &Path) -> std::io::Result<u64> {
        let mut n = 1;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            n += if entry.file_type()?.is_dir() {
                count(&entry.path())?
            } else {
                1
            };
        }
        Ok(n)
    }
    let deleted = count(path).map_err(|e| io_error("Error while deleting", path, e))?;
    std::fs::remove_dir_all(path).map_err(|e| io_error("Error while deleting", path, e))?;
    Ok(Outcome::Result(
        serde_json::json!({"success": true, "numOfDeletedFiles": deleted}),
    ))
}

/// `<file.delete>` of a folder with `matchingPattern` (VFS `delete(FileFilterSelector)`): the
/// entries directly in it whose names match, a folder only when empty; a file is deleted as
/// without a pattern.
fn delete_matching(path: &Path, pattern: &str) -> Result<Outcome, FileError> {
    if !path.is_dir() {
        return delete(path);
    }
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        error(
            FileErrorKind::RetryExhausted,
            format!("matchingPattern {pattern}: {e}"),
        )
    })?;
    let io = |e| io_error("Error while deleting in", path, e);
    let mut deleted = 0u64;
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !re.is_match(&name) {
            continue;
        }
        let child = entry.path();
        if entry.file_type().map_err(io)?.is_dir() {
            if std::fs::read_dir(&child).map_err(io)?.next().is_some() {
                continue;
            }
            std::fs::remove_dir(&child).map_err(io)?;
        } else {
            std::fs::remove_file(&child).map_err(io)?;
        }
        deleted += 1;
    }
    Ok(Outcome::Result(
        serde_json::json!({"success": true, "numOfDeletedFiles": deleted}),
    ))
}

/// `handleConnectorResponse`: the result into the variable (`payload`, `headers`,
/// `attributes`) and, with `overwriteBody`, the body.
fn respond<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    variable: Option<&str>,
    overwrite: bool,
    result: serde_json::Value,
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
) {
    if overwrite {
        set_body(
            ctx,
            Payload::Json(result.clone().into()),
            "application/json",
        );
    }
    if let Some(name) = variable {
        ctx.variables.insert(
            name.to_string(),
            ExprValue::Json(serde_json::json!({
                "payload": result,
                "headers": {},
                "attributes": attributes.unwrap_or_default(),
            })),
        );
    }
}

/// `ReadFile.readFileContent`: with `overwriteBody` the content becomes the body; the variable
/// gets the content (JSON as JSON, else the XML of the payload element) and the attributes.
fn read_response<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    variable: Option<&str>,
    overwrite: bool,
    content: Option<Payload>,
    attributes: serde_json::Map<String, serde_json::Value>,
) {
    let Some(content) = content else {
        // Metadata only: `{"success":true}` with the attributes.
        respond(
            ctx,
            variable,
            overwrite,
            serde_json::json!({"success": true}),
            Some(attributes),
        );
        return;
    };
    let value = if overwrite {
        serde_json::Value::Null
    } else {
        match &content {
            Payload::Json(json) => json.value().clone(),
            other => other.body_xml().into(),
        }
    };
    if overwrite {
        let content_type = content.natural_content_type().unwrap_or("text/plain");
        set_body(ctx, content, content_type);
    }
    if let Some(name) = variable {
        ctx.variables.insert(
            name.to_string(),
            ExprValue::Json(serde_json::json!({
                "payload": value,
                "headers": {},
                "attributes": attributes,
            })),
        );
    }
}

/// The body replaced, as `overwriteBody` does: a GET's message now has a body
/// (`NO_ENTITY_BODY` removed, as ReadFile does).
fn set_body<B: MessageBody>(ctx: &mut MessageContext<B>, payload: Payload, content_type: &str) {
    ctx.set_payload(payload);
    ctx.axis2.remove(props::NO_ENTITY_BODY);
    for p in [props::MESSAGE_TYPE, props::CONTENT_TYPE] {
        ctx.axis2.insert(p.into(), content_type.into());
    }
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        ctx.headers.insert(http::header::CONTENT_TYPE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use conflux_artifacts::mediators::http_connector::{ConnectorParam, ConnectorValue};
    use conflux_artifacts::span::Span;
    use http_body_util::Full;
    use serde_json::json;

    type B = Full<Bytes>;

    fn ctx() -> MessageContext<B> {
        MessageContext::new(
            http::Method::POST,
            http::Uri::from_static("/"),
            http::HeaderMap::new(),
            B::default(),
            Arc::from("api:Files"),
        )
    }

    fn connection(params: &[(&str, &str)]) -> ConnectorConnection {
        ConnectorConnection {
            connector: "file",
            params: params
                .iter()
                .map(|(n, v)| ConnectorParam {
                    name: n.to_string(),
                    value: ConnectorValue::Text(v.to_string()),
                    span: Span::whole_file("local-entries/Local.xml"),
                })
                .collect(),
            span: Span::whole_file("local-entries/Local.xml"),
        }
    }

    fn local(dir: &Path) -> Arc<FileConnection> {
        let dir = dir.display().to_string();
        Arc::new(
            FileConnection::compile(
                "Local",
                &connection(&[("connectionType", "LOCAL"), ("workingDir", &dir)]),
            )
            .unwrap(),
        )
    }

    fn op(
        conn: &Arc<FileConnection>,
        operation: &'static str,
        params: &[(&'static str, &str)],
    ) -> Result<FileOperation, String> {
        let element = match operation {
            "write" => "file.write",
            "read" => "file.read",
            "checkExist" => "file.checkExist",
            "createDirectory" => "file.createDirectory",
            "listFiles" => "file.listFiles",
            "move" => "file.move",
            "copy" => "file.copy",
            "rename" => "file.rename",
            _ => "file.delete",
        };
        let spec = ConnectorOperation {
            connector: "file",
            operation,
            element,
            config_key: "Local".into(),
            config_key_span: Span::whole_file("apis/Files.xml"),
            params: Vec::new(),
            span: Span::whole_file("apis/Files.xml"),
        };
        let mut map: HashMap<&'static str, ParamValue> = params
            .iter()
            .map(|(n, v)| (*n, ParamValue::Literal(v.to_string())))
            .collect();
        map.entry("responseVariable")
            .or_insert_with(|| ParamValue::Literal("r".into()));
        FileOperation::new(&spec, conn.clone(), map)
    }

    /// Runs `operation`; the variable `r` and the fault, if any.
    fn run(
        c: &mut MessageContext<B>,
        conn: &Arc<FileConnection>,
        operation: &'static str,
        params: &[(&'static str, &str)],
    ) -> (serde_json::Value, Option<Fault>) {
        let fault = op(conn, operation, params).unwrap().run(c).err();
        let var = match c.variables.get("r") {
            Some(ExprValue::Json(v)) => v.clone(),
            _ => serde_json::Value::Null,
        };
        (var, fault)
    }

    /// What one operation of a [`steps`] table gives.
    enum Want {
        /// No fault, and this `payload` in the result.
        Payload(serde_json::Value),
        /// A fault with this code.
        Code(u32),
        /// A fault with this code and this `error.detail` in the result.
        Detail(u32, &'static str),
        /// A fault with this message.
        Message(&'static str),
    }

    type Step<'a> = (&'static str, &'a [(&'static str, &'a str)], Want);

    /// Runs each step in order on the same message, checking what it gives.
    fn steps(c: &mut MessageContext<B>, conn: &Arc<FileConnection>, table: &[Step]) {
        for (operation, params, want) in table {
            let (r, fault) = run(c, conn, operation, params);
            let at = format!("{operation} {params:?}");
            match (want, fault) {
                (Want::Payload(payload), None) => assert_eq!(&r["payload"], payload, "{at}"),
                (Want::Code(code), Some(f)) => assert_eq!(f.code, *code, "{at}: {}", f.message),
                (Want::Detail(code, detail), Some(f)) => {
                    assert_eq!(f.code, *code, "{at}: {}", f.message);
                    assert_eq!(r["payload"]["error"]["detail"], *detail, "{at}");
                }
                (Want::Message(message), Some(f)) => assert_eq!(f.message, *message, "{at}"),
                (Want::Payload(_), Some(f)) => panic!("{at}: fault {} {}", f.code, f.message),
                (_, None) => panic!("{at}: no fault, result {r}"),
            }
        }
    }

    fn success() -> Want {
        Want::Payload(json!({"success": true}))
    }

    #[test]
    fn connections_are_local_only_and_say_why_not() {
        let c = FileConnection::compile(
            "L",
            &connection(&[("workingDir", "file:///srv/data/./in"), ("name", "N")]),
        )
        .unwrap();
        assert_eq!(c.working_dir.as_deref(), Some(Path::new("/srv/data/in")));
        assert_eq!(&*c.name, "N");
        for (kind, want) in [
            (
                "FTP",
                "connectionType FTP is not supported: Conflux's file connector works on the local filesystem only (LOCAL)",
            ),
            ("sftp", "connectionType SFTP is not supported"),
            ("SMB2", "connectionType SMB2 is not supported"),
            (
                "S3",
                "connectionType S3 is not one of LOCAL, FTP, FTPS, SFTP, SMB2",
            ),
        ] {
            let e =
                FileConnection::compile("L", &connection(&[("connectionType", kind)])).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        let e =
            FileConnection::compile("L", &connection(&[("workingDir", "rel/dir")])).unwrap_err();
        assert!(
            e.contains("workingDir rel/dir is not an absolute path"),
            "{e}"
        );
    }

    #[test]
    fn paths_resolve_inside_the_working_directory_only() {
        let c = FileConnection::compile("L", &connection(&[("workingDir", "/wd")])).unwrap();
        assert_eq!(c.resolve("a/b.txt").unwrap(), Path::new("/wd/a/b.txt"));
        // The connector concatenates workingDir and the path: a leading '/' stays inside.
        assert_eq!(c.resolve("/a/../b.txt").unwrap(), Path::new("/wd/b.txt"));
        assert_eq!(c.resolve("file:///wd/x").unwrap(), Path::new("/wd/x"));
        for outside in [
            "../etc/passwd",
            "a/../../x",
            "file:///etc/passwd",
            "file:///wdx",
        ] {
            let e = c.resolve(outside).unwrap_err();
            assert_eq!(e.kind, FileErrorKind::IllegalPath, "{outside}");
            assert!(
                e.detail.contains("outside the working directory /wd"),
                "{e}"
            );
        }
        let none = FileConnection::compile("L", &connection(&[])).unwrap();
        assert_eq!(none.resolve("file:///tmp/x").unwrap(), Path::new("/tmp/x"));
        assert!(
            none.resolve("x")
                .unwrap_err()
                .detail
                .contains("needs a connection with a workingDir")
        );
    }

    #[test]
    fn write_overwrites_appends_and_creates_new() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        let mut c = ctx();
        let (r, fault) = run(
            &mut c,
            &conn,
            "write",
            &[("filePath", "/out/a.txt"), ("contentOrExpression", "hello")],
        );
        assert!(fault.is_none());
        assert_eq!(
            r,
            json!({"payload": {"success": true, "writtenBytes": 5}, "headers": {}, "attributes": {}})
        );
        let (r, _) = run(
            &mut c,
            &conn,
            "write",
            &[
                ("filePath", "out/a.txt"),
                ("contentOrExpression", "more"),
                ("writeMode", "Append"),
                ("appendNewLine", "true"),
            ],
        );
        assert_eq!(r["payload"], json!({"success": true, "writtenBytes": 5}));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/a.txt")).unwrap(),
            "hellomore\n"
        );
        // Create New on an existing file: MI's FileOperationException, retries exhausted.
        let (r, fault) = run(
            &mut c,
            &conn,
            "write",
            &[
                ("filePath", "out/a.txt"),
                ("contentOrExpression", "x"),
                ("writeMode", "Create New"),
                ("overwriteBody", "true"),
            ],
        );
        let fault = fault.unwrap();
        assert_eq!(fault.code, 700104);
        let detail = format!(
            "Target file already exists. Path = file://{}",
            dir.path().join("out/a.txt").display()
        );
        let failed = json!({"success": false, "error": {"code": "700104", "message": "FILE:RETRY_EXHAUSTED", "detail": detail}});
        assert_eq!(r["payload"], failed);
        assert_eq!(c.payload, Some(Payload::Json(failed.into())));
        assert_eq!(
            c.properties
                .get("ERROR_CODE")
                .map(|v| v.to_string())
                .as_deref(),
            Some("700104")
        );
        assert_eq!(
            fault.message,
            format!("file.write (connection Local): {detail}")
        );
        // Append to a missing file: ILLEGAL_PATH.
        let (r, fault) = run(
            &mut c,
            &conn,
            "write",
            &[
                ("filePath", "none.txt"),
                ("contentOrExpression", "x"),
                ("writeMode", "append"),
            ],
        );
        assert_eq!(fault.unwrap().code, 700102);
        assert_eq!(r["payload"]["error"]["message"], "FILE:ILLEGAL_PATH");
    }

    #[test]
    fn write_without_content_writes_the_body_in_its_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        let mut c = ctx();
        c.set_payload(Payload::Json(json!({"a": 1}).into()));
        let (r, _) = run(&mut c, &conn, "write", &[("filePath", "b.json")]);
        assert_eq!(r["payload"], json!({"success": true, "writtenBytes": 7}));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.json")).unwrap(),
            r#"{"a":1}"#
        );
        let (r, _) = run(
            &mut c,
            &conn,
            "write",
            &[
                ("filePath", "l.txt"),
                ("contentOrExpression", "é€"),
                ("encoding", "ISO-8859-1"),
            ],
        );
        assert_eq!(r["payload"]["writtenBytes"], 2);
        assert_eq!(
            std::fs::read(dir.path().join("l.txt")).unwrap(),
            [0xE9, b'?']
        );
        let (_, fault) = run(
            &mut c,
            &conn,
            "write",
            &[
                ("filePath", "u.txt"),
                ("contentOrExpression", "x"),
                ("encoding", "UTF-16"),
            ],
        );
        let fault = fault.unwrap();
        assert_eq!(fault.code, 700107);
        assert!(
            fault.message.contains("encoding UTF-16 is not supported"),
            "{}",
            fault.message
        );
    }

    #[test]
    fn read_gives_the_content_and_its_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        std::fs::write(dir.path().join("n.txt"), "line one").unwrap();
        std::fs::write(dir.path().join("d.json"), r#"{"k":[1,2]}"#).unwrap();
        let mut c = ctx();
        let (r, fault) = run(&mut c, &conn, "read", &[("path", "n.txt")]);
        assert!(fault.is_none());
        assert_eq!(
            r["payload"],
            r#"<ns:text xmlns:ns="http://ws.apache.org/commons/ns/payload">line one</ns:text>"#
        );
        let attrs = &r["attributes"];
        assert_eq!(attrs["FILE_NAME"], "n.txt");
        assert_eq!(attrs["FILE_NAME_WITHOUT_EXTENSION"], "n");
        assert_eq!(attrs["FILE_SIZE"], "8");
        assert_eq!(attrs["FILE_IS_DIR"], "false");
        assert_eq!(attrs["FILE_PATH"], "n.txt");
        assert_eq!(
            attrs["FILE_URL"],
            format!("file://{}", dir.path().join("n.txt").display())
        );
        assert_eq!(attrs["FILE_LAST_MODIFIED_TIME"].as_str().unwrap().len(), 19);
        let (r, _) = run(
            &mut c,
            &conn,
            "read",
            &[("path", "d.json"), ("overwriteBody", "true")],
        );
        assert_eq!(c.payload, Some(Payload::Json(json!({"k": [1, 2]}).into())));
        assert_eq!(r["payload"], serde_json::Value::Null);
        let (r, _) = run(&mut c, &conn, "read", &[("path", "d.json")]);
        assert_eq!(r["payload"], json!({"k": [1, 2]}));
        let (r, _) = run(
            &mut c,
            &conn,
            "read",
            &[("path", "d.json"), ("readMode", "Metadata Only")],
        );
        assert_eq!(r["payload"], json!({"success": true}));
        assert_eq!(r["attributes"]["FILE_SIZE"], "11");
        let (r, fault) = run(&mut c, &conn, "read", &[("path", "missing.txt")]);
        assert_eq!(fault.unwrap().code, 700102);
        assert_eq!(r["payload"]["error"]["message"], "FILE:ILLEGAL_PATH");
    }

    #[test]
    fn read_refuses_a_file_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        let f = std::fs::File::create(dir.path().join("big.bin")).unwrap();
        f.set_len(MAX_READ_BYTES + 1).unwrap();
        let (_, fault) = run(&mut ctx(), &conn, "read", &[("path", "big.bin")]);
        let fault = fault.unwrap();
        assert_eq!(fault.code, 700108);
        assert!(
            fault.message.contains("more than the 10485760"),
            "{}",
            fault.message
        );
        let f = std::fs::File::create(dir.path().join("ok.txt")).unwrap();
        f.set_len(MAX_READ_BYTES).unwrap();
        let (_, fault) = run(&mut ctx(), &conn, "read", &[("path", "ok.txt")]);
        assert!(fault.is_none());
    }

    #[test]
    fn check_exist_create_directory_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        let mut c = ctx();
        let exists = |yes: bool| Want::Payload(json!({"success": true, "fileExists": yes}));
        steps(
            &mut c,
            &conn,
            &[
                ("checkExist", &[("path", "a/b")], exists(false)),
                ("createDirectory", &[("directoryPath", "a/b")], success()),
                ("checkExist", &[("path", "/a/b")], exists(true)),
            ],
        );
        std::fs::write(dir.path().join("a/b/f1"), "1").unwrap();
        std::fs::write(dir.path().join("a/f2"), "2").unwrap();
        std::fs::write(dir.path().join("g"), "3").unwrap();
        steps(
            &mut c,
            &conn,
            &[
                ("delete", &[("path", "g")], success()),
                // The folder, its subfolder and two files.
                (
                    "delete",
                    &[("path", "a")],
                    Want::Payload(json!({"success": true, "numOfDeletedFiles": 4})),
                ),
            ],
        );
        assert!(!dir.path().join("g").exists());
        assert!(!dir.path().join("a").exists());
        // MI sets no result for a path that is not there.
        c.variables.remove("r");
        let (r, fault) = run(&mut c, &conn, "delete", &[("path", "a")]);
        assert!(fault.is_none());
        assert_eq!(r, serde_json::Value::Null);
        let (_, fault) = run(&mut c, &conn, "delete", &[("path", "../x")]);
        assert_eq!(fault.unwrap().code, 700102);
    }

    #[test]
    fn what_conflux_does_not_implement_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        for (operation, params, want) in [
            (
                "write",
                vec![("filePath", "a"), ("compress", "true")],
                "file.write: <compress> true is not supported by Conflux's file connector (it handles false)",
            ),
            (
                "read",
                vec![("path", "a"), ("readMode", "Sideways")],
                "file.read: <readMode> Sideways is not supported by Conflux's file connector (it handles Complete File, Metadata Only, Starting From Line, Up To Line, Between Lines, Specific Line)",
            ),
            (
                "delete",
                vec![("path", "a"), ("includeFiles", "*.txt")],
                "file.delete: <includeFiles> is not supported by Conflux's file connector",
            ),
        ] {
            assert_eq!(op(&conn, operation, &params).unwrap_err(), want);
        }
        // Unchecked values are fine at deploy.
        assert!(op(&conn, "write", &[("filePath", "a"), ("compress", "false")]).is_ok());
    }

    #[test]
    fn list_files_hierarchical_flat_sorted_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        let root = dir.path().join("in");
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("b.txt"), "bb").unwrap();
        std::fs::write(root.join("a.csv"), "aaaa").unwrap();
        std::fs::write(root.join("sub/c.txt"), "c").unwrap();
        std::fs::write(root.join("sub/deeper/d.txt"), "d").unwrap();
        let mut c = ctx();
        let (r, _) = run(&mut c, &conn, "listFiles", &[("directoryPath", "in")]);
        assert_eq!(
            r["payload"],
            json!({"success": true, "directory": {"name": "in", "file": ["a.csv", "b.txt"]}})
        );
        let (r, _) = run(
            &mut c,
            &conn,
            "listFiles",
            &[
                ("directoryPath", "in"),
                ("recursive", "true"),
                ("matchingPattern", ".*\\.txt"),
            ],
        );
        assert_eq!(
            r["payload"],
            json!({"success": true, "directory": {"name": "in", "file": ["b.txt"], "directory": [
                {"name": "sub", "file": ["c.txt"], "directory": [{"name": "deeper", "file": ["d.txt"]}]}
            ]}})
        );
        let (r, _) = run(
            &mut c,
            &conn,
            "listFiles",
            &[
                ("directoryPath", "in"),
                ("recursive", "true"),
                ("subDirectoryMaxDepth", "1"),
                ("responseFormat", "Flat"),
                ("sortingAttribute", "Size"),
                ("sortingOrder", "Descending"),
            ],
        );
        let path = |p: &str| root.join(p).display().to_string();
        assert_eq!(
            r["payload"],
            json!({"success": true, "files": {"files": [
                {"name": "a.csv", "path": path("a.csv")},
                {"name": "b.txt", "path": path("b.txt")},
                {"name": "c.txt", "path": path("sub/c.txt")},
            ]}})
        );
        steps(
            &mut c,
            &conn,
            &[
                (
                    "listFiles",
                    &[("directoryPath", "none")],
                    Want::Code(700102),
                ),
                (
                    "listFiles",
                    &[("directoryPath", "in/b.txt")],
                    Want::Message("file.listFiles (connection Local): Folder is expected."),
                ),
            ],
        );
        assert!(
            op(
                &conn,
                "listFiles",
                &[("directoryPath", "in"), ("responseFormat", "Tree")]
            )
            .is_err()
        );
    }

    #[test]
    fn move_copy_and_rename_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        std::fs::create_dir_all(dir.path().join("in/sub")).unwrap();
        std::fs::write(dir.path().join("in/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("in/sub/s.txt"), "s").unwrap();
        let mut c = ctx();
        let copy_a = [
            ("sourcePath", "in/a.txt"),
            ("targetPath", "out"),
            ("renameTo", "a2.txt"),
        ];
        let copy_in = [
            ("sourcePath", "in"),
            ("targetPath", "out"),
            ("includeParent", "true"),
        ];
        let move_a = [("sourcePath", "in/a.txt"), ("targetPath", "moved")];
        steps(
            &mut c,
            &conn,
            &[
                // Copy a file into a folder that does not exist yet, under a new name.
                ("copy", &copy_a, success()),
                (
                    "copy",
                    &copy_a,
                    Want::Detail(
                        700103,
                        "Destination file already exists and overwrite not allowed",
                    ),
                ),
                // A folder with includeParent: out/in/{a.txt,sub/s.txt}.
                ("copy", &copy_in, success()),
                ("copy", &copy_in, Want::Code(700103)),
                // Move: the parent must exist unless createParentDirectories.
                ("move", &move_a, Want::Code(700108)),
                (
                    "move",
                    &[
                        ("sourcePath", "in/a.txt"),
                        ("targetPath", "moved"),
                        ("createParentDirectories", "true"),
                    ],
                    success(),
                ),
                (
                    "move",
                    &move_a,
                    Want::Message("file.move (connection Local): File/Folder does not exist."),
                ),
                // A folder: its content goes into the target, and the source goes.
                (
                    "move",
                    &[("sourcePath", "in"), ("targetPath", "gone")],
                    Want::Message(
                        "file.move (connection Local): Target folder does not exist and not configured to create",
                    ),
                ),
                (
                    "move",
                    &[("sourcePath", "in"), ("targetPath", "moved")],
                    success(),
                ),
                (
                    "copy",
                    &[("sourcePath", "moved/sub/s.txt"), ("targetPath", "../../x")],
                    Want::Code(700102),
                ),
            ],
        );
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("out/a2.txt"), "a");
        assert_eq!(read("out/in/sub/s.txt"), "s");
        assert_eq!(read("moved/a.txt"), "a");
        assert_eq!(read("moved/sub/s.txt"), "s");
        assert!(!dir.path().join("in").exists());
        // Rename in place; an existing name needs overwrite.
        std::fs::write(dir.path().join("moved/b.txt"), "b").unwrap();
        let rename_a = [("path", "moved/a.txt"), ("renameTo", "b.txt")];
        steps(
            &mut c,
            &conn,
            &[
                ("rename", &rename_a, Want::Code(700103)),
                (
                    "rename",
                    &[
                        ("path", "moved/a.txt"),
                        ("renameTo", "b.txt"),
                        ("overwrite", "true"),
                    ],
                    success(),
                ),
                (
                    "rename",
                    &[("path", "moved/b.txt"), ("renameTo", "../c")],
                    Want::Code(700108),
                ),
            ],
        );
        assert_eq!(read("moved/b.txt"), "a");
    }

    #[test]
    fn read_modes_select_lines_as_the_connector_does() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        std::fs::create_dir(dir.path().join("in")).unwrap();
        std::fs::write(dir.path().join("in/l.txt"), "one\ntwo\r\nthree\nfour\n").unwrap();
        std::fs::write(dir.path().join("in/a.csv"), "x,y").unwrap();
        let mut c = ctx();
        for (params, want) in [
            (
                vec![("readMode", "Starting From Line"), ("startLineNum", "3")],
                "three\nfour",
            ),
            (
                vec![("readMode", "Up To Line"), ("endLineNum", "2")],
                "one\ntwo",
            ),
            // processStream: an end not after the start reads on to the end.
            (
                vec![("readMode", "Up To Line"), ("endLineNum", "1")],
                "one\ntwo\nthree\nfour",
            ),
            (
                vec![
                    ("readMode", "Between Lines"),
                    ("startLineNum", "2"),
                    ("endLineNum", "3"),
                ],
                "two\nthree",
            ),
            (
                vec![("readMode", "Specific Line"), ("lineNum", "4")],
                "four",
            ),
            (vec![("readMode", "Specific Line"), ("lineNum", "9")], ""),
        ] {
            let mut params = params;
            params.extend([("path", "in/l.txt"), ("overwriteBody", "true")]);
            let (_, fault) = run(&mut c, &conn, "read", &params);
            assert!(fault.is_none(), "{params:?}");
            let want = if want.is_empty() {
                Payload::Empty
            } else {
                Payload::Text(want.into())
            };
            assert_eq!(c.payload, Some(want), "{params:?}");
        }
        for (params, detail) in [
            (
                vec![("readMode", "Specific Line")],
                "Parameter 'lineNum' is required for selected read mode",
            ),
            (
                vec![("readMode", "Up To Line"), ("endLineNum", "-1")],
                "Parameter 'endLineNum' must be positive",
            ),
            (
                vec![
                    ("readMode", "Between Lines"),
                    ("startLineNum", "3"),
                    ("endLineNum", "2"),
                ],
                "Parameter 'endLineNumber' should be greater than 'startLineNum'",
            ),
        ] {
            let mut params = params;
            params.push(("path", "in/l.txt"));
            let (r, fault) = run(&mut c, &conn, "read", &params);
            assert_eq!(fault.unwrap().code, 700107);
            assert_eq!(r["payload"]["error"]["detail"], detail);
        }
        // A folder: its first file (by name) matching filePattern.
        let (r, _) = run(
            &mut c,
            &conn,
            "read",
            &[("path", "in"), ("filePattern", ".*\\.txt")],
        );
        assert_eq!(r["attributes"]["FILE_PATH"], "in/l.txt");
        let (r, _) = run(&mut c, &conn, "read", &[("path", "in/")]);
        assert_eq!(r["attributes"]["FILE_NAME"], "a.csv");
        let (_, fault) = run(
            &mut c,
            &conn,
            "read",
            &[("path", "in"), ("filePattern", "z.*")],
        );
        assert_eq!(fault.unwrap().code, 700104);
    }

    #[test]
    fn delete_with_a_pattern_takes_matching_entries_directly_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let conn = local(dir.path());
        std::fs::create_dir_all(dir.path().join("d/full.log")).unwrap();
        std::fs::create_dir_all(dir.path().join("d/empty.log")).unwrap();
        std::fs::write(dir.path().join("d/full.log/x.log"), "x").unwrap();
        std::fs::write(dir.path().join("d/a.log"), "a").unwrap();
        std::fs::write(dir.path().join("d/b.txt"), "b").unwrap();
        let (r, _) = run(
            &mut ctx(),
            &conn,
            "delete",
            &[("path", "d"), ("matchingPattern", ".*\\.log")],
        );
        // a.log and the empty folder; the folder with a file in it stays.
        assert_eq!(
            r["payload"],
            json!({"success": true, "numOfDeletedFiles": 2})
        );
        assert!(dir.path().join("d/full.log/x.log").exists());
        assert!(dir.path().join("d/b.txt").exists());
        assert!(!dir.path().join("d/a.log").exists());
    }

    #[test]
    fn the_body_is_read_only_when_the_operation_uses_or_replaces_it() {
        let conn = local(Path::new("/wd"));
        let needs = |operation, params: &[(&'static str, &str)]| {
            op(&conn, operation, params).unwrap().needs_payload()
        };
        assert!(!needs("checkExist", &[("path", "a")]));
        assert!(!needs(
            "checkExist",
            &[("path", "a"), ("overwriteBody", "false")]
        ));
        assert!(needs(
            "checkExist",
            &[("path", "a"), ("overwriteBody", "true")]
        ));
        assert!(!needs(
            "write",
            &[("filePath", "a"), ("contentOrExpression", "x")]
        ));
        assert!(needs("write", &[("filePath", "a")]));
    }
}
