/** FlowTrack's version, from package.json (two folders up from both src/util and dist/util). */

import { createRequire } from 'node:module';

export const PRODUCT_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;
