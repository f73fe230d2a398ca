//! Benchmark helper: many simple uploads on one client, from one thread or
//! several sharing it. Prints what it measured as one JSON line. Run by
//! `make bench` (bench/run.py) against a standalone emulator.
//!
//!     bench_small BASE_URL TOKEN COUNT SIZE_BYTES [THREADS] [FOLDER]
//!
//! Uploads COUNT files of SIZE_BYTES to `{FOLDER}/f{i}.bin` (FOLDER defaults
//! to `/bench/small`), each one PUT (`Client::upload`, the service's default
//! conflict behaviour: replace). With THREADS > 1 the files are dealt out to
//! that many threads, all sharing the one client. The clock runs from the
//! first upload to the last answer; the client is made before it.
//! `ONEDRIVE_CA_FILE` names a CA (PEM) to trust besides the system's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use onedrive_native::{Client, ClientConfig, Conflict, Control, Drive, UploadTarget};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: bench_small BASE_URL TOKEN COUNT SIZE_BYTES [THREADS] [FOLDER]".into());
    }
    let (base, token) = (&args[1], &args[2]);
    let count: usize = args[3].parse()?;
    let size: usize = args[4].parse()?;
    let threads: usize = args
        .get(5)
        .map(|t| t.parse())
        .transpose()?
        .unwrap_or(1)
        .max(1);
    let folder = args
        .get(6)
        .cloned()
        .unwrap_or_else(|| "/bench/small".to_owned());

    let client = Client::new(ClientConfig {
        extra_ca_pem: match std::env::var_os("ONEDRIVE_CA_FILE") {
            Some(path) => std::fs::read(path)?,
            None => Vec::new(),
        },
        ..ClientConfig::new(base.as_str(), token.as_str())
    })?;
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + 13) as u8).collect();
    let targets: Vec<UploadTarget> = (0..count)
        .map(|i| UploadTarget::new(&folder, Some(&format!("f{i}.bin"))))
        .collect::<Result<_, _>>()?;
    let next = AtomicUsize::new(0);
    let uploaded = AtomicUsize::new(0);

    let started = Instant::now();
    std::thread::scope(|s| -> Result<(), String> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(target) = targets.get(i) else {
                            return Ok(());
                        };
                        let item = client
                            .upload(
                                &Drive::Me,
                                target,
                                &data,
                                Conflict::ServiceDefault,
                                &mut Control::none(),
                            )
                            .map_err(|e| format!("upload {i}: {e}"))?;
                        if item.size() != Some(size as u64) {
                            return Err(format!("upload {i}: the item has size {:?}", item.size()));
                        }
                        uploaded.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| "a worker panicked".to_owned())??;
        }
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds:.6}, \"count\": {}, \"bytes\": {}, \"threads\": {threads}}}",
        uploaded.load(Ordering::Relaxed),
        uploaded.load(Ordering::Relaxed) * size
    );
    Ok(())
}
