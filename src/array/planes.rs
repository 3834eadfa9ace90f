//! Operands as the array's registers hold them: per group, its shared exponent and its chunk
//! planes split into signed 2-bit chunks (what crosses an M port in one cycle).

use crate::bfp::{BfpFormat, BfpMatrix};
use crate::fmac::{split_planes, GroupOperand};

/// A converted operand split into chunk planes, indexed like its [`BfpMatrix`].
pub struct PlaneStore<'a> {
    bm: &'a BfpMatrix,
    /// Group size `g`.
    g: usize,
    /// Planes per group `c`.
    c: usize,
    /// Signed chunks `[group][plane][lane]`, groups in job order.
    planes: Vec<i8>,
}

impl<'a> PlaneStore<'a> {
    /// Splits every group of `bm`.
    pub fn new(bm: &'a BfpMatrix) -> Self {
        let (g, c) = (bm.format.group(), bm.format.chunks() as usize);
        let mut planes = vec![0i8; bm.exps.len() * c * g];
        for (gi, chunk) in planes.chunks_exact_mut(c * g).enumerate() {
            let op = GroupOperand { exp: bm.exps[gi], mants: &bm.mants[gi * g..(gi + 1) * g], format: bm.format };
            split_planes(&op, chunk);
        }
        Self { bm, g, c, planes }
    }
    /// The operand's format.
    pub fn format(&self) -> BfpFormat {
        self.bm.format
    }
    /// Job-order id of group `(lane, q)`.
    #[inline]
    pub fn id(&self, lane: usize, q: usize) -> u32 {
        self.bm.group_index(lane, q) as u32
    }
    /// Shared exponent of group `id`.
    #[inline]
    pub fn exp(&self, id: u32) -> i32 {
        self.bm.exps[id as usize]
    }
    /// Signed mantissas of group `id` (what a full-width multiplier reads).
    #[inline]
    pub fn mants(&self, id: u32) -> &[i32] {
        &self.bm.mants[id as usize * self.g..(id as usize + 1) * self.g]
    }
    /// Plane `j` of group `id`: `g` signed chunks.
    #[inline]
    pub fn plane(&self, id: u32, j: u32) -> &[i8] {
        let at = (id as usize * self.c + j as usize) * self.g;
        &self.planes[at..at + self.g]
    }
}
