//! Benchmark helper: many local files uploaded through the transfer queue,
//! or by threads calling the upload function directly on one client (what
//! the queue is measured against). Prints one JSON line. Run by `make
//! bench` (bench/run.py, section `queue`) against a standalone emulator.
//!
//!     bench_queue BASE_URL TOKEN queue|direct FILES_DIR AT_ONCE FOLDER [QUEUE_DIR]
//!
//! Every regular file in FILES_DIR is uploaded under its own name into
//! FOLDER (a path from the drive's root), replacing what is there.
//!
//! - `queue`: a new queue is opened in QUEUE_DIR (which must not hold one;
//!   default: a fresh directory beside FILES_DIR) with `max_running` =
//!   AT_ONCE; the clock runs from the enqueue (`enqueue_uploads`, one
//!   batch: how an app hands over a folder) until `wait_idle` returns with
//!   every transfer completed. Opening and closing the queue are outside it.
//! - `direct`: AT_ONCE threads share one `Client` and take the files in
//!   turn, each with `Client::upload_file` (streamed from disk, as the
//!   queue reads it); the clock runs from the first upload to the last
//!   answer.
//!
//! `ONEDRIVE_CA_FILE` names a CA (PEM) to trust besides the system's.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use onedrive_native::{
    Client, ClientConfig, Conflict, Control, Drive, ItemRef, Queue, QueueOptions, StateSet,
    TransferState, UploadTarget,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 7 {
        return Err(
            "usage: bench_queue BASE_URL TOKEN queue|direct FILES_DIR AT_ONCE FOLDER \
                    [QUEUE_DIR]"
                .into(),
        );
    }
    let (base, token, mode) = (&args[1], &args[2], args[3].as_str());
    let files_dir = PathBuf::from(&args[4]);
    let at_once: usize = args[5].parse()?;
    if at_once == 0 {
        return Err("AT_ONCE must be at least 1".into());
    }
    let folder = &args[6];

    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for entry in std::fs::read_dir(&files_dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let name = entry
                .file_name()
                .into_string()
                .map_err(|n| format!("{n:?}"))?;
            files.push((entry.path(), name));
        }
    }
    files.sort();
    let bytes: u64 = files
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map(|m| m.len()))
        .sum::<std::io::Result<u64>>()?;

    let client = Client::new(ClientConfig {
        extra_ca_pem: match std::env::var_os("ONEDRIVE_CA_FILE") {
            Some(path) => std::fs::read(path)?,
            None => Vec::new(),
        },
        ..ClientConfig::new(base.as_str(), token.as_str())
    })?;
    let seconds = match mode {
        "queue" => {
            let queue_dir = match args.get(7) {
                Some(d) => PathBuf::from(d),
                None => files_dir.with_extension(format!("queue-{}", std::process::id())),
            };
            let r = through_queue(client, &files, folder, at_once, &queue_dir);
            if args.get(7).is_none() {
                let _ = std::fs::remove_dir_all(&queue_dir);
            }
            r?
        }
        "direct" => direct(&client, &files, folder, at_once)?,
        other => return Err(format!("unknown mode {other:?}: queue or direct").into()),
    };
    println!(
        "{{\"mode\": \"{mode}\", \"seconds\": {seconds:.6}, \"count\": {}, \"bytes\": {bytes}, \
         \"at_once\": {at_once}}}",
        files.len()
    );
    Ok(())
}

fn through_queue(
    client: Client,
    files: &[(PathBuf, String)],
    folder: &str,
    at_once: usize,
    queue_dir: &Path,
) -> Res<f64> {
    if queue_dir.join("journal").exists() {
        return Err(format!("{} already holds a queue", queue_dir.display()).into());
    }
    let opts = QueueOptions {
        max_running: at_once,
        // Nobody drains them here: events would only pile up.
        poll_events: false,
        ..QueueOptions::default()
    };
    let queue = Queue::open(client, queue_dir, opts)?;
    let parent = ItemRef::parse(folder)?;
    let started = Instant::now();
    let ids = queue.enqueue_uploads(files, &Drive::Me, &parent, Conflict::Replace)?;
    // A generous bound: a hang guard, not a measure.
    if !queue.wait_idle(Some(Duration::from_secs(1800)), None)? {
        return Err("the queue did not finish within 30 minutes".into());
    }
    let seconds = started.elapsed().as_secs_f64();
    let done = queue.list(StateSet::of(&[TransferState::Completed])).len();
    if done != ids.len() {
        let other = queue
            .list(StateSet::ALL)
            .into_iter()
            .find(|t| t.state != TransferState::Completed);
        return Err(format!(
            "{done} of {} transfers completed; e.g. {other:?}",
            ids.len()
        )
        .into());
    }
    queue.close()?;
    Ok(seconds)
}

fn direct(client: &Client, files: &[(PathBuf, String)], folder: &str, threads: usize) -> Res<f64> {
    let targets: Vec<UploadTarget> = files
        .iter()
        .map(|(_, name)| UploadTarget::new(folder, Some(name)))
        .collect::<Result<_, _>>()?;
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| -> Result<(), String> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let (Some((path, _)), Some(target)) = (files.get(i), targets.get(i)) else {
                            return Ok(());
                        };
                        client
                            .upload_file(
                                &Drive::Me,
                                target,
                                path,
                                Conflict::Replace,
                                &mut Control::none(),
                            )
                            .map_err(|e| format!("upload of {}: {e}", path.display()))?;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| "a worker panicked".to_owned())??;
        }
        Ok(())
    })?;
    Ok(started.elapsed().as_secs_f64())
}
