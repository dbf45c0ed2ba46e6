/** The firewall conformance suite (test/helpers/firewall-suite.ts) on nftables. */

import { NftablesFirewall } from '../src/respond/nftables-firewall.js';
import { runFirewallSuite } from './helpers/firewall-suite.js';

runFirewallSuite('nftables', {
  make: (prefix) => new NftablesFirewall({ prefix }),
  tools: ['nft'],
  subnet: '10.79.0',
  foreign: {
    add: ['nft', 'add', 'table', 'inet', 'someone_else'],
    list: [['nft', 'list', 'ruleset']],
    name: 'someone_else',
  },
});
