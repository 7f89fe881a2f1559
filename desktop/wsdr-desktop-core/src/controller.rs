//! [`Controller`]: the one driver of [`TrayCore`], shared by the tray and by the one-shot modes
//! (`--status`, `--connect`). It owns the I/O around the core (poll, state file, clock) and
//! reaches the desktop only through the small [`Desktop`] trait, so tests drive it with a fake
//! desktop and a local HTTP server, and the Tauri shell implements the trait and only forwards.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jiff::Timestamp;
use wsdr_protocol::LaunchUri;

use crate::config::{self, Config, ConfigError, DEFAULT_POLL_INTERVAL_SECS};
use crate::connect::{ConnectRefusal, ConnectTarget};
use crate::fetch::{FetchOutcome, StatusClient};
use crate::locations::Locations;
use crate::menu::MenuSpec;
use crate::notification::Notification;
use crate::schedule::PollSchedule;
use crate::store::Store;
use crate::tray::{CheckOutcome, TrayCore};
use crate::view::View;

/// The clock: the binary passes its one sanctioned clock read; tests pass a fixed or scripted
/// time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// What the controller needs from the desktop. Implementations show and launch; they decide
/// nothing.
pub trait Desktop: Send + Sync + 'static {
    /// Shows the state: tray icon and tooltip, menu, and the window if it is open.
    fn render(&self, view: &View, menu: &MenuSpec);

    /// Shows a desktop notification.
    fn notify(&self, notification: &Notification);

    /// Hands `uri` to the OS URL handler (one argument, no shell).
    ///
    /// # Errors
    /// [`LaunchError`] when no handler could be started or it reported a failure.
    fn open_uri(&self, uri: &LaunchUri) -> Result<(), LaunchError>;
}

/// Why the OS URL handler did not take a URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not open the WorkSpaces client: {0}")]
pub struct LaunchError(pub String);

/// Why "Connect" did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// It may not: see the refusal.
    #[error(transparent)]
    Refused(#[from] ConnectRefusal),
    /// The URL handler failed.
    #[error(transparent)]
    Launch(#[from] LaunchError),
}

/// The driver. Cheap to clone (shared state behind an [`Arc`]).
pub struct Controller<D> {
    inner: Arc<Inner<D>>,
}

impl<D> Clone for Controller<D> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

struct Inner<D> {
    core: Mutex<TrayCore>,
    schedule: Mutex<PollSchedule>,
    client: Result<StatusClient, String>,
    store: Store,
    desktop: D,
    clock: Clock,
    wake: tokio::sync::Notify,
}

impl<D: Desktop> Controller<D> {
    /// Starts from the files: reads the configuration (a problem becomes the `misconfigured`
    /// state) and the remembered state (an unreadable state file is logged and ignored).
    /// `env` is the environment lookup, `config_override` the `--config FILE`.
    pub fn start(
        env: impl Fn(&str) -> Option<OsString>,
        config_override: Option<PathBuf>,
        desktop: D,
        clock: Clock,
    ) -> Self {
        let os_login = os_login_name(&env);
        let locations = Locations::resolve(env, config_override);
        // Group Policy (Windows registry) lies over the files, except for `--config FILE`.
        let policy = match locations.config {
            config::Sources::Layered { .. } => crate::policy::read(),
            config::Sources::Only(_) => Ok(None),
        };
        let config = config::load(&locations.config, policy, os_login.as_deref());
        if let Err(error) = &config {
            tracing::error!(%error, files = ?locations.config.files(), "configuration unusable");
        }
        Self::new(config, Store::new(locations.state_dir), desktop, clock)
    }

    /// Starts from a configuration (or its problems) and a store.
    pub fn new(
        config: Result<Config, ConfigError>,
        store: Store,
        desktop: D,
        clock: Clock,
    ) -> Self {
        let memory = store.load().unwrap_or_else(|error| {
            tracing::warn!(%error, "remembered state unreadable; starting without it");
            Default::default()
        });
        let interval = config
            .as_ref()
            .map_or(std::time::Duration::from_secs(DEFAULT_POLL_INTERVAL_SECS), |config| {
                config.poll_interval
            });
        let client = match &config {
            Ok(config) => StatusClient::new(config.status_url.clone())
                .map_err(|error| format!("HTTP client unavailable: {error}")),
            Err(_) => Err("not configured".to_owned()),
        };
        let core = TrayCore::new(config, memory, clock());
        Self {
            inner: Arc::new(Inner {
                core: Mutex::new(core),
                schedule: Mutex::new(PollSchedule::new(interval)),
                client,
                store,
                desktop,
                clock,
                wake: tokio::sync::Notify::new(),
            }),
        }
    }

    fn core(&self) -> MutexGuard<'_, TrayCore> {
        self.inner.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }

    /// The desktop integration.
    pub fn desktop(&self) -> &D {
        &self.inner.desktop
    }

    /// Polls once: fetch, verify, remember, notify if there is news, render.
    pub async fn check_now(&self) -> CheckOutcome {
        let fetched = match &self.inner.client {
            Ok(client) => {
                let etag = self.core().etag().map(str::to_owned);
                client.fetch(etag.as_deref()).await
            }
            Err(reason) => FetchOutcome::Failed(reason.clone()),
        };
        let now = self.now();
        let (update, memory) = {
            let mut core = self.core();
            let update = core.on_fetch(fetched, now);
            let memory = update.memory_changed.then(|| core.memory().clone());
            (update, memory)
        };
        if let Some(memory) = memory
            && let Err(error) = self.inner.store.save(&memory)
        {
            tracing::error!(%error, "could not save the state");
        }
        if let Some(notification) = &update.notification {
            self.inner.desktop.notify(notification);
        }
        self.render();
        update.outcome
    }

    /// Polls forever: [`Controller::check_now`], then waits the schedule's delay (`random`
    /// gives the jitter) or until [`Controller::request_check`].
    pub async fn run_poller(&self, mut random: impl FnMut() -> f64) {
        loop {
            let outcome = self.check_now().await;
            let delay = {
                let mut schedule =
                    self.inner.schedule.lock().unwrap_or_else(PoisonError::into_inner);
                schedule.record(outcome.succeeded());
                schedule.next_delay(random())
            };
            tracing::debug!(?delay, "next check");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }

    /// Asks the poller to check now ("Check now").
    pub fn request_check(&self) {
        self.inner.wake.notify_one();
    }

    /// Renders the current state on the desktop.
    pub fn render(&self) {
        let (view, menu) = {
            let core = self.core();
            let now = self.now();
            (core.view(now), core.menu(now))
        };
        self.inner.desktop.render(&view, &menu);
    }

    /// The view now.
    pub fn view(&self) -> View {
        self.core().view(self.now())
    }

    /// The menu now.
    pub fn menu(&self) -> MenuSpec {
        self.core().menu(self.now())
    }

    /// Launches the client on `target` through the desktop's URL handler.
    ///
    /// # Errors
    /// [`ConnectError`]: refused (misconfigured, codes unknown) or the handler failed.
    pub fn connect(&self, target: ConnectTarget) -> Result<LaunchUri, ConnectError> {
        let uri = self.core().connect(target)?;
        tracing::info!(%uri, ?target, "opening the WorkSpaces client");
        self.inner.desktop.open_uri(&uri)?;
        Ok(uri)
    }

    /// Whether the tray starts at login.
    pub fn autostart(&self) -> bool {
        self.core().autostart()
    }

    /// Records whether the tray starts at login, and re-renders.
    pub fn set_autostart(&self, enabled: bool) {
        self.core().set_autostart(enabled);
        self.render();
    }
}

/// The OS login name: `USER` or `LOGNAME` on Unix, `USERNAME` on Windows.
fn os_login_name(env: &impl Fn(&str) -> Option<OsString>) -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|name| env(name)?.into_string().ok())
        .find(|value| !value.is_empty())
}
