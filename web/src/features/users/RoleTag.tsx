/** A role as a small label, coloured by how much it may change. */

import type { Role } from '../../api/api-types';

export function RoleTag({ role }: { role: Role }) {
  return <span className={`tag tag-role-${role}`}>{role}</span>;
}
