//! The reconcile configuration: raw settings (from flags or environment variables) validated up front, every bad
//! value named, before anything talks to AWS.

use std::fmt;

use jiff::SignedDuration;
use wsdr_core::policy::{InvalidPolicy, Limits, Policy};
use wsdr_core::workspace::{BundleId, DirectoryId};

use crate::s3::S3Location;
use crate::workspaces::WorkspaceSpec;

/// A setting, named the way the CLI and the Lambda function spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// The DR directory.
    DirectoryId,
    /// The bundle of new WorkSpaces.
    BundleId,
    /// AutoStop timeout.
    AutoStopTimeout,
    /// Extra tags.
    WorkspaceTags,
    /// The safety policy's percentage cap.
    MaxTerminatePercent,
    /// The grace period.
    GraceDays,
    /// Where state lives.
    State,
    /// Where reports go.
    Reports,
}

impl Setting {
    /// The CLI flag.
    pub fn flag(self) -> &'static str {
        match self {
            Setting::DirectoryId => "--directory-id",
            Setting::BundleId => "--bundle-id",
            Setting::AutoStopTimeout => "--auto-stop-minutes",
            Setting::WorkspaceTags => "--tag",
            Setting::MaxTerminatePercent => "--max-terminate-percent",
            Setting::GraceDays => "--grace-days",
            Setting::State => "--state",
            Setting::Reports => "--reports",
        }
    }

    /// The Lambda function's environment variable.
    pub fn env_var(self) -> &'static str {
        match self {
            Setting::DirectoryId => "WSDR_DIRECTORY_ID",
            Setting::BundleId => "WSDR_BUNDLE_ID",
            Setting::AutoStopTimeout => "WSDR_RUNNING_MODE_TIMEOUT_MINUTES",
            Setting::WorkspaceTags => "WSDR_WORKSPACE_TAGS",
            Setting::MaxTerminatePercent => "WSDR_MAX_TERMINATE_PERCENT",
            Setting::GraceDays => "WSDR_GRACE_DAYS",
            Setting::State => "WSDR_STATE_BUCKET",
            Setting::Reports => "WSDR_REPORTS_PREFIX",
        }
    }
}

/// One bad setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSetting {
    /// Which.
    pub setting: Setting,
    /// Its value.
    pub value: String,
    /// What is wrong.
    pub reason: String,
}

/// Every bad setting, for one message that lets an admin fix them all at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct InvalidSettings(pub Vec<BadSetting>);

impl fmt::Display for InvalidSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration:")?;
        for bad in &self.0 {
            write!(
                f,
                "\n  {} / {} = {:?}: {}",
                bad.setting.flag(),
                bad.setting.env_var(),
                bad.value,
                bad.reason
            )?;
        }
        Ok(())
    }
}

/// The settings as given.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// DR directory id.
    pub directory_id: String,
    /// Bundle id.
    pub bundle_id: String,
    /// AutoStop timeout in minutes (60-minute steps).
    pub auto_stop_timeout_minutes: u32,
    /// KMS key for volume encryption.
    pub volume_encryption_key: Option<String>,
    /// Extra tags, `Key=Value` each.
    pub extra_tags: Vec<String>,
    /// The safety policy.
    pub limits: Limits,
    /// Plan and report only.
    pub dry_run: bool,
    /// The state object's location (`s3://bucket/prefix/`), if state is kept.
    pub state_prefix: Option<String>,
    /// Where reports go (`s3://bucket/prefix/`), if anywhere.
    pub reports_prefix: Option<String>,
}

/// The validated configuration of a run.
#[derive(Clone, Debug)]
pub struct ReconcileConfig {
    /// What new WorkSpaces look like.
    pub spec: WorkspaceSpec,
    /// The safety policy.
    pub policy: Policy,
    /// Plan and report only.
    pub dry_run: bool,
    /// The state object (lock, grace periods), if state is kept.
    pub state: Option<S3Location>,
    /// The failover record (`<state prefix>failover/state.json`): while it says DR is in use, terminations wait.
    pub failover_record: Option<S3Location>,
    /// The folder reports are written to, if anywhere (`<prefix><directory>/<run id>.json`).
    pub reports: Option<S3Location>,
    /// How long a lease lasts without renewal.
    pub lease_ttl: SignedDuration,
}

/// The longest AutoStop timeout the console offers (48 hours).
const MAX_AUTO_STOP_MINUTES: u32 = 48 * 60;

impl Settings {
    /// Validates every setting; all problems are reported together.
    pub fn validate(&self) -> Result<ReconcileConfig, InvalidSettings> {
        let mut bad = Vec::new();
        let mut fail = |setting, value: &str, reason: String| {
            bad.push(BadSetting { setting, value: value.to_owned(), reason });
        };
        let directory_id = DirectoryId::new(&self.directory_id)
            .map_err(|error| fail(Setting::DirectoryId, &self.directory_id, error.to_string()))
            .ok();
        let bundle_id = BundleId::new(&self.bundle_id)
            .map_err(|error| fail(Setting::BundleId, &self.bundle_id, error.to_string()))
            .ok();
        let minutes = self.auto_stop_timeout_minutes;
        if minutes == 0 || !minutes.is_multiple_of(60) || minutes > MAX_AUTO_STOP_MINUTES {
            fail(
                Setting::AutoStopTimeout,
                &minutes.to_string(),
                format!(
                    "AutoStop timeouts are set in 60-minute steps, from 60 to {MAX_AUTO_STOP_MINUTES}"
                ),
            );
        }
        let mut extra_tags = Vec::new();
        for raw in &self.extra_tags {
            match parse_tag(raw) {
                Ok(tag) => extra_tags.push(tag),
                Err(reason) => fail(Setting::WorkspaceTags, raw, reason),
            }
        }
        let state = self
            .state_prefix
            .as_deref()
            .and_then(|raw| folder(raw).map_err(|reason| fail(Setting::State, raw, reason)).ok());
        let reports = self
            .reports_prefix
            .as_deref()
            .and_then(|raw| folder(raw).map_err(|reason| fail(Setting::Reports, raw, reason)).ok());
        let policy = directory_id.clone().and_then(|directory_id| {
            Policy::new(directory_id, self.limits)
                .map_err(|error| match error {
                    InvalidPolicy::Percent(value) => {
                        fail(Setting::MaxTerminatePercent, &value.to_string(), error.to_string());
                    }
                    InvalidPolicy::GraceDays(value) => {
                        fail(Setting::GraceDays, &value.to_string(), error.to_string());
                    }
                })
                .ok()
        });
        // Without state there is no lock (two runs could terminate at once) and no failover record (the DR-in-use
        // guard). A grace period never elapses without state, so only a live run with grace 0 could terminate.
        let can_terminate = !self.dry_run
            && self.limits.grace_days == 0
            && self.limits.max_terminate > 0
            && self.limits.max_terminate_percent > 0;
        if can_terminate && self.state_prefix.is_none() {
            fail(
                Setting::State,
                "",
                "a live run with --grace-days 0 can terminate, and must then hold the directory's lock and read \
                 the failover record, both kept under the state prefix: set it (or --dry-run, or a grace period)"
                    .to_owned(),
            );
        }
        match (directory_id, bundle_id, policy) {
            (Some(directory_id), Some(bundle_id), Some(policy)) if bad.is_empty() => {
                let failover_record = state
                    .as_ref()
                    .map(|prefix| prefix.sibling(crate::failover::record_key(&prefix.key)));
                let state = state.map(|prefix| {
                    prefix.sibling(format!(
                        "{}reconcile/{}.json",
                        prefix.key,
                        directory_id.as_str()
                    ))
                });
                Ok(ReconcileConfig {
                    spec: WorkspaceSpec {
                        directory_id,
                        bundle_id,
                        auto_stop_timeout_minutes: minutes,
                        volume_encryption_key: self.volume_encryption_key.clone(),
                        extra_tags,
                    },
                    policy,
                    dry_run: self.dry_run,
                    state,
                    failover_record,
                    reports,
                    lease_ttl: SignedDuration::from_mins(15),
                })
            }
            _ => Err(InvalidSettings(bad)),
        }
    }
}

/// `Key=Value` → a tag; wsdr's own `wsdr:` keys are reserved.
fn parse_tag(raw: &str) -> Result<(String, String), String> {
    let (key, value) = raw.split_once('=').ok_or("a tag is Key=Value")?;
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() || key.chars().count() > 127 {
        return Err("tag keys are 1 to 127 characters".to_owned());
    }
    if value.chars().count() > 255 {
        return Err("tag values are at most 255 characters".to_owned());
    }
    if key.starts_with("wsdr:") || key.starts_with("aws:") {
        return Err("keys starting with wsdr: or aws: are reserved".to_owned());
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// `s3://bucket/prefix/` (or `s3://bucket`) → a folder location whose key ends in `/` or is empty.
fn folder(raw: &str) -> Result<S3Location, String> {
    let rest = raw.strip_prefix("s3://").ok_or("expected s3://BUCKET/PREFIX/")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("the bucket is empty".to_owned());
    }
    let prefix = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    };
    Ok(S3Location::new(bucket, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Settings {
        Settings {
            directory_id: "d-90670a1b2c".to_owned(),
            bundle_id: "wsb-wsdrstd01".to_owned(),
            auto_stop_timeout_minutes: 60,
            limits: Limits::RECOMMENDED,
            state_prefix: Some("s3://state-bucket/state".to_owned()),
            reports_prefix: Some("s3://state-bucket/reports/".to_owned()),
            ..Settings::default()
        }
    }

    #[test]
    fn good_settings_give_the_state_object_and_report_folder() {
        let config = good().validate().unwrap();
        assert_eq!(
            config.state.unwrap().to_string(),
            "s3://state-bucket/state/reconcile/d-90670a1b2c.json"
        );
        assert_eq!(config.reports.unwrap().to_string(), "s3://state-bucket/reports/");
        assert_eq!(config.spec.auto_stop_timeout_minutes, 60);
    }

    #[test]
    fn a_run_that_can_terminate_needs_the_lock_and_the_failover_record() {
        // Defect: a live run without state and with grace 0 terminated without the lock or the DR-in-use guard.
        let no_state = |limits: Limits, dry_run: bool| Settings {
            state_prefix: None,
            limits,
            dry_run,
            ..good()
        };
        let grace_zero = Limits { grace_days: 0, ..Limits::RECOMMENDED };
        let error = no_state(grace_zero, false).validate().unwrap_err().to_string();
        assert!(error.contains("--state") && error.contains("WSDR_STATE_BUCKET"), "{error}");
        // A dry run, a grace period (which never elapses without state) or terminations forbidden cannot terminate.
        assert!(no_state(grace_zero, true).validate().is_ok());
        assert!(no_state(Limits::RECOMMENDED, false).validate().is_ok());
        assert!(
            no_state(Limits { max_terminate_percent: 0, ..grace_zero }, false).validate().is_ok()
        );
        let config = Settings { limits: grace_zero, ..good() }.validate().unwrap();
        assert!(config.state.is_some() && config.failover_record.is_some());
    }

    #[test]
    fn every_bad_setting_is_named_at_once() {
        let settings = Settings {
            directory_id: "D-123".to_owned(),
            bundle_id: "bundle".to_owned(),
            auto_stop_timeout_minutes: 90,
            extra_tags: vec![
                "CostCenter=42".to_owned(),
                "wsdr:managed-by=me".to_owned(),
                "novalue".to_owned(),
            ],
            state_prefix: Some("state-bucket".to_owned()),
            ..good()
        };
        let error = settings.validate().unwrap_err();
        let named: Vec<Setting> = error.0.iter().map(|bad| bad.setting).collect();
        assert_eq!(
            named,
            [
                Setting::DirectoryId,
                Setting::BundleId,
                Setting::AutoStopTimeout,
                Setting::WorkspaceTags,
                Setting::WorkspaceTags,
                Setting::State
            ]
        );
        let message = error.to_string();
        assert!(message.contains("--directory-id / WSDR_DIRECTORY_ID = \"D-123\""), "{message}");
        assert!(message.contains("60-minute steps"), "{message}");
        assert!(message.contains("reserved"), "{message}");
    }

    #[test]
    fn auto_stop_accepts_whole_hours_up_to_48() {
        for (minutes, ok) in
            [(0, false), (60, true), (120, true), (61, false), (2880, true), (2940, false)]
        {
            let settings = Settings { auto_stop_timeout_minutes: minutes, ..good() };
            assert_eq!(settings.validate().is_ok(), ok, "{minutes}");
        }
    }
}
