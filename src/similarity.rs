//! Verification: the exact Jaccard similarity of two shingle sets, and the
//! threshold it is compared against.
//!
//! LSH only proposes candidates; nothing joins a cluster until its exact
//! similarity has been computed and compared with the threshold. Both sides
//! of that comparison are kept as integers (`intersection / union` against a
//! decimal threshold held as `numerator / denominator`), so a pair sitting
//! exactly at the threshold always counts, with no floating-point rounding
//! deciding the edge.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A similarity threshold in `(0, 1]`, held as an exact fraction.
///
/// # Example
///
/// ```
/// use neardup::{Similarity, Threshold};
///
/// let t: Threshold = "0.8".parse()?;
/// assert!(Similarity::new(4, 5).meets(t));
/// assert!(!Similarity::new(79, 100).meets(t));
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Threshold {
    numerator: u64,
    denominator: u64,
}

/// At most this many decimal places are accepted, which keeps every product
/// in [`Similarity::meets`] far inside `u128`.
const MAX_DECIMALS: u32 = 12;

impl Threshold {
    /// The threshold `numerator / denominator`.
    ///
    /// # Errors
    ///
    /// Returns an error unless `0 < numerator <= denominator`.
    pub fn from_fraction(numerator: u64, denominator: u64) -> Result<Threshold, Error> {
        if numerator == 0 || numerator > denominator {
            return Err(Error::config(format!(
                "threshold must be greater than 0 and at most 1, got {numerator}/{denominator}"
            )));
        }
        Ok(Threshold {
            numerator,
            denominator,
        })
    }

    /// The threshold closest to `value`, read through its shortest decimal
    /// form, so `0.7` means exactly 7/10 rather than the nearest `f64`.
    ///
    /// # Errors
    ///
    /// Returns an error unless `0 < value <= 1`.
    pub fn from_f64(value: f64) -> Result<Threshold, Error> {
        if !value.is_finite() {
            return Err(Error::config(format!(
                "threshold must be a number, got {value}"
            )));
        }
        format!("{value}").parse()
    }

    /// The threshold as a float (for display and for the S-curve).
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }

    /// The numerator of the exact fraction.
    pub fn numerator(self) -> u64 {
        self.numerator
    }

    /// The denominator of the exact fraction.
    pub fn denominator(self) -> u64 {
        self.denominator
    }
}

impl FromStr for Threshold {
    type Err = Error;

    fn from_str(s: &str) -> Result<Threshold, Error> {
        let invalid = || {
            Error::config(format!(
                "threshold must be a decimal number in (0, 1], got {s:?}"
            ))
        };
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > MAX_DECIMALS as usize {
            return Err(Error::config(format!(
                "threshold {s} has more than {MAX_DECIMALS} decimal places"
            )));
        }
        let denominator = 10u64.pow(frac.len() as u32);
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| invalid())?
        };
        let frac_value: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| invalid())?
        };
        let numerator = int
            .checked_mul(denominator)
            .and_then(|n| n.checked_add(frac_value))
            .ok_or_else(invalid)?;
        // Said in the user's words, not as the fraction it became.
        Threshold::from_fraction(numerator, denominator).map_err(|_| {
            Error::config(format!(
                "threshold must be greater than 0 and at most 1, got {s}"
            ))
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_f64())
    }
}

/// An exact Jaccard similarity: `intersection / union` of two shingle sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Similarity {
    /// Shingles the two sets share.
    pub intersection: u32,
    /// Shingles in either set.
    pub union: u32,
}

impl Similarity {
    /// Identical sets.
    pub const IDENTICAL: Similarity = Similarity {
        intersection: 1,
        union: 1,
    };

    /// The similarity `intersection / union`.
    pub fn new(intersection: u32, union: u32) -> Similarity {
        Similarity {
            intersection,
            union,
        }
    }

    /// Whether the similarity is at least `threshold`, compared exactly.
    pub fn meets(self, threshold: Threshold) -> bool {
        self.union > 0
            && u128::from(self.intersection) * u128::from(threshold.denominator)
                >= u128::from(threshold.numerator) * u128::from(self.union)
    }

    /// The similarity as a float; `0.0` for two empty sets.
    pub fn as_f64(self) -> f64 {
        if self.union == 0 {
            0.0
        } else {
            f64::from(self.intersection) / f64::from(self.union)
        }
    }
}

/// The exact Jaccard similarity of two sorted, de-duplicated slices (of
/// shingle hashes here; of exact shingle ids in `examples/accuracy.rs`).
///
/// # Example
///
/// ```
/// let sim = neardup::similarity::jaccard(&[1, 2, 3, 4], &[2, 3, 4, 5]);
/// assert_eq!((sim.intersection, sim.union), (3, 5));
/// ```
pub fn jaccard<T: Ord>(a: &[T], b: &[T]) -> Similarity {
    let (mut i, mut j, mut shared) = (0, 0, 0u32);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = (a.len() + b.len()) as u32 - shared;
    Similarity::new(shared, union)
}

/// [`jaccard`] of `a` and `b` if it meets `threshold`, else `None`: the
/// same answer, found sooner for most pairs that miss. The merge stops as
/// soon as either set has more elements the other lacks than the
/// threshold allows: `J >= t` needs `|A ∩ B| >= t (|A| + |B|) / (1 + t)`,
/// so at most `|A|` minus that many elements of `A` may be missing from
/// `B`. Candidates that share a band but not the threshold are most of
/// the comparisons on prose whose sentences recur.
///
/// # Example
///
/// ```
/// use neardup::similarity::{jaccard, jaccard_at_least};
///
/// let t = "0.8".parse()?;
/// let (a, b, c) = ([1u64, 2, 3, 4, 5], [1u64, 2, 3, 4, 5, 6], [5u64, 6, 7, 8, 9]);
/// assert_eq!(jaccard_at_least(&a, &b, t), Some(jaccard(&a, &b)));
/// assert_eq!(jaccard_at_least(&a, &c, t), None);
/// # Ok::<(), neardup::Error>(())
/// ```
pub fn jaccard_at_least<T: Ord>(a: &[T], b: &[T], threshold: Threshold) -> Option<Similarity> {
    let (num, den) = (
        u128::from(threshold.numerator),
        u128::from(threshold.denominator),
    );
    let total = (a.len() + b.len()) as u128;
    // shared · den >= num · (total − shared)  ⇔  shared · (num + den) >= num · total.
    let need = (num * total).div_ceil((num + den).max(1));
    let need = usize::try_from(need).unwrap_or(usize::MAX);
    if need > a.len().min(b.len()) {
        return None;
    }
    let (spare_a, spare_b) = (a.len() - need, b.len() - need);
    let (mut i, mut j, mut shared, mut missed_a, mut missed_b) = (0, 0, 0u32, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                i += 1;
                missed_a += 1;
                if missed_a > spare_a {
                    return None;
                }
            }
            std::cmp::Ordering::Greater => {
                j += 1;
                missed_b += 1;
                if missed_b > spare_b {
                    return None;
                }
            }
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let similarity = Similarity::new(shared, total as u32 - shared);
    similarity.meets(threshold).then_some(similarity)
}

/// Whether two sets of sizes `a` and `b` could reach `threshold` at all:
/// Jaccard is at most `min / max`. A cheap test before [`jaccard`].
pub fn sizes_allow(a: usize, b: usize, threshold: Threshold) -> bool {
    let (small, large) = if a <= b { (a, b) } else { (b, a) };
    Similarity::new(small as u32, large as u32).meets(threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimals_exactly() {
        let cases = [
            ("0.8", 8, 10),
            ("0.80", 8, 10),
            (".5", 5, 10),
            ("1", 1, 1),
            ("1.0", 1, 1),
            ("0.333", 333, 1000),
        ];
        for (text, num, den) in cases {
            let t: Threshold = text.parse().unwrap();
            assert_eq!((t.numerator(), t.denominator()), (num, den), "{text}");
        }
        for bad in [
            "",
            ".",
            "0",
            "1.01",
            "-0.5",
            "abc",
            "0.5.5",
            "2",
            "0.1234567890123",
        ] {
            assert!(bad.parse::<Threshold>().is_err(), "{bad:?} accepted");
        }
    }

    /// Issue 18, item 11: an error quotes the threshold as it was typed,
    /// not the fraction it was read as ("got 15/10").
    #[test]
    fn errors_echo_the_input() {
        for (typed, shown) in [
            ("1.5", "got 1.5"),
            ("0", "got 0"),
            ("0.000", "got 0.000"),
            ("2", "got 2"),
        ] {
            let e = typed.parse::<Threshold>().unwrap_err().to_string();
            assert!(e.ends_with(shown), "{typed}: {e}");
        }
    }

    #[test]
    fn from_f64_uses_shortest_decimal() {
        let t = Threshold::from_f64(0.7).unwrap();
        assert_eq!((t.numerator(), t.denominator()), (7, 10));
        assert!(Similarity::new(7, 10).meets(t));
        assert!(Threshold::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn pair_exactly_at_threshold_counts() {
        for (text, i, u) in [("0.8", 4, 5), ("0.7", 7, 10), ("0.9", 9, 10), ("0.6", 3, 5)] {
            let t: Threshold = text.parse().unwrap();
            assert!(Similarity::new(i, u).meets(t), "{i}/{u} at {text}");
            assert!(
                !Similarity::new(i * 100 - 1, u * 100).meets(t),
                "just below {text}"
            );
        }
        assert!(!Similarity::new(0, 0).meets("0.5".parse().unwrap()));
    }

    proptest! {
        #[test]
        fn jaccard_matches_hash_sets(
            a in proptest::collection::btree_set(0u64..50, 0..30),
            b in proptest::collection::btree_set(0u64..50, 0..30),
        ) {
            let av: Vec<u64> = a.iter().copied().collect();
            let bv: Vec<u64> = b.iter().copied().collect();
            let sim = jaccard(&av, &bv);
            prop_assert_eq!(sim.intersection as usize, a.intersection(&b).count());
            prop_assert_eq!(sim.union as usize, a.union(&b).count());
        }

        /// The early exit decides as the full count does, at any
        /// threshold, and gives the same similarity when it meets it.
        #[test]
        fn jaccard_at_least_is_jaccard_then_meets(
            a in proptest::collection::btree_set(0u64..40, 0..30),
            b in proptest::collection::btree_set(0u64..40, 0..30),
            num in 0u64..=10,
        ) {
            let av: Vec<u64> = a.iter().copied().collect();
            let bv: Vec<u64> = b.iter().copied().collect();
            let t = Threshold { numerator: num, denominator: 10 };
            let full = jaccard(&av, &bv);
            prop_assert_eq!(jaccard_at_least(&av, &bv, t), full.meets(t).then_some(full));
        }
    }
}
