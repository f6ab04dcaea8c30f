// A workshop (issue #18, item 4): « Ouvrir un atelier » lists the space's workstations with
// what each is now, none ticked; a missing name, duration or workstation is refused in words,
// what was typed kept; the free ones ticked in one click start their sessions together, with
// no code, the workshop's name on the workstations and the tiles; the statistics count it.
// The room paused: every connected workstation of protocol 5 gets staff's words (an older
// agent is named in the banner), its tile says so, on a console left open too (its tiles only
// fetched), and the pause is lifted the same way.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Workstation,
  loggedInPage,
  newSession,
  screenshotPath,
  tile,
  withServerAndBrowser,
} from "./harness.mjs";

const run = withServerAndBrowser({ marie: "animateur" });

test("staff open a workshop on the free workstations ticked, refused in words until it can open", async () => {
  const { server, browser } = run;
  const first = await Workstation.connect(server, "Salle-01", { protocole: 5 });
  const second = await Workstation.connect(server, "Salle-02", { protocole: 5 });
  await Workstation.connect(server, "Salle-03", { protocole: 4 });
  const busy = await Workstation.connect(server, "Salle-04", { protocole: 5 });
  const page = await loggedInPage(browser, server, "marie");
  await busy.useCode(await newSession(page, server, "Salle-04", "1h"));

  await page.goto(`${server.url}/console/`);
  await page.getByRole("link", { name: "Ouvrir un atelier" }).click();
  await page.getByRole("heading", { name: "Ouvrir un atelier" }).waitFor();
  const box = (name) => page.getByRole("checkbox", { name: new RegExp(`^${name}\\b`) });
  for (const [name, state, free] of [
    ["Salle-01", "Libre", true],
    ["Salle-02", "Libre", true],
    ["Salle-03", "Agent à mettre à jour", false],
    ["Salle-04", "Session en cours", false],
  ]) {
    const label = page.locator("label", { has: box(name) });
    assert.match(await label.innerText(), new RegExp(state), name);
    assert.equal(await box(name).isChecked(), false, `${name} ticked beforehand`);
    assert.equal(await box(name).isEnabled(), free, name);
  }
  await page.screenshot({ path: screenshotPath("console-atelier.png"), fullPage: true });

  // Nothing typed: the duration is asked for.
  const open = page.getByRole("button", { name: "Ouvrir l'atelier sur les postes cochés" });
  await open.click();
  await page.getByRole("alert").filter({ hasText: "Indiquez une durée" }).waitFor();
  // A duration mistyped: said, the name kept.
  await page.getByLabel(/Nom de l'atelier/).fill("Atelier CV");
  await page.getByLabel(/Durée/).fill("1h3O");
  await open.click();
  await page.getByRole("alert").filter({ hasText: "Durée « 1h3O » invalide" }).waitFor();
  assert.equal(await page.getByLabel(/Nom de l'atelier/).inputValue(), "Atelier CV");
  // No workstation ticked.
  await page.getByLabel(/Durée/).fill("1h30");
  await open.click();
  await page.getByRole("alert").filter({ hasText: "Cochez les postes de l'atelier : rien n'a été ouvert." }).waitFor();
  assert.equal(await page.getByLabel(/Durée/).inputValue(), "1h30");
  assert.equal(first.messages.filter((m) => m.type === "session_started").length, 0);

  // One taken meanwhile: refused whole, nothing opened, the boxes as ticked.
  await page.getByRole("button", { name: "Cocher tous les postes libres" }).click();
  assert.equal(await box("Salle-01").isChecked(), true);
  assert.equal(await box("Salle-02").isChecked(), true);
  second.close();
  await open.click();
  await page
    .getByRole("alert")
    .filter({ hasText: "Rien n'a été ouvert : Salle-02 n'est pas connecté." })
    .waitFor();
  assert.equal(await box("Salle-02").isChecked(), true);
  assert.equal(first.messages.filter((m) => m.type === "session_started").length, 0);

  // Back: it opens on both, together, with the workshop's name.
  const back = await Workstation.connect(server, "Salle-02", { protocole: 5 });
  await open.click();
  await page
    .locator(".flash", { hasText: "Atelier « Atelier CV » ouvert sur 2 poste(s) pour 1 h 30 min : les sessions ont commencé." })
    .waitFor();
  const [one, two] = await Promise.all([first.next("session_started"), back.next("session_started")]);
  for (const started of [one, two]) {
    assert.equal(started.session.utilisateur, "Atelier CV");
    assert.equal(started.session.duree_totale, 5400);
  }
  assert.equal(one.session.debut_session, two.session.debut_session, "started together");
  await tile(page, "Salle-01").getByText("Atelier CV").waitFor();
  await tile(page, "Salle-02").getByText("Atelier CV").waitFor();

  // The statistics count it by its name.
  await page.goto(`${server.url}/console/statistiques`);
  const workshops = page.getByRole("region", { name: "Ateliers (participants, un par poste)", exact: true });
  await workshops.locator("svg.graphique").waitFor();
  // Its table (folded under the chart): one sitting, two participants.
  const row = workshops.locator("tr", { has: page.locator("th", { hasText: "Atelier CV (1 séance(s))" }) });
  assert.equal((await row.locator("td").textContent()).trim(), "2");
});

test("staff pause every workstation of the space for a workshop, then lift the pause", async () => {
  const { server, browser } = run;
  const fresh = await Workstation.connect(server, "Salle-06", { protocole: 5 });
  // A second console left on the dashboard: the pause shows there live, through the feed,
  // fetching the space's tiles only, never the whole grid.
  const watching = await loggedInPage(browser, server, "marie");
  await watching.getByText("Mise à jour en direct").waitFor();
  await tile(watching, "Salle-06").waitFor();
  // The feed's opening fetches the whole dashboard once (whatever changed before it): done
  // before the fetches are counted. The status's words are in the page from the start, so they
  // do not say the feed is open.
  await watching.waitForFunction(() => document.body.dataset.miseAJour !== undefined);
  const fetched = [];
  watching.on("request", (request) => {
    if (request.url().includes("/console/tuiles")) fetched.push(new URL(request.url()).search);
  });
  const page = await loggedInPage(browser, server, "marie");
  const panel = page.locator("details.outils-espace");
  await panel.locator("summary").click();
  const form = panel.locator("form.pause-tous");
  await form.getByLabel(/Message sur les écrans/).fill("Regardez l'écran de l'animateur");
  await form.screenshot({ path: screenshotPath("console-pause.png") });
  await form.getByRole("button", { name: "Mettre en pause" }).click();
  await page
    .locator(".flash", { hasText: /poste\(s\) mis en pause\..*1 poste\(s\) à l'agent trop ancien/ })
    .waitFor();
  const paused = await fresh.next("lock");
  assert.deepEqual(paused, { type: "lock", verrouille: true, message: "Regardez l'écran de l'animateur" });
  await tile(page, "Salle-06").getByText("En pause (atelier)").waitFor();
  await tile(watching, "Salle-06").getByText("En pause (atelier)").waitFor();
  assert.ok(fetched.length > 0 && fetched.every((query) => query.startsWith("?postes=")), `fetched: ${JSON.stringify(fetched)}`);
  // A workstation that connects while it lasts is paused at once.
  const late = await Workstation.connect(server, "Salle-07", { protocole: 5 });
  assert.equal((await late.next("lock")).verrouille, true);
  // A workstation new to the grid brings the whole grid; what follows is the pause's only.
  await tile(watching, "Salle-07").waitFor();
  await watching.waitForTimeout(500);
  fetched.length = 0;

  await page.locator("details.outils-espace summary").click();
  await page.locator("form.pause-tous").getByRole("button", { name: "Lever la pause" }).click();
  await page.locator(".flash", { hasText: "Pause levée sur" }).waitFor();
  assert.deepEqual(await fresh.next("lock"), { type: "lock", verrouille: false });
  assert.equal(await tile(page, "Salle-06").getByText("En pause (atelier)").count(), 0);
  await tile(watching, "Salle-06").getByText("En pause (atelier)").waitFor({ state: "detached" });
  assert.ok(fetched.length > 0 && fetched.every((query) => query.startsWith("?postes=")), `fetched: ${JSON.stringify(fetched)}`);
});
