// import() of an ES module (a daemon's main) from a command. A built command runs inside the launcher's
// code-cached script (cli/shared/launch.ts), where node 20 has no loader for import() and the bundler turns
// it into require(), which cannot load a module with top-level await: the launcher lends its own import().
declare const __dschedImport: ((specifier: string) => Promise<unknown>) | undefined;

export function importModule(specifier: string): Promise<unknown> {
  return typeof __dschedImport === 'function' ? __dschedImport(specifier) : import(specifier);
}
