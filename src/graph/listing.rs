//! Listing a folder's children, page by page.
//!
//! A [`Listing`] holds at most one page of items: the next page is fetched
//! when the current one is used up, by following `@odata.nextLink`. A
//! nextLink is followed only on the API origin (it carries the token); one
//! that names another host is refused (`ErrorKind::Protocol`) and never
//! sent anything. The same nextLink seen twice is a loop: `Protocol`.

use std::collections::HashSet;
use std::hash::BuildHasher;

use serde_json::Value;

use super::address::{Drive, ItemRef};
use super::body::MAX_PAGE;
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::http::{Auth, Request, Retry};
use super::item::Item;
use super::url::redact;

/// The children of a folder, fetched lazily one page at a time (see the
/// module doc). Not shared between threads while in use (`next` takes
/// `&mut self`); it may move to another thread between calls.
pub struct Listing {
    client: Client,
    /// The URL of the next page to fetch; `None` once the last page came.
    next_url: Option<String>,
    page: std::vec::IntoIter<Item>,
    /// Keyed hashes of the nextLinks followed (a loop is the same one
    /// twice): 8 bytes a page, not the links' text.
    seen: HashSet<u64>,
    keys: std::collections::hash_map::RandomState,
    /// An error ends the listing: the next call gives `None`.
    failed: bool,
    /// A nextLink refused, reported once the page before it is used up.
    refused: Option<Error>,
}

impl Client {
    /// Lists the children of the folder `folder`. Nothing is sent until
    /// the first [`Listing::next`]; a folder that does not exist shows
    /// then (`ErrorKind::NotFound`). `page_size`: the `$top` asked for
    /// (`None`: the service's default, 200 on Graph); the service may give
    /// fewer per page.
    pub fn list_children(
        &self,
        drive: &Drive,
        folder: &ItemRef,
        page_size: Option<u32>,
    ) -> Result<Listing> {
        if page_size == Some(0) {
            return Err(Error::invalid("a page size is at least 1"));
        }
        let mut url = self.inner.api_url(&format!(
            "{}{}",
            drive.prefix(),
            folder.action_url_path("children")
        ));
        if let Some(n) = page_size {
            url.push_str(&format!("?$top={n}"));
        }
        let mut listing = Listing {
            client: self.clone(),
            next_url: None,
            page: Vec::new().into_iter(),
            seen: HashSet::new(),
            keys: std::collections::hash_map::RandomState::new(),
            failed: false,
            refused: None,
        };
        // A nextLink back to the first page is a loop too.
        listing.first_time(&url);
        listing.next_url = Some(url);
        Ok(listing)
    }
}

impl Listing {
    /// The next child: `Ok(None)` at the end. Fetches the next page when
    /// the current one is used up (the client's retries and timeouts
    /// apply; `ctl` can cancel). After an error the listing is over, but
    /// for a cancel: the same page is asked for again by the next call.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self, ctl: &mut Control<'_>) -> Result<Option<Item>> {
        loop {
            if let Some(item) = self.page.next() {
                return Ok(Some(item));
            }
            if self.failed {
                return Ok(None);
            }
            if let Some(e) = self.refused.take() {
                self.failed = true;
                return Err(e);
            }
            let Some(url) = self.next_url.take() else {
                return Ok(None);
            };
            if let Err(e) = self.fetch(&url, ctl) {
                if matches!(e.kind, ErrorKind::Cancelled | ErrorKind::AbortedByCallback) {
                    self.next_url = Some(url);
                } else {
                    self.failed = true;
                }
                return Err(e);
            }
        }
    }

    fn fetch(&mut self, url: &str, ctl: &mut Control<'_>) -> Result<()> {
        let t = &self.client.inner;
        let mut req = Request::new("GET", url.to_owned(), Auth::Bearer, Retry::Idempotent);
        req.answer_cap = MAX_PAGE;
        let resp = t.send(&req, ctl)?.success()?;
        let (items, next) = parse_page(resp.json()?)?;
        self.page = items.into_iter();
        // The link is checked now, refused when the page's items are used
        // up: the caller gets every child the service did give.
        self.next_url = match next {
            Some(link) if !t.may_carry_token(&link) => {
                self.refuse(format!(
                    "the service named a next page on another host ({}): not followed",
                    redact(&link)
                ));
                None
            }
            Some(link) if !self.first_time(&link) => {
                self.refuse(
                    "the service named the same next page twice (a loop): listing stopped".into(),
                );
                None
            }
            next => next,
        };
        Ok(())
    }

    /// Ends the listing with `message` once the current page is used up.
    fn refuse(&mut self, message: String) {
        self.refused = Some(Error::protocol(message));
    }

    /// Records a page URL; false when it was seen before.
    fn first_time(&mut self, url: &str) -> bool {
        self.seen.insert(self.keys.hash_one(url))
    }
}

/// The items of a page and its nextLink.
/// (Taken whole: each entry moves into its item, none is copied.)
fn parse_page(mut page: Value) -> Result<(Vec<Item>, Option<String>)> {
    let next = match page.get_mut("@odata.nextLink").map(Value::take) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(_) => return Err(Error::protocol("an @odata.nextLink that is not a URL")),
    };
    let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) else {
        return Err(Error::protocol(
            "a page of children without a `value` array",
        ));
    };
    let items = values
        .into_iter()
        .map(Item::from_json)
        .collect::<Result<Vec<_>>>()?;
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        let (items, next) = parse_page(serde_json::json!({
            "value": [{"id": "a", "name": "x"}, {"id": "b"}],
            "@odata.nextLink": "https://h/v1.0/next"
        }))
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].id(), "b");
        assert_eq!(next.as_deref(), Some("https://h/v1.0/next"));
        let (items, next) = parse_page(serde_json::json!({"value": []})).unwrap();
        assert!(items.is_empty() && next.is_none());
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"value": [{"name": "no id"}]}),
            serde_json::json!({"value": [], "@odata.nextLink": 3}),
            serde_json::json!({"value": [], "@odata.nextLink": ""}),
        ] {
            assert!(parse_page(bad.clone()).is_err(), "{bad}");
        }
    }
}
