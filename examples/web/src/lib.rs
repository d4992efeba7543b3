//! voxlet from Rust in the browser: `voice()` plays what a WebSocket sends
//! (raw RTP, one packet per message) and sends the microphone back as
//! PCMU, through the npm package's AudioWorklet processors and wasm. The
//! page (`index.html`) only loads this module and calls `call()`.
#![cfg(target_arch = "wasm32")]

use voxlet::web::web_sys::{AudioContext, WebSocket};
use voxlet::web::{js_sys, wasm_bindgen_futures, web_sys}; // re-exported: no dependency lines of their own
use voxlet::web::{
    Link, LinkOptions, MicNode, MicOptions, PlayerEvent, PlayerNode, PlayerOptions,
    RegisterOptions, Voxlet,
};
use wasm_bindgen::prelude::*;

/// The app's own start function (voxlet leaves it to the app): panic
/// messages on the console.
#[wasm_bindgen(start)]
fn start() {
    voxlet::web::show_panics();
}

/// Voice on `ctx`: plays what `url` sends, sends it the microphone, logs
/// DTMF keys; the npm package's files (its `worklet/` and `wasm/`) are
/// served at `base`. This function is the snippet in README.md.
pub async fn voice(
    ctx: &AudioContext,
    base: &str,
    url: &str,
) -> Result<(PlayerNode, MicNode, Link), JsValue> {
    let vox = Voxlet::register(ctx, &RegisterOptions::at(base)).await?;
    let player = vox.create_player(&PlayerOptions::default())?;
    player.connect_to_destination()?;
    let mic = vox.open_mic(&MicOptions::default()).await?;
    let link = Link::websocket(
        &WebSocket::new(url)?,
        LinkOptions::rtp(Some(&player), Some(&mic)),
    )?;
    player.on_event(|e| {
        if let PlayerEvent::Dtmf(d) = e {
            web_sys::console::log_1(&d.digit.as_str().into())
        }
    });
    Ok((player, mic, link))
}

/// [`voice`] on a new AudioContext, for the page: `sample_rate` is the
/// context's (left out: the device's).
#[wasm_bindgen]
pub async fn call(
    url: String,
    voxlet_base: String,
    sample_rate: Option<f32>,
) -> Result<Call, JsValue> {
    let options = web_sys::AudioContextOptions::new();
    if let Some(rate) = sample_rate {
        options.set_sample_rate(rate);
    }
    let ctx = AudioContext::new_with_context_options(&options)?;
    let (player, mic, link) = voice(&ctx, &voxlet_base, &url).await?;
    Ok(Call {
        ctx,
        player,
        mic,
        link,
    })
}

/// A call in progress.
#[wasm_bindgen]
pub struct Call {
    ctx: AudioContext,
    player: PlayerNode,
    mic: MicNode,
    link: Link,
}

#[wasm_bindgen]
impl Call {
    /// The call's AudioContext.
    pub fn context(&self) -> AudioContext {
        self.ctx.clone()
    }

    /// The player's node (to show levels, record…).
    pub fn player(&self) -> web_sys::AudioNode {
        self.player.node().clone().into()
    }

    /// The player's latest statistics as `{ name: value }` (WebRTC names).
    pub fn stats(&self) -> js_sys::Object {
        let o = js_sys::Object::new();
        for (k, v) in self.player.stats().map(|s| s.0).unwrap_or_default() {
            let _ = js_sys::Reflect::set(&o, &k.into(), &v.into());
        }
        o
    }

    /// Sends DTMF digits (RFC 4733, 100 ms each).
    pub fn dtmf(&self, digits: &str) {
        self.mic.send_dtmf(digits, 100.0, 10.0);
    }

    /// Ends the call: the link, both nodes, the microphone and the context.
    #[wasm_bindgen(js_name = hangUp)]
    pub fn hang_up(&self) {
        self.link.close();
        self.mic.close();
        self.player.close();
        let _ = self.ctx.close();
    }
}
