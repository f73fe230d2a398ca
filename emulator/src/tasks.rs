//! What the background jobs do: a copy writes its snapshot, an upload from URL fetches its
//! source and writes it, each when the job registry says it is due.

use crate::config::JobFailMode;
use crate::state::Shared;
use crate::store::{Conflict, Store, TreeSnap};
use crate::util::GraphError;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use std::sync::Arc;
use std::time::Duration;

/// Largest source an upload from URL will fetch.
const MAX_SOURCE_BYTES: usize = 1 << 30;

/// A job cleared by a reset while it ran: it writes nothing.
fn gone() -> GraphError {
    GraphError::new(404, "itemNotFound", "The job was cleared by a reset.")
}

/// The end of a job: what `prepared` holds (made outside the lock) written by `write` under
/// the store lock, unless a reset cleared the job meanwhile; the outcome goes to the
/// job's monitor.
fn finish<T>(
    shared: &Shared,
    token: &str,
    what: &str,
    prepared: Result<T, GraphError>,
    write: impl FnOnce(&mut Store, T) -> Result<String, GraphError>,
) {
    let result = prepared.and_then(|p| {
        let mut store = shared.store();
        if !shared.jobs.exists(token) {
            return Err(gone());
        }
        let id = write(&mut store, p)?;
        Ok((store.get(&id).map(|it| it.drive_id.clone()), id))
    });
    match result {
        Ok((Some(drive_id), id)) => shared.jobs.complete(token, drive_id, id),
        Ok((None, _)) => shared.jobs.fail(
            token,
            JobFailMode::Status,
            "generalException",
            format!("The {what} item vanished."),
        ),
        Err(e) => shared
            .jobs
            .fail(token, JobFailMode::Status, &e.code, e.message),
    }
}

/// A copy: wait for the job's duration, then write the snapshot.
pub(crate) fn spawn_copy(
    shared: Arc<Shared>,
    token: String,
    mut snap: TreeSnap,
    parent_id: String,
    name: String,
    conflict: Conflict,
) {
    let running = shared.jobs.track();
    tokio::spawn(async move {
        let _running = running;
        shared.jobs.begin(&token, snap.bytes());
        if let Some(mode) = shared.jobs.wait_due(&token).await {
            shared.jobs.fail(
                &token,
                mode,
                "generalException",
                "The copy operation failed.".into(),
            );
            return;
        }
        // the files are copied into the data directory before the store lock
        let staged = match &shared.data_dir {
            Some(dir) => snap
                .stage(&dir.join("content"))
                .map_err(crate::store::storage_error),
            None => Ok(()),
        };
        finish(&shared, &token, "copied", staged, |store, ()| {
            store.materialize(&parent_id, &name, snap, conflict)
        });
    });
}

async fn download(shared: &Shared, url: &str) -> Result<Bytes, String> {
    if shared.offline {
        return Err("this emulator fetches no source URLs".into());
    }
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("invalid source URL: {e}"))?;
    let fut = async {
        let resp = crate::tls::get(&shared.fetch_tls, &uri).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("the source URL answered HTTP {}", status.as_u16()));
        }
        let body = http_body_util::Limited::new(resp.into_body(), MAX_SOURCE_BYTES);
        body.collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| format!("error while downloading the source URL: {e}"))
    };
    match tokio::time::timeout(Duration::from_secs(120), fut).await {
        Ok(r) => r,
        Err(_) => Err("timed out downloading the source URL".into()),
    }
}

/// An upload from URL: download the source, wait for the job's duration, then write the file.
pub(crate) fn spawn_url_upload(
    shared: Arc<Shared>,
    token: String,
    url: String,
    parent_id: String,
    name: String,
    conflict: Conflict,
) {
    let running = shared.jobs.track();
    tokio::spawn(async move {
        let _running = running;
        let data = match download(&shared, &url).await {
            Ok(d) => d,
            Err(msg) => {
                let mode = shared.jobs.config().fail.unwrap_or(JobFailMode::Status);
                shared.jobs.fail(&token, mode, "generalException", msg);
                return;
            }
        };
        shared.jobs.begin(&token, data.len() as u64);
        if let Some(mode) = shared.jobs.wait_due(&token).await {
            shared.jobs.fail(
                &token,
                mode,
                "generalException",
                "The upload from URL failed.".into(),
            );
            return;
        }
        // hashed and staged before the store lock
        let prepared = {
            let shared = shared.clone();
            tokio::task::spawn_blocking(move || shared.file_content(data)).await
        };
        let prepared = prepared.unwrap_or_else(|e| {
            Err(crate::util::GraphError::new(
                500,
                "generalException",
                e.to_string(),
            ))
        });
        finish(&shared, &token, "uploaded", prepared, |store, fc| {
            store
                .put_file(&parent_id, &name, fc, conflict)
                .map(|(id, _)| id)
        });
    });
}
