// Spatial (continuous-distance) correlations, nlme's corExp/corGaus/corSpher/corLin/corRatio
// (SAS SP(EXP), SP(GAU), SP(SPH), SP(LIN)): correlation f(d / range) of two rows of a group at
// Euclidean distance d (one time column, or two or more coordinate columns), times (1 - nugget)
// for d > 0 with a nugget. As nlme: range = exp(eta) for exp/gaus/ratio, minD + exp(eta) for the
// compactly supported spher/lin (minD the smallest distance, below which every correlation is 0),
// nugget = logistic(eta). The range is measured in units of the mean distance between
// neighbouring rows (`scale`), so the optimizer sees the same problem in any unit.
import type { DenseCorr, ResidualLayout } from "./types";
import { clamp, logistic } from "./types";

export type SpatialKind = "EXP" | "GAUS" | "SPHER" | "LIN" | "RATIO";

const SHAPES: Record<SpatialKind, (x: number) => number> = {
  EXP: (x) => Math.exp(-x),
  GAUS: (x) => Math.exp(-x * x),
  SPHER: (x) => (x < 1 ? 1 - 1.5 * x + 0.5 * x * x * x : 0),
  LIN: (x) => (x < 1 ? 1 - x : 0),
  RATIO: (x) => 1 / (1 + x * x),
};

export function spatial(lay: ResidualLayout, kind: SpatialKind, nugget: boolean): DenseCorr {
  const X = lay.coords!, dims = lay.dims, f = SHAPES[kind];
  const compact = kind === "SPHER" || kind === "LIN";
  // Smallest positive and mean neighbour distance within groups.
  let minD = Infinity, sum = 0, cnt = 0;
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let k = 0; k < dims; k++) {
      const d = X[a * dims + k] - X[b * dims + k];
      s += d * d;
    }
    return Math.sqrt(s);
  };
  const { gptr, grows } = lay;
  for (let g = 0; g + 1 < gptr.length; g++) {
    for (let a = gptr[g]; a < gptr[g + 1]; a++) {
      for (let b = gptr[g]; b < a; b++) {
        const d = dist(grows[a], grows[b]);
        if (d > 0 && d < minD) minD = d;
      }
      if (a > gptr[g]) {
        sum += dist(grows[a], grows[a - 1]);
        cnt++;
      }
    }
  }
  if (!Number.isFinite(minD)) minD = 1;
  const scale = cnt > 0 && sum > 0 ? sum / cnt : 1;
  const rangeOf = (e: number) => (compact ? minD : 0) + scale * Math.exp(e);
  let inv = 1, keep = 1;
  return {
    kind: "dense",
    nPar: nugget ? 2 : 1,
    set(eta) {
      inv = 1 / rangeOf(eta[0]);
      keep = nugget ? 1 - logistic(eta[1]) : 1;
      return Number.isFinite(inv) && inv > 0;
    },
    fill(rows, o, m, out) {
      for (let a = 0; a < m; a++) {
        const ra = rows[o + a];
        for (let b = 0; b < a; b++) out[a * m + b] = keep * f(dist(ra, rows[o + b]) * inv);
        out[a * m + a] = 1;
      }
    },
    start(u) {
      // The range at which the shape gives the neighbours' sample correlation (0.05 .. 0.9).
      let sxy = 0, sxx = 0;
      for (let g = 0; g + 1 < gptr.length; g++) {
        for (let k = gptr[g] + 1; k < gptr[g + 1]; k++) {
          sxy += u[grows[k]] * u[grows[k - 1]];
          sxx += 0.5 * (u[grows[k]] * u[grows[k]] + u[grows[k - 1]] * u[grows[k - 1]]);
        }
      }
      const r = clamp(sxx > 0 ? sxy / sxx : 0.3, 0.05, 0.9);
      // Solve f(scale / range) = r by bisection on x = scale / range.
      let lo = 1e-6, hi = 50;
      for (let it = 0; it < 60; it++) {
        const mid = Math.sqrt(lo * hi);
        if (f(mid) > r) lo = mid;
        else hi = mid;
      }
      const range = scale / Math.sqrt(lo * hi);
      const e = Math.log(Math.max((range - (compact ? minD : 0)) / scale, 1e-3));
      return nugget ? Float64Array.of(e, Math.log(0.1 / 0.9)) : Float64Array.of(e);
    },
    params(eta) {
      const out: Record<string, number> = { range: rangeOf(eta[0]) };
      if (nugget) out.nugget = logistic(eta[1]);
      return out;
    },
  };
}
