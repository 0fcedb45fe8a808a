import { el } from './dom';

export interface JoinDetails {
  name?: string;
  room?: string;
  token?: string;
}

/**
 * The form before joining: `Name`, an optional `Room`, `Token` (only when the cluster needs
 * one), and a `Join` button. Labels and the button's name are a contract tests rely on.
 */
export class JoinForm {
  readonly element: HTMLFormElement;
  private readonly name = el('input', { name: 'name', autocomplete: 'nickname', required: '' });
  private readonly room = el('input', { name: 'room', placeholder: 'lobby' });
  private readonly token = el('input', { name: 'token', type: 'password', autocomplete: 'off' });
  private readonly tokenField = el('label', { hidden: '' }, 'Token', this.token);
  private readonly problem = el('p', { class: 'error', role: 'alert' });

  constructor(onJoin: (details: JoinDetails) => void) {
    this.element = el(
      'form',
      { class: 'join', 'aria-label': 'Join the chat' },
      el('h1', {}, 'Chat'),
      el('label', {}, 'Name', this.name),
      el('label', {}, 'Room', this.room),
      this.tokenField,
      el('button', { type: 'submit' }, 'Join'),
      this.problem,
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      this.problem.textContent = '';
      const details: JoinDetails = {};
      const name = this.name.value.trim();
      const room = this.room.value.trim();
      const token = this.token.value.trim();
      if (name !== '') details.name = name;
      if (room !== '') details.room = room;
      if (token !== '') details.token = token;
      onJoin(details);
    });
  }

  /** The cluster authenticates (AUTH_SECRET or AUTH_JWKS_URL): ask for a token. */
  needToken(): void {
    this.tokenField.hidden = false;
    this.token.required = true;
  }

  /** A refusal at connect, shown under the form; the fields keep what was typed. */
  showProblem(text: string): void {
    this.problem.textContent = text;
    this.name.focus();
  }

  focus(): void {
    this.name.focus();
  }
}
