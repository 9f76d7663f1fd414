// Errors the engine throws on bad input. Every face shows `message` to the user as it is, so a
// message must say what is wrong and what to fix.

/** Bad data: unknown column, text where a number is needed, too few groups, ... */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}

/** A model spec that does not parse. `column` is the 1-based position of the problem in the spec. */
export class SpecError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} (at column ${column})`);
    this.name = "SpecError";
    this.column = column;
  }
}

/** The fit was cancelled through FitOptions.signal. */
export class CancelledError extends Error {
  constructor() {
    super("the fit was cancelled");
    this.name = "CancelledError";
  }
}

/**
 * A failure the engine did not foresee (a TypeError, a RangeError, ...): a bug, never the user's
 * fault, but still reported with a message that says what happened instead of a bare exception.
 */
export class InternalError extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    const e = original as { name?: unknown; message?: unknown } | null;
    const what = e && typeof e.message === "string" ? `${typeof e.name === "string" ? e.name : "Error"}: ${e.message}` : String(original);
    super(`the engine stopped on an unexpected internal error (${what}); this is a bug, not a problem with your data: please report it with the data and the spec`);
    this.name = "InternalError";
    this.original = original;
  }
}

/** Is this one of the engine's own errors, whose message is meant for the user? */
export function isEngineError(e: unknown): boolean {
  return e instanceof DataError || e instanceof SpecError || e instanceof CancelledError || e instanceof InternalError;
}

/** `f` with every unexpected exception turned into an InternalError (the engine's public entry points). */
export function guarded<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    try {
      return f(...args);
    } catch (e) {
      throw isEngineError(e) ? e : new InternalError(e);
    }
  };
}
