//! neardup finds near-duplicate paragraphs in text corpora.
//!
//! Text is split into paragraphs, normalised, cut into word n-gram shingles,
//! fingerprinted with MinHash, and paired by LSH banding; every candidate
//! pair is then checked by exact Jaccard similarity before it counts.
//! Duplicates are grouped without chaining: taking paragraphs in input
//! order, a paragraph that matches an earlier *kept* paragraph is flagged as a
//! duplicate of the earliest such one, so every flagged paragraph really
//! resembles the paragraph it is reported against.
//!
//! # Overview
//!
//! - [`Fingerprinter`]: the per-paragraph functions (fingerprint, band keys,
//!   exact shingle set, similarity), usable by any driver.
//! - [`pipeline::scan`]: the batch driver, which runs the whole detection
//!   over a list of [`corpus::Input`]s in parallel and returns a
//!   [`report::Report`].
//! - [`explain::explain`]: the numbers behind one pair's verdict (shingles,
//!   exact and estimated Jaccard, agreeing bands, a word diff).
//! - [`Config`]: validated settings; [`Threshold`] and [`Similarity`] keep
//!   the threshold comparison exact.
//!
//! The stages, in data-flow order, are the modules [`paragraph`],
//! [`normalize`], [`shingle`], [`hash`], [`minhash`], [`lsh`], [`similarity`],
//! [`cluster`] and [`passage`]; `ARCHITECTURE.md` walks through them.
//!
//! # Example
//!
//! ```
//! use neardup::{Config, Fingerprinter};
//!
//! let fp = Fingerprinter::new(&Config::default());
//! let original = "Heavy rain closed the coastal road north of Port Callow for \
//!                 the third time this month, officials said on Monday.";
//! let reprint = "Heavy rain closed the coastal road north of Port Callow for \
//!                the third time this month, officials said Monday.";
//! let sim = fp.similarity(original, reprint);
//! assert!(sim.meets(fp.config().threshold()));
//! ```
#![deny(missing_docs)]

pub mod allow;
pub mod cluster;
mod column;
pub mod config;
pub mod containment;
pub mod corpus;
mod error;
mod expiry;
pub mod explain;
pub mod fingerprint;
pub mod guard;

pub mod hash;
pub mod id;
pub mod index;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod paragraph;
pub mod passage;
pub mod pipeline;
pub mod report;
pub mod rewrite;
pub mod shingle;
pub mod similarity;
mod slab;
pub mod stage;

pub use config::{Config, ConfigBuilder, Scope};
pub use error::{Error, ErrorKind};
pub use fingerprint::{Fingerprint, Fingerprinter};
pub use similarity::{Similarity, Threshold};

#[cfg(test)]
mod tests {
    /// Shared types cross rayon threads; keep them `Send + Sync`.
    #[test]
    fn shared_types_are_send_and_sync() {
        fn assert_all<T: Send + Sync>() {}
        assert_all::<crate::Config>();
        assert_all::<crate::Fingerprinter>();
        assert_all::<crate::Error>();
        assert_all::<crate::report::Report>();
    }
}
