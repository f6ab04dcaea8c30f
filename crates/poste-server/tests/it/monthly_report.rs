//! The monthly report (issue #17, item 4): its PDF served to staff, its pages looked at with
//! poppler's `pdftoppm`; a month mistyped refused in words.

use poste_store::StaffRole;
use poste_testkit::TestServer;

use crate::console_login::{add_staff, browser, login};

/// The pages of `pdf` rendered by poppler (`pdftoppm`, in grey): for each, the share of
/// pixels that are not white.
fn inked_pages(pdf: &[u8]) -> Vec<f64> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rapport.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-gray", "-r", "40"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (Debian's poppler-utils) is installed");
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pgm"))
        .collect();
    pages.sort();
    pages
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            // "P5\n<width> <height>\n255\n" then one byte a pixel.
            let mut fields = 0;
            let mut start = 0;
            let mut in_field = false;
            for (index, byte) in bytes.iter().enumerate() {
                let space = byte.is_ascii_whitespace();
                if !space && !in_field {
                    in_field = true;
                } else if space && in_field {
                    in_field = false;
                    fields += 1;
                    if fields == 4 {
                        start = index + 1;
                        break;
                    }
                }
            }
            let pixels = &bytes[start..];
            pixels.iter().filter(|&&grey| grey < 200).count() as f64 / pixels.len() as f64
        })
        .collect()
}

#[tokio::test]
async fn the_report_pdf_is_served_to_staff_and_a_wrong_month_refused_in_words() {
    let server = TestServer::start().await;
    let http = browser("127.0.0.1");
    let anonymous = http
        .get(server.http_url("/console/statistiques/rapport.pdf?mois=2026-11"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303, "login required");
    add_staff(
        &server,
        "marie",
        "mot de passe de marie",
        StaffRole::Animateur,
    )
    .await;
    let (_, _, cookie) = login(&server, &http, "marie", "mot de passe de marie").await;
    let cookie = cookie.unwrap();
    let get = |path: &'static str| {
        http.get(server.http_url(path))
            .header("cookie", &cookie)
            .send()
    };
    let pdf = get("/console/statistiques/rapport.pdf?mois=2026-11")
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(
        pdf.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("rapport-2026-11.pdf")
    );
    let pdf = pdf.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    // A month without sessions: the heading and « Aucune donnée » under each title, one page.
    assert_eq!(inked_pages(&pdf).len(), 1);
    let print = get("/console/statistiques/imprimer?mois=2026-11")
        .await
        .unwrap();
    assert_eq!(print.status(), 200);
    assert!(
        print
            .text()
            .await
            .unwrap()
            .contains("Rapport mensuel — novembre 2026, du 01/11/2026 au 30/11/2026")
    );
    for wrong in ["2026-13", "novembre", "2999-01"] {
        let response = http
            .get(server.http_url(&format!("/console/statistiques/rapport.pdf?mois={wrong}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{wrong}");
        let text = response.text().await.unwrap().replace("&#39;", "'");
        assert!(text.contains("Ce mois n'"), "{wrong}: {text}");
    }
}
