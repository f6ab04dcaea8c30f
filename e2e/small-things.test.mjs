// Small things a person trips on in the console (issue #17, item 8): each refusal is a whole
// French sentence shown where it can be read, and nothing reads like a machine's leftovers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loggedInPage, withServerAndBrowser } from "./harness.mjs";

// A server with marie (admin) and paul (animateur), and a browser, for this file's tests.
const run = withServerAndBrowser({ marie: "admin", paul: "animateur" });

const CREATE = "Créer et imprimer le ticket";

test("the banner after a new session is a whole sentence that gives its code", async () => {
  const page = await loggedInPage(run.browser, run.server, "paul");
  await page.goto(`${run.server.url}/console/sessions/nouvelle`);
  await page.getByLabel("2 h", { exact: true }).check();
  await page.getByRole("button", { name: CREATE }).click();
  const banner = (await page.locator(".flash--ok").innerText()).trim();
  const match = banner.match(/^Session créée \(2 h\) : code ([A-Z2-9]{6}), son ticket est ci-dessous\.$/);
  assert.ok(match, banner);
  const ticket = (await page.locator(".ticket-code").innerText()).replace(/\s/g, "");
  assert.equal(match[1], ticket);

  await page.goto(`${run.server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Nombre de codes").fill("3");
  await page.getByRole("button", { name: CREATE }).click();
  assert.equal(
    (await page.locator(".flash--ok").innerText()).trim(),
    "3 sessions créées (1 h chacune) : leurs tickets sont ci-dessous.",
  );
  await page.context().close();
});

test("a duration out of bounds says the longest allowed, not « entre 1 s et 12 h »", async () => {
  const page = await loggedInPage(run.browser, run.server, "paul");
  for (const typed of ["13h", "0min"]) {
    await page.goto(`${run.server.url}/console/sessions/nouvelle`);
    await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill(typed);
    await page.getByRole("button", { name: CREATE }).click();
    const error = (await page.locator("#erreur-duree").innerText()).trim();
    assert.equal(error, "La durée doit être de 12 h au plus, et ne peut pas être nulle.");
    assert.equal(await page.getByLabel("Autre durée (par ex. 1h30, 45min)").inputValue(), typed);
  }
  await page.context().close();
});

test("a registered visitor's page and refusals read right and show where they can be read", async () => {
  const admin = await loggedInPage(run.browser, run.server, "marie");
  await admin.goto(`${run.server.url}/console/reglages`);
  await admin.getByLabel("Nom", { exact: true }).fill("Ados");
  await admin.getByLabel("Minutes par jour").fill("60");
  await admin.getByRole("button", { name: "Ajouter la catégorie" }).click();
  await admin.getByText("Catégorie « Ados » enregistrée.").waitFor();
  await admin.context().close();

  const page = await loggedInPage(run.browser, run.server, "paul");
  await page.goto(`${run.server.url}/console/visiteurs`);
  await page.getByLabel("Nom et prénom").fill("Noé Rivière");
  await page.getByLabel("Catégorie").selectOption({ label: "Ados (1 h par jour)" });
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByText("Visiteur « Noé Rivière » enregistré.").waitFor();
  const usage = page.locator(".resume-visiteur dd").nth(1);
  assert.equal((await usage.innerText()).trim(), "Aucune session cette semaine.");

  // Two codes for one visitor: refused beside « Nombre de codes » (there is no name field).
  await page.getByRole("link", { name: "Nouvelle session pour ce visiteur" }).click();
  await page.getByLabel("Nombre de codes").fill("2");
  await page.getByRole("button", { name: CREATE }).click();
  await page.locator("#erreur-nombre").filter({ hasText: "Un seul code à la fois pour un visiteur inscrit." }).waitFor();

  // The day's hour given, a second code is refused for the visitor, not for a duration.
  await page.getByLabel("Nombre de codes").fill("1");
  await page.getByLabel("1 h", { exact: true }).check();
  await page.getByRole("button", { name: CREATE }).click();
  await page.getByText("Session créée (1 h)").waitFor();
  await page.goto(`${run.server.url}/console/visiteurs?q=Noé`);
  await page.getByRole("link", { name: "Noé Rivière" }).click();
  assert.equal((await usage.innerText()).trim(), "1 h aujourd'hui, 1 h cette semaine.");
  await page.getByRole("link", { name: "Nouvelle session pour ce visiteur" }).click();
  await page.getByLabel("30 min", { exact: true }).check();
  await page.getByRole("button", { name: CREATE }).click();
  await page
    .getByRole("alert")
    .filter({ hasText: "Catégorie « Ados » : 1 h par jour au plus, déjà tout utilisé aujourd'hui." })
    .waitFor();
  assert.equal(await page.locator("#erreur-duree").count(), 0);
  await page.context().close();
});

test("two visitors cannot have the same card number; what was typed is kept", async () => {
  const page = await loggedInPage(run.browser, run.server, "paul");
  await page.goto(`${run.server.url}/console/visiteurs`);
  await page.getByLabel("Nom et prénom").fill("Awa Payet");
  await page.getByLabel("Numéro de carte (facultatif)").fill("MÉD-0042");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByText("Visiteur « Awa Payet » enregistré.").waitFor();

  await page.goto(`${run.server.url}/console/visiteurs`);
  await page.getByLabel("Nom et prénom").fill("Jean Dupont");
  await page.getByLabel("Numéro de carte (facultatif)").fill("méd-0042");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page
    .locator("#e-carte")
    .filter({ hasText: "La carte « méd-0042 » est déjà celle de Awa Payet" })
    .waitFor();
  assert.equal(await page.getByLabel("Nom et prénom").inputValue(), "Jean Dupont");
  assert.equal(await page.getByLabel("Numéro de carte (facultatif)").inputValue(), "méd-0042");
  await page.goto(`${run.server.url}/console/visiteurs?q=Dupont`);
  assert.equal(await page.getByRole("link", { name: "Jean Dupont" }).count(), 0);
  // The search folds accented capitals as the card check does (decision 0015).
  await page.goto(`${run.server.url}/console/visiteurs?q=${encodeURIComponent("méd-00")}`);
  await page.getByRole("link", { name: "Awa Payet" }).waitFor();
  await page.context().close();
});

test("« Réglages » shows every mistake of a save at once", async () => {
  const page = await loggedInPage(run.browser, run.server, "marie");
  await page.goto(`${run.server.url}/console/reglages`);
  await page.getByLabel("Nom de l'espace").fill("");
  await page.getByLabel("Premier avertissement, minutes avant la fin").fill("cinq");
  await page.getByLabel("Longueur des codes (4 à 16 caractères)").fill("3");
  await page.getByLabel("Lundi, ouverture").fill("18:00");
  await page.getByLabel("Lundi, fermeture").fill("09:00");
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  const alert = page.locator("form .erreur[role=alert]");
  await alert.waitFor();
  const items = (await alert.locator("li").allInnerTexts()).map((text) => text.trim());
  assert.deepEqual(items, [
    "Le nom de l'espace est obligatoire (100 caractères au plus).",
    "Les avertissements se donnent en minutes (1 à 60), ou en secondes suivies de « s ».",
    "Les codes ont de 4 à 16 caractères.",
    "Lundi : indiquez l'ouverture et la fermeture (HH:MM), la fermeture après l'ouverture, ou laissez les deux vides (fermé).",
  ]);
  assert.equal(await page.getByLabel("Longueur des codes (4 à 16 caractères)").inputValue(), "3");
  await page.context().close();
});

test("the console has an icon, served by the server itself", async () => {
  const page = await loggedInPage(run.browser, run.server, "paul");
  const href = await page.locator("link[rel=icon]").getAttribute("href");
  assert.equal(href, "/console/static/favicon.svg");
  for (const path of [href, "/favicon.ico"]) {
    const response = await page.request.get(`${run.server.url}${path}`);
    assert.equal(response.status(), 200, path);
    assert.equal(response.headers()["content-type"], "image/svg+xml", path);
    assert.match(await response.text(), /^<svg /);
  }
  await page.context().close();
});
