// The pane's boundaries, as interfaces: the fitter (the shared Web Worker client in the add-in,
// a fake in tests), the workbook (Office.js in the add-in, office-addin-mock or a scripted
// workbook in tests), and the clipboard. The controller only talks to these.
import type { FitResultWithRows, LrtResult, Method } from "../engine/types";
import type { SummaryTests } from "../engine/inference/summary";
import type { FitOutput, SheetPlan, StagedFitOutput } from "./layout";
import type { SavedModel } from "./store";
import type { DiagnosticsPlan } from "./diagnostics";
import type { Signal } from "./blocks";
import type { JobData } from "../worker/data";
import type { InfluenceResult } from "../engine/inference/influence";
import type { StructuresResult } from "../engine/inference/structures";

/** Data for a fit: rows (header first), or the compact columns read in blocks (DataSet.data). */
export type FitData = unknown[][] | JobData;

export interface FitRequest {
  method: Method;
  level: number;
  ci: "auto" | "profile" | "wald" | "none";
  fitted: true;
  /** Denominator df of the t tests, F tests and means (default Satterthwaite). */
  ddf?: "satterthwaite" | "kr";
  /** Add the tests of terms and the marginal means (a summary job: the result is a SummaryResult). */
  tests?: SummaryTests;
}

export interface Fitter {
  fit(data: FitData, spec: string, opts: FitRequest): Promise<FitResultWithRows>;
  lrt(data: FitData, specs: string[], opts: { method: Method }): Promise<LrtResult>;
  /** Group deletion (Cook's distance by group) for the Diagnostics sheet; optional: without it the chart is skipped. */
  influence?(data: FitData, spec: string, opts: { method: Method; groups?: string[] }): Promise<InfluenceResult>;
  /** The covariance-structure ranking ("Which structure?"). */
  structures?(data: FitData, spec: string): Promise<StructuresResult>;
  /** Stop whatever this fitter is running; its pending promises reject with a CancelledError. */
  cancel(): void;
  /** Get ready for a fit (start the worker) while the user builds the model. */
  warm?(): void;
}

/** Where the data come from. */
export type DataSource =
  | { kind: "selection" }
  | { kind: "region" }
  | { kind: "table"; name: string }
  | { kind: "address"; address: string };

export interface DataSet {
  source: DataSource;
  /** Sheet-qualified address of the header and data rows ("Sheet1!A1:D396"). */
  address: string;
  /** For formulas: "Sheet1!$A$1:$D$396" or "Table1[[#Headers],[#Data]]". */
  ref: string;
  /** The table's name, for a table. */
  table: string | null;
  /** 1-based sheet row of the header. */
  headerRow: number;
  /** The header row as read. */
  header: unknown[];
  /** Data rows (up to the last non-blank one). */
  nrow: number;
  /**
   * The header and the first data rows as read (at most SAMPLE_ROWS): enough to describe the
   * columns and check the header, without keeping a million rows of JS values.
   */
  sample: unknown[][];
  /** Every cell, compact (typed columns), with the key the worker client's cache uses. */
  data: JobData;
  /** Anything the user should know about how the data were read. */
  note: string | null;
  /** Number format of each column in the first data row (null: unknown); copied columns keep it. */
  formats?: (string | null)[] | null;
}

/** A progress report: what is happening, and the share done (null = unknown). */
export type ProgressFn = (label: string, share: number | null) => void;

export interface WrittenFit {
  summarySheet: string;
  detailSheet: string;
  /** Where the chart went, or why there is none. */
  chartNote: string | null;
  /** Why the means charts are missing, when Excel refused them. */
  meansNote?: string | null;
}

export interface WorkbookPort {
  /** Names of the Excel tables in the workbook. */
  tables(): Promise<string[]>;
  read(source: DataSource, progress: ProgressFn, signal: Signal): Promise<DataSet>;
  /** Create the fit's new sheets and write them: the summary first, then (planned only now, when staged) the detail sheet. */
  writeFit(out: FitOutput | StagedFitOutput, progress: ProgressFn, signal: Signal): Promise<WrittenFit>;
  /** Create a new comparison sheet and write it; returns its name. */
  writeComparison(plan: SheetPlan, base: string): Promise<string>;
  /** Create a Diagnostics sheet with its charts (optional: hosts without it skip the sheet). */
  writeDiagnostics?(plan: DiagnosticsPlan): Promise<string>;
  /** Create a new sheet named after `base` ("Shrinkage 1") with the plan's cells and charts; returns its name. */
  writeChartSheet?(base: string, plan: DiagnosticsPlan): Promise<string>;
  loadModels(): Promise<SavedModel[]>;
  saveModels(models: SavedModel[]): Promise<void>;
}

export interface ClipboardPort {
  /** Copies the text; says how ("clipboard", "selection" = the textarea fallback, "failed"). */
  copy(text: string): Promise<"clipboard" | "selection" | "failed">;
}
