// console-admin-kit.js - what the Admin tab's sections share: text-only DOM building,
// labelled fields, an error shown next to the field the API's message names, and the
// raw-body upload the list import takes (the API's one route whose body is a file, not
// JSON). Everything shown is set as text, never HTML: names come from uploaded lists.

export function el(tag, { text, cls, attrs, ct } = {}, ...children) {
  const n = document.createElement(tag);
  if (text !== undefined && text !== null) n.textContent = String(text);
  if (cls) n.className = cls;
  if (ct) n.dataset.ct = ct;          // console.js's applyTexts() fills it in each language
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  n.append(...children);
  return n;
}

/** A labelled input (or select/textarea, `control`) in a `.field`; `key` names it for
 *  the API's messages ("[strategy] max_attempts: ..."), so an error lands beside it. */
export function field(i18n, labelKey, control, { key, testid, grow } = {}) {
  const id = `adm-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  if (testid) control.dataset.testid = testid;
  const box = el("div", { cls: grow ? "field grow" : "field" },
    el("label", { attrs: { for: id }, text: labelKey.startsWith("=") ? labelKey.slice(1) : i18n.t(labelKey),
                  ...(labelKey.startsWith("=") ? {} : { ct: labelKey }) }),
    control,
    el("span", { cls: "field-error", attrs: { role: "alert", "data-testid": testid ? `${testid}-error` : "field-error" } }));
  if (key) box.dataset.key = key;
  return box;
}

export function input(value = "", attrs = {}) {
  const n = el("input", { attrs });
  n.value = value === null || value === undefined ? "" : String(value);
  return n;
}

/** A labelled file input (as `field`) with its words in the page's language: Chromium
 *  draws its own "Choose File / No file chosen" in the browser's language (English on a
 *  Chinese page). The input stays (its label, `files`, what tests set) but is hidden; a
 *  button opens its dialog and a line says what is chosen. After emptying the input
 *  (`value = ""`), send it a "change" event so the line follows. */
export function fileField(i18n, labelKey, fileInput) {
  const box = field(i18n, labelKey, fileInput);
  fileInput.classList.add("file-native");
  fileInput.tabIndex = -1;
  const testid = fileInput.dataset.testid || "file";
  const chosen = el("span", { cls: "muted file-chosen", attrs: { "data-testid": `${testid}-chosen` } });
  const show = () => {
    const f = fileInput.files && fileInput.files[0];
    chosen.textContent = f ? f.name : i18n.t("adm.file.none");
    if (f) delete chosen.dataset.ct; else chosen.dataset.ct = "adm.file.none";
  };
  fileInput.addEventListener("change", show);
  show();
  fileInput.after(el("span", { cls: "row file-chooser" },
    button(i18n, "adm.file.choose", `${testid}-choose`, () => fileInput.click(), "btn"), chosen));
  return box;
}

export function select(options, value, attrs = {}) {
  const n = el("select", { attrs }, ...options.map(([v, text]) => el("option", { text, attrs: { value: v } })));
  n.value = value ?? "";
  return n;
}

export function button(i18n, key, testid, onClick, cls = "btn") {
  const b = el("button", { text: i18n.t(key), cls, ct: key, attrs: { type: "button", "data-testid": testid } });
  b.addEventListener("click", onClick);
  return b;
}

/** A button that asks once more before acting (archiving, removing a list): the first
 *  click turns it into "Sure? Click again" for 5 s, the second acts. */
export function confirmed(i18n, key, testid, act) {
  const b = button(i18n, key, testid, () => {
    if (b.dataset.armed) { delete b.dataset.armed; act(); return; }
    b.dataset.armed = "1";
    b.textContent = i18n.t("adm.sure");
    setTimeout(() => { delete b.dataset.armed; b.textContent = i18n.t(key); }, 5000);
  }, "btn bad small");
  return b;
}

/** Clear every field error under `root`. */
export function clearErrors(root) {
  for (const n of root.querySelectorAll(".field-error")) n.textContent = "";
  for (const n of root.querySelectorAll(".field.invalid")) n.classList.remove("invalid");
}

/** Put the API's message beside the field it names, if one under `root` is named in it:
 *  "[table] key" first, then the longest field key that appears as a word. Returns the
 *  field marked, or null (the caller shows the message at the form's top then). The page's
 *  own checks name their field (`key`). */
export function showFieldError(root, message, key = null) {
  const fields = [...root.querySelectorAll(".field[data-key]")];
  const bracket = /\[(\w+)\]\s*([\w.]+)?/.exec(message);
  let hit = key ? fields.find((f) => f.dataset.key === key) || null : null;
  if (!hit && bracket && bracket[2]) {
    hit = fields.find((f) => f.dataset.key === `${bracket[1]}.${bracket[2]}`) || null;
  }
  if (!hit) {
    const words = new Set(message.split(/[^\w]+/));
    const named = fields.filter((f) => words.has(f.dataset.key.split(".").pop()))
      .sort((a, b) => b.dataset.key.length - a.dataset.key.length);
    hit = named[0] || null;
  }
  if (hit) {
    hit.classList.add("invalid");
    hit.querySelector(".field-error").textContent = message;
  }
  return hit;
}

/** POST a file as the request body (the list upload), with the session's CSRF token;
 *  the answer's JSON, or an Error carrying the API's message and status. */
export async function uploadFile(api, path, file) {
  const type = /\.xlsx$/i.test(file.name)
    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin", body: file,
    headers: { "Content-Type": type, Accept: "application/json", "X-CSRF-Token": api.csrf || "" } });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) {
    const err = new Error(data?.message || response.statusText);
    err.status = response.status;
    throw err;
  }
  return data;
}

/** A table with header keys and rows of cells (text or nodes). */
export function table(i18n, heads, rows, testid) {
  return el("table", { cls: "grid", attrs: { "data-testid": testid } },
    el("thead", {}, el("tr", {}, ...heads.map((k) => el("th", { text: i18n.t(k), ct: k })))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) =>
      c instanceof Node ? el("td", {}, c) : el("td", { text: c ?? "–" }))))));
}
