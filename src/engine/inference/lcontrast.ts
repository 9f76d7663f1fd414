// LMM.CONTRAST: each row l of a user's L is a t test of l'beta = 0 (lmerTest's contest1D: the
// estimate, SE, df, t and p under the ddf choice), and with `joint` the F test of all rows
// (lmerTest's contest, joint = TRUE; anova.ts's contestFit).
import type { AnovaRow, DataTable, DdfOption, DdfName, Method } from "../types";
import { DataError } from "../errors";
import { fitPrepared, prepareFit } from "../model/prepared";
import { contestFit, ddfName, parseDdf } from "./anova";
import { inferenceFor } from "./emmeans";
import { pT2 } from "./dist";

export interface LContrastRow {
  estimate: number;
  SE: number;
  df: number | null;
  "t value": number;
  "Pr(>|t|)": number | null;
}

export interface LContrastResult {
  terms: string[];
  ddf: DdfName;
  rows: LContrastRow[];
  joint: AnovaRow | null;
  messages: string[];
}

export function contrastModel(table: DataTable, specText: string, L: number[][], opts: { joint?: boolean; ddf?: DdfOption | string | null; method?: Method; signal?: { cancelled: boolean } } = {}): LContrastResult {
  const ddf = parseDdf(opts.ddf);
  if (!Array.isArray(L) || L.length === 0) throw new DataError("the contrast matrix L needs at least one row");
  const fit = fitPrepared(prepareFit(table, specText), opts.method ?? "REML", opts.signal);
  const p = fit.design.p;
  L.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== p) {
      throw new DataError(`row ${i + 1} of L has ${Array.isArray(r) ? r.length : 0} numbers, but the model has ${p} fixed-effect coefficients (${fit.design.xnames.join(", ")}): L needs one column per coefficient, in that order`);
    }
    r.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new DataError(`L[${i + 1}, ${j + 1}] is not a number`);
    });
  });
  const { estimate, infer } = inferenceFor(fit, ddf);
  const rows = L.map((r) => {
    const l = Float64Array.from(r);
    const est = estimate(l);
    const { se, df } = infer(l);
    const t = est / se;
    return { estimate: est, SE: se, df, "t value": t, "Pr(>|t|)": df === null ? null : pT2(t, df) };
  });
  const joint = opts.joint ? contestFit(fit, L, ddf, "joint F test") : null;
  return { terms: fit.design.xnames, ddf: ddfName(ddf), rows, joint, messages: [...fit.design.messages, ...fit.opt.messages] };
}
