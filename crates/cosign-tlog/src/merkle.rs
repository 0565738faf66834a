//! RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes, inclusion and consistency proof
//! verification, and an in-memory reference tree that produces the proofs.
//!
//! Rekor v1 is a Trillian log, so its tree is exactly RFC 6962's: leaf hash
//! `SHA-256(0x00 || data)`, node hash `SHA-256(0x01 || left || right)`, the empty tree hashes to
//! `SHA-256("")`, and a tree of `n` leaves splits at the largest power of two below `n`.

use sha2::{Digest as _, Sha256};

use crate::TlogError;

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// Longest inclusion proof a tree of at most 2^64 leaves can have.
const MAX_INCLUSION_PROOF: usize = 64;
/// Longest consistency proof a tree of at most 2^64 leaves can have (generously).
const MAX_CONSISTENCY_PROOF: usize = 130;

/// The RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Computes the root an inclusion proof leads to (RFC 9162 section 2.1.3.2).
///
/// Errors when `index >= size` or the proof has the wrong length for that position.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, TlogError> {
    let fail = |reason: &str| TlogError::InclusionProof {
        index,
        size,
        reason: reason.to_owned(),
    };
    if index >= size {
        return Err(fail("the leaf index is not inside the tree"));
    }
    if proof.len() > MAX_INCLUSION_PROOF {
        return Err(fail("the proof has more hashes than any tree can need"));
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(fail("the proof has too many hashes"));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(fail("the proof has too few hashes"));
    }
    Ok(r)
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(TlogError::InclusionProof {
            index,
            size,
            reason: format!(
                "the proof leads to root {} but the tree head says {}",
                hex::encode(computed),
                hex::encode(root)
            ),
        })
    }
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of
/// `size2` leaves with root `root2` (RFC 9162 section 2.1.4.2). The empty tree is consistent
/// with every tree (with an empty proof); equal sizes need equal roots and an empty proof.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), TlogError> {
    let fail = |reason: &str| TlogError::ConsistencyProof {
        size1,
        size2,
        reason: reason.to_owned(),
    };
    if size2 < size1 {
        return Err(fail("the second tree is smaller than the first"));
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(fail("trees of equal size need an empty proof"));
        }
        if root1 != root2 {
            return Err(fail("trees of equal size have different roots"));
        }
        return Ok(());
    }
    if size1 == 0 {
        if !proof.is_empty() {
            return Err(fail("the empty tree needs an empty proof"));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(fail("the proof is empty"));
    }
    if proof.len() > MAX_CONSISTENCY_PROOF {
        return Err(fail("the proof has more hashes than any tree can need"));
    }
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(root1);
    }
    path.extend(proof.iter());
    let mut f = size1 - 1;
    let mut s = size2 - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (first, rest) = path
        .split_first()
        .ok_or_else(|| fail("the proof is empty"))?;
    let mut fr = **first;
    let mut sr = **first;
    for c in rest {
        if s == 0 {
            return Err(fail("the proof has too many hashes"));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(fail("the proof has too few hashes"));
    }
    if &fr != root1 {
        return Err(fail("the proof does not lead to the first root"));
    }
    if &sr != root2 {
        return Err(fail("the proof does not lead to the second root"));
    }
    Ok(())
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// An in-memory RFC 6962 tree, for servers and tests.
///
/// Every complete, aligned subtree is kept (level `k` holds the hashes of the subtrees of
/// `2^k` leaves), about two hashes per leaf. Appending is amortised O(1); roots of any earlier
/// size, inclusion and consistency proofs take O(log n) hashing.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The hashes of the complete, aligned subtrees of `2^level` leaves, left to right (level 0:
    /// the leaves). What C2SP hash tiles of level `L` hold is level `8 * L`.
    pub fn level(&self, level: usize) -> &[Hash] {
        self.levels.get(level).map_or(&[], Vec::as_slice)
    }

    /// Appends a leaf hash (see [`leaf_hash`]) and returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let mut level = 0;
        let mut carry = leaf;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let current = &mut self.levels[level];
            current.push(carry);
            let n = current.len();
            if n % 2 == 1 {
                break;
            }
            carry = node_hash(&current[n - 2], &current[n - 1]);
            level += 1;
        }
        self.size() - 1
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// The current root ([`empty_root`] for the empty tree).
    pub fn root(&self) -> Hash {
        if self.size() == 0 {
            empty_root()
        } else {
            self.subtree(0, self.size())
        }
    }

    /// The root the tree had when it had `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TlogError> {
        if size > self.size() {
            return Err(TlogError::OutOfRange {
                what: "computing a tree root",
                reason: format!("size {size} is larger than the tree ({})", self.size()),
            });
        }
        Ok(if size == 0 {
            empty_root()
        } else {
            self.subtree(0, size)
        })
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
        if size > self.size() || index >= size {
            return Err(TlogError::OutOfRange {
                what: "computing an inclusion proof",
                reason: format!(
                    "leaf {index} is not in a tree of size {size} (the tree has {} leaves)",
                    self.size()
                ),
            });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    /// The consistency proof between the trees of the first `size1` and `size2` leaves
    /// (empty when `size1` is 0 or equal to `size2`).
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, TlogError> {
        if size1 > size2 || size2 > self.size() {
            return Err(TlogError::OutOfRange {
                what: "computing a consistency proof",
                reason: format!(
                    "sizes {size1} and {size2} do not fit a tree of {} leaves",
                    self.size()
                ),
            });
        }
        let mut out = Vec::new();
        if size1 > 0 && size1 < size2 {
            self.subproof(size1, 0, size2, true, &mut out);
        }
        Ok(out)
    }

    /// MTH of the `n >= 1` leaves starting at `start`. Callers keep `start` aligned the way the
    /// RFC 6962 recursion does, so the left halves are always stored complete subtrees.
    fn subtree(&self, start: u64, n: u64) -> Hash {
        if n.is_power_of_two() && start % n == 0 {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start / n) as usize];
        }
        let k = split_point(n);
        node_hash(&self.subtree(start, k), &self.subtree(start + k, n - k))
    }

    /// RFC 6962 PATH(m, D[start..start+n]).
    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.subtree(start, k));
        }
    }

    /// RFC 6962 SUBPROOF(m, D[start..start+n], b).
    fn subproof(&self, m: u64, start: u64, n: u64, complete: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !complete {
                out.push(self.subtree(start, n));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, k, complete, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.subtree(start, k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hash {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// RFC 6962 reference data (certificate-transparency / transparency-dev test vectors).
    fn reference_leaves() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|s| hex::decode(s).unwrap())
        .collect()
    }

    const REFERENCE_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn reference_tree() -> MerkleTree {
        let mut t = MerkleTree::new();
        for leaf in reference_leaves() {
            t.push(leaf_hash(&leaf));
        }
        t
    }

    /// Straight from the RFC 6962 definitions, with no shortcuts.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split_point(n as u64) as usize;
        if m < k {
            let mut p = naive_path(m, &leaves[..k]);
            p.push(naive_root(&leaves[k..]));
            p
        } else {
            let mut p = naive_path(m - k, &leaves[k..]);
            p.push(naive_root(&leaves[..k]));
            p
        }
    }

    fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![naive_root(leaves)] };
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            let mut p = naive_subproof(m, &leaves[..k], b);
            p.push(naive_root(&leaves[k..]));
            p
        } else {
            let mut p = naive_subproof(m - k, &leaves[k..], false);
            p.push(naive_root(&leaves[..k]));
            p
        }
    }

    #[test]
    fn reference_roots_for_every_size() {
        let t = reference_tree();
        for (size, expected) in REFERENCE_ROOTS.iter().enumerate() {
            assert_eq!(
                hex::encode(t.root_at(size as u64).unwrap()),
                *expected,
                "size {size}"
            );
        }
        assert_eq!(hex::encode(t.root()), REFERENCE_ROOTS[8]);
        assert_eq!(hex::encode(MerkleTree::new().root()), REFERENCE_ROOTS[0]);
    }

    #[test]
    fn reference_inclusion_proofs() {
        let t = reference_tree();
        let root = h(REFERENCE_ROOTS[8]);
        let cases: [(u64, [&str; 3]); 2] = [
            (
                0,
                [
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                [
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (index, proof) in cases {
            let proof: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
            assert_eq!(t.inclusion_proof(index, 8).unwrap(), proof);
            let leaf = t.leaf(index).unwrap();
            verify_inclusion(index, 8, &leaf, &proof, &root).unwrap();
        }
    }

    #[test]
    fn reference_consistency_proof() {
        let t = reference_tree();
        let proof = vec![
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ];
        assert_eq!(t.consistency_proof(2, 5).unwrap(), proof);
        verify_consistency(2, 5, &proof, &h(REFERENCE_ROOTS[2]), &h(REFERENCE_ROOTS[5])).unwrap();
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u32).to_be_bytes()))
            .collect()
    }

    #[test]
    fn every_inclusion_proof_up_to_64_leaves() {
        let all = leaves(64);
        let mut t = MerkleTree::new();
        for (i, l) in all.iter().enumerate() {
            assert_eq!(t.push(*l), i as u64);
        }
        for size in 1..=64usize {
            let root = t.root_at(size as u64).unwrap();
            assert_eq!(root, naive_root(&all[..size]), "root of {size}");
            for index in 0..size {
                let proof = t.inclusion_proof(index as u64, size as u64).unwrap();
                assert_eq!(
                    proof,
                    naive_path(index, &all[..size]),
                    "path {index}/{size}"
                );
                verify_inclusion(index as u64, size as u64, &all[index], &proof, &root).unwrap();
                // Tampering with anything breaks it.
                let other = all[(index + 1) % size];
                if size > 1 {
                    assert!(
                        verify_inclusion(index as u64, size as u64, &other, &proof, &root).is_err()
                    );
                }
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j][0] ^= 1;
                    assert!(
                        verify_inclusion(index as u64, size as u64, &all[index], &bad, &root)
                            .is_err()
                    );
                }
                let mut longer = proof.clone();
                longer.push(root);
                assert!(
                    verify_inclusion(index as u64, size as u64, &all[index], &longer, &root)
                        .is_err()
                );
                if !proof.is_empty() {
                    let shorter = &proof[..proof.len() - 1];
                    assert!(
                        verify_inclusion(index as u64, size as u64, &all[index], shorter, &root)
                            .is_err()
                    );
                    if index + 1 < size {
                        assert!(
                            verify_inclusion(
                                index as u64 + 1,
                                size as u64,
                                &all[index],
                                &proof,
                                &root
                            )
                            .is_err()
                        );
                    }
                }
            }
            assert!(
                verify_inclusion(size as u64, size as u64, &all[0], &[], &root).is_err(),
                "index == size"
            );
        }
    }

    #[test]
    fn every_consistency_proof_up_to_64_leaves() {
        let all = leaves(64);
        let mut t = MerkleTree::new();
        for l in &all {
            t.push(*l);
        }
        for size2 in 1..=64u64 {
            let root2 = t.root_at(size2).unwrap();
            for size1 in 0..=size2 {
                let root1 = t.root_at(size1).unwrap();
                let proof = t.consistency_proof(size1, size2).unwrap();
                if size1 > 0 && size1 < size2 {
                    assert_eq!(
                        proof,
                        naive_subproof(size1 as usize, &all[..size2 as usize], true),
                        "proof {size1}->{size2}"
                    );
                }
                verify_consistency(size1, size2, &proof, &root1, &root2).unwrap();
                if size1 == 0 || size1 == size2 {
                    continue;
                }
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j][31] ^= 0x80;
                    assert!(verify_consistency(size1, size2, &bad, &root1, &root2).is_err());
                }
                let mut bad_root = root1;
                bad_root[0] ^= 1;
                assert!(verify_consistency(size1, size2, &proof, &bad_root, &root2).is_err());
                assert!(verify_consistency(size1, size2, &proof, &root1, &bad_root).is_err());
                assert!(verify_consistency(size1, size2, &proof[1..], &root1, &root2).is_err());
                let mut longer = proof.clone();
                longer.push(root2);
                assert!(verify_consistency(size1, size2, &longer, &root1, &root2).is_err());
                assert!(verify_consistency(size2, size1, &proof, &root2, &root1).is_err());
            }
        }
    }

    #[test]
    fn out_of_range_requests_are_errors_not_panics() {
        let t = reference_tree();
        assert!(t.root_at(9).is_err());
        assert!(t.inclusion_proof(8, 8).is_err());
        assert!(t.inclusion_proof(0, 9).is_err());
        assert!(t.consistency_proof(5, 4).is_err());
        assert!(t.consistency_proof(1, 9).is_err());
        assert!(t.consistency_proof(0, 8).unwrap().is_empty());
        assert!(t.leaf(8).is_none());
        assert!(root_from_inclusion_proof(0, 0, &[0; 32], &[]).is_err());
        assert!(
            root_from_inclusion_proof(u64::MAX - 1, u64::MAX, &[0; 32], &[[0; 32]; 65]).is_err()
        );
        let huge = [[0u8; 32]; 200];
        assert!(verify_consistency(3, u64::MAX, &huge, &[0; 32], &[0; 32]).is_err());
        assert!(verify_consistency(4, 8, &[], &[0; 32], &[0; 32]).is_err());
        assert!(verify_consistency(4, 4, &[[0; 32]], &[0; 32], &[0; 32]).is_err());
    }
}
