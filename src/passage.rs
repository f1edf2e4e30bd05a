//! Repeated passages: duplicate pairs in, runs of consecutive pairs out.
//!
//! A scraper that doubles a passage doubles several paragraphs in a row; a
//! report of "paragraphs 8 and 9 repeat 6 and 7" reads better than two
//! unrelated findings. A passage is a maximal run of duplicates at
//! consecutive paragraphs of one document whose kept paragraphs are
//! consecutive paragraphs of one document, in the same order.

use crate::report::{Cluster, End, Passage, Span};

/// The passages formed by the duplicates of `clusters`, in input order of
/// the repeats. Every duplicate is in exactly one passage.
pub fn passages(clusters: &[Cluster]) -> Vec<Passage> {
    // Sized once: a report of a million duplicates would otherwise copy
    // and fault in both vectors at every doubling. `out` gets the most it
    // can need; pages of it never written are never touched. The sort key
    // is held in each entry: a key read through the duplicate's location
    // was a cache miss per comparison (about 50 ms of one thread for the
    // 300,000 duplicates of a batch that repeats an index). Ties, which
    // one scan cannot make, stay in cluster order.
    let n = clusters.iter().map(|c| c.duplicates.len()).sum();
    let mut order: Vec<(u64, usize, usize)> = Vec::with_capacity(n);
    for (c, cluster) in clusters.iter().enumerate() {
        for (d, dup) in cluster.duplicates.iter().enumerate() {
            let at = &dup.member.location;
            order.push((
                (u64::from(at.doc_index.get()) << 32) | u64::from(at.paragraph),
                c,
                d,
            ));
        }
    }
    order.sort_unstable();
    let pairs = order.into_iter().map(|(_, c, d)| {
        let cluster = &clusters[c];
        let d = &cluster.duplicates[d];
        (&d.member.location, &cluster.kept.location, d)
    });

    let mut out: Vec<Passage> = Vec::with_capacity(n);
    let mut previous = None;
    for (dup, kept, d) in pairs {
        let continues = previous.is_some_and(
            |(pd, pk): (&crate::report::Location, &crate::report::Location)| {
                pd.doc_index == dup.doc_index
                    && pd.paragraph + 1 == dup.paragraph
                    && pk.doc_index == kept.doc_index
                    && pk.paragraph + 1 == kept.paragraph
            },
        );
        match out.last_mut() {
            Some(p) if continues => {
                p.repeat.last = End::from(dup);
                p.original.last = End::from(kept);
                p.paragraphs += 1;
                if d.similarity.as_f64() < p.min_similarity.as_f64() {
                    p.min_similarity = d.similarity;
                }
            }
            _ => out.push(Passage {
                repeat: Span {
                    first: dup.clone(),
                    last: End::from(dup),
                },
                original: Span {
                    first: kept.clone(),
                    last: End::from(kept),
                },
                paragraphs: 1,
                min_similarity: d.similarity,
                kind: d.kind,
            }),
        }
        previous = Some((dup, kept));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Similarity;
    use crate::id::{DocId, InputId};
    use crate::report::{Duplicate, Kind, Location, Member};

    fn member(doc: u32, paragraph: u32) -> Member {
        Member {
            location: Location {
                path: "p".into(),
                input: InputId::new(0),
                doc: doc.to_string().into(),
                url: None,
                doc_index: DocId::new(doc),
                doc_line: 1,
                paragraph,
                line: u64::from(paragraph) + 1,
                start: 0,
                end: 0,
                batch: None,
            },
            snippet: String::new(),
            text: None,
            content: 0,
        }
    }

    fn cluster(kept: (u32, u32), dups: &[(u32, u32)]) -> Cluster {
        Cluster {
            kept: member(kept.0, kept.1),
            duplicates: dups
                .iter()
                .map(|&(d, p)| Duplicate {
                    member: member(d, p),
                    similarity: Similarity::IDENTICAL,
                    kind: if d == kept.0 {
                        Kind::WithinDocument
                    } else {
                        Kind::CrossDocument
                    },
                })
                .collect(),
        }
    }

    /// ((doc, first, last) of the repeat, (doc, first) of the original, length)
    type Run = ((u32, u32, u32), (u32, u32), u32);

    fn spans(clusters: &[Cluster]) -> Vec<Run> {
        passages(clusters)
            .iter()
            .map(|p| {
                let r = &p.repeat;
                (
                    (r.first.doc_index.get(), r.first.paragraph, r.last.paragraph),
                    (p.original.first.doc_index.get(), p.original.first.paragraph),
                    p.paragraphs,
                )
            })
            .collect()
    }

    #[test]
    fn doubled_pair_is_one_passage() {
        let c = [cluster((0, 5), &[(0, 7)]), cluster((0, 6), &[(0, 8)])];
        assert_eq!(spans(&c), [((0, 7, 8), (0, 5), 2)]);
    }

    #[test]
    fn order_and_documents_must_line_up() {
        // Repeats in swapped order are two passages.
        let swapped = [cluster((0, 1), &[(1, 1)]), cluster((0, 2), &[(1, 0)])];
        assert_eq!(spans(&swapped).len(), 2);
        // Originals in two documents are two passages.
        let split = [cluster((0, 1), &[(2, 0)]), cluster((1, 2), &[(2, 1)])];
        assert_eq!(spans(&split).len(), 2);
        // A paragraph repeated three times in a row: each repeat points at
        // the same original, so no run forms.
        let triple = [cluster((0, 0), &[(0, 1), (0, 2)])];
        assert_eq!(
            spans(&triple),
            [((0, 1, 1), (0, 0), 1), ((0, 2, 2), (0, 0), 1)]
        );
    }

    #[test]
    fn wire_story_reprint_is_one_passage() {
        let c = [
            cluster((0, 0), &[(1, 2), (2, 0)]),
            cluster((0, 1), &[(1, 3), (2, 1)]),
            cluster((0, 2), &[(1, 4)]),
        ];
        assert_eq!(spans(&c), [((1, 2, 4), (0, 0), 3), ((2, 0, 1), (0, 0), 2)]);
    }
}
