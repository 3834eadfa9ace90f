//! A time-ordered event queue: earliest cycle first, and events at the same cycle leave in
//! the order they were pushed (an insertion counter breaks ties), so runs are deterministic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Cycle;

/// Min-queue of `(Cycle, E)` with FIFO order among equal cycles.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(Cycle, u64, Slot<E>)>>,
    epoch: u64,
}

/// Wrapper that keeps `E` out of the ordering.
#[derive(Debug)]
struct Slot<E>(E);

impl<E> PartialEq for Slot<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Slot<E> {}
impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Slot<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self { heap: BinaryHeap::new(), epoch: 0 }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }
    /// Schedules `event` at `at`. Cost: O(log n).
    pub fn push(&mut self, at: Cycle, event: E) {
        self.heap.push(Reverse((at, self.epoch, Slot(event))));
        self.epoch += 1;
    }
    /// Removes the earliest event (the first pushed among equals). Cost: O(log n).
    pub fn pop(&mut self) -> Option<(Cycle, E)> {
        self.heap.pop().map(|Reverse((at, _, Slot(e)))| (at, e))
    }
    /// The earliest event's cycle. Cost: O(1).
    pub fn peek_time(&self) -> Option<Cycle> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }
    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_ties_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Cycle(5), "c");
        q.push(Cycle(1), "a");
        q.push(Cycle(5), "d");
        q.push(Cycle(1), "b");
        q.push(Cycle(5), "e");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(Cycle(1), "a"), (Cycle(1), "b"), (Cycle(5), "c"), (Cycle(5), "d"), (Cycle(5), "e")]);
    }
}
