import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { isDeepStrictEqual } from 'node:util';
import { ClientError } from '../../client/http.ts';
import { DEFAULT_NAMESPACE } from '../../objects/kinds.ts';
import type { KubeObject } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag } from '../flags.ts';
import { resolveKind } from '../resolve-kind.ts';

export default class Edit extends ClientCommand {
  static override summary = 'Edit an object in your editor ($KUBE_EDITOR, else $EDITOR, else vi), as kubectl edit does.';
  static override description = 'The object is written as YAML to a temporary file and the editor opened on it. When the editor exits the change is sent as an update at the resourceVersion that was read: '
    + 'if the object changed meanwhile, it is read again and the editor reopens with your changes applied to the new version. A file saved unchanged cancels the edit; '
    + 'one the server refuses (or that is not YAML) is reopened with the errors as comments at the top; an empty file aborts.';
  static override examples = ['<%= config.bin %> edit pod/web', '<%= config.bin %> edit node node-1', 'KUBE_EDITOR="code --wait" <%= config.bin %> edit pod web'];
  static override args = {
    target: Args.string({ required: true, description: 'TYPE/NAME, or TYPE followed by NAME' }),
    name: Args.string({ description: 'the name, when TYPE is given alone' }),
  };
  static override flags = { ...connectionFlags, namespace: namespaceFlag };

  async run(): Promise<KubeObject | undefined> {
    const { args, flags } = await this.parse(Edit);
    const slash = args.target.indexOf('/');
    const kind = resolveKind(slash > 0 ? args.target.slice(0, slash) : args.target);
    const name = slash > 0 ? args.target.slice(slash + 1) : args.name;
    if (!name) this.error('name the object: kcs edit TYPE/NAME', { exit: 1 });
    const namespace = kind.namespaced ? (flags.namespace ?? DEFAULT_NAMESPACE) : undefined;
    const ref = `${kind.singular}/${name}`;
    const client = this.client(flags);
    const { parse, stringify } = await import('yaml');
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { editBuffer, mergePatchBetween, runEditor, stripComments } = await import('../editor.ts');
    const { applyMergePatch } = await import('../../objects/merge-patch.ts');

    /** What the user edits: the object without its managedFields, as kubectl shows it. */
    const shown = (obj: KubeObject): KubeObject => {
      const copy = structuredClone(obj);
      delete (copy.metadata as { managedFields?: unknown }).managedFields;
      return copy;
    };
    let base = shown(await client.get(kind, namespace, name));
    let buffer = editBuffer(stringify(base));
    let refusedBody: string | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'kcs-edit-'));
    const file = join(dir, `${kind.singular}-${name}.yaml`);
    let keepFile = false;
    try {
      for (;;) {
        writeFileSync(file, buffer, { mode: 0o600 });
        try {
          runEditor(file);
        } catch (err) {
          this.error((err as Error).message, { exit: 1 });
        }
        const saved = readFileSync(file, 'utf8');
        const body = stripComments(saved);
        if (!body.trim()) {
          this.log('Edit cancelled, saved file was empty.');
          return undefined;
        }
        if (refusedBody !== undefined && body === refusedBody) {
          keepFile = true;
          this.logToStderr(`A copy of your changes has been stored to "${file}"`);
          this.error('Edit cancelled, no valid changes were saved.', { exit: 1 });
        }
        let edited: KubeObject;
        try {
          edited = parse(body) as KubeObject;
        } catch (err) {
          refusedBody = body;
          buffer = editBuffer(body, [`The edited file had a syntax error: ${(err as Error).message}`]);
          continue;
        }
        if (isDeepStrictEqual(edited, base)) {
          this.log('Edit cancelled, no changes made.');
          return undefined;
        }
        if (edited === null || typeof edited !== 'object' || Array.isArray(edited)) {
          refusedBody = body;
          buffer = editBuffer(body, ['The edited file is not an object.']);
          continue;
        }
        // The update is made at the version that was read, unless the user changed it.
        edited.metadata ??= {};
        edited.metadata.resourceVersion ??= base.metadata.resourceVersion;
        try {
          const res = await client.update(kind, namespace, name, edited);
          for (const w of res.warnings) this.logToStderr(`Warning: ${w}`);
          this.log(`${ref} edited`);
          return res.body;
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          if (err.code === 409 && err.reason === 'Conflict') {
            // Changed on the server meanwhile: read it again and carry the user's changes over to it.
            const fresh = shown(await client.get(kind, namespace, name));
            const patch = mergePatchBetween(base, edited) as { metadata?: Record<string, unknown> };
            if (patch.metadata) delete patch.metadata.resourceVersion;
            const rebased = applyMergePatch(fresh, patch) as KubeObject;
            this.logToStderr(`${ref} was changed on the server while you edited it: read it again (resourceVersion ${fresh.metadata.resourceVersion}); reopening with your changes applied to it`);
            base = fresh;
            refusedBody = undefined;
            buffer = editBuffer(stringify(rebased), [`${ref} was changed on the server while you edited it (${err.message}).`, 'Your changes are applied below to its latest version: save to update it, or empty the file to cancel.']);
            continue;
          }
          if (err.code === 404) throw err;
          refusedBody = body;
          const causes = err.status?.details?.causes ?? [];
          const lines = causes.length ? causes.map((c) => `* ${c.field ? `${c.field}: ` : ''}${c.message}`) : [`* ${err.message}`];
          buffer = editBuffer(body, [`${kind.plural} ${JSON.stringify(name)} was not valid:`, ...lines]);
        }
      }
    } finally {
      if (!keepFile) rmSync(dir, { recursive: true, force: true });
    }
  }
}
