//! Benchmark helper: downloads and listings on one client. Prints what it
//! measured as one JSON line. Run by `make bench` (bench/run.py, section
//! `download`) against a standalone emulator.
//!
//!     bench_download BASE_URL TOKEN file ITEM LOCAL_PATH
//!     bench_download BASE_URL TOKEN small COUNT FOLDER
//!     bench_download BASE_URL TOKEN list FOLDER PAGE_SIZE
//!
//! `file`: one download of ITEM to LOCAL_PATH (`Client::download_file`:
//! the temporary file, the hashes, the rename). `small`: COUNT files
//! `{FOLDER}/f{i}.bin` each into memory (`Client::download_with`). `list`:
//! every child of FOLDER, PAGE_SIZE a page (0: the service's default).
//! The clock runs from the first request to the last byte; the client is
//! made before it. `ONEDRIVE_CA_FILE` names a CA (PEM) to trust besides the
//! system's.

use std::path::Path;
use std::time::Instant;

use onedrive_native::{Client, ClientConfig, Control, Drive, ItemRef};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: bench_download BASE_URL TOKEN file|small|list ...".into());
    }
    let client = Client::new(ClientConfig {
        extra_ca_pem: match std::env::var_os("ONEDRIVE_CA_FILE") {
            Some(path) => std::fs::read(path)?,
            None => Vec::new(),
        },
        ..ClientConfig::new(args[1].as_str(), args[2].as_str())
    })?;
    let drive = Drive::Me;
    let started = Instant::now();
    let (count, bytes) = match (args[3].as_str(), &args[4..]) {
        ("file", [item, path]) => {
            let got = client.download_file(
                &drive,
                &ItemRef::parse(item)?,
                Path::new(path),
                &mut Control::none(),
            )?;
            (1, got.size().unwrap_or(0))
        }
        ("small", [count, folder]) => {
            let count: usize = count.parse()?;
            let mut bytes = 0u64;
            for i in 0..count {
                let item = ItemRef::parse(&format!("{folder}/f{i}.bin"))?;
                client.download_with(
                    &drive,
                    &item,
                    &mut |data| {
                        bytes += data.len() as u64;
                        Ok(())
                    },
                    &mut Control::none(),
                )?;
            }
            (count as u64, bytes)
        }
        ("list", [folder, page]) => {
            let page: u32 = page.parse()?;
            let mut listing = client.list_children(
                &drive,
                &ItemRef::parse(folder)?,
                (page > 0).then_some(page),
            )?;
            let mut n = 0u64;
            while listing.next(&mut Control::none())?.is_some() {
                n += 1;
            }
            (n, 0)
        }
        _ => return Err("usage: bench_download BASE_URL TOKEN file|small|list ...".into()),
    };
    println!(
        "{{\"seconds\":{:.6},\"count\":{count},\"bytes\":{bytes},\"peak_rss_kib\":{}}}",
        started.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
    Ok(())
}
