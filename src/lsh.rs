//! LSH banding: a signature in, `bands` band keys out; and the choice of
//! `bands × rows` for a threshold.
//!
//! The signature is cut into `bands` runs of `rows` values; two paragraphs
//! become a candidate pair when all values of at least one band agree. For a
//! pair of Jaccard similarity `s` that happens with probability
//!
//! ```text
//! P(s) = 1 - (1 - s^rows)^bands
//! ```
//!
//! an S-shaped curve. [`LshParams::for_threshold`] picks the steepest curve
//! (the most rows) whose value at the threshold is still at least
//! [`MIN_RECALL_AT_THRESHOLD`], then as many bands as the signature allows,
//! so pairs at the threshold are almost never missed and pairs well below it
//! rarely cost a verification.
//!
//! An index pays for every band on disk (about 4.4 bytes per kept
//! paragraph), so [`LshParams::for_index`] keeps those rows and takes only
//! as many bands as the same guarantee needs: 18 instead of 25 at 0.8.

use crate::Error;
use crate::hash;

/// The probability with which a pair exactly at the threshold must become a
/// candidate. At 0.999 a corpus with a thousand near-duplicate pairs right
/// at the threshold misses about one; the price is more candidates in the
/// 0.5–0.7 range, which exact verification rejects cheaply.
pub const MIN_RECALL_AT_THRESHOLD: f64 = 0.999;

/// A banding: `bands` bands of `rows` signature values each.
///
/// # Example
///
/// ```
/// use neardup::lsh::LshParams;
///
/// let p = LshParams::for_threshold("0.8".parse()?, 128)?;
/// assert_eq!((p.bands(), p.rows()), (25, 5));
/// assert!(p.probability(0.8) >= 0.999);
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LshParams {
    bands: usize,
    rows: usize,
}

impl LshParams {
    /// An explicit banding.
    ///
    /// # Errors
    ///
    /// Returns an error if either number is zero or the banding needs more
    /// values than `num_perm`.
    pub fn new(bands: usize, rows: usize, num_perm: usize) -> Result<LshParams, Error> {
        if bands == 0 || rows == 0 {
            return Err(Error::config(format!(
                "bands and rows must both be at least 1, got {bands} bands x {rows} rows"
            )));
        }
        if bands.saturating_mul(rows) > num_perm {
            return Err(Error::config(format!(
                "{bands} bands x {rows} rows needs {} signature values, but --num-perm is {num_perm}",
                bands.saturating_mul(rows)
            )));
        }
        Ok(LshParams { bands, rows })
    }

    /// The banding for `threshold` with a signature of `num_perm` values:
    /// the largest `rows` such that `P(threshold) >=`
    /// [`MIN_RECALL_AT_THRESHOLD`] with `bands = num_perm / rows`.
    ///
    /// # Errors
    ///
    /// Returns an error if no banding reaches the guarantee at the
    /// threshold (a very low threshold with a short signature).
    pub fn for_threshold(threshold: crate::Threshold, num_perm: usize) -> Result<LshParams, Error> {
        let t = threshold.as_f64();
        (1..=num_perm)
            .rev()
            .map(|rows| LshParams {
                bands: num_perm / rows,
                rows,
            })
            .find(|p| p.probability(t) >= MIN_RECALL_AT_THRESHOLD)
            .ok_or_else(|| {
                Error::config(format!(
                    "no banding of {num_perm} values finds pairs at threshold {threshold} \
                     with probability {MIN_RECALL_AT_THRESHOLD}; raise --num-perm or the threshold"
                ))
            })
    }

    /// The banding an index is made with: the rows of
    /// [`for_threshold`](Self::for_threshold), and the fewest bands that
    /// still make a pair at the threshold a candidate with probability
    /// [`MIN_RECALL_AT_THRESHOLD`]. Each band is a table of the index, so
    /// this is the smallest index that keeps the scan's guarantee; a pair
    /// at the threshold is missed a little more often than by a scan,
    /// which uses every value of the signature (0.00079 against 0.00005
    /// at 0.8).
    ///
    /// ```
    /// use neardup::lsh::LshParams;
    ///
    /// let p = LshParams::for_index("0.8".parse()?, 128)?;
    /// assert_eq!((p.bands(), p.rows()), (18, 5));
    /// assert!(p.probability(0.8) >= 0.999);
    /// assert!(LshParams::new(17, 5, 128)?.probability(0.8) < 0.999);
    /// # Ok::<(), neardup::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`for_threshold`](Self::for_threshold).
    pub fn for_index(threshold: crate::Threshold, num_perm: usize) -> Result<LshParams, Error> {
        let most = LshParams::for_threshold(threshold, num_perm)?;
        let t = threshold.as_f64();
        Ok((1..=most.bands)
            .map(|bands| LshParams {
                bands,
                rows: most.rows,
            })
            .find(|p| p.probability(t) >= MIN_RECALL_AT_THRESHOLD)
            .unwrap_or(most))
    }

    /// The number of bands.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// The number of signature values per band.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The probability that a pair of Jaccard similarity `s` shares at least
    /// one band.
    pub fn probability(&self, s: f64) -> f64 {
        // Repeated multiplication rather than `powi`, whose rounding is not
        // specified, so the choice of banding is the same on every platform.
        let row_match = (0..self.rows).fold(1.0, |p, _| p * s);
        let all_miss = (0..self.bands).fold(1.0, |p, _| p * (1.0 - row_match));
        1.0 - all_miss
    }

    /// The band keys of a signature's values, band 0 first.
    ///
    /// # Panics
    ///
    /// Panics if there are fewer than `bands * rows` values.
    pub fn band_keys<'a>(&self, signature: &'a [u32]) -> impl Iterator<Item = u64> + use<'a> {
        let values = &signature[..self.bands * self.rows];
        values
            .chunks_exact(self.rows)
            .enumerate()
            .map(|(band, chunk)| band_key(band, chunk))
    }
}

/// The key of band `band` holding `values`: XXH3-64 of the values' little-
/// endian bytes, seeded with the band number so that equal values in
/// different bands give different keys.
pub fn band_key(band: usize, values: &[u32]) -> u64 {
    // On a little-endian machine the values' memory is their encoding:
    // hashed in place, with no copy. (With a copy into a stack buffer,
    // 46% of the function's samples sat on XXH3's first load: an 8-byte
    // load spanning two 4-byte stores cannot be forwarded from the store
    // buffer and waits for it.)
    #[cfg(target_endian = "little")]
    {
        // SAFETY: any initialised u32 is four initialised bytes, and a u8
        // has no alignment requirement; the slice borrows `values`.
        let bytes = unsafe {
            std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), size_of_val(values))
        };
        hash::xxh3(bytes, band as u64)
    }
    #[cfg(not(target_endian = "little"))]
    band_key_copied(band, values)
}

/// [`band_key`] by way of an explicit little-endian copy.
#[cfg_attr(target_endian = "little", allow(dead_code))]
fn band_key_copied(band: usize, values: &[u32]) -> u64 {
    let mut bytes = [0u8; 4 * 32];
    if values.len() <= 32 {
        for (dst, v) in bytes.chunks_exact_mut(4).zip(values) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        hash::xxh3(&bytes[..4 * values.len()], band as u64)
    } else {
        let long: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        hash::xxh3(&long, band as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Threshold;

    #[test]
    fn every_threshold_gets_its_recall() {
        for t in [
            "0.5", "0.6", "0.7", "0.75", "0.8", "0.85", "0.9", "0.95", "1",
        ] {
            let threshold: Threshold = t.parse().unwrap();
            for num_perm in [64, 128, 256] {
                let p = LshParams::for_threshold(threshold, num_perm).unwrap();
                assert!(p.bands() * p.rows() <= num_perm);
                assert!(
                    p.probability(threshold.as_f64()) >= MIN_RECALL_AT_THRESHOLD,
                    "{t} {num_perm}"
                );
                let steeper = LshParams {
                    bands: num_perm / (p.rows() + 1),
                    rows: p.rows() + 1,
                };
                assert!(
                    p.rows() == num_perm
                        || steeper.probability(threshold.as_f64()) < MIN_RECALL_AT_THRESHOLD,
                    "a steeper banding would do for {t} {num_perm}"
                );
            }
        }
    }

    #[test]
    fn an_index_takes_the_fewest_bands_that_keep_the_guarantee() {
        for t in ["0.5", "0.6", "0.7", "0.8", "0.9", "1"] {
            let threshold: Threshold = t.parse().unwrap();
            let s = threshold.as_f64();
            for num_perm in [64, 128, 256] {
                let scan = LshParams::for_threshold(threshold, num_perm).unwrap();
                let index = LshParams::for_index(threshold, num_perm).unwrap();
                assert_eq!(index.rows(), scan.rows(), "{t} {num_perm}");
                assert!(index.bands() <= scan.bands(), "{t} {num_perm}");
                assert!(
                    index.probability(s) >= MIN_RECALL_AT_THRESHOLD,
                    "{t} {num_perm}"
                );
                let fewer = LshParams {
                    bands: index.bands() - 1,
                    rows: index.rows(),
                };
                assert!(
                    index.bands() == 1 || fewer.probability(s) < MIN_RECALL_AT_THRESHOLD,
                    "{t} {num_perm}: {} bands would do",
                    fewer.bands
                );
            }
        }
        let at_half = LshParams::for_index("0.5".parse().unwrap(), 128).unwrap();
        assert_eq!((at_half.bands(), at_half.rows()), (25, 2));
    }

    #[test]
    fn explicit_banding_is_checked() {
        assert!(LshParams::new(20, 7, 128).is_err());
        assert!(LshParams::new(0, 7, 128).is_err());
        assert_eq!(LshParams::new(16, 8, 128).unwrap().bands(), 16);
    }

    #[test]
    fn probability_is_monotone() {
        let p = LshParams::new(21, 6, 128).unwrap();
        let curve: Vec<f64> = (0..=10).map(|i| p.probability(i as f64 / 10.0)).collect();
        assert!(curve.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(curve[0], 0.0);
        assert_eq!(curve[10], 1.0);
    }

    #[test]
    fn in_place_and_copied_keys_agree() {
        let values: Vec<u32> = (0..40u32).map(|i| i.wrapping_mul(0x9e37_79b9)).collect();
        for len in 0..=values.len() {
            for band in [0, 1, 24] {
                assert_eq!(
                    band_key(band, &values[..len]),
                    band_key_copied(band, &values[..len])
                );
            }
        }
    }

    #[test]
    fn band_keys_depend_on_band_and_values() {
        assert_ne!(band_key(0, &[1, 2]), band_key(1, &[1, 2]));
        assert_ne!(band_key(0, &[1, 2]), band_key(0, &[2, 1]));
        let long: Vec<u32> = (0..40).collect();
        assert_ne!(band_key(0, &long), band_key(0, &long[..39]));
    }
}
