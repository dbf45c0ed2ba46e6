/**
 * One TCP connection attempt at a time, as cheaply as Node allows: the adapter between the TCP
 * scanner and the operating system's connect(). A full-connect scan needs no privilege, and the
 * kernel does the handshake: an accepted connection is an open port, a reset a closed one.
 *
 * Two implementations. `libuvConnector` drives libuv's TCP handle (Node's `tcp_wrap` binding)
 * directly: no net.Socket, no stream, no event emitter per attempt. Measured here on all 65,535
 * ports of 127.0.0.1: 1.9 s with it against 5.5 s with net.connect (the same loop, 200 attempts
 * in flight), which is the difference between beating `nmap -sT` (1.6 s) and not. The binding is
 * internal to Node, so `netConnector` (public net.Socket API) is the fallback wherever it is
 * missing or changed shape; `tcpConnector()` picks, and `--connector net` forces the fallback.
 *
 * Must never: leave a socket open after its outcome (every handle is closed exactly once), or
 * send anything on an accepted connection (the scanner only asks whether the port accepts).
 */

import { Socket } from 'node:net';
import { constants } from 'node:os';

/**
 * What an attempt ended in:
 * - open: the connection was accepted;
 * - refused: a reset came back (ECONNREFUSED): nothing listens;
 * - unreachable: the kernel knows no way or got ICMP unreachable (EHOSTUNREACH, ENETUNREACH);
 * - busy: this machine ran out of something (descriptors, ephemeral ports, buffers): try later;
 * - error: anything else (its errno name in `ConnectOutcome.errno`).
 * A timeout is the scanner's decision, not an outcome: it cancels the attempt.
 */
export type ConnectResult = 'open' | 'refused' | 'unreachable' | 'busy' | 'error';

export interface ConnectOutcome {
  result: ConnectResult;
  /** The errno name (ECONNREFUSED, EHOSTUNREACH, ...) for anything but open. */
  errno?: string;
}

/** A started attempt; `cancel` closes it without calling back (a timeout). */
export interface ConnectAttempt {
  cancel(): void;
}

export interface TcpConnector {
  readonly kind: 'libuv' | 'net';
  /**
   * Starts connecting; `done(outcome, context)` is called once, later (never from inside this
   * call), unless cancelled. The context saves the caller a closure per attempt.
   */
  connect<C>(
    address: string,
    family: 4 | 6,
    port: number,
    done: (outcome: ConnectOutcome, context: C) => void,
    context: C,
  ): ConnectAttempt;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** Outcome of an errno name. */
export function outcomeOfErrno(errno: string): ConnectOutcome {
  switch (errno) {
    case 'ECONNREFUSED':
      return { result: 'refused', errno };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return { result: 'unreachable', errno };
    case 'EMFILE':
    case 'ENFILE':
    case 'ENOBUFS':
    case 'ENOMEM':
    case 'EADDRNOTAVAIL':
    case 'EAGAIN':
      return { result: 'busy', errno };
    default:
      return { result: 'error', errno };
  }
}

const OPEN: ConnectOutcome = Object.freeze({ result: 'open' });
const REFUSED: ConnectOutcome = Object.freeze({ result: 'refused', errno: 'ECONNREFUSED' });

/** libuv status (0 or a negative errno) as an outcome; the two common ones are shared objects. */
function outcomeOfStatus(status: number): ConnectOutcome {
  if (status === 0) return OPEN;
  if (status === -constants.errno.ECONNREFUSED) return REFUSED;
  return outcomeOfErrno(ERRNO_NAMES.get(-status) ?? `E${String(-status)}`);
}

/** The few members of Node's internal tcp_wrap binding this file uses (declared here, as we do not own it). */
interface TcpWrapBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectRequest;
  constants: { SOCKET: number };
}
interface TcpHandle {
  connect(req: ConnectRequest, address: string, port: number): number;
  connect6(req: ConnectRequest, address: string, port: number): number;
  close(callback?: () => void): void;
}
interface ConnectRequest {
  oncomplete: (status: number) => void;
  address: string;
  port: number;
  attempt: LibuvAttempt | null;
}

/** One attempt: its handle and request, and whom to tell. A class, so that no closure is made per attempt. */
class LibuvAttempt implements ConnectAttempt {
  done: ((outcome: ConnectOutcome, context: unknown) => void) | null;

  constructor(
    readonly handle: TcpHandle,
    readonly req: ConnectRequest,
    done: (outcome: ConnectOutcome, context: unknown) => void,
    readonly context: unknown,
  ) {
    this.done = done;
  }

  cancel(): void {
    if (this.done === null) return;
    this.done = null;
    this.req.attempt = null;
    this.handle.close();
  }
}

/** The tcp_wrap binding when it has the shape this file expects; null otherwise. */
function loadTcpWrap(): TcpWrapBinding | null {
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding('tcp_wrap');
    const b = binding as Partial<TcpWrapBinding>;
    if (typeof b.TCP !== 'function' || typeof b.TCPConnectWrap !== 'function') return null;
    if (typeof b.constants?.SOCKET !== 'number') return null;
    const probe = new b.TCP(b.constants.SOCKET);
    const ok = typeof probe.connect === 'function' && typeof probe.connect6 === 'function';
    probe.close();
    return ok ? (b as TcpWrapBinding) : null;
  } catch {
    return null;
  }
}

function onComplete(this: ConnectRequest, status: number): void {
  const attempt = this.attempt;
  if (!attempt) return;
  this.attempt = null;
  const done = attempt.done;
  attempt.done = null;
  attempt.handle.close();
  done?.(outcomeOfStatus(status), attempt.context);
}

/** libuv's TCP handle without net.Socket; null where this Node has no usable tcp_wrap. */
export function libuvConnector(): TcpConnector | null {
  const wrap = loadTcpWrap();
  if (!wrap) return null;
  return {
    kind: 'libuv',
    connect<C>(
      address: string,
      family: 4 | 6,
      port: number,
      done: (outcome: ConnectOutcome, context: C) => void,
      context: C,
    ): ConnectAttempt {
      const handle = new wrap.TCP(wrap.constants.SOCKET);
      const req = new wrap.TCPConnectWrap();
      const attempt = new LibuvAttempt(
        handle,
        req,
        done as (outcome: ConnectOutcome, context: unknown) => void,
        context,
      );
      req.oncomplete = onComplete;
      req.address = address;
      req.port = port;
      req.attempt = attempt;
      const status = family === 6 ? handle.connect6(req, address, port) : handle.connect(req, address, port);
      if (status !== 0) {
        // Refused before it started (no descriptor, no route): report it asynchronously, as promised.
        req.attempt = null;
        attempt.done = null;
        handle.close();
        queueMicrotask(() => {
          done(outcomeOfStatus(status), context);
        });
      }
      return attempt;
    },
  };
}

/** The public net.Socket API: slower (see the header), always there. */
export function netConnector(): TcpConnector {
  return {
    kind: 'net',
    connect(address, family, port, done, context) {
      let finished = false;
      const socket = new Socket();
      const finish = (outcome: ConnectOutcome | null): void => {
        if (finished) return;
        finished = true;
        socket.destroy();
        if (outcome) done(outcome, context);
      };
      socket.once('connect', () => finish({ result: 'open' }));
      socket.once('error', (err: NodeJS.ErrnoException) => finish(outcomeOfErrno(err.code ?? 'EIO')));
      socket.connect({ host: address, port, family });
      return { cancel: () => finish(null) };
    },
  };
}

/** The fastest connector this Node offers, or the one asked for. */
export function tcpConnector(kind: 'auto' | 'libuv' | 'net' = 'auto'): TcpConnector {
  if (kind === 'net') return netConnector();
  const fast = libuvConnector();
  if (fast) return fast;
  if (kind === 'libuv') throw new Error("this Node has no usable tcp_wrap binding: use the 'net' connector");
  return netConnector();
}
