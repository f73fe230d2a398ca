"""The README's first example, run as written against an emulator started
with the README's own flags: only the port (8080 in the README, a free one
here) and the CA file's path (a temporary one) differ."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import Emulator

README = Path(__file__).resolve().parents[1] / "README.md"
HEADING = "## First run, against the emulator"


def blocks():
    text = README.read_text(encoding="utf-8")
    first_heading = text.index("\n## ")
    assert text.index(HEADING) == first_heading + 1, "the README must begin with the emulator example"
    section = text[text.index(HEADING):]
    sh = re.search(r"```sh\n(.*?)^```", section, re.S | re.M).group(1)
    py = re.search(r"```python\n(.*?)^```", section, re.S | re.M).group(1)
    return sh, py


def test_the_readme_begins_with_an_example_that_runs_against_the_emulator(tmp_path):
    sh, py = blocks()
    (command,) = [line for line in sh.splitlines() if "onedrive-emulator" in line]
    argv = shlex.split(command)
    assert argv[:5] == ["cargo", "run", "-p", "onedrive-emulator", "--"], argv
    flags = argv[5:]

    def take(flag: str) -> str:  # a flag's value, the two removed from flags
        i = flags.index(flag)
        value = flags[i + 1]
        del flags[i : i + 2]
        return value

    readme_port, token = take("--port"), take("--token")  # Emulator adds its own
    readme_ca = flags[flags.index("--ca-out") + 1]
    flags[flags.index("--ca-out") + 1] = str(tmp_path / "ca.pem")
    emu = Emulator(*flags, token=token)
    try:
        assert emu.token == token and emu.ca_file == str(tmp_path / "ca.pem")
        readme_base = f"https://127.0.0.1:{readme_port}/v1.0"
        for literal in (readme_base, readme_ca, f'token="{token}"'):
            assert py.count(literal) == 1, f"the example no longer holds {literal!r}"
        code = py.replace(readme_base, emu.base_url).replace(readme_ca, emu.ca_file)
        (tmp_path / "readme_example.py").write_text(code)
        for run in (1, 2):  # it runs again on the same drive, as the README says
            out = subprocess.run(
                [sys.executable, str(tmp_path / "readme_example.py")],
                capture_output=True, text=True, timeout=300, cwd=tmp_path,
            )
            assert out.returncode == 0, f"run {run}: {out.stdout}\n{out.stderr}"
            lines = out.stdout.splitlines()
            assert len(lines) == 3, out.stdout
            assert lines[0].startswith("report.txt 18 20") and "http" in lines[0], lines[0]
            assert lines[1] == "copy COMPLETED: report-copy.txt, 18 bytes", lines[1]
            assert "/Backup/missing.txt" in lines[2], lines[2]
    finally:
        emu.stop()
