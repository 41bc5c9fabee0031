// The console's shell: sign-in, the navigation and the pages, one per `#/…` address. A page's
// `render(view, …parameters)` draws it and returns what stops its refreshing when the user leaves.

import { currentSession, onSignedOut, signIn, signOut } from "./api.js";
import { fill, h, notify } from "./dom.js";
import { renderEndpoints } from "./endpoints.js";
import { renderInstances } from "./instances.js";
import { renderNewTask } from "./new-task.js";
import { renderTask } from "./task.js";
import { renderTasks } from "./tasks.js";

const routes = [
  [/^#\/tasks$/, renderTasks],
  [/^#\/tasks\/new$/, renderNewTask],
  [/^#\/tasks\/([^/]+)$/, renderTask],
  [/^#\/endpoints$/, renderEndpoints],
  [/^#\/instances$/, renderInstances],
];

const view = document.getElementById("view");
let leave = null;

async function show() {
  if (leave) leave();
  leave = null;
  const session = await currentSession();
  document.getElementById("nav").hidden = !session;
  if (!session) return renderSignIn();
  fill(document.getElementById("who"), `${session.accessKeyId} · ${session.region}`);
  const address = location.hash || "#/tasks";
  for (const [pattern, render] of routes) {
    const match = address.match(pattern);
    if (match) {
      leave = await render(view, ...match.slice(1).map(decodeURIComponent));
      return;
    }
  }
  fill(view, h("p", {}, "No such page. ", h("a", { href: "#/tasks" }, "See the tasks.")));
}

function renderSignIn() {
  const form = h("form", { id: "sign-in", class: "card narrow" },
    h("h1", {}, "Sign in to Ferry"),
    h("p", { class: "muted" }, "Use an access key of this server (ferry credentials list), as the aws CLI does."),
    h("label", {}, "Access key ID", h("input", { name: "accessKeyId", autocomplete: "username", required: true, spellcheck: "false" })),
    h("label", {}, "Secret access key", h("input", { name: "secretAccessKey", type: "password", autocomplete: "current-password", required: true })),
    h("label", {}, "Region", h("input", { name: "region", value: "us-east-1", required: true, spellcheck: "false" })),
    h("p", { id: "sign-in-error", class: "error", role: "alert" }),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await signIn(data.get("accessKeyId").trim(), data.get("secretAccessKey"), data.get("region").trim());
      if (!location.hash) location.hash = "#/tasks";
      await show();
    } catch (error) {
      fill(document.getElementById("sign-in-error"), error.message);
    }
  });
  fill(view, form);
}

document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  await show();
});
onSignedOut(() => {
  notify("The session has ended; sign in again.", "bad");
  show();
});
window.addEventListener("hashchange", show);
show();
