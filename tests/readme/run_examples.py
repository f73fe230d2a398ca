#!/usr/bin/env python3
"""Runs the README's C, Python and C# examples as written against a running
emulator (started by tests/c/run.sh, which exports OD_TEST_BASE_URL and
OD_TEST_TOKEN). The only changes made to each example: the service's base
URL and the token become the emulator's. The Swift example cannot run
here (no Swift compiler); bindings/swift/check.sh parses it with the
package's sources.

`run_examples.py --c-source FILE` only writes the C example, so put, to FILE
(tests/windows/readme_c.sh builds and runs it under Wine).

Environment: OD_LIB_A (the static library), ONEDRIVE_NATIVE_LIB (the shared
library, for Python), CSHARP_DLL (OneDriveNative.dll, built by
bindings/csharp/run_tests.sh) and LD_LIBRARY_PATH naming the shared
library's directory for mono.
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASE, TOKEN = os.environ["OD_TEST_BASE_URL"], os.environ["OD_TEST_TOKEN"]
# The emulator serves HTTPS with a CA made at its start. The examples trust
# it as they would a CA installed in the system's store: through
# SSL_CERT_FILE, which the library's Linux trust store honours. So they run
# as written, and this checks the system-store path too.
SYSTEM_CA = {"SSL_CERT_FILE": os.environ["OD_TEST_CA_FILE"]}
GRAPH = "https://graph.microsoft.com/v1.0"


def block(lang: str, readme: str = "README.md") -> str:
    blocks = re.findall(r"^```" + lang + r"\n(.*?)^```", (REPO / readme).read_text(), re.S | re.M)
    # the example is the first block in that language that makes a client
    for b in blocks:
        if "lient" in b:
            return b
    sys.exit(f"{readme} has no {lang} example")


def first_block(readme: Path, lang: str) -> str:
    blocks = re.findall(r"^```" + lang + r"\n(.*?)^```", readme.read_text(), re.S | re.M)
    if not blocks:
        sys.exit(f"{readme} has no {lang} example")
    return blocks[0]


def substitute(text: str, pairs) -> str:
    for old, new in pairs:
        if old not in text:
            sys.exit(f"README example no longer holds {old!r}: update tests/readme/run_examples.py")
        text = text.replace(old, new)
    return text


def run(what: str, cmd, **kw) -> None:
    print(f"readme: {what}: {' '.join(map(str, cmd))}", flush=True)
    subprocess.run(cmd, check=True, timeout=300, **kw)


def c_example() -> str:
    """The README's C example, the emulator's URL and token put in."""
    return substitute(block("c"), [('od_client_new(NULL, "<access token>"', f'od_client_new("{BASE}", "{TOKEN}"')])


def main() -> None:
    if sys.argv[1:2] == ["--c-source"]:
        # tests/windows/readme_c.sh: the same C example, built for Windows.
        Path(sys.argv[2]).write_text(c_example())
        return
    tmp = Path(tempfile.mkdtemp(prefix="readme-"))
    (tmp / "readme.c").write_text(c_example())
    run("C", ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{REPO}/include",
              tmp / "readme.c", os.environ["OD_LIB_A"], "-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm",
              "-ldl", "-lc", "-o", tmp / "readme_c"])
    # in its own folder: the example downloads a file next to it
    run("C", [tmp / "readme_c"], env=dict(os.environ, **SYSTEM_CA), cwd=tmp)

    py = substitute(block("python"), [('Client(token="<access token>")', f'Client(token="{TOKEN}", base_url="{BASE}")')])
    (tmp / "readme.py").write_text(py)
    env = dict(os.environ, PYTHONPATH=str(REPO / "bindings/python"), **SYSTEM_CA)
    run("Python", [sys.executable, tmp / "readme.py"], env=env)

    # bindings/python/README.md begins with an example against the emulator,
    # which names its base URL, token and CA file: those become this one's.
    py = substitute(block("python", "bindings/python/README.md"), [
        ("https://127.0.0.1:8080/v1.0", BASE), ('token="T"', f'token="{TOKEN}"'),
        ("/tmp/onedrive-emulator-ca.pem", os.environ["OD_TEST_CA_FILE"])])
    (tmp / "readme_python_binding.py").write_text(py)
    run("Python binding", [sys.executable, tmp / "readme_python_binding.py"],
        env=dict(os.environ, PYTHONPATH=str(REPO / "bindings/python")))

    cs = substitute(block("csharp"), [(f'"{GRAPH}"', f'"{BASE}"'), ('"/tmp/report.pdf"', f'"{tmp}/report.pdf"')])
    (tmp / "report.pdf").write_bytes(b"%PDF-1.4 readme example\n" * 1000)
    wrapper = (
        "using System;\nusing System.Threading;\nusing System.Threading.Tasks;\nusing OneDriveNative;\n"
        "static class Readme {\n"
        "    static async Task Run(string token, CancellationToken ct) {\n" + cs + "    }\n"
        "    static void Main(string[] args) { Run(args[0], CancellationToken.None).Wait(); }\n}\n"
    )
    (tmp / "readme.cs").write_text(wrapper)
    dll = os.environ["CSHARP_DLL"]
    run("C#", ["mcs", "-nologo", "-langversion:7", f"-r:{dll}", "-r:System.dll", "-r:System.Core.dll",
               f"-out:{tmp}/readme.exe", tmp / "readme.cs"])
    env = dict(os.environ, MONO_PATH=str(Path(dll).parent), **SYSTEM_CA)
    run("C#", ["mono", f"{tmp}/readme.exe", TOKEN], env=env)

    # bindings/csharp/README.md begins with a whole program that runs as
    # written: it reads the emulator's address, token and CA file from
    # ONEDRIVE_BASE_URL / ONEDRIVE_TOKEN / ONEDRIVE_CA_FILE (tests/c/run.sh
    # exports them), and trusts the CA itself (no SSL_CERT_FILE here).
    (tmp / "quickstart.cs").write_text(first_block(REPO / "bindings/csharp/README.md", "csharp"))
    run("C# quickstart", ["mcs", "-nologo", f"-r:{dll}", f"-out:{tmp}/quickstart.exe", tmp / "quickstart.cs"])
    env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
    env["MONO_PATH"] = str(Path(dll).parent)
    print(f"readme: C# quickstart: mono {tmp}/quickstart.exe", flush=True)
    out = subprocess.run(["mono", f"{tmp}/quickstart.exe"], env=env, check=True, timeout=300,
                         capture_output=True, text=True).stdout
    print(out, end="")
    for want in ("uploaded report", "copied to /Archive/report", "/Archive/report", "downloaded report",
                 "renamed to report-final.pdf", "404 itemNotFound"):
        if want not in out:
            sys.exit(f"the C# quickstart did not print {want!r}")
    print("readme: the C, Python (README.md and bindings/python/README.md) and C# examples (and the C# binding's quickstart) ran as written")


if __name__ == "__main__":
    main()
