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
