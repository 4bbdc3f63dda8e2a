//! The data model: usage events, entitlements, credits, time and addresses.

pub mod credits;
pub mod entitlement;
pub mod net;
pub mod time;
pub mod usage;

pub use entitlement::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, ScopeDimension, Status};
pub use usage::UsageEvent;
