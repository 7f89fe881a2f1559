// A minimal DOM for testing app.js in Node: the element tree of index.html (tags, ids, classes,
// data-* attributes), with just the element API that app.js uses. No script runs from the HTML.

const VOID = new Set(['meta', 'link', 'br', 'img', 'input']);

export class FakeElement {
  constructor(tagName, attributes = {}) {
    this.tagName = tagName.toUpperCase();
    this.id = attributes.id ?? '';
    this.className = attributes.class ?? '';
    this.dataset = {};
    for (const [name, value] of Object.entries(attributes)) {
      if (name.startsWith('data-')) this.dataset[name.slice(5)] = value;
    }
    this.hidden = 'hidden' in attributes;
    this.disabled = false;
    this.children = [];
    this.parent = null;
    this.textContent = '';
    this.value = '';
    this.listeners = {};
    const element = this;
    this.classList = {
      contains: (name) => element.className.split(/\s+/).includes(name),
      toggle(name, on) {
        const names = new Set(element.className.split(/\s+/).filter(Boolean));
        if (on ?? !names.has(name)) names.add(name); else names.delete(name);
        element.className = [...names].join(' ');
      },
    };
  }

  append(...nodes) {
    for (const node of nodes) {
      if (node instanceof FakeElement) node.parent = this;
      this.children.push(node);
    }
  }

  replaceChildren(...nodes) {
    this.children = [];
    this.append(...nodes);
  }

  remove() {
    if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this);
  }

  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }

  click() {
    if (!this.disabled) for (const listener of this.listeners.click ?? []) listener({ target: this });
  }

  select() {}

  /** Every element below this one, depth first. */
  *descendants() {
    for (const child of this.children) {
      if (child instanceof FakeElement) {
        yield child;
        yield* child.descendants();
      }
    }
  }

  /** Supports `.class`, `tag`, `tag.class` and `#id` selectors (and a descendant `a b` pair). */
  querySelectorAll(selector) {
    const parts = selector.trim().split(/\s+/);
    let scope = [this];
    for (const part of parts) {
      const found = [];
      for (const root of scope) for (const el of root.descendants()) if (matches(el, part)) found.push(el);
      scope = found;
    }
    return scope;
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] ?? null;
  }

  /** Text of this element and its children, as rendered. */
  get innerText() {
    return [this.textContent, ...this.children.map((c) => (c instanceof FakeElement ? c.innerText : String(c.text ?? c)))].join('');
  }
}

function matches(element, simple) {
  const match = /^([a-z0-9]*)(?:#([\w-]+))?((?:\.[\w-]+)*)$/i.exec(simple);
  if (!match) throw new Error(`unsupported selector ${simple}`);
  const [, tag, id, classes] = match;
  if (tag && element.tagName !== tag.toUpperCase()) return false;
  if (id && element.id !== id) return false;
  return classes.split('.').filter(Boolean).every((name) => element.classList.contains(name));
}

/** A document built from HTML text. */
export function parseDocument(html) {
  const body = new FakeElement('body');
  const stack = [body];
  const tag = /<(\/?)([a-zA-Z0-9]+)((?:\s+[\w-]+(?:="[^"]*")?)*)\s*\/?>/g;
  let started = false;
  for (const [, closing, name, attributeText] of html.matchAll(tag)) {
    const lower = name.toLowerCase();
    if (lower === 'body') { started = !closing; continue; }
    if (!started) continue;
    if (closing) { stack.pop(); continue; }
    const attributes = {};
    for (const [, key, value] of attributeText.matchAll(/([\w-]+)(?:="([^"]*)")?/g)) attributes[key] = value ?? '';
    const element = new FakeElement(lower, attributes);
    stack.at(-1).append(element);
    if (!VOID.has(lower)) stack.push(element);
  }
  return {
    body,
    getElementById: (id) => body.querySelectorAll(`#${id}`)[0] ?? null,
    querySelectorAll: (selector) => body.querySelectorAll(selector),
    querySelector: (selector) => body.querySelector(selector),
    createElement: (name) => new FakeElement(name),
    createTextNode: (text) => ({ text }),
    execCommand: () => true,
  };
}
