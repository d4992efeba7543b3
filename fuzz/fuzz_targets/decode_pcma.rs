//! The pcma decoder on a framed sequence of payloads (see `drive_decoder`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::codec::{CodecInfo, CodecKind};

fuzz_target!(|data: &[u8]| {
    let info = CodecInfo::new(CodecKind::Pcma, 8000, 1).expect("static config");
    voxlet_fuzz::drive_decoder(info, data);
});
