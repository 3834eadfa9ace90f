//! The per-pass geometry of DESIGN §6 in one place: which GEMM dimension runs along the array
//! rows, the array columns and the stream, which of the three is the reduction, and which two
//! dimensions index X, Y and the output. Memory, mapper, cost, golden export, the workload
//! lowering and the accelerator ask this type instead of matching on the pass.
//!
//! | pass | rows | columns | stream | reduction | X | Y | output |
//! |---|---|---|---|---|---|---|---|
//! | forward (WS) | N lanes | K groups | B | columns | rows x cols | cols x stream | rows x stream |
//! | backward-data (WS) | N groups | K lanes | B | rows | rows x cols | rows x stream | cols x stream |
//! | backward-weight (OS) | N lanes | K lanes | B groups | stream | rows x stream | cols x stream | rows x cols |
//!
//! Array rows always index N, columns K and the stream B, so the extents are always
//! `[N, K, B]` and an operand's `dims` are also its `(rows, cols)` shape in N, K and B:
//! `W[N,K]`, `A[K,B]`, `dO[N,B]`. One unit along each of an input operand's two dimensions
//! is one BFP group (one element for element-wise cells, or for [`PassDims::elements`]); one
//! unit along each of the output's is one element.

use serde::Serialize;

use crate::arch::TensorClass;
use crate::array::{Fold, GemmGeometry};
use crate::gemm::Pass;

/// One of the three loop dimensions of a GEMM on the array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Along the array rows.
    Row,
    /// Along the array columns.
    Col,
    /// Along the stream (time).
    Stream,
}

impl Dim {
    /// All three, in index order.
    pub const ALL: [Dim; 3] = [Dim::Row, Dim::Col, Dim::Stream];

    /// Index into `[rows, cols, stream]` arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Row => "row",
            Dim::Col => "col",
            Dim::Stream => "stream",
        }
    }

    /// The GEMM dimension of DESIGN §6 it indexes, in every pass: rows N, columns K, stream B.
    pub fn letter(self) -> &'static str {
        match self {
            Dim::Row => "N",
            Dim::Col => "K",
            Dim::Stream => "B",
        }
    }
}

/// Operand roles of a GEMM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    /// The left operand (W, or dO in backward-weight).
    X,
    /// The right operand (A, or dO in backward-data).
    Y,
    /// The result.
    Out,
}

/// A pass's geometry on the array: extents of the three dimensions and the operands' dims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PassDims {
    /// Which matmul.
    pub pass: Pass,
    /// Extents `[rows, cols, stream]` in units (lanes, groups or stream elements).
    pub extent: [usize; 3],
    /// The dimension summed over.
    pub reduction: Dim,
}

impl PassDims {
    /// The layout of `pass` without extents (all 0): which dimension is the reduction and
    /// which dimensions index each operand.
    pub fn layout(pass: Pass) -> Self {
        let reduction = match pass {
            Pass::Forward => Dim::Col,
            Pass::BackwardData => Dim::Row,
            Pass::BackwardWeight => Dim::Stream,
        };
        Self { pass, extent: [0; 3], reduction }
    }

    /// The geometry of `geo`'s pass (the reduction in groups).
    pub fn of(geo: &GemmGeometry) -> Self {
        let mut d = Self::layout(geo.pass);
        let [a, b] = d.dims(Role::Out);
        d.extent[a.index()] = geo.out_rows;
        d.extent[b.index()] = geo.out_cols;
        d.extent[d.reduction.index()] = geo.reduction_groups;
        d
    }

    /// The geometry of `pass` on a GEMM of `N x K x B` elements (the reduction in elements).
    pub fn elements(pass: Pass, n: usize, k: usize, b: usize) -> Self {
        Self { extent: [n, k, b], ..Self::layout(pass) }
    }

    /// The geometry of `pass` on X of shape `x` and Y of shape `y` (`(rows, cols)`, elements);
    /// `Err((a, b))` with X's and Y's extents of the reduction when they differ.
    pub fn from_shapes(pass: Pass, x: (usize, usize), y: (usize, usize)) -> Result<Self, (usize, usize)> {
        let d = Self::layout(pass);
        let along = |s: (usize, usize), axis: Option<usize>| if axis == Some(0) { s.0 } else { s.1 };
        let (a, b) = (along(x, d.reduction_axis(Role::X)), along(y, d.reduction_axis(Role::Y)));
        if a != b {
            return Err((a, b));
        }
        Ok(Self::from_shapes_unchecked(pass, x, y))
    }

    /// [`PassDims::from_shapes`] without the check: the reduction's extent is X's.
    pub fn from_shapes_unchecked(pass: Pass, x: (usize, usize), y: (usize, usize)) -> Self {
        let mut d = Self::layout(pass);
        for (role, s) in [(Role::Y, y), (Role::X, x)] {
            let [r, c] = d.dims(role);
            d.extent[r.index()] = s.0;
            d.extent[c.index()] = s.1;
        }
        d
    }

    /// `self` (in elements) with the reduction counted in groups of `group`.
    pub fn grouped(mut self, group: usize) -> Self {
        let r = self.reduction.index();
        self.extent[r] = self.extent[r].div_ceil(group);
        self
    }

    /// The timing geometry of `self` (in elements) with the reduction in groups of `group` and
    /// X and Y of `x_chunks` and `y_chunks` chunk planes.
    pub fn geometry(&self, group: usize, x_chunks: u32, y_chunks: u32) -> GemmGeometry {
        let (out_rows, out_cols) = self.shape(Role::Out);
        let reduction_groups = self.reduction_len().div_ceil(group);
        GemmGeometry { pass: self.pass, out_rows, out_cols, reduction_groups, x_chunks, y_chunks }
    }

    /// Extent of `d`.
    pub fn len(&self, d: Dim) -> usize {
        self.extent[d.index()]
    }

    /// The two dimensions that index `role`, in (row-like, column-like) order.
    pub fn dims(&self, role: Role) -> [Dim; 2] {
        use Dim::*;
        match (self.pass, role) {
            (_, Role::Out) => {
                let mut d = [Row, Col, Stream].into_iter().filter(|&d| d != self.reduction);
                [d.next().unwrap_or(Row), d.next().unwrap_or(Col)]
            }
            (Pass::BackwardWeight, Role::X) => [Row, Stream],
            (_, Role::X) => [Row, Col],
            (Pass::Forward, Role::Y) | (Pass::BackwardWeight, Role::Y) => [Col, Stream],
            (Pass::BackwardData, Role::Y) => [Row, Stream],
        }
    }

    /// The dimension `role` does not depend on: the operand is reused along it.
    pub fn reuse_dim(&self, role: Role) -> Dim {
        let [a, b] = self.dims(role);
        Dim::ALL.into_iter().find(|&d| d != a && d != b).unwrap_or(Dim::Stream)
    }

    /// Whether the array keeps X stationary (weight stationary) rather than both operands
    /// streaming (output stationary).
    pub fn weight_stationary(&self) -> bool {
        self.pass != Pass::BackwardWeight
    }

    /// Units of `role` in the whole GEMM (groups for inputs, elements for the output).
    pub fn units(&self, role: Role) -> u64 {
        let [a, b] = self.dims(role);
        self.len(a) as u64 * self.len(b) as u64
    }

    /// Which operand of a convolution is the lowered feature map `A [K x B]` (K along the
    /// columns, B along the stream): Y in forward and backward-weight, the output (dA) in
    /// backward-data.
    pub fn feature_map_role(&self) -> Role {
        match self.pass {
            Pass::BackwardData => Role::Out,
            _ => Role::Y,
        }
    }

    /// Extent of the reduction (the GEMM's reduction length when built from elements).
    pub fn reduction_len(&self) -> usize {
        self.len(self.reduction)
    }

    /// `role`'s shape `(rows, cols)` in units: `(N, K)` for `W`, `(K, B)` for `A`, `(N, B)` for `dO`.
    pub fn shape(&self, role: Role) -> (usize, usize) {
        let [a, b] = self.dims(role);
        (self.len(a), self.len(b))
    }

    /// Which axis of `role`'s shape (0 rows, 1 columns) runs along the reduction: its grouping
    /// axis. `None` for the output.
    pub fn reduction_axis(&self, role: Role) -> Option<usize> {
        self.dims(role).iter().position(|&d| d == self.reduction)
    }

    /// Tensor classes of X, Y and the output (their precision and rounding): `W` weights, `A`
    /// and the forward output activations, `dO`, `dA` and `dW` gradients.
    pub fn classes(&self) -> [TensorClass; 3] {
        use TensorClass::{Activations as A, Gradients as G, Weights as W};
        match self.pass {
            Pass::Forward => [W, A, A],
            Pass::BackwardData => [W, G, G],
            Pass::BackwardWeight => [G, A, G],
        }
    }

    /// The operand that stays in the cells while the other streams past: X (the weights) in
    /// the weight-stationary passes, the output in the output-stationary one.
    pub fn stationary(&self) -> Role {
        if self.weight_stationary() {
            Role::X
        } else {
            Role::Out
        }
    }

    /// The operand an array without the dual-direction cell transposes through memory first:
    /// `W` and `A` are stored grouped along K (forward's reduction), so a backward pass that
    /// reads one of them (an input indexed by K) grouped along another axis regroups it.
    pub fn transposed(&self) -> Option<Role> {
        [Role::X, Role::Y].into_iter().find(|&r| self.reduction != Dim::Col && self.dims(r).contains(&Dim::Col))
    }

    /// Whether results leave the array as BFP for a following GEMM (outputs indexed by B: a
    /// feature map or its gradient) rather than as binary32 for the optimizer (`dW[N,K]`).
    pub fn results_to_bfp(&self) -> bool {
        self.dims(Role::Out).contains(&Dim::Stream)
    }

    /// Units of `role` on the array during fold `f` (groups for inputs, elements for the
    /// output): the product of the fold's extents along `role`'s two dimensions.
    pub fn fold_units(&self, role: Role, f: &Fold) -> u64 {
        let len = [f.rows_used, f.cols_used, f.stream_len];
        self.dims(role).iter().map(|d| len[d.index()] as u64).product()
    }

    /// Where `role`'s part of fold `f` starts along its two dimensions.
    pub fn fold_origin(&self, role: Role, f: &Fold) -> [usize; 2] {
        let start = [f.row0, f.col0, f.stream0];
        self.dims(role).map(|d| start[d.index()])
    }

    /// Folds of the fold-by-fold schedule on an `rows x cols` array: one per array-sized tile
    /// of the rows and columns, each streaming the whole stream.
    pub fn canonical_folds(&self, rows: usize, cols: usize) -> u64 {
        self.extent[0].div_ceil(rows) as u64 * self.extent[1].div_ceil(cols) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo(pass: Pass) -> GemmGeometry {
        GemmGeometry { pass, out_rows: 10, out_cols: 20, reduction_groups: 3, x_chunks: 2, y_chunks: 2 }
    }

    #[test]
    fn every_pass_matches_design_section_6() {
        // Forward: W[N,K] stationary, A streams, O[N,B].
        let f = PassDims::of(&geo(Pass::Forward));
        assert_eq!(f.extent, [10, 3, 20]);
        assert_eq!(f.dims(Role::Out), [Dim::Row, Dim::Stream]);
        assert_eq!(f.reuse_dim(Role::X), Dim::Stream);
        assert_eq!(f.reuse_dim(Role::Y), Dim::Row);
        // Backward-data: output dA[K,B]: K lanes along the columns.
        let d = PassDims::of(&geo(Pass::BackwardData));
        assert_eq!(d.extent, [3, 10, 20]);
        assert_eq!(d.dims(Role::Out), [Dim::Col, Dim::Stream]);
        assert_eq!(d.reuse_dim(Role::Y), Dim::Col);
        // Backward-weight: output stationary dW[N,K], reduction along the stream.
        let w = PassDims::of(&geo(Pass::BackwardWeight));
        assert_eq!(w.extent, [10, 20, 3]);
        assert_eq!(w.dims(Role::Out), [Dim::Row, Dim::Col]);
        assert_eq!(w.reuse_dim(Role::X), Dim::Col);
        assert!(!w.weight_stationary());
        for p in [f, d, w] {
            // Inputs both contain the reduction; the output does not.
            assert!(p.dims(Role::X).contains(&p.reduction) && p.dims(Role::Y).contains(&p.reduction));
            assert!(!p.dims(Role::Out).contains(&p.reduction));
            assert_eq!(p.dims(p.feature_map_role())[1], Dim::Stream);
        }
    }
}

/// The new methods against the per-pass formulas they replace (in memory, accel, lowering,
/// golden export, gemm and cost), for every pass and a few shapes.
#[cfg(test)]
mod replaces_the_pass_matches {
    use super::*;
    use crate::arch::TensorClass::{Activations as A, Gradients as G, Weights as W};

    const PASSES: [Pass; 3] = [Pass::Forward, Pass::BackwardData, Pass::BackwardWeight];
    const NKB: [(usize, usize, usize); 5] = [(1, 1, 1), (70, 9, 5), (10, 3, 7), (5, 6, 300), (64, 100, 40)];

    fn fold(row0: usize, rows_used: usize, col0: usize, cols_used: usize, stream0: usize, stream_len: usize) -> Fold {
        let (first_of_reduction, last_of_reduction) = (true, true);
        Fold { index: 0, row0, rows_used, col0, cols_used, stream0, stream_len, first_of_reduction, last_of_reduction }
    }

    #[test]
    fn extents_and_shapes() {
        for pass in PASSES {
            for (n, k, b) in NKB {
                // workload::lower: (x, y, out) shapes per pass.
                let old = match pass {
                    Pass::Forward => ((n, k), (k, b), (n, b)),
                    Pass::BackwardData => ((n, k), (n, b), (k, b)),
                    Pass::BackwardWeight => ((n, b), (k, b), (n, k)),
                };
                let d = PassDims::elements(pass, n, k, b);
                assert_eq!((d.shape(Role::X), d.shape(Role::Y), d.shape(Role::Out)), old, "{pass:?}");
                // golden::export: (out_rows, out_cols, reduction).
                let (out_rows, out_cols, red) = match pass {
                    Pass::Forward => (n, b, k),
                    Pass::BackwardData => (k, b, n),
                    Pass::BackwardWeight => (n, k, b),
                };
                assert_eq!((d.shape(Role::Out), d.reduction_len()), ((out_rows, out_cols), red));
                // gemm::output_shape and accel's reduction length, from the operand shapes.
                let (x, y) = (old.0, old.1);
                let (a, bb, out) = match pass {
                    Pass::Forward => (x.1, y.0, (x.0, y.1)),
                    Pass::BackwardData => (x.0, y.0, (x.1, y.1)),
                    Pass::BackwardWeight => (x.1, y.1, (x.0, y.0)),
                };
                let accel_red = match pass {
                    Pass::Forward | Pass::BackwardWeight => x.1,
                    Pass::BackwardData => x.0,
                };
                let s = PassDims::from_shapes(pass, x, y).unwrap();
                assert_eq!((s, s.shape(Role::Out), s.reduction_len()), (d, out, accel_red));
                assert_eq!(a, bb);
                // workload::LoweredGemm::dims and cli gemm's reduction length.
                let nkb = match pass {
                    Pass::Forward | Pass::BackwardData => (x.0, x.1, y.1),
                    Pass::BackwardWeight => (x.0, y.0, x.1),
                };
                assert_eq!(s.extent, [nkb.0, nkb.1, nkb.2]);
                assert_eq!(s.reduction_len(), if pass == Pass::BackwardData { x.0 } else { x.1 });
                // A mismatch reports X's and Y's reduction extents.
                let (xr, yr) = (d.reduction_axis(Role::X).unwrap(), d.reduction_axis(Role::Y).unwrap());
                let grow = |s: (usize, usize), axis: usize| if axis == 0 { (s.0 + 1, s.1) } else { (s.0, s.1 + 1) };
                assert_eq!(PassDims::from_shapes(pass, x, grow(y, yr)), Err((red, red + 1)));
                assert_eq!(PassDims::from_shapes(pass, grow(x, xr), y), Err((red + 1, red)));
                // Unchecked, the reduction's extent is X's (as LoweredGemm::dims had it).
                assert_eq!(PassDims::from_shapes_unchecked(pass, grow(x, xr), y).reduction_len(), red + 1);
                assert_eq!(PassDims::from_shapes_unchecked(pass, x, grow(y, yr)), d);
                // The timing geometry and back.
                for g in [1, 4, 16] {
                    let geo = d.geometry(g, 2, 1);
                    assert_eq!(geo.reduction_groups, red.div_ceil(g));
                    assert_eq!((geo.out_rows, geo.out_cols), (out_rows, out_cols));
                    let q = geo.reduction_groups;
                    let old_extent = match pass {
                        Pass::Forward => [out_rows, q, out_cols],
                        Pass::BackwardData => [q, out_rows, out_cols],
                        Pass::BackwardWeight => [out_rows, out_cols, q],
                    };
                    assert_eq!(PassDims::of(&geo).extent, old_extent);
                    assert_eq!(PassDims::of(&geo), d.grouped(g));
                    // accel: the fold count estimate.
                    for (r, c) in [(1, 1), (4, 3), (32, 32)] {
                        let folds = match pass {
                            Pass::Forward => out_rows.div_ceil(r) as u64 * q.div_ceil(c) as u64,
                            Pass::BackwardData => out_rows.div_ceil(c) as u64 * q.div_ceil(r) as u64,
                            Pass::BackwardWeight => out_rows.div_ceil(r) as u64 * out_cols.div_ceil(c) as u64,
                        };
                        assert_eq!(d.grouped(g).canonical_folds(r, c), folds);
                        assert_eq!(folds, crate::array::plan_folds(&geo, r, c).len() as u64);
                    }
                }
            }
        }
    }

    #[test]
    fn axes_classes_and_roles() {
        for pass in PASSES {
            let d = PassDims::layout(pass);
            // gemm::Pass::group_axes (0 = Dim0, 1 = Dim1).
            let axes = match pass {
                Pass::Forward => (1, 0),
                Pass::BackwardData => (0, 0),
                Pass::BackwardWeight => (1, 1),
            };
            assert_eq!((d.reduction_axis(Role::X), d.reduction_axis(Role::Y)), (Some(axes.0), Some(axes.1)));
            assert_eq!(d.reduction_axis(Role::Out), None);
            // accel::classes for X and Y, workload::lower for the output.
            let classes = match pass {
                Pass::Forward => [W, A, A],
                Pass::BackwardData => [W, G, G],
                Pass::BackwardWeight => [G, A, G],
            };
            assert_eq!(d.classes(), classes);
            // memory: which operand an explicit transpose moves; results converted to BFP.
            let transposed = match pass {
                Pass::Forward => None,
                Pass::BackwardData => Some(Role::X),
                Pass::BackwardWeight => Some(Role::Y),
            };
            assert_eq!(d.transposed(), transposed);
            assert_eq!(d.results_to_bfp(), pass != Pass::BackwardWeight);
            assert_eq!(d.stationary(), if pass == Pass::BackwardWeight { Role::Out } else { Role::X });
            // The error message's words for the reduction (gemm::output_shape).
            let words = match pass {
                Pass::Forward => "K (X columns, Y rows)",
                Pass::BackwardData => "N (X rows, Y rows)",
                Pass::BackwardWeight => "B (X columns, Y columns)",
            };
            let axis = |r: Role| ["rows", "columns"][d.reduction_axis(r).unwrap_or(0)];
            assert_eq!(format!("{} (X {}, Y {})", d.reduction.letter(), axis(Role::X), axis(Role::Y)), words);
        }
    }

    #[test]
    fn fold_units_and_origins() {
        for pass in PASSES {
            let d = PassDims::layout(pass);
            for f in [fold(0, 4, 0, 3, 0, 9), fold(8, 2, 6, 1, 0, 300), fold(4, 4, 3, 3, 0, 1)] {
                let (ru, cu, t) = (f.rows_used as u64, f.cols_used as u64, f.stream_len as u64);
                let (r0, c0) = (f.row0, f.col0);
                // memory: tiles (X groups, Y groups, and the origin that keys each).
                let old = match pass {
                    Pass::Forward => [(ru * cu, (r0, c0)), (cu * t, (c0, 0))],
                    Pass::BackwardData => [(ru * cu, (r0, c0)), (ru * t, (r0, 0))],
                    Pass::BackwardWeight => [(ru * t, (r0, 0)), (cu * t, (c0, 0))],
                };
                for (role, (units, (a, b))) in [Role::X, Role::Y].into_iter().zip(old) {
                    assert_eq!(d.fold_units(role, &f), units, "{pass:?} {role:?}");
                    assert_eq!(d.fold_origin(role, &f), [a, b], "{pass:?} {role:?}");
                }
                // memory: fold outputs, partial sums and converted results.
                let outputs = match pass {
                    Pass::Forward => ru * t,
                    Pass::BackwardData => cu * t,
                    Pass::BackwardWeight => ru * cu,
                };
                assert_eq!(d.fold_units(Role::Out, &f), outputs);
            }
        }
    }

    #[test]
    fn transposed_operand_bits() {
        // memory::transpose_bits: lanes x reduction groups of the transposed operand.
        for pass in PASSES {
            for (n, k, b) in NKB {
                let geo = PassDims::elements(pass, n, k, b).geometry(4, 2, 2);
                let d = PassDims::of(&geo);
                let old = match pass {
                    Pass::Forward => 0,
                    Pass::BackwardData => geo.out_rows as u64 * geo.reduction_groups as u64,
                    Pass::BackwardWeight => geo.out_cols as u64 * geo.reduction_groups as u64,
                };
                assert_eq!(d.transposed().map_or(0, |r| d.units(r)), old);
            }
        }
    }
}
