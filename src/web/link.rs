//! [`Link`]: a player and/or a mic on a `WebSocket`, an `RTCDataChannel`
//! or any transport, in one wire format (the npm package's
//! `transports.js`). Messages are parsed and built by the core's wire
//! adapters ([`crate::wasm::wire::Wire`], the same code the npm package
//! runs on its main thread).

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventTarget, MessageEvent, RtcDataChannel, RtcDataChannelState, WebSocket};

use super::mic::{MicNode, PacketFn, PacketKind};
use super::player::{PlayerMode, PlayerNode};
use super::{random_u32, set};
use crate::wasm::wire::{Wire, WireItem};

/// How audio and control travel on the transport (the npm package's `FORMATS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WireFormat {
    /// `'rtp'`: one RTP packet per binary message, both ways; RTCP muxed
    /// on the same channel is recognised. Needs a player in RTP mode.
    #[default]
    Rtp,
    /// `'twilio'`: Twilio Media Streams JSON (base64 μ-law 8 kHz).
    Twilio,
    /// `'asterisk'`: Asterisk `chan_websocket` (binary media, text control).
    Asterisk,
    /// `'l16-meta'`: a JSON metadata text message, then binary 16-bit LE
    /// PCM (jambonz, FreeSWITCH `mod_audio_fork`, Vonage).
    L16Meta,
}

impl WireFormat {
    /// The npm package's (and the core adapter's) name of the format.
    pub fn as_str(self) -> &'static str {
        match self {
            WireFormat::Rtp => "rtp",
            WireFormat::Twilio => "twilio",
            WireFormat::Asterisk => "asterisk",
            WireFormat::L16Meta => "l16-meta",
        }
    }
}

/// Twilio format: when this side plays the Twilio end of the stream
/// (the npm package's `twilio` option).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TwilioOptions {
    /// `startStream`: send `connected` and `start` once the transport is open.
    pub start_stream: bool,
    /// `streamSid` (default: random `MZ…`).
    pub stream_sid: Option<String>,
    /// `callSid` (default: random `CA…`).
    pub call_sid: Option<String>,
    /// `accountSid` (default empty).
    pub account_sid: Option<String>,
    /// `customParameters` of the `start` message.
    pub custom_parameters: Vec<(String, String)>,
}

/// What to connect, and how (the npm package's `connectWebSocket` options).
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// `player`: plays what arrives (mode RTP for [`WireFormat::Rtp`], stream otherwise).
    pub player: Option<PlayerNode>,
    /// `mic`: its packets are sent (its packet handler is the link's while connected).
    pub mic: Option<MicNode>,
    /// `format` (default RTP).
    pub format: WireFormat,
    /// `rtcp`: RTP format: send the mic's RTCP sender reports too (default true).
    pub rtcp: bool,
    /// `twilio`: Twilio format options.
    pub twilio: TwilioOptions,
    /// `asteriskFormat`: Asterisk channel format known up front (`ulaw`,
    /// `slin16`…); `None` waits for `MEDIA_START`.
    pub asterisk_format: Option<String>,
    /// `defaultRate`: l16-meta, the rate when the metadata names none.
    pub default_rate: Option<u32>,
}

impl LinkOptions {
    /// `format` with `player` and `mic` (either may be left out).
    pub fn new(
        format: WireFormat,
        player: Option<&PlayerNode>,
        mic: Option<&MicNode>,
    ) -> LinkOptions {
        LinkOptions {
            player: player.cloned(),
            mic: mic.cloned(),
            format,
            rtcp: true,
            twilio: TwilioOptions::default(),
            asterisk_format: None,
            default_rate: None,
        }
    }

    /// Raw RTP with `player` and `mic`.
    pub fn rtp(player: Option<&PlayerNode>, mic: Option<&MicNode>) -> LinkOptions {
        LinkOptions::new(WireFormat::Rtp, player, mic)
    }
}

/// One message on the transport, either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// What a [`Link`] reports (the npm package's `Link` events).
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// The stream started (`start`): its format (voxlet stream notation)
    /// and identifiers / parameters as JSON.
    Start {
        /// Stream format, e.g. `pcmu`, `l16/16000/1` (empty if unknown).
        format: String,
        /// The start message's parameters, JSON.
        json: String,
        /// Name carried by the start item, if any.
        name: String,
    },
    /// The peer stopped the stream (`stop`).
    Stop,
    /// A DTMF key sent by the peer as a wire message (`dtmf`).
    Dtmf {
        /// The key.
        digit: String,
    },
    /// A mark (`mark`): `ack` when the peer reached one we sent; `played`
    /// / `cleared` when one the peer sent was reached by our player
    /// (Twilio semantics; the acknowledgement has been sent).
    Mark {
        /// The mark's name.
        name: String,
        /// The peer reached a mark we sent ([`Link::mark`]).
        ack: bool,
        /// Our player played the audio before the peer's mark.
        played: bool,
        /// Our player dropped it (clear).
        cleared: bool,
    },
    /// The peer asked to drop queued audio (`clear`); the player was cleared.
    Clear,
    /// Any other event of the protocol (`event`): its name and JSON.
    Event {
        /// Event name.
        name: String,
        /// Its fields, JSON.
        json: String,
    },
    /// A text message the format passes through (`text`).
    Text(String),
    /// An RTCP packet from the peer (`rtcp`, RTP format).
    Rtcp(Vec<u8>),
    /// A message the adapter refused (`wireerror`); the link goes on.
    WireError(String),
    /// The link closed (`close`): by [`Link::close`] or the transport.
    Close,
}

/// Message counts (the npm package's `link.counts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounts {
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Audio items handed to the player.
    pub audio_in: u64,
    /// Messages or items refused.
    pub errors: u64,
}

type Handler = super::EventHandler<LinkEvent>;
type Listener = (
    EventTarget,
    &'static str,
    Closure<dyn FnMut(web_sys::Event)>,
);

struct State {
    closed: bool,
    counts: LinkCounts,
    our_marks: HashSet<String>,
    stream_format: String,
    handler: Option<Handler>,
    listeners: Vec<Listener>,
    /// The mic's packet handler before the link took it (restored by close()).
    prev_on_packet: Option<PacketFn>,
}

struct Inner {
    options: LinkOptions,
    wire: RefCell<Wire>,
    send: Box<dyn Fn(&Message)>,
    state: RefCell<State>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (t, ty, cb) in self.state.get_mut().listeners.drain(..) {
            let _ = t.remove_event_listener_with_callback(ty, cb.as_ref().unchecked_ref());
        }
    }
}

/// A player and/or mic connected to a transport in one wire format (the
/// npm package's `Link`). Inbound messages are parsed and their audio
/// handed to the player; the mic's packets become the format's outbound
/// messages. A cheap handle; the link lives until [`Link::close`] or the
/// transport closes, even if every handle is dropped.
#[derive(Clone)]
pub struct Link(Rc<Inner>);

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("format", &self.0.options.format)
            .field("counts", &self.counts())
            .finish()
    }
}

fn random_sid(prefix: &str) -> String {
    let mut s = prefix.to_string();
    for _ in 0..4 {
        s.push_str(&format!("{:08x}", random_u32()));
    }
    s
}

impl Link {
    /// A WebSocket (its `binaryType` is set to `arraybuffer`).
    pub fn websocket(ws: &WebSocket, options: LinkOptions) -> Result<Link, JsValue> {
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let w = ws.clone();
        let link = Link::new(
            options,
            Box::new(move |m| {
                if w.ready_state() == WebSocket::OPEN {
                    let _ = match m {
                        Message::Text(t) => w.send_with_str(t),
                        Message::Binary(b) => w.send_with_u8_array(b),
                    };
                }
            }),
        )?;
        link.attach(ws, ws.ready_state() == WebSocket::OPEN);
        Ok(link)
    }

    /// An RTCDataChannel. For voice create it unordered and unreliable
    /// (`ordered: false, maxRetransmits: 0`), so a lost packet is concealed
    /// instead of stalling the ones behind it.
    pub fn data_channel(dc: &RtcDataChannel, options: LinkOptions) -> Result<Link, JsValue> {
        dc.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
        let d = dc.clone();
        let link = Link::new(
            options,
            Box::new(move |m| {
                if d.ready_state() == RtcDataChannelState::Open {
                    let _ = match m {
                        Message::Text(t) => d.send_with_str(t),
                        Message::Binary(b) => d.send_with_u8_array(b),
                    };
                }
            }),
        )?;
        link.attach(dc, dc.ready_state() == RtcDataChannelState::Open);
        Ok(link)
    }

    /// Any other transport: `send` is called with each outbound message;
    /// call [`Link::receive`] with each inbound one and [`Link::open`]
    /// once the transport is up.
    pub fn callback(
        options: LinkOptions,
        send: impl Fn(&Message) + 'static,
    ) -> Result<Link, JsValue> {
        Link::new(options, Box::new(send))
    }

    fn new(options: LinkOptions, send: Box<dyn Fn(&Message)>) -> Result<Link, JsValue> {
        let opt = match options.format {
            WireFormat::Asterisk => Some(options.asterisk_format.clone().unwrap_or_default()),
            WireFormat::L16Meta => Some(
                options
                    .default_rate
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            _ => None,
        };
        let wire = Wire::new(options.format.as_str(), opt)?;
        let needs = if wire.player_mode() == "rtp" {
            PlayerMode::Rtp
        } else {
            PlayerMode::Stream
        };
        if let Some(p) = &options.player {
            if p.mode() != needs {
                return Err(JsValue::from_str(&format!(
                    "voxlet: wire format '{}' needs a player created with mode '{}'",
                    options.format.as_str(),
                    needs.as_str()
                )));
            }
        }
        let stream_format = options
            .player
            .as_ref()
            .map(|p| p.stream_format())
            .unwrap_or_default();
        let inner = Rc::new(Inner {
            options,
            wire: RefCell::new(wire),
            send,
            state: RefCell::new(State {
                closed: false,
                counts: LinkCounts::default(),
                our_marks: HashSet::new(),
                stream_format,
                handler: None,
                listeners: Vec::new(),
                prev_on_packet: None,
            }),
        });
        if let Some(mic) = &inner.options.mic {
            inner.state.borrow_mut().prev_on_packet = mic.take_on_packet();
            let weak = Rc::downgrade(&inner);
            mic.on_packet(move |bytes, kind| {
                if let Some(i) = weak.upgrade() {
                    Link(i).on_mic_packet(bytes, kind);
                }
            });
        }
        Ok(Link(inner))
    }

    /// Listens on the transport; the closures hold the link (it lives as
    /// long as the transport is open).
    fn attach(&self, target: &EventTarget, open: bool) {
        let add = |ty: &'static str, f: Box<dyn FnMut(web_sys::Event)>| {
            let cb = Closure::wrap(f);
            let _ = target.add_event_listener_with_callback(ty, cb.as_ref().unchecked_ref());
            self.0
                .state
                .borrow_mut()
                .listeners
                .push((target.clone(), ty, cb));
        };
        // Strong references: the link is kept alive by its transport's
        // listeners, and dropped (they removed) by close().
        let l = self.clone();
        add(
            "message",
            Box::new(move |e| {
                let e: MessageEvent = e.unchecked_into();
                let d = e.data();
                if let Some(t) = d.as_string() {
                    l.receive(&Message::Text(t));
                } else if let Some(b) = d.dyn_ref::<ArrayBuffer>() {
                    l.receive(&Message::Binary(Uint8Array::new(b).to_vec()));
                }
            }),
        );
        let l = self.clone();
        add("close", Box::new(move |_| l.close()));
        if open {
            self.open();
        } else {
            let l = self.clone();
            add("open", Box::new(move |_| l.open()));
        }
    }

    /// Calls `f` with every event from now on (replaces the previous handler).
    pub fn on_event(&self, f: impl FnMut(&LinkEvent) + 'static) {
        self.0.state.borrow_mut().handler = Some(Rc::new(RefCell::new(f)));
    }

    /// The wire format.
    pub fn format(&self) -> WireFormat {
        self.0.options.format
    }

    /// Message counts so far.
    pub fn counts(&self) -> LinkCounts {
        self.0.state.borrow().counts
    }

    /// Whether the link is closed.
    pub fn is_closed(&self) -> bool {
        self.0.state.borrow().closed
    }

    fn emit(&self, ev: LinkEvent) {
        let h = self.0.state.borrow().handler.clone();
        super::call_handler(h, &ev);
    }

    /// Sends one message (counted); nothing once closed.
    pub fn send(&self, m: &Message) {
        {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                return;
            }
            s.counts.messages_out += 1;
        }
        (self.0.send)(m);
    }

    /// Called once the transport is open: a Twilio-side stream
    /// (`twilio.start_stream`) announces itself with `connected` and `start`.
    pub fn open(&self) {
        let t = &self.0.options.twilio;
        if self.0.options.format != WireFormat::Twilio || !t.start_stream {
            return;
        }
        let sid = t.stream_sid.clone().unwrap_or_else(|| random_sid("MZ"));
        self.0.wire.borrow_mut().set_stream_sid(&sid);
        let connected = Object::new();
        set(&connected, "event", &"connected".into());
        set(&connected, "protocol", &"Call".into());
        set(&connected, "version", &"1.0.0".into());
        let params = Object::new();
        for (k, v) in &t.custom_parameters {
            set(&params, k, &v.into());
        }
        let fmt = Object::new();
        set(&fmt, "encoding", &"audio/x-mulaw".into());
        set(&fmt, "sampleRate", &8000.into());
        set(&fmt, "channels", &1.into());
        let start = Object::new();
        set(
            &start,
            "accountSid",
            &t.account_sid.clone().unwrap_or_default().into(),
        );
        set(&start, "streamSid", &sid.as_str().into());
        let call = t.call_sid.clone().unwrap_or_else(|| random_sid("CA"));
        set(&start, "callSid", &call.into());
        set(&start, "tracks", &js_sys::Array::of1(&"inbound".into()));
        set(&start, "customParameters", &params);
        set(&start, "mediaFormat", &fmt);
        let msg = Object::new();
        set(&msg, "event", &"start".into());
        set(&msg, "sequenceNumber", &"1".into());
        set(&msg, "start", &start);
        set(&msg, "streamSid", &sid.as_str().into());
        for o in [connected, msg] {
            if let Some(s) = js_sys::JSON::stringify(&o).ok().and_then(|s| s.as_string()) {
                self.send(&Message::Text(s));
            }
        }
    }

    /// Hands one inbound message to the link.
    pub fn receive(&self, m: &Message) {
        {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                return;
            }
            s.counts.messages_in += 1;
        }
        let items = {
            let mut w = self.0.wire.borrow_mut();
            match m {
                Message::Text(t) => w.on_text(t),
                Message::Binary(b) => w.on_binary(b),
            }
        };
        for it in items {
            self.item(it);
        }
    }

    fn set_stream_format(&self, fmt: &str) {
        let Some(p) = &self.0.options.player else {
            return;
        };
        if fmt.is_empty() || p.mode() != PlayerMode::Stream {
            return;
        }
        {
            let mut s = self.0.state.borrow_mut();
            if s.stream_format == fmt {
                return;
            }
            s.stream_format = fmt.to_string();
        }
        p.set_format(fmt);
    }

    fn item(&self, it: WireItem) {
        let p = self.0.options.player.as_ref();
        let stream = p.is_some_and(|p| p.mode() == PlayerMode::Stream);
        match it.kind.as_str() {
            "rtp" | "audio" => {
                self.0.state.borrow_mut().counts.audio_in += 1;
                if it.kind == "audio" {
                    self.set_stream_format(&it.format);
                }
                if let (Some(p), Some(b)) = (p, &it.bytes) {
                    p.push(b);
                }
            }
            "start" => {
                self.set_stream_format(&it.format);
                self.emit(LinkEvent::Start {
                    format: it.format,
                    json: it.json,
                    name: it.text,
                });
            }
            "mark" => {
                let ours = self.0.state.borrow_mut().our_marks.remove(&it.text);
                if ours {
                    self.emit(LinkEvent::Mark {
                        name: it.text,
                        ack: true,
                        played: false,
                        cleared: false,
                    });
                } else if let (Some(p), true, WireFormat::Twilio) =
                    (p, stream, self.0.options.format)
                {
                    // The peer asks to be told when the audio before this
                    // mark has played: mark the queue, answer when reached.
                    let done = p.mark(&it.text);
                    let weak: Weak<Inner> = Rc::downgrade(&self.0);
                    let name = it.text;
                    wasm_bindgen_futures::spawn_local(async move {
                        let Ok(ev) = done.await else { return };
                        let Some(i) = weak.upgrade() else { return };
                        let l = Link(i);
                        l.emit(LinkEvent::Mark {
                            name: name.clone(),
                            ack: false,
                            played: !ev.cleared,
                            cleared: ev.cleared,
                        });
                        let msg = l.0.wire.borrow_mut().mark_message(&name);
                        if let Ok(msg) = msg {
                            l.send(&Message::Text(msg));
                        }
                    });
                } else {
                    self.emit(LinkEvent::Mark {
                        name: it.text,
                        ack: false,
                        played: false,
                        cleared: false,
                    });
                }
            }
            "clear" => {
                if let (Some(p), true) = (p, stream) {
                    p.clear();
                }
                self.emit(LinkEvent::Clear);
            }
            "dtmf" => self.emit(LinkEvent::Dtmf { digit: it.text }),
            "stop" => self.emit(LinkEvent::Stop),
            "rtcp" => self.emit(LinkEvent::Rtcp(it.bytes.unwrap_or_default())),
            "text" => self.emit(LinkEvent::Text(it.text)),
            "error" => {
                self.0.state.borrow_mut().counts.errors += 1;
                // Raw RTP: still handed on so the receiver counts what it rejects.
                if let (Some(p), Some(b)) = (p, &it.bytes) {
                    if p.mode() == PlayerMode::Rtp {
                        p.push(b);
                    }
                }
                self.emit(LinkEvent::WireError(it.text));
            }
            _ => self.emit(LinkEvent::Event {
                name: it.text,
                json: it.json,
            }),
        }
    }

    fn on_mic_packet(&self, bytes: &[u8], kind: PacketKind) {
        if self.is_closed() {
            return;
        }
        let o = &self.0.options;
        if kind == PacketKind::Rtcp {
            if o.format == WireFormat::Rtp && o.rtcp {
                self.send(&Message::Binary(bytes.to_vec()));
            }
            return;
        }
        let pt = o
            .mic
            .as_ref()
            .and_then(|m| m.settings())
            .map(|s| s.1)
            .unwrap_or(0);
        let msg = {
            let mut w = self.0.wire.borrow_mut();
            if w.text_media() {
                w.media_text(bytes, pt).map(Message::Text)
            } else {
                w.media_binary(bytes, pt).map(Message::Binary)
            }
        };
        if let Some(m) = msg {
            self.send(&m);
        }
    }

    /// Asks the peer to report when the audio sent so far has been played
    /// (Twilio `mark`, Asterisk `MARK_MEDIA`); [`LinkEvent::Mark`] with
    /// `ack` when it does.
    pub fn mark(&self, name: &str) -> Result<(), JsValue> {
        let msg = self.0.wire.borrow_mut().mark_message(name)?;
        self.0.state.borrow_mut().our_marks.insert(name.to_string());
        self.send(&Message::Text(msg));
        Ok(())
    }

    /// Asks the peer to drop the audio it has queued from us (Twilio
    /// `clear`, Asterisk `FLUSH_MEDIA`).
    pub fn clear(&self) -> Result<(), JsValue> {
        let msg = self.0.wire.borrow_mut().clear_message()?;
        self.send(&Message::Text(msg));
        Ok(())
    }

    /// DTMF: a Twilio `dtmf` message per digit; other formats: RFC 4733
    /// events from the mic (`duration_ms` each).
    pub fn send_dtmf(&self, digits: &str, duration_ms: f64) {
        if self.0.options.format == WireFormat::Twilio {
            for d in digits.chars() {
                let msg = self.0.wire.borrow_mut().dtmf_message(&d.to_string());
                if let Some(m) = msg {
                    self.send(&Message::Text(m));
                }
            }
        } else if let Some(mic) = &self.0.options.mic {
            mic.send_dtmf(digits, duration_ms, 10.0);
        }
    }

    /// Asterisk format: sends a command (`ANSWER`, `HANGUP`, `FLUSH_MEDIA`…).
    pub fn command(&self, name: &str, arg: Option<&str>) -> Result<(), JsValue> {
        let msg = self
            .0
            .wire
            .borrow_mut()
            .command(name, arg.map(str::to_string))?;
        self.send(&Message::Text(msg));
        Ok(())
    }

    /// Stops listening to the transport (which is left open) and to the
    /// mic, and reports [`LinkEvent::Close`]. Calling it again does nothing.
    pub fn close(&self) {
        let (listeners, prev) = {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                return;
            }
            s.closed = true;
            (std::mem::take(&mut s.listeners), s.prev_on_packet.take())
        };
        if let Some(mic) = &self.0.options.mic {
            mic.restore_on_packet(prev);
        }
        self.emit(LinkEvent::Close);
        self.0.state.borrow_mut().handler = None;
        for (t, ty, cb) in listeners {
            let _ = t.remove_event_listener_with_callback(ty, cb.as_ref().unchecked_ref());
            // Dropping a closure while it runs (close() from the 'close'
            // listener) is not allowed: free it later.
            cb.forget_later();
        }
    }
}

/// Frees a listener closure after the current task.
trait ForgetLater {
    fn forget_later(self);
}

impl ForgetLater for Closure<dyn FnMut(web_sys::Event)> {
    fn forget_later(self) {
        wasm_bindgen_futures::spawn_local(async move { drop(self) });
    }
}
