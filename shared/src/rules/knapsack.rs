//! Exact allotment of the other-goods allowance in the traveller's favour.
//!
//! With one uniform rate (15 % of the customs value) the exempted duty is maximal when
//! the exempted retail value is, so the problem is a bounded subset-sum: choose how many
//! articles of each group (articles of equal value) are free, total ≤ the allowance,
//! total as large as possible.
//!
//! Method: a reachability bitset over yen `0..=cap` (one shift-or per binary chunk of a
//! group's count, so a line of 100,000 articles costs 17 shifts) and a predecessor array
//! `first[s]` = the group at which sum `s` first became reachable, from which the chosen
//! counts are read back exactly. Memory is 2 bytes per yen of the capacity; above
//! [`DP_LIMIT_YEN`] (8.4 million yen, i.e. a party allowance beyond 41 people) a
//! largest-first greedy is used instead (not exact; unreachable with validated input
//! under JP-2026: at most 20 members × ¥200,000).
//!
//! Children's pools (under-6 members, usable only by their own articles): when every
//! child article fits, it goes there (dominance: it loses nothing). Otherwise the
//! counts placed in the child pool are enumerated — only maximal placements, at most
//! [`CHILD_COMBOS_LIMIT`] combinations — each scored by the best general fill of what
//! remains (and at most [`ENUM_BUDGET_WORDS`] bitset words of work); beyond the bound
//! the child pool is filled first (exact on its own), then the
//! general pool.

/// Articles of equal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    /// Value of one article (yen).
    pub value: u64,
    /// Number of articles.
    pub count: u64,
}

/// Largest capacity solved exactly (yen).
pub(crate) const DP_LIMIT_YEN: u64 = 1 << 23;
/// Most child-pool placements enumerated.
pub(crate) const CHILD_COMBOS_LIMIT: u64 = 4096;
/// Work bound of the enumeration, in bitset words touched (~30 ms).
const ENUM_BUDGET_WORDS: u64 = 1 << 26;

/// Reachable sums `0..=cap` as a bitset.
#[derive(Clone)]
struct Reach {
    bits: Vec<u64>,
    cap: usize,
}

impl Reach {
    fn new(cap: usize) -> Reach {
        let mut bits = vec![0u64; cap / 64 + 1];
        bits[0] = 1;
        Reach { bits, cap }
    }

    /// Add up to `count` articles of `value` (binary splitting: each chunk is one 0/1 item).
    fn add(&mut self, value: u64, count: u64) {
        if value == 0 || value > self.cap as u64 {
            return;
        }
        let mut remaining = count.min(self.cap as u64 / value);
        let mut chunk = 1u64;
        while remaining > 0 {
            let c = chunk.min(remaining);
            self.shift_or((c * value) as usize);
            remaining -= c;
            chunk = chunk.saturating_mul(2);
        }
    }

    /// bits |= bits << sh, restricted to `0..=cap`.
    fn shift_or(&mut self, sh: usize) {
        let (w, b) = (sh / 64, sh % 64);
        let n = self.bits.len();
        for i in (w..n).rev() {
            let lo = self.bits[i - w] << b;
            let hi = if b > 0 && i > w {
                self.bits[i - w - 1] >> (64 - b)
            } else {
                0
            };
            self.bits[i] |= lo | hi;
        }
        let extra = (self.cap + 1) % 64;
        if extra != 0 {
            self.bits[n - 1] &= (1u64 << extra) - 1;
        }
    }

    /// Largest reachable sum.
    fn best(&self) -> u64 {
        for (i, w) in self.bits.iter().enumerate().rev() {
            if *w != 0 {
                return (i * 64 + 63 - w.leading_zeros() as usize) as u64;
            }
        }
        0
    }
}

fn total(groups: &[Group]) -> u128 {
    groups
        .iter()
        .map(|g| u128::from(g.value) * u128::from(g.count))
        .sum()
}

/// The largest total ≤ `cap` and how many articles of each group make it.
pub(crate) fn best_fill(groups: &[Group], cap: u64) -> (u64, Vec<u64>) {
    let mut take = vec![0u64; groups.len()];
    let sum = total(groups);
    if sum <= u128::from(cap) {
        for (t, g) in take.iter_mut().zip(groups) {
            *t = g.count;
        }
        return (u64::try_from(sum).unwrap_or(u64::MAX), take);
    }
    // Articles of value 0 are always free; those over the cap never fit.
    let active: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].count > 0 && groups[i].value > 0 && groups[i].value <= cap)
        .collect();
    for (i, g) in groups.iter().enumerate() {
        if g.value == 0 {
            take[i] = g.count;
        }
    }
    if cap > DP_LIMIT_YEN || active.len() >= usize::from(u16::MAX) {
        return greedy(groups, &active, cap, take);
    }
    let cap_us = cap as usize;
    let mut reach = Reach::new(cap_us);
    // first[s]: 1-based position in `active` of the group at which s became reachable.
    let mut first = vec![u16::MAX; cap_us + 1];
    first[0] = 0;
    for (pos, &gi) in active.iter().enumerate() {
        let before = reach.bits.clone();
        reach.add(groups[gi].value, groups[gi].count);
        let tag = (pos + 1) as u16;
        for (wi, (now, was)) in reach.bits.iter().zip(&before).enumerate() {
            let mut d = now & !was;
            while d != 0 {
                let s = wi * 64 + d.trailing_zeros() as usize;
                if let Some(f) = first.get_mut(s) {
                    *f = tag;
                }
                d &= d - 1;
            }
        }
    }
    let best = reach.best();
    // Read back: s became reachable at group j, so s = s' + k·value with s' reachable
    // before j and 1 ≤ k ≤ count.
    let mut s = best as usize;
    let mut guard = active.len() + 1;
    while s > 0 && guard > 0 {
        guard -= 1;
        let tag = first[s];
        if tag == 0 || tag == u16::MAX {
            break;
        }
        let gi = active[usize::from(tag) - 1];
        let (v, c) = (groups[gi].value as usize, groups[gi].count);
        let mut k = 1u64;
        let mut found = false;
        while k <= c && (k as usize) * v <= s {
            let prev = s - (k as usize) * v;
            if first[prev] < tag {
                take[gi] = k;
                s = prev;
                found = true;
                break;
            }
            k += 1;
        }
        if !found {
            break;
        }
    }
    (best, take)
}

fn greedy(groups: &[Group], active: &[usize], cap: u64, mut take: Vec<u64>) -> (u64, Vec<u64>) {
    let mut order = active.to_vec();
    order.sort_by(|a, b| groups[*b].value.cmp(&groups[*a].value));
    let mut left = cap;
    for gi in order {
        let g = groups[gi];
        let k = g.count.min(left / g.value);
        take[gi] = k;
        left -= k * g.value;
    }
    (cap - left, take)
}

/// The allotment of both pools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Allotment {
    /// Free articles of each general-only group.
    pub general_only: Vec<u64>,
    /// Free articles of each child group (child pool + general pool).
    pub child: Vec<u64>,
    /// Total exempted value.
    pub exempted: u64,
}

/// Allot the general pool (`gencap`, any article) and the children's pool (`childcap`,
/// child articles only) to maximise the exempted value.
pub(crate) fn allot(
    general_only: &[Group],
    child: &[Group],
    gencap: u64,
    childcap: u64,
) -> Allotment {
    let n_gen = general_only.len();
    let combined =
        |extra: &[Group]| -> Vec<Group> { general_only.iter().chain(extra).copied().collect() };
    let split = |take: Vec<u64>| -> (Vec<u64>, Vec<u64>) {
        let (a, b) = take.split_at(n_gen.min(take.len()));
        (a.to_vec(), b.to_vec())
    };
    // No child pool in play, or every child article fits in it.
    if childcap == 0 || child.is_empty() || total(child) <= u128::from(childcap) {
        let in_child_pool = childcap > 0 && !child.is_empty();
        let pool_groups = if in_child_pool {
            combined(&[])
        } else {
            combined(child)
        };
        let (best, take) = best_fill(&pool_groups, gencap);
        let (g, mut c) = split(take);
        let mut exempted = best;
        if in_child_pool {
            c = child.iter().map(|g| g.count).collect();
            exempted = exempted.saturating_add(u64::try_from(total(child)).unwrap_or(u64::MAX));
        }
        return Allotment {
            general_only: g,
            child: c,
            exempted,
        };
    }
    // Placements in the child pool: x_j ∈ 0..=min(count, childcap / value).
    let bounds: Vec<u64> = child
        .iter()
        .map(|g| childcap.checked_div(g.value).map_or(0, |k| g.count.min(k)))
        .collect();
    let combos = bounds.iter().try_fold(1u64, |acc, b| {
        acc.checked_mul(b + 1).filter(|p| *p <= CHILD_COMBOS_LIMIT)
    });
    let exact_cap =
        gencap.min(u64::try_from(total(general_only) + total(child)).unwrap_or(u64::MAX));
    let placement = match combos {
        // Each placement costs about (child groups + 1) passes over the bitset.
        Some(n)
            if exact_cap <= DP_LIMIT_YEN
                && n.saturating_mul(exact_cap / 64 + 1)
                    .saturating_mul(child.len() as u64 + 1)
                    <= ENUM_BUDGET_WORDS =>
        {
            best_placement(general_only, child, &bounds, gencap, childcap)
        }
        _ => best_fill(child, childcap).1,
    };
    let rest: Vec<Group> = child
        .iter()
        .zip(&placement)
        .map(|(g, x)| Group {
            value: g.value,
            count: g.count - x,
        })
        .collect();
    let (gbest, take) = best_fill(&combined(&rest), gencap);
    let (g, c_gen) = split(take);
    let child_sum = child.iter().zip(&placement).fold(0u64, |s, (g, x)| {
        s.saturating_add(g.value.saturating_mul(*x))
    });
    Allotment {
        general_only: g,
        child: placement.iter().zip(&c_gen).map(|(a, b)| a + b).collect(),
        exempted: gbest.saturating_add(child_sum),
    }
}

/// Enumerate maximal child-pool placements; return the one with the best total.
fn best_placement(
    general_only: &[Group],
    child: &[Group],
    bounds: &[u64],
    gencap: u64,
    childcap: u64,
) -> Vec<u64> {
    let cap =
        gencap.min(u64::try_from(total(general_only) + total(child)).unwrap_or(u64::MAX)) as usize;
    let mut base = Reach::new(cap);
    for g in general_only {
        base.add(g.value, g.count);
    }
    let mut x = vec![0u64; child.len()];
    let mut best: Option<(u64, Vec<u64>)> = None;
    loop {
        let sum = child.iter().zip(&x).fold(0u64, |s, (g, k)| {
            s.saturating_add(g.value.saturating_mul(*k))
        });
        let maximal = child
            .iter()
            .zip(&x)
            .all(|(g, k)| *k >= g.count || g.value == 0 || sum.saturating_add(g.value) > childcap);
        if sum <= childcap && maximal {
            let mut r = base.clone();
            for (g, k) in child.iter().zip(&x) {
                r.add(g.value, g.count - k);
            }
            let score = sum.saturating_add(r.best());
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, x.clone()));
            }
        }
        // Next combination (odometer).
        let mut i = 0;
        loop {
            if i == x.len() {
                return best.map(|b| b.1).unwrap_or_else(|| vec![0; child.len()]);
            }
            if x[i] < bounds[i] {
                x[i] += 1;
                break;
            }
            x[i] = 0;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(value: u64, count: u64) -> Group {
        Group { value, count }
    }

    /// Brute force over every count vector.
    fn brute(groups: &[Group], cap: u64) -> u64 {
        let mut best = 0;
        let mut x = vec![0u64; groups.len()];
        loop {
            let s: u64 = groups.iter().zip(&x).map(|(g, k)| g.value * k).sum();
            if s <= cap {
                best = best.max(s);
            }
            let mut i = 0;
            loop {
                if i == x.len() {
                    return best;
                }
                if x[i] < groups[i].count {
                    x[i] += 1;
                    break;
                }
                x[i] = 0;
                i += 1;
            }
        }
    }

    #[test]
    fn best_fill_beats_largest_first() {
        let groups = [g(120_000, 1), g(100_000, 2)];
        let (best, take) = best_fill(&groups, 200_000);
        assert_eq!(best, 200_000);
        assert_eq!(take, vec![0, 2]);
    }

    #[test]
    fn best_fill_handles_big_counts_and_word_edges() {
        let groups = [g(1, 100_000), g(63, 7), g(64, 3), g(65, 1000)];
        let (best, take) = best_fill(&groups, 150_000);
        assert_eq!(best, 150_000);
        for cap in [64_999, 64_998, 1_000, 127, 130] {
            assert_eq!(
                best_fill(&groups[1..], cap).0,
                brute(&groups[1..], cap),
                "{cap}"
            );
        }
        let s: u64 = groups.iter().zip(&take).map(|(g, k)| g.value * k).sum();
        assert_eq!(s, best);
    }

    proptest::proptest! {
        #[test]
        fn best_fill_is_exact_and_consistent(
            raw in proptest::collection::vec((1u64..400, 0u64..4), 0..7),
            cap in 0u64..1500,
        ) {
            let groups: Vec<Group> = raw.iter().map(|(v, c)| g(*v, *c)).collect();
            let (best, take) = best_fill(&groups, cap);
            let s: u64 = groups.iter().zip(&take).map(|(g, k)| g.value * k).sum();
            proptest::prop_assert_eq!(s, best);
            proptest::prop_assert!(take.iter().zip(&groups).all(|(k, g)| *k <= g.count));
            proptest::prop_assert_eq!(best, brute(&groups, cap));
        }

        #[test]
        fn allot_is_exact_for_small_cases(
            general in proptest::collection::vec((1u64..300, 0u64..3), 0..4),
            kid in proptest::collection::vec((1u64..300, 0u64..3), 0..4),
            gencap in 0u64..800,
            childcap in 0u64..800,
        ) {
            let general: Vec<Group> = general.iter().map(|(v, c)| g(*v, *c)).collect();
            let kid: Vec<Group> = kid.iter().map(|(v, c)| g(*v, *c)).collect();
            let a = allot(&general, &kid, gencap, childcap);
            // Brute force: every child placement, then the best general fill.
            let mut want = 0;
            let mut x = vec![0u64; kid.len()];
            'outer: loop {
                let cs: u64 = kid.iter().zip(&x).map(|(g, k)| g.value * k).sum();
                if cs <= childcap {
                    let rest: Vec<Group> = general.iter().copied()
                        .chain(kid.iter().zip(&x).map(|(g, k)| Group { value: g.value, count: g.count - k }))
                        .collect();
                    want = want.max(cs + brute(&rest, gencap));
                }
                let mut i = 0;
                loop {
                    if i == x.len() { break 'outer; }
                    if x[i] < kid[i].count { x[i] += 1; break; }
                    x[i] = 0;
                    i += 1;
                }
            }
            proptest::prop_assert_eq!(a.exempted, want);
            let s: u64 = general.iter().zip(&a.general_only).chain(kid.iter().zip(&a.child))
                .map(|(g, k)| g.value * k).sum();
            proptest::prop_assert_eq!(s, a.exempted);
        }
    }
}
