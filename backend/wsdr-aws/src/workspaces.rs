//! Amazon WorkSpaces: every page of a directory's WorkSpaces, and creations and terminations in batches of at
//! most 25 with their per-item outcomes. Every call waits for the shared [`RateLimiter`] first.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_workspaces::types::{
    RunningMode, Tag, TerminateRequest, WorkspaceProperties, WorkspaceRequest,
};
use jiff::Timestamp;
use wsdr_core::policy::MAX_BATCH;
use wsdr_core::username::{UserKey, Username};
use wsdr_core::workspace::{
    BundleId, CREATED_AT_TAG_KEY, DirectoryId, OWNER_TAG_KEY, OWNER_TAG_VALUE, Workspace,
    WorkspaceId, WorkspaceState,
};

use crate::error::{AwsError, ErrorKind};
use crate::limiter::RateLimiter;

/// The error code WorkSpaces answers, per item, for a user who already has a WorkSpace in the directory.
pub const RESOURCE_EXISTS: &str = "ResourceExists.WorkSpace";

/// What every WorkSpace wsdr creates looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceSpec {
    /// The DR directory.
    pub directory_id: DirectoryId,
    /// The bundle (hardware + image).
    pub bundle_id: BundleId,
    /// AutoStop timeout, a multiple of 60 minutes.
    pub auto_stop_timeout_minutes: u32,
    /// KMS key for volume encryption (both volumes), if any.
    pub volume_encryption_key: Option<String>,
    /// Extra tags besides wsdr's own.
    pub extra_tags: Vec<(String, String)>,
}

/// What became of one user's creation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// Accepted: the WorkSpace is on its way (PENDING).
    Pending(WorkspaceId),
    /// The user already has a WorkSpace in the directory (a concurrent run, or a retried call that had worked).
    AlreadyExists,
    /// Refused for this user, with the service's code and message.
    Failed {
        /// `FailedRequests[].ErrorCode`.
        code: String,
        /// `FailedRequests[].ErrorMessage`.
        message: String,
    },
}

/// What became of one termination request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminated {
    /// Accepted: the WorkSpace is TERMINATING.
    Accepted,
    /// Refused, with the service's code and message.
    Failed {
        /// `FailedRequests[].ErrorCode`.
        code: String,
        /// `FailedRequests[].ErrorMessage`.
        message: String,
    },
}

/// Rounds of waiting when the service still throttles after the SDK's own retries (another client sharing the
/// account's quota, a storm): 1, 2, 4, 8 then 16 s, each with full jitter — at most about half a minute in all.
const THROTTLE_ROUNDS: u32 = 5;
const THROTTLE_FIRST_WAIT: Duration = Duration::from_secs(1);

/// The WorkSpaces API of one region, rate-limited.
#[derive(Clone, Debug)]
pub struct WorkspacesApi {
    client: aws_sdk_workspaces::Client,
    limiter: Arc<RateLimiter>,
}

impl WorkspacesApi {
    /// The API on `client`, every call waiting for `limiter`.
    pub fn new(client: aws_sdk_workspaces::Client, limiter: Arc<RateLimiter>) -> WorkspacesApi {
        WorkspacesApi { client, limiter }
    }

    /// The limiter every call waits for.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Sends one call when the limiter allows; when the service throttles it even after the SDK's retries, slows
    /// the limiter down and tries again after a jittered, doubling wait, a bounded number of times.
    async fn send<T, F, Fut>(&self, call: F) -> Result<T, AwsError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut wait = THROTTLE_FIRST_WAIT;
        for _ in 0..THROTTLE_ROUNDS {
            self.limiter.acquire().await;
            match call().await {
                Err(error) if error.kind == ErrorKind::Throttled => {
                    tracing::warn!(
                        operation = error.operation,
                        wait_ms = wait.as_millis(),
                        "throttled; waiting"
                    );
                    self.limiter.penalize();
                    tokio::time::sleep(wait.mul_f64(fastrand::f64())).await;
                    wait *= 2;
                }
                result => return result,
            }
        }
        self.limiter.acquire().await;
        call().await
    }

    /// Every WorkSpace of `directory`, all pages (25 per page, the API's maximum). Ownership is not known here
    /// (DescribeWorkspaces returns no tags): every entry has `owned: false` until [`crate::tagging`] says.
    pub async fn describe_directory(
        &self,
        directory: &DirectoryId,
    ) -> Result<Vec<Workspace>, AwsError> {
        const OPERATION: &str = "workspaces:DescribeWorkspaces";
        let mut workspaces = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .send(|| async {
                    self.client
                        .describe_workspaces()
                        .directory_id(directory.as_str())
                        .limit(i32::try_from(MAX_BATCH).unwrap_or(25))
                        .set_next_token(next_token.clone())
                        .send()
                        .await
                        .map_err(|error| crate::error::from_sdk(OPERATION, error))
                })
                .await?;
            for raw in page.workspaces() {
                workspaces.push(observed(raw).map_err(|message| AwsError {
                    operation: OPERATION,
                    code: None,
                    message,
                    kind: ErrorKind::Rejected,
                })?);
            }
            next_token = page.next_token().filter(|token| !token.is_empty()).map(str::to_owned);
            if next_token.is_none() {
                return Ok(workspaces);
            }
        }
    }

    /// Creates one WorkSpace per user (at most 25), tagged as wsdr's with `created_at`. The outcomes are in the
    /// order of `users`. An error means the whole call failed (after the SDK's retries).
    pub async fn create(
        &self,
        spec: &WorkspaceSpec,
        users: &[Username],
        created_at: Timestamp,
    ) -> Result<Vec<Created>, AwsError> {
        const OPERATION: &str = "workspaces:CreateWorkspaces";
        assert!(!users.is_empty() && users.len() <= MAX_BATCH, "1..=25 users per CreateWorkspaces");
        let requests = users
            .iter()
            .map(|user| request(spec, user, created_at))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| AwsError::rejected(OPERATION, error.to_string()))?;
        let output = self
            .send(|| async {
                self.client
                    .create_workspaces()
                    .set_workspaces(Some(requests.clone()))
                    .send()
                    .await
                    .map_err(|error| crate::error::from_sdk(OPERATION, error))
            })
            .await?;

        let mut pending: BTreeMap<UserKey, WorkspaceId> = BTreeMap::new();
        for workspace in output.pending_requests() {
            if let (Some(Ok(key)), Some(Ok(id))) = (
                workspace.user_name().map(UserKey::new),
                workspace.workspace_id().map(WorkspaceId::new),
            ) {
                pending.insert(key, id);
            }
        }
        let mut failed: BTreeMap<UserKey, Created> = BTreeMap::new();
        for failure in output.failed_requests() {
            let Some(Ok(key)) = failure.workspace_request().map(|r| UserKey::new(r.user_name()))
            else {
                continue;
            };
            let code = failure.error_code().unwrap_or("Unknown").to_owned();
            let outcome = if code == RESOURCE_EXISTS {
                Created::AlreadyExists
            } else {
                Created::Failed {
                    code,
                    message: failure.error_message().unwrap_or_default().to_owned(),
                }
            };
            failed.insert(key, outcome);
        }
        Ok(users
            .iter()
            .map(|user| {
                let key = user.key();
                if let Some(id) = pending.remove(&key) {
                    Created::Pending(id)
                } else if let Some(outcome) = failed.remove(&key) {
                    outcome
                } else {
                    Created::Failed {
                        code: "NoAnswer".to_owned(),
                        message:
                            "CreateWorkspaces listed this user neither as pending nor as failed"
                                .to_owned(),
                    }
                }
            })
            .collect())
    }

    /// Terminates WorkSpaces (at most 25). The outcomes are in the order of `ids`.
    pub async fn terminate(&self, ids: &[WorkspaceId]) -> Result<Vec<Terminated>, AwsError> {
        const OPERATION: &str = "workspaces:TerminateWorkspaces";
        assert!(
            !ids.is_empty() && ids.len() <= MAX_BATCH,
            "1..=25 WorkSpaces per TerminateWorkspaces"
        );
        let requests = ids
            .iter()
            .map(|id| TerminateRequest::builder().workspace_id(id.as_str()).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| AwsError::rejected(OPERATION, error.to_string()))?;
        let output = self
            .send(|| async {
                self.client
                    .terminate_workspaces()
                    .set_terminate_workspace_requests(Some(requests.clone()))
                    .send()
                    .await
                    .map_err(|error| crate::error::from_sdk(OPERATION, error))
            })
            .await?;
        let mut failed: BTreeMap<&str, Terminated> = BTreeMap::new();
        for failure in output.failed_requests() {
            if let Some(id) = failure.workspace_id() {
                failed.insert(
                    id,
                    Terminated::Failed {
                        code: failure.error_code().unwrap_or("Unknown").to_owned(),
                        message: failure.error_message().unwrap_or_default().to_owned(),
                    },
                );
            }
        }
        Ok(ids
            .iter()
            .map(|id| failed.remove(id.as_str()).unwrap_or(Terminated::Accepted))
            .collect())
    }

    /// Puts wsdr's ownership tag on a WorkSpace it did not create (adoption).
    pub async fn tag_as_owned(&self, id: &WorkspaceId) -> Result<(), AwsError> {
        const OPERATION: &str = "workspaces:CreateTags";
        let tag = Tag::builder()
            .key(OWNER_TAG_KEY)
            .value(OWNER_TAG_VALUE)
            .build()
            .map_err(|error| AwsError::rejected(OPERATION, error.to_string()))?;
        self.send(|| async {
            self.client
                .create_tags()
                .resource_id(id.as_str())
                .tags(tag.clone())
                .send()
                .await
                .map_err(|error| crate::error::from_sdk(OPERATION, error))
        })
        .await?;
        Ok(())
    }
}

fn request(
    spec: &WorkspaceSpec,
    user: &Username,
    created_at: Timestamp,
) -> Result<WorkspaceRequest, aws_sdk_workspaces::error::BuildError> {
    let mut tags = vec![
        Tag::builder().key(OWNER_TAG_KEY).value(OWNER_TAG_VALUE).build()?,
        Tag::builder().key(CREATED_AT_TAG_KEY).value(created_at.to_string()).build()?,
    ];
    for (key, value) in &spec.extra_tags {
        tags.push(Tag::builder().key(key).value(value).build()?);
    }
    let properties = WorkspaceProperties::builder()
        .running_mode(RunningMode::AutoStop)
        .running_mode_auto_stop_timeout_in_minutes(
            i32::try_from(spec.auto_stop_timeout_minutes).unwrap_or(i32::MAX),
        )
        .build();
    let encrypted = spec.volume_encryption_key.is_some();
    WorkspaceRequest::builder()
        .directory_id(spec.directory_id.as_str())
        .user_name(user.as_str())
        .bundle_id(spec.bundle_id.as_str())
        .workspace_properties(properties)
        .set_volume_encryption_key(spec.volume_encryption_key.clone())
        .set_user_volume_encryption_enabled(encrypted.then_some(true))
        .set_root_volume_encryption_enabled(encrypted.then_some(true))
        .set_tags(Some(tags))
        .build()
}

fn observed(raw: &aws_sdk_workspaces::types::Workspace) -> Result<Workspace, String> {
    let id = raw.workspace_id().ok_or("a WorkSpace without WorkspaceId")?;
    let id = WorkspaceId::new(id).map_err(|error| error.to_string())?;
    Ok(Workspace {
        directory_id: raw.directory_id().unwrap_or_default().to_owned(),
        user_name: raw.user_name().map(str::to_owned),
        state: WorkspaceState::parse(raw.state().map(|state| state.as_str()).unwrap_or("UNKNOWN")),
        owned: false,
        created_at: None,
        id,
    })
}
