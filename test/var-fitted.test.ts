// Variance functions of the fitted values (`; varPower(fitted)`, nlme's varPower(form = ~ fitted(.)))
// against nlme (fixtures from test/fixtures/make-fixtures-restruct.R, `varfitted`): gls with nlme's
// own alternation, lme with that alternation run explicitly in R (nlme's built-in one stops short
// of the fixed point there; ours reaches it). Tolerances as the other fixtures: logLik 1e-6
// relative, fixed effects within 1e-4 SE, SEs, sigma and the power 1e-4 relative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel } from "../src/engine";
import { tableFromRows } from "../src/engine/data/table";
import { closeAbs, closeRel, csvRows, loadTable, readJson } from "./helpers/fixtures";

interface Case {
  data: string;
  spec: string;
  source: string;
  logLik: number;
  fixef: { names: string[]; estimate: number[]; se: number[] };
  sigma: number;
  params: Record<string, number>;
  nlme_builtin_logLik?: number;
}
const fx = readJson<{ varfitted: Record<string, Case> }>("test/fixtures/restruct.json").varfitted;

for (const [name, c] of Object.entries(fx)) {
  test(`${name}: ${c.spec} matches ${c.source}`, () => {
    const fit = fitModel(loadTable(c.data), c.spec, { ci: "none" });
    assert.ok(fit.converged, fit.messages.join(" | "));
    closeRel(fit.logLik, c.logLik, 1e-6, "logLik");
    closeRel(fit.sigma, c.sigma, 1e-4, "sigma");
    c.fixef.names.forEach((term, i) => {
      const ours = fit.fixef.find((x) => x.term === term)!;
      closeAbs(ours.estimate, c.fixef.estimate[i], 1e-4 * c.fixef.se[i], `estimate of ${term}`);
      closeRel(ours.se, c.fixef.se[i], 1e-4, `SE of ${term}`);
    });
    for (const [k, v] of Object.entries(c.params)) closeRel(fit.residual!.params[k] as number, v, 1e-4, k);
  });
}

test("varPower(fitted): y * c leaves the power alone and moves the REML logLik by -(n - p) log c", () => {
  const rows = csvRows("assets/examples/sitka.csv");
  const spec = "size ~ time*treat ; varPower(fitted)";
  const a = fitModel(tableFromRows(rows), spec, { ci: "none" });
  for (const c of [0.01, 7]) {
    const b = fitModel(tableFromRows([rows[0], ...rows.slice(1).map((r) => [(r[0] as number) * c, ...r.slice(1)])]), spec, { ci: "none" });
    closeAbs(b.logLik, a.logLik - (a.n - a.fixef.length) * Math.log(c), 1e-6 * Math.abs(a.logLik), `logLik, y * ${c}`);
    closeRel(b.residual!.params.varPower_power as number, a.residual!.params.varPower_power as number, 1e-4, `power, y * ${c}`);
    a.fixef.forEach((r, i) => closeAbs(b.fixef[i].estimate, c * r.estimate, 1e-4 * c * r.se, `${r.term}, y * ${c}`));
  }
});

test("variance functions of the fitted values: clear errors", () => {
  const t = loadTable("assets/examples/sitka.csv");
  assert.throws(() => fitModel(t, "size ~ time ; varFixed(fitted)"), /varFixed\(fitted\): a known variance cannot depend on the fit/);
});
