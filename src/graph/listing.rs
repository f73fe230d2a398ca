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
use super::url::{Origin, redact};

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
        let (seen, keys) = (&mut self.seen, &self.keys);
        let (items, next) = read_page(resp.json()?, &t.api_origin, |link| {
            seen.insert(keys.hash_one(link))
        })?;
        self.page = items.into_iter();
        // A refused link ends the listing once the page's items are used
        // up: the caller gets every child the service did give.
        self.next_url = match next {
            Next::End => None,
            Next::Follow(link) => Some(link),
            Next::Refused(e) => {
                self.refused = Some(e);
                None
            }
        };
        Ok(())
    }

    /// Records a page URL; false when it was seen before.
    fn first_time(&mut self, url: &str) -> bool {
        self.seen.insert(self.keys.hash_one(url))
    }
}

/// Where a page of children leads.
#[derive(Debug)]
pub(crate) enum Next {
    /// It was the last page.
    End,
    /// The next page: on the API origin, and not seen before.
    Follow(String),
    /// A nextLink not followed (another host, or a loop): the error the
    /// listing ends with once this page's items are used up.
    Refused(Error),
}

/// A page of children as the service sent it: its items, and where its
/// `@odata.nextLink` leads. A link is followed only on `api` (it will carry
/// the token); `first_time` records a link on it and says whether it is
/// new (false: a loop). Pure: nothing is sent.
pub(crate) fn read_page(
    page: Value,
    api: &Origin,
    first_time: impl FnOnce(&str) -> bool,
) -> Result<(Vec<Item>, Next)> {
    let (items, link) = parse_page(page)?;
    let next = match link {
        None => Next::End,
        Some(link) if !api.is_origin_of(&link) => Next::Refused(Error::protocol(format!(
            "the service named a next page on another host ({}): not followed",
            redact(&link)
        ))),
        Some(link) if !first_time(&link) => Next::Refused(Error::protocol(
            "the service named the same next page twice (a loop): listing stopped",
        )),
        Some(link) => Next::Follow(link),
    };
    Ok((items, next))
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

    fn graph() -> Origin {
        Origin::of("https://graph.microsoft.com/v1.0").unwrap()
    }

    /// `read_page` of a page with `link` as its nextLink, the link asked
    /// about recorded in `asked`.
    fn next_of(link: &str, new: bool, asked: &mut Vec<String>) -> Next {
        let page = serde_json::json!({"value": [{"id": "a"}], "@odata.nextLink": link});
        let (items, next) = read_page(page, &graph(), |l| {
            asked.push(l.to_owned());
            new
        })
        .unwrap();
        assert_eq!(items.len(), 1);
        next
    }

    #[test]
    fn next_links_followed_on_the_api_origin_only() {
        let mut asked = Vec::new();
        for link in [
            "https://graph.microsoft.com/v1.0/me/drive/items/x/children?$skiptoken=a",
            "https://GRAPH.Microsoft.com:443/v1.0/next",
            "HTTPS://graph.microsoft.com/beta/next",
        ] {
            assert!(
                matches!(next_of(link, true, &mut asked), Next::Follow(l) if l == link),
                "{link}"
            );
        }
        assert_eq!(asked.len(), 3);
        asked.clear();
        for link in [
            "http://graph.microsoft.com/v1.0/next",
            "https://graph.microsoft.com:8443/v1.0/next",
            "https://graph.microsoft.com.evil.example/v1.0/next",
            "https://evil.example/v1.0/next?host=graph.microsoft.com",
            "https://graph.microsoft.com@evil.example/v1.0/next",
            "https://evil.example\\@graph.microsoft.com/v1.0/next",
            "/v1.0/me/drive/items/x/children?$skiptoken=a",
            "//graph.microsoft.com/v1.0/next",
            "ftp://graph.microsoft.com/v1.0/next",
            "not a url",
            "https://",
        ] {
            let Next::Refused(e) = next_of(link, true, &mut asked) else {
                panic!("{link} followed");
            };
            assert_eq!(e.kind, ErrorKind::Protocol);
            assert!(e.message.contains("another host"), "{link}: {}", e.message);
            // Its path and query (a capability, maybe) are not repeated.
            assert!(!e.message.contains("v1.0"), "{}", e.message);
        }
        // An off-origin link is never recorded as seen.
        assert!(asked.is_empty(), "{asked:?}");
    }

    #[test]
    fn a_next_link_seen_before_is_a_loop() {
        let mut asked = Vec::new();
        let link = "https://graph.microsoft.com/v1.0/next";
        let Next::Refused(e) = next_of(link, false, &mut asked) else {
            panic!("a loop followed");
        };
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("twice"), "{}", e.message);
        assert_eq!(asked, [link]);
        // The last page asks nothing.
        let (_, next) = read_page(serde_json::json!({"value": []}), &graph(), |_| {
            panic!("asked about no link")
        })
        .unwrap();
        assert!(matches!(next, Next::End));
        let (_, next) = read_page(
            serde_json::json!({"value": [], "@odata.nextLink": null}),
            &graph(),
            |_| panic!("asked about no link"),
        )
        .unwrap();
        assert!(matches!(next, Next::End));
    }

    #[test]
    fn a_bad_page_is_refused_before_its_link() {
        for page in [
            serde_json::json!({"value": {}, "@odata.nextLink": "https://graph.microsoft.com/n"}),
            serde_json::json!({"value": [1], "@odata.nextLink": "https://graph.microsoft.com/n"}),
            serde_json::json!([]),
            serde_json::json!("value"),
            serde_json::json!({"value": [], "@odata.nextLink": ["https://graph.microsoft.com/n"]}),
        ] {
            let e = read_page(page.clone(), &graph(), |_| panic!("asked")).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{page}");
        }
    }
}
