//! Summaries: the one or two sentences under each item in a digest.
//!
//! A source's own description is used when it is a real summary; feeds
//! often put the first lines of the article there instead ("teasers"),
//! which say less than a chosen sentence would. Otherwise whole sentences
//! are picked by centrality (how much of the article's vocabulary they
//! share: CJK character bigrams, Latin words) with a small bonus for early
//! position, and shown in article order. This runs on every new item, so it
//! is one pass over the text with hashed tokens, and deterministic.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::model::SummaryOrigin;
use crate::text::html::to_text;
use crate::text::sentences::{display_len, half_units, is_wide, split};

/// Marks a cut summary.
const ELLIPSIS: char = '…';

/// Where a sentence that is too long may be cut.
const CLAUSE_MARKS: &[char] = &['，', ',', '、', '：', ':', '；', ';'];

/// Sentences shorter than this (in display units) carry no summary.
const MIN_SENTENCE_LEN: usize = 6;

/// Text that marks a sentence as page furniture rather than content.
const BOILERPLATE: &[&str] = &[
    "原文链接",
    "阅读原文",
    "点击",
    "关注",
    "扫码",
    "二维码",
    "长按",
    "转载",
    "版权",
    "图片来源",
    "图源",
    "来源：",
    "责任编辑",
    "编辑：",
    "作者：",
    "本文作者",
    "推荐阅读",
    "http://",
    "https://",
    "www.",
    "copyright",
    "©",
    "all rights reserved",
    "subscribe",
    "click here",
    "read more",
    "photo:",
    "image:",
    "credit:",
    "sign up",
];

/// More characters than the longest of `TEASER_ENDINGS`.
const TEASER_TAIL_CHARS: usize = 24;

/// Endings that mark a description as cut off from the article.
const TEASER_ENDINGS: &[&str] = &[
    "[…]",
    "[...]",
    "…",
    "...",
    "read more",
    "continue reading",
    "阅读全文",
    "查看全文",
    "更多",
    "»",
    ">>",
];

/// Pick the summary for an item: the source's own description when it is a
/// real summary, else an extractive summary of `text` within `max_chars`
/// (measured by `text::sentences::display_len`).
pub fn summarise(
    source_summary: Option<&str>,
    text: &str,
    max_chars: usize,
) -> (String, SummaryOrigin) {
    // A description that is the whole text (feeds with no other content)
    // is no summary of it; skip comparing the article with itself.
    if let Some(summary) = source_summary.filter(|summary| *summary != text) {
        let cleaned = one_paragraph(&to_text(summary));
        if is_real_summary(&cleaned, text) {
            return (fit_in_order(&cleaned, max_chars), SummaryOrigin::Source);
        }
    }
    (extract(text, max_chars), SummaryOrigin::Extractive)
}

/// Join lines into one paragraph: no space between CJK, one elsewhere.
fn one_paragraph(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        append_joined(&mut out, piece);
    }
    out
}

fn append_joined(out: &mut String, piece: &str) {
    let wide_seam =
        out.chars().next_back().is_some_and(is_wide) && piece.chars().next().is_some_and(is_wide);
    if !out.is_empty() && !wide_seam {
        out.push(' ');
    }
    out.push_str(piece);
}

/// A description is not a real summary when empty or when it is the
/// article's own words cut off: a prefix of the text, or a piece of it that
/// stops mid-sentence.
fn is_real_summary(summary: &str, text: &str) -> bool {
    let core = strip_teaser_ending(summary);
    let core = comparable(core);
    if core.chars().count() < 4 {
        return false;
    }
    // Most feeds' descriptions are the article's start: settle that
    // without lower-casing the whole article.
    if comparable_chars(text)
        .take(core.chars().count())
        .eq(core.chars())
    {
        return false;
    }
    ends_sentence(summary.trim_end()) || !comparable(text).contains(&core)
}

fn strip_teaser_ending(summary: &str) -> &str {
    let mut core = summary.trim();
    loop {
        // The endings are short: lower-case only the tail.
        let tail = core
            .char_indices()
            .rev()
            .nth(TEASER_TAIL_CHARS)
            .map_or(core, |(at, _)| &core[at..]);
        let lower = tail.to_lowercase();
        let Some(ending) = TEASER_ENDINGS.iter().find(|e| lower.ends_with(*e)) else {
            return core;
        };
        // Lowercasing keeps the length of these ASCII/CJK endings, except
        // for rare characters; fall back to the whole text then.
        let Some(cut) = core.len().checked_sub(ending.len()) else {
            return core;
        };
        match core.get(..cut) {
            Some(rest) => core = rest.trim_end(),
            None => return core,
        }
    }
}

/// Lowercase without whitespace, so markup and line breaks do not matter.
fn comparable(text: &str) -> String {
    comparable_chars(text).collect()
}

fn comparable_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
}

/// Leading whole sentences that fit; a first sentence that alone is too long
/// is cut (see [`cut_to_fit`]).
fn fit_in_order(text: &str, budget: usize) -> String {
    if display_len(text) <= budget {
        return text.to_string();
    }
    let sentences = split(text);
    let mut out = String::new();
    for sentence in &sentences {
        let mut next = out.clone();
        append_joined(&mut next, sentence);
        if display_len(&next) > budget {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        if let Some(first) = sentences.first() {
            return cut_to_fit(first, budget);
        }
    }
    out
}

/// A sentence of the text with what the scorer needs.
struct Candidate<'a> {
    index: usize,
    text: &'a str,
    len: usize,
    score: f64,
}

/// Extractive summary of `text` within `budget` display units.
fn extract(text: &str, budget: usize) -> String {
    let text = one_line_breaks(text);
    let text = text.as_ref();
    let sentences = split(text);
    if sentences.is_empty() || budget == 0 {
        return String::new();
    }
    // Prefer real sentences; headings and other lines without an end mark
    // only when there is nothing else, then anything at all.
    let filters: [&dyn Fn(&str) -> bool; 3] =
        [&|s| is_content(s) && ends_sentence(s), &is_content, &|_| {
            true
        }];
    let mut candidates = Vec::new();
    for keep in filters {
        candidates = sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| keep(s))
            .map(|(index, s)| Candidate {
                index,
                text: s,
                len: display_len(s),
                score: 0.0,
            })
            .collect();
        if !candidates.is_empty() {
            break;
        }
    }
    score_by_centrality(&mut candidates);
    choose(candidates, budget)
}

/// `to_text` output uses single line breaks; normalise CRs from plain text.
fn one_line_breaks(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

fn is_content(sentence: &str) -> bool {
    if display_len(sentence) < MIN_SENTENCE_LEN {
        return false;
    }
    // One pass for every marker; the markers' letters are ASCII, so ASCII
    // case folding is all the matching needs.
    static MARKERS: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(BOILERPLATE)
            .ok()
    });
    if MARKERS
        .as_ref()
        .is_some_and(|markers| markers.is_match(sentence))
    {
        return false;
    }
    // Image captions: "图1 架构", "Figure 2: ...".
    let caption = sentence
        .get(..6)
        .is_some_and(|start| start.eq_ignore_ascii_case("figure"))
        || {
            let mut chars = sentence.chars();
            chars.next() == Some('图') && chars.next().is_some_and(|c| c.is_ascii_digit())
        };
    !caption
}

fn ends_sentence(sentence: &str) -> bool {
    sentence.ends_with(|c: char| "。！？；.!?”\"」』）)".contains(c))
}

/// Cosine similarity of each sentence's token counts to the whole text's,
/// times a small bonus for early sentences.
fn score_by_centrality(candidates: &mut [Candidate]) {
    // Counts come from sorted token lists (runs of equal hashes): cheaper
    // than hash maps for a few hundred tokens, and exact integers, so the
    // scores do not depend on any iteration order. All sentences' tokens
    // share one buffer: this runs on every new item.
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut ranges = Vec::with_capacity(candidates.len());
    for candidate in candidates.iter() {
        let start = tokens.len();
        push_tokens(candidate.text, &mut word, &mut tokens);
        tokens[start..].sort_unstable();
        ranges.push(start..tokens.len());
    }
    let mut document = Vec::with_capacity(tokens.len());
    let mut all = tokens.clone();
    all.sort_unstable();
    for_each_run(&all, |token, n| document.push((token, n)));
    let document_norm = (document.iter().map(|&(_, n)| n * n).sum::<u64>() as f64).sqrt();
    for (candidate, range) in candidates.iter_mut().zip(ranges) {
        let (mut dot, mut norm_squared) = (0u64, 0u64);
        for_each_run(&tokens[range], |token, n| {
            let in_document = document
                .binary_search_by_key(&token, |&(t, _)| t)
                .map_or(0, |at| document[at].1);
            dot += n * in_document;
            norm_squared += n * n;
        });
        let norm = (norm_squared as f64).sqrt();
        let cosine = if norm > 0.0 && document_norm > 0.0 {
            dot as f64 / (norm * document_norm)
        } else {
            0.0
        };
        let position_bonus = 1.0 + 0.5 / (1.0 + candidate.index as f64);
        candidate.score = cosine * position_bonus;
    }
}

/// Call `each(token, count)` for each run of equal tokens in a sorted list.
fn for_each_run(sorted: &[u64], mut each: impl FnMut(u64, u64)) {
    let mut run: Option<(u64, u64)> = None;
    for &token in sorted {
        run = match run {
            Some((last, n)) if last == token => Some((last, n + 1)),
            Some((last, n)) => {
                each(last, n);
                Some((token, 1))
            }
            None => Some((token, 1)),
        };
    }
    if let Some((last, n)) = run {
        each(last, n);
    }
}

/// CJK character bigrams and lowercase Latin words (two letters or more),
/// hashed.
fn push_tokens(sentence: &str, word: &mut String, out: &mut Vec<u64>) {
    let mut previous_wide: Option<char> = None;
    word.clear();
    for c in sentence.chars() {
        if is_wide(c) && c.is_alphanumeric() {
            if let Some(p) = previous_wide {
                out.push(hash_pair(p, c));
            }
            previous_wide = Some(c);
            flush_word(word, out);
        } else if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
            previous_wide = None;
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            previous_wide = None;
        } else {
            previous_wide = None;
            flush_word(word, out);
        }
    }
    flush_word(word, out);
}

fn flush_word(word: &mut String, out: &mut Vec<u64>) {
    if word.chars().count() >= 2 && !is_stopword(word) {
        out.push(hash_str(word));
    }
    word.clear();
}

fn is_stopword(word: &str) -> bool {
    const STOPWORDS: &[&str] = &[
        "the", "and", "of", "to", "in", "is", "it", "for", "on", "as", "with", "by", "at", "an",
        "be", "this", "that", "are", "was", "from", "or", "we", "our", "you", "its", "has", "have",
        "will", "can", "not", "but", "which", "their", "they", "also",
    ];
    STOPWORDS.contains(&word)
}

/// FNV-1a: stable across runs and platforms, so scores are deterministic.
fn hash_str(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn hash_pair(a: char, b: char) -> u64 {
    (u64::from(u32::from(a)) << 32 | u64::from(u32::from(b))) ^ 0x9e37_79b9_7f4a_7c15
}

/// Best sentences that fit, in article order. When the best sentence does
/// not fit and what does fit is much weaker, the best one is cut instead.
fn choose(mut candidates: Vec<Candidate>, budget: usize) -> String {
    candidates.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.index.cmp(&b.index))
    });
    let Some(best) = candidates.first() else {
        return String::new();
    };
    let best_score = best.score;
    let mut chosen: Vec<&Candidate> = Vec::new();
    // Joining adds at most a half-width space between sentences.
    let mut used_halves = 0;
    for candidate in &candidates {
        let join = usize::from(!chosen.is_empty());
        let halves = 2 * candidate.len + join;
        if used_halves + halves > 2 * budget {
            continue;
        }
        if chosen.is_empty() && candidate.score < best_score * 0.5 {
            break;
        }
        chosen.push(candidate);
        used_halves += halves;
    }
    if chosen.is_empty() {
        return cut_to_fit(candidates[0].text, budget);
    }
    chosen.sort_by_key(|c| c.index);
    let mut out = String::new();
    for candidate in chosen {
        append_joined(&mut out, candidate.text);
    }
    out
}

/// Cut a sentence to `budget` display units, ending with `…`: at the last
/// clause mark within budget when that keeps at least a third of it, else at
/// the last word boundary (Latin) or character (CJK).
fn cut_to_fit(sentence: &str, budget: usize) -> String {
    if display_len(sentence) <= budget {
        return sentence.to_string();
    }
    let room = (2 * budget).saturating_sub(half_units(ELLIPSIS));
    let mut halves = 0;
    let mut fit_end = 0;
    for (i, c) in sentence.char_indices() {
        halves += half_units(c);
        if halves > room {
            break;
        }
        fit_end = i + c.len_utf8();
    }
    let fitting = &sentence[..fit_end];
    let at_clause = fitting
        .rfind(CLAUSE_MARKS)
        .filter(|&at| display_len(&fitting[..at]) * 3 >= budget);
    let kept = match at_clause {
        Some(at) => &fitting[..at],
        None => at_word_boundary(sentence, fit_end),
    };
    let mut out = kept.trim_end().to_string();
    out.push(ELLIPSIS);
    out
}

/// `sentence[..end]`, moved back to a word boundary if `end` falls inside a
/// Latin word.
fn at_word_boundary(sentence: &str, end: usize) -> &str {
    let inside_word = |i: usize| {
        let before = sentence[..i].chars().next_back();
        let after = sentence[i..].chars().next();
        matches!((before, after), (Some(b), Some(a))
            if b.is_alphanumeric() && !is_wide(b) && a.is_alphanumeric() && !is_wide(a))
    };
    if !inside_word(end) {
        return &sentence[..end];
    }
    let word_start = sentence[..end]
        .rfind(|c: char| !c.is_alphanumeric() || is_wide(c))
        .map_or(0, |i| {
            i + sentence[i..].chars().next().map_or(1, char::len_utf8)
        });
    if word_start == 0 {
        // One word longer than the budget: cut inside it after all.
        &sentence[..end]
    } else {
        &sentence[..word_start]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const BUDGET: usize = 120;

    fn seed_body(name: &str) -> String {
        let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/seeds")
            .join(name);
        let seed =
            std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
        let body = seed.splitn(3, "---\n").nth(2).expect("front matter");
        to_text(body)
    }

    /// Every sentence of the summary (without a trailing `…`) is a whole
    /// sentence of the text.
    fn assert_whole_sentences(summary: &str, text: &str) {
        let text_sentences = split(text);
        for sentence in split(summary) {
            assert!(
                text_sentences.contains(&sentence),
                "not a whole sentence of the text: {sentence}"
            );
        }
    }

    #[test]
    fn chinese_article_gets_whole_central_sentences() {
        for seed in ["003_36a4fbbe9fc21027.txt", "004_be1821cd074cc226.txt"] {
            let text = seed_body(seed);
            let (summary, origin) = summarise(None, &text, BUDGET);
            assert_eq!(origin, SummaryOrigin::Extractive);
            assert!(display_len(&summary) <= BUDGET, "{seed}: {summary}");
            assert!(display_len(&summary) >= BUDGET / 3, "{seed}: {summary}");
            assert_whole_sentences(&summary, &text);
            assert!(summary.ends_with('。'), "{seed}: {summary}");
            assert!(!summary.contains("http"), "{seed}: {summary}");
        }
        let (summary, _) = summarise(None, &seed_body("004_be1821cd074cc226.txt"), BUDGET);
        assert!(summary.contains("云原生"), "{summary}");
    }

    #[test]
    fn english_article() {
        let text = "Kubernetes 1.29 is released. The release focuses on sidecar containers \
                    and stability for Kubernetes clusters. Click here to subscribe to our newsletter. \
                    Sidecar containers in Kubernetes now start before the main containers and stop after them. \
                    Photo: the release team. Thanks to the many contributors who made this release possible.";
        let (summary, origin) = summarise(None, text, 60);
        assert_eq!(origin, SummaryOrigin::Extractive);
        assert!(display_len(&summary) <= 60, "{summary}");
        assert_whole_sentences(&summary, text);
        assert!(summary.contains("sidecar containers"), "{summary}");
        assert!(!summary.contains("Click here"));
    }

    #[test]
    fn teaser_descriptions_are_rejected() {
        let text = seed_body("004_be1821cd074cc226.txt");
        let start: String = text.chars().filter(|c| *c != '\n').take(40).collect();
        for teaser in [
            start.clone(),
            format!("{start}..."),
            format!("<p>{start} […]</p>"),
            format!("{start}… Read more"),
        ] {
            let (_, origin) = summarise(Some(&teaser), &text, BUDGET);
            assert_eq!(origin, SummaryOrigin::Extractive, "{teaser}");
        }
        // Seed 004's own description: a piece from the middle, cut mid-sentence.
        let excerpt =
            "而OpenNJet KIC借助于OpenNJet的动态配置能力，实现了通过API添加应用路由，保证了";
        assert_eq!(
            summarise(Some(excerpt), &text, BUDGET).1,
            SummaryOrigin::Extractive
        );
        assert_eq!(
            summarise(Some("  "), &text, BUDGET).1,
            SummaryOrigin::Extractive
        );
    }

    #[test]
    fn real_descriptions_are_kept_clean() {
        let text = seed_body("003_36a4fbbe9fc21027.txt");
        let description =
            "<p>天翼云在操作系统大会上获得五项大奖，<b>openEuler</b> 贡献再获认可。</p>";
        let (summary, origin) = summarise(Some(description), &text, BUDGET);
        assert_eq!(origin, SummaryOrigin::Source);
        assert_eq!(
            summary,
            "天翼云在操作系统大会上获得五项大奖，openEuler 贡献再获认可。"
        );
    }

    #[test]
    fn long_real_description_is_shortened_by_whole_sentences() {
        let description = "第一句话说明了这次发布的主要内容和意义。".repeat(3) + "最后一句。";
        let (summary, origin) = summarise(Some(&description), "正文完全不同的内容。", 45);
        assert_eq!(origin, SummaryOrigin::Source);
        assert_eq!(
            summary,
            "第一句话说明了这次发布的主要内容和意义。第一句话说明了这次发布的主要内容和意义。"
        );
    }

    #[test]
    fn over_long_single_sentence_is_cut_at_a_clause() {
        let text = "由全球分布式云联盟、众视 Tech 主办的的 2022 全球分布式云大会·深圳站将于 12 月 21 日召开，\
                    大会以“云筑数字新基 远见数智未来”为主题，将设立分布式主题报告会以及分布式算力、分布式数据库、\
                    云原生开源实践三大主题分论坛，并邀请来自各个行业的专家学者共同探讨分布式云的发展方向和落地实践经验";
        let (summary, _) = summarise(None, text, 60);
        assert!(summary.ends_with("召开…"), "{summary}");
        assert!(display_len(&summary) <= 60);
        let english = "This single sentence keeps going well past any sensible summary budget without a single clause mark anywhere in it at all";
        let (summary, _) = summarise(None, english, 20);
        assert!(summary.ends_with('…'));
        assert!(display_len(&summary) <= 20, "{summary}");
        let kept = summary.trim_end_matches('…');
        assert!(
            english.starts_with(kept) && english[kept.len()..].starts_with(' '),
            "{summary}"
        );
    }

    #[test]
    fn a_description_that_is_the_whole_text_is_no_summary() {
        // Feeds with only a description give it as the text too. Text that
        // looks like markup ("Vec<u64>") once made it differ from itself.
        let text = "The type Vec<u64> holds the hashes. Sorting them makes counting cheap, \
                    and counting is what the summariser does for every sentence.";
        let (_, origin) = summarise(Some(text), text, 60);
        assert_eq!(origin, SummaryOrigin::Extractive);
    }

    #[test]
    fn empty_input_gives_empty_summary() {
        assert_eq!(summarise(None, "", BUDGET).0, "");
        assert_eq!(summarise(Some(""), "  \n ", BUDGET).0, "");
    }

    #[test]
    fn deterministic_and_within_budget_for_many_budgets() {
        let text = seed_body("003_36a4fbbe9fc21027.txt");
        for budget in [1, 5, 20, 50, 120, 300] {
            let first = summarise(None, &text, budget);
            assert_eq!(first, summarise(None, &text, budget));
            assert!(display_len(&first.0) <= budget, "{budget}: {}", first.0);
        }
    }
}
