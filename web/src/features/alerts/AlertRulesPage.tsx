/**
 * The alert rules (/alerts/rules): suppression rules that mute known, harmless alerts for a while
 * (analysts add and remove them) and per-type severity overrides (admins set them). Everyone who
 * sees alerts sees the rules, so a quiet alert list can be explained.
 */

import './alerts.css';
import { Link } from '../../lib/router';
import { SeverityOverridesPanel } from './SeverityOverridesPanel';
import { SuppressionRulesPanel } from './SuppressionRulesPanel';

export function AlertRulesPage() {
  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="alert-back">
        <Link to="/alerts">← All alerts</Link>
      </nav>
      <header className="page-header">
        <h1>Alert rules</h1>
      </header>
      <SuppressionRulesPanel />
      <SeverityOverridesPanel />
    </div>
  );
}
