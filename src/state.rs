//! Conversation state per user, forgotten after a period of silence.
//!
//! The engine is pure; whoever drives it (the console, `classify`, the runtime) keeps one
//! [`ConversationState`] per user here and passes it in. Time is given by the caller, so tests and
//! the stdio adapter's `tick` can move the clock.

use std::collections::HashMap;
use std::hash::Hash;

use crate::engine::ConversationState;

/// How long a conversation is remembered after its last message, by default (one hour).
pub const DEFAULT_TTL_SECS: i64 = 60 * 60;

/// Conversation states by user key, each forgotten `ttl_secs` after its last use.
#[derive(Debug, Clone)]
pub struct StateStore<K> {
    states: HashMap<K, (ConversationState, i64)>,
    ttl_secs: i64,
}

impl<K: Eq + Hash + Clone> StateStore<K> {
    /// An empty store that forgets a conversation `ttl_secs` after its last message.
    pub fn new(ttl_secs: i64) -> Self {
        StateStore {
            states: HashMap::new(),
            ttl_secs,
        }
    }

    /// The state for a user at time `now` (seconds); a fresh one when unknown or expired.
    pub fn get(&self, key: &K, now: i64) -> ConversationState {
        match self.states.get(key) {
            Some((state, seen)) if now - seen < self.ttl_secs => state.clone(),
            _ => ConversationState::default(),
        }
    }

    /// Stores a user's state as of `now`.
    pub fn put(&mut self, key: K, state: ConversationState, now: i64) {
        self.states.insert(key, (state, now));
    }

    /// Forgets one user.
    pub fn forget(&mut self, key: &K) {
        self.states.remove(key);
    }

    /// Drops every expired state; returns how many were dropped.
    pub fn expire(&mut self, now: i64) -> usize {
        let before = self.states.len();
        let ttl = self.ttl_secs;
        self.states.retain(|_, (_, seen)| now - *seen < ttl);
        before - self.states.len()
    }

    /// How many conversations are remembered.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_expires_after_ttl() {
        let mut store = StateStore::new(60);
        let state = ConversationState {
            country: Some("GB".into()),
            ..ConversationState::default()
        };
        store.put("u1", state.clone(), 1000);
        assert_eq!(store.get(&"u1", 1059), state);
        assert_eq!(store.get(&"u1", 1060), ConversationState::default());
        assert_eq!(store.expire(1060), 1);
        assert!(store.is_empty());
    }

    #[test]
    fn forget_removes_one_user() {
        let mut store = StateStore::new(60);
        store.put("a", ConversationState::default(), 0);
        store.put("b", ConversationState::default(), 0);
        store.forget(&"a");
        assert_eq!(store.len(), 1);
    }
}
