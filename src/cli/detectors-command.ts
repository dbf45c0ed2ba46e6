/**
 * `flowtrack detectors`: lists every detector with its options and defaults, the names that
 * `analyze --set detector.option=value` accepts.
 */

import { Command } from 'commander';
import { DETECTOR_FACTORIES } from '../detect/detector-registry.js';

export function detectorsCommand(): Command {
  return new Command('detectors').description('List the attack detectors and their options').action(() => {
    const lines: string[] = [];
    for (const f of DETECTOR_FACTORIES) {
      lines.push(`${f.name}: ${f.description}`);
      for (const [option, value] of Object.entries(f.defaults)) {
        lines.push(`  ${f.name}.${option}=${value}  ${f.help[option] ?? ''}`);
      }
      lines.push('');
    }
    process.stdout.write(lines.length > 0 ? lines.join('\n') : 'No detectors.\n');
  });
}
