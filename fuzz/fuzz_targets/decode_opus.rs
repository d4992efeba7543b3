//! The Opus decoder (libopus): the first byte picks mono or stereo
//! output, then a framed sequence of packets, PLC and FEC requests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::codec::{CodecInfo, CodecKind};

fuzz_target!(|data: &[u8]| {
    let mut r = voxlet_fuzz::Reader::new(data);
    let channels = 1 + (r.u8() & 1) as u16;
    let info = CodecInfo::new(CodecKind::Opus, 48000, 2)
        .and_then(|i| i.with_channels(channels))
        .expect("opus config");
    voxlet_fuzz::drive_decoder(info, r.rest());
});
