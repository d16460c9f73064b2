//! A fixed-size bit set of node indices: set algebra over 10,000 nodes is a
//! few hundred word operations.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeSet {
    words: Vec<u64>,
}

impl NodeSet {
    pub(crate) fn new(len: usize) -> NodeSet {
        NodeSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// Inserts `i`; true when it was not there yet.
    pub(crate) fn insert(&mut self, i: usize) -> bool {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let fresh = self.words[word] & bit == 0;
        self.words[word] |= bit;
        fresh
    }

    pub(crate) fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1u64 << (i % 64));
    }

    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    pub(crate) fn union_with(&mut self, other: &NodeSet) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a |= b);
    }

    pub(crate) fn intersect_with(&mut self, other: &NodeSet) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a &= b);
    }

    pub(crate) fn difference_with(&mut self, other: &NodeSet) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a &= !b);
    }

    /// Members in ascending index (= `unique_id`) order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let mut a = NodeSet::new(130);
        a.insert(1);
        a.insert(129);
        let mut b = NodeSet::new(130);
        b.insert(129);
        b.insert(64);
        let mut c = a.clone();
        c.intersect_with(&b);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![129]);
        c.union_with(&b);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![64, 129]);
        c.difference_with(&a);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![64]);
        assert!(!c.contains(1) && c.contains(64) && !c.contains(1000));
    }
}
