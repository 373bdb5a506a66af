//! Mojibake repair: UTF-8 text that was once read as cp1252/cp1254/Latin-1
//! and saved again ("äº‘åŽŸç”Ÿ" for "云原生").
//!
//! Such text is undone by mapping every character back to the byte it was
//! decoded from and reading those bytes as UTF-8. Two things make it harder
//! than that:
//!
//! * The legacy code pages leave some bytes undefined (cp1252: 0x81 0x8D
//!   0x8F 0x90 0x9D; cp1254 also 0x8E 0x9E). Tools keep them as U+0081 etc.
//!   (handled by the plain mapping) or drop them, and often drop 0xAD (the
//!   soft hyphen) as well. A dropped byte is always a
//!   UTF-8 continuation byte, so it shows as a character one or two bytes
//!   short (后 is E5 90 8E: both can go, leaving a bare "å"); the missing
//!   bytes and their positions are guessed with a word model: each
//!   clause is read as its most probable segmentation into jieba words
//!   (`hanzi_words.txt`), times each character's overall frequency
//!   (`hanzi_weights.txt`); and a run of damaged characters that recurs in
//!   a document is read the same way everywhere unless one place clearly
//!   says otherwise ([`repair_with_context`] lets a title borrow its body).
//!   Up to 64 byte pairs fit a bare lead; only the most common characters
//!   the word list knows are candidates, and only beside Chinese, and the
//!   lattice follows only spellings that begin a listed word, so the cost
//!   stays near that of one-byte guesses. On seeds and corpora damaged like
//!   seed 002 that restores 85.7% of characters that lost one byte and
//!   65.6% of those that lost two. Pairs of equally common words
//!   ("颁发"/"面向", "华为"/"名为") and names stay beyond it.
//! * Real Latin-1 text ("café", "Grüße") must be left alone. It almost never
//!   forms valid multi-byte UTF-8 sequences, so repair requires at least one
//!   clean sequence and lets bytes that fit no sequence ("strays") stay as
//!   they were only when they are a small minority. Guessed characters must
//!   be a minority too, and the result must hold fewer mojibake-looking
//!   characters than the input.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

use encoding_rs::{WINDOWS_1252, WINDOWS_1254};

/// Continuation bytes that converters may have dropped: those cp1252 or
/// cp1254 leave undefined, and 0xAD, the invisible soft hyphen, which HTML
/// and text pipelines strip.
const DROPPABLE_BYTES: [u8; 8] = [0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E, 0xAD];

/// At most one stray per this many clean sequences (see the module doc).
const CLEAN_PER_STRAY: usize = 10;

/// Repair UTF-8 text that was misread as cp1252/Latin-1 and saved again.
/// Returns `None` when the text does not look like such mojibake or the
/// repair is not clearly right.
pub fn repair(text: &str) -> Option<String> {
    repair_with_context(text, "")
}

/// Like [`repair`], for one field of a document whose other fields are
/// `context` (e.g. the title, with the description and body as context).
/// A damaged word that recurs in the document is read the same way
/// throughout unless one place clearly says otherwise, so a short title
/// borrows the evidence of the body. `context` is only read; text that is
/// not mojibake there is ignored.
pub fn repair_with_context(text: &str, context: &str) -> Option<String> {
    if !text.chars().any(|c| matches!(c, '\u{C2}'..='\u{F4}' | 'ğ')) {
        return None;
    }
    let units: Vec<Unit> = text.chars().map(Unit::from_char).collect();
    let (slots, counts) = decode_units(&units);
    if !counts.clearly_mojibake() {
        return None;
    }
    let context_slots = damaged_slots(context).unwrap_or_default();
    let repaired = resolve(&slots, &context_slots);
    (suspicious_count(&repaired) < suspicious_count(text)).then_some(repaired)
}

/// The slots of `text` when it is clearly mojibake.
fn damaged_slots(text: &str) -> Option<Vec<Slot>> {
    let units: Vec<Unit> = text.chars().map(Unit::from_char).collect();
    let (slots, counts) = decode_units(&units);
    counts.clearly_mojibake().then_some(slots)
}

/// A character of the damaged text: the byte it was decoded from, or itself
/// when no legacy code page produces it (e.g. CJK typed after the damage).
#[derive(Clone, Copy)]
enum Unit {
    Byte(u8),
    Other(char),
}

impl Unit {
    fn from_char(c: char) -> Unit {
        match legacy_byte(c) {
            Some(byte) => Unit::Byte(byte),
            None => Unit::Other(c),
        }
    }
}

/// What a stretch of units decodes to.
enum Slot {
    Known(char),
    /// A sequence one dropped byte short: the characters it could have been.
    Guess(Vec<char>),
}

#[derive(Default)]
struct Counts {
    clean: usize,
    guessed: usize,
    stray: usize,
}

impl Counts {
    fn clearly_mojibake(&self) -> bool {
        self.clean > 0 && self.guessed <= self.clean && self.stray * CLEAN_PER_STRAY <= self.clean
    }
}

fn decode_units(units: &[Unit]) -> (Vec<Slot>, Counts) {
    let mut slots = Vec::with_capacity(units.len());
    let mut counts = Counts::default();
    // Guesses for sequences two bytes short, with their lead byte.
    let mut two_short = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let (slot, used) = decode_one(&units[i..], &mut counts);
        if let (Slot::Guess(_), Unit::Byte(lead)) = (&slot, units[i]) {
            if utf8_len(lead).is_some_and(|len| len - used == 2) {
                two_short.push((slots.len(), lead));
            }
        }
        slots.push(slot);
        i += used;
    }
    keep_bare_leads_outside_chinese(&mut slots, &two_short, &mut counts);
    (slots, counts)
}

/// A lead byte left bare with no Chinese beside it is more likely a real
/// Latin-1 letter typed next to the damage ("café") than a character that
/// lost two bytes, and the word model has no words to judge it by: it
/// stays as it was.
fn keep_bare_leads_outside_chinese(
    slots: &mut [Slot],
    two_short: &[(usize, u8)],
    counts: &mut Counts,
) {
    let may_be_hanzi = |slot: Option<&Slot>| match slot {
        Some(Slot::Known(c)) => is_hanzi(*c),
        Some(Slot::Guess(candidates)) => candidates.iter().any(|&c| is_hanzi(c)),
        None => false,
    };
    let lonely: Vec<(usize, u8)> = two_short
        .iter()
        .copied()
        .filter(|&(index, _)| {
            let before = index.checked_sub(1).and_then(|before| slots.get(before));
            !may_be_hanzi(before) && !may_be_hanzi(slots.get(index + 1))
        })
        .collect();
    for (index, lead) in lonely {
        slots[index] = Slot::Known(legacy_char(lead));
        counts.guessed -= 1;
        counts.stray += 1;
    }
}

/// Decode the sequence starting at `units[0]`; returns it and how many
/// units it used (at least one).
fn decode_one(units: &[Unit], counts: &mut Counts) -> (Slot, usize) {
    let lead = match units[0] {
        Unit::Other(c) => return (Slot::Known(c), 1),
        Unit::Byte(b) if b < 0x80 => return (Slot::Known(char::from(b)), 1),
        Unit::Byte(b) => b,
    };
    let stray = |counts: &mut Counts| {
        counts.stray += 1;
        (Slot::Known(legacy_char(lead)), 1)
    };
    let Some(len) = utf8_len(lead) else {
        return stray(counts);
    };
    let mut bytes = vec![lead];
    for unit in units.iter().skip(1).take(len - 1) {
        match unit {
            Unit::Byte(b) if (0x80..=0xBF).contains(b) => bytes.push(*b),
            _ => break,
        }
    }
    let used = bytes.len();
    if used == len {
        return match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.chars().next())
        {
            Some(c) => {
                counts.clean += 1;
                (Slot::Known(c), used)
            }
            None => stray(counts),
        };
    }
    // Short by one or two bytes: dropped bytes are the likely cause.
    let candidates = match len - used {
        1 if len >= 3 => with_bytes_restored(&bytes, 1),
        2 if len >= 3 => word_model().likeliest(&with_bytes_restored(&bytes, 2)),
        _ => Vec::new(),
    };
    if candidates.is_empty() {
        return stray(counts);
    }
    counts.guessed += 1;
    (Slot::Guess(candidates), used)
}

fn utf8_len(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// Every character that `bytes` plus `missing` droppable bytes, inserted
/// at any continuation positions, would be.
fn with_bytes_restored(bytes: &[u8], missing: usize) -> Vec<char> {
    let mut attempts = vec![bytes.to_vec()];
    for _ in 0..missing {
        attempts = attempts
            .iter()
            .flat_map(|attempt| {
                (1..=attempt.len()).flat_map(move |position| {
                    DROPPABLE_BYTES.iter().map(move |&dropped| {
                        let mut longer = attempt.clone();
                        longer.insert(position, dropped);
                        longer
                    })
                })
            })
            .collect();
    }
    let mut candidates = Vec::new();
    for attempt in attempts {
        if let Some(c) = std::str::from_utf8(&attempt)
            .ok()
            .and_then(|s| s.chars().next())
        {
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    candidates
}

/// Turn slots into text, choosing each guessed character with the word
/// model. `context` holds other damaged text of the same document (e.g. the
/// body when repairing the title): it is read, never returned.
fn resolve(slots: &[Slot], context: &[Slot]) -> String {
    let model = word_model();
    let fixed = document_readings(model, &[slots, context]);
    let mut chosen: HashMap<usize, char> = HashMap::new();
    for clause in clauses(slots) {
        let positions = clause_positions(model, slots, clause.clone(), &fixed, 0);
        let (_, chars) = best_path(model, &positions);
        for (offset, c) in chars.into_iter().enumerate() {
            if matches!(slots[clause.start + offset], Slot::Guess(_)) {
                chosen.insert(clause.start + offset, c);
            }
        }
    }
    slots
        .iter()
        .enumerate()
        .map(|(index, slot)| match slot {
            Slot::Known(c) => *c,
            Slot::Guess(candidates) => chosen.get(&index).copied().unwrap_or(candidates[0]),
        })
        .collect()
}

/// Characters the word model segments: CJK ideographs.
fn is_hanzi(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}')
}

/// Runs of slots the word model reads as one stretch of Chinese (split at
/// anything else: punctuation, Latin, spaces), keeping only runs that hold
/// a guess.
fn clauses(slots: &[Slot]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut has_guess = false;
    for (index, slot) in slots.iter().enumerate() {
        match slot {
            Slot::Guess(_) => has_guess = true,
            Slot::Known(c) if is_hanzi(*c) => {}
            Slot::Known(_) => {
                if has_guess {
                    out.push(start..index);
                }
                start = index + 1;
                has_guess = false;
            }
        }
    }
    if has_guess {
        out.push(start..slots.len());
    }
    out
}

/// The characters each slot of a clause may be. Guesses keep only the
/// candidates the model knows (when any), and `fixed` (keyed by document
/// part and slot index) pins a guess to one reading.
fn clause_positions(
    model: &WordModel,
    slots: &[Slot],
    clause: Range<usize>,
    fixed: &HashMap<(usize, usize), char>,
    part: usize,
) -> Vec<Vec<char>> {
    clause
        .map(|index| match &slots[index] {
            Slot::Known(c) => vec![*c],
            Slot::Guess(candidates) => match fixed.get(&(part, index)) {
                Some(&c) => vec![c],
                None => model.plausible(candidates),
            },
        })
        .collect()
}

/// Runs of at least this many adjacent guesses are treated as one damaged
/// word when it recurs in a document (single guesses recur with different
/// meanings too often: 发 and 向 lose bytes to the same pair).
const MIN_WORD_GUESSES: usize = 2;

/// How much better (deci-nats) an occurrence's own reading must score than
/// the document's to keep it: a likelihood ratio of about 20.
const STRONG_LOCAL_EVIDENCE: Score = 30;

/// One occurrence of a damaged word: where it is and the clause around it.
struct Occurrence {
    part: usize,
    first: usize,
    clause: Range<usize>,
}

/// The same damaged byte sequence recurring in one document most likely
/// stands for the same word each time. For every run of adjacent guesses
/// that recurs, pick the reading with the best total score over all its
/// occurrences; an occurrence keeps its own reading only when its own
/// context prefers that strongly. Returns the pinned characters.
fn document_readings(model: &WordModel, parts: &[&[Slot]]) -> HashMap<(usize, usize), char> {
    let mut by_key: HashMap<Vec<Vec<char>>, Vec<Occurrence>> = HashMap::new();
    for (part, slots) in parts.iter().enumerate() {
        for clause in clauses(slots) {
            for (first, len) in guess_runs(slots, clause.clone()) {
                let key = (first..first + len)
                    .map(|index| match &slots[index] {
                        Slot::Guess(candidates) => model.plausible(candidates),
                        Slot::Known(c) => vec![*c],
                    })
                    .collect();
                by_key.entry(key).or_default().push(Occurrence {
                    part,
                    first,
                    clause: clause.clone(),
                });
            }
        }
    }
    let mut fixed = HashMap::new();
    for (key, occurrences) in by_key {
        if occurrences.len() < 2 {
            continue;
        }
        let readings = candidate_readings(model, &key, parts, &occurrences);
        let scores: Vec<Vec<Score>> = occurrences
            .iter()
            .map(|occurrence| {
                readings
                    .iter()
                    .map(|reading| {
                        reading_score(model, parts[occurrence.part], occurrence, reading)
                    })
                    .collect()
            })
            .collect();
        let document_best = best_index(
            (0..readings.len()).map(|r| scores.iter().map(|own| i64::from(own[r])).sum::<i64>()),
        );
        for (occurrence, own) in occurrences.iter().zip(&scores) {
            let own_best = best_index(own.iter().map(|&s| i64::from(s)));
            let reading = if own[own_best] - own[document_best] > STRONG_LOCAL_EVIDENCE {
                &readings[own_best]
            } else {
                &readings[document_best]
            };
            for (offset, &c) in reading.iter().enumerate() {
                fixed.insert((occurrence.part, occurrence.first + offset), c);
            }
        }
    }
    fixed
}

/// Maximal runs of at least `MIN_WORD_GUESSES` adjacent guesses in a clause,
/// as (first slot, length).
fn guess_runs(slots: &[Slot], clause: Range<usize>) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut run_start = None;
    let flags = slots[clause.clone()]
        .iter()
        .map(|slot| matches!(slot, Slot::Guess(_)))
        .chain(std::iter::once(false));
    for (index, is_guess) in (clause.start..).zip(flags) {
        match (is_guess, run_start) {
            (true, None) => run_start = Some(index),
            (false, Some(start)) => {
                if index - start >= MIN_WORD_GUESSES {
                    runs.push((start, index - start));
                }
                run_start = None;
            }
            _ => {}
        }
    }
    runs
}

/// The readings worth comparing for a recurring damaged run: those that
/// spell a listed word, and each occurrence's own best reading.
fn candidate_readings(
    model: &WordModel,
    key: &[Vec<char>],
    parts: &[&[Slot]],
    occurrences: &[Occurrence],
) -> Vec<Vec<char>> {
    let mut readings = model.words_spelled(key);
    for occurrence in occurrences {
        let slots = parts[occurrence.part];
        let positions =
            clause_positions(model, slots, occurrence.clause.clone(), &HashMap::new(), 0);
        let (_, chars) = best_path(model, &positions);
        let offset = occurrence.first - occurrence.clause.start;
        let own = chars[offset..offset + key.len()].to_vec();
        if !readings.contains(&own) {
            readings.push(own);
        }
    }
    readings
}

/// The best score of an occurrence's clause with its damaged word read as
/// `reading`.
fn reading_score(
    model: &WordModel,
    slots: &[Slot],
    occurrence: &Occurrence,
    reading: &[char],
) -> Score {
    let mut pinned = HashMap::new();
    for (offset, &c) in reading.iter().enumerate() {
        pinned.insert((0, occurrence.first + offset), c);
    }
    let positions = clause_positions(model, slots, occurrence.clause.clone(), &pinned, 0);
    best_path(model, &positions).0
}

/// Index of the largest value (the first on ties).
fn best_index(values: impl Iterator<Item = i64>) -> usize {
    let mut best = (0, i64::MIN);
    for (index, value) in values.enumerate() {
        if value > best.1 {
            best = (index, value);
        }
    }
    best.0
}

/// Log-probabilities in deci-nats (10 × ln p), the unit of `hanzi_words.txt`.
type Score = i32;

/// A character the word list lacks (rare CJK, symbols): below every listed
/// word, so a known candidate always beats it.
const UNKNOWN_WORD: Score = -250;

/// Punctuation that loses a byte to the same damage (” is E2 80 9D). The
/// word list has none; set by hand, as likely as a common word, which beats
/// the rare symbols and CJK Extension A characters they compete with.
const PUNCTUATION: [(char, Score); 6] = [
    ('”', -50),
    ('、', -45),
    ('！', -55),
    ('【', -70),
    ('〝', -150),
    ('〞', -150),
];

/// Weight of a character's overall frequency (`hanzi_weights.txt`, natural
/// log of its count over all jieba words) against the word model, in
/// deci-nats per nat. Jieba's counts of a character standing alone are a
/// poor guide to how common it is (位 alone is rarer than 住 alone); the
/// product of both models measured best (see the accuracy test).
const CHARACTER_WEIGHT: Score = 5;

/// Longest word in the list, in characters.
const MAX_WORD_CHARS: usize = 4;

/// At most this many candidates are kept for a character that lost two
/// bytes (the most common ones; see `WordModel::likeliest`).
const MAX_TWO_BYTE_CANDIDATES: usize = 32;

/// A word of a clause lattice: where it starts, what it says, its score.
struct LatticeWord {
    start: usize,
    chars: Vec<char>,
    score: Score,
}

/// Jieba's word list (unigram log-probabilities) and overall character
/// frequencies. A clause scores as its most probable segmentation into
/// words, as jieba segments, plus the frequency of each character in it.
struct WordModel {
    words: HashMap<String, Score>,
    /// Every proper prefix of a listed word of two or more characters.
    prefixes: HashSet<String>,
    characters: HashMap<char, u8>,
}

impl WordModel {
    /// The candidates worth considering: those the word list knows (or
    /// listed punctuation), or all of them when it knows none.
    fn plausible(&self, candidates: &[char]) -> Vec<char> {
        let known: Vec<char> = candidates
            .iter()
            .copied()
            .filter(|&c| self.single(c) > UNKNOWN_WORD)
            .collect();
        if known.is_empty() {
            candidates.to_vec()
        } else {
            known
        }
    }

    /// For a sequence that lost two bytes: the candidates the word list
    /// knows, most common first, at most `MAX_TWO_BYTE_CANDIDATES`. Up to 64
    /// byte pairs fit, mostly rare characters; those the model cannot judge
    /// (symbols, emoji) are never guessed, so the bare bytes stay instead.
    fn likeliest(&self, candidates: &[char]) -> Vec<char> {
        let mut known: Vec<(Score, char)> = candidates
            .iter()
            .map(|&c| (self.single(c) + self.character_score(&[c]), c))
            .filter(|&(_, c)| self.single(c) > UNKNOWN_WORD)
            .collect();
        known.sort_by_key(|&(score, _)| std::cmp::Reverse(score));
        known
            .into_iter()
            .take(MAX_TWO_BYTE_CANDIDATES)
            .map(|(_, c)| c)
            .collect()
    }

    /// Score of a character read as a word on its own.
    fn single(&self, c: char) -> Score {
        if let Some(&(_, score)) = PUNCTUATION.iter().find(|(p, _)| *p == c) {
            return score;
        }
        let mut buffer = [0; 4];
        self.words
            .get(c.encode_utf8(&mut buffer) as &str)
            .copied()
            .unwrap_or(UNKNOWN_WORD)
    }

    /// Each position holds exactly one character in any segmentation, so
    /// this term never favours one segmentation over another; it only
    /// weighs the candidates.
    fn character_score(&self, chars: &[char]) -> Score {
        chars
            .iter()
            .map(|c| CHARACTER_WEIGHT * Score::from(self.characters.get(c).copied().unwrap_or(0)))
            .sum()
    }

    /// Every word the clause could hold, single characters always included.
    fn lattice(&self, positions: &[Vec<char>]) -> Vec<LatticeWord> {
        let mut words = Vec::new();
        for start in 0..positions.len() {
            for &c in &positions[start] {
                let score = self.single(c) + self.character_score(&[c]);
                words.push(LatticeWord {
                    start,
                    chars: vec![c],
                    score,
                });
            }
            let mut longer = Vec::new();
            self.extend_words(positions, start, &mut Vec::new(), &mut longer);
            longer.sort_by_key(|word| word.chars.len());
            words.extend(longer);
        }
        words
    }

    /// Add to `found` every listed word of two or more characters that
    /// `spelling` (read from `positions[start..]`) extends to. Only
    /// spellings that begin a listed word are followed, so the cost stays
    /// small however many candidates a position has.
    fn extend_words(
        &self,
        positions: &[Vec<char>],
        start: usize,
        spelling: &mut Vec<char>,
        found: &mut Vec<LatticeWord>,
    ) {
        let Some(next) = positions.get(start + spelling.len()) else {
            return;
        };
        if spelling.len() == MAX_WORD_CHARS {
            return;
        }
        for &c in next {
            spelling.push(c);
            let text: String = spelling.iter().collect();
            if spelling.len() >= 2 {
                if let Some(&score) = self.words.get(&text) {
                    found.push(LatticeWord {
                        start,
                        chars: spelling.clone(),
                        score: score + self.character_score(spelling),
                    });
                }
            }
            if self.prefixes.contains(&text) {
                self.extend_words(positions, start, spelling, found);
            }
            spelling.pop();
        }
    }

    /// The spellings of all of `positions` that are listed words.
    fn words_spelled(&self, positions: &[Vec<char>]) -> Vec<Vec<char>> {
        let mut found = Vec::new();
        if !positions.is_empty() {
            self.extend_words(positions, 0, &mut Vec::new(), &mut found);
        }
        found
            .into_iter()
            .filter(|word| word.chars.len() == positions.len())
            .map(|word| word.chars)
            .collect()
    }
}

/// The best-scoring reading of a clause (max-probability segmentation over
/// the lattice of candidate words) and the character it picks at each
/// position.
fn best_path(model: &WordModel, positions: &[Vec<char>]) -> (Score, Vec<char>) {
    let n = positions.len();
    let words = model.lattice(positions);
    // best[k]: best score of positions[..k]; back[k]: the word ending there.
    let mut best = vec![Score::MIN; n + 1];
    let mut back: Vec<Option<usize>> = vec![None; n + 1];
    best[0] = 0;
    let mut by_start: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (index, word) in words.iter().enumerate() {
        by_start[word.start].push(index);
    }
    for start in 0..n {
        if best[start] == Score::MIN {
            continue;
        }
        for &index in &by_start[start] {
            let word = &words[index];
            let end = start + word.chars.len();
            let total = best[start] + word.score;
            if total > best[end] {
                best[end] = total;
                back[end] = Some(index);
            }
        }
    }
    let mut chars = vec!['\0'; n];
    let mut end = n;
    while let Some(index) = back[end] {
        let word = &words[index];
        chars[word.start..end].copy_from_slice(&word.chars);
        end = word.start;
    }
    (best[n], chars)
}

fn word_model() -> &'static WordModel {
    static MODEL: OnceLock<WordModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let words = parse_words(include_str!("hanzi_words.txt"));
        WordModel {
            prefixes: word_prefixes(words.keys()),
            words,
            characters: parse_characters(include_str!("hanzi_weights.txt")),
        }
    })
}

/// Every proper prefix (one character or longer) of `words`.
fn word_prefixes<'a>(words: impl Iterator<Item = &'a String>) -> HashSet<String> {
    let mut prefixes = HashSet::new();
    for word in words {
        let ends = word.char_indices().map(|(index, _)| index).skip(1);
        prefixes.extend(ends.map(|end| word[..end].to_string()));
    }
    prefixes
}

/// Lines of `hanzi_words.txt`: `W <TAB> weight <TAB> words separated by
/// spaces`. Malformed lines are skipped.
fn parse_words(data: &str) -> HashMap<String, Score> {
    let mut words = HashMap::new();
    for line in data.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if let ["W", weight, list] = fields.as_slice() {
            if let Ok(weight) = weight.parse::<Score>() {
                words.extend(list.split(' ').map(|word| (word.to_string(), weight)));
            }
        }
    }
    words
}

/// The `U` lines of `hanzi_weights.txt`: `U <TAB> weight <TAB> characters`.
/// Malformed lines are skipped.
fn parse_characters(data: &str) -> HashMap<char, u8> {
    let mut characters = HashMap::new();
    for line in data.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if let ["U", weight, list] = fields.as_slice() {
            if let Ok(weight) = weight.parse::<u8>() {
                characters.extend(list.chars().map(|c| (c, weight)));
            }
        }
    }
    characters
}

/// The byte that cp1252, cp1254 or Latin-1 decode to `c`, if any. Latin-1
/// covers U+0080..=U+00FF (and so the C1 controls that undefined bytes
/// become); the two code pages add their punctuation and Turkish letters.
fn legacy_byte(c: char) -> Option<u8> {
    if let Ok(byte) = u8::try_from(u32::from(c)) {
        return Some(byte);
    }
    legacy_table().get(&c).copied()
}

/// The character a byte stood for in the damaged text (used when a byte
/// fits no UTF-8 sequence and stays as it was).
fn legacy_char(byte: u8) -> char {
    if byte < 0x80 {
        return char::from(byte);
    }
    let bytes = [byte];
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(&bytes);
    text.chars().next().unwrap_or(char::from(byte))
}

fn legacy_table() -> &'static HashMap<char, u8> {
    static TABLE: OnceLock<HashMap<char, u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        for encoding in [WINDOWS_1252, WINDOWS_1254] {
            for byte in 0x80..=0xFFu8 {
                let bytes = [byte];
                let (text, _) = encoding.decode_without_bom_handling(&bytes);
                if let Some(c) = text.chars().next() {
                    if u32::from(c) > 0xFF {
                        table.insert(c, byte);
                    }
                }
            }
        }
        table
    })
}

/// Characters typical of mojibake: anything a legacy code page maps to a
/// byte of 0x80 and above.
fn suspicious_count(text: &str) -> usize {
    text.chars()
        .filter(|&c| !c.is_ascii() && legacy_byte(c).is_some())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::shared;

    fn front_matter_value(doc: &str, key: &str) -> String {
        let prefix = format!("{key}: ");
        let line = doc
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {key} in front matter"));
        line[prefix.len()..].trim_matches('"').to_string()
    }

    /// Damage text the way seed 002 was damaged: UTF-8 bytes read as
    /// cp1254, undefined bytes dropped.
    fn damage(text: &str) -> String {
        let (decoded, _) = WINDOWS_1254.decode_without_bom_handling(text.as_bytes());
        decoded
            .chars()
            .filter(|c| !('\u{80}'..='\u{9F}').contains(c) && *c != '\u{AD}')
            .collect()
    }

    #[test]
    fn seed_002_title_and_description() {
        let seed = shared("seeds/002_98c1ca13551a9356.txt");
        let body = seed.splitn(3, "---\n").nth(2).expect("front matter");
        let title = repair_with_context(&front_matter_value(&seed, "title"), body)
            .expect("title is mojibake");
        // The last two characters each lost a byte; "颁发" and "面向" are
        // both common words that fit the remaining bytes, and neither the
        // word model nor the body's three other occurrences tell them apart
        // (see the module doc).
        assert!(
            title.starts_with("云原生社区 2020 年度总结及证书"),
            "{title}"
        );
        assert_eq!(
            title.chars().count(),
            "云原生社区 2020 年度总结及证书颁发".chars().count()
        );
        assert_eq!(suspicious_count(&title), 0, "{title}");
        let description = front_matter_value(&seed, "description");
        assert_eq!(
            repair(&description).as_deref(),
            Some("感谢过去一年来所有云原生社区的参与者及合作伙伴们！")
        );
    }

    #[test]
    fn seed_002_body_becomes_readable_chinese() {
        let seed = shared("seeds/002_98c1ca13551a9356.txt");
        let body = seed.splitn(3, "---\n").nth(2).expect("front matter");
        let repaired = repair(body).expect("body is mojibake");
        assert!(repaired.contains("感谢所有云原生社区的参与者和合作伙伴们！"));
        assert!(repaired.contains("👉https://landscape"));
        // Characters that lost both continuation bytes ("排å不分先å",
        // "积æ参与", "é常", "æ号站") are read from their words.
        for words in ["（排名不分先后）", "积极参与", "非常希望", "杭州站"] {
            assert!(repaired.contains(words), "{words}: {repaired}");
        }
        let left = suspicious_count(&repaired);
        assert!(
            left * 500 < repaired.chars().count(),
            "{left} left: {repaired}"
        );
        let paragraph = body
            .lines()
            .find(|l| l.starts_with("ä¸‹é"))
            .expect("paragraph");
        assert_eq!(
            repair(paragraph).as_deref(),
            Some("下面我们一起回顾下云原生社区在过去一年来的进展，同时感谢社区讲师、贡献者、志愿者、SIG 负责人和城市站站长。")
        );
    }

    #[test]
    fn damaged_real_chinese_text_is_mostly_restored() {
        // Seeds 000 and 003 are clean Chinese: damage them like seed 002 and
        // measure how many characters come back right.
        for seed in [
            "seeds/000_99cda888b8fb363e.txt",
            "seeds/003_36a4fbbe9fc21027.txt",
        ] {
            let original = shared(seed);
            let repaired = repair(&damage(&original)).expect("damaged text is repaired");
            let total = original.chars().count();
            let same = original
                .chars()
                .zip(repaired.chars())
                .filter(|(a, b)| a == b)
                .count();
            assert_eq!(repaired.chars().count(), total, "{seed}");
            assert!(same * 100 >= total * 97, "{seed}: {same}/{total}");
        }
    }

    /// Clean Chinese text from the seeds and corpora, as readers get it.
    fn clean_chinese_texts() -> Vec<(&'static str, String)> {
        let mut texts = vec![
            ("seed 000", shared("seeds/000_99cda888b8fb363e.txt")),
            ("seed 003", shared("seeds/003_36a4fbbe9fc21027.txt")),
        ];
        for page in ["gmw", "qq", "youth", "pixnet"] {
            let path =
                format!("corpora/readability-testpages/test/test-pages/{page}/expected.html");
            texts.push((page, crate::text::html::to_text(&shared(&path))));
        }
        for page in [
            "article_detail_backgroud-image",
            "article_detail_mpvoice",
            "article_detail_qqmusic",
            "bitsea-history",
            "search-gaokao-article",
            "wapindex-wap-0612-wap_8-0",
        ] {
            let path = format!("corpora/wechat-wechatsogou/test/file/{page}.html");
            texts.push((page, crate::text::html::to_text(&shared(&path))));
        }
        texts
    }

    /// How many droppable continuation bytes a character's UTF-8 form has.
    fn droppable_bytes_in(c: char) -> usize {
        let mut buffer = [0; 4];
        c.encode_utf8(&mut buffer)
            .bytes()
            .skip(1)
            .filter(|b| DROPPABLE_BYTES.contains(b))
            .count()
    }

    /// Damaged characters of one kind that came back right, out of all.
    #[derive(Default, Clone, Copy)]
    struct Tally {
        right: usize,
        total: usize,
    }

    impl Tally {
        fn add(&mut self, other: Tally) {
            self.right += other.right;
            self.total += other.total;
        }

        fn percent(self) -> f64 {
            self.right as f64 * 100.0 / self.total.max(1) as f64
        }
    }

    /// Damage `original` like seed 002, repair it, and count the damaged
    /// characters that came back right, separately for those that lost one
    /// byte and those that lost two.
    fn damaged_characters_restored(original: &str) -> [Tally; 2] {
        let damaged = damage(original);
        let repaired: Vec<char> = repair(&damaged).unwrap_or(damaged).chars().collect();
        let mut tallies = [Tally::default(); 2];
        let aligned = repaired.len() == original.chars().count();
        for (index, a) in original.chars().enumerate() {
            let lost = droppable_bytes_in(a);
            if lost == 0 || lost > 2 {
                continue;
            }
            let tally = &mut tallies[lost - 1];
            tally.total += 1;
            if aligned && repaired[index] == a {
                tally.right += 1;
            }
        }
        tallies
    }

    #[test]
    fn damaged_characters_of_real_chinese_text_are_restored() {
        let mut tallies = [Tally::default(); 2];
        for (name, text) in clean_chinese_texts() {
            let [one, two] = damaged_characters_restored(&text);
            assert!(one.total > 0, "{name} has no damaged characters");
            eprintln!(
                "{name}: one byte lost {}/{}, two bytes lost {}/{}",
                one.right, one.total, two.right, two.total
            );
            tallies[0].add(one);
            tallies[1].add(two);
        }
        let [one, two] = tallies;
        eprintln!(
            "restored: one byte lost {}/{} = {:.1}%, two bytes lost {}/{} = {:.1}%",
            one.right,
            one.total,
            one.percent(),
            two.right,
            two.total,
            two.percent()
        );
        assert!(
            one.right * 100 >= one.total * 84,
            "{}/{}",
            one.right,
            one.total
        );
    }

    #[test]
    fn cp1252_mojibake_keeping_c1_controls_is_exact() {
        let original = "云原生社区 2020 年度总结及证书颁发。It’s “done”.";
        let (damaged, _) = WINDOWS_1252.decode_without_bom_handling(original.as_bytes());
        assert_eq!(repair(&damaged).as_deref(), Some(original));
    }

    #[test]
    fn latin_mojibake_of_european_text() {
        assert_eq!(
            repair("CafÃ© crÃ¨me, GrÃ¼ÃŸe").as_deref(),
            Some("Café crème, Grüße")
        );
        assert_eq!(repair("Itâ€™s").as_deref(), Some("It’s"));
    }

    #[test]
    fn real_latin1_text_is_left_alone() {
        for text in [
            "café",
            "Grüße aus München",
            "naïve façade, déjà vu — «très» bien",
            "Ÿ ž Š €100 ±5 ¼",
            "Straße × 2",
            "It’s a “quote”",
            "é",
            "blåbærsyltetøy på Ærø",
            "Ça coûte 5 €, à côté",
            "plain ascii",
            "云原生社区",
            "",
        ] {
            assert_eq!(repair(text), None, "{text}");
        }
    }

    #[test]
    fn mixed_real_and_damaged_text_keeps_real_characters() {
        let text = format!("云原生: {}", damage("社区年度总结"));
        assert_eq!(repair(&text).as_deref(), Some("云原生: 社区年度总结"));
    }

    #[test]
    fn real_latin1_word_beside_damaged_chinese_is_kept() {
        // é (0xE9) alone looks like 非 (E9 9D 9E) with both bytes dropped;
        // with no Chinese beside it, it stays a letter.
        let chinese = "云原生社区年度总结：感谢积极参与的伙伴";
        let text = format!("{} café", damage(chinese));
        assert_eq!(repair(&text), Some(format!("{chinese} café")));
    }

    #[test]
    fn context_that_is_not_mojibake_changes_nothing() {
        let text = damage("云原生社区年度总结及证书颁发");
        for context in ["", "plain ascii", "café", "云原生社区"] {
            assert_eq!(
                repair_with_context(&text, context),
                repair(&text),
                "{context}"
            );
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for text in [
            "\u{C3}",
            "\u{E5}\u{9F}",
            "\u{F0}\u{9F}",
            "\u{F4}\u{BF}\u{BF}\u{BF}",
            "ÃÃÃÃ",
            "ï¼",
        ] {
            let _ = repair(text);
        }
    }
}
