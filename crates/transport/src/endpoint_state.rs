//! The endpoint suspension state machine of MI (ACTIVE -> TIMEOUT -> SUSPENDED -> ACTIVE, plus the
//! manual OFF), free of I/O: every method that depends on time takes `now: Instant` as an argument.
//!
//! It reproduces the non-clustered path of Synapse's
//! `modules/core/src/main/java/org/apache/synapse/endpoints/EndpointContext.java` together with the
//! error classification of `AbstractEndpoint.isTimeout` / `isSuspendFault` and the defaults of
//! `EndpointDefinition.java` (wso2/wso2-synapse, read at commit f30492dc). The sender asks
//! [`EndpointState::is_ready`] before it sends, and reports [`EndpointState::on_success`] or
//! [`EndpointState::on_failure`] with the Synapse error code afterwards.
//!
//! Not covered here (they belong to load-balance/failover groups, Tier 2): the failover retry
//! limits (`isMaxRetryLimitReached`), the global override of suspension settings
//! (`synapse.global_endpoint_suspend_duration` and friends), and cluster replication.

use std::time::{Duration, Instant};

/// `SynapseConstants.RCV_IO_ERROR_SENDING`: I/O error while sending the response to the client.
pub const RCV_IO_ERROR_SENDING: i32 = 101_000;
/// `SynapseConstants.RCV_IO_ERROR_RECEIVING`: I/O error while reading the client's request.
pub const RCV_IO_ERROR_RECEIVING: i32 = 101_001;
/// `SynapseConstants.SND_IO_ERROR_SENDING`: I/O error while sending the request to the backend.
pub const SND_IO_ERROR_SENDING: i32 = 101_500;
/// `SynapseConstants.SND_IO_ERROR_RECEIVING`: I/O error while reading the backend's response.
pub const SND_IO_ERROR_RECEIVING: i32 = 101_501;
/// `SynapseConstants.NHTTP_CONNECTION_FAILED`: the connection to the backend could not be made.
pub const NHTTP_CONNECTION_FAILED: i32 = 101_503;
/// `SynapseConstants.NHTTP_CONNECTION_TIMEOUT`: the backend did not answer in time.
pub const NHTTP_CONNECTION_TIMEOUT: i32 = 101_504;
/// `SynapseConstants.NHTTP_CONNECTION_CLOSED`: the backend closed the connection.
pub const NHTTP_CONNECTION_CLOSED: i32 = 101_505;
/// `SynapseConstants.NHTTP_PROTOCOL_VIOLATION`: the backend broke the HTTP protocol.
pub const NHTTP_PROTOCOL_VIOLATION: i32 = 101_506;
/// `SynapseConstants.NHTTP_CONNECT_CANCEL`: the connection attempt was cancelled.
pub const NHTTP_CONNECT_CANCEL: i32 = 101_507;
/// `SynapseConstants.NHTTP_CONNECT_TIMEOUT`: connecting to the backend timed out.
pub const NHTTP_CONNECT_TIMEOUT: i32 = 101_508;
/// `SynapseConstants.NHTTP_RESPONSE_PROCESSING_FAILURE`: the backend's response could not be processed.
pub const NHTTP_RESPONSE_PROCESSING_FAILURE: i32 = 101_510;
/// `SynapseConstants.ENDPOINT_ADDRESS_NONE_READY`: an address/http endpoint is not ready (suspended).
pub const ENDPOINT_ADDRESS_NONE_READY: i32 = 303_001;

/// The error code MI's documentation and tests put in `<errorCodes>` to match nothing: no real
/// error has this code, so a list holding only it disables that branch. To never suspend an
/// endpoint, both lists must hold it (a timeout code otherwise still suspends it, see
/// [`EndpointState::on_failure`]).
pub const NEVER_MATCHING_ERROR_CODE: i32 = -1;

/// Codes that count as a timeout when `<markForSuspension><errorCodes>` is not given
/// (`AbstractEndpoint.isTimeout`: "assume only HTTP timeout and connection close").
pub const DEFAULT_TIMEOUT_ERROR_CODES: [i32; 2] =
    [NHTTP_CONNECTION_TIMEOUT, NHTTP_CONNECTION_CLOSED];

/// `SynapseConstants.DEFAULT_ENDPOINT_SUSPEND_TIME`: the suspension used whenever the computed
/// one is negative, which is the case when `<initialDuration>` is not set.
pub const DEFAULT_ENDPOINT_SUSPEND_TIME_MS: u64 = 30_000;

/// `EndpointDefinition.suspendMaximumDuration` default: `Long.MAX_VALUE`.
pub const DEFAULT_MAXIMUM_DURATION_MS: u64 = i64::MAX as u64;

/// `EndpointDefinition.suspendProgressionFactor` default.
pub const DEFAULT_PROGRESSION_FACTOR: f32 = 1.0;

/// The suspension settings of one endpoint (`<markForSuspension>` and `<suspendOnFailure>`).
/// `Default` gives MI's defaults for an endpoint that sets neither element.
#[derive(Debug, Clone, PartialEq)]
pub struct SuspensionPolicy {
    /// `<suspendOnFailure><errorCodes>`. Empty means every error suspends
    /// (`AbstractEndpoint.isSuspendFault`).
    pub suspend_error_codes: Vec<i32>,
    /// `<suspendOnFailure><initialDuration>` in ms. `None` (MI's `-1`; any negative value
    /// behaves the same) means [`DEFAULT_ENDPOINT_SUSPEND_TIME_MS`].
    pub initial_duration_ms: Option<u64>,
    /// `<suspendOnFailure><progressionFactor>`: each further suspension lasts the previous one
    /// times this factor (computed in `float` as Java does).
    pub progression_factor: f32,
    /// `<suspendOnFailure><maximumDuration>` in ms.
    pub maximum_duration_ms: u64,
    /// `<markForSuspension><errorCodes>`. Empty means [`DEFAULT_TIMEOUT_ERROR_CODES`].
    pub timeout_error_codes: Vec<i32>,
    /// `<markForSuspension><retriesBeforeSuspension>`.
    pub retries_before_suspension: u32,
    /// `<markForSuspension><retryDelay>` in ms: how long a TIMEOUT endpoint is not ready.
    pub retry_delay_ms: u64,
}

impl Default for SuspensionPolicy {
    /// Field defaults of `EndpointDefinition.java`.
    fn default() -> Self {
        SuspensionPolicy {
            suspend_error_codes: Vec::new(),
            initial_duration_ms: None,
            progression_factor: DEFAULT_PROGRESSION_FACTOR,
            maximum_duration_ms: DEFAULT_MAXIMUM_DURATION_MS,
            timeout_error_codes: Vec::new(),
            retries_before_suspension: 0,
            retry_delay_ms: 0,
        }
    }
}

impl SuspensionPolicy {
    /// `AbstractEndpoint.isTimeout`: is this error a "mark for suspension" (timeout) error?
    pub fn is_timeout_error(&self, error_code: i32) -> bool {
        if self.timeout_error_codes.is_empty() {
            DEFAULT_TIMEOUT_ERROR_CODES.contains(&error_code)
        } else {
            self.timeout_error_codes.contains(&error_code)
        }
    }

    /// `AbstractEndpoint.isSuspendFault`: does this error suspend the endpoint at once?
    pub fn is_suspend_error(&self, error_code: i32) -> bool {
        self.suspend_error_codes.is_empty() || self.suspend_error_codes.contains(&error_code)
    }
}

/// The four states of `EndpointContext` (`ST_ACTIVE`, `ST_TIMEOUT`, `ST_SUSPENDED`, `ST_OFF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointStatus {
    /// Sends go through.
    Active,
    /// A timeout error was seen and retries remain: not ready until the retry delay passed.
    Timeout,
    /// Not ready until the suspension passed; a send after that is a probe.
    Suspended,
    /// Switched off by an operator; only [`EndpointState::switch_on`] leaves it.
    Off,
}

impl EndpointStatus {
    /// The name MI's management API and logs use.
    pub fn as_mi_str(self) -> &'static str {
        match self {
            EndpointStatus::Active => "ACTIVE",
            EndpointStatus::Timeout => "TIMEOUT",
            EndpointStatus::Suspended => "SUSPENDED",
            // Sic: `EndpointContext.getStateAsString` spells it this way.
            EndpointStatus::Off => "MAINTNENCE",
        }
    }
}

/// How [`EndpointState::on_failure`] classified an error, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// A timeout error (`markForSuspension`): the endpoint went to TIMEOUT, or to SUSPENDED when no
    /// retries remained.
    Timeout,
    /// A suspend error (`suspendOnFailure`): the endpoint went to SUSPENDED.
    Suspend,
    /// Neither list matched: the state did not change.
    Ignored,
    /// The endpoint is OFF: failures do not change it.
    Off,
}

/// The live state of one endpoint. One per endpoint definition, shared by all senders to it.
#[derive(Debug, Clone)]
pub struct EndpointState {
    policy: SuspensionPolicy,
    status: EndpointStatus,
    /// `localRemainingRetries`; `None` is Synapse's `-1`: "not counted yet, take the policy's".
    remaining_retries: Option<u32>,
    /// `localLastSuspendDuration`; `None` is Synapse's `-1`: not suspended since the last reset.
    last_suspend_duration_ms: Option<u64>,
    /// When the endpoint stopped being ready and for how long (`localNextRetryTime` as a pair, so
    /// that a huge maximum duration cannot overflow an `Instant`).
    not_ready_since: Option<Instant>,
    not_ready_for: Duration,
}

impl EndpointState {
    /// A new endpoint starts ACTIVE (`EndpointContext.localState = ST_ACTIVE`).
    pub fn new(policy: SuspensionPolicy) -> Self {
        EndpointState {
            policy,
            status: EndpointStatus::Active,
            remaining_retries: None,
            last_suspend_duration_ms: None,
            not_ready_since: None,
            not_ready_for: Duration::ZERO,
        }
    }

    /// The policy this state follows.
    pub fn policy(&self) -> &SuspensionPolicy {
        &self.policy
    }

    /// The current state.
    pub fn state(&self) -> EndpointStatus {
        self.status
    }

    /// `EndpointContext.readyToSend`: ACTIVE is ready, OFF never is, TIMEOUT and SUSPENDED are
    /// ready once `now` reaches the next retry time. Being ready again does not change the state:
    /// the send that follows is the probe, and only its success makes the endpoint ACTIVE. Synapse
    /// does not limit this to a single probe: every send after the retry time goes through.
    pub fn is_ready(&self, now: Instant) -> bool {
        match self.status {
            EndpointStatus::Active => true,
            EndpointStatus::Off => false,
            EndpointStatus::Timeout | EndpointStatus::Suspended => match self.not_ready_since {
                Some(since) => now.saturating_duration_since(since) >= self.not_ready_for,
                None => true,
            },
        }
    }

    /// [`EndpointState::is_ready`] at this instant, reading the clock only for an endpoint that
    /// waits for its retry time (an ACTIVE one, on every request, needs no time: issue 22).
    pub fn is_ready_now(&self) -> bool {
        match self.status {
            EndpointStatus::Active => true,
            EndpointStatus::Off => false,
            EndpointStatus::Timeout | EndpointStatus::Suspended => self.is_ready(Instant::now()),
        }
    }

    /// When a TIMEOUT or SUSPENDED endpoint becomes ready again; `None` when ACTIVE or OFF, or when
    /// the time is beyond what `Instant` can hold (a maximum duration near `Long.MAX_VALUE`).
    pub fn next_retry_at(&self) -> Option<Instant> {
        match self.status {
            EndpointStatus::Timeout | EndpointStatus::Suspended => {
                self.not_ready_since?.checked_add(self.not_ready_for)
            }
            EndpointStatus::Active | EndpointStatus::Off => None,
        }
    }

    /// The length of the current (or last) suspension, if the endpoint was suspended since it was
    /// last ACTIVE.
    pub fn current_suspend_duration(&self) -> Option<Duration> {
        self.last_suspend_duration_ms.map(Duration::from_millis)
    }

    /// Timeout retries left before the next timeout error suspends the endpoint.
    pub fn remaining_retries(&self) -> u32 {
        self.remaining_retries
            .unwrap_or(self.policy.retries_before_suspension)
    }

    /// `EndpointContext.onSuccess`: a TIMEOUT or SUSPENDED endpoint becomes ACTIVE and its retry
    /// count and suspension length are reset; ACTIVE and OFF stay as they are.
    pub fn on_success(&mut self) {
        if matches!(
            self.status,
            EndpointStatus::Timeout | EndpointStatus::Suspended
        ) {
            self.become_active();
        }
    }

    /// A send to the endpoint failed with the Synapse `error_code` (`AddressEndpoint.onFault`):
    /// a timeout error is checked first (`isTimeout` -> `onTimeout`), then a suspend error
    /// (`isSuspendFault` -> `onFault`); an error in neither list changes nothing. This applies in
    /// every state but OFF, also while TIMEOUT or SUSPENDED (a failed probe, or a request that was
    /// in flight): a suspend error then suspends again for the previous duration times the
    /// progression factor, counted from `now`.
    pub fn on_failure(&mut self, error_code: i32, now: Instant) -> FailureClass {
        if self.status == EndpointStatus::Off {
            // `EndpointContext.setState`: "The isSwitchOff flag ... is maintained until the
            // endpoint is activated."
            return FailureClass::Off;
        }
        if self.policy.is_timeout_error(error_code) {
            self.enter_timeout(now);
            FailureClass::Timeout
        } else if self.policy.is_suspend_error(error_code) {
            self.enter_suspended(now);
            FailureClass::Suspend
        } else {
            FailureClass::Ignored
        }
    }

    /// `EndpointContext.switchOff`: manual maintenance mode; counters are reset.
    pub fn switch_off(&mut self) {
        self.status = EndpointStatus::Off;
        self.remaining_retries = Some(self.policy.retries_before_suspension);
        self.last_suspend_duration_ms = None;
        self.not_ready_since = None;
    }

    /// `EndpointContext.switchOn`: back to ACTIVE from any state.
    pub fn switch_on(&mut self) {
        self.become_active();
    }

    fn become_active(&mut self) {
        self.status = EndpointStatus::Active;
        self.remaining_retries = Some(self.policy.retries_before_suspension);
        self.last_suspend_duration_ms = None;
        self.not_ready_since = None;
        self.not_ready_for = Duration::ZERO;
    }

    /// `setState(ST_TIMEOUT)`: spend one retry, or suspend when none remain.
    fn enter_timeout(&mut self, now: Instant) {
        let retries = self.remaining_retries();
        if retries == 0 {
            self.enter_suspended(now);
            return;
        }
        self.status = EndpointStatus::Timeout;
        self.remaining_retries = Some(retries - 1);
        self.not_ready_since = Some(now);
        self.not_ready_for = Duration::from_millis(self.policy.retry_delay_ms);
    }

    /// `setState(ST_SUSPENDED)` -> `computeNextRetryTimeForSuspended`.
    fn enter_suspended(&mut self, now: Instant) {
        let duration_ms = self.next_suspend_duration_ms();
        self.status = EndpointStatus::Suspended;
        self.last_suspend_duration_ms = Some(duration_ms);
        self.not_ready_since = Some(now);
        self.not_ready_for = Duration::from_millis(duration_ms);
    }

    /// The first suspension lasts the initial duration, each further one the last times the
    /// progression factor; the result is capped at the maximum, and a negative result (an unset
    /// initial duration) becomes 30 s. The order matters and is Synapse's: the cap is applied
    /// before the 30 s fallback, so an unset initial duration gives 30 s even when the maximum is
    /// lower.
    fn next_suspend_duration_ms(&self) -> u64 {
        let maximum = i64::try_from(self.policy.maximum_duration_ms).unwrap_or(i64::MAX);
        let next: i64 = match self.last_suspend_duration_ms {
            Some(last) if last > 0 => {
                // Java: `(long) (lastSuspendDuration * suspendProgressionFactor)` is a float
                // product cast back with saturation; Rust's `as` saturates the same way.
                (last as f32 * self.policy.progression_factor) as i64
            }
            _ => match self.policy.initial_duration_ms {
                Some(initial) => i64::try_from(initial).unwrap_or(i64::MAX),
                None => -1,
            },
        };
        if next > maximum {
            maximum.max(0) as u64
        } else if next < 0 {
            DEFAULT_ENDPOINT_SUSPEND_TIME_MS
        } else {
            next as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    /// One step of a scenario: what happens at `at` after the start, and what must hold after it.
    enum Step {
        Fail(i32),
        Succeed,
        /// Expect `is_ready` at that time.
        Ready(bool),
    }

    struct Case {
        name: &'static str,
        policy: SuspensionPolicy,
        steps: Vec<(Duration, Step, EndpointStatus)>,
    }

    fn run(case: Case) {
        let base = Instant::now();
        let mut endpoint = EndpointState::new(case.policy);
        for (index, (at, step, expected)) in case.steps.into_iter().enumerate() {
            let now = base + at;
            match step {
                Step::Fail(code) => {
                    endpoint.on_failure(code, now);
                }
                Step::Succeed => endpoint.on_success(),
                Step::Ready(ready) => assert_eq!(
                    endpoint.is_ready(now),
                    ready,
                    "{}: step {index}: is_ready at {at:?}",
                    case.name
                ),
            }
            assert_eq!(
                endpoint.state(),
                expected,
                "{}: step {index}: state",
                case.name
            );
        }
    }

    use EndpointStatus::{Active, Off, Suspended, Timeout};

    // Rules from EndpointContext.java, AbstractEndpoint.java and EndpointDefinition.java.
    #[test]
    fn endpoint_context_transitions_table() {
        let cases = vec![
            Case {
                // AbstractEndpoint.isSuspendFault: empty suspend codes = every error suspends;
                // EndpointContext.computeNextRetryTimeForSuspended: unset initial -> 30 000 ms.
                name: "default policy: any error suspends for 30 s, then a probe is allowed",
                policy: SuspensionPolicy::default(),
                steps: vec![
                    (ms(0), Step::Ready(true), Active),
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(29_999), Step::Ready(false), Suspended),
                    (ms(30_000), Step::Ready(true), Suspended),
                    (ms(30_001), Step::Succeed, Active),
                    (ms(30_001), Step::Ready(true), Active),
                ],
            },
            Case {
                // isTimeout default codes 101504/101505; retriesBeforeSuspension default 0 ->
                // setState(ST_TIMEOUT) with retries <= 0 goes straight to ST_SUSPENDED.
                name: "default policy: a timeout with no retries suspends at once",
                policy: SuspensionPolicy::default(),
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Suspended),
                    (ms(29_999), Step::Ready(false), Suspended),
                    (ms(30_000), Step::Ready(true), Suspended),
                ],
            },
            Case {
                // setState(ST_TIMEOUT): retries -1 -> definition's; > 0 -> decrement and wait
                // retryDurationOnTimeout; readyToSend true after it without a state change.
                name: "timeout retries then suspension",
                policy: SuspensionPolicy {
                    retries_before_suspension: 2,
                    retry_delay_ms: 1_000,
                    initial_duration_ms: Some(5_000),
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_CLOSED), Timeout),
                    (ms(999), Step::Ready(false), Timeout),
                    (ms(1_000), Step::Ready(true), Timeout),
                    (ms(1_000), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Timeout),
                    (ms(2_000), Step::Ready(true), Timeout),
                    (ms(2_000), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Suspended),
                    (ms(6_999), Step::Ready(false), Suspended),
                    (ms(7_000), Step::Ready(true), Suspended),
                ],
            },
            Case {
                // onSuccess from TIMEOUT -> setState(ST_ACTIVE) resets remaining retries.
                name: "success while in timeout resets the retry count",
                policy: SuspensionPolicy {
                    retries_before_suspension: 1,
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Timeout),
                    (ms(0), Step::Succeed, Active),
                    (ms(1), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Timeout),
                    (ms(2), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Suspended),
                ],
            },
            Case {
                // computeNextRetryTimeForSuspended: last * factor, capped at maximum; the
                // duration is counted from the failure that (re)suspends.
                name: "progression factor and maximum duration",
                policy: SuspensionPolicy {
                    initial_duration_ms: Some(1_000),
                    progression_factor: 2.0,
                    maximum_duration_ms: 3_000,
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(999), Step::Ready(false), Suspended),
                    (ms(1_000), Step::Ready(true), Suspended),
                    // the probe fails: 1 000 * 2 = 2 000 ms from now
                    (ms(1_000), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(2_999), Step::Ready(false), Suspended),
                    (ms(3_000), Step::Ready(true), Suspended),
                    // 2 000 * 2 = 4 000, capped at 3 000
                    (ms(3_000), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(5_999), Step::Ready(false), Suspended),
                    (ms(6_000), Step::Ready(true), Suspended),
                    (ms(6_000), Step::Succeed, Active),
                    // onSuccess reset localLastSuspendDuration: back to the initial 1 000
                    (ms(7_000), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(7_999), Step::Ready(false), Suspended),
                    (ms(8_000), Step::Ready(true), Suspended),
                ],
            },
            Case {
                // A failure while suspended re-suspends from `now`, even before the retry time.
                name: "failure of an in-flight request while suspended extends the suspension",
                policy: SuspensionPolicy {
                    initial_duration_ms: Some(1_000),
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(SND_IO_ERROR_SENDING), Suspended),
                    (ms(500), Step::Fail(SND_IO_ERROR_SENDING), Suspended),
                    (ms(1_499), Step::Ready(false), Suspended),
                    (ms(1_500), Step::Ready(true), Suspended),
                ],
            },
            Case {
                // isSuspendFault with explicit codes: others are "non-fatal", no state change.
                name: "explicit suspend codes ignore other errors",
                policy: SuspensionPolicy {
                    suspend_error_codes: vec![NHTTP_CONNECTION_FAILED],
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_PROTOCOL_VIOLATION), Active),
                    (ms(0), Step::Ready(true), Active),
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                ],
            },
            Case {
                // -1 matches no real error; but isTimeout's default codes still apply, and with
                // 0 retries a 101504 suspends (EndpointContext.setState(ST_TIMEOUT)).
                name: "suspend codes -1 alone: other errors never suspend, timeouts still do",
                policy: SuspensionPolicy {
                    suspend_error_codes: vec![NEVER_MATCHING_ERROR_CODE],
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Active),
                    (ms(0), Step::Fail(SND_IO_ERROR_SENDING), Active),
                    (ms(0), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Suspended),
                ],
            },
            Case {
                name: "both lists -1: the endpoint never leaves ACTIVE",
                policy: SuspensionPolicy {
                    suspend_error_codes: vec![NEVER_MATCHING_ERROR_CODE],
                    timeout_error_codes: vec![NEVER_MATCHING_ERROR_CODE],
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Active),
                    (ms(0), Step::Fail(NHTTP_CONNECTION_CLOSED), Active),
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Active),
                    (ms(0), Step::Fail(NHTTP_CONNECT_TIMEOUT), Active),
                    (ms(0), Step::Ready(true), Active),
                ],
            },
            Case {
                // isTimeout is checked before isSuspendFault in AddressEndpoint.onFault.
                name: "explicit timeout codes replace the defaults and win over suspend codes",
                policy: SuspensionPolicy {
                    timeout_error_codes: vec![NHTTP_CONNECT_TIMEOUT],
                    suspend_error_codes: vec![NHTTP_CONNECT_TIMEOUT, NHTTP_CONNECTION_TIMEOUT],
                    retries_before_suspension: 1,
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECT_TIMEOUT), Timeout),
                    (ms(0), Step::Ready(true), Timeout),
                    (ms(0), Step::Succeed, Active),
                    // 101504 is no longer a timeout code here, but it is a suspend code
                    (ms(0), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Suspended),
                ],
            },
            Case {
                // A suspend error while in TIMEOUT suspends directly.
                name: "a suspend error in timeout state suspends",
                policy: SuspensionPolicy {
                    retries_before_suspension: 3,
                    retry_delay_ms: 100,
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_TIMEOUT), Timeout),
                    (ms(100), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(30_099), Step::Ready(false), Suspended),
                    (ms(30_100), Step::Ready(true), Suspended),
                ],
            },
            Case {
                // computeNextRetryTimeForSuspended: the cap is applied before the `< 0 -> 30 s`
                // fallback, so an unset initial duration ignores a lower maximum.
                name: "unset initial duration gives 30 s even with a lower maximum",
                policy: SuspensionPolicy {
                    maximum_duration_ms: 10_000,
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(29_999), Step::Ready(false), Suspended),
                    (ms(30_000), Step::Ready(true), Suspended),
                    // the next one is 30 000 * 1 = 30 000 > 10 000: capped
                    (ms(30_000), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(39_999), Step::Ready(false), Suspended),
                    (ms(40_000), Step::Ready(true), Suspended),
                ],
            },
            Case {
                // initialDuration 0: suspended but immediately ready; localLastSuspendDuration
                // stays 0, so the next suspension is "not yet suspended" again.
                name: "initial duration 0 suspends for no time",
                policy: SuspensionPolicy {
                    initial_duration_ms: Some(0),
                    progression_factor: 2.0,
                    ..SuspensionPolicy::default()
                },
                steps: vec![
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(0), Step::Ready(true), Suspended),
                    (ms(0), Step::Fail(NHTTP_CONNECTION_FAILED), Suspended),
                    (ms(0), Step::Ready(true), Suspended),
                ],
            },
        ];
        for case in cases {
            run(case);
        }
    }

    #[test]
    fn timeout_while_suspended_after_exhausted_retries_suspends_longer() {
        // After retries ran out (localRemainingRetries = 0) a timeout error while SUSPENDED goes
        // through setState(ST_TIMEOUT) -> retries <= 0 -> SUSPENDED with the progression.
        let base = Instant::now();
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            initial_duration_ms: Some(1_000),
            progression_factor: 3.0,
            ..SuspensionPolicy::default()
        });
        assert_eq!(
            endpoint.on_failure(NHTTP_CONNECTION_TIMEOUT, base),
            FailureClass::Timeout
        );
        assert_eq!(endpoint.current_suspend_duration(), Some(SEC));
        endpoint.on_failure(NHTTP_CONNECTION_TIMEOUT, base + SEC);
        assert_eq!(endpoint.current_suspend_duration(), Some(3 * SEC));
        assert_eq!(endpoint.next_retry_at(), Some(base + 4 * SEC));
    }

    /// `is_ready_now` answers as `is_ready` at the present instant in every state.
    #[test]
    fn ready_now_is_ready_at_the_present_instant() {
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            initial_duration_ms: Some(3_600_000),
            ..SuspensionPolicy::default()
        });
        assert!(endpoint.is_ready_now());
        endpoint.on_failure(NHTTP_CONNECTION_FAILED, Instant::now());
        assert_eq!(endpoint.state(), Suspended);
        assert!(!endpoint.is_ready_now());
        assert_eq!(endpoint.is_ready_now(), endpoint.is_ready(Instant::now()));
        // Suspended a day ago (when the clock goes back that far: it may count from boot).
        if let Some(day_ago) = Instant::now().checked_sub(Duration::from_secs(86_400)) {
            let mut waited = EndpointState::new(SuspensionPolicy::default());
            waited.on_failure(NHTTP_CONNECTION_FAILED, day_ago);
            assert!(waited.is_ready_now());
        }
        endpoint.switch_off();
        assert!(!endpoint.is_ready_now());
    }

    #[test]
    fn timeout_while_suspended_with_retries_left_moves_to_timeout() {
        // Synapse quirk kept on purpose: a suspension caused by a suspend error leaves the retry
        // counter untouched, so a later timeout error in SUSPENDED enters TIMEOUT with its
        // (shorter) retry delay.
        let base = Instant::now();
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            retries_before_suspension: 1,
            retry_delay_ms: 10,
            ..SuspensionPolicy::default()
        });
        endpoint.on_failure(NHTTP_CONNECTION_FAILED, base);
        assert_eq!(endpoint.state(), Suspended);
        endpoint.on_failure(NHTTP_CONNECTION_TIMEOUT, base);
        assert_eq!(endpoint.state(), Timeout);
        assert!(endpoint.is_ready(base + ms(10)));
        assert_eq!(endpoint.remaining_retries(), 0);
    }

    #[test]
    fn off_is_left_only_by_switch_on() {
        // EndpointContext: readyToSend is false in ST_OFF; onSuccess leaves ST_OFF alone.
        let base = Instant::now();
        let mut endpoint = EndpointState::new(SuspensionPolicy::default());
        endpoint.switch_off();
        assert_eq!(endpoint.state(), Off);
        assert!(!endpoint.is_ready(base + Duration::from_secs(3_600)));
        endpoint.on_success();
        assert_eq!(endpoint.state(), Off);
        assert_eq!(
            endpoint.on_failure(NHTTP_CONNECTION_FAILED, base),
            FailureClass::Off
        );
        assert_eq!(endpoint.state(), Off);
        assert_eq!(endpoint.next_retry_at(), None);
        endpoint.switch_on();
        assert_eq!(endpoint.state(), Active);
        assert!(endpoint.is_ready(base));
    }

    #[test]
    fn success_when_active_changes_nothing() {
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            retries_before_suspension: 2,
            ..SuspensionPolicy::default()
        });
        let base = Instant::now();
        endpoint.on_failure(NHTTP_CONNECTION_TIMEOUT, base);
        assert_eq!(endpoint.remaining_retries(), 1);
        endpoint.on_success();
        assert_eq!(endpoint.remaining_retries(), 2);
        assert_eq!(endpoint.current_suspend_duration(), None);
    }

    #[test]
    fn ignored_error_is_reported_as_such() {
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            suspend_error_codes: vec![NHTTP_CONNECTION_FAILED],
            ..SuspensionPolicy::default()
        });
        assert_eq!(
            endpoint.on_failure(NHTTP_RESPONSE_PROCESSING_FAILURE, Instant::now()),
            FailureClass::Ignored
        );
    }

    #[test]
    fn huge_durations_saturate_instead_of_overflowing() {
        // maximumDuration Long.MAX_VALUE and a factor that overflows a long: Java's float->long
        // cast saturates at Long.MAX_VALUE, and so does ours; `next_retry_at` is then None.
        let base = Instant::now();
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            initial_duration_ms: Some(u64::MAX),
            progression_factor: 1.0e30,
            ..SuspensionPolicy::default()
        });
        endpoint.on_failure(NHTTP_CONNECTION_FAILED, base);
        assert_eq!(
            endpoint.current_suspend_duration(),
            Some(ms(DEFAULT_MAXIMUM_DURATION_MS))
        );
        endpoint.on_failure(NHTTP_CONNECTION_FAILED, base);
        assert_eq!(
            endpoint.current_suspend_duration(),
            Some(ms(DEFAULT_MAXIMUM_DURATION_MS))
        );
        assert!(!endpoint.is_ready(base + Duration::from_secs(86_400 * 365 * 100)));
    }

    #[test]
    fn float_progression_matches_java() {
        // 1000 * 1.1f in float is 1100.0 (exactly representable); 1100 * 1.1f = 1210.0001 -> 1210.
        let base = Instant::now();
        let mut endpoint = EndpointState::new(SuspensionPolicy {
            initial_duration_ms: Some(1_000),
            progression_factor: 1.1,
            ..SuspensionPolicy::default()
        });
        let mut seen = Vec::new();
        for _ in 0..3 {
            endpoint.on_failure(NHTTP_CONNECTION_FAILED, base);
            seen.push(endpoint.current_suspend_duration().map(|d| d.as_millis()));
        }
        assert_eq!(seen, vec![Some(1_000), Some(1_100), Some(1_210)]);
    }

    #[test]
    fn mi_state_names() {
        assert_eq!(Active.as_mi_str(), "ACTIVE");
        assert_eq!(Timeout.as_mi_str(), "TIMEOUT");
        assert_eq!(Suspended.as_mi_str(), "SUSPENDED");
        assert_eq!(Off.as_mi_str(), "MAINTNENCE");
    }

    #[test]
    fn address_none_ready_code_is_303001() {
        assert_eq!(ENDPOINT_ADDRESS_NONE_READY, 303_001);
        assert_eq!(DEFAULT_TIMEOUT_ERROR_CODES, [101_504, 101_505]);
    }
}

/// Endpoint groups over these states: the choice of `conflux_mediation`'s `EndpointGroup` (SYN
/// `FailoverEndpoint`, `LoadbalanceEndpoint` + `RoundRobin`) driven by the children's suspension
/// states, with time passed in.
#[cfg(test)]
mod group_tests {
    use std::sync::Arc;

    use conflux_mediation::runtime::endpoint::{
        Endpoint, EndpointGroup, EndpointKind, GroupChild, GroupKind, SuspensionSettings,
        TimeoutAction,
    };

    use super::*;

    fn group(kind: GroupKind, n: usize) -> EndpointGroup {
        let children = (0..n)
            .map(|id| GroupChild {
                endpoint: Arc::new(Endpoint {
                    id,
                    name: Arc::from(format!("c{id}")),
                    kind: EndpointKind::Address {
                        uri: format!("http://b{id}/"),
                        format: None,
                        addressing: false,
                    },
                    timeout: None,
                    dynamic_timeout: None,
                    timeout_action: TimeoutAction::Never,
                    suspension: SuspensionSettings::default(),
                }),
                retry_disabled: Vec::new(),
                retry_enabled: Vec::new(),
                budget: 1,
            })
            .collect();
        EndpointGroup::new(kind, children, false)
    }

    /// Sends one message through `g`: `up[i]` says whether child i answers. Returns the children
    /// tried, in order, updating their states as the sender does.
    fn send(
        g: &EndpointGroup,
        states: &mut [EndpointState],
        up: &[bool],
        now: Instant,
    ) -> Vec<usize> {
        let mut tries = vec![0; states.len()];
        let mut order = Vec::new();
        while let Some(i) = g.choose(|i| states[i].is_ready(now), &tries) {
            tries[i] += 1;
            order.push(i);
            if up[i] {
                states[i].on_success();
                break;
            }
            states[i].on_failure(NHTTP_CONNECTION_FAILED, now);
            if !g.retries_after(i, NHTTP_CONNECTION_FAILED as u32) {
                break;
            }
        }
        order
    }

    fn states(n: usize, initial_ms: u64) -> Vec<EndpointState> {
        (0..n)
            .map(|_| {
                EndpointState::new(SuspensionPolicy {
                    initial_duration_ms: Some(initial_ms),
                    ..SuspensionPolicy::default()
                })
            })
            .collect()
    }

    #[test]
    fn failover_moves_on_while_the_primary_is_suspended_and_returns_after() {
        let g = group(GroupKind::Failover { dynamic: true }, 2);
        let mut s = states(2, 2_000);
        let t0 = Instant::now();
        // The primary is down: the message fails over to the backup; the primary is suspended.
        assert_eq!(send(&g, &mut s, &[false, true], t0), [0, 1]);
        // Within the 2 s suspension the backup is used directly, even with the primary back.
        assert_eq!(
            send(&g, &mut s, &[true, true], t0 + Duration::from_millis(1_999)),
            [1]
        );
        // After it, the primary is tried again and, answering, is ACTIVE.
        assert_eq!(
            send(&g, &mut s, &[true, true], t0 + Duration::from_millis(2_000)),
            [0]
        );
        assert_eq!(s[0].state(), EndpointStatus::Active);
        // Both down: each is tried once, then the message fails; then none is ready.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(send(&g, &mut s, &[false, false], t1), [0, 1]);
        assert!(send(&g, &mut s, &[true, true], t1 + Duration::from_millis(1)).is_empty());
    }

    #[test]
    fn round_robin_skips_a_suspended_child_until_its_suspension_ends() {
        let g = group(GroupKind::Loadbalance { failover: true }, 3);
        let mut s = states(3, 1_000);
        let t0 = Instant::now();
        let up = [true, false, true];
        let mut firsts = Vec::new();
        for k in 0..4 {
            firsts.push(send(&g, &mut s, &up, t0 + Duration::from_millis(k)));
        }
        // Child 1 fails once (the message fails over to 2) and is then left out of the rotation.
        assert_eq!(firsts, vec![vec![0], vec![1, 2], vec![0], vec![2]]);
        // Its suspension over and the backend back, it takes its turn again.
        let later = t0 + Duration::from_millis(1_500);
        let turns: Vec<_> = (0..3)
            .map(|_| send(&g, &mut s, &[true, true, true], later))
            .collect();
        assert_eq!(turns, vec![vec![0], vec![1], vec![2]]);
    }
}
