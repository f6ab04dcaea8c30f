// « Équipe » manages the team (issue #17, item 7): an admin disables an account and its open
// console goes to the login page at once; re-enables it; gives it a new password typed twice;
// deletes it after a confirmation, the history keeping what it did. A page left open says so
// when someone changed the account meanwhile; an admin cannot close their own account.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, Server, launchBrowser, loggedInPage, screenshotPath } from "./harness.mjs";

const NEW_PASSWORD = "nouveau-mot-de-passe-de-marie";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.createStaff("sandrine", "admin", "Sandrine Hoarau");
  server.createStaff("marie", "animateur", "Marie Payet");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The « Équipe » row of `login`, its « Gérer… » menu open.
async function manage(page, login) {
  const row = page.locator("tr", { has: page.getByRole("cell", { name: login, exact: true }) });
  await row.getByLabel(`Gérer le compte ${login}`).click();
  return row;
}

async function loginRefused(page, login, password) {
  await page.goto(`${server.url}/console/connexion`);
  await page.getByLabel("Identifiant").fill(login);
  await page.getByLabel("Mot de passe").fill(password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByText("Identifiant ou mot de passe incorrect.").waitFor();
}

test("an admin disables, re-enables, resets and deletes an account; its open console ends at once", async () => {
  const marie = await loggedInPage(browser, server, "marie");
  await marie.getByText("Mise à jour en direct").waitFor();
  const admin = await loggedInPage(browser, server, "sandrine");
  // A second admin page, left open on « Équipe » before the change.
  const stale = await admin.context().newPage();
  await stale.goto(`${server.url}/console/equipe`);

  await admin.getByRole("link", { name: "Équipe" }).click();
  // Her own account: nothing to close it with.
  const own = await manage(admin, "sandrine");
  assert.equal(await own.getByRole("button", { name: "Désactiver sandrine" }).count(), 0);
  assert.equal(await own.getByRole("button", { name: "Supprimer sandrine" }).count(), 0);
  assert.match(await own.innerText(), /Votre propre compte/);

  let row = await manage(admin, "marie");
  await row.getByRole("button", { name: "Désactiver marie" }).click();
  await admin.getByText("Compte « marie » désactivé").waitFor();
  row = admin.locator("tr", { has: admin.getByRole("cell", { name: "marie", exact: true }) });
  assert.match(await row.innerText(), /Désactivé depuis le/);
  // Marie's dashboard, untouched by her, is sent to the login page by its live feed.
  await marie.waitForURL(`${server.url}/console/connexion`, { timeout: 5000 });
  await loginRefused(marie, "marie", PASSWORD);

  // The page left open: the change is said, not made twice.
  await (await manage(stale, "marie")).getByRole("button", { name: "Désactiver marie" }).click();
  await stale.getByText("Le compte « marie » est déjà désactivé (quelqu'un l'a fait entre-temps).").waitFor();
  await stale.close();

  row = await manage(admin, "marie");
  await row.getByRole("button", { name: "Réactiver marie" }).click();
  await admin.getByText("Compte « marie » réactivé").waitFor();

  // A new password, typed twice with the password rules.
  row = await manage(admin, "marie");
  await row.getByLabel("Nouveau mot de passe pour marie").fill(NEW_PASSWORD);
  await row.getByLabel("Confirmez le mot de passe pour marie").fill("pas le même mot de passe");
  await row.getByRole("button", { name: "Changer le mot de passe de marie" }).click();
  await admin.getByText("Mot de passe de « marie » non changé : Les deux mots de passe ne sont pas identiques.").waitFor();
  row = await manage(admin, "marie");
  await row.getByLabel("Nouveau mot de passe pour marie").fill(NEW_PASSWORD);
  await row.getByLabel("Confirmez le mot de passe pour marie").fill(NEW_PASSWORD);
  await row.getByRole("button", { name: "Changer le mot de passe de marie" }).click();
  await admin.getByText("Nouveau mot de passe de « marie » enregistré").waitFor();
  await loginRefused(marie, "marie", PASSWORD);
  await marie.getByLabel("Mot de passe").fill(NEW_PASSWORD);
  await marie.getByRole("button", { name: "Se connecter" }).click();
  await marie.waitForURL(`${server.url}/console/`);

  // Deleting asks for a confirmation first.
  row = await manage(admin, "marie");
  await admin.screenshot({ path: screenshotPath("console-equipe-gerer.png") });
  await row.getByRole("button", { name: "Supprimer marie" }).click();
  assert.equal(await admin.getByText("Compte « marie » supprimé").count(), 0, "not without the box checked");
  await row.getByLabel("Je confirme la suppression du compte marie").check();
  await row.getByRole("button", { name: "Supprimer marie" }).click();
  await admin.getByText("Compte « marie » supprimé").waitFor();
  assert.equal(await admin.getByRole("cell", { name: "marie", exact: true }).count(), 0);
  await marie.waitForURL(`${server.url}/console/connexion`, { timeout: 5000 });

  // The history keeps who did what: marie's logins are still hers, the changes are there.
  await admin.goto(`${server.url}/console/historique?groupe=equipe`);
  const text = await admin.locator("table.liste").innerText();
  for (const expected of [
    "Compte désactivé",
    "Compte réactivé",
    "Mot de passe changé",
    "Compte supprimé",
    "Compte « marie » : supprimé (son historique est gardé, son identifiant reste réservé)",
  ]) {
    assert.ok(text.includes(expected), `${expected} in ${text}`);
  }
  const marieLogin = admin.locator("tr", { hasText: "Connexion à la console" }).filter({
    has: admin.getByRole("cell", { name: "marie", exact: true }),
  });
  assert.ok((await marieLogin.count()) >= 2, "marie's logins are still hers");

  // Her login is not given again.
  await admin.goto(`${server.url}/console/equipe`);
  await admin.getByLabel("Identifiant").fill("marie");
  await admin.getByLabel("Nom complet").fill("Une autre Marie");
  await admin.locator("#mot_de_passe").fill(NEW_PASSWORD);
  await admin.locator("#confirmation").fill(NEW_PASSWORD);
  await admin.getByRole("button", { name: "Créer le compte" }).click();
  await admin.getByText("L'identifiant « marie » était celui d'un compte supprimé").waitFor();
  await admin.context().close();
  await marie.context().close();
});
