// The browser's part of the dashboard's time to a change (issue #18, item 5), for
// `scripts/bench consoles`: not a test. Debian's Chromium opens the console of each login given,
// logged in, while the bench's load runs, and measures in the page, from each live-feed event
// to its tiles painted: how long the event waited for the fetch before it, the fetch, and the
// browser's own work (parse the fragment, swap the tiles, paint); and the time from logging in
// to the feed's first fetch in place. Prints one JSON line.
//
//   POSTE_BENCH_URL=http://127.0.0.1:18901 POSTE_BENCH_LOGINS=ecran-020,ecran-tous-2 \
//   POSTE_BENCH_PASSWORD=… POSTE_BENCH_WINDOW=30 node e2e/bench-console.mjs
import { chromium } from "playwright-core";

const url = process.env.POSTE_BENCH_URL;
const logins = (process.env.POSTE_BENCH_LOGINS || "").split(",").filter(Boolean);
const password = process.env.POSTE_BENCH_PASSWORD;
const windowSecs = Number(process.env.POSTE_BENCH_WINDOW || 30);
if (!url || logins.length === 0 || !password) {
  console.error("bench-console: POSTE_BENCH_URL, POSTE_BENCH_LOGINS and POSTE_BENCH_PASSWORD are needed");
  process.exit(2);
}

// Runs in the page before the console's script: timestamps each live-feed event, the fetch
// that takes it (one fetch at a time, console.js), and the first frame painted after the swap
// that fetch led to (the body's data-mise-a-jour).
function instrument() {
  // Counted since the page loaded, they say where a console without samples is stuck (events
  // and no fetch: the fetch before still running, or the page busy; fetches and no swap: the
  // answers not put in place yet).
  const counts = { events: 0, fetches: 0, answered: 0, failed: 0, swaps: 0, painted: 0 };
  const bench = { measuring: false, pending: [], current: null, samples: [], counts, errors: [] };
  window.addEventListener("error", (event) => bench.errors.push(String(event.message)));
  window.addEventListener("unhandledrejection", (event) => bench.errors.push(String(event.reason)));
  window.__bench = bench;
  const NativeEventSource = window.EventSource;
  window.EventSource = function (source, options) {
    const feed = new NativeEventSource(source, options);
    // Added before the console's own listener: it runs first.
    feed.addEventListener("change", () => {
      bench.pending.push(performance.now());
      bench.counts.events += 1;
    });
    return feed;
  };
  window.EventSource.prototype = NativeEventSource.prototype;
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (resource, options) => {
    const answer = nativeFetch(resource, options);
    if (String(resource).startsWith("/console/tuiles")) {
      // A fetch that failed never swapped: its events are dropped, not counted late.
      const batch = { events: bench.pending.splice(0), started: performance.now(), answered: null };
      bench.current = batch;
      bench.counts.fetches += 1;
      answer.then(
        () => {
          batch.answered = performance.now();
          bench.counts.answered += 1;
        },
        () => (bench.counts.failed += 1),
      );
    }
    return answer;
  };
  const painted = (batch) => {
    // After the frame's rendering: a message posted from a frame callback runs once it is painted.
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const at = performance.now();
        if (!bench.measuring || batch.answered === null) {
          return;
        }
        bench.counts.painted += 1;
        for (const event of batch.events) {
          bench.samples.push({
            total: at - event,
            waited: batch.started - event,
            fetch: batch.answered - batch.started,
            browser: at - batch.answered,
          });
        }
      };
      channel.port2.postMessage(null);
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    new MutationObserver(() => {
      const batch = bench.current;
      bench.current = null;
      bench.counts.swaps += 1;
      if (batch) {
        painted(batch);
      }
    }).observe(document.body, { attributes: true, attributeFilter: ["data-mise-a-jour"] });
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) {
    return null;
  }
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)] * 10) / 10;
}

function summary(samples, key) {
  const sorted = samples.map((sample) => sample[key]).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: percentile(sorted, 100) };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
// A console of every space at 2,000 workstations takes minutes to load (docs/benchmarks.md).
const loadSecs = 300;
// Bounded whatever happens: the logins, the window and a margin.
const bound = setTimeout(() => {
  console.error("bench-console: took too long");
  process.exit(1);
}, (logins.length * loadSecs + windowSecs + 120) * 1000);
try {
  const pages = [];
  for (const login of logins) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "fr-FR" });
    await context.addInitScript(instrument);
    const page = await context.newPage();
    await page.goto(`${url}/console/connexion`);
    await page.getByLabel("Identifiant").fill(login);
    await page.getByLabel("Mot de passe").fill(password);
    const started = Date.now();
    await page.getByRole("button", { name: "Se connecter" }).click();
    await page.waitForURL(`${url}/console/`, { timeout: loadSecs * 1000 });
    // The feed open: its first fetch swapped (console.js marks the body).
    await page.waitForFunction(() => document.body.dataset.miseAJour, null, { timeout: loadSecs * 1000 });
    pages.push([login, page, Date.now() - started]);
  }
  await Promise.all(pages.map(([, page]) => page.evaluate(() => (window.__bench.measuring = true))));
  await new Promise((resolve) => setTimeout(resolve, windowSecs * 1000));
  const report = {};
  for (const [login, page, loadedMs] of pages) {
    const { samples, counts, errors, status } = await page.evaluate(() => {
      window.__bench.measuring = false;
      const { samples, counts, errors } = window.__bench;
      return { samples, counts, errors, status: document.getElementById("etat-direct")?.textContent };
    });
    const tiles = await page.locator("[data-poste]").count();
    report[login] = {
      tiles,
      loaded_ms: loadedMs,
      status,
      counts,
      errors,
      events_per_sec: Math.round((samples.length / windowSecs) * 10) / 10,
      event_to_painted_ms: summary(samples, "total"),
      waited_for_the_fetch_before_ms: summary(samples, "waited"),
      fetch_ms: summary(samples, "fetch"),
      browser_ms: summary(samples, "browser"),
    };
  }
  console.log(JSON.stringify({ window_secs: windowSecs, consoles: report }));
} finally {
  clearTimeout(bound);
  await browser.close();
}
