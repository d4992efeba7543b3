//! RTCP compound parsing and building against hand-built packets (RFC 3550 §6).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::rtp::rtcp::{
    ntp_from_ms, ntp_middle_32, ntp_to_ms, parse_compound, round_trip_compact, write_bye, write_rr,
    write_sdes, write_sdes_cname, write_sr, ReportBlock, RtcpPacket, SdesItem, SenderInfo,
    NTP_UNIX_EPOCH_OFFSET_MS, PT_XR, SDES_CNAME, SDES_TOOL,
};
use voxlet::RtcpError;

fn all(buf: &[u8]) -> Vec<Result<RtcpPacket<'_>, RtcpError>> {
    parse_compound(buf).collect()
}

fn ok(buf: &[u8]) -> Vec<RtcpPacket<'_>> {
    parse_compound(buf).map(|r| r.unwrap()).collect()
}

/// SR from SSRC 0x11223344 with one report block, then SDES CNAME, as an
/// endpoint sends them (RFC 3550 §6.1: SR first, SDES with CNAME always).
fn sr_sdes() -> Vec<u8> {
    let mut b = vec![];
    // SR: V=2, RC=1, PT=200, length 12 (52 bytes).
    b.extend_from_slice(&[0x81, 200, 0x00, 0x0C]);
    b.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    b.extend_from_slice(&[0xE8, 0x5B, 0x2C, 0x10]); // NTP seconds
    b.extend_from_slice(&[0x80, 0x00, 0x00, 0x00]); // NTP fraction (.5 s)
    b.extend_from_slice(&[0x00, 0x01, 0xF4, 0x00]); // RTP ts 128000
    b.extend_from_slice(&[0x00, 0x00, 0x03, 0xE8]); // 1000 packets
    b.extend_from_slice(&[0x00, 0x02, 0x71, 0x00]); // 160000 octets
                                                    // Report block about 0xAABBCCDD.
    b.extend_from_slice(&[0xAA, 0xBB, 0xCC, 0xDD]);
    b.extend_from_slice(&[0x19, 0x00, 0x00, 0x2A]); // 25/256 lost, 42 cumulative
    b.extend_from_slice(&[0x00, 0x01, 0x00, 0x05]); // 1 cycle, seq 5
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x50]); // jitter 80
    b.extend_from_slice(&[0xB7, 0x05, 0x20, 0x00]); // LSR
    b.extend_from_slice(&[0x00, 0x05, 0x40, 0x00]); // DLSR 5.25 s
                                                    // SDES: SC=1, PT=202, length 6 (28 bytes); CNAME of 16 bytes.
    b.extend_from_slice(&[0x81, 202, 0x00, 0x06]);
    b.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    b.extend_from_slice(&[0x01, 0x10]);
    b.extend_from_slice(b"alice@10.0.0.1:x");
    b.extend_from_slice(&[0x00, 0x00]); // null item + pad to 32 bits
    b
}

#[test]
fn sr_plus_sdes_compound() {
    let buf = sr_sdes();
    assert_eq!(buf.len(), 52 + 28);
    let pkts = ok(&buf);
    assert_eq!(pkts.len(), 2);
    let RtcpPacket::SenderReport(sr) = &pkts[0] else {
        panic!("expected SR, got {:?}", pkts[0]);
    };
    assert_eq!(pkts[0].packet_type(), 200);
    assert_eq!(sr.ssrc, 0x1122_3344);
    assert_eq!(
        sr.sender_info,
        SenderInfo {
            ntp_timestamp: 0xE85B_2C10_8000_0000,
            rtp_timestamp: 128_000,
            packet_count: 1000,
            octet_count: 160_000,
        }
    );
    let blocks: Vec<ReportBlock> = sr.report_blocks.clone().collect();
    assert_eq!(
        blocks,
        vec![ReportBlock {
            ssrc: 0xAABB_CCDD,
            fraction_lost: 25,
            cumulative_lost: 42,
            extended_highest_seq: 0x0001_0005,
            jitter: 80,
            lsr: 0xB705_2000,
            dlsr: 0x0005_4000,
        }]
    );
    assert!(sr.extension.is_empty());

    let RtcpPacket::Sdes(sdes) = &pkts[1] else {
        panic!("expected SDES, got {:?}", pkts[1]);
    };
    assert_eq!(sdes.chunk_count(), 1);
    let chunk = sdes.chunks().next().unwrap();
    assert_eq!(chunk.ssrc, 0x1122_3344);
    assert_eq!(chunk.cname(), Some(&b"alice@10.0.0.1:x"[..]));
    assert_eq!(chunk.items().count(), 1);
}

/// RR from 0x01010101 with two blocks.
fn rr_two_blocks() -> Vec<u8> {
    let mut b = vec![0x82, 201, 0x00, 0x0D, 0x01, 0x01, 0x01, 0x01];
    for (ssrc, lost) in [(0x0A0A_0A0Au32, 0x00_0003u32), (0x0B0B_0B0B, 0x00_0000)] {
        b.extend_from_slice(&ssrc.to_be_bytes());
        b.extend_from_slice(&((0x10 << 24) | lost).to_be_bytes());
        b.extend_from_slice(&0x0002_FFFFu32.to_be_bytes());
        b.extend_from_slice(&7u32.to_be_bytes());
        b.extend_from_slice(&0u32.to_be_bytes());
        b.extend_from_slice(&0u32.to_be_bytes());
    }
    b
}

#[test]
fn rr_with_two_blocks() {
    let buf = rr_two_blocks();
    assert_eq!(buf.len(), 56);
    let pkts = ok(&buf);
    assert_eq!(pkts.len(), 1);
    let RtcpPacket::ReceiverReport(rr) = &pkts[0] else {
        panic!("expected RR");
    };
    assert_eq!(rr.ssrc, 0x0101_0101);
    assert_eq!(rr.report_blocks.len(), 2);
    let b: Vec<_> = rr.report_blocks.clone().collect();
    assert_eq!(b[0].ssrc, 0x0A0A_0A0A);
    assert_eq!(b[0].cumulative_lost, 3);
    assert_eq!(b[0].fraction_lost, 0x10);
    assert_eq!(b[1].ssrc, 0x0B0B_0B0B);
    assert_eq!(b[1].cumulative_lost, 0);
    assert_eq!(b[1].extended_highest_seq, 0x0002_FFFF);
    assert_eq!(b[1].jitter, 7);
}

#[test]
fn empty_rr_is_just_an_ssrc() {
    let buf = [0x80, 201, 0, 1, 9, 9, 9, 9];
    let pkts = ok(&buf);
    let RtcpPacket::ReceiverReport(rr) = &pkts[0] else {
        panic!()
    };
    assert_eq!(rr.ssrc, 0x0909_0909);
    assert_eq!(rr.report_blocks.len(), 0);
}

#[test]
fn negative_cumulative_lost_is_sign_extended() {
    for (raw, expect) in [
        (0xFF_FFFFu32, -1i32),
        (0x80_0000, -8_388_608),
        (0x7F_FFFF, 8_388_607),
        (0xFF_FFFE, -2),
    ] {
        let mut buf = rr_two_blocks();
        buf[12..16].copy_from_slice(&((0xFF << 24) | raw).to_be_bytes());
        let pkts = ok(&buf);
        let RtcpPacket::ReceiverReport(rr) = &pkts[0] else {
            panic!()
        };
        let first = rr.report_blocks.clone().next().unwrap();
        assert_eq!(first.cumulative_lost, expect, "raw {raw:#x}");
        assert_eq!(first.fraction_lost, 0xFF);
    }
}

#[test]
fn bye_with_reason() {
    let mut buf = vec![0x82, 203, 0x00, 0x04];
    buf.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
    buf.push(7);
    buf.extend_from_slice(b"goodbye");
    assert_eq!(buf.len(), 20);
    let pkts = ok(&buf);
    let RtcpPacket::Bye(bye) = &pkts[0] else {
        panic!()
    };
    assert_eq!(bye.ssrcs().collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(bye.reason, Some(&b"goodbye"[..]));
}

#[test]
fn bye_without_reason() {
    let buf = [0x81, 203, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF];
    let pkts = ok(&buf);
    let RtcpPacket::Bye(bye) = &pkts[0] else {
        panic!()
    };
    assert_eq!(bye.ssrcs().collect::<Vec<_>>(), vec![0xDEAD_BEEF]);
    assert_eq!(bye.reason, None);
}

#[test]
fn unknown_xr_is_skipped_not_an_error() {
    let mut buf = rr_two_blocks();
    // XR (RFC 3611) with one 8-byte block: header + SSRC + block.
    let xr = [
        0x80, 207, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x04, 0x00, 0x00, 0x02, 0xAB, 0xCD, 0xEF,
        0x01,
    ];
    buf.extend_from_slice(&xr);
    buf.extend_from_slice(&[0x80, 203, 0, 1, 1, 1, 1, 1]);
    let pkts = ok(&buf);
    assert_eq!(pkts.len(), 3);
    assert!(matches!(pkts[0], RtcpPacket::ReceiverReport(_)));
    assert_eq!(
        pkts[1],
        RtcpPacket::Unknown {
            packet_type: PT_XR,
            count: 0,
            payload: &xr[4..],
        }
    );
    assert!(matches!(pkts[2], RtcpPacket::Bye(_)));
    // What a caller does: keep the types it knows.
    let known = parse_compound(&buf)
        .filter_map(Result::ok)
        .filter(|p| !matches!(p, RtcpPacket::Unknown { .. }))
        .count();
    assert_eq!(known, 2);
}

#[test]
fn padding_in_the_last_packet() {
    let mut buf = sr_sdes();
    // Pad the SDES by 4 bytes: P bit, length 7, last byte 4.
    let sdes_at = 52;
    buf[sdes_at] |= 0x20;
    buf[sdes_at + 3] = 7;
    buf.extend_from_slice(&[0, 0, 0, 4]);
    let pkts = ok(&buf);
    let RtcpPacket::Sdes(s) = &pkts[1] else {
        panic!()
    };
    assert_eq!(
        s.chunks().next().unwrap().cname(),
        Some(&b"alice@10.0.0.1:x"[..])
    );

    let n = buf.len();
    buf[n - 1] = 0;
    assert_eq!(all(&buf)[1], Err(RtcpError::BadPadding));
    buf[n - 1] = 29; // more than the 28 bytes after the header
    assert_eq!(all(&buf)[1], Err(RtcpError::BadPadding));
}

#[test]
fn bad_version_stops_the_walk() {
    let mut buf = sr_sdes();
    buf[52] = 0x41; // SDES with version 1
    let r = all(&buf);
    assert_eq!(r.len(), 2);
    assert!(r[0].is_ok());
    assert_eq!(r[1], Err(RtcpError::BadVersion(1)));
    buf[0] = 0xC1; // version 3 first
    assert_eq!(all(&buf), vec![Err(RtcpError::BadVersion(3))]);
}

#[test]
fn every_prefix_errors_unless_it_ends_on_a_packet_boundary() {
    let mut buf = sr_sdes();
    buf.extend_from_slice(&rr_two_blocks());
    let mut bye = vec![0x81, 203, 0, 2, 0, 0, 0, 9, 3];
    bye.extend_from_slice(b"bye");
    buf.extend_from_slice(&bye);
    let boundaries = [0, 52, 80, 136, buf.len()];
    assert_eq!(ok(&buf).len(), 4);
    for len in 0..=buf.len() {
        let r = all(&buf[..len]);
        let errs = r.iter().filter(|x| x.is_err()).count();
        if boundaries.contains(&len) {
            assert_eq!(errs, 0, "prefix {len}");
            assert_eq!(r.len(), boundaries.iter().position(|&b| b == len).unwrap());
        } else {
            assert_eq!(errs, 1, "prefix {len}");
            assert!(r.last().unwrap().is_err(), "error is last, prefix {len}");
            assert_eq!(
                *r.last().unwrap(),
                Err(RtcpError::Truncated),
                "prefix {len}"
            );
        }
    }
}

#[test]
fn report_count_larger_than_length_is_bad_length() {
    // RR claiming 2 blocks with room for 1.
    let mut buf = rr_two_blocks();
    buf[3] = 0x07;
    buf.truncate(32);
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
    // SR claiming 3 blocks with room for 1.
    let mut buf = sr_sdes();
    buf[0] = 0x83;
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
    // SR too short even for the sender info.
    let buf = [0x80, 200, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
    // BYE claiming 3 SSRCs in 2 words.
    let buf = [0x83, 203, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
}

#[test]
fn report_count_smaller_than_length_leaves_an_extension() {
    // RR with RC=1 but two blocks' worth of bytes: the rest is the
    // profile-specific extension.
    let mut buf = rr_two_blocks();
    buf[0] = 0x81;
    let pkts = ok(&buf);
    let RtcpPacket::ReceiverReport(rr) = &pkts[0] else {
        panic!()
    };
    assert_eq!(rr.report_blocks.len(), 1);
    assert_eq!(rr.extension.len(), 24);
}

#[test]
fn malformed_bye_and_sdes_are_bad_length() {
    // BYE reason length past the end.
    let buf = [0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'a', b'b', b'c'];
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
    // SDES claiming 2 chunks, carrying 1.
    let mut buf = sr_sdes()[52..].to_vec();
    buf[0] = 0x82;
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
    // SDES item length past the end of the packet.
    let mut buf = sr_sdes()[52..].to_vec();
    buf[9] = 0x30;
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
    // SDES chunk with no null terminator.
    let buf = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, b'a', b'b'];
    assert_eq!(all(&buf), vec![Err(RtcpError::BadLength)]);
}

#[test]
fn sdes_with_several_chunks_and_items() {
    let mut buf = vec![0x82, 202, 0, 0];
    // Chunk 1: CNAME "a", TOOL "vox" → 4 + 3 + 5 + 1 = 13 → 16.
    buf.extend_from_slice(&[0, 0, 0, 1, 1, 1, b'a', 6, 3, b'v', b'o', b'x', 0, 0, 0, 0]);
    // Chunk 2: no items → 4 + 1 → 8.
    buf.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0]);
    buf[3] = (buf.len() / 4 - 1) as u8;
    let pkts = ok(&buf);
    let RtcpPacket::Sdes(s) = &pkts[0] else {
        panic!()
    };
    let chunks: Vec<_> = s.chunks().collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].ssrc, 1);
    let items: Vec<_> = chunks[0].items().collect();
    assert_eq!(
        items,
        vec![
            SdesItem {
                item_type: SDES_CNAME,
                value: b"a"
            },
            SdesItem {
                item_type: SDES_TOOL,
                value: b"vox"
            },
        ]
    );
    assert_eq!(chunks[1].ssrc, 2);
    assert_eq!(chunks[1].items().count(), 0);
    assert_eq!(chunks[1].cname(), None);
}

#[test]
fn build_sr_sdes_compound_matches_hand_built_bytes() {
    let info = SenderInfo {
        ntp_timestamp: 0xE85B_2C10_8000_0000,
        rtp_timestamp: 128_000,
        packet_count: 1000,
        octet_count: 160_000,
    };
    let block = ReportBlock {
        ssrc: 0xAABB_CCDD,
        fraction_lost: 25,
        cumulative_lost: 42,
        extended_highest_seq: 0x0001_0005,
        jitter: 80,
        lsr: 0xB705_2000,
        dlsr: 0x0005_4000,
    };
    let mut out = [0u8; 256];
    let n1 = write_sr(0x1122_3344, &info, &[block], &mut out).unwrap();
    let n2 = write_sdes_cname(0x1122_3344, b"alice@10.0.0.1:x", &mut out[n1..]).unwrap();
    assert_eq!(&out[..n1 + n2], &sr_sdes()[..]);
}

#[test]
fn build_parse_round_trip() {
    let blocks: Vec<ReportBlock> = (0..31)
        .map(|i| ReportBlock {
            ssrc: i,
            fraction_lost: i as u8 * 8,
            cumulative_lost: (i as i32 - 15) * 100_000,
            extended_highest_seq: i << 16 | 0xFFFF,
            jitter: i * 3,
            lsr: i.wrapping_mul(0x0101_0101),
            dlsr: 65536 * i,
        })
        .collect();
    let info = SenderInfo {
        ntp_timestamp: u64::MAX - 5,
        rtp_timestamp: 1,
        packet_count: 2,
        octet_count: 3,
    };
    let mut out = vec![0u8; 2048];
    let mut n = 0;
    n += write_sr(7, &info, &blocks, &mut out[n..]).unwrap();
    n += write_rr(8, &blocks[..2], &mut out[n..]).unwrap();
    n += write_sdes(
        7,
        &[
            SdesItem {
                item_type: SDES_CNAME,
                value: b"cname",
            },
            SdesItem {
                item_type: SDES_TOOL,
                value: &[b't'; 255],
            },
        ],
        &mut out[n..],
    )
    .unwrap();
    n += write_bye(&[7, 8], Some(b"done"), &mut out[n..]).unwrap();
    n += write_bye(&[], None, &mut out[n..]).unwrap();
    assert_eq!(n % 4, 0);
    let pkts = ok(&out[..n]);
    assert_eq!(pkts.len(), 5);
    let RtcpPacket::SenderReport(sr) = &pkts[0] else {
        panic!()
    };
    assert_eq!(sr.ssrc, 7);
    assert_eq!(sr.sender_info, info);
    assert_eq!(sr.report_blocks.clone().collect::<Vec<_>>(), blocks);
    let RtcpPacket::ReceiverReport(rr) = &pkts[1] else {
        panic!()
    };
    assert_eq!(rr.ssrc, 8);
    assert_eq!(rr.report_blocks.clone().collect::<Vec<_>>(), &blocks[..2]);
    let RtcpPacket::Sdes(s) = &pkts[2] else {
        panic!()
    };
    let c = s.chunks().next().unwrap();
    assert_eq!(c.ssrc, 7);
    assert_eq!(c.cname(), Some(&b"cname"[..]));
    assert_eq!(c.items().nth(1).unwrap().value, &[b't'; 255]);
    let RtcpPacket::Bye(bye) = &pkts[3] else {
        panic!()
    };
    assert_eq!(bye.ssrcs().collect::<Vec<_>>(), vec![7, 8]);
    assert_eq!(bye.reason, Some(&b"done"[..]));
    let RtcpPacket::Bye(bye) = &pkts[4] else {
        panic!()
    };
    assert_eq!(bye.ssrcs().count(), 0);
    assert_eq!(bye.reason, None);
}

#[test]
fn builders_clamp_cumulative_lost_and_reject_overflow() {
    let mut out = [0u8; 2048];
    let block = |lost| ReportBlock {
        cumulative_lost: lost,
        ..ReportBlock::default()
    };
    for (given, expect) in [
        (i32::MAX, 0x7F_FFFF),
        (i32::MIN, -0x80_0000),
        (-5, -5),
        (9_000_000, 0x7F_FFFF),
    ] {
        let n = write_rr(1, &[block(given)], &mut out).unwrap();
        let pkts = ok(&out[..n]);
        let RtcpPacket::ReceiverReport(rr) = &pkts[0] else {
            panic!()
        };
        assert_eq!(
            rr.report_blocks.clone().next().unwrap().cumulative_lost,
            expect
        );
    }
    let many = [ReportBlock::default(); 32];
    assert_eq!(write_rr(1, &many, &mut out), Err(RtcpError::FieldOverflow));
    assert_eq!(
        write_sr(1, &SenderInfo::default(), &many, &mut out),
        Err(RtcpError::FieldOverflow)
    );
    assert_eq!(
        write_bye(&[0; 32], None, &mut out),
        Err(RtcpError::FieldOverflow)
    );
    assert_eq!(
        write_bye(&[1], Some(&[b'x'; 256]), &mut out),
        Err(RtcpError::FieldOverflow)
    );
    assert_eq!(
        write_sdes_cname(1, &[b'x'; 256], &mut out),
        Err(RtcpError::FieldOverflow)
    );
    assert_eq!(
        write_sdes(
            1,
            &[SdesItem {
                item_type: 0,
                value: b""
            }],
            &mut out
        ),
        Err(RtcpError::FieldOverflow)
    );
}

#[test]
fn builders_report_short_buffers() {
    let mut small = [0u8; 27];
    assert_eq!(
        write_sr(1, &SenderInfo::default(), &[], &mut small),
        Err(RtcpError::BufferTooSmall)
    );
    assert_eq!(
        write_sr(1, &SenderInfo::default(), &[], &mut [0u8; 28]),
        Ok(28)
    );
    assert_eq!(
        write_rr(1, &[ReportBlock::default()], &mut [0u8; 31]),
        Err(RtcpError::BufferTooSmall)
    );
    assert_eq!(
        write_sdes_cname(1, b"abc", &mut [0u8; 15]),
        Err(RtcpError::BufferTooSmall)
    );
    // Header, SSRC, CNAME item (2 + 3), null, pad: 16.
    assert_eq!(write_sdes_cname(1, b"abc", &mut [0u8; 16]), Ok(16));
    assert_eq!(
        write_bye(&[1], Some(b"abc"), &mut [0u8; 11]),
        Err(RtcpError::BufferTooSmall)
    );
}

#[test]
fn ntp_helpers() {
    // Unix epoch is NTP second 2208988800 = 0x83AA7E80.
    assert_eq!(
        ntp_from_ms(0, NTP_UNIX_EPOCH_OFFSET_MS),
        0x83AA_7E80u64 << 32
    );
    assert_eq!(
        ntp_from_ms(1_500, NTP_UNIX_EPOCH_OFFSET_MS),
        (0x83AA_7E81u64 << 32) | 0x8000_0000
    );
    assert_eq!(ntp_from_ms(250, 0), 0x4000_0000);
    assert_eq!(ntp_middle_32(0x1234_5678_9ABC_DEF0), 0x5678_9ABC);
    for ms in [0u64, 1, 999, 1_700_000_000_123, 2_085_978_495_999] {
        let ntp = ntp_from_ms(ms, NTP_UNIX_EPOCH_OFFSET_MS);
        assert_eq!(ntp_to_ms(ntp, NTP_UNIX_EPOCH_OFFSET_MS), ms);
    }
    assert_eq!(ntp_to_ms(0, NTP_UNIX_EPOCH_OFFSET_MS), 0);
    // RFC 3550 §6.4.1 example: A = 0xb710:8000, LSR = 0xb705:2000,
    // DLSR = 0x0005:4000 → delay 0x0006:2000 (6.125 s).
    assert_eq!(
        round_trip_compact(0xB710_8000, 0xB705_2000, 0x0005_4000),
        Some(0x0006_2000)
    );
    assert_eq!(round_trip_compact(0xB710_8000, 0, 0x0005_4000), None);
    assert_eq!(round_trip_compact(0x0000_0001, 0x0000_0002, 0), None);
}
