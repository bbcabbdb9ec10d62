//! `/applications`: carbon applications (MI `CarbonAppResource`,
//! `components/org.wso2.micro.integrator.extensions/org.wso2.micro.integrator.management.apis/.../CarbonAppResource.java`).
//!
//! - `GET /applications`: `{"totalCount","activeCount","activeList","faultyCount","faultyList"}`
//!   (`Utils.createCAppJSONList`), each application `{"name","version","artifacts":[{"name","type"}]}`
//!   with the short type (`api`, `resource`, ...) and no `version` key when it has none;
//!   `?searchKey=` keeps the applications whose name contains it, ignoring case.
//!   Conflux addition: a faulty application also carries `"error"`, why it did not deploy.
//! - `GET ?carbonAppName=N`: the active application named `N`, or 404 without a body; with
//!   `Accept: application/octet-stream`, the bytes of the file `carbonapps/N` (500 without a body
//!   when it cannot be read, as MI).
//! - `POST /applications` (multipart/form-data, exactly one part named `*.car`): writes
//!   `carbonapps/<filename>` and asks the deployer to rescan at once (the redeploy hook).
//! - `DELETE /applications/{name}`: removes `carbonapps/<name>.car` and asks for a rescan.
//!
//! Differences from MI, all on purpose: upload and delete need an administrator (MI also lets
//! non-admins write unless they are read-only); file names must be plain names (MI would follow
//! `../` out of `carbonapps/`); uploads are written to `.<name>.uploading` and renamed, so the
//! deployer never reads half a file; uploads over [`MAX_CAPP_UPLOAD_BYTES`] are refused with 413;
//! I/O failures answer 500 (MI keeps 200 with its `{"Error"}` body).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Map, Value, json};

use conflux_artifacts::Application;

use super::{AUDIT, Ctx, empty, error, hex, json_response};

/// Largest `.car` file accepted by an upload (the same bound as the CApp reader's).
pub const MAX_CAPP_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// Room for the multipart framing (boundaries, part headers) around an upload's file bytes.
pub const MAX_MULTIPART_OVERHEAD_BYTES: usize = 64 * 1024;

const MULTIPART_FORM_DATA: &str = "multipart/form-data";
const OCTET_STREAM: &str = "application/octet-stream";
const UPLOAD_FAILED: &str = "Error when deploying the Carbon Application";

/// Called after an upload or a delete so the deployer rescans `carbonapps/` at once (also when
/// hot deployment is off). It runs on the request's task: it should only signal, not deploy.
pub type RedeployHook = Arc<dyn Fn() + Send + Sync>;

/// What the writing requests need beyond [`Ctx`].
pub(super) struct Writes<'a> {
    pub max_upload_bytes: usize,
    pub redeploy: Option<&'a RedeployHook>,
    /// Who asks, for the audit log.
    pub user: &'a str,
}

/// One upload at a time, so two uploads of the same name never share the temporary file.
static UPLOADS: Mutex<()> = Mutex::new(());

pub(super) async fn get(ctx: &Ctx<'_>, max_file_bytes: usize) -> Response<Bytes> {
    let apps = &ctx.live.applications;
    if let Some(name) = ctx.query.get("carbonAppName") {
        let accept = ctx
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        if accept == Some(OCTET_STREAM) {
            return download(ctx.facts.carbonapps_dir.clone(), name, max_file_bytes).await;
        }
        return match apps.active.iter().find(|a| a.name == name) {
            Some(app) => json_response(StatusCode::OK, &app_json(app, false)),
            None => empty(StatusCode::NOT_FOUND),
        };
    }
    let active: Vec<Value> = apps
        .active
        .iter()
        .filter(|a| ctx.matches_search(&a.name))
        .map(|a| app_json(a, false))
        .collect();
    let faulty: Vec<Value> = apps
        .faulty
        .iter()
        .filter(|a| ctx.matches_search(&a.name))
        .map(|a| app_json(a, true))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "totalCount": active.len() + faulty.len(),
            "activeCount": active.len(),
            "activeList": active,
            "faultyCount": faulty.len(),
            "faultyList": faulty,
        }),
    )
}

/// MI `convertCarbonAppToJsonObject`, plus `error` for a faulty application.
fn app_json(app: &Application, faulty: bool) -> Value {
    let mut object = Map::new();
    object.insert("name".into(), json!(app.name));
    if let Some(version) = &app.version {
        object.insert("version".into(), json!(version));
    }
    let artifacts: Vec<Value> = app
        .artifacts
        .iter()
        .map(|a| json!({"name": a.name, "type": a.short_kind()}))
        .collect();
    object.insert("artifacts".into(), Value::Array(artifacts));
    if faulty && let Some(reason) = &app.error {
        object.insert("error".into(), json!(reason));
    }
    Value::Object(object)
}

/// MI `populateFileContent`: the raw file, or 500 without a body.
async fn download(dir: PathBuf, name: &str, max_file_bytes: usize) -> Response<Bytes> {
    if let Err(why) = plain_file_name(name) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Cannot download the Carbon Application '{name}': {why}"),
        );
    }
    let path = dir.join(name);
    let read = tokio::task::spawn_blocking(move || read_capp(&path, max_file_bytes)).await;
    match read {
        Ok(Ok(bytes)) => {
            let mut r = Response::new(Bytes::from(bytes));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM));
            r
        }
        Ok(Err(e)) => {
            // MI logs "Could not find the requested file : N in : P" and answers 500.
            tracing::error!(target: "conflux::management", "cannot download the Carbon Application {name}: {e}");
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
        Err(e) => {
            tracing::error!(target: "conflux::management", "cannot download the Carbon Application {name}: {e}");
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn read_capp(path: &Path, max_file_bytes: usize) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a file",
            path.display()
        )));
    }
    if meta.len() > max_file_bytes as u64 {
        return Err(std::io::Error::other(format!(
            "{} has {} bytes, more than the {max_file_bytes} a Carbon Application may have",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path)
}

/// Why `name` is not a plain file name inside `carbonapps/`, if it is not.
fn plain_file_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.contains(['/', '\\']) {
        return Err("a file name may not contain '/' or '\\'");
    }
    if name.contains("..") {
        return Err("a file name may not contain '..'");
    }
    if name.chars().any(char::is_control) {
        return Err("a file name may not contain control characters");
    }
    if name.starts_with('.') {
        return Err("a file name may not start with '.'");
    }
    Ok(())
}

/// An upload refused before anything was written.
fn upload_refused(status: StatusCode, detail: &str) -> Response<Bytes> {
    error(status, &format!("{UPLOAD_FAILED}. {detail}"))
}

/// MI `handlePost`: one multipart part whose file name ends `.car`, written to `carbonapps/`.
pub(super) async fn post(ctx: &Ctx<'_>, writes: &Writes<'_>) -> Response<Bytes> {
    let content_type = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.contains(MULTIPART_FORM_DATA) {
        return upload_refused(
            StatusCode::BAD_REQUEST,
            &format!("Supports only for the Content-Type : {MULTIPART_FORM_DATA}"),
        );
    }
    let too_large = || {
        upload_refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "The file is larger than {} bytes, the largest Carbon Application accepted",
                writes.max_upload_bytes
            ),
        )
    };
    if ctx.body.len() > writes.max_upload_bytes + MAX_MULTIPART_OVERHEAD_BYTES {
        return too_large();
    }
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return upload_refused(
            StatusCode::BAD_REQUEST,
            "No valid message body found. The multipart/form-data Content-Type has no boundary",
        );
    };
    let body = Bytes::copy_from_slice(ctx.body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let malformed = |e: multer::Error| {
        upload_refused(
            StatusCode::BAD_REQUEST,
            &format!("No valid message body found. {e}"),
        )
    };
    let (file_name, bytes) = match multipart.next_field().await {
        Ok(Some(mut field)) => {
            let file_name = field.file_name().map(str::to_string);
            let mut bytes = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > writes.max_upload_bytes {
                            return too_large();
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => return malformed(e),
                }
            }
            (file_name, bytes)
        }
        Ok(None) => {
            return upload_refused(StatusCode::BAD_REQUEST, "No file exist to be uploaded. ");
        }
        Err(e) => return malformed(e),
    };
    match multipart.next_field().await {
        Ok(None) => {}
        Ok(Some(_)) => {
            return upload_refused(
                StatusCode::BAD_REQUEST,
                "Uploading Multiple files in one request is not supported. ",
            );
        }
        Err(e) => return malformed(e),
    }
    let Some(file_name) = file_name.filter(|n| n.ends_with(".car")) else {
        return upload_refused(
            StatusCode::BAD_REQUEST,
            "Only files with the extension .car is supported. ",
        );
    };
    if let Err(why) = plain_file_name(&file_name) {
        return upload_refused(
            StatusCode::BAD_REQUEST,
            &format!("Invalid file name '{file_name}': {why}"),
        );
    }
    let dir = ctx.facts.carbonapps_dir.clone();
    let name = file_name.clone();
    let written = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(target: "conflux::management", "{UPLOAD_FAILED} {file_name}: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("{UPLOAD_FAILED} "),
            );
        }
        Err(e) => {
            tracing::error!(target: "conflux::management", "{UPLOAD_FAILED} {file_name}: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("{UPLOAD_FAILED} "),
            );
        }
    }
    tracing::info!(target: "conflux::management", "Successfully added Carbon Application : {file_name}");
    tracing::info!(target: AUDIT, "carbon application {file_name} added by {} through the Management API", writes.user);
    if let Some(redeploy) = writes.redeploy {
        redeploy();
    }
    json_response(
        StatusCode::OK,
        &json!({"Message": format!("Successfully added Carbon Application {file_name}")}),
    )
}

/// Writes `dir/.<name>.uploading`, flushes it to disk and renames it to `dir/<name>`, so a
/// reader of `dir` sees the old file or the whole new one.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let _one_at_a_time = UPLOADS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{name}.uploading"));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// MI `handleDelete`: `name` is the file name without `.car`; `None` when the path has none.
pub(super) fn delete(ctx: &Ctx<'_>, writes: &Writes<'_>, name: Option<&str>) -> Response<Bytes> {
    let Some(name) = name.map(decode_path_segment) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Cannot remove the Carbon Application. Missing required name parameter in the path",
        );
    };
    if let Err(why) = plain_file_name(&name) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Cannot remove the Carbon Application. Invalid name '{name}': {why}"),
        );
    }
    let file_name = format!("{name}.car");
    let path = ctx.facts.carbonapps_dir.join(&file_name);
    let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir());
    if !is_file {
        return error(
            StatusCode::NOT_FOUND,
            &format!("Cannot remove the Carbon Application.{name} does not exist"),
        );
    }
    if let Err(e) = std::fs::remove_file(&path) {
        let message = format!("Error when removing the Carbon Application {file_name}");
        tracing::error!(target: "conflux::management", "{message}: {e}");
        return error(StatusCode::INTERNAL_SERVER_ERROR, &message);
    }
    tracing::info!(target: "conflux::management", "{file_name} file deleted from {} directory", ctx.facts.carbonapps_dir.display());
    tracing::info!(target: AUDIT, "carbon application {file_name} removed by {} through the Management API", writes.user);
    if let Some(redeploy) = writes.redeploy {
        redeploy();
    }
    json_response(
        StatusCode::OK,
        &json!({"Message": format!("Successfully removed Carbon Application named {name}")}),
    )
}

/// `%XX` escapes of a path segment decoded (`+` stays `+` in a path).
fn decode_path_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
