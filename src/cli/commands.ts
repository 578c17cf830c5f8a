// The explicit command table oclif loads (fast start: no directory scan).
// Command modules keep heavy imports inside run(), so loading this is cheap.
import Annotate from './commands/annotate.ts';
import ApiResources from './commands/api-resources.ts';
import Apply from './commands/apply.ts';
import Controllers from './commands/controllers.ts';
import Cordon from './commands/cordon.ts';
import CreateNode from './commands/create/node.ts';
import Delete from './commands/delete.ts';
import Describe from './commands/describe.ts';
import Drain from './commands/drain.ts';
import Explain from './commands/explain.ts';
import Get from './commands/get.ts';
import Logs from './commands/logs.ts';
import ImageBuild from './commands/image/build.ts';
import Run from './commands/run.ts';
import Sync from './commands/sync.ts';
import Uncordon from './commands/uncordon.ts';
import Up from './commands/up.ts';
import Version from './commands/version.ts';

export const COMMANDS = {
  annotate: Annotate,
  'api-resources': ApiResources,
  apply: Apply,
  controllers: Controllers,
  cordon: Cordon,
  'create:node': CreateNode,
  delete: Delete,
  describe: Describe,
  drain: Drain,
  explain: Explain,
  get: Get,
  'image:build': ImageBuild,
  logs: Logs,
  run: Run,
  sync: Sync,
  uncordon: Uncordon,
  up: Up,
  version: Version,
};
