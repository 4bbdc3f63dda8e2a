//! The edges: file replay and the Kafka runtime around the pure engine.

pub mod kafka;
pub mod replay;
