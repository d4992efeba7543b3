//! [`PlayerNode`]: the `voxlet-player` processor's node (the npm package's
//! `PlayerNode`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioWorkletNode, MessageEvent, MessagePort};

use super::{
    buffer_of, closed_error, get, get_f64, get_str, message, post_transfer, set, set_opt, Deferred,
    Stats, Voxlet,
};

/// What the player takes in (processorOptions `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlayerMode {
    /// RTP packets through the jitter buffer (`'rtp'`, the default).
    #[default]
    Rtp,
    /// Untimestamped audio chunks (`'stream'`: voice-AI servers, Twilio,
    /// Asterisk, L16 wire formats).
    Stream,
}

impl PlayerMode {
    /// The npm package's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            PlayerMode::Rtp => "rtp",
            PlayerMode::Stream => "stream",
        }
    }
}

/// Jitter buffer options (the npm package's `JitterOptions`); `None`
/// keeps the core's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JitterOptions {
    /// `minDelayMs`: lowest target delay, ms (default 20).
    pub min_delay_ms: Option<f64>,
    /// `maxDelayMs`: highest target delay, ms (default 500).
    pub max_delay_ms: Option<f64>,
    /// `initialDelayMs`: target delay before jitter is measured, ms (default 50).
    pub initial_delay_ms: Option<f64>,
    /// `maxConcealMs`: concealment before going silent, ms (default 100).
    pub max_conceal_ms: Option<f64>,
}

/// Stream-mode options (the npm package's `StreamOptions`); `None` keeps
/// the core's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamOptions {
    /// `format`: chunk format, `pcmu` (default), `pcma`, `g722`,
    /// `opus/48000/1`, `l16/16000/1` (little-endian), `l16be/8000/1`.
    pub format: Option<String>,
    /// `maxQueueMs`: most audio queued, ms (default 60000).
    pub max_queue_ms: Option<f64>,
    /// `startThresholdMs`: playback (re)starts once this much is queued, ms (default 20).
    pub start_threshold_ms: Option<f64>,
    /// `startTimeoutMs`: …or once audio waited this long below it, ms (default 60).
    pub start_timeout_ms: Option<f64>,
    /// `dropOldest`: a full queue drops its oldest audio instead of refusing the chunk.
    pub drop_oldest: Option<bool>,
}

/// Opus decoding options (the npm package's `OpusPlayerOptions`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpusOptions {
    /// `neural`: machine-learned decoding (deep PLC, DRED, OSCE; the core's
    /// [`crate::codec::NeuralOpus`], `NeuralOpus::ON` for the npm package's
    /// `true`). Needs the neural build: register with
    /// [`super::RegisterOptions::neural_at`]; otherwise the player's
    /// `ready()` fails with the worklet's error.
    pub neural: Option<crate::codec::NeuralOpus>,
}

/// PlayerNode options (the npm package's `PlayerOptions`, less the
/// SharedArrayBuffer ring and the `'aec'` output route).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerOptions {
    /// `mode`: RTP (default) or stream.
    pub mode: PlayerMode,
    /// `channels`: output channels, 1 (default, also for 0) or 2.
    pub channels: u16,
    /// `payloadTypes`: dynamic payload types as (PT, rtpmap), e.g.
    /// `(111, "opus/48000/2")`; empty keeps the default
    /// `{ 101: 'telephone-event/8000' }`. 0, 8, 9, 10, 11 are static.
    pub payload_types: Vec<(u8, String)>,
    /// `jitter`: jitter buffer options (mode RTP).
    pub jitter: JitterOptions,
    /// `stream`: stream-mode options.
    pub stream: StreamOptions,
    /// `opus`: Opus decoding options (mode RTP).
    pub opus: OpusOptions,
    /// `statsIntervalMs`: how often stats and events are posted, ms (default 100).
    pub stats_interval_ms: Option<f64>,
}

impl PlayerOptions {
    /// A stream-mode player for chunks in `format` (`pcmu`, `l16/16000/1`…).
    pub fn stream(format: &str) -> PlayerOptions {
        PlayerOptions {
            mode: PlayerMode::Stream,
            stream: StreamOptions {
                format: Some(format.to_string()),
                ..StreamOptions::default()
            },
            ..PlayerOptions::default()
        }
    }

    fn processor_options(&self, vox: &Voxlet, channels: u32) -> Object {
        let o = Object::new();
        set(&o, "module", vox.module());
        set(&o, "mode", &self.mode.as_str().into());
        set(&o, "channels", &channels.into());
        if !self.payload_types.is_empty() {
            let pts = Object::new();
            for (pt, map) in &self.payload_types {
                set(&pts, &pt.to_string(), &map.into());
            }
            set(&o, "payloadTypes", &pts);
        }
        let j = Object::new();
        set_opt(&j, "minDelayMs", &self.jitter.min_delay_ms);
        set_opt(&j, "maxDelayMs", &self.jitter.max_delay_ms);
        set_opt(&j, "initialDelayMs", &self.jitter.initial_delay_ms);
        set_opt(&j, "maxConcealMs", &self.jitter.max_conceal_ms);
        set(&o, "jitter", &j);
        let s = Object::new();
        set_opt(&s, "format", &self.stream.format);
        set_opt(&s, "maxQueueMs", &self.stream.max_queue_ms);
        set_opt(&s, "startThresholdMs", &self.stream.start_threshold_ms);
        set_opt(&s, "startTimeoutMs", &self.stream.start_timeout_ms);
        set_opt(&s, "dropOldest", &self.stream.drop_oldest);
        set(&o, "stream", &s);
        if let Some(n) = &self.opus.neural {
            let nn = Object::new();
            set(&nn, "deepPlc", &n.deep_plc.into());
            set(&nn, "dred", &n.dred.into());
            set(&nn, "osce", &n.osce.as_str().into());
            set(&nn, "dredRewind", &n.dred_rewind.into());
            let op = Object::new();
            set(&op, "neural", &nn);
            set(&o, "opus", &op);
        }
        set_opt(&o, "statsIntervalMs", &self.stats_interval_ms);
        set(&o, "ring", &JsValue::NULL);
        o
    }
}

/// Begin or end of an RFC 4733 event.
#[derive(Clone, Debug, PartialEq)]
pub enum DtmfPhase {
    /// The key went down; `volume` in −dBm0 (0..63).
    Begin {
        /// −dBm0.
        volume: f64,
    },
    /// The key went up.
    End {
        /// How long it was held, ms.
        duration_ms: f64,
        /// Ended by timeout (no end packet seen).
        timed_out: bool,
    },
}

/// A `dtmf` event (the npm package's `DtmfDetail`).
#[derive(Clone, Debug, PartialEq)]
pub struct DtmfEvent {
    /// The key (`0`–`9`, `*`, `#`, `A`–`D`), empty for other event codes.
    pub digit: String,
    /// RFC 4733 event code.
    pub code: f64,
    /// Arrival time of the packet that began or ended it, context ms.
    pub time_ms: f64,
    /// Begin or end.
    pub phase: DtmfPhase,
}

/// A `mark` event (the npm package's `MarkDetail`): the audio before the
/// mark has played, or was cleared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarkEvent {
    /// The mark's name.
    pub name: String,
    /// Dropped by `clear()` (or refused) instead of played.
    pub cleared: bool,
    /// When the audio before it finished playing, context ms (NaN if cleared).
    pub time_ms: f64,
    /// Why the mark was refused, if it was.
    pub error: Option<String>,
}

impl MarkEvent {
    fn from_js(v: &JsValue) -> MarkEvent {
        let error = get(v, "error").as_string();
        MarkEvent {
            name: get_str(v, "name"),
            cleared: get(v, "cleared").is_truthy(),
            time_ms: get_f64(v, "timeMs"),
            error,
        }
    }
}

/// What a [`PlayerNode`] reports (the npm package's `PlayerNode` events).
#[derive(Clone, Debug, PartialEq)]
pub enum PlayerEvent {
    /// The processor has started (`ready`).
    Ready,
    /// Statistics, every `statsIntervalMs` (`stats`).
    Stats(Stats),
    /// A DTMF key (`dtmf`, RTP mode).
    Dtmf(DtmfEvent),
    /// The played SSRC changed (`ssrc`).
    Ssrc {
        /// The previous SSRC (NaN for the first).
        old: f64,
        /// The new one.
        ssrc: f64,
    },
    /// The played payload type changed (`payloadtype`).
    PayloadType {
        /// The previous payload type (NaN for the first).
        old: f64,
        /// The new one.
        payload_type: f64,
    },
    /// A mark was reached or cleared (`mark`, stream mode).
    Mark(MarkEvent),
    /// The queue ran empty (`drained`, stream mode); context ms.
    Drained {
        /// Context ms.
        time_ms: f64,
    },
    /// Playback ran dry (`underrun`, stream mode).
    Underrun {
        /// Underruns so far.
        count: f64,
        /// Context ms.
        time_ms: f64,
    },
    /// Playback started (`started`, stream mode).
    Started {
        /// Context ms.
        time_ms: f64,
    },
    /// Something was refused; audio goes on (`warn`).
    Warn(String),
    /// The processor stopped (`error`).
    Error(String),
}

impl PlayerEvent {
    fn from_js(ev: &JsValue) -> Option<PlayerEvent> {
        let time_ms = get_f64(ev, "timeMs");
        Some(match get_str(ev, "type").as_str() {
            "dtmf" => PlayerEvent::Dtmf(DtmfEvent {
                digit: get_str(ev, "digit"),
                code: get_f64(ev, "code"),
                time_ms,
                phase: if get_str(ev, "phase") == "begin" {
                    DtmfPhase::Begin {
                        volume: get_f64(ev, "volume"),
                    }
                } else {
                    DtmfPhase::End {
                        duration_ms: get_f64(ev, "durationMs"),
                        timed_out: get(ev, "timedOut").is_truthy(),
                    }
                },
            }),
            "ssrc" => PlayerEvent::Ssrc {
                old: get_f64(ev, "old"),
                ssrc: get_f64(ev, "ssrc"),
            },
            "payloadtype" => PlayerEvent::PayloadType {
                old: get_f64(ev, "old"),
                payload_type: get_f64(ev, "payloadType"),
            },
            "mark" => PlayerEvent::Mark(MarkEvent::from_js(ev)),
            "drained" => PlayerEvent::Drained { time_ms },
            "underrun" => PlayerEvent::Underrun {
                count: get_f64(ev, "count"),
                time_ms,
            },
            "started" => PlayerEvent::Started { time_ms },
            _ => return None,
        })
    }
}

type Handler = super::EventHandler<PlayerEvent>;

struct State {
    closed: bool,
    stats: Option<Stats>,
    handler: Option<Handler>,
    ready: Option<Deferred>,
    marks: HashMap<String, Deferred>,
    syncs: HashMap<u32, Deferred>,
    next_id: u32,
    stream_format: String,
}

struct Inner {
    node: AudioWorkletNode,
    port: MessagePort,
    mode: PlayerMode,
    ready: js_sys::Promise,
    state: RefCell<State>,
    on_message: RefCell<Option<super::OnMessage>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: nobody can push or close any more.
        self.port.set_onmessage(None);
        if !self.state.get_mut().closed {
            let _ = self.port.post_message(&message("close"));
            let _ = self.node.disconnect();
        }
    }
}

/// Plays one incoming stream: the `voxlet-player` AudioWorkletNode and its
/// port protocol (the npm package's `PlayerNode`). Output is at the
/// context's rate; connect [`PlayerNode::node`] like any node, or call
/// [`PlayerNode::connect_to_destination`]. A cheap handle: clones drive the
/// same node, and dropping the last one closes it.
#[derive(Clone)]
pub struct PlayerNode(Rc<Inner>);

impl std::fmt::Debug for PlayerNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayerNode")
            .field("mode", &self.0.mode)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl PlayerNode {
    pub(crate) fn new(vox: &Voxlet, options: &PlayerOptions) -> Result<PlayerNode, JsValue> {
        let channels: u32 = if options.channels == 2 { 2 } else { 1 };
        let opts = Object::new();
        set(&opts, "numberOfInputs", &0.into());
        set(&opts, "numberOfOutputs", &1.into());
        set(&opts, "outputChannelCount", &Array::of1(&channels.into()));
        set(
            &opts,
            "processorOptions",
            &options.processor_options(vox, channels),
        );
        let node = AudioWorkletNode::new_with_options(
            vox.context(),
            "voxlet-player",
            opts.unchecked_ref(),
        )?;
        let port = node.port()?;
        let ready = Deferred::new();
        let inner = Rc::new(Inner {
            node,
            port,
            mode: options.mode,
            ready: ready.promise.clone(),
            state: RefCell::new(State {
                closed: false,
                stats: None,
                handler: None,
                ready: Some(ready),
                marks: HashMap::new(),
                syncs: HashMap::new(),
                next_id: 1,
                stream_format: if options.mode == PlayerMode::Stream {
                    options
                        .stream
                        .format
                        .clone()
                        .unwrap_or_else(|| "pcmu".into())
                } else {
                    String::new()
                },
            }),
            on_message: RefCell::new(None),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                PlayerNode(inner).on_message(&e.data());
            }
        });
        inner.port.set_onmessage(Some(cb.as_ref().unchecked_ref()));
        *inner.on_message.borrow_mut() = Some(cb);
        Ok(PlayerNode(inner))
    }

    /// The AudioWorkletNode, to connect to other nodes.
    pub fn node(&self) -> &AudioWorkletNode {
        &self.0.node
    }

    /// Connects the player to the context's destination (the speakers).
    pub fn connect_to_destination(&self) -> Result<(), JsValue> {
        let dest = self.0.node.context().destination();
        self.0.node.connect_with_audio_node(&dest).map(|_| ())
    }

    /// The mode the player was created in.
    pub fn mode(&self) -> PlayerMode {
        self.0.mode
    }

    /// Stream mode: the format of the chunks (as last set).
    pub fn stream_format(&self) -> String {
        self.0.state.borrow().stream_format.clone()
    }

    /// Whether [`PlayerNode::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.0.state.borrow().closed
    }

    /// The latest statistics (every `statsIntervalMs`), `None` before the first.
    pub fn stats(&self) -> Option<Stats> {
        self.0.state.borrow().stats.clone()
    }

    /// Calls `f` with every event from now on (replaces the previous handler).
    pub fn on_event(&self, f: impl FnMut(&PlayerEvent) + 'static) {
        self.0.state.borrow_mut().handler = Some(Rc::new(RefCell::new(f)));
    }

    /// Resolves once the processor has started; fails with its error (or
    /// an AbortError if the player is closed first).
    pub async fn ready(&self) -> Result<(), JsValue> {
        JsFuture::from(self.0.ready.clone()).await.map(|_| ())
    }

    fn emit(&self, ev: PlayerEvent) {
        let h = self.0.state.borrow().handler.clone();
        super::call_handler(h, &ev);
    }

    fn on_message(&self, m: &JsValue) {
        match get_str(m, "t").as_str() {
            "ready" => {
                if let Some(d) = self.0.state.borrow_mut().ready.take() {
                    d.resolve(&JsValue::UNDEFINED);
                }
                self.emit(PlayerEvent::Ready);
            }
            "error" => {
                let text = get_str(m, "message");
                let err: JsValue = js_sys::Error::new(&text).into();
                let (ready, marks) = {
                    let mut s = self.0.state.borrow_mut();
                    (s.ready.take(), std::mem::take(&mut s.marks))
                };
                if let Some(d) = ready {
                    d.reject(&err);
                }
                for d in marks.values() {
                    d.reject(&err);
                }
                self.emit(PlayerEvent::Error(text));
            }
            "sync" => {
                let id = get_f64(m, "id") as u32;
                let d = self.0.state.borrow_mut().syncs.remove(&id);
                if let Some(d) = d {
                    d.resolve(&JsValue::UNDEFINED);
                }
            }
            "warn" => self.emit(PlayerEvent::Warn(get_str(m, "message"))),
            "tick" => {
                let stats = Stats::from_js(&get(m, "stats"));
                self.0.state.borrow_mut().stats = Some(stats.clone());
                let events: Array = get(m, "events").dyn_into().unwrap_or_default();
                for ev in events.iter() {
                    let Some(pe) = PlayerEvent::from_js(&ev) else {
                        continue;
                    };
                    if let PlayerEvent::Mark(mark) = &pe {
                        let d = self.0.state.borrow_mut().marks.remove(&mark.name);
                        if let Some(d) = d {
                            d.resolve(&ev);
                        }
                    }
                    self.emit(pe);
                }
                self.emit(PlayerEvent::Stats(stats));
            }
            _ => {}
        }
    }

    /// Hands one RTP packet (mode RTP) or audio chunk (mode stream) to the
    /// worklet (a copy). Returns false once the player is closed.
    pub fn push(&self, data: &[u8]) -> bool {
        self.push_msg(data, None)
    }

    /// As [`PlayerNode::push`], handed to the core at context time `at_ms`
    /// (replays and tests: the npm package's `push(data, { at })`).
    pub fn push_at(&self, data: &[u8], at_ms: f64) -> bool {
        self.push_msg(data, Some(at_ms))
    }

    fn push_msg(&self, data: &[u8], at: Option<f64>) -> bool {
        if self.is_closed() {
            return false;
        }
        let b = buffer_of(data);
        let msg = message("p");
        set(&msg, "b", &b);
        if let Some(at) = at {
            set(&msg, "at", &at.into());
        }
        post_transfer(&self.0.port, &msg, &b).is_ok()
    }

    fn control(&self, msg: &Object) {
        if !self.is_closed() {
            let _ = self.0.port.post_message(msg);
        }
    }

    /// Stream mode: changes the format of the chunks that follow; audio of
    /// another rate still queued is dropped.
    pub fn set_format(&self, format: &str) {
        self.0.state.borrow_mut().stream_format = format.to_string();
        let m = message("format");
        set(&m, "format", &format.into());
        self.control(&m);
    }

    /// Stream mode: drops everything queued (barge-in).
    pub fn clear(&self) {
        self.control(&message("clear"));
    }

    /// Stream mode: a mark after the audio pushed so far. Resolves (and a
    /// [`PlayerEvent::Mark`] fires) when that audio has played or was
    /// cleared; fails with an AbortError if the player is closed first.
    pub fn mark(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<MarkEvent, JsValue>> {
        let promise = {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                js_sys::Promise::reject(&closed_error("PlayerNode"))
            } else {
                let id = s.next_id;
                s.next_id += 1;
                let d = Deferred::new();
                let p = d.promise.clone();
                s.marks.insert(name.to_string(), d);
                let m = message("mark");
                set(&m, "id", &id.into());
                set(&m, "name", &name.into());
                let _ = self.0.port.post_message(&m);
                p
            }
        };
        async move {
            JsFuture::from(promise)
                .await
                .map(|v| MarkEvent::from_js(&v))
        }
    }

    /// Resolves once the worklet has handled every message sent before it.
    pub fn sync(&self) -> impl std::future::Future<Output = Result<(), JsValue>> {
        let promise = {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                js_sys::Promise::reject(&closed_error("PlayerNode"))
            } else {
                let id = s.next_id;
                s.next_id += 1;
                let d = Deferred::new();
                let p = d.promise.clone();
                s.syncs.insert(id, d);
                let m = message("sync");
                set(&m, "id", &id.into());
                let _ = self.0.port.post_message(&m);
                p
            }
        };
        async move { JsFuture::from(promise).await.map(|_| ()) }
    }

    /// Stops the processor and frees its wasm memory; pending `ready`,
    /// `mark()` and `sync()` fail with an AbortError, later pushes return
    /// false. Calling it again does nothing.
    pub fn close(&self) {
        let (ready, marks, syncs) = {
            let mut s = self.0.state.borrow_mut();
            if s.closed {
                return;
            }
            s.closed = true;
            s.handler = None;
            (
                s.ready.take(),
                std::mem::take(&mut s.marks),
                std::mem::take(&mut s.syncs),
            )
        };
        let _ = self.0.port.post_message(&message("close"));
        let _ = self.0.node.disconnect();
        let err = closed_error("PlayerNode");
        ready
            .iter()
            .chain(marks.values())
            .chain(syncs.values())
            .for_each(|d| d.reject(&err));
    }
}
