/**
 * The Scanner pages' reads and changes through the API. Starting or cancelling a scan refetches
 * everything under /api/scans (the list and the scan's page); closing a port refetches the
 * firewall's views, where the new rule shows.
 */

import { useApiMutation, useApiQuery } from '../../api/queries';
import { closePortBody } from './close-port';
import { listRefreshMs, reportRefreshMs, scanListPath } from './scan-format';
import type {
  CreatedCloseRule,
  Finding,
  NewScanBody,
  ScanListPage,
  ScanRecord,
  ScanStatus,
} from './scan-types';

const SCANS = ['/api/scans'] as const;

/** One page of the list, every 2 s while a scan on it is queued or running, else every 15 s. */
export function useScanList(status: ScanStatus | undefined, cursor: string | undefined) {
  return useApiQuery<ScanListPage>(scanListPath(status, cursor), listRefreshMs);
}

/** One scan with its report: every second until it ends, then no more. */
export function useScan(id: string) {
  return useApiQuery<ScanRecord>(`/api/scans/${encodeURIComponent(id)}`, reportRefreshMs);
}

export function useStartScan() {
  return useApiMutation<NewScanBody, ScanRecord>({
    method: 'POST',
    path: () => '/api/scans',
    body: (scan) => scan,
    invalidates: SCANS,
  });
}

export function useCancelScan(id: string) {
  return useApiMutation<undefined, { id: string; cancelled: boolean }>({
    method: 'POST',
    path: () => `/api/scans/${encodeURIComponent(id)}/cancel`,
    invalidates: SCANS,
  });
}

export function useClosePort(scanId: string) {
  return useApiMutation<Finding, CreatedCloseRule>({
    method: 'POST',
    path: () => '/api/firewall/rules',
    body: (finding) => closePortBody(scanId, finding),
    invalidates: ['/api/firewall'],
  });
}
