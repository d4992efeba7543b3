//! RTP parsing, extensions, serialization and unwrapping against hand-built
//! packets (RFC 3550 §5.1, RFC 8285 §4 examples).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::rtp::{
    seq_diff, seq_newer, ts_diff, ts_newer, ExtensionElement, ExtensionForm, ExtensionSpec,
    RtpHeader, RtpPacket, SeqUnwrapper, TimestampUnwrapper, ONE_BYTE_PROFILE, TWO_BYTE_PROFILE,
};
use voxlet::RtpError;

fn collect_elements(p: &RtpPacket<'_>) -> Vec<Result<(u8, Vec<u8>), RtpError>> {
    p.extension()
        .expect("extension present")
        .elements()
        .map(|r| r.map(|e| (e.id, e.data.to_vec())))
        .collect()
}

/// V=2, no P/X/CC, M=0, PT=0, seq 0x1234, ts 0xDEADBEEF, ssrc 0x01020304, 4-byte payload.
const MINIMAL: [u8; 16] = [
    0x80, 0x00, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB, 0xCC, 0xDD,
];

#[test]
fn minimal_packet_fields() {
    let p = RtpPacket::parse(&MINIMAL).unwrap();
    assert_eq!(p.version(), 2);
    assert!(!p.has_padding());
    assert!(!p.has_extension());
    assert!(!p.marker());
    assert_eq!(p.payload_type(), 0);
    assert_eq!(p.sequence(), 0x1234);
    assert_eq!(p.timestamp(), 0xDEAD_BEEF);
    assert_eq!(p.ssrc(), 0x0102_0304);
    assert_eq!(p.csrc_count(), 0);
    assert_eq!(p.csrcs().count(), 0);
    assert_eq!(p.extension(), None);
    assert_eq!(p.header_len(), 12);
    assert_eq!(p.payload(), &[0xAA, 0xBB, 0xCC, 0xDD]);
    assert_eq!(p.padding_len(), 0);
    assert_eq!(p.as_bytes(), &MINIMAL);
}

#[test]
fn marker_and_payload_type_share_a_byte() {
    let mut b = MINIMAL;
    b[1] = 0x80 | 111;
    let p = RtpPacket::parse(&b).unwrap();
    assert!(p.marker());
    assert_eq!(p.payload_type(), 111);
}

#[test]
fn header_only_packet_has_empty_payload() {
    let p = RtpPacket::parse(&MINIMAL[..12]).unwrap();
    assert!(p.payload().is_empty());
}

#[test]
fn versions_other_than_2_are_rejected() {
    for v in [0u8, 1, 3] {
        let mut b = MINIMAL;
        b[0] = (v << 6) | (b[0] & 0x3F);
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadVersion(v)));
    }
}

#[test]
fn padding_is_stripped_from_the_payload() {
    let mut b = MINIMAL.to_vec();
    b[0] |= 0x20;
    b.extend_from_slice(&[0, 0, 3]);
    let p = RtpPacket::parse(&b).unwrap();
    assert!(p.has_padding());
    assert_eq!(p.padding_len(), 3);
    assert_eq!(p.payload(), &[0xAA, 0xBB, 0xCC, 0xDD]);
}

#[test]
fn padding_may_cover_everything_after_the_header() {
    let mut b = MINIMAL.to_vec();
    b[0] |= 0x20;
    b[15] = 4;
    let p = RtpPacket::parse(&b).unwrap();
    assert!(p.payload().is_empty());
    assert_eq!(p.padding_len(), 4);
}

#[test]
fn padding_count_zero_is_rejected() {
    let mut b = MINIMAL.to_vec();
    b[0] |= 0x20;
    b.extend_from_slice(&[0, 0, 0]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
}

#[test]
fn padding_longer_than_the_body_is_rejected() {
    let mut b = MINIMAL.to_vec();
    b[0] |= 0x20;
    b[15] = 5; // only 4 bytes follow the header
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
    // P bit with nothing after the header at all.
    let mut h = MINIMAL[..12].to_vec();
    h[0] |= 0x20;
    assert_eq!(RtpPacket::parse(&h), Err(RtpError::BadPadding));
}

#[test]
fn padding_cannot_eat_into_the_csrc_list() {
    // CC=1, P set, padding count 8 but only 4 bytes follow the CSRC.
    let mut b = vec![0xA1, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9, 9];
    b.extend_from_slice(&[0, 0, 0, 8]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
    let n = b.len();
    b[n - 1] = 4;
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![0x0909_0909]);
    assert!(p.payload().is_empty());
}

fn fifteen_csrcs() -> Vec<u8> {
    let mut b = vec![0x8F, 0x08, 0, 7, 0, 0, 0, 160, 0xCA, 0xFE, 0xBA, 0xBE];
    for i in 1..=15u32 {
        b.extend_from_slice(&(i * 0x0101_0101).to_be_bytes());
    }
    b.extend_from_slice(b"payload");
    b
}

#[test]
fn csrc_list_of_fifteen() {
    let b = fifteen_csrcs();
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(p.csrc_count(), 15);
    let csrcs: Vec<u32> = p.csrcs().collect();
    assert_eq!(
        csrcs,
        (1..=15u32).map(|i| i * 0x0101_0101).collect::<Vec<_>>()
    );
    assert_eq!(p.csrcs().len(), 15);
    assert_eq!(p.csrc(0), Some(0x0101_0101));
    assert_eq!(p.csrc(14), Some(0x0F0F_0F0F));
    assert_eq!(p.csrc(15), None);
    assert_eq!(p.csrc(usize::MAX), None);
    assert_eq!(p.header_len(), 12 + 60);
    assert_eq!(p.payload(), b"payload");
}

#[test]
fn csrc_list_past_the_end_is_truncated() {
    let b = fifteen_csrcs();
    assert_eq!(RtpPacket::parse(&b[..12 + 56]), Err(RtpError::Truncated));
}

/// RFC 8285 §4.2 figure: one-byte elements (ids 1, 2, 3 with 1, 2, 4 bytes),
/// two padding bytes between the second and the third.
fn rfc8285_one_byte() -> Vec<u8> {
    let mut b = vec![0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    b.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x03]);
    b.extend_from_slice(&[0x10, 0xA1, 0x21, 0xB1]);
    b.extend_from_slice(&[0xB2, 0x00, 0x00, 0x33]);
    b.extend_from_slice(&[0xC1, 0xC2, 0xC3, 0xC4]);
    b.extend_from_slice(&[0x55; 5]);
    b
}

#[test]
fn one_byte_extension_rfc8285_example() {
    let b = rfc8285_one_byte();
    let p = RtpPacket::parse(&b).unwrap();
    let ext = p.extension().unwrap();
    assert_eq!(ext.profile(), ONE_BYTE_PROFILE);
    assert_eq!(ext.form(), ExtensionForm::OneByte);
    assert_eq!(ext.data().len(), 12);
    assert_eq!(
        collect_elements(&p),
        vec![
            Ok((1, vec![0xA1])),
            Ok((2, vec![0xB1, 0xB2])),
            Ok((3, vec![0xC1, 0xC2, 0xC3, 0xC4])),
        ]
    );
    assert_eq!(p.extension_element(2), Some(&[0xB1, 0xB2][..]));
    assert_eq!(p.extension_element(4), None);
    assert_eq!(p.header_len(), 12 + 16);
    assert_eq!(p.payload(), &[0x55; 5]);
}

#[test]
fn one_byte_id_15_stops_parsing() {
    let mut b = rfc8285_one_byte();
    // Replace the first padding byte with an id-15 element header: the third
    // element is no longer seen, and the bogus length after it does not matter.
    b[12 + 4 + 5] = 0xF7;
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(
        collect_elements(&p),
        vec![Ok((1, vec![0xA1])), Ok((2, vec![0xB1, 0xB2]))]
    );
    assert_eq!(p.extension_element(3), None);
}

#[test]
fn one_byte_malformed_elements() {
    // Element claims 16 bytes in a 4-byte block.
    let mut b = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 1];
    b.extend_from_slice(&[0x1F, 1, 2, 3]);
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(collect_elements(&p), vec![Err(RtpError::BadExtension)]);
    assert_eq!(p.extension_element(1), None);

    // Id 0 with a non-zero length is neither padding nor an element.
    let mut b = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 1];
    b.extend_from_slice(&[0x10, 0xAA, 0x01, 0x00]);
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(
        collect_elements(&p),
        vec![Ok((1, vec![0xAA])), Err(RtpError::BadExtension)]
    );
    assert_eq!(p.extension_element(1), Some(&[0xAA][..]));
}

#[test]
fn extension_block_past_the_end_is_truncated() {
    let b = rfc8285_one_byte();
    // Cut inside the element data, and inside the 4-byte block header.
    assert_eq!(RtpPacket::parse(&b[..12 + 10]), Err(RtpError::Truncated));
    assert_eq!(RtpPacket::parse(&b[..12 + 2]), Err(RtpError::Truncated));
}

/// RFC 8285 §4.3 figure: two-byte elements (id 1 empty, id 2 one byte,
/// id 3 four bytes) with a padding byte.
fn rfc8285_two_byte(appbits: u8) -> Vec<u8> {
    let mut b = vec![0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    b.extend_from_slice(&[0x10, appbits, 0x00, 0x03]);
    b.extend_from_slice(&[0x01, 0x00, 0x02, 0x01]);
    b.extend_from_slice(&[0xB1, 0x00, 0x03, 0x04]);
    b.extend_from_slice(&[0xC1, 0xC2, 0xC3, 0xC4]);
    b
}

#[test]
fn two_byte_extension_rfc8285_example() {
    let b = rfc8285_two_byte(0);
    let p = RtpPacket::parse(&b).unwrap();
    let ext = p.extension().unwrap();
    assert_eq!(ext.profile(), TWO_BYTE_PROFILE);
    assert_eq!(ext.form(), ExtensionForm::TwoByte { appbits: 0 });
    assert_eq!(
        collect_elements(&p),
        vec![
            Ok((1, vec![])),
            Ok((2, vec![0xB1])),
            Ok((3, vec![0xC1, 0xC2, 0xC3, 0xC4])),
        ]
    );
    assert_eq!(p.extension_element(1), Some(&[][..]));
    assert!(p.payload().is_empty());

    let b = rfc8285_two_byte(0x05);
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(
        p.extension().unwrap().form(),
        ExtensionForm::TwoByte { appbits: 5 }
    );
    assert_eq!(collect_elements(&p).len(), 3);
}

#[test]
fn two_byte_malformed_elements() {
    // Length runs past the block.
    let mut b = rfc8285_two_byte(0);
    b[12 + 4 + 7] = 0x09;
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(
        collect_elements(&p),
        vec![
            Ok((1, vec![])),
            Ok((2, vec![0xB1])),
            Err(RtpError::BadExtension)
        ]
    );
    // Id byte as the very last byte, no room for its length.
    let mut b = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 1];
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x07]);
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(collect_elements(&p), vec![Err(RtpError::BadExtension)]);
}

#[test]
fn unknown_profile_is_opaque() {
    let mut b = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xAB, 0xCD, 0, 2];
    b.extend_from_slice(&[0x10, 0xAA, 0x21, 0xBB, 1, 2, 3, 4]);
    b.push(0x77);
    let p = RtpPacket::parse(&b).unwrap();
    let ext = p.extension().unwrap();
    assert_eq!(ext.profile(), 0xABCD);
    assert_eq!(ext.form(), ExtensionForm::Opaque);
    assert_eq!(ext.data(), &[0x10, 0xAA, 0x21, 0xBB, 1, 2, 3, 4]);
    assert_eq!(ext.elements().count(), 0);
    assert_eq!(ext.get(1), None);
    assert_eq!(p.payload(), &[0x77]);
}

#[test]
fn empty_extension_block() {
    let b = [0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 0, 1];
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(p.extension().unwrap().data(), &[] as &[u8]);
    assert_eq!(p.extension().unwrap().elements().count(), 0);
    assert_eq!(p.payload(), &[1]);
}

/// A packet in the shape a WebRTC browser sends Opus in (hand-written, not a
/// capture): PT 111 with marker, one-byte extensions ssrc-audio-level (id 1,
/// RFC 6464: voice bit set, −42 dBov), abs-send-time (id 2, 3 bytes) and
/// transport-wide-cc (id 3, 2 bytes), zero-padded to a word.
#[test]
fn webrtc_shaped_opus_packet() {
    let b: Vec<u8> = [
        &[0x90, 0xEF, 0x5A, 0x3C][..],
        &[0x00, 0x0B, 0xB8, 0x00],
        &[0x4F, 0x1C, 0x2E, 0x7D],
        &[0xBE, 0xDE, 0x00, 0x03],
        &[0x10, 0xAA, 0x22, 0x12],
        &[0x34, 0x56, 0x31, 0x00],
        &[0x2A, 0x00, 0x00, 0x00],
        &[0x78, 0x0B, 0xE4, 0xC1],
    ]
    .concat();
    let p = RtpPacket::parse(&b).unwrap();
    assert!(p.marker());
    assert_eq!(p.payload_type(), 111);
    assert_eq!(p.sequence(), 0x5A3C);
    assert_eq!(p.timestamp(), 768_000);
    assert_eq!(p.ssrc(), 0x4F1C_2E7D);
    let level = p.extension_element(1).unwrap();
    assert_eq!(level, &[0xAA]);
    assert_eq!(level[0] >> 7, 1, "voice activity bit");
    assert_eq!(level[0] & 0x7F, 42, "level in -dBov");
    assert_eq!(p.extension_element(2), Some(&[0x12, 0x34, 0x56][..]));
    assert_eq!(p.extension_element(3), Some(&[0x00, 0x2A][..]));
    assert_eq!(p.payload(), &[0x78, 0x0B, 0xE4, 0xC1]);
}

#[test]
fn every_strict_prefix_of_a_padded_packet_is_an_error() {
    // CC=2, X, P: every prefix is cut in the header (Truncated) or ends on a
    // byte that is no valid padding count (0 or 0xFF).
    let els = [
        ExtensionElement {
            id: 5,
            data: &[1, 2, 3],
        },
        ExtensionElement {
            id: 9,
            data: &[4; 7],
        },
    ];
    let h = RtpHeader {
        marker: true,
        payload_type: 96,
        sequence: 7,
        timestamp: 9,
        ssrc: 11,
        csrcs: &[0xFFFF_FFFF, 0],
        extension: Some(ExtensionSpec::Elements(&els)),
        pad_to: 16,
    };
    let payload = [0xFF; 9];
    let mut buf = [0u8; 128];
    let n = h.write(&payload, &mut buf).unwrap();
    let full = &buf[..n];
    let p = RtpPacket::parse(full).unwrap();
    assert!(p.padding_len() > 0);
    let header_len = p.header_len();
    for len in 0..n {
        let r = RtpPacket::parse(&full[..len]);
        if len < header_len {
            assert_eq!(r, Err(RtpError::Truncated), "prefix {len}");
        } else {
            assert_eq!(r, Err(RtpError::BadPadding), "prefix {len}");
        }
    }
}

#[test]
fn prefixes_of_an_unpadded_packet_error_until_the_header_is_complete() {
    let b = rfc8285_one_byte();
    let header_len = 12 + 16;
    for len in 0..=b.len() {
        match RtpPacket::parse(&b[..len]) {
            Ok(p) => {
                assert!(len >= header_len, "prefix {len} accepted");
                assert_eq!(p.payload(), &b[header_len..len]);
            }
            Err(e) => {
                assert!(len < header_len, "prefix {len}: {e}");
                assert_eq!(e, RtpError::Truncated);
            }
        }
    }
}

#[test]
fn write_minimal_matches_hand_built_bytes() {
    let h = RtpHeader {
        sequence: 0x1234,
        timestamp: 0xDEAD_BEEF,
        ssrc: 0x0102_0304,
        ..RtpHeader::default()
    };
    let mut out = [0u8; 16];
    assert_eq!(h.encoded_len(4), Ok(16));
    assert_eq!(h.write(&[0xAA, 0xBB, 0xCC, 0xDD], &mut out), Ok(16));
    assert_eq!(out, MINIMAL);
}

#[test]
fn write_one_byte_elements_exact_bytes() {
    let els = [
        ExtensionElement {
            id: 1,
            data: &[0xA1],
        },
        ExtensionElement {
            id: 2,
            data: &[0xB1, 0xB2],
        },
        ExtensionElement {
            id: 3,
            data: &[0xC1, 0xC2, 0xC3, 0xC4],
        },
    ];
    let h = RtpHeader {
        payload_type: 96,
        sequence: 1,
        ssrc: 1,
        extension: Some(ExtensionSpec::Elements(&els)),
        ..RtpHeader::default()
    };
    let mut out = [0u8; 64];
    let n = h.write(&[], &mut out).unwrap();
    assert_eq!(
        &out[..n],
        &[
            0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, //
            0xBE, 0xDE, 0x00, 0x03, //
            0x10, 0xA1, 0x21, 0xB1, 0xB2, 0x33, 0xC1, 0xC2, 0xC3, 0xC4, 0x00, 0x00,
        ]
    );
}

#[test]
fn write_picks_two_byte_form_when_needed() {
    let cases: [&[ExtensionElement<'_>]; 3] = [
        &[ExtensionElement { id: 15, data: &[1] }],
        &[ExtensionElement { id: 1, data: &[] }],
        &[
            ExtensionElement { id: 1, data: &[1] },
            ExtensionElement {
                id: 2,
                data: &[2; 17],
            },
        ],
    ];
    for els in cases {
        let h = RtpHeader {
            extension: Some(ExtensionSpec::Elements(els)),
            ..RtpHeader::default()
        };
        let mut out = [0u8; 64];
        let n = h.write(b"x", &mut out).unwrap();
        let p = RtpPacket::parse(&out[..n]).unwrap();
        let ext = p.extension().unwrap();
        assert_eq!(ext.profile(), TWO_BYTE_PROFILE);
        let got: Vec<_> = ext.elements().map(|e| e.unwrap()).collect();
        assert_eq!(got, els);
        assert_eq!(p.payload(), b"x");
    }
}

#[test]
fn write_round_trip_with_everything() {
    let els = [
        ExtensionElement {
            id: 14,
            data: &[0xEE; 16],
        },
        ExtensionElement { id: 1, data: &[7] },
    ];
    let csrcs: Vec<u32> = (0..15).map(|i| 0x1000 + i).collect();
    for pad_to in [0u8, 1, 4, 7, 32, 255] {
        let h = RtpHeader {
            marker: true,
            payload_type: 127,
            sequence: 65535,
            timestamp: u32::MAX,
            ssrc: 0x8000_0001,
            csrcs: &csrcs,
            extension: Some(ExtensionSpec::Elements(&els)),
            pad_to,
        };
        let payload: Vec<u8> = (0..37).collect();
        let mut out = vec![0u8; 512];
        let n = h.write(&payload, &mut out).unwrap();
        assert_eq!(h.encoded_len(payload.len()), Ok(n));
        if pad_to > 1 {
            assert_eq!(n % usize::from(pad_to), 0, "pad_to {pad_to}");
        }
        let p = RtpPacket::parse(&out[..n]).unwrap();
        assert!(p.marker());
        assert_eq!(p.payload_type(), 127);
        assert_eq!(p.sequence(), 65535);
        assert_eq!(p.timestamp(), u32::MAX);
        assert_eq!(p.ssrc(), 0x8000_0001);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        assert_eq!(p.extension().unwrap().profile(), ONE_BYTE_PROFILE);
        let got: Vec<_> = p
            .extension()
            .unwrap()
            .elements()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(got, els);
        assert_eq!(p.payload(), &payload[..]);
        assert_eq!(p.has_padding(), p.padding_len() > 0);
    }
}

#[test]
fn write_raw_extension_verbatim() {
    let h = RtpHeader {
        extension: Some(ExtensionSpec::Raw {
            profile: 0x1234,
            data: &[1, 2, 3, 4, 5, 6, 7, 8],
        }),
        ..RtpHeader::default()
    };
    let mut out = [0u8; 32];
    let n = h.write(&[9], &mut out).unwrap();
    assert_eq!(n, 12 + 4 + 8 + 1);
    assert_eq!(&out[12..24], &[0x12, 0x34, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    let p = RtpPacket::parse(&out[..n]).unwrap();
    assert_eq!(p.extension().unwrap().data(), &[1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn write_rejects_fields_that_do_not_fit() {
    let mut out = [0u8; 256];
    let sixteen = [0u32; 16];
    let h = RtpHeader {
        csrcs: &sixteen,
        ..RtpHeader::default()
    };
    assert_eq!(h.write(&[], &mut out), Err(RtpError::FieldOverflow));
    let h = RtpHeader {
        payload_type: 128,
        ..RtpHeader::default()
    };
    assert_eq!(h.write(&[], &mut out), Err(RtpError::FieldOverflow));
    let h = RtpHeader {
        extension: Some(ExtensionSpec::Raw {
            profile: 1,
            data: &[1, 2, 3],
        }),
        ..RtpHeader::default()
    };
    assert_eq!(h.write(&[], &mut out), Err(RtpError::FieldOverflow));
    let zero_id = [ExtensionElement { id: 0, data: &[1] }];
    let h = RtpHeader {
        extension: Some(ExtensionSpec::Elements(&zero_id)),
        ..RtpHeader::default()
    };
    assert_eq!(h.write(&[], &mut out), Err(RtpError::FieldOverflow));
    let big = [0u8; 256];
    let too_long = [ExtensionElement { id: 1, data: &big }];
    let h = RtpHeader {
        extension: Some(ExtensionSpec::Elements(&too_long)),
        ..RtpHeader::default()
    };
    assert_eq!(h.write(&[], &mut out), Err(RtpError::FieldOverflow));
}

#[test]
fn write_into_a_short_buffer_fails_cleanly() {
    let els = [ExtensionElement {
        id: 3,
        data: &[1, 2],
    }];
    let h = RtpHeader {
        csrcs: &[1, 2],
        extension: Some(ExtensionSpec::Elements(&els)),
        pad_to: 8,
        ..RtpHeader::default()
    };
    let need = h.encoded_len(5).unwrap();
    for len in 0..need {
        let mut out = vec![0u8; len];
        assert_eq!(h.write(&[1; 5], &mut out), Err(RtpError::BufferTooSmall));
    }
    let mut out = vec![0u8; need + 10];
    assert_eq!(h.write(&[1; 5], &mut out), Ok(need));
}

#[test]
fn seq_helpers() {
    assert_eq!(seq_diff(1, 65535), 2);
    assert_eq!(seq_diff(65535, 1), -2);
    assert!(seq_newer(0, 65535));
    assert!(!seq_newer(65535, 0));
    assert!(!seq_newer(5, 5));
    // Exactly half the range apart: neither is newer.
    assert_eq!(seq_diff(32768, 0), i16::MIN);
    assert!(!seq_newer(32768, 0) && !seq_newer(0, 32768));
    assert!(seq_newer(32767, 0));
    assert_eq!(ts_diff(10, u32::MAX - 9), 20);
    assert!(ts_newer(0, u32::MAX));
    assert!(!ts_newer(u32::MAX, 0));
}

#[test]
fn seq_unwrap_forward_across_the_wrap() {
    let mut u = SeqUnwrapper::new();
    let got: Vec<i64> = [65533u16, 65534, 65535, 0, 1, 2]
        .iter()
        .map(|&s| u.unwrap(s))
        .collect();
    assert_eq!(got, vec![65533, 65534, 65535, 65536, 65537, 65538]);
    assert_eq!(u.highest(), Some(65538));
}

#[test]
fn seq_unwrap_reordered_around_the_wrap() {
    let mut u = SeqUnwrapper::new();
    assert_eq!(u.unwrap(65534), 65534);
    assert_eq!(u.unwrap(65535), 65535);
    assert_eq!(u.unwrap(1), 65537);
    // 0 arrives after 1: lands between, does not move the reference back.
    assert_eq!(u.unwrap(0), 65536);
    assert_eq!(u.highest(), Some(65537));
    assert_eq!(u.unwrap(2), 65538);
    // A late 65535 from the previous cycle.
    assert_eq!(u.unwrap(65535), 65535);
    assert_eq!(u.unwrap(3), 65539);
}

#[test]
fn seq_unwrap_backward_before_the_first_packet() {
    let mut u = SeqUnwrapper::new();
    assert_eq!(u.unwrap(0), 0);
    assert_eq!(u.unwrap(65535), -1);
    assert_eq!(u.unwrap(1), 1);
    assert_eq!(u.peek(65534), -2);
}

#[test]
fn seq_unwrap_window_is_half_the_range() {
    let mut u = SeqUnwrapper::new();
    u.unwrap(1000);
    // Up to 32767 ahead is forward.
    assert_eq!(u.peek(1000 + 32767), 1000 + 32767);
    // 32768 away is read as behind: the ambiguity the docs describe.
    assert_eq!(u.peek(1000 + 32768), 1000 - 32768);
    u.reset();
    assert_eq!(u.highest(), None);
    assert_eq!(u.unwrap(40000), 40000);
}

#[test]
fn timestamp_unwrap_across_2_pow_32() {
    let mut u = TimestampUnwrapper::new();
    let start = u32::MAX - 319;
    assert_eq!(u.unwrap(start), i64::from(start));
    assert_eq!(u.unwrap(start.wrapping_add(160)), i64::from(start) + 160);
    assert_eq!(u.unwrap(start.wrapping_add(480)), i64::from(start) + 480);
    assert_eq!(u.unwrap(160), (1i64 << 32) + 160);
    // Reordered: the packet before the wrap arrives last.
    assert_eq!(u.unwrap(start.wrapping_add(320)), 1i64 << 32);
    assert_eq!(u.highest(), Some((1i64 << 32) + 160));
    // Second wrap.
    let mut v = TimestampUnwrapper::new();
    let mut expect = 0i64;
    let mut ts = 0u32;
    for _ in 0..10 {
        ts = ts.wrapping_add(0x7000_0000);
        expect += 0x7000_0000;
        assert_eq!(v.unwrap(ts), expect);
    }
}

mod rtpdump_files {
    use voxlet::rtp::rtcp::{parse_compound, RtcpPacket};
    use voxlet::rtp::RtpPacket;
    use voxlet::rtpdump::{
        write_header, write_packet, write_rtcp, RtpDumpError, RtpDumpHeader, RtpDumpReader,
    };

    /// A file as `rtpdump -F dump` writes it: one RTP packet at +0 ms, one RTCP
    /// RR (plen 0) at +20 ms, one RTP packet captured headers-only (plen 172,
    /// 12 bytes stored) at +40 ms.
    fn hand_built() -> Vec<u8> {
        let mut f = b"#!rtpplay1.0 127.0.0.1/5004\n".to_vec();
        f.extend_from_slice(&[0x65, 0x5F, 0x1A, 0x00]); // start.tv_sec
        f.extend_from_slice(&[0x00, 0x07, 0xA1, 0x20]); // start.tv_usec 500000
        f.extend_from_slice(&[0x7F, 0x00, 0x00, 0x01]); // source 127.0.0.1
        f.extend_from_slice(&[0x13, 0x8C, 0x00, 0x00]); // port 5004, padding
        let rtp = [0x80, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xFF, 0x7F];
        f.extend_from_slice(&[0x00, 22, 0x00, 14, 0, 0, 0, 0]);
        f.extend_from_slice(&rtp);
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
        f.extend_from_slice(&[0x00, 16, 0x00, 0, 0, 0, 0, 20]);
        f.extend_from_slice(&rr);
        f.extend_from_slice(&[0x00, 20, 0x00, 172, 0, 0, 0, 40]);
        f.extend_from_slice(&rtp[..12]);
        f
    }

    #[test]
    fn reads_a_hand_built_file() {
        let f = hand_built();
        let mut r = RtpDumpReader::new(&f).unwrap();
        assert_eq!(
            *r.header(),
            RtpDumpHeader {
                address: "127.0.0.1",
                port: 5004,
                start_sec: 0x655F_1A00,
                start_usec: 500_000,
                source: 0x7F00_0001,
                source_port: 5004,
            }
        );
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(a.offset_ms, 0);
        assert!(!a.is_rtcp() && !a.is_truncated());
        assert_eq!(RtpPacket::parse(a.data).unwrap().payload(), &[0xFF, 0x7F]);
        let b = r.next_record().unwrap().unwrap();
        assert_eq!(b.offset_ms, 20);
        assert!(b.is_rtcp());
        assert!(matches!(
            parse_compound(b.data).next(),
            Some(Ok(RtcpPacket::ReceiverReport(_)))
        ));
        let c = r.next_record().unwrap().unwrap();
        assert_eq!((c.offset_ms, c.original_len, c.data.len()), (40, 172, 12));
        assert!(c.is_truncated());
        assert!(r.next_record().is_none());

        // The plain iterator: (offset, bytes) for every record.
        let offsets: Vec<u32> = RtpDumpReader::new(&f)
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(offsets, vec![0, 20, 40]);
    }

    #[test]
    fn writer_reproduces_the_hand_built_file() {
        let f = hand_built();
        let header = *RtpDumpReader::new(&f).unwrap().header();
        let mut out = Vec::new();
        write_header(&mut out, &header).unwrap();
        let mut recs = RtpDumpReader::new(&f).unwrap();
        for _ in 0..2 {
            let rec = recs.next_record().unwrap().unwrap();
            if rec.is_rtcp() {
                write_rtcp(&mut out, rec.offset_ms, rec.data).unwrap();
            } else {
                write_packet(&mut out, rec.offset_ms, rec.data).unwrap();
            }
        }
        // The headers-only record cannot be written (plen is the stored length).
        let full_two = f.len() - 20;
        assert_eq!(out, &f[..full_two]);
        assert_eq!(
            write_packet(&mut out, 0, &vec![0; 65528]),
            Err(RtpDumpError::PacketTooLong(65528))
        );
        assert!(write_packet(&mut out, 0, &vec![0; 65527]).is_ok());
        let bad = RtpDumpHeader {
            address: "a\nb",
            ..header
        };
        assert_eq!(
            write_header(&mut Vec::new(), &bad),
            Err(RtpDumpError::BadHeaderLine)
        );
    }

    #[test]
    fn rejects_malformed_files() {
        assert_eq!(
            RtpDumpReader::new(b"#!rtpplay1.1 1.2.3.4/5\n").err(),
            Some(RtpDumpError::BadMagic)
        );
        assert_eq!(RtpDumpReader::new(b"").err(), Some(RtpDumpError::BadMagic));
        assert_eq!(
            RtpDumpReader::new(b"#!rtpplay1.0 1.2.3.4/5").err(),
            Some(RtpDumpError::BadHeaderLine)
        );
        assert_eq!(
            RtpDumpReader::new(b"#!rtpplay1.0 1.2.3.4:5\n").err(),
            Some(RtpDumpError::BadHeaderLine)
        );
        assert_eq!(
            RtpDumpReader::new(b"#!rtpplay1.0 1.2.3.4/70000\n").err(),
            Some(RtpDumpError::BadHeaderLine)
        );
        let f = hand_built();
        let header_end = 28 + 16;
        // Every cut inside the binary header.
        for len in 28..header_end {
            assert_eq!(
                RtpDumpReader::new(&f[..len]).err(),
                Some(RtpDumpError::Truncated)
            );
        }
        // Every cut inside a record: the records before it, then Truncated.
        let boundaries = [header_end, header_end + 22, header_end + 38, f.len()];
        for len in header_end..=f.len() {
            let got: Vec<_> = RtpDumpReader::new(&f[..len]).unwrap().collect();
            let whole = boundaries.iter().filter(|&&b| b <= len).count() - 1;
            if boundaries.contains(&len) {
                assert_eq!(got.len(), whole, "cut at {len}");
                assert!(got.iter().all(Result::is_ok));
            } else {
                assert_eq!(got.len(), whole + 1, "cut at {len}");
                assert_eq!(got[whole], Err(RtpDumpError::Truncated), "cut at {len}");
            }
        }
        // A record whose length does not even cover its own header.
        let mut g = f[..header_end].to_vec();
        g.extend_from_slice(&[0, 7, 0, 0, 0, 0, 0, 0]);
        let got: Vec<_> = RtpDumpReader::new(&g).unwrap().collect();
        assert_eq!(got, vec![Err(RtpDumpError::BadRecordLength(7))]);
    }

    #[test]
    fn crlf_and_ipv6_header_lines() {
        let mut f = b"#!rtpplay1.0 2001:db8::1/6000\r\n".to_vec();
        f.extend_from_slice(&[0; 16]);
        let r = RtpDumpReader::new(&f).unwrap();
        assert_eq!(r.header().address, "2001:db8::1");
        assert_eq!(r.header().port, 6000);
        assert_eq!(r.count(), 0);
    }
}
