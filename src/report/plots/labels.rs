//! Placing point labels without overlaps: each label tries a few spots around its point and
//! takes the first that stays inside the chart and clear of every point and placed label.

/// A pixel rectangle `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// Half the size of the box around each point that labels keep clear of.
const POINT_R: i32 = 6;
/// Gap between a point and its label.
const GAP: i32 = 3;

/// Top-left corners for labels of `sizes` (width, height) at `points` (pixels), in order:
/// right of the point (above, level, below), left of it (likewise), centred above, centred
/// below; `None` when no spot is inside `bounds` and clear of every point and every label
/// placed before. `points` and `sizes` pair up; extra entries of either are ignored; a point
/// of size zero gets no label but is kept clear of.
pub(crate) fn place(points: &[(i32, i32)], sizes: &[(u32, u32)], bounds: Rect) -> Vec<Option<(i32, i32)>> {
    let markers: Vec<Rect> = points
        .iter()
        .map(|&(x, y)| Rect { x0: x - POINT_R, y0: y - POINT_R, x1: x + POINT_R + 1, y1: y + POINT_R + 1 })
        .collect();
    let mut placed: Vec<Rect> = Vec::new();
    points
        .iter()
        .zip(sizes)
        .map(|(&(x, y), &(w, h))| {
            if w == 0 || h == 0 {
                return None;
            }
            let (w, h) = (w.min(4000) as i32, h.min(4000) as i32);
            let (right, left) = (x + POINT_R + GAP, x - POINT_R - GAP - w);
            let candidates = [
                (right, y - h - GAP + 2),
                (right, y - h / 2),
                (right, y + GAP - 2),
                (left, y - h - GAP + 2),
                (left, y - h / 2),
                (left, y + GAP - 2),
                (x - w / 2, y - POINT_R - GAP - h),
                (x - w / 2, y + POINT_R + GAP),
            ];
            let spot = candidates.into_iter().find(|&(cx, cy)| {
                let r = Rect { x0: cx, y0: cy, x1: cx + w, y1: cy + h };
                r.inside(&bounds) && !markers.iter().chain(&placed).any(|o| r.overlaps(o))
            });
            if let Some((cx, cy)) = spot {
                placed.push(Rect { x0: cx, y0: cy, x1: cx + w, y1: cy + h });
            }
            spot
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Rect = Rect { x0: 0, y0: 0, x1: 500, y1: 400 };

    #[test]
    fn a_lone_label_goes_right_and_above() {
        assert_eq!(place(&[(100, 100)], &[(60, 12)], B), vec![Some((109, 87))]);
    }

    #[test]
    fn crowded_labels_do_not_overlap_and_stay_inside() {
        let points: Vec<(i32, i32)> = (0..12).map(|i| (100 + 9 * (i % 4), 100 + 14 * (i / 4))).collect();
        let sizes = vec![(50, 12); points.len()];
        let spots = place(&points, &sizes, B);
        let rects: Vec<Rect> =
            spots.iter().flatten().map(|&(x, y)| Rect { x0: x, y0: y, x1: x + 50, y1: y + 12 }).collect();
        assert!(rects.len() >= 4, "{spots:?}");
        for (i, a) in rects.iter().enumerate() {
            assert!(a.inside(&B));
            for b in &rects[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn a_point_at_the_right_edge_is_labelled_on_its_left() {
        let spot = place(&[(495, 200)], &[(60, 12)], B)[0].unwrap();
        assert!(spot.0 + 60 <= 495 - POINT_R, "{spot:?}");
    }
}
