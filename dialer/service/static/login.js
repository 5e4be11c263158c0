// login.js - the login page (/): name and password, then the page the user came for
// (?next=/path on this site) or its role's page: the agent desktop (/desk) for an agent,
// the supervisor console (/console) for a supervisor or admin (its header links to the
// desktop, where they may take a position too).
import { Api } from "./api.js";
import { I18n } from "./i18n.js";
import { STRINGS } from "./strings.js";
import { languagePicker } from "./lang-picker.js";

const i18n = new I18n(STRINGS);
const api = new Api();
const $ = (id) => document.getElementById(id);

/** Where to go after the login: a same-site path only (no open redirect). */
function destination(role) {
  const next = new URLSearchParams(location.search).get("next");
  if (next && next.startsWith("/") && !next.startsWith("//")) return next;
  return { agent: "/desk", supervisor: "/console", admin: "/console" }[role] || "/desk";
}

function show() {
  i18n.apply();
  document.title = i18n.t("login.page_title");
  const why = new URLSearchParams(location.search).get("ended");
  if (why && !$("login-error").textContent) $("login-error").textContent = i18n.t("login.ended");
}

languagePicker($("lang"), i18n);
i18n.onChange(show);
show();

// A user whose session is still open goes straight on.
api.me().then((me) => location.replace(destination(me.role))).catch(() => {});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("name").value.trim();
  const password = $("password").value;
  $("login-error").textContent = "";
  if (!name || !password) {
    $("login-error").textContent = i18n.t("login.missing");
    return;
  }
  $("login-submit").disabled = true;
  try {
    const me = await api.login(name, password);
    location.assign(destination(me.role));
  } catch (err) {
    $("login-error").textContent = err.status === 401 ? i18n.t("login.wrong")
      : err.status === 429 ? i18n.t("login.limited", { message: err.message })
      : i18n.t("error.generic", { message: err.message });
    $("login-submit").disabled = false;
  }
});
