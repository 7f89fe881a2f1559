//! The simulated AWS world: S3 objects with entity tags and conditional writes, the admins' SNS topic, and a
//! signer that can fail; and the ports the drivers use, each call an interleaving point and a place for a fault.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use wsdr_core::alert::AdminAlert;
use wsdr_drivers::error::{AwsError, ErrorKind};
use wsdr_drivers::object::{ETag, Object, Precondition, Put, S3Location};
use wsdr_drivers::ports::{AdminsTopic, DocumentSigner, ObjectStore, Pause};
use wsdr_protocol::{KeyId, LocalSigner, PublicKey, SignedDocument, Signer as _, UnsignedDocument};

/// How likely each fault is at one port call (while faults are on).
#[derive(Clone, Copy, Debug)]
pub struct FaultRates {
    /// The call fails before it has any effect (a 5xx, a throttle after retries, a refused connection).
    pub error: f64,
    /// The call has its effect, but the caller sees an error (a timeout after the request was processed).
    pub lost_answer: f64,
    /// The invocation dies at this call (Lambda timeout, out of memory, a crash), before or after its effect.
    pub crash: f64,
    /// The signer (KMS) fails.
    pub signer: f64,
}

impl FaultRates {
    /// No faults.
    pub const NONE: FaultRates =
        FaultRates { error: 0.0, lost_answer: 0.0, crash: 0.0, signer: 0.0 };
}

/// One delivered SNS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The alert.
    pub alert: AdminAlert,
    /// Which invocation published it.
    pub invocation: usize,
}

/// Everything the world holds. Behind one mutex: the simulation is single-threaded, the lock only satisfies the
/// ports' `Send + Sync` bounds.
#[derive(Debug)]
pub struct WorldState {
    /// Objects by `bucket/key`: bytes and entity tag.
    pub objects: BTreeMap<String, (Vec<u8>, ETag)>,
    /// Every message SNS accepted, in order.
    pub deliveries: Vec<Delivery>,
    /// Invocations that died.
    pub crashed: BTreeSet<usize>,
    /// Whether faults are injected.
    pub faults_on: bool,
    rates: FaultRates,
    rng: fastrand::Rng,
    next_etag: u64,
    /// Port calls made, by operation.
    pub calls: BTreeMap<&'static str, u64>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Scripted failures: the next calls of an operation that fail, whatever the rates.
    scripted: BTreeMap<&'static str, u32>,
}

/// The shared world.
#[derive(Clone, Debug)]
pub struct World(Arc<Mutex<WorldState>>);

/// What a fault roll decided for one call.
enum Roll {
    Proceed,
    FailBefore,
    LoseAnswer,
    CrashBefore,
    CrashAfter,
}

impl World {
    /// A world whose faults follow `rates`, drawn from `seed`.
    pub fn new(seed: u64, rates: FaultRates) -> World {
        World(Arc::new(Mutex::new(WorldState {
            objects: BTreeMap::new(),
            deliveries: Vec::new(),
            crashed: BTreeSet::new(),
            faults_on: true,
            rates,
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed_f00d),
            next_etag: 1,
            calls: BTreeMap::new(),
            faults: BTreeMap::new(),
            scripted: BTreeMap::new(),
        })))
    }

    /// The state, locked.
    pub fn lock(&self) -> MutexGuard<'_, WorldState> {
        // A poisoned lock means a test already panicked; its state is still what it was.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bytes at `location`, if any.
    pub fn object(&self, location: &S3Location) -> Option<Vec<u8>> {
        self.lock().objects.get(&key(location)).map(|(bytes, _)| bytes.clone())
    }

    /// Puts bytes at `location` from outside the drivers (a stray writer, a forged document).
    pub fn plant(&self, location: &S3Location, bytes: Vec<u8>) {
        let mut world = self.lock();
        let etag = world.etag();
        world.objects.insert(key(location), (bytes, etag));
    }

    /// Turns fault injection on or off.
    pub fn set_faults(&self, on: bool) {
        self.lock().faults_on = on;
    }

    /// The next `count` calls of `operation` (e.g. `sns:Publish`) fail before having any effect.
    pub fn fail_next(&self, operation: &'static str, count: u32) {
        self.lock().scripted.insert(operation, count);
    }

    /// Whether `invocation` died.
    pub fn crashed(&self, invocation: usize) -> bool {
        self.lock().crashed.contains(&invocation)
    }

    fn roll(&self, operation: &'static str, invocation: usize, signer: bool) -> Roll {
        let mut world = self.lock();
        *world.calls.entry(operation).or_default() += 1;
        if let Some(left) = world.scripted.get_mut(operation)
            && *left > 0
        {
            *left -= 1;
            *world.faults.entry("scripted").or_default() += 1;
            return Roll::FailBefore;
        }
        if !world.faults_on {
            return Roll::Proceed;
        }
        let rates = world.rates;
        let draw = world.rng.f64();
        let roll = if signer {
            if draw < rates.signer { Roll::FailBefore } else { Roll::Proceed }
        } else if draw < rates.crash {
            if world.rng.bool() { Roll::CrashBefore } else { Roll::CrashAfter }
        } else if draw < rates.crash + rates.error {
            Roll::FailBefore
        } else if draw < rates.crash + rates.error + rates.lost_answer {
            Roll::LoseAnswer
        } else {
            Roll::Proceed
        };
        let name = match roll {
            Roll::Proceed => return roll,
            Roll::FailBefore => "error",
            Roll::LoseAnswer => "lost_answer",
            Roll::CrashBefore | Roll::CrashAfter => {
                world.crashed.insert(invocation);
                "crash"
            }
        };
        *world.faults.entry(name).or_default() += 1;
        roll
    }
}

impl WorldState {
    fn etag(&mut self) -> ETag {
        self.next_etag += 1;
        ETag(format!("\"etag-{}\"", self.next_etag))
    }
}

fn key(location: &S3Location) -> String {
    format!("{}/{}", location.bucket, location.key)
}

/// Gives the scheduler a turn: every port call starts with one, so that concurrent invocations interleave there.
pub fn interleave() -> impl Future<Output = ()> + Send {
    struct Yield(bool);
    impl Future for Yield {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                Poll::Pending
            }
        }
    }
    Yield(false)
}

/// A call that never returns: the invocation died here. The scheduler drops it.
async fn die() -> ! {
    std::future::pending::<()>().await;
    unreachable!("a pending future never completes")
}

fn injected(operation: &'static str) -> AwsError {
    AwsError::new(operation, ErrorKind::Transient, "injected fault: the service did not answer")
}

/// The ports of one invocation.
#[derive(Clone, Debug)]
pub struct Ports {
    world: World,
    invocation: usize,
}

impl Ports {
    /// The ports `invocation` calls through.
    pub fn new(world: &World, invocation: usize) -> Ports {
        Ports { world: world.clone(), invocation }
    }

    /// Rolls for a fault at `operation` and performs `effect` unless it failed before; `effect` answers the result.
    async fn call<R>(
        &self,
        operation: &'static str,
        effect: impl FnOnce(&mut WorldState) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        interleave().await;
        match self.world.roll(operation, self.invocation, false) {
            Roll::Proceed => effect(&mut self.world.lock()),
            Roll::FailBefore => Err(injected(operation)),
            Roll::LoseAnswer => {
                let _ = effect(&mut self.world.lock());
                Err(injected(operation))
            }
            Roll::CrashBefore => die().await,
            Roll::CrashAfter => {
                let _ = effect(&mut self.world.lock());
                die().await
            }
        }
    }
}

impl ObjectStore for Ports {
    async fn read(&self, location: &S3Location) -> Result<Option<Object>, AwsError> {
        self.call("s3:GetObject", |world| {
            Ok(world.objects.get(&key(location)).map(|(bytes, etag)| Object {
                bytes: bytes.clone(),
                etag: etag.clone(),
                last_modified: None,
            }))
        })
        .await
    }

    async fn write(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        put: &Put<'_>,
    ) -> Result<ETag, AwsError> {
        let precondition = put.precondition.clone();
        self.call("s3:PutObject", move |world| {
            let key = key(location);
            let holds = match (&precondition, world.objects.get(&key)) {
                (Precondition::None, _) | (Precondition::Absent, None) => true,
                (Precondition::Absent, Some(_)) => false,
                (Precondition::Matches(expected), Some((_, etag))) => expected == etag,
                (Precondition::Matches(_), None) => false,
            };
            if !holds {
                return Err(AwsError::new(
                    "s3:PutObject",
                    ErrorKind::PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold",
                ));
            }
            let etag = world.etag();
            world.objects.insert(key, (bytes, etag.clone()));
            Ok(etag)
        })
        .await
    }
}

impl AdminsTopic for Ports {
    async fn publish(&self, alert: &AdminAlert) -> Result<String, AwsError> {
        let invocation = self.invocation;
        self.call("sns:Publish", |world| {
            world.deliveries.push(Delivery { alert: alert.clone(), invocation });
            Ok(format!("message-{}", world.deliveries.len()))
        })
        .await
    }
}

impl Pause for Ports {
    async fn after_lost_race(&self, attempt: usize) {
        for _ in 0..attempt.min(4) {
            interleave().await;
        }
    }

    async fn sleep(&self, _duration: Duration) {
        interleave().await;
    }
}

/// A local key behind a service that can fail, like KMS.
#[derive(Clone, Debug)]
pub struct FlakySigner {
    signer: Arc<LocalSigner>,
    ports: Ports,
}

impl FlakySigner {
    /// `signer` as `ports`' invocation sees it.
    pub fn new(signer: Arc<LocalSigner>, ports: Ports) -> FlakySigner {
        FlakySigner { signer, ports }
    }

    async fn roll(&self, operation: &'static str) -> Result<(), AwsError> {
        interleave().await;
        match self.ports.world.roll(operation, self.ports.invocation, true) {
            Roll::Proceed => Ok(()),
            Roll::FailBefore | Roll::LoseAnswer => Err(injected(operation)),
            Roll::CrashBefore | Roll::CrashAfter => die().await,
        }
    }
}

impl DocumentSigner for FlakySigner {
    fn key_id(&self) -> &KeyId {
        self.signer.key_id()
    }

    async fn sign(&self, document: UnsignedDocument) -> Result<SignedDocument, AwsError> {
        self.roll("kms:Sign").await?;
        document
            .sign_with(self.signer.as_ref())
            .map_err(|error| AwsError::rejected("kms:Sign", error.to_string()))
    }

    async fn public_key(&self) -> Result<PublicKey, AwsError> {
        self.roll("kms:GetPublicKey").await?;
        Ok(self.signer.public_key())
    }
}
