//! The changelog: a partition's state as records of a compacted topic,
//! co-partitioned with the usage topic. This module alone owns the record
//! layout and its compact, versioned binary encoding (postcard); see
//! docs/architecture.md, "State".
//!
//! Records (keys start with a byte that never starts UTF-8 text, so they
//! never collide with a credential id):
//! - partition record `[0xF5]`: watermark, month, last input offset, batch;
//! - credential record `[0xF6, slot] + credential`: everything the engine
//!   keeps for the credential except most of its event ids. Each credential
//!   alternates between two slots, so the version of the last durable batch
//!   is never overwritten by a batch that may not complete;
//! - dedupe segment `[0xF7, seq (u32 BE)] + credential`: up to
//!   `SEGMENT_IDS` event ids, written once, deleted when all are forgotten.
//!
//! Every value is `[FORMAT, batch (u64 LE)] + postcard`; a credential record
//! of format 2 is the format-1 state followed by its origin memory (the
//! principal and network rules), so a format-1 record still restores, with
//! an empty origin. A batch writes its
//! deletions, new segments and credential records, then the partition record
//! last: a restore takes, for each credential, the newest slot written by a
//! batch no later than the partition record's, so the state is exactly the
//! state after that batch whatever part of a later batch reached the topic;
//! input records up to the partition record's offset are then skipped.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::credential::CredState;
use super::dedupe::IdEntry;
use super::partition::PartitionState;

/// Version of the value encoding written.
pub const FORMAT: u8 = 2;
/// The first format: credential records without the origin memory.
const FORMAT_1: u8 = 1;
const TAG_META: u8 = 0xF5;
const TAG_CRED: u8 = 0xF6;
const TAG_SEGMENT: u8 = 0xF7;
/// Key of the partition record of the JSON changelog of bursar 0.1.
const OLD_META_KEY: &[u8] = b"\xffpartition";

/// One record to produce to the changelog partition; `value` None is a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogRecord {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// Why a changelog partition could not be restored. Not retryable: the
/// topic holds records this version cannot read.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    #[error("changelog partition {partition} holds state written by an older bursar (JSON records); reset the state (recreate the changelog topic and the group's offsets) or replay the history into new topics (docs/semantics.md, \"Live processing\")")]
    OldFormat { partition: i32 },
    #[error("changelog partition {partition} has a record with an unknown key (first byte {first:#04x}); is topics.changelog the changelog of this bursar?")]
    UnknownKey { partition: i32, first: u8 },
    #[error("changelog partition {partition} has a record in format {found}, this bursar reads formats 1 to {FORMAT}")]
    Format { partition: i32, found: u8 },
    #[error("changelog partition {partition} has a record that does not decode ({what}): {source}")]
    Decode { partition: i32, what: &'static str, source: postcard::Error },
}

fn cred_key(slot: u8, cred: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + cred.len());
    k.extend_from_slice(&[TAG_CRED, slot]);
    k.extend_from_slice(cred.as_bytes());
    k
}

fn segment_key(seq: u32, cred: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(5 + cred.len());
    k.push(TAG_SEGMENT);
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(cred.as_bytes());
    k
}

fn value<T: serde::Serialize>(batch: u64, payload: &T) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.push(FORMAT);
    v.extend_from_slice(&batch.to_le_bytes());
    // Serialising plain data into a Vec cannot fail.
    postcard::to_extend(payload, v).expect("state serialises")
}

/// (batch, payload) of a value.
fn split(partition: i32, v: &[u8]) -> Result<(u64, &[u8]), ChangelogError> {
    match v {
        [FORMAT_1 | FORMAT, rest @ ..] if rest.len() >= 8 => {
            let (b, payload) = rest.split_at(8);
            Ok((u64::from_le_bytes(b.try_into().unwrap_or([0; 8])), payload))
        }
        [found, ..] => Err(ChangelogError::Format { partition, found: *found }),
        [] => Err(ChangelogError::Format { partition, found: 0 }),
    }
}

fn decode<'a, T: serde::Deserialize<'a>>(partition: i32, what: &'static str, bytes: &'a [u8]) -> Result<T, ChangelogError> {
    postcard::from_bytes(bytes).map_err(|source| ChangelogError::Decode { partition, what, source })
}

/// A credential record's state: format 1 has no origin memory after it.
fn decode_state(partition: i32, format: u8, payload: &[u8]) -> Result<CredState, ChangelogError> {
    let what = "credential record";
    let (mut state, rest): (CredState, &[u8]) = postcard::take_from_bytes(payload).map_err(|source| ChangelogError::Decode { partition, what, source })?;
    if format != FORMAT_1 {
        (state.origin, state.shared) = decode(partition, what, rest)?;
    }
    Ok(state)
}

impl PartitionState {
    /// The records of one changelog batch: what changed since the last call.
    /// Deletions first, then new dedupe segments and credential records, the
    /// partition record last.
    pub fn snapshot(&mut self) -> Vec<ChangelogRecord> {
        let batch = self.meta.batch + 1;
        let mut records: Vec<ChangelogRecord> = self.pending_deletes.drain(..).map(|key| ChangelogRecord { key, value: None }).collect();
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable_by(|a, b| self.creds[*a as usize].name.cmp(&self.creds[*b as usize].name));
        for id in dirty {
            let cred = &mut self.creds[id as usize];
            cred.dirty = false;
            for (seq, ids) in cred.state.dedupe.take_new_segments() {
                records.push(ChangelogRecord { key: segment_key(seq, &cred.name), value: Some(value(batch, &ids)) });
            }
            // Deleted only once this batch is durable: until then a restore may
            // need the previous version, which still lists these segments.
            for seq in cred.state.dedupe.take_dropped() {
                self.pending_deletes.push(segment_key(seq, &cred.name));
            }
            cred.slot = 1 - cred.slot;
            records.push(ChangelogRecord { key: cred_key(cred.slot, &cred.name), value: Some(value(batch, &(&cred.state, &cred.state.origin, &cred.state.shared))) });
        }
        self.meta.batch = batch;
        records.push(ChangelogRecord { key: vec![TAG_META], value: Some(value(batch, &self.meta)) });
        records
    }

    /// Rebuilds a partition from its changelog records in log order (the last
    /// value of a key wins; a tombstone removes it). Keys no longer needed
    /// (written by a batch that did not complete, or superseded) are deleted
    /// with the next snapshot.
    pub fn restore(id: i32, persist: bool, records: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>) -> Result<PartitionState, ChangelogError> {
        let mut latest: FxHashMap<Vec<u8>, Vec<u8>> = FxHashMap::default();
        for (k, v) in records {
            match v {
                Some(v) => latest.insert(k, v),
                None => latest.remove(&k),
            };
        }
        let mut part = PartitionState::new(id, persist);
        // Per credential key: its two slots' (batch, payload), and its segments' (index, batch, payload).
        type Slots = [Option<(u64, Vec<u8>)>; 2];
        type Segments = Vec<(u32, u64, Vec<u8>)>;
        let mut slots: BTreeMap<Vec<u8>, Slots> = BTreeMap::new();
        let mut segments: FxHashMap<Vec<u8>, Segments> = FxHashMap::default();
        for (key, v) in latest {
            match key.first().copied() {
                Some(TAG_META) => {
                    let (_, payload) = split(id, &v)?;
                    part.meta = decode(id, "partition record", payload)?;
                }
                Some(TAG_CRED) if key.len() >= 2 && key[1] < 2 => {
                    let (batch, _) = split(id, &v)?;
                    slots.entry(key[2..].to_vec()).or_default()[key[1] as usize] = Some((batch, v));
                }
                Some(TAG_SEGMENT) if key.len() >= 5 => {
                    let seq = u32::from_be_bytes([key[1], key[2], key[3], key[4]]);
                    let (batch, _) = split(id, &v)?;
                    segments.entry(key[5..].to_vec()).or_default().push((seq, batch, v));
                }
                _ if key == OLD_META_KEY || std::str::from_utf8(&key).is_ok() => return Err(ChangelogError::OldFormat { partition: id }),
                other => return Err(ChangelogError::UnknownKey { partition: id, first: other.unwrap_or(0) }),
            }
        }
        let durable = part.meta.batch;
        for (name, versions) in slots {
            let name_str = String::from_utf8_lossy(&name).into_owned();
            // The newest version of a durable batch; the other slot is garbage if newer.
            let chosen = (0..2u8).filter(|s| versions[*s as usize].as_ref().is_some_and(|(b, _)| *b <= durable)).max_by_key(|s| versions[*s as usize].as_ref().map(|(b, _)| *b));
            for s in 0..2u8 {
                if versions[s as usize].as_ref().is_some_and(|(b, _)| *b > durable) {
                    part.pending_deletes.push(cred_key(s, &name_str));
                }
            }
            let mut own_segments = segments.remove(&name).unwrap_or_default();
            let Some(slot) = chosen else {
                part.pending_deletes.extend(own_segments.iter().map(|(seq, _, _)| segment_key(*seq, &name_str)));
                continue;
            };
            let Some((_, v)) = &versions[slot as usize] else { continue };
            let (_, payload) = split(id, v)?;
            let mut state = decode_state(id, v[0], payload)?;
            own_segments.sort_by_key(|(seq, _, _)| *seq);
            for (seq, batch, v) in own_segments {
                if batch > durable || seq >= state.dedupe.next_seq() {
                    part.pending_deletes.push(segment_key(seq, &name_str));
                    continue;
                }
                let (_, payload) = split(id, &v)?;
                let ids: Vec<IdEntry> = decode(id, "dedupe segment", payload)?;
                state.dedupe.restore_segment(seq, &ids);
            }
            let cred = part.restored(&name_str, state, slot);
            part.insert(cred);
        }
        for (name, own) in segments {
            let name = String::from_utf8_lossy(&name).into_owned();
            part.pending_deletes.extend(own.iter().map(|(seq, _, _)| segment_key(*seq, &name)));
        }
        part.reindex();
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, EngineConfig};
    use crate::engine::Engine;
    use crate::model::UsageEvent;

    fn config() -> EngineConfig {
        let c = Config { max_principals: Some(5), drift_dimensions: vec!["principal".into()], ..Config::default() };
        c.engine().unwrap()
    }

    fn event(id: &str, principal: &str) -> UsageEvent {
        UsageEvent {
            id: id.into(),
            time: 1_767_225_600_000,
            credential: "k".into(),
            capability: "chat".into(),
            model: None,
            credits: 0,
            tokens_in: 0,
            tokens_out: 0,
            principal: Some(principal.into()),
            source: None,
            src_ip: Some("10.0.0.1".into()),
            exposed: false,
        }
    }

    fn credential_state(engine: &Engine) -> CredState {
        engine.partition_state(0).unwrap().credentials().next().unwrap().1.clone()
    }

    #[test]
    fn the_origin_memory_survives_a_restore() {
        let mut engine = Engine::new(config()).with_changelog();
        let mut out = Vec::new();
        engine.process(0, 0, event("e1", "svc-a"), &mut out);
        engine.process(0, 1, event("e2", "svc-b"), &mut out);
        let before = credential_state(&engine);
        assert_eq!(before.shared.as_ref().map(|s| s.held()), Some([2, 0]));
        let records: Vec<_> = engine.changelog_snapshot(0).into_iter().map(|r| (r.key, r.value)).collect();
        assert!(records.iter().all(|(_, v)| v.as_ref().is_none_or(|v| v[0] == FORMAT)));
        let mut restored = Engine::new(config()).with_changelog();
        restored.restore_partition(0, records).unwrap();
        assert_eq!(credential_state(&restored), before);
    }

    #[test]
    fn a_first_format_credential_record_restores_with_an_empty_origin() {
        let mut engine = Engine::new(config()).with_changelog();
        engine.process(0, 0, event("e1", "svc-a"), &mut Vec::new());
        let before = credential_state(&engine);
        // The record as the first format wrote it: the state alone.
        let records: Vec<_> = engine
            .changelog_snapshot(0)
            .into_iter()
            .map(|r| match r.key.first() {
                Some(&TAG_CRED) => {
                    let batch = u64::from_le_bytes(r.value.as_ref().unwrap()[1..9].try_into().unwrap());
                    let mut v = vec![FORMAT_1];
                    v.extend_from_slice(&batch.to_le_bytes());
                    (r.key, Some(postcard::to_extend(&before, v).unwrap()))
                }
                _ => (r.key, r.value),
            })
            .collect();
        let mut restored = Engine::new(config()).with_changelog();
        restored.restore_partition(0, records).unwrap();
        let state = credential_state(&restored);
        assert_eq!((&state.origin, &state.shared), (&None, &None));
        assert_eq!(CredState { origin: None, shared: None, ..before }, state);
    }
}
