/**
 * Tests that need a system tool (tshark, tcpdump, nft, ...) find it installed by .ci/run. On a
 * developer's machine without it the suite is skipped with a name that says what is missing;
 * under CI (CI=true) a missing tool fails the run, so nothing is skipped silently.
 */

import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

const found = new Map<string, boolean>();

/** True when `tool` is on the PATH. */
export function hasTool(tool: string): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    found.set(tool, ok);
  }
  return ok;
}

/**
 * `describe` that runs only when nothing it needs is `missing`: otherwise skipped with a name that
 * says what is missing and how to get it, and under CI (CI=true) a failing test instead.
 */
export function describeUnlessMissing(
  missing: string | null,
  howToGet: string,
  name: string,
  body: () => void,
): void {
  if (missing === null) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${missing}`, () => {
        throw new Error(`${missing} is missing under CI: ${howToGet}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${missing} is missing; ${howToGet})`, body);
  }
}

/** `describe` that runs only when every tool is installed (see the module comment). */
export function describeWithTools(tools: readonly string[], name: string, body: () => void): void {
  const missing = tools.filter((t) => !hasTool(t));
  describeUnlessMissing(
    missing.length === 0 ? null : missing.join(', '),
    '.ci/run installs it: run scripts/setup.sh --test',
    name,
    body,
  );
}
