use super::economy_tests::{ENHANCE, ITEMS, SHOP};
use super::*;
use crate::zone::{Map, SAMPLE_MAPS};

// A small valid set of files (the economy's in `economy_tests.rs`); each test
// below breaks one of them and checks the file and line of the refusal.

const SKILLS: &str = r#"[[skill]]
id = 0
name = "hit"
effect = "damage"
targeting = "enemy"
power = 5
cooldown_ms = 2000
global_cooldown = false
range_m = 2.5

[[skill]]
id = 1
name = "bolt"
effect = "damage"
targeting = "enemy"
power = 20
cast_ms = 1500
cooldown_ms = 0
mana = 10
range_m = 25
"#;

pub(super) const MONSTERS: &str = r#"[[monster]]
id = 0
name = "rat"
level = 1
health = 30
power = 3
armor = 0
speed_m = 3.5
aggro_radius_m = 5
leash_m = 20
skills = ["hit"]
experience = 10
"#;

const LEVELS: &str = r#"[[level]]
experience = 0
health = 100
mana = 50
power = 10
armor = 5

[[level]]
experience = 100
health = 150
mana = 70
power = 13
armor = 7
"#;

const RULES: &str = r#"[player]
auto_attack = "hit"
skills = ["hit", "bolt"]

[combat]
global_cooldown_ms = 1000
miss_pct = 5
crit_pct = 10
crit_damage_pct = 150
regen_period_ms = 2000
health_regen_pct = 2
mana_regen_pct = 4
respawn_delay_ms = 5000
combat_timeout_ms = 6000
"#;

const SPAWNS: &str = r#"respawn = [1, 1]

[[group]]
monster = "rat"
cell = [7, 7]
count = 3
radius_cells = 2
respawn_ms = 10000
"#;

/// One map, "field": 10 x 10 cells, all walkable but (5, 5).
pub(super) fn walkable(map: &str, cell: (u32, u32)) -> Option<bool> {
    (map == "field" && cell.0 < 10 && cell.1 < 10).then_some(cell != (5, 5))
}

pub(super) fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("skills.toml", SKILLS),
        ("monsters.toml", MONSTERS),
        ("levels.toml", LEVELS),
        ("rules.toml", RULES),
        ("field.spawns.toml", SPAWNS),
        ("items.toml", ITEMS),
        ("shop.toml", SHOP),
        ("enhance.toml", ENHANCE),
        ("pass.toml", ""),
        ("raids.toml", ""),
    ]
}

/// The base files with `name`'s text replaced (or added).
pub(super) fn with(name: &'static str, text: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut files = base();
    match files.iter_mut().find(|(n, _)| *n == name) {
        Some(f) => f.1 = text,
        None => files.push((name, text)),
    }
    files
}

fn refused(files: &[(&str, &str)]) -> ContentError {
    match Content::load(files, &walkable) {
        Ok(_) => panic!("loaded, but should have been refused"),
        Err(e) => e,
    }
}

/// Asserts the refusal's file and line, and that its message mentions `says`.
pub(super) fn assert_refused(files: &[(&str, &str)], file: &str, line: usize, says: &str) {
    let e = refused(files);
    assert_eq!((e.file.as_str(), e.line), (file, line), "{e}");
    assert!(e.message.contains(says), "{e:?} should say {says:?}");
}

/// `text` with the first `from` replaced by `to` (leaked: tests only).
pub(super) fn edit(text: &str, from: &str, to: &str) -> &'static str {
    assert!(text.contains(from), "{from:?} not in the text");
    Box::leak(text.replacen(from, to, 1).into_boxed_str())
}

#[test]
fn the_small_set_loads() {
    let c = Content::load(&base(), &walkable).unwrap();
    assert_eq!(c.skills.len(), 2);
    assert_eq!(c.skills[1].range, Fixed::from_int(25));
    assert_eq!(c.skills[0].range, Fixed::from_raw(640));
    assert_eq!(c.skills[1].scaling_pct, 100);
    assert!(c.skills[1].global_cooldown);
    assert_eq!(c.skills[1].max_targets, 1);
    assert_eq!(c.monsters[0].skills, vec![SkillId(0)]);
    assert_eq!(c.player.auto_attack, SkillId(0));
    assert_eq!(c.levels.level_for(99), 1);
    assert_eq!(c.levels.level_for(100), 2);
    let field = c.map("field").unwrap();
    assert_eq!(field.respawn, (1, 1));
    assert_eq!(field.groups[0].monster, MonsterKindId(0));
}

#[test]
fn ids_may_come_in_any_order() {
    let swapped = edit(edit(SKILLS, "id = 0", "id = 9"), "id = 1", "id = 0");
    let swapped = edit(swapped, "id = 9", "id = 1");
    let c = Content::load(&with("skills.toml", swapped), &walkable).unwrap();
    assert_eq!(c.skills[0].name, "bolt");
    assert_eq!(c.skills[1].id, SkillId(1));
    assert_eq!(c.monsters[0].skills, vec![SkillId(1)]);
}

#[test]
fn files_are_known_by_the_last_part_of_their_name() {
    let files: Vec<(&str, &str)> = base()
        .into_iter()
        .map(|(n, t)| (&*Box::leak(format!("content/{n}").into_boxed_str()), t))
        .collect();
    assert!(Content::load(&files, &walkable).is_ok());
    let mut files = files;
    files[1].1 = edit(MONSTERS, "level = 1", "level = 0");
    assert_refused(&files, "content/monsters.toml", 4, "level is 0");
}

#[test]
fn a_syntax_error_is_reported_on_its_line() {
    let broken = edit(SKILLS, "name = \"bolt\"", "name = \"bolt");
    assert_refused(&with("skills.toml", broken), "skills.toml", 13, "");
    let broken = edit(LEVELS, "health = 150", "health = = 150");
    assert_refused(
        &with("levels.toml", broken),
        "levels.toml",
        10,
        "invalid string: expected",
    );
}

#[test]
fn an_unknown_field_is_refused_on_its_line() {
    let extra = edit(MONSTERS, "armor = 0\n", "armor = 0\ncolour = \"grey\"\n");
    assert_refused(
        &with("monsters.toml", extra),
        "monsters.toml",
        8,
        "unknown field `colour`",
    );
    let extra = edit(RULES, "miss_pct = 5\n", "miss_pct = 5\ndodge_pct = 5\n");
    assert_refused(&with("rules.toml", extra), "rules.toml", 8, "dodge_pct");
    let extra = edit(SPAWNS, "respawn_ms", "respawn_s");
    assert_refused(
        &with("field.spawns.toml", extra),
        "field.spawns.toml",
        8,
        "",
    );
}

#[test]
fn a_missing_field_is_refused() {
    let missing = edit(SKILLS, "cooldown_ms = 0\n", "");
    // toml points at the table missing it.
    assert_refused(
        &with("skills.toml", missing),
        "skills.toml",
        11,
        "missing field `cooldown_ms`",
    );
}

#[test]
fn a_duplicate_id_is_refused_on_its_line() {
    let dup = edit(SKILLS, "id = 1", "id = 0");
    assert_refused(
        &with("skills.toml", dup),
        "skills.toml",
        12,
        "skill id 0 is given twice (also on line 2)",
    );
}

#[test]
fn sparse_ids_are_refused_on_the_line_out_of_range() {
    let sparse = edit(SKILLS, "id = 1", "id = 2");
    assert_refused(
        &with("skills.toml", sparse),
        "skills.toml",
        12,
        "the 2 skills must have the ids 0 to 1",
    );
    let negative = edit(MONSTERS, "id = 0", "id = -1");
    assert_refused(
        &with("monsters.toml", negative),
        "monsters.toml",
        2,
        "id -1",
    );
}

#[test]
fn a_duplicate_name_is_refused() {
    let dup = edit(SKILLS, "name = \"bolt\"", "name = \"hit\"");
    assert_refused(&with("skills.toml", dup), "skills.toml", 13, "given twice");
    let bad = edit(SKILLS, "name = \"bolt\"", "name = \"Bolt\"");
    assert_refused(&with("skills.toml", bad), "skills.toml", 13, "lowercase");
}

#[test]
fn an_unknown_skill_name_in_a_monster_is_refused_on_its_line() {
    let unknown = edit(
        MONSTERS,
        "skills = [\"hit\"]",
        "skills = [\n  \"hit\",\n  \"kick\",\n]",
    );
    assert_refused(
        &with("monsters.toml", unknown),
        "monsters.toml",
        13,
        "unknown skill \"kick\"",
    );
}

#[test]
fn an_unknown_skill_name_in_the_rules_is_refused() {
    let unknown = edit(RULES, "auto_attack = \"hit\"", "auto_attack = \"punch\"");
    assert_refused(
        &with("rules.toml", unknown),
        "rules.toml",
        2,
        "unknown skill \"punch\"",
    );
    let without = edit(RULES, "[\"hit\", \"bolt\"]", "[\"bolt\"]");
    assert_refused(
        &with("rules.toml", without),
        "rules.toml",
        3,
        "include the auto-attack",
    );
}

#[test]
fn an_out_of_range_value_says_what_is_allowed() {
    let pct = edit(RULES, "miss_pct = 5", "miss_pct = 150");
    assert_refused(
        &with("rules.toml", pct),
        "rules.toml",
        7,
        "miss_pct is 150: it must be from 0 to 100",
    );
    let far = edit(SKILLS, "range_m = 25", "range_m = 1e9");
    assert_refused(&with("skills.toml", far), "skills.toml", 20, "range_m");
    let nan = edit(SKILLS, "range_m = 25", "range_m = nan");
    assert_refused(&with("skills.toml", nan), "skills.toml", 20, "range_m");
    let neg = edit(SKILLS, "range_m = 2.5", "range_m = -2.5");
    assert_refused(&with("skills.toml", neg), "skills.toml", 9, "range_m");
    let leash = edit(MONSTERS, "leash_m = 20", "leash_m = 4");
    assert_refused(
        &with("monsters.toml", leash),
        "monsters.toml",
        10,
        "leash_m",
    );
}

#[test]
fn an_unwalkable_spawn_cell_is_refused_on_its_line() {
    let blocked = edit(SPAWNS, "cell = [7, 7]", "cell = [5, 5]");
    assert_refused(
        &with("field.spawns.toml", blocked),
        "field.spawns.toml",
        5,
        "not a walkable cell of map \"field\"",
    );
    let outside = edit(SPAWNS, "respawn = [1, 1]", "respawn = [10, 1]");
    assert_refused(
        &with("field.spawns.toml", outside),
        "field.spawns.toml",
        1,
        "respawn [10, 1] is outside map \"field\"",
    );
}

#[test]
fn an_unknown_monster_in_a_group_is_refused_on_its_line() {
    let unknown = edit(SPAWNS, "\"rat\"", "\"dragon\"");
    assert_refused(
        &with("field.spawns.toml", unknown),
        "field.spawns.toml",
        4,
        "unknown monster \"dragon\"",
    );
}

#[test]
fn spawns_for_an_unknown_map_are_refused() {
    assert_refused(
        &with("swamp.spawns.toml", SPAWNS),
        "swamp.spawns.toml",
        1,
        "no map named \"swamp\"",
    );
}

#[test]
fn level_experience_must_strictly_increase() {
    let flat = edit(LEVELS, "experience = 100", "experience = 0");
    assert_refused(
        &with("levels.toml", flat),
        "levels.toml",
        9,
        "must strictly increase",
    );
    let first = edit(LEVELS, "experience = 0", "experience = 5");
    assert_refused(
        &with("levels.toml", first),
        "levels.toml",
        2,
        "level 1 needs experience 0",
    );
}

#[test]
fn a_missing_file_is_refused_with_line_zero() {
    let files: Vec<_> = base()
        .into_iter()
        .filter(|(n, _)| *n != "rules.toml")
        .collect();
    assert_refused(&files, "rules.toml", 0, "rules.toml is missing");
}

#[test]
fn an_unknown_file_is_refused_with_line_zero() {
    assert_refused(
        &with("quests.toml", ""),
        "quests.toml",
        0,
        "unknown content file \"quests.toml\"",
    );
    assert_refused(&with(".spawns.toml", ""), ".spawns.toml", 0, "unknown");
}

#[test]
fn a_file_given_twice_is_refused() {
    let mut files = base();
    files.push(("more/skills.toml", SKILLS));
    assert_refused(&files, "more/skills.toml", 0, "given twice");
}

#[test]
fn skills_must_make_sense() {
    let heal_enemy = edit(SKILLS, "effect = \"damage\"", "effect = \"heal\"");
    assert_refused(&with("skills.toml", heal_enemy), "skills.toml", 5, "heal");
    let no_range = edit(SKILLS, "range_m = 25\n", "");
    assert_refused(
        &with("skills.toml", no_range),
        "skills.toml",
        15,
        "range_m is missing",
    );
    let bad_control = edit(
        SKILLS,
        "mana = 10\n",
        "mana = 10\ncontrol = { stun_ms = 100, speed_pct = 5 }\n",
    );
    assert_refused(
        &with("skills.toml", bad_control),
        "skills.toml",
        20,
        "stun_ms",
    );
    let bad_area = edit(
        SKILLS,
        "mana = 10\n",
        "mana = 10\narea = { square = { side_m = 3 } }\n",
    );
    assert_refused(&with("skills.toml", bad_area), "skills.toml", 20, "square");
}

// The sample content.

fn sample_maps() -> Vec<Map> {
    SAMPLE_MAPS.iter().map(|t| Map::parse(t).unwrap()).collect()
}

#[test]
fn the_sample_loads() {
    let c = Content::sample();
    assert_eq!(
        c.maps.keys().collect::<Vec<_>>(),
        ["ember_lair", "forest", "meadow"]
    );
    assert_eq!(c.levels.max_level(), 30);
    let auto = c.skill(c.player.auto_attack).unwrap();
    assert_eq!(auto.name, "attack");
    assert_eq!((auto.cooldown_ms, auto.global_cooldown), (2000, false));
    assert_eq!(auto.range, Fixed::from_int(3));
    for m in &c.monsters {
        let basic = c.skill(m.skills[0]).unwrap();
        assert_eq!(basic.targeting, Targeting::Enemy, "{}", m.name);
        assert!(!basic.global_cooldown, "{}", m.name);
    }
    // Every kind of skill the combat code handles is in the sample.
    let has = |f: &dyn Fn(&Skill) -> bool| c.skills.iter().any(f);
    assert!(has(&|s| s.cast_ms > 0 && s.mana > 0));
    assert!(has(&|s| s.effect == SkillEffect::Heal));
    assert!(has(&|s| matches!(s.area, Area::Circle { .. })));
    assert!(has(&|s| matches!(s.area, Area::Cone { .. })));
    assert!(has(&|s| s.over_time.is_some()));
    assert!(has(&|s| matches!(s.control, Some(Control::Stun { .. }))));
    assert!(has(&|s| matches!(s.control, Some(Control::Slow { .. }))));
}

/// The sample maps are playable: their monsters stand away from where
/// players appear and from the portals, with room for every member.
#[test]
fn the_sample_spawn_groups_leave_room_around_spawns_and_portals() {
    let c = Content::sample();
    let maps = sample_maps();
    let far = |a: (u32, u32), b: (u32, u32), cells: i64| {
        let (dx, dy) = (a.0 as i64 - b.0 as i64, a.1 as i64 - b.1 as i64);
        dx * dx + dy * dy >= cells * cells
    };
    let mut total = 0;
    for map in &maps {
        let content = c.map(map.name()).expect("every sample map has spawns");
        // Where players appear: the spawn, and where portals lead to.
        let mut arrivals = vec![map.spawn_cell(), content.respawn];
        for other in &maps {
            for p in other.portals() {
                if p.target_map == map.name() {
                    arrivals.push(p.target_cell);
                }
            }
        }
        let mut count = 0;
        for g in &content.groups {
            count += g.count as usize;
            for &a in &arrivals {
                assert!(far(g.cell, a, 15), "{}: group at {:?}", map.name(), g.cell);
            }
            for p in map.portals() {
                let reach = g.radius_cells as i64 + 5;
                assert!(far(g.cell, p.cell, reach), "{}: {:?}", map.name(), g.cell);
            }
            let r = g.radius_cells as i64;
            let mut room = 0;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (x, y) = (g.cell.0 as i64 + dx, g.cell.1 as i64 + dy);
                    if dx * dx + dy * dy <= r * r
                        && x >= 0
                        && y >= 0
                        && map.is_walkable(map.cell_center((x as u32, y as u32)))
                    {
                        room += 1;
                    }
                }
            }
            assert!(room >= g.count as usize * 2, "{}: {:?}", map.name(), g);
        }
        // A raid map's monsters come from its raid, not spawn groups.
        let raid_map = c.raids.iter().any(|r| r.fight.map == map.name());
        assert!(
            (20..=40).contains(&count) || (raid_map && count == 0),
            "{}: {count} monsters",
            map.name()
        );
        total += count;
    }
    assert!(total > 0);
}

#[test]
fn cells_are_checked_against_the_parsed_maps() {
    let maps = sample_maps();
    let files = |spawns: &'static str| {
        let mut files = SAMPLE_CONTENT.to_vec();
        files.retain(|(n, _)| !n.ends_with(".spawns.toml"));
        files.push(("meadow.spawns.toml", spawns));
        files
    };
    let ok = Content::load_for_maps(&files("respawn = [40, 60]\n"), &maps).unwrap();
    assert_eq!(ok.map("meadow").unwrap().respawn, (40, 60));
    let wall = Content::load_for_maps(&files("\nrespawn = [0, 60]\n"), &maps).unwrap_err();
    assert_eq!((wall.file.as_str(), wall.line), ("meadow.spawns.toml", 2));
    assert!(wall.message.contains("not a walkable cell"), "{wall}");
    let outside = Content::load_for_maps(&files("respawn = [160, 60]\n"), &maps).unwrap_err();
    assert!(
        outside.message.contains("outside map \"meadow\""),
        "{outside}"
    );
}
