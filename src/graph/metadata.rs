//! Reading an item's metadata.

use super::address::{Drive, ItemRef};
use super::client::Client;
use super::control::Control;
use super::error::Result;
use super::http::{Auth, Request, Retry};
use super::item::Item;

impl Client {
    /// Reads an item's metadata.
    pub fn item(&self, drive: &Drive, item: &ItemRef, ctl: &mut Control<'_>) -> Result<Item> {
        let url = self
            .inner
            .api_url(&format!("{}{}", drive.prefix(), item.url_path()));
        let resp = self
            .inner
            .send(
                &Request::new("GET", url, Auth::Bearer, Retry::Idempotent),
                ctl,
            )?
            .success()?;
        Item::from_slice(&resp.body)
    }
}
