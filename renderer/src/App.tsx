export function App() {
  const version = window.loom?.version;
  return (
    <main>
      <h1>Loom Sandbox</h1>
      {version ? <p>Version {version}</p> : null}
    </main>
  );
}
