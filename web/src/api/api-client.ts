/**
 * Every call the dashboard makes to the API goes through here: the access token is kept in
 * memory only, the refresh token in sessionStorage (it survives a reload of this tab, not the
 * tab), and a 401 is answered by one refresh and one retry. Refresh tokens rotate and the server
 * ends the whole login when an old one is used again, so concurrent 401s share one refresh.
 */

import type { ErrorBody, SessionUser, TokenResponse } from './api-types';

export const REFRESH_TOKEN_KEY = 'flowtrack.refreshToken';

/** A refused or failed request, with the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientDeps {
  fetch: typeof fetch;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Called when the user signs in or out, or the session ends (with why). */
  onSessionChange: (user: SessionUser | null, reason?: string) => void;
}

export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<SessionUser | false> | null = null;

  constructor(private readonly deps: ApiClientDeps) {}

  /** Signs in; throws ApiError with the server's message (wrong password, locked out). */
  async login(username: string, password: string): Promise<SessionUser> {
    const res = await this.deps.fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw await toApiError(res);
    return this.signedIn((await res.json()) as TokenResponse);
  }

  /** Whether the server still waits for its first admin (then the sign-in page offers setup). */
  async setupNeeded(): Promise<boolean> {
    const res = await this.deps.fetch('/api/auth/setup');
    if (!res.ok) throw await toApiError(res);
    return ((await res.json()) as { needed: boolean }).needed;
  }

  /** Creates the first admin with the server's one-time setup token, and signs in as it. */
  async setup(setupToken: string, username: string, password: string): Promise<SessionUser> {
    const res = await this.deps.fetch('/api/auth/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setupToken, username, password }),
    });
    if (!res.ok) throw await toApiError(res);
    return this.signedIn((await res.json()) as TokenResponse);
  }

  /** Picks up this tab's session after a reload; null when there is none (or it has ended). */
  async resume(): Promise<SessionUser | null> {
    if (this.deps.storage.getItem(REFRESH_TOKEN_KEY) === null) return null;
    const user = await this.refreshOnce();
    return user === false ? null : user;
  }

  /** Ends the session on the server (best effort) and here. */
  async logout(): Promise<void> {
    const refreshToken = this.deps.storage.getItem(REFRESH_TOKEN_KEY);
    if (refreshToken !== null && this.accessToken !== null) {
      await this.deps
        .fetch('/api/auth/logout', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.accessToken}` },
          body: JSON.stringify({ refreshToken }),
        })
        .catch(() => undefined);
    }
    this.ended(null);
  }

  /** GETs JSON from the API as the signed-in user. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.authorized(path, signal === undefined ? {} : { signal });
    if (!res.ok) throw await toApiError(res);
    return (await res.json()) as T;
  }

  /**
   * Sends a change (POST, PUT, PATCH, DELETE) with an optional JSON body as the signed-in user;
   * returns the answer's JSON, or null for an empty answer. Throws ApiError with the server's
   * message (a refused block says why).
   */
  async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.authorized(path, {
      method,
      ...(body !== undefined && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    });
    if (!res.ok) throw await toApiError(res);
    const text = await res.text();
    return (text === '' ? null : JSON.parse(text)) as T;
  }

  /** GETs a file (an evidence capture, a backup) as the signed-in user, with its file name. */
  async download(path: string): Promise<{ blob: Blob; filename: string }> {
    const res = await this.authorized(path, {});
    if (!res.ok) throw await toApiError(res);
    const disposition = res.headers.get('content-disposition') ?? '';
    const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? path.split('/').pop() ?? 'download';
    return { blob: await res.blob(), filename };
  }

  /** Opens a streamed response (server-sent events) as the signed-in user. */
  async openStream(path: string, signal: AbortSignal): Promise<Response> {
    const res = await this.authorized(path, { signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || res.body === null) throw await toApiError(res);
    return res;
  }

  /** The request with the access token; on 401, one refresh and one retry. */
  private async authorized(path: string, init: RequestInit): Promise<Response> {
    const send = (): Promise<Response> =>
      this.deps.fetch(path, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          authorization: `Bearer ${this.accessToken ?? ''}`,
        },
      });
    if (this.accessToken === null && !(await this.refreshOnce())) throw sessionEnded();
    const first = await send();
    if (first.status !== 401) return first;
    if (!(await this.refreshOnce())) throw sessionEnded();
    const second = await send();
    if (second.status === 401) {
      this.ended('the session has ended: sign in again');
      throw sessionEnded();
    }
    return second;
  }

  /** One refresh at a time, shared by every caller that needs it; false when the session is over. */
  private refreshOnce(): Promise<SessionUser | false> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<SessionUser | false> {
    const refreshToken = this.deps.storage.getItem(REFRESH_TOKEN_KEY);
    if (refreshToken === null) return false;
    const res = await this.deps.fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    });
    if (res.status === 401) {
      this.ended((await toApiError(res)).message);
      return false;
    }
    // Anything else (rate limited, server down): the session may still be good; say so, keep it.
    if (!res.ok) throw await toApiError(res);
    return this.signedIn((await res.json()) as TokenResponse);
  }

  private signedIn(tokens: TokenResponse): SessionUser {
    this.accessToken = tokens.accessToken;
    this.deps.storage.setItem(REFRESH_TOKEN_KEY, tokens.refreshToken);
    this.deps.onSessionChange(tokens.user);
    return tokens.user;
  }

  private ended(reason: string | null): void {
    const wasSignedIn = this.accessToken !== null || this.deps.storage.getItem(REFRESH_TOKEN_KEY) !== null;
    this.accessToken = null;
    this.deps.storage.removeItem(REFRESH_TOKEN_KEY);
    if (wasSignedIn) this.deps.onSessionChange(null, reason ?? undefined);
  }
}

function sessionEnded(): ApiError {
  return new ApiError(401, 'UNAUTHORIZED', 'the session has ended: sign in again');
}

/** The API's error body as an ApiError; a proxy's HTML page or an empty body as its status. */
async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.message === 'string')
      return new ApiError(res.status, body.error ?? 'ERROR', body.message);
  } catch {
    // not JSON
  }
  return new ApiError(res.status, 'HTTP_ERROR', `the server answered ${res.status} ${res.statusText}`.trim());
}
