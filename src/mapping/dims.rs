//! The per-pass geometry of DESIGN §6 in one place: which GEMM dimension runs along the array
//! rows, the array columns and the stream, which of the three is the reduction, and which two
//! dimensions index X, Y and the output. Memory, mapper and cost ask this type instead of
//! matching on the pass.
//!
//! | pass | rows | columns | stream | reduction | X | Y | output |
//! |---|---|---|---|---|---|---|---|
//! | forward (WS) | N lanes | K groups | B | columns | rows x cols | cols x stream | rows x stream |
//! | backward-data (WS) | N groups | K lanes | B | rows | rows x cols | rows x stream | cols x stream |
//! | backward-weight (OS) | N lanes | K lanes | B groups | stream | rows x stream | cols x stream | rows x cols |
//!
//! One unit along each of an input operand's two dimensions is one BFP group (one element for
//! element-wise cells); one unit along each of the output's is one element.

use serde::Serialize;

use crate::array::GemmGeometry;
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
    /// The geometry of `geo`'s pass.
    pub fn of(geo: &GemmGeometry) -> Self {
        let (n_out, b_out, q) = (geo.out_rows, geo.out_cols, geo.reduction_groups);
        let (extent, reduction) = match geo.pass {
            Pass::Forward => ([n_out, q, b_out], Dim::Col),
            Pass::BackwardData => ([q, n_out, b_out], Dim::Row),
            Pass::BackwardWeight => ([n_out, b_out, q], Dim::Stream),
        };
        Self { pass: geo.pass, extent, reduction }
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
