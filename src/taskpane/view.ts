// The pane's page: reads the controls and shows what the controller says. No logic of its own
// beyond enabling controls that only make sense together (nesting needs a second grouping
// column, a slope needs a time column, ...). User text (column names, specs) only ever goes in
// through textContent or option values, never as HTML.
import type { FitResultWithRows, Method } from "../engine/types";
import type { ClipboardPort, DataSource } from "./ports";
import type { Field, PaneOptions, PaneView, Task } from "./controller";
import type { ColumnInfo, ModelChoices, ResidualChoice } from "./spec-builder";
import type { SavedModel } from "./store";
import { modelLabel } from "./store";
import { anovaTable, fixefTable, r2Of, varcompRows } from "./layout";
import { formatValue } from "./numfmt";
import { CRITERION } from "./formats";

const ERROR_ID: Record<Field, string> = {
  source: "data-err",
  response: "response-err",
  fixed: "fixed-err",
  groups: "groups-err",
  time: "time-err",
  residual: "residual-err",
  residualGroup: "residual-err",
  varIdent: "varident-err",
  spec: "spec-err",
  fit: "fit-err",
  compare: "compare-err",
  rcode: "rcode-err",
};

const CONTROL_ID: Partial<Record<Field, string>> = {
  source: "source",
  response: "response",
  fixed: "fixed",
  groups: "group1",
  time: "time",
  residual: "residual",
  residualGroup: "residual-group",
  varIdent: "varident",
  spec: "spec",
};

/** Where a message appears: the status line in the action bar, or the Compare card's own. */
export type StatusWhere = "fit" | "compare";

const TASK_TEXT: Record<Task, string> = {
  read: "Reading the data…",
  fit: "Fitting…",
  write: "Fitted; writing the results to new sheets…",
  compare: "Comparing the models…",
};

export class DomView implements PaneView {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly doc: Document = document) {}

  el<T extends HTMLElement = HTMLElement>(id: string): T {
    const e = this.doc.getElementById(id);
    if (!e) throw new Error(`the page has no element #${id}`);
    return e as T;
  }

  private select(id: string): HTMLSelectElement {
    return this.el<HTMLSelectElement>(id);
  }

  private checked(id: string): boolean {
    return this.el<HTMLInputElement>(id).checked;
  }

  // ---- reading the controls

  source(): DataSource {
    const v = this.select("source").value;
    if (v.startsWith("table:")) return { kind: "table", name: v.slice(6) };
    return v === "region" ? { kind: "region" } : { kind: "selection" };
  }

  choices(): ModelChoices {
    const fixed = Array.from(this.el("fixed").querySelectorAll<HTMLInputElement>("input[type=checkbox]"))
      .filter((b) => b.checked)
      .map((b) => b.value);
    const groups = [this.select("group1").value, this.select("group2").value].filter((g) => g !== "");
    return {
      response: this.select("response").value,
      fixed,
      interaction: this.checked("interaction"),
      groups,
      nesting: this.checked("crossed") ? "crossed" : "nested",
      time: this.select("time").value || null,
      randomSlope: this.checked("slope"),
      residual: this.select("residual").value as ResidualChoice,
      residualGroup: this.select("residual-group").value || null,
      varIdent: this.select("varident").value || null,
      gls: this.checked("gls"),
    };
  }

  specText(): string {
    return this.el<HTMLTextAreaElement>("spec").value;
  }

  options(): PaneOptions {
    const level = Number(this.select("level").value);
    return {
      method: (this.checked("ml") ? "ML" : "REML") as Method,
      level: level > 0 && level < 1 ? level : 0.95,
      ci: this.select("ci").value as PaneOptions["ci"],
      live: this.checked("live"),
      chart: this.checked("chart"),
      chartFactor: this.select("chart-factor").value || null,
      diagnostics: this.checked("diagnostics"),
      shrinkage: this.checked("shrinkage"),
      ddf: this.select("ddf").value === "kr" ? "kr" : "satterthwaite",
    };
  }

  pickedModels(): string[] {
    return Array.from(this.el("models").querySelectorAll<HTMLInputElement>("input[type=checkbox]"))
      .filter((b) => b.checked)
      .map((b) => b.value);
  }

  // ---- showing

  setTables(names: string[]): void {
    const group = this.el<HTMLOptGroupElement>("table-group");
    const current = this.select("source").value;
    group.textContent = "";
    for (const n of names) group.appendChild(new Option(`Table ${n}`, `table:${n}`));
    group.hidden = names.length === 0;
    if (Array.from(this.select("source").options).some((o) => o.value === current)) this.select("source").value = current;
  }

  setColumns(cols: ColumnInfo[]): void {
    // Short option texts: a 270 px pane must show them whole.
    const describe = (c: ColumnInfo) => (c.kind === "numeric" ? `${c.name} (number)` : `${c.name} (${c.distinct} level${c.distinct === 1 ? "" : "s"})`);
    const fill = (id: string, blank: string | null, filter: (c: ColumnInfo) => boolean = () => true) => {
      const s = this.select(id);
      s.textContent = "";
      if (blank !== null) s.appendChild(new Option(blank, ""));
      for (const c of cols.filter(filter)) s.appendChild(new Option(describe(c), c.name));
    };
    fill("response", null, (c) => c.kind === "numeric");
    fill("group1", "(none)");
    fill("group2", "(none)");
    fill("time", "(none)", (c) => c.kind === "numeric");
    fill("residual-group", "(grouping column)");
    fill("varident", "(none)");
    fill("chart-factor", "(one line for all)");
    const box = this.el("fixed");
    box.textContent = "";
    cols.forEach((c, i) => {
      const row = this.doc.createElement("div");
      row.className = "check";
      const input = this.doc.createElement("input");
      input.type = "checkbox";
      input.id = `fx-${i}`;
      input.value = c.name;
      const label = this.doc.createElement("label");
      label.htmlFor = input.id;
      label.textContent = describe(c);
      row.append(input, label);
      box.appendChild(row);
    });
    this.el("model-card").classList.remove("empty");
    this.el<HTMLFieldSetElement>("model-fields").disabled = false;
    this.el("model-wait").hidden = true;
  }

  setDataInfo(text: string): void {
    this.el("data-info").textContent = text;
  }

  setChoices(c: ModelChoices): void {
    const setSelect = (id: string, v: string | null) => {
      const s = this.select(id);
      const value = v ?? "";
      if (!Array.from(s.options).some((o) => o.value === value)) s.appendChild(new Option(value, value));
      s.value = value;
    };
    setSelect("response", c.response);
    for (const b of Array.from(this.el("fixed").querySelectorAll<HTMLInputElement>("input[type=checkbox]"))) {
      b.checked = c.fixed.includes(b.value);
    }
    this.el<HTMLInputElement>("interaction").checked = c.interaction;
    setSelect("group1", c.groups[0] ?? null);
    setSelect("group2", c.groups[1] ?? null);
    this.el<HTMLInputElement>(c.nesting === "crossed" ? "crossed" : "nested").checked = true;
    setSelect("time", c.time);
    this.el<HTMLInputElement>("slope").checked = c.randomSlope;
    this.select("residual").value = c.residual;
    setSelect("residual-group", c.residualGroup);
    setSelect("varident", c.varIdent);
    this.el<HTMLInputElement>(c.gls ? "gls" : "with-re").checked = true;
    if (c.residual !== "none" || c.varIdent) this.el<HTMLDetailsElement>("residual-section").open = true;
    this.syncEnabled();
  }

  setChartFactor(name: string | null): void {
    const s = this.select("chart-factor");
    s.value = name !== null && Array.from(s.options).some((o) => o.value === name) ? name : "";
  }

  /** Controls that only mean something together. */
  syncEnabled(): void {
    const g2 = this.select("group2").value !== "";
    for (const id of ["nested", "crossed"]) this.el<HTMLInputElement>(id).disabled = !g2;
    this.el("nesting").classList.toggle("disabled", !g2);
    const slopeOk = this.select("time").value !== "" && this.select("group1").value !== "";
    const slope = this.el<HTMLInputElement>("slope");
    slope.disabled = !slopeOk;
    if (!slopeOk) slope.checked = false;
    const residual = this.select("residual").value !== "none";
    this.select("residual-group").disabled = !residual;
    // lme or GLS: a choice only when there is a structure and a grouping column to drop.
    const kind = residual && this.select("group1").value !== "";
    for (const id of ["with-re", "gls"]) this.el<HTMLInputElement>(id).disabled = !kind;
    this.el("structure-kind").classList.toggle("disabled", !kind);
    // The response is not offered as a fixed effect.
    const response = this.select("response").value;
    for (const b of Array.from(this.el("fixed").querySelectorAll<HTMLInputElement>("input[type=checkbox]"))) {
      const isResponse = b.value === response;
      (b.parentElement as HTMLElement).hidden = isResponse;
      if (isResponse) b.checked = false;
    }
  }

  setSpecText(text: string): void {
    this.el<HTMLTextAreaElement>("spec").value = text;
  }

  setSpecState(state: "built" | "synced" | "custom"): void {
    const words = {
      built: "Built from the choices above. Edit it freely: it is the same text =LMM.FIT takes.",
      synced: "Typed by hand; the choices above now match it.",
      custom: "Typed by hand, beyond what the choices above can show: it is fitted as written.",
    };
    this.el("spec-state").textContent = words[state];
    this.el("spec-state").hidden = !this.el(ERROR_ID.spec).hidden;
    this.el("rebuild").hidden = state !== "custom";
  }

  private typed: string | null = null;

  setRestore(typed: string | null): void {
    this.typed = typed;
    const b = this.el("restore");
    b.hidden = typed === null;
    b.title = typed ?? "";
  }

  /** The spec the Restore link brings back. */
  typedSpec(): string | null {
    return this.typed;
  }

  setError(field: Field, message: string | null, span?: { start: number; end: number }): void {
    const box = this.el(ERROR_ID[field]);
    box.textContent = "";
    if (message) {
      box.appendChild(this.doc.createTextNode(message));
      if (span && field === "spec") {
        // Point at the place in the spec.
        const text = this.specText();
        const code = this.doc.createElement("code");
        code.className = "where";
        const mark = this.doc.createElement("mark");
        mark.textContent = text.slice(span.start, Math.max(span.end, span.start + 1)) || " ";
        code.append(text.slice(0, span.start), mark, text.slice(Math.max(span.end, span.start + 1)));
        box.appendChild(code);
      }
    }
    box.hidden = !message;
    // An error replaces the spec's state line: "the choices now match it" is not true of a spec that does not parse.
    if (field === "spec") this.el("spec-state").hidden = !!message;
    if (message && typeof box.scrollIntoView === "function" && field !== "fit" && field !== "rcode") {
      const r = box.getBoundingClientRect();
      const bar = this.el("actionbar").getBoundingClientRect();
      if (r.top < 0 || r.bottom > bar.top) box.scrollIntoView({ block: "center" });
    }
    const control = CONTROL_ID[field];
    if (control) {
      const c = this.el(control);
      if (message) c.setAttribute("aria-invalid", "true");
      else if (field !== "residualGroup" || !this.el(ERROR_ID.residual).textContent) c.removeAttribute("aria-invalid");
    }
  }

  setBusy(task: Task | null): void {
    const busy = task !== null;
    for (const id of ["read", "fit", "compare", "forget", "rcode", "structures"]) this.el<HTMLButtonElement>(id).disabled = busy;
    this.el<HTMLButtonElement>("cancel").disabled = !busy;
    this.el("main").setAttribute("aria-busy", busy ? "true" : "false");
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A task's "…ing" line never outlives the task: whoever ended it says how, or the line goes.
    if (!task && Object.values(TASK_TEXT).includes(this.el("status").textContent ?? "")) this.setStatus("");
    if (task) {
      this.setStatus(TASK_TEXT[task]);
      if (task === "fit") {
        const t0 = Date.now();
        this.timer = setInterval(() => {
          const s = Math.round((Date.now() - t0) / 1000);
          this.el("progress-label").textContent = `Fitting in the background: ${s} s (Excel stays responsive; Cancel stops it)`;
        }, 1000);
      }
    }
  }

  setProgress(label: string | null, share: number | null): void {
    const wrap = this.el("progress");
    wrap.hidden = label === null;
    this.el("progress-label").textContent = label ?? "";
    const bar = this.el<HTMLProgressElement>("progress-bar");
    if (share === null) bar.removeAttribute("value");
    else bar.value = Math.max(0, Math.min(1, share));
    bar.setAttribute("aria-valuetext", label ?? "");
  }

  setStatus(text: string, kind: "info" | "success" | "warning" = "info", where: StatusWhere = "fit"): void {
    const s = this.el(where === "compare" ? "compare-status" : "status");
    s.textContent = text;
    s.className = `status ${kind}`;
  }

  setNotes(lines: string[]): void {
    const ul = this.el("notes");
    ul.textContent = "";
    for (const l of lines) {
      const li = this.doc.createElement("li");
      li.textContent = l;
      ul.appendChild(li);
    }
    ul.hidden = lines.length === 0;
  }

  setModels(models: SavedModel[]): void {
    const ul = this.el("models");
    const picked = new Set(this.pickedModels());
    ul.textContent = "";
    models
      .slice()
      .reverse()
      .forEach((m) => {
        const li = this.doc.createElement("li");
        li.className = "check";
        const input = this.doc.createElement("input");
        input.type = "checkbox";
        input.id = `m-${m.id}`;
        input.value = m.id;
        input.checked = picked.has(m.id);
        const label = this.doc.createElement("label");
        label.htmlFor = input.id;
        label.textContent = modelLabel(m);
        li.append(input, label);
        ul.appendChild(li);
      });
    this.el("models-empty").hidden = models.length > 0;
  }

  setWarning(field: "fixed", message: string | null): void {
    const box = this.el(`${field}-warn`);
    box.textContent = message ?? "";
    box.hidden = !message;
  }

  /** The R code of the current spec; null hides it (the spec changed since). */
  showRCode(code: string | null): void {
    const box = this.el<HTMLTextAreaElement>("rcode-text");
    this.el("rcode-card").hidden = code === null;
    box.value = code ?? "";
    if (code !== null) box.rows = Math.min(14, code.split("\n").length + 1);
  }

  /** The key results in the pane: the fit line, the fixed effects with p-values, the Type III tests, the variance components, R² when there is one. */
  showResults(fit: FitResultWithRows | null, level = 0.95): void {
    const card = this.el("results");
    const body = this.el("results-body");
    body.textContent = "";
    card.hidden = fit === null;
    if (!fit) return;
    const d = this.doc;
    const p = d.createElement("p");
    p.className = "fitline";
    const groups = Object.entries(fit.groups).map(([g, k]) => `${k} ${g}`).join(", ");
    p.textContent = `${fit.method}, n = ${fit.n}${groups ? ` (${groups})` : ""}; logLik ${formatValue(fit.logLik, CRITERION)}, AIC ${formatValue(fit.AIC, CRITERION)}, BIC ${formatValue(fit.BIC, CRITERION)}${fit.converged ? "" : "; DID NOT CONVERGE"}${fit.singular ? "; singular fit" : ""}`;
    body.appendChild(p);
    const table = (title: string, head: string[], rows: string[][]) => {
      const h = d.createElement("h3");
      h.textContent = title;
      const t = d.createElement("table");
      const tr = d.createElement("tr");
      for (const x of head) {
        const th = d.createElement("th");
        th.scope = "col";
        th.textContent = x;
        tr.appendChild(th);
      }
      t.appendChild(tr);
      for (const r of rows) {
        const row = d.createElement("tr");
        for (const x of r) {
          const td = d.createElement("td");
          td.textContent = x;
          row.appendChild(td);
        }
        t.appendChild(row);
      }
      body.append(h, t);
    };
    // The sheet's own tables and formats, so the pane shows what the sheet shows.
    const fx = fixefTable(fit, level);
    const cols = [0, 1, 2, 5];
    table("Fixed effects", ["term", "Estimate", "SE", "p"], fx.rows.slice(1).map((r, i) => cols.map((j) => formatValue(r[j], fx.formats[i + 1][j]))));
    // Is a factor significant as a whole? The Type III F tests, when the worker computed them.
    const aov = anovaTable(fit);
    if (aov) table("Type III tests", ["term", "F", "DenDF", "p"], aov.rows.slice(1).map((r, i) => [0, 5, 4, 6].map((j) => formatValue(r[j], aov.formats[i + 1][j]))));
    const vc = varcompRows(fit, level);
    const vcRows: string[][] = [];
    vc.rows.forEach((r, k) => {
      if (k === 0 || r[3] === "") return;
      vcRows.push([`${r[0]}${r[1] !== "" ? ` ${r[1]}` : ""}`, formatValue(r[3], vc.formats[k][3]), formatValue(r[6], "0.0%")]);
    });
    table("Variance components", ["group", "SD", "share"], vcRows);
    const r2 = r2Of(fit);
    if (r2) {
      const q = d.createElement("p");
      q.className = "fitline";
      q.textContent = `R² marginal ${formatValue(r2.marginal, "0.000")}, conditional ${formatValue(r2.conditional, "0.000")}`;
      body.appendChild(q);
    }
  }
}

/** Clipboard with the textarea fallback (the Clipboard API may be blocked in an add-in's frame). */
export class DomClipboard implements ClipboardPort {
  constructor(private readonly doc: Document = document) {}

  async copy(text: string): Promise<"clipboard" | "selection" | "failed"> {
    try {
      if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
        await navigator.clipboard.writeText(text);
        return "clipboard";
      }
    } catch {
      /* fall back to a selection */
    }
    const box = this.doc.getElementById("rcode-text") as HTMLTextAreaElement | null;
    if (!box) return "failed";
    const card = this.doc.getElementById("rcode-card");
    if (card) card.hidden = false;
    box.value = text;
    box.focus();
    box.select();
    try {
      return this.doc.execCommand("copy") ? "selection" : "failed";
    } catch {
      return "failed";
    }
  }
}
