// « Statistiques » can be read (issue #17, item 4): at 30 days, 12 weeks and 12 months, the
// time series take the page's width, every label is drawn at 10 px or more and none overlaps
// another, occupancy is on a 0–100 % scale (a workstation that ran a few seconds is not a full
// bar), an empty period says « Aucune donnée pour cette période. », and the figures export as
// CSV and as a printable A4 page. Screenshots of each view, empty and over a year of a
// médiathèque's use (`poste-history`), go to docs/console/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Server,
  Workstation,
  historyBin,
  loggedInPage,
  newSession,
  screenshotDir,
  screenshotPath,
  serverAndBrowser,
} from "./harness.mjs";

const shared = serverAndBrowser("sandrine", "Sandrine Hoarau");

const PERIODS = [
  ["jour", "30 derniers jours", "30-jours"],
  ["semaine", "12 dernières semaines", "12-semaines"],
  ["mois", "12 derniers mois", "12-mois"],
];

const EMPTY = "Aucune donnée pour cette période.";
const OCCUPANCY = "Taux d'occupation par poste (% des heures d'ouverture)";

// Every drawn text of the page's charts: its rendered font size (the SVG's scale included) and
// its box, chart by chart.
async function chartTexts(page) {
  return page.locator("svg.graphique").evaluateAll((svgs) =>
    svgs.map((svg) =>
      [...svg.querySelectorAll("text")].map((text) => {
        const m = text.getScreenCTM();
        const box = text.getBoundingClientRect();
        return {
          text: text.textContent,
          px: parseFloat(getComputedStyle(text).fontSize) * Math.hypot(m.a, m.b),
          box: { left: box.left, right: box.right, top: box.top, bottom: box.bottom },
        };
      }),
    ),
  );
}

function overlap(a, b) {
  return a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
}

async function assertReadable(page, label) {
  const charts = await chartTexts(page);
  assert.ok(charts.length > 0, `${label}: no chart drawn`);
  for (const texts of charts) {
    for (const { text, px } of texts) {
      assert.ok(px >= 10, `${label}: « ${text} » is drawn at ${px.toFixed(1)} px`);
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        assert.ok(
          !overlap(texts[i].box, texts[j].box),
          `${label}: « ${texts[i].text} » and « ${texts[j].text} » overlap`,
        );
      }
    }
  }
}

// The bars of a chart (the rectangles with a tooltip), each with the share of the chart's area
// it covers: nearly nothing for a rate under 1 %, whichever way the bars stand.
async function bars(region) {
  return region.locator("svg.graphique").evaluate((svg) => {
    const chart = svg.getBoundingClientRect();
    return [...svg.querySelectorAll("rect")]
      .filter((r) => r.querySelector("title"))
      .map((r) => {
        const box = r.getBoundingClientRect();
        return {
          title: r.querySelector("title").textContent,
          share: (box.width * box.height) / (chart.width * chart.height),
        };
      });
  });
}

test("an empty period says so instead of drawing blank charts", async () => {
  const { server, browser } = shared;
  // Workstations exist, nothing ran on them.
  const idle = await Workstation.connect(server, "Salle-01");
  const page = await loggedInPage(browser, server, "sandrine");
  for (const [value, name, file] of PERIODS) {
    await page.goto(`${server.url}/console/statistiques?periode=${value}`);
    await page.getByRole("link", { name, exact: true }).and(page.locator("[aria-current]")).waitFor();
    const regions = page.getByRole("region");
    const count = await regions.count();
    assert.equal(count, 6, `${value}: six statistics`);
    for (let i = 0; i < count; i++) {
      const region = regions.nth(i);
      await region.getByText(EMPTY).waitFor();
      assert.equal(await region.locator("svg.graphique rect").count(), 0, `${value}: a blank chart drawn`);
    }
    const occupancy = page.getByRole("region", { name: OCCUPANCY, exact: true });
    assert.doesNotMatch(await occupancy.innerText(), /100\s*%/);
    await page.screenshot({ path: screenshotPath(`console-statistiques-${file}-vide.png`), fullPage: true });
  }
  idle.close();
  await page.context().close();
});

test("the charts of a period with sessions read like an annual report's, and export", async () => {
  const { server, browser } = shared;
  const postes = [];
  for (const name of ["Salle-01", "Salle-02", "Salle-03"]) {
    postes.push(await Workstation.connect(server, name));
  }
  const page = await loggedInPage(browser, server, "sandrine");
  // Salle-01: a session that runs out, then one still running; Salle-02: one running;
  // Salle-03: nothing.
  await postes[0].useCode(await newSession(page, server, "Salle-01", "3s"));
  await postes[0].next("session_terminated", 10_000);
  await postes[0].useCode(await newSession(page, server, "Salle-01", "1h"));
  await postes[1].useCode(await newSession(page, server, "Salle-02", "2h"));

  for (const [value, name, file] of PERIODS) {
    await page.goto(`${server.url}/console/statistiques?periode=${value}`);
    await page.getByRole("link", { name, exact: true }).and(page.locator("[aria-current]")).waitFor();
    await page.locator(".chiffres").filter({ hasText: /3\s+sessions/ }).waitFor();
    assert.equal(await page.getByText(EMPTY).count(), 0, `${value}: a chart says it has no data`);

    // The time series take the width of the page.
    const mainWidth = await page.locator("main").evaluate((main) => main.clientWidth);
    for (const title of ["Sessions commencées", "Heures d'utilisation"]) {
      const width = await page
        .getByRole("region", { name: title, exact: true })
        .locator("svg.graphique")
        .evaluate((svg) => svg.getBoundingClientRect().width);
      assert.ok(width >= 0.85 * mainWidth, `${value}: « ${title} » is ${width} px wide in ${mainWidth}`);
    }
    await assertReadable(page, value);

    // Occupancy: a 0–100 % scale; a few seconds of use are no full bar, an idle one is empty.
    const occupancy = page.getByRole("region", { name: OCCUPANCY, exact: true });
    await occupancy.locator("svg.graphique text").filter({ hasText: /^100\s*%$/ }).waitFor();
    const rates = await bars(occupancy);
    assert.equal(rates.length, 3, JSON.stringify(rates));
    for (const bar of rates) {
      assert.ok(bar.share < 0.002, `${value}: ${bar.title} covers ${bar.share} of its chart`);
    }
    const salle03 = rates.find((bar) => bar.title.startsWith("Salle-03"));
    assert.equal(salle03.share, 0, JSON.stringify(rates));
    assert.match(salle03.title, /Salle-03 : 0\s*%/);

    // The CSV export of the figures shown.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Exporter en CSV" }).click(),
    ]);
    const csv = readFileSync(await download.path(), "utf8");
    assert.ok(csv.startsWith("\uFEFF"), "a byte-order mark for spreadsheets");
    const lines = csv.slice(1).trim().split("\r\n");
    assert.equal(lines[0], "statistique;libelle;valeur;unite");
    assert.ok(lines.includes("Total;Sessions;3;sessions"), lines.join("\n"));
    assert.ok(lines.some((line) => line.startsWith(`${OCCUPANCY};Salle-03;0;%`)), lines.join("\n"));
  }

  // The printable page: A4, no navigation, the space's name, the period, charts and tables.
  await page.goto(`${server.url}/console/statistiques?periode=mois`);
  await page.getByRole("link", { name: "Version imprimable" }).click();
  await page.waitForURL(/imprimer/);
  // A sheet of A4 (210 mm at 96 px an inch), as the printer lays it out.
  await page.setViewportSize({ width: 794, height: 1123 });
  await page.emulateMedia({ media: "print" });
  await page.getByRole("heading", { name: /EPN de Saint-Denis/ }).waitFor();
  await page.getByText(/12 derniers mois, du \d\d\/\d\d\/\d{4} au \d\d\/\d\d\/\d{4}/).waitFor();
  assert.equal(await page.getByRole("navigation").count(), 0, "no navigation on paper");
  assert.equal(await page.locator("svg.graphique").count(), 6);
  await page.getByRole("row", { name: /Salle-02/ }).first().waitFor();
  await assertReadable(page, "imprimable");

  for (const poste of postes) poste.close();
  await page.context().close();
});

test("a year of a médiathèque's use reads like an annual report", async () => {
  // A year of sessions on six workstations, within the opening hours it also sets, written into
  // a fresh database through the store's own operations; then the server on that database.
  const dir = mkdtempSync(join(tmpdir(), "poste-e2e-history-"));
  const database = `sqlite:${join(dir, "poste-server.sqlite")}`;
  const written = execFileSync(historyBin, ["--database", database, "--days", "365", "--set-opening-hours"], {
    encoding: "utf8",
  });
  const sessions = Number(written.match(/^(\d+) sessions/)[1]);
  assert.ok(sessions > 3000, written);
  const server = await Server.start({ POSTE_SERVER_DATA_DIR: dir });
  try {
    server.createStaff("sandrine", "admin", "Sandrine Hoarau");
    const page = await loggedInPage(shared.browser, server, "sandrine");
    for (const [value, name, file] of PERIODS) {
      await page.goto(`${server.url}/console/statistiques?periode=${value}`);
      await page.getByRole("link", { name, exact: true }).and(page.locator("[aria-current]")).waitFor();
      assert.equal(await page.getByText(EMPTY).count(), 0, `${value}: a chart says it has no data`);
      await assertReadable(page, `${value}, a year of use`);
      // Six workstations busy part of the opening hours: no empty bar, no full one.
      const rates = await bars(page.getByRole("region", { name: OCCUPANCY, exact: true }));
      assert.equal(rates.length, 6, JSON.stringify(rates));
      for (const { title } of rates) {
        const percent = Number(title.match(/: (\d+)\s*%/)[1]);
        assert.ok(percent >= 10 && percent <= 90, `${value}: ${title}`);
      }
      await page.screenshot({ path: screenshotPath(`console-statistiques-${file}.png`), fullPage: true });
    }
    await page.goto(`${server.url}/console/statistiques/imprimer?periode=mois`);
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: "print" });
    await page.getByRole("heading", { name: /EPN de Saint-Denis/ }).waitFor();
    await assertReadable(page, "imprimable, a year of use");
    await page.screenshot({ path: screenshotPath("console-statistiques-impression.png"), fullPage: true });

    // Last month's report as a PDF, as staff download it from « Rapport mensuel »; its pages as
    // images, to be looked at (docs/console/rapport-mensuel-page*.png).
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.emulateMedia({ media: "screen" });
    await page.goto(`${server.url}/console/statistiques?periode=mois`);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: /^Rapport de .* \(PDF\)$/ }).click(),
    ]);
    const pdf = screenshotPath("rapport-mensuel.pdf");
    await download.saveAs(pdf);
    assert.equal(readFileSync(pdf).subarray(0, 5).toString(), "%PDF-");
    execFileSync("pdftoppm", ["-png", "-r", "80", pdf, screenshotPath("rapport-mensuel-page")]);
    const pages = readdirSync(screenshotDir).filter((f) => /^rapport-mensuel-page-\d+\.png$/.test(f));
    assert.ok(pages.length >= 2, `a month of use on ${pages.length} page(s)`);
    await page.context().close();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
