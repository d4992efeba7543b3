//! [`MicNode`]: the `voxlet-mic` processor's node (the npm package's `MicNode`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioWorkletNode, MediaStream, MessageEvent, MessagePort};

use super::{
    closed_error, get, get_f64, get_str, message, random_u32, set, set_opt, Deferred, Stats, Voxlet,
};

/// MicNode options (the npm package's `MicOptions`: the core Sender's, less
/// the input, which is the node's); `None` keeps the core's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MicOptions {
    /// `codec`: rtpmap, `PCMU/8000` (default), `PCMA/8000`, `G722/8000`,
    /// `L16/16000/1`, `opus/48000/2`.
    pub codec: Option<String>,
    /// `payloadType`: RTP payload type (default: the codec's static one, else 111).
    pub payload_type: Option<u8>,
    /// `channels`: channels taken from the input, 1 (default, also for 0) or 2.
    pub channels: u16,
    /// `ptimeMs`: packet duration, ms (default 20).
    pub ptime_ms: Option<f64>,
    /// `dtmfPayloadType`: telephone-event payload type; `None` keeps the
    /// default (101), `Some(None)` disables DTMF.
    pub dtmf_payload_type: Option<Option<u8>>,
    /// `dtmfClockRate`: clock of telephone-event, Hz (default: the codec's).
    pub dtmf_clock_rate: Option<u32>,
    /// `bitrate`: Opus bitrate, bit/s (default 32000).
    pub bitrate: Option<u32>,
    /// `fec`: Opus in-band FEC (default false).
    pub fec: Option<bool>,
    /// `packetLossPercent`: expected loss, % (default 0).
    pub packet_loss_percent: Option<f64>,
    /// `dtx`: Opus DTX (default false).
    pub dtx: Option<bool>,
    /// `dredMs`: Opus Deep REDundancy, ms of past audio each packet carries
    /// (multiples of 10, at most 1000; default 0 = off); with
    /// `packet_loss_percent` 0 the encoder assumes 10 % (libopus sends no
    /// DRED at 0). Needs the neural build
    /// ([`super::RegisterOptions::neural_at`]).
    pub dred_ms: Option<u32>,
    /// `rtcpIntervalMs`: RTCP sender report interval, ms (default 5000; 0: none).
    pub rtcp_interval_ms: Option<f64>,
    /// `ssrc`: SSRC (default random).
    pub ssrc: Option<u32>,
    /// `statsIntervalMs`: how often stats are posted, ms (default 250).
    pub stats_interval_ms: Option<f64>,
}

impl MicOptions {
    /// The options for `codec` (an rtpmap) on payload type `payload_type`.
    pub fn codec(codec: &str, payload_type: u8) -> MicOptions {
        MicOptions {
            codec: Some(codec.to_string()),
            payload_type: Some(payload_type),
            ..MicOptions::default()
        }
    }

    fn sender(&self) -> Object {
        let o = Object::new();
        set_opt(&o, "codec", &self.codec);
        set_opt(&o, "payloadType", &self.payload_type);
        set_opt(&o, "ptimeMs", &self.ptime_ms);
        match self.dtmf_payload_type {
            None => {}
            Some(None) => set(&o, "dtmfPayloadType", &JsValue::NULL),
            Some(Some(pt)) => set(&o, "dtmfPayloadType", &pt.into()),
        }
        set_opt(&o, "dtmfClockRate", &self.dtmf_clock_rate);
        set_opt(&o, "bitrate", &self.bitrate);
        set_opt(&o, "fec", &self.fec);
        set_opt(&o, "packetLossPercent", &self.packet_loss_percent);
        set_opt(&o, "dtx", &self.dtx);
        set_opt(&o, "dredMs", &self.dred_ms);
        set_opt(&o, "rtcpIntervalMs", &self.rtcp_interval_ms);
        set_opt(&o, "ssrc", &self.ssrc);
        set(
            &o,
            "seed",
            &Array::of2(&random_u32().into(), &random_u32().into()),
        );
        o
    }
}

/// What a mic's packet is (the npm package's `kind` argument of `onpacket`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// An RTP packet (`'rtp'`).
    Rtp,
    /// An RTCP sender report (`'rtcp'`).
    Rtcp,
}

/// What a [`MicNode`] reports (the npm package's `MicNode` events).
#[derive(Clone, Debug, PartialEq)]
pub enum MicEvent {
    /// The processor has started (`ready`), with the resolved settings.
    Ready {
        /// The stream's SSRC.
        ssrc: u32,
        /// The RTP payload type.
        payload_type: u8,
        /// The codec's rtpmap.
        codec: String,
    },
    /// Statistics, every `statsIntervalMs` (`stats`).
    Stats(Stats),
    /// Something was refused; the stream goes on (`warn`).
    Warn(String),
    /// The processor stopped (`error`).
    Error(String),
}

pub(crate) type PacketFn = Rc<RefCell<dyn FnMut(&[u8], PacketKind)>>;
type EventFn = super::EventHandler<MicEvent>;

struct State {
    closed: bool,
    muted: bool,
    stats: Option<Stats>,
    ready_info: Option<(u32, u8, String)>,
    on_packet: Option<PacketFn>,
    on_event: Option<EventFn>,
    ready: Option<Deferred>,
}

struct Inner {
    node: AudioWorkletNode,
    port: MessagePort,
    stream: Option<MediaStream>,
    ready: js_sys::Promise,
    state: RefCell<State>,
    on_message: RefCell<Option<super::OnMessage>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.port.set_onmessage(None);
        if !self.state.get_mut().closed {
            close_node(&self.port, &self.node, &self.stream);
        }
    }
}

fn close_node(port: &MessagePort, node: &AudioWorkletNode, stream: &Option<MediaStream>) {
    let _ = port.post_message(&message("close"));
    let _ = node.disconnect();
    if let Some(s) = stream {
        for t in s.get_tracks().iter() {
            t.unchecked_into::<web_sys::MediaStreamTrack>().stop();
        }
    }
}

/// Sends one outgoing stream: the `voxlet-mic` AudioWorkletNode (the npm
/// package's `MicNode`). Connect a source into [`MicNode::node`]; it
/// resamples, encodes and packetises inside the worklet and calls the
/// [`MicNode::on_packet`] handler with each packet. A cheap handle: clones
/// drive the same node, and dropping the last one closes it.
#[derive(Clone)]
pub struct MicNode(Rc<Inner>);

impl std::fmt::Debug for MicNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicNode")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl MicNode {
    pub(crate) fn new(
        vox: &Voxlet,
        options: &MicOptions,
        stream: Option<MediaStream>,
    ) -> Result<MicNode, JsValue> {
        let channels: u32 = if options.channels == 2 { 2 } else { 1 };
        let po = Object::new();
        set(&po, "module", vox.module());
        set(&po, "channels", &channels.into());
        set(&po, "sender", &options.sender());
        set_opt(&po, "statsIntervalMs", &options.stats_interval_ms);
        set(&po, "ring", &JsValue::NULL);
        let opts = Object::new();
        set(&opts, "numberOfInputs", &1.into());
        set(&opts, "numberOfOutputs", &0.into());
        set(&opts, "channelCount", &channels.into());
        set(&opts, "channelCountMode", &"explicit".into());
        set(&opts, "channelInterpretation", &"speakers".into());
        set(&opts, "processorOptions", &po);
        let node =
            AudioWorkletNode::new_with_options(vox.context(), "voxlet-mic", opts.unchecked_ref())?;
        let port = node.port()?;
        let ready = Deferred::new();
        let inner = Rc::new(Inner {
            node,
            port,
            stream,
            ready: ready.promise.clone(),
            state: RefCell::new(State {
                closed: false,
                muted: false,
                stats: None,
                ready_info: None,
                on_packet: None,
                on_event: None,
                ready: Some(ready),
            }),
            on_message: RefCell::new(None),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                MicNode(inner).on_message(&e.data());
            }
        });
        inner.port.set_onmessage(Some(cb.as_ref().unchecked_ref()));
        *inner.on_message.borrow_mut() = Some(cb);
        Ok(MicNode(inner))
    }

    /// The AudioWorkletNode: connect the microphone (or any node) into it.
    pub fn node(&self) -> &AudioWorkletNode {
        &self.0.node
    }

    /// The microphone stream, for a mic made by [`Voxlet::open_mic`].
    pub fn stream(&self) -> Option<&MediaStream> {
        self.0.stream.as_ref()
    }

    /// Whether [`MicNode::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.0.state.borrow().closed
    }

    /// The latest statistics, `None` before the first.
    pub fn stats(&self) -> Option<Stats> {
        self.0.state.borrow().stats.clone()
    }

    /// Once ready: the SSRC, payload type and codec the processor resolved.
    pub fn settings(&self) -> Option<(u32, u8, String)> {
        self.0.state.borrow().ready_info.clone()
    }

    /// Calls `f(bytes, kind)` with every packet from now on (replaces the
    /// previous handler; the npm package's `onpacket`). A [`super::Link`]
    /// sets it while connected.
    pub fn on_packet(&self, f: impl FnMut(&[u8], PacketKind) + 'static) {
        self.0.state.borrow_mut().on_packet = Some(Rc::new(RefCell::new(f)));
    }

    pub(crate) fn take_on_packet(&self) -> Option<PacketFn> {
        self.0.state.borrow_mut().on_packet.take()
    }

    pub(crate) fn restore_on_packet(&self, f: Option<PacketFn>) {
        self.0.state.borrow_mut().on_packet = f;
    }

    /// Calls `f` with every event from now on (replaces the previous handler).
    pub fn on_event(&self, f: impl FnMut(&MicEvent) + 'static) {
        self.0.state.borrow_mut().on_event = Some(Rc::new(RefCell::new(f)));
    }

    /// Resolves once the processor has started; fails with its error (or
    /// an AbortError if the mic is closed first).
    pub async fn ready(&self) -> Result<(), JsValue> {
        JsFuture::from(self.0.ready.clone()).await.map(|_| ())
    }

    fn emit(&self, ev: MicEvent) {
        let h = self.0.state.borrow().on_event.clone();
        super::call_handler(h, &ev);
    }

    fn on_message(&self, m: &JsValue) {
        match get_str(m, "t").as_str() {
            "p" => {
                let bytes = Uint8Array::new(&get(m, "b")).to_vec();
                let kind = if get_f64(m, "tag") == 1.0 {
                    PacketKind::Rtcp
                } else {
                    PacketKind::Rtp
                };
                let h = self.0.state.borrow().on_packet.clone();
                if let Some(h) = h {
                    if let Ok(mut f) = h.try_borrow_mut() {
                        f(&bytes, kind);
                    }
                }
            }
            "ready" => {
                let info = (
                    get_f64(m, "ssrc") as u32,
                    get_f64(m, "payloadType") as u8,
                    get_str(m, "codec"),
                );
                let d = {
                    let mut s = self.0.state.borrow_mut();
                    s.ready_info = Some(info.clone());
                    s.ready.take()
                };
                if let Some(d) = d {
                    d.resolve(&JsValue::UNDEFINED);
                }
                self.emit(MicEvent::Ready {
                    ssrc: info.0,
                    payload_type: info.1,
                    codec: info.2,
                });
            }
            "error" => {
                let text = get_str(m, "message");
                let d = self.0.state.borrow_mut().ready.take();
                if let Some(d) = d {
                    d.reject(&js_sys::Error::new(&text).into());
                }
                self.emit(MicEvent::Error(text));
            }
            "warn" => self.emit(MicEvent::Warn(get_str(m, "message"))),
            "tick" => {
                let stats = Stats::from_js(&get(m, "stats"));
                self.0.state.borrow_mut().stats = Some(stats.clone());
                self.emit(MicEvent::Stats(stats));
            }
            _ => {}
        }
    }

    /// Sends DTMF digits as RFC 4733 telephone-events (in place of audio),
    /// each `duration_ms` long at `volume` −dBm0 (the npm package's
    /// defaults are 100 and 10).
    pub fn send_dtmf(&self, digits: &str, duration_ms: f64, volume: f64) {
        if self.is_closed() {
            return;
        }
        let m = message("dtmf");
        set(&m, "digits", &digits.into());
        set(&m, "durationMs", &duration_ms.into());
        set(&m, "volume", &volume.into());
        let _ = self.0.port.post_message(&m);
    }

    /// Sends silence instead of the input while muted (the stream keeps its timing).
    pub fn set_muted(&self, muted: bool) {
        self.0.state.borrow_mut().muted = muted;
        let m = message("mute");
        set(&m, "muted", &muted.into());
        let _ = self.0.port.post_message(&m);
    }

    /// Whether the mic is muted.
    pub fn muted(&self) -> bool {
        self.0.state.borrow().muted
    }

    /// Stops the processor (frees its wasm memory) and, for a mic made by
    /// [`Voxlet::open_mic`], the microphone; `ready`, if pending, fails
    /// with an AbortError. Calling it again does nothing.
    pub fn close(&self) {
        let ready = {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                return;
            }
            s.closed = true;
            s.on_event = None;
            s.ready.take()
        };
        close_node(&self.0.port, &self.0.node, &self.0.stream);
        if let Some(d) = ready {
            d.reject(&closed_error("MicNode"));
        }
    }
}
