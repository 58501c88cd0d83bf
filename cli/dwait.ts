#!/usr/bin/env node
// dwait: not built yet (see issue 4).
import { DschedError } from '../lib/errors.js';
import { runCli } from './shared/run-cli.js';

runCli('dwait', async () => {
  throw new DschedError('NOT_IMPLEMENTED', 'dwait is not available yet in this version of dsched');
});
