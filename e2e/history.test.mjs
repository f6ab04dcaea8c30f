// « Historique » speaks French (issue #17, item 6): what the store records as codes (`+900`,
// `temps_expire`, `termine_par_animateur`, warning levels `1`/`2`, `hors_service`) reads in
// words on the page and in its CSV export.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Server, Workstation, launchBrowser, loggedInPage, newSession, tile } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.createStaff("marie", "admin");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// What the store writes that staff must never read.
const RAW = /temps_expire|termine_par_animateur|termine_par_visiteur|hors_service|en_service|\+\d+(?!\d)(?!\s*(h|min|s)\b)/;

test("the history says durations, end reasons and warnings in words, on the page and in the export", async () => {
  const poste = await Workstation.connect(server, "Poste-21");
  const page = await loggedInPage(browser, server, "marie");

  // A session that runs out, warned on the way (the harness's thresholds: 3 s and 1 s).
  const short = await newSession(page, server, "Poste-21", "5s");
  await poste.useCode(short);
  await poste.next("session_terminated", 15_000);

  // A session given 15 more minutes, then ended by staff.
  const long = await newSession(page, server, "Poste-21", "1h");
  await poste.useCode(long);
  await page.goto(`${server.url}/console/`);
  await tile(page, "Poste-21").getByRole("button", { name: "+15 min" }).click();
  await page.getByText("15 min ajoutées sur Poste-21.").waitFor();
  const ending = tile(page, "Poste-21");
  await ending.getByText("Terminer la session…").click();
  await ending.getByLabel("Raison").selectOption("demande_visiteur");
  await ending.getByRole("button", { name: "Terminer maintenant" }).click();
  await page.getByText("Session terminée sur Poste-21.").waitFor();
  await poste.next("session_terminated");

  await page.getByRole("link", { name: "Historique" }).click();
  const details = await page.locator("table.liste tbody tr td:nth-child(6)").allInnerTexts();
  const expected = [
    "Temps écoulé",
    "+15 min",
    "Terminée par un animateur",
    "Avertissement 3 s avant la fin",
    "Dernier avertissement 1 s avant la fin",
  ];
  for (const words of expected) {
    assert.ok(details.includes(words), `« ${words} » in ${JSON.stringify(details)}`);
  }
  for (const detail of details) {
    assert.doesNotMatch(detail, RAW, JSON.stringify(details));
    assert.doesNotMatch(detail, /^\d+$/, `a bare number: ${JSON.stringify(details)}`);
  }
  const table = await page.locator("table.liste").innerText();
  assert.doesNotMatch(table, RAW);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Exporter en CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /Temps écoulé/);
  assert.match(csv, /\+15 min/);
  assert.doesNotMatch(csv, RAW);

  // The sessions' export says who made them and why they ended in words too.
  await page.goto(`${server.url}/console/sessions`);
  const [sessions] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Exporter en CSV" }).click(),
  ]);
  const rows = readFileSync(await sessions.path(), "utf8").trim().split("\r\n").slice(1);
  assert.equal(rows.length, 2, rows.join("\n"));
  for (const row of rows) {
    assert.equal(row.split(";")[7], "marie", row);
  }
  assert.ok(rows.some((row) => row.endsWith(";Temps écoulé")), rows.join("\n"));
  assert.ok(rows.some((row) => row.endsWith(";Terminée par un animateur")), rows.join("\n"));

  poste.close();
  await page.context().close();
});
