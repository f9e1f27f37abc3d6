//! Snapshot tests live in snapshots/tests/; this library holds what several
//! of them print the same way.

use game_core::protocol::ServerEconomy;

/// An economy message, short: the catalogue and the pass (the same big
/// tables for everyone, pinned by the content snapshot) by their sizes, the
/// inventory by what it holds; the rest as it is.
pub fn economy_line(msg: &ServerEconomy) -> String {
    match msg {
        ServerEconomy::Inventory(i) => format!(
            "Inventory seq {} gold {}, {} of {} slots used, {} worn",
            i.seq,
            i.gold,
            i.slots.iter().flatten().count(),
            i.slots.len(),
            i.equipped.iter().flatten().count()
        ),
        ServerEconomy::Catalogue(c) => format!(
            "Catalogue: {} item kinds, {} offers, {} enhancement steps",
            c.items.len(),
            c.offers.len(),
            c.steps.len()
        ),
        ServerEconomy::Pass(p) => format!(
            "Pass: {} missions, {} levels, xp {}",
            p.missions.len(),
            p.levels.len(),
            p.progress.xp
        ),
        other => format!("{other:?}"),
    }
}
