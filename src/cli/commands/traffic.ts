import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_NAMESPACE } from '../../objects/kinds.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { parseDuration } from '../duration.ts';
import { namespaceFlag } from '../flags.ts';
import type { PodCallsView } from '../../client/traffic.ts';

export default class Traffic extends ClientCommand {
  static override summary = "Send HTTP requests to a Service's cluster IP at a steady rate and show which pods answered, the latency and the errors, live; or show what a pod's own calls met.";
  static override description = 'svc/NAME: the requests go from this machine through the service proxy, which balances them over the ready endpoints (the Service\'s kcs.io/load-balancing annotation: round-robin, least-connections, random). '
    + 'Pods answer on their containerPorts after their kcs.io/service-time, at most kcs.io/concurrency at once.\n\n'
    + 'pod/NAME: what the calls the pod makes (its kcs.io/calls annotation, sent by its node from the pod\'s address) met, as its node last reported it; with --watch, redrawn every second.';
  static override examples = [
    '<%= config.bin %> traffic svc/web --rps 50 --duration 10s',
    '<%= config.bin %> traffic svc/api -n shop --port 8080 --rps 200 --duration 1m',
    '<%= config.bin %> traffic pod/frontend --watch',
  ];
  static override args = { target: Args.string({ required: true, description: 'svc/NAME or pod/NAME' }) };
  static override flags = {
    ...connectionFlags,
    namespace: namespaceFlag,
    rps: Flags.integer({ summary: 'Requests per second.', default: 20, min: 1, max: 10_000 }),
    duration: Flags.string({ summary: 'How long to send (a duration: 10s, 1m).', default: '10s' }),
    port: Flags.string({ summary: "The Service port, by number or name (default: its first)." }),
    watch: Flags.boolean({ char: 'w', summary: "pod/NAME: redraw the pod's calls every second until interrupted." }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Traffic);
    const pod = /^(?:po|pod|pods)\/(.+)$/.exec(args.target);
    if (pod) return this.podCalls(pod[1]!, flags.namespace ?? DEFAULT_NAMESPACE, flags.watch, this.client(flags));
    const m = /^(?:svc|service|services)\/(.+)$/.exec(args.target);
    if (!m) this.error(`${args.target}: give a Service as svc/NAME or a pod as pod/NAME`, { exit: 1 });
    let durationMs = 0;
    try {
      durationMs = parseDuration(flags.duration);
    } catch (err) {
      this.error(`--duration: ${(err as Error).message}`, { exit: 1 });
    }
    if (durationMs <= 0) this.error(`--duration ${flags.duration}: must be above 0`, { exit: 1 });
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const client = this.client(flags);
    const svc = (await client.request<{ spec: { clusterIP?: string; ports?: Array<{ name?: string; port: number }> } }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(m[1]!)}`)).body;
    const ports = svc.spec.ports ?? [];
    const port = flags.port === undefined ? ports[0] : ports.find((p) => String(p.port) === flags.port || p.name === flags.port);
    if (!svc.spec.clusterIP || svc.spec.clusterIP === 'None') this.error(`service ${m[1]} has no cluster IP (headless): nothing to send to`, { exit: 1 });
    if (!port) this.error(`service ${m[1]} has no port ${flags.port ?? ''}`.trim(), { exit: 1 });
    const { Agent } = await import('node:http');
    const { describeReport, hit, newReport } = await import('../../client/traffic.ts');
    const agent = new Agent({ keepAlive: false });
    const report = newReport();
    const started = performance.now();
    const pending = new Set<Promise<void>>();
    this.log(`sending ${flags.rps}/s to ${svc.spec.clusterIP}:${port.port} (service ${namespace}/${m[1]}) for ${flags.duration}`);
    const tty = process.stdout.isTTY;
    let lastPrint = started;
    for (let i = 0; ; i++) {
      const due = started + (i * 1000) / flags.rps;
      if (due - started >= durationMs) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = hit(agent, svc.spec.clusterIP, port.port, report).finally(() => pending.delete(p));
      pending.add(p);
      if (performance.now() - lastPrint >= 1000) {
        lastPrint = performance.now();
        const lines = describeReport(report, (lastPrint - started) / 1000);
        this.log(tty ? `\x1b[2J\x1b[H${lines.join('\n')}` : lines[0]!);
      }
    }
    await Promise.all(pending);
    agent.destroy();
    this.log(describeReport(report, (performance.now() - started) / 1000).join('\n'));
  }

  /** Prints what the pod's calls met, once or every second. */
  private async podCalls(name: string, namespace: string, watch: boolean, client: ReturnType<ClientCommand['client']>): Promise<void> {
    const { describeCalls } = await import('../../client/traffic.ts');
    const path = `/apis/kcs.io/v1/namespaces/${encodeURIComponent(namespace)}/podcalls/${encodeURIComponent(name)}`;
    const draw = async () => {
      try {
        return describeCalls((await client.request<PodCallsView>('GET', path)).body).join('\n');
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
        // The pod exists (or this says it does not): it makes no calls, or its node has not reported them yet.
        await client.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
        return `pod ${namespace}/${name} reports no calls: it has no kcs.io/calls annotation, is not running, or its node has not reported yet`;
      }
    };
    if (!watch) return this.log(await draw());
    const tty = process.stdout.isTTY;
    for (;;) {
      const text = await draw();
      this.log(tty ? `\x1b[2J\x1b[H${text}` : text);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
