//! voxlet for Rust web apps (cargo feature `web`, wasm32 only): the npm
//! package's AudioWorklet processors and wasm, driven from Rust through
//! `web-sys`.
//!
//! Why: a Rust front-end (Leptos, Yew, Dioxus, Sycamore) should add voice
//! without writing JavaScript glue around the npm package. This module is
//! the npm package's main-thread half (`pkg/src/index.js`,
//! `transports.js`) written in Rust; the worklet half is *not*
//! re-implemented: [`Voxlet::register`] adds the package's own worklet
//! bundle (`worklet/voxlet-worklet.js`) and hands it the package's own wasm
//! (`wasm/voxlet_bg.wasm`), and [`PlayerNode`] and [`MicNode`] speak the port
//! protocol of `pkg/src/worklet/` with the same option and event names
//! (`minDelayMs` there is [`JitterOptions::min_delay_ms`] here). Everything
//! audible is computed by the core inside the worklet, as with the npm
//! package. The wire formats of a [`Link`] are parsed and built by the
//! core's adapters (the same code as the npm package's, compiled into the
//! app's wasm), so this layer only moves bytes and turns port messages
//! into Rust values.
//!
//! ```ignore
//! let ctx = web_sys::AudioContext::new()?;
//! let vox = Voxlet::register(&ctx, &RegisterOptions::at("/voxlet")).await?;
//! let player = vox.create_player(&PlayerOptions::default())?;
//! player.connect_to_destination()?;
//! let mic = vox.open_mic(&MicOptions::default()).await?;
//! let link = Link::websocket(&WebSocket::new(url)?, LinkOptions::rtp(Some(&player), Some(&mic)))?;
//! player.on_event(|ev| if let PlayerEvent::Dtmf(d) = ev { web_sys::console::log_1(&d.digit.into()) });
//! ```
//!
//! Differences from the npm package: packets always travel on the
//! MessagePort (no SharedArrayBuffer rings: a Rust app cannot count on
//! cross-origin isolation either, and the port path is the one every
//! engine has); the echo-cancelled output route (`output: 'aec'`) is not
//! offered; events are Rust callbacks instead of DOM events.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::BaseAudioContext;

mod link;
mod mic;
mod player;

// The crates this API is written in, so that an app needs no dependency
// line of its own for them (and gets the web-sys features used here):
// `use voxlet::web::{web_sys, js_sys, wasm_bindgen_futures};`.
pub use js_sys;
pub use wasm_bindgen_futures;
pub use web_sys;

/// Sends Rust panic messages to `console.error` (instead of a bare
/// "unreachable"); idempotent. voxlet does not install it itself in a
/// `web` build: the app's `#[wasm_bindgen(start)]` function calls it, or
/// sets a hook of its own.
pub fn show_panics() {
    console_error_panic_hook::set_once();
}

pub use crate::codec::{NeuralOpus, Osce};
pub use link::{Link, LinkCounts, LinkEvent, LinkOptions, Message, TwilioOptions, WireFormat};
pub use mic::{MicEvent, MicNode, MicOptions, PacketKind};
pub use player::{
    DtmfEvent, DtmfPhase, JitterOptions, MarkEvent, OpusOptions, PlayerEvent, PlayerMode,
    PlayerNode, PlayerOptions, StreamOptions,
};

/// Where the npm package's files are, or an already compiled module
/// (the npm package's `RegisterOptions`: `workletUrl`, `wasmUrl`, `module`).
#[derive(Clone, Debug, Default)]
pub struct RegisterOptions {
    /// URL of the worklet bundle (`worklet/voxlet-worklet.js` of the npm package).
    pub worklet_url: String,
    /// URL of the full wasm (`wasm/voxlet_bg.wasm` of the npm package);
    /// unused when `module` is given.
    pub wasm_url: String,
    /// An already compiled `WebAssembly.Module` of that wasm (skips
    /// fetching and compiling).
    pub module: Option<WebAssembly::Module>,
}

impl RegisterOptions {
    /// The npm package's layout under `base` (where its `worklet/` and
    /// `wasm/` directories are served, e.g. `/voxlet` or
    /// `https://cdn.example/voxlet@0.1.0`).
    pub fn at(base: &str) -> RegisterOptions {
        let base = base.trim_end_matches('/');
        RegisterOptions {
            worklet_url: format!("{base}/worklet/voxlet-worklet.js"),
            wasm_url: format!("{base}/wasm/voxlet_bg.wasm"),
            module: None,
        }
    }

    /// The npm package's layout under `base`, with its neural Opus build
    /// (`wasm-neural/voxlet_bg.wasm`, ~4 MB gzip: deep PLC, DRED, OSCE),
    /// for [`OpusOptions::neural`] and [`MicOptions::dred_ms`].
    pub fn neural_at(base: &str) -> RegisterOptions {
        RegisterOptions {
            wasm_url: format!("{}/wasm-neural/voxlet_bg.wasm", base.trim_end_matches('/')),
            ..RegisterOptions::at(base)
        }
    }
}

thread_local! {
    /// Compiled modules by URL (once per page, like the npm package's compileWasm()).
    static COMPILED: RefCell<HashMap<String, WebAssembly::Module>> = RefCell::new(HashMap::new());
    /// Contexts registered so far (once per context, like register()).
    static REGISTERED: RefCell<Vec<Voxlet>> = const { RefCell::new(Vec::new()) };
}

/// What [`Voxlet::register`] returns: the factory for nodes on one context
/// (the npm package's `Voxlet`). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Voxlet {
    context: BaseAudioContext,
    module: WebAssembly::Module,
}

impl Voxlet {
    /// Sets voxlet up on an `AudioContext` (or `OfflineAudioContext`):
    /// compiles the wasm (once per page and URL) and adds the worklet
    /// module (once per context; a second call for the same context
    /// returns the same set-up).
    pub async fn register(
        context: &BaseAudioContext,
        options: &RegisterOptions,
    ) -> Result<Voxlet, JsValue> {
        if let Some(v) = REGISTERED.with(|r| {
            let mut r = r.borrow_mut();
            // Closed contexts are let go.
            r.retain(|v| v.context.state() != web_sys::AudioContextState::Closed);
            r.iter().find(|v| Object::is(&v.context, context)).cloned()
        }) {
            return Ok(v);
        }
        let module = match &options.module {
            Some(m) => m.clone(),
            None => compile_wasm(&options.wasm_url).await?,
        };
        JsFuture::from(context.audio_worklet()?.add_module(&options.worklet_url)?).await?;
        let vox = Voxlet {
            context: context.clone(),
            module,
        };
        REGISTERED.with(|r| r.borrow_mut().push(vox.clone()));
        Ok(vox)
    }

    /// The context this was registered on.
    pub fn context(&self) -> &BaseAudioContext {
        &self.context
    }

    /// The compiled wasm the processors instantiate.
    pub fn module(&self) -> &WebAssembly::Module {
        &self.module
    }

    /// A receiving node ([`PlayerNode`]).
    pub fn create_player(&self, options: &PlayerOptions) -> Result<PlayerNode, JsValue> {
        PlayerNode::new(self, options)
    }

    /// A sending node ([`MicNode`]); connect a source (the microphone, any
    /// node) into [`MicNode::node`].
    pub fn create_mic(&self, options: &MicOptions) -> Result<MicNode, JsValue> {
        MicNode::new(self, options, None)
    }

    /// `getUserMedia()` with voice-friendly defaults (echo cancellation,
    /// noise suppression, automatic gain control), connected into a new
    /// [`MicNode`]. Closing the mic stops the microphone.
    pub async fn open_mic(&self, options: &MicOptions) -> Result<MicNode, JsValue> {
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("voxlet: no window"))?;
        let audio = Object::new();
        for k in ["echoCancellation", "noiseSuppression", "autoGainControl"] {
            set(&audio, k, &JsValue::TRUE);
        }
        let constraints = web_sys::MediaStreamConstraints::new();
        constraints.set_audio(&audio);
        let promise = window
            .navigator()
            .media_devices()?
            .get_user_media_with_constraints(&constraints)?;
        let stream: web_sys::MediaStream = JsFuture::from(promise).await?.unchecked_into();
        let ctx: &web_sys::AudioContext = self.context.unchecked_ref();
        let source = ctx.create_media_stream_source(&stream)?;
        let mic = MicNode::new(self, options, Some(stream))?;
        source.connect_with_audio_node(mic.node())?;
        Ok(mic)
    }
}

/// Fetches and compiles the wasm at `url`, once per page.
async fn compile_wasm(url: &str) -> Result<WebAssembly::Module, JsValue> {
    if let Some(m) = COMPILED.with(|c| c.borrow().get(url).cloned()) {
        return Ok(m);
    }
    let fetch: Function = Reflect::get(&js_sys::global(), &"fetch".into())?.unchecked_into();
    let res: web_sys::Response =
        JsFuture::from(Promise::from(fetch.call1(&JsValue::NULL, &url.into())?))
            .await?
            .unchecked_into();
    if !res.ok() {
        return Err(JsValue::from_str(&format!(
            "voxlet: fetching {url}: {}",
            res.status()
        )));
    }
    let bytes = JsFuture::from(res.array_buffer()?).await?;
    let module: WebAssembly::Module = JsFuture::from(WebAssembly::compile(&bytes))
        .await?
        .unchecked_into();
    COMPILED.with(|c| c.borrow_mut().insert(url.to_string(), module.clone()));
    Ok(module)
}

/// A node's port message handler.
pub(crate) type OnMessage = Closure<dyn FnMut(web_sys::MessageEvent)>;

/// The `on_event` callback of a player, mic or link.
pub(crate) type EventHandler<E> = Rc<RefCell<dyn FnMut(&E)>>;

/// Calls `handler` (taken out of the node's state first, so that it may
/// set another one) with `ev`; an event raised while it runs is dropped.
pub(crate) fn call_handler<E>(handler: Option<EventHandler<E>>, ev: &E) {
    if let Some(h) = handler {
        if let Ok(mut f) = h.try_borrow_mut() {
            f(ev);
        }
    }
}

/// `obj[key] = value` (a plain data object: cannot fail).
pub(crate) fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// `obj[key] = value` when `value` is given (a field left out keeps the core's default).
pub(crate) fn set_opt<T: Into<JsValue> + Clone>(obj: &Object, key: &str, value: &Option<T>) {
    if let Some(v) = value {
        set(obj, key, &v.clone().into());
    }
}

/// `obj[key]`, or undefined.
pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key]` as a number, NaN if it is not one.
pub(crate) fn get_f64(obj: &JsValue, key: &str) -> f64 {
    get(obj, key).as_f64().unwrap_or(f64::NAN)
}

/// `obj[key]` as a string, empty if it is not one.
pub(crate) fn get_str(obj: &JsValue, key: &str) -> String {
    get(obj, key).as_string().unwrap_or_default()
}

/// A copy of `data` in a fresh ArrayBuffer (to be transferred).
pub(crate) fn buffer_of(data: &[u8]) -> JsValue {
    Uint8Array::from(data).buffer().into()
}

/// Posts `msg` on `port`, transferring `buffer`.
pub(crate) fn post_transfer(
    port: &web_sys::MessagePort,
    msg: &Object,
    buffer: &JsValue,
) -> Result<(), JsValue> {
    port.post_message_with_transferable(msg, &Array::of1(buffer))
}

/// `{ t: kind }`, the start of every port message.
pub(crate) fn message(kind: &str) -> Object {
    let o = Object::new();
    set(&o, "t", &kind.into());
    o
}

/// Statistics as the processors post them: `(name, value)` in the core's
/// order (WebRTC `inbound-rtp` names for the player, the Sender's for the mic).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats(pub Vec<(String, f64)>);

impl Stats {
    /// The value named `name` (e.g. `packetsReceived`), if there is one.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub(crate) fn from_js(v: &JsValue) -> Stats {
        let Some(obj) = v.dyn_ref::<Object>() else {
            return Stats::default();
        };
        Stats(
            Object::entries(obj)
                .iter()
                .filter_map(|e| {
                    let e: Array = e.unchecked_into();
                    Some((e.get(0).as_string()?, e.get(1).as_f64()?))
                })
                .collect(),
        )
    }
}

/// A promise and its resolve / reject functions, made once (what
/// `ready`, `mark()` and `sync()` hand out).
pub(crate) struct Deferred {
    pub promise: Promise,
    resolve: Function,
    reject: Function,
}

impl Deferred {
    pub fn new() -> Deferred {
        let mut parts = None;
        let promise = Promise::new(&mut |resolve, reject| parts = Some((resolve, reject)));
        let (resolve, reject) =
            parts.unwrap_or_else(|| (Function::new_no_args(""), Function::new_no_args("")));
        // A rejection nobody awaits is not an "uncaught" error.
        NOOP.with(|f| {
            let _ = promise.catch(f);
        });
        Deferred {
            promise,
            resolve,
            reject,
        }
    }

    pub fn resolve(&self, v: &JsValue) {
        let _ = self.resolve.call1(&JsValue::NULL, v);
    }

    pub fn reject(&self, e: &JsValue) {
        let _ = self.reject.call1(&JsValue::NULL, e);
    }
}

thread_local! {
    static NOOP: Closure<dyn FnMut(JsValue)> = Closure::new(|_: JsValue| {});
}

/// What pending futures of a closed node fail with (the npm package's
/// AbortError DOMException).
pub(crate) fn closed_error(what: &str) -> JsValue {
    web_sys::DomException::new_with_message_and_name(
        &format!("voxlet: the {what} was closed"),
        "AbortError",
    )
    .map(Into::into)
    .unwrap_or_else(|_| JsValue::from_str(&format!("voxlet: the {what} was closed")))
}

/// A random u32 from the page's `crypto`.
pub(crate) fn random_u32() -> u32 {
    let a = js_sys::Uint32Array::new_with_length(1);
    let crypto = get(&js_sys::global(), "crypto");
    if let Ok(f) = get(&crypto, "getRandomValues").dyn_into::<Function>() {
        let _ = f.call1(&crypto, &a);
    }
    a.get_index(0)
}
