// The console's register and administration in a real browser: roles on every route, settings
// that reach the workstations, visitor categories with their time rules, workstations,
// history with CSV, statistics, erasure on request (RGPD), and hostile names rendered inert.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import { PASSWORD, Server, Workstation, launchBrowser, loggedInPage, screenshotPath } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.createStaff("sandrine", "admin", "Sandrine Hoarau");
  server.createStaff("paul", "animateur", "Paul Grondin");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Every page of the console and every action, as (method, path). Ids that do not exist are
// fine: the login and the role are checked before anything else.
const PAGES = [
  "/console/", "/console/tuiles", "/console/sessions", "/console/sessions.csv", "/console/sessions/nouvelle",
  "/console/tickets?ids=1", "/console/visiteurs", "/console/visiteurs/1", "/console/statistiques",
  "/console/postes", "/console/historique", "/console/historique.csv", "/console/equipe", "/console/reglages",
  "/console/statistiques/rapport.pdf?mois=2026-11", "/console/statistiques/imprimer?mois=2026-11",
];
const ACTIONS = [
  "/console/sessions", "/console/sessions/1/ajouter", "/console/sessions/1/terminer", "/console/sessions/1/annuler",
  "/console/postes/1/message", "/console/postes/1/service", "/console/postes/1", "/console/postes/1/valider",
  "/console/postes/1/alimentation", "/console/postes/1/allumer", "/console/postes/tous", "/console/postes/tous/message",
  "/console/postes/1/retirer", "/console/postes/1/espace", "/console/espaces", "/console/espaces/1",
  "/console/espaces/1/supprimer", "/console/reglages", "/console/reglages/jours", "/console/reglages/jours/retirer",
  "/console/reglages/jours/feries", "/console/categories", "/console/categories/1",
  "/console/categories/1/supprimer", "/console/visiteurs", "/console/visiteurs/1", "/console/visiteurs/1/effacer",
  "/console/equipe", "/console/equipe/debloquer", "/console/equipe/1/desactiver", "/console/equipe/1/reactiver",
  "/console/equipe/1/supprimer", "/console/equipe/1/mot-de-passe", "/console/equipe/1/espaces",
  "/console/statistiques/rapport/envoyer", "/console/espace", "/console/deconnexion",
];
const ADMIN_PAGES = ["/console/postes", "/console/historique", "/console/historique.csv", "/console/equipe", "/console/reglages"];
const ADMIN_ACTIONS = [
  "/console/postes/1", "/console/postes/1/valider", "/console/postes/1/retirer", "/console/postes/1/espace",
  "/console/espaces", "/console/espaces/1", "/console/espaces/1/supprimer", "/console/reglages",
  "/console/reglages/jours", "/console/reglages/jours/retirer", "/console/reglages/jours/feries",
  "/console/categories", "/console/categories/1", "/console/categories/1/supprimer",
  "/console/visiteurs/1/effacer", "/console/equipe", "/console/equipe/debloquer", "/console/equipe/1/desactiver",
  "/console/equipe/1/reactiver", "/console/equipe/1/supprimer", "/console/equipe/1/mot-de-passe",
  "/console/equipe/1/espaces",
];

test("without a login every page and action leads to the login page", async () => {
  for (const path of PAGES) {
    const response = await fetch(`${server.url}${path}`, { redirect: "manual" });
    assert.equal(response.status, 303, path);
    assert.match(response.headers.get("location"), /\/console\/connexion$/, path);
  }
  for (const path of ACTIONS) {
    const response = await fetch(`${server.url}${path}`, {
      method: "POST",
      body: new URLSearchParams({ csrf: "x" }),
      redirect: "manual",
    });
    assert.equal(response.status, 303, path);
  }
});

test("an animateur is refused every admin page and action, even with a valid form", async () => {
  const page = await loggedInPage(browser, server, "paul");
  const csrf = await page.locator('input[name="csrf"]').first().getAttribute("value");
  for (const path of ADMIN_PAGES) {
    const response = await page.request.get(`${server.url}${path}`, { maxRedirects: 0 });
    assert.equal(response.status(), 403, path);
  }
  for (const path of ADMIN_ACTIONS) {
    const response = await page.request.post(`${server.url}${path}`, {
      form: { csrf, nom: "x", confirme: "1" },
      maxRedirects: 0,
    });
    assert.equal(response.status(), 403, path);
  }
  await page.context().close();
});

// A console login posted from a chosen loopback address (a public workstation), as the server
// sees it: its status and page.
function loginFrom(address, login, password) {
  const body = new URLSearchParams({ identifiant: login, mot_de_passe: password }).toString();
  const url = new URL(`${server.url}/console/connexion`);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        localAddress: address,
        headers: {
          origin: server.url,
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode, text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

test("a visitor's wrong passwords keep only their address waiting, and an admin unblocks the account", async () => {
  const visitor = "127.0.4.66";
  server.createStaff("marie", "animateur", "Marie Payet");
  for (let i = 0; i < 5; i++) {
    assert.equal((await loginFrom(visitor, "marie", "devinette")).status, 401);
  }
  const waiting = await loginFrom(visitor, "marie", PASSWORD);
  assert.equal(waiting.status, 429);
  assert.match(waiting.text, /Trop d(&#39;|')essais : réessayez dans \d+ s\./);

  // Marie from the staff room (the browser, at 127.0.0.1) is not held back.
  const marie = await loggedInPage(browser, server, "marie");
  await marie.context().close();

  const page = await loggedInPage(browser, server, "sandrine");
  await page.goto(`${server.url}/console/historique?groupe=equipe`);
  const refused = page.locator("tr", { hasText: "Connexion refusée" }).first();
  await refused.waitFor();
  assert.match(await refused.innerText(), /Compte « marie » : mot de passe incorrect/);
  assert.match(await refused.innerText(), /127\.0\.4\.66/);
  assert.match(await page.locator("body").innerText(), /Connexion retenue \(trop d'essais\)/);

  // One more wrong password once the wait is over: a fresh wait (10 s), so that the page below
  // is sure to find marie still waiting on a slow machine.
  while ((await loginFrom(visitor, "marie", "devinette")).status === 429) {
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.getByRole("link", { name: "Équipe" }).click();
  const row = page.locator("tr", { hasText: "Marie Payet" });
  assert.match(await row.innerText(), /6 essais refusés depuis 127\.0\.4\.66 : attente encore \d+ s/);
  await page.screenshot({ path: screenshotPath("console-equipe-bloque.png") });
  await row.getByRole("button", { name: "Débloquer marie" }).click();
  await page.getByText("Compte « marie » débloqué").waitFor();
  assert.doesNotMatch(await row.innerText(), /essais refusés/);
  assert.equal(await row.getByRole("button", { name: "Débloquer marie" }).count(), 0);
  assert.equal((await loginFrom(visitor, "marie", PASSWORD)).status, 303);
  await page.context().close();
});

test("settings changed in the console reach the workstations and the pages", async () => {
  const page = await loggedInPage(browser, server, "sandrine");
  await page.getByRole("link", { name: "Réglages" }).click();
  await page.getByLabel("Nom de l'espace").fill("Cyber-base de Saint-Paul");
  await page.getByLabel("Premier avertissement, minutes avant la fin").fill("10");
  await page.getByLabel("Dernier avertissement, minutes avant la fin").fill("2");
  // Closing before opening on Monday: refused, with what was typed kept.
  await page.getByLabel("Lundi, ouverture").fill("18:00");
  await page.getByLabel("Lundi, fermeture").fill("09:00");
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await page.getByRole("alert").filter({ hasText: "Lundi : indiquez l'ouverture et la fermeture" }).waitFor();
  assert.equal(await page.getByLabel("Premier avertissement, minutes avant la fin").inputValue(), "10");
  await page.getByLabel("Lundi, ouverture").fill("");
  await page.getByLabel("Lundi, fermeture").fill("");
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await page.getByText("Réglages enregistrés").waitFor();
  assert.equal(await page.locator(".bandeau .site").innerText(), "Cyber-base de Saint-Paul");
  await page.screenshot({ path: screenshotPath("console-reglages.png"), fullPage: true });

  // A workstation connecting now learns the new thresholds.
  const poste = await Workstation.connect(server, "Poste-10");
  assert.deepEqual(poste.welcome.seuils, { avertissement: 600, critique: 120 });
  assert.equal(poste.welcome.espace, "Cyber-base de Saint-Paul");
  poste.close();
  // Back to the short thresholds of the other tests.
  await page.getByLabel("Premier avertissement, minutes avant la fin").fill("3s");
  await page.getByLabel("Dernier avertissement, minutes avant la fin").fill("1s");
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await page.getByText("Réglages enregistrés").waitFor();
  await page.context().close();
});

test("a category's time rules apply to a registered visitor's sessions", async () => {
  const admin = await loggedInPage(browser, server, "sandrine");
  await admin.goto(`${server.url}/console/reglages`);
  const create = admin.locator("form", { hasText: "Nouvelle catégorie" });
  await create.getByLabel("Nom", { exact: true }).fill("Jeunes");
  await create.getByLabel("Minutes par session").fill("60");
  await create.getByLabel("Minutes par jour").fill("1h30");
  await create.getByRole("button", { name: "Ajouter la catégorie" }).click();
  // A limit not in minutes: refused in the form itself, everything typed kept.
  await create
    .getByRole("alert")
    .filter({ hasText: "Les limites se donnent en minutes (un nombre entier), ou restent vides (sans limite)." })
    .waitFor();
  assert.equal(await create.getByLabel("Nom", { exact: true }).inputValue(), "Jeunes");
  assert.equal(await create.getByLabel("Minutes par session").inputValue(), "60");
  assert.equal(await create.getByLabel("Minutes par jour").inputValue(), "1h30");
  await create.getByLabel("Minutes par jour").fill("90");
  await create.getByRole("button", { name: "Ajouter la catégorie" }).click();
  await admin.getByText("Catégorie « Jeunes » enregistrée.").waitFor();
  await admin.getByText("1 h par session, 1 h 30 min par jour").waitFor();
  // In its row too: a wrong limit is said there, with what was typed.
  const row = admin.getByRole("form", { name: "Catégorie Jeunes" });
  await row.getByLabel("Par session (min)").fill("soixante");
  await row.getByRole("button", { name: "Enregistrer" }).click();
  await admin.getByRole("alert").filter({ hasText: "Les limites se donnent en minutes" }).waitFor();
  assert.equal(await admin.getByRole("form", { name: "Catégorie Jeunes" }).getByLabel("Par session (min)").inputValue(), "soixante");
  await admin.goto(`${server.url}/console/reglages`);
  await admin.context().close();

  const page = await loggedInPage(browser, server, "paul");
  await page.getByRole("link", { name: "Visiteurs" }).click();
  await page.getByLabel("Nom et prénom").fill("Awa Payet");
  await page.getByLabel("E-mail (facultatif)").fill("pas une adresse");
  await page.getByLabel("Catégorie").selectOption({ label: "Jeunes (1 h par session, 1 h 30 min par jour)" });
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByText("Adresse e-mail invalide").waitFor();
  assert.equal(await page.getByLabel("Nom et prénom").inputValue(), "Awa Payet");
  await page.getByLabel("E-mail (facultatif)").fill("awa.payet@exemple.fr");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByText("Visiteur « Awa Payet » enregistré.").waitFor();
  await page.getByText("Jeunes : 1 h par session, 1 h 30 min par jour").waitFor();

  await page.getByRole("link", { name: "Nouvelle session pour ce visiteur" }).click();
  await page.getByText("Awa Payet", { exact: true }).waitFor();
  await page.getByLabel("2 h").check();
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.locator("#erreur-duree").filter({ hasText: "Catégorie « Jeunes » : une session dure au plus 1 h." }).waitFor();
  await page.getByLabel("1 h", { exact: true }).check();
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.getByText("Session créée").waitFor();
  assert.match(await page.locator(".ticket").innerText(), /Awa Payet/);

  // A second hour would pass the 1 h 30 of the day.
  await page.goto(`${server.url}/console/visiteurs?q=payet`);
  await page.locator("#contenu").getByRole("link", { name: "Nouvelle session" }).click();
  await page.getByLabel("1 h", { exact: true }).check();
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.locator("#erreur-duree").filter({ hasText: "Déjà utilisé aujourd'hui : 1 h ; il reste 30 min." }).waitFor();
  await page.goto(`${server.url}/console/visiteurs`);
  await page.screenshot({ path: screenshotPath("console-visiteurs.png") });
  await page.context().close();
});

test("workstations are renamed and located, and the history shows who did what from where", async () => {
  const poste = await Workstation.connect(server, "Poste-11");
  const page = await loggedInPage(browser, server, "sandrine");
  await page.getByRole("link", { name: "Postes" }).click();
  const row = page.getByRole("row").filter({ has: page.locator('input[value="Poste-11"]') });
  await row.getByLabel("Nom").fill("Accueil-01");
  await row.getByLabel("Emplacement").fill("Salle Lacaze");
  await row.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByText("Poste « Accueil-01 » enregistré.").waitFor();
  await page.goto(`${server.url}/console/`);
  const tile = page.locator(".tuile", { has: page.getByRole("heading", { name: "Accueil-01", exact: true }) });
  await tile.getByText("Salle Lacaze").waitFor();

  await page.getByRole("link", { name: "Historique" }).click();
  await page.getByLabel("Type").selectOption("postes");
  await page.getByRole("button", { name: "Filtrer" }).click();
  const changed = page.getByRole("row").filter({ hasText: "Poste modifié" });
  await changed.filter({ hasText: "sandrine" }).filter({ hasText: "127.0.0.1" }).waitFor();
  await page.getByLabel("Type").selectOption("equipe");
  await page.getByRole("button", { name: "Filtrer" }).click();
  await page.getByRole("row").filter({ hasText: "Connexion à la console" }).first().waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Exporter en CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
  assert.equal(csv.split("\r\n")[0], "date;type;acteur;poste;session;detail;adresse_ip");
  assert.match(csv, /Connexion à la console;sandrine/);
  assert.doesNotMatch(csv, /Poste modifié/, "the export follows the filter");
  poste.close();
  await page.context().close();
});

test("statistics count the sessions and hours of use, as charts with their values", async () => {
  const poste = await Workstation.connect(server, "Salle-02");
  const [{ code_acces: code }] = JSON.parse(server.cli(["session", "create", "--duree", "3s", "--json"]));
  await poste.useCode(code);
  await poste.next("session_terminated", 8000);
  const page = await loggedInPage(browser, server, "paul");
  await page.getByRole("link", { name: "Statistiques" }).click();
  await page.locator(".chiffres").filter({ hasText: /1\s+sessions/ }).waitFor();
  assert.equal(await page.locator("svg.graphique").count(), 6);
  const occupancy = page.getByRole("region", { name: "Occupation par poste (heures)" });
  await occupancy.getByText("Voir les valeurs").click();
  await occupancy.getByRole("row", { name: /Salle-02/ }).waitFor();
  await page.getByRole("link", { name: "12 derniers mois" }).click();
  await page.waitForURL(/periode=mois/);
  await page.locator(".chiffres").filter({ hasText: /1\s+sessions/ }).waitFor();
  await page.screenshot({ path: screenshotPath("console-statistiques.png"), fullPage: true });
  poste.close();
  await page.context().close();
});

test("hostile names are inert in every page, ticket and export", async () => {
  const hostile = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">`;
  server.cli(["session", "create", "--duree", "1h", "--utilisateur", hostile]);
  const page = await loggedInPage(browser, server, "paul");
  let dialogs = 0;
  page.on("dialog", (dialog) => {
    dialogs += 1;
    dialog.dismiss();
  });
  await page.goto(`${server.url}/console/visiteurs`);
  await page.getByLabel("Nom et prénom").fill(hostile);
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByRole("heading", { name: hostile }).waitFor();
  for (const path of ["/console/", "/console/sessions", "/console/visiteurs?q=script"]) {
    await page.goto(`${server.url}${path}`);
    await page.getByText(hostile).first().waitFor();
  }
  await page.goto(`${server.url}/console/sessions?utilisateur=script`);
  await page.getByRole("link", { name: "Ticket" }).first().click();
  await page.locator(".ticket").getByText(hostile).waitFor();
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(dialogs, 0);
  await page.context().close();
});

test("a visitor's personal data are erased on request, the sessions stay anonymous", async () => {
  const admin = await loggedInPage(browser, server, "sandrine");
  await admin.goto(`${server.url}/console/visiteurs?q=Awa`);
  await admin.getByRole("link", { name: "Awa Payet" }).click();
  await admin.getByRole("button", { name: "Effacer ses données" }).click();
  // The browser asks for the confirmation box first (required); without it, the server refuses too.
  const url = admin.url();
  const csrf = await admin.locator('input[name="csrf"]').first().getAttribute("value");
  const unconfirmed = await admin.request.post(`${url}/effacer`, { form: { csrf }, maxRedirects: 0 });
  assert.equal(unconfirmed.status(), 303);
  await admin.getByLabel("Je confirme l'effacement définitif").check();
  await admin.getByRole("button", { name: "Effacer ses données" }).click();
  await admin.getByText(/Données du visiteur effacées : sa fiche est supprimée et 1 session\(s\)/).waitFor();
  await admin.goto(`${server.url}/console/visiteurs?q=Awa`);
  await admin.getByText("Aucun visiteur ne correspond.").waitFor();
  await admin.goto(`${server.url}/console/sessions?utilisateur=Awa`);
  await admin.getByText("Aucune session ne correspond.").waitFor();
  await admin.context().close();
});
