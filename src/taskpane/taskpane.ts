// The task pane: pick the data and the model, fit in the shared worker (so the pane never
// freezes), write results to new sheets, compare models, and copy the R call. Errors show in
// plain words next to the control that caused them; no dialogs.
import { lmmClient } from "../worker/shared";
import { parseSpec } from "../engine/formula/parse";
import type { FitResultWithRows, ResidualType } from "../engine/types";
import { ModelChoices, buildSpec, rCode } from "./spec-builder";
import { DataRead, Source, readData, writeComparison, writeResults } from "./excel-io";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface Fitted {
  spec: string;
  method: string;
  address: string;
}

const state: { data: DataRead | null; cancel: { cancelled: boolean }; cancelFit: (() => void) | null; models: Fitted[] } = {
  data: null,
  cancel: { cancelled: false },
  cancelFit: null,
  models: [],
};

function setError(id: string, msg: string) {
  $(id).textContent = msg;
}

function options(select: HTMLSelectElement, names: string[], blank: string | null) {
  select.innerHTML = "";
  if (blank !== null) select.add(new Option(blank, ""));
  for (const n of names) select.add(new Option(n, n));
}

function columnNames(): string[] {
  return state.data ? state.data.rows[0].map((h) => String(h)) : [];
}

function choices(): ModelChoices {
  const fixed = Array.from(document.querySelectorAll<HTMLInputElement>("#fixed input:checked")).map((c) => c.value);
  const groups = [$<HTMLSelectElement>("group1").value, $<HTMLSelectElement>("group2").value].filter((g) => g);
  return {
    response: $<HTMLSelectElement>("response").value,
    fixed,
    interaction: $<HTMLInputElement>("interaction").checked,
    groups,
    nesting: $<HTMLInputElement>("crossed").checked ? "crossed" : "nested",
    time: $<HTMLSelectElement>("time").value || null,
    randomSlope: $<HTMLInputElement>("slope").checked,
    residual: $<HTMLSelectElement>("residual").value as ResidualType | "none",
    varIdent: $<HTMLSelectElement>("varident").value || null,
  };
}

function method(): "REML" | "ML" {
  return $<HTMLInputElement>("ml").checked ? "ML" : "REML";
}

/** Rebuild the spec from the controls (the user may then edit it by hand). */
function refreshSpec() {
  setError("spec-err", "");
  try {
    $<HTMLTextAreaElement>("spec").value = buildSpec(choices());
  } catch (e) {
    setError("spec-err", (e as Error).message);
  }
}

function checkSpec(): string | null {
  const spec = $<HTMLTextAreaElement>("spec").value.trim();
  try {
    parseSpec(spec);
    setError("spec-err", "");
    return spec;
  } catch (e) {
    setError("spec-err", (e as Error).message);
    return null;
  }
}

function progress(share: number | null) {
  const p = $<HTMLProgressElement>("progress");
  p.hidden = share === null;
  if (share !== null) p.value = share;
}

async function useData() {
  setError("data-err", "");
  state.cancel = { cancelled: false };
  $<HTMLButtonElement>("cancel").disabled = false;
  progress(0);
  try {
    state.data = await readData($<HTMLSelectElement>("source").value as Source, (s) => progress(s), state.cancel);
    const names = columnNames();
    $("data-info").textContent = `${state.data.address}: ${state.data.rows.length - 1} rows, columns ${names.join(", ")}`;
    options($("response"), names, null);
    $("fixed").innerHTML = names
      .map((n, i) => `<div class="row"><input type="checkbox" id="fx${i}" value="${n.replace(/"/g, "&quot;")}" /><label for="fx${i}">${n.replace(/</g, "&lt;")}</label></div>`)
      .join("");
    for (const id of ["group1", "group2", "time", "varident", "chart-factor"]) options($(id), names, "(none)");
    guessRoles(names);
    refreshSpec();
  } catch (e) {
    setError("data-err", (e as Error).message);
  } finally {
    progress(null);
    $<HTMLButtonElement>("cancel").disabled = true;
  }
}

/** A first guess so the lecture's data are one click from a fit: numeric first column as response, etc. */
function guessRoles(names: string[]) {
  const lower = names.map((n) => n.toLowerCase());
  const find = (...keys: string[]) => names[lower.findIndex((n) => keys.some((k) => n.includes(k)))] ?? "";
  const time = find("time", "day", "week", "age", "visit");
  const group = find("subject", "tree", "id", "patient", "batch", "plot");
  $<HTMLSelectElement>("response").value = names[0];
  $<HTMLSelectElement>("time").value = time;
  $<HTMLSelectElement>("group1").value = group;
  for (const box of Array.from(document.querySelectorAll<HTMLInputElement>("#fixed input"))) {
    box.checked = box.value !== names[0] && box.value !== group;
  }
}

async function fit() {
  setError("fit-err", "");
  if (!state.data) return setError("data-err", "choose the data first (Use data)");
  const spec = checkSpec();
  if (!spec) return;
  $<HTMLButtonElement>("fit").disabled = true;
  $<HTMLButtonElement>("cancel").disabled = false;
  $("status").textContent = "fitting...";
  progress(0);
  try {
    const result: FitResultWithRows = await lmmClient.fit(state.data.rows, spec, { method: method(), fitted: true }, (hook) => (state.cancelFit = hook));
    $("status").textContent = "writing the results...";
    const c = choices();
    const written = await writeResults(result, state.data, {
      live: $<HTMLInputElement>("live").checked,
      method: method(),
      chart: c.time && c.groups[0] ? { time: c.time, group: c.groups[0], factor: $<HTMLSelectElement>("chart-factor").value || null } : null,
      onProgress: (s) => progress(s),
    });
    const flags = [result.converged ? "converged" : "DID NOT CONVERGE", result.singular ? "singular (boundary) fit" : ""].filter(Boolean).join(", ");
    $("status").textContent = `logLik ${result.logLik.toFixed(4)}, ${flags}. Written to '${written.summarySheet}' and '${written.detailSheet}'.${written.chartNote ? ` Chart: ${written.chartNote}.` : ""}`;
    addModel({ spec, method: method(), address: state.data.address });
  } catch (e) {
    const err = e as Error;
    if (err.name !== "CancelledError") setError(/column|spec|formula|term|'/.test(err.message) ? "spec-err" : "fit-err", err.message);
    else $("status").textContent = "cancelled";
  } finally {
    state.cancelFit = null;
    progress(null);
    $<HTMLButtonElement>("fit").disabled = false;
    $<HTMLButtonElement>("cancel").disabled = true;
  }
}

function addModel(m: Fitted) {
  if (state.models.some((x) => x.spec === m.spec && x.address === m.address)) return;
  state.models.push(m);
  const li = document.createElement("li");
  const k = state.models.length - 1;
  li.innerHTML = `<input type="checkbox" id="m${k}" /><label for="m${k}"></label>`;
  li.querySelector("label")!.textContent = ` ${m.spec} (${m.method})`;
  $("models").appendChild(li);
}

async function compare() {
  setError("compare-err", "");
  const picked = state.models.filter((_, k) => ($(`m${k}`) as HTMLInputElement).checked);
  if (picked.length < 2) return setError("compare-err", "tick two or more fitted models");
  if (new Set(picked.map((m) => m.address)).size > 1) return setError("compare-err", "the models were fitted to different data ranges; compare models of the same data");
  try {
    const sheet = await writeComparison(picked.map((m) => m.spec), picked[0].address, picked[0].method);
    $("status").textContent = `LRT table written to '${sheet}'`;
  } catch (e) {
    setError("compare-err", (e as Error).message);
  }
}

async function copyR() {
  const spec = checkSpec();
  if (!spec) return;
  const code = rCode(spec, method());
  const box = $<HTMLTextAreaElement>("rcode-text");
  box.hidden = false;
  box.value = code;
  try {
    await navigator.clipboard.writeText(code);
    $("status").textContent = "R code copied";
  } catch {
    box.select();
    $("status").textContent = "R code below (select and copy)";
  }
}

function cancel() {
  state.cancel.cancelled = true;
  state.cancelFit?.();
}

Office.onReady(() => {
  $("read").onclick = () => void useData();
  $("fit").onclick = () => void fit();
  $("cancel").onclick = cancel;
  $("compare").onclick = () => void compare();
  $("rcode").onclick = () => void copyR();
  for (const id of ["response", "interaction", "group1", "group2", "nested", "crossed", "time", "slope", "residual", "varident"]) {
    $(id).addEventListener("change", refreshSpec);
  }
  $("fixed").addEventListener("change", refreshSpec);
  $("spec").addEventListener("input", () => void checkSpec());
});
