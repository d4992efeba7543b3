//! The session's side of a SIP call: starting it from `hello` (or waiting
//! for an incoming one), `accept`/`reject`, and turning the call's
//! [`SipEvent`]s into `call` messages, the `answer` (once the codec is
//! chosen) and the end of the session.
//!
//! Apart from `session.rs` so that the WebSocket loop stays about the
//! browser, and the SIP signalling stays in `crate::sip`.

use axum::extract::ws::WebSocket;
use serde_json::{json, Value};

use super::{close, Attached, Flow, Session};
use crate::negotiate::{PeerPlan, Plan};
use crate::sip::call::{self, OutgoingCall};
use crate::sip::incoming::{self, Callee};
use crate::sip::SipEvent;

impl Session {
    /// `hello` on a `sip` peer: INVITE now, `answer` when the far end answers.
    pub(super) async fn start_sip_call(
        &mut self,
        ws: &mut WebSocket,
        plan: Plan,
        id: Option<&Value>,
    ) -> Flow {
        if self.call.is_some() {
            return self
                .error(ws, "already_started", "a call is already being placed", id)
                .await;
        }
        let Some(ua) = self.app.sip.clone() else {
            return self
                .error(
                    ws,
                    "peer_unavailable",
                    "the SIP user agent is not running",
                    id,
                )
                .await;
        };
        let PeerPlan::Sip {
            target,
            bind_ip,
            ports,
        } = &plan.peer
        else {
            return Flow::Continue;
        };
        let Some(target) = target else {
            let callee = Callee {
                session: self.id,
                codecs: plan.codecs.clone(),
                te_pt: plan.telephone_event,
                ptime: plan.ptime,
                bind_ip: *bind_ip,
                ports: *ports,
                events: self.events_tx.clone(),
                to_browser: self.from_peer_tx.clone(),
                counters: self.peer_counters.clone(),
            };
            self.waiting = Some(incoming::wait(&ua, callee));
            self.pending = Some((plan, id.cloned()));
            tracing::info!(session = %self.name, "waiting for an incoming SIP call");
            let v =
                json!({"type": "call", "state": "waiting", "account": ua.account().to_string()});
            return self.reply(ws, v, None).await;
        };
        let outgoing = OutgoingCall {
            target: target.clone(),
            codecs: plan.codecs.clone(),
            te_pt: plan.telephone_event,
            ptime: plan.ptime,
            bind_ip: *bind_ip,
            ports: *ports,
            session: self.id,
        };
        match call::start(
            &ua,
            outgoing,
            self.from_peer_tx.clone(),
            self.events_tx.clone(),
            self.peer_counters.clone(),
            &self.app.tracker,
        ) {
            Ok(handle) => {
                tracing::info!(session = %self.name, to = %handle.target, "SIP call placed");
                let v = json!({"type": "call", "state": "calling", "to": handle.target});
                self.call = Some(handle);
                self.pending = Some((plan, id.cloned()));
                // The hello's id goes on its reply, the `answer` (or error).
                self.reply(ws, v, None).await
            }
            Err(e) => {
                tracing::warn!(session = %self.name, "SIP call not placed: {e}");
                self.error(ws, "peer_unavailable", &e.to_string(), id).await
            }
        }
    }

    /// A state change of the call.
    pub(super) async fn on_sip(&mut self, ws: &mut WebSocket, ev: SipEvent) -> Flow {
        match ev {
            SipEvent::Ringing { status } => {
                let v = json!({"type": "call", "state": "ringing", "sip_status": status});
                self.reply(ws, v, None).await
            }
            SipEvent::Answered(a) => {
                let Some((plan, hello_id)) = self.pending.take() else {
                    return Flow::Continue;
                };
                let attached = Attached {
                    peer: a.peer,
                    codec: a.codec,
                    local_rtp_port: Some(a.local_rtp_port),
                };
                let active = self.activate(plan, attached);
                let mut v = self.answer(&active);
                v["sip"] = json!({
                    "to": self.call.as_ref().map(|c| c.target.clone()),
                    "remote_rtp": a.remote_rtp.to_string(),
                    "setup_ms": a.setup.as_millis() as u64,
                });
                tracing::info!(session = %self.name, codec = %active.rtpmap, "SIP call answered");
                self.active = Some(active);
                let state = json!({"type": "call", "state": "answered"});
                if let Flow::Gone = self.reply(ws, state, None).await {
                    return Flow::Gone;
                }
                self.reply(ws, v, hello_id.as_ref()).await
            }
            SipEvent::Failed {
                code,
                message,
                sip_status,
            } => {
                let mut v =
                    json!({"type": "error", "code": code, "message": message, "fatal": true});
                if let Some(s) = sip_status {
                    v["sip_status"] = json!(s);
                }
                let id = self.pending.as_ref().and_then(|(_, id)| id.clone());
                if let Flow::Gone = self.reply(ws, v, id.as_ref()).await {
                    return Flow::Gone;
                }
                Flow::Close(close::NORMAL, format!("call failed: {message}"))
            }
            SipEvent::Incoming { from, handle } => {
                self.waiting = None;
                self.call = Some(handle);
                tracing::info!(session = %self.name, %from, "incoming SIP call");
                let v = json!({"type": "call", "state": "incoming", "from": from});
                self.reply(ws, v, None).await
            }
            SipEvent::Hold { held, by_remote } => {
                let state = if held { "held" } else { "resumed" };
                let by = if by_remote { "remote" } else { "local" };
                self.reply(ws, json!({"type": "call", "state": state, "by": by}), None)
                    .await
            }
            SipEvent::HoldFailed(why) => {
                let msg = format!("hold/resume refused: {why}");
                self.error(ws, "hold_failed", &msg, None).await
            }
            SipEvent::Ended { reason } => {
                let v = json!({"type": "call", "state": "ended", "by": "remote", "reason": reason});
                if let Flow::Gone = self.reply(ws, v, None).await {
                    return Flow::Gone;
                }
                Flow::Close(close::NORMAL, "remote hangup".into())
            }
        }
    }

    /// `accept`: answer the incoming call that rings.
    pub(super) async fn on_accept(&mut self, ws: &mut WebSocket, id: Option<&Value>) -> Flow {
        let rings = self.active.is_none() && self.call.as_mut().is_some_and(|c| c.accept());
        if !rings {
            return self
                .error(ws, "no_session", "no incoming call is ringing", id)
                .await;
        }
        self.reply(ws, json!({"type": "ack", "of": "accept"}), id)
            .await
    }

    /// `hold` / `resume`: re-INVITE the answered call.
    pub(super) async fn on_hold(
        &mut self,
        ws: &mut WebSocket,
        on: bool,
        id: Option<&Value>,
    ) -> Flow {
        let queued = self.active.is_some() && self.call.as_ref().is_some_and(|c| c.hold(on));
        if !queued {
            return self
                .error(
                    ws,
                    "no_session",
                    "no answered SIP call to hold or resume",
                    id,
                )
                .await;
        }
        let of = if on { "hold" } else { "resume" };
        self.reply(ws, json!({"type": "ack", "of": of}), id).await
    }

    /// `reject`: decline the incoming call that rings (603), ending the session.
    pub(super) async fn on_reject(&mut self, ws: &mut WebSocket, id: Option<&Value>) -> Flow {
        if self.active.is_some() || self.call.is_none() || self.pending.is_none() {
            return self
                .error(ws, "no_session", "no incoming call is ringing", id)
                .await;
        }
        Flow::Close(close::NORMAL, "rejected".into())
    }
}
