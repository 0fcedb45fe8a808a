import './style.css';
import { ChatSession } from './session';
import { ChatView, errorText } from './view/chat-view';
import { JoinForm, type JoinDetails } from './view/join-form';

/**
 * The page: the join form first, then the chat. `/config.json`, served by the same gateway,
 * says whether the cluster wants a token; an `UNAUTHORIZED` refusal asks for one too.
 */
const app = document.getElementById('app') ?? document.body;
const form = new JoinForm(start);
app.replaceChildren(form.element);
form.focus();
void askConfig();

async function askConfig(): Promise<void> {
  try {
    const response = await fetch('config.json');
    const config = (await response.json()) as { auth?: unknown };
    if (config.auth === true) form.needToken();
  } catch {
    // An older gateway without /config.json: the UNAUTHORIZED refusal asks for a token.
  }
}

/** The session a Join started; a second Join (after a refusal) replaces it. */
let current: ChatSession | undefined;

function start(details: JoinDetails): void {
  current?.close();
  let view: ChatView | undefined;
  const session = new ChatSession({ url: location.origin, ...details }, (event) => {
    if (event.type === 'refused' && view === undefined) {
      if (event.error.code === 'UNAUTHORIZED') form.needToken();
      form.showProblem(errorText(event.error));
      return;
    }
    if (event.type === 'connection' && view === undefined) {
      form.showProblem(`cannot reach the chat yet (${event.detail}); retrying…`);
      return;
    }
    if (event.type === 'welcome' && view === undefined) {
      view = new ChatView(session);
      app.replaceChildren(view.element);
      view.focus();
    }
    view?.show(event);
  });
  current = session;
  session.start();
}
