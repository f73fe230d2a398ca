#!/usr/bin/env python3
"""Put a "## Title" section into a Markdown file, replacing the section of
that title if there is one (up to the next "## " heading), appending it
otherwise; the rest of the file is kept as it is. The file is created with
a one-line heading if absent.

    tools/md_section.py RELIABILITY.md section.md
"""

import os
import sys


def replace_section(text: str, section: str) -> str:
    title = section.splitlines()[0].strip()
    if not title.startswith("## "):
        raise SystemExit(f"the section must start with a '## ' heading, not {title!r}")
    section = section.rstrip("\n") + "\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == title), None)
    if start is None:
        sep = "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
        return text + sep + section
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
        len(lines),
    )
    after = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + after if after else "")


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    path, section_path = sys.argv[1], sys.argv[2]
    with open(section_path, encoding="utf-8") as f:
        section = f.read()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    else:
        text = "# Reliability\n\nHow the library holds up under load and faults, measured.\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(replace_section(text, section))


if __name__ == "__main__":
    main()
