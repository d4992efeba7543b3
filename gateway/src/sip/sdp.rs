//! The SDP of a SIP call (RFC 4566 / 3264), only as much as an audio call
//! needs: the gateway's offer from the browser's negotiated codecs, and the
//! far end's answer parsed into the codec, DTMF payload type, media
//! address and direction.
//!
//! Pure functions, so the offer/answer rules are table-tested without
//! sockets. Everything stays in the browser's payload-type space: the offer
//! uses the browser's payload types, and the answer's choice is returned as
//! an index into the offered codecs plus the far end's own payload types, so
//! the media bridge can map between the two when they differ.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use voxlet::codec::{parse_rtpmap, CodecKind};

use crate::negotiate::Codec;

/// Largest SDP body the gateway reads, in bytes.
pub const MAX_SDP: usize = 8192;

/// Why an SDP answer (or offer) cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// Larger than [`MAX_SDP`].
    TooLarge(usize),
    /// Not UTF-8 text.
    NotText,
    /// No `m=audio` line.
    NoAudio,
    /// The audio stream was refused (port 0).
    Rejected,
    /// No usable `c=` address for the audio stream.
    NoAddress,
    /// A line the parser could not read (with the line).
    Malformed(String),
    /// No codec both sides have.
    NoCommonCodec,
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::TooLarge(n) => write!(f, "SDP of {n} bytes (limit {MAX_SDP})"),
            SdpError::NotText => write!(f, "SDP is not UTF-8 text"),
            SdpError::NoAudio => write!(f, "SDP has no m=audio stream"),
            SdpError::Rejected => write!(f, "the audio stream was refused (port 0)"),
            SdpError::NoAddress => write!(f, "SDP has no usable c= address"),
            SdpError::Malformed(l) => write!(f, "malformed SDP line {l:?}"),
            SdpError::NoCommonCodec => write!(f, "no codec in common"),
        }
    }
}

impl std::error::Error for SdpError {}

/// Media direction (`a=sendrecv` …); hold is `sendonly` / `inactive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    /// Both ways (the default).
    #[default]
    SendRecv,
    /// The far end only sends.
    SendOnly,
    /// The far end only receives.
    RecvOnly,
    /// Neither.
    Inactive,
}

/// What the offer is made of.
#[derive(Clone, Debug)]
pub struct Offer<'a> {
    /// Audio codecs, in order of preference, with the browser's payload types.
    pub codecs: &'a [Codec],
    /// The browser's telephone-event payload type, if DTMF was negotiated.
    pub te_pt: Option<u8>,
    /// Packet time, ms.
    pub ptime: u16,
    /// Address and even port the gateway receives RTP on (RTCP: port + 1).
    pub rtp: SocketAddr,
    /// `o=` session id (any number, stable for the call).
    pub session_id: u64,
    /// `o=` version (incremented by each new offer in the call).
    pub version: u64,
    /// Direction to offer.
    pub direction: Direction,
}

/// The audio codecs a SIP far end may be offered (what voxlet decodes and
/// encodes and what SIP phones know).
pub fn sip_codec(c: &Codec) -> bool {
    matches!(
        c.info.kind,
        CodecKind::Opus | CodecKind::G722 | CodecKind::Pcmu | CodecKind::Pcma
    )
}

/// telephone-event entries of an offer: one per distinct clock of the
/// offered codecs; the first codec's clock gets the browser's payload type,
/// others the lowest dynamic payload type nobody uses.
pub fn te_entries(codecs: &[Codec], te_pt: Option<u8>) -> Vec<(u8, u32)> {
    let Some(te) = te_pt else {
        return Vec::new();
    };
    let mut clocks: Vec<u32> = Vec::new();
    for c in codecs {
        if !clocks.contains(&c.info.clock_rate) {
            clocks.push(c.info.clock_rate);
        }
    }
    let mut used: Vec<u8> = codecs.iter().map(|c| c.pt).collect();
    used.push(te);
    let mut out = Vec::new();
    for (i, clock) in clocks.into_iter().enumerate() {
        let pt = if i == 0 {
            te
        } else {
            match (96u8..=127).find(|p| !used.contains(p)) {
                Some(p) => p,
                None => continue,
            }
        };
        used.push(pt);
        out.push((pt, clock));
    }
    out
}

fn rtpmap_line(c: &Codec) -> String {
    match c.info.kind {
        // RFC 7587: always opus/48000/2 in SDP, whatever is sent.
        CodecKind::Opus => "opus/48000/2".into(),
        k => format!("{}/{}", k.sdp_name(), c.info.clock_rate),
    }
}

/// Builds the SDP offer (or re-offer, with a new `version`).
pub fn build_offer(o: &Offer<'_>) -> String {
    let ip = o.rtp.ip();
    let fam = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let codecs: Vec<&Codec> = o.codecs.iter().filter(|c| sip_codec(c)).collect();
    let owned: Vec<Codec> = codecs.iter().map(|c| (*c).clone()).collect();
    let te = te_entries(&owned, o.te_pt);
    let mut fmts: Vec<String> = codecs.iter().map(|c| c.pt.to_string()).collect();
    fmts.extend(te.iter().map(|(pt, _)| pt.to_string()));
    let mut s = String::new();
    let _ = write!(
        s,
        "v=0\r\no=voxlet {} {} IN {fam} {ip}\r\ns=voxlet\r\nc=IN {fam} {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP {}\r\n",
        o.session_id,
        o.version,
        o.rtp.port(),
        fmts.join(" ")
    );
    for c in &codecs {
        let _ = write!(s, "a=rtpmap:{} {}\r\n", c.pt, rtpmap_line(c));
        if c.info.kind == CodecKind::Opus {
            let _ = write!(s, "a=fmtp:{} useinbandfec=1;stereo=0\r\n", c.pt);
        }
    }
    for (pt, clock) in &te {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/{clock}\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let dir = direction_attr(o.direction);
    let _ = write!(
        s,
        "a=ptime:{}\r\na=rtcp:{}\r\na={dir}\r\n",
        o.ptime,
        o.rtp.port().wrapping_add(1)
    );
    s
}

/// What an answer to a far end's offer is made of (incoming calls).
#[derive(Clone, Debug)]
pub struct AnswerSdp<'a> {
    /// The chosen codec (browser payload type).
    pub codec: &'a Codec,
    /// The offer's payload type for it (the answer uses the offer's numbers).
    pub remote_pt: u8,
    /// The offer's telephone-event payload type and clock, if DTMF is on.
    pub remote_te: Option<(u8, u32)>,
    /// Packet time, ms.
    pub ptime: u16,
    /// Address and even port the gateway receives RTP on.
    pub rtp: SocketAddr,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` version.
    pub version: u64,
    /// Direction to answer.
    pub direction: Direction,
}

/// Builds the SDP answer to a far end's offer: the one chosen codec (and
/// telephone-event) under the offer's payload-type numbers (RFC 3264 §6.1).
pub fn build_answer(a: &AnswerSdp<'_>) -> String {
    let ip = a.rtp.ip();
    let fam = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut fmts = vec![a.remote_pt.to_string()];
    if let Some((pt, _)) = a.remote_te {
        fmts.push(pt.to_string());
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "v=0\r\no=voxlet {} {} IN {fam} {ip}\r\ns=voxlet\r\nc=IN {fam} {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP {}\r\na=rtpmap:{} {}\r\n",
        a.session_id,
        a.version,
        a.rtp.port(),
        fmts.join(" "),
        a.remote_pt,
        rtpmap_line(a.codec)
    );
    if let Some((pt, clock)) = a.remote_te {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/{clock}\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let _ = write!(
        s,
        "a=ptime:{}\r\na=rtcp:{}\r\na={}\r\n",
        a.ptime,
        a.rtp.port().wrapping_add(1),
        direction_attr(a.direction)
    );
    s
}

fn direction_attr(d: Direction) -> &'static str {
    match d {
        Direction::SendRecv => "sendrecv",
        Direction::SendOnly => "sendonly",
        Direction::RecvOnly => "recvonly",
        Direction::Inactive => "inactive",
    }
}

/// One payload format of an SDP audio stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// Payload type.
    pub pt: u8,
    /// rtpmap (`PCMU/8000`), from `a=rtpmap` or the static table.
    pub rtpmap: Option<String>,
}

/// An SDP's audio stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioDesc {
    /// Where to send RTP (RTCP: port + 1).
    pub rtp: SocketAddr,
    /// Formats in the stream's order of preference.
    pub formats: Vec<Format>,
    /// Direction.
    pub direction: Direction,
}

fn static_rtpmap(pt: u8) -> Option<&'static str> {
    match pt {
        0 => Some("PCMU/8000"),
        8 => Some("PCMA/8000"),
        9 => Some("G722/8000"),
        _ => None,
    }
}

/// Parses the first `m=audio` stream of an SDP body.
pub fn parse(body: &[u8]) -> Result<AudioDesc, SdpError> {
    if body.len() > MAX_SDP {
        return Err(SdpError::TooLarge(body.len()));
    }
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
    let mut session_ip: Option<IpAddr> = None;
    let mut media_ip: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    let mut formats: Vec<Format> = Vec::new();
    let mut direction = Direction::SendRecv;
    let mut session_direction = Direction::SendRecv;
    // 0: session level, 1: in the audio stream, 2: in a later stream.
    let mut section = 0u8;
    let bad = |l: &str| SdpError::Malformed(l.chars().take(80).collect());
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(bad(line));
        };
        match key {
            "m" => {
                if section == 1 {
                    section = 2;
                    continue;
                }
                if section == 2 {
                    continue;
                }
                let mut it = value.split_ascii_whitespace();
                if it.next() != Some("audio") {
                    continue;
                }
                let p = it.next().ok_or_else(|| bad(line))?;
                let p: u16 = p
                    .split('/')
                    .next()
                    .and_then(|x| x.parse().ok())
                    .ok_or_else(|| bad(line))?;
                let _proto = it.next().ok_or_else(|| bad(line))?;
                for f in it {
                    let pt: u8 = f
                        .parse()
                        .ok()
                        .filter(|p| *p <= 127)
                        .ok_or_else(|| bad(line))?;
                    formats.push(Format {
                        pt,
                        rtpmap: static_rtpmap(pt).map(String::from),
                    });
                }
                port = Some(p);
                direction = session_direction;
                section = 1;
            }
            "c" if section != 2 => {
                let mut it = value.split_ascii_whitespace();
                let (Some("IN"), Some(_fam), Some(addr)) = (it.next(), it.next(), it.next()) else {
                    return Err(bad(line));
                };
                let addr = addr.split('/').next().unwrap_or(addr);
                let ip: IpAddr = addr.parse().map_err(|_| bad(line))?;
                if section == 0 {
                    session_ip = Some(ip);
                } else {
                    media_ip = Some(ip);
                }
            }
            "a" if section != 2 => {
                let dir = match value {
                    "sendrecv" => Some(Direction::SendRecv),
                    "sendonly" => Some(Direction::SendOnly),
                    "recvonly" => Some(Direction::RecvOnly),
                    "inactive" => Some(Direction::Inactive),
                    _ => None,
                };
                if let Some(d) = dir {
                    if section == 0 {
                        session_direction = d;
                    } else {
                        direction = d;
                    }
                } else if let Some(rest) = value.strip_prefix("rtpmap:") {
                    if section != 1 {
                        continue;
                    }
                    let (pt, map) = rest.split_once(' ').ok_or_else(|| bad(line))?;
                    let pt: u8 = pt.trim().parse().map_err(|_| bad(line))?;
                    if let Some(f) = formats.iter_mut().find(|f| f.pt == pt) {
                        f.rtpmap = Some(map.trim().to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let Some(port) = port else {
        return Err(SdpError::NoAudio);
    };
    if port == 0 {
        return Err(SdpError::Rejected);
    }
    let ip = media_ip.or(session_ip).ok_or(SdpError::NoAddress)?;
    Ok(AudioDesc {
        rtp: SocketAddr::new(ip, port),
        formats,
        direction,
    })
}

/// What the answer chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selected {
    /// Index into the offered codecs.
    pub codec: usize,
    /// The far end's payload type for that codec.
    pub remote_pt: u8,
    /// The far end's telephone-event payload type and clock (same clock as
    /// the codec if it has one, else any), when both sides have DTMF.
    pub remote_te: Option<(u8, u32)>,
    /// Where to send RTP.
    pub rtp: SocketAddr,
    /// The far end's direction.
    pub direction: Direction,
}

/// Picks the codec of an answer: its first format that is one of the
/// offered codecs (same codec and clock; Opus channels do not count).
pub fn select(
    offered: &[Codec],
    te_offered: bool,
    answer: &AudioDesc,
) -> Result<Selected, SdpError> {
    let parsed: Vec<(u8, voxlet::codec::CodecInfo)> = answer
        .formats
        .iter()
        .filter_map(|f| Some((f.pt, parse_rtpmap(f.rtpmap.as_deref()?).ok()?)))
        .collect();
    let (codec, remote_pt, clock) = parsed
        .iter()
        .filter(|(_, i)| i.kind != CodecKind::TelephoneEvent)
        .find_map(|(pt, info)| {
            offered
                .iter()
                .position(|c| {
                    sip_codec(c) && c.info.kind == info.kind && c.info.clock_rate == info.clock_rate
                })
                .map(|i| (i, *pt, info.clock_rate))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let te: Vec<(u8, u32)> = parsed
        .iter()
        .filter(|(_, i)| i.kind == CodecKind::TelephoneEvent)
        .map(|(pt, i)| (*pt, i.clock_rate))
        .collect();
    let remote_te = if te_offered {
        te.iter().find(|(_, c)| *c == clock).or(te.first()).copied()
    } else {
        None
    };
    Ok(Selected {
        codec,
        remote_pt,
        remote_te,
        rtp: answer.rtp,
        direction: answer.direction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(pt: u8, rtpmap: &str) -> Codec {
        let info = parse_rtpmap(rtpmap).unwrap();
        Codec {
            pt,
            rtpmap: rtpmap.into(),
            info,
        }
    }

    fn offered() -> Vec<Codec> {
        vec![
            codec(111, "opus/48000/2"),
            codec(9, "G722/8000"),
            codec(0, "PCMU/8000"),
            codec(8, "PCMA/8000"),
            codec(11, "L16/44100"),
        ]
    }

    #[test]
    fn offer_has_every_sip_codec_and_dtmf_per_clock() {
        let codecs = offered();
        let sdp = build_offer(&Offer {
            codecs: &codecs,
            te_pt: Some(101),
            ptime: 20,
            rtp: "127.0.0.1:40000".parse().unwrap(),
            session_id: 7,
            version: 1,
            direction: Direction::SendRecv,
        });
        assert!(
            sdp.contains("m=audio 40000 RTP/AVP 111 9 0 8 101 96\r\n"),
            "{sdp}"
        );
        assert!(sdp.contains("a=rtpmap:111 opus/48000/2\r\n"));
        assert!(sdp.contains("a=rtpmap:9 G722/8000\r\n"));
        assert!(sdp.contains("a=rtpmap:101 telephone-event/48000\r\n"));
        assert!(sdp.contains("a=rtpmap:96 telephone-event/8000\r\n"));
        assert!(sdp.contains("c=IN IP4 127.0.0.1\r\n"));
        assert!(sdp.contains("a=sendrecv\r\n"));
        assert!(!sdp.contains("L16"));
        // Our own offer parses back to the same stream.
        let d = parse(sdp.as_bytes()).unwrap();
        assert_eq!(d.rtp, "127.0.0.1:40000".parse().unwrap());
        assert_eq!(d.formats.len(), 6);
    }

    #[test]
    fn answers_select() {
        let codecs = offered();
        let answer = |body: &str| parse(body.replace('\n', "\r\n").as_bytes());
        // baresip-like: answers with its preference, the offer's PTs.
        let a = answer(
            "v=0\no=- 1 2 IN IP4 10.0.0.2\ns=-\nc=IN IP4 10.0.0.2\nt=0 0\nm=audio 5004 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=sendrecv\n",
        )
        .unwrap();
        let s = select(&codecs, true, &a).unwrap();
        assert_eq!(s.codec, 2);
        assert_eq!(s.remote_pt, 0);
        assert_eq!(s.remote_te, Some((101, 8000)));
        assert_eq!(s.rtp, "10.0.0.2:5004".parse().unwrap());
        // Static PT without rtpmap, media-level c= wins, other PT numbers.
        let a = answer(
            "v=0\nc=IN IP4 1.1.1.1\nm=audio 6000 RTP/AVP 9 98\nc=IN IP4 10.0.0.3\na=rtpmap:98 telephone-event/8000\na=sendonly\n",
        )
        .unwrap();
        let s = select(&codecs, false, &a).unwrap();
        assert_eq!((s.codec, s.remote_pt, s.remote_te), (1, 9, None));
        assert_eq!(s.rtp.ip().to_string(), "10.0.0.3");
        assert_eq!(s.direction, Direction::SendOnly);
        // Opus under another PT; te at 48000 preferred for Opus.
        let a = answer(
            "v=0\nc=IN IP4 10.0.0.2\nm=audio 7000 RTP/AVP 100 97 96\na=rtpmap:100 opus/48000/2\na=rtpmap:97 telephone-event/8000\na=rtpmap:96 telephone-event/48000\n",
        )
        .unwrap();
        let s = select(&codecs, true, &a).unwrap();
        assert_eq!(
            (s.codec, s.remote_pt, s.remote_te),
            (0, 100, Some((96, 48000)))
        );
        // Our answer to that as an offer: its numbers, one codec.
        let ans = build_answer(&AnswerSdp {
            codec: &codecs[0],
            remote_pt: 100,
            remote_te: Some((96, 48000)),
            ptime: 20,
            rtp: "127.0.0.1:40002".parse().unwrap(),
            session_id: 1,
            version: 2,
            direction: Direction::RecvOnly,
        });
        assert!(ans.contains("m=audio 40002 RTP/AVP 100 96\r\n"), "{ans}");
        assert!(ans.contains("a=rtpmap:100 opus/48000/2\r\n"));
        assert!(ans.contains("a=rtpmap:96 telephone-event/48000\r\n"));
        assert!(ans.contains("o=voxlet 1 2 IN IP4"));
        assert!(ans.contains("a=recvonly\r\n"));
    }

    /// Mutated answers (bytes replaced, cut, lines repeated) parse or give a
    /// typed error, never a panic.
    #[test]
    fn mutated_answers_never_panic() {
        let codecs = offered();
        let base = "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n".as_bytes();
        let noise = b"=: /\r\n0123456789amcIN4P\xff\xc3";
        let mut rng = voxlet_support::rng::Rng::new(5);
        for _ in 0..20_000 {
            let mut b = base.to_vec();
            for _ in 0..1 + rng.next_u64() % 6 {
                let i = (rng.next_u64() % b.len() as u64) as usize;
                match rng.next_u64() % 3 {
                    0 => b[i] = noise[(rng.next_u64() % noise.len() as u64) as usize],
                    1 => b.truncate(i.max(1)),
                    _ => {
                        let tail = b[i..].to_vec();
                        b.extend_from_slice(&tail);
                    }
                }
            }
            if let Ok(d) = parse(&b) {
                let _ = select(&codecs, true, &d);
            }
        }
    }

    #[test]
    fn bad_answers_are_typed_errors() {
        let codecs = offered();
        let parse_s = |s: &str| parse(s.as_bytes());
        assert_eq!(
            parse_s("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n"),
            Err(SdpError::Rejected)
        );
        assert_eq!(
            parse_s("v=0\r\nm=video 5 RTP/AVP 96\r\n"),
            Err(SdpError::NoAudio)
        );
        assert_eq!(
            parse_s("v=0\r\nm=audio 5 RTP/AVP 0\r\n"),
            Err(SdpError::NoAddress)
        );
        assert!(matches!(parse_s("garbage"), Err(SdpError::Malformed(_))));
        assert!(matches!(
            parse_s("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 300\r\n"),
            Err(SdpError::Malformed(_))
        ));
        assert!(matches!(
            parse_s("v=0\r\nc=IN IP4 nope\r\nm=audio 5 RTP/AVP 0\r\n"),
            Err(SdpError::Malformed(_))
        ));
        assert_eq!(parse(&[0xff, 0xfe]), Err(SdpError::NotText));
        assert_eq!(
            parse(&vec![b'a'; MAX_SDP + 1]),
            Err(SdpError::TooLarge(MAX_SDP + 1))
        );
        let gsm = parse_s("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 3\r\n").unwrap();
        assert_eq!(select(&codecs, true, &gsm), Err(SdpError::NoCommonCodec));
    }
}
