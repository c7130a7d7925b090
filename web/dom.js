// Building DOM from untrusted data. Everything that came from the server
// (names, messages, metadata) is inserted as text nodes, never parsed as HTML:
// there is no innerHTML anywhere in the dashboard.

/**
 * Creates an element. `props`: `class`, `text`, `title`, `data` (dataset),
 * `attrs` (attributes), `on` (event listeners); `children`: nodes or strings
 * (which become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.text !== undefined) element.textContent = String(props.text);
  if (props.title !== undefined) element.title = String(props.title);
  for (const [key, value] of Object.entries(props.data ?? {})) element.dataset[key] = String(value);
  for (const [key, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(key, String(value));
  }
  for (const [event, listener] of Object.entries(props.on ?? {})) element.addEventListener(event, listener);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element;
}

let toastTimer = 0;

/** Shows a short message in the corner. */
export function toast(message) {
  const element = byId('toast');
  element.textContent = message;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { element.hidden = true; }, 1800);
}

/** Copies text to the clipboard and says so. */
export async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied`);
  } catch {
    toast(`Could not copy the ${what.toLowerCase()}`);
  }
}

/**
 * Gives `parent` the children `nodes`. When they have the shape of what is
 * there (same elements, same nesting), only differing text and attributes
 * are written, so the user's text selection and focus survive an update;
 * otherwise the children are replaced. Listeners are not compared: callers
 * replace (`replace = true`) when those would differ.
 */
export function patchChildren(parent, nodes, replace = false) {
  const next = nodes.flat().filter((node) => node !== null && node !== undefined && node !== false);
  const current = [...parent.childNodes];
  if (replace || current.length !== next.length || current.some((node, i) => !sameShape(node, next[i]))) {
    parent.replaceChildren(...next);
    return;
  }
  current.forEach((node, i) => patch(node, next[i]));
}

function sameShape(a, b) {
  if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName) return false;
  if (a.childNodes.length !== b.childNodes.length) return false;
  for (let i = 0; i < a.childNodes.length; i += 1) {
    if (!sameShape(a.childNodes[i], b.childNodes[i])) return false;
  }
  return true;
}

function patch(current, next) {
  if (current.nodeType === Node.TEXT_NODE) {
    if (current.data !== next.data) current.data = next.data;
    return;
  }
  if (current.nodeType !== Node.ELEMENT_NODE) return;
  for (const { name, value } of next.attributes) {
    if (current.getAttribute(name) !== value) current.setAttribute(name, value);
  }
  for (const { name } of [...current.attributes]) {
    if (!next.hasAttribute(name)) current.removeAttribute(name);
  }
  current.childNodes.forEach((child, i) => patch(child, next.childNodes[i]));
}
