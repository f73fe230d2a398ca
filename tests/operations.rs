//! The four operations against the in-process emulator, over real HTTP.

mod common;

use std::time::Duration;

use common::*;
use onedrive_emulator::{JobConfig, JobFailMode, Profile, Times};
use onedrive_native::{
    Client, ClientConfig, Conflict, CopyApi, CopyOptions, Drive, ErrorKind, Job, JobState,
    WaitOptions,
};

const BODY: &[u8] = b"The contents of the file goes here.";

fn wait(c: &Client, job: &Job) -> onedrive_native::JobStatus {
    let opts = WaitOptions {
        timeout: Some(Duration::from_secs(60)),
        ..WaitOptions::default()
    };
    c.wait_job(job, &opts, &mut ctl())
        .expect("the job completes")
}

#[test]
fn upload_new_file_by_path_and_read_it_back() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let it = c
        .upload(
            &me(),
            &target("/FolderA/FileB.txt", None),
            BODY,
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(35));
    assert_eq!(it.name(), Some("FileB.txt"));
    assert!(it.quick_xor_hash().is_some());
    let drive = emu.default_drive_id();
    assert_eq!(emu.content(&drive, "/FolderA/FileB.txt").unwrap(), BODY);
    let again = c
        .item(&me(), &item("/FolderA/FileB.txt"), &mut ctl())
        .unwrap();
    assert_eq!(again.id(), it.id());
    let by_id = c.item(&me(), &item(it.id()), &mut ctl()).unwrap();
    assert_eq!(by_id.etag(), it.etag());
}

#[test]
fn every_addressing_form_of_upload() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let folder = c
        .upload(
            &me(),
            &target("/dir/seed.txt", None),
            b"x",
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    let dir_id = folder.parent_id().unwrap().to_owned();
    // child of a folder by id
    let a = c
        .upload(
            &me(),
            &target(&dir_id, Some("a.txt")),
            b"a",
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(a.parent_id(), Some(dir_id.as_str()));
    // child of a folder by path
    let b = put(&c, "/dir", "b.txt", b"bb");
    assert_eq!(b.size(), Some(2));
    // child of the root
    put(&c, "/", "top.txt", b"t");
    // a path below an item id
    let d = c
        .upload(
            &me(),
            &target(&format!("{dir_id}:/sub"), Some("d.txt")),
            b"d",
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(d.name(), Some("d.txt"));
    // replace by id
    let r = c
        .upload(
            &me(),
            &target(a.id(), None),
            b"replaced",
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(r.id(), a.id());
    assert_eq!(r.size(), Some(8));
    let drive = emu.default_drive_id();
    assert_eq!(emu.content(&drive, "/dir/a.txt").unwrap(), b"replaced");
    assert_eq!(emu.content(&drive, "/dir/sub/d.txt").unwrap(), b"d");
    assert_eq!(emu.content(&drive, "/top.txt").unwrap(), b"t");
}

#[test]
fn names_that_need_encoding() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let drive = emu.default_drive_id();
    for (folder, name) in [
        ("/My Files", "a b.txt"),
        ("/#tag", "100%.txt"),
        ("/日本", "é è.txt"),
        ("/a/b/c d", "x+y&z=1;w.txt"),
    ] {
        let it = c
            .upload(
                &me(),
                &target(folder, Some(name)),
                name.as_bytes(),
                Conflict::ServiceDefault,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(it.name(), Some(name));
        let path = format!("{folder}/{name}");
        assert_eq!(
            emu.content(&drive, &path).unwrap(),
            name.as_bytes(),
            "{path}"
        );
        assert_eq!(
            c.item(&me(), &item(&path), &mut ctl()).unwrap().id(),
            it.id()
        );
    }
}

#[test]
fn forbidden_names_are_refused_before_any_request() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    emu.clear_requests();
    for bad in [
        "a:b", "a*b", "a?b", "a<b", "a>b", "a|b", "a\"b", "a\\b", "", "..",
    ] {
        let e = onedrive_native::UploadTarget::new("/", Some(bad)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidName, "{bad:?}");
    }
    let e = c
        .url_upload(&me(), &item("/"), "a/b", "http://127.0.0.1:1/x", &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidName);
    let opts = CopyOptions {
        name: Some("x|y".into()),
        ..CopyOptions::default()
    };
    let e = c
        .copy(&me(), &item("ID"), &item("/"), &opts, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidName);
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[test]
fn conflict_behaviours() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let first = put(&c, "/", "c.txt", b"one");
    // default and replace: same item, new content
    let r = put(&c, "/", "c.txt", b"two");
    assert_eq!(r.id(), first.id());
    let r = c
        .upload(
            &me(),
            &target("/", Some("c.txt")),
            b"three",
            Conflict::Replace,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(r.id(), first.id());
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/c.txt").unwrap(),
        b"three"
    );
    // fail
    let e = c
        .upload(
            &me(),
            &target("/", Some("c.txt")),
            b"four",
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.http_status, Some(409));
    assert_eq!(e.code.as_deref(), Some("nameAlreadyExists"));
    assert!(e.request_id.is_some());
    // rename
    let n = c
        .upload(
            &me(),
            &target("/", Some("c.txt")),
            b"five",
            Conflict::Rename,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(n.name(), Some("c 1.txt"));
    assert_ne!(n.id(), first.id());
}

#[test]
fn simple_upload_limit() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let four = vec![7u8; 4 * 1024 * 1024];
    let it = c
        .upload(
            &me(),
            &target("/", Some("4m.bin")),
            &four,
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(4 * 1024 * 1024));
    // one byte more goes through an upload session
    let over = vec![7u8; 4 * 1024 * 1024 + 1];
    let it = c
        .upload(
            &me(),
            &target("/", Some("big.bin")),
            &over,
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(4 * 1024 * 1024 + 1));
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.path.ends_with("/createUploadSession"))
    );
    // A service with a lower limit answers 413 itself.
    let small = onedrive_emulator::Emulator::start(onedrive_emulator::Config {
        simple_upload_limit: 1000,
        ..onedrive_emulator::Config::default()
    })
    .unwrap();
    let e = client(&small)
        .upload(
            &me(),
            &target("/", Some("x.bin")),
            &[0; 1001],
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert_eq!(e.http_status, Some(413));
}

#[test]
fn upload_progress_and_abort() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let data = vec![1u8; 1024 * 1024];
    let mut seen = Vec::new();
    let mut cb = |d: u64, t: u64| {
        seen.push((d, t));
        true
    };
    let mut control = onedrive_native::Control::new(None, Some(&mut cb));
    c.upload(
        &me(),
        &target("/", Some("p.bin")),
        &data,
        Conflict::ServiceDefault,
        &mut control,
    )
    .unwrap();
    assert_eq!(seen.first(), Some(&(0, 1024 * 1024)));
    assert_eq!(seen.last(), Some(&(1024 * 1024, 1024 * 1024)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    // a callback that says stop
    let mut stop = |d: u64, _t: u64| d < 100_000;
    let mut control = onedrive_native::Control::new(None, Some(&mut stop));
    let e = c
        .upload(
            &me(),
            &target("/", Some("q.bin")),
            &data,
            Conflict::ServiceDefault,
            &mut control,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AbortedByCallback);
    assert!(emu.item_json(&emu.default_drive_id(), "/q.bin").is_none());
    // a cancel raised before the call
    let token = onedrive_native::CancelToken::new();
    token.cancel();
    let mut control = onedrive_native::Control::new(Some(&token), None);
    let e = c
        .upload(
            &me(),
            &target("/", Some("r.bin")),
            &data,
            Conflict::ServiceDefault,
            &mut control,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
}

#[test]
fn every_drive_prefix() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    let ids = emu.drive_ids();
    let default = emu.default_drive_id();
    let mut prefixes = vec![
        (Drive::Me, default.clone()),
        (Drive::Legacy, default.clone()),
    ];
    for id in &ids {
        prefixes.push((Drive::Id(id.clone()), id.clone()));
    }
    for (drive, id) in prefixes {
        let name = format!("f-{}.txt", drive.prefix().replace('/', "_"));
        let it = c
            .upload(
                &drive,
                &target("/", Some(&name)),
                b"z",
                Conflict::ServiceDefault,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(it.drive_id(), Some(id.as_str()), "{drive:?}");
        assert!(emu.content(&id, &format!("/{name}")).is_some(), "{drive:?}");
    }
    // groups, sites and users: each reaches the drive it owns
    for (drive, id) in [
        (Drive::Group(emu.group_id()), &ids[1]),
        (Drive::Site(emu.site_id()), &ids[2]),
        (Drive::User(emu.user_id()), &default),
    ] {
        let root = c.item(&drive, &item("/"), &mut ctl()).unwrap();
        assert!(root.is_folder(), "{drive:?}");
        let it = c
            .upload(
                &drive,
                &target("/", Some("g.txt")),
                b"g",
                Conflict::ServiceDefault,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(it.drive_id(), Some(id.as_str()), "{drive:?}");
        assert_eq!(
            c.item(&drive, &item(it.id()), &mut ctl()).unwrap().id(),
            it.id()
        );
    }
}

#[test]
fn copy_by_id_and_by_path_in_both_profiles() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = emulator(profile);
        let c = client(&emu);
        let src = put(&c, "/src", "f.txt", BODY);
        let dest = c
            .upload(
                &me(),
                &target("/dest/keep.txt", None),
                b"k",
                Conflict::ServiceDefault,
                &mut ctl(),
            )
            .unwrap();
        let dest_id = dest.parent_id().unwrap().to_owned();
        // Graph form, source by id, destination by id
        let job = c
            .copy(
                &me(),
                &item(src.id()),
                &item(&dest_id),
                &CopyOptions::default(),
                &mut ctl(),
            )
            .unwrap();
        let done = wait(&c, &job);
        assert_eq!(done.state, JobState::Completed);
        let copy = done.item.unwrap();
        assert_eq!(copy.name(), Some("f.txt"));
        assert_eq!(copy.parent_id(), Some(dest_id.as_str()));
        assert_eq!(copy.quick_xor_hash(), src.quick_xor_hash());
        // source by path, destination by path, new name
        let opts = CopyOptions {
            name: Some("g.txt".into()),
            ..CopyOptions::default()
        };
        let job = c
            .copy(
                &me(),
                &item("/src/f.txt"),
                &item("/dest"),
                &opts,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(wait(&c, &job).item.unwrap().name(), Some("g.txt"));
        // the legacy action.copy form, by id and by path
        let opts = CopyOptions {
            name: Some("h.txt".into()),
            api: CopyApi::Legacy,
            ..CopyOptions::default()
        };
        let job = c
            .copy(
                &Drive::Legacy,
                &item(src.id()),
                &item("/dest"),
                &opts,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(wait(&c, &job).item.unwrap().name(), Some("h.txt"));
        let opts = CopyOptions {
            name: Some("i.txt".into()),
            api: CopyApi::Legacy,
            ..CopyOptions::default()
        };
        let job = c
            .copy(
                &Drive::Legacy,
                &item("/src/f.txt"),
                &item(&dest_id),
                &opts,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(wait(&c, &job).item.unwrap().name(), Some("i.txt"));
        // destination as a path below an id
        let opts = CopyOptions {
            name: Some("j.txt".into()),
            ..CopyOptions::default()
        };
        let root = c.item(&me(), &item("/"), &mut ctl()).unwrap();
        let job = c
            .copy(
                &me(),
                &item(src.id()),
                &item(&format!("{}:/dest", root.id())),
                &opts,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(
            wait(&c, &job).item.unwrap().parent_id(),
            Some(dest_id.as_str())
        );
        let drive = emu.default_drive_id();
        for n in ["f.txt", "g.txt", "h.txt", "i.txt", "j.txt"] {
            assert_eq!(
                emu.content(&drive, &format!("/dest/{n}")).unwrap(),
                BODY,
                "{profile:?} {n}"
            );
        }
        // the token never went to the monitor origin
        let monitor: Vec<_> = emu
            .requests()
            .into_iter()
            .filter(|r| r.origin == "monitor")
            .collect();
        assert!(!monitor.is_empty());
        assert!(monitor.iter().all(|r| !r.authorization), "{monitor:?}");
    }
}

#[test]
fn copy_to_another_drive_and_of_a_folder() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    c.upload(
        &me(),
        &target("/tree/a/1.txt", None),
        b"1",
        Conflict::ServiceDefault,
        &mut ctl(),
    )
    .unwrap();
    c.upload(
        &me(),
        &target("/tree/b.txt", None),
        b"22",
        Conflict::ServiceDefault,
        &mut ctl(),
    )
    .unwrap();
    let other = emu
        .drive_ids()
        .into_iter()
        .find(|d| *d != emu.default_drive_id())
        .unwrap();
    let opts = CopyOptions {
        dest_drive_id: Some(other.clone()),
        ..CopyOptions::default()
    };
    let job = c
        .copy(&me(), &item("/tree"), &item("/"), &opts, &mut ctl())
        .unwrap();
    let done = wait(&c, &job);
    let copy = done.item.unwrap();
    assert!(copy.is_folder());
    assert_eq!(copy.drive_id(), Some(other.as_str()));
    assert_eq!(emu.content(&other, "/tree/a/1.txt").unwrap(), b"1");
    assert_eq!(emu.content(&other, "/tree/b.txt").unwrap(), b"22");
}

#[test]
fn copy_conflicts() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let src = put(&c, "/", "s.txt", b"s");
    put(&c, "/d", "s.txt", b"old");
    // fail: refused at once
    let opts = CopyOptions {
        conflict: Conflict::Fail,
        ..CopyOptions::default()
    };
    let e = c
        .copy(&me(), &item(src.id()), &item("/d"), &opts, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.http_status, Some(409));
    // rename
    let opts = CopyOptions {
        conflict: Conflict::Rename,
        ..CopyOptions::default()
    };
    let job = c
        .copy(&me(), &item(src.id()), &item("/d"), &opts, &mut ctl())
        .unwrap();
    assert_eq!(wait(&c, &job).item.unwrap().name(), Some("s 1.txt"));
    // replace
    let opts = CopyOptions {
        conflict: Conflict::Replace,
        ..CopyOptions::default()
    };
    let job = c
        .copy(&me(), &item(src.id()), &item("/d"), &opts, &mut ctl())
        .unwrap();
    assert_eq!(wait(&c, &job).item.unwrap().name(), Some("s.txt"));
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/d/s.txt").unwrap(),
        b"s"
    );
    // a missing source
    let e = c
        .copy(
            &me(),
            &item("NOPE"),
            &item("/d"),
            &CopyOptions::default(),
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[test]
fn poll_reports_growing_progress_then_completion() {
    let emu = emulator_with_jobs(
        Profile::Personal,
        JobConfig {
            paused: true,
            ..JobConfig::default()
        },
    );
    let c = client(&emu);
    let src = put(&c, "/", "p.bin", &vec![3u8; 200_000]);
    let job = copy_as(&c, src.id(), "/", "p2.bin");
    let st = c.poll_job(&job, &mut ctl()).unwrap();
    assert!(!st.state.is_final(), "{st:?}");
    assert!(st.item.is_none());
    emu.set_job_config(JobConfig {
        paused: false,
        ..emu.job_config()
    });
    let mut percents = Vec::new();
    assert!(eventually(Duration::from_secs(30), || {
        let st = c.poll_job(&job, &mut ctl()).unwrap();
        percents.extend(st.percent);
        st.state == JobState::Completed
    }));
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    // a finished job can be looked at again
    let st = c.poll_job(&job, &mut ctl()).unwrap();
    assert_eq!(st.state, JobState::Completed);
    assert_eq!(st.item.unwrap().name(), Some("p2.bin"));
}

#[test]
fn failed_jobs_in_both_forms() {
    for (profile, mode) in [
        (Profile::Personal, JobFailMode::Status),
        (Profile::Personal, JobFailMode::Http500),
        (Profile::Business, JobFailMode::Status),
        (Profile::Business, JobFailMode::Http500),
    ] {
        let emu = emulator_with_jobs(
            profile,
            JobConfig {
                fail: Some(mode),
                ..JobConfig::default()
            },
        );
        let c = client(&emu);
        let src = put(&c, "/", "f.txt", b"f");
        let job = copy_as(&c, src.id(), "/", "g.txt");
        let e = wait_result(&c, &job).unwrap_err();
        assert_eq!(e.kind, ErrorKind::JobFailed, "{profile:?} {mode:?}: {e}");
        assert!(!e.message.is_empty());
        let st = c.poll_job(&job, &mut ctl()).unwrap();
        assert_eq!(st.state, JobState::Failed);
        assert!(st.error.is_some());
    }
}

#[test]
fn unknown_job_is_not_found() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = emulator(profile);
        let c = client(&emu);
        let url = format!("{}/monitor/does-not-exist", emu.monitor_origin());
        let job = Job::from_monitor_url(&url, Drive::Me).unwrap();
        let e = c.poll_job(&job, &mut ctl()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{profile:?}: {e}");
    }
}

#[test]
fn job_resumed_from_its_saved_monitor_url_in_a_new_client() {
    let emu = emulator_with_jobs(
        Profile::Business,
        JobConfig {
            paused: true,
            ..JobConfig::default()
        },
    );
    let saved = {
        let c = client(&emu);
        let src = put(&c, "/", "r.txt", b"r");
        let job = copy_as(&c, src.id(), "/", "r2.txt");
        job.monitor_url().to_owned()
    };
    emu.set_job_config(JobConfig {
        paused: false,
        ..emu.job_config()
    });
    let c = client(&emu);
    let job = Job::from_monitor_url(&saved, Drive::Me).unwrap();
    assert_eq!(wait(&c, &job).item.unwrap().name(), Some("r2.txt"));
}

#[test]
fn wait_can_time_out_be_cancelled_and_aborted() {
    let emu = emulator_with_jobs(
        Profile::Personal,
        JobConfig {
            paused: true,
            ..JobConfig::default()
        },
    );
    let c = client(&emu);
    let src = put(&c, "/", "w.txt", b"w");
    let job = copy_as(&c, src.id(), "/", "w2.txt");
    // timeout
    let e = c
        .wait_job(
            &job,
            &WaitOptions {
                timeout: Some(Duration::from_millis(300)),
                ..Default::default()
            },
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    // cancel from another thread: raised once the wait has polled at least once
    let token = onedrive_native::CancelToken::new();
    let before = emu.requests().len();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let mut control = onedrive_native::Control::new(Some(&token), None);
            c.wait_job(&job, &WaitOptions::default(), &mut control)
        });
        assert!(eventually(Duration::from_secs(30), || emu.requests().len() > before));
        token.cancel();
        let e = waiter.join().unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
    });
    // a progress callback that says stop
    let mut calls = 0;
    let mut stop = |_d: u64, t: u64| {
        assert_eq!(t, 10_000);
        calls += 1;
        false
    };
    let mut control = onedrive_native::Control::new(None, Some(&mut stop));
    let e = c
        .wait_job(&job, &WaitOptions::default(), &mut control)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AbortedByCallback);
    assert_eq!(calls, 1);
}

#[test]
fn url_upload_personal_and_its_refusals() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let source = emu.serve_static("photo.jpg", vec![9u8; 50_000]);
    let job = c
        .url_upload(&me(), &item("/"), "photo.jpg", &source, &mut ctl())
        .unwrap();
    let done = wait(&c, &job);
    assert_eq!(done.item.unwrap().size(), Some(50_000));
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/photo.jpg").unwrap(),
        vec![9u8; 50_000]
    );
    // the Prefer header went with it
    let posts: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].status, 202);
    // a source the service cannot fetch: the job fails
    let job = c
        .url_upload(
            &me(),
            &item("/"),
            "gone.jpg",
            "http://127.0.0.1:9/nothing",
            &mut ctl(),
        )
        .unwrap();
    let e = wait_result(&c, &job).unwrap_err();
    assert_eq!(e.kind, ErrorKind::JobFailed);
    // Business refuses the feature
    let biz = emulator(Profile::Business);
    let c = client(&biz);
    let e = c
        .url_upload(&me(), &item("/"), "x.jpg", &source, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e}");
    assert!(!e.message.is_empty());
}

#[test]
fn the_token_goes_to_the_api_origin_only() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    put(&c, "/", "t.txt", b"t");
    let job = copy_as(&c, "/t.txt", "/", "u.txt");
    wait(&c, &job);
    for r in emu.requests() {
        match r.origin.as_str() {
            "api" => assert!(r.authorization, "{r:?}"),
            _ => assert!(!r.authorization, "{r:?}"),
        }
    }
    // a wrong token is 401 with the service's detail
    let bad = Client::new(ClientConfig {
        token: "wrong".into(),
        ..config(&emu)
    })
    .unwrap();
    let e = bad.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert_eq!(e.http_status, Some(401));
}

#[test]
fn a_token_callback_is_asked_after_a_401() {
    let emu = emulator(Profile::Personal);
    let c = Client::new(ClientConfig {
        token: "expired".into(),
        ..config(&emu)
    })
    .unwrap();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (calls2, good) = (calls.clone(), emu.token());
    c.set_token_provider(Some(std::sync::Arc::new(move || {
        calls2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(onedrive_native::AccessToken::new(good.clone(), None))
    })));
    c.item(&me(), &item("/"), &mut ctl()).unwrap();
    c.item(&me(), &item("/"), &mut ctl()).unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // a callback with no token: the 401 stands, asked once per request
    c.set_token("expired-again");
    c.set_token_provider(Some(std::sync::Arc::new(|| None)));
    assert_eq!(
        c.item(&me(), &item("/"), &mut ctl()).unwrap_err().kind,
        ErrorKind::Unauthorized
    );
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let e = Client::new(ClientConfig::new("http://example.com/v1.0", "t"))
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let job = Job::from_monitor_url("http://example.com/monitor/x", Drive::Me).unwrap();
    assert_eq!(
        c.poll_job(&job, &mut ctl()).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn eight_threads_share_one_client() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let src = put(&c, "/", "shared.txt", BODY);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (c, src) = (&c, &src);
            s.spawn(move || {
                for i in 0..10 {
                    let name = format!("t{t}-{i}.txt");
                    let data = name.repeat(100);
                    let it = c
                        .upload(
                            &me(),
                            &target("/par", Some(&name)),
                            data.as_bytes(),
                            Conflict::Fail,
                            &mut ctl(),
                        )
                        .unwrap();
                    assert_eq!(it.size(), Some(data.len() as u64));
                }
                let opts = CopyOptions {
                    name: Some(format!("copy{t}.txt")),
                    ..CopyOptions::default()
                };
                let job = c
                    .copy(&me(), &item(src.id()), &item("/par"), &opts, &mut ctl())
                    .unwrap();
                assert_eq!(wait(c, &job).state, JobState::Completed);
            });
        }
    });
    let drive = emu.default_drive_id();
    for t in 0..8 {
        for i in 0..10 {
            let name = format!("t{t}-{i}.txt");
            assert_eq!(
                emu.content(&drive, &format!("/par/{name}")).unwrap(),
                name.repeat(100).as_bytes()
            );
        }
        assert_eq!(
            emu.content(&drive, &format!("/par/copy{t}.txt")).unwrap(),
            BODY
        );
    }
}

#[test]
fn every_form_of_completion_the_service_has_used() {
    use onedrive_emulator::Completion;
    for completion in [
        Completion::Profile,
        Completion::SeeOtherBare,
        Completion::SeeOtherPreauthorized,
        Completion::ResourceLocation,
    ] {
        for profile in [Profile::Personal, Profile::Business] {
            let emu = emulator_with_jobs(
                profile,
                JobConfig {
                    completion,
                    ..JobConfig::default()
                },
            );
            let c = client(&emu);
            let src = put(&c, "/", "a.txt", BODY);
            let job = copy_as(&c, src.id(), "/", "b.txt");
            let done = wait(&c, &job);
            let copy = done
                .item
                .unwrap_or_else(|| panic!("{completion:?} {profile:?}: no item"));
            assert_eq!(copy.name(), Some("b.txt"), "{completion:?} {profile:?}");
            assert_eq!(copy.size(), Some(35));
            for r in emu.requests() {
                assert_eq!(r.authorization, r.origin == "api", "{completion:?}: {r:?}");
            }
            if completion == Completion::SeeOtherPreauthorized {
                // The pre-authorized URL turns out not to be (403): the id
                // it names is read through the API instead.
                emu.add_fault(fault(
                    Some("monitor"),
                    Some("GET"),
                    Some("/items/"),
                    Times::Next(1),
                    answer_with(403),
                ));
                let job = copy_as(&c, src.id(), "/", "c.txt");
                let copy = wait(&c, &job).item.expect("the item, by its id");
                assert_eq!(copy.name(), Some("c.txt"), "{profile:?}");
                assert!(emu.requests().iter().any(|r| r.fault.is_some()));
            }
        }
    }
}

#[test]
fn folders_are_made_one_or_many_at_a_time() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let top = c
        .create_folder(
            &me(),
            &item("/"),
            "Backup",
            Conflict::Fail,
            false,
            &mut ctl(),
        )
        .unwrap();
    assert!(top.is_folder());
    assert_eq!(top.name(), Some("Backup"));
    // the name is in use: fail by default, a free name with rename
    let e = c
        .create_folder(
            &me(),
            &item("/"),
            "Backup",
            Conflict::ServiceDefault,
            false,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    let renamed = c
        .create_folder(
            &me(),
            &item("/"),
            "Backup",
            Conflict::Rename,
            false,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(renamed.name(), Some("Backup 1"));
    // missing parents: refused, then made (twice: the second finds them)
    let deep = item("/Backup/2026/11 Nov");
    let e = c
        .create_folder(&me(), &deep, "day #30", Conflict::Fail, false, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    for _ in 0..2 {
        let made = c
            .create_folder(&me(), &deep, "day #30", Conflict::Replace, true, &mut ctl())
            .unwrap();
        assert_eq!(made.name(), Some("day #30"));
    }
    assert!(
        c.item(&me(), &item("/Backup/2026"), &mut ctl())
            .unwrap()
            .is_folder()
    );
    // below an id, and a file in the way
    let under_id = format!("{}:/x/y", top.id());
    c.create_folder(
        &me(),
        &item(&under_id),
        "z",
        Conflict::Fail,
        true,
        &mut ctl(),
    )
    .unwrap();
    put(&c, "/Backup", "file", b"x");
    let e = c
        .create_folder(
            &me(),
            &item("/Backup/file/sub"),
            "z",
            Conflict::Fail,
            true,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    let e = c
        .create_folder(&me(), &item("/"), "a:b", Conflict::Fail, false, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidName);
}

#[test]
fn delete_honours_an_etag_and_reports_what_is_missing() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    let file = put(&c, "/", "old.txt", BODY);
    let stale = file.etag().unwrap().to_owned();
    put(&c, "/", "old.txt", b"changed since");
    let e = c
        .delete_item(&me(), &item("/old.txt"), Some(&stale), &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert_eq!(e.http_status, Some(412));
    let now = c.item(&me(), &item("/old.txt"), &mut ctl()).unwrap();
    c.delete_item(&me(), &item(now.id()), now.etag(), &mut ctl())
        .unwrap();
    let e = c
        .delete_item(&me(), &item("/old.txt"), None, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = c
        .delete_item(&me(), &item("/"), None, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

#[test]
fn a_token_is_refreshed_before_it_expires_once_for_all_threads() {
    use onedrive_native::AccessToken;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::SystemTime;
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    put(&c, "/", "t.txt", BODY);
    // a token that expires in a minute (inside the refresh margin)
    c.set_access_token(AccessToken::new(
        emu.token(),
        Some(SystemTime::now() + Duration::from_secs(60)),
    ));
    let calls = Arc::new(AtomicU32::new(0));
    let (n, token) = (calls.clone(), emu.token());
    c.set_token_provider(Some(Arc::new(move || {
        n.fetch_add(1, Ordering::SeqCst);
        Some(AccessToken::new(
            token.clone(),
            Some(SystemTime::now() + Duration::from_secs(3600)),
        ))
    })));
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| c.item(&me(), &item("/t.txt"), &mut ctl()).unwrap());
        }
    });
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one refresh for eight threads"
    );
    let now = c.access_token().expires_on.unwrap();
    assert!(now > SystemTime::now() + Duration::from_secs(3000));
    // a wrong token without expiry: refreshed once after the 401
    c.set_token("expired");
    c.item(&me(), &item("/t.txt"), &mut ctl()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A not-found or conflict message says what was asked for (the API path,
/// decoded), never an upload or monitor URL: a missing `/Backup` says so.
#[test]
fn not_found_and_conflict_messages_name_the_path() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let e = c
        .item(&me(), &item("/Backup é#/a.txt"), &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("/Backup é#/a.txt"), "{e}");
    put(&c, "/", "taken.txt", b"x");
    let e = c
        .create_folder(
            &me(),
            &item("/"),
            "taken.txt",
            Conflict::Fail,
            false,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert!(e.message.contains("/me/drive/root"), "{e}");
}

/// Requests on one client go over its pooled TLS connection: twenty small
/// uploads one after another open at most one new connection, not twenty.
#[test]
fn one_client_reuses_its_tls_connection() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    put(&c, "/", "warm.txt", b"w");
    let before = emu.connections_accepted();
    for i in 0..20 {
        put(&c, "/", &format!("f{i}.txt"), b"x");
    }
    let opened = emu.connections_accepted() - before;
    assert!(opened <= 1, "{opened} connections for 20 uploads");
}

/// What a client was given reads back: its token and upload settings.
#[test]
fn a_clients_token_and_upload_settings_read_back() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    assert_eq!(c.token(), emu.token());
    c.set_token("another-token");
    assert_eq!(c.token(), "another-token");
    let mut s = c.upload_settings();
    s.chunk_size *= 2;
    s.simple_limit /= 2;
    assert_ne!(c.upload_settings(), s);
    c.set_upload_settings(s).unwrap();
    assert_eq!(c.upload_settings(), s);
}
