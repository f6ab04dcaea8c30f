// The admin web console in a real browser (Debian's Chromium, driven by playwright-core) against
// the real `poste-server` binary, with WebSocket workstations speaking the seed's protocol.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Server, Workstation, launchBrowser, loggedInPage, screenshotPath, tile, PASSWORD } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.createStaff("marie", "admin");
  server.createStaff("paul", "animateur");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Marks the page; the mark survives only if the page is never reloaded.
async function markPage(page) {
  await page.evaluate(() => {
    window.__sansRechargement = true;
  });
}

async function stillSamePage(page) {
  assert.equal(await page.evaluate(() => window.__sansRechargement === true), true, "the page was reloaded");
}

test("a wrong password is refused in French and the login typed is kept", async () => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${server.url}/console/sessions`);
  assert.match(page.url(), /\/console\/connexion$/);
  await page.getByLabel("Identifiant").fill("paul");
  await page.getByLabel("Mot de passe").fill("pas le bon");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("alert").filter({ hasText: "Identifiant ou mot de passe incorrect." }).waitFor();
  assert.equal(await page.getByLabel("Identifiant").inputValue(), "paul");
  await context.close();
});

test("a session made in the console goes live on every dashboard and its actions reach the workstation", async () => {
  const poste = await Workstation.connect(server, "Poste-03");
  const other = await Workstation.connect(server, "Poste-04");

  const animateur = await loggedInPage(browser, server, "paul");
  const watcher = await loggedInPage(browser, server, "marie");
  await tile(watcher, "Poste-03").getByText("Libre").waitFor();
  await markPage(watcher);
  await watcher.getByText("Mise à jour en direct").waitFor();

  // Create the session from the form, bound to Poste-03.
  await animateur.goto(`${server.url}/console/sessions/nouvelle`);
  await animateur.getByLabel("Nom du visiteur").fill("Jean Dupont");
  await animateur.getByLabel("2 h").check();
  await animateur.getByLabel("Poste", { exact: true }).selectOption("Poste-03");
  await animateur.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await animateur.getByText("Session créée").waitFor();
  const code = (await animateur.locator(".ticket-code").first().innerText()).replace(/\s/g, "");
  assert.match(code, /^[A-Z2-9]{6}$/);
  assert.match(await animateur.locator(".ticket").first().innerText(), /2 h/);

  // The workstation uses the code: the other dashboard shows it without being reloaded.
  const started = await poste.useCode(code);
  assert.equal(started.session.statut, "active");
  const seen = Date.now();
  const busy = tile(watcher, "Poste-03");
  await busy.getByText("En session").waitFor({ timeout: 2000 });
  await busy.getByText("Jean Dupont").waitFor({ timeout: 2000 });
  assert.ok(Date.now() - seen < 1500, `dashboard updated after ${Date.now() - seen} ms`);
  await stillSamePage(watcher);
  assert.match(await busy.locator(".restant").innerText(), /^(2:00:00|1:59:5\d)$/);

  // +15 min from the animateur's dashboard: the workstation receives the new time.
  await animateur.goto(`${server.url}/console/`);
  await tile(animateur, "Poste-03").getByRole("button", { name: "+15 min" }).click();
  await animateur.getByText("15 min ajoutées sur Poste-03.").waitFor();
  const update = await poste.next("time_update");
  assert.ok(update.temps_restant > 2 * 3600 + 14 * 60, JSON.stringify(update));
  await busy.locator(".restant", { hasText: /^2:1[45]:/ }).waitFor({ timeout: 2000 });

  // A message to the workstation.
  const tools = tile(animateur, "Poste-03").locator("details.outils");
  await tools.locator("summary").click();
  await tools.getByLabel("Message à afficher sur le poste").fill("Fermeture dans 30 minutes");
  await tools.getByRole("button", { name: "Envoyer", exact: true }).click();
  await animateur.getByText("Message envoyé à Poste-03.").waitFor();
  const message = await poste.next("message");
  assert.equal(message.message, "Fermeture dans 30 minutes");

  // End it with a reason: the workstation is told, and the tile is free again everywhere.
  const ending = tile(animateur, "Poste-03");
  await ending.getByText("Terminer la session…").click();
  // No reason is chosen in advance: the visitor reads it. Without one, nothing is sent.
  assert.equal(await ending.getByLabel("Raison").inputValue(), "");
  await ending.getByRole("button", { name: "Terminer maintenant" }).click();
  assert.equal(await ending.getByLabel("Raison").evaluate((select) => select.validity.valueMissing), true);
  // A form sent without a reason all the same (no browser check) is refused by the server.
  await ending.getByLabel("Raison").evaluate((select) => select.removeAttribute("required"));
  await ending.getByRole("button", { name: "Terminer maintenant" }).click();
  await animateur.getByText("Choisissez la raison de la fin de session").waitFor();
  assert.equal(poste.messages.some((m) => m.type === "session_terminated"), false);
  const endingAgain = tile(animateur, "Poste-03");
  await endingAgain.getByText("Terminer la session…").click();
  await endingAgain.getByLabel("Raison").selectOption("fermeture");
  await endingAgain.getByRole("button", { name: "Terminer maintenant" }).click();
  await animateur.getByText("Session terminée sur Poste-03.").waitFor();
  const terminated = await poste.next("session_terminated");
  assert.match(terminated.message, /L'espace ferme/);
  await tile(watcher, "Poste-03").getByText("Libre").waitFor({ timeout: 2000 });
  await stillSamePage(watcher);

  // Out of order, then back: seen live on the other dashboard.
  const spare = tile(animateur, "Poste-04").locator("details.outils");
  await spare.locator("summary").click();
  await spare.getByRole("button", { name: "Marquer hors service" }).click();
  await animateur.getByText("Poste-04 est marqué hors service").waitFor();
  await tile(watcher, "Poste-04").getByText("Hors service").waitFor({ timeout: 2000 });

  poste.close();
  other.close();
  await animateur.context().close();
  await watcher.context().close();
});

test("a visitor's request for more time shows live on the dashboard; staff accept, then refuse, and the workstation is told", async () => {
  const poste = await Workstation.connect(server, "Poste-07");
  const animateur = await loggedInPage(browser, server, "paul");
  const watcher = await loggedInPage(browser, server, "marie");
  await tile(watcher, "Poste-07").getByText("Libre").waitFor();
  await markPage(watcher);
  await watcher.getByText("Mise à jour en direct").waitFor();

  await animateur.goto(`${server.url}/console/sessions/nouvelle`);
  await animateur.getByLabel("Nom du visiteur").fill("Awa Payet");
  await animateur.getByLabel("1 h", { exact: true }).check();
  await animateur.getByLabel("Poste", { exact: true }).selectOption("Poste-07");
  await animateur.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await animateur.getByText("Session créée").waitFor();
  const code = (await animateur.locator(".ticket-code").first().innerText()).replace(/\s/g, "");
  const started = await poste.useCode(code, "192.168.1.107");
  const sessionId = started.session.id;

  // The visitor asks for 20 minutes: acknowledged, and outlined on the other dashboard live.
  poste.send({ type: "request_time", session_id: sessionId, minutes: 20 });
  const pending = await poste.next("time_request");
  assert.equal(pending.statut, "en_attente", JSON.stringify(pending));
  const asked = Date.now();
  const waiting = tile(watcher, "Poste-07");
  await waiting.getByText("Demande de temps").waitFor({ timeout: 2000 });
  assert.ok(Date.now() - asked < 1500, `request shown after ${Date.now() - asked} ms`);
  assert.match(await waiting.locator(".demande").innerText(), /20 min/);
  assert.match((await waiting.getAttribute("class")) ?? "", /tuile--demande/);
  await stillSamePage(watcher);

  // Staff grant 25 instead: the workstation gets the answer and the time.
  await waiting.getByLabel("Accorder (min)").fill("25");
  await waiting.getByRole("button", { name: "Accepter" }).click();
  await watcher.getByText("Demande acceptée : 25 min ajoutées sur Poste-07.").waitFor();
  const accepted = await poste.next("time_request");
  assert.equal(accepted.statut, "acceptee", JSON.stringify(accepted));
  assert.equal(accepted.minutes, 25);
  assert.equal(accepted.message, "Demande acceptée : 25 minutes de plus.");
  const update = await poste.next("time_update");
  assert.ok(update.temps_restant > 3600 + 24 * 60, JSON.stringify(update));
  assert.equal(await tile(watcher, "Poste-07").locator(".demande").count(), 0);

  // A second request, refused from the animateur's dashboard.
  poste.send({ type: "request_time", session_id: sessionId });
  assert.equal((await poste.next("time_request")).statut, "en_attente");
  await animateur.goto(`${server.url}/console/`);
  const again = tile(animateur, "Poste-07");
  await again.getByText("durée à votre choix").waitFor({ timeout: 2000 });
  await again.getByRole("button", { name: "Refuser" }).click();
  await animateur.getByText("Demande refusée sur Poste-07 : le visiteur en est informé.").waitFor();
  const refused = await poste.next("time_request");
  assert.equal(refused.statut, "refusee", JSON.stringify(refused));
  assert.match(refused.message, /pas été acceptée/);
  await tile(watcher, "Poste-07").locator(".demande").waitFor({ state: "detached", timeout: 2000 });

  poste.close();
  await animateur.context().close();
  await watcher.context().close();
});

test("a stale action on a session that already ended says so", async () => {
  const poste = await Workstation.connect(server, "Poste-05");
  const out = server.cli(["session", "create", "--duree", "1h", "--poste", "Poste-05", "--json"]);
  const [{ code_acces: code, id }] = JSON.parse(out);
  await poste.useCode(code);
  const page = await loggedInPage(browser, server, "paul");
  // Ended elsewhere (the command line) while this page stays as it is: its refreshes are cut
  // off from its first load, so that the tile keeps its old buttons. (Cut off only after the
  // load, a refresh already on its way could still bring the ended tile on a loaded machine.)
  await page.route("**/console/tuiles", (route) => route.abort());
  await page.reload();
  const staleTile = tile(page, "Poste-05");
  await staleTile.getByText("En session").waitFor();
  server.cli(["session", "end", String(id)]);
  await poste.next("session_terminated", 5000);
  await staleTile.getByRole("button", { name: "+30 min" }).click();
  await page.getByRole("alert").filter({ hasText: "Cette session est déjà « terminée » : rien n'a été fait." }).waitFor();
  poste.close();
  await page.context().close();
});

test("the session form keeps what was typed and says what is wrong next to the field", async () => {
  const page = await loggedInPage(browser, server, "paul");
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Nom du visiteur").fill("Awa Payet");
  await page.getByLabel("Autre durée", { exact: true }).check();
  await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill("deux heures");
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.locator("#erreur-duree").filter({ hasText: "Durée « deux heures » invalide" }).waitFor();
  assert.equal(await page.getByLabel("Nom du visiteur").inputValue(), "Awa Payet");
  assert.equal(await page.getByLabel("Autre durée (par ex. 1h30, 45min)").inputValue(), "deux heures");
  await page.screenshot({ path: screenshotPath("console-formulaire-erreur.png") });
  await page.context().close();
});

test("a duration typed in « Autre durée » is the one given, and two durations are never guessed between", async () => {
  const page = await loggedInPage(browser, server, "paul");
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  // « 1 h » is checked by default; typing another duration is choosing it.
  assert.equal(await page.getByLabel("1 h", { exact: true }).isChecked(), true);
  await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill("6min");
  assert.equal(await page.getByLabel("Autre durée", { exact: true }).isChecked(), true);
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.getByText("Session créée (6 min)").waitFor();
  assert.equal((await page.locator(".ticket dd").first().textContent()).trim(), "6 min");
  // Checking a preset afterwards empties the typed duration, in sight.
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill("45min");
  await page.getByLabel("2 h", { exact: true }).check();
  assert.equal(await page.getByLabel("Autre durée (par ex. 1h30, 45min)").inputValue(), "");
  // Without the script (a form sent as it stands), a preset and a typed duration are refused.
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.evaluate(() => {
    document.getElementById("duree_autre").value = "6min";
  });
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.locator("#erreur-duree").filter({ hasText: "Deux durées sont indiquées : « 1 h » est coché et « 6min » est tapé" }).waitFor();
  await page.context().close();
});

test("tickets print for A4 and for 80 mm receipt printers", async () => {
  const page = await loggedInPage(browser, server, "paul");
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Nom du visiteur").fill("Atelier CV");
  await page.getByLabel("1 h", { exact: true }).check();
  await page.getByLabel("Nombre de codes").fill("4");
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.getByText("4 sessions créées (1 h chacune)").waitFor();
  assert.equal(await page.locator(".ticket").count(), 4);
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator(".bandeau").isVisible(), false, "the navigation is not printed");
  assert.equal(await page.locator(".ticket").first().isVisible(), true);
  const a4 = await page.pdf({ preferCSSPageSize: true });
  assert.ok(a4.length > 1000);
  await page.emulateMedia({ media: "screen" });
  await page.getByRole("link", { name: "imprimante à tickets (80 mm)" }).click();
  await page.waitForURL(/format=ticket/);
  assert.equal(await page.locator("body.impression-ticket").count(), 1);
  await page.emulateMedia({ media: "print" });
  // One receipt per page: four pages.
  const receipts = await page.pdf({ preferCSSPageSize: true });
  const pages = (receipts.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 4, "one 80 mm receipt per page");
  await page.context().close();
});

test("the CSV export lists sessions with formulas made inert", async () => {
  server.cli(["session", "create", "--duree", "30min", "--utilisateur", "=HYPERLINK(\"http://x\")"]);
  const page = await loggedInPage(browser, server, "paul");
  await page.goto(`${server.url}/console/sessions?statut=en_attente`);
  await page.getByRole("cell", { name: '=HYPERLINK("http://x")' }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Exporter en CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.replace(/^\uFEFF/, "").trim().split("\r\n");
  assert.equal(lines[0], "id;code;visiteur;poste;statut;duree_totale_min;creee_le;creee_par;debut;fin;raison_fin");
  const row = lines.find((line) => line.includes("HYPERLINK"));
  assert.ok(row, csv);
  assert.ok(row.includes(`"'=HYPERLINK(""http://x"")"`), row);
  assert.ok(lines.every((line) => !line.split(";").some((cell) => /^[=+@]/.test(cell))), csv);
  await page.context().close();
});

test("an animateur is refused the admin pages; an admin creates an account", async () => {
  const page = await loggedInPage(browser, server, "paul");
  assert.equal(await page.getByRole("link", { name: "Équipe" }).count(), 0);
  const response = await page.goto(`${server.url}/console/equipe`);
  assert.equal(response.status(), 403);
  await page.getByText("Cette page est réservée aux administrateurs.").waitFor();
  await page.context().close();

  const admin = await loggedInPage(browser, server, "marie");
  await admin.getByRole("link", { name: "Équipe" }).click();
  await admin.getByLabel("Identifiant").fill("lea");
  await admin.getByLabel("Nom complet").fill("Léa Grondin");
  await admin.getByLabel("Mot de passe (10 caractères au moins)").fill("court");
  await admin.getByRole("button", { name: "Créer le compte" }).click();
  await admin.getByText("Le mot de passe doit avoir au moins 10 caractères.").waitFor();
  assert.equal(await admin.getByLabel("Nom complet").inputValue(), "Léa Grondin");
  await admin.getByLabel("Mot de passe (10 caractères au moins)").fill(PASSWORD);
  await admin.getByLabel("Confirmez le mot de passe", { exact: true }).fill(PASSWORD);
  await admin.getByRole("button", { name: "Créer le compte" }).click();
  await admin.getByText("Compte « lea » créé.").waitFor();
  await admin.getByRole("cell", { name: "Léa Grondin" }).waitFor();
  await admin.context().close();
  const lea = await loggedInPage(browser, server, "lea");
  await lea.getByRole("heading", { name: "Tableau de bord" }).waitFor();
  await lea.context().close();
});

test("forms without the CSRF token, or from another site, are refused", async () => {
  const page = await loggedInPage(browser, server, "paul");
  const created = JSON.parse(server.cli(["session", "create", "--duree", "1h", "--json"]));
  const id = created[0].id;
  // The browser's own cookie, a wrong token.
  const forged = await page.request.post(`${server.url}/console/sessions/${id}/annuler`, {
    form: { csrf: "FAUXJETON", retour: "/console/" },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /Action refusée/);
  // The right token, sent from another origin.
  const csrf = await page.locator('input[name="csrf"]').first().getAttribute("value");
  const crossSite = await page.request.post(`${server.url}/console/sessions/${id}/annuler`, {
    form: { csrf, retour: "/console/" },
    headers: { Origin: "http://attaquant.example" },
    maxRedirects: 0,
  });
  assert.equal(crossSite.status(), 403);
  const listed = JSON.parse(server.cli(["session", "list", "--json", "--limite", "200"]));
  assert.equal(listed.find((s) => s.id === id).statut, "en_attente", "nothing was cancelled");
  // Without a login at all.
  const anonymous = await fetch(`${server.url}/console/sessions/${id}/annuler`, {
    method: "POST",
    body: new URLSearchParams({ csrf }),
    redirect: "manual",
  });
  assert.equal(anonymous.status, 303);
  assert.match(anonymous.headers.get("location"), /connexion/);
  // And the right way works.
  await page.goto(`${server.url}/console/`);
  // By the whole code (shown « ABC DEF »): three of its letters may be in another row too.
  const row = page.getByRole("row", { name: new RegExp(created[0].code_acces.split("").join("\\s*")) });
  await row.getByRole("button", { name: "Annuler le code" }).click();
  await page.getByText("Code annulé").waitFor();
  await page.context().close();
});
