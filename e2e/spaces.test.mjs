// Several public spaces on one server (issue #18, item 1, first part): an admin creates a space
// and moves a workstation into it, a refused name or deletion is said in words; with two spaces
// the session form asks where the code is valid (nothing preselected, a missing choice refused
// beside the field), and a code of one space is refused on the other's workstation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, Workstation, launchBrowser, loggedInPage, screenshotPath } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.createStaff("sandrine", "admin", "Sandrine Hoarau");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function banner(page, words) {
  await page.locator(".flash", { hasText: words }).waitFor({ timeout: 5000 });
}

test("an admin makes a second space, moves a workstation into it, and its codes work there only", async () => {
  const media = await Workstation.connect(server, "MED-01");
  const quartier = await Workstation.connect(server, "MDQ-01");
  const page = await loggedInPage(browser, server, "sandrine");
  await page.goto(`${server.url}/console/postes`);

  // One space: the workstations have no space column, the session form no space list.
  assert.equal(await page.getByRole("columnheader", { name: "Espace", exact: true }).count(), 0);
  await page.getByLabel("Nom de l'espace").fill("Médiathèque de Saint-Leu");
  await page.locator('form[action="/console/espaces/1"]').getByRole("button", { name: "Enregistrer" }).click();
  await banner(page, "Espace « Médiathèque de Saint-Leu » enregistré.");

  await page.getByLabel("Nouvel espace", { exact: true }).fill("Maison de quartier");
  await page.getByLabel("Adresse du nouvel espace").fill("12 rue des Lilas, Saint-Leu");
  await page.getByRole("button", { name: "Créer l'espace" }).click();
  await banner(page, "Espace « Maison de quartier » enregistré.");
  // The same name again, in other letters' case: refused in words.
  await page.getByLabel("Nouvel espace", { exact: true }).fill("maison de QUARTIER");
  await page.getByRole("button", { name: "Créer l'espace" }).click();
  await banner(page, "Un espace s'appelle déjà « maison de QUARTIER ».");

  // Move MDQ-01 into the new space.
  await page.getByLabel("Espace de MDQ-01").selectOption({ label: "Maison de quartier" });
  await page.locator("form", { has: page.getByLabel("Espace de MDQ-01") }).getByRole("button", { name: "Déplacer" }).click();
  await banner(page, "Le poste « MDQ-01 » est maintenant dans l'espace « Maison de quartier ».");
  // A space with a workstation is not deleted.
  await page.getByRole("button", { name: "Supprimer l'espace Maison de quartier" }).click();
  await banner(page, "Cet espace a encore 1 poste");
  await page.screenshot({ path: screenshotPath("console-espaces.png"), fullPage: true });

  // The session form asks where the code is valid, with nothing chosen.
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  const space = page.getByLabel("Espace où le code est valable");
  assert.equal(await space.inputValue(), "");
  await page.getByLabel("Nom du visiteur").fill("Awa Hoarau");
  await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill("45min");
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.locator("#erreur-espace", { hasText: "Choisissez l'espace où ce code sera valable." }).waitFor();
  assert.equal(await page.getByLabel("Nom du visiteur").inputValue(), "Awa Hoarau", "what was typed is kept");
  await space.selectOption({ label: "Maison de quartier" });
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.getByText("Session créée").waitFor();
  const code = (await page.locator(".ticket-code").first().innerText()).replace(/\s/g, "");

  // Typed at the médiathèque: refused in words; at the maison de quartier: it starts.
  media.send({ type: "validate_code", code, ip_address: "10.0.0.1" });
  const refused = await media.next("code_invalid");
  assert.equal(refused.raison, "mauvais_poste");
  assert.equal(refused.message, "Ce code est valable dans un autre espace. Adressez-vous à l'accueil.");
  const started = await quartier.useCode(code);
  assert.equal(started.type, "session_started");

  // A busy workstation does not move.
  await page.goto(`${server.url}/console/postes`);
  await page.getByLabel("Espace de MDQ-01").selectOption({ label: "Médiathèque de Saint-Leu" });
  await page.locator("form", { has: page.getByLabel("Espace de MDQ-01") }).getByRole("button", { name: "Déplacer" }).click();
  await banner(page, "Ce poste a une session en cours");
  media.close();
  quartier.close();
});
