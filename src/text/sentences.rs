//! Sentence splitting and text length measure (stub).

/// Split plain text into sentences (Chinese `。！？；` and English ends).
pub fn split(text: &str) -> Vec<&str> {
    vec![text]
}

/// Length of text in "Chinese characters": a CJK character counts 1, other
/// characters count 1/2 (rounded up).
pub fn display_len(text: &str) -> usize {
    text.chars().count()
}
