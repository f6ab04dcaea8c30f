// Power from the dashboard (issue #18, item 3): a tile's « Éteindre ou redémarrer le poste »
// on a busy workstation asks what becomes of the session (nothing preselected, a missing
// choice refused in words), cuts it short only when chosen, and the agent receives the order;
// a workstation that is off is woken (its magic packet received here, on a loopback UDP
// socket); the whole space's order never cuts a session; a message reaches the whole room;
// the history names who did it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  Server,
  Workstation,
  launchBrowser,
  loggedInPage,
  newSession,
  screenshotPath,
  tile,
} from "./harness.mjs";

let server;
let browser;
let network;
const packets = [];

before(async () => {
  network = dgram.createSocket("udp4");
  network.on("message", (packet) => packets.push(packet));
  await new Promise((resolve) => network.bind(0, "127.0.0.1", resolve));
  server = await Server.start({
    POSTE_SERVER_POWER__WAKE_ADDRESS: `127.0.0.1:${network.address().port}`,
    POSTE_SERVER_POWER__NOTICE_SECS: "5",
    POSTE_SERVER_POWER__CUT_SECS: "120",
  });
  server.createStaff("marie", "animateur", "Marie Payet");
  server.createStaff("sandrine", "admin", "Sandrine Hoarau");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  network?.close();
});

async function banner(page, words) {
  await page.locator(".flash", { hasText: words }).waitFor({ timeout: 5000 });
}

test("staff power a busy workstation off only as they chose, wake one that is off, and order the whole space", async () => {
  const busy = await Workstation.connect(server, "Poste-41", { protocole: 3 });
  const off = await Workstation.connect(server, "Poste-42", {
    protocole: 3,
    mac: "52:54:00:12:34:42",
  });
  off.close();
  const page = await loggedInPage(browser, server, "marie");
  await busy.useCode(await newSession(page, server, "Poste-41", "1h"));
  await page.goto(`${server.url}/console/`);

  // The busy tile: the order needs an action and a choice for the session.
  const tools = tile(page, "Poste-41").locator("details.outils");
  await tools.locator("summary").click();
  const order = tools.locator("form.alimentation");
  await order.getByLabel("Éteindre").check();
  assert.equal(await order.getByLabel("après la fin de la session").isChecked(), false);
  assert.equal(await order.getByLabel(/en l'écourtant/).isChecked(), false);
  await tile(page, "Poste-41").screenshot({ path: screenshotPath("console-alimentation.png") });
  // Sent without the choice (as a browser without validation would): refused, nothing sent.
  await order.evaluate((form) => (form.noValidate = true));
  await order.getByRole("button", { name: "Envoyer l'ordre" }).click();
  await banner(page, "Une session est en cours sur Poste-41 : choisissez d'attendre sa fin ou de l'écourter.");
  assert.equal(busy.messages.filter((m) => m.type === "power").length, 0);

  // Cut short, as chosen: the visitor's time drops to 2 min with the reason, then the order.
  const again = tile(page, "Poste-41").locator("details.outils");
  await again.locator("summary").click();
  await again.getByLabel("Éteindre").check();
  await again.getByLabel(/en l'écourtant/).check();
  await again.getByRole("button", { name: "Envoyer l'ordre" }).click();
  await banner(page, "le visiteur est prévenu ; puis le poste s'éteindra.");
  const update = await busy.next("time_update");
  assert.ok(update.temps_restant <= 120 && update.temps_restant >= 110, JSON.stringify(update));
  const notice = await busy.next("message");
  assert.match(notice.message, /Un animateur doit éteindre ce poste : votre session se termine dans 2 min/);
  const power = await busy.next("power");
  assert.equal(power.action, "extinction");
  assert.equal(power.delai_secondes, 5);

  // The workstation that is off: woken, its magic packet on the network.
  const offTools = tile(page, "Poste-42").locator("details.outils");
  await offTools.locator("summary").click();
  await offTools.getByRole("button", { name: "Allumer à distance" }).click();
  await banner(page, "Signal d'allumage envoyé à Poste-42");
  const deadline = Date.now() + 3000;
  while (packets.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const packet = packets[0];
  assert.ok(packet, "a magic packet");
  assert.equal(packet.length, 102);
  assert.deepEqual([...packet.subarray(0, 6)], [255, 255, 255, 255, 255, 255]);
  assert.equal(packet.subarray(6, 12).toString("hex"), "525400123442");

  // The whole space: restart; the session is not cut again, the one that is off is named.
  const space = page.locator("details.outils-espace");
  await space.locator("summary").click();
  await space.getByLabel("Redémarrer").check();
  await space.screenshot({ path: screenshotPath("console-alimentation-espace.png") });
  await space.getByRole("button", { name: "Envoyer à tous les postes" }).click();
  await banner(page, "1 poste(s) redémarrera à la fin de leur session. 1 poste(s) non connecté(s) ne l'ont pas reçu.");
  const restart = await busy.next("power");
  assert.equal(restart.action, "redemarrage");
  assert.ok(restart.ordre > power.ordre);

  // A message to the whole room: the connected workstation shows it, the other is named.
  const room = page.locator("details.outils-espace");
  await room.locator("summary").click();
  await room.getByLabel("Message à afficher sur tous les postes connectés").fill("L'atelier CV commence : regardez l'écran de l'animatrice.");
  await room.getByRole("button", { name: "Envoyer", exact: true }).click();
  await banner(page, "Message envoyé au seul poste connecté. 1 poste(s) non connecté(s) ne l'ont pas reçu.");
  const told = await busy.next("message");
  assert.equal(told.message, "L'atelier CV commence : regardez l'écran de l'animatrice.");
  assert.equal(told.de, "Marie Payet");

  // The history (an admin's page) says who did what, in words.
  const admin = await loggedInPage(browser, server, "sandrine");
  await admin.goto(`${server.url}/console/historique?groupe=postes`);
  const rows = await admin.locator("table.liste tbody").innerText();
  assert.match(rows, /Extinction, la session en cours écourtée/);
  assert.match(rows, /Redémarrage, à la fin de la session en cours s'il y en a une/);
  assert.match(rows, /Paquets Wake-on-LAN envoyés à 52:54:00:12:34:42/);
  assert.match(rows, /marie/);
  busy.close();
});

test("the power schedule is set in « Réglages », a wrong delay said with what was typed kept", async () => {
  const page = await loggedInPage(browser, server, "sandrine");
  await page.goto(`${server.url}/console/reglages`);
  const wake = page.getByLabel("Allumer les postes, en minutes avant l'ouverture");
  const off = page.getByLabel("Éteindre les postes, en minutes après la fermeture");
  assert.equal(await wake.inputValue(), "", "not set: never");
  await wake.fill("15");
  await off.fill("300");
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await page
    .getByRole("alert")
    .getByText("un nombre de minutes de 0 à 240, ou rien pour ne pas le faire")
    .waitFor();
  assert.equal(await wake.inputValue(), "15");
  assert.equal(await off.inputValue(), "300");
  await off.fill("10");
  await page.getByRole("button", { name: "Enregistrer les réglages" }).click();
  await banner(page, "Réglages enregistrés");
  assert.equal(await wake.inputValue(), "15");
  assert.equal(await off.inputValue(), "10");
});
