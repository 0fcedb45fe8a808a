/**
 * What a client shows when a room becomes quiet (`joined` with `quiet: true`, or `synced` with
 * `quiet`) or announced again (`left` with `quiet: false`). `room` as it should be displayed
 * (sanitised by the caller).
 */
export function quietText(room: string, quiet: boolean): string {
  return quiet
    ? `! #${room} is a large room: joins and leaves are not shown (/who lists its members)`
    : `! #${room} is small again: joins and leaves are shown`;
}
