//! The README's demo: the four operations against an embedded emulator,
//! with visible progress, then the durable transfer queue surviving a
//! `kill -9`. No account, no token, no network needed.
//!
//!     cargo run --example demo
//!
//! Point it at the real service instead with ONEDRIVE_BASE_URL and
//! ONEDRIVE_TOKEN (then upload from URL is expected to be refused: the
//! service has retired it).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use onedrive_emulator::{Config, Emulator, JobConfig};
use onedrive_native::{
    Client, ClientConfig, Conflict, Control, CopyOptions, Drive, ErrorKind, EventKind, ItemRef,
    Job, Queue, QueueOptions, TransferState, UploadTarget, WaitOptions,
};

/// Set (to the queue's directory) in the child the queue part re-executes.
const QUEUE_CHILD: &str = "ONEDRIVE_DEMO_QUEUE_CHILD";
const QUEUE_FILES: usize = 40;
const KILL_AFTER: usize = 10;

fn bar(label: &str, done: u64, total: u64) {
    const WIDTH: u64 = 30;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    print!(
        "\r  {label:<10} [{}{}] {:>5.1}%",
        "#".repeat(filled as usize),
        ".".repeat((WIDTH - filled) as usize),
        if total == 0 {
            100.0
        } else {
            done as f64 * 100.0 / total as f64
        }
    );
    let _ = std::io::stdout().flush();
}

fn follow(
    client: &Client,
    label: &str,
    job: &Job,
) -> onedrive_native::Result<onedrive_native::Item> {
    println!("  monitor URL (saveable): {}", job.monitor_url());
    let mut progress = |done: u64, total: u64| {
        bar(label, done, total);
        true
    };
    let started = Instant::now();
    let opts = WaitOptions {
        timeout: Some(Duration::from_secs(120)),
        ..WaitOptions::default()
    };
    let status = client.wait_job(job, &opts, &mut Control::new(None, Some(&mut progress)))?;
    println!("\n  done in {:.2} s", started.elapsed().as_secs_f64());
    Ok(status.item.expect("a completed job names its item"))
}

/// The child: opens the queue, enqueues every file of the folder, prints
/// a line per completed upload and runs until done (or killed).
fn queue_child(dir: PathBuf) -> Result<(), Box<dyn std::error::Error>> {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let client = Client::new(ClientConfig {
        extra_ca_pem: var("ONEDRIVE_DEMO_CA").into_bytes(),
        ..ClientConfig::new(var("ONEDRIVE_DEMO_URL"), var("ONEDRIVE_DEMO_TOKEN"))
    })?;
    let opts = QueueOptions {
        max_running: 2,
        ..QueueOptions::default()
    };
    let queue = Queue::open(client, &dir.join("queue"), opts)?;
    queue.set_event_callback(Some(Arc::new(|e: &onedrive_native::Event| {
        if e.kind == EventKind::State(TransferState::Completed) {
            println!("completed {}", e.id);
        }
    })));
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(dir.join("files"))?
        .map(|e| {
            let e = e?;
            Ok((e.path(), e.file_name().to_string_lossy().into_owned()))
        })
        .collect::<std::io::Result<_>>()?;
    files.sort();
    let parent = ItemRef::parse("/demo/queued")?;
    queue.enqueue_uploads(&files, &Drive::Me, &parent, Conflict::Replace)?;
    queue.wait_idle(None, None)?;
    Ok(())
}

/// The queue (step 5): a child process enqueues a folder and is SIGKILLed once
/// some uploads completed; the queue reopened here finishes the rest.
fn queue_demo(
    client: &Client,
    base_url: &str,
    token: &str,
    ca: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "\n5. queue: {QUEUE_FILES} files of 256 KiB enqueued by a child process, \
         2 at a time; the child is killed (SIGKILL) half-way"
    );
    let work = std::env::temp_dir().join(format!("onedrive-demo-{}", std::process::id()));
    std::fs::create_dir_all(work.join("files"))?;
    for i in 0..QUEUE_FILES {
        let data = vec![i as u8; 256 * 1024];
        std::fs::write(work.join("files").join(format!("file-{i:02}.bin")), data)?;
    }
    client.upload(
        &Drive::Me,
        &UploadTarget::new("/demo/queued/.keep", None)?,
        b"",
        Conflict::Replace,
        &mut Control::none(),
    )?;
    let mut child = Command::new(std::env::current_exe()?)
        .env(QUEUE_CHILD, &work)
        .env("ONEDRIVE_DEMO_URL", base_url)
        .env("ONEDRIVE_DEMO_TOKEN", token)
        .env("ONEDRIVE_DEMO_CA", ca)
        .stdout(Stdio::piped())
        .spawn()?;
    let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut seen = 0;
    for line in lines {
        if line?.starts_with("completed") {
            seen += 1;
            bar("child", seen as u64, QUEUE_FILES as u64);
            if seen == KILL_AFTER {
                child.kill()?; // SIGKILL: no chance to clean up
                break;
            }
        }
    }
    let status = child.wait()?;
    if seen < KILL_AFTER {
        return Err(format!("the queue's child process ended early: {status}").into());
    }
    println!("\n  child killed after {seen} completed uploads ({status})");

    let queue = Queue::open(client.clone(), &work.join("queue"), QueueOptions::default())?;
    let t = queue.totals();
    println!(
        "  reopened the queue: {} transfers, {} completed, {} to go",
        t.files,
        t.completed,
        t.files - t.completed - t.failed - t.cancelled
    );
    let started = Instant::now();
    loop {
        let idle = queue.wait_idle(Some(Duration::from_millis(100)), None)?;
        let t = queue.totals();
        bar("queue", t.bytes_done, t.bytes_total);
        if idle {
            break;
        }
    }
    let t = queue.totals();
    println!(
        "\n  finished in {:.2} s: {} completed, {} failed, {} of {} bytes",
        started.elapsed().as_secs_f64(),
        t.completed,
        t.failed,
        t.bytes_done,
        t.bytes_total
    );
    queue.close()?;
    std::fs::remove_dir_all(&work)?;
    if t.completed != QUEUE_FILES as u64 {
        return Err(format!("{} of {QUEUE_FILES} uploads completed", t.completed).into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = std::env::var_os(QUEUE_CHILD) {
        return queue_child(dir.into());
    }
    let real = std::env::var("ONEDRIVE_BASE_URL")
        .ok()
        .zip(std::env::var("ONEDRIVE_TOKEN").ok());
    // Jobs run at 8 MiB/s so their progress is visible.
    let emulator = match real {
        Some(_) => None,
        None => Some(Emulator::start(Config {
            job: JobConfig {
                base_ms: 300,
                bytes_per_sec: 8 * 1024 * 1024,
                ..JobConfig::default()
            },
            ..Config::default()
        })?),
    };
    let (base_url, token) = match (&real, &emulator) {
        (Some((u, t)), _) => (u.clone(), t.clone()),
        (None, Some(e)) => (e.base_url(), e.token()),
        (None, None) => unreachable!(),
    };
    println!(
        "onedrive-native {} against {base_url}",
        env!("CARGO_PKG_VERSION")
    );
    // The embedded emulator serves HTTPS with a CA made at its start: trust
    // it (on the real service the system's trust store does the job).
    let client = Client::new(ClientConfig {
        extra_ca_pem: emulator
            .as_ref()
            .and_then(Emulator::ca_pem)
            .unwrap_or_default()
            .into_bytes(),
        ..ClientConfig::new(base_url.clone(), token.clone())
    })?;
    let me = Drive::Me;

    // 1. upload: above 4 MiB it goes through an upload session, in chunks
    // (2.5 MiB here, to show the progress; 10 MiB by default).
    client.set_upload_settings(onedrive_native::UploadSettings {
        chunk_size: 8 * onedrive_native::CHUNK_UNIT,
        ..client.upload_settings()
    })?;
    println!("\n1. upload: a 12 MiB file into /demo (an upload session, 2.5 MiB chunks)");
    let data: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut progress = |done: u64, total: u64| {
        bar("upload", done, total);
        true
    };
    let target = UploadTarget::new("/demo", Some("report.bin"))?;
    let item = client.upload(
        &me,
        &target,
        &data,
        Conflict::Replace,
        &mut Control::new(None, Some(&mut progress)),
    )?;
    println!(
        "\n  uploaded {} ({} bytes, id {}, quickXorHash {})",
        item.name().unwrap_or("?"),
        item.size().unwrap_or(0),
        item.id(),
        item.quick_xor_hash().unwrap_or("-")
    );

    // 2. copy, followed by 3. poll_job / wait
    println!(
        "\n2. copy: /demo/report.bin to /demo/copies/report-copy.bin (server-side, asynchronous)"
    );
    client.upload(
        &me,
        &UploadTarget::new("/demo/copies/.keep", None)?,
        b"",
        Conflict::Replace,
        &mut Control::none(),
    )?;
    let opts = CopyOptions {
        name: Some("report-copy.bin".into()),
        conflict: Conflict::Replace,
        ..CopyOptions::default()
    };
    let job = client.copy(
        &me,
        &ItemRef::parse(item.id())?,
        &ItemRef::parse("/demo/copies")?,
        &opts,
        &mut Control::none(),
    )?;
    println!("3. poll_job: following the copy");
    let first = client.poll_job(&job, &mut Control::none())?;
    let percent = first.percent.map_or("?".to_owned(), |p| format!("{p:.0}"));
    println!("  first look: {:?}, {percent} %", first.state);
    let copy = follow(&client, "copy", &job)?;
    println!(
        "  copy is {} ({} bytes), same hash: {}",
        copy.id(),
        copy.size().unwrap_or(0),
        copy.quick_xor_hash() == item.quick_xor_hash()
    );

    // 4. url_upload
    println!("\n4. url_upload: the service fetches a file from a URL");
    let source = match &emulator {
        Some(e) => e.serve_static("photo.jpg", vec![0xAB; 2 * 1024 * 1024]),
        None => "https://example.com/photo.jpg".to_owned(),
    };
    match client.url_upload(
        &me,
        &ItemRef::parse("/demo")?,
        "photo.jpg",
        &source,
        &mut Control::none(),
    ) {
        Ok(job) => {
            let fetched = follow(&client, "url_upload", &job)?;
            println!(
                "  fetched {} ({} bytes)",
                fetched.name().unwrap_or("?"),
                fetched.size().unwrap_or(0)
            );
        }
        Err(e) if e.kind == ErrorKind::NotSupported => println!("  refused as expected: {e}"),
        Err(e) => return Err(e.into()),
    }

    // A job outlives its client: rebuilt from the saved monitor URL.
    let saved = job.monitor_url().to_owned();
    let again = Job::from_monitor_url(&saved, Drive::Me)?;
    println!(
        "\nA job rebuilt from its saved monitor URL: {:?}",
        client.poll_job(&again, &mut Control::none())?.state
    );
    println!("\nAll four operations done.");

    let ca = emulator
        .as_ref()
        .and_then(Emulator::ca_pem)
        .unwrap_or_default();
    queue_demo(&client, &base_url, &token, &ca)?;
    println!("\nThe queue went on after the kill: every file arrived.");
    Ok(())
}
