//! RFC 4733 telephone-event payloads: parse, iterate both ways, write back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::codec::telephone_event::{digit_to_event, event_to_digit, events, TelephoneEvent};

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = TelephoneEvent::parse(data) {
        let mut out = [0u8; 4];
        let n = ev.write(&mut out).expect("write a parsed event");
        assert_eq!(TelephoneEvent::parse(&out[..n]), Ok(ev));
        if let Some(d) = ev.digit() {
            assert_eq!(digit_to_event(d), Some(ev.event));
            assert_eq!(event_to_digit(ev.event), Some(d));
        }
        let _ = ev.write(&mut out[..n.saturating_sub(1)]);
    }
    if let Ok(it) = events(data) {
        let fwd: Vec<TelephoneEvent> = it.clone().collect();
        let mut back: Vec<TelephoneEvent> = it.rev().collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(fwd.len(), data.len() / 4);
    }
});
