//! An index of registered patterns that narrows conflict checks: Go 1.22's
//! routing_index.go.
//!
//! Registering a pattern must compare it with every registered pattern it might conflict
//! with. Most cannot: a pattern with the literal `b` in its second segment never
//! conflicts with one that has `c` there. The index maps (position, literal) and
//! (position, wildcard) to patterns, so a registration only compares against the
//! patterns at its most selective literal position (plus every multi pattern, which
//! are few). Registering N routes is then close to linear instead of quadratic.

use super::pattern::Pattern;
use std::collections::HashMap;
use std::sync::Arc;

/// Go's `routingIndex`.
#[derive(Default)]
pub(crate) struct RoutingIndex {
    /// (segment position, literal or "" for a wildcard) -> patterns with that there.
    /// Only patterns that do not end in a multi wildcard are here.
    segments: HashMap<(usize, Vec<u8>), Vec<Arc<Pattern>>>,
    /// Every pattern that ends in a multi wildcard (a trailing slash or `{x...}`).
    multis: Vec<Arc<Pattern>>,
}

impl RoutingIndex {
    /// Go's `addPattern`.
    pub(crate) fn add_pattern(&mut self, pat: &Arc<Pattern>) {
        if pat.last_segment().multi {
            self.multis.push(pat.clone());
            return;
        }
        for (pos, seg) in pat.segments.iter().enumerate() {
            let key = if seg.wild { Vec::new() } else { seg.s.clone() };
            self.segments
                .entry((pos, key))
                .or_default()
                .push(pat.clone());
        }
    }

    fn at(&self, pos: usize, s: &[u8]) -> &[Arc<Pattern>] {
        // The key owns its bytes; building one costs an allocation per probe, which
        // registration (not matching) can afford.
        self.segments
            .get(&(pos, s.to_vec()))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// Go's `possiblyConflictingPatterns`: calls `f` on every registered pattern that
    /// might conflict with `pat` (and some that cannot), stopping at the first error.
    pub(crate) fn possibly_conflicting_patterns<E>(
        &self,
        pat: &Pattern,
        mut f: impl FnMut(&Pattern) -> Result<(), E>,
    ) -> Result<(), E> {
        // A "dollar" pattern ends in {$}, a "multi" pattern in a trailing slash or
        // {x...}; any other is "ordinary". Multi patterns are not indexed: check all.
        for p in &self.multis {
            f(p)?;
        }
        if pat.last_segment().is_dollar() {
            // Every path a dollar pattern matches ends in a slash, and no path an
            // ordinary pattern matches does: only dollar patterns with the {$} in the
            // same place (or multis, done above) can conflict.
            for p in self.at(pat.segments.len() - 1, b"/") {
                f(p)?;
            }
            return Ok(());
        }
        // Otherwise a conflicting pattern has, at each literal position of pat, the
        // same literal or a wildcard. Use the position with the fewest such patterns.
        type Candidates<'a> = (&'a [Arc<Pattern>], &'a [Arc<Pattern>]);
        let mut best: Option<Candidates<'_>> = None;
        let mut min = usize::MAX;
        for (i, seg) in pat.segments.iter().enumerate() {
            if seg.multi {
                break;
            }
            if !seg.wild {
                let lpats = self.at(i, &seg.s);
                let wpats = self.at(i, b"");
                if lpats.len() + wpats.len() < min {
                    min = lpats.len() + wpats.len();
                    best = Some((lpats, wpats));
                }
            }
        }
        if let Some((lpats, wpats)) = best {
            for p in lpats.iter().chain(wpats) {
                f(p)?;
            }
            return Ok(());
        }
        // All wildcards: check against everything.
        for pats in self.segments.values() {
            for p in pats {
                f(p)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::pattern::parse_pattern;
    use super::*;

    // Go's TestIndex idea: the index must return every pattern that really conflicts
    // (a superset is fine). Checked against brute force over a pattern zoo.
    #[test]
    fn finds_every_conflict_brute_force_does() {
        let zoo = [
            "/a",
            "/a/b",
            "/a/{x}",
            "/b",
            "/{x}",
            "/{x}/{y}",
            "/{x}/b",
            "/a/{x}/c",
            "/a/b/{$}",
            "/a/{$}",
            "/{$}",
            "/a/",
            "/",
            "/a/{x...}",
            "/{x}/{$}",
            "/c/d/e",
            "/{x}/d/{y}",
            "GET /a",
            "HEAD /a/{x}",
            "POST /{x}",
            "GET /a/",
            "a.com/",
            "a.com/a",
            "/b/{x}",
        ];
        let pats: Vec<Arc<Pattern>> = zoo
            .iter()
            .map(|s| Arc::new(parse_pattern(s).unwrap()))
            .collect();
        for n in 0..pats.len() {
            let mut idx = RoutingIndex::default();
            for p in &pats[..n] {
                idx.add_pattern(p);
            }
            for q in &pats {
                let mut seen = Vec::new();
                idx.possibly_conflicting_patterns::<()>(q, |p| {
                    seen.push(p.str.clone());
                    Ok(())
                })
                .unwrap();
                for p in &pats[..n] {
                    if q.conflicts_with(p) {
                        assert!(seen.contains(&p.str), "{} vs {}: missed", q.str, p.str);
                    }
                }
            }
        }
    }

    #[test]
    fn stops_at_the_first_error() {
        let mut idx = RoutingIndex::default();
        for s in ["/", "/a/", "/b/"] {
            idx.add_pattern(&Arc::new(parse_pattern(s).unwrap()));
        }
        let mut calls = 0;
        let r = idx.possibly_conflicting_patterns(&parse_pattern("/x").unwrap(), |_| {
            calls += 1;
            Err("stop")
        });
        assert_eq!((r, calls), (Err("stop"), 1));
    }
}
