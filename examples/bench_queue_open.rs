//! Reopening a queue of many recorded transfers: time and peak memory.
//!
//! `cargo run --release --example bench_queue_open [-- N [DIR]]` records N
//! uploads (default 100,000) in a queue in DIR (default a temporary one),
//! offline so that nothing runs, closes it, then reopens it in a fresh
//! process of this program and prints how long `Queue::open` took and the
//! process's peak resident memory (Linux: VmHWM), as one line of
//! `key=value` figures (`open_cpu_s`: the CPU time of the open, in 10 ms
//! ticks, which a busy machine does not inflate). Nothing talks to a
//! service.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use onedrive_native::{Client, ClientConfig, Conflict, Drive, ItemRef, Queue, QueueOptions};

fn offline_queue(dir: &Path) -> Result<Queue, Box<dyn std::error::Error>> {
    let client = Client::new(ClientConfig::new("http://127.0.0.1:9/v1.0", "unused"))?;
    let opts = QueueOptions {
        start_offline: true,
        poll_events: false,
        ..QueueOptions::default()
    };
    Ok(Queue::open(client, dir, opts)?)
}

/// CPU time this process has used (user + system), in seconds (Linux;
/// 0 elsewhere): unlike the wall clock, not inflated by other processes
/// on a busy machine.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // After the command name (in parentheses): fields 14 and 15.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// The process's peak resident memory in KiB (0 where unknown).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--open") {
        let dir = PathBuf::from(&args[2]);
        let before = peak_rss_kib();
        let cpu0 = cpu_s();
        let t0 = Instant::now();
        let q = offline_queue(&dir)?;
        let took = t0.elapsed();
        let cpu = cpu_s() - cpu0;
        let files = q.totals().files;
        let peak = peak_rss_kib();
        q.close()?;
        println!(
            "transfers={files} open_s={:.3} open_cpu_s={cpu:.2} peak_rss_mib={:.1} rss_before_open_mib={:.1}",
            took.as_secs_f64(),
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        );
        return Ok(());
    }
    let n: usize = args.get(1).map_or(Ok(100_000), |s| s.parse())?;
    let dir = args.get(2).map_or_else(
        || std::env::temp_dir().join(format!("odq-bench-open-{}", std::process::id())),
        PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("photo-0001.jpg");
    std::fs::write(&file, vec![7u8; 3_000_000])?;
    let t0 = Instant::now();
    {
        let q = offline_queue(&dir.join("queue"))?;
        let parent = ItemRef::parse("/Camera Roll/2026")?;
        let mut left = n;
        let mut i = 0;
        while left > 0 {
            let batch: Vec<(PathBuf, String)> = (0..left.min(10_000))
                .map(|k| (file.clone(), format!("IMG_{:06}.jpg", i + k)))
                .collect();
            i += batch.len();
            left -= batch.len();
            q.enqueue_uploads(&batch, &Drive::Me, &parent, Conflict::Rename)?;
        }
        q.close()?;
    }
    let filled = t0.elapsed();
    let bytes: u64 = std::fs::read_dir(dir.join("queue"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let out = Command::new(std::env::current_exe()?)
        .arg("--open")
        .arg(dir.join("queue"))
        .output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    println!(
        "recorded={n} record_s={:.2} queue_dir_bytes={bytes}",
        filled.as_secs_f64()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
