// console-admin.js - the console's Admin tab (issue 18 item 5; docs/admin-area.md), shown
// to the admin role only: what needed a TOML file and the CLI, through the admin API,
// which checks every change as the CLI does and refuses it whole (nothing stored is
// lost). Sections, one module each: campaigns (strategy, settings, desk: script and
// dispositions, QA form), contact lists (upload with per-row errors) and DNC, pause codes
// and users. The API enforces the roles; hiding the tab from supervisors is only comfort.
import { el } from "./console-admin-kit.js";
import { CampaignsSection } from "./console-admin-campaigns.js";
import { DncSection, ListsSection } from "./console-admin-lists.js";
import { PauseCodesSection, UsersSection } from "./console-admin-people.js";

const SECTIONS = ["campaigns", "lists", "dnc", "pause", "users"];

export class Admin {
  /** @param {HTMLElement} root the tab's (empty) view
   *  @param {{ api: any, i18n: any, toast: (text: string, bad?: boolean) => void, me: any }} deps */
  constructor(root, deps) {
    this.root = root;
    this.deps = deps;
    this.current = "campaigns";
    this.started = false;
  }

  start() {
    const nav = el("nav", { cls: "subtabs", attrs: { "data-testid": "adm-sections" } });
    this.boxes = {};
    for (const name of SECTIONS) {
      const b = el("button", { cls: "subtab", ct: `adm.section.${name}`, text: this.deps.i18n.t(`adm.section.${name}`),
                               attrs: { type: "button", "data-section": name, "data-testid": `adm-section-${name}` } });
      b.addEventListener("click", () => this.show(name));
      nav.append(b);
      this.boxes[name] = el("div", { cls: "adm-section hidden", attrs: { "data-testid": `adm-${name}` } });
    }
    this.root.replaceChildren(nav, ...Object.values(this.boxes));
    const onCampaigns = (names) => {
      this.sections.lists.setCampaigns(names);
      this.sections.dnc.setCampaigns(names);
    };
    this.sections = {
      campaigns: new CampaignsSection(this.boxes.campaigns, { ...this.deps, onCampaigns }),
      lists: new ListsSection(this.boxes.lists, this.deps),
      dnc: new DncSection(this.boxes.dnc, this.deps),
      pause: new PauseCodesSection(this.boxes.pause, this.deps),
      users: new UsersSection(this.boxes.users, this.deps),
    };
    this.started = true;
  }

  /** Open the tab (or a section of it): the section reads its data afresh. */
  async show(name = this.current) {
    if (!this.started) this.start();
    this.current = name;
    for (const b of this.root.querySelectorAll("[data-section]")) b.classList.toggle("active", b.dataset.section === name);
    for (const [n, box] of Object.entries(this.boxes)) box.classList.toggle("hidden", n !== name);
    if (name !== "campaigns" && !this.sections.campaigns.names.length) await this.sections.campaigns.load();
    await this.sections[name].load();
    this.root.dataset.section = name;
  }

  /** Draw again in the language chosen: labels, headings and buttons carry data-ct and
   *  change by themselves; the read-only tables are drawn again, the forms are left alone
   *  so nothing typed is lost. */
  render() {
    if (this.started && ["lists", "users"].includes(this.current)) this.sections[this.current].render();
  }
}
