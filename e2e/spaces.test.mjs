// Several public spaces on one server (issue #18, item 1): an admin creates a space and moves a
// workstation into it, a refused name or deletion is said in words; with two spaces the session
// form asks where the code is valid (nothing preselected, a missing choice refused beside the
// field), and a code of one space is refused on the other's workstation. Staff given one space
// see only its workstations, sessions, history and statistics, and every route with the other
// space's ids is refused; an admin of every space switches between them. Each space may have its
// own settings, forgotten only once confirmed; with several spaces an enrollment is approved in
// the space staff choose.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, Workstation, launchBrowser, loggedInPage, screenshotPath, tile } from "./harness.mjs";

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
  // Accented capitals too, on SQLite as on PostgreSQL (decision 0015).
  await page.getByLabel("Nouvel espace", { exact: true }).fill("MÉDIATHÈQUE DE SAINT-LEU");
  await page.getByRole("button", { name: "Créer l'espace" }).click();
  await banner(page, "Un espace s'appelle déjà « MÉDIATHÈQUE DE SAINT-LEU ».");

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

// The id in the action of the form ending with `suffix` that holds the field labelled `label`.
async function idIn(page, label, suffix) {
  const action = await page.locator(`form[action$="${suffix}"]`, { has: page.getByLabel(label) }).getAttribute("action");
  return Number(action.split("/").at(-2));
}

test("staff of one space see and reach only its workstations and sessions, by every route", async () => {
  server.createStaff("marie", "animateur", "Marie Payet", ["--espace", "Médiathèque de Saint-Leu"]);
  server.createStaff("paul", "animateur", "Paul Grondin", ["--espace", "Maison de quartier"]);
  server.createStaff("luc", "admin", "Luc Técher", ["--espace", "maison de quartier"]);
  const media = await Workstation.connect(server, "MED-01");

  // Marie's code, made without choosing a space (she works in one), runs on MED-01, and its
  // visitor asks for more time.
  const marie = await loggedInPage(browser, server, "marie");
  await marie.goto(`${server.url}/console/sessions/nouvelle`);
  assert.equal(await marie.getByLabel("Espace où le code est valable").count(), 0);
  await marie.getByLabel("Autre durée (par ex. 1h30, 45min)").fill("1h");
  await marie.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await marie.getByText("Session créée").waitFor();
  const code = (await marie.locator(".ticket-code").first().innerText()).replace(/\s/g, "");
  const started = await media.useCode(code);
  const medSession = started.session.id;
  media.send({ type: "request_time", session_id: medSession, minutes: 15 });
  await media.next("time_request");
  await marie.goto(`${server.url}/console/`);
  await tile(marie, "MED-01").getByText("Demande de temps").waitFor();
  const medRequest = Number(await tile(marie, "MED-01").locator("[data-demande]").getAttribute("data-demande"));
  assert.equal(await tile(marie, "MDQ-01").count(), 0, "Marie does not see the maison de quartier");

  // Paul sees the maison de quartier only: its tile, its sessions, not the médiathèque's.
  const paul = await loggedInPage(browser, server, "paul");
  await paul.goto(`${server.url}/console/`);
  await tile(paul, "MDQ-01").waitFor();
  assert.equal(await tile(paul, "MED-01").count(), 0);
  assert.equal(await paul.getByLabel("Espace affiché").count(), 0, "one space: no switcher");
  // The code's cell as the history shows it (« ABC DEF »): Marie's history has it, Paul's not.
  // (Three of its letters alone turned up by chance elsewhere on his page.)
  const codeCell = (page) => page.locator("td.code", { hasText: new RegExp(code.split("").join("\\s*")) });
  await marie.goto(`${server.url}/console/sessions`);
  assert.equal(await codeCell(marie).count(), 1, "the médiathèque's code in its history");
  await paul.goto(`${server.url}/console/sessions`);
  assert.equal(await codeCell(paul).count(), 0, "not the médiathèque's code");
  const csv = await (await paul.request.get(`${server.url}/console/sessions.csv`)).text();
  assert.ok(!csv.includes(code) && !csv.includes("MED-01"), csv);
  // This month's report is his space's: its name, not the médiathèque's session; Marie's has it.
  const thisMonth = async (page) => {
    await page.goto(`${server.url}/console/statistiques`);
    const lastMonth = await page.getByRole("link", { name: /à imprimer$/ }).getAttribute("href");
    const [year, month] = lastMonth.split("mois=")[1].split("-").map(Number);
    const current = month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, "0")}`;
    return (await page.request.get(`${server.url}/console/statistiques/imprimer?mois=${current}`)).text();
  };
  // A workstation is in the report once its session has used some time: the first second
  // may not have passed yet, on a loaded machine.
  let mariesReport = await thisMonth(marie);
  for (const until = Date.now() + 5000; !mariesReport.includes("MED-01") && Date.now() < until;) {
    await marie.waitForTimeout(200);
    mariesReport = await thisMonth(marie);
  }
  assert.ok(mariesReport.includes("MED-01") && !mariesReport.includes("Maison de quartier"), mariesReport);
  const paulsReport = await thisMonth(paul);
  assert.ok(paulsReport.includes("<h1>Maison de quartier — Rapport mensuel</h1>"), paulsReport);
  assert.ok(!paulsReport.includes("MED-01"), "not the médiathèque's workstation");

  // The other space's ids, as an admin of every space reads them.
  const sandrine = await loggedInPage(browser, server, "sandrine");
  await sandrine.goto(`${server.url}/console/postes`);
  const medPoste = await idIn(sandrine, "Espace de MED-01", "/espace");

  // Every route with the médiathèque's ids, as Paul and as Luc (an admin of the quartier only).
  const ROUTES = [
    `/console/sessions/${medSession}/ajouter`, `/console/sessions/${medSession}/terminer`,
    `/console/sessions/${medSession}/annuler`, `/console/demandes/${medRequest}`,
    `/console/postes/${medPoste}/message`, `/console/postes/${medPoste}/service`,
    `/console/postes/${medPoste}/alimentation`, `/console/postes/${medPoste}/allumer`,
    "/console/ateliers",
  ];
  const ADMIN_ROUTES = [
    `/console/postes/${medPoste}`, `/console/postes/${medPoste}/valider`, `/console/postes/${medPoste}/retirer`,
    `/console/postes/${medPoste}/espace`, "/console/espaces", "/console/espaces/1", "/console/espaces/1/supprimer",
    "/console/categories", "/console/categories/1", "/console/categories/1/supprimer",
  ];
  // The médiathèque's settings (space 1), for an admin of the quartier only.
  const SETTINGS_ROUTES = [
    "/console/reglages", "/console/reglages/commun", "/console/reglages/jours",
    "/console/reglages/jours/retirer", "/console/reglages/jours/feries",
  ];
  const luc = await loggedInPage(browser, server, "luc");
  for (const [who, page, routes] of [["paul", paul, ROUTES], ["luc", luc, [...ROUTES, ...ADMIN_ROUTES]]]) {
    await page.goto(`${server.url}/console/`);
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute("value");
    for (const path of routes) {
      const response = await page.request.post(`${server.url}${path}`, {
        form: {
          csrf, minutes: "10", raison: "fermeture", reponse: "accepter", message: "Bonjour", hors_service: "1",
          action: "extinction", session: "ecourter", nom: "Piraté", espace: "2", confirme: "1",
          duree: "1h", [`poste-${medPoste}`]: "1",
        },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 403, `${who} POST ${path}`);
    }
    for (const path of SETTINGS_ROUTES) {
      const response = await page.request.post(`${server.url}${path}`, {
        form: { csrf, espace: "1", date: "2030-12-20", libelle: "Fermé", genre: "ferme", avertissement_min: "9" },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 403, `${who} POST ${path} (the médiathèque's settings)`);
    }
    const tickets = await page.request.get(`${server.url}/console/tickets?ids=${medSession}`, { maxRedirects: 0 });
    assert.equal(tickets.status(), 403, `${who} tickets`);
    const postePage = await page.request.get(`${server.url}/console/postes/${medPoste}`, { maxRedirects: 0 });
    assert.equal(postePage.status(), 403, `${who} MED-01's page`);
    const settings = await page.request.get(`${server.url}/console/reglages?espace=1`, { maxRedirects: 0 });
    assert.equal(settings.status(), 403, `${who} the médiathèque's réglages`);
  }
  // Nothing reached the médiathèque: its session runs with its time, its workstation got nothing.
  const reached = media.messages.filter((m) =>
    ["time_update", "session_terminated", "message", "power", "session_started"].includes(m.type),
  );
  assert.deepEqual(reached, []);
  await marie.goto(`${server.url}/console/`);
  await tile(marie, "MED-01").getByText("Demande de temps").waitFor();

  // Luc's lists: the quartier's workstations and history only.
  await luc.goto(`${server.url}/console/postes`);
  await luc.locator('input[value="MDQ-01"]').waitFor();
  assert.equal(await luc.getByRole("cell", { name: "MED-01" }).count(), 0);
  assert.equal(await luc.locator('input[value="MED-01"]').count(), 0);
  await luc.goto(`${server.url}/console/historique`);
  assert.equal(await luc.getByRole("cell", { name: "MED-01", exact: true }).count(), 0);

  // An admin of every space switches: the médiathèque alone, then all of them again.
  await sandrine.goto(`${server.url}/console/`);
  await tile(sandrine, "MED-01").waitFor();
  await tile(sandrine, "MDQ-01").waitFor();
  await sandrine.getByLabel("Espace affiché").selectOption({ label: "Médiathèque de Saint-Leu" });
  await sandrine.getByRole("button", { name: "Afficher" }).click();
  await sandrine.waitForURL(`${server.url}/console/`);
  await tile(sandrine, "MED-01").waitFor();
  assert.equal(await tile(sandrine, "MDQ-01").count(), 0);
  await sandrine.screenshot({ path: screenshotPath("console-espace-affiche.png") });
  await sandrine.getByLabel("Espace affiché").selectOption({ label: "Tous mes espaces" });
  await sandrine.getByRole("button", { name: "Afficher" }).click();
  await tile(sandrine, "MDQ-01").waitFor();
  media.close();
});

test("an admin gives an account its spaces in « Équipe », and a new one must be given some", async () => {
  const sandrine = await loggedInPage(browser, server, "sandrine");
  await sandrine.goto(`${server.url}/console/equipe`);
  // A new account with two spaces on the site: which ones is asked, nothing ticked.
  const form = sandrine.locator('form[action="/console/equipe"]');
  await form.locator("#identifiant").fill("awa");
  await form.locator("#nom").fill("Awa Hoarau");
  await form.getByLabel("Animateur (sessions et visiteurs)").check();
  await form.locator("#mot_de_passe").fill("un mot de passe long");
  await form.locator("#confirmation").fill("un mot de passe long");
  await sandrine.getByRole("button", { name: "Créer le compte" }).click();
  await sandrine.locator("#erreur-espaces", { hasText: "Choisissez au moins un espace" }).waitFor();
  assert.equal(await form.locator("#nom").inputValue(), "Awa Hoarau", "what was typed is kept");
  await form.getByLabel("Maison de quartier").check();
  await form.locator("#mot_de_passe").fill("un mot de passe long");
  await form.locator("#confirmation").fill("un mot de passe long");
  await sandrine.getByRole("button", { name: "Créer le compte" }).click();
  await sandrine.getByText("awa").first().waitFor();
  assert.match(await sandrine.getByRole("row", { name: /Awa Hoarau/ }).innerText(), /Maison de quartier/);

  // Paul is given the médiathèque as well: he then sees both, with the switcher.
  await sandrine.getByRole("row", { name: /Paul Grondin/ }).getByText("Gérer…").click();
  const pauls = sandrine.locator('form[action$="/espaces"]', { has: sandrine.getByText("Espaces de paul") });
  await pauls.getByLabel("Médiathèque de Saint-Leu").check();
  await pauls.getByRole("button", { name: "Enregistrer les espaces de paul" }).click();
  await sandrine.locator(".flash", { hasText: "Espaces du compte « paul » enregistrés." }).waitFor();
  await sandrine.screenshot({ path: screenshotPath("console-equipe-espaces.png"), fullPage: true });
  const paul = await loggedInPage(browser, server, "paul");
  await paul.goto(`${server.url}/console/`);
  await tile(paul, "MED-01").waitFor();
  await tile(paul, "MDQ-01").waitFor();
  await paul.getByLabel("Espace affiché").waitFor();
  // None ticked: refused in words, nothing changed.
  await sandrine.getByRole("row", { name: /Paul Grondin/ }).getByText("Gérer…").click();
  await pauls.getByLabel("Médiathèque de Saint-Leu").uncheck();
  await pauls.getByLabel("Maison de quartier").uncheck();
  await pauls.getByRole("button", { name: "Enregistrer les espaces de paul" }).click();
  await sandrine.locator(".flash", { hasText: "Choisissez au moins un espace" }).waitFor();
  assert.match(await sandrine.getByRole("row", { name: /Paul Grondin/ }).innerText(), /Médiathèque de Saint-Leu, Maison de quartier/);

  // Luc, an admin of the quartier only, manages nobody beyond it and gives no other space.
  const idOf = async (login) => (await sandrine
    .locator("form", { has: sandrine.locator(`[aria-label="Changer le mot de passe de ${login}"]`) })
    .getAttribute("action")).split("/").at(-2);
  const sandrineId = await idOf("sandrine");
  const lucId = await idOf("luc");
  const luc = await loggedInPage(browser, server, "luc");
  await luc.goto(`${server.url}/console/equipe`);
  const csrf = await luc.locator('input[name="csrf"]').first().getAttribute("value");
  for (const [path, form] of [
    [`/console/equipe/${sandrineId}/desactiver`, {}],
    [`/console/equipe/${sandrineId}/mot-de-passe`, { mot_de_passe: "pris par luc 123", confirmation: "pris par luc 123" }],
    [`/console/equipe/${sandrineId}/supprimer`, { confirme: "1" }],
    [`/console/equipe/${lucId}/espaces`, { tous_espaces: "1" }],
    [`/console/equipe/${lucId}/espaces`, { "espace-1": "1", "espace-2": "1" }],
  ]) {
    const response = await luc.request.post(`${server.url}${path}`, { form: { csrf, ...form }, maxRedirects: 0 });
    assert.equal(response.status(), 403, `luc POST ${path} ${JSON.stringify(form)}`);
  }
});

// A code valid in `space`, made on the session form by `page`'s account.
async function codeFor(page, space) {
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Espace où le code est valable").selectOption({ label: space });
  await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill("1h");
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.getByText("Session créée").waitFor();
  // The ticket bears the space's name, not the site's.
  assert.equal(await page.locator(".ticket-site").first().innerText(), space);
  return (await page.locator(".ticket-code").first().innerText()).replace(/\s/g, "");
}

test("a space has settings of its own (time zone, warnings, a closed day) or follows the common ones", async () => {
  const sandrine = await loggedInPage(browser, server, "sandrine");
  const quartier = await Workstation.connect(server, "MDQ-02");
  await sandrine.goto(`${server.url}/console/postes`);
  await sandrine.getByLabel("Espace de MDQ-02").selectOption({ label: "Maison de quartier" });
  await sandrine.locator("form", { has: sandrine.getByLabel("Espace de MDQ-02") }).getByRole("button", { name: "Déplacer" }).click();
  await banner(sandrine, "Le poste « MDQ-02 » est maintenant dans l'espace « Maison de quartier ».");
  const commonWarning = quartier.welcome.seuils.avertissement;

  // Luc, an admin of the quartier only: « Réglages » are his space's, which follows the common ones.
  const luc = await loggedInPage(browser, server, "luc");
  await luc.goto(`${server.url}/console/reglages`);
  await luc.getByRole("heading", { name: "Réglages de l'espace « Maison de quartier »" }).waitFor();
  await luc.getByText("Cet espace suit les réglages communs").waitFor();
  assert.equal(await luc.getByLabel(/Nom du site/).count(), 0, "the site's name is not a space's");
  const warning = luc.getByLabel("Premier avertissement, minutes avant la fin");

  // A time zone mistyped: refused in words, what was typed kept, nothing saved.
  await luc.getByLabel(/Fuseau horaire/).fill("Indian/Reunoin");
  await warning.fill("7");
  await luc.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await luc.getByRole("alert").filter({ hasText: "« Indian/Reunoin » n'est pas un fuseau horaire connu" }).waitFor();
  assert.equal(await warning.inputValue(), "7");
  await luc.goto(`${server.url}/console/reglages`);
  await luc.getByText("Cet espace suit les réglages communs").waitFor();

  // The space's own report: an address mistyped is refused in words, kept as typed.
  const recipients = luc.getByLabel(/Destinataires du rapport mensuel de cet espace/);
  await luc.getByLabel(/Fuseau horaire/).fill("Indian/Reunion");
  await warning.fill("7");
  await recipients.fill("quartier@mairie.example\nluc.mairie.example");
  await luc.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await luc.getByRole("alert").filter({ hasText: "luc.mairie.example" }).waitFor();
  assert.equal(await recipients.inputValue(), "quartier@mairie.example\nluc.mairie.example");
  await recipients.fill("quartier@mairie.example\nluc@mairie.example");
  await luc.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await luc.getByText("Réglages enregistrés").waitFor();
  assert.equal(await recipients.inputValue(), "quartier@mairie.example\nluc@mairie.example");
  // The quartier's statistics say its report goes to them.
  await luc.goto(`${server.url}/console/statistiques`);
  await luc.getByText("quartier@mairie.example, luc@mairie.example").waitFor();
  await luc.goto(`${server.url}/console/reglages`);
  await luc.getByText("Cet espace a ses propres réglages.").waitFor();
  // Closed today, on La Réunion's calendar (UTC+4, no daylight saving).
  const today = new Date(Date.now() + 4 * 3_600_000).toISOString().slice(0, 10);
  const form = luc.getByRole("form", { name: "Ajouter un jour particulier" });
  await form.getByLabel("Date", { exact: true }).fill(today);
  await form.getByLabel("Nom").fill("Travaux");
  await form.getByLabel("fermé toute la journée").check();
  await form.getByRole("button", { name: "Ajouter ce jour" }).click();
  await luc.getByText("Jour particulier ajouté").waitFor();
  await luc.screenshot({ path: screenshotPath("console-reglages-espace.png"), fullPage: true });

  // The quartier's workstation gets its space's warning; a code is refused there, closed, while
  // the médiathèque, on the common settings, takes one.
  const again = await Workstation.connect(server, "MDQ-02");
  assert.equal(again.welcome.seuils.avertissement, 7 * 60);
  again.send({ type: "validate_code", code: await codeFor(sandrine, "Maison de quartier"), ip_address: "10.0.0.2" });
  assert.equal((await again.next("code_invalid")).raison, "ferme");
  const media = await Workstation.connect(server, "MED-02");
  assert.equal(media.welcome.seuils.avertissement, commonWarning);
  const started = await media.useCode(await codeFor(sandrine, "Médiathèque de Saint-Leu"), "10.0.0.3");
  assert.equal(started.type, "session_started");

  // The common settings changed: the quartier keeps its own until it follows them again.
  await sandrine.goto(`${server.url}/console/reglages`);
  await sandrine.getByRole("heading", { name: "Réglages communs à tous les espaces" }).waitFor();
  await sandrine.getByRole("navigation", { name: "Réglages de" }).getByRole("link", { name: "Maison de quartier" }).click();
  await sandrine.getByText("Cet espace a ses propres réglages.").waitFor();
  assert.equal(await sandrine.getByLabel("Premier avertissement, minutes avant la fin").inputValue(), "7");
  // Following the common settings again forgets the space's own: asked for, then confirmed.
  await sandrine.getByText("Suivre de nouveau les réglages communs…").click();
  const follow = sandrine.getByRole("button", { name: "Suivre les réglages communs" });
  // Not ticked (the browser's own check taken away): refused in words, nothing forgotten.
  await sandrine.locator('input[name="confirme"]').evaluate((box) => box.removeAttribute("required"));
  await follow.click();
  await banner(sandrine, "Cochez « Oui, oublier les réglages propres à cet espace » pour confirmer");
  await sandrine.getByText("Cet espace a ses propres réglages.").waitFor();
  assert.equal(await sandrine.getByLabel("Premier avertissement, minutes avant la fin").inputValue(), "7");
  await sandrine.getByText("Suivre de nouveau les réglages communs…").click();
  await sandrine.getByLabel("Oui, oublier les réglages propres à cet espace").check();
  await follow.click();
  await banner(sandrine, "L'espace « Maison de quartier » suit de nouveau les réglages communs.");
  await sandrine.getByText("Cet espace suit les réglages communs").waitFor();
  const followed = await Workstation.connect(server, "MDQ-02");
  assert.equal(followed.welcome.seuils.avertissement, commonWarning);
  const taken = await followed.useCode(await codeFor(sandrine, "Maison de quartier"), "10.0.0.2");
  assert.equal(taken.type, "session_started");

  for (const ws of [quartier, again, media, followed]) ws.close();
});

test("with several spaces, an enrollment is approved in the space staff choose, nothing preselected", async () => {
  const printed = server.cli(["poste", "enroll-code", "--poste", "MDQ-03"]);
  const code = printed.match(/ : (\S+)\n/)[1];
  const agent = await Workstation.connect(server);
  const demande = "demande-e2e-mdq-03-0123456789";
  agent.send({ type: "enroll", poste: "MDQ-03", mac: "52:54:00:00:00:03", code_enrolement: code, demande });
  assert.equal((await agent.next("enrollment")).statut, "en_attente");

  const sandrine = await loggedInPage(browser, server, "sandrine");
  await sandrine.goto(`${server.url}/console/postes`);
  const row = sandrine.locator("tr", { has: sandrine.locator('input[value="MDQ-03"]') });
  await row.getByText("Choisi à la validation").waitFor();
  const choice = row.getByLabel("Espace où servira MDQ-03");
  assert.equal(await choice.inputValue(), "", "no space preselected");
  await row.screenshot({ path: screenshotPath("console-validation-espace.png") });
  // Approved without a choice (the browser's own check taken away): refused, still waiting.
  await choice.evaluate((select) => select.removeAttribute("required"));
  await row.getByRole("button", { name: "Valider l'enrôlement" }).click();
  await banner(sandrine, "Choisissez l'espace où servira « MDQ-03 » avant de valider son enrôlement : rien n'a été validé.");
  agent.send({ type: "enroll", poste: "MDQ-03", demande });
  assert.equal((await agent.next("enrollment")).statut, "en_attente");

  await row.getByLabel("Espace où servira MDQ-03").selectOption({ label: "Maison de quartier" });
  await row.getByRole("button", { name: "Valider l'enrôlement" }).click();
  await banner(sandrine, "Enrôlement de « MDQ-03 » validé dans l'espace « Maison de quartier »");
  agent.send({ type: "enroll", poste: "MDQ-03", demande });
  const enrolled = await agent.next("enrollment");
  assert.equal(enrolled.statut, "enrole");
  // It serves in the quartier: its space's admin sees it, its space is in its row.
  assert.equal(await sandrine.getByLabel("Espace de MDQ-03").inputValue(),
    await sandrine.getByLabel("Espace de MDQ-02").inputValue());
  const luc = await loggedInPage(browser, server, "luc");
  await luc.goto(`${server.url}/console/postes`);
  await luc.locator('input[value="MDQ-03"]').waitFor();
  agent.close();

  // A code made for the quartier: the new workstation waits there, the space is proposed, and
  // the quartier's own admin sees it and approves it.
  const forQuartier = server.cli(["poste", "enroll-code", "--espace", "maison de quartier"]);
  assert.match(forQuartier, /dans l'espace « maison de quartier »/);
  const quartierCode = forQuartier.match(/ : (\S+)\n/)[1];
  const newcomer = await Workstation.connect(server);
  const request = "demande-e2e-mdq-06-0123456789";
  newcomer.send({ type: "enroll", poste: "MDQ-06", code_enrolement: quartierCode, demande: request });
  assert.equal((await newcomer.next("enrollment")).statut, "en_attente");
  await sandrine.goto(`${server.url}/console/postes`);
  const proposed = sandrine.locator("tr", { has: sandrine.locator('input[value="MDQ-06"]') }).getByLabel("Espace où servira MDQ-06");
  assert.equal(await proposed.inputValue(), await sandrine.getByLabel("Espace de MDQ-02").inputValue(), "the code's space");
  // IT corrects its configuration and enrolls it again, naming the médiathèque: it still waits
  // in the quartier, and the console proposes neither space but says both.
  const plain = server.cli(["poste", "enroll-code", "--poste", "MDQ-06"]).match(/ : (\S+)\n/)[1];
  const corrected = "demande-e2e-mdq-06-corrigee-0123";
  newcomer.send({ type: "enroll", poste: "MDQ-06", code_enrolement: plain, demande: corrected, espace: "médiathèque de saint-leu" });
  assert.equal((await newcomer.next("enrollment")).statut, "en_attente");
  await sandrine.goto(`${server.url}/console/postes`);
  const askedAgain = sandrine.locator("tr", { has: sandrine.locator('input[value="MDQ-06"]') });
  assert.equal(await askedAgain.getByLabel("Espace où servira MDQ-06").inputValue(), "", "nothing proposed");
  await askedAgain.getByText("Ce poste demande maintenant l'espace « Médiathèque de Saint-Leu » (sa configuration a changé) ; il attend dans « Maison de quartier ». Vérifiez où il doit servir.").waitFor();
  await askedAgain.screenshot({ path: screenshotPath("console-validation-espace-demandee.png") });
  await luc.goto(`${server.url}/console/postes`);
  const lucsRow = luc.locator("tr", { has: luc.locator('input[value="MDQ-06"]') });
  await lucsRow.getByText("Ce poste demande maintenant l'espace « Médiathèque de Saint-Leu »", { exact: false }).waitFor();
  await lucsRow.getByRole("button", { name: "Valider l'enrôlement" }).click();
  await banner(luc, "Enrôlement de « MDQ-06 » validé : son agent va recevoir son secret.");
  newcomer.send({ type: "enroll", poste: "MDQ-06", demande: corrected });
  assert.equal((await newcomer.next("enrollment")).statut, "enrole");
  newcomer.close();
});

test("a console hears only of its spaces, and a change fetches the tile that changed, not the grid", async () => {
  const media = await Workstation.connect(server, "MED-04");
  const quartier = await Workstation.connect(server, "MDQ-04");
  const sandrine = await loggedInPage(browser, server, "sandrine");
  await sandrine.goto(`${server.url}/console/postes`);
  await sandrine.getByLabel("Espace de MDQ-04").selectOption({ label: "Maison de quartier" });
  await sandrine.locator("form", { has: sandrine.getByLabel("Espace de MDQ-04") }).getByRole("button", { name: "Déplacer" }).click();
  await banner(sandrine, "Le poste « MDQ-04 » est maintenant dans l'espace « Maison de quartier ».");
  await sandrine.goto(`${server.url}/console/`);
  const marie = await loggedInPage(browser, server, "marie");
  const fetched = { sandrine: [], marie: [] };
  for (const [who, page] of [["sandrine", sandrine], ["marie", marie]]) {
    await page.getByText("Mise à jour en direct").waitFor();
    page.on("request", (request) => {
      if (request.url().includes("/console/tuiles")) fetched[who].push(new URL(request.url()).search);
    });
  }
  await tile(sandrine, "MDQ-04").waitFor();
  await tile(marie, "MED-04").waitFor();
  // Codes made from the command line are read from the event log as a change of anything:
  // both consoles fetch their whole dashboard.
  const cliCode = (poste) =>
    JSON.parse(server.cli(["session", "create", "--duree", "1h", "--poste", poste, "--json"]))[0].code_acces;
  const quartierCode = cliCode("MDQ-04");
  const mediaCode = cliCode("MED-04");
  const spaced = (code) => new RegExp(code.split("").join("\\s*"));
  await sandrine.locator("#codes-en-attente", { hasText: spaced(quartierCode) }).waitFor();
  await sandrine.locator("#codes-en-attente", { hasText: spaced(mediaCode) }).waitFor();
  await marie.locator("#codes-en-attente", { hasText: spaced(mediaCode) }).waitFor();
  // Whatever is still to come of that (a second fetch for the second code) comes now.
  await sandrine.waitForTimeout(500);
  fetched.sandrine.length = 0;
  fetched.marie.length = 0;
  const quartierId = await tile(sandrine, "MDQ-04").getAttribute("data-poste");
  const mediaId = await tile(sandrine, "MED-04").getAttribute("data-poste");
  // Marked on this page's nodes only: a tile fetched again is a new node, unmarked.
  await sandrine.evaluate(() => document.querySelectorAll(".tuile").forEach((el) => { el.marque = true; }));

  // A session starts in the quartier: Sandrine's console fetches that tile only.
  assert.equal((await quartier.useCode(quartierCode, "10.0.0.4")).type, "session_started");
  await tile(sandrine, "MDQ-04").locator(".restant").waitFor();
  assert.deepEqual(fetched.sandrine, [`?postes=${quartierId}&vue=complete`]);
  assert.equal(await tile(sandrine, "MDQ-04").evaluate((el) => el.marque === true), false, "fetched again");
  assert.equal(await tile(sandrine, "MED-04").evaluate((el) => el.marque === true), true, "the others stay");
  await sandrine.locator("#codes-en-attente", { hasText: spaced(quartierCode) }).waitFor({ state: "detached" });
  // Marie shows the médiathèque only: she heard nothing (a feed's event comes within 100 ms).
  await marie.waitForTimeout(1000);
  assert.deepEqual(fetched.marie, []);

  // A session in the médiathèque: both hear of it, each fetching that one tile.
  fetched.sandrine.length = 0;
  assert.equal((await media.useCode(mediaCode, "10.0.0.5")).type, "session_started");
  await tile(marie, "MED-04").locator(".restant").waitFor();
  await tile(sandrine, "MED-04").locator(".restant").waitFor();
  assert.deepEqual(fetched.marie, [`?postes=${mediaId}&vue=complete`]);
  assert.deepEqual(fetched.sandrine, [`?postes=${mediaId}&vue=complete`]);
  media.close();
  quartier.close();
});
