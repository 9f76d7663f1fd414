// The models fitted in this workbook: kept in memory for the session and saved in the
// workbook's settings (add-in data stored with the file, no cells touched), so the Compare list
// survives closing the pane or the workbook. Pure list logic; excel-io.ts does the storage.
import type { Method } from "../engine/types";
import type { DataSource } from "./ports";

/** Key of the workbook setting. */
export const MODELS_KEY = "lmm.models.v1";
/** Only the most recent models are kept. */
export const MAX_MODELS = 40;

export interface SavedModel {
  id: string;
  spec: string;
  method: Method;
  /** What formulas use for the data, and what identifies "the same data". */
  dataRef: string;
  /** The data as the user sees it. */
  dataLabel: string;
  /** How to read the data again. */
  source: DataSource;
  n: number;
  df: number;
  logLik: number;
  AIC: number;
  BIC: number;
  /** The summary sheet written for it. */
  sheet: string;
  /** ISO time of the fit. */
  at: string;
}

/**
 * Add a model, newest last. A refit of the same spec, method and data is kept beside the
 * earlier one (the data may have changed in between); each line names its own sheet.
 */
export function addModel(list: SavedModel[], m: SavedModel): SavedModel[] {
  return [...list, m].slice(-MAX_MODELS);
}

export function removeModel(list: SavedModel[], id: string): SavedModel[] {
  return list.filter((m) => m.id !== id);
}

export function newId(now = Date.now(), rnd = Math.random()): string {
  return `${now.toString(36)}${Math.floor(rnd * 1e6).toString(36)}`;
}

/** Models read from settings: anything malformed is left out rather than trusted. */
export function parseModels(raw: unknown): SavedModel[] {
  let v: unknown = raw;
  if (typeof raw === "string") {
    try {
      v = JSON.parse(raw);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(v)) return [];
  const ok = (m: Record<string, unknown>) =>
    typeof m.id === "string" && typeof m.spec === "string" && (m.method === "REML" || m.method === "ML") && typeof m.dataRef === "string" &&
    typeof m.dataLabel === "string" && typeof m.n === "number" && typeof m.df === "number" && typeof m.logLik === "number" &&
    typeof m.sheet === "string" && !!m.source && typeof (m.source as { kind?: unknown }).kind === "string";
  return v.filter((m): m is SavedModel => !!m && typeof m === "object" && ok(m as Record<string, unknown>)).slice(-MAX_MODELS);
}

export function serializeModels(list: SavedModel[]): string {
  return JSON.stringify(list.slice(-MAX_MODELS));
}

export interface Comparison {
  models: SavedModel[];
  /** REML when every model was fitted by REML (the engine refits by ML when the fixed effects differ), else ML. */
  method: Method;
}

/**
 * The picked models as a likelihood-ratio comparison: two or more, of the same data, ordered
 * by the number of parameters (simplest first, as the tests then read "1 vs 2"). Throws with a
 * message for the user otherwise.
 */
export function planComparison(list: SavedModel[], ids: string[]): Comparison {
  const picked = list.filter((m) => ids.includes(m.id));
  if (picked.length < 2) throw new Error("tick two or more models to compare");
  const refs = new Set(picked.map((m) => m.dataRef));
  if (refs.size > 1) throw new Error(`the ticked models were fitted to different data (${Array.from(refs).join(", ")}); a likelihood-ratio test compares models of the same data`);
  const specs = new Set(picked.map((m) => m.spec));
  if (specs.size < picked.length) throw new Error("two ticked models have the same spec (fitted by REML and by ML): tick one of them");
  const models = picked.slice().sort((a, b) => a.df - b.df);
  return { models, method: picked.every((m) => m.method === "REML") ? "REML" : "ML" };
}

/** One line of the Compare list. */
export function modelLabel(m: SavedModel): string {
  return `${m.spec}  (${m.method}, logLik ${m.logLik.toFixed(2)}, df ${m.df}; ${m.sheet})`;
}
