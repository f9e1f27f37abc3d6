//! What the economy did, counted for the operator: transactions by kind and
//! result, refusals by reason, and what acknowledged transactions created
//! and destroyed, by source and sink. The node only adds to these; the
//! adapter exports them (`mmo_economy_*`, `mmo_items_*`, `mmo_gold_*`).

use crate::economy::{Receipt, Sink, Source};
use crate::protocol::{Cause, ClientEconomy, EconomyRefusal};

/// What a transaction (or a request that may make one) was for: a client's
/// request by its kind, or the node's own (a trade's swap, loot, an
/// operator's grant, battle pass progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxKind {
    Move,
    Split,
    Delete,
    Equip,
    Unequip,
    Sort,
    Buy,
    Sell,
    Enhance,
    Claim,
    TradeRequest,
    TradeAnswer,
    TradeOffer,
    TradeConfirm,
    TradeCancel,
    /// A trade's swap (both sides confirmed).
    Trade,
    Loot,
    Grant,
    Mission,
    /// A won raid's reward, claimed.
    Raid,
}

impl TxKind {
    pub const ALL: [TxKind; 20] = [
        TxKind::Move,
        TxKind::Split,
        TxKind::Delete,
        TxKind::Equip,
        TxKind::Unequip,
        TxKind::Sort,
        TxKind::Buy,
        TxKind::Sell,
        TxKind::Enhance,
        TxKind::Claim,
        TxKind::TradeRequest,
        TxKind::TradeAnswer,
        TxKind::TradeOffer,
        TxKind::TradeConfirm,
        TxKind::TradeCancel,
        TxKind::Trade,
        TxKind::Loot,
        TxKind::Grant,
        TxKind::Mission,
        TxKind::Raid,
    ];

    /// The kind of a client's request.
    pub fn of(request: &ClientEconomy) -> TxKind {
        match request {
            ClientEconomy::Move { .. } => TxKind::Move,
            ClientEconomy::Split { .. } => TxKind::Split,
            ClientEconomy::Delete { .. } => TxKind::Delete,
            ClientEconomy::Equip { .. } => TxKind::Equip,
            ClientEconomy::Unequip { .. } => TxKind::Unequip,
            ClientEconomy::Sort { .. } => TxKind::Sort,
            ClientEconomy::Buy { .. } => TxKind::Buy,
            ClientEconomy::Sell { .. } => TxKind::Sell,
            ClientEconomy::Enhance { .. } => TxKind::Enhance,
            ClientEconomy::Claim { .. } => TxKind::Claim,
            ClientEconomy::TradeRequest { .. } => TxKind::TradeRequest,
            ClientEconomy::TradeAnswer { .. } => TxKind::TradeAnswer,
            ClientEconomy::TradeOffer { .. } => TxKind::TradeOffer,
            ClientEconomy::TradeConfirm { .. } => TxKind::TradeConfirm,
            ClientEconomy::TradeCancel { .. } => TxKind::TradeCancel,
        }
    }

    /// What its players are told made the change.
    pub fn cause(self) -> Cause {
        match self {
            TxKind::Trade => Cause::Trade,
            TxKind::Loot => Cause::Loot,
            TxKind::Grant => Cause::Grant,
            TxKind::Mission => Cause::Mission,
            TxKind::Raid => Cause::Raid,
            _ => Cause::Request,
        }
    }

    /// A label for metrics: the request's ([`ClientEconomy::label`]), or
    /// `trade`, `loot`, `grant`, `mission`.
    pub fn label(self) -> &'static str {
        match self {
            TxKind::Move => "move",
            TxKind::Split => "split",
            TxKind::Delete => "delete",
            TxKind::Equip => "equip",
            TxKind::Unequip => "unequip",
            TxKind::Sort => "sort",
            TxKind::Buy => "buy",
            TxKind::Sell => "sell",
            TxKind::Enhance => "enhance",
            TxKind::Claim => "claim",
            TxKind::TradeRequest => "trade_request",
            TxKind::TradeAnswer => "trade_answer",
            TxKind::TradeOffer => "trade_offer",
            TxKind::TradeConfirm => "trade_confirm",
            TxKind::TradeCancel => "trade_cancel",
            TxKind::Trade => "trade",
            TxKind::Loot => "loot",
            TxKind::Grant => "grant",
            TxKind::Mission => "mission",
            TxKind::Raid => "raid",
        }
    }

    fn index(self) -> usize {
        TxKind::ALL
            .iter()
            .position(|&k| k == self)
            .expect("every kind is in ALL")
    }
}

/// How a transaction (or a request) ended, or what befell it on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxResult {
    /// The store acknowledged it.
    Committed,
    /// Refused before it reached the store (a request refused for any
    /// reason, or a transaction [`crate::economy::apply`] refused); nothing
    /// changed.
    Refused,
    /// The store held other inventories than it was decided on: dropped.
    Conflict,
    /// Sent again after the store failed or did not answer (one count per
    /// retry; the transaction is also counted once as it ends).
    Retried,
}

impl TxResult {
    pub const ALL: [TxResult; 4] = [
        TxResult::Committed,
        TxResult::Refused,
        TxResult::Conflict,
        TxResult::Retried,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TxResult::Committed => "committed",
            TxResult::Refused => "refused",
            TxResult::Conflict => "conflict",
            TxResult::Retried => "retried",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The economy's counters (in [`super::NodeStats::economy`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EconomyStats {
    /// By [`TxKind::ALL`], then [`TxResult::ALL`].
    pub transactions: [[u64; 4]; TxKind::ALL.len()],
    /// Refusals sent to clients, by [`EconomyRefusal::ALL`].
    pub refusals: [u64; 21],
    /// Items and gold that acknowledged transactions created, by
    /// [`Source::ALL`], and destroyed, by [`Sink::ALL`]. (A deleted
    /// character's belongings go to the store's ledger, not through here.)
    pub items_created: [u64; Source::ALL.len()],
    pub items_destroyed: [u64; 3],
    pub gold_created: [u64; Source::ALL.len()],
    pub gold_destroyed: [u64; 3],
}

impl EconomyStats {
    /// Transactions (or requests) of `kind` that ended in, or met, `result`.
    pub fn of(&self, kind: TxKind, result: TxResult) -> u64 {
        self.transactions[kind.index()][result.index()]
    }

    /// Every kind's count of `result`.
    pub fn total(&self, result: TxResult) -> u64 {
        self.transactions.iter().map(|r| r[result.index()]).sum()
    }

    /// Refusals sent for `reason`.
    pub fn refused_for(&self, reason: EconomyRefusal) -> u64 {
        self.refusals[refusal_index(reason)]
    }

    pub(super) fn count(&mut self, kind: TxKind, result: TxResult) {
        self.transactions[kind.index()][result.index()] += 1;
    }

    pub(super) fn refusal(&mut self, reason: EconomyRefusal) {
        self.refusals[refusal_index(reason)] += 1;
    }

    /// An acknowledged transaction's receipt.
    pub(super) fn receipt(&mut self, r: &Receipt) {
        for &(_, n, source) in &r.minted {
            add(&mut self.items_created[source_index(source)], n);
        }
        for &(_, n, sink) in &r.burned {
            add(&mut self.items_destroyed[sink_index(sink)], n);
        }
        for &(n, source) in &r.gold_in {
            add(&mut self.gold_created[source_index(source)], n);
        }
        for &(n, sink) in &r.gold_out {
            add(&mut self.gold_destroyed[sink_index(sink)], n);
        }
    }
}

fn add(total: &mut u64, n: u64) {
    *total = total.saturating_add(n);
}

fn refusal_index(reason: EconomyRefusal) -> usize {
    EconomyRefusal::ALL
        .iter()
        .position(|&r| r == reason)
        .expect("every reason is in ALL")
}

fn source_index(source: Source) -> usize {
    Source::ALL
        .iter()
        .position(|&s| s == source)
        .expect("every source is in ALL")
}

fn sink_index(sink: Sink) -> usize {
    Sink::ALL
        .iter()
        .position(|&s| s == sink)
        .expect("every sink is in ALL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_kind_has_the_request_s_label() {
        for request in crate::protocol::examples::client_messages() {
            if let crate::protocol::ClientMsg::Economy(r) = request {
                assert_eq!(TxKind::of(&r).label(), r.label());
                assert_eq!(TxKind::of(&r).cause(), Cause::Request);
            }
        }
        let labels: std::collections::BTreeSet<_> = TxKind::ALL.iter().map(|k| k.label()).collect();
        assert_eq!(labels.len(), TxKind::ALL.len());
    }

    #[test]
    fn a_receipt_is_tallied_by_source_and_sink() {
        let mut s = EconomyStats::default();
        let def = crate::content::ItemDefId(0);
        s.receipt(&Receipt {
            minted: vec![(def, 3, Source::Loot), (def, 1, Source::Shop)],
            burned: vec![(def, 2, Sink::Deleted)],
            gold_in: vec![(u64::MAX, Source::Grant), (5, Source::Grant)],
            gold_out: vec![(7, Sink::Shop)],
        });
        assert_eq!(s.items_created, [3, 1, 0, 0, 0]);
        assert_eq!(s.items_destroyed, [0, 0, 2]);
        assert_eq!(s.gold_created, [0, 0, 0, u64::MAX, 0], "saturates");
        assert_eq!(s.gold_destroyed, [7, 0, 0]);
    }
}
