//! Every upload entry point: a buffer, a file or any source; one PUT up to
//! the simple-upload threshold, an upload session above it.

use std::cell::RefCell;
use std::path::Path;

use super::address::{Conflict, Drive, UploadTarget};
use super::client::Client;
use super::control::Control;
use super::error::Result;
use super::http::{Auth, Body, Request, Retry};
use super::item::Item;
use super::source::{BytesSource, FileSource, SourceBody, UploadSource};
use super::verify::verify;

impl Client {
    /// Uploads `data` to `target` and returns the new or replaced item: in
    /// one PUT up to the simple-upload threshold, through an upload session
    /// above it. Progress is reported as bytes sent, at least every 64 KiB
    /// (within the chunks of a session too).
    pub fn upload(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        data: &[u8],
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        self.upload_from(drive, target, &mut BytesSource::new(data), conflict, ctl)
    }

    /// Uploads from any source: one PUT up to the simple-upload threshold,
    /// an upload session above it. Either way the source is streamed, never
    /// read whole into memory.
    pub fn upload_from(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        source: &mut dyn UploadSource,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let size = source.size();
        if size <= self.inner.upload_settings().simple_limit {
            return self.simple_upload(drive, target, source, conflict, ctl);
        }
        let mut session = self.create_upload_session(drive, target, size, conflict, ctl)?;
        let result = self.continue_upload_session(&mut session, source, ctl);
        if result.is_err() {
            // Whatever made us give up, the half-uploaded session is no use
            // to anyone: take it off the service (one short attempt, also
            // after a cancel).
            self.discard_upload_session(&session);
        }
        result
    }

    /// Uploads a local file (streamed: memory stays at one chunk).
    pub fn upload_file(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        path: &Path,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let mut source = FileSource::open(path)?;
        self.upload_from(drive, target, &mut source, conflict, ctl)
    }

    /// One PUT of the whole body, streamed from the source.
    fn simple_upload(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        source: &mut dyn UploadSource,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let url = self.inner.api_url(&format!(
            "{}{}/content{}",
            drive.prefix(),
            target.item_url_path(),
            conflict.query()
        ));
        // Repeating a PUT that replaces is harmless; with rename it would
        // make a second copy, with fail it would report a false conflict.
        let retry = match conflict {
            Conflict::ServiceDefault | Conflict::Replace => Retry::Idempotent,
            Conflict::Fail | Conflict::Rename => Retry::OnlyUnacted,
        };
        let size = source.size();
        let set = self.inner.upload_settings().hashes;
        let body = RefCell::new(SourceBody::new(source, set));
        let mut req = Request::new("PUT", url, Auth::Bearer, retry)
            .header("Content-Type", "application/octet-stream");
        req.body = Body::Stream(&body);
        req.progress = Some((0, size));
        ctl.report(0, size)?;
        let resp = self.inner.send(&req, ctl)?.success()?;
        let item = Item::from_slice(&resp.body)?;
        // The bytes the service answered for are those of the last send:
        // the hashes restart with every rewind.
        verify(item, size, &body.borrow().hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::error::ErrorKind;

    #[test]
    fn targets() {
        let t = UploadTarget::new("/a b", Some("c#.txt")).unwrap();
        assert_eq!(t.item_url_path(), "/root:/a%20b/c%23.txt:");
        let t = UploadTarget::new("ID", None).unwrap();
        assert_eq!(t.item_url_path(), "/items/ID");
        let t = UploadTarget::new("/x/y.txt", None).unwrap();
        assert_eq!(t.item_url_path(), "/root:/x/y.txt:");
        for (item, name, want) in [
            ("/", "n m", "/root:/n%20m:"),
            ("X", "n", "/items/X:/n:"),
            ("X:/s", "n", "/items/X:/s/n:"),
        ] {
            assert_eq!(
                UploadTarget::new(item, Some(name)).unwrap().item_url_path(),
                want
            );
        }
        assert_eq!(
            UploadTarget::new("/", None).unwrap_err().kind,
            ErrorKind::InvalidName
        );
        assert_eq!(
            UploadTarget::new("/", Some("a:b")).unwrap_err().kind,
            ErrorKind::InvalidName
        );
        assert_eq!(
            UploadTarget::new("/", Some("")).unwrap_err().kind,
            ErrorKind::InvalidName
        );
        assert_eq!(
            UploadTarget::new("", Some("a")).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn conflict_query() {
        assert_eq!(Conflict::ServiceDefault.query(), "");
        assert_eq!(
            Conflict::Rename.query(),
            "?@microsoft.graph.conflictBehavior=rename"
        );
    }
}
