//! One outgoing SIP call, as a task owned by its browser session.
//!
//! The session gets a [`CallHandle`] and [`SipEvent`]s; the task does the
//! SIP: INVITE (digest auth through rsipstack when credentials are
//! configured), `ringing` on a provisional response, on 2xx the answer's
//! codec and media address and then the RTP bridge, BYE from the far end.
//! Dropping the handle (hang-up, page closed, gateway stopping) makes the
//! task CANCEL a ringing call or BYE an answered one before it ends, so a
//! page going away never leaves a call up at the far end.
//!
//! The RTP/RTCP socket pair is bound before the INVITE (its port is in the
//! offer) and is the one the bridge uses, so a failed call leaks no port.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::DialogId;
use rsipstack::sip::{Header, StatusCode, StatusCodeKind};
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::allow::SipTarget;
use super::sdp::{self, Direction, Offer};
use super::ua::{uri, SipUa};
use super::SipError;
use crate::negotiate::Codec;
use crate::peer::{self, Packet, PeerCounters, PeerHandle, PtMap, SessionEvent};

/// How long a CANCEL or BYE may take when the call is torn down.
pub const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long our hold/resume re-INVITE may take.
pub const REINVITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the page's [`CallHandle`] controls, on the call task's side.
pub(crate) struct Controls {
    /// Closed when the handle is dropped: hang up.
    pub(crate) hangup: mpsc::Receiver<()>,
    /// Hold (`true`) / resume requests.
    pub(crate) hold: mpsc::Receiver<bool>,
}

/// The handle's senders and the task's [`Controls`].
pub(crate) fn controls() -> (mpsc::Sender<()>, mpsc::Sender<bool>, Controls) {
    let (hangup_tx, hangup) = mpsc::channel(1);
    let (hold_tx, hold) = mpsc::channel(1);
    (hangup_tx, hold_tx, Controls { hangup, hold })
}

/// What a SIP call tells its session.
#[non_exhaustive]
pub enum SipEvent {
    /// The far end is ringing (a provisional response other than 100).
    Ringing {
        /// The SIP status (180, 183).
        status: u16,
    },
    /// The far end answered; media flows through `peer`.
    Answered(Box<Answered>),
    /// The call did not come up.
    Failed {
        /// `call_failed` (SIP error response or timeout), `no_codec`
        /// (answer without a common codec) or `bad_answer` (unusable SDP).
        code: &'static str,
        /// What happened, e.g. `486 Busy Here`.
        message: String,
        /// The final SIP status, when there was one.
        sip_status: Option<u16>,
    },
    /// The call was put on hold or resumed, by the far end's re-INVITE or
    /// by ours (the page's `hold` / `resume`).
    Hold {
        /// On hold (`true`) or resumed.
        held: bool,
        /// The far end did it.
        by_remote: bool,
    },
    /// Our hold/resume re-INVITE was refused or timed out (the call goes on).
    HoldFailed(String),
    /// A call for a waiting page rings; `handle.accept()` answers it,
    /// dropping the handle declines it (603) or, once answered, hangs up.
    Incoming {
        /// The caller's URI (From).
        from: String,
        /// The page's side of the call.
        handle: CallHandle,
    },
    /// The far end hung up (BYE) or the dialog ended otherwise.
    Ended {
        /// Why, e.g. `BYE`.
        reason: String,
    },
}

impl fmt::Debug for SipEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SipEvent::Ringing { status } => write!(f, "Ringing({status})"),
            SipEvent::Answered(a) => write!(f, "Answered(codec {}, {})", a.codec, a.remote_rtp),
            SipEvent::Failed { code, message, .. } => write!(f, "Failed({code}: {message})"),
            SipEvent::Hold { held, by_remote } => write!(f, "Hold({held}, remote {by_remote})"),
            SipEvent::HoldFailed(m) => write!(f, "HoldFailed({m})"),
            SipEvent::Incoming { from, .. } => write!(f, "Incoming({from})"),
            SipEvent::Ended { reason } => write!(f, "Ended({reason})"),
        }
    }
}

/// The answered call's media.
pub struct Answered {
    /// The RTP bridge to the far end.
    pub peer: PeerHandle,
    /// Index into the offered codecs of the one the far end chose.
    pub codec: usize,
    /// The far end's RTP address.
    pub remote_rtp: SocketAddr,
    /// The gateway's RTP port (RTCP: + 1).
    pub local_rtp_port: u16,
    /// Outgoing: INVITE sent → 2xx; incoming: accept → ACK.
    pub setup: Duration,
}

/// The session's side of a call: dropping it hangs up.
pub struct CallHandle {
    _hangup: mpsc::Sender<()>,
    hold: mpsc::Sender<bool>,
    accept: Option<mpsc::Sender<()>>,
    /// The URI called, or the caller's.
    pub target: String,
}

impl CallHandle {
    /// The handle of an incoming call (see [`super::incoming`]).
    pub(crate) fn incoming(
        hangup: mpsc::Sender<()>,
        hold: mpsc::Sender<bool>,
        accept: mpsc::Sender<()>,
        from: String,
    ) -> CallHandle {
        CallHandle {
            _hangup: hangup,
            hold,
            accept: Some(accept),
            target: from,
        }
    }

    /// Puts the answered call on hold (re-INVITE `a=sendonly`) or resumes it
    /// (`a=sendrecv`); the outcome comes as [`SipEvent::Hold`] or
    /// [`SipEvent::HoldFailed`]. False when a request is already queued.
    pub fn hold(&self, on: bool) -> bool {
        self.hold.try_send(on).is_ok()
    }

    /// Answers a ringing incoming call; false when there is none to answer.
    pub fn accept(&mut self) -> bool {
        self.accept.take().is_some_and(|a| a.try_send(()).is_ok())
    }
}

/// What to call and with which media.
#[derive(Clone, Debug)]
pub struct OutgoingCall {
    /// Destination (already allowed).
    pub target: SipTarget,
    /// The browser's negotiated codecs (browser payload types).
    pub codecs: Vec<Codec>,
    /// The browser's telephone-event payload type.
    pub te_pt: Option<u8>,
    /// Packet time.
    pub ptime: u16,
    /// Address the RTP sockets bind to and the offer names.
    pub bind_ip: IpAddr,
    /// RTP port range.
    pub ports: Option<(u16, u16)>,
    /// Session id (seeds the SDP session id).
    pub session: u64,
}

/// Counts a running call task in the user agent for its whole life.
pub(crate) struct Running(pub(crate) Arc<SipUa>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.calls.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Binds the RTP pair, builds the offer and starts the call task.
pub fn start(
    ua: &Arc<SipUa>,
    call: OutgoingCall,
    to_browser: mpsc::Sender<Packet>,
    events: mpsc::Sender<SessionEvent>,
    counters: Arc<PeerCounters>,
    tracker: &TaskTracker,
) -> Result<CallHandle, SipError> {
    // Checked by `negotiate` already; checked again here so that no other
    // path can ever make the user agent call outside the allow-list.
    ua.allow.check(call.target.clone())?;
    let media_ip = if call.bind_ip.is_unspecified() {
        ua.local.ip()
    } else {
        call.bind_ip
    };
    if media_ip.is_unspecified() {
        return Err(SipError::Config(
            "set --rtp-bind (or --sip-bind) to the address SIP peers reach".into(),
        ));
    }
    let pair = peer::bind_pair(call.bind_ip, call.ports)?;
    let local_rtp_port = pair.0.local_addr()?.port();
    let offer = sdp::build_offer(&Offer {
        codecs: &call.codecs,
        te_pt: call.te_pt,
        ptime: call.ptime,
        rtp: SocketAddr::new(media_ip, local_rtp_port),
        session_id: call.session.wrapping_mul(0x9E37_79B9) & 0xffff_ffff,
        version: 1,
        direction: Direction::SendRecv,
    });
    let opt = InviteOption {
        caller: uri(&ua.account.to_string())?,
        callee: uri(&call.target.to_string())?,
        contact: ua.contact.clone(),
        content_type: Some("application/sdp".into()),
        offer: Some(offer.clone().into_bytes()),
        credential: ua.credential.clone(),
        ..Default::default()
    };
    let (hangup_tx, hold_tx, controls) = controls();
    ua.calls.fetch_add(1, Ordering::Relaxed);
    let running = Running(ua.clone());
    let target = call.target.to_string();
    let task = CallTask {
        ua: ua.clone(),
        call,
        offer,
        media_ip,
        local_rtp_port,
        pair: Some(pair),
        to_browser,
        events,
        counters,
    };
    tracker.spawn(async move {
        let _running = running;
        task.run(opt, controls).await;
    });
    Ok(CallHandle {
        _hangup: hangup_tx,
        hold: hold_tx,
        accept: None,
        target,
    })
}

struct CallTask {
    ua: Arc<SipUa>,
    call: OutgoingCall,
    offer: String,
    media_ip: IpAddr,
    local_rtp_port: u16,
    pair: Option<(std::net::UdpSocket, std::net::UdpSocket)>,
    to_browser: mpsc::Sender<Packet>,
    events: mpsc::Sender<SessionEvent>,
    counters: Arc<PeerCounters>,
}

fn status_text(s: &StatusCode) -> String {
    format!("{} {}", s.code(), s)
}

impl CallTask {
    async fn emit(&self, e: SipEvent) {
        let _ = self.events.send(SessionEvent::Sip(e)).await;
    }

    async fn fail(&self, code: &'static str, message: String, sip_status: Option<u16>) {
        tracing::info!(target = %self.call.target, code, "SIP call failed: {message}");
        self.emit(SipEvent::Failed {
            code,
            message,
            sip_status,
        })
        .await;
    }

    async fn run(mut self, opt: InviteOption, mut ctl: Controls) {
        let layer = self.ua.layer.clone();
        let (state_tx, mut states) = layer.new_dialog_state_channel();
        let started = Instant::now();
        let (dialog, mut join) = match layer.do_invite_async(opt, state_tx) {
            Ok(x) => x,
            Err(e) => return self.fail("call_failed", format!("INVITE: {e}"), None).await,
        };
        tracing::info!(target = %self.call.target, "SIP INVITE sent");
        let mut rang = false;
        // Until the final response.
        let result = loop {
            tokio::select! {
                r = &mut join => break r,
                s = states.recv() => {
                    if let Some(DialogState::Early(_, resp)) = s {
                        if !rang && resp.status_code.code() != 100 {
                            rang = true;
                            self.emit(SipEvent::Ringing { status: resp.status_code.code() }).await;
                        }
                    }
                }
                _ = ctl.hangup.recv() => {
                    tracing::info!(target = %self.call.target, "SIP call cancelled");
                    let _ = tokio::time::timeout(TEARDOWN_TIMEOUT, dialog.cancel()).await;
                    // rsipstack ACKs and BYEs a 2xx that crosses the CANCEL.
                    let _ = tokio::time::timeout(TEARDOWN_TIMEOUT, &mut join).await;
                    layer.remove_dialog(&dialog.id());
                    return;
                }
            }
        };
        let (id, resp) = match result {
            Ok(Ok((id, Some(resp)))) => (id, resp),
            Ok(Ok((_, None))) => {
                return self.fail("call_failed", "no response".into(), None).await;
            }
            Ok(Err(e)) => return self.fail("call_failed", e.to_string(), None).await,
            Err(e) => {
                return self
                    .fail("call_failed", format!("INVITE task: {e}"), None)
                    .await
            }
        };
        if resp.status_code.kind() != StatusCodeKind::Successful {
            let code = resp.status_code.code();
            let what = if code == 488 || code == 606 {
                "no_codec"
            } else {
                "call_failed"
            };
            return self
                .fail(what, status_text(&resp.status_code), Some(code))
                .await;
        }
        let setup = started.elapsed();
        let selected = sdp::parse(&resp.body)
            .and_then(|d| sdp::select(&self.call.codecs, self.call.te_pt.is_some(), &d));
        let selected = match selected {
            Ok(s) => s,
            Err(e) => {
                let code = if e == sdp::SdpError::NoCommonCodec {
                    "no_codec"
                } else {
                    "bad_answer"
                };
                let _ = tokio::time::timeout(TEARDOWN_TIMEOUT, dialog.bye()).await;
                layer.remove_dialog(&id);
                return self.fail(code, format!("the answer: {e}"), Some(200)).await;
            }
        };
        let mut map = Vec::new();
        if let Some(c) = self.call.codecs.get(selected.codec) {
            map.push((c.pt, selected.remote_pt));
        }
        if let (Some(b), Some((r, _))) = (self.call.te_pt, selected.remote_te) {
            map.push((b, r));
        }
        let Some(pair) = self.pair.take() else { return };
        let bridge = peer::spawn_udp_on(
            pair,
            selected.rtp,
            PtMap(map),
            self.ua.media_source,
            self.to_browser.clone(),
            self.events.clone(),
            self.counters.clone(),
        );
        let peer = match bridge {
            Ok(p) => p,
            Err(e) => {
                let _ = tokio::time::timeout(TEARDOWN_TIMEOUT, dialog.bye()).await;
                layer.remove_dialog(&id);
                return self
                    .fail("call_failed", format!("RTP sockets: {e}"), None)
                    .await;
            }
        };
        tracing::info!(target = %self.call.target, codec = selected.codec, remote = %selected.rtp, setup_ms = setup.as_millis() as u64, "SIP call answered");
        self.emit(SipEvent::Answered(Box::new(Answered {
            peer,
            codec: selected.codec,
            remote_rtp: selected.rtp,
            local_rtp_port: self.local_rtp_port,
            setup,
        })))
        .await;
        let reoffer = |version: u64, direction: Direction| self.reoffer(version, direction);
        confirmed(&self.ua, &self.events, id, dialog, states, ctl, &reoffer).await;
    }

    /// Our SDP again (same codecs and port) with a new version and direction.
    fn reoffer(&self, version: u64, direction: Direction) -> String {
        let port = self
            .offer
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        sdp::build_offer(&Offer {
            codecs: &self.call.codecs,
            te_pt: self.call.te_pt,
            ptime: self.call.ptime,
            rtp: SocketAddr::new(self.media_ip, port),
            session_id: self.call.session.wrapping_mul(0x9E37_79B9) & 0xffff_ffff,
            version,
            direction,
        })
    }
}

/// An answered call, either way: far-end BYE and re-INVITEs (answered with
/// `reoffer(version, direction)`), or the page's hang-up (BYE).
pub(crate) async fn confirmed(
    ua: &Arc<SipUa>,
    events: &mpsc::Sender<SessionEvent>,
    id: DialogId,
    dialog: rsipstack::dialog::invite_dialog::InviteDialog,
    mut states: rsipstack::dialog::dialog::DialogStateReceiver,
    mut ctl: Controls,
    reoffer: &(dyn Fn(u64, Direction) -> String + Sync),
) {
    let emit = |e: SipEvent| async move {
        let _ = events.send(SessionEvent::Sip(e)).await;
    };
    let mut version = 1u64;
    loop {
        tokio::select! {
            s = states.recv() => match s {
                None => {
                    emit(SipEvent::Ended { reason: "dialog gone".into() }).await;
                    break;
                }
                Some(DialogState::Terminated(_, reason)) => {
                    tracing::info!(?reason, "SIP call ended by the far end");
                    emit(SipEvent::Ended { reason: format!("{reason:?}") }).await;
                    break;
                }
                Some(DialogState::Updated(_, req, handle)) => {
                    version += 1;
                    let theirs = sdp::parse(&req.body).map(|d| d.direction).unwrap_or_default();
                    let (ours, held) = match theirs {
                        Direction::SendOnly => (Direction::RecvOnly, true),
                        Direction::Inactive => (Direction::Inactive, true),
                        Direction::RecvOnly => (Direction::SendOnly, false),
                        Direction::SendRecv => (Direction::SendRecv, false),
                    };
                    let body = reoffer(version, ours);
                    let _ = handle
                        .respond(
                            StatusCode::OK,
                            Some(vec![Header::ContentType("application/sdp".into())]),
                            Some(body.into_bytes()),
                        )
                        .await;
                    emit(SipEvent::Hold { held, by_remote: true }).await;
                }
                Some(DialogState::Options(_, _, handle)) | Some(DialogState::Info(_, _, handle)) => {
                    let _ = handle.reply(StatusCode::OK).await;
                }
                Some(_) => {}
            },
            h = ctl.hold.recv() => {
                let Some(on) = h else { continue };
                version += 1;
                let dir = if on { Direction::SendOnly } else { Direction::SendRecv };
                let body = reoffer(version, dir);
                let sent = dialog.reinvite(
                    Some(vec![Header::ContentType("application/sdp".into())]),
                    Some(body.into_bytes()),
                );
                match tokio::time::timeout(REINVITE_TIMEOUT, sent).await {
                    Ok(Ok(Some(r))) if r.status_code.kind() == StatusCodeKind::Successful => {
                        emit(SipEvent::Hold { held: on, by_remote: false }).await;
                    }
                    Ok(Ok(Some(r))) => emit(SipEvent::HoldFailed(status_text(&r.status_code))).await,
                    Ok(Ok(None)) => emit(SipEvent::HoldFailed("no response".into())).await,
                    Ok(Err(e)) => emit(SipEvent::HoldFailed(e.to_string())).await,
                    Err(_) => emit(SipEvent::HoldFailed("timeout".into())).await,
                }
            }
            _ = ctl.hangup.recv() => {
                tracing::info!("SIP call hung up by the page");
                let _ = tokio::time::timeout(TEARDOWN_TIMEOUT, dialog.bye()).await;
                break;
            }
        }
    }
    ua.layer.remove_dialog(&id);
}
