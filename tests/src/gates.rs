//! More gate-service instances beside a running [`System`]: each with its own data
//! directory and database, trusting mobile-api by the system's signed trust list and
//! reporting its uses with the system's use-report key, as another gate of the same
//! operator would. Unlike the system's own gate (background tasks off, refreshed by the
//! test), these run their background tasks: they follow mobile-api's feed by long
//! polling (docs/trust.md, "How gates follow the feeds").

use crate::{Running, System, stopper};
use shared::service_keys::{Purpose, load_or_create_key};

/// Another gate-service instance.
pub struct Gate {
    /// The running service (its device listener).
    pub running: Running<gate_service::AppState>,
    /// The key of its E-Gate device (named like the gate).
    pub device_key: String,
    _dir: tempfile::TempDir,
}

impl Gate {
    /// How many of mobile-api's feed entries this gate holds.
    pub async fn revocations_held(&self) -> i64 {
        self.running
            .state
            .db
            .read(|c| -> Result<i64, shared::db::DbError> {
                Ok(c.query_row(
                    "SELECT count(*) FROM revoked_tokens WHERE issuer = 'mobile-api'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap()
    }

    /// Wait (bounded: at most 30 s, polling every 50 ms) until this gate holds `n` of
    /// mobile-api's feed entries; panics naming how many it holds otherwise.
    pub async fn until_held(&self, n: i64) {
        for _ in 0..600 {
            if self.revocations_held().await >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "the gate holds {} feed entries after 30 s, not {n}",
            self.revocations_held().await
        );
    }

    /// POST a JSON scan to this gate with its device key; returns the decision body.
    pub async fn scan(&self, http: &reqwest::Client, qr: &str, mrz: &str) -> serde_json::Value {
        let r = http
            .post(self.running.url("/v1/scans"))
            .bearer_auth(&self.device_key)
            .json(&serde_json::json!({"qr": qr, "mrz": mrz}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a scan always gets a decision");
        r.json().await.unwrap()
    }
}

impl System {
    /// Start gate `name` following mobile-api's feed: long polls asking `feed_wait_secs`
    /// (0: none) and the periodic refresh every `refresh_secs`.
    pub async fn spawn_gate(&self, name: &str, feed_wait_secs: u64, refresh_secs: u64) -> Gate {
        let (public, internal) = (self.mobile.addr, self.mobile_internal);
        self.spawn_gate_following(name, feed_wait_secs, refresh_secs, public, internal)
            .await
    }

    /// [`System::spawn_gate`] following the mobile-api instance at `public` (its
    /// internal listener at `internal`) instead of the system's own.
    pub async fn spawn_gate_following(
        &self,
        name: &str,
        feed_wait_secs: u64,
        refresh_secs: u64,
        public: std::net::SocketAddr,
        internal: std::net::SocketAddr,
    ) -> Gate {
        let dir = tempfile::tempdir().unwrap();
        // The passport-binding key is the operator's, shared by issuers and gates.
        std::fs::copy(
            self.dir.path().join("binding.key"),
            dir.path().join("binding.key"),
        )
        .unwrap();
        let mut cfg = gate_service::Config::for_tests(dir.path());
        cfg.issuers = gate_service::IssuerConfig::parse_list(&format!(
            "mobile-api=http://{public};internal=http://{internal}"
        ))
        .unwrap();
        cfg.root_key = Some(shared::token::signed_list::RootPublicKey::of(
            &self.trust_root,
        ));
        cfg.use_report_key = Some(load_or_create_key(self.dir.path(), Purpose::UseReport).unwrap());
        cfg.instance = name.to_owned();
        cfg.background_tasks = true;
        cfg.feed_wait_secs = feed_wait_secs;
        cfg.refresh_secs = refresh_secs;
        let device = tokio::net::TcpListener::bind(cfg.addr).await.unwrap();
        let console = tokio::net::TcpListener::bind(cfg.console_addr)
            .await
            .unwrap();
        let addr = device.local_addr().unwrap();
        let state = gate_service::build(cfg).await.unwrap();
        let device_key = gate_service::devices::add(
            &state.db,
            name,
            gate_service::devices::DeviceKind::Gate,
            state.clock.unix(),
        )
        .await
        .unwrap();
        let (stop, sig) = stopper();
        let serve = gate_service::serve(
            gate_service::Listeners { device, console },
            state.clone(),
            sig,
        );
        let task = tokio::spawn(async move { Ok(serve.await?) });
        Gate {
            running: Running {
                state,
                addr,
                stop,
                task: Some(task),
            },
            device_key,
            _dir: dir,
        }
    }
}
