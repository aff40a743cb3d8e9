#!/usr/bin/env node
// The `loom` command. The CLI is written in TypeScript and loaded through tsx so that it runs
// straight from a clone after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
