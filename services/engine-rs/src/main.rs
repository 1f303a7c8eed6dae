//! `titan_server`: reads the configuration and runs the engine.

use std::net::SocketAddr;

use titan_engine::{init_tracing, run, Config};

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("engine.shutdown.requested");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_lookup(|k| std::env::var(k).ok())?;
    init_tracing(&config);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(config.bind_addr, config.port)).await?;
    run(listener, config, shutdown_signal()).await?;
    Ok(())
}
