import { describe, expect, it } from 'vitest';

import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { ROLES, assertRoleAllows, isRole, roleAllows } from './roles.js';

describe('roles', () => {
  it('orders viewer < analyst < admin', () => {
    expect(roleAllows('viewer', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'analyst')).toBe(false);
    expect(roleAllows('viewer', 'admin')).toBe(false);
    expect(roleAllows('analyst', 'viewer')).toBe(true);
    expect(roleAllows('analyst', 'analyst')).toBe(true);
    expect(roleAllows('analyst', 'admin')).toBe(false);
    for (const required of ROLES) expect(roleAllows('admin', required)).toBe(true);
  });

  it('recognises role names and nothing else', () => {
    for (const role of ROLES) expect(isRole(role)).toBe(true);
    for (const other of ['Admin', 'root', '', 'toString', '__proto__', 2, null, undefined, {}]) {
      expect(isRole(other)).toBe(false);
    }
  });

  it('refuses a lower role with FORBIDDEN', () => {
    expect(() => {
      assertRoleAllows('analyst', 'admin');
    }).toThrow(expect.objectContaining({ code: ErrorCode.FORBIDDEN }) as FlowTrackError);
    expect(() => {
      assertRoleAllows('admin', 'analyst');
    }).not.toThrow();
  });
});
