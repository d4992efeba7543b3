//! rtptools' rtpdump reader: any file; records that read are written back
//! with the writer and must read back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::rtpdump::{write_header, write_packet, write_rtcp, RtpDumpReader};

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = RtpDumpReader::new(data) else {
        return;
    };
    let header = r.header().clone();
    let mut out = Vec::new();
    let header_ok = write_header(&mut out, &header).is_ok();
    let mut records = Vec::new();
    while let Some(rec) = r.next_record() {
        let Ok(rec) = rec else { break };
        let _ = (rec.is_rtcp(), rec.is_truncated(), rec.original_len);
        records.push(rec);
    }
    if !header_ok {
        return;
    }
    let mut written = Vec::new();
    for rec in &records {
        if rec.is_truncated() {
            continue;
        }
        let w = if rec.is_rtcp() {
            write_rtcp(&mut out, rec.offset_ms, rec.data)
        } else {
            write_packet(&mut out, rec.offset_ms, rec.data)
        };
        if w.is_ok() {
            written.push(rec);
        }
    }
    let back = RtpDumpReader::new(&out).expect("reread written header");
    let back: Vec<(u32, &[u8])> = back
        .collect::<Result<Vec<_>, _>>()
        .expect("reread written records");
    assert_eq!(back.len(), written.len());
    for (a, b) in back.iter().zip(written) {
        assert_eq!(*a, (b.offset_ms, b.data));
    }
});
