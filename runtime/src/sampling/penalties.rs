//! Repetition, frequency and presence penalties over the last tokens seen.

use std::collections::{HashMap, VecDeque};

/// The last `window` tokens and how often each occurs among them.
#[derive(Debug, Clone)]
pub(super) struct History {
    window: usize,
    last: VecDeque<u32>,
    counts: HashMap<u32, u32>,
}

impl History {
    pub(super) fn new(window: usize) -> History {
        History {
            window,
            last: VecDeque::with_capacity(window),
            counts: HashMap::new(),
        }
    }

    /// Records `id` as the newest token, forgetting the oldest one beyond the window.
    pub(super) fn push(&mut self, id: u32) {
        if self.window == 0 {
            return;
        }
        if self.last.len() == self.window {
            if let Some(old) = self.last.pop_front() {
                if let Some(c) = self.counts.get_mut(&old) {
                    *c -= 1;
                    if *c == 0 {
                        self.counts.remove(&old);
                    }
                }
            }
        }
        self.last.push_back(id);
        *self.counts.entry(id).or_insert(0) += 1;
    }

    pub(super) fn clear(&mut self) {
        self.last.clear();
        self.counts.clear();
    }

    /// Each distinct token of the window with its count.
    pub(super) fn counts(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.counts.iter().map(|(&id, &n)| (id, n))
    }
}

/// The penalty strengths (see [`super::SamplingParams`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Penalties {
    pub repeat: f32,
    pub frequency: f32,
    pub presence: f32,
}

impl Penalties {
    pub(super) fn is_noop(&self) -> bool {
        self.repeat == 1.0 && self.frequency == 0.0 && self.presence == 0.0
    }

    /// Penalizes, in place, the logit of every token of `history`.
    ///
    /// The repetition penalty divides a positive logit and multiplies a negative one: plain
    /// division (as first published) would make a repeated token with a negative logit
    /// *more* likely. Then `count × frequency + presence` is subtracted.
    pub(super) fn apply(&self, history: &History, logits: &mut [f32]) {
        if self.is_noop() {
            return;
        }
        for (id, count) in history.counts() {
            let Some(l) = logits.get_mut(id as usize) else {
                continue;
            };
            if *l <= 0.0 {
                *l *= self.repeat;
            } else {
                *l /= self.repeat;
            }
            *l -= count as f32 * self.frequency + self.presence;
        }
    }
}
