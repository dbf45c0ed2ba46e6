/**
 * The dashboard on the API's port: the files of the Vite build (dist/web) for every path outside
 * /api, index.html for the dashboard's own routes (`/alerts`) so that a reload or a bookmark
 * works, hashed assets cached for a year and index.html never cached (a new build is picked up at
 * once). Without a build the server still runs: pages answer 404 with what to do. It never
 * answers for /api: an unknown API route keeps the API's JSON 404.
 */

import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Api } from './api-context.js';

/** Where `npm run build` puts the dashboard; the same from src/api (tests) and dist/api. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** What a page request gets when the dashboard was not built. */
export const WEB_NOT_BUILT_MESSAGE =
  'The FlowTrack dashboard is not built: run `npm run build`, then start `flowtrack serve` again (the API is at /api).';

/** Vite names what it builds into assets/ after a hash of the content: safe to cache for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Answers a GET or HEAD outside /api that no route matched; given to the not-found handler. */
export type PageFallback = (request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** True for a path the API owns (`/api`, `/api/...`), whatever the dashboard does. */
export function isApiPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/api' || path.startsWith('/api/');
}

/** The file types a dashboard build holds. */
const BUILT_FILE = /\.(?:html|js|mjs|css|map|json|svg|png|ico|jpe?g|webp|txt|webmanifest|woff2?)$/i;

/** True when `root` holds a dashboard build. */
export function hasWebBuild(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/**
 * What the not-found handler does with a page request: index.html of the build in `root` for a
 * dashboard route, a plain 404 for a missing file, and without a build, what to do.
 */
export function pageFallback(root: string): PageFallback {
  if (!hasWebBuild(root)) {
    return (_request, reply) =>
      reply.code(404).type('text/plain; charset=utf-8').send(`${WEB_NOT_BUILT_MESSAGE}\n`);
  }
  return (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // `/assets/gone.js` is a missing file, not a page: answering it with HTML would hide the error.
    // Only a file type the build makes counts: `/hosts/10.0.0.5` is a page.
    if (BUILT_FILE.test(path)) {
      return reply.code(404).type('text/plain; charset=utf-8').send(`no file ${path}\n`);
    }
    return reply.header('cache-control', REVALIDATE).sendFile('index.html');
  };
}

/** Serves the files of the build in `root`, if it has one. */
export async function registerWebFiles(app: Api, root: string): Promise<void> {
  if (!hasWebBuild(root)) return;
  const assets = resolve(root, 'assets');
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per built file, listed once at start: no file-system lookup for arbitrary paths.
    // A new build needs a restart, as a new server build does.
    wildcard: false,
    cacheControl: false,
    dotfiles: 'ignore',
    setHeaders: (reply, file) => {
      const hashed = relative(assets, file).split(sep)[0] !== '..';
      void reply.header('cache-control', hashed ? IMMUTABLE : REVALIDATE);
    },
  });
}
