//! RFC 4733 telephone-event: wire layout, round trips, packed events, digits.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::telephone_event::{
    digit_to_event, event_to_digit, events, TelephoneEvent, BLOCK_LEN,
};
use voxlet::{CodecError, CodecInfo, CodecKind, EncoderSettings};

#[test]
fn parses_rfc4733_layout_field_by_field() {
    // §2.3: event | E R volume(6) | duration(16), network order.
    // Digit '9', not ended, -10 dBm0, 400 ticks (50 ms at 8 kHz).
    let ev = TelephoneEvent::parse(&[0x09, 0x0A, 0x01, 0x90]).unwrap();
    assert_eq!(ev.event, 9);
    assert!(!ev.end);
    assert_eq!(ev.volume, 10);
    assert_eq!(ev.duration, 400);
    assert_eq!(ev.digit(), Some('9'));

    // Final report of '#': E set, -63 dBm0, duration 0xFFFF.
    let ev = TelephoneEvent::parse(&[0x0B, 0xBF, 0xFF, 0xFF]).unwrap();
    assert_eq!(
        ev,
        TelephoneEvent {
            event: 11,
            end: true,
            volume: 63,
            duration: 65535
        }
    );
    assert_eq!(ev.digit(), Some('#'));
}

#[test]
fn reserved_bit_ignored_on_receive_and_zero_on_send() {
    let with_r = TelephoneEvent::parse(&[0x05, 0xCA, 0x03, 0x20]).unwrap();
    let without_r = TelephoneEvent::parse(&[0x05, 0x8A, 0x03, 0x20]).unwrap();
    assert_eq!(with_r, without_r);
    assert!(with_r.end);
    assert_eq!(with_r.volume, 10);
    let mut out = [0u8; 4];
    with_r.write(&mut out).unwrap();
    assert_eq!(out, [0x05, 0x8A, 0x03, 0x20]);
}

#[test]
fn write_parse_round_trip_all_dtmf_events() {
    for event in 0..16u8 {
        for end in [false, true] {
            for (volume, duration) in [(0, 0), (10, 160), (63, 65535), (7, 1234)] {
                let ev = TelephoneEvent {
                    event,
                    end,
                    volume,
                    duration,
                };
                let mut out = [0xAAu8; 6];
                assert_eq!(ev.write(&mut out), Ok(BLOCK_LEN));
                assert_eq!(&out[4..], &[0xAA, 0xAA], "wrote past the block");
                assert_eq!(out[1] & 0x40, 0, "R bit must be zero");
                assert_eq!(out[1] >> 7, end as u8, "E bit");
                assert_eq!(TelephoneEvent::parse(&out[..4]), Ok(ev));
            }
        }
    }
}

#[test]
fn end_bit_only_sets_bit_7() {
    let mut a = [0u8; 4];
    let mut b = [0u8; 4];
    let ev = TelephoneEvent {
        event: 1,
        end: false,
        volume: 63,
        duration: 800,
    };
    ev.write(&mut a).unwrap();
    TelephoneEvent { end: true, ..ev }.write(&mut b).unwrap();
    assert_eq!(a, [0x01, 0x3F, 0x03, 0x20]);
    assert_eq!(b, [0x01, 0xBF, 0x03, 0x20]);
}

#[test]
fn write_errors() {
    let mut out = [0u8; 4];
    let loud = TelephoneEvent {
        event: 0,
        end: false,
        volume: 64,
        duration: 0,
    };
    assert!(matches!(
        loud.write(&mut out),
        Err(CodecError::BadSetting(_))
    ));
    let ok = TelephoneEvent { volume: 63, ..loud };
    assert_eq!(
        ok.write(&mut out[..3]),
        Err(CodecError::OutputTooSmall { needed: 4, got: 3 })
    );
}

#[test]
fn short_or_ragged_payload_is_an_error() {
    for len in [0, 1, 2, 3, 5, 6, 7, 9] {
        let p = vec![0u8; len];
        assert!(
            matches!(
                TelephoneEvent::parse(&p),
                Err(CodecError::InvalidPayload(_))
            ),
            "{len}"
        );
        assert!(events(&p).is_err(), "{len}");
    }
}

#[test]
fn packed_events_last_is_current() {
    // '1' (ended, 800 ticks) then '2' (ongoing, 400 ticks) in one packet.
    let p = [0x01, 0x8A, 0x03, 0x20, 0x02, 0x0A, 0x01, 0x90];
    let all: Vec<TelephoneEvent> = events(&p).unwrap().collect();
    assert_eq!(all.len(), 2);
    assert_eq!(events(&p).unwrap().len(), 2);
    assert_eq!((all[0].event, all[0].end, all[0].duration), (1, true, 800));
    assert_eq!((all[1].event, all[1].end, all[1].duration), (2, false, 400));
    assert_eq!(TelephoneEvent::parse(&p), Ok(all[1]));
    assert_eq!(events(&p).unwrap().next_back(), Some(all[1]));
}

#[test]
fn digit_mapping() {
    let keys = "0123456789*#ABCD";
    for (code, key) in keys.chars().enumerate() {
        assert_eq!(digit_to_event(key), Some(code as u8));
        assert_eq!(event_to_digit(code as u8), Some(key));
    }
    for (lower, code) in [('a', 12), ('b', 13), ('c', 14), ('d', 15)] {
        assert_eq!(digit_to_event(lower), Some(code));
    }
    for bad in ['E', 'e', 'x', ' ', '+', 'é', '٣'] {
        assert_eq!(digit_to_event(bad), None, "{bad}");
    }
    for code in 16..=255u8 {
        assert_eq!(event_to_digit(code), None);
    }
}

#[test]
fn not_audio_in_the_codec_registry() {
    let info = CodecInfo::new(CodecKind::TelephoneEvent, 8000, 1).unwrap();
    assert_eq!(info.decoder().err(), Some(CodecError::NotAudio));
    assert_eq!(
        info.encoder(&EncoderSettings::default()).err(),
        Some(CodecError::NotAudio)
    );
}
