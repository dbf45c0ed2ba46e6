/** The firewall conformance suite (test/helpers/firewall-suite.ts) on iptables with ipset. */

import { IptablesFirewall } from '../src/respond/iptables-firewall.js';
import { runFirewallSuite } from './helpers/firewall-suite.js';

runFirewallSuite('iptables and ipset', {
  make: (prefix) => new IptablesFirewall({ prefix }),
  tools: ['iptables', 'ip6tables', 'ipset'],
  subnet: '10.80.0',
  foreign: {
    add: ['iptables', '-N', 'SOMEONE_ELSE'],
    list: [
      ['iptables', '-S'],
      ['ip6tables', '-S'],
      ['ipset', 'list', '-n'],
    ],
    name: 'SOMEONE_ELSE',
  },
});
