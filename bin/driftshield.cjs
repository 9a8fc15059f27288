#!/usr/bin/env node
// `npx driftshield` after `npm ci`: runs the bundle that `npm ci` built (the prepare script).
require('../dist/driftshield.cjs');
