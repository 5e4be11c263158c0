// role-links.js - the header's links between the pages a user may work on: the agent
// desktop (/desk, every role: a supervisor or admin may take a position too) and the
// supervisor console (/console, supervisors and admins). A link names the roles it is for,
// and stays hidden for the others (the page's own server checks stand regardless):
//   <a class="btn ghost hidden" href="/console" data-roles="supervisor admin">
// Loaded as a module of its own by the page, so the page's main script is unchanged.
import { Api } from "./api.js";

export async function showRoleLinks(root = document) {
  let me;
  try { me = await new Api().me(); } catch { return; }   // logged out: the page says so
  for (const link of root.querySelectorAll("a[data-roles]")) {
    link.classList.toggle("hidden", !link.dataset.roles.split(/\s+/).includes(me.role));
  }
}

showRoleLinks();
