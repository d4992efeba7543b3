//! The L16 decoder: the first 3 bytes pick the clock rate (any value, most
//! refused) and channels, then a framed sequence of payloads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::codec::{CodecInfo, CodecKind};

fuzz_target!(|data: &[u8]| {
    let mut r = voxlet_fuzz::Reader::new(data);
    let rate = match r.u8() {
        0 => 8000,
        1 => 16000,
        2 => 44100,
        3 => 48000,
        _ => r.u16() as u32 + 7000,
    };
    let channels = r.u8() as u16 % 4;
    let Ok(info) = CodecInfo::new(CodecKind::L16, rate, channels) else {
        return;
    };
    voxlet_fuzz::drive_decoder(info, r.rest());
});
