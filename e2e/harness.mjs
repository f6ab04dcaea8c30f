// Test harness of the console's end-to-end tests: the real `poste-server` binary on a free
// loopback port with a fresh data directory, accounts made with its own command line, a
// WebSocket workstation speaking the seed's protocol, and Debian's Chromium.
import { before, after } from "node:test";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { chromium } from "playwright-core";
import WebSocket from "ws";

export const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const targetDir = process.env.CARGO_TARGET_DIR || join(repo, "target");
export const serverBin = process.env.POSTE_SERVER_BIN || join(targetDir, "debug", "poste-server");
// Writes a long past of sessions into a database (crates/poste-loadgen, `poste-history`).
export const historyBin = process.env.POSTE_HISTORY_BIN || join(targetDir, "debug", "poste-history");
export const screenshotDir = process.env.POSTE_E2E_SCREENSHOTS || join(targetDir, "e2e-screenshots");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

export const PASSWORD = "mot-de-passe-de-test";

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Environment of every command: short warning thresholds, a fast change feed, a fixed zone.
function serverEnv(dataDir, extra = {}) {
  // POSTE_SERVER_BIN names the binary, not a setting: the server refuses unknown ones.
  const { POSTE_SERVER_BIN: _binary, ...inherited } = process.env;
  return {
    ...inherited,
    POSTE_SERVER_DATA_DIR: dataDir,
    POSTE_SERVER_TIMEZONE: "Indian/Reunion",
    POSTE_SERVER_SESSIONS__WARNING_SECS: "3",
    POSTE_SERVER_SESSIONS__CRITICAL_SECS: "1",
    POSTE_SERVER_LIMITS__CHANGE_FEED_INTERVAL_MS: "200",
    POSTE_SERVER_CONSOLE__SITE_NAME: "EPN de Saint-Denis",
    ...extra,
  };
}

export class Server {
  static async start(extraEnv = {}) {
    const server = new Server();
    server.dataDir = mkdtempSync(join(tmpdir(), "poste-e2e-"));
    server.env = serverEnv(server.dataDir, extraEnv);
    server.port = await freePort();
    server.url = `http://127.0.0.1:${server.port}`;
    server.log = "";
    server.process = spawn(serverBin, ["serve", "--bind", `127.0.0.1:${server.port}`], {
      env: server.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.process.stdout.on("data", (d) => (server.log += d));
    server.process.stderr.on("data", (d) => (server.log += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const response = await fetch(`${server.url}/healthz`);
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || server.process.exitCode !== null) {
        throw new Error(`poste-server did not start:\n${server.log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  // Runs `poste-server ARGS…` on the same database (the command line of the server machine).
  cli(args, input) {
    return execFileSync(serverBin, args, { env: this.env, input, encoding: "utf8" });
  }

  createStaff(login, role, name = `Compte ${login}`, extra = []) {
    return this.cli(
      ["admin", "create", "--identifiant", login, "--nom", name, "--role", role, "--mot-de-passe-stdin", ...extra],
      `${PASSWORD}\n`,
    );
  }

  async stop() {
    if (this.process.exitCode === null) {
      this.process.kill("SIGTERM");
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          this.process.kill("SIGKILL");
          resolve();
        }, 5000);
        this.process.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// A workstation: a WebSocket client of `/ws/sessions/` that records every message it receives.
export class Workstation {
  // `hello`: more fields of its `hello` (`protocole`, `mac`…).
  static async connect(server, name, hello = {}) {
    const ws = new Workstation();
    ws.messages = [];
    ws.waiters = [];
    ws.socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws/sessions/`);
    ws.socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      ws.messages.push(message);
      ws.waiters = ws.waiters.filter((waiter) => !waiter(message));
    });
    await new Promise((resolve, reject) => {
      ws.socket.once("open", resolve);
      ws.socket.once("error", reject);
    });
    if (name) {
      ws.send({ type: "hello", poste: name, version: "e2e", ...hello });
      ws.welcome = await ws.next("welcome");
    }
    return ws;
  }

  send(message) {
    this.socket.send(JSON.stringify(message));
  }

  // The next message of `type` (one already received and not yet taken counts), within `ms`.
  next(type, ms = 5000) {
    const index = this.messages.findIndex((m) => m.type === type);
    if (index >= 0) {
      return Promise.resolve(this.messages.splice(index, 1)[0]);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${type} within ${ms} ms; received ${JSON.stringify(this.messages)}`));
      }, ms);
      const waiter = (message) => {
        if (message.type !== type) return false;
        clearTimeout(timer);
        this.messages.splice(this.messages.indexOf(message), 1);
        resolve(message);
        return true;
      };
      this.waiters.push(waiter);
    });
  }

  // The seed's flow: validate_code then start_session; returns session_started.
  async useCode(code, ip = "192.168.1.103") {
    this.send({ type: "validate_code", code, ip_address: ip });
    const valid = await this.next("code_valid");
    this.send({ type: "start_session", session_id: valid.session.id });
    return this.next("session_started");
  }

  close() {
    this.socket.close();
  }
}

// Starts a server with the `staff` accounts ({ login: role }) and a browser before a file's
// tests, stops both after; returns the object whose `server` and `browser` the tests use.
export function withServerAndBrowser(staff) {
  const run = {};
  before(async () => {
    run.server = await Server.start();
    for (const [login, role] of Object.entries(staff)) run.server.createStaff(login, role);
    run.browser = await launchBrowser();
  });
  after(async () => {
    await run.browser?.close();
    await run.server?.stop();
  });
  return run;
}

export async function launchBrowser() {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

// A logged-in page of the console, 1366×768 (the screens of the EPN).
export async function loggedInPage(browser, server, login) {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    locale: "fr-FR",
    acceptDownloads: true,
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/console/`);
  await page.getByLabel("Identifiant").fill(login);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL(`${server.url}/console/`);
  return page;
}

// The dashboard's tile of workstation `name`.
export function tile(page, name) {
  return page.locator(".tuile", { has: page.getByRole("heading", { name, exact: true }) });
}

export function screenshotPath(name) {
  return join(screenshotDir, name);
}

// A server with one admin account and a browser, started before the tests of the file that
// calls this and stopped after them: `shared.server`, `shared.browser`; `env`: more of the
// server's environment.
export function serverAndBrowser(login, name, env = {}) {
  const shared = {};
  before(async () => {
    shared.server = await Server.start(env);
    shared.server.createStaff(login, "admin", name);
    shared.browser = await launchBrowser();
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.stop();
  });
  return shared;
}

// A session made with the console's form on workstation `poste`; returns its access code.
export async function newSession(page, server, poste, duration) {
  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Autre durée (par ex. 1h30, 45min)").fill(duration);
  await page.getByLabel("Poste", { exact: true }).selectOption(poste);
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.getByText("Session créée").waitFor();
  return (await page.locator(".ticket-code").first().innerText()).replace(/\s/g, "");
}
