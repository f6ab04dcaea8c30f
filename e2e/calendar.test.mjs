// Opening hours with a lunch break (issue #18, item 2), set in « Réglages » as an admin would: a
// break with one end only is refused beside its day with what was typed kept; a session started
// before the break is cut to end when the break begins; during the break no code is taken.
//
// The server runs in a fixed-offset zone where it is now between 12:00 and 13:00, so that the
// morning, the break and the afternoon fall around now whatever the hour the suite runs at.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, Workstation, launchBrowser, loggedInPage, newSession, screenshotPath } from "./harness.mjs";

// The names of the console's days, by JavaScript's getUTCDay().
const DAYS = ["Dimanche", "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi"];

const offsetHours = 12 - new Date().getUTCHours(); // -11 … +12
// POSIX signs: Etc/GMT-3 is UTC+3.
const zone = offsetHours === 0 ? "Etc/UTC" : `Etc/GMT${offsetHours > 0 ? "-" : "+"}${Math.abs(offsetHours)}`;

// The local wall clock of `date` in that zone, as a Date whose UTC fields are local.
const local = (date) => new Date(date.getTime() + offsetHours * 3_600_000);
const hhmm = (d) => `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;

let server;
let browser;
before(async () => {
  server = await Server.start({ POSTE_SERVER_TIMEZONE: zone });
  server.createStaff("sandrine", "admin", "Sandrine Hoarau");
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function setToday(page, { open, pause, resume, close }) {
  const day = DAYS[local(new Date()).getUTCDay()];
  await page.goto(`${server.url}/console/reglages`);
  await page.getByLabel(`${day}, ouverture`).fill(open);
  await page.getByLabel(`${day}, début de la pause`).fill(pause);
  await page.getByLabel(`${day}, reprise après la pause`).fill(resume);
  await page.getByLabel(`${day}, fermeture`).fill(close);
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  return day;
}

test("a lunch break cuts a session started before it, and no code is taken during it", async () => {
  const page = await loggedInPage(browser, server, "sandrine");

  // The break starts two to three minutes from now and lasts half an hour.
  const now = local(new Date());
  const breakStart = new Date(Math.ceil((now.getTime() + 1) / 60_000) * 60_000 + 2 * 60_000);
  const breakEnd = new Date(breakStart.getTime() + 30 * 60_000);

  // A break with its start only: refused beside the day, everything typed kept.
  const day = await setToday(page, { open: "08:00", pause: hhmm(breakStart), resume: "", close: "18:00" });
  await page
    .getByRole("alert")
    .filter({ hasText: `${day} : une pause a un début et une reprise (HH:MM), entre l'ouverture et la fermeture` })
    .waitFor();
  assert.equal(await page.getByLabel(`${day}, début de la pause`).inputValue(), hhmm(breakStart));
  assert.equal(await page.getByLabel(`${day}, fermeture`).inputValue(), "18:00");

  await setToday(page, { open: "08:00", pause: hhmm(breakStart), resume: hhmm(breakEnd), close: "18:00" });
  await page.getByText("Réglages enregistrés").waitFor();
  // Shown again as saved: a morning and an afternoon.
  await page.goto(`${server.url}/console/reglages`);
  assert.equal(await page.getByLabel(`${day}, reprise après la pause`).inputValue(), hhmm(breakEnd));
  await page.screenshot({ path: screenshotPath("console-reglages-pause.png"), fullPage: true });

  // An hour's code used now: the session ends when the break begins.
  const poste = await Workstation.connect(server, "Salle-01");
  const started = await poste.useCode(await newSession(page, server, "Salle-01", "1h"));
  // Durations are whole seconds: the end falls within the second before the break.
  const end = local(new Date(started.session.fin_prevue));
  const early = breakStart.getTime() - end.getTime();
  assert.ok(early >= 0 && early <= 1000, `ends at ${hhmm(end)}:${end.getUTCSeconds()}, the break at ${hhmm(breakStart)}`);
  assert.ok(started.session.temps_restant <= 180, JSON.stringify(started.session));

  // The break moved to have begun a minute ago: no code is taken.
  const begun = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60_000);
  await setToday(page, { open: "08:00", pause: hhmm(begun), resume: hhmm(breakEnd), close: "18:00" });
  await page.getByText("Réglages enregistrés").waitFor();
  const other = await Workstation.connect(server, "Salle-02");
  other.send({ type: "validate_code", code: await newSession(page, server, "Salle-02", "1h"), ip_address: "192.168.1.104" });
  const refused = await other.next("code_invalid");
  assert.equal(refused.raison, "ferme");
  assert.equal(refused.message, "L'espace est fermé : les sessions reprendront à l'ouverture.");

  poste.close();
  other.close();
  await page.context().close();
});

test("a closed special day refuses codes, and the public holidays come in one click", async () => {
  const page = await loggedInPage(browser, server, "sandrine");
  // No weekly hours: only the special day limits anything.
  await setToday(page, { open: "", pause: "", resume: "", close: "" });
  await page.getByText("Réglages enregistrés").waitFor();
  const today = local(new Date()).toISOString().slice(0, 10);
  const yesterday = local(new Date(Date.now() - 86_400_000)).toISOString().slice(0, 10);
  const form = page.getByRole("form", { name: "Ajouter un jour particulier" });

  // A past date, and neither « fermé » nor hours chosen: refused, every reason said, what was
  // typed kept; nothing stored.
  await form.getByLabel("Date", { exact: true }).fill(yesterday);
  await form.getByLabel("Nom").fill("Inventaire");
  await form.getByRole("button", { name: "Ajouter ce jour" }).click();
  const alert = form.getByRole("alert");
  await alert.getByText("Cette date est déjà passée").waitFor();
  await alert.getByText("Choisissez : fermé toute la journée, ou ouvert avec des horaires particuliers.").waitFor();
  assert.equal(await form.getByLabel("Nom").inputValue(), "Inventaire");
  await page.getByText("Aucun jour particulier à venir.").waitFor();

  await form.getByLabel("Date", { exact: true }).fill(today);
  await form.getByLabel("fermé toute la journée").check();
  await form.getByRole("button", { name: "Ajouter ce jour" }).click();
  await page.getByText("Jour particulier ajouté").waitFor();
  const list = page.getByRole("table", { name: "Jours particuliers à venir" });
  await list.getByRole("row", { name: /Inventaire\s+Fermé toute la journée/ }).waitFor();

  // Closed today: a code is refused, as at night.
  const poste = await Workstation.connect(server, "Salle-03");
  poste.send({ type: "validate_code", code: await newSession(page, server, "Salle-03", "1h"), ip_address: "192.168.1.105" });
  assert.equal((await poste.next("code_invalid")).raison, "ferme");

  // Removed: today follows the week again (no hours: open), and the code is taken.
  await page.goto(`${server.url}/console/reglages`);
  await page.getByRole("button", { name: /^Retirer .*\(Inventaire\)$/ }).click();
  await page.getByText("Jour particulier retiré").waitFor();
  const code = await newSession(page, server, "Salle-03", "1h");
  assert.equal((await poste.useCode(code, "192.168.1.105")).session.poste, "Salle-03");

  // The public holidays of the next twelve months, La Réunion's 20 December among them; a
  // second click adds nothing.
  await page.goto(`${server.url}/console/reglages`);
  await page.getByRole("button", { name: "Ajouter les jours fériés des 12 prochains mois" }).click();
  await page.getByText(/\d+ jours fériés ajoutés, fermés toute la journée/).waitFor();
  await page.getByRole("table", { name: "Jours particuliers à venir" }).getByRole("row", { name: /20\/12\/\d{4}\s+Fête de l'abolition de l'esclavage/ }).waitFor();
  await page.getByRole("heading", { name: "Jours particuliers" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath("console-jours-particuliers.png"), fullPage: true });
  await page.getByRole("button", { name: "Ajouter les jours fériés des 12 prochains mois" }).click();
  await page.getByText("Les jours fériés des douze prochains mois sont déjà dans la liste.").waitFor();

  poste.close();
  await page.context().close();
});
