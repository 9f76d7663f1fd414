// How long the phases of the last operations took (reading, converting, sending to the worker,
// the worker's parts, writing), kept on the page's global object so the pane benchmark and a
// curious user (the browser console: __lmmPhases) can read them. Only the most recent entries
// are kept.
export interface Phase {
  name: string;
  ms: number;
  /** When it was recorded (performance.now(), ms). */
  at: number;
}

const KEEP = 200;

export function phaseLog(): Phase[] {
  const g = globalThis as unknown as { __lmmPhases?: Phase[] };
  return (g.__lmmPhases ??= []);
}

export function recordPhase(name: string, ms: number): void {
  const log = phaseLog();
  log.push({ name, ms, at: clockMs() });
  if (log.length > KEEP) log.splice(0, log.length - KEEP);
}

export const clockMs = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());
