// Every list of the dashboard follows the live feed (issue #17, item 5): « Codes pas encore
// utilisés » shows a code made elsewhere, and drops a code used on a workstation, cancelled
// elsewhere or expired, with its « Annuler le code » button, without a reload; what staff are
// typing in a tile stays, with the focus, while the lists change around it. A fetch that fails
// is said, and undone by the next change.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, Workstation, launchBrowser, loggedInPage, tile } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.createStaff("marie", "animateur", "Marie Payet");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Creates a code from the command line of the server machine; returns it and its session id.
function createCode(extra = []) {
  const out = server.cli(["session", "create", "--duree", "1h", "--json", ...extra]);
  const [session] = JSON.parse(out);
  return { code: session.code_acces, id: session.id };
}

// The row of `code` in « Codes pas encore utilisés » (codes are shown spaced: match loosely).
function pendingRow(page, code) {
  const spaced = new RegExp(code.split("").join("\\s*"));
  return page.locator("#codes-en-attente tr", { hasText: spaced });
}

test("« Codes pas encore utilisés » follows the live feed without losing what is typed", async () => {
  const poste = await Workstation.connect(server, "Poste-31");
  const page = await loggedInPage(browser, server, "marie");
  await page.getByText("Mise à jour en direct").waitFor();
  await tile(page, "Poste-31").waitFor();
  // Set on this page only: a reload would lose it.
  await page.evaluate(() => {
    window.pasRecharge = true;
  });

  // A code made elsewhere appears.
  const used = createCode();
  await pendingRow(page, used.code).waitFor({ timeout: 5000 });

  // Someone types a message in a tile while codes come and go.
  const tools = tile(page, "Poste-31").locator("details.outils");
  await tools.locator("summary").click();
  const message = tools.getByLabel("Message à afficher sur le poste");
  await message.click();
  await message.pressSequentially("Fermeture dans");

  // The code used on the workstation leaves the list, with its button.
  await poste.useCode(used.code);
  await pendingRow(page, used.code).waitFor({ state: "detached", timeout: 5000 });
  assert.equal(await page.getByRole("button", { name: "Annuler le code" }).count(), 0);

  // A code cancelled elsewhere leaves it too.
  const cancelled = createCode();
  await pendingRow(page, cancelled.code).waitFor({ timeout: 5000 });
  server.cli(["session", "cancel", String(cancelled.id)]);
  await pendingRow(page, cancelled.code).waitFor({ state: "detached", timeout: 5000 });

  // The typing went on uninterrupted: the text and the focus are where they were.
  await page.keyboard.type(" 10 minutes");
  assert.equal(await message.inputValue(), "Fermeture dans 10 minutes");
  assert.ok(await message.evaluate((el) => el === document.activeElement), "still focused");
  await page.keyboard.press("Escape");

  // A code that expires (nothing is sent on the feed for it) leaves at its time.
  const expiring = createCode(["--validite", "3s"]);
  await pendingRow(page, expiring.code).waitFor({ timeout: 5000 });
  await pendingRow(page, expiring.code).waitFor({ state: "detached", timeout: 8000 });
  await page.getByText("Aucun code en attente.").waitFor();

  assert.equal(await page.evaluate(() => window.pasRecharge), true, "the page was never reloaded");
  poste.close();
  await page.context().close();
});

test("a fetch that fails says so, and the next change brings the dashboard back and says it is live", async () => {
  const page = await loggedInPage(browser, server, "marie");
  const status = page.locator("#etat-direct");
  await status.getByText("Mise à jour en direct").waitFor();
  // The server unreachable for one fetch of the lists.
  await page.route("**/console/tuiles**", (route) => route.abort(), { times: 1 });
  const missed = createCode();
  await status.getByText("Mise à jour impossible, nouvel essai…").waitFor({ timeout: 5000 });
  assert.equal(await pendingRow(page, missed.code).count(), 0);
  // The next change fetches the whole dashboard: what was missed comes too.
  const next = createCode();
  await pendingRow(page, next.code).waitFor({ timeout: 5000 });
  await pendingRow(page, missed.code).waitFor();
  await status.getByText("Mise à jour en direct").waitFor();
  await page.context().close();
});
