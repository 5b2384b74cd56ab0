//! The delivery task: hands outbox rows to adapters, in order, and marks each delivered only when
//! its adapter confirms. A failed send is retried with back-off; a restart resumes what is pending.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tracing::{debug, warn};
use waymark_port::{Action, Capabilities, Delivery, Platform};

use super::Clock;
use super::store::{OutboxItem, Store, StoreError};

/// How long an adapter may take to confirm one delivery before it counts as failed.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// A running adapter, as the delivery task sees it.
#[derive(Debug, Clone)]
pub struct AdapterHandle {
    /// Its platform name.
    pub platform: String,
    /// What it can do.
    pub capabilities: Capabilities,
    /// Where to send deliveries; each comes with a channel for the confirmation.
    pub jobs: mpsc::Sender<(Delivery, oneshot::Sender<Result<(), String>>)>,
}

/// Test hook: abort the process (as `kill -9` would) right after this many deliveries have been
/// confirmed and marked, to prove that a crash mid-delivery loses nothing. Read from
/// `WAYMARK_FAULT_ABORT_AFTER`; never set in production.
fn abort_after() -> Option<u64> {
    std::env::var("WAYMARK_FAULT_ABORT_AFTER")
        .ok()
        .and_then(|v| v.parse().ok())
}

/// Delivers until `shutdown` turns true, then makes one last pass and returns. `moderator_rooms`
/// are `(platform, conversation)` pairs: notices there are delivered at least once.
pub async fn run(
    moderator_rooms: Vec<(String, String)>,
    store: Store,
    adapters: Vec<AdapterHandle>,
    clock: Arc<Clock>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut delivered = 0u64;
    let limit = abort_after();
    let mut warned: HashSet<String> = HashSet::new();
    // The connection is used only between awaits; the mutex makes that visible to the compiler.
    let store = Mutex::new(store);
    loop {
        // Seen before the pass, so that a shutdown during it still gets one more, final pass.
        let stopping = *shutdown.borrow();
        pass(
            &moderator_rooms,
            &store,
            &adapters,
            &clock,
            &mut delivered,
            limit,
            &mut warned,
        )
        .await;
        if stopping {
            return;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Delivers everything that is due now, in outbox order.
async fn pass(
    moderator_rooms: &[(String, String)],
    store: &Mutex<Store>,
    adapters: &[AdapterHandle],
    clock: &Clock,
    delivered: &mut u64,
    limit: Option<u64>,
    warned: &mut HashSet<String>,
) {
    loop {
        let due = match with(store, |s| s.due_outbox(clock.now(), 200)) {
            Ok(due) => due,
            Err(e) => {
                warn!(error = %e, "reading the outbox failed; will retry");
                return;
            }
        };
        if due.is_empty() {
            return;
        }
        let mut progressed = false;
        for item in due {
            // Adapters that cannot de-duplicate get the row marked delivered before the hand-over:
            // a crash can then lose a message only in the instant of the write itself, and never
            // show it twice. Idempotent adapters are marked after they confirm (at least once).
            let early = marks_early(&item, adapters, moderator_rooms);
            if early && let Err(e) = with(store, |s| s.mark_delivered(item.id, clock.now())) {
                warn!(error = %e, "recording a delivery failed; will retry");
                return;
            }
            match deliver(&item, adapters).await {
                Outcome::Delivered => {
                    if !early
                        && let Err(e) = with(store, |s| s.mark_delivered(item.id, clock.now()))
                    {
                        // Not recorded: stop this pass rather than send the same row again now.
                        warn!(error = %e, "recording a delivery failed; it may be sent again later");
                        return;
                    }
                    progressed = true;
                    *delivered += 1;
                    if limit.is_some_and(|n| *delivered >= n) {
                        std::process::abort();
                    }
                }
                Outcome::Failed(error) => {
                    debug!(
                        row = item.id,
                        attempts = item.attempts + 1,
                        "delivery failed; backing off"
                    );
                    if let Err(e) = with(store, |s| s.mark_failed(item.id, clock.now(), &error)) {
                        warn!(error = %e, "recording a failed delivery failed");
                    }
                }
                Outcome::NoAdapter => {
                    if warned.insert(item.platform.clone()) {
                        super::warn_no_adapter(&item.platform);
                    }
                }
            }
        }
        if !progressed {
            return;
        }
    }
}

/// Runs a store call under the lock (never held across an await).
fn with<T>(
    store: &Mutex<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match store.lock() {
        Ok(guard) => f(&guard),
        Err(poisoned) => f(&poisoned.into_inner()),
    }
}

/// Whether a row is recorded as delivered before it is handed over: a message for a young person
/// (privately or in their room) going only to adapters without idempotent sends. A crash can then
/// never show it twice; it could lose it only in the instant between the record and the write.
/// Notices to moderators' rooms and case events are recorded after the adapter confirms: a crash
/// may repeat one, never lose it.
fn marks_early(
    item: &OutboxItem,
    adapters: &[AdapterHandle],
    moderator_rooms: &[(String, String)],
) -> bool {
    let to_user = match &item.action {
        Action::SendDirect { .. } => true,
        Action::Send { conversation, .. } => !moderator_rooms
            .iter()
            .any(|(p, c)| *p == item.platform && *c == conversation.0),
        Action::Case(_) | Action::Delete { .. } => false,
    };
    if !to_user {
        return false;
    }
    let is_event = matches!(item.action, Action::Case(_));
    let mut targets = adapters
        .iter()
        .filter(|a| {
            if is_event {
                a.capabilities.case_events
            } else {
                a.platform == item.platform
            }
        })
        .peekable();
    targets.peek().is_some() && targets.all(|a| !a.capabilities.idempotent_sends)
}

enum Outcome {
    Delivered,
    Failed(String),
    NoAdapter,
}

async fn deliver(item: &OutboxItem, adapters: &[AdapterHandle]) -> Outcome {
    let is_event = matches!(item.action, Action::Case(_));
    let is_delete = matches!(item.action, Action::Delete { .. });
    let targets: Vec<&AdapterHandle> = adapters
        .iter()
        .filter(|a| {
            if is_event {
                a.capabilities.case_events
            } else {
                a.platform == item.platform
            }
        })
        .collect();
    if targets.is_empty() {
        // Nobody shows case events: nothing to deliver. A message for a missing adapter waits.
        return if is_event {
            Outcome::Delivered
        } else {
            Outcome::NoAdapter
        };
    }
    if is_delete && targets.iter().all(|a| !a.capabilities.delete_messages) {
        // This adapter is not set to delete disclosing messages: nothing to do.
        return Outcome::Delivered;
    }
    for adapter in targets {
        let (ack, confirmed) = oneshot::channel();
        let delivery = Delivery {
            key: item.key.clone(),
            platform: Platform(adapter.platform.clone()),
            action: item.action.clone(),
        };
        if adapter.jobs.send((delivery, ack)).await.is_err() {
            return Outcome::Failed(format!("adapter {} has stopped", adapter.platform));
        }
        match tokio::time::timeout(ACK_TIMEOUT, confirmed).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Outcome::Failed(e),
            Ok(Err(_)) => {
                return Outcome::Failed(format!(
                    "adapter {} dropped the delivery",
                    adapter.platform
                ));
            }
            Err(_) => {
                return Outcome::Failed(format!(
                    "adapter {} did not confirm in time",
                    adapter.platform
                ));
            }
        }
    }
    Outcome::Delivered
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_port::{ConversationId, MessageId};

    type Jobs = mpsc::Receiver<(Delivery, oneshot::Sender<Result<(), String>>)>;

    fn handle(deletes: bool) -> (AdapterHandle, Jobs) {
        let (jobs, rx) = mpsc::channel(4);
        let capabilities = Capabilities {
            delete_messages: deletes,
            idempotent_sends: true,
            ..Capabilities::default()
        };
        let handle = AdapterHandle {
            platform: "discord".into(),
            capabilities,
            jobs,
        };
        (handle, rx)
    }

    fn delete_item() -> OutboxItem {
        OutboxItem {
            id: 1,
            key: "wm-k".into(),
            platform: "discord".into(),
            action: Action::Delete {
                conversation: ConversationId("c".into()),
                message: MessageId("m".into()),
            },
            attempts: 0,
        }
    }

    #[tokio::test]
    async fn a_delete_reaches_only_an_adapter_set_to_delete() {
        let (off, mut off_jobs) = handle(false);
        assert!(matches!(
            deliver(&delete_item(), &[off]).await,
            Outcome::Delivered
        ));
        assert!(
            off_jobs.try_recv().is_err(),
            "handed to an adapter set not to delete"
        );

        let (on, mut on_jobs) = handle(true);
        let confirm = tokio::spawn(async move {
            let (delivery, ack) = on_jobs.recv().await.expect("handed over");
            let _ = ack.send(Err("Discord is down".into()));
            delivery
        });
        let outcome = deliver(&delete_item(), &[on]).await;
        let delivery = confirm.await.expect("join");
        assert_eq!(delivery.action, delete_item().action);
        assert!(
            matches!(outcome, Outcome::Failed(_)),
            "a failed delete is retried"
        );
    }
}
