// `scripts/bench tiles`: the time Chromium takes to load the dashboard with N workstations, each
// in a session, with their tiles' buttons (forms) and without (past `console.full_tiles_max`),
// the figures behind that setting's default (docs/benchmarks.md, decision 0016). One JSON line
// per count: the page's forms and three loads, from navigation to the second frame painted.
// POSTE_BENCH_TILES: the counts (100,200,400), POSTE_SERVER_BIN: the server to run.
import { Server, Workstation, launchBrowser, loggedInPage } from "./harness.mjs";

const counts = (process.env.POSTE_BENCH_TILES || "100,200,400").split(",").map(Number).sort((a, b) => a - b);
const largest = counts.at(-1);
if (!counts.every((n) => Number.isInteger(n) && n > 0) || largest > 2000) {
  throw new Error("POSTE_BENCH_TILES: counts between 1 and 2000");
}

async function measure(fullTilesMax) {
  const server = await Server.start({
    POSTE_SERVER_CONSOLE__FULL_TILES_MAX: String(fullTilesMax),
    POSTE_SERVER_CONSOLE__SITE_NAME: "Banc d'essai",
  });
  const browser = await launchBrowser();
  const postes = [];
  try {
    server.createStaff("ecran", "admin");
    const codes = [];
    for (let left = largest; left > 0; left -= 200) {
      const made = JSON.parse(server.cli(["session", "create", "--duree", "2h", "--count", String(Math.min(200, left)), "--json"]));
      codes.push(...made.map((session) => session.code_acces));
    }
    const page = await loggedInPage(browser, server, "ecran");
    for (let n = 0; n < largest; n++) {
      const poste = await Workstation.connect(server, `P-${String(n + 1).padStart(4, "0")}`);
      await poste.useCode(codes[n], `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`);
      postes.push(poste);
      if (!counts.includes(n + 1)) continue;
      const load_ms = [];
      for (let i = 0; i < 3; i++) {
        const start = Date.now();
        await page.goto(`${server.url}/console/`, { waitUntil: "load", timeout: 120_000 });
        await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
        load_ms.push(Date.now() - start);
      }
      const forms = await page.locator("#tuiles form").count();
      console.log(JSON.stringify({ tiles: n + 1, buttons: forms > 0, forms, load_ms }));
    }
  } finally {
    for (const poste of postes) poste.close();
    await browser.close();
    await server.stop();
  }
}

await measure(100_000);
await measure(0);
