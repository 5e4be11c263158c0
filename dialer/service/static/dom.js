// dom.js - the element builder the console's modules share. No framework: the pages are
// plain modules under a strict CSP, and what a node shows is always set as text, never
// as HTML (names and numbers come from lists and users).
//   el("td", { text: "3", cls: "num", attrs: { "data-testid": "n" } }, ...children)
export function el(tag, { text, cls, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}
