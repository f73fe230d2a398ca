//! Benchmark helper: uploads one local file through the library and prints
//! what it measured as one JSON line. Run by `make bench` (bench/run.py),
//! against a standalone emulator, so the emulator's memory is not counted.
//!
//!     bench_upload BASE_URL TOKEN FILE CHUNK_BYTES
//!     bench_upload --hash-cost FILE
//!
//! `--hash-cost` uploads nothing: it reads FILE in 64 KiB pieces, as an
//! upload does, and prints the seconds spent in quickXorHash alone (the
//! hash the library computes and curl does not).
//!
//! `BENCH_UPLOAD_RATE` (bytes per second) caps the upload rate;
//! `ONEDRIVE_CA_FILE` names a CA (PEM) to trust besides the system's.

use std::path::Path;
use std::time::Instant;

use onedrive_native::{
    Client, ClientConfig, Conflict, Control, Drive, QuickXor, UploadSettings, UploadTarget,
};

/// Peak resident set size of this process, in KiB (Linux: VmHWM).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Seconds spent hashing `file` with quickXorHash, read in 64 KiB pieces.
fn hash_cost(file: &str) -> std::io::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(file)?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut hash, mut spent, mut bytes) = (QuickXor::new(), 0.0, 0u64);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let t = Instant::now();
        hash.update(&buf[..n]);
        spent += t.elapsed().as_secs_f64();
        bytes += n as u64;
    }
    println!(
        "{{\"hash_seconds\": {spent:.4}, \"bytes\": {bytes}, \"quick_xor\": \"{}\"}}",
        hash.finish()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, file] = args.as_slice()
        && flag == "--hash-cost"
    {
        return Ok(hash_cost(file)?);
    }
    let [_, base, token, file, chunk] = args.as_slice() else {
        return Err(
            "usage: bench_upload BASE_URL TOKEN FILE CHUNK_BYTES | bench_upload --hash-cost FILE"
                .into(),
        );
    };
    let client = Client::new(ClientConfig {
        extra_ca_pem: match std::env::var_os("ONEDRIVE_CA_FILE") {
            Some(path) => std::fs::read(path)?,
            None => Vec::new(),
        },
        ..ClientConfig::new(base.as_str(), token.as_str())
    })?;
    if let Ok(rate) = std::env::var("BENCH_UPLOAD_RATE") {
        client.set_upload_rate(rate.parse()?);
    }
    client.set_upload_settings(UploadSettings {
        chunk_size: chunk.parse()?,
        ..client.upload_settings()
    })?;
    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let target = UploadTarget::new("/bench", Some("large.bin"))?;
    let item = client.upload_file(
        &Drive::Me,
        &target,
        Path::new(file),
        Conflict::Replace,
        &mut Control::none(),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds:.4}, \"bytes\": {}, \"peak_rss_kib\": {}, \"rss_before_kib\": {}}}",
        item.size().unwrap_or(0),
        peak_rss_kib().unwrap_or(0),
        rss_before.unwrap_or(0)
    );
    Ok(())
}
