//! Applying a profile to a declaration: lane, reasons, duty estimate.

use super::knapsack::{self, Group};
use super::{
    DutyEstimate, DutyLine, Evaluation, Lane, Measure, Reason, RulesProfile, Treatment,
    group_thousands,
};
use crate::domain::{Answers, Category, CategoryGroup, Declared, Item};
use std::collections::{BTreeMap, BTreeSet};

/// Evaluate `declared` under `profile`. Never panics; an item in a currency the profile
/// has no rate for is left to the officer (`rules.unknown_currency`, RED).
pub fn evaluate(profile: &RulesProfile, declared: &Declared) -> Evaluation {
    let mut reasons = answer_reasons(&declared.answers);
    let mut ev = Engine {
        profile,
        declared,
        lines: vec![None; declared.items.len()],
        reasons: Vec::new(),
        allowance_used: 0,
        allowance_total: 0,
    };
    ev.screen();
    ev.alcohol();
    ev.tobacco();
    ev.perfume();
    ev.other_goods();

    let over = ev.reasons.iter().any(|r| r.code.starts_with("allowance."));
    reasons.append(&mut ev.reasons);
    if over && !declared.answers.over_allowance {
        reasons.push(Reason::new("answer.over_allowance_inconsistent"));
    }
    let lines: Vec<DutyLine> = ev.lines.into_iter().flatten().collect();
    let sum = lines
        .iter()
        .fold(0u64, |a, l| a.saturating_add(l.duty_yen()));
    let step = profile.duty.total_rounded_down_to_yen.max(1);
    let duty = DutyEstimate {
        total_yen: sum / step * step,
        officer_assessment_needed: lines
            .iter()
            .any(|l| matches!(l.treatment, Treatment::OfficerAssesses { .. })),
        allowance_used_yen: ev.allowance_used,
        allowance_total_yen: ev.allowance_total,
        lines,
    };
    Evaluation {
        profile_id: profile.id.clone(),
        lane: if reasons.is_empty() {
            Lane::Green
        } else {
            Lane::Red
        },
        reasons,
        duty,
    }
}

fn answer_reasons(a: &Answers) -> Vec<Reason> {
    let mut r = Vec::new();
    for (yes, code) in [
        (a.prohibited, "answer.prohibited"),
        (a.over_allowance, "answer.over_allowance"),
        (a.commercial, "answer.commercial"),
        (a.for_others, "answer.for_others"),
        (a.means_of_payment_over_limit, "answer.means_of_payment"),
        (a.precious_metal_over_1kg, "answer.precious_metal"),
    ] {
        if yes {
            r.push(Reason::new(code));
        }
    }
    if a.unaccompanied_packages > 0 {
        r.push(Reason::new("answer.unaccompanied").with("packages", a.unaccompanied_packages));
    }
    r
}

/// Articles of equal value in one pool (`true` = a child pool): the group and the
/// lines it came from, with their article counts.
type PoolGroup = (bool, Group, Vec<(usize, u64)>);

struct Engine<'a> {
    profile: &'a RulesProfile,
    declared: &'a Declared,
    lines: Vec<Option<DutyLine>>,
    reasons: Vec<Reason>,
    allowance_used: u64,
    allowance_total: u64,
}

fn yen(n: u64) -> String {
    format!("¥{}", group_thousands(n))
}

fn free(why: &str) -> Treatment {
    Treatment::Free {
        why: why.to_owned(),
    }
}

fn officer(why: &str) -> Treatment {
    Treatment::OfficerAssesses {
        why: why.to_owned(),
    }
}

/// What a category's quantities count, and the line's total in that measure
/// (`None` when the volume or weight it needs is missing).
fn measure_of(item: &Item) -> Option<(Measure, u64)> {
    let qty = u64::from(item.quantity);
    match item.category.group() {
        CategoryGroup::Alcohol | CategoryGroup::Perfume => {
            item.volume_ml.map(|v| (Measure::Ml, u64::from(v) * qty))
        }
        CategoryGroup::Tobacco if item.category == Category::OtherTobacco => {
            item.weight_g.map(|w| (Measure::Grams, u64::from(w) * qty))
        }
        CategoryGroup::Tobacco => Some((Measure::Units, qty)),
        // A line of quantity 0 is taken as one article (or set).
        CategoryGroup::OtherGoods => Some((Measure::Articles, qty.max(1))),
    }
}

fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    if c == 0 {
        return 0;
    }
    u64::try_from(u128::from(a) * u128::from(b) / u128::from(c)).unwrap_or(u64::MAX)
}

impl Engine<'_> {
    fn members(&self) -> (u64, u64, u64) {
        let p = &self.declared.party;
        (
            u64::from(p.aged_20_plus),
            u64::from(p.aged_6_to_19),
            u64::from(p.under_6),
        )
    }

    fn value(&self, i: usize) -> u64 {
        self.profile
            .to_yen(&self.declared.items[i].value)
            .unwrap_or(0)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one flat constructor for the line record"
    )]
    fn set(
        &mut self,
        i: usize,
        measure: Measure,
        total: u64,
        free_q: u64,
        value: u64,
        value_dutiable: u64,
        t: Treatment,
    ) {
        let free_q = free_q.min(total);
        self.lines[i] = Some(DutyLine {
            item: i,
            category: self.declared.items[i].category,
            measure,
            quantity_total: total,
            quantity_free: free_q,
            quantity_dutiable: total - free_q,
            value_yen: value,
            value_dutiable_yen: value_dutiable,
            treatment: t,
        });
    }

    /// Lines the officer must take as they are: unknown currency, missing volume/weight.
    fn screen(&mut self) {
        let mut unknown = BTreeSet::new();
        let declared = self.declared;
        for (i, item) in declared.items.iter().enumerate() {
            let qty = u64::from(item.quantity);
            if self.profile.to_yen(&item.value).is_none() {
                unknown.insert(item.value.currency.to_string());
                let (m, total) = measure_of(item).unwrap_or((Measure::Units, qty));
                self.set(i, m, total, 0, 0, 0, officer("unknown_currency"));
            } else if measure_of(item).is_none() {
                self.reasons
                    .push(Reason::new("rules.incomplete_item").with("item", i + 1));
                let v = self.value(i);
                self.set(i, Measure::Units, qty, 0, v, v, officer("incomplete_item"));
            }
        }
        for c in unknown {
            self.reasons
                .push(Reason::new("rules.unknown_currency").with("currency", c));
        }
    }

    /// Open lines of a group: (index, total in its measure).
    fn open(&self, group: CategoryGroup) -> Vec<(usize, Measure, u64)> {
        self.declared
            .items
            .iter()
            .enumerate()
            .filter(|(i, it)| it.category.group() == group && self.lines[*i].is_none())
            .filter_map(|(i, it)| measure_of(it).map(|(m, t)| (i, m, t)))
            .collect()
    }

    fn alcohol(&mut self) {
        let mut open = self.open(CategoryGroup::Alcohol);
        if open.is_empty() {
            return;
        }
        let (adults, _, _) = self.members();
        let allowed = adults.saturating_mul(self.profile.alcohol.allowance_ml_per_adult);
        let declared_ml = open.iter().fold(0u64, |a, l| a.saturating_add(l.2));
        // Highest rate first: the allowance then exempts the most duty.
        let (profile, declared) = (self.profile, self.declared);
        let items = &declared.items;
        open.sort_by_key(|(i, _, _)| {
            (
                std::cmp::Reverse(profile.alcohol_rate(items[*i].category)),
                *i,
            )
        });
        let mut left = allowed;
        for (i, m, total) in open {
            let f = total.min(left);
            left -= f;
            let value = self.value(i);
            let rate = profile.alcohol_rate(items[i].category);
            let dutiable = total - f;
            let t = if dutiable == 0 {
                free("within_allowance")
            } else {
                Treatment::Dutiable {
                    rate: format!("¥{rate}/L"),
                    base: format!("{}.{:03} L", dutiable / 1000, dutiable % 1000),
                    duty_yen: mul_div(dutiable, rate, 1000),
                }
            };
            let vd = mul_div(value, dutiable, total);
            self.set(i, m, total, f, value, vd, t);
        }
        if declared_ml > allowed {
            if adults == 0 {
                self.age_restricted();
            } else {
                self.reasons.push(
                    Reason::new("allowance.alcohol_exceeded")
                        .with("declared_ml", declared_ml)
                        .with("allowed_ml", allowed),
                );
            }
        }
    }

    fn age_restricted(&mut self) {
        if !self
            .reasons
            .iter()
            .any(|r| r.code == "allowance.age_restricted")
        {
            self.reasons.push(Reason::new("allowance.age_restricted"));
        }
    }

    fn tobacco(&mut self) {
        let mut open = self.open(CategoryGroup::Tobacco);
        if open.is_empty() {
            return;
        }
        let (adults, _, _) = self.members();
        let (profile, declared) = (self.profile, self.declared);
        let tob = &profile.tobacco;
        let points = profile.tobacco_points_per_allowance().unwrap_or(1).max(1);
        let items = &declared.items;
        // Weight of one unit of a kind, in points (a whole allowance = `points`).
        let ppu = |c: Category| {
            points
                / tob
                    .limits_per_adult
                    .get(c.code())
                    .copied()
                    .unwrap_or(points)
                    .max(1)
        };
        let rate = |c: Category| tob.rates_yen_per_unit.get(c.code()).copied();
        let declared_pts: u128 = open
            .iter()
            .map(|(i, _, t)| u128::from(*t) * u128::from(ppu(items[*i].category)))
            .sum();
        let allowed_pts = u128::from(adults) * u128::from(points);
        // Kinds an officer assesses first (their duty is the heaviest: cigars are taxed by
        // weight), then the highest duty per point of allowance.
        open.sort_by_key(|(i, _, _)| {
            let c = items[*i].category;
            let per_point = rate(c).map_or(u128::MAX, |r| {
                u128::from(r) * u128::from(points) / u128::from(ppu(c).max(1))
            });
            (std::cmp::Reverse(per_point), *i)
        });
        let mut left = allowed_pts;
        for (i, m, total) in open {
            let c = items[i].category;
            let w = u128::from(ppu(c).max(1));
            let f = u64::try_from((left / w).min(u128::from(total))).unwrap_or(total);
            left -= u128::from(f) * w;
            let dutiable = total - f;
            let unit = match c {
                Category::OtherTobacco => "g",
                Category::Cigars => "cigar",
                Category::HeatedTobaccoCapsules => "capsule",
                _ => "stick",
            };
            let t = match (dutiable, rate(c)) {
                (0, _) => free("within_allowance"),
                (_, None) => officer("no_simplified_rate"),
                (d, Some(r)) => Treatment::Dutiable {
                    rate: format!("¥{r}/{unit}"),
                    base: format!("{d} {unit}{}", if d == 1 || unit == "g" { "" } else { "s" }),
                    duty_yen: d.saturating_mul(r),
                },
            };
            let value = self.value(i);
            self.set(i, m, total, f, value, mul_div(value, dutiable, total), t);
        }
        if declared_pts > allowed_pts {
            if adults == 0 {
                self.age_restricted();
            } else {
                let pct = (declared_pts * 100 + u128::from(points) / 2) / u128::from(points);
                self.reasons.push(
                    Reason::new("allowance.tobacco_exceeded")
                        .with("declared_percent", pct)
                        .with("allowed_percent", adults * 100),
                );
            }
        }
    }

    fn perfume(&mut self) {
        let mut open = self.open(CategoryGroup::Perfume);
        if open.is_empty() {
            return;
        }
        let (a, b, c) = self.members();
        let allowed = (a + b + c).saturating_mul(self.profile.perfume.allowance_ml_per_person);
        let declared_ml = open.iter().fold(0u64, |s, l| s.saturating_add(l.2));
        let vals: Vec<u64> = (0..self.declared.items.len())
            .map(|i| self.value(i))
            .collect();
        // Dearest per ml first: the excess is taxed pro rata on value.
        open.sort_by(|x, y| {
            let lhs = u128::from(vals[y.0]) * u128::from(x.2);
            let rhs = u128::from(vals[x.0]) * u128::from(y.2);
            lhs.cmp(&rhs).then(x.0.cmp(&y.0))
        });
        let mut left = allowed;
        for (i, m, total) in open {
            let f = total.min(left);
            left -= f;
            let dutiable = total - f;
            let value = vals[i];
            let vd = mul_div(value, dutiable, total);
            let t = if dutiable == 0 {
                free("within_allowance")
            } else {
                let unit_value = value / u64::from(self.declared.items[i].quantity.max(1));
                self.other_goods_treatment(unit_value, vd)
            };
            self.set(i, m, total, f, value, vd, t);
        }
        if declared_ml > allowed {
            self.reasons.push(
                Reason::new("allowance.perfume_exceeded")
                    .with("declared_ml", declared_ml)
                    .with("allowed_ml", allowed),
            );
        }
    }

    /// Dutiable at the other-goods rate, or officer-assessed when one article's customs
    /// value is over the simplified-rate ceiling.
    fn other_goods_treatment(&self, max_article_yen: u64, dutiable_yen: u64) -> Treatment {
        let p = self.profile;
        if p.customs_value(max_article_yen)
            > p.other_goods.simplified_rate_ceiling_customs_value_yen
        {
            return officer("customs_value_over_ceiling");
        }
        Treatment::Dutiable {
            rate: format!("{}% of customs value", p.other_goods.rate_percent),
            base: format!("{} customs value", yen(p.customs_value(dutiable_yen))),
            duty_yen: p.other_goods_duty(dutiable_yen),
        }
    }

    fn other_goods(&mut self) {
        let (a, b, c) = self.members();
        let (profile, declared) = (self.profile, self.declared);
        let og = &profile.other_goods;
        let gencap = (a + b).saturating_mul(og.allowance_yen_per_person);
        let childcap = c.saturating_mul(og.allowance_yen_per_person);
        self.allowance_total = gencap.saturating_add(childcap);
        let open = self.open(CategoryGroup::OtherGoods);
        if open.is_empty() {
            return;
        }
        let items = &declared.items;
        let vals: Vec<u64> = (0..items.len()).map(|i| self.value(i)).collect();

        // Per-kind rule: a kind (category + description) totalling ≤ threshold is free.
        let kind = |i: usize| {
            let d = items[i]
                .description
                .as_ref()
                .map(|d| d.as_str().trim().to_lowercase());
            (items[i].category, d)
        };
        let mut kind_total: BTreeMap<(Category, Option<String>), u64> = BTreeMap::new();
        for (i, _, _) in &open {
            let e = kind_total.entry(kind(*i)).or_default();
            *e = e.saturating_add(vals[*i]);
        }
        let mut counted = Vec::new();
        for (i, m, n) in open {
            let v = vals[i];
            if kind_total.get(&kind(i)).copied().unwrap_or(u64::MAX)
                <= og.per_kind_free_threshold_yen
            {
                self.set(i, m, n, n, v, 0, free("per_kind_under_threshold"));
            } else if u128::from(v) > u128::from(og.single_article_threshold_yen) * u128::from(n) {
                // Single article over the threshold: full value, never inside the allowance.
                self.reasons.push(
                    Reason::new("allowance.single_article_over_limit")
                        .with("item", i + 1)
                        .with("value_yen", v / n)
                        .with("limit_yen", og.single_article_threshold_yen),
                );
                let t = self.other_goods_treatment(v.div_ceil(n), v);
                self.set(i, m, n, 0, v, v, t);
            } else {
                counted.push((i, n));
            }
        }
        if counted.is_empty() {
            return;
        }

        // Articles: a line of n articles worth v is r = v mod n articles of ⌊v/n⌋+1 and
        // n−r of ⌊v/n⌋. Equal values merge into one group (per pool).
        let child_pool = childcap > 0;
        let mut keys: BTreeMap<(bool, u64), usize> = BTreeMap::new();
        let mut groups: Vec<PoolGroup> = Vec::new();
        for &(i, n) in &counted {
            let v = vals[i];
            let (u, r) = (v / n, v % n);
            let is_child = child_pool && items[i].for_child;
            for (value, count) in [(u.saturating_add(1), r), (u, n - r)] {
                if count == 0 {
                    continue;
                }
                let gi = *keys.entry((is_child, value)).or_insert_with(|| {
                    groups.push((is_child, Group { value, count: 0 }, Vec::new()));
                    groups.len() - 1
                });
                groups[gi].1.count += count;
                groups[gi].2.push((i, count));
            }
        }
        let counted_total = counted
            .iter()
            .fold(0u64, |s, (i, _)| s.saturating_add(vals[*i]));
        let gen_groups: Vec<Group> = groups.iter().filter(|g| !g.0).map(|g| g.1).collect();
        let child_groups: Vec<Group> = groups.iter().filter(|g| g.0).map(|g| g.1).collect();
        let sum = |gs: &[Group]| {
            gs.iter().fold(0u64, |s, g| {
                s.saturating_add(g.value.saturating_mul(g.count))
            })
        };
        // Fast path: everything fits (the gate re-evaluates on every scan).
        let fits = counted_total <= gencap
            || (sum(&gen_groups) <= gencap && sum(&child_groups) <= childcap);
        let takes: Vec<u64> = if fits {
            groups.iter().map(|g| g.1.count).collect()
        } else {
            let al = knapsack::allot(&gen_groups, &child_groups, gencap, childcap);
            let (mut gi, mut ci) = (al.general_only.into_iter(), al.child.into_iter());
            groups
                .iter()
                .map(|g| if g.0 { ci.next() } else { gi.next() }.unwrap_or(0))
                .collect()
        };

        // Back to lines: free articles and value per line.
        let mut free_n: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        for ((_, g, members), mut take) in groups.iter().zip(takes) {
            for (i, count) in members {
                let k = take.min(*count);
                take -= k;
                let e = free_n.entry(*i).or_default();
                e.0 += k;
                e.1 = e.1.saturating_add(k.saturating_mul(g.value));
            }
        }
        let mut any_dutiable = false;
        for (i, n) in counted {
            let v = vals[i];
            let (f, fv) = free_n.get(&i).copied().unwrap_or((0, 0));
            self.allowance_used = self.allowance_used.saturating_add(fv);
            let vd = v.saturating_sub(fv);
            let t = if f >= n {
                free("within_allowance")
            } else {
                any_dutiable = true;
                self.other_goods_treatment(v.div_ceil(n), vd)
            };
            self.set(i, Measure::Articles, n, f, v, vd, t);
        }
        if any_dutiable {
            self.reasons.push(
                Reason::new("allowance.other_goods_exceeded")
                    .with("counted_yen", counted_total)
                    .with("allowance_yen", self.allowance_total),
            );
        }
    }
}
