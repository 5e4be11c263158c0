// when.js - the times the pages show, written as ISO 8601 reads them in every language:
// "2026-10-01 13:30:05" (a date and a 24-hour time), "13:30:05" (a time).
// Date.toLocaleString() and Intl with the page's "en" follow the *browser's* locale or
// America's order: a zh page on an en-US browser showed "10/1/2026, 1:30:05 PM", and
// an operator cannot tell the month from the day nor read it as the page's dates (the
// date boxes, date-box.js, and the service's YYYY-MM-DD). The instant is shown in the
// browser's time zone unless `zone` (an IANA name, the contact's) is given.

/** The calendar and clock fields of `epoch` (seconds) in `zone`. en-CA with the h23
 *  cycle writes them as numbers, 00-23 (never "24" at midnight). */
function fields(epoch, zone) {
  const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
                    minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  if (zone) options.timeZone = zone;
  let format;
  try {
    format = new Intl.DateTimeFormat("en-CA", options);
  } catch {                                  // an unknown zone name: the browser's own
    delete options.timeZone;
    format = new Intl.DateTimeFormat("en-CA", options);
  }
  return Object.fromEntries(format.formatToParts(new Date(epoch * 1000)).map((p) => [p.type, p.value]));
}

/** "YYYY-MM-DD HH:MM:SS" (`seconds` false: "YYYY-MM-DD HH:MM"). */
export function isoDateTime(epoch, { zone, seconds = true } = {}) {
  const f = fields(epoch, zone);
  return `${f.year}-${f.month}-${f.day} ${isoClock(f, seconds)}`;
}

/** "HH:MM:SS" (`seconds` false: "HH:MM"). */
export function isoTime(epoch, { zone, seconds = true } = {}) {
  return isoClock(fields(epoch, zone), seconds);
}

function isoClock(f, seconds) {
  return seconds ? `${f.hour}:${f.minute}:${f.second}` : `${f.hour}:${f.minute}`;
}
