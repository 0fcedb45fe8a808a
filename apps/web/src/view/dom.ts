/**
 * The page's only way to build DOM. Strings always become text nodes (`textContent`), never
 * markup: nothing here parses HTML, so no name or message can inject elements or scripts.
 */
export type Child = Node | string | undefined;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value !== undefined) element.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== undefined) element.append(child);
  }
  return element;
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, children: Child[]): void {
  parent.replaceChildren(
    ...children.filter((child): child is Node | string => child !== undefined),
  );
}
