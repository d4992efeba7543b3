//! RTP parsing (RFC 3550 / RFC 8285): any bytes; a packet that parses is
//! rebuilt with `RtpHeader::write` and must parse back to the same fields.
//! Also the RFC 8285 element iterator, and building from elements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::rtp::{ExtensionElement, ExtensionSpec, RtpHeader, RtpPacket};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = RtpPacket::parse(data) else {
        return;
    };
    let csrcs: Vec<u32> = p.csrcs().collect();
    assert_eq!(csrcs.len(), p.csrc_count());
    for i in 0..16 {
        assert_eq!(p.csrc(i), csrcs.get(i).copied());
    }
    assert!(p.header_len() + p.payload().len() + p.padding_len() as usize <= data.len());
    let mut elements = Vec::new();
    let mut elements_ok = true;
    if let Some(ext) = p.extension() {
        let _ = ext.form();
        for e in ext.elements() {
            match e {
                Ok(e) => elements.push(e),
                Err(_) => {
                    elements_ok = false;
                    break;
                }
            }
        }
        if elements_ok {
            for e in &elements {
                assert!(ext.get(e.id).is_some(), "element {} not found by get", e.id);
            }
        }
        let _ = p.extension_element(1);
    }
    let _ = (p.version(), p.marker(), p.has_padding(), p.as_bytes());

    // Rebuild with the raw extension block and compare.
    let extension = p.extension().map(|e| ExtensionSpec::Raw {
        profile: e.profile(),
        data: e.data(),
    });
    let h = RtpHeader {
        marker: p.marker(),
        payload_type: p.payload_type(),
        sequence: p.sequence(),
        timestamp: p.timestamp(),
        ssrc: p.ssrc(),
        csrcs: &csrcs,
        extension,
        pad_to: 0,
    };
    let mut out = vec![0u8; data.len() + 16];
    let n = h
        .write(p.payload(), &mut out)
        .expect("rebuild a parsed packet");
    assert_eq!(h.encoded_len(p.payload().len()).ok(), Some(n));
    let q = RtpPacket::parse(&out[..n]).expect("reparse");
    assert_eq!(
        (
            q.marker(),
            q.payload_type(),
            q.sequence(),
            q.timestamp(),
            q.ssrc()
        ),
        (
            p.marker(),
            p.payload_type(),
            p.sequence(),
            p.timestamp(),
            p.ssrc()
        )
    );
    assert!(q.csrcs().eq(csrcs.iter().copied()));
    assert_eq!(q.payload(), p.payload());
    assert_eq!(
        q.extension().map(|e| (e.profile(), e.data())),
        p.extension().map(|e| (e.profile(), e.data()))
    );

    // Rebuild from the parsed elements (when they are writable) with
    // padding; the elements must come back identical.
    if elements_ok
        && !elements.is_empty()
        && elements.iter().all(|e| e.id != 0 && e.data.len() <= 255)
    {
        let els: Vec<ExtensionElement> = elements.clone();
        let pad = data.first().copied().unwrap_or(0) % 9;
        let h2 = RtpHeader {
            extension: Some(ExtensionSpec::Elements(&els)),
            pad_to: pad,
            ..h
        };
        if let Ok(n) = h2.write(p.payload(), &mut vec![0u8; 0][..]) {
            panic!("wrote {n} bytes into an empty buffer");
        }
        let mut out = vec![0u8; 4096 + data.len()];
        if let Ok(n) = h2.write(p.payload(), &mut out) {
            let q = RtpPacket::parse(&out[..n]).expect("reparse with elements");
            assert_eq!(q.payload(), p.payload());
            let back: Vec<ExtensionElement> = q
                .extension()
                .map(|e| {
                    e.elements()
                        .collect::<Result<Vec<_>, _>>()
                        .expect("own elements")
                })
                .unwrap_or_default();
            assert_eq!(back, els);
        }
    }
});
