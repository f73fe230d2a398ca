//! The queue's journal replay (`Queue::open` reading its directory): from
//! arbitrary bytes it never panics and never reads past the input; and
//! with the input cut into validly framed payloads (so that the CRC lets
//! them through) every frame is read and the record decoder sees
//! arbitrary payloads without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;

fuzz_target!(|data: &[u8]| {
    let (good, decoded) = fuzzing::queue_replay(data);
    assert!(good <= data.len() as u64);
    assert!(decoded <= data.len() / 8);

    let pieces: Vec<&[u8]> = data.split(|b| *b == 0xFF).collect();
    let mut framed = Vec::new();
    for p in &pieces {
        fuzzing::queue_frame(p, &mut framed);
    }
    let (good, decoded) = fuzzing::queue_replay(&framed);
    assert_eq!(good, framed.len() as u64);
    assert!(decoded <= pieces.len());
});
