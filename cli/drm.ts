#!/usr/bin/env node
// drm: remove jobs (condor_rm).
import { actCommand } from './shared/act.js';
import { runCli } from './shared/run-cli.js';

runCli('drm', (argv) => actCommand('drm', 'remove', argv));
