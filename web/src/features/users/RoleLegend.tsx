/** What each role may do, in the API's terms, so an admin chooses a role knowing what it grants. */

import { RoleTag } from './RoleTag';
import { ROLE_ABILITIES, ROLES } from './user-rules';

export function RoleLegend() {
  return (
    <dl className="role-legend">
      {ROLES.map((role) => (
        <div key={role}>
          <dt>
            <RoleTag role={role} />
          </dt>
          <dd>{ROLE_ABILITIES[role]}</dd>
        </div>
      ))}
    </dl>
  );
}
