// The configuration's ClassAd expressions (START, RANK, PREEMPTION_REQUIREMENTS, …) checked as a whole: the
// configuration layer reads no ClassAd, so the daemons that evaluate these knobs, and dsched before it starts
// or reconfigures them, ask this. A live edit of START with a syntax error was taken, and the startd died on
// it at once, and again at each restart.
import { whereFrom, type Config } from '../../lib/config/load.js';
import { PARAMS, type ParamName } from '../../lib/config/params.js';
import { DschedError, SourceError } from '../../lib/errors.js';
import { parseExpr } from './parse.js';

/** Throws CONFIG_INVALID naming the first expression knob set to something that does not parse, its file and line. */
export function checkConfigExprs(config: Config): void {
  for (const [name, info] of Object.entries(PARAMS)) {
    if (info.type !== 'expr') continue;
    const v = config.lookup(name as ParamName);
    if (!v || v.source === 'default' || !v.raw.trim()) continue;
    try {
      parseExpr(v.raw.trim(), { file: name, line: 1, column: 1 });
    } catch (e) {
      const why = e instanceof SourceError ? e.bareMessage : (e as Error).message;
      throw new DschedError(
        'CONFIG_INVALID',
        `${name} = ${v.raw.trim()} (from ${whereFrom(v)}) is no ClassAd expression: ${why}`,
        {
          cause: e,
        },
      );
    }
  }
}
