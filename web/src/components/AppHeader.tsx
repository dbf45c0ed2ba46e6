/** The bar on every page: the product, who is signed in with which role, and sign-out. */

import type { SessionUser } from '../api/api-types';

export function AppHeader({ user, onSignOut }: { user: SessionUser; onSignOut: () => void }) {
  return (
    <header className="app-header">
      <a className="brand" href="/">
        <img src="/favicon.svg" alt="" width="24" height="24" />
        FlowTrack
      </a>
      <div className="who">
        <span className="user-name">{user.username}</span>
        <span className={`role role-${user.role}`}>{user.role}</span>
        <button type="button" className="button-quiet" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
