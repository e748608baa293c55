//! More mobile-api instances beside a running [`System`] whose mobile-api is on
//! PostgreSQL: the same configuration (data directory for the keys, database URL), its
//! own listeners, as another instance behind the same load balancer would run.

use crate::{Running, System, stopper};
use std::net::SocketAddr;

/// Another mobile-api instance.
pub struct MobileInstance {
    /// The running service (its public listener).
    pub running: Running<mobile_api::AppState>,
    /// Its internal listener (`/v1/internal/*`).
    pub internal: SocketAddr,
}

impl MobileInstance {
    /// End it abruptly, as a killed process ends: its server task is aborted (no
    /// graceful shutdown, nothing flushed or closed), its listeners close.
    pub fn kill(&mut self) {
        if let Some(t) = self.running.task.take() {
            t.abort();
        }
    }
}

impl System {
    /// Start another mobile-api instance with the system's mobile-api configuration
    /// (the same database, keys and binding key), background tasks off.
    pub async fn spawn_mobile_instance(&self) -> MobileInstance {
        let mut cfg = (*self.mobile.state.config).clone();
        cfg.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        cfg.internal_addr = SocketAddr::from(([127, 0, 0, 1], 0));
        cfg.background_tasks = false;
        let public = tokio::net::TcpListener::bind(cfg.addr).await.unwrap();
        let internal = tokio::net::TcpListener::bind(cfg.internal_addr)
            .await
            .unwrap();
        let (addr, internal_addr) = (public.local_addr().unwrap(), internal.local_addr().unwrap());
        let state = mobile_api::build(cfg).await.unwrap();
        let (stop, sig) = stopper();
        let serve = mobile_api::serve_with_internal(public, Some(internal), state.clone(), sig);
        let task = tokio::spawn(async move { Ok(serve.await?) });
        MobileInstance {
            running: Running {
                state,
                addr,
                stop,
                task: Some(task),
            },
            internal: internal_addr,
        }
    }
}
