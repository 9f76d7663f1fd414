// A random-effects term ready for the objective (MixedModels.jl's ReMat): its grouping factor,
// its per-row values, and the relative covariance template T (lower triangular, q x q) that the
// parameter vector theta fills. Terms are sorted by decreasing number of levels, as lme4 does, so
// that the largest factor is eliminated first as a block diagonal.
import type { ReTermDesign } from "../types";
import { ReStructure, makeStructure } from "./re-cov";
import { timesUpper } from "../linalg/gram";

export interface ReMat {
  /** Group name as lme4 prints it ("tree", "cask:batch"). */
  group: string;
  /** Unique label for tables ("Subject", "Subject.1" when a group has several terms). */
  label: string;
  levels: string[];
  ell: number;
  q: number;
  refs: Int32Array;
  /** Row-major n x q values on the working scale: z_work = z C. */
  z: Float64Array;
  effects: string[];
  /**
   * q x q conditioning transform: b = C b_work. Columns are centred (when the term has an
   * intercept and is correlated, which leaves the model unchanged) and scaled to unit spread, so
   * the optimizer sees comparable parameters even when `time` runs from 152 to 258.
   */
  C: Float64Array;
  /** Offset of this term's parameters in theta. */
  thetaOffset: number;
  /**
   * The covariance structure (re-cov/): how theta[thetaOffset .. + nPar) fills T. Unstructured
   * terms are conditioned (C above); structured ones are not (C = I), since a structure's equal
   * variances or correlations are statements about the columns as the data give them.
   */
  structure: ReStructure;
}

/** Fill term r's template T from theta (its structure's parameters). */
export function fillTerm(r: ReMat, theta: ArrayLike<number>, T: Float64Array): void {
  r.structure.fill(theta, r.thetaOffset, T);
}

/** Whether any term has a covariance structure other than unstructured. */
export function hasStructured(remats: ReMat[]): boolean {
  return remats.some((r) => r.structure.type !== "us");
}

/** Number of template parameters of a q x q lower-triangular template. */
export const nTheta = (q: number): number => (q * (q + 1)) / 2;

/** Fill the lower-triangular template T (q x q, row-major) from theta, column-major as lme4. */
export function fillTemplate(theta: ArrayLike<number>, offset: number, q: number, T: Float64Array): void {
  T.fill(0);
  let k = offset;
  for (let j = 0; j < q; j++) for (let i = j; i < q; i++) T[i * q + j] = theta[k++];
}

/** Which theta entries are template diagonals (bounded below by 0). */
export function thetaLowerBounds(remats: ReMat[]): Float64Array {
  return Float64Array.from(remats.flatMap((r) => r.structure.lower()));
}

/** Starting theta: identity templates (on the working scale). */
export function thetaStart(remats: ReMat[]): Float64Array {
  return Float64Array.from(remats.flatMap((r) => r.structure.start()));
}

function identity(q: number): Float64Array {
  const C = new Float64Array(q * q);
  for (let k = 0; k < q; k++) C[k * q + k] = 1;
  return C;
}

function conditioning(term: ReTermDesign, n: number): { z: Float64Array; C: Float64Array } {
  const q = term.effects.length;
  const C = new Float64Array(q * q);
  for (let k = 0; k < q; k++) C[k * q + k] = 1;
  const hasIntercept = term.effects[0] === "(Intercept)";
  const center = hasIntercept && term.correlated && q > 1;
  for (let k = 0; k < q; k++) {
    if (hasIntercept && k === 0) continue;
    let sum = 0, sumsq = 0;
    for (let r = 0; r < n; r++) {
      const v = term.z[r * q + k];
      sum += v;
      sumsq += v * v;
    }
    const mean = center ? sum / n : 0;
    const spread = Math.sqrt(Math.max(sumsq / n - mean * mean, 0));
    const s = spread > 0 ? spread : 1;
    C[k * q + k] = 1 / s;
    if (center) C[0 * q + k] = -mean / s;
  }
  // z_work = z C (C is upper triangular).
  const z = new Float64Array(n * q);
  timesUpper(term.z, z, q, C, 0, n);
  return { z, C };
}

/**
 * Build and sort the ReMats (decreasing number of levels, stable), with unique labels. Terms with
 * `last[i]` set go after all others (terms that vary within the groups of a residual structure:
 * they must stay out of the block-diagonal nesting chain).
 */
export function buildReMats(terms: ReTermDesign[], n: number, last: boolean[] = []): ReMat[] {
  const key = (i: number) => (last[i] ? 1 : 0);
  const order = terms.map((_, i) => i).sort((a, b) => key(a) - key(b) || terms[b].levels.length - terms[a].levels.length || a - b);
  const seen = new Map<string, number>();
  const out: ReMat[] = [];
  let offset = 0;
  for (const i of order) {
    const t = terms[i];
    const count = seen.get(t.group) ?? 0;
    seen.set(t.group, count + 1);
    const q = t.effects.length;
    const type = t.cov ?? "us";
    const { z, C } = type === "us" ? conditioning(t, n) : { z: t.z, C: identity(q) };
    out.push({
      group: t.group,
      label: count === 0 ? t.group : `${t.group}.${count}`,
      levels: t.levels,
      ell: t.levels.length,
      q,
      refs: t.refs,
      z,
      effects: t.effects,
      C,
      thetaOffset: offset,
      structure: makeStructure(type, t.effects),
    });
    offset += out[out.length - 1].structure.nPar;
  }
  return out;
}
