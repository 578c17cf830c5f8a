// What every client command shares: how to find and reach the server, and
// how errors are shown (the server's message, kubectl-style, plus a hint).
import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { Client, ClientError, ConnectionError } from '../client/http.ts';
import { ConfigError, resolveClientConfig } from '../config.ts';

export const connectionFlags = {
  server: Flags.string({ summary: 'API server URL (overrides $KCS_SERVER and the kubeconfig).', helpGroup: 'CONNECTION' }),
  token: Flags.string({ summary: 'Bearer token (overrides $KCS_TOKEN and the kubeconfig).', helpGroup: 'CONNECTION' }),
  kubeconfig: Flags.string({ summary: 'Client config file (default $KCS_CONFIG or ~/.kcs/kubeconfig).', helpGroup: 'CONNECTION' }),
  'certificate-authority': Flags.string({ summary: "A CA file (PEM) the server's certificate must chain to (default: the kubeconfig's).", helpGroup: 'CONNECTION' }),
  'insecure-skip-tls-verify': Flags.boolean({ summary: "Do not check the server's certificate (debugging only: anyone in the middle could read the token).", helpGroup: 'CONNECTION' }),
};

export abstract class ClientCommand extends Command {
  private clientInstance?: Client;

  protected client(flags: { server?: string; token?: string; kubeconfig?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean }): Client {
    if (!this.clientInstance) {
      this.clientInstance = new Client(resolveClientConfig({
        ...flags, certificateAuthority: flags['certificate-authority'], insecureSkipTlsVerify: flags['insecure-skip-tls-verify'] || undefined,
      }));
    }
    return this.clientInstance;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.clientInstance?.close();
    return super.finally(err);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof ClientError) {
      const reason = err.reason ? ` (${err.reason})` : '';
      this.logToStderr(`Error from server${reason}: ${err.message}`);
      const hint = hintFor(err);
      if (hint) this.logToStderr(`hint: ${hint}`);
      this.exit(1);
    }
    if (err instanceof ConfigError) {
      this.logToStderr(`error: ${err.message}`);
      this.exit(1);
    }
    if (err instanceof ConnectionError) {
      this.logToStderr(err.message);
      this.exit(1);
    }
    return super.catch(err);
  }
}

function hintFor(err: ClientError): string | undefined {
  switch (err.code) {
    case 401: return "the token was refused: check $KCS_TOKEN, --token, or the kubeconfig 'kcs up' wrote.";
    case 403: return 'this token may not do that.';
    case 404: return err.status?.details?.kind ? `list what exists with 'kcs get ${err.status.details.kind}'.` : undefined;
    case 409: return err.reason === 'AlreadyExists' ? "use 'kcs apply' to update an existing object." : 'read the object again and retry.';
    case 422: return 'fix the fields named above; the schemas are in the schemas/ folder of kcs.';
    default: return undefined;
  }
}
