//! Limits of the scan API: a rate per device (GCRA via `governor`, keyed by the device id
//! of the credential, so a stolen or faulty device cannot take the gate's capacity from
//! the others), and a cap on image decodes in flight (rxing's try-harder search on up to
//! 4 MiB is the most expensive thing a request can ask for). Beyond either: 429 with
//! `Retry-After`; nothing waits in a queue.
//!
//! Defaults (`EGATE_GATE_SCAN_RATE` 5 a second, `EGATE_GATE_SCAN_BURST` 20): a real gate
//! reads one passenger every few seconds; a retry burst after a misread stays well
//! within. `EGATE_GATE_IMAGE_DECODES` (default 2) matches the cores of a small gate box.

use crate::error::AppError;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::web::Problem;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a client is told to wait when every image decode slot is taken.
const IMAGE_BUSY_RETRY_SECS: u64 = 1;

/// The scan API's limits, shared by every request.
#[derive(Debug)]
pub struct ScanLimits {
    per_device: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    image_decodes: Arc<Semaphore>,
}

impl ScanLimits {
    /// `per_sec` scans a second per device with bursts of `burst`; `image_decodes`
    /// image decodes at once.
    pub fn new(per_sec: u32, burst: u32, image_decodes: usize) -> Self {
        let rate = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self {
            per_device: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            image_decodes: Arc::new(Semaphore::new(image_decodes.max(1))),
        }
    }

    /// `Ok` if `device` may scan now, else a 429 naming the seconds to wait.
    pub fn check_rate(&self, device: &str) -> Result<(), AppError> {
        self.per_device
            .check_key(&device.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
                let mut p = Problem::too_many_requests(secs);
                p.detail = format!("Too many scans from this device; retry after {secs} s.");
                AppError::Problem(p)
            })
    }

    /// A slot to decode one image, held until dropped; a 429 when every slot is taken.
    pub fn image_slot(&self) -> Result<OwnedSemaphorePermit, AppError> {
        self.image_decodes.clone().try_acquire_owned().map_err(|_| {
            let mut p = Problem::too_many_requests(IMAGE_BUSY_RETRY_SECS);
            p.detail =
                format!("Every image decoder is busy; retry after {IMAGE_BUSY_RETRY_SECS} s.");
            AppError::Problem(p)
        })
    }

    /// Forget devices whose allowance is full again (call periodically).
    pub fn housekeeping(&self) {
        self.per_device.retain_recent();
        self.per_device.shrink_to_fit();
    }
}
