// What a singular (boundary) fit means, term by term, and what to change. lme4 calls a fit
// singular when a diagonal of a term's Cholesky factor (its theta) is below 1e-4: the term's
// covariance matrix is then (nearly) rank-deficient: a variance of 0, or effects that are exact
// linear combinations of each other (correlations at ±1).
import type { ReMat } from "./remat";
import type { PreparedModel } from "./prepared";
import { relativeCovariance } from "./components";

/** Below this theta diagonal a term counts as singular (lme4's isSingular tolerance). */
const SINGULAR_TOL = 1e-4;

/** The term's text without parentheses or structure: "1 + time | tree". */
export function reTermText(prep: PreparedModel, r: ReMat): string {
  const i = prep.design.reTerms.findIndex((t) => t.refs === r.refs && t.effects.join("\u0001") === r.effects.join("\u0001"));
  return i >= 0 ? prep.spec.formula.random[i].text : `${r.effects.map((e) => (e === "(Intercept)" ? "1" : e)).join(" + ")} | ${r.group}`;
}

/** The term as the user wrote it: (1 + time | tree), or ar1(0 + time | tree) with a structure. */
function termText(prep: PreparedModel, r: ReMat): string {
  return r.structure.type === "us" ? `(${reTermText(prep, r)})` : `${r.structure.type}(${reTermText(prep, r)})`;
}

/** One sentence per singular term, each saying what is on the boundary and what to change. */
export function singularMessages(prep: PreparedModel, theta: number[], T: Float64Array[]): string[] {
  const remats = prep.model.remats;
  const out: string[] = [];
  let k = 0;
  remats.forEach((r, t) => {
    let singular = false;
    for (let j = 0; j < r.q; j++) {
      if (theta[k] < SINGULAR_TOL) singular = true;
      k += r.q - j;
    }
    if (!singular) return;
    const text = termText(prep, r);
    if (r.q === 1) {
      out.push(`boundary (singular) fit: the variance of ${text} is estimated as 0: the data show no variation between '${r.group}' groups beyond what the rest of the model explains, so the model is simpler than specified. Drop the term (the estimates and the likelihood stay the same), or keep it knowing that its variance is 0`);
      return;
    }
    const cov = relativeCovariance(r, T[t]);
    const zero: string[] = [], unit: string[] = [];
    const top = Math.max(...r.effects.map((_, a) => cov[a * r.q + a]));
    for (let a = 0; a < r.q; a++) {
      if (!(cov[a * r.q + a] > 1e-8 * top)) zero.push(r.effects[a]);
      for (let b = a + 1; b < r.q; b++) {
        const c = cov[a * r.q + b] / Math.sqrt(cov[a * r.q + a] * cov[b * r.q + b]);
        if (Math.abs(c) > 0.999) unit.push(`${r.effects[a]}, ${r.effects[b]}`);
      }
    }
    const what = [
      zero.length > 0 ? `the variance of ${zero.map((e) => `'${e}'`).join(", ")} is 0` : "",
      unit.length > 0 ? `the correlation of ${unit.map((e) => `(${e})`).join(", ")} is ±1` : "",
    ].filter((s) => s !== "");
    const detail = what.length > 0 ? what.join(" and ") : "its covariance matrix is rank-deficient (some effects are exact combinations of the others)";
    if (r.structure.type !== "us") {
      out.push(`boundary (singular) fit: in ${text} ${detail}: the data do not support this covariance structure per '${r.group}' group, so the model is simpler than specified. Simplify the term: a simpler structure (homdiag, or a random intercept), or drop it`);
      return;
    }
    out.push(`boundary (singular) fit: in ${text} ${detail}: the data do not support ${r.q} correlated effects per '${r.group}' group, so the model is simpler than specified. Simplify the term: fewer effects, or uncorrelated effects (||)`);
  });
  if (out.length === 0) out.push("boundary (singular) fit: a random-effect variance is estimated as 0 or a correlation as ±1, so the model is simpler than specified (see the variance components)");
  return out;
}
