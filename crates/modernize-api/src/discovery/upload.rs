//! Receiving an inventory file: multipart parts streamed to a private file under the uploads
//! directory, never held whole in memory, counted against the size limit while they arrive.

use std::path::Path;
use std::time::Duration;

use axum::extract::multipart::{Field, Multipart, MultipartError};
use modernize::discovery::ingest::Encoding;
use modernize::discovery::pipeline::ImportOptions;
use modernize::discovery::uploads::{self, Stored};
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

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
pub(crate) async fn next_field<'a>(
    multipart: &'a mut Multipart,
    idle: Duration,
) -> Result<Option<Field<'a>>, ApiError> {
    match tokio::time::timeout(idle, multipart.next_field()).await {
        Ok(field) => field.map_err(multipart_error),
        Err(_) => Err(ApiError::Timeout("no part of the upload arrived in time".into())),
    }
}

/// A small text part (at most 64 KiB), e.g. `sheet` or a JSON `metadata` part.
pub(crate) async fn text_part(mut field: Field<'_>, idle: Duration) -> Result<String, ApiError> {
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
pub(crate) async fn receive_file(
    mut field: Field<'_>,
    uploads_dir: &Path,
    max_bytes: u64,
    idle: Duration,
) -> Result<Receiving, ApiError> {
    let filename = field.file_name().map(str::to_owned).unwrap_or_else(|| "upload".into());
    let (stored, file) = uploads::create(uploads_dir, &filename)?;
    let mut receiving = Receiving(Some(stored));
    let mut file = tokio::fs::File::from_std(file);
    let mut size: u64 = 0;
    while let Some(chunk) = next_chunk(&mut field, idle).await? {
        size = size.saturating_add(chunk.len() as u64);
        if size > max_bytes {
            return Err(ApiError::PayloadTooLarge(format!("the file is larger than the limit of {max_bytes} bytes")));
        }
        file.write_all(&chunk).await.map_err(|e| ApiError::Internal(format!("writing an upload: {e}")))?;
    }
    file.flush().await.map_err(|e| ApiError::Internal(format!("writing an upload: {e}")))?;
    file.sync_all().await.map_err(|e| ApiError::Internal(format!("writing an upload: {e}")))?;
    if let Some(stored) = receiving.0.as_mut() {
        stored.size = size;
    }
    Ok(receiving)
}

/// Sets the import option a form part names (`sheet`, `encoding`, `accept_above`); false when
/// the part is no option.
pub(crate) async fn option_part(
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
pub(crate) fn parse_encoding(value: &str) -> Result<Encoding, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ApiError::invalid("encoding", format!("{value:?} is not one of auto, utf8, latin1")))
}
