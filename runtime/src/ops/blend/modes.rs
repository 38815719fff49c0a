//! The per-pixel operators, on premultiplied RGBA (S = aux, D = input): the SVG 1.2
//! compositing formulas.

use super::{Px, TRANSPARENT};

// Porter-Duff: result = S·Fa + D·Fb on all four premultiplied channels.

#[inline(always)]
fn porter_duff(s: Px, d: Px, fa: f32, fb: f32) -> Px {
    [s[0] * fa + d[0] * fb, s[1] * fa + d[1] * fb, s[2] * fa + d[2] * fb, s[3] * fa + d[3] * fb]
}

pub(super) fn clear(_: Px, _: Px) -> Px {
    TRANSPARENT
}
pub(super) fn src(s: Px, _: Px) -> Px {
    s
}
pub(super) fn dst(_: Px, d: Px) -> Px {
    d
}
pub(super) fn src_over(s: Px, d: Px) -> Px {
    porter_duff(s, d, 1.0, 1.0 - s[3])
}
pub(super) fn dst_over(s: Px, d: Px) -> Px {
    porter_duff(s, d, 1.0 - d[3], 1.0)
}
pub(super) fn src_in(s: Px, d: Px) -> Px {
    porter_duff(s, d, d[3], 0.0)
}
pub(super) fn dst_in(s: Px, d: Px) -> Px {
    porter_duff(s, d, 0.0, s[3])
}
pub(super) fn src_out(s: Px, d: Px) -> Px {
    porter_duff(s, d, 1.0 - d[3], 0.0)
}
pub(super) fn dst_out(s: Px, d: Px) -> Px {
    porter_duff(s, d, 0.0, 1.0 - s[3])
}
pub(super) fn src_atop(s: Px, d: Px) -> Px {
    porter_duff(s, d, d[3], 1.0 - s[3])
}
pub(super) fn dst_atop(s: Px, d: Px) -> Px {
    porter_duff(s, d, 1.0 - d[3], s[3])
}
pub(super) fn xor(s: Px, d: Px) -> Px {
    porter_duff(s, d, 1.0 - d[3], 1.0 - s[3])
}

// Blend modes: Da' = Sa + Da − Sa·Da; each colour channel from `f(Sca, Sa, Dca, Da)`,
// kept within 0..=Da' (as GEGL did) so the straight colour stays in 0..=1.

#[inline(always)]
fn separable(s: Px, d: Px, f: impl Fn(f32, f32, f32, f32) -> f32) -> Px {
    let (sa, da) = (s[3], d[3]);
    let a = sa + da - sa * da;
    let c = |i: usize| f(s[i], sa, d[i], da).max(0.0).min(a);
    [c(0), c(1), c(2), a]
}

/// The parts of S outside D and of D outside S, common to every blend mode.
#[inline(always)]
fn outside(sc: f32, sa: f32, dc: f32, da: f32) -> f32 {
    sc * (1.0 - da) + dc * (1.0 - sa)
}

pub(super) fn multiply(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| sc * dc + outside(sc, sa, dc, da))
}
pub(super) fn screen(s: Px, d: Px) -> Px {
    separable(s, d, |sc, _, dc, _| sc + dc - sc * dc)
}
pub(super) fn overlay(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| {
        let both = if 2.0 * dc <= da { 2.0 * sc * dc } else { sa * da - 2.0 * (da - dc) * (sa - sc) };
        both + outside(sc, sa, dc, da)
    })
}
pub(super) fn darken(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| (sc * da).min(dc * sa) + outside(sc, sa, dc, da))
}
pub(super) fn lighten(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| (sc * da).max(dc * sa) + outside(sc, sa, dc, da))
}
pub(super) fn color_dodge(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| {
        // 1 − Sca/Sa ≤ 0 (a fully bright source) dodges to the maximum as well.
        let rest = if sa > 0.0 { 1.0 - sc / sa } else { 0.0 };
        let both = if sc * da + dc * sa >= sa * da || rest <= 0.0 { sa * da } else { dc * sa / rest };
        both + outside(sc, sa, dc, da)
    })
}
pub(super) fn color_burn(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| {
        let sum = sc * da + dc * sa;
        let both = if sum <= sa * da || sc <= 0.0 { 0.0 } else { sa * (sum - sa * da) / sc };
        both + outside(sc, sa, dc, da)
    })
}
pub(super) fn hard_light(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| {
        let both = if 2.0 * sc <= sa { 2.0 * sc * dc } else { sa * da - 2.0 * (da - dc) * (sa - sc) };
        both + outside(sc, sa, dc, da)
    })
}
/// The SVG 1.2 (2004 working draft) soft-light formula, as GEGL implemented it.
pub(super) fn soft_light(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| {
        let m = if da > 0.0 { dc / da } else { 0.0 };
        let both = if 2.0 * sc < sa {
            dc * (sa - (1.0 - m) * (2.0 * sc - sa))
        } else if 8.0 * dc <= da {
            dc * (sa - (1.0 - m) * (2.0 * sc - sa) * (3.0 - 8.0 * m))
        } else {
            dc * sa + (m.max(0.0).sqrt() * da - dc) * (2.0 * sc - sa)
        };
        both + outside(sc, sa, dc, da)
    })
}
pub(super) fn difference(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| sc + dc - 2.0 * (sc * da).min(dc * sa))
}
pub(super) fn exclusion(s: Px, d: Px) -> Px {
    separable(s, d, |sc, sa, dc, da| sc * da + dc * sa - 2.0 * sc * dc + outside(sc, sa, dc, da))
}
pub(super) fn plus(s: Px, d: Px) -> Px {
    let a = (s[3] + d[3]).min(1.0);
    let c = |i: usize| (s[i] + d[i]).max(0.0).min(a);
    [c(0), c(1), c(2), a]
}
