//! The "Methods:" index of each handle type in the header: build.rs adds
//! to the doc comment of every `typedef struct od_x od_x;` the functions
//! that make (`od_x **`) or take (`od_x *`) that handle and that its
//! hand-written part does not already name, so a new function never needs
//! an edit there. Shared with the test that checks the result
//! (`#[path]` from build.rs; no unsafe, nothing exported).

/// The header's function declarations: (name, parameter text).
pub fn header_functions(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut decl = String::new();
    for line in header.lines() {
        let starts = !line.starts_with("//") && !line.starts_with('#') && line.contains(" od_");
        if decl.is_empty() && !(starts && line.contains('(') && !line.starts_with("typedef")) {
            continue;
        }
        decl.push_str(line);
        decl.push(' ');
        if !line.trim_end().ends_with(';') {
            continue;
        }
        if let Some((head, params)) = decl.split_once('(') {
            let name = head
                .rsplit([' ', '*'])
                .next()
                .unwrap_or_default()
                .to_owned();
            out.push((name, params.trim_end().trim_end_matches(");").to_owned()));
        }
        decl.clear();
    }
    out
}

/// The `od_…` names in a piece of text.
pub fn names_in(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("od_"))
        .collect()
}

/// Whether the parameter text takes (`od_x *`) or makes (`od_x **`) the
/// handle: (takes or makes, makes).
fn uses(params: &str, handle: &str) -> (bool, bool) {
    let made = format!("{handle} **");
    let taken = format!("{handle} *");
    (params.contains(&taken), params.contains(&made))
}

/// `header` with each handle's index completed: after the doc comment of
/// `typedef struct od_x od_x;` (given a "Methods:" line if it has none),
/// "- Made by: …" and "- Taken by: …" for the functions not named above.
pub fn complete(header: &str) -> String {
    let functions = header_functions(header);
    let lines: Vec<&str> = header.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        let handle = line
            .strip_prefix("typedef struct ")
            .and_then(|rest| rest.split_once(' '))
            .map(|(name, _)| name);
        if let Some(handle) = handle {
            let doc_start = lines[..i]
                .iter()
                .rposition(|l| !l.starts_with("//"))
                .map_or(0, |p| p + 1);
            let doc = lines[doc_start..i].join("\n");
            let named = names_in(doc.split_once("Methods:").map_or("", |(_, index)| index));
            let (mut made, mut taken) = (Vec::new(), Vec::new());
            for (name, params) in &functions {
                let (takes, makes) = uses(params, handle);
                if named.contains(&name.as_str()) || !takes {
                    continue;
                }
                let list = if makes { &mut made } else { &mut taken };
                list.push(format!("`{name}`"));
            }
            let something = !(made.is_empty() && taken.is_empty());
            if something && !doc.contains("Methods:") {
                out.extend(["//".to_owned(), "// Methods:".to_owned()]);
            }
            for (label, list) in [("Made by", made), ("Taken by", taken)] {
                if !list.is_empty() {
                    out.extend(wrap(&format!("{label}: {}.", list.join(", "))));
                }
            }
        }
        out.push((*line).to_owned());
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// "// - text", wrapped at 80 columns with "//   " continuation lines.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = vec!["// -".to_owned()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("one line at least");
        if last.len() + 1 + word.len() > 80 && last.len() > 5 {
            lines.push(format!("//   {word}"));
        } else {
            last.push(' ');
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\
// A thing. Opaque.
//
// Methods:
// - `od_thing_free`: frees it.
typedef struct od_thing od_thing;

// No index yet.
typedef struct od_other od_other;

od_status od_thing_make(const od_other *other,
                        od_thing **out);

void od_thing_free(od_thing *thing);

od_status od_thing_use(const od_thing *thing, const char *name);
";

    #[test]
    fn functions_are_read_across_lines() {
        let f = header_functions(HEADER);
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["od_thing_make", "od_thing_free", "od_thing_use"]);
        assert!(f[0].1.contains("od_thing **out"), "{:?}", f[0]);
    }

    #[test]
    fn the_index_gets_what_the_hand_written_part_leaves_out() {
        let done = complete(HEADER);
        // od_thing: made by od_thing_make, taken by od_thing_use; its free
        // is named by hand and not repeated.
        assert!(
            done.contains(
                "// - `od_thing_free`: frees it.\n// - Made by: `od_thing_make`.\n\
                 // - Taken by: `od_thing_use`.\ntypedef struct od_thing od_thing;"
            ),
            "{done}"
        );
        // od_other had no index: it gets one.
        assert!(
            done.contains(
                "// No index yet.\n//\n// Methods:\n// - Taken by: `od_thing_make`.\n\
                 typedef struct od_other od_other;"
            ),
            "{done}"
        );
        // Idempotent on what it wrote.
        assert_eq!(complete(&done), done);
    }

    #[test]
    fn long_lists_wrap_at_80_columns() {
        let text = (0..30).map(|i| format!("`od_f{i}`")).collect::<Vec<_>>();
        let lines = wrap(&format!("Taken by: {}.", text.join(", ")));
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.len() <= 80), "{lines:?}");
        assert!(
            lines[1..].iter().all(|l| l.starts_with("//   `")),
            "{lines:?}"
        );
        assert_eq!(names_in(&lines.join(" ")).len(), 30);
    }
}
