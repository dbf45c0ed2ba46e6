import { describe, expect, it } from 'vitest';
import {
  ariaSort,
  filterChanges,
  flowsApiPath,
  flowsPagePath,
  fromLocalInput,
  graphApiPath,
  readFlowView,
  sortChanges,
  toLocalInput,
} from './flow-filters';

const view = (search: string) => readFlowView(new URLSearchParams(search));

describe('flow filters in the URL', () => {
  it("open exactly what another page's link names", () => {
    const linked = view('address=10.0.0.5&from=1700000000000&to=1700000060000&port=22&protocol=tcp');
    expect(linked).toEqual({
      filters: {
        address: '10.0.0.5',
        from: '1700000000000',
        to: '1700000060000',
        port: '22',
        protocol: 'tcp',
      },
      sort: 'time',
      order: 'desc',
    });
    expect(flowsApiPath(linked)).toBe(
      '/api/flows?address=10.0.0.5&port=22&protocol=tcp&from=1700000000000&to=1700000060000&limit=50',
    );
  });

  it('take the sort and order from their lists only, defaults left out of the API path', () => {
    expect(view('sort=bytes&order=asc')).toMatchObject({ sort: 'bytes', order: 'asc' });
    expect(view('sort=src_addr;drop&order=sideways')).toMatchObject({ sort: 'time', order: 'desc' });
    expect(flowsApiPath(view('sort=duration'), 'abc')).toBe('/api/flows?sort=duration&limit=50&cursor=abc');
    expect(flowsApiPath(view('sort=time&order=asc'))).toBe('/api/flows?order=asc&limit=50');
  });

  it('leave out empty values and unknown keys, and trim', () => {
    expect(view('address=%20&port=&foo=bar&state=%20rejected%20').filters).toEqual({ state: 'rejected' });
  });

  it('give the graph the filters without sort or page', () => {
    expect(graphApiPath(view('address=10.0.0.5&sort=bytes&minBytes=100'))).toBe(
      '/api/flows/graph?address=10.0.0.5&minBytes=100&hosts=25&limit=100',
    );
  });

  it('keep the sensor filter in the URL and send it to the list and the graph', () => {
    const bySensor = view('sensor=exporter%3A192.0.2.1&port=53');
    expect(bySensor.filters).toEqual({ port: '53', sensor: 'exporter:192.0.2.1' });
    expect(flowsApiPath(bySensor)).toBe('/api/flows?port=53&sensor=exporter%3A192.0.2.1&limit=50');
    expect(graphApiPath(view('sensor=local'))).toBe('/api/flows/graph?sensor=local&hosts=25&limit=100');
    expect(filterChanges({ sensor: 'edge-1' })).toMatchObject({ sensor: 'edge-1', address: undefined });
    expect(filterChanges({ sensor: '' })).toMatchObject({ sensor: undefined });
    expect(flowsPagePath({ sensor: 'edge-1' })).toBe('/flows?sensor=edge-1');
  });

  it('set every filter from the form, removing the emptied ones and lower-casing the protocol', () => {
    expect(filterChanges({ address: ' 10.0.0.5 ', protocol: 'UDP', port: '' })).toEqual({
      address: '10.0.0.5',
      port: undefined,
      protocol: 'udp',
      state: undefined,
      from: undefined,
      to: undefined,
      minBytes: undefined,
    });
    expect(flowsPagePath({ address: '2001:db8::1', port: '53', protocol: 'udp' })).toBe(
      '/flows?address=2001%3Adb8%3A%3A1&port=53&protocol=udp',
    );
  });
});

describe('sorting by a header', () => {
  it('flips the sorted column and starts another largest first', () => {
    const byTime = view('');
    expect(sortChanges(byTime, 'time')).toEqual({ sort: undefined, order: 'asc' });
    expect(sortChanges(view('order=asc'), 'time')).toEqual({ sort: undefined, order: undefined });
    expect(sortChanges(byTime, 'bytes')).toEqual({ sort: 'bytes', order: undefined });
    expect(sortChanges(view('sort=bytes'), 'bytes')).toEqual({ sort: 'bytes', order: 'asc' });
    expect(sortChanges(view('sort=bytes&order=asc'), 'packets')).toEqual({
      sort: 'packets',
      order: undefined,
    });
  });

  it('marks only the sorted column for assistive technology', () => {
    const v = view('sort=packets&order=asc');
    expect(ariaSort(v, 'packets')).toBe('ascending');
    expect(ariaSort(v, 'bytes')).toBe('none');
    expect(ariaSort(view(''), 'time')).toBe('descending');
  });
});

describe('datetime-local values', () => {
  it('go to epoch ms and back to the second, in local time', () => {
    const ms = String(new Date(2023, 10, 14, 22, 13, 20).getTime());
    expect(toLocalInput(ms)).toBe('2023-11-14T22:13:20');
    expect(fromLocalInput('2023-11-14T22:13:20')).toBe(ms);
    expect(fromLocalInput('2023-11-14T22:13')).toBe(String(Number(ms) - 20_000));
  });

  it('are empty or undefined for what does not read as a time', () => {
    expect(toLocalInput(undefined)).toBe('');
    expect(toLocalInput('yesterday')).toBe('');
    expect(fromLocalInput('')).toBeUndefined();
    expect(fromLocalInput('2023-13-45T99:99')).toBeUndefined();
  });
});
