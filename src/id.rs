//! Numbers that index a scan's tables, as types of their own: an input's
//! number, a document's, a paragraph's, a fingerprinted paragraph's, a
//! candidate group's and a block's are all `u32` underneath, and as bare
//! numbers one could be handed on where another was meant without
//! complaint. As types, it does not compile: a field, a parameter, a
//! comparison or a table of ids takes one kind only. (The style of
//! aho-corasick's `PatternID`: a `u32` inside, `index()` for the `usize` a
//! slice wants, and slices and vectors indexed by the type directly. As
//! there, a slice does not know which kind numbers its rows, so any id
//! indexes it: what keeps `docs[doc]` right is that `doc` can only have
//! come from somewhere that holds a [`DocId`].)
//!
//! ```compile_fail
//! use neardup::id::{FingerprintId, ParagraphId};
//!
//! // A fingerprinted paragraph's number is not its paragraph number.
//! let slot = FingerprintId::new(3);
//! let paragraph: ParagraphId = slot;
//! ```
//!
//! An id plus a count is an id of the same kind (the end of a run that
//! starts at it), and one id minus an earlier one of its kind is a count;
//! ids of two kinds never meet in arithmetic. Each type is
//! `#[repr(transparent)]` over its `u32`: tables of ids take no more room,
//! and sorting or hashing them costs no more, than tables of bare numbers.

/// Defines an id type. A public id (`pub Name`) has the whole API below;
/// an id private to the crate (`pub(super) Name`, `Name`) lacks `get` and
/// `span`, which a type used only inside one module would leave unused.
/// Paths are absolute, so that the macro works in any module.
macro_rules! id {
    ($(#[$doc:meta])* pub $name:ident) => {
        $crate::id::id!(@core $(#[$doc])* pub $name);

        impl $name {
            /// The number itself.
            pub const fn get(self) -> u32 {
                self.0
            }

            /// The `count` ids from this one on.
            pub fn span(self, count: u32) -> impl Iterator<Item = $name> {
                (self.0..self.0 + count).map($name)
            }
        }
    };
    ($(#[$doc:meta])* $vis:vis $name:ident) => {
        $crate::id::id!(@core $(#[$doc])* $vis $name);
    };
    (@core $(#[$doc:meta])* $vis:vis $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        $vis struct $name(u32);

        impl $name {
            /// The id of number `n`.
            pub const fn new(n: u32) -> $name {
                $name(n)
            }

            /// The number, for a table indexed by `usize`.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        /// The id `count` places on: the end of a run of `count` that
        /// starts here.
        impl ::std::ops::Add<u32> for $name {
            type Output = $name;
            fn add(self, count: u32) -> $name {
                $name(self.0 + count)
            }
        }

        impl ::std::ops::AddAssign<u32> for $name {
            fn add_assign(&mut self, count: u32) {
                self.0 += count;
            }
        }

        /// How many places `earlier` comes before this id.
        impl ::std::ops::Sub for $name {
            type Output = u32;
            fn sub(self, earlier: $name) -> u32 {
                self.0 - earlier.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl<T> ::std::ops::Index<$name> for [T] {
            type Output = T;
            fn index(&self, id: $name) -> &T {
                &self[id.index()]
            }
        }

        impl<T> ::std::ops::IndexMut<$name> for [T] {
            fn index_mut(&mut self, id: $name) -> &mut T {
                &mut self[id.index()]
            }
        }

        impl<T> ::std::ops::Index<$name> for Vec<T> {
            type Output = T;
            fn index(&self, id: $name) -> &T {
                &self[id.index()]
            }
        }

        impl<T> ::std::ops::IndexMut<$name> for Vec<T> {
            fn index_mut(&mut self, id: $name) -> &mut T {
                &mut self[id.index()]
            }
        }
    };
}

pub(crate) use id;

id!(
    /// The number of an input in a scan's list of inputs, from 0.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::id::InputId;
    ///
    /// let names = vec!["a.jsonl", "b.jsonl"];
    /// assert_eq!(names[InputId::new(1)], "b.jsonl");
    /// ```
    pub InputId
);

id!(
    /// The number of a document in a whole scan, in input order, from 0.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::id::DocId;
    ///
    /// // Documents 4, 5 and 6: three from the fourth on.
    /// let docs: Vec<DocId> = DocId::new(4).span(3).collect();
    /// assert_eq!(docs, [DocId::new(4), DocId::new(5), DocId::new(6)]);
    /// assert_eq!(docs[2] - docs[0], 2);
    /// ```
    pub DocId
);

id!(
    /// The number of a paragraph in a whole scan, counting every paragraph
    /// of every input in input order, from 0, whether it was fingerprinted
    /// or not. (A report's [`Location::paragraph`] counts within its
    /// document instead.) A document's or a block's paragraphs are a run of
    /// these: the first and a count.
    ///
    /// [`Location::paragraph`]: crate::report::Location::paragraph
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::id::ParagraphId;
    ///
    /// // A document whose 3 paragraphs start at paragraph 10 of the scan.
    /// let (first, count) = (ParagraphId::new(10), 3);
    /// let end = first + count;
    /// assert!(ParagraphId::new(12) < end);
    /// // Paragraph 12 of the scan is the document's third (index 2).
    /// assert_eq!(ParagraphId::new(12) - first, 2);
    /// ```
    pub ParagraphId
);

id!(
    /// The number of a fingerprinted paragraph, from 0 in input order: its
    /// row in the first pass's tables of fingerprints (content hash, band
    /// keys), and the id that candidate groups and the
    /// [`Assigner`](crate::cluster::Assigner) hold. Paragraphs too short to
    /// fingerprint, or that the allowlist names, get none, so this is not
    /// the [`ParagraphId`]: the scan keeps a table from the one to the
    /// other. (The pipeline calls it the paragraph's *slot*.)
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::id::{FingerprintId, ParagraphId};
    ///
    /// // Paragraphs 0, 2 and 3 were fingerprinted; paragraph 1 was too short.
    /// let paragraph_of = vec![ParagraphId::new(0), ParagraphId::new(2), ParagraphId::new(3)];
    /// assert_eq!(paragraph_of[FingerprintId::new(1)], ParagraphId::new(2));
    /// ```
    pub FingerprintId
);

id!(
    /// The number of a candidate group (the fingerprinted paragraphs that
    /// share one band key), from 0 in the order the grouping step found
    /// them.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::id::{FingerprintId, GroupId};
    ///
    /// let members = vec![
    ///     vec![FingerprintId::new(0), FingerprintId::new(4)],
    ///     vec![FingerprintId::new(1), FingerprintId::new(2)],
    /// ];
    /// assert!(members[GroupId::new(1)].contains(&FingerprintId::new(2)));
    /// ```
    pub GroupId
);

id!(
    /// The number of a block (see [`corpus::block`](crate::corpus::block))
    /// within its input, from 0: blocks depend only on the input's bytes,
    /// so an input and a block number name the same block in every pass.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::id::{BlockId, InputId};
    /// use std::collections::HashSet;
    ///
    /// let wanted: HashSet<(InputId, BlockId)> = [(InputId::new(0), BlockId::new(2))].into();
    /// assert!(wanted.contains(&(InputId::new(0), BlockId::new(2))));
    /// assert!(!wanted.contains(&(InputId::new(2), BlockId::new(0))));
    /// ```
    pub BlockId
);
