// Errors the CLI reports to users. An InputError (bad file, unsupported field, bad flag) exits 2;
// anything else is a bug in asmesh and exits 1.

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Several input errors found in one pass (every unsupported field is reported, not just the first). */
export class InputErrors extends InputError {
  constructor(readonly errors: string[]) {
    super(errors.join('\n'));
  }
}

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_INPUT = 2;
