#!/usr/bin/env python3
"""Benchmarks for onedrive-native: `make bench` (not part of `make test`).

Runs each contender against the same standalone emulator (release build) in
the same run, alternating them so machine noise hits all alike, and writes
the medians, min-max and ratios to BENCHMARKS.md.

  large   a file (1 GiB by default) through an upload session in 10 MiB
          chunks: the library (examples/bench_upload.rs) next to curl sending
          the same chunk PUTs over one connection; throughput and peak RSS.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
MIB = 1024 * 1024


def sh(*args, **kw):
    return subprocess.run(args, check=True, cwd=ROOT, **kw)


def build():
    sh("cargo", "build", "--release", "--quiet", "-p", "onedrive-emulator")
    sh("cargo", "build", "--release", "--quiet", "--example", "bench_upload")


class Emulator:
    """A standalone emulator on ephemeral loopback ports."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [os.path.join(RELEASE, "onedrive-emulator"), "--port", "0", "--monitor-port", "0", *extra],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = {}
        for line in self.proc.stdout:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                self.info[k] = v
            if line.startswith("default_drive_id="):
                break
        self.base_url = self.info["base_url"]
        self.token = self.info["token"]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_child(args, **kw):
    """Runs a process to its end; returns (stdout, seconds, peak RSS KiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return out.decode(), seconds, usage.ru_maxrss


def make_file(path, size):
    block = os.urandom(MIB)
    with open(path, "wb") as f:
        left = size
        i = 0
        while left > 0:
            n = min(MIB, left)
            # vary the blocks cheaply so the content is not periodic
            f.write(bytes([i & 0xFF]) + block[1:n] if n == MIB else block[:n])
            left -= n
            i += 1


def library_upload(emu, path, chunk):
    out, seconds, rss = run_child(
        [os.path.join(RELEASE, "examples", "bench_upload"), emu.base_url, emu.token, path, str(chunk)]
    )
    res = json.loads(out.strip().splitlines()[-1])
    return {"seconds": seconds, "inner_seconds": res["seconds"], "peak_rss_kib": res["peak_rss_kib"], "bytes": res["bytes"]}


def curl_upload(emu, chunk_files, size):
    """The same requests with curl: createUploadSession, then every chunk PUT
    in one curl process (--next), so the connection is reused."""
    started = time.perf_counter()
    body = json.dumps({"item": {"@microsoft.graph.conflictBehavior": "replace", "fileSize": size}})
    out, _, rss1 = run_child(
        ["curl", "-sS", "--fail", "-X", "POST", "-H", f"Authorization: Bearer {emu.token}",
         "-H", "Content-Type: application/json", "--data", body,
         f"{emu.base_url}/me/drive/root:/bench/curl.bin:/createUploadSession"]
    )
    upload_url = json.loads(out)["uploadUrl"]
    args = ["curl", "-sS", "--fail", "-o", "/dev/null"]
    offset = 0
    for i, (path, n) in enumerate(chunk_files):
        if i:
            args += ["--next", "-sS", "--fail", "-o", "/dev/null"]
        args += ["-X", "PUT", "-H", f"Content-Range: bytes {offset}-{offset + n - 1}/{size}",
                 "-H", "Content-Type: application/octet-stream", "-H", "Expect:", "-T", path, upload_url]
        offset += n
    _, _, rss2 = run_child(args)
    return {"seconds": time.perf_counter() - started, "peak_rss_kib": max(rss1, rss2)}


def split(path, size, chunk, into):
    files = []
    with open(path, "rb") as f:
        i = 0
        while True:
            data = f.read(chunk)
            if not data:
                break
            p = os.path.join(into, f"chunk-{i:05d}")
            with open(p, "wb") as out:
                out.write(data)
            files.append((p, len(data)))
            i += 1
    return files


def fmt_stats(values, unit="", digits=2):
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def bench_large(args):
    size = args.size_mib * MIB
    chunk = 10 * MIB
    work = tempfile.mkdtemp(prefix="od-bench-", dir=args.tmp)
    try:
        path = os.path.join(work, "large.bin")
        make_file(path, size)
        chunks = split(path, size, chunk, work)
        emu = Emulator()
        try:
            lib, crl = [], []
            for i in range(args.runs):
                # alternate, so a noisy moment hits both
                lib.append(library_upload(emu, path, chunk))
                crl.append(curl_upload(emu, chunks, size))
                print(f"  run {i + 1}: library {lib[-1]['seconds']:.2f} s, curl {crl[-1]['seconds']:.2f} s", flush=True)
        finally:
            emu.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lib_tp = [size / MIB / r["seconds"] for r in lib]
    crl_tp = [size / MIB / r["seconds"] for r in crl]
    ratios = [a / b for a, b in zip(lib_tp, crl_tp)]
    rss = [r["peak_rss_kib"] / 1024 for r in lib]
    budget = 3 * chunk / MIB + 16
    return {
        "size_mib": args.size_mib,
        "runs": args.runs,
        "lib_tp": lib_tp,
        "curl_tp": crl_tp,
        "ratios": ratios,
        "lib_rss": rss,
        "curl_rss": [r["peak_rss_kib"] / 1024 for r in crl],
        "budget": budget,
    }


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else "?"
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}); {rustc}; {curl}"


def write(results, path):
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); every figure below comes from one run of it.",
        "Contenders run against the same standalone emulator (release build, on loopback),",
        "alternating, in the same run. Medians with min–max in parentheses; ratios are",
        "taken run by run and are what count (this machine is shared and noisy).",
        "",
        f"- Machine: {machine()}",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
    ]
    if "large" in results:
        r = results["large"]
        lines += [
            f"## Large upload: {r['size_mib']} MiB through an upload session, 10 MiB chunks",
            "",
            "Library: `examples/bench_upload.rs` (`Client::upload_file`, streamed from disk, quickXorHash",
            "computed and checked). curl: the same `createUploadSession` POST and chunk PUTs, all PUTs in",
            f"one curl process (`--next`, one connection), chunks pre-split on disk. {r['runs']} runs each.",
            "",
            "| | throughput MiB/s | peak RSS MiB |",
            "|---|---|---|",
            f"| onedrive-native | {fmt_stats(r['lib_tp'], digits=1)} | {fmt_stats(r['lib_rss'], digits=1)} |",
            f"| curl | {fmt_stats(r['curl_tp'], digits=1)} | {fmt_stats(r['curl_rss'], digits=1)} |",
            "",
            f"- Throughput ratio library / curl: {fmt_stats(r['ratios'])} (target ≥ 0.9)",
            f"- Peak RSS of the library process: {max(r['lib_rss']):.1f} MiB at most, budget 3 chunks + 16 MiB"
            f" = {r['budget']:.0f} MiB",
            "",
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="*", default=["large"], choices=["large"])
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--tmp", default=None, help="where the test file goes (default: the system's temp dir)")
    p.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = p.parse_args()
    if shutil.which("curl") is None:
        sys.exit("bench needs curl (apt-get install curl)")
    build()
    results = {}
    if "large" in args.what:
        print(f"large upload: {args.size_mib} MiB, {args.runs} runs", flush=True)
        results["large"] = bench_large(args)
    write(results, args.out)


if __name__ == "__main__":
    main()
