// DOM helpers: build elements without innerHTML, so that no text from the
// API is ever parsed as markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h builds an element: h('a', {href: '/x', class: 'btn', onclick: fn}, 'text', child, [more]).
// Attributes: 'class', 'style' (string), on* handlers, booleans (true sets, false/null/undefined
// skips), 'dataset' (object), anything else as an attribute. Children: strings, numbers,
// nodes, arrays of those; null/undefined/false are skipped.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s builds an SVG element the same way.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected') {
      el[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

// append adds children (strings, nodes, nested arrays) to el.
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// clear removes every child of el and returns it.
export function clear(el) {
  el.replaceChildren();
  return el;
}

// replace replaces el's children with children.
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}
