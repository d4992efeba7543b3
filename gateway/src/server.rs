//! HTTP: static files (`www/`, `/pkg/`), `/config.json`, `/healthz`, and the
//! `/ws` upgrade with its origin check and connection limit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::{normalize_origin, Config};
use crate::negotiate;
use crate::peer::{seed_now, Rooms};
use crate::session::{self, close};

/// Shared server state.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Rooms of `room` peers.
    pub rooms: Arc<Rooms>,
    /// Open WebSocket connections.
    pub connections: AtomicUsize,
    /// Session id counter.
    pub next_id: AtomicU64,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
    /// Tracks session tasks so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// Per-process randomness for ids and seeds.
    pub seed: u64,
    /// The SIP user agent, when a `sip` peer is configured.
    pub sip: Option<Arc<crate::sip::SipUa>>,
}

/// A running server.
pub struct Server {
    /// Where it listens.
    pub local_addr: SocketAddr,
    app: Arc<App>,
    join: tokio::task::JoinHandle<()>,
}

impl Server {
    /// The `http://` URL of the page.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// Open WebSocket connections right now.
    pub fn connections(&self) -> usize {
        self.app.connections.load(Ordering::Relaxed)
    }

    /// The SIP user agent, when a `sip` peer is configured.
    pub fn sip(&self) -> Option<&Arc<crate::sip::SipUa>> {
        self.app.sip.as_ref()
    }

    /// Rooms in use right now.
    pub fn rooms(&self) -> usize {
        self.app.rooms.len()
    }

    /// A token cancelled when the server stops (cancel it to stop).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.app.shutdown.clone()
    }

    /// Stops: every session says `bye` and closes with 1001; waits for them
    /// (at most `grace`).
    pub async fn stop(self, grace: Duration) {
        self.app.shutdown.cancel();
        let _ = tokio::time::timeout(grace, self.join).await;
        self.app.tracker.close();
        let _ = tokio::time::timeout(grace, self.app.tracker.wait()).await;
        // Last, so that the calls' BYE/CANCEL of the sessions above went out
        // and were answered.
        if let Some(ua) = &self.app.sip {
            ua.stop();
        }
    }

    /// Waits until the server stops (after the shutdown token is cancelled).
    pub async fn wait(self, grace: Duration) {
        self.app.shutdown.cancelled().await;
        self.stop(grace).await;
    }
}

/// Binds and starts serving.
pub async fn serve(config: Config) -> std::io::Result<Server> {
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let sip = if config
        .peers
        .iter()
        .any(|p| p.kind == crate::config::PeerKind::Sip)
    {
        // Its own token: stopped after the sessions (see `Server::stop`).
        let ua = crate::sip::SipUa::start(&config.sip, CancellationToken::new())
            .await
            .map_err(std::io::Error::other)?;
        Some(ua)
    } else {
        None
    };
    let app = Arc::new(App {
        config,
        rooms: Arc::new(Rooms::default()),
        connections: AtomicUsize::new(0),
        next_id: AtomicU64::new(0),
        shutdown,
        tracker: TaskTracker::new(),
        seed: seed_now(),
        sip,
    });
    let router = router(app.clone());
    let token = app.shutdown.clone();
    let join = tokio::spawn(async move {
        let r = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await;
        if let Err(e) = r {
            tracing::error!("server: {e}");
        }
    });
    Ok(Server {
        local_addr,
        app,
        join,
    })
}

fn router(app: Arc<App>) -> Router {
    let cfg = &app.config;
    let www = ServeDir::new(&cfg.www)
        .append_index_html_on_directories(true)
        .fallback(not_found.into_service());
    let pkg = ServeDir::new(&cfg.pkg);
    let mut r = Router::new()
        .route("/ws", get(ws_handler))
        .route("/config.json", get(config_json))
        .route("/healthz", get(|| async { "ok" }))
        .nest_service("/pkg", pkg)
        .fallback_service(www)
        .with_state(app.clone());
    if cfg.isolation {
        r = r
            .layer(SetResponseHeaderLayer::if_not_present(
                header::HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::HeaderName::from_static("cross-origin-embedder-policy"),
                HeaderValue::from_static("require-corp"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("same-origin"),
            ));
    }
    r.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ))
}

async fn not_found(uri: Uri) -> Response {
    if uri.path() == "/" || uri.path() == "/index.html" {
        return Html(
            "<!doctype html><meta charset=utf-8><title>voxlet gateway</title>\
             <h1>voxlet gateway</h1><p>The gateway runs, but the softphone page \
             (<code>www/</code>) is not there. The WebSocket is at <code>/ws</code>; \
             see <code>gateway/PROTOCOL.md</code>.</p>",
        )
        .into_response();
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn config_json(State(app): State<Arc<App>>) -> impl IntoResponse {
    let c = &app.config;
    Json(json!({
        "peers": c.peers.iter().map(|p| json!({"name": p.name, "kind": p.kind.kind_name()})).collect::<Vec<_>>(),
        "default_peer": c.peers.first().map(|p| p.name.clone()),
        "token_required": c.token.is_some(),
        "transports": ["ws", "datachannel"],
        "ptimes": negotiate::PTIMES,
        "isolation": c.isolation,
        "limits": {
            "max_message_bytes": c.max_message_bytes,
            "max_packets_per_sec": c.max_packets_per_sec,
            "idle_timeout_secs": c.idle_timeout.as_secs(),
            "max_sessions": c.max_sessions,
        },
    }))
}

/// Whether the request's `Origin` may open the WebSocket. No `Origin`
/// (not a browser) is allowed: the header protects browsers from
/// cross-site WebSocket hijacking, other clients can send anything.
pub fn origin_allowed(headers: &HeaderMap, cfg: &Config) -> Result<(), String> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = normalize_origin(
        origin
            .to_str()
            .map_err(|_| "unreadable Origin".to_string())?,
    );
    if cfg.allowed_origins.iter().any(|a| a == "*" || *a == origin) {
        return Ok(());
    }
    if cfg.allowed_origins.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.to_ascii_lowercase());
        let authority = origin.split_once("://").map(|(_, a)| a);
        if let (Some(h), Some(a)) = (host, authority) {
            if h == a {
                return Ok(());
            }
        }
    }
    Err(format!("origin {origin} is not allowed"))
}

async fn ws_handler(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = origin_allowed(&headers, &app.config) {
        tracing::warn!("refused WebSocket: {e}");
        return (StatusCode::FORBIDDEN, format!("{e}\n")).into_response();
    }
    let max = app.config.max_message_bytes;
    let app2 = app.clone();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            app2.tracker.clone().track_future(async move {
                let n = app2.connections.fetch_add(1, Ordering::SeqCst);
                let _guard = Decrement(&app2.connections);
                if app2.shutdown.is_cancelled() {
                    session::refuse(
                        socket,
                        "shutdown",
                        "the gateway is shutting down",
                        close::GOING_AWAY,
                    )
                    .await;
                    return;
                }
                if n >= app2.config.max_sessions {
                    let msg = format!("{} sessions already open", app2.config.max_sessions);
                    session::refuse(socket, "busy", &msg, close::BUSY).await;
                    return;
                }
                session::run(socket, app2.clone()).await;
            })
        })
}

struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
