//! The members of bursar's output records that the review reads, as typed
//! borrowed shapes: serde skips the rest without building it, which keeps a
//! report over millions of records quick. Credits stay decimal text until
//! read exactly into micro-credits.

use std::borrow::Cow;

use serde::Deserialize;

/// A window record (README.md, "Outputs").
#[derive(Deserialize)]
pub struct WindowIn<'a> {
    #[serde(borrow)]
    pub credential: Cow<'a, str>,
    #[serde(borrow)]
    pub window: Cow<'a, str>,
    #[serde(borrow)]
    pub start: Cow<'a, str>,
    #[serde(borrow)]
    pub end: Cow<'a, str>,
    #[serde(default)]
    pub calls: u64,
    #[serde(borrow)]
    pub credits: Cow<'a, str>,
}

/// A live grant of a balance record.
#[derive(Deserialize)]
pub struct GrantIn<'a> {
    #[serde(borrow)]
    pub month: Cow<'a, str>,
    #[serde(borrow)]
    pub amount: Cow<'a, str>,
    #[serde(borrow)]
    pub remaining: Cow<'a, str>,
    #[serde(borrow)]
    pub expires: Cow<'a, str>,
}

/// A balance record.
#[derive(Deserialize)]
pub struct BalanceIn<'a> {
    #[serde(borrow)]
    pub credential: Cow<'a, str>,
    #[serde(borrow)]
    pub as_of: Cow<'a, str>,
    #[serde(borrow)]
    pub month: Cow<'a, str>,
    #[serde(borrow)]
    pub banked_at_start: Cow<'a, str>,
    #[serde(borrow)]
    pub used: Cow<'a, str>,
    #[serde(borrow)]
    pub remaining: Cow<'a, str>,
    #[serde(borrow)]
    pub overage: Cow<'a, str>,
    #[serde(borrow)]
    pub grants: Vec<GrantIn<'a>>,
}

/// An OCSF finding: the members the review shows.
#[derive(Deserialize)]
pub struct FindingIn<'a> {
    pub time: i64,
    #[serde(default)]
    pub severity_id: u64,
    #[serde(borrow)]
    pub finding_info: FindingInfo<'a>,
    #[serde(default, borrow)]
    pub resources: Vec<Resource<'a>>,
    #[serde(borrow)]
    pub unmapped: Unmapped<'a>,
}

#[derive(Deserialize)]
pub struct FindingInfo<'a> {
    #[serde(default, borrow)]
    pub uid: Cow<'a, str>,
    #[serde(default, borrow)]
    pub desc: Cow<'a, str>,
    #[serde(default, borrow)]
    pub types: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub struct Resource<'a> {
    #[serde(default, borrow)]
    pub owner: Option<Owner<'a>>,
}

#[derive(Deserialize)]
pub struct Owner<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub struct Unmapped<'a> {
    #[serde(borrow)]
    pub bursar: BursarMembers<'a>,
}

#[derive(Deserialize)]
pub struct BursarMembers<'a> {
    #[serde(borrow)]
    pub credential: Cow<'a, str>,
    #[serde(default, borrow)]
    pub rule: Option<Cow<'a, str>>,
}
