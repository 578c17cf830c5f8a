// Without a token the page asks for one (only the static files are public).
import { useState } from 'preact/hooks';

export function SignIn({ problem, onToken }: { problem?: string; onToken(token: string): void }) {
  const [value, setValue] = useState('');
  return (
    <main class="sign-in">
      <h1>kcs dashboard</h1>
      <p>Open the address <code>kcs up</code> or <code>kcs dashboard</code> printed (it signs you in), or paste a bearer token.</p>
      {problem && <p class="error" role="alert">{problem}</p>}
      <form onSubmit={(e) => { e.preventDefault(); if (value.trim()) onToken(value.trim()); }}>
        <label class="field"><span>Token</span><input type="password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autocomplete="off" required /></label>
        <button type="submit" class="primary">Sign in</button>
      </form>
    </main>
  );
}
