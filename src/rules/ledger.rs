//! The credit ledger (docs/semantics.md, "Ledger") and its findings:
//! `credits.threshold`, `credits.overdraft`, `banking.drawdown`,
//! `banking.accumulation`. All amounts are micro-credits; conservation
//! `granted_total = burned_total + expired_total + remaining` holds at every step.

use serde::{Deserialize, Serialize};

use crate::config::{EngineConfig, Factor};
use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use crate::model::time::{month_label, month_start, Month};
use crate::rules::Rule;
use crate::model::CreditPlan;

/// A live grant in a balance record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantView {
    pub month: Month,
    pub amount: i64,
    pub remaining: i64,
    /// Month whose start is the expiry instant.
    pub expires: Month,
}

/// A credential's credit ledger at an instant (docs/semantics.md, "Window and balance records"). All amounts micro-credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRecord {
    pub credential: crate::model::usage::Text,
    pub as_of: i64,
    pub month: Month,
    pub available_at_start: i64,
    pub banked_at_start: i64,
    pub used: i64,
    pub used_banked: i64,
    pub remaining: i64,
    pub overage: i64,
    pub granted_total: i64,
    pub burned_total: i64,
    pub expired_total: i64,
    pub grants: smallvec::SmallVec<[GrantView; 4]>,
}

/// One month's grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub month: Month,
    pub amount: i64,
    pub remaining: i64,
}

/// What the ledger needs to know of the plan in force at a month start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthPlan {
    pub monthly: i64,
    pub bank_months: u32,
    pub bank_cap: Option<i64>,
}

impl From<Option<CreditPlan>> for MonthPlan {
    /// A month whose version has no `credits` grants 0, banks nothing extra, has no cap.
    fn from(plan: Option<CreditPlan>) -> Self {
        plan.map(|p| MonthPlan { monthly: p.monthly, bank_months: p.bank_months, bank_cap: p.bank_cap }).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub month: Month,
    /// Live grants, oldest (= expiring first) first.
    pub grants: Vec<Grant>,
    /// Bank window in force at the last roll-forward (for `expires`).
    pub bank_months: u32,
    pub overage: i64,
    pub granted_total: i64,
    pub burned_total: i64,
    pub expired_total: i64,
    pub available_at_start: i64,
    pub banked_at_start: i64,
    pub used: i64,
    pub used_banked: i64,
    /// Bit i: threshold i of the configuration fired this month.
    pub thresholds_fired: u64,
    pub overdraft_fired: bool,
    pub drawdown_fired: bool,
}

impl Ledger {
    /// A ledger starting at `month` with that month's grant (no balance record).
    pub fn open(month: Month, plan: MonthPlan) -> Ledger {
        Ledger {
            month,
            grants: vec![Grant { month, amount: plan.monthly, remaining: plan.monthly }],
            bank_months: plan.bank_months,
            overage: 0,
            granted_total: plan.monthly,
            burned_total: 0,
            expired_total: 0,
            available_at_start: plan.monthly,
            banked_at_start: 0,
            used: 0,
            used_banked: 0,
            thresholds_fired: 0,
            overdraft_fired: false,
            drawdown_fired: false,
        }
    }

    pub fn remaining(&self) -> i64 {
        self.grants.iter().map(|g| g.remaining).sum()
    }

    /// Rolls forward into `self.month + 1` (docs/semantics.md order): expire, cap,
    /// accumulation check, new grant, pay carried overage; then a balance record.
    pub fn roll_one<O: Outputs + ?Sized>(&mut self, plan: MonthPlan, accumulation: Factor, ctx: &Ctx<'_>, out: &mut O) {
        let month = self.month + 1;
        let start = month_start(month);
        let bank_months = plan.bank_months as i64;
        let mut expired = 0i64;
        self.grants.retain(|g| {
            let live = (g.month as i64) + 1 + bank_months > month as i64;
            if !live {
                expired += g.remaining;
            }
            live
        });
        let mut banked: i64 = self.grants.iter().map(|g| g.remaining).sum();
        if let Some(cap) = plan.bank_cap {
            for g in self.grants.iter_mut() {
                if banked <= cap {
                    break;
                }
                let forfeit = g.remaining.min(banked - cap);
                g.remaining -= forfeit;
                expired += forfeit;
                banked -= forfeit;
            }
        }
        self.expired_total += expired;
        if banked > 0 && accumulation.reached(banked, plan.monthly) {
            ctx.emit(out, vec![month_label(month)], start, Figures::BankingAccumulation { month, banked, monthly: plan.monthly });
        }
        let carried = self.overage;
        let pay = carried.min(plan.monthly).max(0);
        self.overage -= pay;
        self.burned_total += pay;
        self.granted_total += plan.monthly;
        super::reserve_lean(&mut self.grants);
        self.grants.push(Grant { month, amount: plan.monthly, remaining: plan.monthly - pay });
        self.month = month;
        self.bank_months = plan.bank_months;
        self.available_at_start = banked + plan.monthly - carried;
        self.banked_at_start = banked;
        self.used = 0;
        self.used_banked = 0;
        self.thresholds_fired = 0;
        self.overdraft_fired = false;
        self.drawdown_fired = false;
        out.balance(self.balance(ctx.credential, start));
    }

    /// Books `credits` of an event at `time` (already rolled to the event's month,
    /// or later): burn oldest-first, then overage; fire overdraft, thresholds, drawdown.
    pub fn book<O: Outputs + ?Sized>(&mut self, credits: i64, time: i64, config: &EngineConfig, ctx: &Ctx<'_>, out: &mut O) {
        let mut rest = credits;
        for g in self.grants.iter_mut() {
            if rest == 0 {
                break;
            }
            let take = g.remaining.min(rest);
            if take <= 0 {
                continue;
            }
            g.remaining -= take;
            rest -= take;
            self.burned_total += take;
            if g.month < self.month {
                self.used_banked += take;
            }
        }
        self.used = self.used.saturating_add(credits);
        let label = || month_label(self.month);
        if rest > 0 {
            self.overage = self.overage.saturating_add(rest);
            if !self.overdraft_fired {
                self.overdraft_fired = true;
                let f = Figures::CreditsOverdraft { month: self.month, overage: self.overage, used: self.used, available_at_start: self.available_at_start };
                ctx.emit(out, vec![label()], time, f);
            }
        }
        for (i, factor) in config.thresholds.iter().enumerate() {
            let bit = 1u64 << i.min(63);
            if self.thresholds_fired & bit != 0 || self.used <= 0 || !factor.reached(self.used, self.available_at_start) {
                continue;
            }
            self.thresholds_fired |= bit;
            let severity = Rule::CreditsThreshold.info().severity.graded(factor.micros >= 1_000_000);
            let f = Figures::CreditsThreshold { month: self.month, threshold: factor.micros, used: self.used, available_at_start: self.available_at_start };
            ctx.emit_graded(out, vec![label(), factor.per_mille().to_string()], time, severity, f);
        }
        if !self.drawdown_fired && self.banked_at_start > 0 && config.drawdown.reached(self.used_banked, self.banked_at_start) {
            self.drawdown_fired = true;
            let f = Figures::BankingDrawdown { month: self.month, used_banked: self.used_banked, banked_at_start: self.banked_at_start };
            ctx.emit(out, vec![label()], time, f);
        }
    }

    /// The balance record at `as_of`.
    pub fn balance(&self, credential: &crate::model::usage::Text, as_of: i64) -> BalanceRecord {
        BalanceRecord {
            credential: credential.clone(),
            as_of,
            month: self.month,
            available_at_start: self.available_at_start,
            banked_at_start: self.banked_at_start,
            used: self.used,
            used_banked: self.used_banked,
            remaining: self.remaining(),
            overage: self.overage,
            granted_total: self.granted_total,
            burned_total: self.burned_total,
            expired_total: self.expired_total,
            grants: self
                .grants
                .iter()
                .map(|g| GrantView { month: g.month, amount: g.amount, remaining: g.remaining, expires: g.month + 1 + self.bank_months as Month })
                .collect(),
        }
    }

    /// granted = burned + expired + remaining, exactly.
    pub fn conserved(&self) -> bool {
        self.granted_total == self.burned_total + self.expired_total + self.remaining()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the ledger put out, findings and balances apart.
    #[derive(Default)]
    struct Collected(Vec<crate::rules::Finding>, Vec<BalanceRecord>);

    impl Outputs for Collected {
        fn finding(&mut self, f: crate::rules::Finding) {
            self.0.push(f);
        }
        fn balance(&mut self, b: BalanceRecord) {
            self.1.push(b);
        }
    }

    fn ctx() -> Ctx<'static> {
        static K: std::sync::LazyLock<crate::model::usage::Text> = std::sync::LazyLock::new(|| "k".into());
        Ctx { credential: &K, version: None, topic: "t", partition: 0, trigger: None }
    }

    #[test]
    fn unused_grants_roll_forward_and_expire_after_the_bank_window() {
        let plan = MonthPlan { monthly: 100, bank_months: 1, bank_cap: None };
        let mut l = Ledger::open(0, plan);
        let mut out = Collected::default();
        l.roll_one(plan, Factor::from_f64(2.0), &ctx(), &mut out);
        assert_eq!((l.banked_at_start, l.available_at_start, l.remaining()), (100, 200, 200));
        l.roll_one(plan, Factor::from_f64(2.0), &ctx(), &mut out);
        // month 0's grant expired at the start of month 2.
        assert_eq!((l.expired_total, l.banked_at_start, l.remaining()), (100, 100, 200));
        assert!(l.conserved());
    }

    #[test]
    fn overage_is_paid_by_the_next_grant() {
        let plan = MonthPlan { monthly: 100, bank_months: 0, bank_cap: None };
        let mut l = Ledger::open(0, plan);
        let mut out = Collected::default();
        l.book(130, 0, &EngineConfig::default(), &ctx(), &mut out);
        assert_eq!(l.overage, 30);
        l.roll_one(plan, Factor::from_f64(2.0), &ctx(), &mut out);
        assert_eq!((l.overage, l.remaining(), l.available_at_start), (0, 70, 70));
        assert!(l.conserved());
    }

    #[test]
    fn bank_cap_forfeits_the_oldest_grant_first() {
        let plan = MonthPlan { monthly: 100, bank_months: 3, bank_cap: Some(150) };
        let mut l = Ledger::open(0, plan);
        let mut out = Collected::default();
        l.roll_one(plan, Factor::from_f64(2.0), &ctx(), &mut out);
        l.roll_one(plan, Factor::from_f64(2.0), &ctx(), &mut out);
        // at month 2: carried 200 > 150, month 0's grant loses 50.
        assert_eq!(l.grants[0].remaining, 50);
        assert_eq!(l.expired_total, 50);
        assert!(l.conserved());
    }

    #[test]
    fn the_largest_plans_conserve_credits_over_two_centuries() {
        use crate::decode::entitlement::{MAX_BANK_MONTHS, MAX_MONTHLY_MICROS};
        let plan = MonthPlan { monthly: MAX_MONTHLY_MICROS, bank_months: MAX_BANK_MONTHS as u32, bank_cap: None };
        let mut l = Ledger::open(0, plan);
        let mut out = Collected::default();
        // Every month of the years 2000..2200, with the largest usage now and then.
        for m in 0..2412 {
            if m % 500 == 0 {
                l.book(i64::MAX, 0, &EngineConfig::default(), &ctx(), &mut out);
            }
            l.roll_one(plan, Factor::from_f64(2.0), &ctx(), &mut out);
            assert!(l.conserved() && l.granted_total > 0 && l.remaining() >= 0 && l.available_at_start > i64::MIN, "month {m}");
        }
        assert_eq!(l.granted_total, 2413 * MAX_MONTHLY_MICROS);
    }
}
