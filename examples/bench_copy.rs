//! Benchmark helper: server-side copy jobs followed to their end, either by
//! the library's `Client::wait_job` or by a fixed one-second poll
//! (`Client::poll_job` every second). Prints one JSON line per job. Run by
//! `make bench` (bench/run.py) against a standalone emulator whose job
//! durations are known (`--job-base-ms`, `--job-bytes-per-sec`); run.py
//! reads the emulator's request log to count the monitor requests of each
//! job and to time them.
//!
//!     bench_copy BASE_URL TOKEN wait|poll1s SIZE_BYTES[,SIZE_BYTES...] [TAG]
//!
//! For each size: uploads a source file of that size (before the clock),
//! then starts a copy of it and follows the job until it completes.
//! Times are from just before the copy POST (`t0`), in milliseconds.

use std::time::{Duration, Instant};

use onedrive_native::{
    Client, ClientConfig, Conflict, Control, CopyOptions, Drive, ItemRef, JobState, UploadTarget,
    WaitOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: bench_copy BASE_URL TOKEN wait|poll1s SIZES [TAG]".into());
    }
    let (base, token, mode) = (&args[1], &args[2], args[3].as_str());
    if mode != "wait" && mode != "poll1s" {
        return Err(format!("unknown mode {mode:?} (wait or poll1s)").into());
    }
    let sizes: Vec<usize> = args[4]
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let tag = args.get(5).cloned().unwrap_or_else(|| mode.to_owned());

    let client = Client::new(ClientConfig::new(base.as_str(), token.as_str()))?;
    let drive = Drive::Me;
    let dest = ItemRef::parse("/bench/copies")?;
    // The destination folder: made by putting a file in it.
    client.upload(
        &drive,
        &UploadTarget::new("/bench/copies", Some("keep.txt"))?,
        b"destination of the copy benchmark",
        Conflict::Replace,
        &mut Control::none(),
    )?;
    let mut sources = Vec::new();
    for &size in &sizes {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        let item = client.upload(
            &drive,
            &UploadTarget::new("/bench/copy-src", Some(&format!("src-{size}.bin")))?,
            &data,
            Conflict::Replace,
            &mut Control::none(),
        )?;
        sources.push((size, item.id().to_owned()));
    }

    for (k, (size, id)) in sources.iter().enumerate() {
        let opts = CopyOptions {
            name: Some(format!("{tag}-{k}.bin")),
            conflict: Conflict::Replace,
            ..CopyOptions::default()
        };
        let t0 = Instant::now();
        let job = client.copy(
            &drive,
            &ItemRef::Id(id.clone()),
            &dest,
            &opts,
            &mut Control::none(),
        )?;
        let posted = t0.elapsed();
        let mut looks = 0u32;
        let status = match mode {
            "wait" => client.wait_job(&job, &WaitOptions::default(), &mut Control::none())?,
            _ => loop {
                // A fixed one-second poll: a look every second from the start.
                looks += 1;
                let due = Duration::from_secs(looks as u64);
                if let Some(d) = due.checked_sub(t0.elapsed()) {
                    std::thread::sleep(d);
                }
                let st = client.poll_job(&job, &mut Control::none())?;
                match st.state {
                    JobState::Completed => break st,
                    JobState::Failed | JobState::Cancelled => {
                        return Err(format!("job {k} ended {:?}", st.state).into());
                    }
                    _ => {}
                }
            },
        };
        let known = t0.elapsed();
        let item = status.item.ok_or("completed without an item")?;
        if item.size() != Some(*size as u64) {
            return Err(format!("copy {k}: size {:?}, expected {size}", item.size()).into());
        }
        println!(
            "{{\"size\": {size}, \"monitor_url\": \"{}\", \"post_ms\": {:.3}, \"known_ms\": {:.3}}}",
            job.monitor_url(),
            posted.as_secs_f64() * 1e3,
            known.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
