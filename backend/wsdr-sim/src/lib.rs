//! The fault simulator: wsdr's drivers run against an in-memory AWS world, seeded, with a fault at any port call
//! and concurrent invocations interleaved by the seed, and every invariant checked after every step.
//!
//! One seed is one story: a few waves of invocations (AWS Health events, delivered twice or re-delivered by the
//! backup region's rule, admin commands, drills, the publish function's refresh), each wave's invocations run
//! concurrently, one poll at a time in an order drawn from the seed, while the world injects errors, lost answers,
//! signer failures and crashes (the invocation is dropped where it stands; the next one starts from the world's
//! state). Then the faults stop and the refresh runs until nothing is left to do.
//!
//! Invariants, after every step: the status object, whenever it changes and verifies, holds a strictly higher
//! sequence than any it held before, never one that was not committed; the failover record never goes back and
//! never becomes unreadable. At the end: every committed transition's admins' alert was delivered at least once,
//! nothing is pending, and the status object verifies and holds the record's last status. A violation names the
//! seed; [`run_seed`] replays it exactly.
//!
//! The ports are the drivers' own ([`wsdr_drivers::ports`]): the code under test is the code the Lambda functions
//! and the CLI run.

pub mod world;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use wsdr_core::alert::AdminAlert;
use wsdr_core::failover::{
    AdminCommand, FailoverPolicy, FailoverRecord, Message, Published, STALE_CLAIM, Site,
};
use wsdr_core::health::Region;
use wsdr_drivers::failover::{FailoverConfig, FailoverDriver, FailoverError, Report};
use wsdr_drivers::object::S3Location;
use wsdr_drivers::status::{StatusConfig, judge};
use wsdr_protocol::{
    Cause, CauseSource, KeyId, KeyRing, LocalSigner, RegistrationTarget, Signer as _, SiteRole,
    State, StatusPayload, UnsignedDocument,
};

use crate::world::{FaultRates, FlakySigner, Ports, World};

/// The state bucket of every simulated deployment.
pub const BUCKET: &str = "wsdr-state";
/// The status object's key.
pub const STATUS_KEY: &str = "status/status.json";
/// Where the story starts.
const EPOCH: i64 = 1_800_000_000;

/// The driver as the simulator runs it: every port on the simulated world.
pub type SimDriver = FailoverDriver<Ports, Ports, FlakySigner, Ports>;

/// What a seed's story does, one invocation at a time.
#[derive(Clone, Debug)]
pub enum Operation {
    /// An `aws.health` event as EventBridge delivers it.
    Health(Value),
    /// An admin command (`wsdr failover`, `failback`, `alert`, drills).
    Command(AdminCommand),
    /// The publish function's scheduled refresh.
    Refresh,
}

impl Operation {
    fn name(&self) -> String {
        match self {
            Operation::Health(event) => format!(
                "health {} {}",
                event["detail"]["eventArn"]
                    .as_str()
                    .unwrap_or("?")
                    .rsplit('/')
                    .next()
                    .unwrap_or("?"),
                event["detail"]["statusCode"].as_str().unwrap_or("?")
            ),
            Operation::Command(command) => command.name().to_owned(),
            Operation::Refresh => "refresh".to_owned(),
        }
    }
}

/// A broken invariant, with the seed that replays it and the story up to it.
#[derive(Debug)]
pub struct Violation {
    /// The seed.
    pub seed: u64,
    /// What broke.
    pub what: String,
    /// The story up to the violation (one line per invocation and outcome).
    pub trace: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "seed {}: {}", self.seed, self.what)?;
        writeln!(
            f,
            "replay: WSDR_SIM_SEED={} cargo test -p wsdr-sim --test sim replay",
            self.seed
        )?;
        for line in &self.trace {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// What one seed did, for the totals (added up with [`SeedStats::add`]).
#[derive(Clone, Debug, Default)]
pub struct SeedStats {
    /// Invocations started.
    pub invocations: u64,
    /// Invocations that died.
    pub crashed: u64,
    /// Invocations that failed with an error.
    pub failed: u64,
    /// Committed transitions (sequences issued).
    pub transitions: u64,
    /// Alerts SNS accepted (duplicates included).
    pub deliveries: u64,
    /// Scheduler steps (polls).
    pub steps: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
}

impl SeedStats {
    /// Adds `other`'s figures to these.
    pub fn add(&mut self, other: &SeedStats) {
        self.invocations += other.invocations;
        self.crashed += other.crashed;
        self.failed += other.failed;
        self.transitions += other.transitions;
        self.deliveries += other.deliveries;
        self.steps += other.steps;
        for (kind, count) in &other.faults {
            *self.faults.entry(kind).or_default() += count;
        }
    }
}

/// What the observer remembers between steps.
struct Observer {
    keys: KeyRing,
    status: S3Location,
    record: S3Location,
    last_status_bytes: Option<Vec<u8>>,
    highest_status: Option<u64>,
    last_record_bytes: Option<Vec<u8>>,
    highest_record: u64,
    /// Every alert ever committed, by sequence.
    committed: BTreeMap<u64, AdminAlert>,
}

impl Observer {
    /// Checks the invariants that hold after every step.
    fn check(&mut self, world: &World, now: Timestamp) -> Result<(), String> {
        let record_bytes = world.object(&self.record);
        if record_bytes != self.last_record_bytes {
            if let Some(bytes) = &record_bytes {
                let record = FailoverRecord::from_json(bytes)
                    .map_err(|error| format!("the failover record became unreadable: {error}"))?;
                let last = record.state.last_sequence();
                if last < self.highest_record {
                    return Err(format!(
                        "the failover record went back from sequence {} to {last}",
                        self.highest_record
                    ));
                }
                self.highest_record = last;
                for pending in &record.pending {
                    if let Some(known) = self.committed.get(&pending.sequence)
                        && known != &pending.alert
                    {
                        return Err(format!(
                            "two different alerts committed under sequence {}",
                            pending.sequence
                        ));
                    }
                    self.committed.insert(pending.sequence, pending.alert.clone());
                }
            }
            self.last_record_bytes = record_bytes;
        }
        let status_bytes = world.object(&self.status);
        if status_bytes != self.last_status_bytes {
            let object = status_bytes.as_ref().map(|bytes| wsdr_drivers::object::Object {
                bytes: bytes.clone(),
                etag: wsdr_drivers::object::ETag("\"observer\"".to_owned()),
                last_modified: None,
            });
            if let Published::Verified { sequence, .. } =
                judge(object.as_ref(), &self.keys, now).published
            {
                if self.highest_status.is_some_and(|highest| sequence <= highest) {
                    return Err(format!(
                        "the status object went from #{} to #{sequence}: published sequences must strictly increase",
                        self.highest_status.unwrap_or_default()
                    ));
                }
                if sequence > self.highest_record {
                    return Err(format!(
                        "status #{sequence} published, but the record has only committed up to #{}",
                        self.highest_record
                    ));
                }
                self.highest_status = Some(sequence);
            }
            self.last_status_bytes = status_bytes;
        }
        Ok(())
    }
}

/// An invocation that ran to its end, with what it answered.
type Finished = (Operation, Result<Report, FailoverError>);

/// A task: one invocation's future.
struct Task {
    invocation: usize,
    name: String,
    future: Pin<Box<dyn Future<Output = Result<Report, FailoverError>> + Send>>,
}

/// The deployment every seed simulates.
fn config(auto_failover: bool) -> FailoverConfig {
    let region =
        |name: &str| Region::parse(name).unwrap_or_else(|_| unreachable!("a fixed region name"));
    FailoverConfig {
        bucket: BUCKET.to_owned(),
        state_prefix: "state/".to_owned(),
        status_key: STATUS_KEY.to_owned(),
        topic_arn: "arn:aws:sns:us-west-2:123456789012:wsdr-alerts".to_owned(),
        policy: FailoverPolicy::new(auto_failover, region("us-east-1"), region("us-west-2"))
            .unwrap_or_else(|_| unreachable!("two different regions")),
        status: StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-west-2", "WSpdx+ABC12D", 24)
            .unwrap_or_else(|_| unreachable!("a fixed, valid configuration")),
        status_url: None,
    }
}

/// An AWS Health event for WorkSpaces in the primary region.
pub fn health_event(event: char, status: &str, communication: u32, minute: i64) -> Value {
    let updated = Timestamp::from_second(EPOCH + minute * 60)
        .unwrap_or_else(|_| unreachable!("within range"))
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    json!({
        "version": "0", "id": format!("id-{event}-{communication}"), "detail-type": "AWS Health Event",
        "source": "aws.health", "account": "123456789012", "time": "2027-01-15T08:00:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventArn": format!("arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/{event}"),
            "service": "WORKSPACES", "eventTypeCode": "AWS_WORKSPACES_OPERATIONAL_ISSUE",
            "eventTypeCategory": "issue", "eventScopeCode": "PUBLIC",
            "communicationId": format!("{event}-{communication}"),
            "startTime": updated, "lastUpdatedTime": updated, "statusCode": status, "eventRegion": "us-east-1",
            "eventDescription": [{"language": "en_US", "latestDescription": "Increased connection errors."}]
        }
    })
}

fn message(title: &str) -> Message {
    Message::new(title, "A message from the admins.")
        .unwrap_or_else(|_| unreachable!("a fixed, valid message"))
}

/// The operations of one seed, in waves of concurrent invocations.
fn story(rng: &mut fastrand::Rng) -> Vec<Vec<Operation>> {
    let mut waves = Vec::new();
    let mut communication = 0;
    let mut sent: Vec<Value> = Vec::new();
    for wave in 0..rng.usize(2..=6) {
        let mut operations = Vec::new();
        for _ in 0..rng.usize(1..=3) {
            communication += 1;
            let minute = i64::try_from(wave * 10).unwrap_or(0);
            let operation = match rng.u8(0..12) {
                0..=2 => {
                    let event = if rng.bool() { 'A' } else { 'B' };
                    let status = if rng.u8(0..3) == 0 { "closed" } else { "open" };
                    let value = health_event(event, status, communication, minute);
                    sent.push(value.clone());
                    Operation::Health(value)
                }
                // EventBridge delivers at least once, and the backup region's rule delivers a copy.
                3 if !sent.is_empty() => Operation::Health(sent[rng.usize(..sent.len())].clone()),
                3 | 4 => Operation::Command(AdminCommand::DeclareFailover { message: None }),
                5 => Operation::Command(AdminCommand::Failback { message: None }),
                6 => Operation::Command(AdminCommand::Alert(message("Heads up"))),
                7 => Operation::Command(AdminCommand::StartDrill {
                    message: message("DR drill"),
                    active: if rng.bool() { Site::Dr } else { Site::Primary },
                }),
                8 => Operation::Command(AdminCommand::EndDrill { message: None }),
                _ => Operation::Refresh,
            };
            operations.push(operation);
        }
        waves.push(operations);
    }
    waves
}

/// A status document that does not verify with the deployment's key: another key, the largest sequence.
fn forged_document() -> Vec<u8> {
    let forger = LocalSigner::from_secret_bytes(
        KeyId::parse("wsdr-sim").unwrap_or_else(|_| unreachable!("a fixed key id")),
        &[77; 32],
    )
    .unwrap_or_else(|_| unreachable!("a fixed, valid secret"));
    let site = |region: &str, code: &str| wsdr_protocol::Site {
        region: Region::parse(region).unwrap_or_else(|_| unreachable!("a fixed region")),
        registration_code: RegistrationTarget::parse(code)
            .unwrap_or_else(|_| unreachable!("a fixed code")),
    };
    let payload = StatusPayload {
        sequence: wsdr_protocol::MAX_SEQUENCE,
        issued_at: Timestamp::from_second(EPOCH).unwrap_or_else(|_| unreachable!("within range")),
        expires_at: Timestamp::from_second(EPOCH + 86_400 * 365)
            .unwrap_or_else(|_| unreachable!("within range")),
        state: State::Normal,
        primary: site("us-east-1", "SLiad+ABCDEF"),
        dr: site("us-west-2", "WSpdx+ABC12D"),
        active: SiteRole::Primary,
        message: message("All good"),
        cause: Cause { source: CauseSource::Admin, event_arn: None },
    };
    let unsigned =
        UnsignedDocument::new(&payload).unwrap_or_else(|_| unreachable!("a fixed, valid payload"));
    unsigned
        .sign_with(&forger)
        .unwrap_or_else(|_| unreachable!("a local key signs"))
        .to_json_bytes()
}

/// The fault rates of a seed: most seeds are rough, some very rough, some calm.
fn rates(rng: &mut fastrand::Rng) -> FaultRates {
    match rng.u8(0..4) {
        0 => FaultRates { error: 0.02, lost_answer: 0.01, crash: 0.005, signer: 0.05 },
        1 | 2 => FaultRates { error: 0.08, lost_answer: 0.04, crash: 0.02, signer: 0.15 },
        _ => FaultRates { error: 0.2, lost_answer: 0.1, crash: 0.05, signer: 0.4 },
    }
}

/// The deployment's status key (a local one: KMS signs the same way) and the ring that trusts it.
fn status_key() -> (Arc<LocalSigner>, KeyRing) {
    let signer = LocalSigner::from_secret_bytes(
        KeyId::parse("wsdr-status").unwrap_or_else(|_| unreachable!("a fixed key id")),
        &[42; 32],
    )
    .unwrap_or_else(|_| unreachable!("a fixed, valid secret"));
    let mut keys = KeyRing::new();
    keys.insert(signer.key_id().clone(), signer.public_key())
        .unwrap_or_else(|_| unreachable!("one key"));
    (Arc::new(signer), keys)
}

/// Runs one seed's story and checks every invariant; the same seed always does exactly the same.
pub fn run_seed(seed: u64) -> Result<SeedStats, Violation> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let auto_failover = rng.u8(0..4) == 0;
    let world = World::new(seed, rates(&mut rng));
    let (signer, keys) = status_key();
    let config = config(auto_failover);
    let status = S3Location::new(BUCKET, STATUS_KEY);
    if rng.u8(0..8) == 0 {
        // A stray or forged object with the largest sequence: it must not block anything.
        world.plant(&status, forged_document());
    }
    let mut observer = Observer {
        keys,
        status: status.clone(),
        record: S3Location::new(BUCKET, wsdr_drivers::failover::record_key(&config.state_prefix)),
        last_status_bytes: None,
        highest_status: None,
        last_record_bytes: None,
        highest_record: 0,
        committed: BTreeMap::new(),
    };
    let mut stats = SeedStats::default();
    let mut trace = Vec::new();
    let violation =
        |what: String, trace: &[String]| Violation { seed, what, trace: trace.to_vec() };

    let mut now = Timestamp::from_second(EPOCH).unwrap_or_else(|_| unreachable!("within range"));
    let mut invocation = 0;
    let mut retries: Vec<Operation> = Vec::new();
    let waves = story(&mut rng);
    for wave in waves {
        let mut operations = std::mem::take(&mut retries);
        operations.extend(wave);
        stats.invocations += u64::try_from(operations.len()).unwrap_or_default();
        let tasks = operations
            .into_iter()
            .map(|operation| {
                invocation += 1;
                spawn(&world, invocation, &signer, &config, operation, now)
            })
            .collect();
        let outcomes =
            run_wave(&world, tasks, &mut rng, &mut observer, now, &mut stats, &mut trace)
                .map_err(|what| violation(what, &trace))?;
        for (operation, outcome) in outcomes {
            // Lambda retries a failed asynchronous invocation (twice at most; one is enough here).
            if let (
                Operation::Health(_),
                Err(FailoverError::Aws(_) | FailoverError::Incomplete { .. }),
            ) = (&operation, &outcome)
            {
                retries.push(operation);
            }
        }
        now = now
            .checked_add(SignedDuration::from_secs(rng.i64(5..=600)))
            .unwrap_or_else(|_| unreachable!("within range"));
    }

    // The faults stop; the scheduled refresh runs (each time after claims have gone stale) until nothing is left.
    world.set_faults(false);
    for _ in 0..4 {
        if quiescent(&world, &observer) {
            break;
        }
        now = now
            .checked_add(STALE_CLAIM + SignedDuration::from_secs(1))
            .unwrap_or_else(|_| unreachable!("within range"));
        invocation += 1;
        let task = spawn(&world, invocation, &signer, &config, Operation::Refresh, now);
        run_wave(&world, vec![task], &mut rng, &mut observer, now, &mut stats, &mut trace)
            .map_err(|what| violation(what, &trace))?;
        stats.invocations += 1;
    }

    final_checks(&world, &mut observer, now).map_err(|what| violation(what, &trace))?;
    let state = world.lock();
    stats.deliveries = u64::try_from(state.deliveries.len()).unwrap_or_default();
    stats.transitions = observer.highest_record;
    stats.faults = state.faults.clone();
    Ok(stats)
}

/// Whether nothing is left to do: no alert pending, and the status object holds the record's last sequence (the
/// observer has just verified whatever the object holds).
fn quiescent(world: &World, observer: &Observer) -> bool {
    let Some(bytes) = world.object(&observer.record) else { return true };
    FailoverRecord::from_json(&bytes).is_ok_and(|record| {
        record.pending.is_empty() && observer.highest_status == Some(record.state.last_sequence())
    })
}

/// The end of a story: every committed alert delivered, nothing pending, the last status published.
fn final_checks(world: &World, observer: &mut Observer, now: Timestamp) -> Result<(), String> {
    observer.check(world, now)?;
    let Some(bytes) = world.object(&observer.record) else {
        return Ok(()); // Nothing was ever committed.
    };
    let record = FailoverRecord::from_json(&bytes).map_err(|error| error.to_string())?;
    let deliveries = world.lock().deliveries.clone();
    for (sequence, alert) in &observer.committed {
        if !deliveries.iter().any(|delivery| &delivery.alert == alert) {
            return Err(format!(
                "the admins' alert of committed transition #{sequence} ({}) was never delivered",
                alert.subject
            ));
        }
    }
    if !record.pending.is_empty() {
        let left: Vec<u64> = record.pending.iter().map(|pending| pending.sequence).collect();
        return Err(format!("alerts still pending after the faults stopped: {left:?}"));
    }
    let object = world.object(&observer.status).map(|bytes| wsdr_drivers::object::Object {
        bytes,
        etag: wsdr_drivers::object::ETag("\"final\"".to_owned()),
        last_modified: None,
    });
    match judge(object.as_ref(), &observer.keys, now).published {
        Published::Verified { sequence, .. } if sequence == record.state.last_sequence() => Ok(()),
        other => Err(format!(
            "after the faults stopped the status object is {other:?}, the record's last status is #{}",
            record.state.last_sequence()
        )),
    }
}

/// One simulated deployment for scripted scenarios: invocations run one at a time, faults as the world's rates say.
#[derive(Debug)]
pub struct Deployment {
    /// The world.
    pub world: World,
    signer: Arc<LocalSigner>,
    config: FailoverConfig,
    keys: KeyRing,
    invocations: usize,
}

impl Deployment {
    /// A fresh deployment (manual failover) whose faults follow `rates`, drawn from `seed`.
    pub fn new(seed: u64, rates: FaultRates) -> Deployment {
        let (signer, keys) = status_key();
        Deployment {
            world: World::new(seed, rates),
            signer,
            config: config(false),
            keys,
            invocations: 0,
        }
    }

    /// Runs one invocation to its end; `None` when it died.
    pub fn run(
        &mut self,
        operation: Operation,
        now: Timestamp,
    ) -> Option<Result<Report, FailoverError>> {
        self.invocations += 1;
        let (_, mut task) =
            spawn(&self.world, self.invocations, &self.signer, &self.config, operation, now);
        let mut context = Context::from_waker(Waker::noop());
        loop {
            match task.future.as_mut().poll(&mut context) {
                Poll::Ready(outcome) => return Some(outcome),
                Poll::Pending if self.world.crashed(task.invocation) => return None,
                Poll::Pending => {}
            }
        }
    }

    /// What the status object holds, judged with the deployment's key.
    pub fn published(&self, now: Timestamp) -> Published {
        let object = self.world.object(&S3Location::new(BUCKET, STATUS_KEY)).map(|bytes| {
            wsdr_drivers::object::Object {
                bytes,
                etag: wsdr_drivers::object::ETag("\"scenario\"".to_owned()),
                last_modified: None,
            }
        });
        judge(object.as_ref(), &self.keys, now).published
    }

    /// The failover record, if one was committed.
    pub fn record(&self) -> Option<FailoverRecord> {
        let location =
            S3Location::new(BUCKET, wsdr_drivers::failover::record_key(&self.config.state_prefix));
        self.world.object(&location).and_then(|bytes| FailoverRecord::from_json(&bytes).ok())
    }

    /// Every alert SNS accepted, in order.
    pub fn deliveries(&self) -> Vec<AdminAlert> {
        self.world.lock().deliveries.iter().map(|delivery| delivery.alert.clone()).collect()
    }

    /// Plants a status document signed by another key with the largest sequence (a stray or forged object).
    pub fn plant_forged_status(&self) {
        self.world.plant(&S3Location::new(BUCKET, STATUS_KEY), forged_document());
    }
}

/// The time a scenario starts at, plus `seconds`.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(EPOCH + seconds).unwrap_or_else(|_| unreachable!("within range"))
}

fn spawn(
    world: &World,
    invocation: usize,
    signer: &Arc<LocalSigner>,
    config: &FailoverConfig,
    operation: Operation,
    now: Timestamp,
) -> (Operation, Task) {
    let ports = Ports::new(world, invocation);
    let driver: SimDriver = FailoverDriver::new(
        ports.clone(),
        ports.clone(),
        FlakySigner::new(Arc::clone(signer), ports.clone()),
        ports,
        config.clone(),
    );
    let name = operation.name();
    let op = operation.clone();
    let future = Box::pin(async move {
        match op {
            Operation::Health(event) => driver.on_health_event(&event, now).await,
            Operation::Command(command) => driver.command(command, now).await,
            Operation::Refresh => driver.refresh(now).await,
        }
    });
    (operation, Task { invocation, name, future })
}

/// Runs a wave's invocations to their ends, one poll at a time in an order drawn from `rng`, checking the
/// invariants after every poll. Answers each finished invocation's outcome (died ones have none).
fn run_wave(
    world: &World,
    tasks: Vec<(Operation, Task)>,
    rng: &mut fastrand::Rng,
    observer: &mut Observer,
    now: Timestamp,
    stats: &mut SeedStats,
    trace: &mut Vec<String>,
) -> Result<Vec<Finished>, String> {
    let mut live = tasks;
    let mut done = Vec::new();
    let mut context = Context::from_waker(Waker::noop());
    let mut steps = 0_u64;
    while !live.is_empty() {
        steps += 1;
        if steps > 100_000 {
            return Err(format!("no progress after {steps} steps: a livelock"));
        }
        let index = rng.usize(..live.len());
        let poll = live[index].1.future.as_mut().poll(&mut context);
        observer.check(world, now)?;
        let invocation = live[index].1.invocation;
        match poll {
            Poll::Ready(outcome) => {
                let (operation, task) = live.swap_remove(index);
                trace.push(format!("#{invocation} {} at {now}: {}", task.name, describe(&outcome)));
                if outcome.is_err() {
                    stats.failed += 1;
                }
                done.push((operation, outcome));
            }
            Poll::Pending if world.crashed(invocation) => {
                let (_, task) = live.swap_remove(index);
                trace.push(format!("#{invocation} {} at {now}: died", task.name));
                stats.crashed += 1;
            }
            Poll::Pending => {}
        }
    }
    stats.steps += steps;
    Ok(done)
}

fn describe(outcome: &Result<Report, FailoverError>) -> String {
    match outcome {
        Ok(report) => format!(
            "{} ({} -> {}, #{})",
            report.outcome, report.previous_mode, report.mode, report.last_sequence
        ),
        Err(error) => format!("error: {error}"),
    }
}
