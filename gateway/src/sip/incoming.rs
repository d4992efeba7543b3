//! Incoming SIP calls: a page that said `hello` with `incoming: true` on a
//! `sip` peer waits; an INVITE outside any call goes to the longest-waiting
//! page, which hears `call incoming` and sends `accept` (or `reject` /
//! `hangup`). Only then does the gateway bind RTP, answer 200 with its SDP
//! and start the same bridge as for outgoing calls.
//!
//! Only callers on the operator's `--sip-allow-from` list (matched against
//! the From URI) ring a page, others get 403. With no page waiting the
//! INVITE gets 480; a page that goes away while it
//! rings declines the call (603); the caller's CANCEL ends the page's
//! session with `call ended`.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rsipstack::dialog::dialog::DialogState;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tokio::sync::mpsc;

use super::call::{confirmed, controls, Answered, CallHandle, Running, SipEvent};
use super::sdp::{self, Direction};
use super::ua::SipUa;
use crate::negotiate::Codec;
use crate::peer::{self, Packet, PeerCounters, PtMap, SessionEvent};

/// How long the caller's ACK to our 200 may take.
const ACK_TIMEOUT: Duration = Duration::from_secs(32);

/// What a waiting page can take.
#[derive(Clone)]
pub struct Callee {
    /// The waiting session's id.
    pub session: u64,
    /// The browser's negotiated codecs (browser payload types).
    pub codecs: Vec<Codec>,
    /// The browser's telephone-event payload type.
    pub te_pt: Option<u8>,
    /// Packet time.
    pub ptime: u16,
    /// Address the RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// RTP port range.
    pub ports: Option<(u16, u16)>,
    /// The session's event channel.
    pub events: mpsc::Sender<SessionEvent>,
    /// Where the bridge sends the phone's packets.
    pub to_browser: mpsc::Sender<Packet>,
    /// The session's peer counters.
    pub counters: Arc<PeerCounters>,
}

/// Pages waiting for a call, oldest first.
#[derive(Default)]
pub struct Callees(Mutex<VecDeque<Callee>>);

impl Callees {
    fn take(&self) -> Option<Callee> {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(c) = q.pop_front() {
            if !c.events.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn remove(&self, session: u64) {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        q.retain(|c| c.session != session);
    }

    /// Pages waiting now.
    pub fn len(&self) -> usize {
        self.0.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// No page waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A page's place in the queue: dropping it leaves the queue.
pub struct WaitHandle {
    ua: Arc<SipUa>,
    session: u64,
}

impl Drop for WaitHandle {
    fn drop(&mut self) {
        self.ua.callees.remove(self.session);
    }
}

/// Puts a page in the queue of callees.
pub fn wait(ua: &Arc<SipUa>, callee: Callee) -> WaitHandle {
    let session = callee.session;
    ua.callees
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push_back(callee);
    WaitHandle {
        ua: ua.clone(),
        session,
    }
}

/// Lets the INVITE's server transaction send the final response it was
/// given before it is dropped (bounded).
async fn finish(task: &mut peer::AbortOnDrop) {
    let _ = tokio::time::timeout(Duration::from_secs(2), &mut task.0).await;
}

/// The caller as the page sees it: the From URI, printable, bounded.
fn caller(tx: &Transaction) -> String {
    let v = tx
        .original
        .from_header()
        .map(|f| f.value().to_string())
        .unwrap_or_default();
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(""),
    };
    uri.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Routes an INVITE outside any call: 403 from a caller not on
/// `--sip-allow-from`, else to a waiting page, or 480.
pub async fn route(ua: Arc<SipUa>, mut tx: Transaction) {
    let from = caller(&tx);
    if !ua.allow_from.allows_text(&from) {
        tracing::info!(%from, "incoming INVITE from a caller not on --sip-allow-from: 403");
        let _ = tx.reply(StatusCode::Forbidden).await;
        return;
    }
    let Some(callee) = ua.callees.take() else {
        let _ = tx.reply(StatusCode::TemporarilyUnavailable).await;
        return;
    };
    // The offer must have a codec the page has, before the page is bothered.
    let selected = sdp::parse(&tx.original.body)
        .and_then(|d| sdp::select(&callee.codecs, callee.te_pt.is_some(), &d));
    let selected = match selected {
        Ok(s) => s,
        Err(e) => {
            tracing::info!("incoming INVITE refused: {e}");
            let code = if e == sdp::SdpError::NoCommonCodec {
                StatusCode::NotAcceptableHere
            } else {
                StatusCode::BadRequest
            };
            let _ = tx.reply(code).await;
            // The page keeps waiting.
            let _ = wait(&ua, callee);
            return;
        }
    };
    let layer = ua.layer.clone();
    let (state_tx, mut states) = layer.new_dialog_state_channel();
    let dialog =
        match layer.get_or_create_server_invite(&tx, state_tx, None, Some(ua.contact.clone())) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("incoming INVITE: {e}");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return;
            }
        };
    let id = dialog.id();
    ua.calls.fetch_add(1, Ordering::Relaxed);
    let _running = Running(ua.clone());
    let mut handler = dialog.clone();
    let mut tx_task = peer::AbortOnDrop(tokio::spawn(async move {
        let _ = handler.handle(&mut tx).await;
    }));
    let _ = dialog.ringing(None, None);
    let (hangup_tx, hold_tx, mut ctl) = controls();
    let (accept_tx, mut accept) = mpsc::channel::<()>(1);
    let handle = CallHandle::incoming(hangup_tx, hold_tx, accept_tx, from.clone());
    let ev = SessionEvent::Sip(SipEvent::Incoming { from, handle });
    if callee.events.send(ev).await.is_err() {
        let _ = dialog.reject(Some(StatusCode::TemporarilyUnavailable), None);
        finish(&mut tx_task).await;
        layer.remove_dialog(&id);
        return;
    }
    let emit = |e: SipEvent| {
        let events = callee.events.clone();
        async move {
            let _ = events.send(SessionEvent::Sip(e)).await;
        }
    };
    // Ringing: the page decides, or the caller gives up.
    loop {
        tokio::select! {
            a = accept.recv() => {
                if a.is_some() { break; }
                // The handle is gone without an accept: decline.
                let _ = dialog.reject(Some(StatusCode::Decline), None);
                finish(&mut tx_task).await;
                layer.remove_dialog(&id);
                return;
            }
            _ = ctl.hangup.recv() => {
                let _ = dialog.reject(Some(StatusCode::Decline), None);
                finish(&mut tx_task).await;
                layer.remove_dialog(&id);
                return;
            }
            s = states.recv() => match s {
                Some(DialogState::Terminated(_, reason)) => {
                    emit(SipEvent::Ended { reason: format!("{reason:?}") }).await;
                    layer.remove_dialog(&id);
                    return;
                }
                None => { layer.remove_dialog(&id); return; }
                Some(_) => {}
            },
        }
    }
    // Accepted: bind, answer, wait for the ACK.
    let started = Instant::now();
    let media_ip = if callee.bind_ip.is_unspecified() {
        ua.local.ip()
    } else {
        callee.bind_ip
    };
    let pair = match peer::bind_pair(callee.bind_ip, callee.ports) {
        Ok(p) => p,
        Err(e) => {
            let _ = dialog.reject(Some(StatusCode::ServiceUnavailable), None);
            finish(&mut tx_task).await;
            layer.remove_dialog(&id);
            emit(SipEvent::Failed {
                code: "call_failed",
                message: format!("RTP sockets: {e}"),
                sip_status: None,
            })
            .await;
            return;
        }
    };
    let local_rtp_port = pair.0.local_addr().map(|a| a.port()).unwrap_or(0);
    let Some(codec) = callee.codecs.get(selected.codec) else {
        return;
    };
    let body = sdp::build_answer(&sdp::AnswerSdp {
        codec,
        remote_pt: selected.remote_pt,
        remote_te: selected.remote_te,
        ptime: callee.ptime,
        rtp: SocketAddr::new(media_ip, local_rtp_port),
        session_id: callee.session.wrapping_mul(0x9E37_79B9) & 0xffff_ffff,
        version: 1,
        direction: Direction::SendRecv,
    });
    if let Err(e) = dialog.accept(
        Some(vec![Header::ContentType("application/sdp".into())]),
        Some(body.clone().into_bytes()),
    ) {
        tracing::warn!("incoming call: 200 not sent: {e}");
        layer.remove_dialog(&id);
        emit(SipEvent::Failed {
            code: "call_failed",
            message: e.to_string(),
            sip_status: None,
        })
        .await;
        return;
    }
    let acked = tokio::time::timeout(ACK_TIMEOUT, async {
        loop {
            match states.recv().await {
                Some(DialogState::Confirmed(..)) => return true,
                Some(DialogState::Terminated(..)) | None => return false,
                Some(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    if !acked {
        layer.remove_dialog(&id);
        emit(SipEvent::Ended {
            reason: "no ACK".into(),
        })
        .await;
        return;
    }
    let mut map = vec![(codec.pt, selected.remote_pt)];
    if let (Some(b), Some((r, _))) = (callee.te_pt, selected.remote_te) {
        map.push((b, r));
    }
    let bridge = peer::spawn_udp_on(
        pair,
        selected.rtp,
        PtMap(map),
        ua.media_source,
        callee.to_browser.clone(),
        callee.events.clone(),
        callee.counters.clone(),
    );
    let peer = match bridge {
        Ok(p) => p,
        Err(e) => {
            let _ = dialog.bye().await;
            layer.remove_dialog(&id);
            emit(SipEvent::Failed {
                code: "call_failed",
                message: format!("RTP sockets: {e}"),
                sip_status: None,
            })
            .await;
            return;
        }
    };
    emit(SipEvent::Answered(Box::new(Answered {
        peer,
        codec: selected.codec,
        remote_rtp: selected.rtp,
        local_rtp_port,
        setup: started.elapsed(),
    })))
    .await;
    let reoffer = move |version: u64, direction: Direction| {
        sdp::build_answer(&sdp::AnswerSdp {
            codec,
            remote_pt: selected.remote_pt,
            remote_te: selected.remote_te,
            ptime: callee.ptime,
            rtp: SocketAddr::new(media_ip, local_rtp_port),
            session_id: callee.session.wrapping_mul(0x9E37_79B9) & 0xffff_ffff,
            version,
            direction,
        })
    };
    confirmed(&ua, &callee.events, id, dialog, states, ctl, &reoffer).await;
}
