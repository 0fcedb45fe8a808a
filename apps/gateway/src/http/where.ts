/**
 * The one human line a gateway prints at start-up when a person is watching (stdout is a
 * terminal), besides its JSON logs: where the chat is and how to join it from a terminal.
 * A listener on every interface is reachable as localhost.
 */
export function whereLine(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
  const urlOption = url === 'http://localhost:3000' ? '' : ` --url ${url}`;
  return `Chat running: open ${url} in a browser, or join from a terminal with: npm run chat --${urlOption} --name alice`;
}
