//! Addresses: drive prefixes, item references, and path-segment encoding.
//!
//! An item is named by one string, the way the C API takes it:
//! - `/` is the drive's root; `/a/b.txt` a path from the root;
//! - `ID` an item id (ids never start with `/` and never contain `:`);
//! - `ID:/rel/path` a path relative to the item `ID`.
//!
//! Every path segment is percent-encoded on its own, so a name may hold a
//! space, `#`, `%` or any non-ASCII character.

use super::error::{Error, ErrorKind, Result};

/// Which drive: the prefix in front of `/items/…` or `/root…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drive {
    /// `/me/drive`: the signed-in user's drive (the default).
    Me,
    /// `/drive`: the legacy OneDrive API form.
    Legacy,
    /// `/drives/{id}`
    Id(String),
    /// `/groups/{id}/drive`
    Group(String),
    /// `/sites/{id}/drive`
    Site(String),
    /// `/users/{id}/drive`
    User(String),
}

impl Drive {
    /// Parses a prefix as written in Graph URLs: `/me/drive`, `/drive`,
    /// `/drives/{id}`, `/groups/{id}/drive`, `/sites/{id}/drive`,
    /// `/users/{id}/drive` (the leading `/` optional, a trailing one allowed).
    /// Ids are taken as they are given, not percent-decoded.
    pub fn parse(prefix: &str) -> Result<Drive> {
        let trimmed = prefix.trim_matches('/');
        let parts: Vec<&str> = trimmed.split('/').collect();
        let id = |s: &str| -> Result<String> {
            if s.is_empty()
                || s == "."
                || s == ".."
                || s.contains(['?', '#', '\\'])
                || s.chars().any(char::is_control)
            {
                Err(Error::invalid(format!("bad id in drive prefix {prefix:?}")))
            } else {
                Ok(s.to_owned())
            }
        };
        match parts.as_slice() {
            ["me", "drive"] => Ok(Drive::Me),
            ["drive"] => Ok(Drive::Legacy),
            ["drives", d] => Ok(Drive::Id(id(d)?)),
            ["groups", g, "drive"] => Ok(Drive::Group(id(g)?)),
            ["sites", s, "drive"] => Ok(Drive::Site(id(s)?)),
            ["users", u, "drive"] => Ok(Drive::User(id(u)?)),
            _ => Err(Error::invalid(format!(
                "unknown drive prefix {prefix:?}: expected /me/drive, /drive, /drives/ID, \
                 /groups/ID/drive, /sites/ID/drive or /users/ID/drive"
            ))),
        }
    }

    /// The prefix as it goes into a URL, ids percent-encoded.
    pub fn prefix(&self) -> String {
        match self {
            Drive::Me => "/me/drive".to_owned(),
            Drive::Legacy => "/drive".to_owned(),
            Drive::Id(d) => format!("/drives/{}", encode_id(d)),
            Drive::Group(g) => format!("/groups/{}/drive", encode_id(g)),
            Drive::Site(s) => format!("/sites/{}/drive", encode_id(s)),
            Drive::User(u) => format!("/users/{}/drive", encode_id(u)),
        }
    }
}

impl std::fmt::Display for Drive {
    /// The prefix as written (ids not encoded): parses back to the same drive.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drive::Me => write!(f, "/me/drive"),
            Drive::Legacy => write!(f, "/drive"),
            Drive::Id(d) => write!(f, "/drives/{d}"),
            Drive::Group(g) => write!(f, "/groups/{g}/drive"),
            Drive::Site(s) => write!(f, "/sites/{s}/drive"),
            Drive::User(u) => write!(f, "/users/{u}/drive"),
        }
    }
}

impl std::fmt::Display for ItemRef {
    /// The one-string form [`ItemRef::parse`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemRef::Id(id) => write!(f, "{id}"),
            ItemRef::Path(segs) => write!(f, "/{}", segs.join("/")),
            ItemRef::IdPath(id, segs) => write!(f, "{id}:/{}", segs.join("/")),
        }
    }
}

/// An item: by id, by path from the root, or by a path below an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Id(String),
    /// Segments of a path from the root; empty = the root itself.
    Path(Vec<String>),
    /// An item id and the segments of a path below it (never empty).
    IdPath(String, Vec<String>),
}

impl ItemRef {
    /// Parses the one-string form described at the top of this module.
    pub fn parse(s: &str) -> Result<ItemRef> {
        if s.is_empty() {
            return Err(Error::invalid(
                "an empty item reference: use \"/\" for the root",
            ));
        }
        if let Some(path) = s.strip_prefix('/') {
            return Ok(ItemRef::Path(split_path(path)?));
        }
        match s.split_once(':') {
            None => Ok(ItemRef::Id(check_id(s)?)),
            Some((id, rel)) => {
                let rel = rel.strip_prefix('/').ok_or_else(|| {
                    Error::invalid(format!(
                        "{s:?}: a path below an item is written ID:/rel/path"
                    ))
                })?;
                let segs = split_path(rel)?;
                if segs.is_empty() {
                    return Ok(ItemRef::Id(check_id(id)?));
                }
                Ok(ItemRef::IdPath(check_id(id)?, segs))
            }
        }
    }

    /// An item by an id that came from elsewhere (the service, a saved
    /// state): checked as a parsed one is.
    pub fn id(id: &str) -> Result<ItemRef> {
        Ok(ItemRef::Id(check_id(id)?))
    }

    /// The item at the path `segs` below this one (the segments already
    /// checked names).
    pub fn join(&self, segs: &[String]) -> ItemRef {
        match self {
            _ if segs.is_empty() => self.clone(),
            ItemRef::Id(id) => ItemRef::IdPath(id.clone(), segs.to_vec()),
            ItemRef::Path(base) => ItemRef::Path([base.as_slice(), segs].concat()),
            ItemRef::IdPath(id, base) => {
                ItemRef::IdPath(id.clone(), [base.as_slice(), segs].concat())
            }
        }
    }

    pub fn is_root(&self) -> bool {
        matches!(self, ItemRef::Path(p) if p.is_empty())
    }

    /// The item's own URL path below the drive prefix: `/items/{id}`,
    /// `/root`, `/root:/a/b:`, `/items/{id}:/a/b:`.
    pub fn url_path(&self) -> String {
        match self {
            ItemRef::Id(id) => format!("/items/{}", encode_id(id)),
            ItemRef::Path(segs) if segs.is_empty() => "/root".to_owned(),
            ItemRef::Path(segs) => format!("/root:/{}:", encode_segments(segs)),
            ItemRef::IdPath(id, segs) => {
                format!("/items/{}:/{}:", encode_id(id), encode_segments(segs))
            }
        }
    }

    /// The URL path of an action on this item: `/items/{id}/copy`,
    /// `/root:/a:/copy`, `/root/children`.
    pub fn action_url_path(&self, action: &str) -> String {
        format!("{}/{action}", self.url_path())
    }

    /// The item as an itemReference `path` value: `/drive/root:/a/b` (or with
    /// a `/drives/{id}` prefix), for the path form of `parentReference`.
    /// `None` for references by id.
    pub fn reference_path(&self, drive_id: Option<&str>) -> Option<String> {
        let ItemRef::Path(segs) = self else {
            return None;
        };
        let drive = match drive_id {
            Some(d) => format!("/drives/{}", encode_id(d)),
            None => "/drive".to_owned(),
        };
        Some(if segs.is_empty() {
            format!("{drive}/root:")
        } else {
            format!("{drive}/root:/{}", encode_segments(segs))
        })
    }
}

/// An id as it may go into a URL path: never empty, never a dot segment
/// (`.`, `..`: a server that normalises them would retarget a request that
/// carries the token), never a separator or control character.
fn check_id(id: &str) -> Result<String> {
    if id.is_empty()
        || id == "."
        || id == ".."
        || id
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\' | '?' | '#'))
    {
        return Err(Error::invalid(format!("{id:?} is not an item id")));
    }
    Ok(id.to_owned())
}

fn split_path(path: &str) -> Result<Vec<String>> {
    let mut segs = Vec::new();
    for seg in path.split('/') {
        if seg.is_empty() {
            continue; // "a//b" and a trailing "/" mean what the user meant
        }
        validate_name(seg)?;
        segs.push(seg.to_owned());
    }
    Ok(segs)
}

/// Characters OneDrive and SharePoint refuse in a file or folder name.
pub const FORBIDDEN_NAME_CHARS: &[char] = &['"', '*', ':', '<', '>', '?', '/', '\\', '|'];

/// Refuses, before any request, a name the service would refuse: empty,
/// `.` or `..`, a forbidden character, a control character, or longer than
/// the service's 400-character limit.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::new(
            ErrorKind::InvalidName,
            format!("invalid name {name:?}: {why}"),
        ))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name == "." || name == ".." {
        return bad("not a name");
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN_NAME_CHARS.contains(c)) {
        return bad(&format!("{c:?} is not allowed in a name"));
    }
    if name.chars().any(char::is_control) {
        return bad("control characters are not allowed");
    }
    if name.chars().count() > 400 {
        return bad("longer than 400 characters");
    }
    Ok(())
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved
/// characters is escaped, so `/`, `#`, `%`, `?`, space and non-ASCII are safe.
pub fn encode_segment(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

fn encode_segments(segs: &[String]) -> String {
    segs.iter()
        .map(|s| encode_segment(s))
        .collect::<Vec<_>>()
        .join("/")
}

/// Ids keep `!`, `,` and `@` readable (OneDrive Personal ids hold `!`,
/// SharePoint site ids commas, user ids may be a UPN); the rest is encoded
/// like a segment.
fn encode_id(id: &str) -> String {
    encode_segment(id)
        .replace("%21", "!")
        .replace("%2C", ",")
        .replace("%40", "@")
}

/// What to do when the name is already taken (`@microsoft.graph.conflictBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conflict {
    /// Send nothing: the service's default (replace for uploads, fail for copies).
    #[default]
    ServiceDefault,
    Fail,
    Replace,
    Rename,
}

impl Conflict {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Conflict::ServiceDefault => None,
            Conflict::Fail => Some("fail"),
            Conflict::Replace => Some("replace"),
            Conflict::Rename => Some("rename"),
        }
    }

    /// The inverse of [`Conflict::as_str`].
    pub fn parse(text: Option<&str>) -> Option<Conflict> {
        [
            Conflict::ServiceDefault,
            Conflict::Fail,
            Conflict::Replace,
            Conflict::Rename,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }

    /// `?@microsoft.graph.conflictBehavior=…`, or nothing.
    pub(crate) fn query(self) -> String {
        self.as_str()
            .map(|c| format!("?@microsoft.graph.conflictBehavior={c}"))
            .unwrap_or_default()
    }
}

/// Where an upload goes: a new file `name` under a folder, or a file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadTarget {
    /// A file called `name` in the folder `parent`.
    Child { parent: ItemRef, name: String },
    /// The file itself: by path, created or replaced; by id, replaced.
    Item(ItemRef),
}

impl UploadTarget {
    /// Builds a target the way the C API takes it: with a name, `item` is
    /// the parent folder; without, `item` is the file itself.
    pub fn new(item: &str, name: Option<&str>) -> Result<UploadTarget> {
        let item = ItemRef::parse(item)?;
        match name {
            Some(name) => {
                validate_name(name)?;
                Ok(UploadTarget::Child {
                    parent: item,
                    name: name.to_owned(),
                })
            }
            None if item.is_root() => Err(Error::new(
                ErrorKind::InvalidName,
                "the root is not a file: give a name, or a path like /folder/file.txt",
            )),
            None => Ok(UploadTarget::Item(item)),
        }
    }

    /// The URL path of the target item, below the drive prefix.
    pub(crate) fn item_url_path(&self) -> String {
        self.item_ref().url_path()
    }

    /// The target file as an item reference.
    pub fn item_ref(&self) -> ItemRef {
        match self {
            UploadTarget::Item(item) => item.clone(),
            UploadTarget::Child { parent, name } => parent.join(std::slice::from_ref(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_prefixes_round_trip() {
        for p in [
            "/me/drive",
            "/drive",
            "/drives/b!x",
            "/groups/g1/drive",
            "/sites/h,1,2/drive",
            "/users/u@x/drive",
        ] {
            let d = Drive::parse(p).unwrap();
            assert_eq!(Drive::parse(&d.prefix()).unwrap(), d, "{p}");
        }
        assert_eq!(Drive::parse("me/drive/").unwrap(), Drive::Me);
        assert_eq!(
            Drive::parse("/drives/a b").unwrap().prefix(),
            "/drives/a%20b"
        );
        assert_eq!(
            Drive::parse("/sites/h,1,2/drive").unwrap().prefix(),
            "/sites/h,1,2/drive"
        );
        for bad in [
            "",
            "/",
            "/me",
            "/drives",
            "/drives/",
            "/drives/a/b",
            "/groups/x",
            "/drives/a?b",
            "/foo/drive",
        ] {
            assert_eq!(
                Drive::parse(bad).unwrap_err().kind,
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn segments_are_encoded_one_by_one() {
        assert_eq!(encode_segment("a b#c%d"), "a%20b%23c%25d");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment("x-y_z.~"), "x-y_z.~");
        assert_eq!(encode_segment("a+b&c=d"), "a%2Bb%26c%3Dd");
        let r = ItemRef::parse("/My Docs/#1/100%/日本.txt").unwrap();
        assert_eq!(
            r.url_path(),
            "/root:/My%20Docs/%231/100%25/%E6%97%A5%E6%9C%AC.txt:"
        );
    }

    #[test]
    fn item_forms() {
        assert_eq!(ItemRef::parse("/").unwrap().url_path(), "/root");
        assert!(ItemRef::parse("/").unwrap().is_root());
        assert_eq!(
            ItemRef::parse("//a//b/").unwrap(),
            ItemRef::Path(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            ItemRef::parse("ABC!12").unwrap().url_path(),
            "/items/ABC!12"
        );
        assert_eq!(
            ItemRef::parse("ID:/x y").unwrap().url_path(),
            "/items/ID:/x%20y:"
        );
        assert_eq!(ItemRef::parse("ID:/").unwrap(), ItemRef::Id("ID".into()));
        // dot segments are no ids: a normalising server would retarget them
        for bad in ["..", ".", "..:/x", ".:/x"] {
            assert_eq!(
                ItemRef::parse(bad).unwrap_err().kind,
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
        assert!(ItemRef::id("..").is_err() && ItemRef::id("A!1").is_ok());
        for bad in [
            "/drives/..",
            "/drives/.",
            "/users/../drive",
            "/sites/./drive",
        ] {
            assert!(Drive::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ItemRef::parse("X").unwrap().action_url_path("copy"),
            "/items/X/copy"
        );
        assert_eq!(
            ItemRef::parse("/a").unwrap().action_url_path("copy"),
            "/root:/a:/copy"
        );
        assert_eq!(
            ItemRef::parse("/").unwrap().action_url_path("children"),
            "/root/children"
        );
        assert_eq!(
            ItemRef::parse("/a b")
                .unwrap()
                .reference_path(None)
                .unwrap(),
            "/drive/root:/a%20b"
        );
        assert_eq!(
            ItemRef::parse("/")
                .unwrap()
                .reference_path(Some("d1"))
                .unwrap(),
            "/drives/d1/root:"
        );
        assert_eq!(ItemRef::parse("X").unwrap().reference_path(None), None);
        for bad in ["", "ID:rel", "a/b", "ID:/a:b", "/a/b?c", "i#d"] {
            assert!(ItemRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        for ok in ["a.txt", "with space", "100%", "#hash", "日本語", ".hidden"] {
            validate_name(ok).unwrap();
        }
        for bad in [
            "", ".", "..", "a/b", "a\\b", "a*b", "a<b", "a>b", "a?b", "a:b", "a|b", "a\"b", "a\nb",
        ] {
            assert_eq!(
                validate_name(bad).unwrap_err().kind,
                ErrorKind::InvalidName,
                "{bad:?}"
            );
        }
        validate_name(&"x".repeat(400)).unwrap();
        assert!(validate_name(&"x".repeat(401)).is_err());
    }
}
