#![cfg(not(target_arch = "wasm32"))]
//! Property tests: parsers never panic on arbitrary bytes, builders round-trip,
//! unwrappers recover the true counter within their window.

use proptest::prelude::*;
use voxlet::rtp::rtcp::{
    parse_compound, write_bye, write_rr, write_sdes, write_sr, ReportBlock, RtcpPacket, SdesItem,
    SenderInfo,
};
use voxlet::rtp::{
    ExtensionElement, ExtensionSpec, HeaderExtension, RtpHeader, RtpPacket, SeqUnwrapper,
    TimestampUnwrapper,
};
use voxlet::rtpdump::{self, RtpDumpHeader, RtpDumpReader};

/// Walks every accessor and nested iterator of a parsed packet.
fn touch_rtp(p: &RtpPacket<'_>, len: usize) {
    assert_eq!(
        p.header_len() + p.payload().len() + usize::from(p.padding_len()),
        len
    );
    assert_eq!(p.csrcs().count(), p.csrc_count());
    assert!(p.csrc_count() <= 15);
    assert!(p.payload_type() < 128);
    let _ = (p.marker(), p.sequence(), p.timestamp(), p.ssrc());
    if let Some(ext) = p.extension() {
        touch_ext(ext);
    }
}

fn touch_ext(ext: HeaderExtension<'_>) {
    let mut errors = 0;
    let mut total = 0;
    for e in ext.elements() {
        match e {
            Ok(e) => {
                assert_ne!(e.id, 0);
                total += e.data.len();
            }
            Err(_) => errors += 1,
        }
    }
    assert!(errors <= 1, "iterator stops after an error");
    assert!(total <= ext.data().len());
    for id in 0..=255 {
        let _ = ext.get(id);
    }
}

fn touch_rtcp(buf: &[u8]) {
    let mut seen_err = false;
    for r in parse_compound(buf) {
        assert!(!seen_err, "nothing after an error");
        match r {
            Err(_) => seen_err = true,
            Ok(RtcpPacket::SenderReport(sr)) => {
                let _ = sr.report_blocks.clone().count();
            }
            Ok(RtcpPacket::ReceiverReport(rr)) => {
                for b in rr.report_blocks.clone() {
                    assert!((-0x80_0000..=0x7F_FFFF).contains(&b.cumulative_lost));
                }
            }
            Ok(RtcpPacket::Sdes(s)) => {
                let n = s.chunks().count();
                assert_eq!(n, s.chunk_count(), "validated SDES yields every chunk");
                for c in s.chunks() {
                    for i in c.items() {
                        assert_ne!(i.item_type, 0);
                    }
                    let _ = c.cname();
                }
            }
            Ok(RtcpPacket::Bye(b)) => {
                let _ = (b.ssrcs().count(), b.reason);
            }
            Ok(RtcpPacket::Unknown { .. }) => {}
        }
    }
}

fn element() -> impl Strategy<Value = (u8, Vec<u8>)> {
    prop_oneof![
        (1u8..=14, prop::collection::vec(any::<u8>(), 1..=16)),
        (1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)),
    ]
}

#[derive(Debug, Clone)]
enum Ext {
    None,
    Elements(Vec<(u8, Vec<u8>)>),
    Raw(u16, Vec<u8>),
}

fn ext() -> impl Strategy<Value = Ext> {
    prop_oneof![
        Just(Ext::None),
        prop::collection::vec(element(), 0..6).prop_map(Ext::Elements),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(p, w)| Ext::Raw(p, w.repeat(4))),
    ]
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (any::<[u32; 5]>(), any::<u8>(), -0x80_0000i32..=0x7F_FFFF).prop_map(
        |(w, fraction_lost, cumulative_lost)| ReportBlock {
            ssrc: w[0],
            fraction_lost,
            cumulative_lost,
            extended_highest_seq: w[1],
            jitter: w[2],
            lsr: w[3],
            dlsr: w[4],
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rtp_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::parse(&bytes) {
            touch_rtp(&p, bytes.len());
        }
    }

    #[test]
    fn rtp_parse_version_2_never_panics(
        mut bytes in prop::collection::vec(any::<u8>(), 12..200),
        ext_profile in prop_oneof![Just(0xBEDEu16), 0x1000u16..=0x100F, any::<u16>()],
    ) {
        bytes[0] = 0x80 | (bytes[0] & 0x3F);
        if bytes[0] & 0x10 != 0 {
            let at = 12 + 4 * usize::from(bytes[0] & 0x0F);
            if let Some(s) = bytes.get_mut(at..at + 2) {
                s.copy_from_slice(&ext_profile.to_be_bytes());
            }
        }
        if let Ok(p) = RtpPacket::parse(&bytes) {
            touch_rtp(&p, bytes.len());
        }
    }

    #[test]
    fn extension_iteration_never_panics(
        profile in prop_oneof![Just(0xBEDEu16), 0x1000u16..=0x100F, any::<u16>()],
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        touch_ext(HeaderExtension::new(profile, &data));
    }

    #[test]
    fn rtcp_compound_never_panics(mut bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        touch_rtcp(&bytes);
        // Again with plausible headers: version 2 and a known packet type
        // at every 4-byte boundary where one might start.
        for i in (0..bytes.len()).step_by(4) {
            bytes[i] = 0x80 | (bytes[i] & 0x3F);
            if let Some(pt) = bytes.get_mut(i + 1) {
                *pt = 200 + *pt % 8;
            }
            if let Some(hi) = bytes.get_mut(i + 2) {
                *hi = 0;
            }
            if let Some(lo) = bytes.get_mut(i + 3) {
                *lo %= 16;
            }
        }
        touch_rtcp(&bytes);
    }

    #[test]
    fn rtpdump_reader_never_panics(
        line in "[0-9./:a-z]{0,20}",
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut file = b"#!rtpplay1.0 ".to_vec();
        file.extend_from_slice(line.as_bytes());
        file.push(b'\n');
        file.extend_from_slice(&body);
        for data in [&file[..], &body[..]] {
            if let Ok(mut r) = RtpDumpReader::new(data) {
                let _ = r.header();
                while let Some(rec) = r.next_record() {
                    if let Ok(rec) = rec {
                        let _ = (rec.is_rtcp(), rec.is_truncated());
                    }
                }
            }
        }
    }

    #[test]
    fn rtpdump_round_trip(
        packets in prop::collection::vec(
            (any::<u32>(), prop::collection::vec(any::<u8>(), 1..100), any::<bool>()),
            0..20,
        ),
        port in any::<u16>(),
        start in any::<[u32; 3]>(),
        source_port in any::<u16>(),
    ) {
        let header = RtpDumpHeader {
            address: "192.0.2.7",
            port,
            start_sec: start[0],
            start_usec: start[1],
            source: start[2],
            source_port,
        };
        let mut file = Vec::new();
        rtpdump::write_header(&mut file, &header).unwrap();
        for (off, p, rtcp) in &packets {
            if *rtcp {
                rtpdump::write_rtcp(&mut file, *off, p).unwrap();
            } else {
                rtpdump::write_packet(&mut file, *off, p).unwrap();
            }
        }
        let mut r = RtpDumpReader::new(&file).unwrap();
        prop_assert_eq!(r.header(), &header);
        for (off, p, rtcp) in &packets {
            let rec = r.next_record().unwrap().unwrap();
            prop_assert_eq!(rec.offset_ms, *off);
            prop_assert_eq!(rec.data, &p[..]);
            prop_assert_eq!(rec.is_rtcp(), *rtcp);
            prop_assert!(!rec.is_truncated());
        }
        prop_assert!(r.next_record().is_none());
    }

    #[test]
    fn seq_unwrapper_never_panics(seqs in prop::collection::vec(any::<u16>(), 0..300)) {
        let mut u = SeqUnwrapper::new();
        for s in seqs {
            let e = u.unwrap(s);
            prop_assert_eq!(e as u16, s);
            prop_assert!(u.highest().unwrap() >= e);
        }
    }

    /// Values within the window of the highest seen are recovered exactly,
    /// including reordering and any number of wraps.
    #[test]
    fn seq_unwrapper_recovers_true_value(
        start in any::<u16>(),
        steps in prop::collection::vec(-32767i64..=32767, 0..300),
    ) {
        let mut u = SeqUnwrapper::new();
        let start = i64::from(start);
        prop_assert_eq!(u.unwrap(start as u16), start);
        let mut highest = start;
        for d in steps {
            let truth = highest + d;
            prop_assert_eq!(u.unwrap(truth as u16), truth);
            highest = highest.max(truth);
        }
    }

    #[test]
    fn timestamp_unwrapper_recovers_true_value(
        start in any::<u32>(),
        steps in prop::collection::vec(-0x7FFF_FFFFi64..=0x7FFF_FFFF, 0..300),
    ) {
        let mut u = TimestampUnwrapper::new();
        let start = i64::from(start);
        prop_assert_eq!(u.unwrap(start as u32), start);
        let mut highest = start;
        for d in steps {
            let truth = highest + d;
            prop_assert_eq!(u.unwrap(truth as u32), truth);
            highest = highest.max(truth);
        }
    }

    #[test]
    fn rtp_builder_round_trip(
        marker in any::<bool>(),
        payload_type in 0u8..128,
        sequence in any::<u16>(),
        timestamp in any::<u32>(),
        ssrc in any::<u32>(),
        csrcs in prop::collection::vec(any::<u32>(), 0..=15),
        ext in ext(),
        pad_to in any::<u8>(),
        payload in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let elements: Vec<ExtensionElement<'_>> = match &ext {
            Ext::Elements(e) => e.iter().map(|(id, d)| ExtensionElement { id: *id, data: d }).collect(),
            _ => Vec::new(),
        };
        let h = RtpHeader {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs: &csrcs,
            extension: match &ext {
                Ext::None => None,
                Ext::Elements(_) => Some(ExtensionSpec::Elements(&elements)),
                Ext::Raw(profile, data) => Some(ExtensionSpec::Raw { profile: *profile, data }),
            },
            pad_to,
        };
        let mut out = vec![0u8; 1024];
        let n = h.write(&payload, &mut out).unwrap();
        prop_assert_eq!(h.encoded_len(payload.len()).unwrap(), n);
        if pad_to > 1 {
            prop_assert_eq!(n % usize::from(pad_to), 0);
        }
        let p = RtpPacket::parse(&out[..n]).unwrap();
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type(), payload_type);
        prop_assert_eq!(p.sequence(), sequence);
        prop_assert_eq!(p.timestamp(), timestamp);
        prop_assert_eq!(p.ssrc(), ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs.clone());
        prop_assert_eq!(p.payload(), &payload[..]);
        match &ext {
            Ext::None => prop_assert!(p.extension().is_none()),
            Ext::Elements(_) => {
                let got: Result<Vec<_>, _> = p.extension().unwrap().elements().collect();
                prop_assert_eq!(got.unwrap(), elements.clone());
            }
            Ext::Raw(profile, data) => {
                let e = p.extension().unwrap();
                prop_assert_eq!(e.profile(), *profile);
                prop_assert_eq!(e.data(), &data[..]);
            }
        }
        // Too small a buffer is an error, never a panic.
        prop_assert!(h.write(&payload, &mut out[..n - 1]).is_err());
    }

    #[test]
    fn rtcp_builder_round_trip(
        ssrc in any::<u32>(),
        info in any::<(u64, u32, u32, u32)>(),
        blocks in prop::collection::vec(report_block(), 0..=31),
        cname in prop::collection::vec(any::<u8>(), 0..=255),
        bye in prop::collection::vec(any::<u32>(), 0..=31),
        reason in prop::option::of(prop::collection::vec(any::<u8>(), 0..=255)),
        sr in any::<bool>(),
    ) {
        let info = SenderInfo {
            ntp_timestamp: info.0,
            rtp_timestamp: info.1,
            packet_count: info.2,
            octet_count: info.3,
        };
        let mut out = vec![0u8; 4096];
        let mut n = if sr {
            write_sr(ssrc, &info, &blocks, &mut out).unwrap()
        } else {
            write_rr(ssrc, &blocks, &mut out).unwrap()
        };
        let items = [SdesItem { item_type: 1, value: &cname }];
        n += write_sdes(ssrc, &items, &mut out[n..]).unwrap();
        n += write_bye(&bye, reason.as_deref(), &mut out[n..]).unwrap();
        let pkts: Vec<_> = parse_compound(&out[..n]).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(pkts.len(), 3);
        let got_blocks: Vec<ReportBlock> = match &pkts[0] {
            RtcpPacket::SenderReport(r) => {
                prop_assert!(sr);
                prop_assert_eq!(r.ssrc, ssrc);
                prop_assert_eq!(r.sender_info, info);
                r.report_blocks.clone().collect()
            }
            RtcpPacket::ReceiverReport(r) => {
                prop_assert!(!sr);
                prop_assert_eq!(r.ssrc, ssrc);
                r.report_blocks.clone().collect()
            }
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!(got_blocks, blocks);
        let RtcpPacket::Sdes(s) = &pkts[1] else {
            return Err(TestCaseError::fail("SDES expected"));
        };
        let chunk = s.chunks().next().unwrap();
        prop_assert_eq!(chunk.ssrc, ssrc);
        prop_assert_eq!(chunk.cname(), Some(&cname[..]));
        let RtcpPacket::Bye(b) = &pkts[2] else {
            return Err(TestCaseError::fail("BYE expected"));
        };
        prop_assert_eq!(b.ssrcs().collect::<Vec<_>>(), bye);
        prop_assert_eq!(b.reason, reason.as_deref());
    }
}
