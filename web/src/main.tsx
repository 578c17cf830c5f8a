// The page's start: take the token from the address, then show the cluster
// (or ask for a token when there is none, or when the API refused it).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setToken, takeTokenFromFragment, token } from './api.ts';
import { Cluster } from './cluster.ts';
import { App } from './components/app.tsx';
import { SignIn } from './components/sign-in.tsx';

function Root() {
  const [signedIn, setSignedIn] = useState(token() !== undefined);
  const [problem, setProblem] = useState<string>();
  const [cluster, setCluster] = useState<Cluster>();
  useEffect(() => {
    if (!signedIn) return;
    const c = new Cluster();
    const off = c.subscribe(() => {
      if (c.connection.code === 401) {
        setProblem('The API refused the token (401 Unauthorized).');
        setToken(undefined);
        setSignedIn(false);
      }
    });
    c.start();
    setCluster(c);
    return () => { off(); c.stop(); setCluster(undefined); };
  }, [signedIn]);
  if (!signedIn) return <SignIn problem={problem} onToken={(t) => { setToken(t); setProblem(undefined); setSignedIn(true); }} />;
  if (!cluster) return null;
  return <App cluster={cluster} onSignOut={() => { setToken(undefined); setSignedIn(false); }} />;
}

takeTokenFromFragment();
const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" line, there until the script ran
render(<Root />, root);
