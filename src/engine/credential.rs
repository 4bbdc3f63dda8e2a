//! Everything the engine remembers about one credential on one partition.

use serde::{Deserialize, Serialize};

use super::dedupe::Dedupe;
use super::windows::OpenWindow;
use crate::rules::burst::BurstState;
use crate::rules::dormancy::Activity;
use crate::rules::ledger::Ledger;
use crate::rules::lifecycle::Lifecycle;
use crate::rules::scope::{OriginMemory, ScopeMemory};
use crate::rules::shared::SharedMemory;

/// The state of one credential. Its size does not grow with the credential's
/// call rate: the event ids it remembers beyond a few live in dedupe segments
/// of their own (see [`Dedupe`] and docs/architecture.md, "State").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredState {
    pub activity: Activity,
    pub dedupe: Dedupe,
    pub windows: Vec<OpenWindow>,
    pub burst: Vec<BurstState>,
    pub ledger: Option<Ledger>,
    pub scope: ScopeMemory,
    pub lifecycle: Lifecycle,
    /// Where and by whom the key is used: the memories of the principal and
    /// network scope rules and of `credential.shared`, boxed and created by
    /// the rule that first needs one (most credentials never do, and the slab
    /// stays dense). Not part of the serialised struct: the changelog writes
    /// them after it (`engine::changelog`), so a record of the first format
    /// reads with none.
    #[serde(skip)]
    pub origin: Option<Box<OriginMemory>>,
    #[serde(skip)]
    pub shared: Option<Box<SharedMemory>>,
}

impl CredState {
    /// The heap blocks an event is likely to touch (start and length in
    /// bytes) that the slot points to, for a prefetch hint.
    pub fn heap_parts(&self) -> impl Iterator<Item = HeapPart> + '_ {
        let (capabilities, models) = self.scope.remembered();
        [
            HeapPart::of(&self.burst),
            HeapPart::of(&self.windows),
            self.ledger.as_ref().and_then(|l| HeapPart::of(&l.grants)),
            self.dedupe.heap_part(),
            HeapPart::of(capabilities),
            HeapPart::of(models),
        ]
        .into_iter()
        .flatten()
    }

    /// The blocks one step further: each burst rule's slices (read through
    /// the block of burst states, so best prefetched once that is loaded).
    pub fn slice_parts(&self) -> impl Iterator<Item = HeapPart> + '_ {
        self.burst.iter().filter_map(|b| HeapPart::of(b.slices()))
    }
}

/// A heap block of a credential's state: where it starts and its length in
/// bytes (a prefetch hint only; never read through).
#[derive(Debug, Clone, Copy)]
pub struct HeapPart(pub *const u8, pub usize);

impl HeapPart {
    /// The elements of a non-empty slice.
    pub fn of<T>(items: &[T]) -> Option<HeapPart> {
        (!items.is_empty()).then(|| HeapPart(items.as_ptr() as *const u8, std::mem::size_of_val(items)))
    }
}
