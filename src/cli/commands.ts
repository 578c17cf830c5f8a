// The explicit command table oclif loads (fast start: no directory scan).
// Command modules keep heavy imports inside run(), so loading this is cheap.
import Annotate from './commands/annotate.ts';
import ApiResources from './commands/api-resources.ts';
import Apply from './commands/apply.ts';
import Complete from './commands/complete.ts';
import Completion from './commands/completion.ts';
import ConfigCurrentContext from './commands/config/current-context.ts';
import ConfigView from './commands/config/view.ts';
import Controllers from './commands/controllers.ts';
import Cordon from './commands/cordon.ts';
import CreateNode from './commands/create/node.ts';
import Delete from './commands/delete.ts';
import Describe from './commands/describe.ts';
import Dashboard from './commands/dashboard.ts';
import Diff from './commands/diff.ts';
import Down from './commands/down.ts';
import Drain from './commands/drain.ts';
import Edit from './commands/edit.ts';
import Explain from './commands/explain.ts';
import FailNode from './commands/fail/node.ts';
import Get from './commands/get.ts';
import Logs from './commands/logs.ts';
import ImageBuild from './commands/image/build.ts';
import Label from './commands/label.ts';
import NetpolCheck from './commands/netpol/check.ts';
import NetpolMatrix from './commands/netpol/matrix.ts';
import Run from './commands/run.ts';
import Sync from './commands/sync.ts';
import TopNodes from './commands/top/nodes.ts';
import Traffic from './commands/traffic.ts';
import TopPods from './commands/top/pods.ts';
import Uncordon from './commands/uncordon.ts';
import Up from './commands/up.ts';
import Version from './commands/version.ts';
import Wait from './commands/wait.ts';

export const COMMANDS = {
  __complete: Complete,
  annotate: Annotate,
  'api-resources': ApiResources,
  apply: Apply,
  completion: Completion,
  'config:current-context': ConfigCurrentContext,
  'config:view': ConfigView,
  controllers: Controllers,
  cordon: Cordon,
  'create:node': CreateNode,
  dashboard: Dashboard,
  delete: Delete,
  describe: Describe,
  diff: Diff,
  down: Down,
  drain: Drain,
  edit: Edit,
  explain: Explain,
  'fail:node': FailNode,
  get: Get,
  'image:build': ImageBuild,
  label: Label,
  logs: Logs,
  'netpol:check': NetpolCheck,
  'netpol:matrix': NetpolMatrix,
  run: Run,
  sync: Sync,
  'top:nodes': TopNodes,
  'top:pods': TopPods,
  traffic: Traffic,
  uncordon: Uncordon,
  up: Up,
  version: Version,
  wait: Wait,
};
