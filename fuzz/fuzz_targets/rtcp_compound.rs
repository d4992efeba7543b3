//! RTCP compound parsing (SR, RR, SDES, BYE, others): every packet and
//! every item is walked; SR / RR are rewritten with `write_sr` /
//! `write_rr` and must parse back to the same blocks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::rtp::rtcp::{parse_compound, write_bye, write_rr, write_sdes, write_sr, RtcpPacket};

fuzz_target!(|data: &[u8]| {
    let mut out = vec![0u8; 2048];
    for item in parse_compound(data) {
        let Ok(p) = item else { continue };
        let _ = p.packet_type();
        match p {
            RtcpPacket::SenderReport(sr) => {
                let blocks: Vec<_> = sr.report_blocks.clone().collect();
                let _ = sr.extension;
                let n = write_sr(sr.ssrc, &sr.sender_info, &blocks, &mut out).expect("write_sr");
                let (q, used) = RtcpPacket::parse(&out[..n]).expect("reparse SR");
                assert_eq!(used, n);
                match q {
                    RtcpPacket::SenderReport(q) => {
                        assert_eq!(q.ssrc, sr.ssrc);
                        assert_eq!(q.sender_info, sr.sender_info);
                        assert!(q.report_blocks.eq(blocks.iter().copied()));
                    }
                    other => panic!("SR came back as {other:?}"),
                }
            }
            RtcpPacket::ReceiverReport(rr) => {
                let blocks: Vec<_> = rr.report_blocks.clone().collect();
                let n = write_rr(rr.ssrc, &blocks, &mut out).expect("write_rr");
                match RtcpPacket::parse(&out[..n]).expect("reparse RR").0 {
                    RtcpPacket::ReceiverReport(q) => {
                        assert_eq!(q.ssrc, rr.ssrc);
                        assert!(q.report_blocks.eq(blocks.iter().copied()));
                    }
                    other => panic!("RR came back as {other:?}"),
                }
            }
            RtcpPacket::Sdes(s) => {
                let _ = s.chunk_count();
                for c in s.chunks() {
                    let items: Vec<_> = c.items().collect();
                    let _ = c.cname();
                    if let Ok(n) = write_sdes(c.ssrc, &items, &mut out) {
                        let _ = RtcpPacket::parse(&out[..n]).expect("reparse SDES");
                    }
                }
            }
            RtcpPacket::Bye(b) => {
                let ssrcs: Vec<u32> = b.ssrcs().collect();
                if let Ok(n) = write_bye(&ssrcs, None, &mut out) {
                    match RtcpPacket::parse(&out[..n]).expect("reparse BYE").0 {
                        RtcpPacket::Bye(q) => assert!(q.ssrcs().eq(ssrcs.iter().copied())),
                        other => panic!("BYE came back as {other:?}"),
                    }
                }
            }
            RtcpPacket::Unknown { .. } => {}
        }
    }
});
