use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use voxlet_gateway::{serve, Args, Config};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VOXLET_LOG")
                .unwrap_or_else(|_| "info,str0m=warn,is=warn,rsipstack=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_args(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("voxlet-gateway: {e}");
            return ExitCode::from(2);
        }
    };
    for (what, dir) in [("--www", &config.www), ("--pkg", &config.pkg)] {
        if !dir.is_dir() {
            tracing::warn!(
                "{what} {} is not a directory; nothing is served there",
                dir.display()
            );
        }
    }
    let peers: Vec<String> = config
        .peers
        .iter()
        .map(|p| match &p.kind {
            voxlet_gateway::PeerKind::Udp { addr } => format!("{} (udp {addr})", p.name),
            k => format!("{} ({})", p.name, k.kind_name()),
        })
        .collect();
    // Handlers first: a signal right after the URL is printed must still stop us cleanly.
    let signals = Signals::install();
    let server = match serve(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("voxlet-gateway: cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    println!("voxlet gateway: open {}", server.url());
    println!(
        "  WebSocket: ws://{}/ws   peers: {}",
        server.local_addr,
        peers.join(", ")
    );
    let token = server.shutdown_token();
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("shutting down");
        token.cancel();
    });
    server.wait(Duration::from_secs(3)).await;
    ExitCode::SUCCESS
}

/// SIGINT (Ctrl-C) and SIGTERM, registered when created.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            async fn recv(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = recv(self.int) => {}
                _ = recv(self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
