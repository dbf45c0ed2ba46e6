/**
 * The Firewall page's reads and changes through the API. Every change refetches everything under
 * /api/firewall: a new block can lift narrower ones and shows in the dry run's log, so the rules
 * and the status both move.
 */

import { useApiMutation, useApiQuery } from '../../api/queries';
import type {
  FirewallRule,
  FirewallRuleList,
  FirewallStatus,
  NewRuleBody,
  RuleChangeBody,
} from './firewall-types';

/** How often the page asks again: blocks come and go by themselves (policy, expiry). */
const REFRESH_MS = 5000;
const INVALIDATES = ['/api/firewall'] as const;

/** The rules in force, or with `history` the latest 1000 including lifted and expired ones. */
export function useFirewallRules(history: boolean) {
  return useApiQuery<FirewallRuleList>(`/api/firewall/rules${history ? '?all=true' : ''}`, REFRESH_MS);
}

export function useFirewallStatus() {
  return useApiQuery<FirewallStatus>('/api/firewall/status', REFRESH_MS);
}

export function useAddRule() {
  return useApiMutation<NewRuleBody, FirewallRule>({
    method: 'POST',
    path: () => '/api/firewall/rules',
    body: (rule) => rule,
    invalidates: INVALIDATES,
  });
}

export function useChangeRule() {
  return useApiMutation<{ id: number; change: RuleChangeBody }, FirewallRule>({
    method: 'PATCH',
    path: ({ id }) => `/api/firewall/rules/${id}`,
    body: ({ change }) => change,
    invalidates: INVALIDATES,
  });
}

export function useRemoveRule() {
  return useApiMutation<number, FirewallRule>({
    method: 'DELETE',
    path: (id) => `/api/firewall/rules/${id}`,
    invalidates: INVALIDATES,
  });
}

export function useSetAutoBlock() {
  return useApiMutation<boolean, { enabled: boolean }>({
    method: 'PUT',
    path: () => '/api/firewall/auto-block',
    body: (enabled) => ({ enabled }),
    invalidates: INVALIDATES,
  });
}
