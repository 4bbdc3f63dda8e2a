//! The data model: usage events, entitlements, credits and time.

pub mod credits;
pub mod entitlement;
pub mod time;
pub mod usage;

pub use entitlement::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, Status};
pub use usage::UsageEvent;
