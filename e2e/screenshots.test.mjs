// Screenshots of the console for the documentation (docs/console/), on a server of their own
// so that they show a typical morning at the EPN and nothing left by the other tests.
import { test, before, after } from "node:test";
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

test("screenshots of the dashboard, the session form and a ticket", async () => {
  const postes = [];
  const names = ["Accueil-01", "Salle-02", "Salle-03", "Salle-04", "Salle-05", "Salle-06"];
  for (const name of names) {
    postes.push(await Workstation.connect(server, name));
  }
  const visitors = [
    ["Accueil-01", "Marie-Claire Técher", "2h"],
    ["Salle-03", "Jean Dupont", "45min"],
    ["Salle-06", "Louis Grondin", "1h"],
  ];
  const started = {};
  for (const [name, visitor, duration] of visitors) {
    const [{ code_acces: code }] = JSON.parse(
      server.cli(["session", "create", "--duree", duration, "--poste", name, "--utilisateur", visitor, "--json"]),
    );
    started[name] = await postes[names.indexOf(name)].useCode(code);
  }
  // Jean Dupont asks for half an hour more from the countdown's button.
  const asking = postes[names.indexOf("Salle-03")];
  asking.send({ type: "request_time", session_id: started["Salle-03"].session.id, minutes: 30 });
  await asking.next("time_request");
  server.cli(["session", "create", "--duree", "1h30", "--utilisateur", "Atelier CV", "--count", "2"]);
  const page = await loggedInPage(browser, server, "sandrine");
  const spare = tile(page, "Salle-05").locator("details.outils");
  await spare.locator("summary").click();
  await spare.getByRole("button", { name: "Marquer hors service" }).click();
  await page.getByText("Salle-05 est marqué hors service").waitFor();
  postes[3].close(); // Salle-04 goes offline
  await tile(page, "Salle-04").getByText("Hors ligne").waitFor({ timeout: 3000 });
  // An agent that stops reporting during a session raises an alert on its tile.
  postes[5].close();
  await tile(page, "Salle-06").getByRole("alert").filter({ hasText: "Le poste ne répond plus" }).waitFor({ timeout: 3000 });
  await tile(page, "Salle-03").getByText("Demande de temps").waitFor({ timeout: 3000 });
  await page.screenshot({ path: screenshotPath("console-tableau-de-bord.png"), fullPage: true });
  await tile(page, "Salle-03").screenshot({ path: screenshotPath("console-demande-de-temps.png") });

  await page.goto(`${server.url}/console/sessions/nouvelle`);
  await page.getByLabel("Nom du visiteur").fill("Awa Payet");
  await page.screenshot({ path: screenshotPath("console-nouvelle-session.png") });
  await page.getByRole("button", { name: "Créer et imprimer le ticket" }).click();
  await page.locator(".ticket").first().waitFor();
  await page.getByRole("link", { name: "imprimante à tickets (80 mm)" }).click();
  await page.locator(".ticket").first().screenshot({ path: screenshotPath("console-ticket.png") });
  for (const poste of postes) poste.close();
  await page.context().close();
});
