//! Receiving an inventory file: multipart parts streamed to a private file under the uploads
//! directory, never held whole in memory, counted against the size limit while they arrive.

use std::path::Path;
use std::time::Duration;

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::{FromRequest, Request};
use modernize::discovery::ingest::Encoding;
use modernize::discovery::pipeline::{ImportOptions, Started};
use modernize::discovery::uploads::{self, Stored};
use modernize::repo::imports::DataImportInput;
use modernize::service::Actor;
use modernize::service::discovery;
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest value of a form part other than the file (`sheet`, `encoding`, `metadata`…).
const MAX_TEXT_PART_BYTES: usize = 64 * 1024;

/// An upload being received: deleted when dropped before [`Receiving::keep`], so a refused,
/// failed or abandoned upload (the client went away and the handler was dropped) leaves nothing.
#[derive(Debug)]
pub(crate) struct Receiving(Option<Stored>);

impl Receiving {
    /// The stored file, no longer deleted on drop (the service now owns it).
    pub(crate) fn keep(mut self) -> Option<Stored> {
        self.0.take()
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        if let Some(stored) = self.0.take() {
            uploads::discard(&stored);
        }
    }
}

fn multipart_error(error: MultipartError) -> ApiError {
    ApiError::BadRequest(format!("malformed multipart body: {}", error.body_text()))
}

/// The next part, waiting at most `idle` for it.
async fn next_field<'a>(multipart: &'a mut Multipart, idle: Duration) -> Result<Option<Field<'a>>, ApiError> {
    match tokio::time::timeout(idle, multipart.next_field()).await {
        Ok(field) => field.map_err(multipart_error),
        Err(_) => Err(ApiError::Timeout("no part of the upload arrived in time".into())),
    }
}

/// A small text part (at most 64 KiB), e.g. `sheet` or a JSON `metadata` part.
async fn text_part(mut field: Field<'_>, idle: Duration) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("part").to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = next_chunk(&mut field, idle).await? {
        if bytes.len() + chunk.len() > MAX_TEXT_PART_BYTES {
            return Err(ApiError::invalid(name, format!("longer than {MAX_TEXT_PART_BYTES} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::invalid(name, "is not UTF-8 text"))
}

async fn next_chunk(field: &mut Field<'_>, idle: Duration) -> Result<Option<axum::body::Bytes>, ApiError> {
    match tokio::time::timeout(idle, field.chunk()).await {
        Ok(chunk) => chunk.map_err(multipart_error),
        Err(_) => Err(ApiError::Timeout("the upload stalled: no data arrived in time".into())),
    }
}

/// Streams the `file` part to `<uploads_dir>/<uuid>/<its file name>` (0600), counting its bytes:
/// over `max_bytes` the partial file is deleted and the answer is 413.
async fn receive_file(
    mut field: Field<'_>,
    uploads_dir: &Path,
    max_bytes: u64,
    idle: Duration,
) -> Result<Receiving, ApiError> {
    let filename = field.file_name().map(str::to_owned).unwrap_or_else(|| "upload".into());
    let mut sink = Sink::create(uploads_dir, &filename, max_bytes)?;
    while let Some(chunk) = next_chunk(&mut field, idle).await? {
        sink.write(&chunk).await?;
    }
    sink.finish().await
}

/// Streams a request's whole body (a `PUT` of the file itself) to
/// `<uploads_dir>/<uuid>/<filename>` (0600), as [`receive_file`] does a part: 413 over
/// `max_bytes`, 408 when no data arrives for `idle`, nothing kept on any error.
pub(crate) async fn receive_body(
    body: axum::body::Body,
    uploads_dir: &Path,
    filename: &str,
    max_bytes: u64,
    idle: Duration,
) -> Result<Receiving, ApiError> {
    use futures_util::StreamExt;
    let mut sink = Sink::create(uploads_dir, filename, max_bytes)?;
    let mut stream = body.into_data_stream();
    loop {
        let chunk = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(chunk)) => chunk.map_err(|error| ApiError::BadRequest(format!("the upload broke off: {error}")))?,
            Ok(None) => break,
            Err(_) => return Err(ApiError::Timeout("the upload stalled: no data arrived in time".into())),
        };
        sink.write(&chunk).await?;
    }
    sink.finish().await
}

/// A small request body (a JSON request on a route whose body limit is the upload's), read
/// whole: over `max_bytes` 413, 408 when no data arrives for `idle`.
pub(crate) async fn read_body(body: axum::body::Body, max_bytes: usize, idle: Duration) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(chunk)) => {
                let chunk = chunk.map_err(|error| ApiError::BadRequest(format!("the body broke off: {error}")))?;
                if bytes.len() + chunk.len() > max_bytes {
                    return Err(ApiError::PayloadTooLarge(format!("the body is larger than {max_bytes} bytes")));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(_) => return Err(ApiError::Timeout("no data of the body arrived in time".into())),
        }
    }
}

/// A file being written from chunks, counted against the limit; deleted unless finished.
struct Sink {
    receiving: Receiving,
    file: tokio::fs::File,
    size: u64,
    max_bytes: u64,
}

fn write_error(error: std::io::Error) -> ApiError {
    ApiError::Internal(format!("writing an upload: {error}"))
}

impl Sink {
    fn create(uploads_dir: &Path, filename: &str, max_bytes: u64) -> Result<Self, ApiError> {
        let (stored, file) = uploads::create(uploads_dir, filename)?;
        Ok(Self { receiving: Receiving(Some(stored)), file: tokio::fs::File::from_std(file), size: 0, max_bytes })
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.max_bytes {
            return Err(ApiError::PayloadTooLarge(format!(
                "the file is larger than the limit of {} bytes",
                self.max_bytes
            )));
        }
        self.file.write_all(chunk).await.map_err(write_error)
    }

    async fn finish(mut self) -> Result<Receiving, ApiError> {
        self.file.flush().await.map_err(write_error)?;
        self.file.sync_all().await.map_err(write_error)?;
        if let Some(stored) = self.receiving.0.as_mut() {
            stored.size = self.size;
        }
        Ok(self.receiving)
    }
}

/// Reads a form's `metadata` part (JSON bytes) as the import it describes.
pub(crate) type MetadataParser = fn(&[u8]) -> Result<DataImportInput, ApiError>;

/// Starts the discovery of an upload form (`multipart/form-data`, both upload endpoints): checks
/// the caller may import into the engagement before a byte is received, reads the form
/// ([`receive_form`]) and starts the flow with the file, its options and its `metadata` part
/// (read by `parse_metadata`, for a form that takes one). On any error nothing is kept.
pub(crate) async fn start_form_import(
    state: &AppState,
    actor: &Actor<'_>,
    (account, engagement): (&str, &str),
    request: Request,
    parse_metadata: Option<MetadataParser>,
) -> Result<Started, ApiError> {
    discovery::authorize_import(&state.pool, actor, account, engagement).await?;
    let (stored, options, metadata) = receive_form(request, state, parse_metadata).await?;
    Ok(discovery::start_uploaded_import(&state.pool, actor, account, engagement, &stored, &options, metadata).await?)
}

/// Reads an upload form: the `file` part streamed to disk ([`receive_file`]), `sheet`, `encoding`
/// and `accept_above` as import options, and a `metadata` text part read by `parse_metadata`
/// when the form takes one (the default import otherwise). 400 for a body that is no form; 422
/// for a second or missing file, a bad option, or a part the form does not take (listing those it
/// does); `parse_metadata`'s error as it is. On any error nothing is kept.
async fn receive_form(
    request: Request,
    state: &AppState,
    parse_metadata: Option<MetadataParser>,
) -> Result<(Stored, ImportOptions, DataImportInput), ApiError> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let config = &state.config;
    let idle = config.request_timeout;
    let mut options = ImportOptions::default();
    let mut metadata = DataImportInput::default();
    let mut received: Option<Receiving> = None;
    while let Some(field) = next_field(&mut multipart, idle).await? {
        let name = field.name().unwrap_or_default().to_owned();
        match (name.as_str(), parse_metadata) {
            ("file", _) if received.is_some() => {
                return Err(ApiError::invalid("file", "given twice; send one file per import"));
            }
            ("file", _) => {
                received = Some(receive_file(field, &config.uploads_dir, config.max_upload_bytes, idle).await?);
            }
            ("metadata", Some(parse)) => metadata = parse(text_part(field, idle).await?.as_bytes())?,
            _ if option_part(&name, field, &mut options, idle).await? => {}
            _ => {
                let parts = if parse_metadata.is_some() { "metadata, " } else { "" };
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("{name:?} is not a part of this form ({parts}file, sheet, encoding, accept_above)"),
                ));
            }
        }
    }
    let stored = received.and_then(Receiving::keep).ok_or_else(|| ApiError::invalid("file", "is required"))?;
    Ok((stored, options, metadata))
}

/// Sets the import option a form part names (`sheet`, `encoding`, `accept_above`); false when
/// the part is no option.
async fn option_part(
    name: &str,
    field: Field<'_>,
    options: &mut ImportOptions,
    idle: Duration,
) -> Result<bool, ApiError> {
    match name {
        "sheet" => options.sheet = Some(text_part(field, idle).await?).filter(|s| !s.is_empty()),
        "encoding" => options.encoding = parse_encoding(text_part(field, idle).await?.trim())?,
        "accept_above" => {
            let text = text_part(field, idle).await?;
            let value = text
                .trim()
                .parse::<f64>()
                .map_err(|_| ApiError::invalid("accept_above", format!("{text:?} is not a number")))?;
            options.accept_above = Some(value);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `auto`, `utf8` or `latin1`.
fn parse_encoding(value: &str) -> Result<Encoding, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ApiError::invalid("encoding", format!("{value:?} is not one of auto, utf8, latin1")))
}
