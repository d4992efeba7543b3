//! The gateway's one SIP user agent: an rsipstack endpoint on one UDP
//! socket, its dialog layer, the loop that answers requests arriving
//! outside a call, and the optional REGISTER refresh.
//!
//! Requests inside a call are handed to their dialog (rsipstack answers
//! BYE, re-INVITE, in-dialog OPTIONS). Outside a call the gateway answers
//! itself: OPTIONS 200, INVITE to a waiting page (see [`super::incoming`];
//! 480 when none waits), BYE/CANCEL/others 481, REGISTER 405, and any request whose body
//! (or declared Content-Length) is larger than [`crate::sip::sdp::MAX_SDP`] 413. Datagrams rsipstack cannot
//! parse (garbage, unknown methods) are dropped by rsipstack itself and
//! counted nowhere; nothing here panics on them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::registration::Registration;
use rsipstack::sip::{Method, StatusCode};
use rsipstack::transaction::{Endpoint, TransactionReceiver};
use rsipstack::transport::{udp::UdpConnection, TransportLayer};
use rsipstack::EndpointBuilder;
use tokio_util::sync::CancellationToken;

use super::allow::{self, AllowList, SipTarget};
use super::sdp::MAX_SDP;
use super::SipError;
use crate::config::SipConfig;

/// The running user agent, shared by every session.
pub struct SipUa {
    /// The rsipstack dialog layer (INVITEs go through it).
    pub(crate) layer: Arc<DialogLayer>,
    /// Our Contact URI (the bound address).
    pub(crate) contact: rsipstack::sip::Uri,
    /// The address of record (From of outgoing calls).
    pub(crate) account: SipTarget,
    /// Digest credentials for 401/407 challenges, if configured.
    pub(crate) credential: Option<Credential>,
    /// The operator's allow-list.
    pub(crate) allow: AllowList,
    /// Callers (From) whose INVITE may ring a page.
    pub(crate) allow_from: AllowList,
    /// Which hosts a call's media is taken from (`--sip-rtp-latch`).
    pub(crate) media_source: crate::peer::SourceFilter,
    /// Where the SIP socket is bound.
    pub local: SocketAddr,
    /// Calls whose task is running (for leak checks).
    pub(crate) calls: AtomicUsize,
    /// Pages waiting for an incoming call.
    pub(crate) callees: super::incoming::Callees,
    cancel: CancellationToken,
    _endpoint: Endpoint,
}

impl SipUa {
    /// Binds the SIP socket and starts the endpoint, the request loop and
    /// (with a registrar) the REGISTER loop. Everything stops when
    /// `shutdown` is cancelled (or [`SipUa::stop`]); the server does that
    /// only after its sessions ended, so that their calls' BYEs get through.
    pub async fn start(
        cfg: &SipConfig,
        shutdown: CancellationToken,
    ) -> Result<Arc<SipUa>, SipError> {
        let allow = AllowList::parse(&cfg.allow)
            .map_err(|e| SipError::Config(format!("--sip-allow: {e}")))?;
        let allow_from = AllowList::parse(&cfg.allow_from)
            .map_err(|e| SipError::Config(format!("--sip-allow-from: {e}")))?;
        let cancel = shutdown.child_token();
        let transport = TransportLayer::new(cancel.clone());
        let conn = UdpConnection::create_connection(cfg.bind, None, Some(cancel.clone())).await?;
        let local = SocketAddr::try_from(conn.get_addr().addr.clone())
            .map_err(|e| SipError::Config(format!("bound SIP address: {e}")))?;
        transport.add_transport(conn.into());
        let endpoint = EndpointBuilder::new()
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .with_user_agent(concat!("voxlet-gateway/", env!("CARGO_PKG_VERSION")))
            .build();
        let incoming = endpoint.incoming_transactions()?;
        let layer = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let account = match &cfg.account {
            Some(a) => allow::parse_account(a)?,
            None => SipTarget {
                user: Some("voxlet".into()),
                host: match local.ip() {
                    std::net::IpAddr::V6(v) => format!("[{v}]"),
                    ip => ip.to_string(),
                },
                port: Some(local.port()),
            },
        };
        let user = account.user.clone().unwrap_or_default();
        let credential = cfg.password.as_ref().map(|p| Credential {
            username: user.clone(),
            password: p.clone(),
            realm: None,
            auth_username: cfg.user.clone(),
        });
        let contact = layer.build_local_contact(Some(user), None)?;
        let ua = Arc::new(SipUa {
            layer,
            contact,
            account,
            credential,
            allow,
            allow_from,
            media_source: if cfg.rtp_latch {
                crate::peer::SourceFilter::LatchFirst
            } else {
                crate::peer::SourceFilter::Host
            },
            local,
            calls: AtomicUsize::new(0),
            callees: Default::default(),
            cancel: cancel.clone(),
            _endpoint: endpoint,
        });
        let inner = ua._endpoint.inner.clone();
        tokio::spawn(async move {
            let _ = inner.serve().await;
        });
        tokio::spawn(requests(ua.clone(), incoming));
        if let Some(r) = &cfg.registrar {
            let server = uri(r)?;
            tokio::spawn(register_loop(ua.clone(), server));
        }
        tracing::info!(local = %ua.local, account = %ua.account, "SIP user agent started");
        Ok(ua)
    }

    /// Calls whose task is still running.
    pub fn active_calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Dialogs rsipstack still holds.
    pub fn dialogs(&self) -> usize {
        self.layer.len()
    }

    /// Pages waiting for an incoming call.
    pub fn waiting_pages(&self) -> usize {
        self.callees.len()
    }

    /// The address of record.
    pub fn account(&self) -> &SipTarget {
        &self.account
    }

    /// Whether the user agent has been stopped.
    pub fn is_stopped(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Stops the endpoint, the request loop and the REGISTER loop.
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

/// Parses a URI we built or the operator gave into rsipstack's type.
pub(crate) fn uri(s: &str) -> Result<rsipstack::sip::Uri, SipError> {
    rsipstack::sip::Uri::try_from(s).map_err(|e| SipError::Stack(format!("URI {s:?}: {e}")))
}

/// Answers requests: in-dialog ones through their dialog, the rest here.
async fn requests(ua: Arc<SipUa>, mut incoming: TransactionReceiver) {
    while let Some(mut tx) = incoming.recv().await {
        if body_len(&tx.original) > MAX_SDP && tx.original.method != Method::Ack {
            tracing::debug!(len = tx.original.body.len(), "SIP request body too large");
            let _ = tx.reply(StatusCode::RequestEntityTooLarge).await;
            continue;
        }
        if let Some(mut dialog) = ua.layer.match_dialog(&tx) {
            tokio::spawn(async move {
                if let Err(e) = dialog.handle(&mut tx).await {
                    tracing::debug!("SIP in-dialog request: {e}");
                }
            });
            continue;
        }
        let status = match tx.original.method {
            Method::Ack => continue,
            Method::Options => StatusCode::OK,
            Method::Invite => {
                tokio::spawn(super::incoming::route(ua.clone(), tx));
                continue;
            }
            Method::Register => StatusCode::MethodNotAllowed,
            _ => StatusCode::CallTransactionDoesNotExist,
        };
        tracing::debug!(method = %tx.original.method, status = status.code(), "SIP request outside a call");
        tokio::spawn(async move {
            let _ = tx.reply(status).await;
        });
    }
}

/// The larger of the body's length and its declared Content-Length
/// (rsipstack truncates a UDP datagram at 8 KiB, so a larger body arrives cut).
fn body_len(req: &rsipstack::sip::Request) -> usize {
    let declared = req
        .headers
        .iter()
        .find_map(|h| match h {
            rsipstack::sip::Header::ContentLength(v) => v.value().trim().parse::<usize>().ok(),
            _ => None,
        })
        .unwrap_or(0);
    declared.max(req.body.len())
}

/// Keeps the account registered: registers, then refreshes before expiry,
/// backing off after failures.
async fn register_loop(ua: Arc<SipUa>, server: rsipstack::sip::Uri) {
    let mut reg = Registration::new(ua.layer.endpoint.clone(), ua.credential.clone());
    let mut failures = 0u32;
    loop {
        let wait = match reg.register(server.clone(), Some(600)).await {
            Ok(resp) if resp.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {
                failures = 0;
                tracing::info!(registrar = %server, expires = reg.expires(), "SIP registered");
                rsipstack::dialog::registration::refresh_interval(reg.expires())
            }
            Ok(resp) => {
                failures += 1;
                tracing::warn!(registrar = %server, status = %resp.status_code, "SIP REGISTER refused");
                rsipstack::dialog::registration::backoff_interval(failures)
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(registrar = %server, "SIP REGISTER failed: {e}");
                rsipstack::dialog::registration::backoff_interval(failures)
            }
        };
        tokio::select! {
            _ = ua.cancel.cancelled() => return,
            _ = tokio::time::sleep(wait.max(Duration::from_secs(1))) => {}
        }
    }
}
