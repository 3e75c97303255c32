/** h("td", { class: "x", onclick }, "text", child): an element; falsy children are skipped. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    // Through the CSSOM: the console's CSP forbids style attributes.
    else if (k === "style") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const $ = (sel) => document.querySelector(sel);

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false }) + `.${String(ms % 1000).padStart(3, "0")}`;
}

/**
 * Updates a table body in place: rows by `key`, and in each row only the
 * cells whose `sig` changed are rebuilt. A row that did not change keeps its
 * elements, so a button is never swapped out from under the pointer by the
 * once-a-second stats update.
 * rows: [{ key, dataset, className, cells: [{ sig, content: () => [Node|string], className, title }] }]
 */
export function patchRows(tbody, rows) {
  const old = new Map();
  for (const tr of [...tbody.children]) {
    if (tr.dataset.key !== undefined) old.set(tr.dataset.key, tr);
    else tr.remove();
  }
  let prev = null;
  for (const r of rows) {
    let tr = old.get(r.key);
    if (tr) old.delete(r.key);
    else {
      tr = document.createElement("tr");
      tr.dataset.key = r.key;
    }
    const sigs = (tr.sigs ??= []);
    for (const [k, v] of Object.entries(r.dataset ?? {})) if (tr.dataset[k] !== v) tr.dataset[k] = v;
    if (tr.className !== (r.className ?? "")) tr.className = r.className ?? "";
    r.cells.forEach((c, i) => {
      let td = tr.children[i];
      if (!td) tr.append((td = document.createElement("td")));
      if (sigs[i] === c.sig) return;
      sigs[i] = c.sig;
      td.className = c.className ?? "";
      if (c.title) td.title = c.title;
      else td.removeAttribute("title");
      if (c.colspan) td.colSpan = c.colspan;
      td.replaceChildren(...c.content().filter((n) => n !== undefined && n !== null && n !== false));
    });
    const next = prev ? prev.nextSibling : tbody.firstChild;
    if (next !== tr) tbody.insertBefore(tr, next);
    prev = tr;
  }
  for (const tr of old.values()) tr.remove();
}
