//! Observers of reload events: called on the thread that made the change,
//! after it is published and with no lock of the table held, so that an
//! observer may use the table it observes (roll back a refused reload,
//! subscribe, reload another library). An observer that panics is removed;
//! the change it was told about stands, and the other observers still hear
//! of it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;
use super::report::ReloadEvent;

/// Told of every event; answers whether it still wants them.
pub(super) type Observer = dyn Fn(&ReloadEvent) -> bool + Send + Sync;

#[derive(Default)]
pub(super) struct Observers {
    list: Mutex<Vec<(u64, Arc<Observer>)>>,
    next_id: AtomicU64,
}

impl Observers {
    pub(super) fn add(&self, observer: Arc<Observer>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.list).push((id, observer));
    }

    /// Whether any observer is registered now.
    pub(super) fn any(&self) -> bool {
        !lock(&self.list).is_empty()
    }

    /// Tells every observer registered now of `event`. Observers added
    /// meanwhile (by an observer) hear of the next event.
    pub(super) fn notify(&self, event: &ReloadEvent) {
        let observers = lock(&self.list).clone();
        let mut leaving = Vec::new();
        for (id, observer) in observers {
            match catch_unwind(AssertUnwindSafe(|| observer(event))) {
                Ok(true) => {}
                Ok(false) => leaving.push(id),
                Err(payload) => {
                    log::error!(
                        "an observer of reload events panicked ({}) and was removed; the {} it was told of stands",
                        panic_message(&*payload),
                        event.kind
                    );
                    // A payload whose destructor panics must not unwind here.
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                    leaving.push(id);
                }
            }
        }
        if !leaving.is_empty() {
            lock(&self.list).retain(|(id, _)| !leaving.contains(id));
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a non-string payload"
    }
}
