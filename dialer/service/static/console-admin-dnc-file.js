// console-admin-dnc-file.js - a file of DNC numbers added from the Admin tab: every line
// checked first, then added, each refusal and each failure said by the file's line.
//
//   const items = dncFileEntries(await file.text());   // [{line, entry}]
//   const r = await addDncFile(api, items, (nums) => ({ numbers: nums, kind: "dnc" }));
//   // {read, added} | {refused: [{line, entry, reason, code}]} |
//   // {read, added, failed: {first, last, next, message}}
//
// Why two passes: the API takes at most 10,000 numbers a request and the page sends 2,000,
// each batch added in its own transaction. Added batch by batch, a bad line in the third
// batch was reported as "number 17" (its place in the batch, not the file's line 4,017)
// after the first two batches were already in: the operator could not find the line,
// nor tell what was added. So the whole file is checked first by POST
// /api/admin/dnc/validate (the same checks as adding, nothing added), and a file with a
// bad line adds nothing and names every bad line at once; only a clean file is added.
// A batch can still fail while adding (the session ended, the network went): the lines
// before it are in (each batch is one transaction) and the result names them; adding the
// file again adds only the rest, since an entry already listed is skipped.

export const BATCH = 2000;   // numbers per request: well under the API's 64 KiB JSON body

/**
 * The file's entries with their line numbers (from 1), read as `trunkline dialer dnc
 * import` reads a file: the first field of each line (`,` `;` or tab), `#` starts a
 * comment, a blank line is skipped, and a first line without a digit is a header. Any
 * other line without a digit is kept, for the service to refuse by name (it used to be
 * dropped without a word, as if every such line were a header).
 */
export function dncFileEntries(text) {
  const items = [];
  text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/).forEach((raw, i) => {
    const entry = raw.split("#")[0].split(/[,;\t]/)[0].trim().replace(/^"(.*)"$/, "$1").trim();
    if (!entry) return;
    if (i === 0 && !/\d/.test(entry)) return;   // a header
    items.push({ line: i + 1, entry });
  });
  return items;
}

/**
 * A refused entry's reason in the page's language: a number's refusal in the list page's
 * words (`adm.list.refusal.*`: the same codes as a list import's), a prefix's in the DNC
 * section's (`adm.dnc.refusal.*`, naming the box that confirms a broad one); the API's
 * English reason for a code without words.
 */
export function dncRefusal(i18n, x) {
  if (!x.code) return x.reason;
  const key = x.code.startsWith("prefix_") ? `adm.dnc.refusal.${x.code}` : `adm.list.refusal.${x.code}`;
  return i18n.tOr(key, x.reason, { reason: x.reason });
}

/** Check every entry, then add them all, batch by batch; see the module comment. */
export async function addDncFile(api, items, body, batch = BATCH) {
  const refused = [];
  for (let i = 0; i < items.length; i += batch) {
    const part = items.slice(i, i + batch);
    const r = await api.post("/api/admin/dnc/validate", body(part.map((x) => x.entry)));
    for (const x of r.refused) {
      refused.push({ line: part[x.number - 1].line, entry: x.entry, reason: x.reason, code: x.code });
    }
  }
  if (refused.length) return { refused };
  let added = 0;
  for (let i = 0; i < items.length; i += batch) {
    const part = items.slice(i, i + batch);
    try {
      added += (await api.post("/api/admin/dnc", body(part.map((x) => x.entry)))).added;
    } catch (err) {
      if (i === 0) throw err;        // nothing added: the error is all there is to say
      return { read: items.length, added,
               failed: { first: items[0].line, last: items[i - 1].line, next: part[0].line,
                         message: err.message } };
    }
  }
  return { read: items.length, added };
}
