/**
 * Every page of the dashboard: its path, its name in the navigation, the least role that sees it,
 * and its component. Pages other than the overview load when first opened, so the first paint
 * carries only the overview.
 */

import { lazy, type ComponentType } from 'react';
import type { Role } from './api/api-types';
import { OverviewPage } from './features/overview/OverviewPage';

export interface PageRoute {
  path: string;
  /** The navigation's label; pages without one (a detail) are reached by links. */
  nav?: string;
  role: Role;
  page: ComponentType<Record<string, string>>;
}

function page<P extends Record<string, string>>(
  load: () => Promise<ComponentType<P>>,
): ComponentType<Record<string, string>> {
  return lazy(async () => ({ default: (await load()) as ComponentType<Record<string, string>> }));
}

export const ROUTES: readonly PageRoute[] = [
  { path: '/', nav: 'Overview', role: 'viewer', page: OverviewPage },
  {
    path: '/flows',
    nav: 'Flows',
    role: 'viewer',
    page: page(async () => (await import('./features/flows/FlowsPage')).FlowsPage),
  },
  {
    path: '/hosts/:address',
    role: 'viewer',
    page: page(async () => (await import('./features/flows/HostPage')).HostPage),
  },
  {
    path: '/alerts',
    nav: 'Alerts',
    role: 'viewer',
    page: page(async () => (await import('./features/alerts/AlertsPage')).AlertsPage),
  },
  // Before '/alerts/:id': the first route that matches a path wins.
  {
    path: '/alerts/rules',
    role: 'viewer',
    page: page(async () => (await import('./features/alerts/AlertRulesPage')).AlertRulesPage),
  },
  {
    path: '/alerts/:id',
    role: 'viewer',
    page: page(async () => (await import('./features/alerts/AlertDetailPage')).AlertDetailPage),
  },
  {
    path: '/incidents',
    nav: 'Incidents',
    role: 'viewer',
    page: page(async () => (await import('./features/incidents/IncidentsPage')).IncidentsPage),
  },
  // Before '/incidents/:id', as above.
  {
    path: '/incidents/new',
    role: 'analyst',
    page: page(async () => (await import('./features/incidents/ReportIncidentPage')).ReportIncidentPage),
  },
  {
    path: '/incidents/:id',
    role: 'viewer',
    page: page(async () => (await import('./features/incidents/IncidentDetailPage')).IncidentDetailPage),
  },
  {
    path: '/firewall',
    nav: 'Firewall',
    role: 'viewer',
    page: page(async () => (await import('./features/firewall/FirewallPage')).FirewallPage),
  },
  {
    path: '/scans',
    nav: 'Scanner',
    role: 'viewer',
    page: page(async () => (await import('./features/scanner/ScansPage')).ScansPage),
  },
  {
    path: '/scans/:id',
    role: 'viewer',
    page: page(async () => (await import('./features/scanner/ScanReportPage')).ScanReportPage),
  },
  {
    path: '/system',
    nav: 'System',
    role: 'viewer',
    page: page(async () => (await import('./features/system/SystemPage')).SystemPage),
  },
  {
    path: '/sensors',
    nav: 'Sensors',
    role: 'viewer',
    page: page(async () => (await import('./features/sensors/SensorsPage')).SensorsPage),
  },
  {
    path: '/notifications',
    nav: 'Notifications',
    role: 'admin',
    page: page(async () => (await import('./features/notifications/NotificationsPage')).NotificationsPage),
  },
  {
    path: '/logs',
    nav: 'Logs',
    role: 'admin',
    page: page(async () => (await import('./features/logs/LogsPage')).LogsPage),
  },
  {
    path: '/backups',
    nav: 'Backups',
    role: 'admin',
    page: page(async () => (await import('./features/backups/BackupsPage')).BackupsPage),
  },
  {
    path: '/settings',
    nav: 'Settings',
    role: 'viewer',
    page: page(async () => (await import('./features/settings/SettingsPage')).SettingsPage),
  },
  {
    path: '/account',
    role: 'viewer',
    page: page(async () => (await import('./features/users/AccountPage')).AccountPage),
  },
  {
    path: '/users',
    nav: 'Users',
    role: 'admin',
    page: page(async () => (await import('./features/users/UsersPage')).UsersPage),
  },
];
