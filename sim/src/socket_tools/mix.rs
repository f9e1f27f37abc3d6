//! Which policy each of `mmo-bots`' bots follows: the `--mix` flag.

use super::bot::SocketPolicy;
use crate::policy::Kind;
use std::fmt;
use std::str::FromStr;

/// Which policy each bot follows: `wander=90,hotspot=10` gives 90 of every
/// 100 bots the wandering policy and 10 the crowd at the hotspot, interleaved
/// (bot `i` by `i % 100`), so every stage of a staggered start has the mix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix(Vec<(Kind, u32)>);

impl Mix {
    pub fn only(kind: Kind) -> Self {
        Mix(vec![(kind, 100)])
    }

    pub fn kind_of(&self, bot: usize) -> Kind {
        let slot = (bot % 100) as u32;
        let mut upto = 0;
        for &(kind, pct) in &self.0 {
            upto += pct;
            if slot < upto {
                return kind;
            }
        }
        // Percentages sum to 100 (checked when parsed).
        self.0.last().map_or(Kind::Idle, |&(k, _)| k)
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        for part in s.split(',') {
            let (name, pct) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected kind=percent"))?;
            let kind = Kind::from_label(name.trim())
                .filter(|k| SocketPolicy::KINDS.contains(k))
                .ok_or_else(|| {
                    let names: Vec<_> = SocketPolicy::KINDS.iter().map(|k| k.label()).collect();
                    format!("{name:?} is not one of {}", names.join(", "))
                })?;
            let pct: u32 = pct
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the percent is not a number"))?;
            parts.push((kind, pct));
        }
        let total: u32 = parts.iter().map(|&(_, p)| p).sum();
        if total != 100 {
            return Err(format!("the percentages add up to {total}, not 100"));
        }
        Ok(Mix(parts))
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, pct)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={pct}", kind.label())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_interleaves_kinds_by_percent() {
        let mix: Mix = "wander=90, hotspot=10".parse().unwrap();
        assert_eq!(mix.to_string(), "wander=90,hotspot=10");
        let hot = (0..1000)
            .filter(|&i| mix.kind_of(i) == Kind::Hotspot)
            .count();
        assert_eq!(hot, 100);
        assert_eq!(mix.kind_of(0), Kind::Wander);
        assert_eq!(mix.kind_of(95), Kind::Hotspot);
        assert_eq!(mix.kind_of(100), Kind::Wander);
        assert_eq!(Mix::only(Kind::Idle).kind_of(7), Kind::Idle);
        let fight: Mix = "fighter=80,brawler=20".parse().unwrap();
        assert_eq!(fight.kind_of(79), Kind::Fighter);
        assert_eq!(fight.kind_of(80), Kind::Brawler);
        let talk: Mix = "social=50,fighter=50".parse().unwrap();
        assert_eq!(talk.kind_of(0), Kind::Social);
        assert_eq!(talk.kind_of(50), Kind::Fighter);
        let heckle: Mix = "wander=95,heckler=5".parse().unwrap();
        assert_eq!(heckle.kind_of(95), Kind::Heckler);
        let trade: Mix = "trader=30,fighter=60,social=10".parse().unwrap();
        assert_eq!(trade.kind_of(29), Kind::Trader);
        assert_eq!(trade.kind_of(30), Kind::Fighter);
    }

    #[test]
    fn a_trader_asks_the_traders_beside_it_in_the_mix() {
        use crate::policy::ring_partners;
        let mix: Mix = "trader=10,wander=90".parse().unwrap();
        let traders: Vec<usize> = (0..1000)
            .filter(|&i| mix.kind_of(i) == Kind::Trader)
            .collect();
        let p = ring_partners(&traders, 0);
        assert_eq!(p, vec![1, 2, 3, 4, 906, 907, 908, 909]);
        assert!(!p.contains(&0));
        assert_eq!(ring_partners(&[3, 8], 8), vec![3]);
        assert!(ring_partners(&[3], 3).is_empty());
        assert!(ring_partners(&traders, 50).is_empty(), "not a trader");
    }

    #[test]
    fn a_bad_mix_is_refused_with_a_reason() {
        assert!("wander=90".parse::<Mix>().unwrap_err().contains("90"));
        assert!("flooder=100"
            .parse::<Mix>()
            .unwrap_err()
            .contains("not one of"));
        assert!("wander".parse::<Mix>().is_err());
        assert!("wander=x".parse::<Mix>().is_err());
    }
}
