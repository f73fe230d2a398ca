//! `onedrive-emulator`: run the emulator standalone until SIGINT / SIGTERM.

use onedrive_emulator::{Config, Emulator, FaultRule, Profile};
use std::io::Write as _;
use std::process::ExitCode;

const USAGE: &str =
    "usage: onedrive-emulator [--host 127.0.0.1] [--port P] [--monitor-port M] [--token T]
                         [--admin-token A] [--profile personal|business] [--data-dir D] [--job-base-ms N]
                         [--job-bytes-per-sec N] [--fault JSON]... [--simple-upload-limit N]
                         [--session-bytes-limit N]";

fn parse_args(args: Vec<String>) -> Result<(Config, Vec<FaultRule>), String> {
    let mut config = Config::default();
    let mut faults = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Err(String::new());
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{flag}: '{v}' is not a valid number"))
        }
        match flag.as_str() {
            "--host" => {
                let v = value()?;
                config.host = v
                    .parse()
                    .map_err(|_| format!("--host: '{v}' is not an IP address"))?;
            }
            "--port" => config.api_port = num(&flag, value()?)?,
            "--monitor-port" => config.monitor_port = num(&flag, value()?)?,
            "--token" => config.token = value()?,
            "--admin-token" => config.admin_token = value()?,
            "--profile" => config.profile = value()?.parse::<Profile>()?,
            "--data-dir" => config.data_dir = Some(value()?.into()),
            "--job-base-ms" => config.job.base_ms = num(&flag, value()?)?,
            "--job-bytes-per-sec" => config.job.bytes_per_sec = num(&flag, value()?)?,
            "--simple-upload-limit" => config.simple_upload_limit = num(&flag, value()?)?,
            "--session-bytes-limit" => config.session_bytes_limit = num(&flag, value()?)?,
            "--fault" => {
                let v = value()?;
                faults.push(
                    serde_json::from_str(&v)
                        .map_err(|e| format!("--fault: invalid rule '{v}': {e}"))?,
                );
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok((config, faults))
}

fn main() -> ExitCode {
    let (config, faults) = match parse_args(std::env::args().skip(1).collect()) {
        Ok(x) => x,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("onedrive-emulator: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Plain HTTP for now: the command line gets its TLS flags next.
    let config = Config {
        tls: onedrive_emulator::Tls::Plain,
        ..config
    };
    // Install the signal handlers before announcing readiness.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("onedrive-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let signals = {
        let _g = rt.enter();
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        match (term, int) {
            (Ok(t), Ok(i)) => (t, i),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("onedrive-emulator: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let emu = match Emulator::start(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("onedrive-emulator: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    for f in faults {
        emu.add_fault(f);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "onedrive-emulator listening");
    let _ = writeln!(out, "base_url={}", emu.base_url());
    let _ = writeln!(out, "monitor_origin={}", emu.monitor_origin());
    let _ = writeln!(out, "token={}", emu.token());
    let _ = writeln!(out, "admin_token={}", emu.admin_token());
    let _ = writeln!(out, "profile={}", emu.profile());
    let _ = writeln!(out, "default_drive_id={}", emu.default_drive_id());
    let _ = out.flush();
    drop(out);
    let (mut term, mut int) = signals;
    rt.block_on(async {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    });
    drop(emu);
    eprintln!("onedrive-emulator stopped");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli() {
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let (c, f) = parse_args(args(
            "--port 0 --monitor-port=0 --token T --profile business --job-base-ms 5 --fault {\"action\":{\"delay_ms\":1}}",
        ))
        .unwrap();
        assert_eq!(c.token, "T");
        assert_eq!(c.profile, Profile::Business);
        assert_eq!(c.job.base_ms, 5);
        assert_eq!(f.len(), 1);
        assert!(parse_args(args("--bogus")).is_err());
        assert!(parse_args(args("--port")).is_err());
        assert!(parse_args(args("--port x")).is_err());
    }
}
