// The DAG language (DAGMan's): the public API. Everything else imports from here.
export type { Dag, DagNode, DagScript, DagVar, DagWarning, DotSettings, NodeType, DagParseOptions } from './graph.js';
export {
  parseDagFile,
  parseDagFileAsync,
  parseDagFileInSlices,
  parseDagString,
  readDagFile,
  readRescueDagFile,
  isDirectoryPath,
  readNodeSubmitFile,
  MAX_DAG_FILE_BYTES,
  MAX_DAG_TOTAL_BYTES,
  MAX_DAG_NODES,
  MAX_INCLUDE_DEPTH,
} from './graph.js';
export type { Statement, ScriptKind } from './ast.js';
export { parseDagText } from './parse.js';
export type { LoadDagOptions, RescueNodeInfo } from './rescue.js';
export {
  MAX_RESCUE_NUM,
  rescueDagName,
  findRescueDags,
  newestRescueDag,
  nextRescueDagName,
  retireRescueDags,
  loadDagForRun,
  dagOptionsForRun,
  formatRescueDag,
} from './rescue.js';
export type { DagmanConfig, DagmanSettings } from './dagman-config.js';
export { readDagmanConfig, readDagmanConfigFile, MAX_DAGMAN_CONFIG_BYTES } from './dagman-config.js';
