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
