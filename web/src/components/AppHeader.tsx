/** The bar on every page: the product, the pages this role may open, who is signed in, sign-out. */

import type { SessionUser } from '../api/api-types';
import { hasRole } from '../api/session';
import { Link, useLocation } from '../lib/router';
import { ROUTES } from '../routes';

export function AppHeader({ user, onSignOut }: { user: SessionUser; onSignOut: () => void }) {
  const { path } = useLocation();
  const current = (routePath: string): boolean =>
    routePath === '/' ? path === '/' : path === routePath || path.startsWith(`${routePath}/`);
  return (
    <header className="app-header">
      <Link className="brand" to="/">
        <img src="/favicon.svg" alt="" width="24" height="24" />
        FlowTrack
      </Link>
      <nav aria-label="Pages">
        <ul className="nav">
          {ROUTES.filter((route) => route.nav !== undefined && hasRole(user, route.role)).map((route) => (
            <li key={route.path}>
              <Link to={route.path} {...(current(route.path) && { 'aria-current': 'page' as const })}>
                {route.nav}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="who">
        <Link className="user-name" to="/account" title="Your account and password">
          {user.username}
        </Link>
        <span className={`role role-${user.role}`}>{user.role}</span>
        <button type="button" className="button-quiet" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
