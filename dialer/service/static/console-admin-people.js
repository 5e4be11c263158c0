// console-admin-people.js - the Admin tab's pause codes (示忙原因) and users.
// Pause codes are edited as a table and saved whole with PUT /api/admin/pause-codes,
// checked as `trunkline dialer pause-codes --set` checks them (a refusal saves nothing
// and the table keeps what was typed). Users: add one (name, role, password: the rules of
// `trunkline users add`), disable or enable, change the role, set a new password; each
// through /api/users, audited by the API, which ends the user's sessions where it must.
import { button, el, field, input, select, table } from "./console-admin-kit.js";

const ROLES = ["agent", "supervisor", "admin"];

export class PauseCodesSection {
  constructor(root, deps) {
    Object.assign(this, deps);          // api, i18n, toast
    this.root = root;
    this.rows = null;                   // [{code, label, limit}] as edited
    this.dirty = false;                 // edited since loaded or saved
    root.addEventListener("input", () => { this.dirty = true; });
    root.addEventListener("click", (e) => { if (e.target.closest("button")) this.dirty = true; });
  }

  /** The stored codes, unless the table holds edits not saved yet (kept, not overwritten
   *  by a read that was under way while the admin typed). */
  async load() {
    let stored;
    try {
      stored = await this.api.get("/api/admin/pause-codes");
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
      stored = [];
    }
    if (this.dirty && this.rows) return;
    this.rows = stored;
    this.render();
  }

  render() {
    const t = (k, p) => this.i18n.t(k, p);
    const error = el("p", { cls: "error-line", attrs: { role: "alert", "data-testid": "adm-pause-error" } });
    const controls = this.rows.map((p) => ({
      code: input(p.code, { "data-testid": "adm-pause-code" }),
      label: input(p.label || "", { "data-testid": "adm-pause-label" }),
      limit: input(p.limit ?? "", { inputmode: "numeric", size: "6", "data-testid": "adm-pause-limit" }),
    }));
    const read = () => controls.map((c) => {
      const limit = c.limit.value.trim();
      const n = Number(limit);
      return { code: c.code.value.trim(), label: c.label.value.trim(),
               limit: limit === "" ? null : (Number.isFinite(n) ? n : limit) };
    });
    const rows = controls.map((c, i) => [c.code, c.label, c.limit,
      button(this.i18n, "adm.remove", "adm-pause-remove", () => { this.rows = read().filter((_, j) => j !== i); this.render(); }, "btn ghost")]);
    const add = button(this.i18n, "adm.pause.add", "adm-pause-add", () => {
      this.rows = [...read(), { code: "", label: "", limit: null }];
      this.render();
      const codes = this.root.querySelectorAll("[data-testid=adm-pause-code]");
      codes[codes.length - 1].focus();
    });
    const save = button(this.i18n, "adm.save", "adm-pause-save", async () => {
      error.textContent = "";
      const wanted = read();
      try {
        this.rows = await this.api.request("PUT", "/api/admin/pause-codes", { pause_code: wanted });
        this.dirty = false;
        this.toast(t("adm.pause.saved", { n: this.rows.length }));
        this.render();
      } catch (err) {
        this.rows = wanted;               // keep what was typed; nothing was stored
        error.textContent = err.message;
      }
    }, "btn primary");
    this.root.replaceChildren(
      el("p", { cls: "muted", text: t("adm.pause.hint"), ct: "adm.pause.hint" }),
      table(this.i18n, ["adm.pause.code", "adm.pause.label", "adm.pause.limit", "col.actions"], rows, "adm-pause-codes"),
      el("div", { cls: "row" }, add, save), error);
  }
}

export class UsersSection {
  constructor(root, deps) {
    Object.assign(this, deps);          // api, i18n, toast, me
    this.root = root;
    this.users = [];
  }

  async load() {
    try {
      this.users = await this.api.get("/api/users");
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    }
    this.render();
  }

  /** Run one change; its error goes to the section's error line, success reloads. */
  async change(fn, done) {
    this.error.textContent = "";
    try {
      await fn();
    } catch (err) {
      this.error.textContent = err.message;
      return false;
    }
    this.toast(done);
    await this.load();
    return true;
  }

  /** A button that asks once more before acting (disabling ends the user's sessions at
   *  once): the first click turns it into "Sure?" for 5 s, the second acts. */
  confirmed(key, testid, act) {
    const b = button(this.i18n, key, testid, () => {
      if (b.dataset.armed) { act(); return; }
      b.dataset.armed = "1";
      b.textContent = this.i18n.t("adm.sure");
      setTimeout(() => { delete b.dataset.armed; b.textContent = this.i18n.t(key); }, 5000);
    }, "btn bad");
    return b;
  }

  /** The form to add a user, built once: reloading the table never drops what is typed. */
  build() {
    const t = (k, p) => this.i18n.t(k, p);
    const name = input("", { "data-testid": "adm-user-name", autocomplete: "off" });
    const role = select([], "", { "data-testid": "adm-user-role" });
    const password = input("", { type: "password", autocomplete: "new-password", "data-testid": "adm-user-password" });
    this.error = el("p", { cls: "error-line", attrs: { role: "alert", "data-testid": "adm-user-error" } });
    const add = el("form", { cls: "row", attrs: { novalidate: "", "data-testid": "adm-user-add-form" } },
      field(this.i18n, "adm.user.name", name), field(this.i18n, "adm.user.role", role),
      field(this.i18n, "adm.user.password", password),
      el("button", { cls: "btn primary", text: t("adm.user.add"), ct: "adm.user.add", attrs: { type: "submit", "data-testid": "adm-user-add" } }));
    add.addEventListener("submit", async (e) => {
      e.preventDefault();
      const who = name.value.trim();
      if (await this.change(() => this.api.post("/api/users", { name: who, role: role.value, password: password.value }),
                            t("adm.user.added", { name: who }))) {
        name.value = "";
        password.value = "";
      }
    });
    this.roleBox = role;
    this.grid = el("div");
    this.root.replaceChildren(add, this.error, this.grid);
  }

  render() {
    const t = (k, p) => this.i18n.t(k, p);
    if (!this.grid) this.build();
    const roles = ROLES.map((r) => [r, t(`adm.role.${r}`)]);
    const chosen = this.roleBox.value || "agent";
    this.roleBox.replaceChildren(...roles.map(([v, text]) => el("option", { text, attrs: { value: v } })));
    this.roleBox.value = chosen;
    const path = (u, verb) => `/api/users/${encodeURIComponent(u.name)}/${verb}`;
    const rows = this.users.map((u) => {
      const own = this.me && u.name === this.me.name;
      const newRole = select(roles, u.role, { "data-testid": "adm-user-new-role" });
      newRole.disabled = own;
      newRole.addEventListener("change", () => this.change(
        () => this.api.post(path(u, "role"), { role: newRole.value }), t("adm.user.role_set", { name: u.name, role: t(`adm.role.${newRole.value}`) })));
      const pw = input("", { type: "password", autocomplete: "new-password", size: "12", "data-testid": "adm-user-new-password",
                             placeholder: t("adm.user.new_password") });
      const actions = el("div", { cls: "actions" }, pw,
        button(this.i18n, "adm.user.set_password", "adm-user-set-password", () => this.change(
          () => this.api.post(path(u, "password"), { password: pw.value }), t("adm.user.password_set", { name: u.name }))));
      if (!own) {
        actions.append(u.disabled
          ? button(this.i18n, "adm.user.enable", "adm-user-enable", () => this.change(
            () => this.api.post(path(u, "enable")), t("adm.user.enabled", { name: u.name })))
          : this.confirmed("adm.user.disable", "adm-user-disable", () => this.change(
            () => this.api.post(path(u, "disable")), t("adm.user.disabled", { name: u.name }))));
      }
      return [u.name, newRole, t(u.disabled ? "adm.user.is_disabled" : "adm.user.is_active"), actions];
    });
    const grid = table(this.i18n, ["adm.user.name", "adm.user.role", "adm.user.state", "col.actions"], rows, "adm-users");
    this.users.forEach((u, i) => { grid.tBodies[0].rows[i].dataset.user = u.name; });
    this.grid.replaceChildren(grid);
  }
}
