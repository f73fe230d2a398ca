//! Tests of `store` (a file of their own: the module's source stays under
//! 700 lines).

use super::*;

fn tempdir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "odq-store-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&d);
    d
}

fn open_all(dir: &Path) -> (Store, Vec<Vec<u8>>) {
    let mut got = Vec::new();
    let s = Store::open(dir, &mut |p| {
        got.push(p.to_vec());
        Ok(())
    })
    .unwrap();
    (s, got)
}

#[test]
fn frames_round_trip() {
    let mut buf = Vec::new();
    for p in [&b""[..], b"a", b"{\"t\":1}", &[0u8; 300]] {
        frame(p, &mut buf);
    }
    let mut got = Vec::new();
    let n = read_frames(&mut &buf[..], &mut |p| {
        got.push(p.to_vec());
        Ok(())
    })
    .unwrap();
    assert_eq!(n, buf.len() as u64);
    assert_eq!(
        got,
        vec![
            b"".to_vec(),
            b"a".to_vec(),
            b"{\"t\":1}".to_vec(),
            vec![0u8; 300]
        ]
    );
    // A flipped bit anywhere stops the read at that frame.
    for i in 0..buf.len() {
        let mut bad = buf.clone();
        bad[i] ^= 0x10;
        let mut k = 0;
        let n = read_frames(&mut &bad[..], &mut |_| {
            k += 1;
            Ok(())
        })
        .unwrap();
        assert!(n < buf.len() as u64, "flip at {i}");
    }
}

/// The journal cut at every byte: opening keeps exactly the whole
/// records before the cut, and appends after it are read back.
#[test]
fn torn_tail_at_every_byte() {
    let dir = tempdir("torn");
    let records: Vec<Vec<u8>> = (0..6)
        .map(|i| format!("{{\"r\":{i}}}").repeat(i + 1).into_bytes())
        .collect();
    {
        let (mut s, got) = open_all(&dir);
        assert!(got.is_empty());
        for r in &records {
            s.append(&[r]).unwrap();
        }
    }
    let whole = fs::read(dir.join(JOURNAL)).unwrap();
    let mut ends = Vec::new();
    let mut at = 0;
    for r in &records {
        at += 8 + r.len();
        ends.push(at);
    }
    for cut in 0..=whole.len() {
        fs::write(dir.join(JOURNAL), &whole[..cut]).unwrap();
        let keep = ends.iter().filter(|&&e| e <= cut).count();
        let (mut s, got) = open_all(&dir);
        assert_eq!(got, records[..keep], "cut at {cut}");
        s.append(&[b"after"]).unwrap();
        drop(s);
        let (_s, got) = open_all(&dir);
        assert_eq!(got.len(), keep + 1, "cut at {cut}");
        assert_eq!(got.last().unwrap(), b"after");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_open_at_a_time() {
    let dir = tempdir("lock");
    let (s, _) = open_all(&dir);
    let e = Store::open(&dir, &mut |_| Ok(())).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidState);
    drop(s);
    let (_s, _) = open_all(&dir);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_records_share_fsyncs() {
    let dir = tempdir("group");
    let (mut s, _) = open_all(&dir);
    let syncer = s.syncer();
    let a = s.write(&[b"a"]).unwrap();
    let b = s.write(&[b"b", b"c"]).unwrap();
    assert!(b > a);
    syncer.sync_to(b).unwrap();
    assert_eq!(syncer.syncs(), 1);
    // Written before that fsync began: covered by it.
    syncer.sync_to(a).unwrap();
    assert_eq!(syncer.syncs(), 1);
    // An append's own fsync covers what was written before it.
    let d = s.write(&[b"d"]).unwrap();
    s.append(&[b"e"]).unwrap();
    syncer.sync_to(d).unwrap();
    assert_eq!(syncer.syncs(), 1);
    // So does a compaction (its snapshot holds the live records).
    let f = s.write(&[b"f"]).unwrap();
    s.compact(&mut vec![b"x".to_vec()].into_iter()).unwrap();
    syncer.sync_to(f).unwrap();
    assert_eq!(syncer.syncs(), 1);
    // Past everything: a new fsync.
    let g = s.write(&[b"g"]).unwrap();
    syncer.sync_to(g).unwrap();
    assert_eq!(syncer.syncs(), 2);
    drop(s);
    let (_s, got) = open_all(&dir);
    assert_eq!(got, vec![b"x".to_vec(), b"g".to_vec()]);
    fs::remove_dir_all(&dir).unwrap();
}

/// Records kept to write later go out before the next write's own, or
/// with a ticket; never before, and a compaction drops them (the
/// snapshot holds the live state).
#[test]
fn records_kept_for_later_keep_their_order() {
    let dir = tempdir("later");
    let (mut s, _) = open_all(&dir);
    s.write_later(b"done 1").unwrap();
    s.write_later(b"done 2").unwrap();
    drop(s);
    // Never written: what a kill before the next write loses.
    let (mut s, got) = open_all(&dir);
    assert!(got.is_empty());
    s.write_later(b"done 1").unwrap();
    s.append(&[b"delete 1"]).unwrap();
    s.write_later(b"done 3").unwrap();
    let t = s.ticket();
    s.syncer().sync_to(t).unwrap();
    s.write_later(b"in the snapshot").unwrap();
    s.compact(&mut vec![b"x".to_vec()].into_iter()).unwrap();
    let t = s.ticket();
    s.syncer().sync_to(t).unwrap();
    // Past 64 KiB, written at once.
    let big = vec![b'b'; 1 << 16];
    s.write_later(&big).unwrap();
    drop(s);
    let (_s, got) = open_all(&dir);
    assert_eq!(got, vec![b"x".to_vec(), big]);
    fs::remove_dir_all(&dir).unwrap();
    let dir = tempdir("later-order");
    let (mut s, _) = open_all(&dir);
    s.write_later(b"done 1").unwrap();
    s.append(&[b"delete 1"]).unwrap();
    s.write_later(b"done 3").unwrap();
    let t = s.ticket();
    s.syncer().sync_to(t).unwrap();
    drop(s);
    let (_s, got) = open_all(&dir);
    assert_eq!(
        got,
        vec![b"done 1".to_vec(), b"delete 1".to_vec(), b"done 3".to_vec()]
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn records_synced_from_many_threads_are_all_kept() {
    let dir = tempdir("group-threads");
    let (s, _) = open_all(&dir);
    let syncer = s.syncer();
    let s = Mutex::new(s);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (s, syncer) = (&s, &syncer);
            scope.spawn(move || {
                for i in 0..50 {
                    let p = format!("{t}-{i}");
                    let ticket = s.lock().unwrap().write(&[p.as_bytes()]).unwrap();
                    syncer.sync_to(ticket).unwrap();
                }
            });
        }
    });
    assert!(syncer.syncs() <= 400);
    drop(s);
    let (_s, got) = open_all(&dir);
    let mut got: Vec<String> = got
        .into_iter()
        .map(|p| String::from_utf8(p).unwrap())
        .collect();
    got.sort();
    let mut want: Vec<String> = (0..8)
        .flat_map(|t| (0..50).map(move |i| format!("{t}-{i}")))
        .collect();
    want.sort();
    assert_eq!(got, want);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compaction_keeps_the_live_records() {
    let dir = tempdir("compact");
    let (mut s, _) = open_all(&dir);
    s.append(&[b"a", b"b"]).unwrap();
    s.compact(&mut vec![b"x".to_vec(), b"y".to_vec()].into_iter())
        .unwrap();
    s.append(&[b"z"]).unwrap();
    drop(s);
    let (_s, got) = open_all(&dir);
    assert_eq!(got, vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]);
    assert!(!dir.join(SNAPSHOT_TMP).exists());
    fs::remove_dir_all(&dir).unwrap();
}

/// Power cut at every point of a sequence of appends and compactions:
/// opening afterwards never fails, every acknowledged append is there,
/// and what is there is what some prefix of the writes made.
#[test]
fn power_cut_at_every_point() {
    // The state a list of payloads makes: "+k" sets k, "-k" removes it,
    // a compaction writes the set as "+k" lines.
    fn apply(set: &mut std::collections::BTreeSet<String>, p: &[u8]) {
        let p = std::str::from_utf8(p).unwrap();
        match p.split_at(1) {
            ("+", k) => {
                set.insert(k.to_owned());
            }
            ("-", k) => {
                set.remove(k);
            }
            _ => panic!("{p}"),
        }
    }
    enum Step {
        Append(Vec<&'static str>),
        Compact,
    }
    let script = vec![
        Step::Append(vec!["+a", "+b"]),
        Step::Append(vec!["+c"]),
        Step::Compact,
        Step::Append(vec!["-a", "+d"]),
        Step::Append(vec!["+e"]),
        Step::Compact,
        Step::Append(vec!["-b"]),
    ];
    // States after each step, for the check below.
    let mut states = vec![std::collections::BTreeSet::new()];
    for step in &script {
        let mut next = states.last().unwrap().clone();
        if let Step::Append(ps) = step {
            for p in ps {
                apply(&mut next, p.as_bytes());
            }
        }
        states.push(next);
    }
    let mut budget = 0u64;
    loop {
        let dir = tempdir("cut");
        let (mut s, _) = open_all(&dir);
        s.budget = Some(budget);
        let mut acked = 0;
        let mut live = std::collections::BTreeSet::new();
        let mut finished = true;
        for step in &script {
            let r = match step {
                Step::Append(ps) => {
                    let bytes: Vec<&[u8]> = ps.iter().map(|p| p.as_bytes()).collect();
                    s.append(&bytes)
                }
                Step::Compact => {
                    let snap: Vec<Vec<u8>> =
                        live.iter().map(|k| format!("+{k}").into_bytes()).collect();
                    s.compact(&mut snap.into_iter())
                }
            };
            if r.is_err() {
                finished = false;
                break;
            }
            if let Step::Append(ps) = step {
                for p in ps {
                    apply(&mut live, p.as_bytes());
                }
            }
            acked += 1;
        }
        drop(s);
        let (_s, got) = open_all(&dir);
        let mut seen = std::collections::BTreeSet::new();
        for p in &got {
            apply(&mut seen, p);
        }
        // Acknowledged steps all there; of the step that was cut, at
        // most the records whose bytes reached the disk whole (a
        // prefix: the append is one write).
        let mut allowed = vec![states[acked].clone()];
        if let Some(Step::Append(ps)) = script.get(acked) {
            let mut partial = states[acked].clone();
            for p in ps {
                apply(&mut partial, p.as_bytes());
                allowed.push(partial.clone());
            }
        }
        assert!(
            allowed.contains(&seen),
            "budget {budget}: {seen:?} after {acked} acknowledged steps"
        );
        fs::remove_dir_all(&dir).unwrap();
        if finished {
            break;
        }
        budget += 1;
    }
    assert!(budget > 40, "the script was cut at {budget} points");
}
