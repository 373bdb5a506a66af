//! Turning bytes and markup into clean text: charset decoding, mojibake
//! repair, HTML to text, sentence splitting. Every source kind goes through
//! here, so the rules for "what does this text really say" live in one place.

pub mod decode;
pub mod extract;
pub mod html;
pub mod mojibake;
pub mod sentences;
