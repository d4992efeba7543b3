//! Raw RTP framing (one RTP or RTCP packet per binary message): a framed
//! sequence of messages (tag even: binary, odd: text); RTP is rebuilt with
//! `RawRtp::build` and must come back equal, RTCP is parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::rtp::rtcp::parse_compound;
use voxlet::rtp::RtpHeader;
use voxlet::wire::raw_rtp::{is_rtcp, RawItem};
use voxlet::wire::RawRtp;
use voxlet_fuzz::Reader;

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let max = match r.u8() {
        0..=63 => Some(r.u16() as usize),
        _ => None,
    };
    let make = || max.map(RawRtp::with_max_packet).unwrap_or_default();
    let mut a = make();
    let mut out = vec![0u8; 70_000];
    while let Some((tag, body)) = r.message() {
        if tag & 1 == 1 {
            assert!(a.on_text(&String::from_utf8_lossy(body)).is_err());
            continue;
        }
        let _ = is_rtcp(body);
        match a.on_binary(body) {
            Ok(RawItem::Rtp(p)) => {
                let csrcs: Vec<u32> = p.csrcs().collect();
                let h = RtpHeader {
                    marker: p.marker(),
                    payload_type: p.payload_type(),
                    sequence: p.sequence(),
                    timestamp: p.timestamp(),
                    ssrc: p.ssrc(),
                    csrcs: &csrcs,
                    ..RtpHeader::default()
                };
                let n = RawRtp::build(&h, p.payload(), &mut out).expect("build");
                let mut b = make();
                match b.on_binary(&out[..n]) {
                    Ok(RawItem::Rtp(q)) => {
                        assert_eq!(q.payload(), p.payload());
                        assert_eq!(q.sequence(), p.sequence());
                    }
                    // A rebuilt packet may look like RTCP (PT 72..=95 with the M bit).
                    Ok(RawItem::Rtcp(_)) => assert!(is_rtcp(&out[..n])),
                    Err(e) => panic!("rebuilt packet refused: {e:?}"),
                }
            }
            Ok(RawItem::Rtcp(c)) => for _ in parse_compound(c) {},
            Err(_) => {}
        }
        let _ = a.stats();
    }
});
