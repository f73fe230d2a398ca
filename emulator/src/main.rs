//! `onedrive-emulator`: run the emulator standalone until SIGINT / SIGTERM.

use onedrive_emulator::{Config, Emulator, FaultRule, Profile, Tls};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str =
    "usage: onedrive-emulator [--host 127.0.0.1] [--port P] [--monitor-port M] [--token T]
                         [--admin-token A] [--profile personal|business] [--data-dir D] [--job-base-ms N]
                         [--job-bytes-per-sec N] [--fault JSON]... [--simple-upload-limit N]
                         [--session-bytes-limit N] [--latency-ms N] [--sink]
                         [--plain-http | --tls-cert FILE --tls-key FILE | --ca-out FILE]
HTTPS by default, with a CA made at start: its PEM is written to --ca-out FILE, else
<data-dir>/emulator-ca.pem, else a temporary file, and printed as ca_file=PATH.
Upload sessions spool their bytes to files in <data-dir>/.onedrive-emulator-spool, else in
the system's temporary directory (removed at stop); --session-bytes-limit bounds them all
together. A --data-dir holding files the emulator did not make is refused.
--sink (benchmarks): request bodies are read and discarded, nothing hashed or stored;
uploads (simple PUT, createUploadSession and its fragments) get a minimal item
{id, name, size, file: {}} without hashes; tokens are still checked.";

/// What the command line asks for.
struct Args {
    config: Config,
    faults: Vec<FaultRule>,
    /// --tls-cert and --tls-key: PEM files to serve (read in `main`)
    tls_files: Option<(PathBuf, PathBuf)>,
    /// --ca-out
    ca_out: Option<PathBuf>,
}

fn parse_args(args: Vec<String>) -> Result<Args, String> {
    let mut config = Config::default();
    let mut faults = Vec::new();
    let (mut plain, mut cert, mut key, mut ca_out) = (false, None, None, None);
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Err(String::new());
        }
        if arg == "--plain-http" {
            plain = true;
            continue;
        }
        if arg == "--sink" {
            config.sink = true;
            continue;
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
            "--latency-ms" => config.latency_ms = num(&flag, value()?)?,
            "--plain-http" | "--sink" => return Err(format!("{flag} takes no value")),
            "--tls-cert" => cert = Some(PathBuf::from(value()?)),
            "--tls-key" => key = Some(PathBuf::from(value()?)),
            "--ca-out" => ca_out = Some(PathBuf::from(value()?)),
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
    let tls_files = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    if plain && tls_files.is_some() {
        return Err("--plain-http and --tls-cert exclude each other".into());
    }
    if ca_out.is_some() && (plain || tls_files.is_some()) {
        return Err("--ca-out writes the generated CA: not with --plain-http or --tls-cert".into());
    }
    if plain {
        config.tls = Tls::Plain;
    }
    Ok(Args {
        config,
        faults,
        tls_files,
        ca_out,
    })
}

/// The served certificate chain and key from their PEM files.
fn read_tls_files(cert: &Path, key: &Path) -> Result<Tls, String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    Ok(Tls::Pem {
        cert_chain_pem: read(cert)?,
        key_pem: read(key)?,
        ca_pem: None,
    })
}

/// Where the generated CA's PEM goes, and whether it is a temporary file to remove at stop.
fn ca_file(ca_out: Option<PathBuf>, data_dir: Option<&Path>) -> (PathBuf, bool) {
    match (ca_out, data_dir) {
        (Some(p), _) => (p, false),
        (None, Some(d)) => (d.join("emulator-ca.pem"), false),
        (None, None) => (
            std::env::temp_dir().join(format!("onedrive-emulator-{}-ca.pem", std::process::id())),
            true,
        ),
    }
}

fn main() -> ExitCode {
    let Args {
        mut config,
        faults,
        tls_files,
        ca_out,
    } = match parse_args(std::env::args().skip(1).collect()) {
        Ok(x) => x,
        Err(e) if e.is_empty() => {
            // not println!: a closed pipe (`--help | head`) is no reason to panic
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("onedrive-emulator: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some((cert, key)) = &tls_files {
        match read_tls_files(cert, key) {
            Ok(tls) => config.tls = tls,
            Err(e) => {
                eprintln!("onedrive-emulator: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let data_dir = config.data_dir.clone();
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
    // The CA's PEM, in a file the caller can hand to its client (written before the
    // listening lines, so it is there once they are read).
    let mut ca = None;
    if let (Some(pem), None) = (emu.ca_pem(), &tls_files) {
        let (path, temporary) = ca_file(ca_out, data_dir.as_deref());
        let path = std::path::absolute(&path).unwrap_or(path);
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!(
                "onedrive-emulator: cannot write the CA to {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        ca = Some((path, temporary));
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "onedrive-emulator listening");
    let _ = writeln!(out, "base_url={}", emu.base_url());
    let _ = writeln!(out, "monitor_origin={}", emu.monitor_origin());
    if let Some((path, _)) = &ca {
        let _ = writeln!(out, "ca_file={}", path.display());
    }
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
    if let Some((path, true)) = &ca {
        let _ = std::fs::remove_file(path);
    }
    eprintln!("onedrive-emulator stopped");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli() {
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let a = parse_args(args(
            "--port 0 --monitor-port=0 --token T --profile business --job-base-ms 5 --fault {\"action\":{\"delay_ms\":1}}",
        ))
        .unwrap();
        let c = &a.config;
        assert_eq!(c.token, "T");
        assert_eq!(c.profile, Profile::Business);
        assert_eq!(c.job.base_ms, 5);
        assert_eq!(a.faults.len(), 1);
        assert!(!c.sink);
        assert_eq!(c.latency_ms, 0);
        assert_eq!(
            parse_args(args("--latency-ms 150"))
                .unwrap()
                .config
                .latency_ms,
            150
        );
        assert_eq!(
            parse_args(args("--latency-ms=7"))
                .unwrap()
                .config
                .latency_ms,
            7
        );
        assert!(parse_args(args("--latency-ms -1")).is_err());
        assert!(parse_args(args("--sink")).unwrap().config.sink);
        assert!(parse_args(args("--sink=1")).is_err());
        assert!(parse_args(args("--bogus")).is_err());
        assert!(parse_args(args("--port")).is_err());
        assert!(parse_args(args("--port x")).is_err());
    }

    #[test]
    fn tls_flags() {
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        // HTTPS with a generated CA unless asked otherwise
        let a = parse_args(args("--port 0")).unwrap();
        assert!(matches!(a.config.tls, Tls::Generated));
        assert!(a.tls_files.is_none() && a.ca_out.is_none());
        let a = parse_args(args("--plain-http --port 0")).unwrap();
        assert!(matches!(a.config.tls, Tls::Plain));
        let a = parse_args(args("--tls-cert c.pem --tls-key=k.pem")).unwrap();
        assert_eq!(
            a.tls_files,
            Some((PathBuf::from("c.pem"), PathBuf::from("k.pem")))
        );
        let a = parse_args(args("--ca-out /tmp/x/ca.pem")).unwrap();
        assert_eq!(a.ca_out, Some(PathBuf::from("/tmp/x/ca.pem")));
        assert!(matches!(a.config.tls, Tls::Generated));
        for bad in [
            "--tls-cert c.pem",
            "--tls-key k.pem",
            "--plain-http --tls-cert c.pem --tls-key k.pem",
            "--plain-http --ca-out ca.pem",
            "--tls-cert c.pem --tls-key k.pem --ca-out ca.pem",
            "--ca-out",
            "--plain-http=yes",
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn where_the_ca_goes() {
        let d = Path::new("/data");
        assert_eq!(
            ca_file(Some("/x/ca.pem".into()), Some(d)),
            (PathBuf::from("/x/ca.pem"), false)
        );
        assert_eq!(
            ca_file(None, Some(d)),
            (PathBuf::from("/data/emulator-ca.pem"), false)
        );
        let (tmp, temporary) = ca_file(None, None);
        assert!(temporary);
        assert!(tmp.starts_with(std::env::temp_dir()));
        assert!(
            tmp.to_string_lossy()
                .contains(&std::process::id().to_string())
        );
    }
}
