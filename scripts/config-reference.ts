// Regenerates driftshield.config.example.json and the configuration table in README.md from the
// config schema:  npx tsx scripts/config-reference.ts
import fs from 'node:fs';
import { exampleConfig, markdownTable } from '../src/config/reference.js';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

fs.writeFileSync('driftshield.config.example.json', `${JSON.stringify(exampleConfig(), null, 2)}\n`);
const readme = fs.readFileSync('README.md', 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error('README.md lacks the config-table markers');
fs.writeFileSync('README.md', `${readme.slice(0, a + START.length)}\n${markdownTable()}\n${readme.slice(b)}`);
process.stdout.write('updated driftshield.config.example.json and README.md\n');
