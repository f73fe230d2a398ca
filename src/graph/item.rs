//! A driveItem as the service returned it: the raw JSON kept whole, with
//! accessors for the fields callers need most.

use std::sync::OnceLock;

use serde_json::Value;

use super::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Item {
    json: Value,
    /// The JSON text as the service sent it; for an item taken from a
    /// larger answer (a listing's page), written from `json` when first
    /// asked for (most never are: it was a third of a listing's CPU).
    raw: OnceLock<String>,
}

/// Items are equal when their JSON is (the text is made from it or came
/// with it).
impl PartialEq for Item {
    fn eq(&self, other: &Item) -> bool {
        self.json == other.json
    }
}

impl Item {
    /// Takes a driveItem; refuses JSON that is not an object with an `id`.
    pub fn from_json(json: Value) -> Result<Item> {
        Item::checked(json, OnceLock::new())
    }

    /// Takes a driveItem from the body of an answer (kept as it came).
    pub fn from_slice(body: &[u8]) -> Result<Item> {
        let json = serde_json::from_slice(body)
            .map_err(|e| Error::protocol(format!("the item is not JSON: {e}")))?;
        // Parsed JSON is UTF-8 and holds no raw control characters (not
        // even a NUL that C would stop at), so the text is kept as it came.
        Item::checked(
            json,
            OnceLock::from(String::from_utf8_lossy(body).into_owned()),
        )
    }

    fn checked(json: Value, raw: OnceLock<String>) -> Result<Item> {
        match json.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(Item { json, raw }),
            _ => Err(Error::protocol(
                "the service returned an item without an id",
            )),
        }
    }

    /// The driveItem's JSON text, as the service sent it.
    pub fn raw_json(&self) -> &str {
        self.raw.get_or_init(|| self.json.to_string())
    }

    fn text(&self, pointer: &str) -> Option<&str> {
        self.json.pointer(pointer).and_then(Value::as_str)
    }

    pub fn id(&self) -> &str {
        self.text("/id").unwrap_or_default()
    }
    pub fn name(&self) -> Option<&str> {
        self.text("/name")
    }
    pub fn size(&self) -> Option<u64> {
        self.json.get("size").and_then(Value::as_u64)
    }
    pub fn etag(&self) -> Option<&str> {
        self.text("/eTag")
    }
    pub fn ctag(&self) -> Option<&str> {
        self.text("/cTag")
    }
    pub fn web_url(&self) -> Option<&str> {
        self.text("/webUrl")
    }
    pub fn drive_id(&self) -> Option<&str> {
        self.text("/parentReference/driveId")
    }
    pub fn parent_id(&self) -> Option<&str> {
        self.text("/parentReference/id")
    }
    pub fn is_folder(&self) -> bool {
        self.json.get("folder").is_some_and(Value::is_object)
    }
    /// `lastModifiedDateTime` as the service wrote it (ISO 8601, UTC:
    /// `2026-01-02T03:04:05Z`), not parsed.
    pub fn last_modified(&self) -> Option<&str> {
        self.text("/lastModifiedDateTime")
    }
    /// How many children a folder holds (`folder.childCount`); `None` for
    /// a file.
    pub fn child_count(&self) -> Option<u64> {
        self.json
            .pointer("/folder/childCount")
            .and_then(Value::as_u64)
    }
    pub fn quick_xor_hash(&self) -> Option<&str> {
        self.text("/file/hashes/quickXorHash")
    }
    pub fn sha1_hash(&self) -> Option<&str> {
        self.text("/file/hashes/sha1Hash")
    }
    pub fn sha256_hash(&self) -> Option<&str> {
        self.text("/file/hashes/sha256Hash")
    }
    pub fn json(&self) -> &Value {
        &self.json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal when their JSON is, whichever way the text came.
    #[test]
    fn items_are_equal_when_their_json_is() {
        let a = Item::from_slice(br#"{"id":"x","size":3}"#).unwrap();
        let b = Item::from_json(serde_json::json!({"size": 3, "id": "x"})).unwrap();
        let c = Item::from_slice(br#"{"id":"x","size":4}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn an_item_from_a_page_writes_its_text_when_asked() {
        let v = serde_json::json!({"id": "x", "name": "é \"q\"", "size": 3});
        let i = Item::from_json(v.clone()).unwrap();
        let copy = i.clone();
        assert_eq!(serde_json::from_str::<Value>(i.raw_json()).unwrap(), v);
        assert_eq!(i.raw_json(), copy.raw_json());
        assert_eq!(i, copy);
        assert!(Item::from_json(serde_json::json!({"name": "no id"})).is_err());
    }

    #[test]
    fn fields() {
        let i = Item::from_slice(
            br#"{"id":"A!1","name":"n.txt","size":35,"eTag":"e","cTag":"c","folder":null,
                "parentReference":{"driveId":"d","id":"p"},"lastModifiedDateTime":"2026-01-02T03:04:05Z","file":{"hashes":{"quickXorHash":"q","sha1Hash":"s1","sha256Hash":"s2"}}}"#,
        )
        .unwrap();
        assert_eq!(
            (i.id(), i.name(), i.size()),
            ("A!1", Some("n.txt"), Some(35))
        );
        assert_eq!((i.etag(), i.ctag()), (Some("e"), Some("c")));
        assert_eq!((i.drive_id(), i.parent_id()), (Some("d"), Some("p")));
        assert_eq!(
            (i.quick_xor_hash(), i.sha1_hash(), i.sha256_hash()),
            (Some("q"), Some("s1"), Some("s2"))
        );
        assert!(!i.is_folder());
        assert_eq!(i.last_modified(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(i.child_count(), None);
        let f = Item::from_slice(br#"{"id":"f","folder":{"childCount":3}}"#).unwrap();
        assert!(f.is_folder());
        assert_eq!((f.child_count(), f.last_modified()), (Some(3), None));
        assert!(i.raw_json().starts_with(r#"{"id":"A!1","name":"n.txt""#));
        assert!(
            Item::from_slice(br#"{"id":"a\u0000b"}"#)
                .unwrap()
                .raw_json()
                .contains("\\u0000")
        );
        for bad in [
            &b"[]"[..],
            b"{}",
            br#"{"id":""}"#,
            br#"{"id":3}"#,
            b"nope",
            b"{\"id\":\"a\x00\"}",
        ] {
            assert!(Item::from_slice(bad).is_err());
        }
    }
}
