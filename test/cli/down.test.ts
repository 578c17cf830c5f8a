// `kcs down` with real node containers: a `kcs up --runtime docker` child
// process makes one, then kcs down refuses while it runs, stops the container
// once it has stopped, and with --purge removes it and the state directory.
// Without a Docker daemon the test is skipped, or fails when KCS_REQUIRE_DOCKER=1.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { clusterContainers, dockerOrSkip, removeClusterContainers, trackCluster } from '../docker/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { oneLine, runKcs, spawnKcs } from './helpers.ts';

const dockerTest = dockerOrSkip(test);
const LISTENING = /kcs control plane listening on (https?:\/\/\S+)/;

dockerTest('kcs down refuses while kcs up runs, then stops the node containers; --purge removes them and the state', async (t) => {
  t.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'kcs-down-test-'));
  const stateDir = join(root, 'state');
  const up = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--runtime', 'docker']);
  const clusterId = await eventually('the cluster id file', () => (existsSync(join(stateDir, 'cluster-id')) ? readFileSync(join(stateDir, 'cluster-id'), 'utf8').trim() : undefined));
  const untrack = trackCluster(clusterId);
  const kcs = (args: string[]) => runKcs(args, { stateDir });
  try {
    await up.waitForOutput(LISTENING, 60_000);
    const created = await kcs(['create', 'node', 'down-a', '--cpu', '1']);
    t.is(created.code, 0, created.stderr);
    const container = `kcs-${clusterId}-down-a`;
    await eventually('the node container to run', async () => ((await clusterContainers(clusterId)).find((c) => c.State === 'running') ? true : undefined), 120_000);

    const refused = await kcs(['down', '--state-dir', stateDir]);
    t.is(refused.code, 1);
    t.regex(oneLine(refused.stderr), new RegExp(`a kcs up is still running on ${stateDir} \\(it holds the store's lock\\): stop it first`));
    t.is((await clusterContainers(clusterId))[0]?.State, 'running', 'nothing stopped while kcs up runs');

    const stopped = await up.stop('SIGTERM');
    t.is(stopped.code, 0, stopped.stderr);
    t.is((await clusterContainers(clusterId))[0]?.State, 'running', 'kcs up leaves its containers running');

    const down = await kcs(['down', '--state-dir', stateDir]);
    t.is(down.code, 0, down.stderr);
    t.regex(down.stdout, new RegExp(`^stopped node container ${container} \\(node down-a\\)$`, 'm'));
    t.regex(down.stdout, /1 node container\(s\) of cluster \S+ stopped; the next kcs up on .* starts them again/);
    const after = await clusterContainers(clusterId);
    t.deepEqual(after.map((c) => [c.Names[0], c.State]), [[`/${container}`, 'exited']]);
    t.true(existsSync(join(stateDir, 'kcs.db')), 'the state is kept');

    const purge = await kcs(['down', '--state-dir', stateDir, '--purge']);
    t.is(purge.code, 0, purge.stderr);
    t.regex(purge.stdout, new RegExp(`^removed node container ${container} \\(node down-a\\)$`, 'm'));
    t.regex(purge.stdout, new RegExp(`^deleted ${stateDir} \\(the store, the tokens and the kubeconfig\\)$`, 'm'));
    t.deepEqual(await clusterContainers(clusterId), []);
    t.false(existsSync(stateDir));

    const again = await kcs(['down', '--state-dir', stateDir]);
    t.is(again.code, 0);
    t.is(again.stdout, `no kcs state at ${stateDir}: nothing to stop\n`);
  } finally {
    await up.stop('SIGKILL');
    await removeClusterContainers(clusterId);
    untrack();
    rmSync(root, { recursive: true, force: true });
  }
});
