//! The node the scripts run: small caps, so a short script meets every one
//! of them, and the sample content changed so a short script reaches what
//! matters: monsters beside the spawn point, and raids small enough for the
//! few players the caps allow.

use game_core::content::{Content, SAMPLE_CONTENT};
use game_core::node::{NodeConfig, RaidConfig};
use game_core::zone::{Map, SAMPLE_MAPS};
use std::sync::{Arc, LazyLock};

/// Small caps, so a short script meets every one of them.
pub fn config() -> NodeConfig {
    let mut config = NodeConfig {
        max_sessions: 4,
        max_players: 3,
        resume_grace_ms: 2_000,
        max_pending_intents: 3,
        store_busy_intents: 2,
        max_characters: 2,
        session: super::super::session::config(),
        social: super::super::social::config(),
        ..NodeConfig::default()
    };
    config.world.max_channels = 2;
    config.world.zone.max_players = 2;
    // One instance at a time, one ready check, two tickets, one leaderboard
    // read: a second pair is refused or waits.
    config.raid = RaidConfig {
        max_instances: 1,
        max_tickets: 2,
        max_ready_checks: 1,
        max_board_reads: 1,
        state_every_ms: 1_000,
    };
    config
}

/// Monsters added beside the meadow's spawn point (cell [40, 60]), where
/// every character enters: slimes within their 4 m aggro radius that a
/// level-1 character can kill, and a wolf that can kill it, so a short script
/// fights (hits, kills, experience, deaths and respawns) without walking
/// 50 m first.
const FIGHT_AT_THE_SPAWN: &str = "
[[group]]
monster = \"slime\"
cell = [42, 60]
count = 2
radius_cells = 1
respawn_ms = 1000

[[group]]
monster = \"wolf\"
cell = [44, 62]
count = 1
radius_cells = 0
respawn_ms = 5000
";

/// The raids the scripts play instead of the sample's (whose groups of 5
/// and 10 never meet under a cap of 3 players), on the sample raid map
/// `ember_lair`. Raid 0, `duo`: two players of any role and level, a 5 s
/// ready check, a slime for a boss two metres from where they enter, an
/// area attack every 2 s and adds at half health, 30 s to win, closed a
/// minute after the end (unless left empty sooner); its reward mints an
/// item as well as gold. Raid 1, `trio`:
/// three players, one of each role, more than an instance's zone takes (2),
/// so its third member is matched but never moved in.
const RAIDS: &str = "
[[raid]]
name = \"duo\"
group_size = 2
level_groups = [[1, 5], [6, 30]]
spread = 100
widen_every_s = 0
ready_check_s = 5
map = \"ember_lair\"
time_limit_s = 30
close_after_s = 60
boss = \"slime\"
boss_cell = [5, 15]
enrage_s = 20
enrage_power_pct = 200
reward_gold = 50
reward_item = \"minor_potion\"
reward_count = 2

[[raid.phase]]
health_pct = 100
area = { every_s = 2, warn_ms = 500, radius_m = 3.0, damage = 3 }

[[raid.phase]]
health_pct = 50
adds = { monster = \"slime\", count = 1 }

[[raid]]
name = \"trio\"
group_size = 3
roles = { tank = 1, healer = 1, damage = 1 }
level_groups = [[1, 30]]
spread = 100
widen_every_s = 0
ready_check_s = 5
map = \"ember_lair\"
time_limit_s = 30
close_after_s = 5
boss = \"wolf\"
boss_cell = [30, 15]
enrage_s = 0
reward_gold = 10

[[raid.phase]]
health_pct = 100
";

/// The sample content with [`FIGHT_AT_THE_SPAWN`] and [`RAIDS`], on the
/// sample maps (`ember_lair` among them).
pub fn content() -> Arc<Content> {
    static CONTENT: LazyLock<Arc<Content>> = LazyLock::new(|| {
        let maps: Vec<Map> = SAMPLE_MAPS
            .iter()
            .map(|text| Map::parse(text).expect("a sample map"))
            .collect();
        let meadow = SAMPLE_CONTENT
            .iter()
            .find(|(name, _)| *name == "meadow.spawns.toml")
            .map(|(_, text)| format!("{text}{FIGHT_AT_THE_SPAWN}"))
            .expect("the meadow's spawns");
        let files: Vec<(&str, &str)> = SAMPLE_CONTENT
            .iter()
            .map(|&(name, text)| {
                let text = match name {
                    "meadow.spawns.toml" => meadow.as_str(),
                    "raids.toml" => RAIDS,
                    _ => text,
                };
                (name, text)
            })
            .collect();
        let content = Content::load_for_maps(&files, &maps).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(content)
    });
    CONTENT.clone()
}
