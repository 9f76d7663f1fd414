// Accuracy report (not a test; the tests assert the tolerances): every R fixture fitted again,
// with the largest differences printed, as the issue notes quote them. `npm run accuracy`.
import { fitModel } from "../src/engine";
import type { FitResult } from "../src/engine/types";
import { EngineFx, loadTable, readJson } from "../test/helpers/fixtures";

interface Worst { value: number; where: string }
const worst: Record<string, Worst> = {};
function note(kind: string, value: number, where: string): void {
  if (!worst[kind] || value > worst[kind].value) worst[kind] = { value, where };
}

function compare(fit: FitResult, fx: EngineFx): void {
  const at = `${fx.name} (${fx.method})`;
  note("|logLik - R|", Math.abs(fit.logLik - fx.logLik), at);
  for (const r of fx.fixef) {
    const ours = fit.fixef.find((x) => x.term === r.term)!;
    const se = r.se ?? ours.se;
    note("|beta - R| / SE", Math.abs(ours.estimate - r.estimate) / se, `${at} ${r.term}`);
    if (r.se !== undefined) note("|SE - R| / SE", Math.abs(ours.se - r.se) / r.se, `${at} ${r.term}`);
  }
  note("|sigma - R| / sigma", Math.abs(fit.sigma - fx.sigma) / fx.sigma, at);
  for (const r of fx.varcomp ?? []) {
    const ours = fit.varcomp.find((x) => x.group === r.group && x.effect === r.effect && x.effect2 === r.effect2)!;
    if (r.variance !== null && r.variance > 1e-6 * fx.sigma ** 2) note("|variance - R| / variance", Math.abs(ours.variance! - r.variance) / r.variance, `${at} ${r.group} ${r.effect}`);
    if (r.corr !== null) note("|corr - R|", Math.abs(ours.corr! - r.corr), `${at} ${r.group}`);
  }
}

let count = 0;
for (const file of ["test/fixtures/engine.json", "test/fixtures/residual.json", "test/fixtures/crossed.json"]) {
  for (const fx of readJson<EngineFx[]>(file)) {
    compare(fitModel(loadTable(fx.data), fx.spec, { method: fx.method, ci: "none" }), fx);
    count++;
  }
}
console.log(`${count} fits against lme4 / nlme fixtures; largest differences:`);
for (const [kind, w] of Object.entries(worst)) console.log(`  ${kind.padEnd(28)} ${w.value.toExponential(2)}   ${w.where}`);
