// The forms of a live demo: add a node, run a pod, apply pasted YAML. Each
// submits through the API and shows the API's own message when refused.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { applyYaml, createNode, runPod, type Applied } from '../actions.ts';

function Dialog({ title, onClose, children }: { title: string; onClose(): void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    d.showModal();
    const closed = () => onClose();
    d.addEventListener('close', closed);
    return () => d.removeEventListener('close', closed);
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" class="dialog">
      <h2 id="dialog-title">{title}</h2>
      {children}
    </dialog>
  );
}

function useSubmit(action: (form: FormData) => Promise<string>, onDone: (message: string) => void) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onDone(await action(new FormData(e.target as HTMLFormElement)));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

function Field({ label, name, value, required, hint }: { label: string; name: string; value?: string; required?: boolean; hint?: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      <input name={name} defaultValue={value} required={required} autocomplete="off" spellcheck={false} />
      {hint && <small>{hint}</small>}
    </label>
  );
}

function Buttons({ busy, label, onCancel }: { busy: boolean; label: string; onCancel(): void }) {
  return (
    <div class="dialog-buttons">
      <button type="button" onClick={onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled={busy}>{busy ? 'Working…' : label}</button>
    </div>
  );
}

function ErrorMessage({ error }: { error?: string }) {
  return error ? <p class="error" role="alert">{error}</p> : null;
}

export function AddNodeDialog({ index, onClose, onDone }: { index: number; onClose(): void; onDone(m: string): void }) {
  const { error, busy, submit } = useSubmit(async (f) => {
    const node = await createNode({ name: String(f.get('name')), cpu: String(f.get('cpu')), memory: String(f.get('memory')), labels: String(f.get('labels')) });
    return `node/${node.metadata.name} created`;
  }, (m) => { onDone(m); onClose(); });
  return (
    <Dialog title="Add a node" onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Name" name="name" value={`node-${index}`} required />
        <Field label="CPU" name="cpu" value="4" required hint="cores, e.g. 4 or 500m" />
        <Field label="Memory" name="memory" value="8Gi" hint="e.g. 8Gi; empty: not counted" />
        <Field label="Labels" name="labels" value="" hint="key=value, separated by commas" />
        <ErrorMessage error={error} />
        <Buttons busy={busy} label="Add node" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

export function RunPodDialog({ index, onClose, onDone }: { index: number; onClose(): void; onDone(m: string): void }) {
  const { error, busy, submit } = useSubmit(async (f) => {
    const pod = await runPod({ name: String(f.get('name')), namespace: String(f.get('namespace')), cpu: String(f.get('cpu')), memory: String(f.get('memory')), image: String(f.get('image')) });
    return `pod/${pod.metadata.name} created`;
  }, (m) => { onDone(m); onClose(); });
  return (
    <Dialog title="Run a pod" onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Name" name="name" value={`web-${index}`} required />
        <Field label="Namespace" name="namespace" value="default" required />
        <Field label="CPU request" name="cpu" value="500m" />
        <Field label="Memory request" name="memory" value="256Mi" />
        <Field label="Image" name="image" value="kcs/simulated" hint="recorded, not run: pods are simulated" />
        <ErrorMessage error={error} />
        <Buttons busy={busy} label="Run pod" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

export function ApplyDialog({ onClose, onDone }: { onClose(): void; onDone(m: string): void }) {
  const [results, setResults] = useState<Applied[]>([]);
  const { error, busy, submit } = useSubmit(async (f) => {
    const out = await applyYaml(String(f.get('yaml')));
    setResults(out);
    return out.filter((r) => r.ok).map((r) => `${r.what} applied`).join(', ');
  }, (m) => { if (m) onDone(m); });
  return (
    <Dialog title="Apply YAML" onClose={onClose}>
      <form onSubmit={submit}>
        <label class="field">
          <span>Manifests (several documents separated by ---)</span>
          <textarea name="yaml" rows={14} spellcheck={false} required placeholder={'apiVersion: v1\nkind: Node\nmetadata:\n  name: node-9\nspec:\n  capacity:\n    cpu: "4"\n    memory: 8Gi'} />
        </label>
        <ErrorMessage error={error} />
        {results.length > 0 && (
          <ul class="apply-results" aria-live="polite">
            {results.map((r, i) => <li key={i} class={r.ok ? 'ok' : 'error'}>{r.what}: {r.message}</li>)}
          </ul>
        )}
        <Buttons busy={busy} label="Apply" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
