import { describe, expect, it } from 'vitest';
import {
  endpointText,
  filterSockets,
  ownerCommands,
  ownerNames,
  ownerPids,
  ownerUsers,
  sortConnections,
  sortListening,
} from './socket-view';
import type { SocketEntry, SocketOwner } from './system-types';

const owner = (pid: number, name: string, user = 'root'): SocketOwner => ({
  pid,
  name,
  user,
  uid: user === 'root' ? 0 : 1000,
  command: `/usr/bin/${name} --serve`,
});

const socket = (fields: Partial<SocketEntry>): SocketEntry => ({
  protocol: 'tcp',
  ipVersion: 4,
  localAddress: '0.0.0.0',
  localPort: 22,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  state: 'LISTEN',
  inode: 1,
  uid: 0,
  owners: [],
  ...fields,
});

const SSH = socket({ inode: 1, localPort: 22, owners: [owner(812, 'sshd')] });
const SSH6 = socket({
  inode: 2,
  ipVersion: 6,
  localAddress: '::',
  localPort: 22,
  owners: [owner(812, 'sshd')],
});
const NGINX = socket({
  inode: 3,
  localPort: 443,
  owners: [
    owner(900, 'nginx'),
    owner(901, 'nginx', 'www-data'),
    owner(902, 'nginx', 'www-data'),
    owner(903, 'nginx', 'www-data'),
  ],
});
const DNS = socket({
  inode: 4,
  protocol: 'udp',
  localAddress: '127.0.0.53',
  localPort: 53,
  state: 'UNCONN',
  uid: 101,
});
const CURL = socket({
  inode: 5,
  localAddress: '192.0.2.10',
  localPort: 40_000,
  remoteAddress: '198.51.100.7',
  remotePort: 443,
  state: 'ESTAB',
  uid: 1000,
  owners: [owner(4242, 'curl', 'alice')],
});
const WAIT = socket({
  inode: 6,
  localAddress: '192.0.2.10',
  localPort: 22,
  remoteAddress: '203.0.113.9',
  remotePort: 51_000,
  state: 'TIME-WAIT',
});

describe('socket lists', () => {
  it('writes endpoints as ss does, IPv6 in brackets and port 0 as any', () => {
    expect(endpointText('192.0.2.1', 22)).toBe('192.0.2.1:22');
    expect(endpointText('::', 22)).toBe('[::]:22');
    expect(endpointText('0.0.0.0', 0)).toBe('0.0.0.0:*');
  });

  it('names the processes behind a socket once each, with their pids and users', () => {
    expect(ownerNames(NGINX.owners)).toBe('nginx');
    expect(ownerPids(SSH.owners)).toBe('812');
    expect(ownerPids(NGINX.owners)).toBe('900, 901, 902 +1');
    expect(ownerUsers(NGINX)).toBe('root, www-data');
    expect(ownerUsers(DNS)).toBe('uid 101');
    expect(ownerCommands(SSH.owners)).toBe('812: /usr/bin/sshd --serve');
  });

  it('filters on every word, anywhere: protocol, endpoint, state, process, pid, user', () => {
    const all = [SSH, SSH6, NGINX, DNS, CURL, WAIT];
    expect(filterSockets(all, '')).toEqual(all);
    expect(filterSockets(all, '  ')).toEqual(all);
    expect(filterSockets(all, 'NGINX')).toEqual([NGINX]);
    expect(filterSockets(all, 'www-data')).toEqual([NGINX]);
    expect(filterSockets(all, '4242')).toEqual([CURL]);
    expect(filterSockets(all, 'udp')).toEqual([DNS]);
    expect(filterSockets(all, ':22 listen')).toEqual([SSH, SSH6]);
    expect(filterSockets(all, 'alice estab')).toEqual([CURL]);
    expect(filterSockets(all, 'alice time-wait')).toEqual([]);
    expect(filterSockets(all, 'uid 101')).toEqual([DNS]);
  });

  it('lists listeners by port and connections established first', () => {
    expect(sortListening([NGINX, DNS, SSH6, SSH])).toEqual([SSH, SSH6, DNS, NGINX]);
    expect(sortConnections([WAIT, CURL])).toEqual([CURL, WAIT]);
  });
});
