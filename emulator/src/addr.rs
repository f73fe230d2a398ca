//! Item addresses of the API origin (drive prefixes, `root:/a/b:`, `items/{id}:/rel:`)
//! and the helpers every route uses: resolving an address, `If-Match`, the conflict
//! behaviour, a JSON body, an item answer.

use crate::state::{Ctx, Fail, HResult};
use crate::store::{Conflict, OwnerKind, Store};
use crate::util::{GraphError, json_response};
use serde_json::Value;

const JSON_MAX: u64 = 1024 * 1024;

#[derive(Clone, Debug)]
pub(crate) enum Base {
    Root,
    Id(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Addr {
    pub base: Base,
    /// `Some` for the colon form (`root:/a/b:`), decoded segments
    pub path: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    None,
    Content,
    Children,
    Copy,
    CreateUploadSession,
}

pub(crate) fn take(s: &str) -> (&str, &str) {
    s.split_once('/').unwrap_or((s, ""))
}

pub(crate) fn split_path(p: &str) -> Vec<String> {
    p.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn unsupported(what: &str) -> GraphError {
    GraphError::bad_request(format!("Unsupported segment or request: '{what}'."))
}

/// Parse what follows the drive prefix (already percent-decoded, one segment at a time).
pub(crate) fn parse_item(rest: &str) -> Result<Option<(Addr, Action)>, GraphError> {
    if rest.is_empty() {
        return Ok(None);
    }
    let lower = rest.to_ascii_lowercase();
    let (base, after) = if lower.starts_with("root")
        && matches!(rest.as_bytes().get(4), None | Some(b'/') | Some(b':'))
    {
        (Base::Root, &rest[4..])
    } else if lower.starts_with("items/") {
        let r = &rest[6..];
        let end = r.find([':', '/']).unwrap_or(r.len());
        let id = &r[..end];
        if id.is_empty() {
            return Err(unsupported(rest));
        }
        let base = if id.eq_ignore_ascii_case("root") {
            Base::Root
        } else {
            Base::Id(id.to_string())
        };
        (base, &r[end..])
    } else {
        return Err(unsupported(rest));
    };
    let (path, after) = match after.strip_prefix(':') {
        Some(r) => match r.find(':') {
            Some(i) => (Some(split_path(&r[..i])), &r[i + 1..]),
            None => (Some(split_path(r)), ""),
        },
        None => (None, after),
    };
    let action = match after.to_ascii_lowercase().trim_end_matches('/') {
        "" => Action::None,
        "/content" => Action::Content,
        "/children" => Action::Children,
        "/copy" | "/action.copy" | "/microsoft.graph.copy" => Action::Copy,
        "/createuploadsession" | "/microsoft.graph.createuploadsession" => {
            Action::CreateUploadSession
        }
        _ => return Err(unsupported(rest)),
    };
    Ok(Some((Addr { base, path }, action)))
}

/// Resolve the drive prefix; returns (drive id, the rest of the decoded path).
pub(crate) fn resolve_drive(store: &Store, joined: &str) -> Result<(String, String), GraphError> {
    let (first, rest) = take(joined);
    let drive_not_found = || GraphError::new(404, "itemNotFound", "The drive could not be found.");
    let need_drive = |rest: &str| -> Result<String, GraphError> {
        let (d, rest) = take(rest);
        if d.eq_ignore_ascii_case("drive") {
            Ok(rest.to_string())
        } else {
            Err(unsupported(joined))
        }
    };
    match first.to_ascii_lowercase().as_str() {
        "me" => Ok((store.default_drive().id.clone(), need_drive(rest)?)),
        "drive" => Ok((store.default_drive().id.clone(), rest.to_string())),
        "drives" => {
            let (id, rest) = take(rest);
            let d = store.drive(id).ok_or_else(drive_not_found)?;
            Ok((d.id.clone(), rest.to_string()))
        }
        kind @ ("users" | "groups" | "sites") => {
            let (owner, rest) = take(rest);
            let rest = need_drive(rest)?;
            let k = match kind {
                "users" => OwnerKind::User,
                "groups" => OwnerKind::Group,
                _ => OwnerKind::Site,
            };
            let d = store.drive_of_owner(k, owner).ok_or_else(drive_not_found)?;
            Ok((d.id.clone(), rest))
        }
        _ => Err(unsupported(joined)),
    }
}

pub(crate) fn base_id(store: &Store, drive_id: &str, base: &Base) -> Result<String, GraphError> {
    match base {
        Base::Root => Ok(store
            .drive(drive_id)
            .ok_or_else(GraphError::not_found)?
            .root_id
            .clone()),
        Base::Id(id) => Ok(store.item_in_drive(drive_id, id)?.id.clone()),
    }
}

pub(crate) fn resolve_existing(
    store: &Store,
    drive_id: &str,
    addr: &Addr,
) -> Result<String, GraphError> {
    let base = base_id(store, drive_id, &addr.base)?;
    match &addr.path {
        None => Ok(base),
        Some(segs) => store.resolve(&base, segs),
    }
}

pub(crate) fn item_response(ctx: &Ctx, store: &Store, id: &str, status: u16) -> HResult {
    let v = store
        .item_json(id, &ctx.shared.api_origin)
        .ok_or_else(GraphError::not_found)?;
    Ok(json_response(status, &v))
}

pub(crate) fn check_if_match(ctx: &Ctx, store: &Store, id: &str) -> Result<(), GraphError> {
    let Some(want) = ctx.header("if-match") else {
        return Ok(());
    };
    if want.trim() == "*" {
        return Ok(());
    }
    let item = store
        .item_json(id, &ctx.shared.api_origin)
        .ok_or_else(GraphError::not_found)?;
    let tags = [item["eTag"].as_str(), item["cTag"].as_str()];
    if tags.contains(&Some(want.trim())) {
        Ok(())
    } else {
        Err(GraphError::new(
            412,
            "resourceModified",
            "The resource has changed since the caller last read it; usually an eTag mismatch.",
        ))
    }
}

pub(crate) fn conflict_from(
    ctx: &Ctx,
    body: Option<&Value>,
    default: Conflict,
) -> Result<Conflict, GraphError> {
    if let Some(q) = ctx.query_param("@microsoft.graph.conflictBehavior") {
        return Conflict::parse(&q);
    }
    if let Some(b) = body.and_then(|b| b.get("@microsoft.graph.conflictBehavior")) {
        let s = b.as_str().ok_or_else(|| {
            GraphError::bad_request("@microsoft.graph.conflictBehavior must be a string.")
        })?;
        return Conflict::parse(s);
    }
    Ok(default)
}

pub(crate) async fn read_json(ctx: &mut Ctx, required: bool) -> Result<Option<Value>, Fail> {
    let body = ctx.read_body(JSON_MAX).await?;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        if required {
            return Err(GraphError::bad_request("A JSON request body is required.").into());
        }
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| GraphError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(GraphError::bad_request("The request body must be a JSON object.").into());
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (String, Option<Vec<String>>, Action) {
        let (a, act) = parse_item(s).unwrap().unwrap();
        let base = match a.base {
            Base::Root => "root".to_string(),
            Base::Id(i) => i,
        };
        (base, a.path, act)
    }

    #[test]
    fn item_addresses() {
        assert_eq!(p("root"), ("root".into(), None, Action::None));
        assert_eq!(p("root/children"), ("root".into(), None, Action::Children));
        assert_eq!(
            p("root:/a/b.txt:/content"),
            (
                "root".into(),
                Some(vec!["a".into(), "b.txt".into()]),
                Action::Content
            )
        );
        assert_eq!(
            p("root:/a/b.txt"),
            (
                "root".into(),
                Some(vec!["a".into(), "b.txt".into()]),
                Action::None
            )
        );
        assert_eq!(
            p("items/X!1:/n.txt:/content"),
            ("X!1".into(), Some(vec!["n.txt".into()]), Action::Content)
        );
        assert_eq!(
            p("items/root:/a/b.txt:"),
            (
                "root".into(),
                Some(vec!["a".into(), "b.txt".into()]),
                Action::None
            )
        );
        assert_eq!(p("items/ABC/copy"), ("ABC".into(), None, Action::Copy));
        assert_eq!(
            p("items/ABC/action.copy"),
            ("ABC".into(), None, Action::Copy)
        );
        assert_eq!(
            p("root:/big.bin:/createUploadSession"),
            (
                "root".into(),
                Some(vec!["big.bin".into()]),
                Action::CreateUploadSession
            )
        );
        assert!(parse_item("").unwrap().is_none());
        assert!(parse_item("rootx").is_err());
        assert!(parse_item("root:/a:b.txt:/content").is_err());
        assert!(parse_item("items/ABC/bogus").is_err());
    }
}
