//! Band keys kept outside a scan.
//!
//! The band keys are a scan's largest table (4 bytes per band per
//! paragraph). A scan spread over machines has them already written, cut by
//! key, in its key files; its last stage reads them from there one band at
//! a time instead of holding them all, to group and to query an index.

use crate::Error;
use crate::id::FingerprintId;

/// The band keys of a scan's fingerprinted paragraphs, kept outside the
/// scan (the key files of a spread scan, [`crate::stage`]) and read one
/// band at a time, so that the scan never holds them all
/// ([`super::Extras::band_keys`]).
pub trait BandKeys: Sync {
    /// The fingerprinted paragraphs of each input.
    fn slots_by_input(&self) -> &[u32];

    /// Every fingerprinted paragraph's key in band `band`, as `(key,
    /// slot)`, slots numbered over the scan in input order, sorted by key,
    /// then slot.
    ///
    /// # Errors
    ///
    /// Reading them failed (a damaged file): the scan stops.
    fn band(&self, band: usize) -> Result<Vec<(u32, FingerprintId)>, Error>;
}
