/**
 * GET /metrics of a real server (real HTTP), scraped as Prometheus does and parsed by an
 * independent parser of the text format: the Prometheus project's own Python client (Debian's
 * python3-prometheus-client), every line also checked against the exposition format's grammar.
 * Loopback clients are served; another address (taken from X-Forwarded-For behind a trusted
 * proxy) is refused unless it sends metrics.token, and the refusal is in the security log.
 */

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/api-server.js';
import { describeUnlessMissing } from './helpers/system-tools.js';

const PYTHON = '/usr/bin/python3';
const hasParser = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import prometheus_client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Family {
  name: string;
  type: string;
  samples: { name: string; labels: Record<string, string>; value: number | string }[];
}

/** The families the official Python client's parser reads in `text` (it throws on bad text). */
function parseWithPrometheusClient(text: string): Family[] {
  const script = [
    'import json, math, sys',
    'from prometheus_client.parser import text_string_to_metric_families',
    'out = []',
    'for f in text_string_to_metric_families(sys.stdin.read()):',
    '    out.append({"name": f.name, "type": f.type, "samples": [',
    '        {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)}',
    '        for s in f.samples]})',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: text, encoding: 'utf8' })) as Family[];
}

const TOKEN = 'scrape-token-4f1c9a7e2b';
let t: TestServer;

async function scrape(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.server.url}/metrics`, { headers });
}

/** The text format's line grammar: a comment (HELP, TYPE, other) or a sample. */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
const SAMPLE = new RegExp(
  `^${NAME}(\\{([a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})(,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*,?\\})? ` +
    '(-?[0-9.]+(e[+-]?[0-9]+)?|[+-]Inf|NaN)( -?[0-9]+)?$',
);
const COMMENT = new RegExp(`^# (HELP ${NAME} .*|TYPE ${NAME} (counter|gauge|histogram|summary|untyped))$`);

describeUnlessMissing(
  hasParser ? null : `the Python module prometheus_client for ${PYTHON}`,
  'install the Debian package python3-prometheus-client (scripts/setup.sh --test does)',
  'GET /metrics (real HTTP)',
  () => {
    beforeAll(async () => {
      t = await startTestServer({ FLOWTRACK_METRICS_TOKEN: TOKEN, FLOWTRACK_SERVER_TRUST_PROXY: 'true' });
    }, 60_000);
    afterAll(async () => {
      await t.close();
    });

    it('serves a loopback scraper the Prometheus text format, with the figures named in the issue', async () => {
      // Some API traffic to time.
      await t.request('GET', '/api/health');
      await t.request('GET', '/api/anomalies');
      const res = await scrape();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      const bad = text.split('\n').filter((line) => line !== '' && !SAMPLE.test(line) && !COMMENT.test(line));
      expect(bad).toEqual([]);

      // The Python client names a counter's family without its _total suffix.
      const families = new Map(parseWithPrometheusClient(text).map((f) => [f.name, f]));
      const typeOf = (name: string) => families.get(name)?.type;
      expect(typeOf('flowtrack_capture_packets')).toBe('counter');
      expect(typeOf('flowtrack_capture_kernel_dropped')).toBe('counter');
      expect(typeOf('flowtrack_capture_up')).toBe('gauge');
      expect(typeOf('flowtrack_live_packets_per_second')).toBe('gauge');
      expect(typeOf('flowtrack_store_rows_written')).toBe('counter');
      expect(typeOf('flowtrack_store_queue_depth')).toBe('gauge');
      expect(typeOf('flowtrack_alert_updates')).toBe('counter');
      expect(typeOf('flowtrack_notification_queue_depth')).toBe('gauge');
      expect(typeOf('flowtrack_notifications')).toBe('counter');
      expect(typeOf('flowtrack_process_cpu_seconds')).toBe('counter');
      expect(typeOf('flowtrack_nodejs_eventloop_lag_seconds')).toBe('gauge');

      const latency = families.get('flowtrack_api_request_duration_seconds');
      expect(latency?.type).toBe('histogram');
      const sample = (suffix: string) =>
        latency?.samples.find(
          (s) =>
            s.name === `flowtrack_api_request_duration_seconds${suffix}` &&
            s.labels.route === '/api/anomalies' &&
            s.labels.method === 'GET' &&
            (suffix !== '_bucket' || s.labels.le === '+Inf'),
        );
      // Without a token: 401, counted under the route as declared, not the URL.
      expect(sample('_count')?.labels.status).toBe('401');
      expect(sample('_count')?.value).toBeGreaterThanOrEqual(1);
      expect(sample('_bucket')?.value).toBe(sample('_count')?.value);
      const written = families.get('flowtrack_store_rows_written')?.samples ?? [];
      expect(written.map((s) => s.labels.kind).sort()).toEqual(['alerts', 'flows']);
      const outcomes = families.get('flowtrack_notifications')?.samples.map((s) => s.labels.outcome);
      expect(outcomes?.sort()).toEqual(['digest', 'failed', 'queued', 'retried', 'sent']);
      expect(families.get('flowtrack_notification_queue_depth')?.samples[0]?.value).toBe(0);
    });

    it('refuses another host without the token, in the security log, and serves it with the token', async () => {
      const away = { 'x-forwarded-for': '203.0.113.9' };
      const refused = await scrape(away);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('metrics token');
      expect((await scrape({ ...away, authorization: 'Bearer wrong-token' })).status).toBe(403);
      const served = await scrape({ ...away, authorization: `Bearer ${TOKEN}` });
      expect(served.status).toBe(200);
      expect(await served.text()).toContain('flowtrack_store_queue_depth');
      const admin = await t.signIn('ada', 'admin');
      let events: { user?: string; required?: string; ip?: string }[] = [];
      for (let i = 0; i < 20 && events.length === 0; i++) {
        const res = await t.request('GET', '/api/logs/security?kind=forbidden&limit=100', {
          token: admin.accessToken,
        });
        events = (res.body as { entries: typeof events }).entries.filter((e) => e.required === 'metrics');
        if (events.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(events.some((e) => e.ip === '203.0.113.9')).toBe(true);
    });
  },
);
