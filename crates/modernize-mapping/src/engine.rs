//! Scoring every (column, field) pair, then a one-to-one assignment with explicit aggregates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use modernize::discovery::cleansing::TransformationRules;
use modernize::discovery::values::SizeUnit;
use modernize::discovery::{MappingSuggestion, Suggester};
use modernize::repo::mappings::LearnedMapping;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::normalise::{NormalisedHeader, Unit, normalise, singular, stem};
use crate::profiles::{self, CompiledProfile, Entry, ProfileDetection};
use crate::sniff::{ValueProfile, sniff};
use crate::targets::{EXACT, Expect, TARGETS, TargetSpec};

/// Below this a column stays unmapped (kept in custom_attributes) rather than guessed.
pub const DEFAULT_THRESHOLD: f64 = 0.6;
/// Confidence of a mapping the client account approved before.
const LEARNED: f64 = 0.99;
/// The engine's own suggestions never claim more than this.
const CEILING: f64 = 0.98;
/// Confidence that a column resembling nothing should stay unmapped.
const NOTHING_FITS: f64 = 0.85;
/// A size column whose unit is guessed from its values' magnitudes never claims more: a
/// threshold of 0.9 leaves it to a reviewer.
const GUESSED_UNIT_CEILING: f64 = 0.85;
const ALTERNATIVES: usize = 3;
/// Words naming the record a column describes ("Asset Notes", "Server IP"): beside a field's
/// name they add nothing to tell fields apart. Not "host" or "node", which in a VM's record name
/// the hypervisor.
const RECORD_WORDS: [&str; 8] = ["asset", "server", "device", "computer", "machine", "vm", "pc", "ci"];
/// Family stems whose numbered sizes are summed into storage_gb.
const DISK_STEMS: [&str; 6] = ["disk", "hdd", "drive", "vdisk", "volume", "harddisk"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Learned,
    Profile,
    Exact,
    Synonym,
    Partial,
    Fuzzy,
    Value,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::Learned => "learned",
            Self::Profile => "profile",
            Self::Exact => "exact",
            Self::Synonym => "synonym",
            Self::Partial => "partial",
            Self::Fuzzy => "fuzzy",
            Self::Value => "value",
        }
    }
}

#[derive(Debug, Clone)]
struct Candidate {
    target: usize,
    score: f64,
    kind: Kind,
    reason: String,
    notes: Vec<String>,
    rules: TransformationRules,
    /// Candidates of one group may share their target (summed aggregates).
    group: Option<String>,
}

/// A column known to feed no field, and why.
#[derive(Debug, Clone)]
struct Kept {
    confidence: f64,
    learned: bool,
    reason: String,
}

#[derive(Debug, Default)]
struct Plan {
    candidates: Vec<Candidate>,
    kept: Option<Kept>,
    /// Rejected earlier by this client account's reviewers.
    rejected: Vec<&'static str>,
}

struct Phrase {
    tokens: Vec<String>,
    /// The tokens stemmed, as header words are compared.
    stems: Vec<String>,
    compact: String,
    text: String,
    strength: f64,
    own_name: bool,
}

struct CompiledTarget {
    spec: &'static TargetSpec,
    phrases: Vec<Phrase>,
    /// `spec.forbidden`, stemmed.
    forbidden: Vec<String>,
}

/// The suggestions for one file, with the format it was recognised as.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapping {
    pub profile: ProfileDetection,
    pub suggestions: Vec<MappingSuggestion>,
}

/// The field-mapping engine. Build it once: target names and profiles are compiled in `new`.
pub struct Engine {
    targets: Vec<CompiledTarget>,
    /// Every word of every target's names and forbidden words, raw and stemmed: the pieces a
    /// glued header word ("PHYSICALMEMORYSIZE", "macaddress") is split into.
    vocabulary: HashSet<String>,
    threshold: f64,
    use_profiles: bool,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        // Compile the profiles now rather than on the first file.
        LazyLock::force(&profiles::PROFILES);
        let targets = TARGETS
            .iter()
            .map(|spec| {
                let mut phrases: Vec<Phrase> =
                    spec.synonyms.iter().map(|(text, strength)| phrase(text, *strength, false)).collect();
                let own = phrase(spec.name, EXACT, true);
                match phrases.iter_mut().find(|p| p.compact == own.compact) {
                    // A synonym spelled like the field's name keeps the synonym's strength.
                    Some(existing) => existing.own_name = true,
                    None => phrases.push(own),
                }
                let forbidden = spec.forbidden.iter().map(|w| stem(w)).collect();
                CompiledTarget { spec, phrases, forbidden }
            })
            .collect::<Vec<_>>();
        let vocabulary = targets
            .iter()
            .flat_map(|t| {
                let names = t.phrases.iter().flat_map(|p| p.tokens.iter().chain(&p.stems)).cloned();
                names.chain(t.spec.forbidden.iter().map(|w| (*w).to_owned())).chain(t.forbidden.iter().cloned())
            })
            .collect();
        Self { targets, vocabulary, threshold: DEFAULT_THRESHOLD, use_profiles: true }
    }

    /// The same engine without source profiles: measures what names, values and fuzzy matching
    /// achieve on their own.
    pub fn without_profiles(mut self) -> Self {
        self.use_profiles = false;
        self
    }

    /// Columns scoring below `threshold` stay unmapped.
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self
    }

    /// Maps `headers`, using `samples` (header → value records) as evidence and `learned` (the
    /// client account's reviewed decisions) as the strongest evidence of all.
    pub fn map(&self, headers: &[String], samples: &[Map<String, Value>], learned: &[LearnedMapping]) -> Mapping {
        let norms: Vec<NormalisedHeader> = headers.iter().map(|h| normalise(h)).collect();
        let detection = if self.use_profiles { profiles::detect(&norms) } else { profiles::detect(&[]) };
        let profile = profiles::compiled(detection.profile);
        let values: Vec<ValueProfile> = headers.iter().map(|h| sniff(h, samples)).collect();
        let mut words: Vec<Words> = norms.iter().map(|n| self.words(n)).collect();
        strip_shared_namespace(headers, &mut words);
        let context =
            Context { headers, norms: &norms, words: &words, values: &values, profile, detection: &detection };

        let learned: Vec<(String, &LearnedMapping)> =
            learned.iter().map(|l| (normalise(&l.source_field).compact, l)).collect();
        let mut plans: Vec<Plan> = (0..headers.len()).map(|i| self.plan(&context, i, &learned)).collect();
        penalise_later_family_members(&norms, &mut plans);
        group_disk_families(&norms, &mut plans);
        let assigned = self.assign(&plans);
        let suggestions = headers
            .iter()
            .enumerate()
            .map(|(i, header)| self.suggestion(headers, header, &plans, &assigned, i))
            .collect();
        Mapping { profile: detection, suggestions }
    }

    /// `learned`: the client account's decisions, each with its header's compact form.
    fn plan(&self, cx: &Context, i: usize, learned: &[(String, &LearnedMapping)]) -> Plan {
        let norm = &cx.norms[i];
        let mut plan = Plan::default();
        let same_header = |l: &LearnedMapping| l.source_field.trim().eq_ignore_ascii_case(cx.headers[i].trim());
        // The same header, or another spelling of it ("Memory (In MB)*" for "Memory (In MB)").
        let about_header: Vec<&LearnedMapping> = learned
            .iter()
            .filter(|(compact, l)| same_header(l) || (!norm.compact.is_empty() && *compact == norm.compact))
            .map(|(_, l)| *l)
            .collect();
        for l in about_header.iter().filter(|l| !l.approved) {
            if let Some(t) = l.target_field.as_deref().and_then(target_index) {
                plan.rejected.push(TARGETS[t].name);
            }
        }
        let approved = about_header
            .iter()
            .filter(|l| l.approved)
            .filter(|l| l.target_field.as_deref().is_none_or(|t| target_index(t).is_some()))
            .max_by(|a, b| a.last_decided_at.cmp(&b.last_decided_at).then(a.decisions.cmp(&b.decisions)));
        if let Some(l) = approved {
            let history = format!(
                "approved before in this client account ({} decision{}, last on {})",
                l.decisions,
                if l.decisions == 1 { "" } else { "s" },
                l.last_decided_at.format("%Y-%m-%d")
            );
            match l.target_field.as_deref().and_then(target_index) {
                Some(t) => {
                    let entry = cx
                        .profile
                        .and_then(|p| p.entries.get(&norm.compact))
                        .filter(|e| e.target == Some(TARGETS[t].name));
                    let (rules, notes) = self.rules(cx, i, t, entry);
                    plan.candidates.push(Candidate {
                        target: t,
                        score: LEARNED,
                        kind: Kind::Learned,
                        reason: history,
                        notes,
                        rules,
                        // Columns approved by name may share a field: the reviewers decided so.
                        group: same_header(l).then(|| "learned".to_owned()),
                    });
                }
                None => {
                    plan.kept =
                        Some(Kept { confidence: LEARNED, learned: true, reason: format!("kept unmapped: {history}") })
                }
            }
            return plan;
        }

        if let Some(entry) = cx.profile.and_then(|p| p.entries.get(&norm.compact)) {
            self.profile_candidates(cx, i, entry, &mut plan);
        } else {
            self.generic_candidates(cx, i, &mut plan);
        }
        plan.candidates.retain(|c| !plan.rejected.contains(&TARGETS[c.target].name));
        plan.candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.target.cmp(&b.target)));
        plan
    }

    fn profile_candidates(&self, cx: &Context, i: usize, entry: &Entry, plan: &mut Plan) {
        let label = cx.detection.label;
        let Some(first) = entry.target.and_then(target_index) else {
            plan.kept =
                Some(Kept { confidence: entry.confidence, learned: false, reason: format!("{label}: {}", entry.note) });
            return;
        };
        let mut targets = vec![(first, entry.confidence, entry.note.to_owned())];
        if let Some((fallback, confidence)) = entry.fallback
            && let Some(t) = target_index(fallback)
        {
            targets.push((t, confidence, format!("{} (when {} is taken)", entry.note, TARGETS[first].name)));
        }
        for (t, confidence, note) in targets {
            let (mut rules, mut notes) = self.rules(cx, i, t, Some(entry));
            rules.sum = entry.sum;
            let mut score = confidence;
            if entry.multiply_by.is_some() && rules.multiply_by_column.is_none() {
                score -= 0.15;
            }
            let evidence = evidence(TARGETS[t].expect, &cx.values[i], &rules);
            // A known column of a recognised format is not vetoed by odd values, only doubted.
            score += if evidence.veto { -0.3 } else { evidence.delta };
            notes.extend(evidence.note);
            plan.candidates.push(Candidate {
                target: t,
                score: score.min(if rules.unit_guessed { GUESSED_UNIT_CEILING } else { CEILING }),
                kind: Kind::Profile,
                reason: format!("{label}: {note}"),
                notes,
                rules,
                group: entry.sum.then(|| format!("sum:{}", TARGETS[t].name)),
            });
        }
    }

    /// The words a header is compared by: its tokens with glued words split into known ones
    /// ("hostname" → host name, "CPUNUMBER" → cpu number), and the same stemmed.
    fn words(&self, norm: &NormalisedHeader) -> Words {
        let mut raw = Vec::with_capacity(norm.tokens.len());
        for token in &norm.tokens {
            let known = self.vocabulary.contains(token) || self.vocabulary.contains(&stem(token));
            match if known { None } else { segment(token, &self.vocabulary) } {
                Some(pieces) => raw.extend(pieces),
                None => raw.push(token.clone()),
            }
        }
        let mut stems: Vec<String> = raw.iter().map(|w| stem(w)).collect();
        if norm.unit == Some(Unit::Percent) {
            // "% Used Real Memory" is the memory's utilisation.
            for word in stems.iter_mut().filter(|w| *w == "used") {
                *word = "usage".to_owned();
            }
        }
        Words { raw, stems }
    }

    fn generic_candidates(&self, cx: &Context, i: usize, plan: &mut Plan) {
        let norm = &cx.norms[i];
        let words = &cx.words[i];
        let values = &cx.values[i];
        if norm.rate || matches!(norm.unit, Some(Unit::Megahertz | Unit::Gigahertz)) {
            plan.kept = Some(Kept {
                confidence: NOTHING_FITS,
                learned: false,
                reason: "a rate or clock speed; no asset field holds one".to_owned(),
            });
            return;
        }
        for (t, target) in self.targets.iter().enumerate() {
            if !unit_fits(norm.unit, target.spec.expect) {
                continue;
            }
            let named = name_match(norm, words, target);
            let by_values = if named.as_ref().is_some_and(|(s, ..)| *s >= self.threshold) {
                None
            } else {
                value_only(target.spec.expect, values)
            };
            let Some((mut score, kind, reason)) = named.into_iter().chain(by_values).max_by(|a, b| a.0.total_cmp(&b.0))
            else {
                continue;
            };
            let loose = !matches!(kind, Kind::Exact | Kind::Synonym);
            if loose && words.stems.iter().any(|w| target.forbidden.contains(w)) {
                continue;
            }
            let (rules, mut notes) = self.rules(cx, i, t, None);
            let evidence = evidence(target.spec.expect, values, &rules);
            if evidence.veto {
                continue;
            }
            score += evidence.delta;
            notes.extend(evidence.note);
            if target.spec.expect == Expect::Size && norm.unit.is_some_and(Unit::is_size) {
                // A stated size unit is evidence of a quantity, not a label.
                score += 0.08;
                notes.push(format!("the header states a size unit ({})", norm.unit.map_or("", Unit::label)));
            } else if target.spec.expect == Expect::Size && values.has_evidence() && values.sized >= 0.8 {
                // Every value stating a size ("80 GB") is stronger evidence than a header's unit.
                score += 0.12;
            }
            if norm.custom_prefix {
                notes.push("a ServiceNow custom field (u_)".to_owned());
            }
            plan.candidates.push(Candidate {
                target: t,
                score: score.clamp(0.0, if rules.unit_guessed { GUESSED_UNIT_CEILING } else { CEILING }),
                kind,
                reason,
                notes,
                rules,
                group: None,
            });
        }
    }

    /// Transformation rules for column `i` feeding target `t`, with what was decided and why.
    fn rules(&self, cx: &Context, i: usize, t: usize, entry: Option<&Entry>) -> (TransformationRules, Vec<String>) {
        let norm = &cx.norms[i];
        let mut rules = TransformationRules::default();
        let mut notes = Vec::new();
        if TARGETS[t].expect == Expect::Size {
            let stated = norm.unit.or(entry.and_then(|e| e.unit)).and_then(Unit::size_unit);
            let values = &cx.values[i];
            let unit = match stated {
                Some(unit) => {
                    rules.unit = Some(unit);
                    Some(unit)
                }
                // Values that carry their unit ("512 MB") are converted by it, row by row.
                None if values.has_evidence() && values.sized >= 0.5 => {
                    notes.push("the values carry their unit".to_owned());
                    None
                }
                None => {
                    let guess = guess_size_unit(TARGETS[t].name, values);
                    if let Some(unit) = guess {
                        rules.unit_guessed = true;
                        notes.push(format!(
                            "no unit stated: {} guessed from the values' magnitudes (confirm it)",
                            unit.label()
                        ));
                    }
                    guess
                }
            };
            if let Some(factor) = unit.map(SizeUnit::to_gb).filter(|f| *f != 1.0) {
                rules.scale = Some(factor);
                notes.push(format!("{} → GB (×{})", unit.map_or("", SizeUnit::label), scale_label(factor)));
            }
        }
        if let Some(other) = entry.and_then(|e| e.multiply_by) {
            let keys: Vec<String> = other.split('|').map(|h| normalise(h).compact).collect();
            match cx.norms.iter().position(|n| keys.contains(&n.compact)) {
                Some(j) => {
                    rules.multiply_by_column = Some(cx.headers[j].clone());
                    notes.push(format!("multiplied by '{}'", cx.headers[j]));
                }
                None => notes.push(format!("no '{}' column to multiply by", other.split('|').next().unwrap_or(other))),
            }
        }
        (rules, notes)
    }

    /// Highest scores first; a field goes to one column, except to the members of one group
    /// (an aggregate, or columns the reviewers approved by name).
    fn assign(&self, plans: &[Plan]) -> Vec<Option<usize>> {
        let mut order: Vec<(usize, usize)> =
            plans.iter().enumerate().flat_map(|(h, p)| (0..p.candidates.len()).map(move |c| (h, c))).collect();
        order.sort_by(|&(h1, c1), &(h2, c2)| {
            let (a, b) = (&plans[h1].candidates[c1], &plans[h2].candidates[c2]);
            b.score.total_cmp(&a.score).then(h1.cmp(&h2)).then(a.target.cmp(&b.target))
        });
        let mut assigned: Vec<Option<usize>> = vec![None; plans.len()];
        let mut taken: HashMap<usize, Option<&str>> = HashMap::new();
        for (h, c) in order {
            let candidate = &plans[h].candidates[c];
            if assigned[h].is_some() || plans[h].kept.is_some() || candidate.score < self.threshold {
                continue;
            }
            let shareable = match taken.get(&candidate.target) {
                None => true,
                Some(group) => candidate.group.is_some() && candidate.group.as_deref() == *group,
            };
            if shareable {
                assigned[h] = Some(c);
                taken.entry(candidate.target).or_insert(candidate.group.as_deref());
            }
        }
        assigned
    }

    fn suggestion(
        &self,
        headers: &[String],
        header: &str,
        plans: &[Plan],
        assigned: &[Option<usize>],
        i: usize,
    ) -> MappingSuggestion {
        let plan = &plans[i];
        // The columns that were given `target`, other than this one.
        let holders = |target: usize| -> Vec<String> {
            assigned
                .iter()
                .enumerate()
                .filter(|&(j, a)| j != i && a.is_some_and(|a| plans[j].candidates[a].target == target))
                .map(|(j, _)| format!("'{}'", headers[j]))
                .collect()
        };
        let chosen = assigned[i].map(|c| &plan.candidates[c]);
        let alternatives: Vec<Value> = plan
            .candidates
            .iter()
            .filter(|c| chosen.is_none_or(|ch| ch.target != c.target))
            .take(ALTERNATIVES)
            .map(|c| {
                json!({
                    "target_field": TARGETS[c.target].name,
                    "confidence": round(c.score),
                    "reason": explain(c),
                })
            })
            .collect();
        let rejected_note = (!plan.rejected.is_empty())
            .then(|| format!("rejected before in this client account: {}", plan.rejected.join(", ")));
        let (target, confidence, match_type, mut explanation, rules) = match (chosen, &plan.kept) {
            (Some(c), _) => {
                let mut text = explain(c);
                if c.rules.sum {
                    let others = holders(c.target);
                    if !others.is_empty() {
                        text.push_str(&format!("; summed with {}", others.join(", ")));
                    }
                }
                (Some(TARGETS[c.target].name.to_owned()), c.score, c.kind.label(), text, c.rules.clone())
            }
            (None, Some(kept)) => {
                let mut text = kept.reason.clone();
                text.push_str("; kept in custom_attributes");
                let kind = if kept.learned { "learned" } else { "unmapped" };
                (None, kept.confidence, kind, text, TransformationRules::default())
            }
            (None, None) => {
                let (confidence, text) = match plan.candidates.first() {
                    Some(best) => {
                        let why = if best.score >= self.threshold {
                            format!(
                                "{} (score {:.2}) went to {}",
                                TARGETS[best.target].name,
                                best.score,
                                holders(best.target).join(", ")
                            )
                        } else {
                            format!(
                                "no field fits well enough (best: {} at {:.2}, below {:.2})",
                                TARGETS[best.target].name, best.score, self.threshold
                            )
                        };
                        ((1.0 - best.score).clamp(0.05, NOTHING_FITS), why)
                    }
                    None => (NOTHING_FITS, "no asset field resembles this column".to_owned()),
                };
                (
                    None,
                    confidence,
                    "unmapped",
                    format!("{text}; kept in custom_attributes"),
                    TransformationRules::default(),
                )
            }
        };
        if let Some(note) = rejected_note {
            explanation.push_str("; ");
            explanation.push_str(&note);
        }
        MappingSuggestion {
            source_field: header.to_owned(),
            target_field: target,
            confidence: round(confidence),
            match_type: match_type.to_owned(),
            explanation,
            alternatives: Value::Array(alternatives),
            transformation_rules: serde_json::to_value(&rules).unwrap_or_else(|_| Value::Object(Map::new())),
        }
    }
}

impl Suggester for Engine {
    fn suggest(
        &self,
        headers: &[String],
        samples: &[Map<String, Value>],
        learned: &[LearnedMapping],
    ) -> Vec<MappingSuggestion> {
        self.map(headers, samples, learned).suggestions
    }

    fn rules_for(&self, header: &str, target: &str) -> TransformationRules {
        rules_for(header, target)
    }
}

struct Context<'a> {
    headers: &'a [String],
    norms: &'a [NormalisedHeader],
    /// Each header's words as compared with the targets' names (see `Engine::words`).
    words: &'a [Words],
    values: &'a [ValueProfile],
    profile: Option<&'static CompiledProfile>,
    detection: &'a ProfileDetection,
}

/// A header's words: glued words split into known ones, a shared namespace left out (`raw`), and
/// the same stemmed (`stems`, see [`stem`]).
struct Words {
    raw: Vec<String>,
    stems: Vec<String>,
}

fn phrase(text: &str, strength: f64, own_name: bool) -> Phrase {
    let n = normalise(text);
    let stems = n.tokens.iter().map(|t| stem(t)).collect();
    Phrase { compact: n.compact, tokens: n.tokens, stems, text: text.replace('_', " "), strength, own_name }
}

/// Splits a glued word into the fewest known words of two letters or more ("physicalmemorysize"
/// → physical memory size), or None when it is not made of known words only.
fn segment(word: &str, vocabulary: &HashSet<String>) -> Option<Vec<String>> {
    if word.len() < 5 || !word.is_ascii() {
        return None;
    }
    // fewest[i]: the fewest pieces word[..i] splits into, with where its last piece starts.
    let mut fewest: Vec<Option<(usize, usize)>> = vec![None; word.len() + 1];
    fewest[0] = Some((0, 0));
    for end in 2..=word.len() {
        for start in 0..=end - 2 {
            let Some((pieces, _)) = fewest[start] else { continue };
            if vocabulary.contains(&word[start..end]) && fewest[end].is_none_or(|(best, _)| pieces + 1 < best) {
                fewest[end] = Some((pieces + 1, start));
            }
        }
    }
    let mut pieces = Vec::new();
    let mut end = word.len();
    while end > 0 {
        let (_, start) = fewest[end]?;
        pieces.push(word[start..end].to_owned());
        end = start;
    }
    pieces.reverse();
    (pieces.len() >= 2).then_some(pieces)
}

/// "server.hostName", "server.osName", …: a namespace shared by most of a file's headers names
/// the record, not the column, so it is left out of the comparison.
fn strip_shared_namespace(headers: &[String], words: &mut [Words]) {
    let namespace = |h: &str| {
        h.trim()
            .split_once('.')
            .filter(|(ns, rest)| !ns.is_empty() && !rest.is_empty())
            .map(|(ns, _)| ns.to_ascii_lowercase())
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for ns in headers.iter().filter_map(|h| namespace(h)) {
        *counts.entry(ns).or_default() += 1;
    }
    let Some((shared, count)) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))) else { return };
    if count < 3 || (count as f64) < 0.8 * headers.len() as f64 {
        return;
    }
    let prefix = normalise(&shared).tokens;
    for (h, w) in headers.iter().zip(words.iter_mut()) {
        if namespace(h).as_deref() == Some(shared.as_str()) && w.raw.len() > prefix.len() && w.raw.starts_with(&prefix)
        {
            w.raw.drain(..prefix.len());
            w.stems.drain(..prefix.len());
        }
    }
}

fn target_index(name: &str) -> Option<usize> {
    TARGETS.iter().position(|t| t.name == name)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The rules a column needs when a reviewer maps it to `target`, from its header alone: a size
/// field takes the unit the header names ("RAM (MB)" → ×1/1024).
pub fn rules_for(header: &str, target: &str) -> TransformationRules {
    let size = TARGETS.iter().any(|t| t.name == target && t.expect == Expect::Size);
    let unit = normalise(header).unit.filter(|_| size).and_then(Unit::size_unit);
    let scale = unit.map(SizeUnit::to_gb).filter(|f| *f != 1.0);
    TransformationRules { scale, unit, ..TransformationRules::default() }
}

fn scale_label(factor: f64) -> String {
    if factor < 1.0 { format!("1/{}", (1.0 / factor).round()) } else { format!("{factor}") }
}

fn explain(c: &Candidate) -> String {
    let mut text = c.reason.clone();
    for note in &c.notes {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

/// Whether a header's unit allows the target at all.
fn unit_fits(unit: Option<Unit>, expect: Expect) -> bool {
    match unit {
        None => true,
        Some(Unit::Percent) => expect == Expect::Percent,
        Some(u) if u.is_size() => expect == Expect::Size,
        Some(_) => false,
    }
}

/// The best way the header's name matches one of the target's names.
fn name_match(norm: &NormalisedHeader, words: &Words, target: &CompiledTarget) -> Option<(f64, Kind, String)> {
    let (raw, stems) = (words.raw.as_slice(), words.stems.as_slice());
    if norm.tokens.is_empty() || raw.is_empty() {
        return None;
    }
    let mut best: Option<(f64, Kind, String)> = None;
    let mut consider = |score: f64, kind: Kind, reason: String| {
        if best.as_ref().is_none_or(|(s, ..)| score > *s) {
            best = Some((score, kind, reason));
        }
    };
    let field = target.spec.name;
    let raw_compact = raw.concat();
    for p in &target.phrases {
        // The same words: spelled alike; or, for several words, stemmed alike ("Processor count"
        // is "cpu count"); or one word in the plural of the name ("applications"). A lone word
        // keeps its number: "Processor" names a model, "Processors" counts.
        let same = norm.compact == p.compact
            || raw_compact == p.compact
            || (stems.len() > 1 && stems == p.stems.as_slice())
            || (raw.len() == 1 && p.tokens.len() == 1 && singular(&raw[0]) == p.tokens[0]);
        if same {
            if p.own_name {
                consider(p.strength, Kind::Exact, format!("header is the field's own name ({field})"));
            } else {
                consider(p.strength, Kind::Synonym, format!("'{}' is a usual name for {field}", p.text));
            }
            continue;
        }
        let exactly = p.stems.iter().all(|t| stems.contains(t));
        if stems.len() == p.stems.len() && stems.len() > 1 && exactly && stems.iter().all(|w| p.stems.contains(w)) {
            consider(
                p.strength * 0.95,
                Kind::Partial,
                format!("header has the words of '{}', a name for {field}, in another order", p.text),
            );
            continue;
        }
        // Each of the name's words among the header's, or one a typo away ("MAC Adress"). The
        // cheap tests first: this runs for every (header, name) pair.
        let typo = |w: &String, t: &String| {
            w.len() >= 5
                && t.len() >= 5
                && w.len().abs_diff(t.len()) <= 2
                && w.as_bytes()[0] == t.as_bytes()[0]
                && strsim::jaro_winkler(w, t) >= 0.92
        };
        let contained = p.stems.len() < stems.len()
            && (exactly || p.stems.iter().all(|t| stems.iter().any(|w| w == t || typo(w, t))));
        if contained {
            let qualifiers =
                stems.iter().filter(|w| RECORD_WORDS.contains(&w.as_str()) && !p.stems.contains(w)).count();
            let coverage = p.stems.len() as f64 / (stems.len() - qualifiers) as f64;
            let single = if p.stems.len() == 1 { 0.9 } else { 1.0 };
            let (kind, factor, how) =
                if exactly { (Kind::Partial, 1.0, "contains") } else { (Kind::Fuzzy, 0.9, "nearly contains") };
            consider(
                p.strength * (0.55 + 0.4 * coverage) * single * factor,
                kind,
                format!("header {how} '{}', a name for {field}", p.text),
            );
            continue;
        }
        let (a, b) = (raw_compact.as_str(), p.compact.as_str());
        let (short, long) = if a.len() < b.len() { (a.len(), b.len()) } else { (b.len(), a.len()) };
        if short >= 4 && short * 10 >= long * 7 && a.as_bytes().first() == b.as_bytes().first() {
            // Word by word when both have several words: "ServicePack" must not pass for
            // "service tag" on the strength of their shared first word.
            let similarity = if raw.len() > 1 && p.tokens.len() > 1 {
                if raw.len() == p.tokens.len() {
                    raw.iter().zip(&p.tokens).map(|(x, y)| strsim::jaro_winkler(x, y)).fold(1.0, f64::min)
                } else {
                    0.0
                }
            } else {
                strsim::jaro_winkler(a, b)
            };
            if similarity >= 0.9 {
                consider(
                    p.strength * 0.85 * similarity,
                    Kind::Fuzzy,
                    format!("header resembles '{}' (similarity {similarity:.2}), a name for {field}", p.text),
                );
            }
        }
    }
    best
}

/// A column whose header says nothing may still be recognised by its values alone.
fn value_only(expect: Expect, v: &ValueProfile) -> Option<(f64, Kind, String)> {
    if !v.has_evidence() {
        return None;
    }
    let (share, score, what) = match expect {
        Expect::Ip => (v.ip, 0.7, "IP addresses"),
        Expect::Mac => (v.mac, 0.75, "MAC addresses"),
        Expect::Fqdn => (v.fqdn, 0.68, "fully qualified domain names"),
        Expect::Os => (v.os, 0.68, "operating system names"),
        Expect::Environment => (v.environment, 0.68, "environment names"),
        _ => return None,
    };
    (share >= 0.9).then(|| (score, Kind::Value, format!("{:.0}% of the sample values are {what}", share * 100.0)))
}

struct Evidence {
    delta: f64,
    veto: bool,
    note: Option<String>,
}

fn evidence(expect: Expect, v: &ValueProfile, rules: &TransformationRules) -> Evidence {
    let neutral = Evidence { delta: 0.0, veto: false, note: None };
    if !v.has_evidence() {
        return neutral;
    }
    let pct = |share: f64| format!("{:.0}%", share * 100.0);
    let boost = |what: &str, share: f64| Evidence {
        delta: 0.04,
        veto: false,
        note: Some(format!("{} of the sample values are {what}", pct(share))),
    };
    let doubt = |delta: f64, why: String| Evidence { delta, veto: false, note: Some(why) };
    let veto = |why: String| Evidence { delta: 0.0, veto: true, note: Some(why) };
    match expect {
        Expect::Ip if v.ip >= 0.7 => boost("IP addresses", v.ip),
        Expect::Ip if v.ip < 0.3 => veto("values are not IP addresses".into()),
        Expect::Mac if v.mac >= 0.7 => boost("MAC addresses", v.mac),
        Expect::Mac if v.mac < 0.3 => veto("values are not MAC addresses".into()),
        Expect::Fqdn if v.ip >= 0.5 => veto("values are IP addresses".into()),
        Expect::Fqdn if v.fqdn >= 0.6 => boost("fully qualified domain names", v.fqdn),
        Expect::Fqdn if v.host_like < 0.3 => veto("values are not host names".into()),
        Expect::Host if v.ip >= 0.5 || v.numeric >= 0.9 || v.uuid >= 0.5 => {
            veto("values are addresses, numbers or ids, not host names".into())
        }
        Expect::Host if v.multi_word >= 0.5 => doubt(-0.25, "values contain spaces, unlike host names".into()),
        Expect::Host if v.host_like >= 0.8 => boost("host names", v.host_like),
        Expect::Os if v.numeric >= 0.9 => veto("values are numbers, not operating systems".into()),
        Expect::Os if v.os >= 0.5 => boost("operating system names", v.os),
        Expect::Os if v.os < 0.1 => doubt(-0.1, "values do not name known operating systems".into()),
        Expect::Environment if v.numeric >= 0.9 => veto("values are numbers, not environments".into()),
        Expect::Environment if v.environment >= 0.6 => boost("environment names", v.environment),
        Expect::Environment if v.environment < 0.2 => doubt(-0.1, "values are not usual environment names".into()),
        Expect::Criticality if v.criticality >= 0.5 => boost("criticality levels", v.criticality),
        Expect::Count if v.numeric < 0.7 => veto("values are not numbers".into()),
        Expect::Count if v.p90.is_some_and(|m| m > 4096.0) => veto("values are too large for a core count".into()),
        Expect::Count if v.integer < 0.8 => doubt(-0.1, "values are not whole numbers".into()),
        Expect::Count => Evidence { delta: 0.02, veto: false, note: None },
        Expect::Size if v.numeric < 0.7 => veto("values are not numbers".into()),
        Expect::Size => {
            // Values that carry their unit are sniffed in GB already.
            let scale = if v.sized >= 0.5 { 1.0 } else { rules.scale.unwrap_or(1.0) };
            let factor = scale * if rules.multiply_by_column.is_some() { 2.0 } else { 1.0 };
            match v.median.map(|m| m * factor) {
                Some(gb) if !(0.1..=2_000_000.0).contains(&gb) => {
                    doubt(-0.2, format!("a median of {gb:.1} GB is implausible"))
                }
                _ => neutral,
            }
        }
        Expect::Percent if v.numeric < 0.7 => veto("values are not numbers".into()),
        Expect::Percent if v.p90.is_some_and(|m| m > 100.0) => veto("values exceed 100, not a percentage".into()),
        Expect::Percent if v.max.is_some_and(|m| m > 100.0) => doubt(-0.05, "a few values exceed 100".into()),
        Expect::Percent => Evidence { delta: 0.02, veto: false, note: None },
        Expect::Word if v.multi_word >= 0.5 => doubt(-0.2, "values contain spaces".into()),
        Expect::Text | Expect::Word if v.ip >= 0.8 => veto("values are IP addresses".into()),
        _ => neutral,
    }
}

/// Unit of a size column whose header does not say it, from the size of its values.
fn guess_size_unit(target: &str, v: &ValueProfile) -> Option<SizeUnit> {
    let median = v.median.filter(|_| v.has_evidence())?;
    if target == "memory_gb" {
        (median > 256.0).then_some(SizeUnit::Megabytes)
    } else if median >= 1e9 {
        Some(SizeUnit::Bytes)
    } else {
        (median > 50_000.0).then_some(SizeUnit::Megabytes)
    }
}

/// "IP 1", "IP 2": a plain field takes the first member of a numbered family.
fn penalise_later_family_members(norms: &[NormalisedHeader], plans: &mut [Plan]) {
    let mut first: BTreeMap<&str, u32> = BTreeMap::new();
    for n in norms {
        if let Some(f) = &n.family {
            let e = first.entry(n.compact.as_str()).or_insert(f.index);
            *e = (*e).min(f.index);
        }
    }
    for (n, plan) in norms.iter().zip(plans.iter_mut()) {
        let Some(f) = &n.family else { continue };
        if first.get(n.compact.as_str()).is_some_and(|min| f.index > *min) {
            for c in plan.candidates.iter_mut().filter(|c| c.group.is_none() && c.kind != Kind::Learned) {
                c.score *= 0.85;
                c.notes.push(format!("member {} of a numbered family; the first member is preferred", f.index));
            }
        }
    }
}

/// Disk 1..N sizes: when several members can feed storage_gb, they feed it together (summed),
/// all with the confidence of the weakest. Reviewed decisions keep their own confidence.
fn group_disk_families(norms: &[NormalisedHeader], plans: &mut [Plan]) {
    let Some(storage) = target_index("storage_gb") else { return };
    let mut families: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (n, plan)) in norms.iter().zip(plans.iter()).enumerate() {
        let Some(f) = &n.family else { continue };
        if DISK_STEMS.contains(&f.stem.as_str()) && plan.candidates.iter().any(|c| c.target == storage) {
            families.entry(format!("sum:{}:{}", f.stem, n.compact)).or_default().push(i);
        }
    }
    for (group, members) in families.into_iter().filter(|(_, m)| m.len() >= 2) {
        let weakest = members
            .iter()
            .flat_map(|&i| plans[i].candidates.iter())
            .filter(|c| c.target == storage && c.kind != Kind::Learned)
            .map(|c| c.score)
            .fold(f64::INFINITY, f64::min);
        for &i in &members {
            for c in plans[i].candidates.iter_mut().filter(|c| c.target == storage) {
                c.rules.sum = true;
                if c.kind != Kind::Learned {
                    c.score = weakest;
                }
                c.group = Some(group.clone());
            }
            plans[i].candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.target.cmp(&b.target)));
        }
    }
}
