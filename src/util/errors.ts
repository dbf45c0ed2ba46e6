/**
 * FlowTrack's one error type. Every error a user can see carries a code from `ErrorCode`, a message
 * that says what was wrong and what to do, and the original error as `cause`.
 * Never put secrets in a message: messages are logged and shown.
 */

export const ErrorCode = {
  /** The input is not a pcap or pcapng capture (magic number unknown). */
  NOT_A_CAPTURE: 'NOT_A_CAPTURE',
  /** The capture's file header is present but unusable (e.g. truncated). */
  BAD_CAPTURE_HEADER: 'BAD_CAPTURE_HEADER',
  /** A file could not be opened or read. */
  IO_ERROR: 'IO_ERROR',
  /** A command-line option or config value is invalid. */
  BAD_OPTION: 'BAD_OPTION',
  /** The service configuration (file or environment) is invalid: the message lists every bad key. */
  BAD_CONFIG: 'BAD_CONFIG',
  /** The message bus (NATS JetStream) is down or refused a message: a hub's or a sensor's link. */
  BUS_ERROR: 'BUS_ERROR',
  /** The database could not be opened, migrated or written. */
  STORE_ERROR: 'STORE_ERROR',
  /** A backup file is corrupt, truncated, of another schema version or not a FlowTrack backup. */
  BAD_BACKUP: 'BAD_BACKUP',
  /** A request's input failed validation (HTTP 400). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** No valid credentials or token (HTTP 401). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** Authenticated, but the role does not allow it (HTTP 403). */
  FORBIDDEN: 'FORBIDDEN',
  /** The thing asked for does not exist (HTTP 404). */
  NOT_FOUND: 'NOT_FOUND',
  /** It would clash with what exists, e.g. a user name taken (HTTP 409). */
  CONFLICT: 'CONFLICT',
  /** Too many requests or failed logins: try again later (HTTP 429). */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FlowTrackError extends Error {
  override readonly name = 'FlowTrackError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Turns anything thrown into one line a person can read (no stack). */
export function describeError(err: unknown): string {
  if (err instanceof FlowTrackError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
