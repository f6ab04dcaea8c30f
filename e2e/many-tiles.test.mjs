// A dashboard of many workstations (issue #18, item 5): past `console.full_tiles_max` tiles,
// Chromium takes seconds to lay out each tile's forms (docs/benchmarks.md), so the tiles come
// without their buttons, each leading to its workstation's page where they are. The live feed
// keeps the tiles in that form; the workstation's page acts as the dashboard's tile did and
// follows that workstation live, and another space's workstation page is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Workstation, loggedInPage, screenshotPath, serverAndBrowser, tile } from "./harness.mjs";

const shared = serverAndBrowser("sandrine", "Sandrine Hoarau", { POSTE_SERVER_CONSOLE__FULL_TILES_MAX: "3" });

test("past full_tiles_max the tiles carry no form, live, and each workstation's page acts", async () => {
  const { server, browser } = shared;
  const postes = [];
  for (const name of ["Salle-01", "Salle-02", "Salle-03", "Salle-04"]) {
    postes.push(await Workstation.connect(server, name));
  }
  const [first] = postes;
  const page = await loggedInPage(browser, server, "sandrine");
  await tile(page, "Salle-04").getByText("Libre").waitFor();
  await page.getByText("Mise à jour en direct").waitFor();
  await page.getByText("4 postes sont affichés : leurs boutons sont sur la page de chaque poste").waitFor();
  assert.equal(await page.locator("#tuiles form").count(), 0, "no form on the tiles");
  assert.equal(await page.locator("#tuiles").getAttribute("data-vue"), "compacte");

  // A session starts and its visitor asks for time: the tile says so live, still without forms.
  const out = server.cli(["session", "create", "--duree", "1h", "--poste", "Salle-01", "--json"]);
  const [{ code_acces: code }] = JSON.parse(out);
  const started = await first.useCode(code);
  first.send({ type: "request_time", session_id: started.session.id, minutes: 20 });
  assert.equal((await first.next("time_request")).statut, "en_attente");
  const asking = tile(page, "Salle-01");
  await asking.getByText("Demande de temps").waitFor({ timeout: 3000 });
  assert.match(await asking.locator(".demande").innerText(), /20 min/);
  assert.equal(await page.locator("#tuiles form").count(), 0, "the live tiles carry no form either");
  await page.screenshot({ path: screenshotPath("console-tuiles-compactes.png"), fullPage: true });

  // The tile leads to the workstation's page, with the buttons the dashboard's tile had.
  await asking.getByRole("link", { name: "Répondre à la demande…" }).click();
  await page.waitForURL(/\/console\/postes\/\d+$/);
  await page.getByRole("heading", { name: "Salle-01", level: 1 }).waitFor();
  assert.equal(await page.locator(".tuile").count(), 1);
  await page.screenshot({ path: screenshotPath("console-page-poste.png"), fullPage: true });
  await page.getByLabel("Accorder (min)").fill("25");
  await page.getByRole("button", { name: "Accepter" }).click();
  await page.getByText("Demande acceptée : 25 min ajoutées sur Salle-01.").waitFor();
  assert.equal((await first.next("time_request")).statut, "acceptee");

  // « Agir sur… », from the dashboard again: +15 min reaches the workstation.
  await tile(page, "Salle-01").getByRole("link", { name: "Agir sur Salle-01…" }).click();
  await page.getByRole("button", { name: "+15 min" }).click();
  await page.getByText("15 min ajoutées sur Salle-01.").waitFor();
  const updates = first.messages.filter((m) => m.type === "time_update");
  assert.ok(updates.length >= 2, JSON.stringify(first.messages));

  // A partial fetch of a tile is in the form the page asks; an unknown form is refused.
  const bad = await page.request.get(`${server.url}/console/tuiles?postes=1&vue=grande`);
  assert.equal(bad.status(), 400);
  assert.match(await bad.text(), /Formulaire incomplet ou mal formé/);
  // A query string that does not parse: the same French page, not the framework's English.
  const twice = await page.request.get(`${server.url}/console/tuiles?postes=1&postes=2`);
  assert.equal(twice.status(), 400);
  assert.match(await twice.text(), /Formulaire incomplet ou mal formé/);
  const full = await (await page.request.get(`${server.url}/console/tuiles?postes=1&vue=complete`)).text();
  assert.ok(full.includes('action="/console/postes/1/message"'), full);
  const compact = await (await page.request.get(`${server.url}/console/tuiles?postes=1&vue=compacte`)).text();
  assert.ok(!compact.includes("<form"), compact);
  assert.ok(compact.includes('href="/console/postes/1"'), compact);

  // A workstation that is not there: said on the dashboard.
  await page.goto(`${server.url}/console/postes/9999`);
  await page.getByText("Ce poste n'existe plus.").waitFor();
  // An address that names no workstation at all: the console's page, in French.
  for (const path of ["/console/postes/abc", "/console/postes/99999999999999999999"]) {
    const response = await page.goto(`${server.url}${path}`);
    assert.equal(response.status(), 404, path);
    await page.getByText("Page introuvable.").waitFor();
  }

  for (const poste of postes) poste.close();
  await page.context().close();
});

test("a workstation's page follows that workstation live, and only it", async () => {
  const { server, browser } = shared;
  const watched = await Workstation.connect(server, "Suivi-01");
  const other = await Workstation.connect(server, "Suivi-02");
  const page = await loggedInPage(browser, server, "sandrine");
  await tile(page, "Suivi-01").getByRole("link", { name: "Agir sur Suivi-01…" }).click();
  await page.getByRole("heading", { name: "Suivi-01", level: 1 }).waitFor();
  await page.getByText("Mise à jour en direct").waitFor();
  // The feed's first event fetches the tile once: what follows counts from there.
  await page.waitForFunction(() => document.body.dataset.miseAJour !== undefined);
  await page.evaluate(() => {
    window.pasRecharge = true;
  });
  const fetched = [];
  page.on("request", (request) => {
    if (request.url().includes("tuile")) fetched.push(new URL(request.url()).pathname);
  });

  // Codes made from the command line reach the server through the event log as a change of
  // anything, which the page hears too: counted from when those are behind.
  const codeFor = (name, visitor) => JSON.parse(server.cli([
    "session", "create", "--duree", "1h", "--poste", name, "--utilisateur", visitor, "--json",
  ]))[0].code_acces;
  const otherCode = codeFor("Suivi-02", "Ailleurs");
  const watchedCode = codeFor("Suivi-01", "Mme Payet");
  const quiet = async () => {
    let seen;
    do {
      seen = fetched.length;
      await page.waitForTimeout(1000); // the event log is read every 200 ms here
    } while (fetched.length !== seen);
  };
  await quiet();
  fetched.length = 0;
  const id = page.url().split("/").at(-1);

  // A session on another workstation: nothing fetched (a feed's event comes within 100 ms).
  await other.useCode(otherCode);
  await page.waitForTimeout(1000);
  assert.deepEqual(fetched, [], "nothing fetched for another workstation");
  // One on this workstation: its tile, alone, without a reload.
  assert.equal(await page.locator(".tuile").getByText("Mme Payet").count(), 0);
  await watched.useCode(watchedCode);
  await page.locator(".tuile").getByText("Mme Payet").waitFor({ timeout: 3000 });
  await page.getByRole("button", { name: "+15 min" }).waitFor();
  assert.ok(fetched.length > 0 && fetched.every((path) => path === `/console/postes/${id}/tuile`),
    `this tile only: ${JSON.stringify(fetched)}`);
  assert.equal(await page.evaluate(() => window.pasRecharge), true, "no reload");

  // The tile's fragment and feed are the staff member's: a number that is not one is refused.
  const bad = await page.request.get(`${server.url}/console/flux?poste=abc`);
  assert.equal(bad.status(), 400);
  assert.match(await bad.text(), /Formulaire incomplet ou mal formé/);
  const gone = await page.request.get(`${server.url}/console/postes/9999/tuile`);
  assert.equal(gone.status(), 404);

  watched.close();
  other.close();
  await page.context().close();
});

test("another space's workstation page is refused", async () => {
  const { server, browser } = shared;
  const here = await Workstation.connect(server, "Ici-01");
  const there = await Workstation.connect(server, "Ailleurs-01");
  const page = await loggedInPage(browser, server, "sandrine");
  await page.goto(`${server.url}/console/postes`);
  await page.getByLabel("Nouvel espace", { exact: true }).fill("Mairie annexe");
  await page.getByRole("button", { name: "Créer l'espace" }).click();
  await page.getByLabel("Espace de Ailleurs-01").selectOption({ label: "Mairie annexe" });
  await page.locator("form", { has: page.getByLabel("Espace de Ailleurs-01") }).getByRole("button", { name: "Déplacer" }).click();
  await page.getByText("est maintenant dans l'espace « Mairie annexe »").waitFor();
  const idOf = async (name) => {
    const action = await page.locator('form[action$="/espace"]', { has: page.getByLabel(`Espace de ${name}`) }).getAttribute("action");
    return Number(action.split("/").at(-2));
  };
  const [hereId, thereId] = [await idOf("Ici-01"), await idOf("Ailleurs-01")];

  // Paul works in the mairie annexe only: his workstation's page, not the other space's.
  server.createStaff("paul", "animateur", "Paul Grondin", ["--espace", "Mairie annexe"]);
  const paul = await loggedInPage(browser, server, "paul");
  const refused = await paul.request.get(`${server.url}/console/postes/${hereId}`, { maxRedirects: 0 });
  assert.equal(refused.status(), 403);
  assert.ok(!(await refused.text()).includes("Ici-01"));
  await paul.goto(`${server.url}/console/postes/${thereId}`);
  await paul.getByRole("heading", { name: "Ailleurs-01", level: 1 }).waitFor();
  await paul.getByText("Message, service, allumage…").waitFor();
  const tileRefused = await paul.request.get(`${server.url}/console/postes/${hereId}/tuile`);
  assert.equal(tileRefused.status(), 403);
  const feedRefused = await paul.request.get(`${server.url}/console/flux?poste=${hereId}`);
  assert.equal(feedRefused.status(), 403);

  // Moved back out of his space while his page shows it: the page, following it, says so.
  await paul.waitForFunction(() => document.body.dataset.miseAJour !== undefined);
  await page.goto(`${server.url}/console/postes`);
  await page.getByLabel("Espace de Ailleurs-01").selectOption({ value: "1" }); // the space the server made
  await page.locator("form", { has: page.getByLabel("Espace de Ailleurs-01") }).getByRole("button", { name: "Déplacer" }).click();
  await page.getByText(/Ailleurs-01 » est maintenant dans l'espace/).waitFor();
  await paul.getByRole("heading", { name: "Accès refusé" }).waitFor({ timeout: 5000 });
  await paul.getByText("Ce poste ou cette session est dans un espace où vous ne travaillez pas.").waitFor();
  assert.ok(!(await paul.content()).includes("Message, service, allumage…"));

  here.close();
  there.close();
  await page.context().close();
  await paul.context().close();
});
