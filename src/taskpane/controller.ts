// The pane's behaviour, without the DOM and without Office: it reads the data, keeps the model
// builder and the spec in step, fits through the Fitter (a Web Worker in the add-in), has the
// results written to new sheets, keeps the list of fitted models, compares them and produces
// the R call. Everything it shows goes through the PaneView interface, so tests drive it with
// fakes; taskpane.ts connects it to the real page, workbook and worker.
import type { FitResultWithRows, LrtResult, Method, ModelSpec } from "../engine/types";
import { SpecError } from "../engine/errors";
import { parseSpec } from "../engine/formula";
import { tableFromRows } from "../engine/data";
import { cellNumber, cellValue } from "../engine/data/cell-columns";
import type { JobData } from "../worker/data";
import { clockMs, recordPhase } from "../worker/phases";
import type { ClipboardPort, DataSet, DataSource, FitRequest, Fitter, WorkbookPort } from "./ports";
import type { Signal } from "./blocks";
import { BuildError, ChoiceField, ColumnInfo, ModelChoices, buildSpec, choicesFromSpec, describeColumns, guessRoles, idLikeFixed } from "./spec-builder";
import { rCode } from "./rcode";
import { DetailContext, DetailOutput, FitOutput, StagedFitOutput, comparisonPlan, detailPlan, summaryPlan } from "./layout";
import { spaghettiDataAsync } from "./chart";
import { writeDiagnostics } from "./diagnostics";
import { cooksInput } from "./cooks";
import { writeShrinkage } from "./shrinkage";
import { writeStructures } from "./structures-sheet";
import { meansStatus, testsRCode } from "./means";
import { TEXT, dataFormat } from "./formats";
import { SavedModel, addModel, newId, planComparison, removeModel } from "./store";

/** Controls an error can be shown next to. */
export type Field = "source" | ChoiceField | "spec" | "fit" | "compare" | "rcode";

export interface PaneOptions {
  method: Method;
  level: number;
  ci: FitRequest["ci"];
  live: boolean;
  chart: boolean;
  /** Population lines per level of this column (null: one line). */
  chartFactor: string | null;
  /** Also write a Diagnostics sheet (residual, QQ and caterpillar charts). */
  diagnostics?: boolean;
  /** Also write the lecture's shrinkage chart (fixed group effects vs random intercepts) on its own sheet. */
  shrinkage?: boolean;
  /** Denominator df of the t tests, the Type III F tests and the means (default Satterthwaite). */
  ddf?: "satterthwaite" | "kr";
}

export type Task = "read" | "fit" | "write" | "compare";

/** Where an error sits, in the words of the pane (for the status line beside Fit). */
const FIELD_LABEL: Record<Field, string> = {
  source: "Data (step 1)",
  response: "Response",
  fixed: "Fixed effects",
  groups: "Grouping column",
  time: "Time column",
  residual: "Residual correlation",
  residualGroup: "Residual correlation",
  varIdent: "Residual SD differs by",
  spec: "Model spec",
  fit: "Fit",
  compare: "Compare models",
  rcode: "Copy as R code",
};

export interface PaneView {
  source(): DataSource;
  choices(): ModelChoices;
  specText(): string;
  options(): PaneOptions;
  pickedModels(): string[];

  setTables(names: string[]): void;
  setColumns(cols: ColumnInfo[]): void;
  setDataInfo(text: string): void;
  setChoices(c: ModelChoices): void;
  /** The column whose levels get their own fitted population line in the chart (null: one line). */
  setChartFactor(name: string | null): void;
  setSpecText(text: string): void;
  /** "built": from the controls; "synced": typed, and the controls now match; "custom": typed, beyond the controls. */
  setSpecState(state: "built" | "synced" | "custom"): void;
  /** Offer to bring back a spec typed by hand that a change of the controls replaced (null: no offer). */
  setRestore(typed: string | null): void;
  setError(field: Field, message: string | null, span?: { start: number; end: number }): void;
  setBusy(task: Task | null): void;
  setProgress(label: string | null, share: number | null): void;
  /** The status line beside Fit ("fit"), or the Compare card's ("compare"). */
  setStatus(text: string, kind?: "info" | "success" | "warning", where?: "fit" | "compare"): void;
  /** A warning that does not stop a fit (an ID column ticked as a fixed effect). */
  setWarning(field: "fixed", message: string | null): void;
  setNotes(lines: string[]): void;
  setModels(models: SavedModel[]): void;
  /** The R code of the current spec; null: none (the spec changed since it was made). */
  showRCode(code: string | null): void;
  /** The key results of the last fit in the pane; null hides them. */
  showResults(fit: FitResultWithRows | null, level?: number): void;
}

/** Where an error is shown, and in what words. */
export function routeError(e: unknown, during: "read" | "fit" | "compare"): { field: Field; message: string; span?: { start: number; end: number } } {
  const err = e as { name?: string; message?: string; column?: number; field?: ChoiceField };
  const message = typeof err?.message === "string" && err.message ? err.message : String(e);
  const plain = message.charAt(0).toUpperCase() + message.slice(1);
  if (e instanceof BuildError) return { field: e.field, message: plain };
  if (err?.name === "SpecError") {
    const col = typeof err.column === "number" ? err.column : null;
    return { field: during === "compare" ? "compare" : "spec", message: plain, span: col ? { start: col - 1, end: col } : undefined };
  }
  if (during === "read") return { field: "source", message: plain };
  if (during === "compare") return { field: "compare", message: plain };
  if (err?.name === "DataError") {
    // Kenward-Roger refused (too large, an ML fit): the df choice under Output options, said beside Fit.
    if (/^Kenward-Roger/.test(message)) return { field: "fit", message: `${plain} (the df choice is under Output options)` };
    // Problems with the range itself belong to the data; the rest come from what the spec asks of the data.
    if (/header|data range|rectangular|row \d+ of the data|empty/.test(message)) return { field: "source", message: plain };
    return { field: "spec", message: plain };
  }
  return { field: "fit", message: plain };
}

/** Said beside Fit when Kenward-Roger is asked for an ML fit. */
export const KR_NEEDS_REML = "Kenward-Roger df need a REML fit (as in pbkrtest and SAS DDFM=KR): choose REML under Estimation, or Satterthwaite df under Output options.";

/** Let the page handle what is waiting (input, painting) before going on. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const isCancel = (e: unknown) => (e as { name?: string } | null)?.name === "CancelledError";

function fmtP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return "n/a";
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

/** The LRT in one sentence per test. */
export function lrtSummary(res: LrtResult): string {
  const tests = res.tests.map((t) => `${t.from} vs ${t.to}: L.Ratio ${t["L.Ratio"].toFixed(2)}, df ${t.df}, p ${fmtP(t.p)}${t.p_mixture !== null ? ` (chi-bar-square p ${fmtP(t.p_mixture)})` : ""}`);
  return `${tests.join("; ")}${res.refit_ml ? " — refitted by ML, as the fixed effects differ" : ""}`;
}

/** Which columns draw the spaghetti plot: the time, the (outer) grouping column. */
export function chartRoles(spec: ModelSpec, choices: ModelChoices): { time: string | null; group: string | null } {
  const time = choices.time ?? (spec.residual?.time && spec.residual.time !== "1" ? spec.residual.time : null);
  const single = spec.formula.random.map((r) => r.group).filter((g) => g.length === 1);
  const group = single[0]?.[0] ?? (spec.residual?.group && !spec.residual.group.includes(":") ? spec.residual.group : null) ?? choices.groups[0] ?? null;
  return { time, group };
}

export class PaneController {
  data: DataSet | null = null;
  columns: ColumnInfo[] = [];
  models: SavedModel[] = [];
  /** The last fit, for the R code's starting values. */
  lastFit: FitResultWithRows | null = null;
  /** A spec typed by hand that the controls cannot show (or that does not parse yet). */
  private typed: string | null = null;
  private signal: Signal = { cancelled: false };
  private task: Task | null = null;

  constructor(
    private readonly view: PaneView,
    private readonly workbook: WorkbookPort,
    private readonly fitter: Fitter,
    private readonly clipboard: ClipboardPort,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  get busy(): boolean {
    return this.task !== null;
  }

  /** At start: the workbook's tables (for the source list) and the models fitted in it before. */
  async start(): Promise<void> {
    try {
      this.view.setTables(await this.workbook.tables());
    } catch {
      this.view.setTables([]);
    }
    try {
      this.models = await this.workbook.loadModels();
      this.view.setModels(this.models);
    } catch {
      /* settings unavailable: the list lives for this session only */
    }
  }

  async refreshTables(): Promise<void> {
    try {
      this.view.setTables(await this.workbook.tables());
    } catch {
      /* keep the list */
    }
  }

  private begin(task: Task): Signal {
    this.task = task;
    this.signal = { cancelled: false };
    this.view.setBusy(task);
    return this.signal;
  }

  private end(): void {
    this.task = null;
    this.view.setBusy(null);
    this.view.setProgress(null, null);
  }

  cancel(): void {
    if (!this.task) return;
    this.signal.cancelled = true;
    this.fitter.cancel();
    this.view.setStatus("Cancelling…");
  }

  /** Read the data from the chosen source and propose a first model. */
  async useData(): Promise<void> {
    if (this.busy) return;
    this.view.setError("source", null);
    this.view.setError("fit", null);
    const signal = this.begin("read");
    try {
      const data = await this.workbook.read(this.view.source(), (label, share) => this.view.setProgress(label, share), signal);
      // The header now, not at the first fit: blank, numeric or repeated column names.
      tableFromRows(data.sample.slice(0, 21));
      this.data = data;
      // The worker loads while the user looks at the model.
      this.fitter.warm?.();
      this.columns = describeColumns(data.sample);
      this.view.setColumns(this.columns);
      const n = data.nrow;
      const info = `${data.address}: ${n.toLocaleString("en-US")} row${n === 1 ? "" : "s"}, columns ${this.columns.map((c) => c.name).join(", ")}`;
      this.view.setDataInfo(data.note ? `${info}. Note: ${data.note}.` : info);
      const guess = guessRoles(this.columns);
      this.view.setChoices(guess);
      // Population lines per treatment, as in the lecture: a text fixed effect with a few levels.
      const factor = this.columns.find((c) => c.kind === "text" && c.distinct >= 2 && c.distinct <= 8 && guess.fixed.includes(c.name) && !guess.groups.includes(c.name));
      this.view.setChartFactor(factor ? factor.name : null);
      this.rebuildSpec();
      this.view.setStatus("Data read. Check the model below, then Fit.");
    } catch (e) {
      if (isCancel(e)) this.view.setStatus("Reading the data was cancelled.", "warning");
      else {
        // What was read before no longer stands for "the data".
        this.data = null;
        this.view.setDataInfo("");
        const r = routeError(e, "read");
        this.view.setError(r.field, r.message);
      }
    } finally {
      this.end();
    }
  }

  /** The controls changed: the spec follows them (a spec typed beyond them can be restored). */
  rebuildSpec(): void {
    for (const f of ["response", "fixed", "groups", "time", "residual", "residualGroup", "varIdent", "spec"] as Field[]) this.view.setError(f, null);
    try {
      const typed = this.typed;
      this.typed = null;
      const choices = this.view.choices();
      const built = buildSpec(choices);
      this.view.setSpecText(built);
      this.view.setSpecState("built");
      this.view.setRestore(typed !== null && typed.trim() !== built ? typed : null);
      this.warnChoices(choices);
    } catch (e) {
      const r = routeError(e, "fit");
      this.view.setError(r.field, r.message);
    }
    this.specChanged();
  }

  /** The spec changed: what was said about the previous one no longer holds. */
  private specChanged(): void {
    this.view.showRCode(null);
    this.view.setError("rcode", null);
  }

  /** Choices that make a model, but probably not the one meant. */
  private warnChoices(c: ModelChoices): void {
    const ids = idLikeFixed(c, this.columns);
    const names = ids.map((n) => `'${n}'`).join(", ");
    this.view.setWarning(
      "fixed",
      ids.length === 0
        ? null
        : `${names} look${ids.length === 1 ? "s" : ""} like ID numbers: as a fixed effect ${ids.length === 1 ? "it is" : "they are"} one slope over the numbers, not one effect per unit. Untick ${ids.length === 1 ? "it" : "them"}, or write factor(${ids[0]}) in the spec for one effect per level.`,
    );
  }

  /** Parse the spec and check its columns; errors go next to the spec. Null when it cannot be fitted. */
  checkSpec(): ModelSpec | null {
    let spec: ModelSpec;
    try {
      spec = parseSpec(this.view.specText());
    } catch (e) {
      const r = routeError(e, "fit");
      this.view.setError("spec", r.message, r.span);
      return null;
    }
    const unknown = this.unknownColumns(spec);
    if (unknown.length > 0) {
      const which = unknown.map((u) => `'${u}'`).join(", ");
      this.view.setError("spec", `No column named ${which} in the data; the columns are: ${this.columns.map((c) => c.name).join(", ")}`);
      return null;
    }
    this.view.setError("spec", null);
    return spec;
  }

  /** The spec was typed: check it, and move the controls to match when they can. */
  specEdited(): ModelSpec | null {
    this.view.setRestore(null);
    this.specChanged();
    const spec = this.checkSpec();
    if (!spec) {
      this.typed = this.view.specText();
      return null;
    }
    const c = choicesFromSpec(spec, this.view.choices());
    if (c) {
      this.typed = null;
      this.view.setChoices(c);
      this.view.setSpecState("synced");
      this.warnChoices(c);
    } else {
      this.typed = this.view.specText();
      this.view.setSpecState("custom");
    }
    return spec;
  }

  /** Bring back the spec typed by hand before the controls replaced it. */
  restoreSpec(text: string): void {
    this.view.setSpecText(text);
    this.specEdited();
  }

  /** Column names the spec uses that the data do not have (empty when no data are loaded). */
  private unknownColumns(spec: ModelSpec): string[] {
    if (this.columns.length === 0) return [];
    const have = new Set(this.columns.map((c) => c.name));
    const names = new Set<string>();
    const walk = (e: { kind: string; name?: string; args?: unknown[]; left?: unknown; right?: unknown; arg?: unknown }): void => {
      if (e.kind === "var" && e.name) names.add(e.name);
      for (const a of (e.args ?? []) as (typeof e)[]) walk(a);
      if (e.left) walk(e.left as typeof e);
      if (e.right) walk(e.right as typeof e);
      if (e.arg) walk(e.arg as typeof e);
    };
    walk(spec.formula.response);
    for (const t of spec.formula.fixed) t.factors.forEach(walk);
    for (const r of spec.formula.random) {
      r.terms.forEach((t) => t.factors.forEach(walk));
      r.group.forEach((g) => names.add(g));
    }
    if (spec.residual) {
      if (spec.residual.time && spec.residual.time !== "1") names.add(spec.residual.time);
      spec.residual.group?.split(":").forEach((g) => names.add(g));
    }
    spec.varIdent?.split(":").forEach((g) => names.add(g));
    return Array.from(names).filter((n) => !have.has(n));
  }

  async fit(): Promise<void> {
    if (this.busy) return;
    for (const f of ["spec", "fit", "source"] as Field[]) this.view.setError(f, null);
    const data = this.data;
    if (!data) {
      // Said beside the Fit button, where the user is looking.
      this.view.setError("fit", "Choose the data first: select it in the sheet (or click in it) and press Use data in step 1.");
      return;
    }
    const spec = this.checkSpec();
    if (!spec) {
      this.view.setStatus(`Not fitted: see the message under ${FIELD_LABEL.spec}.`, "warning");
      return;
    }
    const specText = this.view.specText().trim();
    const opts = this.view.options();
    const choices = this.view.choices();
    const ddf = opts.ddf ?? "satterthwaite";
    if (ddf === "kr" && opts.method === "ML") {
      this.view.setError("fit", KR_NEEDS_REML);
      this.view.setStatus("Not fitted: Kenward-Roger df need a REML fit.", "warning");
      return;
    }
    const signal = this.begin("fit");
    const t0 = this.clock();
    let result: FitResultWithRows;
    try {
      this.view.setProgress("Fitting (in the background: Excel stays responsive)…", null);
      this.view.setNotes([]);
      const tf = clockMs();
      // The tests of terms and the means of the factors come from the same fit, in the worker.
      // (Live formulas get =LMM.ANOVA, sized by this table; the means are written as values only.)
      const tests = { anova: 3 as const, means: !opts.live, covariate: chartRoles(spec, choices).time };
      result = await this.fitter.fit(data.data, specText, { method: opts.method, level: opts.level, ci: opts.ci, fitted: true, ...(ddf === "kr" ? { ddf } : {}), tests });
      recordPhase("fit: request to result (worker, both ways)", clockMs() - tf);
    } catch (e) {
      this.end();
      if (isCancel(e) || signal.cancelled) this.view.setStatus("The fit was cancelled.", "warning");
      else {
        const r = routeError(e, "fit");
        this.view.setError(r.field, r.message, r.span);
        this.view.setStatus(r.field === "fit" ? "The fit failed:" : `Not fitted: see the message under ${FIELD_LABEL[r.field]}.`, "warning");
      }
      return;
    }
    const seconds = (this.clock() - t0) / 1000;
    this.lastFit = result;
    if (signal.cancelled) {
      this.end();
      this.view.setStatus("The fit was cancelled.", "warning");
      return;
    }
    this.task = "write";
    this.view.setBusy("write");
    try {
      const out = this.stagedOutput(result, data, spec, specText, opts, choices);
      const written = await this.workbook.writeFit(out, (label, share) => this.view.setProgress(label, share), signal);
      let diag = "";
      if (opts.diagnostics) {
        this.view.setProgress("Refitting without each group (Cook's distance by group)…", null);
        diag = await writeDiagnostics(this.workbook, result, specText, await cooksInput(this.fitter, data.data, result, specText));
      }
      if (opts.shrinkage) {
        this.view.setProgress("Fitting the fixed-effects-only model for the shrinkage chart…", null);
        diag += await writeShrinkage(this.workbook, this.fitter, data, result, spec, specText, chartRoles(spec, choices).time);
      }
      const model: SavedModel = {
        id: newId(this.clock()),
        spec: specText,
        method: result.method,
        dataRef: data.ref,
        dataLabel: data.address,
        source: data.table ? { kind: "table", name: data.table } : { kind: "address", address: data.address },
        n: result.n,
        df: result.df,
        logLik: result.logLik,
        AIC: result.AIC,
        BIC: result.BIC,
        sheet: written.summarySheet,
        at: new Date(this.clock()).toISOString(),
      };
      this.models = addModel(this.models, model);
      this.view.setModels(this.models);
      const flags = [result.converged ? "converged" : "DID NOT CONVERGE", result.singular ? "singular (boundary) fit" : ""].filter(Boolean).join(", ");
      // The subset drawn is said in the chart's title; the status keeps to where the chart went or why there is none.
      const note = written.chartNote && /^no chart|data sheet/.test(written.chartNote) ? written.chartNote : null;
      const chart = (!note ? "" : /^no chart/.test(note) ? ` ${note.charAt(0).toUpperCase()}${note.slice(1)}.` : ` Chart: ${note}.`) + meansStatus(result, written.meansNote);
      this.view.setStatus(
        `Fitted by ${result.method} in ${seconds.toFixed(1)} s: logLik ${result.logLik.toFixed(4)}, AIC ${result.AIC.toFixed(2)}, BIC ${result.BIC.toFixed(2)}; ${flags}. Written to '${written.summarySheet}' and '${written.detailSheet}'.${chart}${diag}`,
        result.converged && !result.singular ? "success" : "warning",
      );
      this.view.setNotes(result.messages);
      this.view.showResults(result, opts.level);
      try {
        await this.workbook.saveModels(this.models);
      } catch {
        /* the list still lives for this session */
      }
    } catch (e) {
      if (isCancel(e)) this.view.setStatus("Writing was cancelled; the new sheets are incomplete.", "warning");
      else {
        this.view.setStatus("Fitted, but not written:", "warning");
        this.view.setError("fit", `The fit worked but writing the results failed: ${(e as Error).message ?? e}`);
      }
    } finally {
      this.end();
    }
  }

  /**
   * What to write for a fit: layout plans from the result (no Office calls). On a million rows
   * this is real work, so it pauses between steps and the page stays responsive.
   */
  async output(result: FitResultWithRows, data: DataSet, spec: ModelSpec, specText: string, opts: PaneOptions, choices: ModelChoices, pause: () => Promise<void> = nextTask): Promise<FitOutput> {
    const staged = this.stagedOutput(result, data, spec, specText, opts, choices, pause);
    return { base: staged.base, summary: staged.summary, ...(await staged.details()) };
  }

  /** The summary's plan now (it is small), the detail's when the writer asks for it. */
  stagedOutput(result: FitResultWithRows, data: DataSet, spec: ModelSpec, specText: string, opts: PaneOptions, choices: ModelChoices, pause: () => Promise<void> = nextTask): StagedFitOutput {
    let code: string | null = null;
    try {
      code = rCode(specText, result.method, { source: data.address, fit: result, level: opts.level, ci: opts.ci });
      const tests = testsRCode(result, /library\(lmerTest\)/.test(code));
      if (tests.length) code = `${code}\n${tests.join("\n")}`;
    } catch {
      code = null;
    }
    const summary = summaryPlan(result, { dataLabel: data.address, dataRef: data.ref, live: opts.live, level: opts.level, method: result.method, rCode: code });
    const details = async () => {
      const t0 = clockMs();
      const d = await this.detailOutput(result, data, spec, specText, opts, choices, pause);
      recordPhase("write: plan the detail sheet and the chart data", clockMs() - t0);
      return d;
    };
    return { base: "LMM", summary, details };
  }

  private async detailOutput(result: FitResultWithRows, data: DataSet, spec: ModelSpec, specText: string, opts: PaneOptions, choices: ModelChoices, pause: () => Promise<void>): Promise<DetailOutput> {
    const header = data.header.map((h) => String(h).trim());
    const colOf = (name: string | null) => (name ? header.indexOf(name) : -1);
    const roles = chartRoles(spec, choices);
    const extras: DetailContext["extras"] = [];
    const columns = data.data.cells.columns;
    const cellOf = (j: number) => (r: number) => cellValue(columns[j], r);
    const labelOf = (j: number) => (r: number) => String(cellValue(columns[j], r));
    const gi = colOf(roles.group), ti = colOf(roles.time);
    if (gi >= 0) extras.push({ name: header[gi], value: cellOf(gi), format: TEXT });
    if (ti >= 0 && ti !== gi) extras.push({ name: header[ti], value: cellOf(ti), format: dataFormat(data.formats, ti) });
    let chart: DetailContext["chart"] = null;
    let chartSkipped: string | null = null;
    const f = result.fitted;
    const response = spec.formula.response.kind === "var" ? spec.formula.response.name : specText.split("~")[0].trim();
    if (opts.chart && f && gi >= 0 && ti >= 0) {
      const n = f.rows.length;
      const time = new Float64Array(n), y = new Float64Array(n);
      const group = new Array<string>(n);
      const groupLabel = labelOf(gi);
      let anyTime = false;
      for (let i = 0; i < n; i++) {
        if (i > 0 && i % 200000 === 0) await pause();
        const r = f.rows[i];
        time[i] = cellNumber(columns[ti], r);
        if (Number.isFinite(time[i])) anyTime = true;
        y[i] = f.conditional[i] + f.residual[i];
        group[i] = groupLabel(r);
      }
      if (anyTime) {
        const fi = colOf(opts.chartFactor);
        let factor: string[] | null = null;
        if (fi >= 0) {
          await pause();
          const factorLabel = labelOf(fi);
          factor = Array.from(f.rows, (r) => factorLabel(r));
        }
        await pause();
        const d = await spaghettiDataAsync({ time, y, group, marginal: f.marginal, factor, groupName: header[gi] }, pause);
        if (d.groups.length > 0 && d.times.length > 0) chart = { data: d, response, time: header[ti], timeFormat: dataFormat(data.formats, ti), group: header[gi], factor: fi >= 0 ? header[fi] : null };
      }
      if (!chart) chartSkipped = `no chart: the time column '${header[ti]}' has no numbers in the rows used`;
    } else if (opts.chart) {
      chartSkipped = "no chart: the spaghetti plot needs a time column and a grouping column (choose them in the model)";
    }
    await pause();
    const detail = detailPlan(result, { response, responseFormat: dataFormat(data.formats, colOf(response)), firstDataRow: data.headerRow + 1, extras, chart });
    return { detail: detail.plan, chart: detail.chart, chartSkipped };
  }

  /** "Which structure?": the residual structures ranked for the current model, on a new sheet (structures-sheet.ts). */
  async whichStructure(): Promise<void> {
    if (this.busy) return;
    for (const f of ["spec", "fit", "time"] as Field[]) this.view.setError(f, null);
    const data = this.data;
    if (!data) {
      this.view.setError("fit", "Choose the data first: select it in the sheet (or click in it) and press Use data in step 1.");
      return;
    }
    const spec = this.checkSpec();
    if (!spec) return;
    const specText = this.view.specText().trim();
    const roles = chartRoles(spec, this.view.choices());
    const signal = this.begin("fit");
    try {
      this.view.setProgress("Fitting each candidate residual structure by REML (in the background)…", null);
      const said = await writeStructures(this.workbook, this.fitter, data, spec, specText, roles.time, roles.group);
      if (signal.cancelled) throw Object.assign(new Error("cancelled"), { name: "CancelledError" });
      this.view.setStatus(said, "success");
    } catch (e) {
      if (isCancel(e) || signal.cancelled) this.view.setStatus("Which structure? was cancelled.", "warning");
      else {
        const r = routeError(e, "fit");
        this.view.setError(r.field, r.message, r.span);
        this.view.setStatus(r.field === "fit" ? "Which structure? failed:" : `Structures not ranked: see the message under ${FIELD_LABEL[r.field]}.`, "warning");
      }
    } finally {
      this.end();
    }
  }

  async compare(): Promise<void> {
    if (this.busy) return;
    this.view.setError("compare", null);
    this.view.setStatus("", "info", "compare");
    let plan;
    try {
      plan = planComparison(this.models, this.view.pickedModels());
    } catch (e) {
      this.view.setError("compare", routeError(e, "compare").message);
      return;
    }
    const first = plan.models[0];
    const specs = plan.models.map((m) => m.spec);
    const signal = this.begin("compare");
    try {
      let rows: JobData;
      if (this.data && this.data.ref === first.dataRef) rows = this.data.data;
      else rows = (await this.workbook.read(first.source, (l, s) => this.view.setProgress(l, s), signal)).data;
      this.view.setProgress("Fitting the models for the likelihood-ratio test…", null);
      const res = await this.fitter.lrt(rows, specs, { method: plan.method });
      if (signal.cancelled) throw Object.assign(new Error("cancelled"), { name: "CancelledError" });
      const sheetPlan = comparisonPlan(specs, res, { dataLabel: first.dataLabel, dataRef: first.dataRef, method: plan.method, refitML: res.refit_ml });
      const name = await this.workbook.writeComparison(sheetPlan, "LMM compare");
      const notes = res.messages.length ? ` ${res.messages.join(" ")}` : "";
      this.view.setStatus(`Likelihood-ratio test written to '${name}' (=LMM.LRT): ${lrtSummary(res)}.${notes}`, "success", "compare");
    } catch (e) {
      if (isCancel(e)) this.view.setStatus("The comparison was cancelled.", "warning", "compare");
      else this.view.setError("compare", routeError(e, "compare").message);
    } finally {
      this.end();
    }
  }

  /** Forget the ticked models (the sheets stay). */
  async forget(): Promise<void> {
    const ids = this.view.pickedModels();
    if (ids.length === 0) {
      this.view.setError("compare", "Tick the models to remove from the list.");
      return;
    }
    for (const id of ids) this.models = removeModel(this.models, id);
    this.view.setModels(this.models);
    this.view.setError("compare", null);
    try {
      await this.workbook.saveModels(this.models);
    } catch {
      /* session only */
    }
  }

  async copyR(): Promise<void> {
    this.view.setError("rcode", null);
    const text = this.view.specText().trim();
    let code: string;
    try {
      const method = this.view.options().method;
      const last = this.lastFit && this.lastFit.spec.trim() === text && this.lastFit.method === method ? this.lastFit : null;
      const o = this.view.options();
      code = rCode(text, method, { source: this.data?.address, fit: last, level: o.level, ci: o.ci });
    } catch (e) {
      const r = routeError(e, "fit");
      this.view.setError(e instanceof SpecError ? "spec" : "rcode", r.message, r.span);
      return;
    }
    this.view.showRCode(code);
    const how = await this.clipboard.copy(code);
    if (how === "clipboard") this.view.setStatus("R code copied to the clipboard.", "success");
    else if (how === "selection") this.view.setStatus("R code copied (it is also shown below the button).", "success");
    else this.view.setError("rcode", "The clipboard is not available here: the code is selected below, press Ctrl+C to copy it.");
  }
}
